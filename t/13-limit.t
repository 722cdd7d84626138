#!/usr/bin/perl

# Edge rate limiting: osint_limit_zone / osint_limit in front of `return`,
# proxy_pass and static locations, shared by two workers: exact burst and
# steady-rate counts, per-key isolation and empty keys, the rejection
# (status, JSON body, Retry-After, HEAD, a POST body, 444) and the
# RateLimit-Policy / RateLimit fields exact, dry_run, nodelay vs delay= (and
# a client leaving while it waits), several limits in one location,
# inheritance, internal redirects, a key made by `set`, $osint_limit_status,
# /status counters (promtool, JSON), buckets kept across reload,
# configuration errors at nginx -t, and 100 000 distinct keys through a
# small zone.
#
# Needs promtool (Debian package prometheus, `make test-deps`); without it
# the file fails, unless OSINT_ALLOW_SKIP is set.

use strict;
use warnings;

use Test::More;
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;

mkdir $t->testdir . '/html';
OsintTest::_write_file($t->testdir . '/html/page.txt', "static\n");

my $CONF = <<'EOF';
    osint_limit_zone burst:1m   key=$http_x_key rate=10r/m burst=5;
    osint_limit_zone steady:1m  key=$http_x_key rate=10r/s burst=5;
    osint_limit_zone hdr:1m     key=$http_x_key rate=1r/m burst=3;
    osint_limit_zone persec:1m  key=$http_x_key rate=2r/s;
    osint_limit_zone iso:1m     key=$http_x_key rate=1r/m burst=2;
    osint_limit_zone dry:1m     key=$http_x_key rate=1r/m burst=2;
    osint_limit_zone wait:1m    key=$http_x_key rate=5r/s burst=1;
    osint_limit_zone slow:1m    key=$http_x_key rate=1r/m burst=1;
    osint_limit_zone fast:1m    key=$http_x_key rate=5r/s burst=1;
    osint_limit_zone multi_a:1m key=$http_x_key rate=1r/m burst=3;
    osint_limit_zone multi_b:1m key=$http_x_key rate=1r/m burst=1;
    osint_limit_zone proxy:1m   key=$http_x_key rate=1r/m burst=3;
    osint_limit_zone custom:1m  key=$http_x_key rate=1r/m burst=1;
    osint_limit_zone closing:1m key=$http_x_key rate=1r/m burst=1;
    osint_limit_zone inh:1m     key=$http_x_key rate=1r/m burst=2;
    osint_limit_zone red:1m     key=$http_x_key rate=1r/m burst=2;
    osint_limit_zone setk:1m    key=$k rate=1r/m burst=1;
    osint_limit_zone mixa:1m    key=$http_x_key rate=1r/m burst=1;
    osint_limit_zone mixb:1m    key=$http_x_other rate=1r/m burst=1;
    osint_limit_zone kept:1m    key=$http_x_key rate=1r/m burst=2;
    osint_limit_zone many:128k  key=$http_x_key rate=1r/m burst=1;

    log_format limit '$request_uri $http_x_key $status $osint_limit_status';

    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        access_log %%TESTDIR%%/limit.log limit;
        keepalive_requests 1000000;
        add_header X-Worker $pid always;

        osint_limit zone=inh;

        location /inh/     { return 200 "ok\n"; }
        location = /own    { osint_limit zone=iso; return 200 "ok\n"; }

        location = /burst  { osint_limit zone=burst; return 200 "ok\n"; }
        location = /steady { osint_limit zone=steady; return 200 "ok\n"; }
        location = /hdr    { osint_limit zone=hdr; return 200 "ok\n"; }
        location = /persec { osint_limit zone=persec; return 200 "ok\n"; }
        location = /iso    { osint_limit zone=iso; return 200 "ok\n"; }
        location = /dry    { osint_limit zone=dry dry_run; return 200 "ok\n"; }
        location = /delay  { osint_limit zone=wait delay=2s;
                             return 200 "ok\n"; }
        location = /toolong { osint_limit zone=slow delay=500ms;
                              return 200 "ok\n"; }
        location = /nodelay { osint_limit zone=fast nodelay;
                              return 200 "ok\n"; }
        location = /default { osint_limit zone=fast; return 200 "ok\n"; }
        location = /multi  { osint_limit zone=multi_a;
                             osint_limit zone=multi_b;
                             return 200 "ok\n"; }
        location = /multi_a { osint_limit zone=multi_a; return 200 "ok\n"; }
        location = /proxy  { osint_limit zone=proxy;
                             proxy_pass http://127.0.0.1:%%FX0%%/echo; }
        location = /custom { osint_limit zone=custom;
                             osint_limit_status 503;
                             osint_limit_headers off;
                             return 200 "ok\n"; }
        location = /close  { osint_limit zone=closing;
                             osint_limit_status 444;
                             return 200 "ok\n"; }
        location = /redir  { osint_limit zone=red;
                             try_files /nonexistent @named; }
        location @named    { osint_limit zone=red; return 200 "named\n"; }
        location = /page.txt { set $k "s-$http_x_key";
                               osint_limit zone=setk;
                               root %%TESTDIR%%/html; }
        location = /mixed  { osint_limit zone=mixa; osint_limit zone=mixb;
                             return 200 "ok\n"; }
        location = /kept   { osint_limit zone=kept; return 200 "ok\n"; }
        location = /many   { osint_limit zone=many; return 200 "ok\n"; }

        location = /status { osint_status; }
    }
