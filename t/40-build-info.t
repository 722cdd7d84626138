#!/usr/bin/perl

# The version the module reports: osint_build_info in the Prometheus text
# of osint_status, with the module's version (the same string as in the
# User-Agent sent to providers, the JSON status and CHANGELOG.md's newest
# entry) and the version of the nginx that runs it.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $ROOT = "$FindBin::Bin/..";

my ($header) = grep { /NGX_HTTP_OSINT_VERSION\s+"/ }
               do { open my $fh, '<', "$ROOT/src/core/ngx_http_osint_core.h" or die $!;
                    <$fh> };
my ($version) = $header =~ /"([^"]+)"/;
like($version, qr/^\d+\.\d+\.\d+$/, "the module's version: $version");

open my $ch, '<', "$ROOT/CHANGELOG.md" or die "CHANGELOG.md: $!";
my ($newest) = grep { /^## \[?\d/ } <$ch>;
like($newest, qr/^## \[?\Q$version\E\]?\b/,
     'CHANGELOG.md: the newest entry is the version the module reports');

my ($nginx_version) = `$OsintTest::NGINX -v 2>&1` =~ m{nginx/(\S+)};
ok($nginx_version, "nginx version: $nginx_version");

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;

$t->write_conf(<<'EOF2');
    osint_zone 1m;

    osint_provider A {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target";
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF2

$t->run;

my $res = $t->get('/status');
is($res->{status}, 200, 'status 200');

my @info = grep { /^osint_build_info/ } split /\n/, $res->{content};
is_deeply(\@info,
          ["osint_build_info{version=\"$version\",nginx=\"$nginx_version\"} 1"],
          'one osint_build_info line with both versions');
like($res->{content}, qr/^# TYPE osint_build_info gauge$/m, 'its TYPE');
like($res->{content}, qr/^# HELP osint_build_info \S/m, 'its HELP');

my ($code, $json) = $t->get_json('/status?format=json');
is($json->{version}, $version, 'the JSON status: the same version');

$fx->reset;
my ($lc) = $t->get_json('/lookup?target=192.0.2.1');
is($lc, 200, 'lookup 200');

my @ua = map { $_->{headers}{'user-agent'} // '' } @{$fx->log};
is_deeply(\@ua, ["ngx_http_osint_module/$version"],
          'User-Agent sent to the provider: the same version');

$t->stop;
done_testing;
