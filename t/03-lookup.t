#!/usr/bin/perl

# The lookup: exact merged documents, parallel fan-out, every provider
# failure kind of docs/document.md, 200/502, X-Request-ID to providers and back,
# and connections to providers kept alive.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new;
my $fx = $t->fixture;
my $closed = $t->free_port;     # nothing listens there

$t->write_conf(<<"EOF");
    osint_zone 8m;
    osint_cache_bypass 1;           # refresh=1, no-cache honoured here
    osint_deadline 3s;
    osint_max_body 64k;

    osint_provider echo {
        types ipv4 domain;
        url "http://127.0.0.1:%%FX0%%/echo/\$osint_target?delay=300";
        field country \$.nested.country;
        field asn \$.nested.asn;
        field tags \$.nested.tags;
        field first_tag \$.nested.tags[0];
        field missing \$.nope.deeper;
    }

    osint_provider shodan {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/shodan/\$osint_target?body=internetdb&delay=300";
        header "Accept: application/json";
        field ports \$.ports;
        field hostnames \$.hostnames;
        field tags \$.tags;
    }

    osint_provider whole {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/whole/\$osint_target?body=ipinfo&delay=300";
    }

    osint_provider hang {
        types ipv6;
        url "http://127.0.0.1:%%FX0%%/hang/\$osint_target?fault=hang";
        timeout 500ms;
    }

    osint_provider refused {
        types ipv6;
        url "http://127.0.0.1:$closed/refused/\$osint_target";
    }

    osint_provider s500 {
        types ipv6;
        url "http://127.0.0.1:%%FX0%%/s500/\$osint_target?status=500";
    }

    osint_provider invalid {
        types ipv6;
        url "http://127.0.0.1:%%FX0%%/invalid/\$osint_target?fault=invalid";
    }

    osint_provider huge {
        types ipv6;
        url "http://127.0.0.1:%%FX0%%/huge/\$osint_target?fault=huge&size=100000";
    }

    osint_provider reset {
        types ipv6;
        url "http://127.0.0.1:%%FX0%%/reset/\$osint_target?fault=reset";
    }

    osint_provider drip {
        types ipv6;
        url "http://127.0.0.1:%%FX0%%/drip/\$osint_target?fault=drip";
        timeout 700ms;
    }

    osint_provider notfound {
        types domain;
        url "http://127.0.0.1:%%FX0%%/nf/\$osint_target?status=404&body=internetdb_404";
    }

    osint_provider limited {
        types email;
        url "http://127.0.0.1:%%FX0%%/rl/\$osint_target?status=429&retry_after=2";
    }

    osint_provider denied {
        types email;
        url "http://127.0.0.1:%%FX0%%/auth/\$osint_target?status=401";
    }

    osint_provider slow {
        types hash;
        url "http://127.0.0.1:%%FX0%%/slow/\$osint_target?delay=5000";
        timeout 10s;
    }

    # a POST form provider (URLhaus style) and VirusTotal's URL id
    osint_provider form {
        types url;
        url "http://127.0.0.1:%%FX0%%/form/";
        body "url=\$osint_target&x=1";
    }

    osint_provider vtid {
        types url;
        url "http://127.0.0.1:%%FX0%%/vt/\$osint_target_b64url";
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }

    server {
        listen 127.0.0.1:%%PORT2%%;
        location = /lookup { osint_lookup; }
        location = /other { return 200; }
    }
EOF

$t->run;

# the volatile parts of a document, checked separately
sub strip {
    my ($doc) = @_;
    delete $doc->{request_id};
    delete $doc->{elapsed_ms};
    for my $p (values %{$doc->{providers}}) {
        delete $p->{latency_ms};
    }
    return $doc;
}

my $echo_data = { country => 'US', asn => 15169, tags => ['a', 'b'],
                  first_tag => 'a' };
my $shodan_data = {
    ports => [53, 443],
    hostnames => ['dns.google'],
    tags => [],
};

###############################################################################
# a merged document, exactly, and the fan-out in parallel

