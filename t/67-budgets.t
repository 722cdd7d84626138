#!/usr/bin/perl

# Budgets on one node (2 workers): osint_budget shared by the providers
# that name it, multi-window quotas (a budget's and a provider's own),
# a provider's own rate and its budget both applying (a refusal by one
# takes nothing from the other), the status page and metrics of each
# budget (tokens, each window's remaining and reset, the fallback flag),
# sync=redis with Redis down deciding on the node's share (nodes=N), and
# nginx -t refusals in nginx's words.

use strict;
use warnings;

use Test::More;
use POSIX qw(floor);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $dead = OsintTest->free_port;

my $CONF = <<"EOF";
    osint_zone 4m;
    osint_redis 127.0.0.1:$dead timeout=100ms;

    osint_budget key rate=3r/m burst=3 quota=100/d;
    osint_budget win quota=2/h quota=10/d quota=100/mo;
    osint_budget tight rate=1r/m burst=3;
    osint_budget small rate=1r/m burst=1;
    osint_budget fb rate=100r/s burst=100 quota=4/h sync=redis nodes=2;

    osint_provider one {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/one/\$osint_target";
        budget key;
    }

    osint_provider two {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/two/\$osint_target";
        budget key;
    }

    osint_provider wa {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/wa/\$osint_target";
        budget win;
    }

    osint_provider wb {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/wb/\$osint_target";
        budget win;
    }

    osint_provider mw {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/mw/\$osint_target";
        quota 3/h 50/d;
        quota 1000/mo;
    }

    osint_provider both {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/both/\$osint_target";
        rate 1r/m burst=2;
        budget tight;
    }

    osint_provider other {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/other/\$osint_target";
        budget tight;
    }

    osint_provider own2 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/own2/\$osint_target";
        rate 1r/m burst=5;
        budget small;
    }

    osint_provider fbp {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/fbp/\$osint_target";
        budget fb;
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        location = /lookup { osint_lookup; osint_cache_bypass 1; }
        location = /status { osint_status; }
    }
EOF

$t->write_conf($CONF);
$t->run;

my $NO_TOKEN = 'no token left in the rate limit';
my $QUOTA    = 'the quota of the period is spent';

my $seq = 0;

# one lookup of a new target by provider $p: its entry
sub call {
    my ($p) = @_;
    $seq++;
    my (undef, $doc) = $t->get_json("/lookup?target=10.9.0.$seq"
                                     . "&providers=$p");
    return $doc ? $doc->{providers}{$p} : undef;
}

# "ok", or the message of a skip
sub outcome {
    my $e = call($_[0]);
    return 'none' unless $e;
    return 'ok' if $e->{status} eq 'ok';
    return $e->{status} eq 'skipped' && $e->{error}{kind} eq 'rate_limited'
           ? $e->{error}{message} : "$e->{status} $e->{error}{kind}";
}

sub fixture_calls {
    my ($prefix) = @_;
    my $by = $fx->by_path // {};
    my $n = 0;
    for my $path (keys %$by) {
        $n += $by->{$path} if index($path, "/$prefix/") == 0;
    }
    return $n;
}

# Unix time of the 1st of month $m of year $y, UTC (days from civil)
sub timegm_month {
    my ($y, $m) = @_;
    $y-- if $m <= 2;
    my $era = floor($y / 400);
    my $yoe = $y - $era * 400;
    my $doy = floor((153 * (($m + 9) % 12) + 2) / 5);
    my $doe = $yoe * 365 + floor($yoe / 4) - floor($yoe / 100) + $doy;
    return ($era * 146097 + $doe - 719468) * 86400;
}

sub metrics {
    my %v;
    for (split /\n/, $t->get('/status')->{content} // '') {
        $v{$1} = $2 if /^(osint_\S+) (\S+)$/;
    }
    return \%v;
}

sub status { (undef, my $doc) = $t->get_json('/status?format=json'); $doc }

###############################################################################
# two providers naming one budget draw from one bucket

my @got = map { outcome($_) } qw(one two one two);
is_deeply(\@got, ['ok', 'ok', 'ok', $NO_TOKEN],
          'one and two share the 3 tokens of "key": the fourth call of '
          . 'either is refused');
is(fixture_calls('one') + fixture_calls('two'), 3,
   'the fixture saw 3 calls of the two');

my $S = status();
my $key = $S->{budgets}{key};
cmp_ok($key->{tokens}, '<', 0.2, 'status: budget "key" has no token left')
    or diag explain $key;
is($key->{capacity}, 3, 'status: its capacity');
is($key->{sync}, 'off', 'status: not synced');
is($key->{windows}[0]{period}, 'd', 'status: its day window');
is($key->{windows}[0]{remaining}, 97, 'status: 97 calls left today');
is($S->{providers}{one}{budget}, 'key', 'status: provider one names "key"');

