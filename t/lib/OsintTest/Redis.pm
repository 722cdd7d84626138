package OsintTest::Redis;

# A redis-server started by $t->redis.  $r->cmd(...) speaks RESP itself:
# no redis-cli needed.

use strict;
use warnings;

use OsintTest ();
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

our $SERVER = $ENV{OSINT_REDIS_SERVER} || '/usr/bin/redis-server';

sub new {
    my ($class, $t, %opt) = @_;
    my $port = $opt{port} // OsintTest::free_port();
    my $self = bless {
        owner    => $$,
        port     => $port,
        password => $opt{password},
        dir      => $t->{dir},
        socket   => $opt{unix} ? "$t->{dir}/redis-$port.sock" : undef,
        ipv6     => $opt{ipv6},
        conf     => $opt{conf},
        args     => $opt{args} || [],
    }, $class;
    return $self;
}

# $r->port, $r->pid, $r->unix_socket (path or undef), $r->password
sub port     { $_[0]{port} }
sub pid      { $_[0]{pid} }
sub unix_socket { $_[0]{socket} }
sub password { $_[0]{password} }

# $r->start -> $r: (re)start on the same port and socket; bounded 10 s.
sub start {
    my ($self) = @_;
    die "OsintTest: redis-server not found: $SERVER\n" unless -x $SERVER;
    die "OsintTest: redis on port $self->{port} already running\n"
        if $self->{pid};

    my @argv = ($SERVER, (defined $self->{conf} ? $self->{conf} : ()),
                @{$self->{args}}, '--port', $self->{port},
                '--bind', '127.0.0.1', ($self->{ipv6} ? '::1' : ()),
                '--save', '', '--appendonly', 'no', '--daemonize', 'no',
                '--dir', $self->{dir}, '--protected-mode', 'no',
                '--logfile', "$self->{dir}/redis-$self->{port}.log");
    push @argv, '--requirepass', $self->{password}
        if defined $self->{password};
    push @argv, '--unixsocket', $self->{socket}, '--unixsocketperm', '777'
        if $self->{socket};

    $self->{pid} = OsintTest::_spawn(
        \@argv, stdout => "$self->{dir}/redis-$self->{port}.out");

    my $deadline = time + 10;
    while (1) {
        my $pong = eval { $self->cmd('PING') } // '';
        return $self if $pong eq 'PONG';
        if (defined OsintTest::_wait_pid($self->{pid}, 0)) {
            delete $self->{pid};
            die "OsintTest: redis-server on port $self->{port} exited:\n"
                . (OsintTest::_read_file(
                       "$self->{dir}/redis-$self->{port}.log") // '');
        }
        if (time > $deadline) {
            $self->stop;
            die "OsintTest: redis-server on port $self->{port} not ready"
                . " within 10 s\n";
        }
        sleep 0.05;
    }
}

# $r->kill9: SIGKILL (a crash: no goodbye to clients), reaped.
sub kill9 {
    my ($self) = @_;
    return unless $self->{owner} == $$;
    my $pid = delete $self->{pid} or return;
    kill 'KILL', $pid;
    OsintTest::_wait_pid($pid, 5);
}

# $r->stop: SIGTERM, wait (bounded 5 s), SIGKILL.
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

# $r->cmd(@args) -> the reply: a string (simple or bulk), a number, undef
# (nil), an arrayref, or for an error reply a string starting with "-".
# AUTHs first when the server has a password.  Dies on I/O errors
# (bounded 5 s).
sub cmd {
    my ($self, @args) = @_;
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Proto => 'tcp',
        Timeout => 3,
    ) or die "OsintTest: redis $self->{port}: connect: $!\n";
    local $SIG{PIPE} = 'IGNORE';
    my $conn = { s => $s, buf => '', sel => IO::Select->new($s),
                 deadline => time + 5 };

    if (defined $self->{password}) {
        _send($conn, 'AUTH', $self->{password});
        my $ok = _reply($conn);
        die "OsintTest: redis AUTH: $ok\n" unless $ok eq 'OK';
    }

    _send($conn, @args);
    my $reply = _reply($conn);
    close $s;
    return $reply;
}

# $r->dump($pattern) -> ($text, $n): every key matching $pattern with its
# value, "KEY=VALUE" a line, and how many keys there were (string values).
sub dump {
    my ($self, $pattern) = @_;
    my $keys = $self->cmd('KEYS', $pattern);
    my @keys = ref $keys ? sort @$keys : ();
    my $text = join '', map { "$_=" . ($self->cmd('GET', $_) // '') . "\n" }
                        @keys;
    return ($text, scalar @keys);
}

# $r->clients -> list of hashrefs, one per client connection (CLIENT LIST
# fields: addr, db, cmd, ...), the connection asking excluded.
sub clients {
    my ($self) = @_;
    my $list = $self->cmd('CLIENT', 'LIST');
    die "OsintTest: redis CLIENT LIST: $list\n" if $list =~ /^-/;
    my @c;
    for my $line (split /\r?\n/, $list) {
        my %f = map { /^([^=]+)=(.*)$/ ? ($1 => $2) : () } split / /, $line;
        next if ($f{cmd} // '') =~ /^client/;
        push @c, \%f;
    }
    return @c;
}

sub _send {
    my ($conn, @args) = @_;
    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    while (length $req) {
        my $n = syswrite($conn->{s}, $req);
        die "OsintTest: redis: write: $!\n" unless $n;
        substr($req, 0, $n, '');
    }
}

sub _fill {
    my ($conn, $want) = @_;
    while (length($conn->{buf}) < $want || ($want == 0
                                            && $conn->{buf} !~ /\r\n/))
    {
        my $left = $conn->{deadline} - time;
        die "OsintTest: redis: no reply within 5 s\n"
            if $left <= 0 || !$conn->{sel}->can_read($left);
        my $n = sysread($conn->{s}, my $chunk, 65536);
        die "OsintTest: redis: connection closed\n" unless $n;
        $conn->{buf} .= $chunk;
    }
}

sub _line {
    my ($conn) = @_;
    _fill($conn, 0);
    $conn->{buf} =~ s/^(.*?)\r\n//s;
    return $1;
}

sub _reply {
    my ($conn) = @_;
    my $line = _line($conn);
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));
    return $rest if $type eq '+';
    return $line if $type eq '-';
    return $rest + 0 if $type eq ':';
    if ($type eq '$') {
        return undef if $rest < 0;
        _fill($conn, $rest + 2);
        my $data = substr($conn->{buf}, 0, $rest);
        substr($conn->{buf}, 0, $rest + 2, '');
        return $data;
    }
    if ($type eq '*') {
        return undef if $rest < 0;
        return [ map { _reply($conn) } 1 .. $rest ];
    }
    die "OsintTest: redis: unexpected reply '$line'\n";
}

sub DESTROY {
    my ($self) = @_;
    $self->stop if $self->{pid};
}


1;
