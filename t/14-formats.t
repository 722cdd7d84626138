#!/usr/bin/perl

# Unit tests of the built-in provider normalisers (src/formats/) and the
# verdict, in C (t/unit/formats.c): compiled against the configured nginx
# tree in build/ with libcjson, and run over the canned bodies of
# t/lib/bodies; its TAP output is this test's output.  Built with
# AddressSanitizer and UBSan when the compiler can, so that an
# out-of-bounds read, a leak or undefined behaviour on odd JSON fails it.

use strict;
use warnings;

use FindBin;
use File::Temp qw(tempdir);

use lib "$FindBin::Bin/lib";
use OsintUnit qw(unit_build);

my $top = "$FindBin::Bin/..";
my $out = "$top/build/unit";

mkdir $out;

my @san = sanitizers();
my $bin = "$out/formats";
my $err = unit_build('formats', $bin, @san);

if ($err) {
    print "Bail out! cannot compile the unit tests: $err\n";
    exit 255;
}

print "# built with @san\n" if @san;

$ENV{ASAN_OPTIONS} = 'detect_leaks=1:abort_on_error=0';
$ENV{UBSAN_OPTIONS} = 'print_stacktrace=1:halt_on_error=1';

exec $bin, "$top/t/lib/bodies" or die "exec $bin: $!\n";


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