###############################################################################
# a multi-window budget stops at its smallest window

@got = map { outcome($_) } qw(wa wb wa);
is_deeply(\@got, ['ok', 'ok', $QUOTA],
          'win: 2/h stops the third call though 10/d and 100/mo are left');

my $now = time;
my $hour = floor($now / 3600) * 3600 + 3600;
my $day = floor($now / 86400) * 86400 + 86400;
my @tm = gmtime($now);
my ($y, $m) = ($tm[5] + 1900, $tm[4] + 1);
($y, $m) = $m == 12 ? ($y + 1, 1) : ($y, $m + 1);
my $month = timegm_month($y, $m);

$S = status();
my %w = map { $_->{period} => $_ } @{$S->{budgets}{win}{windows}};
is_deeply([map { $w{$_}{remaining} } qw(h d mo)], [0, 8, 98],
          'status: win has 0 left this hour, 8 today, 98 this month');
is_deeply([map { $w{$_}{reset} } qw(h d mo)], [$hour, $day, $month],
          'status: each window resets at its UTC boundary');
ok(!defined $S->{budgets}{win}{tokens}, 'status: win has no bucket');

# a provider's own windows: repeated quota lines

@got = map { outcome('mw') } 1 .. 4;
is_deeply(\@got, ['ok', 'ok', 'ok', $QUOTA],
          'mw: quota 3/h 50/d and quota 1000/mo stop at 3 this hour');
$S = status();
%w = map { $_->{period} => $_ } @{$S->{providers}{mw}{limits}{windows}};
is_deeply([map { $w{$_}{remaining} } qw(h d mo)], [0, 47, 997],
          'status: mw has 0 left this hour, 47 today, 997 this month');
is($S->{providers}{mw}{quota}{period}, 'h',
   'status: "quota" is still its first window');

###############################################################################
# the provider's own rate and its budget both apply, and a refusal by one
# takes nothing from the other

@got = map { outcome('both') } 1 .. 3;
is_deeply(\@got, ['ok', 'ok', $NO_TOKEN],
          'both: its own burst of 2 refuses the third call');
is(outcome('other'), 'ok',
   'other: the refused call took no token of "tight" (1 left)');
is(outcome('other'), $NO_TOKEN, 'other: and then "tight" is empty');

@got = map { outcome('own2') } 1 .. 2;
is_deeply(\@got, ['ok', $NO_TOKEN], 'own2: "small" (burst 1) refuses');
$S = status();
my $tok = $S->{providers}{own2}{bucket}{tokens};
ok($tok >= 3.9 && $tok < 4.2,
   "own2: the refusal by \"small\" took no token of its own ($tok of 5)");

###############################################################################
# metrics

my $v = metrics();
is($v->{'osint_budget_quota_remaining{budget="win",window="h"}'}, 0,
   'metric: win, hour window, 0 left');
is($v->{'osint_budget_quota_remaining{budget="win",window="d"}'}, 8,
   'metric: win, day window, 8 left');
is($v->{'osint_budget_quota_reset_timestamp_seconds{budget="win",'
       . 'window="mo"}'}, $month, 'metric: win, month window reset');
is($v->{'osint_provider_quota_remaining{provider="mw",window="d"}'}, 47,
   'metric: mw, day window, 47 left');
ok(exists $v->{'osint_budget_tokens{budget="key"}'}
   && $v->{'osint_budget_tokens{budget="key"}'} < 0.2,
   'metric: tokens of "key"');

###############################################################################
# a reload that resizes the zone: nginx makes a new one, and the budgets'
# buckets and windows come over from the running one

(my $resized = $CONF) =~ s/osint_zone 4m;/osint_zone 5m;/;
$t->write_conf($resized);
$t->reload(wait_old => 1);
is(outcome('wa'), $QUOTA, 'resized zone: win\'s hour is still spent');
is(outcome('two'), $NO_TOKEN, 'resized zone: key still has no token');
$S = status();
%w = map { $_->{period} => $_ } @{$S->{budgets}{win}{windows}};
is($w{d}{remaining}, 8, 'resized zone: win has 8 left today, as before');

###############################################################################
# sync=redis, Redis down: the node decides on its share (quota 4/h, nodes=2:
# 2 an hour), counts it, flags it, logs it once

@got = map { outcome('fbp') } 1 .. 3;
is_deeply(\@got, ['ok', 'ok', $QUOTA],
          'fb: Redis down, the node spends its share of 2 of 4/h');
$S = status();
is($S->{budgets}{fb}{sync}, 'redis', 'status: fb is synced');
ok($S->{budgets}{fb}{fallback}, 'status: fb is on its local share');
is($S->{budgets}{fb}{fallbacks}, 3, 'status: 3 calls decided locally');
$v = metrics();
is($v->{'osint_budget_redis_fallback{budget="fb"}'}, 1, 'metric: fallback 1');
is($v->{'osint_budget_redis_fallback_total{budget="fb"}'}, 3,
   'metric: 3 fallbacks');
