#!/usr/bin/perl
# A client that goes away while a provider connection is still being
# established: libcurl 7.88.1 closes the socket without the closesocket
# callback, then reports CURL_POLL_REMOVE; the module must not delete its epoll
# events (nginx would log "[alert] epoll_ctl(2, N) failed (9: Bad file
# descriptor)").  Loopback only: a listener that never accepts, its accept
# queue filled, keeps connects in SYN_SENT.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Proto => 'tcp', Listen => 0, ReuseAddr => 1) or die "listen: $!";
my $port = $l->sockport;
my @fill = grep { $_ } map {
    IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                          Proto => 'tcp', Timeout => 1, Blocking => 0)
} 1 .. 4;

my $t = OsintTest->new;
$t->write_conf(<<"EOF2");
    osint_zone 1m;
    osint_deadline 10s;
    osint_provider stuck {
        types ip;
        url "http://127.0.0.1:$port/x/\$osint_target";
        timeout 8s;
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF2
$t->run;

ok($t->abort_get("/lookup?target=10.0.0.$_", 300), "client $_ went away")
    for 1 .. 5;
sleep 0.5;
unlike($t->error_log, qr/epoll_ctl/, 'no epoll_ctl alert');
$t->done_testing;
