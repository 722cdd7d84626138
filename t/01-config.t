#!/usr/bin/perl

# Configuration of ngx_http_osint_module.
#
# Part 1: `nginx -t` rejects every bad configuration with a clear message in
# nginx's own style ("[emerg] MESSAGE in FILE:LINE", exit code != 0), and
# accepts good ones.  The messages are matched literally: they are the
# user's only guide to a typo in nginx.conf.
#
# Part 2: api_key env=NAME end to end: the key reaches the provider (query
# and header) but never the client or error.log; a provider whose variable
# is unset is "disabled": listed as skipped, never called; both survive a
# reload.

use strict;
use warnings;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my $t  = OsintTest->new(workers => 2);
my $fx = $t->fixture;

# The key of the end-to-end part; OSINT_T_UNSET_* must not be set at all.
my $KEY = 'sekret123';
$t->env(MYKEY => $KEY, OSINT_T_UNSET_KEY => undef, OSINT_T_UNSET_2 => undef,
        OSINT_T_EMPTY_KEY => '', OSINT_T_BAD_KEY => "bad key\x{7f}");

###############################################################################
# helpers

# A server with osint_lookup, as every configuration below needs one.
my $SERVER = <<'EOF';
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF

# The smallest valid provider body (single-quoted: $osint_target is nginx's).
my $TYPES = '        types ip;' . "\n";
my $URL   = '        url "http://127.0.0.1:%%FX0%%/a/$osint_target";' . "\n";

# provider_conf($body [, $name]) -> http{} body: zone, one provider "a"
# (or $name) with $body, and the server.
sub provider_conf {
    my ($body, $name) = @_;
    $name //= 'a';
    return "    osint_zone 8m;\n"
         . "    osint_provider $name {\n$body    }\n"
         . $SERVER;
}

# The line of the first line of TESTDIR/nginx.conf matching $re (1-based).
sub conf_line {
    my ($re) = @_;
    my $text = OsintTest::_read_file($t->testdir . '/nginx.conf') // '';
    my $n = 0;
    for my $line (split /\n/, $text) {
        $n++;
        return $n if $line =~ $re;
    }
    return undef;
}

# conf_fails($name, $http_body, $message [, line_re => qr//])
#   nginx -t must fail, and print "[emerg] $message in <nginx.conf>:LINE"
#   ($message is literal text, not a pattern).  With line_re, LINE must be
#   the line of nginx.conf that the pattern finds: the offending directive.
sub conf_fails {
    my ($name, $conf, $message, %opt) = @_;

    $t->write_conf($conf);
    my ($rc, $out) = $t->nginx_test;

    subtest $name => sub {
        isnt($rc, 0, 'nginx -t fails');
        like($out, qr/\[emerg\] \Q$message\E in \S*nginx\.conf:\d+/,
             'message, in nginx style') or diag($out);
        like($out, qr/configuration file \S+ test failed/, 'test failed');
        if (my $re = $opt{line_re}) {
            my $want = conf_line($re);
            my ($got) = $out =~ /\[emerg\] \Q$message\E in \S*nginx\.conf:(\d+)/;
            is($got, $want, 'the message points at the offending line');
        }
    };

    return $out;
}

# conf_ok($name, $http_body) -> output of nginx -t, which must succeed
sub conf_ok {
    my ($name, $conf) = @_;

    $t->write_conf($conf);
    my ($rc, $out) = $t->nginx_test;

    subtest $name => sub {
        is($rc, 0, 'nginx -t succeeds') or diag($out);
        like($out, qr/test is successful/, 'test is successful');
        unlike($out, qr/\[(?:emerg|alert|crit|warn)\]/, 'no complaint');
    };

    return $out;
}

# The log of the last nginx -t (notices go there, not to stderr).
sub nginx_t_log {
    return OsintTest::_read_file($t->testdir . '/nginx-t.log') // '';
}

###############################################################################
# good configurations

conf_ok('minimal provider', provider_conf($TYPES . $URL));

conf_ok('full configuration', <<'EOF');
    osint_zone 8m;
    osint_deadline 5s;
    osint_max_body 1m;
    osint_ssl_verify on;
    osint_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;

    osint_provider full_1-X {
        types ipv4 ipv6 ip domain email url hash;
        url "https://127.0.0.1:%%FX0%%/v1/${osint_target_type}/${osint_target}?k=$osint_api_key&t=$osint_target";
        header "Accept: application/json";
        header "X-Api-Key: $osint_api_key";
        header "X-Kind: $osint_target_type";
        api_key env=MYKEY;
        timeout 2500ms;
        format json;
        field country $.nested.country;
        field asn $['nested']["asn"];
        field first_tag $.nested.tags[0];
        field whole $;
    }

    osint_provider second {
        types domain;
        url "HTTP://localhost:%%FX0%%/d?q=$osint_target";
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /other  { return 204; }
    }
