#!/usr/bin/perl

# The plain HTTP/1.1 client (src/ngx_http_osint_plain.c): a provider whose
# url's origin is "http://" and an IP literal is called on nginx's own
# connections, not libcurl's.
#
# Part 1: which client calls: an IP literal (no Accept-Encoding, the
# plain client's mark), a name ("localhost": libcurl, which asks for
# gzip); the request as the provider sees it (method, path and query,
# Host, User-Agent, Accept, the provider's header lines replacing or
# removing the module's own, a POST form).
# Part 2: answers framed every way HTTP/1 allows (chunked with an
# extension and a trailer, HTTP/1.0 to the close, Connection: close, in
# 3-byte pieces, after 100 and 103 interim answers) read exactly as the
# usual one; broken ones (cut short, gzip nobody asked for, a header line
# over 16 KB, 80 KB of headers, a Content-Length or chunks over
# osint_max_body) are the provider's error with the module's words.
# Part 3: connections: kept alive and shared by the providers of one
# address (one or two in all for 30 lookups, two workers), one closed by
# the provider while idle costs no lookup, one that carried more than
# its answer is not kept, one reset on its next request carries that
# request once more on a new connection (one attempt); a refused connect
# is "connect"; a redirect of a plain answer is followed (by libcurl).

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;
use JSON::PP ();

OsintTest->require_module;

my $KEY = 'k3y-plain-9f2c';

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $closed = OsintTest::free_port();

$t->main_conf("env OSINT_PLAIN_KEY;");
$t->env(OSINT_PLAIN_KEY => $KEY);

sub provider {
    my ($name, $query, $more) = @_;
    $more //= '';
    return <<"EOF";
    osint_provider $name {
        types domain;
        url "http://127.0.0.1:%%FX0%%/$name/\$osint_target?$query";
        cache_ttl 0;
        $more
    }
EOF
}

my $conf = <<"EOF";
    osint_zone 8m;
    osint_deadline 5s;
    osint_max_body 16k;
EOF

$conf .= provider('plain', 'n=1',
                  "api_key env=OSINT_PLAIN_KEY;\n"
                  . "        header \"X-Key: \$osint_api_key\";");
$conf .= provider('swap', 'n=1',
                  "header \"User-Agent: osint-test\";\n"
                  . "        header \"Accept:\";");
$conf .= <<"EOF";
    osint_provider byname {
        types domain;
        url "http://localhost:%%FX0%%/byname/\$osint_target";
        cache_ttl 0;
    }
    osint_provider form {
        types domain;
        url "http://127.0.0.1:%%FX0%%/form";
        body "q=\$osint_target&x=1";
        cache_ttl 0;
    }
    osint_provider refused {
        types domain;
        url "http://127.0.0.1:$closed/refused/\$osint_target";
        cache_ttl 0;
        retries 0;
    }
    osint_provider hop {
        types domain;
        url "http://127.0.0.1:%%FX0%%/hop/\$osint_target?fault=redirect&to=/landed/x";
        cache_ttl 0;
    }
EOF
for my $wire (qw(chunked http10 toclose split interim short extra gzip
                 bighead manyheads quietclose)) {
    $conf .= provider($wire, "wire=$wire");
}
$conf .= provider('midhead', 'wire=bighead&size=12000');
$conf .= provider('resetter', 'fault=reset', 'retries 0;');
$conf .= provider('large', 'fault=huge&size=20000');
$conf .= provider('largechunks', 'fault=huge&size=20000&wire=chunked');

$conf .= <<"EOF";
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup {
            osint_lookup;
            add_header X-Pid \$pid always;
        }
    }
EOF

$t->write_conf($conf);
$t->allow_log(qr/connect\(\) to 127\.0\.0\.1:$closed failed/);
$t->run;

my $n = 0;

# one lookup of one provider, a target never asked before
sub call {
    my ($provider) = @_;
    $n++;
    my ($status, $doc, $res) = $t->get_json(
        "/lookup?target=t$n-$provider.example.com&providers=$provider");
    return ($status, $doc->{providers}{$provider}, "t$n-$provider.example.com",
            $res);
}

# requests the fixture counted for paths under $prefix
sub calls_under {
    my ($prefix) = @_;
    my $by = $fx->_control_req('GET', '/_calls')->{by_path};
    my $sum = 0;
    $sum += $by->{$_} for grep { index($_, $prefix) == 0 } keys %$by;
    return $sum;
}

sub last_request {
    my ($path) = @_;
    my ($e) = grep { $_->{path} eq $path } reverse @{$fx->log};
    return $e;
}


###############################################################################
# Part 1: which client, and the request

my ($status, $p, $target) = call('plain');
is($status, 200, 'plain: 200');
is($p->{status}, 'ok', 'plain: ok');
is($p->{data}{target}, $target, 'plain: the echo of its target');
is($p->{data}{query}, 'n=1', 'plain: its query');
my $req = last_request("/plain/$target");
ok($req, 'plain: the provider saw the request') or BAIL_OUT('no request');
is($req->{method}, 'GET', 'plain: GET');
is($req->{headers}{host}, '127.0.0.1:' . $fx->port, 'plain: Host as in the url');
is($req->{headers}{'user-agent'}, 'ngx_http_osint_module/0.1.0',
   'plain: User-Agent');
