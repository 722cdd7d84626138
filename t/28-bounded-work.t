#!/usr/bin/perl

# Work bounded per request and per lock: the summary merges at most 256
# members and 256 array elements of each provider (a provider answer of
# 100 000 members neither stalls the worker nor its other requests, on a
# miss or a cache hit).

use strict;
use warnings;

use Test::More;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

# one worker: the lookup and the pings share its event loop
my $t = OsintTest->new(workers => 1);
my $fx = $t->fixture;

my $wide = 'http://127.0.0.1:%%FX0%%/wide/$osint_target?fault=wide';

$t->write_conf(<<"EOF");
    osint_zone 16m;
    osint_deadline 20s;

    osint_provider wide {
        types ipv4;
        url "$wide&members=100000";
        timeout 20s;
        cache_ttl 1h;
        breaker off;
    }

    osint_provider lista {
        types ipv4;
        url "$wide&members=0&elements=100000&from=0";
        timeout 20s;
        cache_ttl 1h;
        breaker off;
    }

    osint_provider listb {
        types ipv4;
        url "$wide&members=0&elements=100000&from=100000";
        timeout 20s;
        cache_ttl 1h;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /ping { return 200 "pong"; }
    }
EOF
$t->run;

# base 36, as the fixture names the members of fault=wide
sub b36 {
    my ($n) = @_;
    my $s = '';
    do { $s = (0 .. 9, 'a' .. 'z')[$n % 36] . $s; $n = int($n / 36) }
        while $n;
    return $s;
}

# A lookup on a connection of its own; while it is served, pings one after
# the other on the same (only) worker.  Returns the lookup's response and
# the slowest ping in seconds.  Bounded: 200 pings, 30 s.
sub lookup_with_pings {
    my ($path) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $t->port, Proto => 'tcp',
                                  Timeout => 3)
        or return;
    syswrite($s, "GET $path HTTP/1.1\r\nHost: localhost\r\n"
                 . "Connection: close\r\n\r\n");

    my $sel = IO::Select->new($s);
    my $deadline = time + 30;
    my ($got, $slowest, $pings) = ('', 0, 0);

    while (time < $deadline) {
        if ($sel->can_read(0.01)) {
            my $n = sysread($s, my $buf, 1 << 20);
            last unless $n;
            $got .= $buf;
            next;
        }

        next if $pings >= 200;

        my $t0 = time;
        my $res = $t->get('/ping');
        my $took = time - $t0;
        $pings++;
        $slowest = $took if $took > $slowest;
        $slowest = 999 if $res->{status} != 200;
    }

    close $s;

    my ($body) = $got =~ /\r\n\r\n(.*)\z/s;
    return (OsintTest::decode_json_or_undef($body), $slowest, $pings);
}

###############################################################################
# 100 000 members of one provider: the summary holds its first 256

for my $pass ('miss', 'l1') {
    my ($doc, $slowest, $pings) =
        lookup_with_pings('/lookup?target=1.1.1.1&providers=wide');

    is($doc && $doc->{providers}{wide}{status}, 'ok',
       "$pass: 100000 members: lookup answered");
    is($doc && $doc->{providers}{wide}{cache}, $pass,
       "$pass: 100000 members: cache $pass");
    is($doc && scalar(keys %{$doc->{providers}{wide}{data}}), 100001,
       "$pass: 100000 members: the provider's data is whole");
    is_deeply([ sort keys %{$doc ? $doc->{summary} : {}} ],
              [ sort map { b36($_) } 0 .. 255 ],
              "$pass: 100000 members: summary holds the first 256");
    ok($pings > 0 && $slowest < 1,
       "$pass: 100000 members: pings on the same worker answered "
       . "promptly (slowest ${slowest}s of $pings)");
}

###############################################################################
# two providers' arrays of 100 000 elements: 256 of each merged

for my $pass ('miss', 'l1') {
    my ($doc, $slowest, $pings) =
        lookup_with_pings('/lookup?target=2.2.2.2&providers=lista,listb');

    is($doc && $doc->{providers}{listb}{cache}, $pass,
       "$pass: 2 x 100000 elements: cache $pass");
    is(scalar(@{$doc ? $doc->{providers}{lista}{data}{list} : []}), 100000,
       "$pass: 2 x 100000 elements: the provider's data is whole");
    is_deeply($doc && $doc->{summary}{list},
              [ 0 .. 255, 100000 .. 100255 ],
              "$pass: 2 x 100000 elements: summary merges 256 of each");
    ok($pings > 0 && $slowest < 1,
       "$pass: 2 x 100000 elements: pings on the same worker answered "
       . "promptly (slowest ${slowest}s of $pings)");
}

$t->done_testing;
