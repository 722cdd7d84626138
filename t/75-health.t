#!/usr/bin/perl

# Health with detail (issue 20, items 6 and 7 in part):
#   - /healthz stays {"status":"ok"}, 200, whatever the checks say
#     (liveness);
#   - ?ready=1 lists the checks: redis (a PING from this worker, its round
#     trip), zone, providers, and each provider `osint_health require=`
#     names, each with its status and the time it entered it; the
#     document's status is the worst, 503 only on fail;
#   - ?providers=1 adds every provider: status, breaker, last success,
#     last error, latency;
#   - Redis killed: fail, 503; Redis stopped (SIGSTOP): the PING times out
#     within osint_redis's timeout, fail; back: ok;
#   - a client leaving while the PING waits costs nothing;
#   - nginx -t refuses unknown and repeated providers.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time);
use IO::Socket::INET;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

plan skip_all => 'redis-server not installed' unless OsintTest->have_redis;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $redis = $t->redis;
my $rport = $redis->port;

$t->write_conf(<<"EOF");
    osint_zone 8m;
    osint_deadline 3s;
    osint_redis 127.0.0.1:$rport timeout=300ms prefix=health:;

    osint_provider good {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/good/\$osint_target";
        cache_ttl off;
    }

    osint_provider bad {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/bad/\$osint_target";
        cache_ttl off;
        breaker failures=1 cooldown=60s;
    }

    osint_provider keyless {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/k/\$osint_target?k=\$osint_api_key";
        api_key env=OSINT_T75_UNSET;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /healthz { osint_health; }
        location = /ready-good { osint_health require=good; }
        location = /ready-both { osint_health require=good,bad; }
    }
EOF
$t->allow_log(qr/redis|Redis/);
$t->run;

