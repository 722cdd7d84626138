#!/usr/bin/perl

# POST /lookup: a batch answered as NDJSON, one document a line, in
# completion order, streamed as each completes, at most
# osint_batch_concurrency lookups in flight; bad targets get a line of
# their own; bad bodies a 400; a client that leaves cancels the rest.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new;
my $fx = $t->fixture;

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 3s;
    osint_batch_max 5;
    osint_batch_concurrency 2;

    osint_provider slow {
        types ipv4 domain;
        url "http://127.0.0.1:%%FX0%%/slow/$osint_target?delay=300";
        field country $.nested.country;
        cache_ttl off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF

$t->run;

sub lines { [ map { OsintTest::decode_json_or_undef($_) } split /\n/, $_[0] ] }

###############################################################################
# a batch: every target answered, in completion order, two at a time

my $res = $t->post('/lookup', { targets => [ '10.0.0.1', 'example.com',
                                             'not a target', 42,
                                             '10.0.0.2' ] });
is($res->{status}, 200, 'batch: 200');
is($res->{headers}{'content-type'}, 'application/x-ndjson', 'NDJSON');
like($res->{headers}{'x-request-id'}, qr/^[0-9a-f]{32}$/, 'X-Request-ID');

my $l = lines($res->{content});
is(scalar @$l, 5, 'five lines');
ok(!grep({ !defined } @$l), 'every line is JSON');

# bad targets need no provider: their lines come first
is_deeply($l->[0], { target => 'not a target', error => {
    kind => 'invalid_target', retryable => JSON::PP::false(),
    message => 'target contains whitespace or control characters' } },
    'a bad target: its own line');
is_deeply($l->[1], { target => undef, error => {
    kind => 'invalid_target', message => 'a target must be a string',
    retryable => JSON::PP::false() } },
    'a non-string target: its own line');

my %ok = map { $_->{target} => $_ } grep { $_->{providers} } @$l;
is_deeply([ sort keys %ok ], [ '10.0.0.1', '10.0.0.2', 'example.com' ],
          'three lookups');
is($ok{'example.com'}{providers}{slow}{data}{country}, 'US',
   'a full lookup document');
is($ok{'10.0.0.1'}{request_id}, $res->{headers}{'x-request-id'},
   'documents carry the request id');

# concurrency 2, 300 ms each: three lookups take two rounds
cmp_ok($res->{elapsed_ms}, '>=', 590, "two rounds: $res->{elapsed_ms} ms");
cmp_ok($res->{elapsed_ms}, '<', 1100, 'not three rounds');

my @starts = sort { $a <=> $b } map { $_->{t} }
             grep { $_->{path} =~ m{^/slow/} } @{$fx->log};
is(scalar @starts, 3, 'three provider calls');
cmp_ok($starts[2] - $starts[0], '>=', 0.28,
       'the third started after one of the first two ended');

###############################################################################
# streamed: the first line arrives before the last lookup ends

{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $t->port, Timeout => 5);
    my $body = '{"targets":["10.0.1.1","10.0.1.2","10.0.1.3"]}';
    my $t0 = time;
    print $s "POST /lookup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           . "Content-Type: application/json\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    my ($buf, $first) = ('', undef);
    while (time - $t0 < 5) {
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
        if (!defined $first && $buf =~ /"target":"10\.0\.1\.\d"/) {
            $first = time - $t0;
        }
    }
    my $total = time - $t0;
    ok(defined $first && $first < 0.5,
       sprintf('first line after %.2f s', $first // -1));
    cmp_ok($total, '>=', 0.59, sprintf('whole answer after %.2f s', $total));
    like($buf, qr/Transfer-Encoding: chunked/i, 'chunked');
    close $s;
}

###############################################################################
# bad bodies: 400, nothing called

$fx->reset;
for my $case (
    [ 'not json', 'the batch body is not valid JSON' ],
    [ '{"targets":"8.8.8.8"}', 'the batch body must be {"targets": [...]}' ],
    [ '{"nope":[]}', 'the batch body must be {"targets": [...]}' ],
    [ '{"targets":[]}', 'a batch holds 1 to 5 targets' ],
    [ '{"targets":["1.1.1.1","1.1.1.2","1.1.1.3","1.1.1.4","1.1.1.5",'
      . '"1.1.1.6"]}', 'a batch holds 1 to 5 targets' ],
    [ '', 'the batch body is empty: send {"targets": [...]}' ],

    # what another JSON parser could read differently: refused
    [ '{"targets":["1.1.1.1"],"targets":["1.1.1.2"]}',
      'the batch body has more than one "targets" member' ],
    [ '{"targets":["1.1.1.1"],"t\\u0061rgets":["1.1.1.2"]}',
      'the batch body has more than one "targets" member' ],
    [ '{"targets":["1.1.1.1"]} x', 'the batch body is not valid JSON' ],
    [ '{"targets":["1.1.1.1"]}{"targets":["1.1.1.2"]}',
      'the batch body is not valid JSON' ],
    [ '["targets"]', 'the batch body must be {"targets": [...]}' ],

    # deeper than cJSON's CJSON_NESTING_LIMIT (1000)
    [ '{"targets":[' . '[' x 1000 . ']' x 1000 . ']}',
      'the batch body is not valid JSON' ],
) {
    my ($body, $msg) = @$case;
    my $r = $t->request('POST', '/lookup', body => $body);
    my $d = OsintTest::decode_json_or_undef($r->{content});
    is($r->{status}, 400, "bad body '" . substr($body, 0, 20) . "': 400");
    is_deeply($d, { error => { kind => 'invalid_parameter',
                               retryable => JSON::PP::false(),
                               message => $msg } }, '... and why');
}

# whitespace after the body is not garbage
my $r = $t->request('POST', '/lookup',
                    body => qq'{"targets":["not a target"]} \r\n');
is($r->{status}, 200, 'whitespace after the body: 200');
is_deeply(lines($r->{content}), [ { target => 'not a target', error => {
    kind => 'invalid_target', retryable => JSON::PP::false(),
    message => 'target contains whitespace or control characters' } } ],
    '... and its line');

$r = $t->request('POST', '/lookup?type=bogus',
                    body => '{"targets":["1.1.1.1"]}');
is($r->{status}, 400, 'bad query arguments: 400');
is($fx->calls, 0, 'no provider called for bad batches');

###############################################################################
# a client that leaves mid-batch cancels what is left

$fx->reset;
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $t->port, Timeout => 5);
    my $body = '{"targets":["10.0.2.1","10.0.2.2","10.0.2.3","10.0.2.4",'
             . '"10.0.2.5"]}';
    print $s "POST /lookup HTTP/1.1\r\nHost: x\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    sleep 0.1;
    close $s;
}
sleep 1.2;
cmp_ok($fx->calls, '<=', 2, 'only the lookups in flight were made: '
       . $fx->calls);
like($t->error_log, qr/lookup cancelled, client went away/,
     'cancellation logged');

$t->done_testing;
