package OsintUnit;

# Builds a C unit test of t/unit/ the way the fuzz targets are built: with
# the whole pure code (src/core/, src/formats/) and the stand-ins for nginx
# core of fuzz/ngx_stubs.c, against the configured nginx tree in build/.

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use Cwd qw(abs_path);

our @EXPORT_OK = qw(unit_build);

my $top = abs_path(dirname(__FILE__) . '/../..');


# unit_build(NAME, OUTPUT, EXTRA_FLAGS...): t/unit/NAME.c into OUTPUT; the
# compiler's command on failure, undef on success
sub unit_build {
    my ($name, $bin, @flags) = @_;
    my $ngx = "$top/build/nginx";

    return "$ngx is not configured: run make build"
        unless -f "$ngx/objs/ngx_auto_config.h";

    my @inc = map { "-I$ngx/$_" }
        qw(src/core src/event src/event/modules src/os/unix objs src/http
           src/http/modules src/http/v2);
    push @inc, map { "-I$top/$_" } qw(src src/core src/formats fuzz);

    my @cc = ('cc', '-O1', '-g', '-W', '-Wall', '-Wpointer-arith',
              '-Werror', '-Wno-unused-parameter', @flags, @inc, '-o', $bin,
              "$top/t/unit/$name.c", glob("$top/src/core/*.c"),
              glob("$top/src/formats/*.c"), "$top/fuzz/ngx_stubs.c",
              '-lcjson', '-lcurl', '-lm');

    return system(@cc) == 0 ? undef : "@cc";
}


1;
