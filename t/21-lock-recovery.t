#!/usr/bin/perl

# A worker killed (-9) while it holds something shared, caught in the act
# rather than at a random moment (t/19-chaos.t kills one at random):
#
# 1. the breaker's only half-open probe slot (its call hangs): once the
#    probe's osint_deadline has passed, a new trial probes, and the breaker
#    closes on its success instead of refusing every call for good;
# 2. a cache entry's update lock (its call hangs): a lookup for the same
#    answer waits for the lock, which ends with the dead call's deadline,
#    then asks the provider itself;
# 3. the zone's mutex itself (gdb stops the worker just after it took
#    ngx_shmtx_lock() and kills it there): nginx's master frees it and says
#    so, and every lookup, the limiter and status still answer, in both
#    zones, osint and the limiter's.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my $GDB = '/usr/bin/gdb';

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;

$t->write_conf(<<'EOF');
    osint_zone 4m;
    osint_deadline 2s;

    osint_limit_zone gate:1m key=$binary_remote_addr rate=1000r/s burst=1000;

    osint_provider probe {
        types domain;
        url "http://127.0.0.1:%%FX0%%/probe/$osint_target";
        timeout 5s;
        retries 0;
        cache_ttl off;
        breaker failures=1 cooldown=300ms half_open=1;
    }

    osint_provider cached {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/cached/$osint_target";
        timeout 5s;
        retries 0;
        cache_ttl 60s;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
        location = /gate {
            osint_limit zone=gate;
            default_type application/json;
            return 200 '{"ok":true}';
        }
    }
EOF

# the killing is the test; the master's report of a freed mutex is the
# recovery under test
$t->allow_log(qr/exited on signal 9/,
              qr/shared memory zone "(?:osint|gate)" was locked by \d+/);

$t->run;

###############################################################################
# helpers

# the worker whose call hangs at the fixture: its socket's local port is
# the one the fixture reports (an idle pooled connection is not it)
sub worker_of_hanging_call {
    my ($port) = $fx->hanging_ports or return undef;
    my ($sock) = grep {
        $_->{local_port} == $port && $_->{remote_port} == $fx->port
    } OsintTest::tcp_sockets();

    return undef unless $sock;
    my $inode = $sock->{inode};

    for my $pid ($t->worker_pids) {
        opendir my $dh, "/proc/$pid/fd" or next;
        for my $fd (grep { /^\d+$/ } readdir $dh) {
            my $link = readlink("/proc/$pid/fd/$fd") // next;
            return $pid if $link eq "socket:[$inode]";
        }
    }

    return undef;
}

# a lookup whose client stays: the socket is kept open, never read
sub hold_lookup {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $t->port, Proto => 'tcp',
                                  Timeout => 3) or die "connect: $!";
    syswrite($s, "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n");
    return $s;
}

# kill -9 a worker; wait for the master to have respawned it
sub kill_worker {
    my ($pid) = @_;
    kill 'KILL', $pid;
    return $t->wait_until(sub {
        my @w = $t->worker_pids;
        @w == 2 && !grep { $_ == $pid } @w;
    }, 10);
}

sub entry {
    my ($path, $prov) = @_;
    my ($status, $doc) = $t->get_json($path);
    return ($status, $doc ? $doc->{providers}{$prov} : undef);
}

sub metric {
    my ($name) = @_;
    my $res = $t->get('/status');
    return $res->{content} =~ /^\Q$name\E (\S+)$/m ? $1 : undef;
}

###############################################################################
# 1. the breaker's probe slot

$fx->control(prefix => '/probe/', params => { status => '503' });

my ($st, $e) = entry('/lookup?target=one.example', 'probe');
is($e->{status}, 'error', 'probe: a 503 fails the provider');
is(metric('osint_breaker_state{provider="probe"}'), 1, 'probe: breaker open');

$fx->control(prefix => '/probe/', params => { fault => 'hang' });
sleep 0.4;                                      # the cooldown is over

my $held = hold_lookup('/lookup?target=two.example');
my $admitted = time;

ok($t->wait_until(sub { $fx->hanging == 1 }, 5),
   'probe: the half-open probe hangs at the provider');

my $victim = worker_of_hanging_call();
ok($victim, 'probe: the worker of the probe found');
ok(kill_worker($victim), "probe: worker $victim killed, respawned");
close $held;

$fx->control(prefix => '/probe/', params => undef);

($st, $e) = entry('/lookup?target=three.example', 'probe');
is($e->{status}, 'skipped', 'probe: the dead probe still holds the slot')
    or diag explain $e;
is($e->{error}{kind}, 'breaker_open', 'probe: refused as breaker_open');
is(metric('osint_breaker_state{provider="probe"}'), 2, 'probe: half-open');

# the slot is known dead once the probe's deadline (2 s) has passed
my $closed_at;
$t->wait_until(sub {
    my ($s, $x) = entry('/lookup?target=four.example', 'probe');
    $closed_at = time if $x && $x->{status} eq 'ok';
    return $closed_at;
}, 6, 0.2);

