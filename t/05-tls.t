#!/usr/bin/perl

# HTTPS providers: certificates are verified (a private CA is trusted with
# osint_ssl_trusted_certificate), an untrusted one is a connect error, and
# osint_ssl_verify off accepts it.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $openssl = '/usr/bin/openssl';
plan skip_all => 'no openssl binary' unless -x $openssl;

sub conf {
    my ($extra) = @_;
    return <<"EOF";
    osint_zone 8m;
    $extra

    osint_provider tls {
        types ip;
        url "https://127.0.0.1:%%FX0%%/tls/\$osint_target?body=internetdb";
        field ports \$.ports;
        cache_ttl off;     # every lookup must reach the TLS fixture
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF
}

my $t = OsintTest->new;
my $dir = $t->testdir;

# a self-signed certificate for 127.0.0.1, made for this test only
$t->fixture(tls => [$t->self_signed_cert]);

# trusted through osint_ssl_trusted_certificate
$t->write_conf(conf("osint_ssl_trusted_certificate $dir/cert.pem;"));
$t->run;

my ($status, $doc) = $t->get_json('/lookup?target=8.8.8.8');
is($status, 200, 'private CA trusted: 200');
is($doc->{providers}{tls}{status}, 'ok', 'https provider ok');
is_deeply($doc->{providers}{tls}{data}{ports}, [53, 443, 853], 'data over https');

# the system bundle does not know this certificate
$t->write_conf(conf(''));
$t->reload(wait_old => 1);

($status, $doc) = $t->get_json('/lookup?target=8.8.8.8');
is($status, 502, 'untrusted certificate: 502');
is($doc->{providers}{tls}{error}{kind}, 'connect', 'certificate error: connect');
like($doc->{providers}{tls}{error}{message}, qr/certificate/i,
     'message names the certificate');

# verification off
$t->write_conf(conf('osint_ssl_verify off;'));
$t->reload(wait_old => 1);

($status, $doc) = $t->get_json('/lookup?target=8.8.8.8');
is($status, 200, 'osint_ssl_verify off: 200');

$t->done_testing;
