package OsintUnit;

# The one runner of the C unit tests of t/unit/: unit_run() builds one the
# way the fuzz targets are built (the whole pure code of src/core/ and
# src/formats/, the stand-ins for nginx core of fuzz/ngx_stubs.c, against
# the configured nginx tree in build/), runs it and relays its TAP as a
# subtest of the calling test.
#
#   use Test::More;
#   use OsintUnit qw(unit_run);
#
#   unit_run('resilience');
#   unit_run('formats', flags => [...], args => [...], env => {...});
#   done_testing();

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Test::More ();

our @EXPORT_OK = qw(unit_run);

my $top = abs_path(dirname(__FILE__) . '/../..');


# unit_run(NAME, flags => [CC_FLAGS], args => [ARGS], env => {VAR => VALUE}):
# builds t/unit/NAME.c into build/unit/NAME with the extra compiler flags,
# runs it with the arguments and the environment added, and relays its TAP
# ("ok N - ...", "not ok N - ...", "# ..." and the plan "1..N", printed
# last) as the subtest "t/unit/NAME.c": each of its tests is one test of
# the subtest, which also fails when it does not build, when its plan does
# not match what it ran, or when it does not exit 0 (a sanitizer's report)
sub unit_run {
    my ($name, %opt) = @_;

    return Test::More::subtest("t/unit/$name.c" => sub {
        _relay($name, %opt);
    });
}


sub _relay {
    my ($name, %opt) = @_;
    my $out = "$top/build/unit";
    my $bin = "$out/$name";

    mkdir $out;

    my $err = unit_build($name, $bin, @{ $opt{flags} // [] });

    if ($err) {
        Test::More::fail("$name builds");
        Test::More::diag($err);
        return Test::More::done_testing();
    }

    local @ENV{ keys %{ $opt{env} // {} } } = values %{ $opt{env} // {} };

    open(my $tap, '-|', $bin, @{ $opt{args} // [] })
        or die "OsintUnit: run $bin: $!\n";

    my ($plan, $ran) = (undef, 0);

    while (my $line = <$tap>) {
        chomp $line;

        if ($line =~ /^(not )?ok \d+(?: - (.*))?$/) {
            $ran++;
            Test::More::ok(!$1, $2 // '');

        } elsif ($line =~ /^1\.\.(\d+)$/) {
            $plan = $1;

        } elsif ($line =~ /^#/) {
            Test::More::note($line);

        } else {
            Test::More::diag($line);
        }
    }

    close $tap;

    Test::More::is($?, 0, "$name exits 0");
    Test::More::is($plan, $ran, "${name}'s plan is the $ran tests it ran");

    return Test::More::done_testing();
}


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
