#!/usr/bin/perl

# Request smuggling: every answer of the module reads or discards the
# request body first (or closes the connection), so that a body is never
# parsed as a second request on a keep-alive connection.
#
# Each case sends, on one raw socket, one request whose body is itself a
# whole HTTP request for /inner (deny all, an access log of its own), and
# reads until the server closes (keepalive_timeout 1s; at most 6 s).
# Exactly one response must come back, with the expected status, and
# /inner must not have been reached.  Covered: osint_health (GET with a
# Content-Length body, GET with a chunked body, HEAD), osint_lookup (the
# 405 of PUT, DELETE and OPTIONS, a 400 for a bad target, a lookup that
# asks a provider, the batch's 400 for bad query arguments before its body
# is read, an invalid batch body, a body over client_max_body_size),
# osint_status in every format and an unknown one, osint_limit's 429 and a
# request it delays.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $dir = $t->testdir;

$t->write_conf(<<'EOF');
    osint_zone 4m;
    osint_deadline 3s;

    osint_provider A {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target";
        breaker off;
    }

    osint_limit_zone rej:1m  key=$http_x_key rate=1r/m burst=1;
    osint_limit_zone slow:1m key=$http_x_key rate=5r/s burst=1;

    log_format uri '$request_uri $status $osint_limit_status';

    server {
        listen 127.0.0.1:%%PORT%%;
        keepalive_timeout 1s;
        access_log %%TESTDIR%%/access.log uri;

        location = /healthz { osint_health; }
        location = /lookup  { client_max_body_size 1k; osint_lookup; }
        location = /status  { osint_status; }
        location = /limited { osint_limit zone=rej; osint_health; }
        location = /delayed { osint_limit zone=slow delay=2s; osint_health; }

        # what a smuggled request would reach
        location = /inner {
            access_log %%TESTDIR%%/inner.log uri;
            deny all;
            osint_status;
        }
    }
EOF

$t->run;

# the smuggled request: the case's number in its query, for inner.log
my $N = 0;

sub inner {
    $N++;
    return "GET /inner?case=$N HTTP/1.1\r\nHost: x\r\n"
           . "Connection: close\r\n\r\n";
}

