#!/usr/bin/perl

# Chaos and soak, bounded (about 60 s), loopback only, 2 workers.
#
# Mixed load from forked clients (cache hits, misses, refreshes, batches,
# the edge limiter, bad input, status and health) against providers that
# reset, hang, drip, send 10 MB, 100000 levels of nesting, ill-formed
# UTF-8 and a wrong Content-Type.
#
# Phase A, chaos: while the load runs, redis-server is killed (-9) and
# started again, nginx reloads every 4 s, and one worker is killed (-9).
# Every answer must be well-formed JSON (NDJSON for batches) with a
# status docs/document.md allows; a connection may only fail if it was open
# on the worker killed.  error.log: no worker died on a signal but the
# one killed; the master's respawn serves, the zone's locks were not held
# by the dead worker (lookups, the limiter and status all still work), and
# readiness follows Redis, the dead worker's connection not counted.
#
# Phase B, soak: the same load, no chaos, in rounds: the workers' fds and
# RSS do not grow from round to round, and the counters agree with what
# the fixture providers and the clients counted.

use strict;
use warnings;

use Test::More;
use HTTP::Tiny;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

plan skip_all => 'redis-server not installed' unless OsintTest->have_redis;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
# the provider that resets has a fixture of its own: libcurl retries once,
# by itself, a request on a reused connection that dies before answering,
# which the fixture would count twice
my $fx_reset = $t->fixture;
my $redis = $t->redis;
my $rport = $redis->port;

$t->write_conf(<<"EOF");
    osint_zone 16m;
    osint_cache_bypass 1;           # refresh=1, no-cache honoured here
    osint_deadline 2s;
    osint_max_body 1m;
    osint_batch_max 8;
    osint_batch_concurrency 4;
    osint_redis 127.0.0.1:$rport timeout=200ms prefix=chaos:;

    osint_limit_zone gate:1m key=\$http_x_key rate=20r/s burst=10;

    # domain targets: one that answers (cached), five that hurt
    osint_provider hit {
        types domain;
        url "http://127.0.0.1:%%FX0%%/hit/\$osint_target";
        cache_ttl 60s;
        retries 0;
        breaker off;
    }

    osint_provider huge {
        types domain;
        url "http://127.0.0.1:%%FX0%%/huge/\$osint_target?fault=huge&size=10485760";
        cache_ttl off;
        retries 0;
        breaker off;
    }

    osint_provider nested {
        types domain;
        url "http://127.0.0.1:%%FX0%%/nested/\$osint_target?fault=nested";
        cache_ttl off;
        retries 0;
        breaker off;
    }

    osint_provider badutf8 {
        types domain;
        url "http://127.0.0.1:%%FX0%%/badutf8/\$osint_target?fault=badutf8";
        cache_ttl off;
        retries 0;
        breaker off;
    }

    osint_provider plain {
        types domain;
        url "http://127.0.0.1:%%FX0%%/plain/\$osint_target?ctype=text/plain";
        cache_ttl off;
        retries 0;
        breaker off;
    }

    # ipv4 targets: one that always misses, one that resets, two that stall
    osint_provider miss {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/miss/\$osint_target";
        cache_ttl off;
        retries 0;
        breaker off;
    }

    osint_provider reset {
        types ipv4;
        url "http://127.0.0.1:%%FX1%%/reset/\$osint_target?fault=reset";
        cache_ttl off;
        retries 1 backoff=10ms;
        breaker off;
    }

    osint_provider hang {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/hang/\$osint_target?fault=hang";
        timeout 500ms;
        cache_ttl off;
        retries 0;
        breaker off;
    }

    osint_provider drip {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/drip/\$osint_target?fault=drip";
        timeout 500ms;
        cache_ttl off;
        retries 0;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /lookup  { osint_lookup; }
        location = /status  { osint_status; }
        location = /healthz { osint_health; }
        location = /gate {
            osint_limit zone=gate nodelay;
            default_type application/json;
            return 200 '{"ok":true}';
        }
    }
EOF

# nginx's master frees the zone's mutex if the worker killed held it, and
# says so: that is the recovery under test, not a fault
$t->allow_log(qr/exited on signal 9/,
              qr/shared memory zone "[^"]+" was locked by \d+/);
$t->run;

my $PORT = $t->port;

###############################################################################
# the load: forked clients, each a loop of requests until its deadline

