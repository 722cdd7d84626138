package OsintTest;

# Test harness for ngx_http_osint_module, modelled on nginx-tests' Test::Nginx.
#
#   use Test::More;
#   use lib 't/lib';
#   use OsintTest;
#
#   my $t  = OsintTest->new;           # temp dir (kept if OSINT_TEST_KEEP=1)
#   my $fx = $t->fixture;              # t/lib/fixture.py on a free port
#   $t->write_conf(<<'EOF');           # the http{} body; harness wraps it
#       osint_zone 8m;
#       server {
#           listen 127.0.0.1:%%PORT%%;
#           location = /lookup { osint_lookup; }
#       }
#   EOF
#   $t->run;
#   my ($status, $json) = $t->get_json('/lookup?target=8.8.8.8');
#   ...
#   $t->done_testing;                  # stop, check error.log, done_testing
#
# Placeholders in configurations: %%PORT%% (nginx's port), %%PORT2%%,
# %%PORT3%%, ... (more free ports), %%FX0%%, %%FX1%%, ... (ports of the
# fixtures, in the order they were started), %%TESTDIR%%, %%MODULE%%.
#
# Every process the harness starts (nginx master, fixtures, parallel_get
# children) is tracked by PID and stopped by PID: on stop(), on DESTROY and
# from an END block, so a test that dies still leaves nothing behind.
#
# Environment:
#   OSINT_MODULE       path of the module .so
#                      (default <repo>/build/ngx_http_osint_module.so)
#   OSINT_NGINX        nginx binary (default /usr/sbin/nginx)
#   OSINT_NGINX_WRAPPER  a command put before nginx's, split on blanks
#                      (valgrind ..., env LD_PRELOAD=...: fuzz/README.md);
#                      where its processes do not show nginx's titles in
#                      /proc/PID/cmdline (valgrind), every child of the
#                      master counts as a worker
#   OSINT_EXTRA_MAIN_CONF  lines added to the main context of every wrapped
#                      configuration (e.g. "error_log /tmp/d.log debug;")
#   OSINT_PYTHON       python3 for the fixtures (default /usr/bin/python3)
#   OSINT_REDIS_SERVER redis-server for $t->redis
#                      (default /usr/bin/redis-server)
#   OSINT_TEST_KEEP=1  keep the temp dir (its path is printed)
#   OSINT_ALLOW_SKIP=1 skip (instead of BAIL_OUT) when the module is missing

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(rmtree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Scalar::Util qw(weaken);
use Test::More ();
use Test2::API qw(test2_add_callback_exit test2_stack);
use Time::HiRes qw(time sleep);
use OsintTest::Blackhole ();
use OsintTest::Fixture ();
use OsintTest::Redis ();

our $VERSION = '1.00';

my $LIBDIR = dirname(abs_path(__FILE__));           # <repo>/t/lib
my $REPO   = dirname(dirname($LIBDIR));             # <repo>

our $NGINX  = $ENV{OSINT_NGINX}  || '/usr/sbin/nginx';
our $PYTHON = $ENV{OSINT_PYTHON} || '/usr/bin/python3';
our $MODULE = $ENV{OSINT_MODULE} || "$REPO/build/ngx_http_osint_module.so";
our @WRAPPER = split ' ', ($ENV{OSINT_NGINX_WRAPPER} // '');

# error.log lines that fail the final check unless allow_log() matches them
my $BAD_LOG = qr/\[(?:alert|emerg|crit)\]|open socket|exited on signal/;

our $JSON = JSON::PP->new->utf8->allow_nonref->canonical;

my %LIVE;               # "$obj" => weak ref to every harness object alive
my $ALERT_FAILED;       # a log check failed when no test could be added
my %USED_PORTS;         # ports handed out by free_port() in this process

###############################################################################
# construction and settings

# OsintTest->new(%opt) -> $t
#   opt: workers => N (default 2), timeout => S (HTTP client, default 15),
#        worker_connections => N (default 1024),
#        private_targets => 1 (keep the module's default: private targets
#        go to no provider; without it every osint_provider of a
#        write_conf() body gets "private on;", as the suite's fixtures are
#        internal and its targets mostly documentation or private
#        addresses; t/62-private.t tests the default)
sub new {
    my ($class, %opt) = @_;

    my $dir = tempdir('osint-test-XXXXXXXX', TMPDIR => 1, CLEANUP => 0);

    # When the tests run as root, nginx workers run as "nobody": they must be
    # able to enter the directory (temp files of proxied bodies, etc.).
    chmod 0755, $dir;

    my $self = bless {
        dir         => $dir,
        owner       => $$,          # forked children never clean up
        workers     => $opt{workers} // 2,
        timeout     => $opt{timeout} // 15,
        load_module => 1,
        main_conf   => '',
        env         => {},
        ports       => {},
        fixtures    => [],
        allow       => [],
        log_checked => 0,           # error.log offset already checked
        wrapper     => [],          # prefix of nginx's command, this $t
        connections => $opt{worker_connections} // 1024,
        private     => $opt{private_targets} // 0,
    }, $class;

    $LIVE{"$self"} = $self;
    weaken($LIVE{"$self"});

    return $self;
}

# $t->testdir -> path of the temp dir
sub testdir { $_[0]{dir} }

# $t->workers($n) -> $t (setter) / $t->workers -> N
sub workers {
    my ($self, $n) = @_;
    return $self->{workers} unless defined $n;
    $self->{workers} = $n;
    return $self;
}

# $t->wrapper(@argv) -> $t: a command put before nginx's (and before
# OSINT_NGINX_WRAPPER's) for this $t only; it must exec its arguments, so
# that the master keeps the PID the harness started (e.g. unshare -m and a
# script that bind-mounts files, then exec "$@").
sub wrapper {
    my ($self, @argv) = @_;
    $self->{wrapper} = [@argv];
    return $self;
}

# $t->etc_files(NAME => $text, ...) -> $t, or undef when this cannot be
# done here (not root, no unshare -m): nginx then runs in a mount namespace
# of its own where each /etc/NAME reads $text (bind-mounted from
# TESTDIR/etc/NAME), e.g. hosts naming test providers, resolv.conf naming
# a test resolver.  Sets wrapper().
sub etc_files {
    my ($self, %files) = @_;
    return undef if $> != 0
                    || system('unshare -m true >/dev/null 2>&1') != 0;

    my $etc = "$self->{dir}/etc";
    mkdir $etc;
    chmod 0755, $etc;

    my $sh = "#!/bin/sh\nset -e\n";
    for my $name (sort keys %files) {
        _write_file("$etc/$name", $files{$name});
        chmod 0644, "$etc/$name";
        $sh .= "mount --bind '$etc/$name' '/etc/$name'\n";
    }
    _write_file("$self->{dir}/etc.sh", $sh . "exec \"\$@\"\n");
    chmod 0755, "$self->{dir}/etc.sh";

    return $self->wrapper('unshare', '-m', '--propagation', 'private',
                          "$self->{dir}/etc.sh");
}

# $t->timeout($s) -> $t / $t->timeout -> S: HTTP client timeout of get/post
sub timeout {
    my ($self, $s) = @_;
    return $self->{timeout} unless defined $s;
    $self->{timeout} = $s;
    return $self;
}

# $t->load_module_line(0|1) -> $t: omit (0) or emit (1) the load_module line
sub load_module_line {
    my ($self, $on) = @_;
    $self->{load_module} = $on ? 1 : 0;
    return $self;
}

# $t->main_conf($text) -> $t: lines added to the main context of the wrapped
# configuration (e.g. "env SHODAN_KEY;"); placeholders allowed; cumulative.
sub main_conf {
    my ($self, $text) = @_;
    $self->{main_conf} .= $text . "\n";
    return $self;
}

# $t->env(NAME => value, ...) -> $t: environment for the nginx master
# (value undef: remove NAME from nginx's environment).
sub env {
    my ($self, %vars) = @_;
    $self->{env}{$_} = $vars{$_} for keys %vars;
    return $self;
}

# $t->allow_log(qr/.../, ...) -> $t: error.log lines matching any of these
# are not counted by the final "no alerts in error.log" check.
sub allow_log {
    my ($self, @re) = @_;
    push @{$self->{allow}}, @re;
    return $self;
}

# $t->port -> nginx's port (%%PORT%%); $t->port($n) -> %%PORTn%% (n >= 2)
sub port {
    my ($self, $n) = @_;
    $n ||= 1;
    return $self->{ports}{$n} //= free_port();
}

# $t->url($path [, $port]) -> "http://127.0.0.1:PORT$path"
sub url {
    my ($self, $path, $port) = @_;
    return "http://127.0.0.1:" . ($port // $self->port) . ($path // '/');
}

# OsintTest::free_port() -> a port on 127.0.0.1 that could be bound just now.
# Taken at random below Linux's ephemeral range (32768+), so it does not race
# with the local ports of outgoing connections.
sub free_port {
    for (1 .. 200) {
        my $port = 20000 + int(rand(12000));
        next if $USED_PORTS{$port};
        my $s = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => $port,
            Proto     => 'tcp',
            Listen    => 1,
            ReuseAddr => 1,
        ) or next;
        close $s;
        $USED_PORTS{$port} = 1;
        return $port;
    }

    # Crowded range: let the kernel choose.
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1,
    ) or die "free_port: cannot bind 127.0.0.1:0: $!\n";
    my $port = $s->sockport;
    close $s;
    $USED_PORTS{$port} = 1;
    return $port;
}

###############################################################################
# fixtures

# $t->fixture(%opt) -> OsintTest::Fixture, started and READY.
#   opt: port => N (default: any free port), bodies => DIR,
#   tls => [cert, key]: HTTPS (its /_ endpoints are then out of reach:
#   core Perl has no TLS client)
# Its port is %%FXi%%, i = how many fixtures this $t started before it.
sub fixture {
    my ($self, %opt) = @_;
    my $fx = OsintTest::Fixture->start($self, scalar @{$self->{fixtures}},
                                       %opt);
    push @{$self->{fixtures}}, $fx;
    return $fx;
}

# $t->fixtures -> list of the fixtures started, in order
sub fixtures { @{$_[0]{fixtures}} }

# $t->self_signed_cert -> ("TESTDIR/cert.pem", "TESTDIR/key.pem"): a
# certificate for 127.0.0.1, made for this test only (openssl; dies
# without it), readable by workers running as "nobody"
sub self_signed_cert {
    my ($self) = @_;
    my $dir = $self->{dir};
    system("/usr/bin/openssl req -x509 -newkey rsa:2048 -nodes "
           . "-keyout $dir/key.pem -out $dir/cert.pem -days 2 "
           . "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
           . "2>/dev/null")
        == 0 or die "OsintTest: openssl failed\n";
    chmod 0644, "$dir/key.pem", "$dir/cert.pem";
    return ("$dir/cert.pem", "$dir/key.pem");
}

###############################################################################
# Redis and other daemons (stopped by PID with the fixtures)

# OsintTest::have_redis() -> true when redis-server can be started
sub have_redis { -x $OsintTest::Redis::SERVER }

# $t->redis(%opt) -> OsintTest::Redis: a real redis-server on 127.0.0.1,
# nothing saved to disk, started and answering PING (bounded 10 s).
#   opt: port => N (default: a free port), password => PW (requirepass),
#        unix => 1 (also TESTDIR/redis-PORT.sock, mode 777: workers may
#        run as "nobody"), ipv6 => 1 (also listen on [::1]),
#        conf => PATH (a config file, first argument: a sentinel's),
#        args => [...] (more arguments: --sentinel, --replicaof H P, ...)
sub redis {
    my ($self, %opt) = @_;
    my $r = OsintTest::Redis->new($self, %opt);
    push @{$self->{daemons}}, $r;
    return $r->start;
}

# $t->blackhole -> OsintTest::Blackhole: a TCP port on 127.0.0.1 that
# accepts connections, then never reads nor answers (a hung server).
sub blackhole {
    my ($self) = @_;
    my $b = OsintTest::Blackhole->start;
    push @{$self->{daemons}}, $b;
    return $b;
}

###############################################################################
# configuration

# $t->write_conf($http_body) -> $t: the body of http{}; the harness writes
# the rest (load_module, daemon off, pid, error_log, events, temp paths).
sub write_conf {
    my ($self, $body) = @_;
    $self->{conf} = { wrapped => 1, text => $body };
    return $self;
}

# $t->conf_raw($nginx_conf) -> $t: a whole nginx.conf.  "daemon off;" and
# "pid %%TESTDIR%%/nginx.pid;" are prepended when the text has no such
# directive (the harness owns the master's PID; /run/nginx.pid is not ours).
sub conf_raw {
    my ($self, $text) = @_;
    $self->{conf} = { wrapped => 0, text => $text };
    return $self;
}

# The full configuration text, placeholders not yet substituted.
sub _conf_template {
    my ($self) = @_;
    my $conf = $self->{conf}
        or die "OsintTest: no configuration (call write_conf or conf_raw)\n";

    if (!$conf->{wrapped}) {
        my $text = $conf->{text};
        $text = "pid %%TESTDIR%%/nginx.pid;\n$text"
            unless $text =~ /^\s*pid\s/m;
        $text = "daemon off;\n$text"
            unless $text =~ /^\s*daemon\s/m;
        return $text;
    }

    my $load = $self->{load_module} ? "load_module \"%%MODULE%%\";\n" : '';
    my $body = $conf->{text};

    # on the line of the "{": line numbers of nginx's messages stay
    $body =~ s/^(\s*osint_provider\s+[\w-]+\s*\{)/$1 private on;/mg
        unless $self->{private};

    return <<"EOF";
# generated by t/lib/OsintTest.pm
${load}daemon off;
master_process on;
worker_processes $self->{workers};
pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;
$self->{main_conf}
@{[ $ENV{OSINT_EXTRA_MAIN_CONF} // '' ]}
events {
    worker_connections $self->{connections};
}

http {
    access_log %%TESTDIR%%/access.log;

    # Debian's defaults point at /var/lib/nginx, which may not exist.
    client_body_temp_path %%TESTDIR%%/body;
    proxy_temp_path       %%TESTDIR%%/proxy;
    fastcgi_temp_path     %%TESTDIR%%/fastcgi;
    uwsgi_temp_path       %%TESTDIR%%/uwsgi;
    scgi_temp_path        %%TESTDIR%%/scgi;

$body
}
EOF
}

# Substitute placeholders; dies on an unknown one (catches typos).
sub _render {
    my ($self, $text) = @_;
    my %used;

    $text =~ s{%%([A-Z]+)(\d*)%%}{
        my ($name, $n) = ($1, $2);
        if ($name eq 'PORT') {
            $n = 1 if $n eq '';
            $used{"PORT$n"} = 1;
            $self->port($n);
        } elsif ($name eq 'FX' && $n ne '') {
            my $fx = $self->{fixtures}[$n]
                or die "OsintTest: %%FX$n%% used but only "
                       . scalar(@{$self->{fixtures}}) . " fixture(s) started\n";
            $fx->port;
        } elsif ($name eq 'TESTDIR' && $n eq '') {
            $self->{dir};
        } elsif ($name eq 'MODULE' && $n eq '') {
            $used{MODULE} = 1;
            $MODULE;
        } else {
            die "OsintTest: unknown placeholder %%$name$n%%\n";
        }
    }ge;

    return ($text, \%used);
}

# Render the current configuration into TESTDIR/nginx.conf.
sub _write_conf {
    my ($self) = @_;
    my ($text, $used) = $self->_render($self->_conf_template);

    $self->_require_module if $used->{MODULE};
    $self->_require_nginx;

    _write_file("$self->{dir}/nginx.conf", $text);
    $self->{conf_used} = $used;

    # How many workers run() and reload() wait for.
    if ($text =~ /^\s*master_process\s+off\s*;/m) {
        $self->{expect_workers} = 0;
    } elsif ($text =~ /^\s*worker_processes\s+(\d+)\s*;/m) {
        $self->{expect_workers} = $1;
    } elsif ($text =~ /^\s*worker_processes\s/m) {
        $self->{expect_workers} = undef;        # "auto": do not guess
    } else {
        $self->{expect_workers} = 1;
    }

    return $text;
}

sub _require_nginx {
    return if -x $NGINX;
    Test::More::BAIL_OUT("nginx binary not found or not executable: $NGINX"
                         . " (set OSINT_NGINX)");
}

# The module must exist: skip the file only when OSINT_ALLOW_SKIP is set,
# otherwise bail out, so CI can never pass by silently skipping.
sub _require_module {
    my ($self) = @_;
    return if -f $MODULE;

    my $msg = "ngx_http_osint_module not built: $MODULE is missing"
              . " (build it, or point OSINT_MODULE at it)";

    if ($ENV{OSINT_ALLOW_SKIP}) {
        my $hub = test2_stack()->top;
        if (!defined $hub->plan && $hub->count == 0) {
            Test::More::plan(skip_all => $msg);       # exits
        }
    }
    Test::More::BAIL_OUT($msg);
}

# OsintTest->require_module: the same check, callable at the top of a test
# file before anything else (class or object method).
sub require_module {
    my ($self) = @_;
    _require_module($self);
    return 1;
}

###############################################################################
# nginx processes

# $t->run -> $t: start nginx (master PID owned by the harness), wait until
# %%PORT%% accepts connections and all workers are up (bounded 10 s).
# Dies with the content of error.log when nginx fails to start.
sub run {
    my ($self) = @_;
    die "OsintTest: nginx already running (pid $self->{pid})\n"
        if $self->{pid};

    $self->_write_conf;

    my $dir = $self->{dir};
    my $pid = _spawn(
        [@{$self->{wrapper}}, @WRAPPER,
         $NGINX, '-p', "$dir/", '-c', "$dir/nginx.conf",
         '-e', "$dir/error.log"],
        stdout => "$dir/nginx.stdout", env => $self->{env},
    );
    $self->{pid} = $pid;

    my $deadline = time + 10;
    my $port = $self->{conf_used}{PORT1} ? $self->port : undef;

    while (1) {
        if (defined(my $st = _wait_pid($pid, 0))) {
            delete $self->{pid};
            die "OsintTest: nginx exited at start (wait status $st)\n"
                . $self->_start_diag;
        }

        my $ready = 1;
        $ready = 0 if defined $port && !_can_connect($port);
        if ($ready && defined $self->{expect_workers}) {
            $ready = 0 if $self->worker_pids < $self->{expect_workers};
        }
        last if $ready;

        if (time > $deadline) {
            $self->_kill_nginx;
            die "OsintTest: nginx not ready within 10 s\n" . $self->_start_diag;
        }
        sleep 0.02;
    }

    return $self;
}

sub _start_diag {
    my ($self) = @_;
    return "--- error.log:\n" . $self->error_log
        . "--- nginx stdout/stderr:\n"
        . (_read_file("$self->{dir}/nginx.stdout") // '')
        . "--- nginx.conf:\n" . (_read_file("$self->{dir}/nginx.conf") // '');
}

# $t->reload(%opt) -> list of the new worker PIDs
#   Rewrites nginx.conf from the current configuration, sends HUP to the
#   master and waits (bounded 10 s) until the new workers are up.  Dies with
#   the new part of error.log if they do not come (at once on an [emerg]).
#   opt: wait_old => 1       also wait until the old workers have exited
#        expect_fail => 1    the new configuration is bad: wait for the
#                            [emerg] in error.log, return the (unchanged)
#                            workers; dies if new workers appeared instead
sub reload {
    my ($self, %opt) = @_;
    my $pid = $self->{pid} or die "OsintTest: reload: nginx is not running\n";

    my %old  = map { $_ => 1 } $self->worker_pids;
    my $mark = $self->log_mark;
    $self->_write_conf;

    kill 'HUP', $pid or die "OsintTest: reload: kill HUP $pid: $!\n";

    my $deadline = time + 10;

    if ($opt{expect_fail}) {
        until ($self->error_log($mark) =~ /\[emerg\]/) {
            die "OsintTest: reload: expected a failure, none logged\n"
                . $self->error_log($mark)
                if time > $deadline;
            sleep 0.02;
        }
        my @now = $self->worker_pids;
        die "OsintTest: reload: a failed reload started new workers\n"
            if grep { !$old{$_} } @now;
        return @now;
    }

    my $want = $self->{expect_workers} // 1;
    my @new;
    while (1) {
        @new = grep { !$old{$_} } $self->worker_pids;
        last if @new >= $want;

        my $log = $self->error_log($mark);
        die "OsintTest: reload failed:\n$log" if $log =~ /\[emerg\]/;
        die "OsintTest: reload: new workers not up within 10 s\n"
            . "--- error.log since reload:\n$log"
            if time > $deadline;
        sleep 0.02;
    }

    if ($opt{wait_old}) {
        while (grep { kill 0, $_ } keys %old) {
            die "OsintTest: reload: old workers still alive after 10 s\n"
                if time > $deadline;
            sleep 0.02;
        }
    }

    return @new;
}

# $t->nginx_test -> ($exit_code, $output): `nginx -t` on the current
# configuration (rendered into TESTDIR/nginx.conf), stdout and stderr
# combined.  Its own -e log (TESTDIR/nginx-t.log) keeps a deliberately bad
# configuration out of error.log.  Bounded 20 s.
sub nginx_test {
    my ($self) = @_;
    $self->_write_conf;

    my $dir = $self->{dir};
    my $out = "$dir/nginx-t.out";
    unlink $out;

    my $pid = _spawn(
        [@{$self->{wrapper}}, @WRAPPER,
         $NGINX, '-t', '-p', "$dir/", '-c', "$dir/nginx.conf",
         '-e', "$dir/nginx-t.log"],
        stdout => $out, env => $self->{env},
    );

    my $st = _wait_pid($pid, 20);
    if (!defined $st) {
        kill 'KILL', $pid;
        _wait_pid($pid, 5);
        return (-1, (_read_file($out) // '') . "\n(nginx -t timed out)\n");
    }

    my $rc = ($st & 127) ? 128 + ($st & 127) : $st >> 8;
    return ($rc, _read_file($out) // '');
}

# $t->master_pid -> PID of the nginx master, undef when not running
sub master_pid { $_[0]{pid} }

# $t->worker_pids(%opt) -> sorted list of worker PIDs: children of the
# master titled "nginx: worker process" (their number in scalar context).
# With all => 1 also the ones shutting down after a reload, and cache
# manager/loader processes.
sub worker_pids {
    my ($self, %opt) = @_;
    my $master = $self->{pid} or return ();
    my @pids;

    for my $pid (_children($master)) {
        my $cmd = _read_file("/proc/$pid/cmdline") // next;
        $cmd =~ s/\0+/ /g;
        $cmd =~ s/\s+$//;
        next if !$opt{all} && (!@WRAPPER || $cmd =~ /^nginx:/)
                && $cmd !~ /worker process$/;
        push @pids, $pid;
    }

    @pids = sort { $a <=> $b } @pids;
    return wantarray ? @pids : scalar @pids;
}

# $t->fd_count($pid) -> number of entries in /proc/PID/fd (undef if gone)
sub fd_count {
    my ($self, $pid) = @_;
    opendir(my $dh, "/proc/$pid/fd") or return undef;
    my $n = grep { !/^\.\.?$/ } readdir $dh;
    closedir $dh;
    return $n;
}

# fd_count_but_pool($pid, @ports) -> the process's fds, less its ESTABLISHED
# connections to @ports: libcurl's cache of idle provider connections,
# whose size varies with how many calls overlapped (up to
# CURLMOPT_MAXCONNECTS).  A leaked socket is not among them: a leak is
# one nobody reads any more, which the peer closes (CLOSE_WAIT), or a
# socket that never connected.
sub fd_count_but_pool {
    my ($pid, @ports) = @_;
    my %port = map { $_ => 1 } @ports;
    my %pooled = map { $_->{inode} => 1 }
                 grep { $_->{state} eq '01' && $port{$_->{remote_port}} }
                 tcp_sockets();

    opendir my $dh, "/proc/$pid/fd" or return undef;
    my $n = 0;
    for my $fd (grep { /^\d+$/ } readdir $dh) {
        my $link = readlink("/proc/$pid/fd/$fd") // next;
        next if $link =~ /^socket:\[(\d+)\]$/ && $pooled{$1};
        $n++;
    }
    return $n;
}

# $t->stop_nginx(%opt) -> $t: SIGQUIT to the master, wait (bounded, default
# 10 s), then SIGTERM / SIGKILL by PID; then the error.log check (a test).
#   opt: graceful_timeout => S
sub stop_nginx {
    my ($self, %opt) = @_;
    return $self unless $self->{owner} == $$;

    my $pid = $self->{pid} or return $self;
    my $grace = $opt{graceful_timeout} // 10;
    my @workers = $self->worker_pids(all => 1);

    kill 'QUIT', $pid;
    if (!defined _wait_pid($pid, $grace)) {
        $self->{ungraceful} = "nginx did not exit within $grace s of SIGQUIT"
                              . " (workers @workers)";
        $self->_kill_nginx;
    }
    delete $self->{pid};

    # Workers of a killed master are not our children: end them by PID,
    # after checking the PID still is an nginx process.
    for my $w (@workers) {
        my $cmd = _read_file("/proc/$w/cmdline") // next;
        kill 'KILL', $w if $cmd =~ /^nginx:/
                           || (@WRAPPER && index($cmd, $NGINX) >= 0);
    }

    $self->_check_log;
    return $self;
}

# TERM, then KILL, the master we started; reaps it.
sub _kill_nginx {
    my ($self) = @_;
    my $pid = $self->{pid} or return;
    kill 'TERM', $pid;
    if (!defined _wait_pid($pid, 3)) {
        kill 'KILL', $pid;
        _wait_pid($pid, 3);
    }
    delete $self->{pid};
}

# $t->stop(%opt) -> $t: stop_nginx(%opt), then stop every fixture.
sub stop {
    my ($self, %opt) = @_;
    return $self unless $self->{owner} == $$;
    $self->stop_nginx(%opt);
    $_->stop for @{$self->{fixtures}};
    $_->stop for @{$self->{daemons} || []};
    return $self;
}

# $t->plan($n): Test::More plan of $n tests plus the error.log check that
# stop() adds (once per stop of a running nginx).
sub plan {
    my ($self, $n) = @_;
    Test::More::plan(tests => $n + 1);
}

# $t->done_testing: stop() (error.log check included), then done_testing.
sub done_testing {
    my ($self, @args) = @_;
    $self->stop;
    Test::More::done_testing(@args);
}

###############################################################################
# sockets

# OsintTest::tcp_states($port) -> { STATE => count } of the TCP sockets whose
# remote port is $port (as in /proc/net/tcp: '01' ESTABLISHED, '06' TIME_WAIT)
sub tcp_states {
    my ($port) = @_;
    my %n;
    $n{$_->{state}}++ for grep { $_->{remote_port} == $port } tcp_sockets();
    return \%n;
}

# tcp_sockets() -> the TCP sockets of /proc/net/tcp and tcp6, each
# { local_port, remote_port, state (hex, '01' ESTABLISHED), inode }
sub tcp_sockets {
    my @s;
    for my $file ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $file or next;
        while (my $line = <$fh>) {
            my @f = split ' ', $line;
            next unless $f[1] && $f[1] =~ /:([0-9A-F]{4})$/;
            my $local = hex $1;
            next unless $f[2] =~ /:([0-9A-F]{4})$/;
            push @s, { local_port => $local, remote_port => hex $1,
                       state => $f[3], inode => $f[9] };
        }
    }
    return @s;
}

###############################################################################
# error.log

# $t->error_log($offset) -> content of TESTDIR/error.log from byte $offset
sub error_log {
    my ($self, $offset) = @_;
    return _read_file("$self->{dir}/error.log", $offset // 0) // '';
}

# $t->log_mark -> current size of error.log, for error_log($mark)
sub log_mark {
    my ($self) = @_;
    return (-s "$self->{dir}/error.log") || 0;
}

# $t->wait_log(qr/re/, $timeout_s, $offset) -> true when error.log (from
# $offset) matches within $timeout_s (default 5)
sub wait_log {
    my ($self, $re, $timeout, $offset) = @_;
    return $self->wait_until(sub { $self->error_log($offset) =~ $re },
                             $timeout // 5);
}

# $t->log_lines(qr/re/ [, $offset]) -> the lines of error.log (from
# $offset) matching qr/re/
sub log_lines {
    my ($self, $re, $offset) = @_;
    return grep { $_ =~ $re } split /\n/, $self->error_log($offset // 0);
}

# OsintTest::log_pids(@lines) -> the distinct PIDs that wrote these
# error.log lines, sorted, joined by spaces (as "@{[$t->worker_pids]}")
sub log_pids {
    my %pid = map { /\d\d:\d\d:\d\d \[\w+\] (\d+)#/ ? ($1 => 1) : () } @_;
    return join ' ', sort { $a <=> $b } keys %pid;
}

# $t->conf_fails($test_name, $http_body, $message) -> nginx -t's output; a
# test: nginx -t fails with "[emerg] $message in <file>:<line>" (literal)
sub conf_fails {
    my ($self, $name, $conf, $message) = @_;
    $self->write_conf($conf);
    my ($rc, $out) = $self->nginx_test;
    Test::More::ok($rc != 0 && index($out, "[emerg] $message in ") >= 0,
                   $name)
        or Test::More::diag("exit $rc, expected [emerg] $message\n$out");
    return $out;
}

# $t->wait_until(sub { ... }, $timeout_s [, $interval_s]) -> true if the
# condition became true in time (polls every 20 ms by default)
sub wait_until {
    my ($self, $cond, $timeout, $interval) = @_;
    my $deadline = time + ($timeout // 5);
    while (1) {
        return 1 if $cond->();
        return 0 if time > $deadline;
        sleep($interval // 0.02);
    }
}

# The check run after nginx stopped: no [alert]/[emerg]/[crit], no
# "open socket", no "exited on signal" in the part of error.log not yet
# checked, except lines matching allow_log() patterns; and a graceful exit.
sub _check_log {
    my ($self) = @_;

    my $log = $self->error_log($self->{log_checked});
    $self->{log_checked} += length $log;

    my @bad;
    for my $line (split /\n/, $log) {
        next unless $line =~ $BAD_LOG;
        next if grep { $line =~ $_ } @{$self->{allow}};
        push @bad, $line;
    }
    push @bad, delete $self->{ungraceful} if $self->{ungraceful};

    if (_can_add_test()) {
        Test::More::ok(!@bad, 'no alerts in error.log')
            or Test::More::diag(join "\n", @bad);
    } elsif (@bad) {
        # done_testing() or the plan is already complete: report and make
        # the exit code fail (see the Test2 exit callback below).
        Test::More::diag("error.log check failed:\n" . join "\n", @bad);
        $ALERT_FAILED = 1;
    }
}

# True when one more test can be emitted without breaking the plan.
sub _can_add_test {
    my $hub = test2_stack()->top;
    return 0 if $hub->ended;                   # done_testing() was called
    my $plan = $hub->plan;
    return 1 if !defined $plan || $plan eq 'NO PLAN';
    return 0 if $plan eq 'SKIP';
    return $hub->count < $plan;
}

###############################################################################
# HTTP client

# $t->request($method, $path_or_url, %opt) -> HTTP::Tiny response hashref
# plus elapsed_ms.  No redirects followed, no keep-alive.
#   opt: headers => {..}, body => $bytes, port => N, timeout => S
sub request {
    my ($self, $method, $path, %opt) = @_;

    my $url = $path =~ m{^https?://} ? $path : $self->url($path, $opt{port});
    my $http = HTTP::Tiny->new(
        timeout      => $opt{timeout} // $self->{timeout},
        max_redirect => 0,
        keep_alive   => 0,
    );

    my %args = (headers => $opt{headers} || {});
    $args{content} = $opt{body} if defined $opt{body};

    my $t0 = time;
    my $res = $http->request($method, $url, \%args);
    $res->{elapsed_ms} = (time - $t0) * 1000;
    return $res;
}

# $t->get($path [, \%headers]) -> HTTP::Tiny response hashref (+ elapsed_ms)
sub get {
    my ($self, $path, $headers) = @_;
    return $self->request('GET', $path, headers => $headers);
}

# $t->post($path, $body [, \%headers]) -> response hashref (+ elapsed_ms).
# A hash or array ref body is sent as JSON (Content-Type application/json
# unless given).
sub post {
    my ($self, $path, $body, $headers) = @_;
    my %h = %{$headers || {}};
    if (ref $body) {
        $body = $JSON->encode($body);
        $h{'Content-Type'} //= 'application/json'
            unless grep { lc eq 'content-type' } keys %h;
    }
    return $self->request('POST', $path, body => $body, headers => \%h);
}

# $t->get_json($path [, \%headers]) -> ($status, $decoded_or_undef, $res)
sub get_json {
    my ($self, $path, $headers) = @_;
    my $res = $self->get($path, $headers);
    return ($res->{status}, decode_json_or_undef($res->{content}), $res);
}

# $t->lookup($query) -> ($res, its document or undef): GET /lookup?$query
sub lookup {
    my ($self, $query) = @_;
    my $res = $self->get("/lookup?$query");
    return ($res, decode_json_or_undef($res->{content}));
}

# OsintTest::caches($doc, @providers) -> "l1,miss,...": each one's cache
sub caches {
    my ($doc, @providers) = @_;
    return join ',', map { $doc->{providers}{$_}{cache} // 'none' } @providers;
}

# OsintTest::decode_json_or_undef($bytes) -> data, or undef if not JSON
sub decode_json_or_undef {
    my ($bytes) = @_;
    return undef unless defined $bytes;
    my $data = eval { $JSON->decode($bytes) };
    return $data;
}

# $t->raw($bytes, %opt) -> everything the server sent back until it closed
# (or timeout, default 5 s) as bytes.  For malformed requests.
#   opt: port => N, timeout => S
sub raw {
    my ($self, $bytes, %opt) = @_;
    local $SIG{PIPE} = 'IGNORE';

    my $s = $self->send_raw($bytes, %opt) or return undef;
    return read_all($s, $opt{timeout});
}

# $t->send_raw($bytes, %opt) -> the socket, $bytes written, nothing read
# (read later with read_all, or close early: a client that goes away).
#   opt: port => N
sub send_raw {
    my ($self, $bytes, %opt) = @_;
    local $SIG{PIPE} = 'IGNORE';

    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1', PeerPort => $opt{port} // $self->port,
        Proto => 'tcp', Timeout => 3,
    ) or return undef;
    syswrite($s, $bytes);
    return $s;
}

# OsintTest::read_all($socket [, $timeout_s]) -> everything read until the
# peer closed (or timeout, default 5 s); the socket is closed.
sub read_all {
    my ($s, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $deadline = time + ($timeout // 5);
    my $got = '';
    while ((my $left = $deadline - time) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $got .= $buf;
    }
    close $s;
    return $got;
}

# $t->abort_get($path, $after_ms [, $port]) -> 1 if the request was sent:
# raw TCP connection, GET, wait $after_ms, close without reading.
sub abort_get {
    my ($self, $path, $after_ms, $port) = @_;
    local $SIG{PIPE} = 'IGNORE';

    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1', PeerPort => $port // $self->port,
        Proto => 'tcp', Timeout => 3,
    ) or return 0;
    my $ok = syswrite($s, "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n");
    sleep(($after_ms // 0) / 1000);
    close $s;
    return $ok ? 1 : 0;
}

# $t->parallel_get(\@requests, $concurrency, %opt) -> arrayref, in input
# order, of { status, body, headers, elapsed_ms, start_ms } (start_ms: when
# the request started, relative to the call).  A request is a path, or a
# hashref { method, path, body, headers }.  One forked child per request, at
# most $concurrency at a time; the whole call is bounded by timeout
# (default 30 s): children still running then are killed and their result
# is { status => 599, body => 'parallel_get: timeout' }.
sub parallel_get {
    my ($self, $reqs, $concurrency, %opt) = @_;
    $concurrency ||= scalar @$reqs || 1;
    local $?;                           # waitpid must not leak a status

    my $t0       = time;
    my $deadline = $t0 + ($opt{timeout} // 30);
    my $tmp      = "$self->{dir}/parallel-$$";
    my (@res, %running);
    my $next = 0;

    mkdir $tmp;
    STDOUT->flush;
    STDERR->flush;

    while ($next < @$reqs || %running) {
        while ($next < @$reqs && keys %running < $concurrency) {
            my $i = $next++;
            my $pid = fork;
            die "OsintTest: parallel_get: fork: $!\n" unless defined $pid;
            if ($pid == 0) {
                $self->_parallel_child($reqs->[$i], "$tmp/$i", $t0,
                                       $deadline);
            }
            $running{$pid} = $i;
        }

        for my $pid (keys %running) {
            next unless waitpid($pid, WNOHANG) == $pid;
            my $i = delete $running{$pid};
            $res[$i] = decode_json_or_undef(_read_file("$tmp/$i"))
                // { status => 599, body => 'parallel_get: child failed',
                     headers => {}, elapsed_ms => undef, start_ms => undef };
        }

        if (time > $deadline) {
            for my $pid (keys %running) {
                kill 'KILL', $pid;
                waitpid($pid, 0);
                $res[$running{$pid}] = {
                    status => 599, body => 'parallel_get: timeout',
                    headers => {}, elapsed_ms => undef, start_ms => undef,
                };
            }
            %running = ();
            last;
        }

        sleep 0.002 if %running;
    }

    rmtree($tmp);
    return \@res;
}

# Body of a parallel_get child: one request, result to $file, _exit (no END
# blocks, no DESTROY, no Test::More output in the child).
sub _parallel_child {
    my ($self, $req, $file, $t0, $deadline) = @_;
    $req = { path => $req } unless ref $req;

    my $start = time;
    my $left = $deadline - $start;
    $left = 0.1 if $left < 0.1;
    my $res = $self->request(
        $req->{method} // 'GET', $req->{path},
        headers => $req->{headers},
        (defined $req->{body} ? (body => $req->{body}) : ()),
        timeout => ($self->{timeout} < $left ? $self->{timeout} : $left),
    );

    my $out = {
        status     => $res->{status},
        body       => $res->{content},
        headers    => $res->{headers},
        elapsed_ms => $res->{elapsed_ms},
        start_ms   => ($start - $t0) * 1000,
    };
    if (open(my $fh, '>', "$file.tmp")) {
        print $fh $JSON->encode($out);
        close $fh;
        rename "$file.tmp", $file;
    }
    POSIX::_exit(0);
}

###############################################################################
# teardown

# Final cleanup: stop everything, remove the temp dir unless OSINT_TEST_KEEP.
sub _cleanup {
    my ($self) = @_;
    return if $self->{cleaned} || $self->{owner} != $$;
    $self->{cleaned} = 1;

    local ($@, $!, $?);
    eval { $self->stop; 1 } or warn "OsintTest: cleanup: $@";

    if ($ENV{OSINT_TEST_KEEP}) {
        Test::More::diag("OsintTest: kept $self->{dir}");
    } else {
        rmtree($self->{dir});
    }
    delete $LIVE{"$self"};
}

sub DESTROY {
    my ($self) = @_;
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT' && $self->{cleaned};
    $self->_cleanup;
}

# END runs before Test2's own END (this module is compiled after Test2), so
# the error.log check can still be a test when no plan forbids it.
END {
    for my $t (grep { defined } values %LIVE) {
        $t->_cleanup;
    }
}

# A test killed by a signal would skip the END block and leave nginx and
# the fixtures running: turn the usual terminating signals into exit().
for my $sig (qw(INT TERM HUP PIPE)) {
    next if defined $SIG{$sig} && $SIG{$sig} ne 'DEFAULT' && $SIG{$sig} ne '';
    $SIG{$sig} = sub { exit(1) };
}

# When the check could not be a test (done_testing already called), a failed
# check still fails the test file through its exit code.
test2_add_callback_exit(sub {
    my ($ctx, $real, $new) = @_;
    $$new ||= 255 if $ALERT_FAILED;
});

###############################################################################
# process and file helpers

# Fork and exec @$argv with stdin from /dev/null, stdout+stderr appended to
# $opt{stdout}, extra environment $opt{env}.  Returns the PID.
sub _spawn {
    my ($argv, %opt) = @_;

    STDOUT->flush;
    STDERR->flush;

    my $pid = fork;
    die "OsintTest: fork: $!\n" unless defined $pid;
    return $pid if $pid;

    # child
    eval {
        open(STDIN, '<', '/dev/null') or die;
        open(STDOUT, '>>', $opt{stdout}) or die if $opt{stdout};
        open(STDERR, '>&', \*STDOUT) or die if $opt{stdout};
        for my $k (keys %{$opt{env} || {}}) {
            if (defined $opt{env}{$k}) {
                $ENV{$k} = $opt{env}{$k};
            } else {
                delete $ENV{$k};
            }
        }
        exec { $argv->[0] } @$argv;
    };
    print STDERR "OsintTest: exec $argv->[0]: $!\n";
    POSIX::_exit(127);
}

# waitpid with a deadline: the wait status, or undef if still running.
# Leaves the caller's $? alone.
sub _wait_pid {
    my ($pid, $timeout) = @_;
    my $deadline = time + $timeout;
    local $?;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        return $? if $r == $pid;
        return 0 if $r == -1;                  # not our child / already reaped
        return undef if time > $deadline;
        sleep 0.01;
    }
}

# OsintTest::reap_children(\%pids, $secs): waits up to $secs for the
# forked children whose PIDs are the keys, then kills and reaps the rest.
sub reap_children {
    my ($kids, $secs) = @_;
    local $?;
    my $deadline = time + $secs;
    while (%$kids && time < $deadline) {
        for my $pid (keys %$kids) {
            delete $kids->{$pid} if waitpid($pid, WNOHANG) == $pid;
        }
        sleep 0.05;
    }
    for my $pid (keys %$kids) { kill 'KILL', $pid; waitpid($pid, 0); }
    %$kids = ();
}

# PIDs whose parent is $ppid (from /proc/*/stat), zombies excluded.
sub _children {
    my ($ppid) = @_;
    my @kids;
    opendir(my $dh, '/proc') or return ();
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        my $stat = _read_file("/proc/$pid/stat") // next;
        my ($state, $parent) = $stat =~ /\)\s+(\S)\s+(\d+)/ or next;
        push @kids, $pid if $parent == $ppid && $state ne 'Z';
    }
    closedir $dh;
    return @kids;
}

sub _can_connect {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
        Timeout => 1,
    ) or return 0;
    close $s;
    return 1;
}

sub _read_file {
    my ($path, $offset) = @_;
    open(my $fh, '<:raw', $path) or return undef;
    seek($fh, $offset, 0) if $offset;
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data // '';
}

sub _write_file {
    my ($path, $data) = @_;
    open(my $fh, '>:raw', $path) or die "OsintTest: write $path: $!\n";
    print $fh $data;
    close $fh or die "OsintTest: close $path: $!\n";
}

1;
