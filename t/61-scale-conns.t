#!/usr/bin/perl

# A provider's "connections N queue=M": each worker has at most N
# transfers (so at most N connections) to the provider at once; further
# calls wait in a FIFO of at most M, bounded by osint_deadline, and one
# that finds the queue full fails at once as the module's own error
# (error.kind "overloaded"): no outcome is recorded, so no breaker opens.
# Before, every call started its transfer at once, libcurl opened one
# connection per transfer in flight (60 lookups: up to 60 connections),
# and a provider's connections were bounded by nothing but descriptors.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new(workers => 2, timeout => 20);
my $fx = $t->fixture;

# the configuration: bad values are refused in nginx's words

for my $bad (['connections 0', 'invalid connections "0"'],
             ['connections 4 queue=x', 'invalid connections "queue=x"'],
             ['connections 4 wait=1', 'invalid connections "wait=1"'])
{
    $t->write_conf(<<"EOF");
    osint_zone 1m;
    osint_provider a {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/a/\$osint_target";
        $bad->[0];
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF
    my ($rc, $out) = $t->nginx_test;
    like($out, qr/\[emerg\] \Q$bad->[1]\E in osint_provider "a"/,
         "\"$bad->[0]\" refused") or diag($out);
}

$t->write_conf(<<"EOF");
    osint_zone 1m;
    osint_deadline 20s;

    osint_provider a {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/a/\$osint_target?delay=300";
        timeout 5s;
        cache_ttl off;
        breaker failures=3 cooldown=60s;
        connections 4 queue=100;
    }

    osint_provider q {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/q/\$osint_target?delay=1500";
        timeout 5s;
        cache_ttl off;
        breaker failures=1 cooldown=60s;
        connections 1 queue=2;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF
$t->run;

sub kinds {
    my ($res, $p) = @_;
    my %k;
    for my $r (@$res) {
        my $doc = OsintTest::decode_json_or_undef($r->{body}) || {};
        my $c = $doc->{providers}{$p} || {};
        $k{$c->{error} ? $c->{error}{kind} : $c->{status} // "http$r->{status}"}++;
    }
    return \%k;
}

sub show { my ($k) = @_; join ' ', map { "$_=$k->{$_}" } sort keys %$k }

sub breaker_and_calls {
    my ($p) = @_;
    my ($st, $j) = $t->get_json('/status?format=json');
    my $s = $j->{providers}{$p} || {};
    my $calls = $s->{calls} || {};
    return ($s->{breaker}{state} // 'none',
            join ' ', map { "$_=$calls->{$_}" }
                      grep { $calls->{$_} } sort keys %$calls);
}

# 60 lookups at once, 4 connections a worker: they wait their turn

$fx->conns_restart;

my $t0 = time;
my $res = $t->parallel_get([map { "/lookup?target=10.0.1.$_&providers=a" }
                            1 .. 60], 60, timeout => 60);
my $took = time - $t0;
my $k = kinds($res, 'a');

is(show($k), 'ok=60', 'every one of 60 lookups ok');
my $conns = $fx->conns;
cmp_ok($conns->{max}, '<=', 2 * 4,
       "the provider saw at most 4 connections a worker at once "
       . "($conns->{max}, 2 workers)");
cmp_ok($conns->{max}, '>=', 2, 'and more than one');
cmp_ok($took, '>=', 60 / 8 * 0.3 - 0.3,
       sprintf('the calls waited their turn (%.1f s)', $took));

my ($state, $calls) = breaker_and_calls('a');
is($state, 'closed', 'a: breaker closed');
is($calls, 'ok=60', 'a: 60 ok calls, nothing else counted');

# the queue overflows: 1 connection and 2 waiting a worker, 12 at once

$res = $t->parallel_get([map { "/lookup?target=10.0.2.$_&providers=q" }
                         1 .. 12], 12, timeout => 60);
$k = kinds($res, 'q');

is(($k->{ok} // 0) + ($k->{overloaded} // 0), 12,
   'q: each lookup ok or overloaded (' . show($k) . ')');
cmp_ok($k->{ok} // 0, '<=', 2 * 3, 'q: at most 3 served a worker');
cmp_ok($k->{overloaded} // 0, '>=', 12 - 2 * 3,
       'q: the rest overloaded at once');

my ($doc) = grep { ($_->{providers}{q}{error}{kind} // '') eq 'overloaded' }
            map { OsintTest::decode_json_or_undef($_->{body}) || {} } @$res;
like($doc->{providers}{q}{error}{message} // '',
     qr/^provider queue full \(connections 1 queue=2\)$/,
     'q: the message says which limit');

($state, $calls) = breaker_and_calls('q');
is($state, 'closed', 'q: breaker closed (failures=1)');
is($calls, 'ok=' . ($k->{ok} // 0), 'q: only the ok calls counted');

# a lookup after both: served at once by each

my ($st, $after) = $t->get_json('/lookup?target=10.0.3.1');
is($st, 200, 'a lookup after the storm: 200');
is(join(' ', map { $after->{providers}{$_}{status} // 'none' } qw(a q)),
   'ok ok', 'a lookup after the storm: both ok');

unlike($t->error_log, qr/exited on signal/, 'no worker crashed');

# More transfers in flight than libcurl's connection cache held (it was
# 256 a worker, whatever the providers' connections): each connection
# given back to the full cache was closed, after a walk over all of them,
# and the next round opened new ones.  The cache is now as large as the
# providers' "connections" together (3 x 256 by default here): a second
# round of 300 transfers finds the 300 connections of the first.

$t->stop;

my $t1 = OsintTest->new(workers => 1, timeout => 30);
my $fx1 = $t1->fixture;
my $three = join '', map { <<"EOF" } qw(x y z);
    osint_provider $_ {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/$_/\$osint_target?delay=700";
        timeout 10s;
        cache_ttl off;
    }
EOF
$t1->write_conf(<<"EOF");
    osint_zone 1m;
    osint_deadline 20s;
$three
    osint_provider w {
        types ipv6;
        url "http://127.0.0.1:%%FX0%%/w/\$osint_target?delay=1000";
        timeout 10s;
        cache_ttl off;
        connections 1 queue=2;
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF
$t1->run;

my @open;
for my $round (1, 2) {
    $fx1->conns_restart;
    my $r = $t1->parallel_get([map { "/lookup?target=10.0.$round.$_" }
                               1 .. 100], 100, timeout => 60);
    is(show(kinds($r, 'z')), 'ok=100', "round $round: 100 lookups ok");
    push @open, $fx1->conns->{total};
}
cmp_ok($open[0], '>=', 250, "round 1: the transfers ran at once ($open[0] "
       . 'connections)');
cmp_ok($open[1], '<', 10, 'round 2: the connections of round 1 reused, '
       . "next to none new ($open[1])");

# Calls whose clients leave while they wait their turn leave the queue:
# two more fit in it afterwards (none "overloaded"), and all are served.

sub send_get {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $t1->port, Proto => 'tcp',
                                  Timeout => 3) or die "connect: $!";
    syswrite($s, "GET $path HTTP/1.1\r\nHost: localhost\r\n"
                 . "Connection: close\r\n\r\n");
    return $s;
}

my $first = send_get('/lookup?target=2001:db8::1');
sleep 0.2;
ok($t1->abort_get("/lookup?target=2001:db8::$_", 200), "queued $_, gone")
    for 2, 3;
my @next = map { send_get("/lookup?target=2001:db8::$_") } 4, 5;
my @docs = map { OsintTest::decode_json_or_undef(
                     (OsintTest::read_all($_, 10) // '') =~ /\r\n\r\n(.*)\z/s
                     ? $1 : '') || {} } $first, @next;
is(join(' ', map { $_->{providers}{w}{status} // 'none' } @docs),
   'ok ok ok', 'the one under way and the two queued after the gone: ok');

$t1->stop;

$t->done_testing;
