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

my @src = ("$top/t/unit/formats.c", glob("$top/src/formats/*.c"),
           "$top/src/core/ngx_http_osint_verdict.c");

my @san = sanitizers();
my $bin = "$out/formats";
my @cc = ('cc', '-O1', '-g', '-W', '-Wall', '-Wpointer-arith', '-Werror',
          '-Wno-unused-parameter', @san, @inc, "-I$top/src", "-I$top/src/core",
          '-o', $bin,
          @src, '-lcjson');

if (system(@cc) != 0) {
    print "Bail out! cannot compile the unit tests: @cc\n";
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