my ($status, $doc, $res) = $t->get_json('/lookup?target=8.8.8.8');
is($status, 200, 'ipv4 lookup 200');
is($res->{headers}{'content-type'}, 'application/json', 'content type');
is($res->{headers}{'x-cache-status'}, 'MISS', 'X-Cache-Status MISS');
like($res->{headers}{'x-request-id'}, qr/^[0-9a-f]{32}$/, 'X-Request-ID');
my $rid = $doc->{request_id};
is($rid, $res->{headers}{'x-request-id'}, 'request_id = X-Request-ID');

# three providers at 300 ms each: in parallel well under 600 ms
cmp_ok($res->{elapsed_ms}, '<', 600, "3 x 300 ms in parallel: "
       . "$res->{elapsed_ms} ms");
cmp_ok($doc->{elapsed_ms}, '>=', 300, 'elapsed_ms at least one delay');
cmp_ok($doc->{elapsed_ms}, '<', 600, 'elapsed_ms under two delays');

for my $name (qw(echo shodan whole)) {
    cmp_ok($doc->{providers}{$name}{latency_ms}, '>=', 299,
           "$name latency_ms >= 300");
}

my $ipinfo = OsintTest::decode_json_or_undef(
    OsintTest::_read_file("$FindBin::Bin/lib/bodies/ipinfo.json"));
my $internetdb = OsintTest::decode_json_or_undef(
    OsintTest::_read_file("$FindBin::Bin/lib/bodies/internetdb.json"));
$shodan_data = { ports => $internetdb->{ports},
                 hostnames => $internetdb->{hostnames},
                 tags => $internetdb->{tags} };

# summary: fields merged by name; equal values once, different ones listed
my %summary = (%$ipinfo, %$echo_data, %$shodan_data);
$summary{hostname} = $ipinfo->{hostname} if exists $ipinfo->{hostname};
$summary{tags} = [ @{$echo_data->{tags}} ];
for my $tag (@{$shodan_data->{tags}}) {
    push @{$summary{tags}}, $tag unless grep { $_ eq $tag } @{$summary{tags}};
}

is_deeply(strip($doc), {
    target => '8.8.8.8',
    type => 'ipv4',
    summary => \%summary,
    providers => {
        echo => { status => 'ok', cache => 'miss', attempts => 1,
                  age => 0, data => $echo_data },
        shodan => { status => 'ok', cache => 'miss', attempts => 1,
                    age => 0, data => $shodan_data },
        whole => { status => 'ok', cache => 'miss', attempts => 1,
                   age => 0, data => $ipinfo },
    },
}, 'ipv4 document exactly') or diag explain $doc;

# the request id went to every provider
my @log = grep { $_->{path} =~ m{^/(echo|shodan|whole)/8\.8\.8\.8$} }
          @{$fx->log};
is(scalar @log, 3, 'three provider calls');
is_deeply([ map { $_->{headers}{'x-request-id'} } @log ],
          [ ($rid) x 3 ], 'X-Request-ID sent to providers');
is((grep { $_->{path} =~ /shodan/ } @log)[0]{headers}{accept},
   'application/json', 'provider header sent');

###############################################################################
# provider failure kinds: one lookup, every kind, 502 as all failed

$fx->reset;
($status, $doc) = $t->get_json('/lookup?target=2001:db8::1');
is($status, 502, 'all providers failed: 502');
is($doc->{type}, 'ipv6', 'ipv6 type');
is_deeply($doc->{summary}, {}, 'no summary when all failed');

my %kind = (hang => 'timeout', refused => 'connect', s500 => 'http_status',
            invalid => 'bad_response', huge => 'too_large',
            reset => 'connect', drip => 'timeout');
my %http = (s500 => 500, invalid => 200, huge => 200);

