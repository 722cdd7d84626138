#!/usr/bin/perl

# Per-provider cache metrics (issue 20, item 5): osint_cache_requests_total
# has the provider label beside tier and result, every series of every
# provider is there from the start (zeros), the JSON status has the same
# numbers per provider, and `promtool check metrics` accepts the text.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $PROMTOOL = $ENV{OSINT_PROMTOOL} || '/usr/bin/promtool';

my $t = OsintTest->new;
my $fx = $t->fixture;

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 3s;

    osint_provider alpha {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/alpha/$osint_target";
        cache_ttl 60s;
        breaker off;
    }

    osint_provider beta {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/beta/$osint_target";
        cache_ttl 60s;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
        location = /status { osint_status; }
    }
EOF
$t->run;

# alpha: a miss then two hits; beta: a miss
$t->get('/lookup?target=192.0.2.1&providers=alpha') for 1 .. 3;
$t->get('/lookup?target=192.0.2.1&providers=beta');

my $text = $t->get('/status')->{content} // '';

sub series {
    my ($prov, $tier, $result) = @_;
    return $text =~ /^osint_cache_requests_total\{provider="$prov",tier="$tier",result="$result"\} (\d+)$/m
           ? $1 : undef;
}

is(series('alpha', 'l1', 'miss'), 1, 'alpha: one l1 miss');
is(series('alpha', 'l1', 'hit'), 2, 'alpha: two l1 hits');
is(series('beta', 'l1', 'miss'), 1, 'beta: one l1 miss');
is(series('beta', 'l1', 'hit'), 0, 'beta: no hit (a series of zero)');
is(series('beta', 'redis', 'error'), 0, 'beta: redis series too, zero');

my @all = $text =~ /^osint_cache_requests_total\{[^}]*\} \d+$/mg;
is(scalar @all, 2 * 2 * 4, 'every provider x tier x result, nothing else');
unlike($text, qr/^osint_cache_requests_total\{tier=/m,
       'no series without the provider');
like($text, qr/^# HELP osint_cache_requests_total .*provider/m,
     'HELP names the provider');

# the JSON status: the same numbers, per provider and in total
my ($st, $json) = $t->get_json('/status?format=json');
is($json->{providers}{alpha}{cache}{l1}{hit}, 2, 'json: alpha l1 hits');
is($json->{providers}{beta}{cache}{l1}{miss}, 1, 'json: beta l1 misses');
is($json->{cache}{l1}{hit}, 2, 'json: l1 hits in total');
is($json->{cache}{l1}{miss}, 2, 'json: l1 misses in total');

SKIP: {
    skip "$PROMTOOL missing (OSINT_ALLOW_SKIP)", 1
        if !-x $PROMTOOL && $ENV{OSINT_ALLOW_SKIP};
    my $file = $t->testdir . '/metrics.txt';
    open(my $fh, '>:raw', $file) or die "$file: $!";
    print $fh $text;
    close $fh;
    my $out = `timeout 30 $PROMTOOL check metrics < $file 2>&1`;
    is($?, 0, 'promtool check metrics: passes') or diag $out;
}

$t->stop;

done_testing();
