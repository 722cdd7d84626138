#!/usr/bin/perl

# Self-test of the test harness (t/lib/OsintTest.pm) and the fixture provider
# (t/lib/fixture.py), with plain nginx and no module: nginx proxies /p/ and
# /raw/ to the fixture, and every fixture behaviour is asserted exactly.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use IO::Select;

use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new->load_module_line(0);
my $fx = $t->fixture;

like($fx->port, qr/^\d+$/, 'fixture port');

$t->write_conf(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;

        # proxy_pass with a URI: /p/X -> /X (normalised URI)
        location /p/ {
            proxy_pass http://127.0.0.1:%%FX0%%/;
            proxy_read_timeout 2s;
            proxy_set_header X-Request-ID $request_id;
            add_header X-Request-ID $request_id always;
        }

        # proxy_pass without a URI: the client's URI is passed unchanged
        location /raw/ {
            proxy_pass http://127.0.0.1:%%FX0%%;
            proxy_read_timeout 2s;
        }

        location = /ok {
            return 200 "ok\n";
        }
    }
EOF

$t->run;

my $master = $t->master_pid;
my @workers = $t->worker_pids;
is(scalar @workers, 2, 'two workers');
chomp(my $pidfile = OsintTest::_read_file($t->testdir . '/nginx.pid') // '');
is($pidfile, $master, 'master pid = nginx.pid');
ok($t->fd_count($workers[0]) > 3, 'fd_count of a worker');

is($t->get('/ok')->{content}, "ok\n", 'nginx serves');

###############################################################################
# echo body

my ($st, $j, $res) = $t->get_json('/p/ip/8.8.8.8?x=1&y=a%20b');
is($st, 200, 'echo status');
is($res->{headers}{'content-type'}, 'application/json', 'echo content type');
is_deeply($j, {
    path => '/ip/8.8.8.8', query => 'x=1&y=a%20b', method => 'GET',
    target => '8.8.8.8', ok => JSON::PP::true, n => 42,
    nested => { country => 'US', asn => 15169, tags => ['a', 'b'] },
}, 'echo body');

# The raw path is echoed as received; the target is percent-decoded.
($st, $j) = $t->get_json('/raw/q/a%2Fb%20c%3F%C3%A9');
is($j->{path}, '/raw/q/a%2Fb%20c%3F%C3%A9', 'raw path as received');
is($j->{target}, "a/b c?\x{e9}", 'target percent-decoded (utf-8)');

# Straight to the fixture (no nginx), with a query-looking encoded segment.
my $direct = $t->request('GET', $fx->url('/ip/1.2.3.4%3Fstatus%3D500'));
is($direct->{status}, 200, 'encoded ? is not a query');
is(OsintTest::decode_json_or_undef($direct->{content})->{target},
   '1.2.3.4?status=500', 'encoded ? target');

# POST: method echoed, body logged.
$fx->reset;
$res = $t->post('/p/post/x', { a => 1 });
$j = OsintTest::decode_json_or_undef($res->{content});
is($j->{method}, 'POST', 'POST echoed');
my $log = $fx->log;
is(scalar @$log, 1, 'one logged request');
is($log->[0]{body}, '{"a":1}', 'POST body logged');
is($log->[0]{headers}{'content-type'}, 'application/json',
   'request headers logged (lower-case names)');

###############################################################################
# canned bodies

($st, $j) = $t->get_json('/p/ip/8.8.8.8?body=internetdb');
is($st, 200, 'internetdb status');
is_deeply([sort keys %$j], [qw(cpes hostnames ip ports tags vulns)],
          'internetdb keys');
is($j->{ip}, '8.8.8.8', 'internetdb ip');

($st, $j) = $t->get_json('/p/ip/192.0.2.1?body=internetdb_404&status=404');
is($st, 404, 'internetdb 404 status');
is_deeply($j, { detail => 'No information available' }, 'internetdb 404 body');

($st, $j) = $t->get_json('/p/8.8.8.8/json?body=ipinfo');
is($j->{org}, 'AS15169 Google LLC', 'ipinfo org');
ok($j->{anycast}, 'ipinfo anycast');

($st, $j) = $t->get_json('/p/domain/example.com?body=rdap_domain');
is($j->{objectClassName}, 'domain', 'rdap objectClassName');
is($j->{ldhName}, 'EXAMPLE.COM', 'rdap ldhName');

($st, $j) = $t->get_json('/p/v3/community/8.8.8.8?body=greynoise');
is($j->{classification}, 'benign', 'greynoise classification');

($st, $j) = $t->get_json('/p/x?body=no_such_body');
is($st, 500, 'unknown canned body -> 500');

###############################################################################
# delay, status, Retry-After

$res = $t->get('/p/d?delay=300');
is($res->{status}, 200, 'delay status');
cmp_ok($res->{elapsed_ms}, '>=', 300, 'delay >= 300 ms');
cmp_ok($res->{elapsed_ms}, '<', 1500, 'delay < 1500 ms');

$res = $t->get('/p/s?status=429&retry_after=7');
is($res->{status}, 429, 'status 429');
is($res->{headers}{'retry-after'}, '7', 'Retry-After seconds');

$res = $t->get('/p/s?status=503&retry_after=Wed,%2021%20Oct%202015%2007:28:00%20GMT');
is($res->{status}, 503, 'status 503');
is($res->{headers}{'retry-after'}, 'Wed, 21 Oct 2015 07:28:00 GMT',
   'Retry-After HTTP date verbatim');

$res = $t->get('/p/s?header=X-RateLimit-Remaining:%200');
is($res->{headers}{'x-ratelimit-remaining'}, '0', 'extra header');

###############################################################################
# faults

$fx->reset;
$res = $t->get('/p/reset?fault=reset');
is($res->{status}, 502, 'reset -> 502');
is($fx->calls_for('/reset'), 1, 'reset counted once');

$res = $t->get('/p/hang?fault=hang');
is($res->{status}, 504, 'hang -> 504');
cmp_ok($res->{elapsed_ms}, '>=', 1900, 'hang waited for proxy_read_timeout');
cmp_ok($res->{elapsed_ms}, '<', 4000, 'hang bounded by proxy_read_timeout');

$res = $t->get('/p/huge?fault=huge');
is($res->{status}, 200, 'huge status');
is(length $res->{content}, 2 * 1024 * 1024, 'huge default size exact');

$res = $t->get('/p/huge?fault=huge&size=100000');
is(length $res->{content}, 100000, 'huge size= exact');
is(length(OsintTest::decode_json_or_undef($res->{content})->{pad}),
   100000 - 10, 'huge body is valid JSON');

($st, $j, $res) = $t->get_json('/p/bad?fault=invalid');
is($st, 200, 'invalid status');
is($res->{headers}{'content-type'}, 'application/json', 'invalid type');
is($res->{content}, '{"ip": "1.2.3.4", "ports": [80, 443', 'invalid body');
is($j, undef, 'get_json: undef for invalid JSON');

$res = $t->get('/p/gw?fault=html&status=502');
is($res->{status}, 502, 'html status');
is($res->{headers}{'content-type'}, 'text/html', 'html content type');
is($res->{content}, '<html><body>502 Bad Gateway</body></html>', 'html body');

# drip, straight to the fixture: headers at once, then 1 byte per 100 ms.
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $fx->port, Timeout => 3);
    syswrite($s, "GET /drip?fault=drip HTTP/1.1\r\nHost: x\r\n\r\n");
    my $sel = IO::Select->new($s);
    my ($got, $t0) = ('', time);
    while (time - $t0 < 0.55 && $sel->can_read(0.6 - (time - $t0))) {
        sysread($s, my $buf, 4096) or last;
        $got .= $buf;
    }
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $got, 2;
    like($head, qr/^HTTP\/1\.1 200 /, 'drip status line');
    like($head, qr/\r\nContent-Length: 2000\r\n/i, 'drip Content-Length');
    $body //= '';
    ok(length $body >= 3 && length $body <= 8, 'drip: about 10 bytes/s')
        or diag("got " . length($body) . " bytes");
}

