#!/usr/bin/perl

# The headers of osint_status, osint_health and the lookup errors, exact:
# every osint_status answer (prometheus, json, html, the 400 of an unknown
# format, HEAD) carries X-Content-Type-Options: nosniff, Cache-Control:
# no-store, Vary: Accept, X-Frame-Options: DENY and a Content-Security-
# Policy, the ops page's allowing its own inline script and style by
# their SHA-256 only (checked against the page served); osint_health and
# the 400/405 of osint_lookup carry nosniff and no-store.  An unknown
# format= is not reflected (`<script>`, a raw 0xff byte, percent-encoded).
# The ops page fetches its data from "?format=json", relative to itself:
# under a regex location and a path of "//host:port/...", which
# location.pathname would have made a URL of another origin, headless
# Chromium renders the page (the CSP lets the script run) and nothing
# reaches the other origin.
#
# The browser part needs Debian's chromium (`make test-deps`); without it
# the file fails, unless OSINT_ALLOW_SKIP is set.

use strict;
use warnings;

use Test::More;
use Digest::SHA qw(sha256_base64);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my $CHROMIUM = $ENV{OSINT_CHROMIUM} || '/usr/bin/chromium';
my $BROWSER  = "$FindBin::Bin/lib/browser.sh";

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $dir = $t->testdir;

$t->write_conf(<<'EOF');
    osint_zone 4m;

    # one row on the ops page
    osint_provider ops {
        types ipv4 domain;
        url "http://127.0.0.1:%%FX0%%/ops/$osint_target";
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        access_log %%TESTDIR%%/access.log;

        location = /status  { osint_status; }
        location ~ /ops$    { osint_status; }
        location = /healthz { osint_health; }
        location = /lookup  { osint_lookup; }
    }

    # another origin: what the ops page must never ask
    server {
        listen 127.0.0.1:%%PORT2%%;
        access_log %%TESTDIR%%/other.log;

        location / { return 204; }
    }
EOF

$t->run;

my $JSON_CSP = "default-src 'none'; frame-ancestors 'none'";

my %PRIVATE = (
    'x-content-type-options' => 'nosniff',
    'cache-control'          => 'no-store',
);

my %STATUS = (
    %PRIVATE,
    'vary'                    => 'Accept',
    'x-frame-options'         => 'DENY',
    'content-security-policy' => $JSON_CSP,
);

# each header once, its value exact -> true when all are
sub headers_are {
    my ($res, $want, $name) = @_;
    my $ok = 1;
    for my $h (sort keys %$want) {
        is($res->{headers}{$h}, $want->{$h}, "$name: $h") or $ok = 0;
    }
    return $ok;
}

###############################################################################
# osint_status in every format

for my $c ([ '/status', 'text/plain; version=0.0.4; charset=utf-8' ],
           [ '/status?format=prometheus',
             'text/plain; version=0.0.4; charset=utf-8' ],
           [ '/status?format=json', 'application/json' ])
{
    my ($uri, $type) = @$c;
    for my $method ('GET', 'HEAD') {
        my $res = $t->request($method, $uri);
        is($res->{status}, 200, "$method $uri: 200");
        is($res->{headers}{'content-type'}, $type, "$method $uri: type");
        headers_are($res, \%STATUS, "$method $uri");
    }
}

my $page = $t->get('/status?format=html');
is($page->{status}, 200, 'html: 200');

my ($script) = $page->{content} =~ m{<script>(.*?)</script>}s;
my ($style) = $page->{content} =~ m{<style>(.*?)</style>}s;
ok(defined $script && defined $style, 'html: one inline script and style');
is(scalar(() = $page->{content} =~ /<script\b/g), 1, 'html: one script');
is(scalar(() = $page->{content} =~ /<style\b|\sstyle=/g), 1,
   'html: one style element, no style attribute');

