#!/usr/bin/perl

# osint_control's purge reaches the L1 of every node sharing Redis
# (docs/control.md): two nodes of 2 workers, both with L1, one Redis; node
# b serves a target from its own L1, node a purges it, and within a second
# node b's next lookup is a miss that calls the provider once.  A message
# on the purge channel that is not one (too many keys, junk) is ignored.
# With Redis down, the purge still clears node a's L1 and answers 503.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;
plan(skip_all => 'redis-server not installed') unless OsintTest::have_redis();

my $a = OsintTest->new(workers => 2);
my $b = OsintTest->new(workers => 2);
my $fx = $a->fixture;
my $fxport = $fx->port;
my $redis = $a->redis;
my $rport = $redis->port;

my $conf = <<"EOF2";
    osint_zone 8m;
    osint_deadline 3s;
    osint_cache_l1 on;
    osint_redis 127.0.0.1:$rport prefix=fleet:;

    osint_provider A {
        types ipv4;
        url "http://127.0.0.1:$fxport/a/\$osint_target";
        cache_ttl 1h;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        keepalive_timeout 1s;

        location = /lookup  { osint_lookup; }
        location = /control { osint_control; }
    }
EOF2

$a->write_conf($conf);
$b->write_conf($conf);
$a->run;
$b->run;

my $up = qr/\[notice\] \d+#\d+: osint: redis \S+ is up/;

for my $t ($a, $b) {
    ok($t->wait_until(sub {
           my @l = grep { $_ =~ $up } split /\n/, $t->error_log;
           @l >= 2 }, 10), 'both workers connected to Redis')
        or diag $t->error_log;
}

# every worker of both nodes holds its subscription
sub subscribers {
    my $r = $redis->cmd('PUBSUB', 'NUMSUB', 'fleet:purge');
    return ref $r ? $r->[1] // 0 : 0;
}
ok($a->wait_until(sub { subscribers() >= 4 }, 5),
   'the 4 workers subscribed to fleet:purge');

sub cache_of {
    my ($t, $target) = @_;
    my (undef, $doc) = $t->get_json("/lookup?target=$target&providers=A");
    return $doc->{providers}{A}{cache} // 'none';
}

my $T = '198.51.100.7';

is(cache_of($a, $T), 'miss', 'node a: a miss');
is(cache_of($b, $T), 'redis', 'node b: a Redis hit');
my $r = $b->parallel_get([ ("/lookup?target=$T&providers=A") x 6 ], 6);
is(scalar(grep { ($_->{body} // '') =~ /"cache":"l1"/ } @$r), 6,
   'both workers of node b: L1 hits');
is($fx->calls_for("/a/$T"), 1, 'provider called once');

# junk on the channel changes nothing
$redis->cmd('PUBLISH', 'fleet:purge', "A\n" . ("x" x 5000));
$redis->cmd('PUBLISH', 'fleet:purge', join("\n", ("A:$T") x 1000));
$redis->cmd('PUBLISH', 'fleet:purge', '');
is(cache_of($b, $T), 'l1', 'junk on the channel: node b still an L1 hit');
ok($b->wait_until(sub { $b->error_log =~ /\[warn\] .*osint: redis \S+: a malformed message on "fleet:purge" ignored/ }, 3),
   'junk logged');
my @junk = grep { /malformed message/ } split /\n/, $b->error_log;
cmp_ok(scalar(@junk), '<=', 2, '... once per worker');

my ($status) = $a->request('DELETE', "/control?target=$T")->{status};
is($status, 200, 'purge on node a: 200');

my $t0 = time;
my $cache = 'l1';
for (1 .. 20) {
    $cache = cache_of($b, $T);
    last if $cache ne 'l1' || time - $t0 > 1;
    sleep 0.05;
}
is($cache, 'miss', 'node b after the purge on node a: a miss within 1 s');
is($fx->calls_for("/a/$T"), 2, 'node b called the provider once more');

# both workers of node b: from L1 again
$r = $b->parallel_get([ ("/lookup?target=$T&providers=A") x 6 ], 6);
is(scalar(grep { ($_->{body} // '') =~ /"status":"ok"/ } @$r), 6,
   'node b, both workers: answered');
is($fx->calls_for("/a/$T"), 2, '... from the caches: still 2 calls');

###############################################################################
# Redis down: node a's own L1 is purged all the same, 503

is(cache_of($a, $T), 'redis', 'node a: a Redis hit');
is(cache_of($a, $T), 'l1', 'node a: then an L1 hit');
$redis->stop;

my $res = $a->request('DELETE', "/control?target=$T");
is($res->{status}, 503, 'Redis down: 503');
like($res->{content}, qr/redis_unavailable/, '... redis_unavailable');
is(cache_of($a, $T), 'miss', 'node a: its L1 purged, a miss');
is($fx->calls_for("/a/$T"), 3, 'node a called the provider');

$a->stop;
$b->stop;

done_testing;
