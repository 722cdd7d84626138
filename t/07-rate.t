#!/usr/bin/perl

# Provider token buckets and quotas shared by all workers through the osint
# zone: accuracy under demand well above the rate (r/s and r/m), wait= for a
# token on an nginx timer within the lookup's deadline, quota per period,
# and buckets and quotas kept across `nginx -s reload`.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;

my $CONF = <<'EOF';
    osint_zone 8m;
    osint_deadline 2500ms;

    osint_provider r10 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/r10/$osint_target";
        rate 10r/s burst=5;
    }

    osint_provider waiter {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/waiter/$osint_target";
        rate 5r/s burst=1 wait=1s;
    }

    osint_provider longwait {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/longwait/$osint_target";
        rate 1r/s burst=1 wait=10s;
    }

    osint_provider perminute {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/perminute/$osint_target";
        rate 30r/m burst=2;
    }

    osint_provider quota {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/quota/$osint_target";
        quota 3/h;
    }

    osint_provider kept {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/kept/$osint_target";
        rate 1r/m burst=3;
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        location = /lookup {
            osint_lookup;
            add_header X-Worker $pid always;
        }
    }
EOF

$t->write_conf($CONF);
$t->run;

is(scalar($t->worker_pids), 2, 'two workers');

my $NO_TOKEN = 'no token left in the rate limit';
my $QUOTA    = 'the quota of the period is spent';

my $seq = 0;

sub target {
    $seq++;
    return '10.7.' . int($seq / 250) . '.' . ($seq % 250 + 1);
}

