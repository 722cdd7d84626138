#!/usr/bin/perl

# Unit tests of the module's pure functions, in C (t/unit/*.c): each is
# compiled against the configured nginx tree in build/ and run; its TAP
# output is this test's output.

use strict;
use warnings;

use FindBin;

my $top = "$FindBin::Bin/..";
my $ngx = "$top/build/nginx";
my $out = "$top/build/unit";

unless (-f "$ngx/objs/ngx_auto_config.h") {
    print "Bail out! $ngx is not configured: run make build\n";
    exit 255;
}

mkdir $out;

my @inc = map { "-I$ngx/$_" }
    qw(src/core src/event src/event/modules src/os/unix objs src/http
       src/http/modules src/http/v2);

my $bin = "$out/resilience";
my @cc = ('cc', '-O1', '-g', '-Wall', '-Werror', '-Wno-unused-parameter',
          @inc, "-I$top/src", "-I$top/src/core", '-o', $bin,
          "$top/t/unit/resilience.c",
          "$top/src/core/ngx_http_osint_resilience.c");

if (system(@cc) != 0) {
    print "Bail out! cannot compile the unit tests: @cc\n";
    exit 255;
}

exec $bin or die "exec $bin: $!\n";
