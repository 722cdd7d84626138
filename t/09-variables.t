#!/usr/bin/perl

# Log variables: $osint_target_type $osint_cache_status $osint_providers_ok
# $osint_providers_failed $osint_upstream_time in a JSON access log.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new;
my $fx = $t->fixture;

$t->write_conf(<<'EOF');
    osint_zone 8m;

    log_format osint escape=json
        '{"request_id":"$request_id","status":$status,'
        '"type":"$osint_target_type","cache":"$osint_cache_status",'
        '"ok":"$osint_providers_ok","failed":"$osint_providers_failed",'
        '"upstream_time":"$osint_upstream_time"}';

    osint_provider good {
        types ip domain;
        url "http://127.0.0.1:%%FX0%%/good/$osint_target?delay=100";
    }

    osint_provider bad {
        types ip;
        url "http://127.0.0.1:%%FX0%%/bad/$osint_target?status=500";
    }

    osint_provider nokey {
        types ip;
        url "http://127.0.0.1:%%FX0%%/nokey/$osint_target?k=$osint_api_key";
        api_key env=OSINT_TEST_UNSET_KEY;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        access_log %%TESTDIR%%/osint.log osint;
        location = /lookup { osint_lookup; }
        location = /plain { return 204; }
    }
EOF

$t->run;

my (undef, $doc1) = $t->get_json('/lookup?target=8.8.8.8');
my (undef, $doc2) = $t->get_json('/lookup?target=example.com');
$t->get('/lookup?target=not%20valid');
$t->get('/plain');

# the access log line is written after the response: wait for all four
my @lines;
$t->wait_until(sub {
    @lines = split /\n/,
        (OsintTest::_read_file($t->testdir . '/osint.log') // '');
    @lines >= 4;
}, 5);
is(scalar @lines, 4, 'four log lines');

my @log = map { OsintTest::decode_json_or_undef($_) } @lines;
ok(!grep({ !defined } @log), 'every line is JSON');

# in the order of the requests: with two workers, a line may be written
# after the next request's (a worker writes its line after the response)
my %rank = (($doc1->{request_id} // '') => 0,
            ($doc2->{request_id} // '') => 1);
@log = sort {
    ($rank{$a->{request_id} // ''} // ($a->{status} == 400 ? 2 : 3))
    <=> ($rank{$b->{request_id} // ''} // ($b->{status} == 400 ? 2 : 3))
} grep { defined } @log;

is_deeply([ @{$log[0]}{qw(request_id type cache ok failed)} ],
          [ $doc1->{request_id}, 'ipv4', 'MISS', '1', '1' ],
          'ipv4 lookup: type, cache, 1 ok, 1 failed (disabled is no failure)');
like($log[0]{upstream_time}, qr/^0\.1\d\d$/,
     'upstream time: the slowest call, about 0.1 s');

is_deeply([ @{$log[1]}{qw(request_id type cache ok failed)} ],
          [ $doc2->{request_id}, 'domain', 'MISS', '1', '0' ],
          'domain lookup');

is_deeply([ @{$log[2]}{qw(status type cache ok failed upstream_time)} ],
          [ 400, '', '', '', '', '' ], 'bad input: empty variables');
is_deeply([ @{$log[3]}{qw(status type ok)} ], [ 204, '', '' ],
          'other locations: empty variables');

$t->done_testing;