EOF

$t->write_conf($CONF);
$t->run;

is(scalar($t->worker_pids), 2, 'two workers');

my $JSONCT = 'application/json';

sub key_get {
    my ($path, $key, %opt) = @_;
    return $t->request($opt{method} // 'GET', $path,
                       headers => { defined $key ? ('X-Key' => $key) : () });
}

sub statuses { join ' ', map { $_->{status} } @_ }

# $n concurrent requests with one key: list of results of parallel_get
sub burst_of {
    my ($path, $key, $n) = @_;
    my $res = $t->parallel_get([ map { { path => $path,
                                          headers => { 'X-Key' => $key } } }
                                 1 .. $n ], $n, timeout => 20);
    return @$res;
}

# the counters of a zone, from /status (Prometheus)
sub counters {
    my ($zone) = @_;
    my $text = $t->get('/status')->{content} // '';
    my %c;
    while ($text =~ /^osint_limit_requests_total\{zone="\Q$zone\E",
                     result="(\w+)"\}\s+(\d+)$/mxg)
    {
        $c{$1} = $2;
    }
    for my $m (qw(keys evictions_total)) {
        $c{$m} = $1 if $text =~ /^osint_limit_$m\{zone="\Q$zone\E"\}\s+(\d+)$/m;
    }
    return \%c;
}

sub limit_log {
    my ($path) = @_;
    my $text = OsintTest::_read_file($t->testdir . '/limit.log') // '';
    return grep { (split / /)[0] eq $path } split /\n/, $text;
}

# one access-log status per request of $path and $key, in order
sub var_of {
    my ($path, $key) = @_;
    sleep 0.05;     # the access log line is written as the request ends
    return map { (split / /)[3] }
           grep { (split / /)[1] eq $key } limit_log($path);
}

###############################################################################
# a burst: 20 concurrent requests, one key, 10r/m burst=5: exactly 5 pass

{
    my @r = burst_of('/burst', 'b1', 20);
    my @ok = grep { $_->{status} == 200 } @r;
    my @no = grep { $_->{status} == 429 } @r;

    is(scalar @ok, 5, 'burst: exactly 5 of 20 concurrent requests pass');
    is(scalar @no, 15, 'burst: the other 15 are rejected with 429')
        or diag statuses(@r);
    my %w = map { $_->{headers}{'x-worker'} => 1 } @r;
    is(scalar keys %w, 2, 'burst: both workers answered');

    my $c = counters('burst');
    is($c->{passed}, 5, 'burst: /status counts 5 passed');
    is($c->{rejected}, 15, 'burst: /status counts 15 rejected');
    is($c->{delayed}, 0, 'burst: none delayed');
    is($c->{dry_run}, 0, 'burst: no dry_run');
    is($c->{keys}, 1, 'burst: one key in the zone');

    # the bucket does not refill faster than 10r/m: still empty 1 s later
    sleep 1;
    is(key_get('/burst', 'b1')->{status}, 429,
       'burst: still rejected 1 s later');
}

###############################################################################
# steady demand well above 10r/s burst=5 for 3 s from 16 keep-alive clients on
# both workers: 5 + 10 per second pass

