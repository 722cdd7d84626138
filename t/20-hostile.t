#!/usr/bin/perl

# Hostile input, beyond the grammar of t/02-input.t and t/16-batch.t:
#
# Part 1: targets an attacker would try: 64 KB long, IPv6 zone ids,
# Unicode confusables and invisible characters, percent signs that
# survive one decoding, "@" tricks in URLs.  Bad ones: a 400 JSON (or
# nginx's own 414 for a request line beyond its buffers) and no call
# upstream.  Good ones: the provider receives exactly the request line
# and headers the configuration makes, the target one encoded component.
#
# Part 2: batch bodies: over the buffer, over client_max_body_size,
# nested deeper than the parser allows, arrays where strings belong,
# NUL inside a target, a 64 KB target.
#
# Part 3: hostile provider answers: ill-formed UTF-8 (repaired to
# U+FFFD, our documents stay valid UTF-8), 100000 levels of nesting (an
# error of that provider only), a wrong Content-Type.
#
# Part 4: secrets: the API key (in the URL and a header) and the Redis
# password appear in no response, no log line (error.log at debug too,
# access.log), no status output and nothing stored in Redis, even when a
# provider quotes the key back in its answer.

use strict;
use warnings;

use Test::More;
use Encode ();
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my $KEY = 'k3y-OSINT-hostile-7f3a9c2e51';
my $REDIS_PW = 'pw-hostile-redis-b6d1e0';

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $redis = $t->redis(password => $REDIS_PW);

$t->main_conf("env OSINT_HOSTILE_KEY;\nenv OSINT_HOSTILE_REDIS_PW;\n"
              . "error_log %%TESTDIR%%/debug.log debug;");
$t->env(OSINT_HOSTILE_KEY => $KEY, OSINT_HOSTILE_REDIS_PW => $REDIS_PW);

my $rport = $redis->port;

$t->write_conf(<<"EOF");
    osint_zone 8m;
    osint_cache_bypass 1;           # refresh=1, no-cache honoured here
    osint_deadline 3s;
    osint_batch_max 20;
    osint_redis 127.0.0.1:$rport password=env:OSINT_HOSTILE_REDIS_PW
                timeout=500ms prefix=hostile:;

    log_format everything '\$remote_addr "\$request" \$status \$args '
                          '"\$http_x_key" "\$http_authorization" '
                          '\$osint_providers_ok \$osint_providers_failed';

    # every type; the key in the query and in a header, the target in the
    # path and in a header: the fixture logs what it got
    osint_provider all {
        types ip domain email url hash;
        url "http://127.0.0.1:%%FX0%%/all/\$osint_target?key=\$osint_api_key&t=\$osint_target_type";
        header "X-Target: \$osint_target";
        header "X-Key: \$osint_api_key";
        api_key env=OSINT_HOSTILE_KEY;
        cache_ttl 60s;
        breaker off;
    }

    # answers that hurt parsers: ipv4 only, each on its own
    osint_provider badutf8 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/badutf8/\$osint_target?fault=badutf8";
        cache_ttl off;
        breaker off;
    }

    osint_provider nested {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/nested/\$osint_target?fault=nested";
        cache_ttl off;
        breaker off;
    }

    osint_provider html {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/html/\$osint_target?ctype=text/html";
        cache_ttl off;
        breaker off;
    }

    # a provider that refuses the key (401)
    osint_provider refuses {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/refuses/\$osint_target?status=401&key=\$osint_api_key";
        api_key env=OSINT_HOSTILE_KEY;
        cache_ttl off;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        access_log %%TESTDIR%%/access-all.log everything;
        client_body_buffer_size 16k;
        client_max_body_size 64k;

        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
        location = /healthz { osint_health; }
    }

    # the same, with request-line buffers that hold a 64 KB target
    server {
        listen 127.0.0.1:%%PORT2%%;
        large_client_header_buffers 4 128k;
        client_body_buffer_size 256k;
        client_max_body_size 256k;

        location = /lookup { osint_lookup; }
    }
EOF

$t->run;

my $NOT_ANY = 'target is not an ip address, domain, email, url, phone number or hash';
my $CONTROL = 'target contains whitespace or control characters';
my $IDN = 'internationalized names must be given in punycode (xn--)';

