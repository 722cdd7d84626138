#!/usr/bin/perl

# Redis Sentinel and Redis 6 ACL users for osint_redis
# (src/ngx_http_osint_redis.c, src/ngx_http_osint_redis_sentinel.c).
#
# Part 1: bad sentinel= lines are refused at `nginx -t` in nginx's words,
# no password echoed.
#
# Part 2: a real Sentinel setup on loopback: one master, one replica, three
# sentinels (redis-server --sentinel, Debian's redis-sentinel; they ask
# for a password, sentinel_password=).  nginx with 2 workers finds the
# master through them and caches there.  Three ways a master goes:
# - it hangs (SIGSTOP) and nothing is asked of it: the sentinels promote
#   the replica and +switch-master alone moves both workers;
# - it is killed (SIGKILL by PID) under a stream of lookups: the workers
#   lose the connection, ask the sentinels again until they name the
#   promoted replica, and write there within seconds, while every lookup
#   meanwhile is answered 200 (L1 and providers carry them);
# - it turns replica behind the sentinels' back: -READONLY drops it and
#   ROLE refuses it until it is a master again.
# Each failover is counted once in osint_redis_failovers_total and logged
# once per node.
#
# Part 3: an ACL user (`user osint on >secret ~osint:* +@all` minus what
# the module does not need): username= password= works, a wrong password
# is logged without it and lookups are still answered.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);

use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

plan(skip_all => 'redis-server not installed') unless OsintTest::have_redis();

my $T0 = time;

my $SPW   = 'spw-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 16);
my $ACLPW = 'acl-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 16);
my $WRONG = 'wrong-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 16);

my $t  = OsintTest->new(workers => 2);
my $fx = $t->fixture;

$t->env(OSINT_T_SPW => $SPW, OSINT_T_ACLPW => $ACLPW,
        OSINT_T_WRONG => $WRONG);

# the commands a least-privilege user needs (README: "Redis ACL")
my $ACL = '+mget +set +eval +evalsha +ping +select +role';

###############################################################################
# helpers