# hang must not block other requests (threaded server)
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $fx->port, Timeout => 3);
    syswrite($s, "GET /hang2?fault=hang HTTP/1.1\r\nHost: x\r\n\r\n");
    my $r = $t->request('GET', $fx->url('/while-hanging'), timeout => 3);
    is($r->{status}, 200, 'fixture serves while another request hangs');
    close $s;
}

###############################################################################
# runtime overrides

$fx->control(prefix => '/ctl', params => { status => 503, retry_after => 3 });
$res = $t->get('/p/ctl/x');
is($res->{status}, 503, 'override status');
is($res->{headers}{'retry-after'}, '3', 'override Retry-After');
is($t->get('/p/ctl/y?status=200')->{status}, 503,
   'override wins over URL params');
is($t->get('/p/other')->{status}, 200, 'override limited to its prefix');

my $ov = $fx->control(prefix => '/ctl/deeper', params => { status => 418 });
is_deeply($ov, { '/ctl' => { status => '503', retry_after => '3' },
                 '/ctl/deeper' => { status => '418' } }, 'overrides listed');
is($t->get('/p/ctl/deeper/z')->{status}, 418, 'longer prefix wins');

$fx->control(prefix => '/ctl', params => undef);
is($t->get('/p/ctl/x')->{status}, 200, 'override removed');
is($t->get('/p/ctl/deeper/z')->{status}, 418, 'other override kept');
is_deeply($fx->clear_control, {}, 'clear removes all');
is($t->get('/p/ctl/deeper/z')->{status}, 200, 'cleared');