# $conc clients (forked, one keep-alive connection each) request $path with
# header X-Key: $key for $secs seconds, $pause s between two requests (so
# error.log gets thousands of rejections, not hundreds of thousands).
# Returns a list of [time, status, worker].
sub hammer {
    my ($path, $key, $secs, $conc, $pause) = @_;
    my $dir = $t->testdir . "/hammer-$$";
    mkdir $dir;
    my $t0 = time;
    my %kids;

    for my $c (1 .. $conc) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            local $SIG{PIPE} = 'IGNORE';
            my @out;
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $t->port,
                                          Proto => 'tcp', Timeout => 3);
            my $sel = IO::Select->new($s);
            my $buf = '';
            while ($s && time < $t0 + $secs) {
                syswrite($s, "GET $path HTTP/1.1\r\nHost: x\r\n"
                             . "X-Key: $key\r\n\r\n") or last;
                my $resp;
                while (1) {
                    if ($buf =~ /^(HTTP\/1\.1 (\d{3}).*?\r\n\r\n)/s) {
                        my ($head, $st) = ($1, $2);
                        my ($cl) = $head =~ /\r\nContent-Length: (\d+)/i;
                        my $need = length($head) + ($cl // 0);
                        if (length($buf) >= $need) {
                            my ($w) = $head =~ /\r\nX-Worker: (\d+)/i;
                            $resp = [time, $st, $w // 0];
                            substr($buf, 0, $need, '');
                            last;
                        }
                    }
                    last unless $sel->can_read(5);
                    sysread($s, $buf, 65536, length $buf) or last;
                }
                last unless $resp;
                push @out, $resp;
                sleep $pause if $pause;
            }
            open my $fh, '>', "$dir/$c";
            print $fh join("\n", map { join ' ', @$_ } @out), "\n";
            close $fh;
            POSIX::_exit(0);
        }
        $kids{$pid} = 1;
    }

    my $deadline = time + $secs + 15;
    while (%kids && time < $deadline) {
        for my $pid (keys %kids) {
            delete $kids{$pid} if waitpid($pid, WNOHANG) == $pid;
        }
        sleep 0.02;
    }
    for my $pid (keys %kids) { kill 'KILL', $pid; waitpid($pid, 0); }

    my @all;
    for my $c (1 .. $conc) {
        my $text = OsintTest::_read_file("$dir/$c") // '';
        push @all, map { [split / /] } grep { /\S/ } split /\n/, $text;
    }
    return sort { $a->[0] <=> $b->[0] } @all;
}

{
    my @r = hammer('/steady', 's1', 3, 16, 0.005);
    my @ok = grep { $_->[1] == 200 } @r;
    my $span = $r[-1][0] - $r[0][0];
    my $expect = 5 + 10 * $span;

    cmp_ok(scalar @r, '>', 1000, scalar(@r) . ' requests in '
           . sprintf('%.2f s', $span) . ' (demand well above the rate)');
    is(scalar(grep { $_->[1] != 200 && $_->[1] != 429 } @r), 0,
       'steady: every answer is 200 or 429');
    cmp_ok(abs(@ok - $expect), '<=', 2,
           sprintf('steady: %d passed, 5 + 10 x %.2f s = %.1f expected',
                   scalar @ok, $span, $expect));

    my %w = map { $_->[2] => 1 } @ok;
    if (!is(scalar keys %w, 2, 'steady: both workers passed requests')) {
        my %by;
        $by{$_->[2]}[$_->[1] == 200 ? 0 : 1]++ for @r;
        diag explain \%by;     # worker => [passed, rejected]
    }

    # after the burst is spent: at most 10 + 1 in any second
    my @ts = map { $_->[0] } grep { $_->[0] > $r[0][0] + 0.6 } @ok;
    my $worst = 0;
    for my $i (0 .. $#ts) {
        my $j = $i;
        $j++ while $j + 1 <= $#ts && $ts[$j + 1] - $ts[$i] < 1.0;
        $worst = $j - $i + 1 if $j - $i + 1 > $worst;
    }
    cmp_ok($worst, '<=', 11, "steady: at most $worst passed in any 1 s "
           . 'once the burst is spent');
    cmp_ok($worst, '>=', 9, 'steady: and the rate is used (>= 9 in 1 s)');

    my $c = counters('steady');
    is($c->{passed} + $c->{rejected}, scalar @r,
       'steady: /status counted every request');
    is($c->{passed}, scalar @ok, 'steady: /status passed = 200 answers');
}

###############################################################################
# the answers, exact: RateLimit-Policy, RateLimit, Retry-After, body

