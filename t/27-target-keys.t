#!/usr/bin/perl

# What a target and an API key can do to the request a provider gets, and
# where the key can come back from.
#
# Part 1: URL targets cannot steer the call.  A provider's front end with
# nginx's default settings (a second server here, routing on $uri, which
# nginx decodes and resolves dots in) gets exactly the configured endpoint
# whatever "/../" or "/%2e%2e/" a URL target holds: dot segments of the
# path are removed (RFC 3986, 5.2.4), in the query or fragment refused.
#
# Part 2: URL validation: a "[...]" host is an IPv6 address, the port is
# 1..65535 in digits, non-ASCII bytes (bidi controls included) are
# percent-encoded in the canonical form.
#
# Part 3: the API key per context: a URL or body component percent-encoded,
# a header value as it is; a key nginx could not put in a header (CR, LF,
# controls, non-ASCII) refused at nginx -t, with a message that does not
# show it.
#
# Part 4: redaction: a provider quoting the key back in any form (raw,
# percent-encoded in upper or lower case, form-encoded, JSON-escaped with
# "\/" or "\u00XX", escapes mixed) sends none of them to the client, to
# Redis or to the logs.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my %KEY = (
    k1 => 'k3y/with+special=',
    k2 => 'k%3y"q\\z',
    k3 => '%2Fk=/%41\\u0041',
);

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $redis = $t->redis;
my $rport = $redis->port;

$t->main_conf("env OSINT_K1;\nenv OSINT_K2;\nenv OSINT_K3;\n"
              . "error_log %%TESTDIR%%/debug.log debug;");
$t->env(OSINT_K1 => $KEY{k1}, OSINT_K2 => $KEY{k2}, OSINT_K3 => $KEY{k3});

my $keyed = '';
for my $name (sort keys %KEY) {
    my $env = uc "OSINT_$name";
    $keyed .= <<"EOF";
    osint_provider $name {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/$name/\$osint_target?key=\$osint_api_key&fault=echokey";
        header "X-Key: \$osint_api_key";
        api_key env=$env;
        cache_ttl 60s;
        breaker off;
    }

EOF
}

$t->write_conf(<<"EOF");
    osint_zone 8m;
    osint_deadline 3s;
    osint_redis 127.0.0.1:$rport timeout=500ms prefix=keys:;

    log_format front '\$uri';

$keyed
    # the key in a form body, the fixture takes it from key=
    osint_provider kbody {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/kbody/\$osint_target?fault=echokey";
        body "key=\$osint_api_key&t=\$osint_target";
        api_key env=OSINT_K1;
        cache_ttl off;
        breaker off;
    }

    osint_provider front {
        types url;
        url "http://127.0.0.1:%%PORT2%%/api/url/\$osint_target";
        cache_ttl off;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }

    # a provider's front end, nginx's defaults: merge_slashes on, the path
    # decoded and its dots resolved before a location is chosen
    server {
        listen 127.0.0.1:%%PORT2%%;
        access_log %%TESTDIR%%/front.log front;
        default_type application/json;

        location /api/url/ { return 200 '{"endpoint": "api"}'; }
        location /admin/ { return 200 '{"endpoint": "admin"}'; }
        location / { return 200 '{"endpoint": "other"}'; }
    }
EOF

$t->run;

my $NOT_ANY = 'target is not an ip address, domain, email, url, phone number or hash';
my $DOTS = 'url target holds a "." or ".." segment in its query or fragment';

my @responses;

# RFC 3986 percent-encoding of all but the unreserved characters
sub pct {
    my ($s, $lower) = @_;
    $s =~ s/([^A-Za-z0-9._~-])/sprintf($lower ? '%%%02x' : '%%%02X', ord $1)/ge;
    return $s;
}

sub lookup {
    my ($target, $providers) = @_;
    my $res = $t->get('/lookup?target=' . pct($target)
                      . "&providers=$providers&refresh=1");
    push @responses, $res->{content};
    return ($res, OsintTest::decode_json_or_undef($res->{content}));
}

sub front_uris {
    my $log = OsintTest::_read_file($t->testdir . '/front.log') // '';
    return [ split /\n/, $log ];
}

# the front end logs a request after it has answered it: wait up to 1 s
# for its line, so that it is not found in the next case's log instead
sub front_uris_wait {
    my $uris;
    $t->wait_until(sub { @{ $uris = front_uris() } }, 1, 0.05);
    return $uris;
}

###############################################################################
# Part 1: dot segments

