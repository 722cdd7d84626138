#!/usr/bin/perl

# conf.example, the configuration `make run` starts, shows the three ways
# the module is used, and each works as written (only its providers'
# hosts pointed at the fixture, its port, Redis port and paths moved into
# the test directory): lookups with the Redis L2 cache (osint_redis), an
# edge-limited API location (osint_limit), and the ops status page.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

plan(skip_all => 'redis-server not installed') unless OsintTest::have_redis();

my $ROOT = "$FindBin::Bin/..";
my $conf = do { local $/; open my $fh, '<', "$ROOT/conf.example" or die $!;
                <$fh> };

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $redis = $t->redis;

# canned answers of the fixture, by provider host
my %BODY = ('internetdb.shodan.io' => 'internetdb', 'ipinfo.io' => 'ipinfo',
            'rdap.org/domain' => 'rdap_domain', 'rdap.org/ip' => 'rdap_ip',
            'crt.sh' => 'crtsh', 'dns.google' => 'dns_a',
            'api.greynoise.io' => 'greynoise');

like($conf, qr/^\s*osint_redis 127\.0\.0\.1:6379\b/m, 'osint_redis set');
like($conf, qr/^\s*osint_limit_zone api:/m, 'an osint_limit_zone');
like($conf, qr/^\s*osint_limit zone=api;/m, 'a location limited by it');

$conf =~ s{url "https://([^/"]+)(/[^"]*)"}{
    my ($host, $path) = ($1, $2);
    my ($b) = map { $BODY{$_} } grep { "$host$path" =~ /^\Q$_\E/ } keys %BODY;
    my $q = $b ? (($path =~ /\?/ ? '&' : '?') . "body=$b") : '';
    'url "http://127.0.0.1:%%FX0%%/' . $host . $path . $q . '"'
}ge;
$conf =~ s{osint_redis 127\.0\.0\.1:6379}{'osint_redis 127.0.0.1:' . $redis->port}e;
$conf =~ s{listen 127\.0\.0\.1:8080;}{listen 127.0.0.1:%%PORT%%;};
$conf =~ s{load_module modules/\S+;}{load_module %%MODULE%%;};
$conf =~ s{^pid .*\n}{}m;
$conf =~ s{access_log logs/}{access_log %%TESTDIR%%/}g;
unlike($conf, qr{https://}, 'every provider pointed at the fixture');
$t->conf_raw($conf);

my ($rc, $out) = $t->nginx_test;
is($rc, 0, 'nginx -t') or diag $out;
$t->run;

ok($t->wait_until(sub { $t->get('/status')->{content} =~ /^osint_redis_up 1$/m },
                  10), 'Redis up');

# 1. lookups, cached in Redis too
my ($code, $doc) = $t->get_json('/lookup?target=8.8.8.8');
is($code, 200, 'lookup 200');
is($doc->{providers}{internetdb}{status}, 'ok', 'internetdb ok');
is($doc->{providers}{virustotal_ip}{status}, 'skipped',
   'a keyed provider without its key: skipped');
ok($t->wait_until(sub {
       $t->get('/status')->{content}
           =~ /^osint_cache_requests_total\{provider="[^"]+",tier="redis",result="miss"\} [1-9]/m
   }, 5), 'the Redis tier asked');

# 2. the edge-limited API location: burst 20 at 10r/s, then 429
my @codes = map { $t->get('/api/lookup?target=192.0.2.7')->{status} } 1 .. 25;
my $n429 = grep { $_ == 429 } @codes;
ok($n429 >= 1 && $n429 <= 5, "API location: $n429 of 25 rejected (burst 20)")
    or diag "@codes";
is($codes[0], 200, 'API location: the first one looked up');

# 3. the ops status page
my $res = $t->get('/status?format=html');
is($res->{status}, 200, 'status page 200');
like($res->{headers}{'content-type'}, qr{^text/html}, 'status page: HTML');
like($t->get('/status')->{content},
     qr/^osint_limit_requests_total\{zone="api",result="rejected"\} $n429$/m,
     'the rejections counted');

$t->stop;
done_testing;
