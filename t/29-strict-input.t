#!/usr/bin/perl

# Strict input, clean output.
#
# Part 1: `nginx -t` bounds every number of the module's directives,
# refuses repeated lines and parameters, an empty Redis prefix, and never
# quotes a secret of osint_redis back.
# Part 2: the batch body takes RFC 8259 whitespace only between tokens.
# Part 3: every document and NDJSON line is valid UTF-8 (reflected bytes
# that are not become U+FFFD; U+2028, U+2029, U+0085 are escaped), and a
# provider's message cut to its buffer ends on a character boundary.
# Part 4: untrusted text in error.log (provider messages, Redis replies)
# is escaped: no forged line, no raw ESC.

use strict;
use warnings;

use Test::More;
use Encode ();
use IO::Socket::INET;
use POSIX ();

use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

###############################################################################
# Part 1: nginx -t

my $PROVIDER = <<'EOF';
    osint_provider a {
        types ip;
        url "http://127.0.0.1:1/a/$osint_target";
%%BODY%%
    }
EOF

my $SERVER = "    server { listen 127.0.0.1:%%PORT%%; "
           . "location = /lookup { osint_lookup; } }\n";

# http{} body: zone, provider "a" with $body lines, $http lines, server
sub http_conf {
    my (%o) = @_;
    my $body = defined $o{provider} ? "        $o{provider};\n" : '';
    (my $p = $PROVIDER) =~ s/%%BODY%%\n/$body/;
    return "    osint_zone 8m;\n" . ($o{http} // '') . "\n" . $p . $SERVER;
}

# refused($name, $http_body, $message) -> nginx -t output
sub refused {
    my ($name, $conf, $message) = @_;
    my $c = OsintTest->new;
    $c->write_conf($conf);
    my ($rc, $out) = $c->nginx_test;
    subtest $name => sub {
        isnt($rc, 0, 'nginx -t fails');
        like($out, qr/\[emerg\] \Q$message\E in \S*nginx\.conf:\d+/,
             $message) or diag($out);
    };
    return $out;
}

sub accepted {
    my ($name, $conf) = @_;
    my $c = OsintTest->new;
    $c->write_conf($conf);
    my ($rc, $out) = $c->nginx_test;
    is($rc, 0, "accepted: $name") or diag($out);
}

refused('osint_max_body 0', http_conf(http => 'osint_max_body 0;'),
        '"osint_max_body" must be at least 1');
refused('osint_max_body above 64m', http_conf(http => 'osint_max_body 65m;'),
        '"osint_max_body" must be at most 64m');
accepted('osint_max_body 64m', http_conf(http => 'osint_max_body 64m;'));
refused('osint_batch_max above 10000',
        http_conf(http => 'osint_batch_max 10001;'),
        '"osint_batch_max" must be at most 10000');
refused('osint_batch_max 0', http_conf(http => 'osint_batch_max 0;'),
        '"osint_batch_max" must be at least 1');
refused('osint_batch_concurrency above 256',
        http_conf(http => 'osint_batch_concurrency 257;'),
        '"osint_batch_concurrency" must be at most 256');
accepted('osint_batch_max 10000, concurrency 256',
         http_conf(http => "osint_batch_max 10000;\n"
                          . "    osint_batch_concurrency 256;"));

refused('rate INT64_MAX',
        http_conf(provider => 'rate 9223372036854775807r/s'),
        'invalid rate "9223372036854775807r/s" in osint_provider "a"');
refused('rate above 1000000',
        http_conf(provider => 'rate 1000001r/s'),
        'invalid rate "1000001r/s" in osint_provider "a"');
accepted('rate 1000000r/s burst=1000000',
         http_conf(provider => 'rate 1000000r/s burst=1000000'));
refused('burst INT64_MAX',
        http_conf(provider => 'rate 1r/s burst=9223372036854775807'),
        'invalid parameter "burst=9223372036854775807" in "rate" of '
        . 'osint_provider "a"');
refused('quota above 10^9',
        http_conf(provider => 'quota 1000000001/d'),
        'invalid quota "1000000001/d" in osint_provider "a": '
        . 'expected N/h, N/d or N/mo');
refused('breaker failures above 1000',
        http_conf(provider => 'breaker failures=1001'),
        'invalid parameter "failures=1001" in "breaker" of '
        . 'osint_provider "a"');
refused('breaker half_open above 100',
        http_conf(provider => 'breaker half_open=101'),
        'invalid parameter "half_open=101" in "breaker" of '
        . 'osint_provider "a"');
refused('breaker twice',
        http_conf(provider => "breaker failures=3;\n        breaker off"),
        '"breaker" of osint_provider "a" is duplicate');
refused('types twice',
        http_conf(provider => 'types domain'),
        '"types" of osint_provider "a" is duplicate');
refused('a parameter twice in breaker',
        http_conf(provider => 'breaker failures=3 failures=5'),
        'duplicate parameter "failures=5" in "breaker" of '
        . 'osint_provider "a"');
refused('a parameter twice in rate',
        http_conf(provider => 'rate 1r/s burst=2 burst=3'),
        'duplicate parameter "burst=3" in "rate" of osint_provider "a"');
refused('a parameter twice in retries',
        http_conf(provider => 'retries 2 backoff=1s backoff=2s'),
        'duplicate parameter "backoff=2s" in "retries" of '
        . 'osint_provider "a"');
refused('a parameter twice in cache_ttl',
        http_conf(provider => 'cache_ttl 1h stale=1m stale=2m'),
        'duplicate parameter "stale=2m" in "cache_ttl" of '
        . 'osint_provider "a"');

my $LZ = 'osint_limit_zone z:1m key=$remote_addr ';
refused('osint_limit_zone rate INT64_MAX',
        http_conf(http => $LZ . 'rate=9223372036854775807r/s;'),
        'invalid rate "rate=9223372036854775807r/s", 1 to 1000000 r/s '
        . 'or r/m expected');
refused('osint_limit_zone burst above 1000000',
        http_conf(http => $LZ . 'rate=1r/s burst=1000001;'),
        'invalid burst value "burst=1000001", 1 to 1000000 expected');
refused('osint_limit_zone rate twice',
        http_conf(http => $LZ . 'rate=1r/s rate=2r/s;'),
        'duplicate parameter "rate=2r/s"');

SKIP: {
    skip 'redis-server not installed', 6 unless OsintTest::have_redis();

    my $R = 'osint_redis 127.0.0.1:6379';
    refused('empty redis prefix', http_conf(http => "$R prefix=;"),
            'invalid prefix "prefix=" in "osint_redis": 1 to 64 bytes '
            . 'expected');
    refused('redis prefix of 65 bytes',
            http_conf(http => "$R prefix=" . ('p' x 65) . ';'),
            'invalid prefix "prefix=' . ('p' x 65) . '" in "osint_redis": '
            . '1 to 64 bytes expected');
    refused('redis db above 65535', http_conf(http => "$R db=65536;"),
            'invalid db "db=65536" in "osint_redis"');
    refused('redis db twice', http_conf(http => "$R db=1 db=2;"),
            'duplicate parameter "db=***" in "osint_redis"');

    my $out = refused('a mistyped password= parameter',
                      http_conf(http => "$R passwrd=hunter2secret;"),
                      'invalid parameter "passwrd=***" in "osint_redis"');
    unlike($out, qr/hunter2/, 'the mistyped parameter\'s value not quoted');
}

###############################################################################
# Parts 2 to 4: a running nginx

my $t  = OsintTest->new(workers => 1);
my $fx = $t->fixture;

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_batch_max 5;

    osint_provider forge {
        types domain;
        url "http://127.0.0.1:%%FX0%%/forge/$osint_target?body=urlhaus_forge";
        format urlhaus;
        cache_ttl off;
    }

    osint_provider cut {
        types domain;
        url "http://127.0.0.1:%%FX0%%/cut/$osint_target?body=urlhaus_cut";
        format urlhaus;
        cache_ttl off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF

# the provider's forged line, escaped, still names [emerg]
$t->allow_log(qr/provider "forge" failed/);
$t->run;

# strictly decoded UTF-8, or undef
sub utf8_or_undef {
    my ($bytes) = @_;
    return eval { Encode::decode('UTF-8', "$bytes", Encode::FB_CROAK) };
}

# the body of a POST /lookup of raw bytes
sub post_raw {
    my ($body) = @_;
    return $t->post('/lookup', $body,
                    { 'Content-Type' => 'application/json' });
}

###############################################################################
# Part 2: control bytes between JSON tokens

for my $c ("\x01", "\x0b", "\x0c", "\x1f") {
    my $name = sprintf('0x%02x between tokens', ord $c);
    my $res = post_raw("{\"targets\":$c [\"example.com\"]}");
    is($res->{status}, 400, "$name: 400");
    is_deeply(OsintTest::decode_json_or_undef($res->{content}),
              { error => { kind => 'invalid_parameter',
                           retryable => JSON::PP::false(),
                           message => 'the batch body is not valid JSON' } },
              "$name: the exact error");
}

my $res = post_raw("{\"targets\":[\"bad\x01\"]}");
is($res->{status}, 400, 'a raw control byte inside a string: 400');

$res = post_raw(" \t\r\n{\"targets\" : [ \"no such target\" ] }\r\n");
is($res->{status}, 200, 'RFC 8259 whitespace between tokens: 200');

###############################################################################
# Part 3: valid UTF-8 out

# ($status, $text): the answer decoded strictly, undef if it is not UTF-8
sub get_text {
    my ($path) = @_;
    my $r = $t->get($path);
    return ($r->{status}, utf8_or_undef($r->{content}), $r->{content});
}

for my $case (['type=%ff', 'type', "\x{fffd}"],
              ['type=%c3', 'type', "\x{fffd}"],
              ['providers=%ff%c3', 'providers', "\x{fffd}\x{fffd}"])
{
    my ($q, $what, $want) = @$case;
    my ($status, $text, $raw) = get_text("/lookup?target=example.com&$q");
    is($status, 400, "$q: 400");
    ok(defined $text, "$q: the answer is valid UTF-8")
        or diag(unpack 'H*', $raw);
    like($text // '', qr/\\"\Q$want\E\\"/, "$q: reflected as U+FFFD");
}

for my $q ('type=%e2%80%a8', 'providers=%e2%80%a9', 'type=%c2%85') {
    my ($status, $text, $raw) = get_text("/lookup?target=example.com&$q");
    ok(defined $text, "$q: valid UTF-8");
    unlike($raw, qr/\xe2\x80[\xa8\xa9]|\xc2\x85/, "$q: not raw");
    like($raw, qr/\\u(?:2028|2029|0085)/, "$q: escaped") or diag($raw);
}

# format= is taken as it comes: raw bytes in the query
my $raw = $t->raw("GET /status?format=\xff\xe2\x80\xa8 HTTP/1.0\r\n\r\n");
my ($status) = $raw =~ m{^HTTP/1\.\d (\d+)};
my ($body) = $raw =~ /\r\n\r\n(.*)\z/s;
is($status, 400, 'status format=: 400');
ok(defined utf8_or_undef($body), 'status format=: valid UTF-8');
unlike($body, qr/\xff|\xe2\x80\xa8|\xef\xbf\xbd|\\u2028/,
       'status format=: the value not reflected (t/23 checks the message)');
my $text;

$res = post_raw("{\"targets\":[\"\xff\", \"a\xe2\x80\xa8b\", \"\xc3\"]}");
is($res->{status}, 200, 'batch of bad targets: 200');
my @lines = split /\n/, $res->{content};
is(scalar @lines, 3, 'three lines');
ok(!grep({ !defined utf8_or_undef($_) } @lines), 'every line valid UTF-8')
    or diag(unpack 'H*', $res->{content});
like($res->{content}, qr/"target":"\xef\xbf\xbd"/, 'batch: \xff as U+FFFD');
like($res->{content}, qr/"target":"a\\u2028b"/, 'batch: \u2028 escaped');

my $doc;
($status, $doc) = $t->get_json('/lookup?target=example.com&providers=cut');
my $msg = $doc->{providers}{cut}{error}{message} // '';
is($msg, 'urlhaus: query_status ' . ('a' x 49),
   'a message cut inside a character ends before it');

###############################################################################
# Part 4: error.log

my $mark = $t->log_mark;
($status, $doc) = $t->get_json('/lookup?target=example.com&providers=forge');
is($doc->{providers}{forge}{status}, 'error', 'forge: an error');
ok($t->wait_log(qr/provider "forge" failed/, 5, $mark), 'logged');
my $log = $t->error_log($mark);
unlike($log, qr/^2024\/01\/01 00:00:00 \[emerg\] 1#1: forged/m,
       'no forged line in error.log');
unlike($log, qr/\x1b/, 'no raw ESC in error.log');
like($log, qr/query_status x\\x0d\\x0a2024\/01\/01 00:00:00 \[emerg\] 1#1: forged line\\x1b\[3, /,
     'the message escaped') or diag($log);

$t->stop;

###############################################################################
# a Redis server whose every reply is an error holding CR, LF and ESC

SKIP: {
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 8,
                                  ReuseAddr => 1)
        or skip "listen: $!", 3;
    my $port = $l->sockport;

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        $SIG{ALRM} = sub { POSIX::_exit(0) };
        alarm 60;
        while (my $c = $l->accept) {
            while (sysread($c, my $buf, 4096)) {
                my $n = () = $buf =~ /^\*\d+\r\n/mg;
                syswrite($c, "-ERR \x1b[31mevil\r\n" x ($n || 1));
            }
        }
        POSIX::_exit(0);
    }
    close $l;

    my $r = OsintTest->new(workers => 1);
    my $rfx = $r->fixture;
    $r->write_conf(<<"EOF");
    osint_zone 8m;
    osint_redis 127.0.0.1:$port timeout=500ms;

    osint_provider a {
        types domain;
        url "http://127.0.0.1:%%FX0%%/a/\$osint_target";
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF
    $r->run;

    for (1 .. 3) {
        $r->get('/lookup?target=example.com&refresh=0');
        last if $r->wait_log(qr/osint: redis \S+ .*evil/, 1);
    }
    my $rlog = $r->error_log(0);
    like($rlog, qr/redis \S+ (?:command failed|SET failed|is down: \S+ failed): ERR \\x1b\[31mevil/,
         'a Redis error reply logged escaped') or diag($rlog);
    unlike($rlog, qr/\x1b/, 'no raw ESC from Redis in error.log');
    $r->stop;

    kill 'TERM', $pid;
    waitpid($pid, 0);
}

done_testing;