EOF

# Providers without osint_lookup need no zone: nothing would use it.
conf_ok('providers without osint_lookup need no zone', <<'EOF');
    osint_provider a {
        types ip;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target";
    }
    server { listen 127.0.0.1:%%PORT%%; location / { return 204; } }
EOF

# api_key env=UNSET: a keyless install must still start; the provider is
# disabled, and a notice says so (it goes to the log, not to stderr).
{
    my $out = conf_ok('api_key of an unset variable passes',
        provider_conf($TYPES . $URL . "        api_key env=OSINT_T_UNSET_KEY;\n"));
    like($out . nginx_t_log(),
         qr/\[notice\] \d+#\d+: osint_provider "a" is disabled: environment variable "OSINT_T_UNSET_KEY" is not set/,
         'unset api key: notice that the provider is disabled');

    conf_ok('api_key of an empty variable passes',
        provider_conf($TYPES . $URL . "        api_key env=OSINT_T_EMPTY_KEY;\n"));
    like(nginx_t_log(),
         qr/\[notice\] \d+#\d+: osint_provider "a" is disabled: environment variable "OSINT_T_EMPTY_KEY" is not set/,
         'empty api key: provider disabled too');
}

###############################################################################
# http-level directives

conf_fails('osint_lookup without osint_zone', <<'EOF' . $SERVER,
    osint_provider a {
        types ip;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target";
    }
EOF
    '"osint_lookup" requires "osint_zone" in the http block');

conf_fails('osint_lookup without providers', "    osint_zone 8m;\n" . $SERVER,
           '"osint_lookup" requires at least one "osint_provider"');

conf_fails('bad osint_zone size', provider_conf($TYPES . $URL)
               =~ s/osint_zone 8m;/osint_zone 8q;/r,
           'invalid zone size "8q"', line_re => qr/osint_zone 8q;/);

conf_fails('osint_zone not a size', provider_conf($TYPES . $URL)
               =~ s/osint_zone 8m;/osint_zone big;/r,
           'invalid zone size "big"');

conf_fails('osint_zone too small', provider_conf($TYPES . $URL)
               =~ s/osint_zone 8m;/osint_zone 4k;/r,
           'zone "osint" is too small');

conf_fails('osint_zone twice',
           "    osint_zone 8m;\n" . provider_conf($TYPES . $URL),
           '"osint_zone" directive is duplicate');

conf_fails('osint_zone without a size', provider_conf($TYPES . $URL)
               =~ s/osint_zone 8m;/osint_zone;/r,
           'invalid number of arguments in "osint_zone" directive');

conf_fails('bad time in osint_deadline',
           "    osint_deadline 3x;\n" . provider_conf($TYPES . $URL),
           '"osint_deadline" directive invalid value',
           line_re => qr/osint_deadline 3x;/);

# A zero deadline would fail every lookup at once.  The message must name
# osint_deadline alone, at its own line, like nginx's own value checks
# ('"osint_deadline" must not be zero' or '"osint_deadline" directive
# invalid value'); it must not be blamed on another directive.
{
    $t->write_conf("    osint_deadline 0;\n" . provider_conf($TYPES . $URL));
    my ($rc, $out) = $t->nginx_test;
    subtest 'osint_deadline 0' => sub {
        isnt($rc, 0, 'nginx -t fails');
        like($out, qr/\[emerg\] "osint_deadline" [^\n]*(?:zero|invalid value)/,
             'message names osint_deadline first') or diag($out);
        unlike($out, qr/"osint_lookup" directive/,
               'message not attributed to osint_lookup');
        my ($line) = $out =~ /"osint_deadline" [^\n]* in \S+nginx\.conf:(\d+)/;
        is($line, conf_line(qr/osint_deadline 0;/), 'points at its line');
    };
}

