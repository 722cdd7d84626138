#!/usr/bin/perl

# Unit tests of the module's pure functions, in C (t/unit/*.c): each is
# compiled against the configured nginx tree in build/ and run; its TAP
# output is this test's output.

use strict;
use warnings;

use FindBin;

use lib "$FindBin::Bin/lib";
use OsintUnit qw(unit_build);

my $out = "$FindBin::Bin/../build/unit";

mkdir $out;

my $bin = "$out/resilience";
my $err = unit_build('resilience', $bin);

if ($err) {
    print "Bail out! cannot compile the unit tests: $err\n";
    exit 255;
}

exec $bin or die "exec $bin: $!\n";
