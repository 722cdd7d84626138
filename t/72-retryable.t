#!/usr/bin/perl

# Errors say whether to retry (issue 20, item 3): every provider error
# carries error.retryable, and error.retry_after (seconds) when it is
# known: a 429's Retry-After, the hold it left, a breaker's cooldown left,
# a spent bucket's wait, the quota period's end; the request's own error
# documents (400, a batch's invalid line, the edge limiter's 429) carry
# retryable too.  The table is docs/document.md's.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new;
my $fx = $t->fixture;

$t->main_conf("env OSINT_T_UNSET_RETRY_KEY;");
$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 3s;

    osint_limit_zone edge:1m key=$binary_remote_addr rate=1r/m burst=1;

    osint_provider e500 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/e500/$osint_target?status=500";
        cache_ttl off;
        breaker off;
    }

    osint_provider e400 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/e400/$osint_target?status=400";
        cache_ttl off;
        breaker off;
    }

    osint_provider auth {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/auth/$osint_target?status=401";
        cache_ttl off;
        breaker off;
    }

    osint_provider bad {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/bad/$osint_target?fault=invalid";
        cache_ttl off;
        breaker off;
    }

    osint_provider slow {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/slow/$osint_target?delay=1000";
        timeout 200ms;
        cache_ttl off;
        breaker off;
    }

    osint_provider r429 {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/r429/$osint_target?status=429&retry_after=7";
        cache_ttl off;
        breaker off;
    }

    osint_provider brk {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/brk/$osint_target?status=503";
        cache_ttl off;
        breaker failures=1 cooldown=30s;
    }

    osint_provider bucket {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/bucket/$osint_target";
        cache_ttl off;
        rate 1r/m burst=1;
        breaker off;
    }

    osint_provider quota {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/quota/$osint_target";
        cache_ttl off;
        quota 1/h;
        breaker off;
    }

    osint_provider keyed {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/keyed/$osint_target";
        api_key env=OSINT_T_UNSET_RETRY_KEY;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /edge { osint_limit zone=edge; osint_lookup; }
    }
EOF
$t->run;

sub err_of {
    my ($prov, $target) = @_;
    my ($st, $doc) = $t->get_json("/lookup?target=$target&providers=$prov");
    return $doc && $doc->{providers}{$prov} ? $doc->{providers}{$prov} : {};
}

sub is_retry {
    my ($r, $kind, $retryable, $name) = @_;
    my $e = $r->{error} // {};
    is($e->{kind}, $kind, "$name: kind $kind");
    ok(JSON::PP::is_bool($e->{retryable}) && !!$e->{retryable} == !!$retryable,
       "$name: retryable " . ($retryable ? 'true' : 'false'));
}

###############################################################################
# the kinds

my $r = err_of('e500', '192.0.2.1');
is_retry($r, 'http_status', 1, '500');
ok(!exists $r->{error}{retry_after}, '500: no retry_after');

is_retry(err_of('e400', '192.0.2.1'), 'http_status', 0, '400');
is_retry(err_of('auth', '192.0.2.1'), 'auth', 0, '401');
is_retry(err_of('bad', '192.0.2.1'), 'bad_response', 0, 'invalid JSON');
is_retry(err_of('slow', '192.0.2.1'), 'timeout', 1, 'timeout');
{
    my ($st, $doc) = $t->get_json('/lookup?target=192.0.2.1&providers=keyed,e400');
    is_retry($doc->{providers}{keyed} // {}, 'disabled', 0, 'no key');
}

# a 429 with Retry-After: 7, then the hold it left
$r = err_of('r429', '192.0.2.1');
is_retry($r, 'rate_limited', 1, '429');
is($r->{error}{retry_after}, 7, '429: retry_after of its Retry-After');

$r = err_of('r429', '192.0.2.2');
is($r->{status}, 'skipped', 'held: skipped');
is_retry($r, 'rate_limited', 1, 'held');
ok(($r->{error}{retry_after} // 0) >= 6 && $r->{error}{retry_after} <= 7,
   'held: retry_after what is left of the hold, 6..7 ('
   . ($r->{error}{retry_after} // 'none') . ')');

# a breaker opened by one failure, cooldown 30 s
is_retry(err_of('brk', '192.0.2.1'), 'http_status', 1, '503');
$r = err_of('brk', '192.0.2.2');
is_retry($r, 'breaker_open', 1, 'breaker open');
ok(($r->{error}{retry_after} // 0) >= 29 && $r->{error}{retry_after} <= 30,
   'breaker open: retry_after the cooldown left, 29..30 ('
   . ($r->{error}{retry_after} // 'none') . ')');

# a spent bucket (1 a minute) and a spent quota (1 an hour)
is(err_of('bucket', '192.0.2.1')->{status}, 'ok', 'bucket: first ok');
$r = err_of('bucket', '192.0.2.2');
is_retry($r, 'rate_limited', 1, 'bucket spent');
ok(($r->{error}{retry_after} // 0) >= 58 && $r->{error}{retry_after} <= 60,
   'bucket spent: retry_after its wait for a token, 58..60 ('
   . ($r->{error}{retry_after} // 'none') . ')');

is(err_of('quota', '192.0.2.1')->{status}, 'ok', 'quota: first ok');
$r = err_of('quota', '192.0.2.2');
is_retry($r, 'rate_limited', 1, 'quota spent');
my $to_hour = 3600 - time % 3600;
ok(($r->{error}{retry_after} // 0) >= $to_hour - 2
   && $r->{error}{retry_after} <= $to_hour + 1,
   "quota spent: retry_after the period's end, ~$to_hour ("
   . ($r->{error}{retry_after} // 'none') . ')');

###############################################################################
# the request's own error documents

my ($st, $doc) = $t->get_json('/lookup');
is($st, 400, 'no target: 400');
is_retry($doc, 'invalid_target', 0, 'no target');

($st, $doc) = $t->get_json('/lookup?target=192.0.2.1&providers=nosuch');
is_retry($doc, 'invalid_parameter', 0, 'unknown provider');

my $res = $t->post('/lookup?providers=e500', { targets => ['192.0.2.1', 'not a target'] });
my ($line) = grep { $_ && $_->{target} eq 'not a target' }
             map { OsintTest::decode_json_or_undef($_) }
             split /\n/, $res->{content} // '';
is_retry($line // {}, 'invalid_target', 0, 'batch: an invalid line');
my ($ok_line) = grep { $_ && $_->{target} eq '192.0.2.1' }
                map { OsintTest::decode_json_or_undef($_) }
                split /\n/, $res->{content} // '';
is_retry($ok_line ? $ok_line->{providers}{e500} : {}, 'http_status', 1,
         'batch: a provider error in a line');

# the edge limiter: 1 a minute
$t->get('/edge?target=192.0.2.1&providers=e500');
($st, $doc, $res) = $t->get_json('/edge?target=192.0.2.1&providers=e500');
is($st, 429, 'edge limited: 429');
is_retry($doc, 'rate_limited', 1, 'edge limited');
ok(($doc->{error}{retry_after} // 0) >= 1, 'edge limited: retry_after');

$t->stop;

done_testing();