my @responses;      # every body any request got: grepped for secrets

sub error_doc {
    my ($res, $status, $kind, $message, $name) = @_;
    push @responses, $res->{content};
    subtest $name => sub {
        is($res->{status}, $status, "status $status");
        is($res->{headers}{'content-type'}, 'application/json', 'JSON');
        is_deeply(OsintTest::decode_json_or_undef($res->{content}),
                  { error => { kind => $kind, message => $message,
                               retryable => JSON::PP::false() } },
                  "$kind: $message") or diag($res->{content});
    };
}

# is_utf8_json($bytes) -> the decoded document when $bytes is strictly
# well-formed UTF-8 (no surrogates, nothing above U+10FFFF) and JSON
sub utf8_json {
    my ($bytes) = @_;
    my $copy = $bytes;
    my $ok = eval { Encode::decode('UTF-8', $copy, Encode::FB_CROAK); 1 };
    return undef unless $ok;
    return OsintTest::decode_json_or_undef($bytes);
}

###############################################################################
# Part 1: targets

$fx->reset;

my @bad = (
    # IPv6 zone ids name an interface of the host that asks: meaningless
    # to a provider, and "%" must never reach a URL undecoded
    [ 'IPv6 zone id', 'fe80::1%25eth0', $NOT_ANY ],
    [ 'IPv6 zone id in brackets', '%5Bfe80::1%25eth0%5D', $NOT_ANY ],
    [ 'IPv6 zone id, numeric', 'fe80::1%251', $NOT_ANY ],
    [ 'IPv6 zone id encoded twice', 'fe80::1%2525eth0', $NOT_ANY ],

    # Unicode: confusables and invisible characters are not ASCII
    [ 'Cyrillic "a" in a domain', 'ex%D0%B0mple.com', $IDN ],
    [ 'Greek omicron in a domain', 'g%CE%BFogle.com', $IDN ],
    [ 'fullwidth full stop', 'example%EF%BC%8Ecom', $IDN ],
    [ 'ideographic full stop', 'example%E3%80%82com', $IDN ],
    [ 'zero-width joiner', 'exa%E2%80%8Dmple.com', $IDN ],
    [ 'zero-width space', '%E2%80%8Bexample.com', $IDN ],
    [ 'right-to-left override', 'moc.%E2%80%AEexample.com', $IDN ],
    [ 'soft hyphen', 'exam%C2%ADple.com', $IDN ],
    [ 'Cyrillic domain of an email', 'me%40ex%D0%B0mple.com', $IDN ],
    [ 'overlong "../" (invalid UTF-8)', '%C0%AE%C0%AE%C0%AF', $IDN ],
    [ 'lone UTF-8 continuation bytes', '%80%80.com', $IDN ],
    [ 'fullwidth digits as an ip', '%EF%BC%98.8.8.8', $IDN ],
    [ 'Latin-1 byte', 'caf%E9.com', $IDN ],

    # percent signs that survive one decoding
    [ '%41 after decoding', 'ex%2541mple.com', $NOT_ANY ],
    [ '%00 after decoding', 'example.com%2500', $NOT_ANY ],
    [ '%0d%0a after decoding', 'example.com%250d%250aX-A:1', $NOT_ANY ],

    # "@", "#", "?", "\" where they do not belong
    [ 'two "@"', 'a%40b%40example.com', $NOT_ANY ],
    [ 'ip, then "@"', '8.8.8.8%40', $NOT_ANY ],
    [ 'url, "@" and no host', 'http%3A%2F%2Fuser%40%2Fpath', $NOT_ANY ],
    [ 'backslash path', 'example.com%5C..%5Cadmin', $NOT_ANY ],
    [ 'domain, then "#"', 'example.com%23evil.com', $NOT_ANY ],
    [ 'domain, then "?"', 'example.com%3Fevil.com', $NOT_ANY ],
    [ '"@" in the domain of an email', 'a%40b%40c.com', $NOT_ANY ],
    [ 'url, no "//"', 'http%3Aexample.com', $NOT_ANY ],
    [ 'file: url', 'file%3A%2F%2F%2Fetc%2Fpasswd', $NOT_ANY ],
    [ 'gopher: url', 'gopher%3A%2F%2F127.0.0.1%3A6379%2F_FLUSHALL', $NOT_ANY ],
    [ 'url with a CRLF', 'http%3A%2F%2Fa.com%2F%0D%0AHost%3A%20b', $CONTROL ],
    [ 'url with a space', 'http%3A%2F%2Fa.com%2Fa%20b', $CONTROL ],
);