sub ready {
    my ($path) = @_;
    my ($st, $doc) = $t->get_json($path // '/healthz?ready=1');
    return ($st, $doc // {});
}

sub checks {
    my ($doc) = @_;
    return join ',', map { "$_=$doc->{checks}{$_}{status}" }
                     sort keys %{$doc->{checks} // {}};
}

ok($t->wait_until(sub { ((ready())[1]{checks}{redis}{workers_connected}
                         // 0) == 2 }, 10),
   'both workers connected to redis');

###############################################################################
# all well

my ($st, $doc) = ready();
is($st, 200, 'ready: 200');
is($doc->{status}, 'ok', 'ready: ok');
is(checks($doc), 'providers=ok,redis=ok,zone=ok', 'ready: three checks, ok');
ok($doc->{checks}{redis}{latency_ms} >= 0
   && $doc->{checks}{redis}{latency_ms} < 300, 'redis: the PING round trip')
    or diag(explain($doc));
my $since = $doc->{checks}{redis}{since};
ok($since > time - 60 && $since <= time + 1, 'redis: since, a time');
is($doc->{checks}{providers}{enabled}, 2, 'providers: 2 enabled');

($st, $doc) = $t->get_json('/healthz');
is_deeply($doc, { status => 'ok' }, 'liveness: {"status":"ok"} only');

($st, $doc) = ready('/ready-good?ready=1');
is(checks($doc), 'provider:good=ok,providers=ok,redis=ok,zone=ok',
   'require=good: its own check');

###############################################################################
# a provider fails: degraded, 503 where it is required

is($t->get('/lookup?target=10.0.0.1&providers=good')->{status}, 200,
   'good answers');
$fx->control(prefix => '/bad', params => { status => 503 });
$t->get('/lookup?target=10.0.0.2&providers=bad');

($st, $doc) = ready();
is("$st $doc->{status}", '200 degraded',
   'ready: 200 degraded when one breaker is open');
is($doc->{checks}{providers}{reason},
   'the circuit breaker of a provider is open', 'providers: the reason');

($st, $doc) = ready('/ready-good?ready=1');
is("$st $doc->{status}", '200 degraded', 'require=good: 200 degraded');

($st, $doc) = ready('/ready-both?ready=1');
is("$st $doc->{status}", '503 fail', 'require=good,bad: 503 fail');
is($doc->{checks}{'provider:bad'}{reason}, 'its circuit breaker is open',
   'require=good,bad: bad says why');
is($doc->{reason}, 'its circuit breaker is open',
   'the document gives the worst check\'s reason');

# since: kept while the status holds

my $s1 = $doc->{checks}{'provider:bad'}{since};
select(undef, undef, undef, 1.1);
($st, $doc) = ready('/ready-both?ready=1');
is($doc->{checks}{'provider:bad'}{since}, $s1, 'since kept while failing');

###############################################################################
# ?providers=1

($st, $doc) = ready('/healthz?providers=1');
my $p = $doc->{providers};
is(join(',', sort keys %$p), 'bad,good,keyless', 'providers=1: all three');
is("$p->{good}{status} $p->{good}{breaker}", 'ok closed', 'good: ok closed');
ok($p->{good}{last_success} > time - 60, 'good: last_success');
is($p->{good}{last_error}, undef, 'good: no last_error');
ok(defined $p->{good}{latency_ms}, 'good: latency_ms');
is("$p->{bad}{status} $p->{bad}{breaker}", 'fail open', 'bad: fail open');
is($p->{bad}{last_error}{kind}, 'http_status', 'bad: last_error kind');
is($p->{bad}{last_success}, undef, 'bad: never succeeded');
is("$p->{keyless}{status} $p->{keyless}{reason}",
   'fail disabled: no api key', 'keyless: disabled');
is(checks($doc), 'providers=degraded,redis=ok,zone=ok',
   'a disabled provider not required is no check');

###############################################################################
# Redis stopped: the PING times out, fail; a client leaving meanwhile

kill 'STOP', $redis->pid;

my $t0 = time;
($st, $doc) = ready();
my $took = time - $t0;
is("$st $doc->{status} $doc->{checks}{redis}{status}", '503 fail fail',
   'redis stopped: 503 fail');
is($doc->{checks}{redis}{reason}, 'redis did not answer PING',
   'redis stopped: the reason');
ok($took < 2, sprintf('redis stopped: answered in %.2f s (timeout 300ms)',
                      $took));

for (1 .. 5) {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port,
                                  Timeout => 2) or next;
    print $c "GET /healthz?ready=1 HTTP/1.1\r\nHost: x\r\n\r\n";
    close $c;
}

($st, $doc) = $t->get_json('/healthz');
is($st, 200, 'liveness: 200 while redis is stopped');

kill 'CONT', $redis->pid;

ok($t->wait_until(sub { (ready())[1]{checks}{redis}{status} eq 'ok' }, 10),
   'redis continued: ok again');

###############################################################################
# Redis killed: down, then back

$redis->kill9;
ok($t->wait_until(sub { my ($s, $d) = ready();
                        $s == 503 && ($d->{reason} // '') eq 'redis is down' },
                  10), 'redis killed: 503, redis is down');

$redis->start;
ok($t->wait_until(sub { (ready())[1]{checks}{redis}{status} eq 'ok' }, 15),
   'redis back: ok');

###############################################################################
# nginx -t

for my $case (['require=nope', 'unknown osint_provider "nope" in "require=nope" (providers are defined above it)'],
              ['require=good,good', 'osint_provider "good" is named twice in "require=good,good"'],
              ['require=good,', 'unknown osint_provider "" in "require=good," (providers are defined above it)'],
              ['ready', 'invalid parameter "ready"'])
{
    my $c = OsintTest->new;
    $c->write_conf(<<"EOF");
    osint_zone 1m;
    osint_provider good {
        types ipv4;
        url "http://127.0.0.1:1/\$osint_target";
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { osint_health $case->[0]; }
    }
EOF
    my ($rc, $out) = $c->nginx_test;
    ok($rc != 0 && $out =~ /\[emerg\] \Q$case->[1]\E in \S*nginx\.conf:\d+/,
       "nginx -t refuses osint_health $case->[0]") or diag($out);
}

$t->done_testing;