{
    my @exp = ('"hdr";r=2;t=60', '"hdr";r=1;t=60', '"hdr";r=0;t=60');
    for my $i (0 .. 2) {
        my $r = key_get('/hdr', 'h1');
        is($r->{status}, 200, "headers: request " . ($i + 1) . " passes");
        is($r->{headers}{'ratelimit-policy'}, '"hdr";q=3;w=60',
           'headers: RateLimit-Policy names the zone, q = burst, w = 60');
        is($r->{headers}{ratelimit}, $exp[$i], "headers: RateLimit $exp[$i]");
        is($r->{content}, "ok\n", 'headers: the location answers');
        ok(!exists $r->{headers}{'retry-after'}, 'headers: no Retry-After');
    }

    my $r = key_get('/hdr', 'h1');
    is($r->{status}, 429, 'reject: 429');
    is($r->{headers}{'content-type'}, $JSONCT, 'reject: application/json');
    is($r->{content}, '{"error":{"kind":"rate_limited","retryable":true,"retry_after":60}}',
       'reject: the body, exact');
    is($r->{headers}{'retry-after'}, '60', 'reject: Retry-After: 60');
    is($r->{headers}{'ratelimit-policy'}, '"hdr";q=3;w=60',
       'reject: RateLimit-Policy');
    is($r->{headers}{ratelimit}, '"hdr";r=0;t=60', 'reject: RateLimit');
    is($r->{headers}{'content-length'}, length $r->{content},
       'reject: Content-Length');

    $r = key_get('/hdr', 'h1', method => 'HEAD');
    is($r->{status}, 429, 'reject: HEAD 429');
    is($r->{content} // '', '', 'reject: HEAD has no body');

    # r/s: w=1; burst defaults to the rate per second
    $r = key_get('/persec', 'p1');
    is($r->{headers}{'ratelimit-policy'}, '"persec";q=2;w=1',
       'headers: 2r/s, default burst 2: q=2;w=1');
    is($r->{headers}{ratelimit}, '"persec";r=1;t=1', 'headers: r=1;t=1');
    key_get('/persec', 'p1');
    $r = key_get('/persec', 'p1');
    is($r->{status}, 429, 'headers: 2r/s, third at once: 429');
    is($r->{headers}{'retry-after'}, '1', 'reject: Retry-After: 1 (r/s)');
    is($r->{content}, '{"error":{"kind":"rate_limited","retryable":true,"retry_after":1}}',
       'reject: retry_after 1 (r/s)');

    # a rejected POST with a body: the body is read away, keep-alive works
    my $got = $t->raw("POST /hdr HTTP/1.1\r\nHost: x\r\nX-Key: h1\r\n"
                      . "Content-Length: 10000\r\n\r\n" . ('x' x 10000)
                      . "GET /hdr HTTP/1.1\r\nHost: x\r\nX-Key: h2\r\n"
                      . "Connection: close\r\n\r\n");
    my @codes = $got =~ m{HTTP/1\.1 (\d{3}) }g;
    is("@codes", '429 200',
       'reject: a POST body is discarded, the connection goes on');
}

###############################################################################
# per-key isolation, an empty key, the variable

{
    is(statuses(map { key_get('/iso', 'A') } 1 .. 3), '200 200 429',
       'isolation: key A, burst 2: 200 200 429');
    is(statuses(map { key_get('/iso', 'B') } 1 .. 3), '200 200 429',
       'isolation: key B has its own bucket');
    is(key_get('/iso', 'A')->{status}, 429, 'isolation: key A still empty');

    my @r = map { key_get('/iso', undef) } 1 .. 10;
    is(statuses(@r), join(' ', ('200') x 10),
       'empty key: never limited');
    ok(!(grep { exists $_->{headers}{ratelimit} } @r),
       'empty key: no RateLimit field');

    is(join(' ', var_of('/iso', 'A')), 'PASSED PASSED REJECTED REJECTED',
       '$osint_limit_status: PASSED, REJECTED');
    is(join(' ', var_of('/iso', '-')), join(' ', ('-') x 10),
       '$osint_limit_status: empty when no limit applied');

    my $c = counters('iso');
    is($c->{passed}, 4, 'isolation: 4 passed counted (empty keys not)');
    is($c->{rejected}, 3, 'isolation: 3 rejected counted');
    is($c->{keys}, 2, 'isolation: two keys in the zone');
}

###############################################################################
# dry_run: everything passes, the would-be rejections are counted and logged

{
    my $mark = $t->log_mark;
    my @r = map { key_get('/dry', 'D') } 1 .. 5;
    is(statuses(@r), '200 200 200 200 200', 'dry_run: all 5 pass');
    ok(!(grep { exists $_->{headers}{ratelimit}
                || exists $_->{headers}{'ratelimit-policy'} } @r),
       'dry_run: no RateLimit fields');

    my $c = counters('dry');
    is($c->{passed}, 2, 'dry_run: 2 within the limit counted passed');
    is($c->{dry_run}, 3, 'dry_run: 3 counted dry_run');
    is($c->{rejected}, 0, 'dry_run: none rejected');

    my @lines = grep { /osint_limit: would reject, zone "dry"/ }
                split /\n/, $t->error_log($mark);
    is(scalar @lines, 3, 'dry_run: 3 "would reject" lines in error.log');
    like($lines[0] // '', qr/\[error\].*key crc32 [0-9a-f]{8} \(dry run\)/,
         'dry_run: logged at osint_limit_log_level, the key as a crc32');
    unlike($t->error_log($mark), qr/X-Key: D|key "D"/,
           'dry_run: the key itself is not logged');
    is(join(' ', var_of('/dry', 'D')),
       'PASSED PASSED DRY_RUN DRY_RUN DRY_RUN', '$osint_limit_status: DRY_RUN');
}

###############################################################################
# delay=2s: 4 concurrent requests at 5r/s burst=1 are served 200 ms apart;
# a wait longer than delay= and nodelay (and the default) reject at once

{
    my @r = burst_of('/delay', 'W', 4);
    is(statuses(@r), '200 200 200 200', 'delay: all 4 pass');
    my @el = sort { $a <=> $b } map { $_->{elapsed_ms} // 1e9 } @r;
    # relative to the first: forked clients start with some jitter
    cmp_ok($el[0], '<', 400, sprintf('delay: the first at once (%.0f ms)',
                                     $el[0]));
    cmp_ok($el[1] - $el[0], '>=', 120,
           sprintf('delay: the second waited for its token (%.0f ms later)',
                   $el[1] - $el[0]));
    cmp_ok($el[3], '>=', 550, sprintf('delay: the last waited >= 550 ms '
                                      . '(%.0f ms)', $el[3]));
    cmp_ok($el[3], '<', 1500, 'delay: and less than 1.5 s');
    is(join(' ', sort(var_of('/delay', 'W'))),
       'DELAYED DELAYED DELAYED PASSED', '$osint_limit_status: DELAYED');
    my $c = counters('wait');
    is($c->{passed}, 1, 'delay: 1 counted passed');
    is($c->{delayed}, 3, 'delay: 3 counted delayed');

    # a client that goes away while it waits: the request ends cleanly (the
    # final error.log check finds no alert, no socket left open); its
    # reserved token stays spent, as in limit_req
    is(key_get('/delay', 'W2')->{status}, 200, 'delay: W2 first passes');
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $t->port, Proto => 'tcp');
    ok($s && syswrite($s, "GET /delay HTTP/1.1\r\nHost: x\r\n"
                          . "X-Key: W2\r\n\r\n"), 'delay: a client waits');
    sleep 0.05;
    close $s;
    my $t0 = time;
    my $got = $t->raw("GET /delay HTTP/1.1\r\nHost: x\r\nX-Key: W2\r\n"
                      . "Connection: close\r\n\r\n");
    my $waited = time - $t0;
    like($got, qr{^HTTP/1\.1 200 }, 'delay: after it left, the next is served');
    cmp_ok($waited, '>=', 0.25, sprintf('delay: behind the token the gone '
                                        . 'client reserved (%.3f s)', $waited));

    # a wait beyond delay=500ms: rejected at once, nothing reserved
    is(key_get('/toolong', 'L')->{status}, 200, 'delay too long: first passes');
    my $r = key_get('/toolong', 'L');
    is($r->{status}, 429, 'delay too long: the next is rejected');
    cmp_ok($r->{elapsed_ms}, '<', 300, 'delay too long: at once');
    like($r->{headers}{'retry-after'} // '', qr/^(59|60)$/,
         'delay too long: Retry-After ~60');

    for my $loc ('/nodelay', '/default') {
        my $k = "N$loc";
        is(key_get($loc, $k)->{status}, 200, "$loc: first passes");
        $r = key_get($loc, $k);
        is($r->{status}, 429, "$loc: the second at once is rejected");
        cmp_ok($r->{elapsed_ms}, '<', 400, "$loc: without waiting (no 1 s "
               . "token wait)");
        is($r->{headers}{'retry-after'}, '1', "$loc: Retry-After: 1");
    }
}

###############################################################################
# several limits: all must pass; the one that rejects gives back the others'

{
    my $r = key_get('/multi', 'M');
    is($r->{status}, 200, 'multi: first passes both');
    is($r->{headers}{'ratelimit-policy'},
       '"multi_a";q=3;w=60, "multi_b";q=1;w=60',
       'multi: RateLimit-Policy lists both zones');
    is($r->{headers}{ratelimit}, '"multi_a";r=2;t=60, "multi_b";r=0;t=60',
       'multi: RateLimit lists both');

    $r = key_get('/multi', 'M');
    is($r->{status}, 429, 'multi: multi_b empty: rejected');
    is($r->{headers}{ratelimit}, '"multi_a";r=2;t=60, "multi_b";r=0;t=60',
       'multi: multi_a got its token back');

    $r = key_get('/multi_a', 'M');
    is($r->{headers}{ratelimit}, '"multi_a";r=1;t=60',
       'multi: multi_a alone: 2 taken in all');

    my $a = counters('multi_a');
    my $b = counters('multi_b');
    is("$a->{passed} $a->{rejected}", '2 0',
       'multi: multi_a counts 2 passed (the refunded one not)');
    is("$b->{passed} $b->{rejected}", '1 1', 'multi: multi_b 1 passed, 1 '
       . 'rejected');
}

###############################################################################
# proxy_pass: rejected requests never reach upstream

{
    $fx->reset;
    my @r = map { key_get('/proxy', 'P') } 1 .. 5;
    is(statuses(@r), '200 200 200 429 429', 'proxy: 3 pass, 2 rejected');
    is($fx->calls_for('/echo'), 3, 'proxy: upstream saw 3 requests');
    like($r[0]{content} // '', qr/"path"\s*:\s*"\/echo"/,
         'proxy: the upstream answered');
    is($r[1]{headers}{ratelimit}, '"proxy";r=1;t=60',
       'proxy: RateLimit on the proxied answer');
    is($r[1]{headers}{'ratelimit-policy'}, '"proxy";q=3;w=60',
       'proxy: RateLimit-Policy on the proxied answer');
    is($r[4]{content}, '{"error":{"kind":"rate_limited","retryable":true,"retry_after":60}}',
       'proxy: the rejection body');
}

###############################################################################
# osint_limit_status, osint_limit_headers off; inheritance; redirects; `set`

{
    my $r = key_get('/custom', 'C');
    ok(!exists $r->{headers}{ratelimit}
       && !exists $r->{headers}{'ratelimit-policy'},
       'headers off: no RateLimit fields');
    $r = key_get('/custom', 'C');
    is($r->{status}, 503, 'osint_limit_status 503');
    is($r->{headers}{'retry-after'}, '60', 'headers off: Retry-After stays');
    is($r->{content}, '{"error":{"kind":"rate_limited","retryable":true,"retry_after":60}}',
       'osint_limit_status 503: the same body');

    my $req = "GET /close HTTP/1.1\r\nHost: x\r\nX-Key: Z\r\n"
              . "Connection: close\r\n\r\n";
    like($t->raw($req, timeout => 3), qr{^HTTP/1\.1 200 },
         'osint_limit_status 444: first passes');
    is($t->raw($req, timeout => 3), '',
       'osint_limit_status 444: then the connection closes, no answer');

    # the server's osint_limit, inherited by /inh/*: one bucket for both
    is(statuses(key_get('/inh/a', 'I'), key_get('/inh/b', 'I'),
                key_get('/inh/c', 'I')), '200 200 429',
       'inherited: one bucket across locations');
    is(key_get('/inh/a', 'I')->{headers}{'ratelimit-policy'},
       '"inh";q=2;w=60', 'inherited: the server level policy');
    is(key_get('/own', 'I')->{status}, 200,
       'a location with its own osint_limit does not inherit');

    # try_files to a named location that has the same limit: counted once
    is(statuses(key_get('/redir', 'R'), key_get('/redir', 'R')), '200 200',
       'internal redirect: a request takes one token, not two');
    is(key_get('/redir', 'R')->{status}, 429,
       'internal redirect: the third is rejected');
    is(key_get('/redir', 'R')->{content},
       '{"error":{"kind":"rate_limited","retryable":true,"retry_after":60}}',
       'internal redirect: the rejection body');

    # a key made by `set` in the location: decided in the preaccess phase,
    # after the `set` (never read before it: nginx would warn)
    my $mark = $t->log_mark;
    $r = key_get('/page.txt', 'S');
    is($r->{status}, 200, 'set key: a static file passes');
    is($r->{content}, "static\n", 'set key: the file');
    is($r->{headers}{ratelimit}, '"setk";r=0;t=60', 'set key: limited');
    is(key_get('/page.txt', 'S')->{status}, 429, 'set key: then rejected');
    is(key_get('/page.txt', 'T')->{status}, 200, 'set key: per key');
    unlike($t->error_log($mark), qr/uninitialized/,
           'set key: not read before its `set`');

    # two limits, one key empty (not limited), in a `return` location: the
    # other one still applies
    $r = key_get('/mixed', 'X');
    is($r->{status}, 200, 'empty key beside another: passes');
    is($r->{headers}{ratelimit}, '"mixa";r=0;t=60',
       'empty key beside another: RateLimit lists the zone that applied');
    is($r->{headers}{'ratelimit-policy'}, '"mixa";q=1;w=60, "mixb";q=1;w=60',
       'empty key beside another: RateLimit-Policy lists both');
    is(key_get('/mixed', 'X')->{status}, 429,
       'empty key beside another: the other limit rejects');
}

###############################################################################
# /status: promtool accepts the limit metrics; the JSON has the same numbers

my $PROMTOOL = $ENV{OSINT_PROMTOOL} || '/usr/bin/promtool';

SKIP: {
    if (!-x $PROMTOOL) {
        skip "$PROMTOOL missing (OSINT_ALLOW_SKIP)", 1
            if $ENV{OSINT_ALLOW_SKIP};
        fail("$PROMTOOL is missing (Debian package prometheus; "
             . '`make test-deps` installs it)');
        last SKIP;
    }

    my $dir = $t->testdir;
    OsintTest::_write_file("$dir/metrics.txt", $t->get('/status')->{content});
    my $pid = OsintTest::_spawn(['/bin/sh', '-c',
                                 'exec "$0" check metrics < "$1"',
                                 $PROMTOOL, "$dir/metrics.txt"],
                                stdout => "$dir/promtool.out");
    my $st = OsintTest::_wait_pid($pid, 30);
    if (!defined $st) { kill 'KILL', $pid; OsintTest::_wait_pid($pid, 5); }
    is($st, 0, 'promtool check metrics: passes')
        or diag OsintTest::_read_file("$dir/promtool.out");
}

{
    my ($st, $doc) = $t->get_json('/status?format=json');
    is($st, 200, 'status json');
    is_deeply($doc->{limits}{hdr},
              { rate => 1, per => 'm', burst => 3, keys => 2, evictions => 0,
                requests => { passed => 4, delayed => 0, rejected => 3,
                              dry_run => 0 } },
              'status json: the hdr zone') or diag explain $doc->{limits}{hdr};
}

###############################################################################
# reload keeps the buckets

{
    is(statuses(map { key_get('/kept', 'K') } 1 .. 3), '200 200 429',
       'reload: bucket drained before');
    my @old = $t->worker_pids;
    my @new = $t->reload(wait_old => 1);
    ok(!(grep { my $n = $_; grep { $_ == $n } @old } @new),
       'reload: new workers');
    my $r = key_get('/kept', 'K');
    is($r->{status}, 429, 'reload: still rejected by the new workers');
    is($r->{headers}{ratelimit}, '"kept";r=0;t=60',
       'reload: the bucket is the old one');
    is(counters('kept')->{rejected}, 2, 'reload: counters kept too');
    is(key_get('/kept', 'K2')->{status}, 200, 'reload: other keys pass');
}

###############################################################################
# 100 000 distinct keys through a 128k zone: every request passes (each key
# is new: a full bucket), the zone evicts, nothing fails, no error

# $conc children, each a keep-alive connection pipelining $n / $conc
# requests of $path with distinct X-Key values: { status => count }
sub flood {
    my ($path, $n, $conc) = @_;
    my $dir = $t->testdir . "/flood-$$";
    mkdir $dir;
    my %kids;
    my $per = int($n / $conc);

    for my $c (1 .. $conc) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            local $SIG{PIPE} = 'IGNORE';
            my %count;
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $t->port,
                                          Proto => 'tcp', Timeout => 3);
            my $sel = IO::Select->new($s);
            my $deadline = time + 50;
            my ($i, $buf) = (0, '');
          BATCH:
            while ($s && $i < $per && time < $deadline) {
                my $batch = $per - $i > 200 ? 200 : $per - $i;
                my $req = '';
                $req .= "GET $path HTTP/1.1\r\nHost: x\r\nX-Key: f$c-"
                        . ($i + $_) . "\r\n\r\n" for 0 .. $batch - 1;
                syswrite($s, $req) == length $req or last;
                my $got = 0;
                my $pos = 0;
                while ($got < $batch) {
                    my $h = index($buf, "\r\n\r\n", $pos);
                    if ($h >= 0) {
                        my $head = substr($buf, $pos, $h - $pos);
                        my ($cl) = $head =~ /\r\nContent-Length: (\d+)/i;
                        my $end = $h + 4 + ($cl // 0);
                        if ($end <= length $buf) {
                            my ($st) = $head =~ m{^HTTP/1\.1 (\d{3})};
                            $count{$st // 'bad'}++;
                            $pos = $end;
                            $got++;
                            next;
                        }
                    }
                    last BATCH unless $sel->can_read(10);
                    substr($buf, 0, $pos, '');
                    $pos = 0;
                    sysread($s, $buf, 262144, length $buf) or last BATCH;
                }
                substr($buf, 0, $pos, '');
                $i += $batch;
            }
            open my $fh, '>', "$dir/$c";
            print $fh join("\n", map { "$_ $count{$_}" } keys %count), "\n";
            close $fh;
            POSIX::_exit(0);
        }
        $kids{$pid} = 1;
    }

    my $deadline = time + 60;
    while (%kids && time < $deadline) {
        for my $pid (keys %kids) {
            delete $kids{$pid} if waitpid($pid, WNOHANG) == $pid;
        }
        sleep 0.05;
    }
    for my $pid (keys %kids) { kill 'KILL', $pid; waitpid($pid, 0); }

    my %total;
    for my $c (1 .. $conc) {
        for (split /\n/, OsintTest::_read_file("$dir/$c") // '') {
            my ($st, $n) = split / /;
            $total{$st} += $n if defined $n;
        }
    }
    return \%total;
}

