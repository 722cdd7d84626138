#!/usr/bin/perl

# Private targets never leave: a target in a non-public range or a
# special-use domain (or a url or e-mail address whose host is one) is
# answered "skipped", kind private_target, by every provider that is not
# "private on", with no call at the fixture; an internal provider with
# "private on" gets it; osint_private_nets adds ranges (IPv4, IPv6) and
# domain suffixes; public targets are sent as before; bad values of
# osint_private_nets and private are refused by nginx -t.  The matcher's
# own table is tested in C (t/unit/private.c), first.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;
use OsintUnit qw(unit_run);

unit_run('private');

# the module's default: no "private on" added by the harness
my $t = OsintTest->new(private_targets => 1);
my $fx = $t->fixture;

my $PROVIDERS = <<'EOF';
    osint_provider pub {
        types ip domain email url;
        url "http://127.0.0.1:%%FX0%%/pub/$osint_target";
    }

    osint_provider cmdb {
        types ip domain email url;
        url "http://127.0.0.1:%%FX0%%/cmdb/$osint_target";
        private on;
    }
EOF

my $CONF = <<"EOF";
    osint_zone 4m;
    osint_deadline 3s;
    osint_private_nets 2a01:4f8:c0de::/48 .corp.example.com;
    osint_private_nets 8.8.4.0/24;
$PROVIDERS
    server {
        listen 127.0.0.1:%%PORT%%;
        location /lookup { osint_lookup; }
        location /status { osint_status; }
    }
EOF