# "/api/url/" + "http:" + "a.com" + 4 x ".." is "/" on the front end
for my $case (
    [ '..', 'http://a.com/../../../../admin/users', 'http://a.com/admin/users',
      '/api/url/http:/a.com/admin/users' ],
    [ '%2e%2E and .%2e', 'http://a.com/%2e%2E/.%2e/%2E./../admin/users',
      'http://a.com/admin/users', '/api/url/http:/a.com/admin/users' ],
    [ '"." and a trailing ".."', 'http://a.com/./x/./y/..?q=1',
      'http://a.com/x/?q=1', '/api/url/http:/a.com/x/?q=1' ],
    [ 'empty segments', 'http://a.com//..//../admin//users',
      'http://a.com/admin//users', '/api/url/http:/a.com/admin/users' ],
)
{
    my ($name, $target, $canonical, $uri) = @$case;

    truncate $t->testdir . '/front.log', 0;
    my ($res, $doc) = lookup($target, 'front');

    subtest "dot segments: $name" => sub {
        is($res->{status}, 200, 'status 200') or diag($res->{content});
        is($doc->{target}, $canonical, 'canonical target');
        is($doc->{providers}{front}{data}{endpoint}, 'api',
           'the configured endpoint answered');
        is_deeply(front_uris_wait(), [ $uri ], 'the front end\'s $uri');
    };
}

for my $case (
    [ 'query', 'http://a.com/x?/../../../../../admin/users' ],
    [ 'query, %2e', 'http://a.com/x?a=1/%2e%2e/%2E%2E/../../../admin' ],
    [ 'query, "."', 'http://a.com/x?/./a' ],
    [ 'fragment', 'http://a.com/x#/../../../../../admin/users' ],
    [ 'query ending in ".."', 'http://a.com/x?a/..' ],
)
{
    my ($name, $target) = @$case;

    truncate $t->testdir . '/front.log', 0;
    my ($res, $doc) = lookup($target, 'front');

    subtest "dot segments refused: $name" => sub {
        is($res->{status}, 400, 'status 400') or diag($res->{content});
        is_deeply($doc, { error => { kind => 'invalid_target',
                                     retryable => JSON::PP::false(),
                                     message => $DOTS } }, 'the reason');
        is_deeply(front_uris(), [], 'no call');
    };
}

# not dot segments: kept as they are
for my $target ('http://a.com/..a/b../.../x?q=..&r=a/..b#..',
                'http://a.com/x?..', 'http://a.com/%2e%2e%2fadmin')
{
    my ($res, $doc) = lookup($target, 'front');
    is($doc->{target}, $target, "kept: $target") or diag($res->{content});
}

###############################################################################
# Part 2: hosts, ports, non-ASCII

for my $target ('http://[1.2.3.4]/', 'http://[::g]/', 'http://[::1/',
                'http://[fe80::1%eth0]/', 'http://[fe80::1%25eth0]/',
                'http://[v1.x]/', 'http://[]/', 'http://[::1]x/',
                'http://a.com:0/', 'http://a.com:65536/',
                'http://a.com:99999999999999999999/', 'http://a.com:+80/',
                'http://a.com:8a/', 'http://a.com:/', 'http://[::1]:/',
                'http://[::1]:65536/')
{
    my ($res, $doc) = lookup($target, 'front');
    is_deeply($doc, { error => { kind => 'invalid_target',
                                 retryable => JSON::PP::false(),
                                 message => $NOT_ANY } }, "refused: $target")
        or diag($res->{content});
}

for my $case (
    [ 'http://[0:0:0:0:0:0:0:1]:8080/x', 'http://[::1]:8080/x' ],
    [ 'http://[::FFFF:1.2.3.4]/', 'http://[::ffff:1.2.3.4]/' ],
    [ 'HTTP://A.com:00080/P', 'http://a.com:80/P' ],
    [ 'http://a.com:65535/', 'http://a.com:65535/' ],
    [ 'http://a.com:1', 'http://a.com:1' ],
    [ "http://a.com/\x{e9}\x{202e}x?q=\x{e9}#\x{200f}",
      'http://a.com/%C3%A9%E2%80%AEx?q=%C3%A9#%E2%80%8F' ],
    [ "http://\x{fc}\@a.com/\x{2066}a\x{2069}",
      'http://%C3%BC@a.com/%E2%81%A6a%E2%81%A9' ],
)
{
    my ($target, $canonical) = @$case;
    my $bytes = $target;
    utf8::encode($bytes);

    my ($res, $doc) = lookup($bytes, 'front');
    is($doc->{target}, $canonical, "canonical: $canonical")
        or diag($res->{content});
}

# a byte that is no UTF-8 is percent-encoded all the same
{
    my $res = $t->get('/lookup?target=http%3A%2F%2Fa.com%2F%FF%C3'
                      . '&providers=front');
    push @responses, $res->{content};
    my $doc = OsintTest::decode_json_or_undef($res->{content});
    is($doc->{target}, 'http://a.com/%FF%C3', 'ill-formed UTF-8 encoded')
        or diag($res->{content});
}

###############################################################################
# Part 3: the key per context, as the provider gets it

$fx->reset;

