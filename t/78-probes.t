#!/usr/bin/perl

# Active probes (issue 20, item 6): "probe TARGET interval=T" calls the
# provider with a known target in the background, once an interval for
# both workers together; the last probe (when, ok or the error kind,
# latency) is on the status JSON and on health's ?providers=1, and a
# failing probe degrades a required provider's check; it feeds the
# breaker only with "breaker"; a private probe target is never sent to a
# provider that is not "private on"; nginx -t refuses bad probe lines.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new(workers => 2, private_targets => 1);
my $fx = $t->fixture;

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 3s;

    osint_provider watched {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/watched/$osint_target";
        probe 8.8.8.8 interval=1s;
        breaker failures=1 cooldown=60s;
    }

    osint_provider strict {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/strict/$osint_target";
        probe 8.8.4.4 interval=1s breaker;
        breaker failures=1 cooldown=60s;
    }

    osint_provider inside {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/inside/$osint_target";
        probe 10.0.0.1 interval=1s;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
        location = /healthz { osint_health require=watched; }
    }
EOF
$t->run;

sub prov {
    my ($name) = @_;
    my ($st, $doc) = $t->get_json('/status?format=json');
    return ($doc && $doc->{providers}{$name}) ? $doc->{providers}{$name} : {};
}

###############################################################################
# probes go out in the background, once an interval for both workers

ok($t->wait_until(sub { ($fx->calls_for('/watched/8.8.8.8')) >= 1 }, 5),
   'the first probe went out');
$fx->reset;
select(undef, undef, undef, 3.5);
my $n = $fx->calls_for('/watched/8.8.8.8');
ok($n >= 2 && $n <= 5,
   "3.5 s at interval=1s with 2 workers: $n probes (one a second, not two)");

my $p = prov('watched')->{probe} // {};
is("$p->{target} $p->{interval_s}", '8.8.8.8 1', 'status: target, interval');
is($p->{ok}, JSON::PP::true(), 'status: the last probe answered');
ok(($p->{last} // 0) > time - 5, 'status: when');
ok(defined $p->{latency_ms}, 'status: latency');

my ($st, $doc) = $t->get_json('/healthz?providers=1');
is($doc->{providers}{watched}{last_probe}{ok}, JSON::PP::true(),
   'health ?providers=1: the last probe');

# the ops page shows it (t/lib/browser.sh bounds Chromium to 60 s)
{
    my $browser = "$FindBin::Bin/lib/browser.sh";
    my $url = $t->url('/status?format=html');
    my $dom = `$browser -t 60 -l /dev/null --virtual-time-budget=5000 --dump-dom '$url'`;
    like($dom, qr/<tr[^>]*data-provider="watched".*?data-probe="ok"[^>]*>probe ok /s,
         'ops page: the watched row shows its last probe ok');
}

###############################################################################
# a failing probe: recorded, degrades the required provider; the breaker
# hears it only with "breaker"

$fx->control(prefix => '/watched', params => { status => 503 });
$fx->control(prefix => '/strict', params => { status => 503 });

ok($t->wait_until(sub { (prov('watched')->{probe}{error} // '')
                        eq 'http_status' }, 5),
   'a failing probe: error http_status');
is(prov('watched')->{probe}{ok}, JSON::PP::false(), '... ok false');

($st, $doc) = $t->get_json('/healthz?ready=1');
is($doc->{checks}{'provider:watched'}{status}, 'degraded',
   'health: the required provider degraded');
is($doc->{checks}{'provider:watched'}{reason}, 'its last probe failed',
   'health: because its last probe failed');

is(prov('watched')->{breaker}{state}, 'closed',
   'without "breaker": its failing probes leave the breaker closed');
ok($t->wait_until(sub { prov('strict')->{breaker}{state} eq 'open' }, 5),
   'with "breaker": a failing probe opens it (failures=1)');

$fx->clear_control;
ok($t->wait_until(sub { prov('watched')->{probe}{ok} }, 5),
   'the provider back: the next probe is ok');

###############################################################################
# a private probe target is never sent

ok($t->wait_until(sub { (prov('inside')->{probe}{error} // '')
                        eq 'private_target' }, 5),
   'a private probe target: recorded as private_target');
is($fx->calls_for('/inside/10.0.0.1'), 0, '... and never sent');

###############################################################################
# reload: probes go on, no alert

$t->reload;
$fx->reset;
ok($t->wait_until(sub { $fx->calls_for('/watched/8.8.8.8') >= 1 }, 5),
   'after a reload: probing again');

###############################################################################
# nginx -t

for my $case (['probe 8.8.8.8 interval=500ms;',
               'invalid parameter "interval=500ms" in "probe" of osint_provider "x"'],
              ['probe 8.8.8.8 interval=2d;',
               'invalid parameter "interval=2d" in "probe" of osint_provider "x"'],
              ['probe 8.8.8.8 loud;',
               'invalid parameter "loud" in "probe" of osint_provider "x"'],
              ['probe not_a_target!;',
               'invalid probe target "not_a_target!" in osint_provider "x"'],
              ['probe example.com;',
               'the probe target "example.com" of osint_provider "x" is of type domain, which it does not serve'],
              ['probe 8.8.8.8; probe 8.8.4.4;',
               '"probe" of osint_provider "x" is duplicate'])
{
    my $c = OsintTest->new;
    $c->write_conf(<<"EOF");
    osint_zone 1m;
    osint_provider x {
        types ipv4;
        url "http://127.0.0.1:1/\$osint_target";
        $case->[0]
    }
EOF
    my ($rc, $out) = $c->nginx_test;
    ok($rc != 0 && index($out, $case->[1]) >= 0,
       "nginx -t refuses: $case->[0]") or diag($out);
}

$t->done_testing;