# kinds of request, and the statuses docs/document.md allows for each
my %ALLOWED = (
    domain  => { 200 => 1 },
    ipv4    => { 200 => 1 },
    stall   => { 502 => 1 },
    batch   => { 200 => 1 },
    gate    => { 200 => 1, 429 => 1 },
    bad     => { 400 => 1 },
    refresh => { 200 => 1 },
    status  => { 200 => 1 },
    ready   => { 200 => 1, 503 => 1 },
);

my @KINDS = qw(domain ipv4 batch gate bad refresh domain stall gate status
               ready ipv4);

# request($kind, $client, $i) -> (method, path, body, headers)
sub request_for {
    my ($kind, $c, $i) = @_;
    my $n = $i % 40;

    return ('GET', "/lookup?target=d$n.chaos.example") if $kind eq 'domain';
    return ('GET', "/lookup?target=10.$c.0.$n&providers=miss,reset")
        if $kind eq 'ipv4';
    return ('GET', "/lookup?target=10.$c.1.$n&providers=hang,drip")
        if $kind eq 'stall';
    return ('GET', "/lookup?target=d$n.chaos.example&providers=hit&refresh=1")
        if $kind eq 'refresh';
    return ('GET', "/lookup?target=not%20a%20target$n") if $kind eq 'bad';
    return ('GET', '/gate', undef, { 'X-Key' => "client$c" })
        if $kind eq 'gate';
    return ('GET', '/status?format=json') if $kind eq 'status';
    return ('GET', '/healthz?ready=1') if $kind eq 'ready';

    return ('POST', '/lookup',
            encode_json({ targets => [ "b$n.chaos.example", "10.$c.2.$n",
                                       'bad target', "d$n.chaos.example",
                                       42 ] }),
            { 'Content-Type' => 'application/json' });
}

# well_formed($kind, $body) -> '' or what is wrong
sub well_formed {
    my ($kind, $body) = @_;
    my $json = JSON::PP->new->utf8;     # strict UTF-8, as clients are

    if ($kind eq 'batch') {
        my @lines = split /\n/, $body;
        return 'batch: ' . scalar(@lines) . ' lines, not 5' if @lines != 5;
        for my $l (@lines) {
            my $d = eval { $json->decode($l) };
            return "batch line not JSON: $l" unless ref $d eq 'HASH';
        }
        return '';
    }

    my $d = eval { $json->decode($body) };
    return "not JSON: " . substr($body, 0, 200) unless ref $d eq 'HASH';
    return '';
}

# start_load($seconds, $clients, $tag) -> load: forked clients, each
# making one new connection a request (no keep-alive race with a reload
# closing idle connections) until its deadline.
sub start_load {
    my ($seconds, $clients, $tag) = @_;
    my $dir = $t->testdir;
    my %pids;

    for my $c (1 .. $clients) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;

        if ($pid == 0) {
            my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 10);
            my $end = time + $seconds;
            open my $out, '>', "$dir/load-$tag-$c" or POSIX::_exit(2);
            my $i = $c;

            while (time < $end) {
                my $kind = $KINDS[$i % @KINDS];
                my ($method, $path, $body, $headers) =
                    request_for($kind, $c, $i);
                my $t0 = time;
                my $res = $http->request($method,
                    "http://127.0.0.1:$PORT$path",
                    { headers => $headers // {},
                      defined $body ? (content => $body) : () });
                my $t1 = time;
                my $bad = $res->{status} == 599 ? ''
                        : well_formed($kind, $res->{content} // '');
                $bad =~ s/[\t\n]/ /g;
                printf $out "%s\t%d\t%.3f\t%.3f\t%s\n",
                    $kind, $res->{status}, $t0, $t1, $bad;
                $i++;
            }

            close $out;
            POSIX::_exit(0);
        }

        $pids{$pid} = 1;
    }

    return { pids => \%pids, tag => $tag, clients => $clients,
             deadline => time + $seconds + 15 };
}