{
    my $mark = $t->log_mark;
    my $t0 = time;
    my $got = flood('/many', 100000, 4);
    my $secs = time - $t0;

    is_deeply($got, { 200 => 100000 },
              sprintf('100 000 distinct keys: all 200 (%.1f s)', $secs))
        or diag explain $got;
    cmp_ok($secs, '<', 60, '100 000 keys in less than 60 s');

    my $c = counters('many');
    is($c->{passed}, 100000, 'many keys: 100 000 counted passed');
    cmp_ok($c->{keys}, '<', 2000, "many keys: the zone holds $c->{keys}");
    cmp_ok($c->{keys}, '>', 100, 'many keys: and still holds some');
    is($c->{keys} + $c->{evictions_total}, 100000,
       'many keys: every other key was evicted (counted)');

    my $log = $t->error_log($mark);
    unlike($log, qr/\[(?:error|crit|alert|emerg)\]/,
           'many keys: no error in error.log');
    like($log, qr/\[warn\].*osint_limit: zone "many" is full, evicting/,
         'many keys: the full zone said so, at warn');

    # the zone still limits: the most recent keys are kept
    is(statuses(key_get('/many', 'fresh'), key_get('/many', 'fresh')),
       '200 429', 'many keys: a new key is still limited');

    # a key far bigger than the others: no slot of its size left, it passes
    my $r = key_get('/many', 'x' x 3000);
    is($r->{status}, 200, 'many keys: a 3000-byte key in a full zone passes');
}

