package OsintTest::Blackhole;

# A forked child holding a listening socket: it accepts connections and
# keeps them open, never reading, never writing.

use strict;
use warnings;

use OsintTest ();
use IO::Socket::INET;

sub start {
    my ($class) = @_;
    my $l = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        Listen => 128, ReuseAddr => 1,
    ) or die "OsintTest: blackhole: listen: $!\n";
    my $port = $l->sockport;

    STDOUT->flush;
    STDERR->flush;
    my $pid = fork;
    die "OsintTest: blackhole: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        $SIG{$_} = sub { POSIX::_exit(0) } for qw(TERM INT HUP PIPE);
        my @held;
        while (1) {
            my $c = $l->accept or next;
            push @held, $c;
        }
    }
    close $l;

    return bless { pid => $pid, port => $port, owner => $$ }, $class;
}

# $b->port, $b->pid
sub port { $_[0]{port} }
sub pid  { $_[0]{pid} }

# $b->stop: SIGTERM, wait (bounded 5 s), SIGKILL.
sub stop {
    my ($self) = @_;
    return unless $self->{owner} == $$;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    if (!defined OsintTest::_wait_pid($pid, 5)) {
        kill 'KILL', $pid;
        OsintTest::_wait_pid($pid, 5);
    }
}

sub DESTROY {
    my ($self) = @_;
    $self->stop if $self->{pid};
}

1;