# $bytes sent on one connection -> everything read until close (<= 6 s)
sub exchange { return $t->raw($_[0], timeout => 6) // '' }

sub with_body {
    my ($method, $uri, $body, @headers) = @_;
    return "$method $uri HTTP/1.1\r\nHost: localhost\r\n"
           . join('', map { "$_\r\n" } @headers)
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
}

sub chunked {
    my ($method, $uri, $body) = @_;
    return "$method $uri HTTP/1.1\r\nHost: localhost\r\n"
           . "Transfer-Encoding: chunked\r\n\r\n"
           . sprintf("%x\r\n", length $body) . "$body\r\n0\r\n\r\n";
}

# the case each request of inner.log came from (a closing connection may
# be logged after the client saw it close: read at the end, once quiet)
my %reached;

sub inner_reached {
    my $log = OsintTest::_read_file("$dir/inner.log") // '';
    $reached{$1} = 1 while $log =~ m{^/inner\?case=(\d+) }mg;
}

# name, bytes, expected status of the one response
my @cases = (
    [ 'GET /healthz, Content-Length body',
      with_body('GET', '/healthz', inner()), 200 ],
    [ 'GET /healthz?ready=1, Content-Length body',
      with_body('GET', '/healthz?ready=1', inner()), 200 ],
    [ 'GET /healthz, chunked body', chunked('GET', '/healthz', inner()), 200 ],
    [ 'HEAD /healthz, Content-Length body',
      with_body('HEAD', '/healthz', inner()), 200 ],
    [ 'POST /healthz (405), body', with_body('POST', '/healthz', inner()),
      405 ],
    [ 'POST /lookup?type=x (batch 400 before the body)',
      with_body('POST', '/lookup?type=x', inner(),
                'Content-Type: application/json'), 400 ],
    [ 'POST /lookup?refresh=2 (batch 400 before the body), chunked',
      chunked('POST', '/lookup?refresh=2', inner()), 400 ],
    [ 'POST /lookup, invalid batch body', with_body('POST', '/lookup', inner()),
      400 ],
    [ 'POST /lookup, body over client_max_body_size',
      with_body('POST', '/lookup', inner() . ('x' x 2000)), 413 ],
    [ 'PUT /lookup (405), body', with_body('PUT', '/lookup', inner()), 405 ],
    [ 'DELETE /lookup (405), body', with_body('DELETE', '/lookup', inner()),
      405 ],
    [ 'OPTIONS /lookup (405), body', with_body('OPTIONS', '/lookup', inner()),
      405 ],
    [ 'GET /lookup?target=bad (400), body',
      with_body('GET', '/lookup?target=bad..x', inner()), 400 ],
    [ 'GET /lookup?target=192.0.2.1 (provider asked), body',
      with_body('GET', '/lookup?target=192.0.2.1', inner()), 200 ],
    [ 'GET /status, body', with_body('GET', '/status', inner()), 200 ],
    [ 'GET /status?format=prometheus, body',
      with_body('GET', '/status?format=prometheus', inner()), 200 ],
    [ 'GET /status?format=json, body',
      with_body('GET', '/status?format=json', inner()), 200 ],
    [ 'GET /status?format=html, body',
      with_body('GET', '/status?format=html', inner()), 200 ],
    [ 'GET /status?format=bogus (400), body',
      with_body('GET', '/status?format=bogus', inner()), 400 ],
    [ 'PUT /status (405), body', with_body('PUT', '/status', inner()), 405 ],
);

my @names;

for my $c (@cases) {
    my ($name, $bytes, $status) = @$c;
    my $got = exchange($bytes);
    my @lines = $got =~ m{^(HTTP/1\.[01] \d{3})}mg;

    is(scalar @lines, 1, "$name: one response on the connection")
        or diag(join(' | ', @lines));
    like($got, qr{\AHTTP/1\.1 $status }, "$name: $status");
    push @names, [ $bytes =~ /case=(\d+)/, $name ];
}

# osint_limit: the second request of a key is rejected (429), or delayed
# (200 ms) and then answered by osint_health

for my $c ([ '/limited', 'rej', 429 ], [ '/delayed', 'slow', 200 ]) {
    my ($uri, $zone, $status) = @$c;
    my $key = "smuggle-$zone-" . int(rand(1e9));

    my $first = $t->get($uri, { 'X-Key' => $key });
    is($first->{status}, 200, "$uri: the first request of the key passes");

    my $bytes = with_body('GET', $uri, inner(), "X-Key: $key");
    my $got = exchange($bytes);
    my @lines = $got =~ m{^(HTTP/1\.[01] \d{3})}mg;

    is(scalar @lines, 1, "$uri ($status), body: one response")
        or diag(join(' | ', @lines));
    like($got, qr{\AHTTP/1\.1 $status }, "$uri: $status");
    push @names, [ $bytes =~ /case=(\d+)/, "$uri ($status)" ];

    if ($status == 200) {
        ok($t->wait_until(sub {
               (OsintTest::_read_file("$dir/access.log") // '')
                   =~ m{^/delayed 200 DELAYED$}m }, 3),
           "$uri: the request was delayed");
    }
}

# the keep-alive connection still serves a real second request after a
# discarded body: discarding is not closing
{
    my $got = exchange(with_body('GET', '/healthz', 'x' x 100)
                       . "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                       . "Connection: close\r\n\r\n");
    my @lines = $got =~ m{^(HTTP/1\.[01] \d{3})}mg;
    is_deeply(\@lines, [ 'HTTP/1.1 200', 'HTTP/1.1 200' ],
              'a pipelined request after a discarded body is answered');
}

# a smuggled request would have been logged by now
$t->wait_until(sub { inner_reached(); 0 }, 1);

for my $c (@names) {
    ok(!$reached{$c->[0]}, "$c->[1]: the body reached no location");
}

$t->stop;
done_testing;
