#!/usr/bin/perl

# Limits that adapt to the provider (issue 20, item 2): with
# `rate ... adaptive` the module never calls a provider more than it said
# is left before its reset, across both workers, whichever header form it
# uses; the status JSON shows the provider's figures beside the bucket;
# the reset brings calls back; a 503 with Retry-After holds it like a 429;
# without `adaptive` the headers change nothing.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;
use OsintUnit qw(unit_run);

unit_run('ratelimit');

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;

my $conf = '';
for my $style (qw(x ietf structured)) {
    $conf .= <<"EOF";
    osint_provider a_$style {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/a_$style/\$osint_target?rl=$style&rl_limit=4&rl_reset=2&rl_style=$style";
        cache_ttl off;
        rate 100r/s burst=100 adaptive;
    }

EOF
}

$t->write_conf(<<"EOF");
    osint_zone 8m;
    osint_deadline 3s;

$conf
    osint_provider plain {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/plain/\$osint_target?rl=plain&rl_limit=2&rl_reset=60";
        cache_ttl off;
        rate 100r/s burst=100;
    }

    osint_provider shown {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/shown/\$osint_target?rl=shown&rl_limit=3&rl_reset=120";
        cache_ttl off;
        rate 100r/s burst=100 adaptive;
    }

    osint_provider busy {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/busy/\$osint_target";
        cache_ttl off;
        rate 100r/s burst=100 adaptive;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF
$t->run;

sub entry {
    my ($prov, $target) = @_;
    my ($st, $doc) = $t->get_json("/lookup?target=$target&providers=$prov");
    return $doc ? $doc->{providers}{$prov} : {};
}

sub provider_status {
    my ($prov) = @_;
    my ($st, $doc) = $t->get_json('/status?format=json');
    return $doc->{providers}{$prov} // {};
}

###############################################################################
# the provider says 4 are left: 4 calls, then none until its reset

for my $style (qw(x ietf structured)) {
    my $prov = "a_$style";
    my @st = map { entry($prov, "10.0.$_.1")->{status} } 1 .. 6;
    is("@st", 'ok ok ok ok skipped skipped',
       "$style: 4 calls answered, then skipped");
    is($fx->calls, 4, "$style: the provider saw exactly 4 calls");

    my $e = entry($prov, '10.0.9.9');
    is("$e->{error}{kind}: $e->{error}{message}",
       'rate_limited: the provider said nothing is left before its reset',
       "$style: the reason");

    my $said = provider_status($prov)->{provider_said} // {};
    is("$said->{remaining} $said->{limit}", '0 4',
       "$style: status shows remaining 0 of 4");
    ok(($said->{reset} // 0) > time - 1, "$style: and the reset time");
    is(provider_status($prov)->{bucket}{adaptive}, JSON::PP::true(),
       "$style: the bucket says adaptive");

    $fx->reset;
}

# the reset brings calls back (rl_reset=2 s, counted from the last answer)

ok($t->wait_until(sub { entry('a_x', '10.1.0.' . int(rand 250))->{status}
                        eq 'ok' }, 5, 0.25),
   'after the reset: called again');

###############################################################################
# without adaptive the headers change nothing

my @st = map { entry('plain', "10.2.0.$_")->{status} } 1 .. 4;
is("@st", 'ok ok ok ok', 'plain: headers saying 0 left are not heeded');
is($fx->calls_for('/plain/10.2.0.4'), 1, 'plain: the fourth was called');

###############################################################################
# a 503 with Retry-After holds an adaptive provider like a 429

$fx->reset;
$fx->control(prefix => '/busy', params => { status => 503,
                                            retry_after => 2 });
is(entry('busy', '10.3.0.1')->{error}{kind}, 'http_status', 'busy: a 503');
$fx->clear_control;
my $e = entry('busy', '10.3.0.2');
is("$e->{status} $e->{error}{kind}", 'skipped rate_limited',
   'busy: then held, no call');
is($fx->calls, 1, 'busy: one call only');
ok($t->wait_until(sub { entry('busy', '10.3.0.3')->{status} eq 'ok' }, 5,
                  0.25), 'busy: called again after Retry-After');

###############################################################################
# the ops page shows the provider's figures beside ours (the bucket's
# cell); t/lib/browser.sh bounds Chromium to 60 s

entry('shown', "10.4.0.$_") for 1 .. 2;
is(provider_status('shown')->{provider_said}{remaining}, 1,
   'shown: the provider said 1 is left');
{
    my $browser = "$FindBin::Bin/lib/browser.sh";
    my $url = $t->url('/status?format=html');
    my $dom = `$browser -t 60 -l /dev/null --virtual-time-budget=5000 --dump-dom '$url'`;
    like($dom, qr/<tr[^>]*data-provider="shown".*?data-said="1"[^>]*>provider: 1 \/ 3 left, resets in \d+ s</s,
         "ops page: the provider's own remainder, limit and reset");
    unlike($dom, qr/<tr[^>]*data-provider="plain"[^<]*(?:<(?!tr)[^<]*)*data-said/s,
           'ops page: none for a provider without adaptive');
}

###############################################################################
# nginx -t

my $c = OsintTest->new;
$c->write_conf(<<'EOF');
    osint_zone 1m;
    osint_provider x {
        types ipv4;
        url "http://127.0.0.1:1/$osint_target";
        rate 1r/s adaptive adaptive;
    }
EOF
my ($rc, $out) = $c->nginx_test;
like($out, qr/\[emerg\] invalid parameter "adaptive" in "rate" of osint_provider "x"/,
     'nginx -t: adaptive twice refused');

$t->done_testing;