sub pct {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

###############################################################################
# nginx -t: bad values in nginx's words

sub conf_fails {
    my ($value, $message) = @_;

    $t->write_conf("    osint_zone 4m;\n    $value\n$PROVIDERS");
    my ($rc, $out) = $t->nginx_test;

    isnt($rc, 0, "nginx -t refuses \"$value\"");
    like($out, qr/\[emerg\] \Q$message\E in \S*nginx\.conf:\d+/,
         "... saying: $message") or diag($out);
}

conf_fails("osint_private_nets $_->[0];", "invalid parameter \"$_->[1]\"")
    for [ '10.0.0.0/33', '10.0.0.0/33' ], [ 'corp.example', 'corp.example' ],
        [ '.', '.' ], [ '.a..b', '.a..b' ], [ 'fe80::1%eth0', 'fe80::1%eth0' ],
        [ '::/129', '::/129' ], [ '10.0.0.0/8x', '10.0.0.0/8x' ],
        [ '10.0.0.0/8 .ok.example bad', 'bad' ];

conf_fails('osint_private_nets;',
           'invalid number of arguments in "osint_private_nets" directive');

{
    (my $p = $PROVIDERS) =~ s/private on;/private yes;/;
    $t->write_conf("    osint_zone 4m;\n$p");
    my ($rc, $out) = $t->nginx_test;
    like($out, qr/\[emerg\] invalid value "yes" in "private" of osint_provider "cmdb", it must be "on" or "off" in /,
         'private yes: refused in nginx\'s words') or diag($out);

    ($p = $PROVIDERS) =~ s/private on;/private on; private off;/;
    $t->write_conf("    osint_zone 4m;\n$p");
    ($rc, $out) = $t->nginx_test;
    like($out, qr/\[emerg\] "private" of osint_provider "cmdb" is duplicate in /,
         'private twice: refused') or diag($out);
}

{
    $t->write_conf("    osint_zone 4m;\n    osint_private_nets 10.1.0.0/8;\n"
                   . $PROVIDERS);
    my ($rc, $out) = $t->nginx_test;
    is($rc, 0, 'host bits in a prefix: accepted') or diag($out);
    like($out, qr/\[warn\] low address bits of 10\.1\.0\.0\/8 are meaningless/,
         '... with nginx\'s warning');
}

###############################################################################
# lookups

$t->write_conf($CONF);
$t->run;

# every range and special-use name, in each form a target carries a host
my @PRIVATE = (
    '0.1.2.3', '10.1.2.3', '100.64.0.1', '127.0.0.1', '169.254.169.254',
    '172.16.5.4', '192.0.0.8', '192.0.2.1', '192.168.1.1', '198.18.0.1',
    '198.51.100.7', '203.0.113.9', '224.0.0.251', '240.0.0.1',
    '255.255.255.255',
    '::', '::1', 'fe80::1', 'fec0::1', 'fd00::1', 'ff02::1', '100::1',
    '2001:db8::1', '3fff::1', '2001:2::1', '64:ff9b:1::1',
    '::ffff:10.0.0.1', '64:ff9b::192.168.0.1', '2002:a00:1::1',
    '2001:0:a00:1::1',
    'printer.local', 'db01.lan', 'printer.corp.internal', 'nas.home.arpa',
    'x.localhost', 'a.test', 'b.invalid', 'www.example', 'c.alt', 'dc1.corp',
    'router.home', '4.3.2.10.in-addr.arpa', '10.0.0.0x1',
    'http://10.0.0.1/admin', 'https://[fe80::1]:8443/', 'ftp://nas.lan/x',
    'http://user@192.168.0.1:8080/', 'http://0x7f.0.0.0x1/',
    'admin@corp.internal', 'root@printer.local',
    # osint_private_nets
    '2a01:4f8:c0de:1::5', '[2a01:4f8:c0de::1]', 'http://[2a01:4f8:c0de::2]/',
    '8.8.4.4', '::ffff:8.8.4.4', 'corp.example.com', 'jira.corp.example.com',
    'it@corp.example.com', 'https://wiki.corp.example.com/page',
);

my @PUBLIC = ('8.8.8.8', '2606:4700:4700::1111', '::ffff:1.1.1.1',
              'example.com', 'alice@example.com', 'http://example.org/x',
              'xcorp.example.com', '2a01:4f8:c0df::1');

my ($skips, $bad) = (0, 0);

for my $target (@PRIVATE) {
    my ($code, $doc) = $t->get_json('/lookup?providers=pub&target='
                                    . pct($target));
    my $p = $doc && $doc->{providers}{pub};

    my $ok = $code == 200 && $p && $p->{status} eq 'skipped'
             && $p->{error}{kind} eq 'private_target'
             && $p->{error}{message} =~ /^private target, not sent: /;
    $skips++ if $ok;
    ok($ok, "$target: skipped, private_target")
        or diag(explain([ $code, $doc ]));
}

is($fx->calls, 0, 'the fixture saw no call for any of them');

for my $target (@PRIVATE) {
    my ($code, $doc) = $t->get_json('/lookup?providers=cmdb&target='
                                    . pct($target));
    $bad++ unless $code == 200 && $doc->{providers}{cmdb}{status} eq 'ok';
}

is($bad, 0, 'the internal provider (private on) answered every one');
is($fx->calls, scalar @PRIVATE, '... one call each, all of them to it');
is(scalar(grep { m{^/pub/} } keys %{ $fx->by_path }), 0,
   '... and none to the other');

$fx->reset;

for my $target (@PUBLIC) {
    my ($code, $doc) = $t->get_json('/lookup?target=' . pct($target));
    ok($code == 200 && $doc->{providers}{pub}{status} eq 'ok'
       && $doc->{providers}{cmdb}{status} eq 'ok', "$target: sent to both")
        or diag(explain($doc));
}

is($fx->calls, 2 * @PUBLIC, 'public targets: each provider called once');

# a lookup of both: the internal one answers, the other is skipped
$fx->reset;
{
    my $res = $t->get('/lookup?target=10.9.8.7');
    my $doc = OsintTest::decode_json_or_undef($res->{content});
    is($res->{status}, 200, '10.9.8.7 with both providers: 200');
    is($doc->{providers}{cmdb}{status}, 'ok', '... cmdb ok');
    is($doc->{providers}{pub}{error}{message},
       'private target, not sent: 10.0.0.0/8 (private-use)',
       '... pub skipped, saying why');
    is($res->{headers}{'x-cache-status'}, 'MISS',
       '... X-Cache-Status counts only cmdb');
    is($fx->calls_for('/cmdb/10.9.8.7'), 1, '... cmdb called');
    is($fx->calls, 1, '... and nothing else');
}

# all private: nothing failed, nothing judged
{
    my ($code, $doc) = $t->get_json('/lookup?target=192.168.7.7&providers=pub');
    is($code, 200, 'an all-private lookup: 200, not 502');
    is_deeply($doc->{summary}, {}, '... an empty summary, no verdict');
}

# a batch: the private target's line is skipped, the public one sent
$fx->reset;
{
    my $res = $t->post('/lookup?providers=pub',
                       { targets => [ '10.0.0.1', '1.1.1.1' ] });
    my %line = map { $_->{target} => $_ }
               map { OsintTest::decode_json_or_undef($_) // () }
               split /\n/, $res->{content};
    is($line{'10.0.0.1'}{providers}{pub}{error}{kind}, 'private_target',
       'batch: the private target skipped');
    is($line{'1.1.1.1'}{providers}{pub}{status}, 'ok',
       'batch: the public one answered');
    is($fx->calls, 1, 'batch: one call, for 1.1.1.1');
}

# a private skip is no failure: the document stays cacheable downstream
{
    my $res = $t->get('/lookup?target=10.77.0.1');
    like($res->{headers}{'cache-control'} // '', qr/^max-age=\d+$/,
         'Cache-Control: the private skip of pub does not make it no-store');
}

# counted
my $status = $t->get('/status')->{content};
my $n = @PRIVATE + 4;           # + 10.9.8.7, 192.168.7.7, the batch's,
                                # 10.77.0.1
like($status,
     qr/^osint_provider_skipped_total\{provider="pub",reason="private_target"\} $n$/m,
     "osint_provider_skipped_total counts the $n skips");
like($status,
     qr/^osint_provider_skipped_total\{provider="cmdb",reason="private_target"\} 0$/m,
     '... none for the internal provider');

$t->stop;
done_testing;