my $PAGE_CSP = "default-src 'none'; script-src 'sha256-"
               . sha256_base64($script // '') . "='; style-src 'sha256-"
               . sha256_base64($style // '') . "='; connect-src 'self'; "
               . "base-uri 'none'; form-action 'none'; "
               . "frame-ancestors 'none'";

for my $c ([ GET => '/status?format=html', {} ],
           [ HEAD => '/status?format=html', {} ],
           [ GET => '/status', { Accept => 'text/html' } ])
{
    my ($method, $uri, $h) = @$c;
    my $res = $t->request($method, $uri, headers => $h);
    my $name = "$method $uri" . (%$h ? ' (Accept: text/html)' : '');
    is($res->{status}, 200, "$name: 200");
    is($res->{headers}{'content-type'}, 'text/html; charset=utf-8',
       "$name: type");
    headers_are($res, { %STATUS, 'content-security-policy' => $PAGE_CSP },
                $name)
        or diag("the CSP for the page served would be: $PAGE_CSP");
}

# the data URL: relative to the page, nothing taken from its location

ok($page->{content} !~ /location\.(?:pathname|href|host|origin)/,
   'html: the data URL is not built from location');
ok($page->{content} =~ /var URL_="\?format=json"/,
   'html: the data URL is "?format=json"');

###############################################################################
# an unknown format: 400, the status headers, the value not reflected

for my $c ([ 'literal <script> and 0xff', "<script>alert(1)</script>\xff" ],
           [ 'percent-encoded', '%3Cscript%3Ealert(1)%3C%2Fscript%3E%FF' ],
           [ 'plain word', 'bogusformat' ])
{
    my ($name, $value) = @$c;
    my $got = $t->raw("GET /status?format=$value HTTP/1.1\r\nHost: x\r\n"
                      . "Connection: close\r\n\r\n") // '';
    my ($head, $body) = split /\r\n\r\n/, $got, 2;
    $head //= '';
    $body //= '';

    like($head, qr{\AHTTP/1\.1 400 }, "format $name: 400");

    my %h;
    while ($head =~ /^([^:\r\n]+): ([^\r\n]*)\r$/mg) {
        my ($k, $v) = (lc $1, $2);
        $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
    }
    headers_are({ headers => \%h }, \%STATUS, "format $name");

    my $doc = OsintTest::decode_json_or_undef($body);
    is_deeply($doc, { error => { kind => 'invalid_parameter',
                                 retryable => JSON::PP::false(),
                                 message => 'unknown "format"; known are '
                                            . 'prometheus, json and html' } },
              "format $name: the error, without the value")
        or diag($body);
    unlike($body, qr/script|\xff|bogus|%3C|%FF/i,
           "format $name: nothing of the value in the body");
}

###############################################################################
# osint_health, lookup errors: nosniff, no-store

for my $c ([ GET => '/healthz', 200 ],
           [ GET => '/healthz?ready=1', 200 ],
           [ HEAD => '/healthz', 200 ],
           [ GET => '/lookup?target=bad..x', 400 ],
           [ GET => '/lookup', 400 ],
           [ PUT => '/lookup', 405 ],
           [ POST => '/lookup?type=x', 400 ])
{
    my ($method, $uri, $status) = @$c;
    my $res = $t->request($method, $uri,
                          $method eq 'POST' || $method eq 'PUT'
                          ? (body => '{"targets":["192.0.2.1"]}') : ());
    is($res->{status}, $status, "$method $uri: $status");
    headers_are($res, \%PRIVATE, "$method $uri");
}

# a lookup's own answer says how long its answers stay fresh (t/70-age.t)
{
    my $res = $t->get('/lookup?target=192.0.2.1');
    is($res->{status}, 200, 'lookup: 200');
    like($res->{headers}{'cache-control'} // '', qr/^(?:max-age=\d+|no-store)$/,
         'lookup: Cache-Control max-age=N or no-store');
}

###############################################################################
# the page under a regex location, at "//127.0.0.1:PORT2/ops": rendered,
# and no request to 127.0.0.1:PORT2

SKIP: {
    if (!-x $CHROMIUM) {
        fail("$CHROMIUM is missing (Debian package chromium; "
             . "`make test-deps` installs it)")
            unless $ENV{OSINT_ALLOW_SKIP};
        skip "$CHROMIUM missing", 3;
    }

    my $port2 = $t->port(2);
    my $url = $t->url("//127.0.0.1:$port2/ops");

    my $dom = '';
    for my $try (1 .. 2) {
        $dom = `$BROWSER -t 60 -l $dir/chromium.log --virtual-time-budget=5000 --dump-dom '$url'`;
        last if $dom =~ /data-provider=/;
        diag "chromium try $try: exit " . ($? >> 8);
    }

    ok($dom =~ /<tr data-provider="ops"/,
       'page under //host:port/ops: rendered from its JSON (CSP lets the '
       . 'script run)')
        or diag(($dom =~ m{(<div id="err".*?</div>)}s)[0] // 'no DOM');
    like(OsintTest::_read_file("$dir/access.log") // '',
         qr{"GET //127\.0\.0\.1:\d+/ops\?format=json HTTP/1\.1" 200 },
         'page: its data came from its own origin');
    is(OsintTest::_read_file("$dir/other.log") // '', '',
       'page: no request reached the other origin');
}

$t->stop;
done_testing;
