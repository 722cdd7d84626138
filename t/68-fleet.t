#!/usr/bin/perl

# Fleet-wide provider budgets: three nginx nodes (2 workers each) share
# one real redis-server through sync=redis.
#
# - A fixture provider behind "rate 2r/s burst=2 sync=redis; quota 20/h;"
#   under demand far above it for 5 s from all nodes: the fixture counts
#   no more calls than the stated bound (burst + rate x T + nodes x (k-1),
#   k = 1 here) and at least 90 % of the rate; then the hourly quota stops
#   every node at 20 calls in total.
# - A 429 with Retry-After: 2 seen by one node holds the provider on every
#   node for 2 s, then calls resume.
# - Redis stuck: a lookup waits at most osint_redis's timeout for its
#   budget, then goes on from the node's share.
# - Redis killed during the demand: lookups go on from each node's share
#   (nodes=3), counted, flagged and logged once per node; Redis back: the
#   shared state resumes, and each node says so.

use strict;
use warnings;

use Test::More;
use HTTP::Tiny;
use POSIX qw(floor);
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

plan(skip_all => 'redis-server not installed') unless OsintTest::have_redis();

my @nodes = map { OsintTest->new(workers => 2) } 1 .. 3;
my $NODES = scalar @nodes;
my $redis = $nodes[0]->redis;
my $rport = $redis->port;
my $fx = $nodes[0]->fixture;
my $fport = $fx->port;

