#!/usr/bin/perl

# Redirects: a provider (or any server in a redirect chain) must not be
# able to steer our requests into the network behind nginx, nor make us
# hand a provider's key to someone else.
#
# FX0 is the providers' origin (http://127.0.0.1:FX0); FX1 plays an
# internal service (another origin on a loopback address) that serves a
# secret and records every request it gets; FX2 is an https provider.
#
# Part 1: `redirects N;`: its default (0 with an api_key, 3 without), its
# bounds, nginx -t's wording.
# Part 2: a redirect to the provider's own origin is followed with the key
# and custom headers; one to another origin never gets them and, as that
# origin is on a non-public address, is refused where the socket is opened
# (127.0.0.1 on another port, localhost, ::ffff:127.0.0.1, 0.0.0.0,
# 127.1, 2130706433, 127.0.0.2, ::1); other schemes are refused; the
# answer says "redirect refused" and nothing of the address; nothing is
# cached.
# Part 3: https -> http is refused; a POST is re-sent (307/308) only to
# its own origin, 301/302/303 turn it into a GET; the hop limit.
# Part 4: the address classifier itself (t/unit/redirect.c): every
# non-public range and its IPv4-mapped forms, which no test may connect to.
# Part 5: config's libcurl probe.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;
use OsintUnit qw(unit_run);
use JSON::PP ();

OsintTest->require_module;

my $KEY = 'k3y-OSINT-redirect-0c9d4e7a';
my $SECRET = 'INTERNAL-SECRET-5e1b7c';

plan skip_all => 'no openssl binary' unless -x '/usr/bin/openssl';

my $t = OsintTest->new(workers => 2);
my $dir = $t->testdir;

my $fx = $t->fixture;                                       # FX0
my $in = $t->fixture;                                       # FX1
my $tls = $t->fixture(tls => [$t->self_signed_cert]);       # FX2

my ($P, $I) = ($fx->port, $in->port);

$t->main_conf("env OSINT_REDIRECT_KEY;");
$t->env(OSINT_REDIRECT_KEY => $KEY);


###############################################################################
# Part 1: the directive

