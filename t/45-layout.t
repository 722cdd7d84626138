#!/usr/bin/perl

# The layout of src/ keeps itself: tools/depgraph.py finds no circle of
# function calls between files outside the edge limiter's wing
# (src/limit/), and finds one where there is; the pure code (src/core/,
# src/formats/) includes neither ngx_http.h nor the glue's header; config
# builds every source file and lists every header in ngx_module_deps;
# README's layout names every source file; the Perl harness of t/lib/ has
# one package per file, named after its path.

use strict;
use warnings;

use Test::More;
use FindBin;
use File::Temp qw(tempdir);

my $top = "$FindBin::Bin/..";
my $tool = "$top/tools/depgraph.py";


# the module's own graph

my $out = qx(python3 $tool $top 2>&1);
is($? >> 8, 0, 'depgraph: no circle outside src/limit/') or diag($out);
like($out, qr/^circles outside src\/limit\/: 0$/m, '... and says so');
unlike($out, qr/^circle: /m, '... no circle but allowed ones');
like($out, qr/^src\/ngx_http_osint_handler\.c: .*ngx_http_osint_lookup\.c/m,
     'the handler calls the lookup');
unlike($out,
       qr/^src\/ngx_http_osint_lookup\.c: .*_(batch|handler|response)\.c/m,
       'the lookup calls neither the batch, the handler nor the sender');
unlike($out, qr/^src\/ngx_http_osint_call\.c: .*_(lookup|response)\.c/m,
       'a call reports through call->done, labels come from src/core/');


# the tool itself finds a circle, and a call through a pointer is none

my $dir = tempdir('osint-layout-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$dir/src";

write_file("$dir/src/a.c", "void\nf_a(void)\n{\n    f_b();\n}\n");
write_file("$dir/src/b.c", "void\nf_b(void)\n{\n    f_a();\n}\n");

$out = qx(python3 $tool $dir 2>&1);
is($? >> 8, 1, 'depgraph fails on a circle') or diag($out);
like($out, qr/^circle: src\/a\.c src\/b\.c$/m, '... and names its files');

write_file("$dir/src/b.c",
           "static void\nf_b_local(void)\n{\n}\n\n"
           . "void\nf_b(struct x *x)\n{\n    x->done(x);\n}\n");

$out = qx(python3 $tool $dir 2>&1);
is($? >> 8, 0, 'a report through a pointer is no circle') or diag($out);


# the pure code's includes

for my $f (glob("$top/src/core/*.[ch] $top/src/formats/*.[ch]")) {
    my $text = read_file($f);
    my @bad = $text
        =~ /^#include\s+([<"](?:ngx_http|ngx_http_osint|ngx_event)\.h[>"])/mg;
    (my $name = $f) =~ s/^\Q$top\E\///;
    is("@bad", '', "$name includes no request or event header");
}


# config: every source built, every header a dependency

my $config = read_file("$top/config");

for my $f (glob("$top/src/*.c $top/src/*/*.c")) {
    (my $name = $f) =~ s/^\Q$top\E\///;
    like($config, qr/\$ngx_addon_dir\/\Q$name\E\b/, "config builds $name");
}

my ($deps) = $config =~ /ngx_module_deps="([^"]*)"/;

for my $f (glob("$top/src/*.h $top/src/*/*.h")) {
    (my $name = $f) =~ s/^\Q$top\E\///;
    like($deps // '', qr/\$ngx_addon_dir\/\Q$name\E\b/,
         "ngx_module_deps lists $name");
}


# README's layout names every source file

my $readme = read_file("$top/README.md");

for my $f (glob("$top/src/*.c $top/src/*/*.c")) {
    (my $short = $f) =~ s/^.*ngx_http_osint//;
    like($readme, qr/`\Q$short\E`/, "README's layout names $short");
}


# t/lib: one package per file, OsintTest/Fixture.pm is OsintTest::Fixture

my @pm = map { glob("$top/t/lib/$_") } qw(*.pm */*.pm */*/*.pm);

ok(@pm >= 4, 't/lib holds the harness') or diag("@pm");

for my $f (@pm) {
    (my $name = $f) =~ s/^\Q$top\E\/t\/lib\///;
    (my $package = $name) =~ s/\.pm$//;
    $package =~ s/\//::/g;
    my @packages = read_file($f) =~ /^\s*package\s+([\w:]+)/mg;
    is("@packages", $package, "t/lib/$name declares package $package only");
}

done_testing();


sub read_file {
    my ($name) = @_;
    open my $fh, '<', $name or die "$name: $!";
    local $/;
    return <$fh>;
}


sub write_file {
    my ($name, $text) = @_;
    open my $fh, '>', $name or die "$name: $!";
    print $fh $text;
    close $fh;
}
