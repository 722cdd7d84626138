#!/usr/bin/perl

# Stale-while-revalidate (issue 20, item 4): `cache_ttl T revalidate=R`.
# Past its freshness and for R more, an answer is served at once, marked
# "cache":"stale" with its age, while ONE background call per (provider,
# target), across both workers (the L1 update lock), refreshes it; the
# next lookup after it is fresh.  A background call obeys the breaker and
# the bucket (none made when they refuse), and a reload during one ends
# the old workers cleanly.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new;
my $fx = $t->fixture;

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 5s;

    osint_provider slow {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/slow/$osint_target";
        timeout 4s;
        cache_ttl 1s revalidate=30s;
        breaker off;
    }

    osint_provider brk {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/brk/$osint_target";
        cache_ttl 1s revalidate=30s;
        breaker failures=1 cooldown=60s;
    }

    osint_provider bkt {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/bkt/$osint_target";
        cache_ttl 1s revalidate=30s;
        rate 1r/m burst=1;
        breaker off;
    }

    osint_provider nosw {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/nosw/$osint_target";
        cache_ttl 1s;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF
$t->run;

sub lookup {
    my ($prov, $target) = @_;
    my ($st, $doc, $res) = $t->get_json("/lookup?target=$target&providers=$prov");
    return ($doc && $doc->{providers}{$prov} ? $doc->{providers}{$prov} : {},
            $res);
}

###############################################################################
# a slow provider (1.5 s): stale answers at once, one background call

$fx->control(prefix => '/slow', params => { delay => 1500 });

my ($p) = lookup('slow', '192.0.2.1');
is($p->{cache}, 'miss', 'first: a miss');
is($fx->calls_for('/slow/192.0.2.1'), 1, 'first: one call');

sleep 1.3;    # past the 1 s of freshness

my $r = $t->parallel_get([ ('/lookup?target=192.0.2.1&providers=slow') x 12 ],
                         12);
my @docs = map { OsintTest::decode_json_or_undef($_->{body}) } @$r;
is(scalar(grep { $_->{status} == 200 } @$r), 12, '12 concurrent lookups: 200');
is(scalar(grep { $_ && $_->{providers}{slow}{cache} eq 'stale' } @docs), 12,
   'all answered stale');
is(scalar(grep { $_ && !exists $_->{providers}{slow}{stale_reason} } @docs),
   12, 'no stale_reason: nothing failed');
is(scalar(grep { $_ && ($_->{providers}{slow}{age} // -1) >= 1 } @docs), 12,
   'all with their age (>= 1)');
my ($slowest) = sort { $b <=> $a } map { $_->{elapsed_ms} // 1e9 } @$r;
cmp_ok($slowest, '<', 700,
       "none waited for the provider's 1500 ms (slowest $slowest ms)");
is(scalar(grep { ($_->{headers}{'cache-control'} // '') eq 'max-age=0' } @$r),
   12, 'a stale answer: max-age=0');

# the background call: exactly one, and then the answer is fresh
my $fresh;
$t->wait_until(sub {
    my ($q) = lookup('slow', '192.0.2.1');
    $fresh = $q if ($q->{cache} // '') eq 'l1';
    return $fresh;
}, 6);
ok($fresh, 'after the background call: an l1 answer');
ok(defined $fresh && $fresh->{age} >= 0 && $fresh->{age} <= 1,
   'after the background call: age 0..1 (' . ($fresh ? $fresh->{age} : 'none')
   . ')');
is($fx->calls_for('/slow/192.0.2.1'), 2,
   'the provider saw exactly one background call');

###############################################################################
# the breaker open: no background call

($p) = lookup('brk', '192.0.2.1');
is($p->{status}, 'ok', 'brk: cached');
$fx->control(prefix => '/brk/192.0.2.2', params => { status => 500 });
($p) = lookup('brk', '192.0.2.2');
is($p->{status}, 'error', 'brk: another target fails, the breaker opens');
sleep 1.3;
($p) = lookup('brk', '192.0.2.1');
is($p->{cache}, 'stale', 'brk: stale served');
sleep 0.5;
is($fx->calls_for('/brk/192.0.2.1'), 1, 'brk: no background call');
($p) = lookup('brk', '192.0.2.1');
is($p->{cache}, 'stale', 'brk: stale again');

###############################################################################
# the bucket empty: no background call

($p) = lookup('bkt', '192.0.2.1');
is($p->{status}, 'ok', 'bkt: cached, its token spent');
sleep 1.3;
($p) = lookup('bkt', '192.0.2.1');
is($p->{cache}, 'stale', 'bkt: stale served');
sleep 0.5;
is($fx->calls_for('/bkt/192.0.2.1'), 1, 'bkt: no background call');

###############################################################################
# without revalidate= a lookup past freshness asks the provider itself

lookup('nosw', '192.0.2.1');
sleep 1.3;
($p) = lookup('nosw', '192.0.2.1');
is($p->{cache}, 'miss', 'no revalidate: a miss');
is($fx->calls_for('/nosw/192.0.2.1'), 2, 'no revalidate: called again');

###############################################################################
# a reload while a background call is out: the old workers exit at once,
# cleanly

$fx->control(prefix => '/slow', params => { delay => 0 });
($p) = lookup('slow', '192.0.2.3');
is($p->{status}, 'ok', 'reload: cached');
$fx->control(prefix => '/slow', params => { delay => 3500 });
sleep 1.3;
my $calls = $fx->calls_for('/slow/192.0.2.3');
($p) = lookup('slow', '192.0.2.3');
is($p->{cache}, 'stale', 'reload: stale served');
ok($t->wait_until(sub { $fx->calls_for('/slow/192.0.2.3') == $calls + 1 }, 3),
   'reload: the background call is out');

my @old = $t->worker_pids;
my $mark = $t->log_mark;
my $t0 = time;
$t->reload;
ok($t->wait_until(sub { !grep { kill 0, $_ } @old }, 10),
   'reload: the old workers exited');
my $took = time - $t0;
cmp_ok($took, '<', 3, "reload: without waiting for the background call ("
       . sprintf('%.1f', $took) . ' s)');
($p) = lookup('slow', '192.0.2.3');
is($p->{cache}, 'stale', 'reload: the new workers serve it stale');
my $log = $t->error_log($mark);
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'reload: no alert in the log')
    or diag $log;
like($log, qr/background refresh cancelled, worker exiting/,
     'reload: the old worker cancelled its background call');

$fx->clear_control;
$t->stop;
unlike($t->error_log, qr/\[(?:alert|crit|emerg)\]/, 'no alert at all');

done_testing();
