#!/usr/bin/perl

# One client cannot take a provider away from the others, nor spend more
# of it than its share:
#   - the breaker counts failures of distinct targets: one slow target
#     asked again and again does not open it; failures of as many distinct
#     targets as `failures=` do, exactly then;
#   - refresh=1 and Cache-Control: no-cache are ignored unless
#     osint_cache_bypass allows them;
#   - a batch under osint_limit costs a token per target;
#   - a 429's Retry-After, however large or odd, holds the provider
#     (clamped to one hour) and never makes a retry at once;
#   - a failed reload, or a reload that resizes the zone, keeps the
#     providers' quotas.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;

# $o{zone}: osint_zone size; $o{without_q}: no provider q; $o{bad}: an
# extra server on a port that cannot be bound (the reload fails after the
# zones are set up)
sub conf {
    my (%o) = @_;
    my $zone = $o{zone} // '8m';

    my $q = $o{without_q} ? '' : <<'EOF';
    osint_provider q {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/q/$osint_target";
        quota 2/d;
        cache_ttl off;
    }
EOF

    my $bad = $o{bad} ? <<'EOF' : '';
    server { listen 127.0.0.1:%%PORT2%%; }
EOF

    return <<"EOF" . $q . $bad . <<'EOF';
    osint_zone $zone;
    osint_deadline 3s;
EOF
    osint_provider slow {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/slow/$osint_target";
        timeout 200ms;
        cache_ttl off;
        breaker failures=3 cooldown=30s;
    }

    osint_provider dist {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/dist/$osint_target";
        timeout 200ms;
        cache_ttl off;
        breaker failures=3 cooldown=30s;
    }

    osint_provider cached {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/cached/$osint_target";
        cache_ttl 1h;
    }

    osint_provider batch {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/batch/$osint_target";
        cache_ttl off;
    }

    osint_provider ra1 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/ra1/$osint_target";
        cache_ttl off;
        retries 1 backoff=10ms max_backoff=100ms;
        breaker off;
    }

    osint_provider ra2 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/ra2/$osint_target";
        cache_ttl off;
        retries 1 backoff=10ms max_backoff=100ms;
        breaker off;
    }

    osint_provider ra3 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/ra3/$osint_target";
        cache_ttl off;
        retries 1 backoff=10ms max_backoff=100ms;
        breaker off;
    }

    osint_provider ra4 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/ra4/$osint_target";
        cache_ttl off;
        retries 1 backoff=10ms max_backoff=100ms;
        breaker off;
    }

    osint_limit_zone lb:1m key=$binary_remote_addr rate=1r/m burst=1;

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /bypass {
            osint_lookup;
            osint_cache_bypass $arg_refresh;
        }
        location = /limited {
            osint_limit zone=lb;
            osint_lookup;
        }
        location = /status { osint_status; }
    }
EOF
}

$t->write_conf(conf());
$t->run;

