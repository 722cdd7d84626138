#!/usr/bin/perl

# Work bounded per request and per lock: the summary merges at most 256
# members and 256 array elements of each provider (a provider answer of
# 100 000 members neither stalls the worker nor its other requests, on a
# miss or a cache hit); a store into L1 evicts at most 16 entries and an
# answer larger than 1/8 of the zone stays out of L1; a negative answer
# lives its own TTL, without the stale window, in L1 and in Redis.

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

    # one ping at once, behind the lookup: a lookup answered within the
    # first poll below would otherwise leave none to tell
    my $t0 = time;
    my $first = $t->get('/ping');
    ($slowest, $pings) = (time - $t0, 1);
    $slowest = 999 if $first->{status} != 200;

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

###############################################################################
# L1 in a 1 MiB zone: the size bound, negative TTLs, bounded eviction

$t->stop_nginx;

my $redis = $t->redis;
my $rport = $redis->port;
my $fxu = 'http://127.0.0.1:%%FX0%%';

$t->write_conf(<<"EOF");
    osint_zone 1m;
    osint_redis 127.0.0.1:$rport timeout=500ms;

    osint_provider small {
        types ipv4;
        url "$fxu/small/\$osint_target?fault=huge&size=1500";
        cache_ttl 1h stale=1h;
    }

    osint_provider big {
        types ipv4;
        url "$fxu/big/\$osint_target?fault=huge&size=100000";
        cache_ttl 1h stale=1h;
    }

    osint_provider huge {
        types ipv4;
        url "$fxu/huge/\$osint_target?fault=huge&size=200000";
        cache_ttl 1h stale=1h;
    }

    osint_provider nf {
        types ipv4;
        url "$fxu/nf/\$osint_target?status=404";
        cache_ttl 1h not_found=1s stale=1h;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF
$t->run;

sub entries {
    my (undef, $doc) = $t->get_json('/status?format=json');
    return $doc->{cache}{entries};
}

sub cache_of {
    my ($provider, $target) = @_;
    my (undef, $doc) =
        $t->get_json("/lookup?target=$target&providers=$provider");
    return $doc ? $doc->{providers}{$provider}{cache} . ' '
                  . $doc->{providers}{$provider}{status} : 'no answer';
}

# a negative answer: its own TTL in Redis and in L1, no stale window

is(cache_of('nf', '192.0.2.1'), 'miss not_found', 'negative answer');
my $ttl;
$t->wait_until(sub { $ttl = $redis->cmd('TTL', 'osint:nf:192.0.2.1');
                     defined $ttl && $ttl > 0 }, 3);
ok(defined $ttl && $ttl >= 1 && $ttl <= 2,
   "negative answer: Redis TTL of its 1s not_found TTL (TTL $ttl)");

is(entries(), 1, 'negative answer: in L1');
Time::HiRes::sleep(1.5);
is(cache_of('small', '192.0.2.2'), 'miss ok', 'one answer more');
is(entries(), 1, 'the expired negative answer went: no stale window in L1');

# larger than 1/8 of the zone: served, never in L1, still in Redis

my $mark = $t->log_mark;
is(cache_of('huge', '192.0.2.3'), 'miss ok', 'answer of 200 KB: served');
is(entries(), 1, 'answer of 200 KB: not in L1');
ok($t->wait_log(qr/provider "huge" answer of 200000 bytes not cached in L1: larger than 1\/8 of osint_zone/,
                3, $mark),
   'answer of 200 KB: logged (info)');
ok($t->wait_until(sub { defined $redis->cmd('GET', 'osint:huge:192.0.2.3') },
                  3),
   'answer of 200 KB: in Redis');
$redis->cmd('FLUSHALL');
is(cache_of('huge', '192.0.2.3'), 'miss ok', 'answer of 200 KB: a miss again');
is($fx->calls_for('/huge/192.0.2.3'), 2, 'answer of 200 KB: asked twice');

# fill the zone with answers of 1.5 KB until it first evicts, then half
# as many again: the zone holds answers of 1.5 KB only, the latest ones

$mark = $t->log_mark;
my (@filled, $full);
for my $i (1 .. 2000) {
    my $target = '10.1.' . int($i / 250) . '.' . ($i % 250);
    last unless cache_of('small', $target) eq 'miss ok';
    push @filled, $target;
    $full //= @filled if $t->error_log($mark) =~ /zone is full/;
    last if $full && @filled >= $full * 1.5;
}
ok($full && $t->error_log($mark)
            =~ /\[warn\].*osint: zone is full, evicting/,
   'zone full after ' . ($full // 0) . ' answers');
$redis->cmd('FLUSHALL');

# every answer still there used in random order: the LRU order is no
# longer the order of their memory

my @kept = @filled[$#filled - ($full // 41) + 41 .. $#filled];
my %order = map { $_ => rand } @kept;
is(scalar(grep { cache_of('small', $_) eq 'l1 ok' }
          sort { $order{$a} <=> $order{$b} } @kept),
   scalar(@kept), 'the answers kept are hits');

# one answer of 100 KB (less than 1/8 of the zone): 25 free pages in a row
# would cost nearly every entry; it evicts at most 16, then gives up

# The lookup's update lock is an allocation of its own, in another size
# class: it may free a small entry or two first (at most 2 was seen, as
# the zone's layout shifts with the providers' state), and it goes at the
# end.  The answer's store evicts at most 16.  Before the bound, this one
# answer emptied the cache (some 450 entries).

my $before = entries();
$mark = $t->log_mark;
is(cache_of('big', '192.0.2.4'), 'miss ok', 'answer of 100 KB: served');
my $after = entries();
ok($before - $after <= 16 + 3,
   "answer of 100 KB: at most 16 entries evicted (and at most 3 for its "
   . "lock): $before entries before, $after after");
ok($t->wait_log(qr/provider "big" answer of 100000 bytes not cached in L1: no room after evicting a few entries/,
                3, $mark),
   'answer of 100 KB: not cached, logged (info)');
$redis->cmd('FLUSHALL');
is(cache_of('big', '192.0.2.4'), 'miss ok', 'answer of 100 KB: a miss again');

$t->done_testing;
