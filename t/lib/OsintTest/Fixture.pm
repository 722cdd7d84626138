package OsintTest::Fixture;

# A running t/lib/fixture.py.  Created by $t->fixture.

use strict;
use warnings;

use OsintTest ();
use File::Basename qw(dirname);
use HTTP::Tiny;
use IO::Select;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

my $SCRIPT = dirname(dirname(Cwd::abs_path(__FILE__))) . '/fixture.py';

sub start {
    my ($class, $t, $idx, %opt) = @_;

    die "OsintTest: python3 not found: $OsintTest::PYTHON\n"
        unless -x $OsintTest::PYTHON;

    pipe(my $r, my $w) or die "OsintTest: pipe: $!\n";

    STDOUT->flush;
    STDERR->flush;
    my $pid = fork;
    die "OsintTest: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        close $r;
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>&', $w);
        open(STDERR, '>>', "$t->{dir}/fixture$idx.err");
        my @argv = ($OsintTest::PYTHON, '-u', $SCRIPT,
                    '--port', $opt{port} // 0);
        push @argv, '--bodies', $opt{bodies} if $opt{bodies};
        push @argv, '--verbose' if $opt{verbose};
        push @argv, '--tls-cert', $opt{tls}[0], '--tls-key', $opt{tls}[1]
            if $opt{tls};
        { no warnings 'exec'; exec { $argv[0] } @argv; }
        POSIX::_exit(127);
    }
    close $w;

    # Wait (bounded) for "READY <port>".
    my $self = bless {
        pid => $pid, idx => $idx, owner => $$, pipe => $r,
        errfile => "$t->{dir}/fixture$idx.err",
        http => HTTP::Tiny->new(timeout => 10, keep_alive => 0),
    }, $class;

    my $sel = IO::Select->new($r);
    my $deadline = time + 10;
    my $line = '';
    while ($line !~ /\n/ && (my $left = $deadline - time) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread($r, my $buf, 256);
        last unless $n;
        $line .= $buf;
    }

    if ($line =~ /^READY (\d+)/) {
        $self->{port} = $1;
        return $self;
    }

    $self->stop;
    die "OsintTest: fixture $idx did not start: "
        . ($line eq '' ? 'no READY line' : "got '$line'") . "\n"
        . (OsintTest::_read_file($self->{errfile}) // '');
}

# $fx->port, $fx->pid
sub port { $_[0]{port} }
sub pid  { $_[0]{pid} }

# $fx->url($path) -> "http://127.0.0.1:PORT$path"
sub url {
    my ($self, $path) = @_;
    return "http://127.0.0.1:$self->{port}" . ($path // '/');
}

# JSON request to a control endpoint; dies unless 2xx.
sub _control_req {
    my ($self, $method, $path, $body) = @_;
    die "OsintTest: fixture $self->{idx} is not running\n"
        unless $self->{pid};
    my $res = $self->{http}->request($method, $self->url($path), {
        defined $body
            ? (content => $OsintTest::JSON->encode($body),
               headers => { 'Content-Type' => 'application/json' })
            : (),
    });
    die "OsintTest: fixture $method $path: $res->{status} $res->{reason}"
        . " $res->{content}\n" unless $res->{success};
    return OsintTest::decode_json_or_undef($res->{content});
}

# $fx->calls -> total number of requests counted (control paths excluded)
sub calls { $_[0]->_control_req('GET', '/_calls')->{total} }

# $fx->calls_for($path) -> requests counted for exactly this path (raw,
# without query)
sub calls_for {
    my ($self, $path) = @_;
    return $self->_control_req('GET', '/_calls')->{by_path}{$path} // 0;
}

# $fx->hanging -> fault=hang requests whose client has not closed yet
sub hanging { $_[0]->_control_req('GET', '/_calls')->{hanging} }

# $fx->hanging_ports -> the client port of each of them
sub hanging_ports {
    @{ $_[0]->_control_req('GET', '/_calls')->{hanging_ports} };
}

# $fx->by_path -> { path => count, ... }
sub by_path { $_[0]->_control_req('GET', '/_calls')->{by_path} }

# $fx->conns -> { open => N, max => M, total => T }: provider connections
# open now, the most open at once and how many in all; $fx->conns_restart
# starts "max" again from now and "total" from 0
sub conns { $_[0]->_control_req('GET', '/_conns') }
sub conns_restart { $_[0]->_control_req('POST', '/_conns', {}) }

# $fx->log -> arrayref of the last 1000 requests:
# { method, path, query, headers => { lower-case name => value }, body, t }
sub log { $_[0]->_control_req('GET', '/_log') }

# $fx->reset -> $fx: zero counters and the request log
sub reset {
    my ($self) = @_;
    $self->_control_req('POST', '/_reset', {});
    return $self;
}

# $fx->control(prefix => '/x', params => { status => 503 } | undef)
#   -> hashref of all overrides now in force
# $fx->control(clear => 1) removes them all.
sub control {
    my ($self, %args) = @_;
    my $req = {};
    $req->{clear}  = JSON::PP::true() if $args{clear};
    if (exists $args{prefix}) {
        $req->{prefix} = $args{prefix};
        $req->{params} = $args{params};
    }
    return $self->_control_req('POST', '/_control', $req)->{overrides};
}

# $fx->clear_control -> hashref (empty)
sub clear_control { $_[0]->control(clear => 1) }

# $fx->stop: SIGTERM, wait (bounded 5 s), SIGKILL.
sub stop {
    my ($self) = @_;
    return unless $self->{owner} == $$;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    if (!defined OsintTest::_wait_pid($pid, 5)) {
        kill 'KILL', $pid;
        OsintTest::_wait_pid($pid, 5);
    }
    close $self->{pipe} if $self->{pipe};
    delete $self->{pipe};
}

sub DESTROY {
    my ($self) = @_;
    $self->stop if $self->{pid};
}


1;