for my $name (sort keys %KEY) {
    my ($res, $doc) = lookup('10.1.2.3', $name);
    my ($req) = grep { $_->{path} eq "/$name/10.1.2.3" } @{$fx->log};
    $req //= {};

    subtest "key of $name as sent" => sub {
        is($res->{status}, 200, 'status 200') or diag($res->{content});
        is($doc->{providers}{$name}{status}, 'ok', 'ok')
            or diag($res->{content});
        is($req->{query}, 'key=' . pct($KEY{$name}) . '&fault=echokey',
           'the url: percent-encoded');
        is($req->{headers}{'x-key'}, $KEY{$name}, 'the header: as it is');
    };
}

{
    my ($res, $doc) = lookup('10.1.2.4', 'kbody');
    my ($req) = grep { $_->{path} eq '/kbody/10.1.2.4' } @{$fx->log};

    is(($req // {})->{body}, 'key=' . pct($KEY{k1}) . '&t=10.1.2.4',
       'the form body: percent-encoded');
}

# keys nginx cannot send in a header: refused, the key never printed
for my $case ([ 'LF', "bad\nKEY-SECRET-1" ], [ 'CR', "bad\rKEY-SECRET-2" ],
              [ 'tab', "bad\tKEY-SECRET-3" ],
              [ 'non-ASCII', "bad\xc3\xa9KEY-SECRET-4" ])
{
    my ($name, $key) = @$case;
    my $bad = OsintTest->new;

    $bad->main_conf("env OSINT_BAD;");
    $bad->env(OSINT_BAD => $key);
    $bad->write_conf(<<'EOF');
    osint_zone 1m;
    osint_provider p {
        types ipv4;
        url "http://127.0.0.1:1/$osint_target";
        header "X-Key: $osint_api_key";
        api_key env=OSINT_BAD;
    }
EOF

    my ($rc, $out) = $bad->nginx_test;
    subtest "a key with $name" => sub {
        isnt($rc, 0, 'nginx -t fails');
        like($out, qr/api key of osint_provider "p" in "OSINT_BAD" holds/,
             'the message');
        unlike($out, qr/KEY-SECRET/, 'not the key');
    };
}

###############################################################################
# Part 4: the key echoed back in every form

# the forms a provider may quote: what the fixture writes, and more
sub forms {
    my ($key) = @_;
    my $json = $key =~ s/(["\\])/\\$1/gr;
    my %f = (
        raw         => $key,
        json        => $json,
        json_slash  => $json =~ s{/}{\\/}gr,
        pct         => pct($key),
        pct_lower   => pct($key, 1),
        pct_all     => join('', map { sprintf '%%%02X', ord } split //, $key),
        pct_all_low => join('', map { sprintf '%%%02x', ord } split //, $key),
        u_lower     => join('', map { sprintf '\\u%04x', ord } split //, $key),
        u_upper     => join('', map { sprintf '\\u%04X', ord } split //, $key),
        json_pct    => pct($key) =~ s/%/\\u0025/gr,
    );
    return \%f;
}

my $FILL = qr/^\*+$/;

for my $name (sort keys %KEY) {
    # from the provider, then from L1 and Redis (another worker too)
    for my $i (1 .. 3) {
        my $res = $t->get("/lookup?target=10.9.8.7&providers=$name");
        push @responses, $res->{content};
        my $doc = OsintTest::decode_json_or_undef($res->{content});
        my $data = $doc->{providers}{$name}{data} // {};

        subtest "$name: quoted back, redacted ($i)" => sub {
            is($doc->{providers}{$name}{status}, 'ok', 'ok')
                or diag($res->{content});
            like($data->{url}, qr{^/$name/10\.9\.8\.7\?key=\*+&fault=echokey$},
                 'the url');
            like($data->{url_lower},
                 qr{^/$name/10\.9\.8\.7\?key=\*+&fault=echokey$},
                 'the url, lower-case hex');
            is($data->{headers}{'x-key'},
               '*' x length forms($KEY{$name})->{json},
               'the header, as long as its JSON form');
            for my $m (qw(key key_slash key_u key_U key_form key_pct_lower
                          key_mixed))
            {
                like($data->{$m}, $FILL, $m);
            }
        };
    }
}

{
    my $res = $t->get('/lookup?target=10.9.8.6&providers=kbody');
    push @responses, $res->{content};
    my $doc = OsintTest::decode_json_or_undef($res->{content});
    like($doc->{providers}{kbody}{data}{key}, $FILL, 'a key from the body');
}

my ($stored, $nstored) = $redis->dump('keys:*');
ok($nstored >= 3, "answers were stored in Redis ($nstored)");

my %places = (responses => join("\n", @responses), redis => $stored);
$places{'error.log'} = $t->error_log(0);
$places{'debug.log'} = OsintTest::_read_file($t->testdir . '/debug.log')
                       // '';

ok(length $places{'debug.log'} > 10000, 'the debug log was written');

for my $name (sort keys %KEY) {
    my $forms = forms($KEY{$name});
    for my $place (sort keys %places) {
        my @found = grep { index($places{$place}, $forms->{$_}) >= 0 }
                    sort keys %$forms;
        is_deeply(\@found, [], "key of $name in no form in $place");
    }
}

$t->done_testing;