for my $name (sort keys %kind) {
    my $p = $doc->{providers}{$name};
    is($p->{status}, 'error', "$name: status error");
    is($p->{cache}, 'miss', "$name: cache miss");
    is($p->{attempts}, 1, "$name: one attempt");
    ok(!exists $p->{data}, "$name: no data");
    is($p->{error}{kind}, $kind{$name}, "$name: kind $kind{$name}");
    is($p->{error}{http_status}, $http{$name}, "$name: http_status "
       . ($http{$name} // 'null'));
    like($p->{error}{message}, qr/\S/, "$name: a message");
}

cmp_ok($doc->{providers}{hang}{latency_ms}, '>=', 490, 'timeout after 500ms');
cmp_ok($doc->{providers}{hang}{latency_ms}, '<', 900, 'timeout bounded');
cmp_ok($doc->{providers}{drip}{latency_ms}, '>=', 690, 'drip timeout 700ms');
is($fx->calls_for('/huge/2001%3Adb8%3A%3A1'), 1, 'huge was called once');

###############################################################################
# not_found counts as an answer; 429 and 401 are their own kinds

($status, $doc) = $t->get_json('/lookup?target=example.com&providers=notfound');
is($status, 200, 'not_found alone: 200');
is_deeply(strip($doc), {
    target => 'example.com', type => 'domain', summary => {},
    providers => { notfound => { status => 'not_found', cache => 'miss',
                                 attempts => 1, age => 0 } },
}, 'not_found document exactly');

($status, $doc) = $t->get_json('/lookup?target=a%40example.com');
is($status, 502, '429 + 401: 502');
is_deeply($doc->{providers}{limited}{error}, {
    kind => 'rate_limited', http_status => 429,
    message => 'the provider answered 429 Too Many Requests',
    retryable => JSON::PP::true(), retry_after => 2,
}, '429 is rate_limited');
is_deeply($doc->{providers}{denied}{error}, {
    kind => 'auth', http_status => 401,
    message => 'the provider refused the credentials',
    retryable => JSON::PP::false(),
}, '401 is auth');

# partial: one ok, one failed -> 200
($status, $doc) = $t->get_json('/lookup?target=example.com');
is($status, 200, 'partial answer is 200');
is($doc->{providers}{echo}{status}, 'ok', 'partial: echo ok');
is($doc->{providers}{notfound}{status}, 'not_found', 'partial: not_found');

###############################################################################
# the deadline ends the lookup, whatever the provider's own timeout

($status, $doc, $res) = $t->get_json(
    '/lookup?target=d41d8cd98f00b204e9800998ecf8427e');
is($status, 502, 'deadline: 502');
is($doc->{type}, 'hash', 'hash type');
is($doc->{providers}{slow}{error}{kind}, 'deadline', 'deadline kind');
cmp_ok($res->{elapsed_ms}, '>=', 2900, 'deadline at 3 s');
cmp_ok($res->{elapsed_ms}, '<', 4000, 'deadline bounded');

###############################################################################
# keep-alive: sequential lookups reuse provider connections (refresh=1:
# past the cache, every lookup goes to the provider)

my $before = OsintTest::tcp_states($fx->port)->{'06'} // 0;
for (1 .. 20) {
    $t->get('/lookup?target=example.org&providers=notfound&refresh=1');
}
my $states = OsintTest::tcp_states($fx->port);
is(($states->{'06'} // 0) - $before, 0,
   'no TIME_WAIT from nginx to the provider: connections reused');
cmp_ok($states->{'01'} // 0, '<=', 8, 'few established connections');

###############################################################################
# POST bodies and $osint_target_b64url

$fx->reset;
($status, $doc) = $t->get_json(
    '/lookup?target=' . 'http%3A%2F%2Fexample.com%2Fa%3Fb%3Dc%26d');
is($status, 200, 'url lookup');
my ($post) = grep { $_->{path} eq '/form/' } @{$fx->log};
is($post->{method}, 'POST', 'body: a POST');
is($post->{body}, 'url=http%3A%2F%2Fexample.com%2Fa%3Fb%3Dc%26d&x=1',
   'body: the target form-encoded as one value');
is($post->{headers}{'content-type'}, 'application/x-www-form-urlencoded',
   'body: form content type');
my ($vt) = grep { $_->{path} =~ m{^/vt/} } @{$fx->log};
is($vt->{method}, 'GET', 'other providers: GET');
is($vt->{path}, '/vt/aHR0cDovL2V4YW1wbGUuY29tL2E_Yj1jJmQ',
   '$osint_target_b64url: VirusTotal URL id (base64url, no padding)');

###############################################################################
# the second server shares the multi handle of the worker

$res = $t->request('GET', '/lookup?target=example.com&providers=echo',
                   port => $t->port(2));
is($res->{status}, 200, 'second server answers');

$t->done_testing;
