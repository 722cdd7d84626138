#!/usr/bin/perl

# osint_control, the operators' API (docs/control.md): GET shows every
# provider's state; a purge across 2 workers and 2 nodes on one Redis
# (the next lookup calls the provider exactly once); a breaker forced open
# while lookups run, kept open past its cooldown, then closed, and one
# opened by failures closed by hand; a 429 hold lifted; a provider
# disabled and enabled (kept across a reload); every change logged at
# notice with the client and request id, and counted; the 400, 404 and
# 405 documents; a request smuggled in a body never answered; and the
# README's example location refusing a client it does not allow.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use IO::Socket::INET;
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
my $dir = $a->testdir;

# the README's example location, as written there
my $readme = OsintTest::_read_file("$FindBin::Bin/../README.md");
my ($example) = $readme
    =~ m{^[ \t]*(location[ \t]+[^\{\n]*\{[^\}]*?osint_control;[^\}]*\})}m;
ok($example, 'README shows a location with osint_control') or diag 'none';
like($example // '', qr/\ballow\s+127\.0\.0\.1;.*\bdeny\s+all;/s,
     'README example: allow 127.0.0.1; deny all;');

# conf.example protects its control location the same way
my $example_conf = OsintTest::_read_file("$FindBin::Bin/../conf.example");
my ($conf_loc) = $example_conf
    =~ m{^[ \t]*(location[ \t]+[^\{\n]*\{[^\}]*?osint_control;[^\}]*\})}m;
