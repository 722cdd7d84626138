#!/usr/bin/perl

# The breaker's other triggers (issue 20, item 1), shared by both workers:
#   - successes=S: half-open closes only after S successful probes in a
#     row, and a failed probe re-opens it;
#   - rate=P% window=W min=M: open when at least M calls ended in the last
#     W and P % or more of them failed; a target failing again and again
#     counts once; calls older than the window no longer count;
#   - the status JSON shows the window's calls and failures;
#   - nginx -t refuses bad values in nginx's words.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 3s;

    osint_provider succ {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/succ/$osint_target";
        cache_ttl off;
        breaker failures=1 cooldown=300ms successes=3;
    }

    osint_provider rate {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/rate/$osint_target";
        cache_ttl off;
        breaker rate=50% window=4s min=6 cooldown=30s;
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
    my ($status, $doc) = $t->get_json("/lookup?target=$target"
                                      . "&providers=$prov");
    return $doc ? $doc->{providers}{$prov} : {};
}

sub breaker {
    my ($prov) = @_;
    my ($status, $doc) = $t->get_json('/status?format=json');
    return ($doc && $doc->{providers}{$prov}) ? $doc->{providers}{$prov}{breaker}
                                              : {};
}

# no fault left, counters from 0
sub heal {
    $fx->clear_control;
    $fx->reset;
}

###############################################################################
# successes=3

$fx->control(prefix => '/succ', params => { status => 503 });
is(entry('succ', '10.0.0.1')->{error}{kind}, 'http_status',
   'successes: a 503');
is(breaker('succ')->{state}, 'open', 'successes: failures=1 opened it');
is(breaker('succ')->{successes_needed}, 3, 'successes: 3 needed');

heal();
select(undef, undef, undef, 0.4);

for my $i (1 .. 2) {
    is(entry('succ', "10.0.1.$i")->{status}, 'ok', "successes: probe $i ok");
    my $b = breaker('succ');
    is("$b->{state} $b->{successes}", "half_open $i",
       "successes: $i of 3, still half-open");
}

is(entry('succ', '10.0.1.3')->{status}, 'ok', 'successes: probe 3 ok');
is(breaker('succ')->{state}, 'closed', 'successes: the third closed it');
is($fx->calls, 3, 'successes: three probes were called');

# two good probes, then a failing one: open again, and the count restarts

$fx->control(prefix => '/succ', params => { status => 503 });
entry('succ', '10.0.2.1');
is(breaker('succ')->{state}, 'open', 'successes: opened again');
heal();
select(undef, undef, undef, 0.4);
entry('succ', "10.0.2.$_") for 2 .. 3;
$fx->control(prefix => '/succ', params => { status => 503 });
entry('succ', '10.0.2.4');
is(breaker('succ')->{state}, 'open',
   'successes: a failed third probe re-opened it');
heal();
select(undef, undef, undef, 0.4);
entry('succ', '10.0.2.5');
my $b = breaker('succ');
is("$b->{state} $b->{successes}", 'half_open 1',
   'successes: a new trial counts from 0');

###############################################################################
# rate=50% window=4s min=6

heal();
is(entry('rate', "10.1.0.$_")->{status}, 'ok', "rate: success $_") for 1 .. 3;

# one target failing again and again: it counts once

$fx->control(prefix => '/rate/10.1.9.9', params => { status => 503 });
is(entry('rate', '10.1.9.9')->{error}{kind}, 'http_status',
   "rate: the same target fails ($_)") for 1 .. 6;
$b = breaker('rate');
is("$b->{state} $b->{window}{calls} $b->{window}{failures}", 'closed 4 1',
   'rate: 4 calls and 1 failure counted, closed');

# distinct failing targets: 3 of 6 is 50 %

$fx->control(prefix => '/rate/10.1.8', params => { status => 503 });
entry('rate', '10.1.8.1');
is(breaker('rate')->{state}, 'closed', 'rate: 2 of 5 calls failed, closed');
entry('rate', '10.1.8.2');
$b = breaker('rate');
is($b->{state}, 'open', 'rate: 3 of 6 failed, open');
is(entry('rate', '10.1.0.7')->{error}{kind}, 'breaker_open',
   'rate: then breaker_open');
is($fx->calls_for('/rate/10.1.0.7'), 0, 'rate: with no call');

like($t->error_log, qr/provider "rate" breaker opened for 30000 ms after 3 of 6 calls in 4000 ms failed/,
     'rate: the log says why it opened');

###############################################################################
# nginx -t refuses bad values

for my $case (['rate=0%', 'invalid parameter "rate=0%" in "breaker" of osint_provider "x"'],
              ['rate=101%', 'invalid parameter "rate=101%" in "breaker" of osint_provider "x"'],
              ['rate=50', 'invalid parameter "rate=50" in "breaker" of osint_provider "x"'],
              ['successes=0', 'invalid parameter "successes=0" in "breaker" of osint_provider "x"'],
              ['successes=101', 'invalid parameter "successes=101" in "breaker" of osint_provider "x"'],
              ['min=0 rate=5%', 'invalid parameter "min=0" in "breaker" of osint_provider "x"'],
              ['rate=5% window=500ms', '"window" of "breaker" of osint_provider "x" must be 1s..1h'],
              ['window=10s', '"window" and "min" of "breaker" of osint_provider "x" require "rate"'],
              ['min=5', '"window" and "min" of "breaker" of osint_provider "x" require "rate"'])
{
    my $c = OsintTest->new;
    $c->write_conf(<<"EOF");
    osint_zone 1m;
    osint_provider x {
        url "http://127.0.0.1:1/\$osint_target";
        breaker $case->[0];
    }
EOF
    my ($rc, $out) = $c->nginx_test;
    ok($rc != 0 && $out =~ /\[emerg\] \Q$case->[1]\E in \S*nginx\.conf:\d+/,
       "nginx -t refuses breaker $case->[0]")
        or diag($out);
}

$t->done_testing;
