#!/usr/bin/perl

# The metrics users of nginx exporters expect from osint_status: a
# whole-lookup duration histogram (osint_lookup_duration_seconds, its
# buckets cumulative, its _count the lookups answered, exact), the start
# time of the counters (osint_start_time_seconds, sane and constant across
# scrapes and a reload), timestamps named ..._timestamp_seconds, HELP and
# TYPE for every family, and `promtool check metrics`.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $PROMTOOL = $ENV{OSINT_PROMTOOL} || '/usr/bin/promtool';

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $dir = $t->testdir;
my $t0 = time;

$t->write_conf(<<'EOF');
    osint_zone 4m;
    osint_deadline 3s;

    osint_provider A {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target";
        quota 1000/d;
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;

        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF

$t->run;

# name{labels} => value
sub scrape {
    my $res = $t->get('/status');
    my (%v, %help, %type);
    for (split /\n/, $res->{content} // '') {
        if (/^# HELP (\S+) (.*)$/) { $help{$1} = $2; next }
        if (/^# TYPE (\S+) (\S+)$/) { $type{$1} = $2; next }
        $v{$1} = $2 if /^(\S+) (\S+)$/;
    }
    return ($res->{content} // '', \%v, \%help, \%type);
}

my (undef, $before) = scrape();
my $start = $before->{osint_start_time_seconds};
ok(defined $start, 'osint_start_time_seconds: present');

my $N = 7;
for my $i (1 .. $N) {
    is($t->get("/lookup?target=10.46.0.$i")->{status}, 200, "lookup $i");
}
is($t->get('/lookup?target=')->{status}, 400, 'a bad target: refused');

my ($text, $v, $help, $type) = scrape();

###############################################################################
# the histogram

my @le = map { /le="([^"]+)"/ ? $1 : () }
         grep { /^osint_lookup_duration_seconds_bucket\{/ } keys %$v;
my @sorted = sort { ($a eq '+Inf' ? 1e99 : $a) <=> ($b eq '+Inf' ? 1e99 : $b) }
             @le;
is(join(',', @sorted), '0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10,+Inf',
   'histogram: the buckets');

my @counts = map { $v->{"osint_lookup_duration_seconds_bucket{le=\"$_\"}"} }
             @sorted;
ok(!grep({ $counts[$_] < $counts[$_ - 1] } 1 .. $#counts),
   'histogram: buckets cumulative') or diag "@counts";
is($counts[-1], $N, 'histogram: +Inf holds every lookup answered');
is($v->{osint_lookup_duration_seconds_count}, $N,
   'histogram: _count is the lookups answered, not the refused one');
ok(($v->{osint_lookup_duration_seconds_sum} // 0) > 0
   && $v->{osint_lookup_duration_seconds_sum} < $N * 3,
   'histogram: _sum in seconds');
is($type->{osint_lookup_duration_seconds}, 'histogram', 'histogram: TYPE');

my $answered = 0;
$answered += $v->{$_} for grep { /^osint_lookups_total\{/ && !/invalid/ }
                          keys %$v;
is($answered, $N, 'osint_lookups_total agrees with _count');

###############################################################################
# start time

ok($start >= $t0 - 5 && $start <= time + 1, 'start time: sane')
    or diag "start $start, test began $t0";
is($v->{osint_start_time_seconds}, $start, 'start time: constant');
is($type->{osint_start_time_seconds}, 'gauge', 'start time: gauge');

$t->reload;
my (undef, $after) = scrape();
is($after->{osint_start_time_seconds}, $start,
   'start time: kept across reload, as the counters are');
is($after->{osint_lookup_duration_seconds_count}, $N,
   'histogram: kept across reload');

###############################################################################
# names, HELP and TYPE

ok(exists $v->{'osint_provider_quota_reset_timestamp_seconds{provider="A",window="d"}'},
   'quota reset: named ..._timestamp_seconds');
ok(!grep({ /^osint_provider_quota_reset_seconds/ } keys %$v),
   'quota reset: old name gone');

my %family;
for my $name (keys %$v) {
    (my $f = $name) =~ s/\{.*//;
    $f =~ s/_(bucket|sum|count)$// if $f =~ /^osint_\w+_seconds_/;
    $family{$f} = 1;
}
my @bare = grep { !defined $help->{$_} || !defined $type->{$_} }
           sort keys %family;
is("@bare", '', 'every family has HELP and TYPE');

like($help->{osint_redis_up}, qr/\b1\b.*\b0\b/, 'osint_redis_up: HELP says 1 and 0');
like($help->{osint_start_time_seconds}, qr/Unix time/,
     'start time: HELP says Unix time');

###############################################################################
# promtool

SKIP: {
    skip "$PROMTOOL missing", 1 unless -x $PROMTOOL;

    open(my $fh, '>:raw', "$dir/metrics.txt") or die "$dir/metrics.txt: $!";
    print $fh $text;
    close $fh;
    my $out = `timeout 30 $PROMTOOL check metrics < $dir/metrics.txt 2>&1`;
    is($?, 0, 'promtool check metrics: passes') or diag $out;
}

$t->done_testing;