sub provider_conf {
    my ($directives) = @_;
    return <<"EOF";
    osint_zone 8m;
    osint_provider x {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/x/\$osint_target";
        $directives
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF
}

for my $case (
    [ 'redirects 11;', 'invalid redirects "11" in osint_provider "x": '
                       . 'expected 0..10' ],
    [ 'redirects -1;', 'invalid redirects "-1" in osint_provider "x": '
                       . 'expected 0..10' ],
    [ 'redirects on;', 'invalid redirects "on" in osint_provider "x": '
                       . 'expected 0..10' ],
    [ 'redirects 1; redirects 2;',
      '"redirects" of osint_provider "x" is duplicate' ],
    [ 'redirects;', 'invalid number of arguments in "redirects" of '
                    . 'osint_provider "x"' ],
    [ 'redirects 1 2;', 'invalid number of arguments in "redirects" of '
                        . 'osint_provider "x"' ],
)
{
    my ($directive, $message) = @$case;
    $t->write_conf(provider_conf($directive));
    my ($rc, $out) = $t->nginx_test;
    isnt($rc, 0, "nginx -t refuses \"$directive\"");
    like($out, qr/\[emerg\] \Q$message\E in /, "... with: $message");
}

for my $directive ('redirects 0;', 'redirects 10;') {
    $t->write_conf(provider_conf($directive));
    my ($rc, $out) = $t->nginx_test;
    is($rc, 0, "nginx -t accepts \"$directive\"") or diag($out);
}


###############################################################################
# the configuration of parts 2 and 3

$t->write_conf(<<"EOF");
    osint_zone 8m;
    osint_deadline 5s;
    osint_ssl_trusted_certificate $dir/cert.pem;

    # a keyed provider: the key in the query and in a header, one more
    # custom header; no "redirects": 0
    osint_provider koff {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/koff/\$osint_target?key=\$osint_api_key";
        header "X-Key: \$osint_api_key";
        header "X-Custom: custom-1";
        api_key env=OSINT_REDIRECT_KEY;
        cache_ttl off;
        breaker off;
    }

    osint_provider keyed {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/keyed/\$osint_target?key=\$osint_api_key";
        header "X-Key: \$osint_api_key";
        header "X-Custom: custom-1";
        api_key env=OSINT_REDIRECT_KEY;
        redirects 2;
        cache_ttl off;
        breaker off;
    }

    # keyless: 3 redirects by default; cached, so that a refused redirect
    # would show up again if it were stored
    osint_provider open {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/open/\$osint_target";
        cache_ttl 60s;
        breaker off;
    }

    osint_provider post {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/post/\$osint_target";
        body "q=\$osint_target";
        redirects 1;
        cache_ttl off;
        breaker off;
    }

    # https, redirecting to http (the fixture's overrides are out of reach
    # over TLS: the redirect is in the url)
    osint_provider tls {
        types ipv4;
        url "https://127.0.0.1:%%FX2%%/tls/\$osint_target?fault=redirect&to=http%3A%2F%2F127.0.0.1%3A%%FX1%%%2Fdown%3Fbody%3Dinternal_secret";
        cache_ttl off;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF

$t->run;

my $target_n = 0;

# one lookup of one provider, a new target each time (nothing cached)
sub lookup {
    my ($provider, $target) = @_;
    $target //= '10.9.8.' . ++$target_n;
    my ($status, $doc) =
        $t->get_json("/lookup?target=$target&providers=$provider");
    return ($doc && $doc->{providers}{$provider}) || {};
}

sub redirect_to {
    my ($prefix, $to, $code) = @_;
    $fx->control(prefix => $prefix,
                 params => { fault => 'redirect', to => $to,
                             code => $code // 302 });
}

sub refused {
    my ($call, $name, $message) = @_;
    $message //= 'redirect refused';
    my $text = JSON::PP->new->canonical->encode($call);
    subtest $name => sub {
        is($call->{status}, 'error', 'error');
        is($call->{error}{kind}, 'redirect', 'kind redirect');
        is($call->{error}{message}, $message, "message \"$message\"");
        is($call->{data}, undef, 'no data');
        unlike($text, qr/\Q$SECRET\E/, 'no secret of the internal service');
        unlike($text, qr/\Q$KEY\E/, 'no key');
        unlike($text, qr/:$I\b|port $I\b|127\.0\.0|localhost|::/,
               'nothing of the address');
    };
}


###############################################################################
# Part 2: origins, keys, addresses

# redirects 0 (the default with a key): not followed
redirect_to('/koff/', "/final/koff");
refused(lookup('koff'), 'keyed, no "redirects": a 302 is not followed',
        'redirects are off for this provider');
is($fx->by_path->{'/final/koff'} // 0, 0, '... its Location never asked');

# the provider's own origin, absolute and relative: key and headers go
$fx->reset;
redirect_to('/keyed/', "http://127.0.0.1:$P/final/keyed?key=$KEY");
my $call = lookup('keyed');
is($call->{status}, 'ok', 'same origin, absolute Location: followed');
is($call->{data}{path}, '/final/keyed', '... the data of the last hop');
my ($hop) = grep { $_->{path} eq '/final/keyed' } @{$fx->log};
is($hop->{headers}{'x-key'}, $KEY, '... which got the key header');
is($hop->{headers}{'x-custom'}, 'custom-1', '... and the custom header');

# another origin: the internal service on another port of 127.0.0.1
$in->reset;
redirect_to('/keyed/', "http://127.0.0.1:$I/admin?body=internal_secret");
refused(lookup('keyed'), 'keyed, another origin on loopback: refused');
is($in->calls, 0, '... the internal service got no request (no key)');

# another origin with the key in its URL: refused before any connection
my $mark = $t->log_mark;
redirect_to('/keyed/', "http://127.0.0.1:$I/admin?k=$KEY");
refused(lookup('keyed'), 'another origin, the key in the Location');
ok($t->wait_log(qr/redirect refused: the URL holds the API key/, 5, $mark),
   '... logged: the URL holds the API key');
is($in->calls, 0, '... the internal service got no request');

# the keyless provider to every spelling of a non-public address
my @internal = (
    "http://127.0.0.1:$I/admin?body=internal_secret",
    "http://localhost:$I/admin?body=internal_secret",
    "http://[::ffff:127.0.0.1]:$I/admin?body=internal_secret",
    "http://[::ffff:7f00:1]:$I/admin?body=internal_secret",
    "http://0.0.0.0:$I/admin?body=internal_secret",
    "http://127.1:$I/admin?body=internal_secret",
    "http://2130706433:$I/admin?body=internal_secret",
    "http://0x7f000001:$I/admin?body=internal_secret",
    "http://127.0.0.2:$I/admin?body=internal_secret",
    "http://[::1]:$I/admin?body=internal_secret",
);

$in->reset;

for my $to (@internal) {
    redirect_to('/open/', $to);
    $mark = $t->log_mark;
    refused(lookup('open'), "keyless, 302 to $to: refused");
    ok($t->wait_log(qr/redirect refused: a non-public address/, 5, $mark),
       '... at the socket, logged');
}

is($in->calls, 0, 'the internal service got no request at all');

# 301, 307, 308 alike
for my $code (301, 303, 307, 308) {
    redirect_to('/open/', $internal[0], $code);
    refused(lookup('open'), "keyless, $code to the internal service");
}

is($in->calls, 0, '... no request');

# a refused answer is not cached: the same target again is refused again
redirect_to('/open/', $internal[0]);
refused(lookup('open', '10.9.9.1'), 'first lookup refused');
refused(lookup('open', '10.9.9.1'), 'the same again: refused, not cached');
is($in->calls, 0, '... no request');

# schemes other than http and https
for my $to ("ftp://127.0.0.1:$I/x", "file:///etc/passwd",
            "gopher://127.0.0.1:$I/x", "dict://127.0.0.1:$I/x")
{
    redirect_to('/open/', $to);
    $mark = $t->log_mark;
    refused(lookup('open'), "302 to $to: refused");
    ok($t->wait_log(qr/redirect refused: not http or https/, 5, $mark),
       '... logged: not http or https');
}

is($in->calls, 0, '... no request');

# the same origin is followed for a keyless provider too, relative Location
redirect_to('/open/', "/final/open");
$call = lookup('open');
is($call->{status}, 'ok', 'keyless, relative Location: followed');
is($call->{data}{path}, '/final/open', '... to the same origin');


###############################################################################
# Part 3: downgrade, POST, limits

$mark = $t->log_mark;
refused(lookup('tls'), 'https to http: refused');
ok($t->wait_log(qr/redirect refused: https to http/, 5, $mark),
   '... logged: https to http');
is($in->calls, 0, '... no request');

# POST: 307/308 re-post to the same origin only; 301/302/303 turn to GET
$fx->reset;
for my $code (307, 308) {
    redirect_to('/post/', "/final/post$code", $code);
    $call = lookup('post');
    is($call->{status}, 'ok', "POST, $code to the same origin: followed");
    my ($e) = grep { $_->{path} eq "/final/post$code" } @{$fx->log};
    is($e->{method}, 'POST', '... as a POST');
    like($e->{body} // '', qr/^q=10\.9\.8\.\d+$/, '... with its body');
}

for my $code (301, 302, 303) {
    redirect_to('/post/', "/final/post$code", $code);
    $call = lookup('post');
    is($call->{status}, 'ok', "POST, $code to the same origin: followed");
    my ($e) = grep { $_->{path} eq "/final/post$code" } @{$fx->log};
    is($e->{method}, 'GET', '... as a GET');
    is($e->{body}, '', '... without a body');
}

for my $code (307, 308) {
    redirect_to('/post/', "http://127.0.0.1:$I/admin", $code);
    $mark = $t->log_mark;
    refused(lookup('post'), "POST, $code to another origin: refused");
    ok($t->wait_log(qr/redirect refused: a POST to another origin/, 5,
                    $mark),
       '... before any connection');
}

is($in->calls, 0, '... no request');

# the hop limit: "open" follows 3, "post" 1
$fx->clear_control;
redirect_to('/open/', '/c1/');
redirect_to('/c1/', '/c2/');
redirect_to('/c2/', '/c3/');
$call = lookup('open');
is($call->{status}, 'ok', 'keyless: 3 redirects followed');
is($call->{data}{path}, '/c3/', '... to the last hop');

redirect_to('/c3/', '/c4/');
refused(lookup('open'), 'keyless: a 4th redirect refused',
        'too many redirects');
is($fx->by_path->{'/c4/'} // 0, 0, '... and never asked');

redirect_to('/post/', '/p1/');
redirect_to('/p1/', '/p2/');
refused(lookup('post'), '"redirects 1": a 2nd redirect refused',
        'too many redirects');
is($fx->by_path->{'/p2/'} // 0, 0, '... and never asked');


###############################################################################
# Part 4: the address classifier, every range

unit_run('redirect');


###############################################################################
# Part 5: config's libcurl probe tests what the module uses (7.87): the
# program auto/feature compiles, taken from config, builds and links here.
# An older libcurl to see it refused is not at hand; that part is not
# tested.

my $config = OsintTest::_read_file("$FindBin::Bin/../config") // '';
my ($incs, $probe) = $config =~
    /ngx_feature="libcurl[^"]*"\n.*?ngx_feature_incs="([^"]*)"\n.*?
     ngx_feature_test="((?:[^"\\]|\\.)*)"/sx;

ok(defined $probe, 'config has a libcurl probe');
$probe //= '';
$probe =~ s/\\"/"/g;

for my $used (qw(CURLOPT_QUICK_EXIT CURLOPT_PROTOCOLS_STR curl_easy_header
                 curl_multi_socket_action))
{
    like($probe, qr/\b$used\b/, "the probe uses $used");
}

like($config, qr/requires libcurl 7\.87 or newer/,
     'its error names libcurl 7.87');

OsintTest::_write_file("$dir/probe.c",
                       "$incs\nint main(void) {\n$probe;\nreturn 0;\n}\n");
is(system('cc', '-Wall', '-Werror', '-o', "$dir/probe", "$dir/probe.c",
          '-lcurl'),
   0, 'the probe compiles and links against the installed libcurl');

$t->done_testing;
