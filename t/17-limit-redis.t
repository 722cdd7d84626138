#!/usr/bin/perl

# osint_limit_zone ... sync=redis: two nginx instances (2 workers each)
# share one real redis-server.
#
# - Together they pass no more than one limit plus the stated error bound
#   (burst + rate x T + nodes x (k - 1), k = max(1, burst / 8)), and at
#   least 80 % of it; a zone with k = 5 exercises the leases.
# - Keys are independent; the bucket is in Redis under prefix limit:zone:key.
# - Redis killed: every request is answered at once on the node's own
#   bucket, osint_limit_redis_fallback_total rises, each worker logs the
#   fallback once.
# - Redis stuck (a 400 ms script): a request waits at most the timeout,
#   then is decided locally; a client leaving while it waits leaves no
#   trace.
# - Redis back: the nodes share the limit again.

use strict;
use warnings;

use Test::More;
use HTTP::Tiny;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

plan(skip_all => 'redis-server not installed') unless OsintTest::have_redis();

my $TIMEOUT_MS = 100;
my $NODES = 2;

my $a = OsintTest->new(workers => 2);
my $b = OsintTest->new(workers => 2);
my $redis = $a->redis;
my $rport = $redis->port;

my $CONF = <<"EOF";
    osint_zone 8m;
    osint_redis 127.0.0.1:$rport timeout=${TIMEOUT_MS}ms;

    osint_limit_zone api:1m key=\$http_x_key rate=10r/s burst=10 sync=redis;
    osint_limit_zone big:1m key=\$http_x_key rate=10r/s burst=40 sync=redis;

    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        keepalive_requests 1000000;
        add_header X-Worker \$pid always;

        location = /a      { osint_limit zone=api; return 200 "ok\\n"; }
        location = /big    { osint_limit zone=big; return 200 "ok\\n"; }
        location = /status { osint_status; }
    }
EOF

for my $t ($a, $b) {
    $t->write_conf($CONF);
    $t->run;
}

my $up = qr/\[notice\] \d+#\d+: osint: redis \S+ is up/;

sub count_re {
    my ($t, $re, $mark) = @_;
    my @l = grep { $_ =~ $re } split /\n/, $t->error_log($mark);
    return scalar @l;
}

for my $t ($a, $b) {
    ok($t->wait_until(sub { count_re($t, $up) >= 2 }, 10),
       'both workers of a node connected to Redis')
        or diag $t->error_log;
}

###############################################################################
# helpers

sub key_get {
    my ($t, $path, $key) = @_;
    return $t->request('GET', $path, headers => { 'X-Key' => $key },
                       timeout => 5);
}

# flood($path, $key, $secs, $per_node) -> { status => count }, elapsed:
# $per_node keep-alive clients on each node, for $secs seconds
sub flood {
    my ($path, $key, $secs, $per_node) = @_;
    my $dir = $a->testdir . "/flood-$$";
    mkdir $dir;
    my (%kids, $n);
    STDOUT->flush;
    STDERR->flush;
    my $t0 = time;
    for my $t ($a, $b) {
        for (1 .. $per_node) {
            $n++;
            my $file = "$dir/$n";
            my $url = $t->url($path);
            my $pid = fork;
            die "fork: $!" unless defined $pid;
            if ($pid == 0) {
                my $http = HTTP::Tiny->new(keep_alive => 1, timeout => 3);
                my (%st, $max);
                $max = 0;
                my $end = $t0 + $secs;
                while (time < $end) {
                    my $s = time;
                    my $r = $http->get($url, { headers => { 'X-Key' => $key } });
                    my $ms = (time - $s) * 1000;
                    $max = $ms if $ms > $max;
                    $st{$r->{status}}++;
                }
                open my $fh, '>', $file;
                print $fh "$_ $st{$_}\n" for keys %st;
                print $fh "max $max\n";
                close $fh;
                POSIX::_exit(0);
            }
            $kids{$pid} = 1;
        }
    }
    my $deadline = time + $secs + 10;
    while (%kids && time < $deadline) {
        for my $pid (keys %kids) {
            delete $kids{$pid} if waitpid($pid, WNOHANG) == $pid;
        }
        sleep 0.05;
    }
    for my $pid (keys %kids) { kill 'KILL', $pid; waitpid($pid, 0); }
    my $elapsed = time - $t0;

    my %total;
    for my $c (1 .. $n) {
        for (split /\n/, OsintTest::_read_file("$dir/$c") // '') {
            my ($st, $v) = split / /;
            next unless defined $v;
            if ($st eq 'max') {
                $total{max} = $v if $v > ($total{max} // 0);
            } else {
                $total{$st} += $v;
            }
        }
    }
    return (\%total, $elapsed);
}

# metric($t, $name, $zone) -> value of NAME{zone="ZONE"...} (summed)
sub metric {
    my ($t, $name, $zone, $extra) = @_;
    my $text = $t->get('/status')->{content} // '';
    my $v = 0;
    $extra //= '';
    while ($text =~ /^\Q$name\E\{zone="\Q$zone\E"\Q$extra\E[^}]*\} (\d+)$/mg) {
        $v += $1;
    }
    return $v;
}

