#!/usr/bin/perl

# GET /status and /healthz: exact counters in the Prometheus text, summed
# over both workers and kept across reload; every metric of docs/metrics.md
# with HELP and TYPE; cumulative histogram buckets; `promtool check
# metrics`; a real Prometheus server scraping /status and answering PromQL;
# the JSON carrying the same numbers; the HTML ops page rendered by
# headless Chromium (one row per provider, breaker badges following the
# breakers, a screenshot); readiness failing when every enabled breaker is
# open; and no api key value in any of these documents.
#
# Needs Debian's prometheus (promtool, prometheus) and chromium packages
# (`make test-deps`).  Without them the file fails, unless OSINT_ALLOW_SKIP
# is set, which skips only the parts needing the missing program.
# OSINT_STATUS_PNG=path also copies the screenshot there.

use strict;
use warnings;

use Test::More;
use File::Copy qw(copy);
use HTTP::Tiny;
use FindBin;
use JSON::PP ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use lib "$FindBin::Bin/lib";
use OsintTest;
use OsintTest::Prometheus;

my $PROMTOOL   = $ENV{OSINT_PROMTOOL}   || '/usr/bin/promtool';
my $PROMETHEUS = $ENV{OSINT_PROMETHEUS} || '/usr/bin/prometheus';
my $CHROMIUM   = $ENV{OSINT_CHROMIUM}   || '/usr/bin/chromium';
my $BROWSER    = "$FindBin::Bin/lib/browser.sh";

# a distinctive key value that must never come back out
my $SECRET = sprintf('osintSeKrEt%08x%08x', int(rand(2**32)),
                     int(rand(2**32)));

my @PROVIDERS = qw(A B S D);

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $dir = $t->testdir;

$t->main_conf("env SECRETKEY;");
$t->env(SECRETKEY => $SECRET, OSINT_T_UNSET_STATUS_KEY => undef);

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 3s;

    osint_provider A {
        types ipv4 domain;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target";
        rate 100r/s burst=50;
        quota 1000/d;
        breaker failures=2 cooldown=30s;
    }

    osint_provider B {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/b/$osint_target";
        breaker failures=2 cooldown=30s;
    }

    # the key is in the URL and in a header
    osint_provider S {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/s/$osint_api_key/$osint_target?body=ipinfo";
        header "X-Key: $osint_api_key";
        api_key env=SECRETKEY;
        breaker failures=2 cooldown=30s;
    }

    # disabled: its key is not in the environment
    osint_provider D {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/d/$osint_target";
        api_key env=OSINT_T_UNSET_STATUS_KEY;
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;

        location = /lookup {
            osint_lookup;
            add_header X-Worker $pid always;
        }

        location = /status {
            osint_status;
            add_header X-Worker $pid always;
        }

        location = /healthz { osint_health; }

        # the page served, its JSON failing: the page shows a banner
        location = /broken {
            if ($arg_format = json) {
                return 503;
            }
            osint_status;
        }
    }
EOF

$t->run;
is(scalar $t->worker_pids, 2, 'two workers');

###############################################################################
# helpers

my $seq = 0;

# parallel lookups restricted to one provider: list of { status, doc, worker }
sub plookups {
    my ($prov, $n) = @_;
    my @paths = map {
        '/lookup?target=10.20.' . int(++$seq / 250) . '.' . ($seq % 250 + 1)
        . "&providers=$prov"
    } 1 .. $n;
    my $res = $t->parallel_get(\@paths, $n, timeout => 20);
    return map {
        { status => $_->{status},
          doc    => OsintTest::decode_json_or_undef($_->{body}),
          body   => $_->{body},
          worker => $_->{headers}{'x-worker'} }
    } @$res;
}

sub workers_of { my %w = map { ($_->{worker} // '') => 1 } @_; keys %w }

# Prometheus text -> { samples => { canonical => value }, help => {name => 1},
# type => { name => type }, order => [ canonical, ... ] }
sub parse_prom {
    my ($text) = @_;
    my %p = (samples => {}, help => {}, type => {}, order => []);
    for my $line (split /\n/, $text) {
        if ($line =~ /^# HELP (\S+) \S/) {
            $p{help}{$1} = 1;
        } elsif ($line =~ /^# TYPE (\S+) (\S+)$/) {
            $p{type}{$1} = $2;
        } elsif ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/) {
            my ($name, $labels, $value) = ($1, $2 // '', $3);
            my %l = $labels =~ /(\w+)="((?:[^"\\]|\\.)*)"/g;
            my $key = canon($name, %l);
            $p{samples}{$key} = $value;
            push @{$p{order}}, $key;
        } elsif ($line ne '') {
            push @{$p{bad}}, $line;
        }
    }
    return \%p;
}