###############################################################################
# configuration errors, at nginx -t

sub conf_error {
    my ($http, $re, $name) = @_;
    my $c = OsintTest->new;
    $c->write_conf($http . "\n    server { listen 127.0.0.1:%%PORT%%; "
                   . "location / { return 200; } }\n");
    my ($rc, $out) = $c->nginx_test;
    isnt($rc, 0, "nginx -t fails: $name");
    like($out, $re, "nginx -t says: $name");
}

conf_error('osint_limit_zone r:1m key=$remote_addr rate=1r/s sync=redis;',
           qr/\[emerg\] osint_limit_zone "r" with sync=redis requires "osint_redis" in \S+:\d+/,
           'sync=redis without osint_redis');
conf_error('osint_limit_zone r:1m key=$remote_addr rate=1r/s sync=x;',
           qr/invalid parameter "sync=x"/, 'sync=x');
conf_error('osint_limit_zone r:1m key=$remote_addr rate=10;',
           qr/invalid rate "rate=10"/, 'rate without unit');
conf_error('osint_limit_zone r:1m key=$remote_addr rate=1r/s burst=0;',
           qr/invalid burst value "burst=0"/, 'burst=0');
conf_error('osint_limit_zone r:1m rate=1r/s;',
           qr/osint_limit_zone "r" must have "key" parameter/, 'no key');