# finish_load($load) -> [ { kind, status, start, end, bad } ]: waits for the
# clients, bounded: any still running 15 s after their deadline is killed
# (by PID).
sub finish_load {
    my ($load) = @_;
    my $pids = $load->{pids};

    while (%$pids && time < $load->{deadline}) {
        for my $pid (keys %$pids) {
            delete $pids->{$pid} if waitpid($pid, WNOHANG) > 0;
        }
        sleep 0.05;
    }
    ok(!%$pids, "load $load->{tag}: every client finished in time");
    for my $pid (keys %$pids) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }

    my @rows;
    for my $c (1 .. $load->{clients}) {
        open my $in, '<', $t->testdir . "/load-$load->{tag}-$c" or next;
        while (my $line = <$in>) {
            chomp $line;
            my ($kind, $status, $start, $end, $bad) = split /\t/, $line, 5;
            push @rows, { kind => $kind, status => $status, start => $start,
                          end => $end, bad => $bad // '' };
        }
    }
    return \@rows;
}

# the answers: JSON, allowed statuses; connection failures only in $window
sub check_answers {
    my ($rows, $tag, $window) = @_;

    my (@bad, @failed);
    for my $r (@$rows) {
        if ($r->{status} == 599) {
            push @failed, $r;
            next;
        }
        push @bad, "$r->{kind} $r->{status}: "
                   . ($r->{bad} || 'status not allowed')
            if $r->{bad} || !$ALLOWED{$r->{kind}}{$r->{status}};
    }

    my %kinds = map { $_->{kind} => 1 } @$rows;
    ok(@$rows > 100, "$tag: " . scalar(@$rows) . ' requests made');
    is_deeply([ sort keys %kinds ], [ sort keys %ALLOWED ],
              "$tag: every kind of request made");
    is(scalar @bad, 0, "$tag: every answer well-formed, status allowed")
        or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

    my @outside = grep { !$window
                         || $_->{end} < $window->[0]
                         || $_->{start} > $window->[1] } @failed;
    is(scalar @outside, 0,
       "$tag: no connection failed but on the worker killed")
        or diag(explain([ @outside[0 .. ($#outside < 4 ? $#outside : 4)] ]));
}

# metrics() -> { "name{labels}" => value } from the Prometheus text
sub metrics {
    my $res = HTTP::Tiny->new(timeout => 5)
                        ->get("http://127.0.0.1:$PORT/status");
    my %m;
    for (split /\n/, $res->{content} // '') {
        next if /^#/;
        $m{$1} = $2 if /^(\S+)\s+(\S+)$/;
    }
    return \%m;
}

sub metric_sum {
    my ($m, $re) = @_;
    my $sum = 0;
    $sum += $m->{$_} for grep { $_ =~ $re } keys %$m;
    return $sum;
}

sub rss_kb {
    my ($pid) = @_;
    my $s = OsintTest::_read_file("/proc/$pid/status") // return undef;
    return $s =~ /^VmRSS:\s+(\d+)/m ? $1 : undef;
}

###############################################################################
# Phase A: chaos

# warm: the 40 domains in L1 and Redis
finish_load(start_load(2, 2, 'warm'));

my $mark = $t->log_mark;
my $load = start_load(24, 6, 'chaos');

# the timeline, from the start of the load
sleep 3;
$redis->kill9;
sleep 3;
$redis->start;
sleep 2;                                        # t = 8
$t->reload;
sleep 2;                                        # t = 10
my $killed = ($t->worker_pids)[0];
my $kill_at = time;
kill 'KILL', $killed;
sleep 2;                                        # t = 12
$t->reload;
sleep 4;                                        # t = 16
$t->reload;
sleep 4;                                        # t = 20
$t->reload;

my $rows = finish_load($load);
check_answers($rows, 'chaos', [ $kill_at - 0.2, $kill_at + 0.5 ]);

my $log = $t->error_log($mark);
my @signals = $log =~ /(\d+) exited on signal (\d+)/g;
is_deeply(\@signals, [ $killed, 9 ],
          'one worker died on a signal: the one killed, by SIGKILL')
    or diag(join "\n", grep { /exited on signal/ } split /\n/, $log);

is(scalar $t->worker_pids, 2, 'two workers serve after the chaos');

# the zone's locks are free: lookups, the limiter, status, all at once
{
    my $reqs = [ map { ("/lookup?target=10.9.9.$_&providers=miss",
                        "/lookup?target=e$_.chaos.example&providers=hit",
                        '/gate', '/status') } 1 .. 5 ];
    my $res = $t->parallel_get($reqs, 10, timeout => 10);
    is(scalar(grep { $_->{status} == 200 } @$res), scalar @$reqs,
       'after the chaos: lookups, limiter and status all answer 200')
        or diag(explain([ map { "$_->{status} $_->{body}" } @$res ]));
}

# readiness follows Redis; the killed worker's connection counts no more
ok($t->wait_until(sub { $t->get('/healthz?ready=1')->{status} == 200 }, 5),
   'ready again: Redis is back');
is(metrics()->{osint_redis_up}, 1, 'osint_redis_up 1');

$redis->kill9;
ok($t->wait_until(sub { $t->get('/healthz?ready=1')->{status} == 503 }, 5),
   'Redis killed: not ready (no dead worker counted as connected)');
is(metrics()->{osint_redis_up}, 0, 'osint_redis_up 0');
$redis->start;
ok($t->wait_until(sub { $t->get('/healthz?ready=1')->{status} == 200 }, 8),
   'Redis back: ready');

###############################################################################
# Phase B: soak, in rounds, no chaos

$fx->reset;
$fx_reset->reset;
my $before = metrics();
my (@fds, @rss, @soak);

for my $round (1 .. 3) {
    my $rows = finish_load(start_load(6, 6, "soak$round"));
    push @soak, @$rows;
    sleep 1;        # in-flight provider calls settle

    my @pids = $t->worker_pids;
    push @fds, [ map { OsintTest::fd_count_but_pool($_, $fx->port, $fx_reset->port) }
                     @pids ];
    push @rss, [ map { rss_kb($_) } @pids ];
}

check_answers(\@soak, 'soak');

diag("soak: fds (less idle provider connections) per round " . join(' | ', map { "@$_" } @fds)
     . "; RSS KiB " . join(' | ', map { "@$_" } @rss));

# a round makes thousands of requests: a leak of one fd in a thousand
# adds a few, beyond the slack of 2 (a connection caught between states).
# Under ASan or valgrind (a wrapper) freed memory is held in quarantine on
# purpose: RSS says nothing there, their own reports do.
for my $i (0 .. 1) {
    cmp_ok($fds[2][$i], '<=', $fds[0][$i] + 2,
           "worker $i: fds but the idle provider connections do not grow "
           . "(round 1 → 3)");

    SKIP: {
        skip 'RSS under a memory checker', 2 if @OsintTest::WRAPPER;
        ok(defined $rss[0][$i] && defined $rss[2][$i],
           "worker $i: RSS sampled");
        cmp_ok($rss[2][$i] // 1e9, '<=', ($rss[0][$i] // 0) + 4096,
               "worker $i: RSS grows less than 4 MiB (round 1 → 3)");
    }
}

# counters agree with the fixture and the clients
my $after = metrics();
my $by_path = $fx->by_path;
my %fixture;
for my $path (keys %$by_path) {
    $fixture{$1} += $by_path->{$path} if $path =~ m{^/(\w+)/};
}

for my $p (qw(hit miss huge nested badutf8 plain hang drip)) {
    my $re = qr/^osint_provider_calls_total\{provider="$p",/;
    is(metric_sum($after, $re) - metric_sum($before, $re), $fixture{$p} // 0,
       "provider $p: calls counted = requests the fixture got");
}

# each attempt is a call; retries_total counts those that were retries:
# every lookup here made two (the first reset, the retry reset too)
{
    my $re = qr/^osint_provider_calls_total\{provider="reset",/;
    my $rt = qr/^osint_provider_retries_total\{provider="reset"\}/;
    my $calls = metric_sum($after, $re) - metric_sum($before, $re);
    my $retries = metric_sum($after, $rt) - metric_sum($before, $rt);
    is($calls, $fx_reset->calls,
       'provider reset: calls counted = requests the fixture got');
    is($calls, 2 * $retries, 'provider reset: one retry a call');
}

{
    my $re = qr/^osint_limit_requests_total\{zone="gate",result="(?:passed|rejected)"\}/;
    my $clients = grep { $_->{kind} eq 'gate' } @soak;
    is(metric_sum($after, $re) - metric_sum($before, $re), $clients,
       'limiter: passed + rejected = the requests the clients made');
    my $rejected = grep { $_->{kind} eq 'gate' && $_->{status} == 429 } @soak;
    my $rj = qr/^osint_limit_requests_total\{zone="gate",result="rejected"\}/;
    is(metric_sum($after, $rj) - metric_sum($before, $rj), $rejected,
       'limiter: rejected = the 429s the clients got');
}

$t->done_testing;