sub canon {
    my ($name, %l) = @_;
    return $name unless %l;
    return $name . '{' . join(',', map { "$_=\"$l{$_}\"" } sort keys %l)
           . '}';
}

# value of one sample (undef when absent)
sub val { my ($p, $name, %l) = @_; return $p->{samples}{canon($name, %l)} }

# sum of the samples having these labels among others (undef when none)
sub sum_of {
    my ($p, $name, %l) = @_;
    my $sum;
    for my $k (keys %{$p->{samples}}) {
        next unless $k =~ /^\Q$name\E\{/;
        next if grep { index($k, "$_=\"$l{$_}\"") < 0 } keys %l;
        $sum += $p->{samples}{$k};
    }
    return $sum;
}

sub status_text {
    my $res = $t->get('/status');
    return ($res, parse_prom($res->{content} // ''));
}

# the JSON document ({} when there is none)
sub status_json {
    my ($st, $doc) = $t->get_json('/status?format=json');
    return ref $doc eq 'HASH' ? $doc : {};
}

# the counters (not the gauges) of a parsed text: { canonical => value }
sub counters {
    my ($p) = @_;
    my %c;
    for my $k (keys %{$p->{samples}}) {
        next unless $k =~ /^(?:\w+_total|osint_provider_latency_seconds_\w+)\b/;
        $c{$k} = $p->{samples}{$k};
    }
    return \%c;
}

# Fork and exec @argv, stdout to $out (undef: /dev/null), stderr to $err.
# Returns the PID.
sub spawn {
    my ($argv, $out, $err) = @_;
    STDOUT->flush;
    STDERR->flush;
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    return $pid if $pid;
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>', $out // '/dev/null');
    open(STDERR, '>>', $err // '/dev/null');
    { no warnings 'exec'; exec { $argv->[0] } @$argv; }
    POSIX::_exit(127);
}

# wait for $pid at most $timeout s: its exit code, or undef if still running
sub wait_exit {
    my ($pid, $timeout) = @_;
    my $deadline = time + $timeout;
    local $?;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        return $? >> 8 if $r == $pid;
        return -1 if $r == -1;
        return undef if time > $deadline;
        sleep 0.05;
    }
}

# TERM, then KILL after $grace s, one process we started
sub stop_pid {
    my ($pid, $grace) = @_;
    return unless $pid;
    kill 'TERM', $pid;
    return if defined wait_exit($pid, $grace // 10);
    kill 'KILL', $pid;
    wait_exit($pid, 5);
}

# Run a program bounded in time: (exit code or undef on timeout, stdout)
sub run_bounded {
    my ($argv, $timeout, $name) = @_;
    my $out = "$dir/$name.out";
    my $pid = spawn($argv, $out, "$dir/$name.err");
    my $rc = wait_exit($pid, $timeout);
    stop_pid($pid, 10) unless defined $rc;
    return ($rc, slurp($out) // '');
}

sub slurp {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or return undef;
    local $/;
    my $data = <$fh>;
    return $data // '';
}

# missing program: fail, or skip when OSINT_ALLOW_SKIP is set
sub need {
    my ($path, $what) = @_;
    return 1 if -x $path;
    if ($ENV{OSINT_ALLOW_SKIP}) {
        return 0;
    }
    fail("$path is missing ($what; `make test-deps` installs it)");
    return 0;
}

###############################################################################
# health, before anything happened

{
    my ($st, $doc, $res) = $t->get_json('/healthz');
    is($st, 200, 'healthz: 200');
    is_deeply($doc, { status => 'ok' }, 'healthz: {"status":"ok"}');
    like($res->{headers}{'content-type'}, qr{^application/json},
         'healthz: application/json');

    ($st, $doc) = $t->get_json('/healthz?ready=1');
    is($st, 200, 'ready: 200');
    is($doc->{status}, 'ok', 'ready: {"status":"ok"}');
    is(join(',', map { "$_=$doc->{checks}{$_}{status}" }
                 sort keys %{$doc->{checks}}),
       'providers=ok,zone=ok', 'ready: the zone and providers checks, ok');
}

###############################################################################
# a known set of lookups, spread over both workers

$fx->control(prefix => '/b/', params => { status => 503 });

# A: ok lookups, four at a time, until both workers have served some
my (@a, %a_workers);
for my $round (1 .. 10) {
    my @r = plookups('A', 4);
    push @a, @r;
    $a_workers{$_} = 1 for workers_of(@r);
    last if keys %a_workers >= 2;
}
my $N_A = @a;
is(scalar(grep { $_->{status} == 200 } @a), $N_A, "A: $N_A lookups, 200");
is(scalar(grep { $_->{doc} && $_->{doc}{providers}{A}{status} eq 'ok' } @a),
   $N_A, 'A: all ok');
is(scalar keys %a_workers, 2, 'A: lookups served by both workers');

# S: one ok lookup, its key in the URL
my @s = plookups('S', 1);
is($s[0]{status}, 200, 'S: one lookup, 200');

# B: two concurrent 503s open its breaker (failures=2) ...
my @b = plookups('B', 2);
is(scalar(grep { $_->{status} == 502 } @b), 2, 'B: 2 lookups, 502');
is(scalar(grep { $_->{doc} && $_->{doc}{providers}{B}{error}
                 && $_->{doc}{providers}{B}{error}{kind} eq 'http_status' } @b),
   2, 'B: http_status errors');

# ... then three more fail fast, never reaching the fixture
my @bs = plookups('B', 3);
is(scalar(grep { $_->{status} == 502 } @bs), 3, 'B open: 3 lookups, 502');
is(scalar(grep { $_->{doc} && $_->{doc}{providers}{B}{status} eq 'skipped'
                 && $_->{doc}{providers}{B}{error}{kind} eq 'breaker_open' }
          @bs), 3, 'B open: skipped breaker_open');
is(scalar(grep { index($_->{path}, '/b/') == 0 } @{$fx->log}), 2,
   'B: 2 calls reached the fixture');

# one invalid lookup
is($t->get('/lookup?target=not%20a%20target!')->{status}, 400,
   'invalid lookup: 400');

###############################################################################
# Prometheus text: exact numbers

my ($pres, $P) = status_text();
my $prom_text = $pres->{content} // '';

is($pres->{status}, 200, 'status: 200');
like($pres->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
     'status: text/plain; version=0.0.4');
ok(!$P->{bad}, 'status: every line is a sample, HELP or TYPE')
    or diag explain $P->{bad};

my %want = (
    'osint_lookups_total{result="ok",type="ipv4"}'      => $N_A + 1,
    'osint_lookups_total{result="partial",type="ipv4"}' => 0,
    'osint_lookups_total{result="failed",type="ipv4"}'  => 5,
    'osint_lookups_total{result="invalid",type="ipv4"}' => 0,
    'osint_lookups_total{result="invalid",type="unknown"}' => 1,
    'osint_lookups_total{result="ok",type="domain"}'    => 0,
    'osint_provider_calls_total{outcome="ok",provider="A"}'       => $N_A,
    'osint_provider_calls_total{outcome="http_5xx",provider="A"}' => 0,
    'osint_provider_calls_total{outcome="ok",provider="S"}'       => 1,
    'osint_provider_calls_total{outcome="ok",provider="B"}'       => 0,
    'osint_provider_calls_total{outcome="http_5xx",provider="B"}' => 2,
    'osint_provider_calls_total{outcome="http_4xx",provider="B"}' => 0,
    'osint_provider_calls_total{outcome="timeout",provider="B"}'  => 0,
    'osint_provider_skipped_total{provider="B",reason="breaker_open"}' => 3,
    'osint_provider_skipped_total{provider="B",reason="rate_limited"}' => 0,
    'osint_provider_skipped_total{provider="A",reason="breaker_open"}' => 0,
    'osint_provider_skipped_total{provider="A",reason="rate_limited"}' => 0,
    'osint_provider_retries_total{provider="A"}' => 0,
    'osint_provider_retries_total{provider="B"}' => 0,
    'osint_provider_latency_seconds_count{provider="A"}' => $N_A,
    'osint_provider_latency_seconds_count{provider="B"}' => 2,
    'osint_provider_latency_seconds_count{provider="S"}' => 1,
    'osint_breaker_state{provider="A"}' => 0,
    'osint_breaker_state{provider="B"}' => 1,
    'osint_breaker_state{provider="S"}' => 0,
    'osint_breaker_transitions_total{provider="B",state="open"}' => 1,
    'osint_provider_disabled{provider="A"}' => 0,
    'osint_provider_disabled{provider="D"}' => 1,
    'osint_provider_quota_remaining{provider="A",window="d"}' => 1000 - $N_A,
);

for my $k (sort keys %want) {
    is($P->{samples}{$k}, $want{$k}, "prometheus: $k $want{$k}");
}

# the exact text of the lines the brief names
like($prom_text, qr/^osint_breaker_state\{provider="B"\} 1$/m,
     'prometheus: osint_breaker_state{provider="B"} 1, verbatim');
like($prom_text,
     qr/^osint_provider_calls_total\{provider="A",outcome="ok"\} $N_A$/m,
     "prometheus: calls_total A ok $N_A, verbatim");

# every lookup counter is zero but the ones above
my @nonzero = grep { /^osint_lookups_total/ && $P->{samples}{$_} != 0
                     && !exists $want{$_} } keys %{$P->{samples}};
is_deeply(\@nonzero, [], 'prometheus: no other lookup counted');

ok(val($P, 'osint_bucket_tokens', provider => 'A') > 0
   && val($P, 'osint_bucket_tokens', provider => 'A') <= 50,
   'prometheus: bucket tokens of A within (0, 50]');

# the metrics of docs/metrics.md, with HELP and TYPE
my %iface = (
    osint_lookups_total            => 'counter',
    osint_provider_calls_total     => 'counter',
    osint_provider_skipped_total   => 'counter',
    osint_provider_retries_total   => 'counter',
    osint_provider_latency_seconds => 'histogram',
    osint_breaker_state            => 'gauge',
    osint_bucket_tokens            => 'gauge',
    osint_cache_requests_total     => 'counter',
    osint_redis_up                 => 'gauge',
    osint_limit_requests_total     => 'counter',
);

for my $m (sort keys %iface) {
    ok($P->{help}{$m}, "prometheus: # HELP $m");
    is($P->{type}{$m}, $iface{$m}, "prometheus: # TYPE $m $iface{$m}");
}

# every sample belongs to a declared family
my @orphans = grep {
    my ($n) = /^(\w+)/;
    (my $base = $n) =~ s/_(?:bucket|sum|count)$//;
    !$P->{type}{$n} && ($P->{type}{$base} // '') ne 'histogram'
} @{$P->{order}};
is_deeply(\@orphans, [], 'prometheus: every sample has a TYPE');

# histograms: cumulative, +Inf == _count == the provider's calls
for my $prov (qw(A B S)) {
    my @b = map { [$_, $P->{samples}{$_}] }
            grep { /^osint_provider_latency_seconds_bucket\{/
                   && /provider="\Q$prov\E"/ }
            @{$P->{order}};
    my @le = map { $_->[0] =~ /le="([^"]+)"/; $1 } @b;
    my $num = sub { $_[0] eq '+Inf' ? 9e99 : $_[0] };
    my @sorted = sort { $num->($a) <=> $num->($b) } @le;
    ok(@b >= 2, "histogram $prov: buckets");
    is_deeply(\@le, \@sorted, "histogram $prov: buckets in le order");
    is($le[-1], '+Inf', "histogram $prov: last bucket +Inf");
    my $mono = 1;
    for my $i (1 .. $#b) { $mono = 0 if $b[$i][1] < $b[$i - 1][1] }
    ok($mono, "histogram $prov: cumulative");
    my $count = val($P, 'osint_provider_latency_seconds_count',
                    provider => $prov);
    is($b[-1][1], $count, "histogram $prov: +Inf == _count");
    my $calls = 0;
    $calls += $P->{samples}{$_}
        for grep { /^osint_provider_calls_total\{.*provider="\Q$prov\E"/ }
            keys %{$P->{samples}};
    is($count, $calls, "histogram $prov: _count == sum of calls ($calls)");
    ok(val($P, 'osint_provider_latency_seconds_sum', provider => $prov) > 0,
       "histogram $prov: _sum > 0");
}

# both workers answer /status with the same counters
{
    my (@r, %w);
    for my $round (1 .. 5) {
        my $r = $t->parallel_get([('/status') x 6], 6, timeout => 20);
        push @r, @$r;
        $w{$_->{headers}{'x-worker'} // ''} = 1 for @$r;
        last if keys %w >= 2;
    }
    my $flat = sub {
        my $c = shift;
        join ',', map { "$_=$c->{$_}" } sort keys %$c;
    };
    my @differ = grep {
        $flat->(counters(parse_prom($_->{body} // ''))) ne $flat->(counters($P))
    } @r;
    is(scalar(grep { $_->{status} == 200 } @r), scalar @r,
       'status x ' . @r . ': 200');
    is(scalar keys %w, 2, 'status: answered by both workers');
    is(scalar @differ, 0, 'status: both workers report the same counters')
        or diag explain [ map {
            my $c = counters(parse_prom($_->{body} // ''));
            my $o = counters($P);
            [ $_->{headers}{'x-worker'},
              map { "$_: $o->{$_} -> " . ($c->{$_} // 'none') }
              grep { ($c->{$_} // '') ne ($o->{$_} // '') }
              sort keys %{{ %$c, %$o }} ]
        } @differ ];
}

###############################################################################
# promtool check metrics

SKIP: {
    skip "$PROMTOOL missing (OSINT_ALLOW_SKIP)", 1
        unless need($PROMTOOL, 'Debian package prometheus');

    my $file = "$dir/metrics.txt";
    open(my $fh, '>:raw', $file) or die "$file: $!";
    print $fh $prom_text;
    close $fh;

    my ($rc, $out) = run_bounded(['/bin/sh', '-c',
                                  'exec "$0" check metrics < "$1" 2>&1',
                                  $PROMTOOL, $file], 30, 'promtool');
    is($rc, 0, 'promtool check metrics: passes')
        or diag "promtool said:\n$out";
}

###############################################################################
# JSON: the same numbers

my $J = status_json();
ok($J, 'status json: parses');

{
    my %state = (closed => 0, open => 1, half_open => 2);
    my (@bad, $checked);

    for my $type (sort keys %{$J->{lookups} || {}}) {
        for my $res (sort keys %{$J->{lookups}{$type}}) {
            my $p = val($P, 'osint_lookups_total', type => $type,
                        result => $res);
            $checked++;
            push @bad, "lookups $type $res: json $J->{lookups}{$type}{$res}"
                       . " prom " . ($p // 'none')
                unless defined $p && $p == $J->{lookups}{$type}{$res};
        }
    }

    for my $prov (qw(A B S)) {
        my $j = $J->{providers}{$prov} || {};
        for my $o (sort keys %{$j->{calls} || {}}) {
            my $p = val($P, 'osint_provider_calls_total', provider => $prov,
                        outcome => $o);
            $checked++;
            push @bad, "calls $prov $o: json $j->{calls}{$o} prom "
                       . ($p // 'none')
                unless defined $p && $p == $j->{calls}{$o};
        }
        for my $r (sort keys %{$j->{skipped} || {}}) {
            my $p = val($P, 'osint_provider_skipped_total', provider => $prov,
                        reason => $r);
            $checked++;
            push @bad, "skipped $prov $r" unless defined $p
                                                 && $p == $j->{skipped}{$r};
        }
        $checked++;
        push @bad, "retries $prov"
            unless ($j->{retries} // -1)
                   == (val($P, 'osint_provider_retries_total',
                           provider => $prov) // -2);
        $checked++;
        push @bad, "latency count $prov"
            unless ($j->{latency}{count} // -1)
                   == (val($P, 'osint_provider_latency_seconds_count',
                           provider => $prov) // -2);
        $checked++;
        push @bad, "latency sum $prov"
            unless abs(($j->{latency}{sum_s} // -1)
                       - (val($P, 'osint_provider_latency_seconds_sum',
                              provider => $prov) // -2)) < 1e-5;
        $checked++;
        push @bad, "breaker $prov: json " . ($j->{breaker}{state} // 'none')
            unless defined $j->{breaker}{state}
                   && ($state{$j->{breaker}{state}} // -1)
                      == (val($P, 'osint_breaker_state', provider => $prov)
                          // -2);
    }

    # the cache tiers, once the module has them
    my $cache = ref $J->{cache} eq 'HASH' ? $J->{cache} : {};
    for my $tier (sort grep { ref $cache->{$_} eq 'HASH' } keys %$cache) {
        for my $r (sort keys %{$cache->{$tier}}) {
            # the text has it per provider (t/73-cache-metrics.t)
            my $p = sum_of($P, 'osint_cache_requests_total', tier => $tier,
                           result => $r);
            $checked++;
            push @bad, "cache $tier $r: json $cache->{$tier}{$r} prom "
                       . ($p // 'none')
                unless defined $p && $p == $cache->{$tier}{$r};
        }
    }

    ok($checked >= 60, "json vs prometheus: $checked numbers compared");
    is_deeply(\@bad, [], 'json vs prometheus: all equal');
}

is($J->{lookups}{ipv4}{ok}, $N_A + 1, 'json: lookups ipv4 ok');
is($J->{lookups}{ipv4}{failed}, 5, 'json: lookups ipv4 failed');
is($J->{lookups}{unknown}{invalid}, 1, 'json: lookups unknown invalid');
is($J->{providers}{A}{calls}{ok}, $N_A, "json: A calls ok $N_A");
is($J->{providers}{B}{calls}{http_5xx}, 2, 'json: B calls http_5xx 2');
is($J->{providers}{B}{skipped}{breaker_open}, 3, 'json: B skipped 3');
is($J->{providers}{B}{breaker}{state}, 'open', 'json: B breaker open');
is($J->{providers}{B}{breaker}{threshold}, 2, 'json: B threshold 2');
is($J->{providers}{B}{breaker}{opens}, 1, 'json: B opened once');
is($J->{providers}{B}{last_error}{kind}, 'http_status',
   'json: B last error http_status');
is($J->{providers}{A}{breaker}{state}, 'closed', 'json: A breaker closed');
is($J->{providers}{A}{last_error}, undef, 'json: A no last error');
is($J->{providers}{A}{bucket}{capacity}, 50, 'json: A bucket capacity');
is($J->{providers}{A}{quota}{remaining}, 1000 - $N_A, 'json: A quota left');
is($J->{providers}{A}{quota}{limit}, 1000, 'json: A quota limit');
is($J->{providers}{B}{bucket}, undef, 'json: B no bucket');
is($J->{providers}{D}{disabled}, JSON::PP::true, 'json: D disabled');
like($J->{providers}{D}{disabled_reason}, qr/OSINT_T_UNSET_STATUS_KEY/,
     'json: D disabled reason names the variable');
is($J->{providers}{S}{disabled}, JSON::PP::false, 'json: S enabled');
is($J->{zone}{size}, val($P, 'osint_zone_size_bytes'), 'json: zone size');
ok(!defined $J->{redis}, 'json: redis null (not configured)');

###############################################################################
# a real Prometheus server scrapes /status and answers PromQL

SKIP: {
    skip "$PROMETHEUS missing (OSINT_ALLOW_SKIP)", 2
        unless need($PROMETHEUS, 'Debian package prometheus');

    my $prom = OsintTest::Prometheus->start($t, '/status');
    my $query = sub {
        my $res = $prom->query($_[0]) || [];
        return @$res ? $res->[0]{value}[1] : undef;
    };

    my $q = 'osint_provider_calls_total{provider="A",outcome="ok"}';
    my ($got, $bstate);
    my $ok = $t->wait_until(sub {
        $got = $query->($q);
        defined $got && $got == $N_A
    }, 20, 0.25);
    ok($ok, "prometheus server: $q == $N_A within 20 s")
        or diag "got " . ($got // 'nothing') . "\n"
                . (slurp("$dir/prometheus.log") // '');

    $bstate = $query->('osint_breaker_state{provider="B"}');
    is($bstate, 1, 'prometheus server: osint_breaker_state{provider="B"} 1');

    $prom->stop;
}

###############################################################################
# reload: the counters stay

{
    my @old = $t->worker_pids;
    my @new = $t->reload(wait_old => 1);
    is(scalar @new, 2, 'reload: two new workers');

    my ($res, $P2) = status_text();
    is_deeply(counters($P2), counters($P),
              'reload: every counter and histogram sample unchanged');
    is(val($P2, 'osint_breaker_state', provider => 'B'), 1,
       'reload: B breaker still open');
    is(val($P2, 'osint_provider_calls_total', provider => 'A',
           outcome => 'ok'), $N_A, "reload: A calls ok still $N_A");
}

###############################################################################
# the HTML page

{
    my $res = $t->get('/status?format=html');
    is($res->{status}, 200, 'html: 200');
    like($res->{headers}{'content-type'}, qr{^text/html}, 'html: text/html');
    my $html = $res->{content} // '';
    like($html, qr/^<!DOCTYPE html>/i, 'html: a document');
    unlike($html, qr{\b(?:src|href)\s*=|\@import|url\s*\(|https?://}i,
           'html: no external asset');
    like($html, qr/format=json/, 'html: refreshes from ?format=json');
    cmp_ok(length $html, '<', 16 * 1024, 'html: under 16 KB');

    my $res2 = $t->get('/status', { Accept => 'text/html,*/*;q=0.8' });
    is($res2->{content}, $html, 'html: also for Accept: text/html');
}

my ($dom1, $dom2);

SKIP: {
    skip "$CHROMIUM missing (OSINT_ALLOW_SKIP)", 25
        unless need($CHROMIUM, 'Debian package chromium');

    my $url = $t->url('/status?format=html');

    # the DOM after the page fetched its JSON (twice: rates need a delta)
    my $dump = sub {
        my ($name) = @_;
        my ($rc, $dom);
        for my $try (1 .. 2) {
            ($rc, $dom) = run_bounded(
                [$BROWSER, '-t', 60, '-l', "$dir/chromium.log",
                 '--virtual-time-budget=5000', '--window-size=1200,800',
                 '--dump-dom', $url], 90, "$name-$try");
            last if defined $rc && $rc == 0 && $dom =~ /data-provider=/;
            diag "chromium try $try: exit " . ($rc // 'timeout');
        }
        return ($rc, $dom);
    };

    my $Jnow = status_json();
    my ($rc, $dom) = $dump->('dom1');
    $dom1 = $dom;
    is($rc, 0, 'chromium: dump-dom exits 0');

    my %rows = rows($dom);
    is_deeply([sort keys %rows], [sort @PROVIDERS],
              'page: one row per provider');
    (my $body = $dom) =~ s{<script\b.*?</script>}{}gs;
    is(scalar(() = $body =~ /<tr\b[^>]*\bdata-provider=/g), 4,
       'page: exactly 4 provider rows');
    is($rows{B}{'data-breaker'}, 'open', 'page: B badge open');
    is($rows{A}{'data-breaker'}, 'closed', 'page: A badge closed');
    is($rows{S}{'data-breaker'}, 'closed', 'page: S badge closed');
    is($rows{D}{'data-disabled'}, '1', 'page: D disabled');
    like($rows{B}{html} // '', qr/class="bd open"[^>]*>open</,
         'page: B badge is the red "open" one');
    like($rows{B}{html} // '', qr/http_status<\/span> \d+s ago/,
         'page: B last error kind and age');
    like($rows{D}{html} // '', qr/OSINT_T_UNSET_STATUS_KEY is not set/,
         'page: D disabled reason');
    like($rows{A}{html} // '', qr{\d+(?:\.\d)? / 50<}, 'page: A tokens of 50');
    like($rows{A}{html} // '', qr{>\Q@{[1000 - $N_A]}\E / 1000\b},
         'page: A quota left');
    like($dom, qr/id="redis" data-state="not_configured"/,
         'page: redis not configured');
    my $l1 = ref $Jnow->{cache} eq 'HASH' && ref $Jnow->{cache}{l1} eq 'HASH'
             ? $Jnow->{cache}{l1} : undef;
    if ($l1) {
        my $all = 0;
        $all += $_ for values %$l1;
        if ($all) {
            my $want = 100 * ($l1->{hit} // 0) / $all;
            my ($shown) = $dom =~ /data-cache="l1">([\d.]+)%</;
            ok(defined $shown && abs($shown - $want) <= 0.051,
               "page: cache l1 hit ratio $want%")
                or diag 'shown: ' . ($shown // 'nothing');
        } else {
            like($dom, qr/data-cache="l1">\x{e2}\x{80}\x{94}</,
                 'page: cache l1 hit ratio - (no request yet)');
        }
    } else {
        like($dom, qr/cache hit ratio<\/b><span>\x{e2}\x{80}\x{94}/,
             'page: cache hit ratio n/a (no cache in the JSON)');
    }
    like($dom, qr/updated /, 'page: filled from the JSON');
    like($rows{A}{html} // '',
         qr{^<tr\b[^>]*>(?:<td\b[^>]*>.*?</td>){3}<td title="[^"]*">0</td>}s,
         'page: refreshed itself (A calls/s from two fetches: 0)');
    like($dom, qr/id="err"[^>]*display: none/, 'page: no error banner');

    # screenshot
    my $png = "$dir/status.png";
    ($rc) = run_bounded([$BROWSER, '-t', 60, '-l', "$dir/chromium.log",
                         '--virtual-time-budget=5000',
                         '--window-size=1200,800', "--screenshot=$png",
                         $url], 90, 'screenshot');
    is($rc, 0, 'chromium: screenshot exits 0');
    my $head = slurp($png) // '';
    ok(length($head) > 1000 && substr($head, 0, 8) eq "\x89PNG\r\n\x1a\n",
       'screenshot: a non-empty PNG (' . length($head) . ' bytes)');
    copy($png, $ENV{OSINT_STATUS_PNG}) if $ENV{OSINT_STATUS_PNG} && -s $png;

    # the JSON failing: a visible banner
    ($rc, $dom) = run_bounded(
        [$BROWSER, '-t', 60, '-l', "$dir/chromium.log",
         '--virtual-time-budget=5000', '--dump-dom',
         $t->url('/broken?format=html')], 90, 'broken');
    like($dom, qr/<div\ id="err"\ role="alert"\ style="display:\ block;">
                  Refresh\ failed:\ HTTP\ 503</x,
         'page: error banner when the JSON fetch fails');
    like($dom, qr/<tbody id="rows"><tr><td colspan="14" class="m">loading/,
         'page: still loading, no made-up rows');

    # make A fail until its breaker opens; the page follows
    $fx->control(prefix => '/a/', params => { status => 503 });
    my $opened = $t->wait_until(sub {
        plookups('A', 1);
        (status_json()->{providers}{A}{breaker}{state} // '') eq 'open';
    }, 15, 0.01);
    ok($opened, 'A: breaker open after failing');

    ($rc, $dom) = $dump->('dom2');
    $dom2 = $dom;
    %rows = rows($dom);
    is($rows{A}{'data-breaker'}, 'open', 'page reloaded: A badge open');
    is($rows{B}{'data-breaker'}, 'open', 'page reloaded: B badge open');
    like($rows{A}{html} // '', qr/http_status<\/span> \d+s ago/,
         'page reloaded: A last error');
}

# the rows of a dumped DOM: NAME => { data-... => value, html => row }
sub rows {
    my ($dom) = @_;
    my %rows;
    $dom =~ s{<script\b.*?</script>}{}gs;
    while ($dom =~ /(<tr\b([^>]*\bdata-provider="[^"]*"[^>]*)>.*?<\/tr>)/gs) {
        my ($html, $attrs) = ($1, $2);
        my %a = $attrs =~ /([\w-]+)="([^"]*)"/g;
        $rows{$a{'data-provider'}} = { %a, html => $html };
    }
    return %rows;
}

###############################################################################
# readiness: only when every enabled provider's breaker is open

{
    # make sure A is open even without Chromium
    $fx->control(prefix => '/a/', params => { status => 503 });
    $t->wait_until(sub {
        return 1 if (status_json()->{providers}{A}{breaker}{state} // '')
                    eq 'open';
        plookups('A', 1);
        0;
    }, 15, 0.01);

    my ($st, $doc) = $t->get_json('/healthz?ready=1');
    is($st, 200, 'ready: 200 while S (enabled) is closed');
    is("$doc->{status} $doc->{checks}{providers}{status}", 'degraded degraded',
       'ready: degraded, some breakers are open');

    $fx->control(prefix => '/s/', params => { status => 503 });
    my @sl;
    my $opened = $t->wait_until(sub {
        push @sl, plookups('S', 1);
        (status_json()->{providers}{S}{breaker}{state} // '') eq 'open';
    }, 15, 0.01);
    ok($opened, 'S: breaker open after failing');
    my @leak = grep { index($_->{body} // '', $SECRET) >= 0 } @sl, @s;
    is(scalar @leak, 0, 'S lookups: the key is not in their answers');

    ($st, $doc) = $t->get_json('/healthz?ready=1');
    is($st, 503, 'ready: 503 when A, B and S are open (D is disabled)');
    is("$doc->{status}: $doc->{reason}",
       'fail: the circuit breaker of every provider is open',
       'ready: fail and the reason');

    ($st, $doc) = $t->get_json('/healthz');
    is($st, 200, 'healthz (liveness) still 200');
}

###############################################################################
# no secret anywhere

{
    my $log = $fx->log;
    ok(scalar(grep { index($_->{path}, "/s/$SECRET/") == 0
                     && ($_->{headers}{'x-key'} // '') eq $SECRET } @$log),
       'S: the key reached the provider (URL and header)');

    my %docs = (
        'prometheus text'     => $prom_text,
        'prometheus now'      => $t->get('/status')->{content},
        'json'                => $t->get('/status?format=json')->{content},
        'html'                => $t->get('/status?format=html')->{content},
        'rendered page'       => $dom1,
        'rendered page again' => $dom2,
        'healthz'             => $t->get('/healthz?ready=1')->{content},
    );
    for my $k (sort keys %docs) {
        next unless defined $docs{$k};
        ok(index($docs{$k}, $SECRET) < 0, "no key in the $k");
    }
    ok(index($t->error_log, $SECRET) < 0, 'no key in error.log');
}

$t->done_testing;


