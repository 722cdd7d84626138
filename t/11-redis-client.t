#!/usr/bin/perl

# The Redis L2 client (src/ngx_http_osint_redis.c).
#
# Part 1: osint_redis at `nginx -t`: every bad form is refused in nginx's
# words, a password is never echoed.
#
# Part 2: one connection per worker to a real redis-server: Redis down at
# start is one warning per worker and never fatal, it comes up by itself
# (backoff), a crash (kill -9) and a restart, a reload, a unix socket with
# SELECT, AUTH with the password from the environment (never logged), a
# wrong or missing password, a server that accepts and never answers.
#
# Part 3: lookups through Redis: a miss stores a readable key, the next
# lookup is served from Redis; a Redis that hangs (SIGSTOP) costs each
# lookup at most `timeout`, then none, and comes back after SIGCONT.
#
# Part 4: the GETs a worker asks for in one turn of its event loop go as
# one MGET; a key of another type is a miss.
#
# Part 5: a command larger than the socket takes waits for room.
#
# CLIENT LIST (through the harness's own RESP client) counts the
# connections; the harness checks error.log for alerts and "open socket"
# after every stop.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use IO::Socket::IP;
use POSIX ();

use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

plan(skip_all => 'redis-server not installed') unless OsintTest::have_redis();

# The password must never reach error.log or nginx -t's output.
my $PW = 'pw-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 16);
my $WRONG = 'wrong-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 16);

my $t  = OsintTest->new(workers => 2);
my $fx = $t->fixture;

$t->env(REDIS_PASSWORD => $PW, OSINT_T_WRONG_PW => $WRONG,
        OSINT_T_UNSET_PW => undef);

###############################################################################
# helpers

# conf($osint_redis_line, %opt) -> http{} body with one provider "a" on the
# fixture and a server with /lookup and /ok.  opt: extra => more http lines
sub conf {
    my ($redis, %o) = @_;
    my $extra = $o{extra} // '';
    return <<"EOF";
    osint_zone 8m;
    osint_deadline 5s;
    $redis
    $extra

    osint_provider a {
        types ip;
        url "http://127.0.0.1:%%FX0%%/a/\$osint_target";
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /ok { return 200 "ok\\n"; }
    }
EOF
}

# conf_fails($name, $http_body, $message): nginx -t fails with
# "[emerg] $message in <file>:<line>" ($message literal)
sub conf_fails {
    my ($name, $conf, $message) = @_;
    $t->write_conf($conf);
    my ($rc, $out) = $t->nginx_test;
    ok($rc != 0 && index($out, "[emerg] $message in ") >= 0, $name)
        or diag "exit $rc, expected [emerg] $message\n$out";
    return $out;
}

