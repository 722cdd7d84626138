#!/usr/bin/perl

# A worker short of connections (worker_connections) fails only the
# transfers it cannot watch, as our own failure: error.kind "internal",
# not counted against the provider (no breaker opens, no call outcome),
# and the worker's other transfers, then and later, go on.  Before, the
# libcurl socket callback returned -1, which fails every transfer of the
# multi handle for good (libcurl marks the multi dead), and a socket that
# could not be opened counted as the provider's connect failure.
#
# Providers are host names (a hosts file in nginx's own mount namespace):
# while libcurl's DNS cache is cold each transfer brings the threaded
# resolver's socketpair to the socket callback; later ones open their
# socket through the opensocket callback.  Both meet the shortage.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new(workers => 1, worker_connections => 24,
                       timeout => 10);
my $fx = $t->fixture;

$t->etc_files('hosts' => "127.0.0.1 localhost\n"
                         . "127.0.0.1 pa.osint-test.example"
                         . " pb.osint-test.example pc.osint-test.example\n",
              'nsswitch.conf' => "hosts: files\n")
    or plan skip_all => 'unshare -m does not work here';

# the shortage is logged by nginx itself, at alert
$t->allow_log(qr/worker_connections are not enough/);

my $providers = join '', map { <<"EOF" } qw(a b c);
    osint_provider $_ {
        types ipv4;
        url "http://p$_.osint-test.example:%%FX0%%/$_/\$osint_target?delay=150";
        timeout 3s;
        breaker failures=3 cooldown=60s;
    }
EOF

$t->write_conf(<<"EOF");
    osint_zone 1m;
    osint_deadline 5s;
$providers
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF
$t->run;

# A: the cold DNS cache.  Clients that sent half a request line hold
# connections nginx cannot reuse; with the listener and the master's
# channel, 2 of 24 are left for the 3 transfers of one lookup, which all
# start resolving in the same turn: the third socketpair finds none.
my @fill = map {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $t->port, Proto => 'tcp',
                                  Timeout => 3) or die "connect: $!";
    syswrite($s, "GET /lookup?target=10.9.9.$_");
    $s;
} 1 .. 19;
sleep 0.5;

my $raw = $t->raw("GET /lookup?target=10.2.2.2 HTTP/1.1\r\n"
                  . "Host: localhost\r\nConnection: close\r\n\r\n",
                  timeout => 10);
my ($body) = ($raw // '') =~ /\r\n\r\n(.*)\z/s;
my $short = OsintTest::decode_json_or_undef($body) || {};
my @short = map { $short->{providers}{$_} || {} } qw(a b c);
is(join(' ', sort map { $_->{error}{kind} // $_->{status} // 'none' }
                  @short),
   'internal ok ok', 'short of connections: one provider internal, two ok');
like(join(' ', map { $_->{error}{message} // '' } @short),
     qr/worker_connections/, 'its message says why');

close $_ for @fill;
sleep 0.2;

my ($st0, $doc0) = $t->get_json('/lookup?target=10.3.3.3');
is(join(' ', map { $doc0->{providers}{$_}{status} // 'none' } qw(a b c)),
   'ok ok ok', 'connections back: every provider ok again');

# B: the storm: 60 lookups, 10 at a time, 3 transfers each
my $res = $t->parallel_get([map { "/lookup?target=10.0.0.$_" } 1 .. 60], 10,
                           timeout => 60);

my (%kinds, $all_ok);
for my $r (@$res) {
    my $doc = OsintTest::decode_json_or_undef($r->{body}) or next;
    my @p = map { $doc->{providers}{$_} || {} } qw(a b c);
    $all_ok++ if $r->{status} == 200 && 3 == grep { $_->{status} eq 'ok' } @p;
    $kinds{$_->{error}{kind}}++ for grep { $_->{error} } @p;
}
my $kinds = join ' ', map { "$_=$kinds{$_}" } sort keys %kinds;

cmp_ok($all_ok // 0, '>=', 1,
       'lookups with every provider ok during the storm');
ok($kinds{internal}, "the shortage fails transfers as internal ($kinds)");
is(scalar(grep { $_ ne 'internal' } keys %kinds), 0,
   "no failure blamed on a provider ($kinds)");

# the providers were never at fault: closed breakers, no failure counted
my ($st, $j) = $t->get_json('/status?format=json');
is($st, 200, 'status');
for my $p (qw(a b c)) {
    my $s = $j->{providers}{$p} || {};
    my $calls = $s->{calls} || {};
    is($s->{breaker}{state}, 'closed', "$p: breaker closed");
    is(join(' ', map { "$_=$calls->{$_}" }
                 grep { $_ ne 'ok' && $calls->{$_} } sort keys %$calls),
       '', "$p: only ok calls counted");
}

# the worker is whole afterwards: a lookup gets all three providers
my ($st2, $doc) = $t->get_json('/lookup?target=10.1.1.1');
is($st2, 200, 'a lookup after the storm: 200');
is(join(' ', map { $doc->{providers}{$_}{status} // 'none' } qw(a b c)),
   'ok ok ok', 'a lookup after the storm: every provider ok');

like($t->error_log, qr/worker_connections are not enough/,
     'the worker did run short of connections');
unlike($t->error_log, qr/exited on signal/, 'no worker crashed');

$t->done_testing;
