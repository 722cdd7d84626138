#!/usr/bin/perl

# A DNS outage does not stall the worker.  libcurl's threaded resolver runs
# getaddrinfo() on a helper thread; a transfer removed while it still
# resolves (its timeout, osint_deadline, a client that went away) makes
# libcurl 7.88 join that thread on the worker unless CURLOPT_QUICK_EXIT is
# set, so every client of the worker would wait for the resolver's timeout.
#
# nginx runs in its own mount namespace (unshare -m) where /etc/resolv.conf
# names a loopback address whose port 53 is a UDP socket of this test that
# never answers (options timeout:5 attempts:1: a 5 s stall per lookup with
# the bug); /etc/hosts and /etc/nsswitch.conf are replaced too, so the name
# can only go to that resolver.  While lookups of such names are cancelled
# in all three ways, a `return 200` location of the same (single) worker
# answers every probe within 1 s (the resolver's timeout is 5 s: a join
# stalls the worker for that long; ASan on a loaded machine adds 100s of ms).

use strict;
use warnings;

use Test::More;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

plan skip_all => 'needs root for port 53' if $> != 0;

# the resolver that never answers: a socket nobody reads
my ($dns, $dns_ip);
for (1 .. 20) {
    $dns_ip = sprintf '127.53.%d.%d', 1 + int(rand 250), 1 + int(rand 250);
    $dns = IO::Socket::INET->new(Proto => 'udp', LocalAddr => $dns_ip,
                                 LocalPort => 53) and last;
}
plan skip_all => "cannot bind a UDP socket on port 53: $!" unless $dns;

my $t = OsintTest->new(workers => 1, timeout => 15);
$t->etc_files('resolv.conf' => "nameserver $dns_ip\n"
                               . "options timeout:5 attempts:1\n",
              'hosts' => "127.0.0.1 localhost\n",
              'nsswitch.conf' => "hosts: files dns\n")
    or plan skip_all => 'unshare -m does not work here';

$t->write_conf(<<'EOF');
    osint_zone 1m;
    osint_deadline 1s;

    # ends by its own timeout while resolving
    osint_provider stall {
        types ipv4;
        url "http://stall.invalid-osint-test.example/x/$osint_target";
        timeout 300ms;
        breaker off;
    }

    # its timeout cut to what is left of osint_deadline: ends with the
    # lookup (by libcurl's timer or the deadline's, whichever runs first)
    osint_provider slow {
        types ipv4;
        url "http://slow.invalid-osint-test.example/x/$osint_target";
        timeout 10s;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /ping { return 200 "pong\n"; }
    }
EOF
$t->run;

is($t->get('/ping')->{status}, 200, 'ping answers');

# a lookup on a raw socket: read later, or closed early (client abort)
sub send_lookup {
    my ($n) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $t->port, Proto => 'tcp',
                                  Timeout => 3) or die "connect: $!";
    syswrite($s, "GET /lookup?target=10.0.0.$n HTTP/1.1\r\n"
                 . "Host: localhost\r\nConnection: close\r\n\r\n");
    return $s;
}

sub read_all {
    my ($s, $deadline) = @_;
    my $sel = IO::Select->new($s);
    my $got = '';
    while ((my $left = $deadline - time) > 0) {
        last unless $sel->can_read($left);
        last unless sysread($s, my $buf, 65536);
        $got .= $buf;
    }
    close $s;
    return $got;
}

# every 250 ms a lookup to read and one to abandon 100 ms later; /ping
# every 25 ms in between, for 2.5 s
my (@kept, @aborting, @lat);
my $t0 = time;
my $n = 0;

while (time - $t0 < 2.5 && @lat < 200) {
    my $slot = int((time - $t0) / 0.25);

    if ($slot >= @kept) {
        push @kept, send_lookup(++$n);
        push @aborting, [send_lookup(++$n), time + 0.1];
    }

    for my $a (grep { $_->[1] && time >= $_->[1] } @aborting) {
        close $a->[0];
        $a->[1] = 0;
    }

    my $res = $t->get('/ping');
    push @lat, $res->{status} == 200 ? $res->{elapsed_ms} : 1e9;
    sleep 0.025;
}
close $_->[0] for grep { $_->[1] } @aborting;

my ($max) = sort { $b <=> $a } @lat;
cmp_ok(scalar @lat, '>=', 20, 'probed /ping at least 20 times');
cmp_ok($max, '<', 1000, 'every /ping within 1 s while lookups stall '
       . 'in DNS and are cancelled (max ' . int($max) . ' ms)');

# the lookups: both providers failed in DNS, on time
my @docs = map {
    my $raw = read_all($_, time + 10);
    my ($body) = $raw =~ /\r\n\r\n(.*)\z/s;
    OsintTest::decode_json_or_undef($body);
} @kept;

is(scalar(grep { $_ } @docs), scalar @kept, 'every kept lookup answered');
is(scalar(grep { $_ && $_->{providers}{stall}{error}{kind} eq 'timeout' }
          @docs),
   scalar @kept, 'stall: timeout, in every lookup');
is(scalar(grep { $_ && $_->{providers}{slow}{error}{kind}
                       =~ /^(?:timeout|deadline)$/ } @docs),
   scalar @kept, 'slow: timeout or deadline, in every lookup');
is(scalar(grep { $_ && $_->{elapsed_ms} < 1300 } @docs), scalar @kept,
   'every lookup ended by its deadline (1 s)');

# they were in DNS: both names were asked of the resolver that never answers
my %asked;
$dns->blocking(0);
for (1 .. 10000) {
    defined $dns->recv(my $dgram, 4096) or last;
    $asked{$1}++
        if $dgram =~ /[\x04\x05](stall|slow)\x12invalid-osint-test\x07example\0/;
}
ok($asked{stall} && $asked{slow}, 'both names went to the stalled resolver');

# the worker is the one it was: nothing crashed or was restarted
is(scalar(() = $t->error_log =~ /exited on signal/g), 0, 'no worker died');

$t->done_testing;
