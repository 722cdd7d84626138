#!/usr/bin/perl

# Provider sets per location: `osint_lookup providers=a,b types=...;`
# limits a location to a set; ?providers= narrows it but never widens it
# (asking for one outside the set is a 400 that names it), for a GET and
# a batch; type= may not leave types=; nginx -t refuses unknown names and
# bad parameters in nginx's words; osint_status shows each location's set.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;

my $PROVIDERS = <<'EOF';
    osint_zone 4m;
    osint_deadline 3s;

    osint_provider A {
        types ipv4 domain;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target";
        cache_ttl off;
    }

    osint_provider B {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/b/$osint_target";
        cache_ttl off;
    }

    osint_provider C {
        types ipv4 domain;
        url "http://127.0.0.1:%%FX0%%/c/$osint_target";
        cache_ttl off;
    }
EOF

$t->write_conf($PROVIDERS . <<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;

        location = /all    { osint_lookup; }
        location = /public { osint_lookup providers=A,B; }
        location = /ip     { osint_lookup providers=C types=ipv4,ipv6; }
        location = /dom    { osint_lookup types=domain; }
        location = /status { osint_status; }
    }
EOF

$t->run;

sub names {
    my ($doc) = @_;
    return [ sort keys %{($doc // {})->{providers} // {}} ];
}

sub get {
    my ($uri) = @_;
    my ($status, $doc) = $t->get_json($uri);
    return ($status, $doc);
}

###############################################################################
# the sets

my ($status, $doc) = get('/all?target=192.0.2.1');
is_deeply(names($doc), [ 'A', 'B', 'C' ], '/all: every provider');

($status, $doc) = get('/public?target=192.0.2.1');
is($status, 200, '/public: 200');
is_deeply(names($doc), [ 'A', 'B' ], '/public: A and B only');
is($fx->calls_for('/c/192.0.2.1'), 1, 'C asked once, by /all only');

($status, $doc) = get('/public?target=example.com');
is_deeply(names($doc), [ 'A' ], '/public, a domain: A (B serves none)');

($status, $doc) = get('/ip?target=192.0.2.2');
is_deeply(names($doc), [ 'C' ], '/ip: C only');

($status, $doc) = get('/dom?target=example.org');
is_deeply(names($doc), [ 'A', 'C' ], '/dom: the providers of domains');

###############################################################################
# narrowing, never widening

($status, $doc) = get('/public?target=192.0.2.3&providers=B');
is($status, 200, 'providers=B within the set: 200');
is_deeply(names($doc), [ 'B' ], 'narrowed to B');

($status, $doc) = get('/public?target=192.0.2.3&providers=A,C');
is($status, 400, 'providers=A,C at /public: 400');
is($doc->{error}{kind}, 'invalid_parameter', 'kind invalid_parameter');
is($doc->{error}{message}, 'provider "C" is not offered here',
   'the message names C');
is($fx->calls_for('/a/192.0.2.3'), 0, 'nothing called');

($status, $doc) = get('/public?target=192.0.2.3&providers=Z');
is($doc->{error}{message}, 'unknown provider "Z"', 'unknown: as before');

($status, $doc) = get('/all?target=192.0.2.3&providers=C');
is_deeply(names($doc), [ 'C' ], '/all: providers=C as before');

# types=
($status, $doc) = get('/ip?target=example.com');
is($status, 400, '/ip, a domain: 400');
is($doc->{error}{kind}, 'invalid_target', 'kind invalid_target');

($status, $doc) = get('/ip?target=192.0.2.4&type=domain');
is($status, 400, '/ip, type=domain: 400');
is($doc->{error}{message}, 'type "domain" is not offered here',
   'the message names the type');

($status, $doc) = get('/dom?target=192.0.2.4');
is($status, 400, '/dom, an address: 400');

($status, $doc) = get('/ip?target=192.0.2.4&type=ipv4');
is($status, 200, '/ip, type=ipv4: 200');

###############################################################################
# a batch: the same set, the same 400

my $res = $t->post('/public', { targets => [ '192.0.2.5', 'example.net' ] });
is($res->{status}, 200, 'batch at /public: 200');
my @lines = map { OsintTest::decode_json_or_undef($_) }
            split /\n/, $res->{content} // '';
is(scalar @lines, 2, 'two lines');
is_deeply([ map { join ',', @{names($_)} } sort { $a->{target} cmp $b->{target} } @lines ],
          [ 'A,B', 'A' ], 'each within the set');

$res = $t->post('/public?providers=C', { targets => [ '192.0.2.6' ] });
is($res->{status}, 400, 'batch providers=C at /public: 400');
like($res->{content}, qr/provider \\?"C\\?" is not offered here/,
     'the batch 400 names C');

$res = $t->post('/public?providers=B', { targets => [ '192.0.2.7' ] });
like($res->{content}, qr/"providers":\{"B":/, 'batch narrowed to B');
is($fx->calls_for('/c/192.0.2.6') + $fx->calls_for('/a/192.0.2.7'), 0,
   'no call outside the sets');

###############################################################################
# osint_status shows the sets

($status, $doc) = get('/status?format=json');
is_deeply($doc->{locations},
          [ { location => '/all', providers => undef, types => undef },
            { location => '/public', providers => [ 'A', 'B' ],
              types => undef },
            { location => '/ip', providers => [ 'C' ],
              types => [ 'ipv4', 'ipv6' ] },
            { location => '/dom', providers => undef,
              types => [ 'domain' ] } ],
          'status JSON: each location with its set');

# ... and the ops page, as a browser draws it

my $CHROMIUM = $ENV{OSINT_CHROMIUM} || '/usr/bin/chromium';

SKIP: {
    skip "$CHROMIUM missing (OSINT_ALLOW_SKIP)", 4
        if !-x $CHROMIUM && $ENV{OSINT_ALLOW_SKIP};

    my $dir = $t->testdir;
    my $url = $t->url('/status?format=html');
    my $dom = '';

    for my $try (1 .. 2) {
        $dom = `timeout 90 $FindBin::Bin/lib/browser.sh -t 60 -l $dir/chromium.log --virtual-time-budget=5000 --window-size=1200,800 --dump-dom '$url' 2>/dev/null` // '';
        last if $dom =~ /data-location=/;
        diag "chromium try $try: exit " . ($? >> 8);
    }

    $dom =~ s{<script\b.*?</script>}{}gs;
    my %card = $dom =~ m{<span data-location="([^"]+)">([^<]*)</span>}g;
    is_deeply(\%card, { '/all' => 'all providers', '/public' => 'A, B',
                        '/ip' => 'C', '/dom' => 'all providers' },
              'page: a card per lookup location with its providers');
    like($dom, qr{data-location="/ip">C</span> <span class="m">ipv4 ipv6</span>},
         'page: /ip with its types');
    like($dom, qr{data-location="/dom">all providers</span> <span class="m">domain</span>},
         'page: /dom with its types');
    unlike($dom, qr{data-location="/all">[^<]*</span> <span class="m">},
           'page: /all without types');
}

$t->stop;

###############################################################################
# nginx -t: in nginx's words, with file and line

my @refused = (
    [ 'providers=A,X', qr/\[emerg\] unknown osint_provider "X" in "osint_lookup" in \S+nginx\.conf:\d+/ ],
    [ 'providers=', qr/\[emerg\] invalid parameter "providers=" in \S+:\d+/ ],
    [ 'providers=A,,B', qr/\[emerg\] invalid parameter "providers=A,,B"/ ],
    [ 'providers=A providers=B', qr/\[emerg\] invalid parameter "providers=B"/ ],
    [ 'types=ipv4,bogus', qr/\[emerg\] unknown type "bogus" in "types=ipv4,bogus"/ ],
    [ 'colour=red', qr/\[emerg\] invalid parameter "colour=red"/ ],
    [ 'providers=A types=ip extra', qr/\[emerg\] invalid number of arguments in "osint_lookup"/ ],
);

for my $c (@refused) {
    my ($args, $re) = @$c;
    my $n = OsintTest->new;
    $n->fixture;
    $n->write_conf($PROVIDERS . <<"EOF");
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /l { osint_lookup $args; }
    }
EOF
    my ($rc, $out) = $n->nginx_test;
    isnt($rc, 0, "nginx -t refuses \"$args\"");
    like($out, $re, "... saying so") or diag $out;
}

# a set naming a provider defined after the server
{
    my $n = OsintTest->new;
    $n->fixture;
    $n->write_conf(<<'EOF' . $PROVIDERS);
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /l { osint_lookup providers=C; }
    }
EOF
    my ($rc, $out) = $n->nginx_test;
    is($rc, 0, 'a provider defined after the location is known') or diag $out;
}

done_testing;