# Like proxy_ssl_trusted_certificate: a CA file that cannot be loaded is a
# configuration error, not a TLS failure of every later call.
{
    $t->write_conf("    osint_ssl_trusted_certificate /nonexistent/osint-ca.pem;\n"
                   . provider_conf($TYPES . $URL));
    my ($rc, $out) = $t->nginx_test;
    subtest 'osint_ssl_trusted_certificate of a missing file' => sub {
        isnt($rc, 0, 'nginx -t fails');
        like($out, qr{\[emerg\] [^\n]*/nonexistent/osint-ca\.pem},
             'message names the file') or diag($out);
    };
}

conf_fails('bad size in osint_max_body',
           "    osint_max_body lots;\n" . provider_conf($TYPES . $URL),
           '"osint_max_body" directive invalid value');

conf_fails('osint_ssl_verify not a flag',
           "    osint_ssl_verify maybe;\n" . provider_conf($TYPES . $URL),
           'invalid value "maybe" in "osint_ssl_verify" directive, it must be "on" or "off"');

conf_fails('osint_provider outside http',
           provider_conf($TYPES . $URL) . "    server { listen 127.0.0.1:%%PORT2%%;\n"
           . "        osint_provider b { types ip; }\n    }\n",
           '"osint_provider" directive is not allowed here');

conf_fails('osint_lookup in a server block', <<'EOF',
    osint_zone 8m;
    osint_provider a {
        types ip;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target";
    }
    server { listen 127.0.0.1:%%PORT%%; osint_lookup; }
EOF
    '"osint_lookup" directive is not allowed here');

# osint_lookup takes providers= and types= (t/65-provider-sets.t)
conf_fails('osint_lookup with an unknown parameter',
           provider_conf($TYPES . $URL) =~ s/osint_lookup;/osint_lookup on;/r,
           'invalid parameter "on"');

conf_fails('osint_lookup with three arguments',
           provider_conf($TYPES . $URL)
               =~ s/osint_lookup;/osint_lookup providers=a types=ip on;/r,
           'invalid number of arguments in "osint_lookup" directive');

conf_fails('osint_lookup twice',
           provider_conf($TYPES . $URL)
               =~ s/osint_lookup;/osint_lookup; osint_lookup;/r,
           '"osint_lookup" directive is duplicate');

###############################################################################
# the osint_provider block itself

conf_fails('duplicate provider', <<'EOF' . $SERVER,
    osint_zone 8m;
    osint_provider a {
        types ip;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target";
    }
    osint_provider a {
        types domain;
        url "http://127.0.0.1:%%FX0%%/b/$osint_target";
    }
EOF
    'duplicate osint_provider "a"');

