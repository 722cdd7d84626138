#!/usr/bin/perl

# Coalesced lookups in one worker: calls that wait for another call's
# answer (the L1 update lock) are woken by it, not by polling; a waiter
# whose client goes away, and a batch repeating one target (lookups with
# their own pools), leave nothing behind.  And nothing is logged while a
# zone's lock is held (the limiter's full-zone warnings included): the
# debug log shows nginx's own "shmtx lock" / "shmtx unlock" lines around
# every critical section.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use IO::Select;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my $t = OsintTest->new(workers => 1);
my $fx = $t->fixture;

$t->main_conf("error_log %%TESTDIR%%/debug.log debug;");

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 5s;
    osint_batch_concurrency 5;

    osint_provider echo {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/echo/$osint_target?delay=300";
        cache_ttl 60s;
        breaker off;
        field country $.nested.country;
    }

    osint_limit_zone tiny:32k key=$arg_k rate=1r/m burst=5;

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /limited { osint_limit zone=tiny; return 200 "ok\n"; }
    }
EOF

$t->run;

my $DEBUG = $t->testdir . '/debug.log';

sub debug_mark { (-s $DEBUG) || 0 }
sub debug_log { OsintTest::_read_file($DEBUG, $_[0] // 0) // '' }

sub count {
    my ($re, $from) = @_;
    my $n = () = debug_log($from) =~ /$re/g;
    return $n;
}

my $POLL = qr/osint: provider "echo" waits for another call, looks again \(poll\)/;
my $WOKEN = qr/osint: provider "echo" waits for another call, woken by the answer/;

sub echo_of {
    my ($body) = @_;
    my $d = OsintTest::decode_json_or_undef($body);
    return $d && $d->{providers}{echo};
}

###############################################################################
# N concurrent lookups of one target: one provider call, N-1 wake-ups

{
    my $n = 6;
    my $mark = debug_mark();
    my $r = $t->parallel_get([ ('/lookup?target=10.32.0.1') x $n ], $n);

    is($fx->calls_for('/echo/10.32.0.1'), 1, 'one provider call for 6');
    is(scalar(grep { $_->{status} == 200
                     && (echo_of($_->{body}) // {})->{status} eq 'ok'
                     && echo_of($_->{body})->{data}{country} eq 'US' } @$r),
       $n, 'every one of the 6 got the answer');
    is(count($POLL, $mark), 0, 'no waiter polled');
    is(count($WOKEN, $mark), $n - 1, 'the 5 waiters were woken');
}

###############################################################################
# a waiter whose client goes away before the answer

sub send_get {
    my ($path) = @_;
    my $s = $t->send_raw("GET $path HTTP/1.1\r\nHost: localhost\r\n"
                         . "Connection: close\r\n\r\n")
        or die "connect: $!\n";
    return $s;
}

sub read_all { OsintTest::read_all($_[0]) }

# a slower answer there: the clients below go away well before it

$fx->control(prefix => '/echo/10.32.0.2', params => { delay => 1000 });
$fx->control(prefix => '/echo/10.32.0.5', params => { delay => 1000 });

{
    my $mark = debug_mark();
    my $lead = send_get('/lookup?target=10.32.0.2');
    sleep 0.05;
    my $gone = send_get('/lookup?target=10.32.0.2');
    my $stay = send_get('/lookup?target=10.32.0.2');
    sleep 0.1;
    close $gone;

    ok($t->wait_until(sub {
           debug_log($mark) =~ /osint: lookup cancelled, client went away/
       }, 2), 'the waiter that went away was cancelled');

    my ($a, $b) = (read_all($lead), read_all($stay));
    like($a, qr/^HTTP\/1\.1 200.*"country":"US"/s, 'the leader answered');
    like($b, qr/^HTTP\/1\.1 200.*"country":"US"/s,
         'the waiter that stayed got the answer');
    is($fx->calls_for('/echo/10.32.0.2'), 1, 'one provider call');
    is(count($WOKEN, $mark), 1, 'only the waiter that stayed was woken');
    is(count($POLL, $mark), 0, 'and it did not poll');

    my ($st, $doc) = $t->get_json('/lookup?target=10.32.0.2');
    is($doc->{providers}{echo}{cache}, 'l1', 'then served from L1');
}

# the leader's client goes away: its waiters take over, none polls

{
    my $mark = debug_mark();
    my $lead = send_get('/lookup?target=10.32.0.3');
    sleep 0.05;
    my $stay = send_get('/lookup?target=10.32.0.3');
    sleep 0.05;
    close $lead;

    like(read_all($stay), qr/^HTTP\/1\.1 200.*"country":"US"/s,
         'leader gone: the waiter got an answer');
    is(count($WOKEN, $mark), 1, 'leader gone: the waiter was woken');
    is(count($POLL, $mark), 0, 'leader gone: no poll');
}

###############################################################################
# a batch repeating one target: each lookup has its own pool

{
    my $mark = debug_mark();
    my $res = $t->post('/lookup',
                       { targets => [ ('10.32.0.4') x 4 ] });
    my @lines = grep { length } split /\n/, $res->{content} // '';

    is($res->{status}, 200, 'batch: 200');
    is(scalar(grep { (echo_of($_) // {})->{status} eq 'ok' } @lines), 4,
       'batch: 4 lines with the answer');
    is($fx->calls_for('/echo/10.32.0.4'), 1, 'batch: one provider call');
    is(count($WOKEN, $mark), 3, 'batch: 3 lookups woken');
    is(count($POLL, $mark), 0, 'batch: no poll');
}

# a batch that goes away while its lookups wait

{
    my $mark = debug_mark();
    my $lead = send_get('/lookup?target=10.32.0.5');
    sleep 0.05;

    my $body = '{"targets":["10.32.0.5","10.32.0.5","10.32.0.5"]}';
    my $s = $t->send_raw("POST /lookup HTTP/1.1\r\nHost: localhost\r\n"
                         . "Content-Type: application/json\r\n"
                         . "Content-Length: " . length($body)
                         . "\r\n\r\n$body")
        or die "connect: $!\n";
    sleep 0.1;
    close $s;

    ok($t->wait_until(sub {
           count(qr/osint: lookup cancelled, client went away/, $mark) == 3
       }, 0.5), 'batch gone: its 3 waiting lookups were cancelled');
    ok(!IO::Select->new($lead)->can_read(0),
       'batch gone: before the leader answered');

    like(read_all($lead), qr/^HTTP\/1\.1 200.*"country":"US"/s,
         'batch gone: the leader answered');
    is(count($WOKEN, $mark), 0, 'batch gone: nobody left to wake');

    my ($st, $doc) = $t->get_json('/lookup?target=10.32.0.6');
    is($st, 200, 'batch gone: the worker still answers');
}

###############################################################################
# nothing is logged with a zone's lock held

sub logged_under_lock {
    my ($from) = @_;
    my (%depth, @bad);
    for (split /\n/, debug_log($from)) {
        next unless /\[(\w+)\] (\d+)#/;
        my ($level, $pid) = ($1, $2);
        if ($level eq 'debug') {
            $depth{$pid}++ if /: shmtx lock$/;
            $depth{$pid}-- if /: shmtx unlock$/;
            next;
        }
        push @bad, $_ if $depth{$pid};
    }
    return @bad;
}

{
    my $mark = debug_mark();

    # a 32k zone holds a few dozen keys: new ones evict old ones
    for my $i (1 .. 300) {
        $t->get("/limited?k=key-$i");
    }
    $t->get('/limited?k=' . ('x' x 3000));

    my $log = debug_log($mark);
    like($log, qr/\[warn\].*osint_limit: zone "tiny" is full, evicting/,
         'the limit zone filled up');
    like($log, qr/\[warn\].*osint_limit: zone "tiny" has no room for a key/,
         'a 3000-byte key found no room');

    my @bad = logged_under_lock($mark);
    is(scalar @bad, 0, 'limiter: nothing logged with the lock held')
        or diag join "\n", map { substr $_, 0, 200 } @bad[0 .. ($#bad < 4 ? $#bad : 4)];
}

my @bad = logged_under_lock(0);
is(scalar @bad, 0, 'the whole run: nothing logged with a lock held')
    or diag join "\n", map { substr $_, 0, 200 } @bad[0 .. ($#bad < 4 ? $#bad : 4)];

$t->allow_log(qr/zone "tiny" (?:is full|has no room)/);

$t->done_testing;
