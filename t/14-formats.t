#!/usr/bin/perl

# Unit tests of the built-in provider normalisers (src/formats/) and the
# verdict, in C (t/unit/formats.c): built and run by t/lib/OsintUnit.pm
# over the canned bodies of t/lib/bodies; its tests are this test's
# subtest.  Built with AddressSanitizer and UBSan when the compiler can, so
# that an out-of-bounds read, a leak or undefined behaviour on odd JSON
# fails it.

use strict;
use warnings;

use Test::More;
use FindBin;
use File::Temp qw(tempdir);

use lib "$FindBin::Bin/lib";
use OsintUnit qw(unit_run);

my @san = sanitizers();

note("built with @san") if @san;

unit_run('formats', flags => \@san, args => ["$FindBin::Bin/lib/bodies"],
         env => { ASAN_OPTIONS => 'detect_leaks=1:abort_on_error=0',
                  UBSAN_OPTIONS => 'print_stacktrace=1:halt_on_error=1' });

done_testing();


# the sanitizer flags this compiler and system can build and run with
sub sanitizers {
    my @flags = ('-fsanitize=address,undefined', '-fno-omit-frame-pointer',
                 '-fno-sanitize-recover=undefined');
    my $dir = tempdir('osint-san-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);

    open my $fh, '>', "$dir/t.c" or return ();
    print $fh "#include <stdlib.h>\n"
            . "int main(void) { char *p = malloc(4); free(p); return 0; }\n";
    close $fh;

    return () if system('cc', @flags, '-o', "$dir/t", "$dir/t.c") != 0;

    local $ENV{ASAN_OPTIONS} = 'detect_leaks=1';
    return () if system("$dir/t") != 0;

    return @flags;
}