is($req->{headers}{accept}, '*/*', 'plain: Accept');
is($req->{headers}{'x-key'}, $KEY, 'plain: the header with the key');
ok(!exists $req->{headers}{'accept-encoding'},
   'plain: no Accept-Encoding (the plain client)');
like($req->{headers}{'x-request-id'} // '', qr/^[0-9a-f]{32}$/,
     'plain: X-Request-ID');

($status, $p, $target) = call('swap');
is($p->{status}, 'ok', 'swap: ok');
$req = last_request("/swap/$target");
is($req->{headers}{'user-agent'}, 'osint-test', 'swap: its User-Agent only');
ok(!exists $req->{headers}{accept}, 'swap: "Accept:" sends no Accept');

($status, $p, $target) = call('byname');
is($p->{status}, 'ok', 'byname: ok');
$req = last_request("/byname/$target");
like($req->{headers}{'accept-encoding'} // '', qr/gzip/,
     'byname: a name is libcurl\'s (it asks for gzip)');

($status, $p, $target) = call('form');
is($p->{status}, 'ok', 'form: ok');
is($p->{data}{method}, 'POST', 'form: POST');
($req) = grep { $_->{path} eq '/form' } reverse @{$fx->log};
is($req->{body}, "q=$target&x=1", 'form: the body');
is($req->{headers}{'content-type'}, 'application/x-www-form-urlencoded',
   'form: its Content-Type');
is($req->{headers}{'content-length'}, length("q=$target&x=1"),
   'form: its Content-Length');


###############################################################################
# Part 2: framings, and broken answers

for my $wire (qw(chunked http10 toclose split interim midhead)) {
    ($status, $p, $target) = call($wire);
    is($status, 200, "$wire: 200");
    is($p->{status}, 'ok', "$wire: ok");
    is($p->{data}{target}, $target, "$wire: the whole echo (its target)");
    is_deeply($p->{data}{nested}{tags}, ['a', 'b'],
              "$wire: the whole echo (its end)");
}

for my $case (
    [ 'short', 'bad_response', 200,
      'transfer closed with outstanding read data remaining' ],
    [ 'gzip', 'bad_response', 200,
      "the answer's Content-Encoding was not asked for" ],
    [ 'bighead', 'bad_response', 200,
      "a line of the answer's headers is longer than 16 KB" ],
    [ 'manyheads', 'bad_response', 200,
      "the answer's headers are larger than 64 KB" ],
    [ 'large', 'too_large', 200, 'the answer is larger than osint_max_body' ],
    [ 'largechunks', 'too_large', 200,
      'the answer is larger than osint_max_body' ],
) {
    my ($wire, $kind, $http, $message) = @$case;
    ($status, $p) = call($wire);
    is($status, 502, "$wire: 502");
    is($p->{error}{kind}, $kind, "$wire: $kind");
    is($p->{error}{http_status}, $http, "$wire: the status it had");
    is($p->{error}{message}, $message, "$wire: the message");
}


###############################################################################
# Part 3: connections

$fx->conns_restart;
for (1 .. 30) {
    ($status, $p) = call($_ % 2 ? 'plain' : 'swap');
    is($p->{status}, 'ok', "keep-alive lookup $_") if $_ == 1 || $_ == 30;
}
my $conns = $fx->conns;
cmp_ok($conns->{total}, '<=', 2,
       '30 lookups, two providers, two workers: one connection a worker');

# the provider closed it while idle: the next lookups are answered with
# one request each (dropped by its idle handler, or sent again: the
# fixture cannot tell which)
($status, $p) = call('quietclose');
is($p->{status}, 'ok', 'quietclose: ok');
select(undef, undef, undef, 0.4);
$fx->conns_restart;
for (1 .. 4) {
    ($status, $p) = call('quietclose');
    is($p->{status}, 'ok', "quietclose again: ok ($_)");
    select(undef, undef, undef, 0.3);
}
is(calls_under('/quietclose/'), 5,
   'quietclose: one request a lookup, each answered');

# more than its answer: not kept
$fx->conns_restart;
my $before = $fx->conns->{total};
($status, $p) = call('extra');
is($p->{status}, 'ok', 'extra: the answer is read');
for (1 .. 4) {
    call('extra');
}
is($fx->conns->{total} - $before, 5, 'extra: a new connection each time');

# a kept-alive connection the provider drops on the next request (it reads
# it, then resets): the request goes once more, on a new connection, in the
# same attempt (libcurl does the same); first both workers hold one
my %pids;
for (1 .. 60) {
    my @r = call('plain');
    $pids{ $r[3]{headers}{'x-pid'} // '' }++;
    last if keys %pids == 2;
}
is(scalar keys %pids, 2, 'both workers hold a kept-alive connection');
($status, $p, $target) = call('resetter');
is($p->{error}{kind}, 'connect', 'resetter: connect');
is($p->{error}{message}, 'Failure when receiving data from the peer',
   'resetter: the message');
is(calls_under("/resetter/$target"), 2,
   'resetter: one attempt, sent again once on a new connection');

($status, $p) = call('refused');
is($status, 502, 'refused: 502');
is($p->{error}{kind}, 'connect', 'refused: connect');
is($p->{error}{message},
   "Failed to connect to 127.0.0.1:$closed: Connection refused",
   'refused: the message');

($status, $p) = call('hop');
is($p->{status}, 'ok', 'hop: the redirect followed');
is($p->{data}{path}, '/landed/x', 'hop: where it led');

$t->stop;
done_testing();