my $squash = sub { my $x = shift // ''; $x =~ s/\s+/ /g; $x };
is($squash->($conf_loc), $squash->($example),
   'conf.example: the same control location as the README');

sub conf {
    my ($l1) = @_;
    return <<"EOF";
    osint_zone 8m;
    osint_deadline 3s;
    osint_cache_l1 $l1;
    osint_redis 127.0.0.1:$rport;

    osint_provider A {
        types ipv4 domain;
        url "http://127.0.0.1:$fxport/a/\$osint_target";
        cache_ttl 1h;
        breaker failures=2 cooldown=60s;
    }

    osint_provider B {
        types ipv4;
        url "http://127.0.0.1:$fxport/b/\$osint_target";
        cache_ttl off;
        breaker failures=2 cooldown=1s;
    }

    osint_provider H {
        types ipv4;
        url "http://127.0.0.1:$fxport/h/\$osint_target";
        cache_ttl off;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        keepalive_timeout 1s;

        location = /lookup  { osint_lookup; }
        location = /control { osint_control; }
        location = /status  { osint_status; }
        location = /healthz { osint_health; }

        location = /inner {
            access_log %%TESTDIR%%/inner.log;
            deny all;
            osint_status;
        }
    }

    server {
        listen 127.0.0.1:%%PORT2%%;
        listen 127.0.0.2:%%PORT2%%;

        $example
    }
EOF
}

$a->write_conf(conf('on'));
$b->write_conf(conf('off'));
$a->run;
$b->run;

my $up = qr/\[notice\] \d+#\d+: osint: redis \S+ is up/;

for my $t ($a, $b) {
    ok($t->wait_until(sub {
           my @l = grep { $_ =~ $up } split /\n/, $t->error_log;
           @l >= 2 }, 10), 'both workers connected to Redis')
        or diag $t->error_log;
}

sub ctl {
    my ($t, $method, $query, %h) = @_;
    my $res = $t->request($method, "/control$query", headers => \%h);
    return ($res->{status}, OsintTest::decode_json_or_undef($res->{content}),
            $res);
}

sub state_of {
    my ($t, $name) = @_;
    my (undef, $doc) = ctl($t, 'GET', '');
    return $doc->{providers}{$name};
}

sub lookup {
    my ($t, $query) = @_;
    my ($status, $doc) = $t->get_json("/lookup?$query");
    return $doc;
}

###############################################################################
# GET: every provider's state

my ($status, $doc, $res) = ctl($a, 'GET', '');
is($status, 200, 'GET: 200');
like($res->{headers}{'content-type'}, qr{^application/json}, 'GET: JSON');
is_deeply([ sort keys %{$doc->{providers}} ], [ 'A', 'B', 'H' ],
          'GET: every provider');
is_deeply($doc->{providers}{A},
          { enabled => JSON::PP::true, disabled_by => undef,
            breaker => { state => 'closed', failures => 0, threshold => 2,
                         opened_at => undef },
            hold => undef, bucket => undef, quota => undef, limits => undef,
            budget => undef,
            cache => { entries => 0 } },
          'GET: the state of A');
is($doc->{providers}{H}{breaker}{state}, 'off', 'breaker off: "off"');
unlike($res->{content}, qr/127\.0\.0\.1|http:/, 'GET: no URL');

$res = $a->request('HEAD', '/control');
is($res->{status}, 200, 'HEAD: 200');
is($res->{content} // '', '', 'HEAD: no body');

###############################################################################
# purge: 2 workers of node a (L1 and Redis), node b (Redis only, no L1)

my $T = '198.51.100.7';

$doc = lookup($a, "target=$T&providers=A");
is($doc->{providers}{A}{status}, 'ok', 'node a: looked up');
is($fx->calls_for("/a/$T"), 1, 'provider called once');

my $r = $a->parallel_get([ ("/lookup?target=$T&providers=A") x 6 ], 6);
is(scalar(grep { ($_->{body} // '') =~ /"cache":"l1"/ } @$r), 6,
   'both workers of node a: L1 hits');
$doc = lookup($b, "target=$T&providers=A");
is($doc->{providers}{A}{cache}, 'redis', 'node b: a Redis hit');
is($fx->calls_for("/a/$T"), 1, 'still one call');
is(state_of($a, 'A')->{cache}{entries}, 1, 'A has 1 entry in L1');

my $mark = $a->log_mark;
($status, $doc) = ctl($a, 'DELETE', "?target=$T", 'X-Request-ID' => 'purge-1');
is($status, 200, 'purge: 200');
is_deeply($doc, { purged => { l1 => 1, redis => 1 } },
          'purge: 1 entry from L1, 1 from Redis');
ok($a->wait_log(qr/\[notice\] .*osint: control: target "198\.51\.100\.7" purged: L1 1, Redis 1, client 127\.0\.0\.1, request purge-1/, 3, $mark),
   'purge logged at notice with client and request id');
is(state_of($a, 'A')->{cache}{entries}, 0, 'A has no entry in L1');
is($redis->cmd('EXISTS', "osint:A:$T"), 0, 'the Redis key is gone');

$doc = lookup($b, "target=$T&providers=A");
is($doc->{providers}{A}{cache}, 'miss', 'node b after the purge: a miss');
is($fx->calls_for("/a/$T"), 2, 'the next lookup called the provider once');
ok($a->wait_until(sub { $redis->cmd('EXISTS', "osint:A:$T") }, 3),
   'node b wrote the new answer to Redis');
$r = $a->parallel_get([ ("/lookup?target=$T&providers=A") x 6 ], 6);
is(scalar(grep { ($_->{body} // '') =~ /"status":"ok"/ } @$r), 6,
   'node a, both workers: answered');
is($fx->calls_for("/a/$T"), 2, '... from the caches: still 2 calls');

# a target of two types: every canonical form; provider= narrows
($status, $doc) = ctl($a, 'DELETE', "?target=EXAMPLE.com.&provider=H");
is_deeply($doc, { purged => { l1 => 0, redis => 0 } },
          'provider H serves no domain: nothing to purge');
lookup($a, 'target=example.com&providers=A');
# the answer's write to Redis goes on the worker's own connection and the
# purge may come to the other worker: wait for the key, or its DEL may
# reach Redis first and the purge find nothing there
ok($a->wait_until(sub { $redis->cmd('EXISTS', 'osint:A:example.com') }, 3),
   'example.com: the answer is in Redis');
($status, $doc) = ctl($a, 'DELETE', '?target=EXAMPLE.com.');
is_deeply($doc, { purged => { l1 => 1, redis => 1 } },
          'purge of "EXAMPLE.com.": the canonical example.com');

###############################################################################
# a breaker forced open while lookups run, past its cooldown, then closed

$fx->control(prefix => '/b/', params => { delay => '600' });

my @inflight = map {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $a->port, Timeout => 3);
    print $s "GET /lookup?target=203.0.113.$_&providers=B HTTP/1.1\r\n"
             . "Host: x\r\nConnection: close\r\n\r\n";
    $s } (1 .. 4);

ok($a->wait_until(sub { $fx->calls_for('/b/203.0.113.4') >= 1
                        && $fx->calls_for('/b/203.0.113.1') >= 1 }, 3),
   'lookups in flight');

$mark = $a->log_mark;
($status, $doc) = ctl($a, 'POST', '?provider=B&breaker=open',
                      'X-Request-ID' => 'force-1');
is($status, 200, 'force open: 200');
is($doc->{breaker}{state}, 'forced_open', 'state forced_open');
cmp_ok(abs($doc->{breaker}{opened_at} - time), '<=', 2, 'opened_at: now');
ok($a->wait_log(qr/\[notice\] .*osint: control: provider "B" breaker forced open, client 127\.0\.0\.1, request force-1/, 3, $mark),
   'logged at notice');

(undef, $doc) = $a->get_json('/status?format=json');
is($doc->{providers}{B}{breaker}{state}, 'forced_open',
   'status JSON: forced_open');
like($a->get('/status')->{content}, qr/^osint_breaker_state\{provider="B"\} 1$/m,
     'status Prometheus: open (1)');

my @answers = map { OsintTest::read_all($_, 5) } @inflight;
is(scalar(grep { /"B":\{"status":"ok"/ } @answers), 4,
   'the calls in flight ended as they would');

$r = $a->parallel_get([ map { "/lookup?target=203.0.113.1$_&providers=B" }
                        (0 .. 5) ], 6);
is(scalar(grep { ($_->{body} // '') =~ /"status":"skipped".*"kind":"breaker_open"/ } @$r),
   6, 'both workers: skipped, breaker_open');
is($fx->calls_for('/b/203.0.113.10'), 0, 'no call');

sleep 1.3;      # past the cooldown of 1s: a forced breaker does not half-open
$doc = lookup($a, 'target=203.0.113.20&providers=B');
is($doc->{providers}{B}{error}{kind}, 'breaker_open',
   'past its cooldown: still open');
is(state_of($b, 'B')->{breaker}{state}, 'closed',
   'node b has its own breakers');

($status, $doc) = ctl($a, 'POST', '?provider=B&breaker=closed');
is($status, 200, 'close: 200');
is($doc->{breaker}{state}, 'closed', 'state closed');
is($doc->{breaker}{opened_at}, undef, 'opened_at null');
$fx->control(clear => 1);
$r = $a->parallel_get([ map { "/lookup?target=203.0.113.3$_&providers=B" }
                        (0 .. 3) ], 4);
is(scalar(grep { ($_->{body} // '') =~ /"B":\{"status":"ok"/ } @$r), 4,
   'closed: lookups call the provider again');

# every provider forced open: not ready; one closed: ready again

ctl($a, 'POST', "?provider=$_&breaker=open") for qw(A B H);
is($a->get('/healthz?ready=1')->{status}, 503,
   'every breaker forced open: not ready');
ctl($a, 'POST', '?provider=H&breaker=closed');
is($a->get('/healthz?ready=1')->{status}, 200, 'one closed: ready');
ctl($a, 'POST', "?provider=$_&breaker=closed") for qw(A B);

# a breaker opened by failures, closed by hand before its cooldown of 60s

$fx->control(prefix => '/a/', params => { status => '503' });
lookup($a, "target=192.0.2.$_&providers=A") for 1 .. 2;
is(state_of($a, 'A')->{breaker}{state}, 'open', 'two failures opened A');
cmp_ok(state_of($a, 'A')->{breaker}{opened_at}, '>=', int(time) - 2,
       'opened_at: when');
$fx->control(clear => 1);
$doc = lookup($a, 'target=192.0.2.3&providers=A');
is($doc->{providers}{A}{error}{kind}, 'breaker_open', 'A skipped');
ctl($a, 'POST', '?provider=A&breaker=closed');
$doc = lookup($a, 'target=192.0.2.3&providers=A');
is($doc->{providers}{A}{status}, 'ok', 'closed by hand: A answers');
is(state_of($a, 'A')->{breaker}{failures}, 0, 'no failure counted');

###############################################################################
# a 429 hold lifted

$fx->control(prefix => '/h/', params => { status => '429',
                                          retry_after => '3600' });
$doc = lookup($a, 'target=192.0.2.50&providers=H');
is($doc->{providers}{H}{error}{kind}, 'rate_limited', 'H answered 429');
$doc = lookup($a, 'target=192.0.2.51&providers=H');
is($doc->{providers}{H}{status}, 'skipped', 'held: skipped');
is($fx->calls_for('/h/192.0.2.51'), 0, 'held: no call');
my $hold = state_of($a, 'H')->{hold};
ok($hold && abs($hold->{until} - (time + 3600)) <= 3,
   'hold until: an hour from now');
$fx->control(clear => 1);

($status, $doc) = ctl($a, 'DELETE', '?provider=H&hold');
is($status, 200, 'lift: 200');
is($doc->{hold}, undef, 'hold: null');
$r = $a->parallel_get([ map { "/lookup?target=192.0.2.6$_&providers=H" }
                        (0 .. 3) ], 4);
is(scalar(grep { ($_->{body} // '') =~ /"H":\{"status":"ok"/ } @$r), 4,
   'both workers: H called again');

###############################################################################
# a provider disabled, kept so across a reload, enabled

($status, $doc) = ctl($a, 'POST', '?provider=A&enabled=off');
is($status, 200, 'disable: 200');
is($doc->{enabled}, JSON::PP::false, 'enabled false');
is($doc->{disabled_by}, 'control', 'disabled_by control');

my $calls = $fx->calls_for('/a/192.0.2.70');
$r = $a->parallel_get([ ('/lookup?target=192.0.2.70') x 4 ], 4);
is(scalar(grep {
    my $d = OsintTest::decode_json_or_undef($_->{body});
    $d && $d->{providers}{A}{status} eq 'skipped'
       && $d->{providers}{A}{error}{kind} eq 'disabled'
       && $d->{providers}{H}{status} eq 'ok'
} @$r), 4, 'both workers: A skipped, kind disabled; the others asked');
is($fx->calls_for('/a/192.0.2.70'), $calls, 'A not called');
lookup($a, "target=$T&providers=A");
is($fx->calls_for("/a/$T"), 2, 'a disabled provider serves no cache either');

$a->reload;
$doc = lookup($a, 'target=192.0.2.71');
is($doc->{providers}{A}{error}{kind}, 'disabled', 'after a reload: disabled');

($status, $doc) = ctl($a, 'POST', '?provider=A&enabled=on');
is($doc->{enabled}, JSON::PP::true, 'enabled again');
$doc = lookup($a, 'target=192.0.2.72');
is($doc->{providers}{A}{status}, 'ok', 'A answers again');

###############################################################################
# counted

my $prom = $a->get('/status')->{content};
my %count = $prom =~ /^osint_control_actions_total\{action="(\w+)"\} (\d+)$/mg;
is_deeply(\%count, { purge => 3, breaker_close => 5, breaker_open => 4,
                     hold_lift => 1, disable => 1, enable => 1 },
          'osint_control_actions_total by action');
(undef, $doc) = $a->get_json('/status?format=json');
is_deeply($doc->{control}{actions}, \%count, 'the same in the JSON status');

###############################################################################
# bad input: 400, 404, 405, the error document

my @bad = (
    [ 'DELETE', '', 400, 'invalid_parameter' ],
    [ 'DELETE', '?target=', 400, 'invalid_target' ],
    [ 'DELETE', '?target=a%20b', 400, 'invalid_target' ],
    [ 'DELETE', '?target=1.2.3.4&type=nope', 400, 'invalid_parameter' ],
    [ 'DELETE', '?target=1.2.3.4&hold', 400, 'invalid_parameter' ],
    [ 'DELETE', '?hold', 400, 'invalid_parameter' ],
    [ 'DELETE', '?target=1.2.3.4&provider=nope', 404, 'unknown_provider' ],
    [ 'DELETE', '?provider=nope&hold', 404, 'unknown_provider' ],
    [ 'POST', '', 400, 'invalid_parameter' ],
    [ 'POST', '?breaker=open', 400, 'invalid_parameter' ],
    [ 'POST', '?provider=A&breaker=maybe', 400, 'invalid_parameter' ],
    [ 'POST', '?provider=A&enabled=yes', 400, 'invalid_parameter' ],
    [ 'POST', '?provider=A&enabled=on&breaker=open', 400,
      'invalid_parameter' ],
    [ 'POST', '?provider=nope&breaker=open', 404, 'unknown_provider' ],
    [ 'PUT', '', 405, 'invalid_parameter' ],
    [ 'PATCH', '?provider=A&enabled=off', 405, 'invalid_parameter' ],
);

for my $c (@bad) {
    my ($method, $query, $want, $kind) = @$c;
    ($status, $doc, $res) = ctl($a, $method, $query);
    is($status, $want, "$method $query: $want");
    is($doc && $doc->{error}{kind}, $kind, "$method $query: kind $kind");
    ok($doc && length $doc->{error}{message}, "$method $query: a message");
    is($res->{headers}{allow}, 'GET, HEAD, POST, DELETE',
       "$method: Allow") if $want == 405;
}

is(state_of($a, 'A')->{enabled}, JSON::PP::true, 'nothing changed by them');

###############################################################################
# smuggling: a whole request in the body is never a second request

my $N = 0;

sub inner {
    $N++;
    return "GET /inner?case=$N HTTP/1.1\r\nHost: x\r\n"
           . "Connection: close\r\n\r\n";
}

sub with_body {
    my ($method, $uri, $body) = @_;
    return "$method $uri HTTP/1.1\r\nHost: localhost\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
}

sub chunked {
    my ($method, $uri, $body) = @_;
    return "$method $uri HTTP/1.1\r\nHost: localhost\r\n"
           . "Transfer-Encoding: chunked\r\n\r\n"
           . sprintf("%x\r\n", length $body) . "$body\r\n0\r\n\r\n";
}

my @cases = (
    [ 'GET', with_body('GET', '/control', inner()), 200 ],
    [ 'HEAD', with_body('HEAD', '/control', inner()), 200 ],
    [ 'POST breaker', with_body('POST', '/control?provider=B&breaker=closed',
                                inner()), 200 ],
    [ 'POST enabled, chunked',
      chunked('POST', '/control?provider=B&enabled=on', inner()), 200 ],
    [ 'DELETE purge', with_body('DELETE', "/control?target=$T", inner()),
      200 ],
    [ 'DELETE hold', with_body('DELETE', '/control?provider=H&hold',
                               inner()), 200 ],
    [ 'DELETE 400', with_body('DELETE', '/control', inner()), 400 ],
    [ 'POST 404', with_body('POST', '/control?provider=x&breaker=open',
                            inner()), 404 ],
    [ 'PUT 405', with_body('PUT', '/control', inner()), 405 ],
    [ 'PUT 405, chunked', chunked('PUT', '/control', inner()), 405 ],
);

for my $c (@cases) {
    my ($name, $bytes, $want) = @$c;
    my $got = $a->raw($bytes, timeout => 6) // '';
    my @lines = $got =~ m{^(HTTP/1\.[01] \d{3})}mg;
    is(scalar @lines, 1, "$name, a request in the body: one response")
        or diag(join(' | ', @lines));
    like($got, qr{\AHTTP/1\.1 $want }, "$name: $want");
}

$a->wait_until(sub { 0 }, 1);
is(OsintTest::_read_file("$dir/inner.log") // '', '',
   'no body reached another location');

###############################################################################
# the README's example: allowed from 127.0.0.1, refused from 127.0.0.2

sub from {
    my ($local, $request) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => $local,
                                  PeerAddr => '127.0.0.1',
                                  PeerPort => $a->port(2), Timeout => 3)
        or return "connect: $!";
    print $s $request;
    return OsintTest::read_all($s, 5) // '';
}

my ($path) = ($example // '') =~ m{location\s+(?:=\s*)?(\S+)};

for my $m ('GET', 'POST') {
    my $q = $m eq 'POST' ? '?provider=A&enabled=off' : '';
    my $req = "$m $path$q HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
              . "Connection: close\r\n\r\n";
    like(from('127.0.0.2', $req), qr{\AHTTP/1\.1 403 },
         "$m from 127.0.0.2: 403");
}

is(state_of($a, 'A')->{enabled}, JSON::PP::true, 'the refused POST did nothing');
like(from('127.0.0.1', "GET $path HTTP/1.1\r\nHost: x\r\n"
                       . "Connection: close\r\n\r\n"),
     qr{\AHTTP/1\.1 200 .*"providers":}s, 'GET from 127.0.0.1: 200');

$b->stop;
$a->stop;
done_testing;