###############################################################################
# counting and the request log

$fx->reset;
is($fx->calls, 0, 'reset zeroes calls');
is_deeply($fx->log, [], 'reset empties the log');

$t->get('/p/count/a') for 1 .. 3;
$res = $t->get('/p/count/b');
is($fx->calls, 4, 'calls total');
is($fx->calls_for('/count/a'), 3, 'calls_for a');
is($fx->calls_for('/count/b'), 1, 'calls_for b');
is($fx->calls_for('/count/none'), 0, 'calls_for unknown path');
is_deeply($fx->by_path, { '/count/a' => 3, '/count/b' => 1 }, 'by_path');

$log = $fx->log;
is(scalar @$log, 4, 'log entries');
is($log->[-1]{path}, '/count/b', 'log path');
is($log->[-1]{method}, 'GET', 'log method');
like($res->{headers}{'x-request-id'}, qr/^[0-9a-f]{32}$/, 'nginx request id');
is($log->[-1]{headers}{'x-request-id'}, $res->{headers}{'x-request-id'},
   'X-Request-ID received by the fixture');
cmp_ok(abs($log->[-1]{t} - time), '<', 5, 'log time');

# counted before the delay: visible while the request is still waiting
$fx->reset;
{
    my $pid = fork // die;
    if (!$pid) {
        $t->request('GET', $fx->url('/slow?delay=800'), timeout => 3);
        POSIX::_exit(0);
    }
    ok($t->wait_until(sub { $fx->calls_for('/slow') == 1 }, 0.6),
       'counted before the delay ends');
    waitpid($pid, 0);
}

###############################################################################
# parallel_get

my $t0 = time;
my $par = $t->parallel_get([map { "/p/par/$_?delay=400" } 1 .. 6], 6);
my $wall = (time - $t0) * 1000;
is_deeply([map { $_->{status} } @$par], [(200) x 6], 'parallel statuses');
is_deeply([map { OsintTest::decode_json_or_undef($_->{body})->{target} }
           @$par], [1 .. 6], 'parallel results in input order');
ok(!grep({ $_->{elapsed_ms} < 400 } @$par), 'each waited the delay');
cmp_ok($wall, '<', 1800, 'ran concurrently');

$par = $t->parallel_get(['/p/slow?delay=3000', '/ok'], 2, timeout => 1);
is($par->[0]{status}, 599, 'parallel_get bounded by its timeout');
is($par->[1]{status}, 200, 'fast one completed');

###############################################################################
# abort_get, reload, nginx -t

ok($t->abort_get('/p/abort?delay=500', 100), 'abort_get (delay)');
ok($t->abort_get('/p/drip?fault=drip', 300), 'abort_get (drip)');
is($t->get('/ok')->{status}, 200, 'nginx fine after aborted requests');
is_deeply([$t->worker_pids], \@workers, 'no worker died');

my @new = $t->reload(wait_old => 1);
is(scalar @new, 2, 'reload: two new workers');
ok(!grep({ my $n = $_; grep { $_ == $n } @workers } @new),
   'reload: all workers new');
is($t->master_pid, $master, 'reload: same master');
is($t->get('/ok')->{status}, 200, 'serves after reload');
($st, $j) = $t->get_json('/p/after/reload');
is($j->{target}, 'reload', 'proxies after reload');

my ($rc, $out) = $t->nginx_test;
is($rc, 0, 'nginx -t: good conf');
like($out, qr/test is successful/, 'nginx -t: output');

$t->write_conf("    osint_no_such_directive on;\n");
($rc, $out) = $t->nginx_test;
isnt($rc, 0, 'nginx -t: bad conf fails');
like($out, qr/unknown directive "osint_no_such_directive"/,
     'nginx -t: unknown directive');
unlike($t->error_log, qr/osint_no_such_directive/,
       'nginx -t does not write error.log');

$t->done_testing;
