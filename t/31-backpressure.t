#!/usr/bin/perl

# Backpressure.  A batch whose client stops reading starts no new lookups
# once output waits, holds no finished lookup's memory, and ends after
# send_timeout, while the worker serves others.  Cache writes to a hung
# Redis are bounded in bytes (beyond: dropped and counted) and time out
# like reads do, marking Redis down.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF);
use Time::HiRes qw(time sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

plan(skip_all => 'redis-server not installed') unless OsintTest::have_redis();

# one worker: the stalled batch and the other client share its event loop
my $t = OsintTest->new(workers => 1);
my $fx = $t->fixture;
my $redis = $t->redis;

# a Redis left stopped would outlive the test: SIGCONT on every way out
my $stopped;
END { kill 'CONT', $stopped if $stopped }

my $conf = <<'EOF';
    osint_zone 8m;
    osint_deadline 5s;
    osint_max_body 1m;
    osint_batch_max 100;
    osint_batch_concurrency 4;
    osint_redis 127.0.0.1:REDIS_PORT timeout=1s write_buffer=4m;
    osint_cache_l1 off;

    osint_provider big {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/big/$osint_target?fault=huge&size=300000&delay=100";
        cache_ttl off;
    }

    osint_provider small {
        types domain;
        url "http://127.0.0.1:%%FX0%%/small/$osint_target";
        cache_ttl off;
    }

    osint_provider cached {
        types ipv6;
        url "http://127.0.0.1:%%FX0%%/cached/$osint_target?fault=huge&size=300000";
        cache_ttl 60s;
    }

    server {
        listen 127.0.0.1:%%PORT%% sndbuf=64k;
        send_timeout 2s;
        location = /lookup { osint_lookup; osint_cache_bypass 1; }
        location = /status { osint_status; }
    }
EOF

$conf =~ s/REDIS_PORT/$redis->port/e;

(my $bad = $conf) =~ s/write_buffer=4m/write_buffer=lots/;
$t->write_conf($bad);
my ($rc, $out) = $t->nginx_test;
ok($rc != 0 && index($out, '[emerg] invalid write_buffer "write_buffer=lots"'
                           . ' in "osint_redis" in ') >= 0,
   'a bad write_buffer is refused') or diag $out;

$t->write_conf($conf);
$t->run;

sub rss_kb {
    my $s = OsintTest::_read_file("/proc/$_[0]/status") // return undef;
    return $s =~ /^VmRSS:\s+(\d+)/m ? $1 : undef;
}

sub metric {
    my ($name) = @_;
    my $res = $t->get('/status?format=prometheus');
    return $res->{content} =~ /^\Q$name\E (\d+)$/m ? $1 : undef;
}

my ($worker) = $t->worker_pids;

###############################################################################
# a batch whose client stops reading

# warm: the worker's allocator has seen a few big lookups
for my $i (1 .. 3) {
    my $r = $t->post('/lookup', { targets => [ map { "10.9.$i.$_" } 1 .. 8 ] });
    is($r->{status}, 200, "warm-up batch $i");
}

$fx->reset;
my $rss0 = rss_kb($worker);
my $mark = $t->log_mark;

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port,
                              Proto => 'tcp', Blocking => 1, Timeout => 5)
    or die "connect: $!";
setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096);
my $body = '{"targets":['
         . join(',', map { '"10.1.0.' . $_ . '"' } 1 .. 100) . ']}';
syswrite($s, "POST /lookup HTTP/1.1\r\nHost: x\r\n"
              . "Content-Type: application/json\r\n"
              . "Content-Length: " . length($body) . "\r\n\r\n$body");

# a few bytes, then the client reads no more
my $got = '';
my $sel = IO::Select->new($s);
sysread($s, $got, 200) if $sel->can_read(5);
like($got, qr{^HTTP/1\.1 200}, 'the batch began');
my $stall = time;

sleep 1.5;
my $calls_mid = $fx->calls;
my $rss_mid = rss_kb($worker);

# meanwhile another client is served at once
my $other = $t->get('/lookup?target=example.com');
is($other->{status}, 200, 'another client is served meanwhile');
cmp_ok($other->{elapsed_ms}, '<', 1000,
       sprintf('... in %.0f ms', $other->{elapsed_ms}));

ok($t->wait_log(qr/client timed out/, 8, $mark),
   'send_timeout: the stalled batch is ended and logged');
