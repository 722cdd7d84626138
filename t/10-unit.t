#!/usr/bin/perl

# Unit tests of the module's pure functions, in C (t/unit/resilience.c,
# t/unit/json.c), built and run by t/lib/OsintUnit.pm; their tests are
# this test's subtests.

use strict;
use warnings;

use Test::More;
use FindBin;

use lib "$FindBin::Bin/lib";
use OsintUnit qw(unit_run);

unit_run('resilience');
unit_run('json');

done_testing();