my @lines = grep { /osint_budget "fb" falls back to its local share/ }
            split /\n/, $t->error_log;
is(scalar @lines, 1, 'logged once') or diag join "\n", @lines;

###############################################################################
# the status page, rendered by chromium: each window of a provider, each
# budget with its windows and the fallback flag

SKIP: {
    my $chromium = $ENV{OSINT_CHROMIUM} || '/usr/bin/chromium';
    skip "$chromium missing", 4 unless -x $chromium;
    my $dir = $t->testdir;
    my $pid = OsintTest::_spawn(
        ["$FindBin::Bin/lib/browser.sh", '-t', 60, '-l', "$dir/chromium.log",
         '--virtual-time-budget=5000', '--window-size=1200,800',
         '--dump-dom', $t->url('/status?format=html')],
        stdout => "$dir/dom.html");
    if (!defined OsintTest::_wait_pid($pid, 90)) {
        kill 'KILL', $pid;
        OsintTest::_wait_pid($pid, 5);
    }
    my $dom = OsintTest::_read_file("$dir/dom.html") // '';
    my ($mw) = $dom =~ m{(<tr[^>]*data-provider="mw".*?</tr>)}s;
    like($mw // '', qr{>0 / 3 <span class="m">per hour</span><br>47 / 50 <span class="m">per day</span><br>997 / 1000 },
         'page: mw shows each window left');
    like($mw // '', qr{(?:\d\d-\d\d \d\d:\d\dZ.*){3}},
         'page: and each reset');
    like($dom, qr{<b>budget win</b><span>0 / 2 <span class="m">per hour},
         'page: a card for budget win');
    like($dom, qr{<b>budget fb</b><span>[^<]*tokens [^<]*<span[^>]*>per hour</span> <span class="bad" data-fallback="1">},
         'page: budget fb on its local share');
}

###############################################################################
# nginx -t refusals

sub refused {
    my ($name, $http, $prov, $message) = @_;
    my $c = OsintTest->new;
    $c->write_conf(<<"EOF");
    osint_zone 1m;
    $http
    osint_provider p {
        types ipv4;
        url "http://127.0.0.1:9/\$osint_target";
        $prov
    }
EOF
    my ($rc, $out) = $c->nginx_test;
    subtest $name => sub {
        isnt($rc, 0, 'nginx -t fails');
        like($out, qr/\[emerg\] \Q$message\E( in \S*nginx\.conf:\d+)?/,
             $message) or diag($out);
    };
}

# name, http{} lines, provider lines, nginx's words
my @REFUSED = (
    ['no parameters', 'osint_budget x;', '',
     'invalid number of arguments in "osint_budget" directive'],
    ['neither rate nor quota', 'osint_budget x burst=2;', '',
     'osint_budget "x" has neither "rate=" nor "quota="'],
    ['bad rate', 'osint_budget x rate=5r/x;', '',
     'invalid parameter "rate=5r/x"'],
    ['bad window', 'osint_budget x quota=5/w;', '',
     'invalid parameter "quota=5/w"'],
    ['a window twice', 'osint_budget x quota=1/h quota=2/h;', '',
     'duplicate quota window in "quota=2/h"'],
    ['a budget twice', 'osint_budget x quota=1/h; osint_budget x quota=1/d;',
     '', 'duplicate osint_budget "x"'],
    ['bad name', 'osint_budget "a b" quota=1/h;', '',
     'invalid osint_budget name "a b"'],
    ['unknown budget', '', 'budget nope;',
     'unknown osint_budget "nope" in osint_provider "p" in'],
    ['sync without redis', 'osint_budget x quota=1/h sync=redis;', '',
     'osint_budget "x" with sync=redis requires "osint_redis" in'],
    ['provider sync without redis', '', 'rate 1r/s sync=redis;',
     'osint_provider "p" with sync=redis requires "osint_redis" in'],
    ['provider window twice', '', 'quota 1/h; quota 2/h;',
     'duplicate quota window in "2/h" of osint_provider "p"'],
    ['provider budget twice', 'osint_budget x quota=1/h;',
     'budget x; budget x;', '"budget" of osint_provider "p" is duplicate'],
    ['bad nodes', 'osint_budget x quota=1/h nodes=0;', '',
     'invalid parameter "nodes=0"'],
    ['quota= on a rate line', '', 'rate 1r/s quota=5/h;',
     'invalid parameter "quota=5/h" in "rate" of osint_provider "p"'],
    ['burst= on a quota line', '', 'quota 5/h burst=2;',
     'invalid quota "burst=2" in osint_provider "p": expected N/h, N/d or '
     . 'N/mo'],
);

refused(@$_) for @REFUSED;

done_testing;