ok($closed_at, 'probe: a new probe went out and succeeded');
cmp_ok($closed_at - $admitted, '>=', 1.9,
       'probe: not before the dead probe\'s deadline: '
       . sprintf('%.2f s', ($closed_at // 0) - $admitted));
is(metric('osint_breaker_state{provider="probe"}'), 0, 'probe: breaker closed');
like($t->error_log, qr/breaker half-open: its probes outlived osint_deadline/,
     'probe: the new trial is logged');

###############################################################################
# 2. a cache entry's update lock

$fx->control(prefix => '/cached/', params => { fault => 'hang' });

$held = hold_lookup('/lookup?target=10.1.1.1');
my $locked = time;

ok($t->wait_until(sub { $fx->hanging == 1 }, 5),
   'update lock: the first call for 10.1.1.1 hangs');

$victim = worker_of_hanging_call();
ok($victim, 'update lock: the worker of the call found');
ok(kill_worker($victim), "update lock: worker $victim killed, respawned");
close $held;

$fx->control(prefix => '/cached/', params => undef);

# start 1 s after the lock was taken: it waits about 1 s for the lock, then
# has about 1 s of its own deadline left to ask
sleep(1.0 - (time - $locked)) if time - $locked < 1.0;

my $t0 = time;
($st, $e) = entry('/lookup?target=10.1.1.1', 'cached');
my $waited = time - $t0;

is($st, 200, 'update lock: the next lookup answered');
is($e->{status}, 'ok', 'update lock: by the provider') or diag explain $e;
is($e->{cache}, 'miss', 'update lock: asked, not served from cache');
is($fx->calls_for('/cached/10.1.1.1'), 2,
   'update lock: the dead call and this one, no more');
cmp_ok($t0 + $waited - $locked, '>=', 1.9,
       'update lock: answered once the dead call\'s lock ended: '
       . sprintf('%.2f s after it was taken', $t0 + $waited - $locked));

($st, $e) = entry('/lookup?target=10.1.1.1', 'cached');
is($e->{cache}, 'l1', 'update lock: the answer is in L1 now');

###############################################################################
# 3. the zone's mutex, held by the worker at its death

SKIP: {
    skip 'gdb cannot stop a worker under valgrind', 12
        if ($ENV{OSINT_NGINX_WRAPPER} // '') =~ /valgrind/;

    ok(-x $GDB, "gdb installed ($GDB; make test-deps installs it)")
        or skip 'no gdb', 11;

    for my $case ([ gate => '/gate' ], [ osint => '/status' ]) {
        my ($zone, $path) = @$case;
        my ($w) = $t->worker_pids;
        my $mark = $t->log_mark;
        my $out = $t->testdir . "/gdb-$zone.out";

        # stop at the first ngx_shmtx_lock() of the worker, return from
        # it (the lock taken), print the lock word, kill the worker there
        my $gdb = fork // die "fork: $!";
        if ($gdb == 0) {
            open STDOUT, '>', $out or die;
            open STDERR, '>&', \*STDOUT or die;
            exec $GDB, '-q', '-nx', '-batch', '-p', $w,
                 '-ex', 'break ngx_shmtx_lock',
                 '-ex', 'continue',
                 '-ex', 'set $mtx = (long *) $rdi',
                 '-ex', 'finish',
                 '-ex', 'printf "HELD %ld\n", *(long *) *$mtx',
                 '-ex', 'kill';
            exit 127;
        }

        # the requests go to either worker: send them until one reaches $w
        my $stopped;
        for my $i (1 .. 100) {
            $stopped = OsintTest::_read_file($out) // '';
            last if $stopped =~ /^HELD/m;
            my $s = hold_lookup($path);
            sleep 0.05;
            close $s;
        }

        ok($t->wait_until(sub { waitpid($gdb, 0) == $gdb }, 15),
           "$zone: gdb done");
        $stopped = OsintTest::_read_file($out) // '';
        like($stopped, qr/^HELD $w$/m,
             "$zone: worker $w killed holding a lock")
            or diag $stopped;

        ok($t->wait_until(sub {
            $t->error_log($mark) =~ /shared memory zone "(\w+)" was locked by $w/
        }, 10), "$zone: the master freed the mutex");
        like($t->error_log($mark),
             qr/shared memory zone "\Q$zone\E" was locked by $w/,
             "$zone: it was $zone\'s");

        ok(kill_worker($w), "$zone: respawned");
    }

    # every worker serves both zones: none waits on a dead owner
    my $res = $t->parallel_get([ ('/gate') x 8, ('/status') x 8,
                                 map { "/lookup?target=10.2.0.$_" } 1 .. 8 ],
                               24, timeout => 10);
    is(scalar(grep { $_->{status} == 200 } @$res), 24,
       'after the mutex recoveries: the limiter, status and lookups answer');
}

$t->done_testing;