my $ended = time - $stall;
cmp_ok($ended, '>=', 1.8, sprintf('... after %.1f s', $ended));
cmp_ok($ended, '<', 4.5, '... within send_timeout and a bit');
my $calls_end = $fx->calls - 1;    # less the other client's call
my $rss_end = rss_kb($worker);

cmp_ok($calls_mid, '<=', 12,
       "no new lookups while output waits: $calls_mid calls after 1.5 s");
cmp_ok($calls_end, '<=', 12, "... $calls_end of 100 when it ended");
cmp_ok($rss_mid - $rss0, '<', 16 * 1024,
       "worker RSS bounded while stalled: $rss0 -> $rss_mid KiB");
cmp_ok($rss_end - $rss0, '<', 16 * 1024, "... and at the end: $rss_end KiB");

# the server closed: no connection of ours left ESTABLISHED on its side
my $cport = $s->sockport;
ok($t->wait_until(sub {
       !grep { $_->{local_port} == $t->port && $_->{remote_port} == $cport
               && $_->{state} eq '01' } OsintTest::tcp_sockets() }, 3),
   'the server closed the connection');
close $s;

ok($t->wait_until(sub {
       (OsintTest::_read_file($t->testdir . '/access.log') // '')
           =~ m{"POST /lookup HTTP/1\.1" 200 } }, 3),
   'the batch is in the access log');
is($calls_end, $calls_mid, '... none started after the client stalled');

###############################################################################
# a hung Redis: cache writes bounded, detected by writes alone

ok($t->wait_until(sub { (metric('osint_redis_up') // 0) == 1 }, 5),
   'redis up');

# refresh=1: no GET, only SETs of 300 kB values
sub refresh_batch {
    my ($n, $count) = @_;
    return $t->post('/lookup?refresh=1', { targets => [
        map { sprintf '2001:db8::%x:%x', $n, $_ } 1 .. $count // 100 ] });
}

# 4 at a time, 300 kB each: within write_buffer while Redis keeps up
my $r = refresh_batch(1, 20);
is($r->{status}, 200, 'writes while redis answers');
ok($t->wait_until(sub { ($redis->cmd('DBSIZE') // 0) >= 20 }, 5),
   '... stored: ' . $redis->cmd('DBSIZE'));
is(metric('osint_redis_writes_dropped_total'), 0, '... none dropped');

$mark = $t->log_mark;
$rss0 = rss_kb($worker);

kill 'STOP', $redis->pid;
$stopped = $redis->pid;
my $t0 = time;

$r = refresh_batch(2);
is($r->{status}, 200, 'a batch while redis hangs');
my $rss_hung = rss_kb($worker);
SKIP: {
    skip 'RSS under a memory checker (quarantine)', 1 if @OsintTest::WRAPPER;
    cmp_ok($rss_hung - $rss0, '<', 16 * 1024,
           "worker RSS bounded while redis hangs: $rss0 -> $rss_hung KiB");
}
# until writes time out (1 s), those beyond 4 MiB (about 13) are dropped
my $dropped = metric('osint_redis_writes_dropped_total') // 0;
cmp_ok($dropped, '>=', 10,
       "writes beyond write_buffer dropped and counted: $dropped");

ok($t->wait_until(sub { (metric('osint_redis_up') // 1) == 0 }, 4),
   sprintf('writes that time out mark redis down (%.1f s)', time - $t0));
like($t->error_log($mark), qr/redis 127\.0\.0\.1:\d+ is down: .*timed out/,
     '... and it is logged');
my $st = OsintTest::decode_json_or_undef(
    $t->get('/status?format=json')->{content});
is($st->{redis}{up}, JSON::PP::false(), '... status says down');

$r = refresh_batch(3);
is($r->{status}, 200, 'lookups go on while redis is down');
SKIP: {
    skip 'RSS under a memory checker (quarantine)', 1 if @OsintTest::WRAPPER;
    cmp_ok(rss_kb($worker) - $rss0, '<', 16 * 1024, '... RSS still bounded');
}

kill 'CONT', $redis->pid;
$stopped = undef;

ok($t->wait_until(sub { (metric('osint_redis_up') // 0) == 1 }, 8),
   'redis up again after SIGCONT');
$redis->cmd('FLUSHALL');
$r = refresh_batch(4);
is($r->{status}, 200, 'writes again');
ok($t->wait_until(sub { ($redis->cmd('DBSIZE') // 0) >= 1 }, 5),
   '... stored again');

$t->done_testing;