my $CONF = <<"EOF";
    osint_zone 4m;
    osint_deadline 1500ms;
    osint_redis 127.0.0.1:$rport timeout=200ms;

    osint_budget fb rate=3r/s burst=3 sync=redis nodes=3;

    osint_provider fx {
        types ipv4;
        url "http://127.0.0.1:$fport/fx/\$osint_target";
        rate 2r/s burst=2 sync=redis;
        quota 20/h;
        cache_ttl 0;
    }

    osint_provider held {
        types ipv4;
        url "http://127.0.0.1:$fport/held/\$osint_target";
        rate 50r/s burst=10 sync=redis;
        cache_ttl 0;
    }

    osint_provider fbp {
        types ipv4;
        url "http://127.0.0.1:$fport/fbp/\$osint_target";
        budget fb;
        cache_ttl 0;
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        keepalive_requests 1000000;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF

for my $t (@nodes) {
    $t->write_conf($CONF);
    $t->run;
}

my $up = qr/\[notice\] \d+#\d+: osint: redis \S+ is up/;

sub count_re {
    my ($t, $re, $mark) = @_;
    return scalar grep { $_ =~ $re } split /\n/, $t->error_log($mark);
}

for my $i (0 .. $#nodes) {
    ok($nodes[$i]->wait_until(sub { count_re($nodes[$i], $up) >= 2 }, 10),
       "node $i: both workers connected to Redis");
}

###############################################################################
# helpers

my $seq = 0;

sub target {
    my ($n) = @_;
    return '10.' . ($n % 250) . '.' . int($n / 250) % 250 . '.'
           . ($n % 249 + 1);
}

# flood($prov, $secs, $per_node [, $mid]) -> (\%entries, $elapsed):
# $per_node keep-alive clients on every node look up new targets with
# provider $prov for $secs seconds; counts of their entries'
# status/message.  $mid: run by the test 0.5 s into the flood.
sub flood {
    my ($prov, $secs, $per_node, $mid) = @_;
    my $dir = $nodes[0]->testdir . "/flood-$$-" . $seq++;
    mkdir $dir;
    my (%kids, $n);
    STDOUT->flush;
    STDERR->flush;
    my $t0 = time;
    for my $ni (0 .. $#nodes) {
        for my $ci (1 .. $per_node) {
            $n++;
            my $file = "$dir/$n";
            my $base = $nodes[$ni]->url('/lookup');
            my $salt = $seq * 1000 + $n * 100;
            my $pid = fork;
            die "fork: $!" unless defined $pid;
            if ($pid == 0) {
                my $http = HTTP::Tiny->new(keep_alive => 1, timeout => 3);
                my (%st, $i);
                my $end = $t0 + $secs;
                while (time < $end && $i++ < 20000) {
                    my $r = $http->get("$base?providers=$prov&target="
                                       . target($salt * 100 + $i));
                    my $doc = OsintTest::decode_json_or_undef($r->{content});
                    my $e = $doc ? $doc->{providers}{$prov} : undef;
                    $st{!$e ? "http $r->{status}"
                        : $e->{status} eq 'ok' ? 'ok'
                        : "$e->{status}: "
                          . ($e->{error}{message} // '')}++;
                }
                open my $fh, '>', $file;
                print $fh "$_\t$st{$_}\n" for keys %st;
                close $fh;
                POSIX::_exit(0);
            }
            $kids{$pid} = 1;
        }
    }
    if ($mid) {
        sleep(0.5 - (time - $t0)) if time - $t0 < 0.5;
        $mid->();
    }
    OsintTest::reap_children(\%kids, $secs + 10);
    my $elapsed = time - $t0;

    my %total;
    for my $line (map { split /\n/, OsintTest::_read_file("$dir/$_") // '' }
                  1 .. $n)
    {
        my ($k, $v) = split /\t/, $line;
        $total{$k} += $v if defined $v;
    }
    return (\%total, $elapsed);
}

sub fixture_calls {
    my ($prefix) = @_;
    my $by = $fx->by_path // {};
    my $n = 0;
    for (keys %$by) {
        $n += $by->{$_} if index($_, "/$prefix/") == 0;
    }
    return $n;
}

sub metric {
    my ($t, $name) = @_;
    for (split /\n/, $t->get('/status')->{content} // '') {
        return $1 if /^\Q$name\E (\S+)$/;
    }
    return undef;
}

sub lookup {
    my ($t, $prov) = @_;
    my (undef, $doc) = $t->get_json('/lookup?providers=' . $prov
                                    . '&target=' . target(900000 + $seq++));
    return $doc ? $doc->{providers}{$prov} : undef;
}

###############################################################################
# one rate for the fleet: 5 s of demand far above 2r/s burst=2

my $hour = floor(time / 3600);
my ($got, $secs) = flood('fx', 5, 3);
sleep 0.3;
my $calls = fixture_calls('fx');
my $bound = 2 + 2 * $secs + $NODES * (1 - 1);
cmp_ok($calls, '<=', floor($bound),
       sprintf('rate: the fixture saw %d calls in %.2f s, at most %d '
               . '(burst + rate x T + nodes x (k-1))', $calls, $secs,
               floor($bound)));
cmp_ok($calls, '>=', 9, 'rate: and at least 90 % of 2r/s over 5 s');
diag(sprintf('fleet rate: %d calls in %.2f s, bound %.1f, overshoot %d',
             $calls, $secs, $bound, $calls - (2 + 2 * $secs)));
cmp_ok($got->{'skipped: no token left in the rate limit'} // 0, '>', 100,
       'rate: the demand was far above it ('
       . join(', ', map { "$_: $got->{$_}" } sort keys %$got) . ')');
is(join(',', grep { !/^(ok|skipped: no token left in the rate limit)$/ }
              keys %$got), '', 'rate: no other outcome');

for my $i (0 .. $#nodes) {
    is(metric($nodes[$i],
              'osint_provider_redis_fallback_total{provider="fx"}'), 0,
       "node $i: no fallback while Redis is up");
}

# the script goes by its SHA1: whole only to the first asks (NOSCRIPT)
my %cs;
for (split /\r?\n/, $redis->cmd('INFO', 'commandstats') // '') {
    $cs{$1} = $2 if /^cmdstat_(\w+):calls=(\d+)/;
}
cmp_ok($cs{evalsha} // 0, '>', 1000, "EVALSHA: $cs{evalsha} calls");
cmp_ok($cs{eval} // 0, '<=', 20,
       'EVAL: ' . ($cs{eval} // 0) . ' calls (Redis did not hold it yet)');

my @h = @{$redis->cmd('HMGET', 'osint:provider-budget:fx', 'tokens', 'u1')
          // []};
ok(defined $h[0], 'the bucket is in Redis: osint:provider-budget:fx');
is($h[1], $calls, "the hour's count in Redis is the fixture's ($calls)");

###############################################################################
# the hourly quota stops every node at 20 in total

SKIP: {
    ($got, $secs) = flood('fx', 7, 2);
    sleep 0.3;
    skip 'the hour turned during the test', 4 if floor(time / 3600) != $hour;

    is(fixture_calls('fx'), 20, 'quota: 20 calls in total across the nodes');
    ok(($got->{'skipped: the quota of the period is spent'} // 0) > 0,
       'quota: then refused as spent');
    my $e = lookup($nodes[2], 'fx');
    is($e && $e->{error}{message}, 'the quota of the period is spent',
       'quota: node 2 refuses too');
    is(metric($nodes[1],
              'osint_provider_quota_remaining{provider="fx",window="h"}'), 0,
       'quota: node 1 shows 0 left this hour');
}

###############################################################################
# a 429 with Retry-After: 2 on one node holds the provider on all nodes

$fx->control(prefix => '/held', params => { status => 429,
                                            retry_after => 2 });
my $e = lookup($nodes[0], 'held');
my $t429 = time;
$fx->clear_control;
is($e && $e->{error}{kind}, 'rate_limited', 'node 0 got the 429');
my $before = fixture_calls('held');
is($before, 1, 'one call reached the provider');
# the SET is asynchronous: a loaded machine may take a moment to send it
my $pttl = $redis->cmd('PTTL', 'osint:hold:held');
for (1 .. 10) {
    last if $pttl > 0;
    sleep 0.05;
    $pttl = $redis->cmd('PTTL', 'osint:hold:held');
}
ok($pttl > 1000 && $pttl <= 2000, "the hold is in Redis ($pttl ms)");

($got) = flood('held', 1.5, 2);
is(fixture_calls('held'), $before,
   'during the hold no node called the provider');
cmp_ok($got->{'skipped: the provider asked to wait (Retry-After)'} // 0,
       '>', 10, 'the nodes said why ('
       . join(', ', map { "$_: $got->{$_}" } sort keys %$got) . ')');

sleep(2.3 - (time - $t429)) if time - $t429 < 2.3;
$e = lookup($nodes[1], 'held');
is($e && $e->{status}, 'ok', 'after 2 s node 1 calls again');
$e = lookup($nodes[2], 'held');
is($e && $e->{status}, 'ok', 'and node 2');

###############################################################################
# Redis stuck (a 500 ms script): a lookup waits at most osint_redis's
# timeout for its budget, then goes on from the node's share

{
    my $mark = $nodes[1]->log_mark;
    STDOUT->flush;
    STDERR->flush;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        eval {
            $redis->cmd('EVAL', "local s = redis.call('TIME') "
                . "local e = s[1] * 1000000 + s[2] + 500000 "
                . "while true do local n = redis.call('TIME') "
                . "if n[1] * 1000000 + n[2] >= e then break end end "
                . "return 1", 0);
        };
        POSIX::_exit(0);
    }
    sleep 0.05;
    my (undef, $doc) = $nodes[1]->get_json('/lookup?providers=fbp&target='
                                           . target(800000));
    my $e = $doc ? $doc->{providers}{fbp} : undef;
    my $ms = $doc ? $doc->{elapsed_ms} : 1e9;
    is($e && $e->{status}, 'ok', 'Redis stuck: the lookup is answered');
    cmp_ok($ms, '<', 200 + 150,
           sprintf('Redis stuck: within the timeout (%.0f ms in nginx)',
                   $ms));
    waitpid($pid, 0);
    cmp_ok(metric($nodes[1], 'osint_budget_redis_fallback_total{budget="fb"}'),
           '>', 0, 'Redis stuck: counted as a fallback');

    # back in sync (the connection may have been dropped as hung)
    ok($nodes[1]->wait_until(sub {
        lookup($nodes[1], 'fbp');
        metric($nodes[1], 'osint_budget_redis_fallback{budget="fb"}') eq '0';
    }, 12, 0.2), 'Redis answers again: in sync again');
}

###############################################################################
# Redis killed: each node's local share (fb: 3r/s burst=3, nodes=3)

my @mark = map { $_->log_mark } @nodes;
my $fb_before = fixture_calls('fbp');

# killed 0.5 s into the demand: lookups in flight and after go on
($got, $secs) = flood('fbp', 2.5, 2, sub { $redis->kill9 });
sleep 0.2;
my $fb_calls = fixture_calls('fbp') - $fb_before;
cmp_ok($got->{ok} // 0, '>=', $NODES, 'Redis down: lookups go on from the '
       . 'local shares (' . join(', ', map { "$_: $got->{$_}" } sort keys %$got)
       . ')');
cmp_ok($fb_calls, '<=', 3 + 3 * $secs + $NODES * (1 + 1 * $secs),
       sprintf('Redis down: %d calls in %.2f s, within the budget while '
               . 'Redis lived and the nodes\' shares after', $fb_calls,
               $secs));
is(join(',', grep { !/^(ok|skipped: no token left in the rate limit)$/ }
              keys %$got), '', 'Redis down: no other outcome');

my $down = qr/\[warn\] .*osint: osint_budget "fb" falls back to its local share/;
for my $i (0 .. $#nodes) {
    cmp_ok(metric($nodes[$i], 'osint_budget_redis_fallback_total{budget="fb"}'),
           '>', 0, "node $i: fallbacks counted");
    is(metric($nodes[$i], 'osint_budget_redis_fallback{budget="fb"}'), 1,
       "node $i: flagged as on its local share");
    is(count_re($nodes[$i], $down, $mark[$i]), 1, "node $i: logged once");
}

###############################################################################
# Redis back: shared again

@mark = map { $_->log_mark } @nodes;
$redis->start;

for my $i (0 .. $#nodes) {
    ok($nodes[$i]->wait_until(sub { count_re($nodes[$i], $up, $mark[$i]) >= 2 },
                              12), "node $i: reconnected");
}

for my $i (0 .. $#nodes) {
    lookup($nodes[$i], 'fbp');
    is(metric($nodes[$i], 'osint_budget_redis_fallback{budget="fb"}'), 0,
       "node $i: in sync again");
    like($nodes[$i]->error_log($mark[$i]),
         qr/\[notice\].*osint: osint_budget "fb" is in sync with redis again/,
         "node $i: says so");
}

ok(defined $redis->cmd('HGET', 'osint:budget:fb', 'tokens'),
   'the shared bucket is in Redis again');

$_->stop for @nodes;

done_testing;