conf_error('osint_limit_zone r:1m key=$remote_addr;',
           qr/must have "rate" parameter/, 'no rate');
conf_error('osint_limit_zone r:1k key=$remote_addr rate=1r/s;',
           qr/zone "r:1k" is too small/, 'small zone');
conf_error('osint_limit_zone a/b:1m key=$remote_addr rate=1r/s;',
           qr/invalid zone name/, 'zone name');
conf_error("osint_limit_zone r:1m key=\$remote_addr rate=1r/s;\n"
           . 'osint_limit_zone r:1m key=$remote_addr rate=2r/s;',
           qr/osint_limit_zone "r" is duplicate/, 'duplicate zone');
conf_error("osint_limit_zone r:1m key=\$remote_addr rate=1r/s;\n"
           . 'osint_limit zone=nope;',
           qr/unknown osint_limit_zone "nope" in .*nginx\.conf:\d+/,
           'unknown zone');
conf_error("osint_limit_zone r:1m key=\$remote_addr rate=1r/s;\n"
           . 'osint_limit zone=r nodelay delay=1s;',
           qr/"nodelay" and "delay=" cannot be used together/,
           'nodelay and delay');
conf_error("osint_limit_zone r:1m key=\$remote_addr rate=1r/s;\n"
           . "osint_limit zone=r;\nosint_limit zone=r dry_run;",
           qr/"osint_limit" directive is duplicate/, 'one zone twice');
conf_error("osint_limit_zone r:1m key=\$remote_addr rate=1r/s;\n"
           . 'osint_limit_status 600;',
           qr/must be between 400 and 599/, 'osint_limit_status 600');
conf_error('osint_limit zone;', qr/invalid parameter "zone"/, 'zone=');

$t->done_testing;
