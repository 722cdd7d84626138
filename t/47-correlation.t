#!/usr/bin/perl

# Correlation: a well-formed incoming X-Request-ID (1..64 of
# [A-Za-z0-9._-]) is adopted: in the document's request_id, in the
# response's X-Request-ID, sent to providers, in $osint_request_id; a
# malformed one (too long, spaces, control bytes, non-ASCII, other
# punctuation, empty) is replaced by nginx's $request_id.  W3C traceparent
# (version 00, lower-case hex, non-zero ids) and tracestate (up to 512
# printable bytes, only with a valid traceparent) go to providers as they
# came; malformed ones never.  A JSON access log line says what a lookup
# did: $osint_target, $osint_verdict, $osint_outcomes.

use strict;
use warnings;

use Test::More;
use FindBin;
use JSON::PP ();
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $dir = $t->testdir;

$t->write_conf(<<'EOF');
    osint_zone 4m;
    osint_deadline 3s;

    log_format osintjson escape=json
        '{"rid":"$osint_request_id","nrid":"$request_id",'
        '"target":"$osint_target",'
        '"verdict":"$osint_verdict","outcomes":"$osint_outcomes"}';

    osint_provider A {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/a/$osint_target?body=internetdb";
        format internetdb;
    }

    osint_provider B {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/b/$osint_target?status=500";
        retries 0;
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        access_log %%TESTDIR%%/osint.log osintjson;

        location = /lookup { osint_lookup; }
    }
EOF

$t->run;

my $n = 0;

sub decode { my ($b) = @_; defined $b ? eval { JSON::PP->new->decode($b) } : undef }

sub slurp {
    open(my $fh, '<:raw', $_[0]) or return '';
    local $/;
    return <$fh> // '';
}

# a lookup of a fresh target with the header lines given as they are:
# (document, response X-Request-ID, the headers provider A received)
sub lookup {
    my (@lines) = @_;
    my $target = '10.47.0.' . ++$n;
    my $raw = $t->raw("GET /lookup?target=$target HTTP/1.0\r\n"
                      . "Host: localhost\r\n"
                      . join('', map { "$_\r\n" } @lines) . "\r\n");
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($rid) = $head =~ /^X-Request-ID: ([^\r\n]*)/mi;
    my ($entry) = grep { $_->{path} eq "/a/$target" } @{$fx->log};
    return (decode($body), $rid,
            $entry ? $entry->{headers} : {}, $target);
}

###############################################################################
# X-Request-ID

for my $id ('abc-123.DEF_x', 'x' x 64, '0') {
    my ($doc, $rid, $got) = lookup("X-Request-ID: $id");
    my $name = length $id > 20 ? '64 bytes' : $id;
    is($doc->{request_id}, $id, "X-Request-ID $name: adopted in the document");
    is($rid, $id, "X-Request-ID $name: in the response");
    is($got->{'x-request-id'}, $id, "X-Request-ID $name: sent to providers");
}

my %bad = (
    'too long'  => 'y' x 65,
    'space'     => 'a b',
    'tab'       => "a\tb",
    'control'   => "a\x01b",
    'non-ASCII' => "caf\xc3\xa9",
    'slash'     => 'a/b',
    'quote'     => 'a"b',
    'empty'     => '',
);

for my $case (sort keys %bad) {
    my ($doc, $rid, $got) = lookup("X-Request-ID: $bad{$case}");
    my $id = $doc->{request_id} // '';
    like($id, qr/^[0-9a-f]{32}$/, "X-Request-ID $case: replaced");
    is($rid, $id, "X-Request-ID $case: the response has the new one");
    is($got->{'x-request-id'}, $id, "X-Request-ID $case: providers too");
}

{
    my ($doc) = lookup('X-Request-ID: one', 'X-Request-ID: two');
    like($doc->{request_id}, qr/^[0-9a-f]{32}$/, 'X-Request-ID twice: replaced');
}

###############################################################################
# traceparent, tracestate

my $TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
my $TS = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';

{
    my (undef, undef, $got) = lookup("traceparent: $TP", "tracestate: $TS");
    is($got->{traceparent}, $TP, 'traceparent: forwarded');
    is($got->{tracestate}, $TS, 'tracestate: forwarded with it');
}

{
    my $long = 'a=' . ('b' x 511);
    my (undef, undef, $got) = lookup("traceparent: $TP", "tracestate: $long");
    is($got->{traceparent}, $TP, 'tracestate too long: traceparent forwarded');
    ok(!exists $got->{tracestate}, 'tracestate too long: not forwarded');
}

{
    my (undef, undef, $got) = lookup("tracestate: $TS");
    ok(!exists $got->{tracestate}, 'tracestate without traceparent: dropped');
}

my %badtp = (
    'upper case'    => uc($TP) =~ s/^00/00/r,
    'zero trace id' => '00-' . ('0' x 32) . '-00f067aa0ba902b7-01',
    'zero span id'  => '00-4bf92f3577b34da6a3ce929d0e0e4736-' . ('0' x 16)
                       . '-01',
    'version ff'    => 'ff' . substr($TP, 2),
    'version 01'    => '01' . substr($TP, 2),
    'trailing'      => "$TP-extra",
    'short'         => substr($TP, 0, 54),
    'non-hex'       => '00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01',
    'dashes'        => '00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01',
);

for my $case (sort keys %badtp) {
    my (undef, undef, $got) = lookup("traceparent: $badtp{$case}",
                                     "tracestate: $TS");
    ok(!exists $got->{traceparent} && !exists $got->{tracestate},
       "traceparent $case: neither forwarded");
}

{
    my (undef, undef, $got) = lookup("traceparent: $TP", "traceparent: $TP");
    ok(!exists $got->{traceparent}, 'traceparent twice: not forwarded');
}

###############################################################################
# the access log

my ($doc, undef, undef, $target) = lookup('X-Request-ID: log-line-1');
my $line;
$t->wait_until(sub {
    ($line) = grep { /"rid":"log-line-1"/ }
              split /\n/, slurp("$dir/osint.log");
    return $line;
}, 5);
my $log = decode($line);
ok($log, 'access log: a JSON line') or diag $line;
is($log->{target}, $target, 'access log: $osint_target');
ok(defined $doc->{summary}{verdict}{level}, 'the document has a verdict');
is($log->{verdict}, $doc->{summary}{verdict}{level},
   'access log: $osint_verdict is the document\'s');
is($log->{outcomes},
   "A:ok,B:$doc->{providers}{B}{error}{kind}",
   'access log: $osint_outcomes, provider:outcome in configuration order');

###############################################################################
# ids made here (a batch of RAND_bytes() a worker): nginx's form, each
# new, from both workers, and the same as $request_id in the access log

my (%ids, $form);

for my $i (1 .. 300) {
    my $res = $t->get('/lookup?target=10.48.' . int($i / 200) . '.'
                      . ($i % 200 + 1));
    my $rid = $res->{headers}{'x-request-id'} // '';
    $ids{$rid}++;
    $form++ if $rid =~ /^[0-9a-f]{32}\z/;
}

is(scalar keys %ids, 300, 'made ids: 300 lookups, 300 ids');
is($form, 300, 'made ids: 32 lower-case hex digits each');

my %logged;
$t->wait_until(sub {
    %logged = map { $_->{nrid} => 1 } grep { $_ && $_->{nrid} eq $_->{rid} }
              map { decode($_) } split /\n/, slurp("$dir/osint.log");
    return !grep { !$logged{$_} } keys %ids;
}, 5);
is(scalar(grep { !$logged{$_} } keys %ids), 0,
   'made ids: each is $request_id in the access log');

$t->done_testing;
