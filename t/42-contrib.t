#!/usr/bin/perl

# contrib/: the Prometheus alert rules pass `promtool check rules` and their
# unit tests (`promtool test rules`); every metric the rules and the Grafana
# dashboard name is one the module exports; and every PromQL expression of
# the dashboard, evaluated by a real Prometheus (loopback, scrape interval
# 1s, storage in the test directory) that scraped the module under a short
# load, returns data.
#
# Needs Debian's prometheus package (`make test-deps`).

use strict;
use warnings;

use Test::More;
use FindBin;
use JSON::PP ();
use lib "$FindBin::Bin/lib";
use OsintTest;
use OsintTest::Prometheus;

plan(skip_all => 'redis-server not installed') unless OsintTest::have_redis();

my $ROOT       = "$FindBin::Bin/..";
my $PROMTOOL   = $ENV{OSINT_PROMTOOL}   || '/usr/bin/promtool';
my $PROMETHEUS = $OsintTest::Prometheus::PROMETHEUS;
my $RULES      = "$ROOT/contrib/prometheus/osint-alerts.yml";
my $DASHBOARD  = "$ROOT/contrib/grafana/osint-dashboard.json";

# the expressions of a rules file: "expr: X" or "expr: |" and the lines
# indented under it
sub rule_exprs {
    my (@e, $indent);
    for (split /\n/, slurp($_[0])) {
        if (defined $indent && /^(\s*)\S/ && length $1 > $indent) {
            $e[-1] .= "$_\n";
            next;
        }
        undef $indent;
        next unless /^(\s*)expr:\s*(.*)$/;
        push @e, $2 eq '|' ? '' : $2;
        $indent = length $1 if $2 eq '|';
    }
    return @e;
}

sub slurp { local $/; open my $fh, '<', $_[0] or die "$_[0]: $!"; <$fh> }

ok(-x $PROMTOOL && -x $PROMETHEUS, 'promtool and prometheus installed')
    or BAIL_OUT('`make test-deps` installs the prometheus package');

my $out = `$PROMTOOL check rules $RULES 2>&1`;
is($?, 0, 'promtool check rules') or diag $out;
$out = `cd $ROOT/contrib/prometheus && $PROMTOOL test rules osint-alerts.test.yml 2>&1`;
is($?, 0, 'promtool test rules') or diag $out;

my $dash = JSON::PP->new->decode(slurp($DASHBOARD));
my @exprs = map { map { $_->{expr} } @{$_->{targets}} } @{$dash->{panels}};
ok(@exprs >= 20, scalar(@exprs) . ' dashboard expressions');

###############################################################################
# the module, every metric family present, under a short load

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $rport = $t->redis->port;

$t->main_conf("env OSINT_T_UNSET_CONTRIB_KEY;");
$t->write_conf(<<"EOF");
    osint_zone 8m;
    osint_deadline 3s;
    osint_redis 127.0.0.1:$rport;

    osint_limit_zone api:1m key=\$binary_remote_addr rate=5r/s burst=5;
    osint_limit_zone fleet:1m key=\$binary_remote_addr rate=100r/s burst=100 sync=redis;

    osint_provider A {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/a/\$osint_target?body=internetdb";
        format internetdb;
        rate 1000r/s burst=1000;
        quota 100000/d;
        breaker failures=50 cooldown=30s;
    }

    osint_provider F {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/f/\$osint_target?status=500";
        retries 1 backoff=10ms;
        breaker failures=2 cooldown=60s;
    }

    osint_provider D {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/d/\$osint_target";
        api_key env=OSINT_T_UNSET_CONTRIB_KEY;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup     { osint_limit zone=fleet; osint_lookup; }
        location = /api/lookup { osint_limit zone=api; osint_lookup; }
        location = /status     { osint_status; }
    }
EOF
$t->run;

ok($t->wait_until(sub { $t->get('/status')->{content} =~ /^osint_redis_up 1$/m },
                  10), 'Redis up');

my $exported = $t->get('/status')->{content};
my %have = map { /^(osint_\w+?)(?:_bucket|_sum|_count)?[{ ]/ ? ($1 => 1) : () }
           split /\n/, $exported;
my %named;
for my $e (@exprs, rule_exprs($RULES)) {
    $named{$_} = 1 for $e =~ /\b(osint_[a-z_]+)\b/g;
}
delete $named{$_} for grep { /_bucket$/ } keys %named;
my @missing = grep { !$have{$_} && !$have{s/_bucket$//r} } sort keys %named;
is_deeply(\@missing, [], 'every metric named in contrib/ is exported: '
          . join(' ', sort keys %named));

# load: 20 rounds of 5 targets (misses then hits), some over the API limit
sub load_round {
    for my $i (1 .. 5) {
        $t->get("/lookup?target=192.0.2.$i");
    }
    $t->get("/api/lookup?target=192.0.2.1") for 1 .. 3;
}

# Prometheus on loopback, scraping every second
my $prom = OsintTest::Prometheus->start($t, '/status');
my $dir = $t->testdir;
sub query { $prom->query(@_) }

# a Grafana variable or interval, as Grafana would fill it in
sub grafana {
    my ($e) = @_;
    $e =~ s/\$__rate_interval/1m/g;
    $e =~ s/\$instance/.*/g;
    return $e;
}

ok($t->wait_until(sub { my $r = query('osint_build_info'); $r && @$r }, 20,
                  0.25), 'Prometheus scraped the module')
    or diag slurp("$dir/prometheus.log");

# a few seconds of load, so rates have two samples or more
my $t0 = time;
load_round() while time - $t0 < 5;

for my $e (@exprs) {
    my $q = grafana($e);
    my $res;
    my $ok = $t->wait_until(sub { $res = query($q); $res && @$res }, 10, 0.5);
    ok($ok, "data: $q")
        or diag(defined $res ? 'empty result' : 'query failed');
}

$prom->stop;
$t->stop;
done_testing;