sub entry {
    my ($prov, $target, $path, $headers) = @_;
    my ($status, $doc) = $t->get_json(($path // '/lookup')
                                      . "?target=$target&providers=$prov",
                                      $headers);
    return $doc ? $doc->{providers}{$prov} : undef;
}

sub breaker_state {
    my ($prov) = @_;
    my $res = $t->get('/status');
    return $res->{content} =~ /^osint_breaker_state\{provider="$prov"\} (\d)$/m
           ? $1 : 'none';
}

###############################################################################
# ITEM 5: the breaker needs failures of distinct targets

# one target the provider is slow on, asked 6 times (failures=3)

$fx->control(prefix => '/slow/10.0.0.1', params => { delay => 600 });

for my $i (1 .. 6) {
    my $e = entry('slow', '10.0.0.1');
    is($e->{error}{kind}, 'timeout', "one slow target: lookup $i times out");
}
is($fx->calls_for('/slow/10.0.0.1'), 6, 'one slow target: 6 calls made');
is(breaker_state('slow'), 0, 'one slow target: the breaker stays closed');

my $e = entry('slow', '10.0.0.2');
is($e->{status}, 'ok', 'one slow target: another target is still served');
is($fx->calls_for('/slow/10.0.0.2'), 1, 'one slow target: the call was made');

# distinct targets: the third opens it, not the second

$fx->control(prefix => '/dist', params => { delay => 600 });

for my $tg ('10.1.0.1', '10.1.0.1', '10.1.0.2', '10.1.0.2', '10.1.0.1') {
    $e = entry('dist', $tg);
    is($e->{error}{kind}, 'timeout', "distinct: $tg times out");
}
is(breaker_state('dist'), 0, 'distinct: 2 distinct failing targets: closed');

$e = entry('dist', '10.1.0.3');
is($e->{error}{kind}, 'timeout', 'distinct: a third target times out');
is(breaker_state('dist'), 1, 'distinct: 3 distinct failing targets: open');

$fx->reset;
$e = entry('dist', '10.1.0.4');
is($e->{error}{kind}, 'breaker_open', 'distinct: then breaker_open');
is($fx->calls_for('/dist/10.1.0.4'), 0, 'distinct: no call while open');

###############################################################################
# ITEM 5: cache bypass only where osint_cache_bypass allows it

$fx->reset;
$e = entry('cached', '10.2.0.1');
is($e->{cache}, 'miss', 'bypass: first lookup is a miss');

$e = entry('cached', '10.2.0.1&refresh=1');
is($e->{cache}, 'l1', 'bypass: refresh=1 without osint_cache_bypass: l1');

$e = entry('cached', '10.2.0.1', '/lookup', { 'Cache-Control' => 'no-cache' });
is($e->{cache}, 'l1', 'bypass: no-cache without osint_cache_bypass: l1');
is($fx->calls_for('/cached/10.2.0.1'), 1,
   'bypass: neither called the provider again');

$e = entry('cached', '10.2.0.1', '/bypass', { 'Cache-Control' => 'no-cache' });
is($e->{cache}, 'l1', 'bypass: $arg_refresh empty: no-cache ignored');

$e = entry('cached', '10.2.0.1&refresh=0', '/bypass');
is($e->{cache}, 'l1', 'bypass: refresh=0 is "0": no bypass');

$e = entry('cached', '10.2.0.1&refresh=1', '/bypass');
is($e->{cache}, 'bypass', 'bypass: osint_cache_bypass $arg_refresh: bypass');
is($fx->calls_for('/cached/10.2.0.1'), 2,
   'bypass: the provider was called again');

###############################################################################
# ITEM 6: a batch costs one token per target

$fx->reset;
my $res = $t->post('/limited?providers=batch',
                   { targets => [ map { "10.3.0.$_" } 1 .. 5 ] });
is($res->{status}, 200, 'batch: 200');
my @lines = map { OsintTest::decode_json_or_undef($_) }
            split /\n/, $res->{content} // '';
is(scalar @lines, 5, 'batch: 5 lines');
is(scalar(grep { $_ && $_->{error} && $_->{error}{kind} eq 'rate_limited' }
          @lines), 4, 'batch: 4 lines rate_limited')
    or diag $res->{content};
is(scalar(grep { $_ && $_->{providers} && $_->{providers}{batch}{status} eq 'ok' }
          @lines), 1, 'batch: 1 lookup made');
is($fx->calls, 1, 'batch: exactly 1 provider call');

###############################################################################
# ITEM 7: Retry-After clamped before it is multiplied

my $i = 0;
for my $ra ('99999999999999999', '99999999999999999999', '-5',
            'Fri, 31 Dec 9999 23:59:59 GMT')
{
    my $p = 'ra' . ++$i;
    $fx->control(prefix => "/$p", params => { status => 429,
                                              retry_after => $ra });
    $fx->reset;
    $e = entry($p, "10.4.$i.1");
    is($e->{error}{kind}, 'rate_limited', "Retry-After $ra: rate_limited");
    is($e->{attempts}, 1, "Retry-After $ra: no retry at once");

    $e = entry($p, "10.4.$i.2");
    is($e->{status}, 'skipped', "Retry-After $ra: the provider is held");
    is($e->{error}{message}, 'the provider asked to wait (Retry-After)',
       "Retry-After $ra: held by the 429");
    is($fx->calls, 1, "Retry-After $ra: one call in all");
}

# "-5" is no valid Retry-After: the hold of a 429 without one, 1 s

select(undef, undef, undef, 1.2);
$fx->reset;
$e = entry('ra3', '10.4.3.3');
is($e->{attempts}, 1, 'Retry-After -5: held 1 s, then called again');
$e = entry('ra1', '10.4.1.3');
is($e->{status}, 'skipped', 'Retry-After 99999999999999999: still held');

###############################################################################
# ITEM 8: quotas survive a failed reload and a resized zone

$fx->clear_control;
$fx->reset;
is(entry('q', '10.5.0.1')->{status}, 'ok', 'quota: first call');
is(entry('q', '10.5.0.2')->{status}, 'ok', 'quota: second call');

sub quota_spent {
    my ($what) = @_;
    my $e = entry('q', '10.5.9.' . ++$i);
    is($e->{error}{message}, 'the quota of the period is spent',
       "quota: $what: still spent");
    is($fx->calls_for('/q/10.5.9.' . $i), 0, "quota: $what: no call");
}

quota_spent('no reload');

# a configuration nginx cannot parse

$t->allow_log(qr/\[emerg\]/);
$t->write_conf(conf() . "\n    osint_nonsense on;\n");
$t->reload(expect_fail => 1);
quota_spent('failed reload (bad directive)');

# one that fails after the zones were set up (a port in use), without q

my $hold = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                 LocalPort => $t->port(2),
                                 Listen => 1, ReuseAddr => 0)
    or die "cannot bind port 2: $!";
my $mark = $t->log_mark;
$t->write_conf(conf(without_q => 1, bad => 1));
$t->reload(expect_fail => 1);
ok($t->wait_log(qr/still could not bind/, 10, $mark),
   'quota: the reload failed (bind)');
close $hold;
quota_spent('failed reload (bind)');

$t->write_conf(conf());
$t->reload(wait_old => 1);
quota_spent('reload after a failed reload without q');

# the zone resized: nginx makes a new one

$t->write_conf(conf(zone => '9m'));
$t->reload(wait_old => 1);
quota_spent('reload with a resized zone');

$t->done_testing;
