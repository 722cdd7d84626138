#!/usr/bin/perl

# Input of GET /lookup.
#
# Part 1: every bad request gets 400 (405 for a wrong method) with the JSON
# document {"error":{"kind":K,"message":M}}, K and M exact, and NOTHING is
# sent upstream: the fixture must count zero calls after the whole bad batch.
#
# Part 2: good targets: type detection, the canonical form in the document,
# and the target reaching the provider percent-encoded as ONE path
# component (the fixture echoes the raw path and query it received), so no
# target can change the provider's path, query or headers.  X-Request-ID is
# the same in the response, the document and the provider's request.

use strict;
use warnings;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my $t  = OsintTest->new(workers => 2);
my $fx = $t->fixture;

# all: every type; its query also carries the type, so the fixture's query
#      must be exactly "p=all&t=<type>" (no target text can add to it).
# v4:  ipv4 only (for no_provider with ?providers=v4).
# hdr: domain only, the target also in a header (header injection).
$t->write_conf(<<'EOF');
    osint_zone 8m;

    osint_provider all {
        types ip domain email url hash;
        url "http://127.0.0.1:%%FX0%%/all/$osint_target?p=all&t=$osint_target_type";
        timeout 3s;
        cache_ttl off;      # every good lookup must reach the fixture
    }

    osint_provider v4 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/v4/$osint_target";
        cache_ttl off;
    }

    osint_provider hdr {
        types domain;
        url "http://127.0.0.1:%%FX0%%/hdr/$osint_target";
        header "X-Target: $osint_target";
        cache_ttl off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF

$t->run;

###############################################################################
# Part 1: bad input

my $NOT_ANY  = 'target is not an ip address, domain, email, url, phone number or hash';
my $CONTROL  = 'target contains whitespace or control characters';
my $NOT_TYPE = 'target is not of the requested type';
my $TYPES    = 'known are ip, ipv4, ipv6, domain, email, url, hash, phone and username';

# [ name, request URI, kind, message ]
my @bad = (
    # presence and size
    [ 'no target',        '/lookup',
      'invalid_target', 'the "target" parameter is required' ],
    [ 'no target, other parameters', '/lookup?type=ip&providers=all',
      'invalid_target', 'the "target" parameter is required' ],
    [ 'empty target',     '/lookup?target=',
      'invalid_target', 'target is empty' ],
    [ 'blank target',     '/lookup?target=%20%20%09',
      'invalid_target', 'target is empty' ],
    [ 'decoded target over 2048 bytes', '/lookup?target=' . ('a' x 3000),
      'invalid_target', 'target is too long' ],
    [ 'raw target over 6144 bytes', '/lookup?target=' . ('a' x 6200),
      'invalid_target', '"target" is too long' ],
    [ 'encoded target over 6144 bytes', '/lookup?target=' . ('%61' x 2100),
      'invalid_target', '"target" is too long' ],

    # whitespace and control characters
    [ 'space inside',     '/lookup?target=8.8.8.8%208.8.4.4',
      'invalid_target', $CONTROL ],
    [ 'space inside a domain', '/lookup?target=exa%20mple.com',
      'invalid_target', $CONTROL ],
    [ 'NUL',              '/lookup?target=8.8.8.8%00',
      'invalid_target', $CONTROL ],
    [ 'NUL inside',       '/lookup?target=example%00.com',
      'invalid_target', $CONTROL ],
    [ 'LF',               '/lookup?target=example.com%0a',
      'invalid_target', $CONTROL ],
    [ 'CR',               '/lookup?target=%0dexample.com',
      'invalid_target', $CONTROL ],
    [ 'DEL',              '/lookup?target=example.com%7f',
      'invalid_target', $CONTROL ],
    [ 'tab inside',       '/lookup?target=a%09b.com',
      'invalid_target', $CONTROL ],

    # not a valid target of any type
    [ '1.2.3',            '/lookup?target=1.2.3',
      'invalid_target', $NOT_ANY ],
    [ '256.1.1.1',        '/lookup?target=256.1.1.1',
      'invalid_target', $NOT_ANY ],
    [ '01.2.3.4',         '/lookup?target=01.2.3.4',
      'invalid_target', $NOT_ANY ],
    [ '1.2.3.4.5',        '/lookup?target=1.2.3.4.5',
      'invalid_target', $NOT_ANY ],
    [ '-bad-.com',        '/lookup?target=-bad-.com',
      'invalid_target', $NOT_ANY ],
    [ 'a..b.com',         '/lookup?target=a..b.com',
      'invalid_target', $NOT_ANY ],
    [ 'single label',     '/lookup?target=localhost',
      'invalid_target', $NOT_ANY ],
    [ 'label of 64 bytes', '/lookup?target=' . ('a' x 64) . '.com',
      'invalid_target', $NOT_ANY ],
    [ 'bad ipv6',         '/lookup?target=2001:db8::1::2',
      'invalid_target', $NOT_ANY ],
    [ 'hash of 31 hex digits', '/lookup?target=' . ('a' x 31),
      'invalid_target', $NOT_ANY ],
    [ 'email without local part', '/lookup?target=%40example.com',
      'invalid_target', $NOT_ANY ],
    [ 'email with a bad domain', '/lookup?target=a%40b',
      'invalid_target', $NOT_ANY ],
    [ 'url without host', '/lookup?target=http%3A%2F%2F',
      'invalid_target', $NOT_ANY ],
    [ 'javascript: url',  '/lookup?target=javascript%3Aalert(1)',
      'invalid_target', $NOT_ANY ],
    [ 'UTF-8 IDN',        '/lookup?target=b%C3%BCcher.de',
      'invalid_target',
      'internationalized names must be given in punycode (xn--)' ],
    [ 'UTF-8 IDN email',  '/lookup?target=me%40b%C3%BCcher.de',
      'invalid_target',
      'internationalized names must be given in punycode (xn--)' ],

    # targets that try to leave their URL component
    [ '../../admin',      '/lookup?target=../../admin',
      'invalid_target', $NOT_ANY ],
    [ '../../admin encoded', '/lookup?target=..%2F..%2Fadmin',
      'invalid_target', $NOT_ANY ],
    [ 'a/b',              '/lookup?target=a%2Fb',
      'invalid_target', $NOT_ANY ],
    [ 'domain/path',      '/lookup?target=example.com%2Fadmin',
      'invalid_target', $NOT_ANY ],
    [ 'x?y=1',            '/lookup?target=x%3Fy%3D1',
      'invalid_target', $NOT_ANY ],
    [ 'domain?query',     '/lookup?target=example.com%3Fstatus%3D500',
      'invalid_target', $NOT_ANY ],
    [ 'domain#fragment',  '/lookup?target=example.com%23x',
      'invalid_target', $NOT_ANY ],
    [ '%2e%2e%2f decoded once: ../', '/lookup?target=%2e%2e%2f',
      'invalid_target', $NOT_ANY ],
    [ '%2e%2e%2f literally', '/lookup?target=%252e%252e%252f',
      'invalid_target', $NOT_ANY ],
    [ 'header injection (CRLF)',
      '/lookup?target=evil.com%0d%0aX-Injected:1&providers=hdr',
      'invalid_target', $CONTROL ],
    [ 'header injection (LF)',
      '/lookup?target=evil.com%0aX-Injected:%201',
      'invalid_target', $CONTROL ],

    # parameters
    [ 'type=foo',         '/lookup?target=8.8.8.8&type=foo',
      'invalid_parameter', qq{unknown type "foo"; $TYPES} ],
    [ 'empty type',       '/lookup?target=8.8.8.8&type=',
      'invalid_parameter', qq{unknown type ""; $TYPES} ],
    [ 'type=domain for an ip', '/lookup?target=8.8.8.8&type=domain',
      'invalid_target', $NOT_TYPE ],
    [ 'type=ipv6 for an ipv4', '/lookup?target=8.8.8.8&type=ipv6',
      'invalid_target', $NOT_TYPE ],
    [ 'type=hash for a domain', '/lookup?target=example.com&type=hash',
      'invalid_target', $NOT_TYPE ],
    [ 'providers=nope',   '/lookup?target=8.8.8.8&providers=nope',
      'invalid_parameter', 'unknown provider "nope"' ],
    [ 'providers=all,nope', '/lookup?target=8.8.8.8&providers=all,nope',
      'invalid_parameter', 'unknown provider "nope"' ],
    [ 'providers: prefix of a name', '/lookup?target=8.8.8.8&providers=al',
      'invalid_parameter', 'unknown provider "al"' ],
    [ 'the first refresh= counts', '/lookup?target=8.8.8.8&refresh=x&refresh=1',
      'invalid_parameter', '"refresh" must be 0 or 1' ],
    [ 'the first providers= counts',
      '/lookup?target=8.8.8.8&PROVIDERS=nope&providers=all',
      'invalid_parameter', 'unknown provider "nope"' ],
    [ 'refresh=2',        '/lookup?target=8.8.8.8&refresh=2',
      'invalid_parameter', '"refresh" must be 0 or 1' ],
    [ 'refresh=yes',      '/lookup?target=8.8.8.8&refresh=yes',
      'invalid_parameter', '"refresh" must be 0 or 1' ],
    [ 'empty refresh',    '/lookup?target=8.8.8.8&refresh=',
      'invalid_parameter', '"refresh" must be 0 or 1' ],

    # no provider for the type among those selected
    [ 'domain, only v4 selected', '/lookup?target=example.com&providers=v4',
      'no_provider', 'no provider answers domain targets' ],
    [ 'ipv6, only v4 and hdr selected', '/lookup?target=::1&providers=v4,hdr',
      'no_provider', 'no provider answers ipv6 targets' ],
    [ 'email, only hdr selected',
      '/lookup?target=a%40example.com&providers=hdr',
      'no_provider', 'no provider answers email targets' ],
);

$fx->reset;

# check_error($res, $status, $kind, $message): the error document, exactly
sub check_error {
    my ($res, $status, $kind, $message) = @_;

    is($res->{status}, $status, "status $status");
    is($res->{headers}{'content-type'}, 'application/json',
       'Content-Type application/json');
    like($res->{headers}{'x-request-id'} // '', qr/^[0-9a-f]{32}$/,
         'X-Request-ID');

    my $doc = OsintTest::decode_json_or_undef($res->{content});
    is_deeply($doc, { error => { kind => $kind, message => $message,
                                 retryable => JSON::PP::false() } },
              "error document: $kind") or diag($res->{content});
}

for my $case (@bad) {
    my ($name, $uri, $kind, $message) = @$case;
    my $res = $t->get($uri);
    subtest "bad: $name" => sub { check_error($res, 400, $kind, $message) };
}

# Wrong methods: 405, the same JSON shape.
for my $method (qw(PUT DELETE PATCH)) {
    my $res = $t->request($method, '/lookup?target=8.8.8.8',
                          body => '{"targets":["8.8.8.8"]}',
                          headers => { 'Content-Type' => 'application/json' });
    subtest "bad: method $method" => sub {
        check_error($res, 405, 'invalid_parameter',
                    'method not allowed: use GET, or POST for a batch');
    };

    # RFC 9110 15.5.6: a 405 response MUST carry Allow.
    like($res->{headers}{allow} // '', qr/^GET\b/,
         "method $method: 405 with an Allow header listing GET");
}

# POST /lookup is the batch of docs/document.md: a body that is not JSON is bad
# input (400): a JSON error of kind invalid_parameter, nothing upstream.
{
    my $res = $t->post('/lookup?target=8.8.8.8', 'not json',
                       { 'Content-Type' => 'application/json' });
    subtest 'bad: POST with a body that is not JSON' => sub {
        is($res->{status}, 400, 'status 400');
        is($res->{headers}{'content-type'}, 'application/json', 'JSON');
        my $doc = OsintTest::decode_json_or_undef($res->{content});
        is($doc->{error}{kind}, 'invalid_parameter', 'kind invalid_parameter')
            or diag($res->{content});
        like($doc->{error}{message} // '', qr/\S/, 'a message');
    };
}

# The raw request line itself may carry what an HTTP client would refuse
# to send (a bare space cannot, nginx answers 400 itself).
{
    my $raw = $t->raw("GET /lookup?target=a\tb.com HTTP/1.0\r\n\r\n");
    like($raw, qr{^HTTP/1\.1 400 }, 'raw tab in the request line: 400');
}

# The whole bad batch, on both workers: not one call reached the provider.
is($fx->calls, 0, 'bad input: zero calls upstream')
    or diag(explain($fx->by_path));

###############################################################################
# Part 2: good input

# good($name, $query, %want)
#   want: target, type (document), path (raw path at provider "all"),
#         calls (how many provider calls in all; default 1)
# Checks the document, that "all" got the target percent-encoded as one
# component of its path and an unchanged query, and that the fixture
# decoded that one component back to the canonical target.
sub good {
    my ($name, $query, %want) = @_;

    $fx->reset;
    my ($st, $doc, $res) = $t->get_json("/lookup?$query");
    my $log = $fx->log;

    subtest "good: $name" => sub {
        is($st, 200, 'status 200') or diag($res->{content});
        is($res->{headers}{'content-type'}, 'application/json', 'JSON');
        is($doc->{target}, $want{target}, "target $want{target}");
        is($doc->{type}, $want{type}, "type $want{type}");

        my $all = $doc->{providers}{all} // {};
        is($all->{status}, 'ok', 'provider "all" ok')
            or diag(explain($all));
        my $echo = $all->{data} // {};
        is($echo->{path}, $want{path}, "raw path at the provider: $want{path}");
        is($echo->{query}, "p=all&t=$want{type}",
           'query at the provider unchanged');
        is($echo->{target}, $want{target},
           'the provider decodes one component back to the target');

        is(scalar @$log, $want{calls} // 1, 'number of provider calls');
        is(scalar(grep { $_->{path} eq $want{path} } @$log), 1,
           'one call with that path');

        $want{more}->($doc, $log) if $want{more};
    };

    return ($doc, $log, $res);
}

good('ipv4', 'target=8.8.8.8',
     target => '8.8.8.8', type => 'ipv4', path => '/all/8.8.8.8', calls => 2,
     more => sub {
         my ($doc, $log) = @_;
         is($doc->{providers}{v4}{status}, 'ok', 'v4 provider ok');
         ok(!exists $doc->{providers}{hdr}, 'hdr (domain) not asked');
         is(scalar(grep { $_->{path} eq '/v4/8.8.8.8' } @$log), 1,
            'v4 provider called');
     });

good('ipv4 with spaces around', 'target=%208.8.8.8%20',
     target => '8.8.8.8', type => 'ipv4', path => '/all/8.8.8.8', calls => 2);

good('ipv4 with a tab around', 'target=%098.8.8.8',
     target => '8.8.8.8', type => 'ipv4', path => '/all/8.8.8.8', calls => 2);

good('ipv4, only "all"', 'target=8.8.8.8&providers=all',
     target => '8.8.8.8', type => 'ipv4', path => '/all/8.8.8.8',
     more => sub {
         is_deeply([keys %{$_[0]{providers}}], ['all'],
                   'only the selected provider in the document');
     });

good('type=ip', 'target=1.1.1.1&type=ip&providers=all&refresh=1',
     target => '1.1.1.1', type => 'ipv4', path => '/all/1.1.1.1');

good('type in upper case', 'target=1.1.1.1&type=IPv4&providers=all',
     target => '1.1.1.1', type => 'ipv4', path => '/all/1.1.1.1');

# arguments are found as nginx's ngx_http_arg() ($arg_NAME) finds them:
# the first "NAME=" part, the name's case aside; a part without "=" or
# whose name only ends in NAME is not it
good('the first target= counts', 'target=8.8.8.8&providers=all&target=9.9.9.9',
     target => '8.8.8.8', type => 'ipv4', path => '/all/8.8.8.8');

good('argument names case aside', 'TARGET=8.8.8.8&Providers=all&TYPE=ip',
     target => '8.8.8.8', type => 'ipv4', path => '/all/8.8.8.8');

good('"xtarget=" and "target" without "=" are not target=',
     'xtarget=1.1.1.1&target&providers=all&target=8.8.8.8',
     target => '8.8.8.8', type => 'ipv4', path => '/all/8.8.8.8');

good('a value that holds "=" and "target="',
     'providers=all&type=ipv4&target=8.8.8.8&x=target=1.1.1.1',
     target => '8.8.8.8', type => 'ipv4', path => '/all/8.8.8.8');

good('ipv6 canonical (RFC 5952)', 'target=2001:DB8:0:0::1',
     target => '2001:db8::1', type => 'ipv6', path => '/all/2001%3Adb8%3A%3A1');

good('ipv6 percent-encoded in the query', 'target=2001%3ADB8%3A0%3A0%3A%3A1',
     target => '2001:db8::1', type => 'ipv6', path => '/all/2001%3Adb8%3A%3A1');

good('ipv6 in brackets', 'target=%5B::1%5D',
     target => '::1', type => 'ipv6', path => '/all/%3A%3A1');

good('domain: lower case, no trailing dot', 'target=Example.COM.',
     target => 'example.com', type => 'domain', path => '/all/example.com',
     calls => 2,
     more => sub {
         my ($doc, $log) = @_;
         my ($h) = grep { $_->{path} eq '/hdr/example.com' } @$log;
         ok($h, 'hdr provider called');
         is($h && $h->{headers}{'x-target'}, 'example.com',
            'header template: X-Target is the target');
     });

good('punycode domain kept', 'target=xn--bcher-kva.de&providers=all',
     target => 'xn--bcher-kva.de', type => 'domain',
     path => '/all/xn--bcher-kva.de');

good('service name with "_"', 'target=_dmarc.Example.com&providers=all',
     target => '_dmarc.example.com', type => 'domain',
     path => '/all/_dmarc.example.com');

# "+" in the query is a "+", not a space: e-mail tags.
good('email, raw "+"', 'target=User+Tag@Example.com',
     target => 'user+tag@example.com', type => 'email',
     path => '/all/user%2Btag%40example.com');

good('email, encoded', 'target=User%2BTag%40Example.com',
     target => 'user+tag@example.com', type => 'email',
     path => '/all/user%2Btag%40example.com');

# A VALID target may hold "/", "?", "&", "=" and "#" (RFC 5322 atext of an
# e-mail local part): they must still stay inside the one path segment.
good('email holding URL delimiters', 'target=x%2Fy%3Fz%3D1%26w%23v%40example.com',
     target => 'x/y?z=1&w#v@example.com', type => 'email',
     path => '/all/x%2Fy%3Fz%3D1%26w%23v%40example.com');

# A URL target: scheme and host lower-cased, dot segments of the path
# removed (t/27-target-keys.t), the rest kept as given (query, fragment),
# and all of it ONE path segment at the provider: no "/", "?", "&" or "#"
# of the target reaches the provider unencoded.
good('url', 'target=https%3A%2F%2FExample.com%2Fa%2F..%2Fb%3Fx%3D1%26y%3D2%23f',
     target => 'https://example.com/b?x=1&y=2#f', type => 'url',
     path => '/all/https%3A%2F%2Fexample.com%2Fb%3Fx%3D1%26y%3D2%23f');

good('url with port, scheme in upper case',
     'target=HTTP%3A%2F%2FEXAMPLE.COM%3A8080%2FX%2FY',
     target => 'http://example.com:8080/X/Y', type => 'url',
     path => '/all/http%3A%2F%2Fexample.com%3A8080%2FX%2FY');

# Only scheme and host are case-insensitive (RFC 3986 6.2.2.1): the
# userinfo is kept as given, as the path is.
good('url with userinfo', 'target=http%3A%2F%2FUser%3APass%40Example.com%2FP',
     target => 'http://User:Pass@example.com/P', type => 'url',
     path => '/all/http%3A%2F%2FUser%3APass%40example.com%2FP');

good('url with an ipv4 host', 'target=http%3A%2F%2F10.0.0.1%2Fx%3Fa%3Db',
     target => 'http://10.0.0.1/x?a=b', type => 'url',
     path => '/all/http%3A%2F%2F10.0.0.1%2Fx%3Fa%3Db');

good('md5 in upper case', 'target=D41D8CD98F00B204E9800998ECF8427E',
     target => 'd41d8cd98f00b204e9800998ecf8427e', type => 'hash',
     path => '/all/d41d8cd98f00b204e9800998ecf8427e');

good('sha1 in upper case', 'target=DA39A3EE5E6B4B0D3255BFEF95601890AFD80709',
     target => 'da39a3ee5e6b4b0d3255bfef95601890afd80709', type => 'hash',
     path => '/all/da39a3ee5e6b4b0d3255bfef95601890afd80709');

good('sha256 in upper case',
     'target=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
     target => 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
     type => 'hash',
     path => '/all/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

# The longest target accepted: 2048 bytes after decoding.
{
    my $long = join('.', ('a' x 63) x 3) . '.com';      # 195 bytes, a domain
    good('long domain', "target=$long&providers=all",
         target => $long, type => 'domain', path => "/all/$long");
}

# Length limit, at the boundary: 2048 bytes after decoding is the longest
# target accepted, one more byte is refused (and not called).
{
    my $head = 'http://example.com/';
    my $url  = $head . ('a' x (2048 - length $head));
    my $enc  = 'http%3A%2F%2Fexample.com%2F' . ('a' x (2048 - length $head));

    good('url of 2048 bytes', "target=$enc&providers=all",
         target => $url, type => 'url', path => "/all/$enc");

    $fx->reset;
    my $res = $t->get("/lookup?target=${enc}a&providers=all");
    subtest 'bad: url of 2049 bytes' => sub {
        check_error($res, 400, 'invalid_target', 'target is too long');
    };
    is($fx->calls, 0, '2049 bytes: not called');
}

###############################################################################
# X-Request-ID: one id for the response header, the document and the call

{
    $fx->reset;
    my ($st, $doc, $res) = $t->get_json('/lookup?target=8.8.4.4&providers=all');
    my $log = $fx->log;
    my $rid = $res->{headers}{'x-request-id'} // '';

    is($st, 200, 'request id: lookup 200');
    like($rid, qr/^[0-9a-f]{32}$/, 'X-Request-ID in the response');
    is($doc->{request_id}, $rid, 'document request_id = X-Request-ID');
    is(scalar @$log, 1, 'request id: one provider call');
    is($log->[0]{headers}{'x-request-id'}, $rid,
       'the provider got the same X-Request-ID');

    # Another lookup, another id.
    my (undef, $doc2, $res2) = $t->get_json('/lookup?target=8.8.4.4&providers=all');
    isnt($res2->{headers}{'x-request-id'}, $rid, 'a new id per request');
    is($doc2->{request_id}, $res2->{headers}{'x-request-id'},
       'second lookup: document request_id = X-Request-ID');
}

$t->done_testing;
