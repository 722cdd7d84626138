#!/usr/bin/perl

# Unit tests of the module's pure functions, in C (t/unit/resilience.c),
# built and run by t/lib/OsintUnit.pm; its tests are this test's subtest.

use strict;
use warnings;

use Test::More;
use FindBin;

use lib "$FindBin::Bin/lib";
use OsintUnit qw(unit_run);

unit_run('resilience');

done_testing();
