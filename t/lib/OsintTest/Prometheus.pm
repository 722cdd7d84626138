package OsintTest::Prometheus;

# A real Prometheus server for the tests: on 127.0.0.1, scraping one nginx's
# status location every second, its storage in the test directory; stopped
# by its PID when the object goes (or at exit).
#
#   my $p = OsintTest::Prometheus->start($t, '/status');
#   my $result = $p->query('osint_redis_up');   # arrayref, undef on error
#   $p->stop;

use strict;
use warnings;

use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(sleep);
use OsintTest;

our $PROMETHEUS = $ENV{OSINT_PROMETHEUS} || '/usr/bin/prometheus';

my %RUNNING;            # pid => owner pid, for END

sub start {
    my ($class, $t, $path) = @_;
    my $dir = $t->testdir;
    my $port = OsintTest::free_port();

    open(my $fh, '>', "$dir/prometheus.yml") or die "prometheus.yml: $!";
    printf $fh <<'EOF', $path, $t->port;
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: osint
    metrics_path: %s
    static_configs:
      - targets: ['127.0.0.1:%d']
EOF
    close $fh;

    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>>', "$dir/prometheus.log");
        { exec $PROMETHEUS, "--config.file=$dir/prometheus.yml",
               "--storage.tsdb.path=$dir/prometheus-data",
               "--web.listen-address=127.0.0.1:$port", '--log.level=warn'; }
        POSIX::_exit(127);
    }
    $RUNNING{$pid} = $$;

    return bless { pid => $pid, port => $port, log => "$dir/prometheus.log",
                   http => HTTP::Tiny->new(timeout => 3) }, $class;
}

sub log_file { $_[0]{log} }

# $p->query($promql) -> arrayref of the instant query's result, or undef
sub query {
    my ($self, $q) = @_;
    (my $e = $q) =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
    my $r = $self->{http}->get(
        "http://127.0.0.1:$self->{port}/api/v1/query?query=$e");
    my $d = OsintTest::decode_json_or_undef($r->{content});
    return $d && ($d->{status} // '') eq 'success' ? $d->{data}{result}
                                                   : undef;
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    _stop_pid($pid);
}

sub _stop_pid {
    my ($pid) = @_;
    return unless ($RUNNING{$pid} // 0) == $$;
    delete $RUNNING{$pid};
    kill 'TERM', $pid;
    for (1 .. 100) {
        return if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.1;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

sub DESTROY { $_[0]->stop }

END { _stop_pid($_) for keys %RUNNING }

1;