# $n concurrent lookups (unique targets): list of
# { status, entry, worker, elapsed_ms, start_ms }
sub plookups {
    my ($prov, $n, $conc) = @_;
    my @paths = map { '/lookup?target=' . target() . "&providers=$prov" }
                1 .. $n;
    my $res = $t->parallel_get(\@paths, $conc // $n, timeout => 20);
    return map {
        my $doc = OsintTest::decode_json_or_undef($_->{body});
        {
            status     => $_->{status},
            entry      => $doc ? $doc->{providers}{$prov} : undef,
            worker     => $_->{headers}{'x-worker'},
            elapsed_ms => $_->{elapsed_ms},
            start_ms   => $_->{start_ms},
        }
    } @$res;
}

sub skipped {
    my ($msg, @r) = @_;
    return scalar grep {
        my $e = $_->{entry};
        $e && $e->{status} eq 'skipped' && $e->{error}
           && $e->{error}{kind} eq 'rate_limited'
           && $e->{error}{message} eq $msg
           && $e->{attempts} == 0
    } @r;
}

sub ok_entries {
    return grep { $_->{status} == 200 && $_->{entry}
                  && $_->{entry}{status} eq 'ok' } @_;
}

sub workers_seen {
    my %w = map { defined $_->{worker} ? ($_->{worker} => 1) : () } @_;
    return scalar keys %w;
}

sub fx_log {
    my ($prefix) = @_;
    my @l = sort { $a->{t} <=> $b->{t} }
            grep { index($_->{path}, $prefix) == 0 } @{$fx->log};
    return @l;
}

# demand from 8 concurrent clients for $secs seconds: (results, duration)
sub demand {
    my ($prov, $secs) = @_;
    my @all;
    my $t0 = time;
    while (time < $t0 + $secs) {
        push @all, plookups($prov, 16, 8);
    }
    return (\@all, time - $t0);
}

###############################################################################
# 10r/s burst=5 under demand well above the rate, for 5 s, both workers

my ($all, $dur) = demand('r10', 5);
my $n = @$all;
my $calls = scalar fx_log('/r10/');
my $max = 5 + int(10 * $dur);

cmp_ok($n, '>=', 300, "10r/s: $n lookups in " . sprintf('%.2f s', $dur)
       . ' (demand well above the rate)');
is(scalar(grep { $_->{status} == 200 || $_->{status} == 502 } @$all), $n,
   '10r/s: every lookup answered 200 or 502');
cmp_ok((sort { $b <=> $a } map { $_->{elapsed_ms} // 1e9 } @$all)[0], '<',
       1000, '10r/s: none waited (wait=0)');
cmp_ok($calls, '<=', $max, "10r/s: $calls calls <= 5 + 10 x $dur s");
cmp_ok($calls, '>=', int(0.9 * (5 + 10 * 5)), "10r/s: $calls calls >= 90 %");
is(scalar(ok_entries(@$all)), $calls, '10r/s: each call is one ok lookup');
is(skipped($NO_TOKEN, @$all), $n - $calls,
   '10r/s: every other lookup skipped rate_limited, no token');
is(scalar(grep { $_->{status} == 502 } @$all), $n - $calls,
   '10r/s: skipped lookups answer 502');
is(workers_seen(ok_entries(@$all)), 2, '10r/s: both workers made calls');

# no more than burst + rate x time in any window of the run
my @ts = map { $_->{t} } fx_log('/r10/');
my $worst = 0;
for my $i (0 .. $#ts) {
    my $j = $i;
    $j++ while $j + 1 <= $#ts && $ts[$j + 1] - $ts[$i] <= 1.0;
    $worst = $j - $i + 1 if $j - $i + 1 > $worst;
}
cmp_ok($worst, '<=', 5 + 10 + 1, "10r/s: at most $worst calls in any 1 s");

###############################################################################
# wait=1s: 5 concurrent lookups wait for their tokens, ~200 ms apart

my @r = plookups('waiter', 5, 5);
is(scalar(ok_entries(@r)), 5, 'wait=1s: 5 concurrent lookups all ok')
    or diag explain [ map { $_->{entry} } @r ];
is(scalar(grep { $_->{entry} && $_->{entry}{status} eq 'skipped' } @r), 0,
   'wait=1s: none skipped');
@ts = map { $_->{t} } fx_log('/waiter/');
is(scalar @ts, 5, 'wait=1s: 5 calls reached the fixture');
if (@ts == 5) {
    cmp_ok($ts[-1] - $ts[0], '>=', 0.6,
           sprintf('wait=1s: calls spread over %.3f s (>= 0.6)',
                   $ts[-1] - $ts[0]));
    cmp_ok($ts[-1] - $ts[0], '<', 1.2, 'wait=1s: and over less than 1.2 s');
    my @gaps = map { $ts[$_] - $ts[$_ - 1] } 1 .. 4;
    cmp_ok((sort { $a <=> $b } @gaps)[0], '>=', 0.1,
           'wait=1s: no two calls closer than 100 ms: '
           . join(' ', map { sprintf '%.3f', $_ } @gaps));
}

# the wait also stays within the lookup's deadline (2500 ms): with 1r/s
# and wait=10s, tokens at 0, 1 and 2 s are waited for, the others are not

@r = plookups('longwait', 5, 5);
is(scalar(ok_entries(@r)), 3, 'wait within the deadline: 3 lookups ok')
    or diag explain [ map { $_->{entry} } @r ];
my @sk = grep { $_->{entry} && $_->{entry}{status} eq 'skipped' } @r;
is(skipped($NO_TOKEN, @sk), 2,
   'wait past the deadline: 2 skipped rate_limited');
is(scalar(grep { $_->{elapsed_ms} < 500 } @sk), 2,
   'wait past the deadline: skipped at once, not at the deadline');
is(scalar(fx_log('/longwait/')), 3, 'wait within the deadline: 3 calls');

###############################################################################
# 30r/m burst=2 for 4 s: the burst, then one token every 2 s

$fx->reset;
($all, $dur) = demand('perminute', 4);
$calls = scalar fx_log('/perminute/');
cmp_ok($calls, '<=', 2 + int(30 * $dur / 60) + 1,
       "30r/m: $calls calls in " . sprintf('%.2f s', $dur) . ' (<= 5)');
cmp_ok($calls, '>=', 3, "30r/m: $calls calls (>= 3)");
is(scalar(ok_entries(@$all)), $calls, '30r/m: each call is one ok lookup');
is(skipped($NO_TOKEN, @$all), @$all - $calls,
   '30r/m: the other ' . (@$all - $calls) . ' skipped rate_limited');

###############################################################################
# quota 3/h: 3 calls, then every lookup skipped (the quota is spent)

# not across the turn of a UTC hour (a new period gives a new budget)
my $into = time % 3600;
sleep(3600 - $into + 0.5) if $into > 3600 - 8;

$fx->reset;
@r = plookups('quota', 16, 16);
is(scalar(ok_entries(@r)), 3, 'quota 3/h: 3 lookups ok');
is(skipped($QUOTA, @r), 13, 'quota 3/h: 13 skipped, the quota is spent')
    or diag explain [ map { $_->{entry} } @r ];
is(workers_seen(@r), 2, 'quota 3/h: on both workers');
is(scalar(fx_log('/quota/')), 3, 'quota 3/h: 3 calls reached the fixture');

@r = plookups('quota', 4, 4);
is(skipped($QUOTA, @r), 4, 'quota 3/h: still spent');
is(scalar(fx_log('/quota/')), 3, 'quota 3/h: no more calls');

###############################################################################
# reload keeps the buckets and the quota

$fx->reset;
@r = map { plookups('kept', 1) } 1 .. 4;
is(scalar(ok_entries(@r)), 3, 'kept: burst of 3 ok');
is(skipped($NO_TOKEN, $r[3]), 1, 'kept: then rate_limited');

$t->write_conf($CONF);
my @new = $t->reload(wait_old => 1);
is(scalar @new, 2, 'reload: two new workers');

@r = plookups('kept', 16, 16);
is(skipped($NO_TOKEN, @r), 16,
   'after reload: the drained bucket is still empty, on both workers');
is(workers_seen(@r), 2, 'after reload: both new workers answered');
is(scalar(fx_log('/kept/')), 3, 'after reload: no call');

@r = plookups('quota', 4, 4);
is(skipped($QUOTA, @r), 4, 'after reload: the quota is still spent');

$t->done_testing;
