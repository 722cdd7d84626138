#!/usr/bin/perl

# make install DESTDIR=...: the module lands in DESTDIR + the modules path
# nginx -V reports (--modules-path), mode 0644, the same bytes as the
# build's; a nginx -t loading it from there passes.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $ROOT = "$FindBin::Bin/..";
my $dest = tempdir('osint-install-XXXXXX', TMPDIR => 1, CLEANUP => 1);

my ($modules) = `$OsintTest::NGINX -V 2>&1` =~ /--modules-path=(\S+)/;
ok($modules, "nginx -V: --modules-path=$modules");

my $out = `make -s -C $ROOT install DESTDIR=$dest 2>&1`;
is($?, 0, 'make install DESTDIR exits 0') or diag $out;

my $so = "$dest$modules/ngx_http_osint_module.so";
ok(-f $so, "installed at $so");
is((stat $so)[2] & 07777, 0644, 'mode 0644');
is(`cmp $so $ROOT/build/ngx_http_osint_module.so 2>&1`, '',
   'the same bytes as build/');

my @left = grep { $_ ne $so } split /\n/, `find $dest -type f`;
is_deeply(\@left, [], 'nothing else installed');

my $conf = "$dest/nginx.conf";
open my $fh, '>', $conf or die $!;
print $fh "load_module $so;\nevents {}\nhttp { osint_zone 1m; }\n";
close $fh;
my $t = `$OsintTest::NGINX -t -q -p $dest/ -c $conf -g 'pid $dest/n.pid; error_log stderr;' 2>&1`;
is($?, 0, 'nginx -t loads the installed module') or diag $t;

done_testing;
