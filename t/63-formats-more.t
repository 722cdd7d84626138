#!/usr/bin/perl

# Three more built-in formats end to end: censys (Search API v2, a host and
# a host search), dnsdb (Farsight passive DNS, rrset and rdata lookups in
# NDJSON with "cond" framing) and whoisxml (WHOIS API JSON), each behind a
# fixture provider answering canned bodies in the APIs' documented shapes
# (t/lib/bodies): the exact normalised data, not found (a 404, an empty
# search, a stream with no record, no WHOIS data), the provider's own
# errors (a "failed" or "limited" stream, a stream cut in transfer, lines
# that are not JSON, an ErrorMessage), 401 and 429; the fields merged in
# summary and the verdict of a young domain.

use strict;
use warnings;

use Test::More;
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;
use OsintTest::Formats qw(lookup data_is not_found);

my $t = OsintTest->new;
my $fx = $t->fixture;

OsintTest::Formats::harness($t, $fx);

# breaker off: the errors below are on purpose, one after the other

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 3s;

    osint_provider censys {
        types ip domain;
        url "http://127.0.0.1:%%FX0%%/censys/$osint_target";
        format censys;
        cache_ttl off;
        breaker off;
    }

    osint_provider dnsdb {
        types ip domain;
        url "http://127.0.0.1:%%FX0%%/dnsdb/$osint_target";
        header "Accept: application/x-ndjson";
        format dnsdb;
        cache_ttl off;
        breaker off;
    }

    osint_provider whoisxml {
        types domain;
        url "http://127.0.0.1:%%FX0%%/whoisxml/?domainName=$osint_target&outputFormat=JSON";
        format whoisxml;
        cache_ttl off;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location /lookup { osint_lookup; }
    }
EOF

$t->run;

