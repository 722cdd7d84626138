#!/usr/bin/perl

# Age of answers (issue 18, deliverable 4): every provider answer carries
# "age", seconds since its provider answered (0 for a call made now), kept
# across L1 and Redis hits (the Redis value carries "at", and a value
# written before "at" existed is still read); the document gets
# Cache-Control: max-age=N, the least freshness left of its answers, or
# no-store when a provider failed; a batch answer is no-store and its
# lines' answers carry their age.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

plan(skip_all => 'redis-server not installed') unless OsintTest::have_redis();

my $t = OsintTest->new;
my $fx = $t->fixture;
my $redis = $t->redis;
my $rport = $redis->port;

sub conf {
    my ($l1) = @_;
    return <<"EOF";
    osint_zone 8m;
    osint_deadline 3s;
    osint_cache_l1 $l1;
    osint_redis 127.0.0.1:$rport timeout=500ms prefix=age:;

    osint_provider echo {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/echo/\$osint_target";
        cache_ttl 6s not_found=3s stale=30s;
        breaker off;
    }

    osint_provider nf {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/nf/\$osint_target?status=404";
        cache_ttl 10s not_found=3s;
        breaker off;
    }

    osint_provider fail {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/fail/\$osint_target?status=500";
        cache_ttl 10s;
        retries 0;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF
}

$t->write_conf(conf('on'));
$t->run;

ok($t->wait_until(sub { $t->get('/status')->{content} =~ /^osint_redis_up 1$/m },
                  10), 'redis connected');

sub max_age {
    my ($res) = @_;
    my $cc = $res->{headers}{'cache-control'} // '';
    return $cc =~ /^max-age=(\d+)$/ ? $1 : undef;
}

###############################################################################
# a call made now: age 0, max-age the TTL

my $t0 = time;
my ($st, $doc, $res) = $t->get_json('/lookup?target=192.0.2.10&providers=echo');
is($st, 200, 'miss: 200');
is($doc->{providers}{echo}{cache}, 'miss', 'miss: from the provider');
is($doc->{providers}{echo}{age}, 0, 'miss: age 0');
my $ma0 = max_age($res);
ok(defined $ma0 && $ma0 >= 5 && $ma0 <= 6,
   'miss: Cache-Control max-age=5..6 (' . ($res->{headers}{'cache-control'}
                                          // 'none') . ')');

# the Redis value carries when the provider answered
my $stored;
$t->wait_until(sub { $stored = $redis->cmd('GET', 'age:echo:192.0.2.10');
                     defined $stored }, 5);
my $val = OsintTest::decode_json_or_undef($stored // '');
ok($val && defined $val->{at} && abs($val->{at} - $t0) <= 1.5,
   'redis value has "at", the time of the answer')
    or diag($stored // 'no value');

###############################################################################
# an L1 hit two seconds later: older, fresher for less

sleep 2.2;

($st, $doc, $res) = $t->get_json('/lookup?target=192.0.2.10&providers=echo');
is($doc->{providers}{echo}{cache}, 'l1', 'l1 hit');
my $age = $doc->{providers}{echo}{age};
ok(defined $age && $age >= 2 && $age <= 3, "l1 hit: age 2..3 (" . ($age // 'none') . ")");
my $ma1 = max_age($res);
ok(defined $ma1 && $ma1 >= 2 && $ma1 <= 4 && $ma1 < $ma0,
   "l1 hit: max-age shrank to 2..4 (" . ($ma1 // 'none') . ")");

###############################################################################
# a Redis hit (L1 off): the age is the one the value carries

$t->write_conf(conf('off'));
$t->reload;
ok($t->wait_until(sub { $t->get('/status')->{content} =~ /^osint_redis_up 1$/m },
                  10), 'redis connected after reload');

sleep 0.6;
($st, $doc, $res) = $t->get_json('/lookup?target=192.0.2.10&providers=echo');
is($doc->{providers}{echo}{cache}, 'redis', 'redis hit');
$age = $doc->{providers}{echo}{age};
my $want = int(time - $t0);
ok(defined $age && $age >= $want - 1 && $age <= $want + 1,
   "redis hit: age $want +-1 (" . ($age // 'none') . ")");
my $ma2 = max_age($res);
# whole seconds on both sides: against the 6 s TTL and the time gone by,
# not against the L1 hit's figure, which may round the other way
ok(defined $ma2 && $ma2 <= 6 - $want + 1 && $ma2 >= 1,
   "redis hit: max-age shrank again to at most 7 - $want ("
   . ($ma2 // 'none') . ")");
is($fx->calls_for('/echo/192.0.2.10'), 1, 'the provider was called once');

# a value written before "at" existed: still read, aged from its TTL
my $now = int(time);
$redis->cmd('SET', 'age:echo:192.0.2.11',
            '{"v":1,"fp":"' . $val->{fp} . '","status":"ok","fresh_until":'
            . ($now + 4) . ',"data":{"old":true}}', 'EX', 30);
($st, $doc, $res) = $t->get_json('/lookup?target=192.0.2.11&providers=echo');
is($doc->{providers}{echo}{cache}, 'redis', 'old value: a redis hit');
is_deeply($doc->{providers}{echo}{data}, { old => JSON::PP::true() },
          'old value: its data');
$age = $doc->{providers}{echo}{age};
ok(defined $age && $age >= 2 && $age <= 3,
   "old value: age = TTL - freshness left = 2..3 (" . ($age // 'none') . ")");
is($fx->calls_for('/echo/192.0.2.11'), 0, 'old value: no call');

###############################################################################
# not_found: its own TTL; a failed provider: no-store and no age

($st, $doc, $res) = $t->get_json('/lookup?target=192.0.2.12&providers=nf');
is($doc->{providers}{nf}{status}, 'not_found', 'not_found');
is($doc->{providers}{nf}{age}, 0, 'not_found: age 0');
my $ma3 = max_age($res);
ok(defined $ma3 && $ma3 >= 2 && $ma3 <= 3,
   "not_found: max-age of not_found=3s (" . ($ma3 // 'none') . ")");

($st, $doc, $res) = $t->get_json('/lookup?target=192.0.2.10&providers=echo,fail');
is($doc->{providers}{fail}{status}, 'error', 'fail: error');
ok(!exists $doc->{providers}{fail}{age}, 'fail: no age');
ok(defined $doc->{providers}{echo}{age}, 'echo beside it: its age');
is($res->{headers}{'cache-control'}, 'no-store', 'a provider failed: no-store');

###############################################################################
# batch: no-store, each line's answers with their age

$res = $t->post('/lookup?providers=echo',
                { targets => ['192.0.2.10', '192.0.2.13'] });
is($res->{status}, 200, 'batch: 200');
is($res->{headers}{'cache-control'}, 'no-store', 'batch: no-store');
my %ages = map { my $d = OsintTest::decode_json_or_undef($_);
                 $d ? ($d->{target} => $d->{providers}{echo}{age}) : () }
           split /\n/, $res->{content} // '';
ok(defined $ages{'192.0.2.10'} && $ages{'192.0.2.10'} >= 2,
   'batch: a cached answer has its age');
is($ages{'192.0.2.13'}, 0, 'batch: a new answer has age 0');

$t->stop;
unlike($t->error_log, qr/\[(?:alert|emerg|crit)\]/, 'no alerts');

done_testing();