# lines of error.log (from $mark) matching $re
sub log_lines {
    my ($re, $mark) = @_;
    return grep { $_ =~ $re } split /\n/, $t->error_log($mark // 0);
}

# the PIDs that logged those lines, sorted, distinct
sub log_pids {
    my %pid = map { /\d\d:\d\d:\d\d \[\w+\] (\d+)#/ ? ($1 => 1) : () } @_;
    return join ' ', sort { $a <=> $b } keys %pid;
}

# wait (bounded) until $n lines match $re
sub wait_lines {
    my ($re, $n, $timeout, $mark) = @_;
    return $t->wait_until(sub { log_lines($re, $mark) >= $n }, $timeout);
}

sub down_re {
    my ($name, $reason) = @_;
    $reason //= qr/.*/;
    return qr/\[warn\] \d+#\d+: osint: redis \Q$name\E is down: $reason$/;
}

sub up_re {
    my ($name) = @_;
    return qr/\[notice\] \d+#\d+: osint: redis \Q$name\E is up$/;
}

# wait (bounded) until $redis has exactly $n clients other than us
# each worker: its connection, and one subscribed to the purges (sub=1)
sub main_clients { grep { ($_->{sub} // 0) == 0 } $_[0]->clients }

sub wait_clients {
    my ($redis, $n, $timeout) = @_;
    my $ok = $t->wait_until(sub {
        my @c = eval { $redis->clients };
        my $subs = grep { ($_->{sub} // 0) == 1 } @c;
        return @c == 2 * $n && $subs == $n;
    }, $timeout // 5, 0.05);
    return $ok;
}

sub workers { join ' ', $t->worker_pids }

###############################################################################
# Part 1: nginx -t

my $line = 'osint_redis 127.0.0.1:6379';

conf_fails('no address', conf('osint_redis;'),
           'invalid number of arguments in "osint_redis" directive');
conf_fails('bad port', conf('osint_redis 127.0.0.1:70000;'),
           'invalid port in "127.0.0.1:70000" of "osint_redis"');
conf_fails('a path after the address',
           conf('osint_redis 127.0.0.1:6379/x;'),
           'invalid host in "127.0.0.1:6379/x" of "osint_redis"');
conf_fails('empty unix socket', conf('osint_redis unix:;'),
           'invalid unix socket "unix:" in "osint_redis"');
conf_fails('unknown parameter', conf("$line db=1 bogus=1;"),
           'invalid parameter "bogus=***" in "osint_redis"');
conf_fails('bad timeout', conf("$line timeout=fast;"),
           'invalid timeout "timeout=fast" in "osint_redis"');
conf_fails('zero timeout', conf("$line timeout=0;"),
           'invalid timeout "timeout=0" in "osint_redis"');
conf_fails('bad db', conf("$line db=-1;"),
           'invalid db "db=-1" in "osint_redis"');
conf_fails('unset password variable',
           conf("$line password=env:OSINT_T_UNSET_PW;"),
           'environment variable "OSINT_T_UNSET_PW" of the password in '
           . '"osint_redis" is not set or empty');

my $out = conf_fails('a password in clear is refused',
                     conf("$line password=hunter2secret;"),
                     'invalid password in "osint_redis": expected '
                     . '"password=env:NAME"');
unlike($out, qr/hunter2secret/, 'the password in clear is not echoed');

conf_fails('duplicate', conf("$line;\n    $line;"),
           '"osint_redis" directive is duplicate');
conf_fails('not in server{}', conf('') =~ s/(server \{)/$1\n        $line;/r,
           '"osint_redis" directive is not allowed here');

$t->write_conf(conf('osint_redis localhost db=2 timeout=250ms prefix=x: '
                    . 'password=env:REDIS_PASSWORD;'));
my ($rc, $tout) = $t->nginx_test;
is($rc, 0, 'full form accepted (name resolved at configuration)')
    or diag $tout;
unlike($tout, qr/\Q$PW\E/, 'nginx -t does not show the password');

###############################################################################
# Part 2: Redis down at start, then up

my $rport = OsintTest::free_port();
my $name  = "127.0.0.1:$rport";

$t->write_conf(conf("osint_redis $name timeout=200ms;"));
$t->run;

ok(wait_lines(down_re($name, 'Connection refused'), 2, 5),
   'Redis down at start: a warning')
    or diag $t->error_log;
is(log_pids(log_lines(down_re($name))), workers(),
   'one warning from each worker');

sleep 1.0;      # several attempts: 100, 200, 400 ms
is(scalar log_lines(down_re($name)), 2, 'retries are not logged again');
is($t->get('/ok')->{status}, 200, 'nginx serves while Redis is down');

my $res = $t->get('/lookup?target=192.0.2.1');
is($res->{status}, 200, 'a lookup works while Redis is down');
cmp_ok($res->{elapsed_ms}, '<', 1000, 'without waiting for Redis');

my $redis = $t->redis(port => $rport);

ok(wait_lines(up_re($name), 2, 10), 'Redis started: up (backoff reconnect)')
    or diag $t->error_log;
is(log_pids(log_lines(up_re($name))), workers(), 'one notice per worker');
ok(wait_clients($redis, 2), 'CLIENT LIST: one connection per worker')
    or diag explain [ $redis->clients ];

###############################################################################
# kill -9, restart

my $mark = $t->log_mark;
$redis->kill9;

# FIN, or RST when the kernel still held unread bytes
my $gone = qr/Server closed the connection|Connection reset by peer/;
ok(wait_lines(down_re($name, $gone), 2, 15, $mark), 'kill -9: down')
    or diag $t->error_log($mark);
is(log_pids(log_lines(down_re($name), $mark)), workers(),
   'down once from each worker');

sleep 0.5;
$redis->start;

ok(wait_lines(up_re($name), 2, 12, $mark), 'restarted: up again')
    or diag $t->error_log($mark);
is(scalar log_lines(down_re($name), $mark), 2,
   'reconnect attempts while down were not logged');
ok(wait_clients($redis, 2), 'CLIENT LIST: 2 connections again')
    or diag explain [ $redis->clients ];

###############################################################################
# reload: the old workers leave (their timers are cancelable), the new
# ones connect

my @old = $t->worker_pids;
$mark = $t->log_mark;
my @new = eval { $t->reload(wait_old => 1) };
is(scalar @new, 2, 'reload: new workers, old ones gone') or diag $@;
ok(wait_lines(up_re($name), 2, 15, $mark), 'new workers up');
ok(wait_clients($redis, 2), 'CLIENT LIST: still exactly 2 connections')
    or diag explain [ $redis->clients ];

###############################################################################
# unix socket, SELECT

my $ured = $t->redis(unix => 1);
my $uname = 'unix:' . $ured->unix_socket;

$mark = $t->log_mark;
$t->write_conf(conf("osint_redis $uname db=3;"));
$t->reload(wait_old => 1);

ok(wait_lines(up_re($uname), 2, 15, $mark), 'unix socket: up')
    or diag $t->error_log($mark);
ok(wait_clients($ured, 2), 'unix socket: 2 connections');
is(join(',', map { $_->{db} } main_clients($ured)), '3,3', 'both on db 3');
ok(wait_clients($redis, 0), 'the old Redis lost its connections');

###############################################################################
# IPv6: hiredis gets the literal without brackets

SKIP: {
    skip 'no IPv6 loopback', 3
        unless IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
                                   Listen => 1);

    my $v6 = $t->redis(ipv6 => 1);
    my $v6name = '[::1]:' . $v6->port;

    $mark = $t->log_mark;
    $t->write_conf(conf("osint_redis $v6name;"));
    $t->reload(wait_old => 1);

    ok(wait_lines(up_re($v6name), 2, 15, $mark), 'IPv6: up')
        or diag $t->error_log($mark);
    ok(wait_clients($v6, 2), 'IPv6: 2 connections');
    is(scalar(grep { $_->{addr} =~ /^\[?::1\]?:/ } $v6->clients), 4,
       'all 4 (2 a worker) from ::1');
    $v6->stop;
}

###############################################################################
# AUTH

my $pred = $t->redis(password => $PW);
my $pname = '127.0.0.1:' . $pred->port;

$mark = $t->log_mark;
$t->write_conf(conf("osint_redis $pname password=env:REDIS_PASSWORD;"));
$t->reload(wait_old => 1);

ok(wait_lines(up_re($pname), 2, 15, $mark), 'AUTH with the password: up')
    or diag $t->error_log($mark);
ok(wait_clients($pred, 2), 'AUTH: 2 connections');

$mark = $t->log_mark;
$t->write_conf(conf("osint_redis $pname password=env:OSINT_T_WRONG_PW;"));
$t->reload(wait_old => 1);

ok(wait_lines(down_re($pname, qr/AUTH failed: \S.*/), 2, 15, $mark),
   'a wrong password: down, AUTH failed')
    or diag $t->error_log($mark);
is($t->get('/ok')->{status}, 200, 'nginx serves');

$mark = $t->log_mark;
$t->write_conf(conf("osint_redis $pname;"));
$t->reload(wait_old => 1);

ok(wait_lines(down_re($pname, qr/PING failed: NOAUTH.*/), 2, 15, $mark),
   'no password for a Redis that wants one: down, NOAUTH')
    or diag $t->error_log($mark);

unlike($t->error_log, qr/\Q$PW\E|\Q$WRONG\E/,
       'no password in error.log');

###############################################################################
# a server that accepts and never answers

my $bh = $t->blackhole;
my $bname = '127.0.0.1:' . $bh->port;

$mark = $t->log_mark;
$t->write_conf(conf("osint_redis $bname password=env:REDIS_PASSWORD "
                    . "timeout=200ms;"));
$t->reload(wait_old => 1);

ok(wait_lines(down_re($bname,
                      qr/no answer to the handshake within 200 ms/),
              2, 5, $mark), 'blackhole: down after the handshake timeout')
    or diag $t->error_log($mark);

$res = $t->get('/ok');
ok($res->{status} == 200 && $res->{elapsed_ms} < 500, 'nginx serves at once');
$res = $t->get('/lookup?target=192.0.2.2');
ok($res->{status} == 200 && $res->{elapsed_ms} < 500,
   'a lookup does not wait for the blackhole')
    or diag "$res->{status} in $res->{elapsed_ms} ms";

sleep 1.5;
is(scalar log_lines(down_re($bname), $mark), 2,
   'further attempts (backoff) are not logged');

###############################################################################
# Part 3: lookups through Redis (L1 off: every lookup asks Redis)

$redis->cmd('FLUSHALL');

$mark = $t->log_mark;
$t->write_conf(conf("osint_redis $name timeout=500ms;",
                    extra => 'osint_cache_l1 off;'));
$t->reload(wait_old => 1);
ok(wait_lines(up_re($name), 2, 15, $mark), 'back on the first Redis');

$fx->reset;

my ($status, $doc) = $t->get_json('/lookup?target=198.51.100.7');
is($status, 200, 'lookup');
is($doc->{providers}{a}{cache}, 'miss', 'first lookup: miss');

my $key = 'osint:a:198.51.100.7';
my $stored;
$t->wait_until(sub { $stored = $redis->cmd('GET', $key); defined $stored },
               3);
my $val = OsintTest::decode_json_or_undef($stored);
ok($val && $val->{status} eq 'ok'
   && $val->{data}{target} eq '198.51.100.7',
   "redis-cli GET $key: a readable answer")
    or diag explain $stored;
cmp_ok($redis->cmd('TTL', $key), '>', 0, 'the key expires');

for my $i (1 .. 4) {
    ($status, $doc) = $t->get_json('/lookup?target=198.51.100.7');
    last unless $doc && $doc->{providers}{a}{cache} eq 'redis';
}
is($doc->{providers}{a}{cache}, 'redis', 'next lookups: from Redis');
is($doc->{providers}{a}{data}{target}, '198.51.100.7', 'with the data');
is($fx->calls_for('/a/198.51.100.7'), 1, 'the provider was called once');

###############################################################################
# a Redis that hangs: each lookup pays at most the timeout, then nothing

$mark = $t->log_mark;
kill 'STOP', $redis->pid;

# rounds of 4 parallel lookups until both workers gave the connection up
my ($round, @took) = (0);
until (log_lines(down_re($name), $mark) >= 2 || $round >= 20) {
    $round++;
    my $r = $t->parallel_get([ map { "/lookup?target=203.0.113.$_" }
                               map { $round * 4 + $_ } 0 .. 3 ], 4);
    push @took, map { int($_->{elapsed_ms} // 9999) } @$r;
}

my $hung = join '|', '\d+ commands in a row timed out after 500 ms',
                     'a reply is overdue by \d+ ms';
is(scalar log_lines(down_re($name, qr/(?:$hung)/), $mark), 2,
   'hung Redis: down in each worker')
    or diag $t->error_log($mark);
cmp_ok((sort { $b <=> $a } @took)[0], '<', 1500,
       'no lookup waited much more than the timeout (500 ms)')
    or diag "@took";

@took = ();
for my $i (1 .. 5) {
    $res = $t->get("/lookup?target=192.0.2.1$i");
    push @took, int $res->{elapsed_ms};
}
cmp_ok((sort { $b <=> $a } @took)[0], '<', 400,
       'then lookups do not wait for Redis at all')
    or diag "@took";

$mark = $t->log_mark;
kill 'CONT', $redis->pid;

ok(wait_lines(up_re($name), 2, 12, $mark), 'SIGCONT: up again')
    or diag $t->error_log($mark);
ok(wait_clients($redis, 2), 'CLIENT LIST: 2 connections');

($status, $doc) = $t->get_json('/lookup?target=198.51.100.7');
is($doc->{providers}{a}{cache}, 'redis', 'served from Redis again');

###############################################################################
# Part 4: the GETs of one turn of a worker's event loop go as one MGET
# (INFO commandstats counts what Redis was sent)

# calls=N of "cmdstat_<name>" in INFO commandstats, 0 when never called
sub calls {
    my ($name) = @_;
    my $info = $redis->cmd('INFO', 'commandstats') // '';
    return $info =~ /^cmdstat_\Q$name\E:calls=(\d+)/m ? $1 : 0;
}

my $three = join "\n", map { <<"EOF" } qw(b c);
    osint_provider $_ {
        types ip;
        url "http://127.0.0.1:%%FX0%%/$_/\$osint_target";
    }
EOF

$mark = $t->log_mark;
$t->write_conf(conf("osint_redis $name timeout=500ms;",
                    extra => "osint_cache_l1 off;\n$three"));
$t->reload(wait_old => 1);
ok(wait_lines(up_re($name), 2, 15, $mark), 'three providers: up');

my @ips = map { "198.51.100.$_" } 20 .. 27;
for my $ip (@ips) {
    ($status, $doc) = $t->get_json("/lookup?target=$ip");
    is(join(',', map { $doc->{providers}{$_}{cache} } qw(a b c)),
       'miss,miss,miss', "$ip: three misses");
}
$t->wait_until(sub { ($redis->cmd('DBSIZE') // 0) >= 1 + 3 * @ips }, 3);

$redis->cmd('CONFIG', 'RESETSTAT');
($status, $doc) = $t->get_json("/lookup?target=$ips[0]");
is(join(',', map { $doc->{providers}{$_}{cache} } qw(a b c)),
   'redis,redis,redis', 'one lookup of three providers: three Redis hits');
is(calls('mget') . ' ' . calls('get'), '1 0',
   'asked in one MGET, no GET');

# a key of another type is a miss (MGET says nil), not an error
$redis->cmd('DEL', "osint:b:$ips[1]");
$redis->cmd('RPUSH', "osint:b:$ips[1]", 'not a value');
($status, $doc) = $t->get_json("/lookup?target=$ips[1]");
is(join(',', map { $doc->{providers}{$_}{cache} // '' } qw(a b c)) . " "
   . ($doc->{providers}{b}{status} // ''),
   'redis,miss,redis ok', 'a list at a key: that provider is asked');

# lookups at once: every answer from Redis, in fewer MGETs than lookups,
# the answers of each in their places
$redis->cmd('CONFIG', 'RESETSTAT');
my $r = $t->parallel_get([ map { "/lookup?target=$_" } @ips[2 .. 7] ], 6);
my @wrong = grep {
    my $d = OsintTest::decode_json_or_undef($_->{body}) // {};
    my $ip = $d->{target} // '';
    $ip !~ /^198\.51\.100\.2[2-7]\z/
    || grep { ($d->{providers}{$_}{cache} // '') ne 'redis'
              || ($d->{providers}{$_}{data}{target} // '') ne $ip } qw(a b c)
} @$r;
is(scalar @$r . ' ' . scalar @wrong, '6 0',
   '6 lookups at once: each its own three answers')
    or diag explain \@wrong;
cmp_ok(calls('mget'), '<=', 6, 'in at most one MGET a lookup');
is(calls('get'), 0, 'no GET');

###############################################################################
# Part 5: commands are written at the end of a turn, without asking epoll;
# one larger than the socket takes (Redis stopped: 20 MB against the ~10
# MB of loopback's buffers) waits for epoll to say there is room, and is
# written whole as Redis reads again

$mark = $t->log_mark;
$t->write_conf(conf("osint_redis $name timeout=5s write_buffer=64m;",
                    extra => <<"EOF"));
    osint_cache_l1 off;
    osint_max_body 32m;
    osint_provider h {
        types ip;
        url "http://127.0.0.1:%%FX0%%/h/\$osint_target?fault=huge&size=20000000&delay=700";
    }
EOF
$t->reload(wait_old => 1);
ok(wait_lines(up_re($name), 2, 15, $mark), 'a large answer: up');

my $hkey = 'osint:h:198.51.100.40';
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    $t->get('/lookup?target=198.51.100.40&providers=h');
    POSIX::_exit(0);
}

sleep 0.35;                     # the MGET answered, the provider not yet
kill 'STOP', $redis->pid;
waitpid($pid, 0);               # answered: its SET is being written
sleep 0.3;
kill 'CONT', $redis->pid;

my $len = 0;
$t->wait_until(sub { $len = $redis->cmd('STRLEN', $hkey) // 0;
                     $len > 20_000_000 }, 5);
cmp_ok($len, '>', 20_000_000, 'the 20 MB SET reached Redis whole');
is(scalar log_lines(down_re($name), $mark), 0, 'and Redis stayed up')
    or diag $t->error_log($mark);

###############################################################################

$t->done_testing;
