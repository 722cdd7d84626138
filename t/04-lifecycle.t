#!/usr/bin/perl

# Lifecycle of lookups: a client that goes away cancels its provider calls
# (no fd, socket or timer left behind), `nginx -s reload` under lookups loses
# none, and a graceful stop lets lookups in flight finish.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use POSIX qw(WNOHANG);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new;
my $fx = $t->fixture;

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 10s;

    osint_provider hang {
        types ip;
        url "http://127.0.0.1:%%FX0%%/hang/$osint_target?fault=hang";
        timeout 8s;
    }

    osint_provider slow {
        types domain;
        url "http://127.0.0.1:%%FX0%%/slow/$osint_target?delay=400";
    }

    osint_provider fast {
        types domain;
        url "http://127.0.0.1:%%FX0%%/fast/$osint_target";
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF

$t->run;

my @workers = $t->worker_pids;

# warm up both workers: curl's multi, resolver and connection cache exist
$t->parallel_get([ ('/lookup?target=example.com') x 8 ], 8);

my %fds = map { $_ => OsintTest::fd_count_but_pool($_, $fx->port) }
    @workers;

###############################################################################
# 200 lookups whose client leaves while the provider hangs

my $aborted = 0;
for my $i (1 .. 200) {
    $aborted += $t->abort_get("/lookup?target=10.0.0.$i", 15);
}
is($aborted, 200, '200 lookups sent and abandoned');

# every hung provider call must be closed by nginx once its client is gone:
# the fixture counts the hanging requests whose peer is still there
ok($t->wait_until(sub { $fx->hanging == 0 }, 10),
   'provider connections of abandoned lookups closed')
    or diag('still hanging: ' . $fx->hanging);

cmp_ok($fx->calls, '>=', 150, 'the hanging provider was really called: '
       . $fx->calls);

# no fd left behind, libcurl's idle connections to the fixture aside (their
# number follows how the warm-up lookups overlapped, not leaks)
for my $pid (@workers) {
    my $now = OsintTest::fd_count_but_pool($pid, $fx->port);
    cmp_ok($now, '<=', $fds{$pid}, "worker $pid fds: $fds{$pid} -> $now")
        or diag(`ls -l /proc/$pid/fd`);
}

like($t->error_log, qr/lookup cancelled, client went away/,
     'cancellation logged');

###############################################################################
# reload while lookups are in flight: every one of them is answered

my $batch = [ map { "/lookup?target=host$_.example.com" } 1 .. 40 ];
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    sleep 0.15;
    kill 'HUP', $t->master_pid;
    exit 0;
}

my $res = $t->parallel_get($batch, 40, timeout => 20);
waitpid($pid, 0);

is(scalar(grep { $_->{status} == 200 } @$res), 40,
   'reload under 40 lookups: all answered 200');
is(scalar(grep {
    my $d = OsintTest::decode_json_or_undef($_->{body});
    $d && $d->{providers}{slow}{status} eq 'ok'
       && $d->{providers}{fast}{status} eq 'ok'
} @$res), 40, 'reload: every document complete');

ok($t->wait_until(sub {
    !grep { kill 0, $_ } @workers
}, 10), 'old workers exited after their lookups');

my @new = $t->worker_pids;
is(scalar @new, 2, 'two new workers');

my ($status) = $t->get_json('/lookup?target=example.com');
is($status, 200, 'lookups after reload');

###############################################################################
# graceful stop: a lookup in flight still gets its answer

$pid = fork // die "fork: $!";
if ($pid == 0) {
    sleep 0.15;
    kill 'QUIT', $t->master_pid;
    exit 0;
}

my $t0 = time;
$res = $t->get('/lookup?target=example.net');
waitpid($pid, 0);

is($res->{status}, 200, 'lookup in flight during graceful stop answered');
# the master is our child: reaped, not merely signalled
my $master = $t->master_pid;
ok($t->wait_until(sub { waitpid($master, WNOHANG) == $master }, 10),
   'nginx exited after the lookup');

$t->done_testing;