sub fails {
    my ($provider, $target, $body, $status, $kind, $message) = @_;

    my ($st, $p) = lookup($provider, $target, $body, $status);
    my $what = "$provider $body" . ($status ? " with $status" : '');

    is($st, 502, "$what: 502, the only provider failed");
    is($p && $p->{error}{kind}, $kind, "$what: $kind") or diag explain $p;
    is($p && $p->{error}{http_status}, $status // 200,
       "$what: http_status " . ($status // 200));
    like($p && $p->{error}{message}, $message, "$what: the message says why");
}

###############################################################################
# censys

data_is('censys', '8.8.8.8', 'censys_host', {
    ports => [ 53, 443, 853 ],
    services => [
        { port => 53, service_name => 'DNS', transport_protocol => 'UDP' },
        { port => 443, service_name => 'HTTP', transport_protocol => 'TCP' },
        { port => 443, service_name => 'HTTP', transport_protocol => 'QUIC' },
        { port => 853, service_name => 'UNKNOWN',
          transport_protocol => 'TCP' },
    ],
    asn => 'AS15169',
    as_name => 'GOOGLE',
    bgp_prefix => '8.8.8.0/24',
    country => 'US',
    city => 'Mountain View',
    hostnames => [ 'dns.google', 'dns.google.com' ],
    last_updated => '2024-05-20T09:12:48.191Z',
});

data_is('censys', 'dns.google', 'censys_search', {
    total => 2,
    hosts => [
        { ip => '8.8.8.8', ports => [ 53, 443 ], asn => 'AS15169',
          country => 'US' },
        { ip => '8.8.4.4', ports => [ 53, 853 ], asn => 'AS15169',
          country => 'US' },
    ],
});

not_found('censys', 'nothing.example.com', 'censys_search_empty');
not_found('censys', '1.2.3.4', 'censys_404', 404);
fails('censys', '8.8.8.8', 'censys_401', 401, 'auth',
      qr/^the provider refused the credentials$/);
fails('censys', '8.8.8.8', 'greynoise', undef, 'bad_response',
      qr/^censys: the answer has no "result" object$/);
fails('censys', '8.8.8.8', 'fault=invalid', undef, 'bad_response',
      qr/^the answer is not valid JSON$/);

###############################################################################
# dnsdb

data_is('dnsdb', 'www.farsightsecurity.com', 'dnsdb_rrset', {
    resolutions => [
        { rrname => 'www.farsightsecurity.com', rrtype => 'A',
          rdata => [ '104.244.13.104' ], count => 1411,
          first_seen => 1504640373, last_seen => 1709125542,
          bailiwick => 'farsightsecurity.com' },
        { rrname => 'www.farsightsecurity.com', rrtype => 'A',
          rdata => [ '66.160.140.81' ], count => 5059,
          first_seen => 1380139330, last_seen => 1427307444,
          bailiwick => 'farsightsecurity.com' },
        { rrname => 'www.farsightsecurity.com', rrtype => 'AAAA',
          rdata => [ '2001:470:b0::81' ], count => 17,
          first_seen => 1374098930, last_seen => 1380124067,
          bailiwick => 'farsightsecurity.com' },
    ],
    first_seen => 1374098930,
    last_seen => 1709125542,
    count => 6487,
    hostnames => [ 'www.farsightsecurity.com' ],
});

data_is('dnsdb', '104.244.13.104', 'dnsdb_rdata', {
    resolutions => [
        { rrname => 'www.farsightsecurity.com', rrtype => 'A',
          rdata => [ '104.244.13.104' ], count => 24,
          first_seen => 1433550785, last_seen => 1468312116 },
        { rrname => 'farsightsecurity.com', rrtype => 'A',
          rdata => [ '104.244.13.104' ], count => 9429,
          first_seen => 1427897872, last_seen => 1468333042 },
    ],
    first_seen => 1427897872,
    last_seen => 1468333042,
    count => 9453,
    hostnames => [ 'farsightsecurity.com', 'www.farsightsecurity.com' ],
});

data_is('dnsdb', 'www.farsightsecurity.com', 'dnsdb_limited', {
    resolutions => [
        { rrname => 'www.farsightsecurity.com', rrtype => 'A',
          rdata => [ '66.160.140.81' ], count => 5059,
          first_seen => 1380139330, last_seen => 1427307444,
          bailiwick => 'farsightsecurity.com' },
    ],
    first_seen => 1380139330,
    last_seen => 1427307444,
    count => 5059,
    hostnames => [ 'www.farsightsecurity.com' ],
    limited => JSON::PP::true,
});

not_found('dnsdb', 'nothing.example.com', 'dnsdb_empty');
not_found('dnsdb', 'nothing.example.com', 'dnsdb_empty', 404);
fails('dnsdb', 'www.farsightsecurity.com', 'dnsdb_failed', undef,
      'bad_response',
      qr/^dnsdb: the stream ended "failed": Query timed out$/);
fails('dnsdb', 'www.farsightsecurity.com', 'dnsdb_truncated', undef,
      'bad_response',
      qr/^dnsdb: the stream ended without its final cond \(truncated\)$/);
fails('dnsdb', 'www.farsightsecurity.com', 'dnsdb_malformed', undef,
      'bad_response', qr/^the answer is not valid JSON$/);
fails('dnsdb', 'www.farsightsecurity.com', 'censys_search_empty', undef,
      'bad_response',
      qr/^dnsdb: the stream does not begin with \{"cond":"begin"\}$/);
fails('dnsdb', 'www.farsightsecurity.com', 'censys_401', 401, 'auth',
      qr/^the provider refused the credentials$/);

###############################################################################
# whoisxml

data_is('whoisxml', 'google.com', 'whoisxml', {
    registrar => 'MarkMonitor, Inc.',
    registrar_iana_id => '292',
    created => '1997-09-15T07:00:00+0000',
    updated => '2019-09-09T15:39:04+0000',
    expires => '2028-09-13T07:00:00+0000',
    name_servers => [ 'ns1.google.com', 'ns2.google.com', 'ns3.google.com',
                      'ns4.google.com' ],
    whois_status => [ qw(clientUpdateProhibited clientTransferProhibited
                         clientDeleteProhibited serverUpdateProhibited
                         serverTransferProhibited serverDeleteProhibited) ],
    registrant_org => 'Google LLC',
    registrant_country => 'US',
    contact_email => 'abusecomplaints@markmonitor.com',
    domain_age_days => 9744,
});

# the registrar's record empty: the registry's
data_is('whoisxml', 'young-shop.com', 'whoisxml_registry', {
    registrar => 'NameCheap, Inc.',
    registrar_iana_id => '1068',
    created => '2024-05-12T18:22:05Z',
    updated => '2024-05-12T18:22:06Z',
    expires => '2025-05-12T18:22:05Z',
    name_servers => [ 'ns1.exampledns.net', 'ns2.exampledns.net' ],
    whois_status => [ 'clientTransferProhibited', 'addPeriod' ],
    domain_age_days => 8,
});

not_found('whoisxml', 'no-such-domain-4711.com', 'whoisxml_missing');
fails('whoisxml', 'google.com', 'whoisxml_error', undef, 'bad_response',
      qr/^whoisxml: the answer is an ErrorMessage$/);
fails('whoisxml', 'google.com', 'dnsdb_rrset', undef, 'bad_response',
      qr/^whoisxml: the answer has no "WhoisRecord" object$/);
fails('whoisxml', 'google.com', 'fault=invalid', undef, 'bad_response',
      qr/^the answer is not valid JSON$/);

###############################################################################
# the three in one lookup: summary and verdict

{
    $fx->control(prefix => '/censys/', params => { body => 'censys_search' });
    $fx->control(prefix => '/dnsdb/', params => { body => 'dnsdb_rrset' });
    $fx->control(prefix => '/whoisxml/',
                 params => { body => 'whoisxml_registry' });

    my ($st, $doc) = $t->get_json('/lookup?target=young-shop.com');
    my $s = $doc->{summary};

    $fx->control(clear => 1);

    is($st, 200, 'all three: 200');
    is(scalar @{ $s->{resolutions} // [] }, 3,
       'summary: the passive DNS resolutions');
    is($s->{first_seen}, 1374098930, 'summary: first seen');
    is($s->{registrar}, 'NameCheap, Inc.', 'summary: the registrar');
    is($s->{created}, '2024-05-12T18:22:05Z', 'summary: created');
    is($s->{expires}, '2025-05-12T18:22:05Z', 'summary: expires');
    is($s->{total}, 2, 'summary: the hosts Censys found');
    is_deeply($s->{verdict}, {
        level => 'suspicious', score => 30,
        reasons => [ 'whoisxml: registered 8 days ago' ] },
        'verdict: a domain younger than 30 days is suspicious')
        or diag explain $s->{verdict};
}

# 429, last: the provider is held after it
fails($_, 'google.com', 'censys_401', 429, 'rate_limited',
      qr/^the provider answered 429 Too Many Requests$/)
    for qw(censys dnsdb whoisxml);

$t->stop;
done_testing;