sub conf {
    my ($redis) = @_;
    return <<"EOF";
    osint_zone 8m;
    osint_deadline 5s;
    $redis

    osint_provider a {
        types ip;
        url "http://127.0.0.1:%%FX0%%/a/\$osint_target";
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF
}

sub conf_fails { $t->conf_fails(@_) }
sub log_lines  { $t->log_lines(@_) }
sub log_pids   { OsintTest::log_pids(@_) }

sub up_re {
    my ($name) = @_;
    return qr/\[notice\] \d+#\d+: osint: redis \Q$name\E is up$/;
}

sub workers { join ' ', $t->worker_pids }

# a lookup of a target never seen: its key in $redis afterwards (bounded)
my $seq = 0;
sub fresh_key {
    my ($redis) = @_;
    my $ip = '198.18.' . int(++$seq / 250) . '.' . ($seq % 250 + 1);
    my $res = $t->get("/lookup?target=$ip");
    return 0 unless $res->{status} == 200;
    return $t->wait_until(sub {
        my $keys = eval { $redis->cmd('KEYS', "osint:a:$ip") };
        return ref $keys && @$keys == 1;
    }, 3, 0.05);
}

sub metric {
    my ($name) = @_;
    my $text = $t->get('/status')->{content} // '';
    return $text =~ /^\Q$name\E (\S+)$/m ? $1 : undef;
}

###############################################################################
# Part 1: nginx -t

my $S = 'sentinel=127.0.0.1:26379,127.0.0.1:26380';

conf_fails('sentinel= without master=', conf("osint_redis $S;"),
           '"sentinel=" requires "master=" in "osint_redis"');
conf_fails('master= without sentinel=',
           conf('osint_redis 127.0.0.1:6379 master=m;'),
           '"master=" requires "sentinel=" in "osint_redis"');
conf_fails('an address and sentinel= both',
           conf("osint_redis 127.0.0.1:6379 $S master=m;"),
           'an address and "sentinel=" both in "osint_redis"');
conf_fails('a bad sentinel port',
           conf('osint_redis sentinel=127.0.0.1:26379,127.0.0.1:99999 '
                . 'master=m;'),
           'invalid port in "127.0.0.1:99999" of "osint_redis"');
conf_fails('an empty sentinel address',
           conf('osint_redis sentinel=127.0.0.1:26379,,127.0.0.1:1 '
                . 'master=m;'),
           'empty address in "sentinel=" of "osint_redis"');
conf_fails('a unix socket for a sentinel',
           conf('osint_redis sentinel=unix:/tmp/s.sock master=m;'),
           'invalid sentinel address "unix:/tmp/s.sock" in "osint_redis"');
conf_fails('a bad master name', conf("osint_redis $S master=a/b;"),
           'invalid master "master=a/b" in "osint_redis"');
conf_fails('username= without password=',
           conf('osint_redis 127.0.0.1:6379 username=osint;'),
           '"username=" requires "password=" in "osint_redis"');
conf_fails('sentinel_password= without sentinel=',
           conf('osint_redis 127.0.0.1:6379 '
                . 'sentinel_password=env:OSINT_T_SPW;'),
           '"sentinel_password=" requires "sentinel=" in "osint_redis"');
my $out = conf_fails('a sentinel password in clear is refused',
                     conf("osint_redis $S master=m "
                          . 'sentinel_password=hunter2secret;'),
                     'invalid sentinel_password in "osint_redis": '
                     . 'expected "sentinel_password=env:NAME"');
unlike($out, qr/hunter2secret/, 'the password in clear is not echoed');

$t->write_conf(conf("osint_redis $S master=m-1.x username=osint "
                    . 'password=env:OSINT_T_ACLPW '
                    . 'sentinel_password=env:OSINT_T_SPW timeout=200ms;'));
my ($rc, $tout) = $t->nginx_test;
is($rc, 0, 'the full sentinel form is accepted') or diag $tout;
unlike($tout, qr/\Q$SPW\E|\Q$ACLPW\E/, 'nginx -t shows no password');

###############################################################################
# Part 2: a master, a replica, three sentinels

my $master  = $t->redis;
my $replica = $t->redis(args => ['--replicaof', '127.0.0.1', $master->port]);
my $mport   = $master->port;
my $dir     = $t->testdir;

my @sentinels;
for my $i (1 .. 3) {
    my $port = OsintTest::free_port();
    my $file = "$dir/sentinel-$port.conf";
    OsintTest::_write_file($file, <<"EOF");
sentinel monitor m1 127.0.0.1 $mport 2
sentinel down-after-milliseconds m1 1000
sentinel failover-timeout m1 2000
sentinel parallel-syncs m1 1
requirepass $SPW
EOF
    push @sentinels, $t->redis(port => $port, conf => $file,
                               args => ['--sentinel'], password => $SPW);
}

# the sentinels know each other and the replica (bounded)
ok($t->wait_until(sub {
    for my $s (@sentinels) {
        my $peers = eval { $s->cmd('SENTINEL', 'sentinels', 'm1') };
        my $reps  = eval { $s->cmd('SENTINEL', 'replicas', 'm1') };
        return 0 unless ref $peers && @$peers == 2 && ref $reps
                        && @$reps == 1;
    }
    return 1;
}, 20, 0.2), 'three sentinels know each other and the replica');

my $slist = join ',', map { '127.0.0.1:' . $_->port } @sentinels;

$t->write_conf(conf("osint_redis sentinel=$slist master=m1 "
                    . 'sentinel_password=env:OSINT_T_SPW timeout=200ms;'));
$t->run;

my ($A, $B) = ($master, $replica);
my $at_a = "m1 (127.0.0.1:" . $A->port . ')';
my $at_b = "m1 (127.0.0.1:" . $B->port . ')';

ok($t->wait_until(sub { log_lines(up_re($at_a)) >= 2 }, 10),
   'both workers found the master through the sentinels')
    or diag $t->error_log;
is(log_pids(log_lines(up_re($at_a))), workers(), 'one notice per worker');
ok(fresh_key($A), 'a lookup wrote its key to the master');
is(metric('osint_redis_failovers_total'), '0', 'no failover yet');

my $subs = 0;
for my $s (@sentinels) {
    $subs += grep { ($_->{sub} // 0) > 0 } eval { $s->clients };
}
is($subs, 2, 'one +switch-master subscription per worker');

# --- failover 1: the master hangs (SIGSTOP), nothing is asked of it, so
# only +switch-master can tell the workers

my $mark = $t->log_mark;
kill 'STOP', $A->pid;
my $t1 = time;

ok($t->wait_until(sub { log_lines(up_re($at_b), $mark) >= 2 }, 20),
   '+switch-master: both workers moved to the promoted replica')
    or diag $t->error_log($mark), explain [ map {
        scalar eval { $_->cmd('SENTINEL', 'get-master-addr-by-name', 'm1') }
    } @sentinels ];
diag sprintf('failover 1: %.1f s', time - $t1);
is(scalar(log_lines(qr/osint: redis \Q$at_a\E is down: \+switch-master to /
                    . qr/127\.0\.0\.1:\d+$/, $mark)), 2,
   'each worker dropped the old master on +switch-master');
ok(fresh_key($B), 'a lookup wrote its key to the new master');
is(metric('osint_redis_failovers_total'), '1', 'one failover counted');

kill 'CONT', $A->pid;

# the old master comes back as a replica of the new one (told so at once:
# the sentinels would wait 8 s), known as such to the sentinels
is($A->cmd('REPLICAOF', '127.0.0.1', $B->port), 'OK',
   'the old master replicates the new one');
my $state = '';
ok($t->wait_until(sub {
    my $role = eval { $A->cmd('ROLE') };
    $state = 'ROLE ' . join(' ', map { $_ // '' }
                                 ref $role ? @$role[0 .. 3] : ('?'));
    return 0 unless ref $role && $role->[0] eq 'slave'
                    && ($role->[3] // '') eq 'connected';
    for my $s (@sentinels) {
        my $reps = eval { $s->cmd('SENTINEL', 'replicas', 'm1') };
        return 0 unless ref $reps && @$reps == 1;
        my %f = @{$reps->[0]};
        $state = "sentinel: $f{flags}";
        return 0 unless $f{flags} eq 'slave';
    }
    return 1;
}, 20, 0.2), 'the old master is a replica of the new one')
    or diag $state;

# --- failover 2: the master is killed (SIGKILL) under a stream of
# lookups: fresh targets (providers) and one seen before (L1), a few every
# 100 ms, bounded in count and time

my (@statuses, $killed, $found_new);
$mark = $t->log_mark;
my $stream_end = time + 25;

for my $round (1 .. 250) {
    last if time > $stream_end;

    my $res = $t->parallel_get(
        [ '/lookup?target=198.51.100.' . ($round % 250 + 1),
          '/lookup?target=198.18.0.1' ], 2, timeout => 10);
    push @statuses, map { $_->{status} } @$res;

    if ($round == 5) {
        $B->kill9;
        $killed = time;
    }

    if ($killed && !$found_new && log_lines(up_re($at_a), $mark) >= 2) {
        $found_new = time;
        diag sprintf('failover 2: both workers on the new master %.1f s '
                     . 'after the kill', $found_new - $killed);
        $stream_end = time + 1;       # a few more rounds on the new master
    }

    sleep 0.1;
}

ok($found_new, 'both workers connected to the promoted replica')
    or diag $t->error_log($mark);
ok($found_new && $found_new - $killed < 20,
   'within 20 s of the kill (down-after 1 s + election + promotion)');
is(log_pids(log_lines(up_re($at_a), $mark)), workers(),
   'one notice per worker for the new master');
is(scalar(grep { $_ != 200 } @statuses), 0,
   'no lookup failed during the failover (' . scalar(@statuses) . ')')
    or diag explain \@statuses;

my $fresh = 0;
$fresh += fresh_key($A) for 1 .. 6;
is($fresh, 6, 'fresh lookups (both workers) write their keys to the new '
              . 'master');
is(metric('osint_redis_failovers_total'), '2',
   'osint_redis_failovers_total counts each failover once');
is(scalar(log_lines(qr/osint: redis sentinel master "m1" is now /)), 2,
   'each change of master is logged once')
    or diag $t->error_log;

# --- the master turns replica behind the sentinels' back (REPLICAOF a
# dead port): a SET's -READONLY drops it, ROLE refuses it, lookups go on;
# REPLICAOF NO ONE and the workers are back

sub role_calls {
    my $info = $A->cmd('INFO', 'commandstats') // '';
    return $info =~ /^cmdstat_role:calls=(\d+)/m ? $1 : 0;
}

$mark = $t->log_mark;
my $roles = role_calls();
is($A->cmd('REPLICAOF', '127.0.0.1', OsintTest::free_port()), 'OK',
   'the master made a replica');

my ($asked, $ok) = (0, 0);
for my $i (1 .. 20) {
    $asked++;
    $ok++ if $t->get("/lookup?target=198.19.0.$i")->{status} == 200;
    last if log_lines(qr/ is down: READONLY /, $mark) >= 2;
    sleep 0.05;
}
is($ok, $asked, "lookups answered meanwhile ($asked)");
is(log_pids(log_lines(qr/osint: redis \Q$at_a\E is down: READONLY /,
                      $mark)), workers(),
   '-READONLY: each worker dropped the connection')
    or diag $t->error_log($mark);

# the sentinels still name it (the log says "down" once): asked again,
# ROLE refuses it, and no worker comes up
ok($t->wait_until(sub { role_calls() > $roles }, 5),
   'the workers asked the sentinels again and sent ROLE');
sleep 0.5;
is(scalar(log_lines(qr/ is up$/, $mark)), 0, 'ROLE "slave": not up');

$mark = $t->log_mark;
is($A->cmd('REPLICAOF', 'NO', 'ONE'), 'OK', 'a master again');
ok($t->wait_until(sub { fresh_key($A) }, 10),
   'the workers write to it again')
    or diag $t->error_log($mark);

unlike($t->error_log, qr/\Q$SPW\E/, 'no sentinel password in error.log');
unlike(join('', map { $t->get("/status$_")->{content} // '' }
                   '', '?format=json', '?format=html'),
       qr/\Q$SPW\E/, 'nor in the status (text, JSON, HTML)');
like($t->get('/status?format=json')->{content}, qr/"failovers":\s*2\b/,
     'redis.failovers in the JSON status');

$t->stop_nginx;

###############################################################################
# Part 3: a Redis 6 ACL user

my $acl = $t->redis(args => ['--user', 'osint', 'on', ">$ACLPW",
                             '~osint:*', '-@all', split / /, $ACL]);
my $aname = '127.0.0.1:' . $acl->port;

$t->write_conf(conf("osint_redis $aname username=osint "
                    . 'password=env:OSINT_T_ACLPW;'));
$t->run;

ok($t->wait_until(sub { log_lines(up_re($aname)) >= 2 }, 10),
   'AUTH osint <password>: both workers up')
    or diag $t->error_log;
ok(fresh_key($acl), 'the ACL user writes its keys');
my $stats = $acl->cmd('INFO', 'commandstats') // '';
my ($mgets, $refused) =
    $stats =~ /^cmdstat_mget:calls=(\d+)\S*?rejected_calls=(\d+)/m;
ok(($mgets // 0) >= 1 && defined $refused && $refused == 0,
   'and reads them: MGET allowed')
    or diag $stats;
my $who = join ' ', sort map { $_->{user} // '?' } $acl->clients;
is($who, 'osint osint', 'both connections are the user "osint"');

$mark = $t->log_mark;
$t->write_conf(conf("osint_redis $aname username=osint "
                    . 'password=env:OSINT_T_WRONG;'));
$t->reload(wait_old => 1);

ok($t->wait_until(sub {
    log_lines(qr/osint: redis \Q$aname\E is down: AUTH failed: WRONGPASS/,
              $mark) >= 2 }, 15),
   'a wrong password: down, the reply logged')
    or diag $t->error_log($mark);
is($t->get('/lookup?target=192.0.2.77')->{status}, 200,
   'lookups are still answered');
unlike($t->error_log, qr/\Q$ACLPW\E|\Q$WRONG\E/,
       'no ACL password in error.log');
unlike(join('', map { $t->get("/status$_")->{content} // '' }
                   '', '?format=json', '?format=html'),
       qr/\Q$ACLPW\E|\Q$WRONG\E/, 'nor in the status');

$t->stop_nginx;

cmp_ok(time - $T0, '<', 60, 'the whole test took less than 60 s');

$t->done_testing;