###############################################################################
# one shared limit

for my $case (['/a', 'api', 10, 'k1'], ['/big', 'big', 40, 'b1']) {
    my ($path, $zone, $burst, $key) = @$case;
    my $k = $burst >= 16 ? int($burst / 8) : 1;
    my $bound = $NODES * ($k - 1);

    my ($got, $secs) = flood($path, $key, 3, 2);

    my $h = $redis->cmd('HGETALL', "osint:limit:$zone:$key");
    is(ref $h eq 'ARRAY' ? join(',', grep { /^[a-z]+$/ } @$h) : $h,
       'tokens,ts', "the bucket is in Redis: osint:limit:$zone:$key");
    my $ttl = $redis->cmd('PTTL', "osint:limit:$zone:$key");
    ok($ttl > 0 && $ttl <= 1000 + 1000 * $burst / 10 + 100,
       "and expires when full again ($ttl ms)");
    my $pass = $got->{200} // 0;
    my $max = $burst + 10 * $secs + $bound;
    my $min = 0.8 * ($burst + 10 * 3);

    cmp_ok($pass, '<=', $max,
           sprintf("$zone: two nodes passed %d in %.2f s, at most %.1f "
                   . "(burst + rate x T + nodes x (k-1) = %d)",
                   $pass, $secs, $max, $bound));
    cmp_ok($pass, '>=', $min, "$zone: and at least $min");
    cmp_ok($got->{429} // 0, '>', 0, "$zone: the rest were rejected");
    is(join(',', sort grep { !/^(200|429|max)$/ } keys %$got), '',
       "$zone: no other status") or diag explain $got;

    my $counted = metric($a, 'osint_limit_requests_total', $zone,
                         ',result="passed')
                  + metric($b, 'osint_limit_requests_total', $zone,
                           ',result="passed');
    is($counted, $pass, "$zone: the nodes counted $pass passed together");
    is(metric($a, 'osint_limit_redis_fallback_total', $zone)
       + metric($b, 'osint_limit_redis_fallback_total', $zone), 0,
       "$zone: no fallback while Redis is up");
}


# another key is independent: a full bucket, shared
{
    my @st;
    for my $i (1 .. 8) {
        push @st, key_get($i % 2 ? $a : $b, '/a', 'k2')->{status};
    }
    is(join(' ', @st), join(' ', (200) x 8), 'another key: its own bucket');
    my $r = key_get($a, '/a', 'k2');
    like($r->{headers}{ratelimit} // '', qr/^"api";r=\d+;t=\d+$/,
         'RateLimit field in sync: ' . ($r->{headers}{ratelimit} // ''));
}

# across nodes: 15 requests alternating between the nodes, one bucket of 10
{
    my $pass = 0;
    my $t0 = time;
    for my $i (1 .. 15) {
        $pass++ if key_get($i % 2 ? $a : $b, '/a', 'k3')->{status} == 200;
    }
    my $secs = time - $t0;
    cmp_ok($pass, '<=', 10 + int(10 * $secs) + 1,
           sprintf('alternating nodes: %d of 15 passed in %.2f s', $pass,
                   $secs));
    cmp_ok($pass, '>=', 10, 'alternating nodes: the burst passed');
}

###############################################################################
# Redis stuck: a script that runs 400 ms; requests wait at most the timeout

{
    my $mark_a = $a->log_mark;
    STDOUT->flush;
    STDERR->flush;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        eval {
            $redis->cmd('EVAL', "local s = redis.call('TIME') "
                . "local e = s[1] * 1000000 + s[2] + 400000 "
                . "while true do local n = redis.call('TIME') "
                . "if n[1] * 1000000 + n[2] >= e then break end end "
                . "return 1", 0);
        };
        POSIX::_exit(0);
    }
    sleep 0.05;

    # a client that leaves while its request waits for Redis
    ok($a->abort_get('/a', 30), 'stuck: a client leaves while waiting');

    my $r = key_get($a, '/a', 'stuck');
    is($r->{status}, 200, 'stuck Redis: the request is decided locally');
    cmp_ok($r->{elapsed_ms}, '<', $TIMEOUT_MS + 150,
           sprintf('stuck Redis: within the timeout (%.0f ms)',
                   $r->{elapsed_ms}));
    waitpid($pid, 0);
    cmp_ok(metric($a, 'osint_limit_redis_fallback_total', 'api'), '>', 0,
           'stuck Redis: counted as fallback');
    unlike($a->error_log($mark_a), qr/\[(?:alert|crit|emerg)\]/,
           'stuck Redis: no alert');
}

# the connection may have been dropped as hung: wait until both are back
sleep 0.3;
for my $t ($a, $b) {
    my $m = $t->log_mark;
    $t->wait_until(sub {
        key_get($t, '/a', 'probe' . int(rand 1e9));
        my $f1 = metric($t, 'osint_limit_redis_fallback_total', 'api');
        key_get($t, '/a', 'probe' . int(rand 1e9));
        key_get($t, '/a', 'probe' . int(rand 1e9));
        metric($t, 'osint_limit_redis_fallback_total', 'api') == $f1;
    }, 12, 0.2);
}

###############################################################################
# Redis killed: local buckets, at once

my %mark = (a => $a->log_mark, b => $b->log_mark);
my $down = qr/\[warn\] (\d+)#\d+: .*osint_limit: zone "api" falls back to local buckets: redis is down/;

my %fb0 = (a => metric($a, 'osint_limit_redis_fallback_total', 'api'),
           b => metric($b, 'osint_limit_redis_fallback_total', 'api'));

$redis->kill9;

for my $node (['a', $a], ['b', $b]) {
    my ($name, $t) = @$node;
    my ($pass, $max, @st) = (0, 0);
    my $t0 = time;
    for my $i (1 .. 15) {
        my $r = key_get($t, '/a', "down-$name");
        push @st, $r->{status};
        $pass++ if $r->{status} == 200;
        $max = $r->{elapsed_ms} if $r->{elapsed_ms} > $max;
    }
    my $secs = time - $t0;
    cmp_ok($max, '<', $TIMEOUT_MS + 50,
           sprintf("node $name, Redis killed: every request answered at "
                   . "once (slowest %.0f ms)", $max));
    is(join(',', sort grep { $_ != 200 && $_ != 429 } @st), '',
       "node $name: 200 or 429 only");
    cmp_ok($pass, '>=', 10, "node $name: its own bucket passes the burst");
    cmp_ok($pass, '<=', 10 + int(10 * $secs) + 1,
           sprintf("node $name: and limits (%d of 15 in %.2f s)", $pass,
                   $secs));
    cmp_ok(metric($t, 'osint_limit_redis_fallback_total', 'api'), '>=',
           $fb0{$name} + 15, "node $name: fallback counter rose by 15");
}

# both workers of each node, more requests: still one line per worker
for my $node (['a', $a], ['b', $b]) {
    my ($name, $t) = @$node;
    $t->parallel_get([map { { path => '/a', headers => { 'X-Key' => "p$_" } } }
                      1 .. 40], 8);
    my %per;
    for (split /\n/, $t->error_log($mark{$name})) {
        $per{$1}++ if $_ =~ $down;
    }
    cmp_ok(scalar keys %per, '>=', 1,
           "node $name: the fallback is logged");
    cmp_ok(scalar keys %per, '<=', 2, "node $name: by its workers only");
    is(join(',', grep { $per{$_} != 1 } keys %per), '',
       "node $name: once per worker") or diag explain \%per;
}

###############################################################################
# Redis back: shared again

%mark = (a => $a->log_mark, b => $b->log_mark);
$redis->start;

for my $node (['a', $a], ['b', $b]) {
    my ($name, $t) = @$node;
    ok($t->wait_until(sub { count_re($t, $up, $mark{$name}) >= 2 }, 12),
       "node $name: both workers reconnected")
        or diag $t->error_log($mark{$name});
}

{
    my $pass = 0;
    my $t0 = time;
    for my $i (1 .. 20) {
        $pass++ if key_get($i % 2 ? $a : $b, '/a', 'back')->{status} == 200;
    }
    my $secs = time - $t0;
    cmp_ok($pass, '<=', 10 + int(10 * $secs) + 1,
           sprintf('Redis back: one bucket again (%d of 20 in %.2f s)',
                   $pass, $secs));
    ok(defined $redis->cmd('HGET', 'osint:limit:api:back', 'tokens'),
       'Redis back: the bucket is in Redis');
}

for my $node (['a', $a], ['b', $b]) {
    my ($name, $t) = @$node;
    like($t->error_log($mark{$name}),
         qr/\[notice\].*osint_limit: zone "api" is in sync with redis again/,
         "node $name: says it is in sync again");
}

###############################################################################
# configuration

{
    my $c = OsintTest->new;
    $c->write_conf("    osint_limit_zone r:1m key=\$remote_addr rate=1r/s "
                   . "sync=redis;\n    server { listen 127.0.0.1:%%PORT%%; "
                   . "location / { osint_limit zone=r; return 200; } }\n");
    my ($rc, $out) = $c->nginx_test;
    isnt($rc, 0, 'nginx -t: sync=redis without osint_redis fails');
    like($out, qr/\[emerg\] osint_limit_zone "r" with sync=redis requires "osint_redis"/,
         'nginx -t says why');
}

$a->stop;
$b->stop;

done_testing;