for my $case (@bad) {
    my ($name, $target, $message) = @$case;
    error_doc($t->get("/lookup?target=$target"), 400, 'invalid_target',
              $message, "bad: $name");
}

# 64 KB: beyond nginx's default request-line buffers nginx itself answers
# 414 before any module runs; with buffers that hold it, our 400.
{
    my $long = 'a' x 65536;
    my $res = $t->get("/lookup?target=$long.com");
    is($res->{status}, 414, '64 KB target, default buffers: nginx\'s 414');

    error_doc($t->get($t->url("/lookup?target=$long.com", $t->port(2))),
              400, 'invalid_target', '"target" is too long',
              '64 KB target, large buffers: our 400');

    error_doc($t->get($t->url('/lookup?target=' . ('%61' x 21000),
                              $t->port(2))),
              400, 'invalid_target', '"target" is too long',
              '64 KB of %-encodings: our 400');
}

is($fx->calls, 0, 'bad targets: zero calls upstream')
    or diag(explain($fx->by_path));

# Good targets built to break out of their component: the provider gets
# exactly "GET /all/<one encoded component>?key=<key>&t=<type>" and the
# headers of the configuration, nothing more.
sub exact_request {
    my ($name, $target, $want_target, $want_type, $want_path) = @_;

    $fx->reset;
    my $res = $t->get("/lookup?target=$target&providers=all&refresh=1");
    push @responses, $res->{content};
    my $doc = utf8_json($res->{content});
    my $log = $fx->log;

    subtest "exact request: $name" => sub {
        is($res->{status}, 200, 'status 200') or diag($res->{content});
        is($doc->{target}, $want_target, 'canonical target');
        is($doc->{type}, $want_type, "type $want_type");
        is(scalar @$log, 1, 'one call');
        my $req = $log->[0] // {};
        is($req->{method}, 'GET', 'GET');
        is($req->{path}, "/all/$want_path", 'path: one encoded component');
        is($req->{query}, "key=$KEY&t=$want_type", 'query unchanged');
        is($req->{headers}{'x-target'}, $want_path, 'X-Target encoded');
        is($req->{headers}{'x-key'}, $KEY, 'X-Key');
        is($req->{headers}{host}, '127.0.0.1:' . $fx->port, 'Host');
        # (no Accept-Encoding: an IP literal's provider is called by the
        # plain client, which asks for none)
        is_deeply([ sort keys %{$req->{headers} // {}} ],
                  [ sort qw(host accept user-agent
                            x-request-id x-target x-key) ],
                  'no header beyond the configuration')
            or diag(explain($req->{headers}));
        is($doc->{providers}{all}{data}{target}, $want_target,
           'the provider decodes the component back to the target');
    };
}

exact_request('url with credentials and every delimiter',
    'http%3A%2F%2Fuser%3Ap%40ss%3Aw0rd%40Evil.Example%3A8080%2Fa%2F..%2Fb'
    . '%3Fx%3D1%26y%3D%252F%23frag',
    'http://user:p@ss:w0rd@evil.example:8080/b?x=1&y=%2F#frag', 'url',
    'http%3A%2F%2Fuser%3Ap%40ss%3Aw0rd%40evil.example%3A8080%2Fb'
    . '%3Fx%3D1%26y%3D%252F%23frag');

exact_request('url whose userinfo names another host',
    'http%3A%2F%2Fgood.example%40127.0.0.1%2F',
    'http://good.example@127.0.0.1/', 'url',
    'http%3A%2F%2Fgood.example%40127.0.0.1%2F');

# "#" and "?" are atext (RFC 5322, 3.2.3): these are e-mail addresses at
# evil.com, and reach the provider as what they are
exact_request('email whose local part looks like a domain and a fragment',
    'example.com%23%40evil.com', 'example.com#@evil.com', 'email',
    'example.com%23%40evil.com');

exact_request('email whose local part looks like a domain and a query',
    'example.com%3F%40evil.com', 'example.com?@evil.com', 'email',
    'example.com%3F%40evil.com');

exact_request('email holding "%", "&", "=" and "/"',
    'a%25b%26c%3Dd%2Fe%40example.com',
    'a%b&c=d/e@example.com', 'email', 'a%25b%26c%3Dd%2Fe%40example.com');

###############################################################################
# Part 2: batch bodies

sub batch_error {
    my ($name, $body, $message, $port) = @_;
    my $res = $t->post($t->url('/lookup', $port), $body,
                       { 'Content-Type' => 'application/json' });
    error_doc($res, 400, 'invalid_parameter', $message, "batch: $name");
}

$fx->reset;

batch_error('over client_body_buffer_size',
            '{"targets":["8.8.8.8"],"pad":"' . ('x' x 40000) . '"}',
            'the batch body is larger than client_body_buffer_size');

batch_error('nested 5000 deep',
            '{"targets":' . ('[' x 5000) . (']' x 5000) . '}',
            'the batch body is not valid JSON');

batch_error('nested 5000 deep in another member',
            '{"x":' . ('[' x 5000) . (']' x 5000) . ',"targets":["8.8.8.8"]}',
            'the batch body is not valid JSON');

batch_error('a lone surrogate escape', '{"targets":["\ud800.com"]}',
            'the batch body is not valid JSON');

batch_error('\u0000 inside a target', '{"targets":["8.8.8.8\u0000.evil.com"]}',
            'the batch body holds \u0000, which no target can');

batch_error('\u0000 in another member', '{"x":"\u0000","targets":["8.8.8.8"]}',
            'the batch body holds \u0000, which no target can');

batch_error('a raw NUL inside a target', qq({"targets":["8.8.8.8\0.evil.com"]}),
            'the batch body is not valid JSON');

batch_error('a second object after the first',
            '{"targets":["8.8.8.8"]}{"targets":["8.8.4.4"]}',
            'the batch body is not valid JSON');

batch_error('targets is an object', '{"targets":{"0":"8.8.8.8"}}',
            'the batch body must be {"targets": [...]}');

{
    my $res = $t->post('/lookup', '{"targets":["8.8.8.8"],"pad":"'
                                  . ('x' x 70000) . '"}',
                       { 'Content-Type' => 'application/json' });
    is($res->{status}, 413, 'batch over client_max_body_size: nginx\'s 413');
}

# lines of their own: targets that are no string, escaped Cyrillic, 64 KB;
# "\\u0000" is a backslash and "u0000", not a NUL
{
    my $res = $t->post($t->url('/lookup', $t->port(2)),
                       '{"targets":[[[["8.8.8.8"]]],{"t":"8.8.8.8"},'
                       . '"ex\u0430mple.com","a\\\\u0000.com",'
                       . '"' . ('a' x 65536) . '.com"]}',
                       { 'Content-Type' => 'application/json' });
    push @responses, $res->{content};

    is($res->{status}, 200, 'batch of bad targets: 200');
    my @lines = map { utf8_json($_) } split /\n/, $res->{content};
    is(scalar @lines, 5, 'five lines');
    my %by = map { ($_->{target} // 'none') . '|'
                   . ($_->{error}{message} // '') => 1 } grep { $_ } @lines;
    ok($by{"none|a target must be a string"}, 'nested array: not a string')
        or diag($res->{content});
    is(scalar(grep { !defined $_->{target} } grep { $_ } @lines), 2,
       'two targets that are no string');
    ok($by{"a\\u0000.com|$NOT_ANY"}, 'an escaped backslash before u0000')
        or diag(explain([ map { substr($_, 0, 80) } keys %by ]));
    ok($by{"ex\x{430}mple.com|$IDN"}, 'Cyrillic "a": punycode wanted');
    ok($by{('a' x 65536) . '.com|target is too long'}, '64 KB: too long');
}

is($fx->calls, 0, 'bad batches: zero calls upstream')
    or diag(explain($fx->by_path));

###############################################################################
# Part 3: hostile provider answers

$fx->reset;

{
    my $res = $t->get('/lookup?target=10.1.2.3&providers=badutf8,nested,'
                      . 'html,all');
    push @responses, $res->{content};
    my $doc = utf8_json($res->{content});

    ok($doc, 'ill-formed UTF-8 from a provider: our answer is UTF-8 JSON')
        or diag($res->{content});
    is($res->{status}, 200, '200: partial');

    my $u = $doc->{providers}{badutf8} // {};
    is($u->{status}, 'ok', 'badutf8: ok, repaired');
    is($u->{data}{org}, "a\x{FFFD}b\x{FFFD}",
       'a stray continuation byte and a truncated sequence: U+FFFD each');
    is($u->{data}{note}, "\x{FFFD}" x 9,
       'overlong, surrogate, above U+10FFFF: U+FFFD a byte');
    is($u->{data}{city}, "M\x{FC}nchen", 'well-formed UTF-8 kept');

    my $n = $doc->{providers}{nested} // {};
    is($n->{status}, 'error', '100000 levels of nesting: an error');
    is($n->{error}{kind}, 'bad_response', 'bad_response');
    is($n->{error}{message}, 'the answer is not valid JSON',
       'not valid JSON (the parser\'s depth limit)');

    is($doc->{providers}{html}{status}, 'ok',
       'JSON labelled text/html: the body decides');
    is($doc->{providers}{all}{status}, 'ok', 'the others unharmed');

    like(OsintTest::_read_file($t->testdir . '/debug.log') // '',
         qr/\[info\].*osint: provider "badutf8": \d+ bytes of ill-formed/,
         'the repair is logged with the module\'s prefix, osint:');
}

###############################################################################
# Part 4: secrets

$fx->reset;

{
    # the echo answer quotes the query, key included: redacted
    my $res = $t->get('/lookup?target=10.9.8.7&providers=all,refuses',
                      { 'X-Key' => 'client-header', Authorization => 'x' });
    push @responses, $res->{content};
    my $doc = utf8_json($res->{content});

    is($doc->{providers}{all}{data}{query}, 'key=' . ('*' x length $KEY)
                                            . '&t=ipv4',
       'a provider quoting the key: redacted, same length')
        or diag($res->{content});
    is($doc->{providers}{refuses}{error}{kind}, 'auth',
       'a provider refusing the key: auth');

    # the same answer from L1, from Redis (another worker, or after L1)
    for (1 .. 4) {
        push @responses, $t->get('/lookup?target=10.9.8.7&providers=all')
                           ->{content};
    }

    my $log = $fx->log;
    ok(scalar(grep { ($_->{headers}{'x-key'} // '') eq $KEY } @$log),
       'the key did reach the provider (the test is not vacuous)');
}

# every batch answer too
{
    my $res = $t->post('/lookup', { targets => [ '10.9.8.6', 'example.org' ] });
    push @responses, $res->{content};
    is($res->{status}, 200, 'batch with keyed providers: 200');
}

for my $path ('/status', '/status?format=json', '/status?format=html',
              '/status?format=prometheus', '/healthz', '/healthz?ready=1')
{
    my $res = $t->get($path);
    push @responses, join("\n", map { "$_: $res->{headers}{$_}" }
                                    keys %{$res->{headers}}),
                     $res->{content};
}

my $stored = '';
my $keys = $redis->cmd('KEYS', 'hostile:*');
ok(ref $keys && @$keys > 0, 'answers were stored in Redis')
    or diag(explain($keys));
for my $k (@{ ref $keys ? $keys : [] }) {
    $stored .= "$k=" . ($redis->cmd('GET', $k) // '') . "\n";
}

my %places = (
    responses    => join("\n", @responses),
    'error.log'  => $t->error_log(0),
    'debug.log'  => OsintTest::_read_file($t->testdir . '/debug.log') // '',
    'access.log' => OsintTest::_read_file($t->testdir . '/access-all.log')
                    // '',
    redis        => $stored,
);

ok(length $places{'debug.log'} > 10000, 'the debug log was written');
ok(length $places{'access.log'} > 0, 'the access log was written');

for my $place (sort keys %places) {
    for my $secret ([ 'API key', $KEY ], [ 'Redis password', $REDIS_PW ]) {
        my $n = () = $places{$place} =~ /\Q$secret->[1]\E/g;
        is($n, 0, "$secret->[0] not in $place");
    }
}

$t->done_testing;
