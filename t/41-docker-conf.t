#!/usr/bin/perl

# The Docker image's configuration, without Docker: docker/configure.sh
# (what the Dockerfile runs on /etc/nginx) applied to a copy of the official
# image's nginx.conf (docker/nginx.conf.image) in a directory laid out like
# the image's /etc/nginx (conf.d/, snippets/, mime.types, a modules link to
# the module built here) beside a user's own conf.d/ file.  Only the
# image's absolute paths are moved under the test directory (/etc/nginx,
# the logs, the pid), the listen address made 127.0.0.1 and the providers
# pointed at the fixture.  Then nginx -t, a lookup, the status page, the
# health check the HEALTHCHECK calls, and the user's server still served.
# And docker/runtime-deps.sh: every library the .so needs (ldd) is held by
# a package of its list.

use strict;
use warnings;

use Test::More;
use Cwd ();
use File::Path qw(make_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $ROOT = "$FindBin::Bin/..";

sub slurp { local $/; open my $fh, '<', $_[0] or die "$_[0]: $!"; <$fh> }
sub spew { open my $fh, '>', $_[0] or die "$_[0]: $!"; print $fh $_[1]; }

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $dir = $t->testdir;
my $etc = "$dir/etc/nginx";
my $port = $t->port;
my $uport = $t->port(2);
my $mport = $t->port(3);

make_path("$etc/conf.d");
spew("$etc/nginx.conf", slurp("$ROOT/docker/nginx.conf.image"));
spew("$etc/mime.types", slurp('/etc/nginx/mime.types'));
symlink(Cwd::abs_path("$ROOT/build"), "$etc/modules") or die $!;
spew("$etc/conf.d/user.conf", <<"EOF");
server {
    listen 127.0.0.1:8081;
    location = /mine { return 200 "user's conf.d\\n"; }
}

# README "Docker": Prometheus outside the container scrapes a port of its
# own, allowed from its network (the image's /osint/status is loopback's)
server {
    listen 127.0.0.1:9113;
    location = /metrics {
        osint_status;
        allow 127.0.0.0/8;
        deny all;
    }
}
EOF

for my $run (1, 2) {
    my $out = `$ROOT/docker/configure.sh $etc $ROOT/packaging/conf $ROOT/docker 2>&1`;
    is($?, 0, "configure.sh, run $run") or diag $out;
}

my $main = slurp("$etc/nginx.conf");
is((split /\n/, $main)[0], 'load_module modules/ngx_http_osint_module.so;',
   'load_module is the first line of nginx.conf');
is(scalar(() = $main =~ /^load_module/mg), 1, 'once, after two runs');
ok(-f "$etc/$_", "$_ in place")
    for qw(conf.d/osint.conf conf.d/osint-server.conf
           snippets/osint-locations.conf conf.d/user.conf);

# the image's absolute paths, under the test directory
my $FX = 'http://127.0.0.1:' . $fx->port;
for my $f (glob("$etc/conf.d/*.conf"), "$etc/snippets/osint-locations.conf") {
    my $text = slurp($f);
    $text =~ s{listen 8080;}{listen 127.0.0.1:$port;}g;
    $text =~ s{listen 127\.0\.0\.1:8081;}{listen 127.0.0.1:$uport;}g;
    $text =~ s{listen 127\.0\.0\.1:9113;}{listen 127.0.0.1:$mport;}g;
    $text =~ s{^\s*listen \[::\]:8080;\n}{}mg;
    $text =~ s{/etc/nginx/}{$etc/}g;
    $text =~ s{https://internetdb\.shodan\.io/\$osint_target}
              {$FX/idb/\$osint_target?body=internetdb}g;
    spew($f, $text);
}
$main =~ s{^user\s+nginx;\n}{}m;
$main =~ s{^pid\s.*\n}{}m;
$main =~ s{/var/log/nginx/}{$dir/}g;
$main =~ s{/etc/nginx/}{$etc/}g;
$main =~ s{load_module modules/}{load_module $etc/modules/};
# the placeholder tells the harness which port to wait for at start
$t->conf_raw("# osint-server.conf listens on %%PORT%%\n$main");

my ($rc, $out) = $t->nginx_test;
is($rc, 0, 'nginx -t') or diag $out;

$t->run;

my ($code, $doc) = $t->get_json('/osint/lookup?target=8.8.8.8');
is($code, 200, 'lookup 200');
is($doc->{providers}{internetdb}{status}, 'ok', 'internetdb ok (fixture)');

my $res = $t->get('/osint/healthz');
is($res->{status}, 200, 'the HEALTHCHECK location: 200');

$res = $t->get('/osint/status');
like($res->{content}, qr/^osint_build_info\{/m, 'status: Prometheus text');

$res = $t->request('GET', '/mine', port => $uport);
is($res->{content}, "user's conf.d\n", "the user's conf.d/ server still served");

$res = $t->request('GET', '/metrics', port => $mport);
like($res->{content}, qr/^osint_build_info\{/m,
     "a scrape port of the user's conf.d/: Prometheus text");

like(slurp("$dir/access.log"), qr{"GET /osint/lookup\?target=8\.8\.8\.8 },
     'access log written where the image links it to stdout');

$t->stop;

# docker/runtime-deps.sh on the module built here
my $so = "$ROOT/build/ngx_http_osint_module.so";
my @pkgs = split /\n/, `$ROOT/docker/runtime-deps.sh $so`;
is($?, 0, 'runtime-deps.sh exits 0: ' . join(' ', @pkgs));
ok((grep { $_ eq 'libcurl4' } @pkgs)
   && (grep { $_ eq 'libhiredis0.14' } @pkgs)
   && (grep { $_ eq 'libcjson1' } @pkgs),
   'libcurl4, libhiredis0.14 and libcjson1 among them');

my %have = map { $_ => 1 } @pkgs;
my @libs = map { /=> (\/\S+)/ ? $1 : () } split /\n/, `ldd $so`;
ok(@libs > 3, scalar(@libs) . ' libraries linked');
for my $lib (@libs) {
    my $pkg;
    for my $path ($lib, Cwd::abs_path($lib), "/usr$lib") {
        ($pkg) = `dpkg -S $path 2>/dev/null` =~ /^([^:\s]+)/ and last;
    }
    ok($pkg && $have{$pkg}, "$lib: package " . ($pkg // '(none)') . ' listed');
}

`$ROOT/docker/runtime-deps.sh $dir/missing.so 2>&1`;
isnt($?, 0, 'runtime-deps.sh fails on a missing file');

done_testing;