# (the duplicate is reported on the line of its "osint_provider a {")
{
    my $out = conf_fails('duplicate provider points at the second block',
        <<'EOF' . $SERVER, 'duplicate osint_provider "dup"');
    osint_zone 8m;
    osint_provider dup {
        types ip;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target";
    }
    osint_provider dup { # second
        types domain;
        url "http://127.0.0.1:%%FX0%%/b/$osint_target";
    }
EOF
    my ($line) = $out =~ /duplicate osint_provider "dup" in \S+:(\d+)/;
    is($line, conf_line(qr/# second/), 'duplicate provider: line');
}

conf_fails('provider name with a space', provider_conf($TYPES . $URL, '"a b"'),
           'invalid osint_provider name "a b": only letters, digits, "_" and "-" are allowed');

conf_fails('provider name with a slash', provider_conf($TYPES . $URL, 'a/b'),
           'invalid osint_provider name "a/b": only letters, digits, "_" and "-" are allowed');

# An empty name could never be selected with ?providers= and would be an
# empty key in the lookup document.
conf_fails('empty provider name', provider_conf($TYPES . $URL, '""'),
           'invalid osint_provider name "": only letters, digits, "_" and "-" are allowed');

conf_fails('provider without a name', provider_conf($TYPES . $URL, ''),
           'invalid number of arguments in "osint_provider" directive');

conf_fails('provider without a block', "    osint_zone 8m;\n"
           . "    osint_provider a;\n" . $SERVER,
           'directive "osint_provider" has no opening "{"');

conf_fails('unknown directive in the block',
           provider_conf($TYPES . $URL . "        bogus 1;\n"),
           'unknown directive "bogus" in osint_provider "a"',
           line_re => qr/bogus 1;/);

conf_fails('types missing', provider_conf($URL),
           'no "types" in osint_provider "a"');

conf_fails('url missing', provider_conf($TYPES),
           'no "url" in osint_provider "a"');

conf_fails('unknown target type', provider_conf(
               '        types ip domain ipv5;' . "\n" . $URL),
           'unknown target type "ipv5" in osint_provider "a"; known are ip, ipv4, ipv6, domain, email, url, hash, phone and username',
           line_re => qr/types ip domain ipv5;/);

conf_fails('unknown format',
           provider_conf($TYPES . $URL . "        format xml;\n"),
           'unknown format "xml" in osint_provider "a"',
           line_re => qr/format xml;/);

# wrong numbers of arguments
conf_fails('types without arguments', provider_conf("        types;\n" . $URL),
           'invalid number of arguments in "types" of osint_provider "a"');

conf_fails('url with two arguments', provider_conf($TYPES
               . '        url "http://127.0.0.1:%%FX0%%/a/$osint_target" x;'
               . "\n"),
           'invalid number of arguments in "url" of osint_provider "a"');

conf_fails('field with one argument',
           provider_conf($TYPES . $URL . "        field country;\n"),
           'invalid number of arguments in "field" of osint_provider "a"');

conf_fails('timeout with two arguments',
           provider_conf($TYPES . $URL . "        timeout 1s 2s;\n"),
           'invalid number of arguments in "timeout" of osint_provider "a"');

conf_fails('header without arguments',
           provider_conf($TYPES . $URL . "        header;\n"),
           'invalid number of arguments in "header" of osint_provider "a"');

# Repeating a one-value directive is an error in nginx ("is duplicate"),
# never a silent override.
conf_fails('url twice', provider_conf($TYPES . $URL . $URL),
           '"url" of osint_provider "a" is duplicate');

conf_fails('timeout twice',
           provider_conf($TYPES . $URL . "        timeout 1s;\n        timeout 2s;\n"),
           '"timeout" of osint_provider "a" is duplicate');

conf_fails('format twice',
           provider_conf($TYPES . $URL . "        format json;\n        format json;\n"),
           '"format" of osint_provider "a" is duplicate');

conf_fails('api_key twice', provider_conf($TYPES . $URL
               . "        api_key env=MYKEY;\n        api_key env=MYKEY;\n"),
           '"api_key" of osint_provider "a" is duplicate');

###############################################################################
# url

conf_fails('url without a scheme', provider_conf($TYPES
               . '        url "127.0.0.1:%%FX0%%/a/$osint_target";' . "\n"),
           'invalid url "127.0.0.1:' . $fx->port . '/a/$osint_target" in osint_provider "a": it must start with "http://" or "https://"');

conf_fails('ftp url', provider_conf($TYPES
               . '        url "ftp://127.0.0.1/a/$osint_target";' . "\n"),
           'invalid url "ftp://127.0.0.1/a/$osint_target" in osint_provider "a": it must start with "http://" or "https://"');

conf_fails('url of a scheme only', provider_conf($TYPES
               . '        url "http://";' . "\n"),
           'invalid url "http://" in osint_provider "a": it must start with "http://" or "https://"');

conf_fails('variable as the host', provider_conf($TYPES
               . '        url "http://$osint_target/";' . "\n"),
           'invalid url "http://$osint_target/" in osint_provider "a": the host must be given literally');

conf_fails('variable in the host', provider_conf($TYPES
               . '        url "http://api.$osint_target_type.example/$osint_target";' . "\n"),
           'invalid url "http://api.$osint_target_type.example/$osint_target" in osint_provider "a": the host must be given literally');

conf_fails('variable as the port', provider_conf($TYPES
               . '        url "http://127.0.0.1:$osint_target/";' . "\n"),
           'invalid url "http://127.0.0.1:$osint_target/" in osint_provider "a": the host must be given literally');

conf_fails('empty host', provider_conf($TYPES
               . '        url "http:///a/$osint_target";' . "\n"),
           'invalid url "http:///a/$osint_target" in osint_provider "a": the host must be given literally');

conf_fails('url without $osint_target', provider_conf($TYPES
               . '        url "http://127.0.0.1:%%FX0%%/a/$osint_target_type";' . "\n"),
           'invalid url "http://127.0.0.1:' . $fx->port . '/a/$osint_target_type" in osint_provider "a": it does not use $osint_target');

conf_fails('unknown variable in url', provider_conf($TYPES
               . '        url "http://127.0.0.1:%%FX0%%/a/$osint_target?x=$foo";' . "\n"),
           '"url" of osint_provider "a" uses an unknown variable "$foo"; known are $osint_target, $osint_target_type, $osint_target_b64url, $osint_target_domain and $osint_api_key',
           line_re => qr/\$foo/);

# A clear message names the variable it does not know (as nginx's own
# 'unknown "foo" variable' does): with several variables in a url, which
# one is the typo?
{
    $t->write_conf(provider_conf($TYPES
        . '        url "http://127.0.0.1:%%FX0%%/a/$osint_target?x=$osint_targte";' . "\n"));
    my ($rc, $out) = $t->nginx_test;
    isnt($rc, 0, 'unknown variable: nginx -t fails');
    like($out, qr/\[emerg\] [^\n]*osint_targte/,
         'unknown variable: the message names the variable');
}

conf_fails('unterminated ${ in url', provider_conf($TYPES
               . '        url "http://127.0.0.1:%%FX0%%/a/${osint_target";' . "\n"),
           '"url" of osint_provider "a" has an unterminated "${"');

conf_fails('unterminated ${ with trailing text', provider_conf($TYPES
               . '        url "http://127.0.0.1:%%FX0%%/a/${osint_target/x";' . "\n"),
           '"url" of osint_provider "a" has an unterminated "${"');

###############################################################################
# timeout

conf_fails('bad time in timeout',
           provider_conf($TYPES . $URL . "        timeout 3x;\n"),
           'invalid timeout "3x" in osint_provider "a"',
           line_re => qr/timeout 3x;/);

conf_fails('zero timeout',
           provider_conf($TYPES . $URL . "        timeout 0;\n"),
           'invalid timeout "0" in osint_provider "a"');

###############################################################################
# field

for my $path ('country', '$..x', '$[x', '$.', '$[', '$[\'a\'', '$[-1]',
              '$x', '') {
    conf_fails("invalid field path '$path'", provider_conf($TYPES . $URL
                   . "        field country \"$path\";\n"),
               "invalid field path \"$path\" in osint_provider \"a\": expected \"\$\" followed by "
               . "\".key\", \"['key']\" or \"[N]\" steps");
}

conf_fails('duplicate field', provider_conf($TYPES . $URL
               . "        field country \$.country;\n"
               . "        field country \$.nested.country;\n"),
           'duplicate field "country" in osint_provider "a"',
           line_re => qr/field country \$\.nested\.country;/);

###############################################################################
# header

conf_fails('header without a colon', provider_conf($TYPES . $URL
               . "        header NoColon;\n"),
           'invalid header "NoColon" in osint_provider "a": expected "Name: value"');

conf_fails('header with an empty name', provider_conf($TYPES . $URL
               . "        header \": x\";\n"),
           'invalid header ": x" in osint_provider "a": expected "Name: value"');

conf_fails('header name with a space', provider_conf($TYPES . $URL
               . "        header \"Bad Name: x\";\n"),
           'invalid header name in "Bad Name: x" of osint_provider "a"');

conf_fails('header name with a variable', provider_conf($TYPES . $URL
               . '        header "X-$osint_target_type: x";' . "\n"),
           'invalid header name in "X-$osint_target_type: x" of osint_provider "a"');

conf_fails('unknown variable in header', provider_conf($TYPES . $URL
               . '        header "X-T: $target";' . "\n"),
           '"header" of osint_provider "a" uses an unknown variable "$target"; known are $osint_target, $osint_target_type, $osint_target_b64url, $osint_target_domain and $osint_api_key');

# A quoted string may span lines: a header holding a line break would
# smuggle a second header into every call.
conf_fails('header with a line break', provider_conf($TYPES . $URL
               . "        header \"X-A: 1\nX-B: 2\";\n"),
           '"header" of osint_provider "a" contains a control character');

###############################################################################
# api_key

conf_fails('$osint_api_key in url without api_key', provider_conf($TYPES
               . '        url "http://127.0.0.1:%%FX0%%/a/$osint_target?k=$osint_api_key";' . "\n"),
           'osint_provider "a" uses $osint_api_key without "api_key"');

conf_fails('$osint_api_key in header without api_key', provider_conf($TYPES . $URL
               . '        header "Authorization: Bearer $osint_api_key";' . "\n"),
           'osint_provider "a" uses $osint_api_key without "api_key"');

conf_fails('api_key not env=', provider_conf($TYPES . $URL
               . "        api_key abc123;\n"),
           'invalid api_key "abc123" in osint_provider "a": expected "env=NAME"');

conf_fails('api_key env= without a name', provider_conf($TYPES . $URL
               . "        api_key env=;\n"),
           'invalid api_key "env=" in osint_provider "a": expected "env=NAME"');

# A key with a space or a control byte is a broken copy-paste; the message
# must not show the key.
{
    my $out = conf_fails('api key with whitespace', provider_conf($TYPES . $URL
                             . "        api_key env=OSINT_T_BAD_KEY;\n"),
        'api key of osint_provider "a" in "OSINT_T_BAD_KEY" holds whitespace or non-ASCII bytes');
    unlike($out . nginx_t_log(), qr/bad key/, 'bad api key: key not shown');
}

###############################################################################
# end to end: api keys

$t->write_conf(<<'EOF');
    osint_zone 8m;

    # The key goes into the query and into a header.  "field" keeps only
    # target and path of the fixture's echo: the echo's "query" holds the
    # key, and a provider echoing a key back is not the module's leak.
    osint_provider keyed {
        types ip;
        url "http://127.0.0.1:%%FX0%%/k/$osint_target?key=$osint_api_key";
        header "Authorization: Bearer $osint_api_key";
        api_key env=MYKEY;
        field target $.target;
        field path $.path;
        cache_ttl off;      # after the reload too, the key must travel
    }

    # Its variable is unset: disabled, never called.
    osint_provider off {
        types ip;
        url "http://127.0.0.1:%%FX0%%/off/$osint_target?key=$osint_api_key";
        api_key env=OSINT_T_UNSET_2;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF

$t->run;

like($t->error_log,
     qr/\[notice\] .*osint_provider "off" is disabled: environment variable "OSINT_T_UNSET_2" is not set/,
     'start: notice of the disabled provider in error.log');

# One lookup: the enabled provider gets the key, the disabled one is
# skipped and never called, the key goes nowhere else.
sub check_keys {
    my ($when) = @_;

    $fx->reset;
    my ($st, $doc, $res) = $t->get_json('/lookup?target=8.8.8.8');

    subtest "api keys ($when)" => sub {
        is($st, 200, 'status 200') or diag($res->{content});

        my $k = $doc->{providers}{keyed} // {};
        is($k->{status}, 'ok', 'keyed provider: ok');
        is_deeply($k->{data}, { target => '8.8.8.8', path => '/k/8.8.8.8' },
                  'keyed provider: mapped data');

        my $off = $doc->{providers}{off} // {};
        is($off->{status}, 'skipped', 'disabled provider: skipped');
        is($off->{error}{kind}, 'disabled', 'disabled provider: kind');

        my $log = $fx->log;
        is(scalar @$log, 1, 'the fixture got exactly one call');
        is($log->[0]{path}, '/k/8.8.8.8', 'call of the keyed provider');
        is($log->[0]{query}, "key=$KEY", 'key arrived in the query');
        is($log->[0]{headers}{authorization}, "Bearer $KEY",
           'key arrived in the header');
        is($fx->calls_for('/off/8.8.8.8'), 0, 'disabled provider not called');

        unlike($res->{content}, qr/\Q$KEY\E/, 'key not in the response body');
        my $h = join "\n", map { "$_: $res->{headers}{$_}" }
                           keys %{$res->{headers}};
        unlike($h, qr/\Q$KEY\E/, 'key not in the response headers');
    };

    # Only the disabled provider: nothing can answer.
    $fx->reset;
    ($st, $doc, $res) = $t->get_json('/lookup?target=8.8.8.8&providers=off');
    subtest "only a disabled provider ($when)" => sub {
        is($st, 400, 'status 400');
        is($res->{headers}{'content-type'}, 'application/json', 'JSON');
        is_deeply($doc, { error => { kind => 'no_provider',
                    retryable => JSON::PP::false(),
                    message => 'every provider for ipv4 targets is disabled' } },
                  'no_provider');
        is($fx->calls, 0, 'nothing called');
    };
}

check_keys('after start');

my @old = $t->worker_pids;
my $mark = $t->log_mark;
my @new = $t->reload(wait_old => 1);
ok(@new == 2 && !grep({ my $n = $_; grep { $_ == $n } @old } @new),
   'reload: new workers');
like($t->error_log($mark),
     qr/osint_provider "off" is disabled: environment variable "OSINT_T_UNSET_2" is not set/,
     'reload: the provider is still disabled (notice again)');

check_keys('after reload');

unlike($t->error_log, qr/\Q$KEY\E/, 'key not in error.log');
unlike(OsintTest::_read_file($t->testdir . '/access.log') // '', qr/\Q$KEY\E/,
       'key not in access.log');

$t->done_testing;
