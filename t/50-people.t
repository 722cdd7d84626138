#!/usr/bin/perl

# People targets: phone numbers (E.164, detected from a leading "+") and
# usernames (only with type=username); the calling code and country of a
# number in the summary without any provider; $osint_target_domain, the
# domain of an e-mail address or the host of a url.
#
# Format presence: 20 sites asked at once for one username, each answering
# as real ones do (an account, 404, 200 null, 200 [], a member null or
# missing), read by their `found` conditions into summary.accounts.
#
# Formats hibp, emailrep and numverify over the providers' documented
# bodies (found, not found, error, quota, malformed), their summary fields
# and verdict; an e-mail lookup combining hibp, emailrep and the MX of the
# address's domain through format dns and $osint_target_domain.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;
use OsintUnit qw(unit_run);

# the parsers themselves first: t/unit/people.c

unit_run('people');

OsintTest->require_module;

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;

# name, query of the fixture, `found` lines, found?
my @SITES = (
    [ 'github', 'body=presence_github', [ 'field=$.login' ], 1 ],
    [ 'gitlab', 'body=presence_gitlab', [ 'nonempty=$[0]' ], 1 ],
    [ 'gitlab_none', 'body=presence_gitlab_none', [ 'nonempty=$[0]' ], 0 ],
    [ 'hn', 'body=presence_hn', [], 1 ],
    [ 'hn_none', 'body=presence_hn_none', [], 0 ],
    [ 'keybase', 'body=presence_keybase', [ 'nonempty=$.them[0]' ], 1 ],
    [ 'keybase_none', 'body=presence_keybase_none', [ 'nonempty=$.them[0]' ],
      0 ],
    [ 'reddit', 'body=presence_reddit', [ 'status=200 field=$.data.name' ],
      1 ],
    [ 's404', 'status=404&body=presence_github', [], 0 ],
    [ 's202', 'status=202&body=presence_github', [ 'status=200' ], 0 ],
    [ 's200', 'body=presence_github', [ 'status=200' ], 1 ],
    [ 'lichess', 'body=presence_lichess_closed', [ 'field=$.id' ], 1 ],
    [ 'false', 'body=presence_reddit', [ 'field=$.data.is_suspended' ], 0 ],
    [ 'object_none', 'body=presence_empty_object', [], 0 ],
    [ 'no_member', 'body=presence_github', [ 'field=$.username' ], 0 ],
    [ 'empty_string', 'body=presence_hn', [ 'nonempty=$.about' ], 0 ],
    [ 'present_string', 'body=presence_hn', [ 'field=$.about' ], 1 ],
    [ 'two_lines', 'body=presence_hn', [ 'status=200', 'nonempty=$.submitted' ],
      1 ],
    [ 'broken', 'status=500&body=presence_github', [], 0 ],
    [ 'echo', 'body=echo', [ 'field=$.ok' ], 1 ],
);

my $sites = '';
for my $s (@SITES) {
    my ($name, $query, $found) = @$s;
    my $lines = join '', map { "        found $_;\n" } @$found;
    $sites .= <<"EOF";
    osint_provider $name {
        types username;
        format presence;
        url "http://127.0.0.1:%%FX0%%/$name/\$osint_target?delay=300&$query";
$lines        timeout 1s;
        cache_ttl off;
        breaker off;
        retries 0;
    }

EOF
}

$t->main_conf("env OSINT_HIBP;\nenv OSINT_EMAILREP;\nenv OSINT_NUMVERIFY;");
$t->env(OSINT_HIBP => 'hibp-k3y', OSINT_EMAILREP => 'rep-k3y',
        OSINT_NUMVERIFY => 'nv-k3y');

$t->write_conf($sites . <<'EOF');
    osint_zone 8m;
    osint_deadline 3s;

    osint_provider tel {
        types phone;
        url "http://127.0.0.1:%%FX0%%/tel/$osint_target";
        cache_ttl off;
        breaker off;
    }

    osint_provider who {
        types username;
        url "http://127.0.0.1:%%FX0%%/who/$osint_target";
        cache_ttl off;
        breaker off;
    }

    osint_provider mx {
        types email url domain;
        url "http://127.0.0.1:%%FX0%%/mx/$osint_target_domain?t=$osint_target_type";
        cache_ttl off;
        breaker off;
    }

    osint_provider pwned {
        types email;
        url "http://127.0.0.1:%%FX0%%/hibp/$osint_target?truncateResponse=false&body=hibp";
        header "hibp-api-key: $osint_api_key";
        api_key env=OSINT_HIBP;
        format hibp;
        cache_ttl off;
        breaker off;
        retries 0;
    }

    osint_provider rep {
        types email;
        url "http://127.0.0.1:%%FX0%%/emailrep/$osint_target?body=emailrep";
        header "Key: $osint_api_key";
        api_key env=OSINT_EMAILREP;
        format emailrep;
        cache_ttl off;
        breaker off;
        retries 0;
    }

    osint_provider mxdns {
        types email;
        url "http://127.0.0.1:%%FX0%%/resolve?name=$osint_target_domain&type=MX&body=dns_mx";
        format dns;
        cache_ttl off;
        breaker off;
    }

    osint_provider nv {
        types phone;
        url "http://127.0.0.1:%%FX0%%/numverify?access_key=$osint_api_key&number=$osint_target&body=numverify";
        api_key env=OSINT_NUMVERIFY;
        format numverify;
        cache_ttl off;
        breaker off;
        retries 0;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup { osint_lookup; }
    }
EOF

$t->run;

my $NOT_ANY = 'target is not an ip address, domain, email, url, phone '
              . 'number or hash';

sub pct {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub lookup {
    my ($target, $extra) = @_;
    return $t->get_json('/lookup?target=' . pct($target) . ($extra // ''));
}

###############################################################################
# phone: detection, canonical form, the summary from the calling code

my @NANP = qw(US CA AG AI AS BB BM BS DM DO GD GU JM KN KY LC MP MS PR SX TC
              TT VC VG VI);

for my $case (
    [ '+44 20 7946 0000', '+442079460000', '+44', [qw(GB GG IM JE)] ],
    [ '+1 (202) 555-0143', '+12025550143', '+1', \@NANP ],
    [ '+49.30.1234567', '+49301234567', '+49', 'DE' ],
    [ '+33-1-23-45-67-89', '+33123456789', '+33', 'FR' ],
    [ '+358 9 1234 5678', '+358912345678', '+358', [qw(FI AX)] ],
    [ '+7 495 123-45-67', '+74951234567', '+7', [qw(RU KZ)] ],
    [ '+81 3-1234-5678', '+81312345678', '+81', 'JP' ],
    [ '+80012345678', '+80012345678', '+800', undef ],
    [ '+12345678', '+12345678', '+1', \@NANP ],
    [ '+123456789012345', '+123456789012345', '+1', \@NANP ],
)
{
    my ($input, $canonical, $code, $country) = @$case;

    $fx->reset;
    my ($status, $doc, $res) = lookup($input, '&providers=tel');

    subtest "phone $input" => sub {
        is($status, 200, 'status 200') or diag($res->{content});
        is($doc->{type}, 'phone', 'detected as phone');
        is($doc->{target}, $canonical, 'canonical form');
        is($doc->{summary}{calling_code}, $code, 'calling code');
        is_deeply($doc->{summary}{country}, $country, 'country');
        is_deeply([ sort keys %{$doc->{providers}} ], [ 'tel' ],
                  'only the phone provider');
        is($fx->calls_for('/tel/' . pct($canonical)), 1,
           'the provider got the canonical number');
    };
}

# refused: 400 with the reason, and no provider called
for my $case (
    [ '+1234567', 'too few digits', $NOT_ANY ],
    [ '+1234567890123456', 'more than 15 digits', $NOT_ANY ],
    [ '+0123456789', 'calling code 0', $NOT_ANY ],
    [ '+28 1234 5678', 'unassigned calling code 28', $NOT_ANY ],
    [ '+44 20 7946 000a', 'a letter', $NOT_ANY ],
    [ '+44/2079460000', 'a slash', $NOT_ANY ],
    [ '+44_2079460000', 'an underscore', $NOT_ANY ],
    [ '+', 'only a plus', $NOT_ANY ],
    [ "+44\t2079460000", 'a tab',
      'target contains whitespace or control characters' ],
    [ '44 2079460000', 'a space without a plus',
      'target contains whitespace or control characters' ],
)
{
    my ($input, $name, $reason) = @$case;

    $fx->reset;
    my ($status, $doc) = lookup($input);

    subtest "phone refused: $name" => sub {
        is($status, 400, 'status 400');
        is_deeply($doc, { error => { kind => 'invalid_target',
                                     retryable => JSON::PP::false(),
                                     message => $reason } }, 'the reason');
        is($fx->calls, 0, 'no provider call');
    };
}

# type=phone asks for nothing else
{
    my ($status, $doc) = lookup('8.8.8.8', '&type=phone');
    is($status, 400, 'type=phone refuses an address');
    is($doc->{error}{message}, 'target is not of the requested type',
       'type=phone: the reason');
}

###############################################################################
# username: only with type=username

for my $case (
    [ 'alice', 'alice' ],
    [ 'Alice.Smith_99-x', 'Alice.Smith_99-x' ],
    [ ' bob ', 'bob' ],
    [ 'a', 'a' ],
    [ 'x' x 64, 'x' x 64 ],
)
{
    my ($input, $canonical) = @$case;

    $fx->reset;
    my ($status, $doc, $res) = lookup($input, '&type=username&providers=who');

    subtest "username \"$input\"" => sub {
        is($status, 200, 'status 200') or diag($res->{content});
        is($doc->{type}, 'username', 'type username');
        is($doc->{target}, $canonical, 'canonical form: as given');
        is_deeply([ keys %{$doc->{providers}} ], [ 'who' ],
                  'only the username provider');
        is($fx->calls_for("/who/$canonical"), 1, 'the provider got it');
    };
}

for my $case (
    [ 'x' x 65, '65 characters' ],
    [ 'al ice', 'a space' ],
    [ 'alice@example.com', 'an @' ],
    [ 'al/ice', 'a slash' ],
    [ 'al+ice', 'a plus' ],
    [ "al\xc3\xa9ice", 'a non-ASCII letter' ],
)
{
    my ($input, $name) = @$case;

    $fx->reset;
    my ($status, $doc) = lookup($input, '&type=username');

    subtest "username refused: $name" => sub {
        is($status, 400, 'status 400');
        is($doc->{error}{kind}, 'invalid_target', 'invalid_target');
        is($fx->calls, 0, 'no provider call');
    };
}

# without type=username a bare word is no target
{
    $fx->reset;
    my ($status, $doc) = lookup('alice');
    is($status, 400, 'a bare word is not detected as a username');
    is($doc->{error}{message}, $NOT_ANY, 'the reason');
    is($fx->calls, 0, 'no provider call');
}

###############################################################################
# $osint_target_domain

for my $case (
    [ 'Bob.Smith+tag@Mail.Example.COM', 'email', 'mail.example.com' ],
    [ 'https://user:pw@www.Example.org:8443/a/b?q=1#f', 'url',
      'www.example.org' ],
    [ 'http://[2001:DB8::1]:80/x', 'url', '2001%3Adb8%3A%3A1' ],
    [ 'http://10.1.2.3/x', 'url', '10.1.2.3' ],
    [ 'example.net', 'domain', 'example.net' ],
)
{
    my ($input, $type, $domain) = @$case;

    $fx->reset;
    my ($status, $doc, $res) = lookup($input, '&providers=mx');

    subtest "\$osint_target_domain of a $type: $domain" => sub {
        is($status, 200, 'status 200') or diag($res->{content});
        is($doc->{type}, $type, "type $type");
        is($fx->calls_for("/mx/$domain"), 1, 'the provider got the domain')
            or diag(explain($fx->by_path));
    };
}

###############################################################################
# presence: 20 sites at once, within one provider timeout

{
    $fx->reset;
    my ($status, $doc, $res) = lookup('alice', '&type=username&providers='
                                      . join(',', map { $_->[0] } @SITES));

    is($status, 200, 'presence: status 200') or diag($res->{content});
    cmp_ok($res->{elapsed_ms}, '<', 1000,
           'presence: 20 sites answering in 300 ms each, in parallel');
    is_deeply($doc->{summary}{accounts},
              [ map { $_->[0] } grep { $_->[3] } @SITES ],
              'presence: summary.accounts, in configuration order');

    for my $s (@SITES) {
        my ($name, undef, undef, $found) = @$s;
        my $p = $doc->{providers}{$name};
        my $want = $found ? 'ok' : $name eq 'broken' ? 'error' : 'not_found';

        is($p->{status}, $want, "presence: $name $want");
        is_deeply($p->{data}, { found => JSON::PP::true() },
                  "presence: $name data") if $found;
    }

    is($fx->calls, scalar @SITES, 'presence: one call per site');
}

# no site found: an empty list, not no list
{
    my ($status, $doc) = lookup('alice', '&type=username&providers=hn_none,'
                                . 's404');
    is_deeply($doc->{summary}{accounts}, [], 'presence: none found: []');
}

# a lookup without presence providers has no accounts
{
    my ($status, $doc) = lookup('alice', '&type=username&providers=who');
    ok(!exists $doc->{summary}{accounts}, 'no presence provider: no accounts');
}

###############################################################################
# `found`: refused configurations

for my $case (
    [ 'format json', "format json;\n        found status=200;",
      '"found" of osint_provider "x" needs "format presence"' ],
    [ 'status 404', "format presence;\n        found status=404;",
      'invalid parameter "status=404" in "found" of osint_provider "x"' ],
    [ 'a bad path', "format presence;\n        found field=login;",
      'invalid parameter "field=login" in "found" of osint_provider "x"' ],
    [ 'two paths',
      "format presence;\n        found field=\$.a nonempty=\$.b;",
      'invalid parameter "nonempty=$.b" in "found" of osint_provider "x"' ],
    [ 'unknown', "format presence;\n        found login;",
      'invalid parameter "login" in "found" of osint_provider "x"' ],
)
{
    my ($name, $lines, $message) = @$case;
    my $bad = OsintTest->new;

    $bad->write_conf(<<"EOF");
    osint_provider x {
        types username;
        url "http://127.0.0.1:1/\$osint_target";
        $lines
    }
EOF

    my ($rc, $out) = $bad->nginx_test;
    isnt($rc, 0, "found refused: $name");
    like($out, qr/\Q$message\E/, "found refused: $name: the message");
}

###############################################################################
# hibp, emailrep, numverify

my $ADDR = 'Bill@Example.COM';

sub email_lookup {
    my ($providers) = @_;
    $fx->reset;
    return lookup($ADDR, "&providers=$providers");
}

# found
{
    my ($status, $doc, $res) = email_lookup('pwned,rep,mxdns');
    my $s = $doc->{summary};

    is($status, 200, 'e-mail: status 200') or diag($res->{content});
    is($doc->{target}, 'bill@example.com', 'e-mail: canonical form');
    is($doc->{providers}{$_}{status}, 'ok', "e-mail: $_ ok")
        for qw(pwned rep mxdns);
    is($s->{breach_count}, 3, 'summary: breach_count');
    is($s->{latest_breach}, 'Canva', 'summary: latest_breach');
    is($s->{latest_breach_date}, '2019-05-24', 'summary: latest_breach_date');
    is_deeply($s->{data_classes}, [ 'Email addresses',
              'Geographic locations', 'Names', 'Password hints', 'Passwords',
              'Usernames' ], 'summary: data_classes');
    is($s->{reputation}, 'high', 'summary: reputation');
    ok(JSON::PP::is_bool($s->{disposable}) && !$s->{disposable},
       'summary: disposable false');
    ok(JSON::PP::is_bool($s->{valid_mx}) && $s->{valid_mx},
       'summary: valid_mx true');
    is_deeply($s->{profiles}, [qw(twitter linkedin github aboutme)],
              'summary: profiles');
    is_deeply($s->{mx}, [ '10 mx1.mail.example.net',
                          '20 mx2.mail.example.net' ],
              'summary: mx of the domain, through format dns');
    is_deeply($s->{verdict}, {
        level => 'suspicious', score => 30,
        reasons => [ 'pwned: in 3 breaches, the latest Canva (2019-05-24)',
                     'rep: reputation high' ] }, 'summary: verdict');

    is($fx->calls_for('/resolve'), 1, 'dns: one call');
    my ($mx) = grep { $_->{path} eq '/resolve' } @{$fx->log};
    like($mx->{query}, qr/^name=example\.com&type=MX&/,
         'dns: asked for the MX of the address\'s domain');
    my ($h) = grep { $_->{path} =~ m{^/hibp/} } @{$fx->log};
    is($h->{path}, '/hibp/bill%40example.com', 'hibp: the address, encoded');
    is($h->{headers}{'hibp-api-key'}, 'hibp-k3y', 'hibp: the key header');
    my ($e) = grep { $_->{path} =~ m{^/emailrep/} } @{$fx->log};
    is($e->{headers}{key}, 'rep-k3y', 'emailrep: the key header');
}

# suspicious, disposable, blacklisted: the verdict
{
    $fx->control(prefix => '/emailrep',
                 params => { body => 'emailrep_suspicious' });
    my ($status, $doc) = email_lookup('rep');
    $fx->clear_control;

    is_deeply($doc->{summary}{verdict}, {
        level => 'malicious', score => 80,
        reasons => [ 'rep: blacklisted',
                     'rep: flagged suspicious (reputation none)',
                     'rep: a disposable address' ] },
              'emailrep: a blacklisted disposable address');
}

# not found, error, quota, malformed
for my $case (
    [ 'pwned', '/hibp', { status => 404, body => 'hibp_404' }, 'not_found',
      undef ],
    [ 'pwned', '/hibp', { status => 401, body => 'hibp_error' }, 'error',
      'auth' ],
    [ 'pwned', '/hibp', { body => 'hibp_malformed' }, 'error',
      'bad_response', 'hibp: "BreachDate" is not a string' ],
    [ 'pwned', '/hibp', { fault => 'invalid' }, 'error', 'bad_response',
      'the answer is not valid JSON' ],
    [ 'rep', '/emailrep', { status => 400, body => 'emailrep_error' },
      'error', 'http_status' ],
    [ 'rep', '/emailrep', { body => 'emailrep_quota' }, 'error',
      'bad_response', 'emailrep: exceeded daily limit. please wait 24 hrs '
      . 'or visit emailrep.io/key for an api key.' ],
    [ 'rep', '/emailrep', { body => 'emailrep_malformed' }, 'error',
      'bad_response', 'emailrep: "disposable" is not a boolean' ],
    # last: the provider then waits out its Retry-After
    [ 'pwned', '/hibp', { status => 429, body => 'hibp_quota',
                          retry_after => 2 }, 'error', 'rate_limited' ],
)
{
    my ($name, $prefix, $params, $want, $kind, $message) = @$case;
    my $what = join ',', map { "$_=$params->{$_}" } sort keys %$params;

    $fx->control(prefix => $prefix, params => $params);
    my ($status, $doc, $res) = email_lookup($name);
    $fx->clear_control;

    my $p = $doc->{providers}{$name};

    subtest "$name $what: $want" => sub {
        is($p->{status}, $want, "status $want") or diag($res->{content});
        is($p->{error}{kind}, $kind, "kind $kind") if $kind;
        is($p->{error}{message}, $message, 'message') if $message;
        ok(!exists $doc->{summary}{breach_count}, 'no breach_count');
    };
}

# phone: numverify with the summary's own calling code and country
{
    $fx->reset;
    my ($status, $doc, $res) = lookup('+1 415 858 6273', '&providers=nv');
    my $s = $doc->{summary};

    is($status, 200, 'numverify: status 200') or diag($res->{content});
    is($doc->{providers}{nv}{status}, 'ok', 'numverify: ok');
    is($s->{calling_code}, '+1', 'numverify: calling_code agrees, once');
    is_deeply($s->{country}, \@NANP,
              'numverify: US is among the +1 countries already');
    is($s->{line_type}, 'mobile', 'numverify: line_type');
    is($s->{carrier}, 'AT&T Mobility LLC', 'numverify: carrier');
    is($s->{international_format}, '+14158586273',
       'numverify: international_format');

    my ($n) = grep { $_->{path} eq '/numverify' } @{$fx->log};
    like($n->{query}, qr/^access_key=nv-k3y&number=%2B14158586273&/,
         'numverify: the key and the number, encoded');
}

for my $case (
    [ { body => 'numverify_invalid' }, 'ok', undef, undef ],
    [ { body => 'numverify_error' }, 'error', 'bad_response',
      'numverify: invalid_access_key' ],
    [ { body => 'numverify_quota' }, 'error', 'bad_response',
      'numverify: usage_limit_reached' ],
    [ { body => 'numverify_malformed' }, 'error', 'bad_response',
      'numverify: the answer has no "valid" boolean' ],
)
{
    my ($params, $want, $kind, $message) = @$case;

    $fx->control(prefix => '/numverify', params => $params);
    $fx->reset;
    my ($status, $doc, $res) = lookup('+14158586273', '&providers=nv');
    $fx->clear_control;

    my $p = $doc->{providers}{nv};

    subtest "numverify $params->{body}: $want" => sub {
        is($p->{status}, $want, "status $want") or diag($res->{content});
        is($p->{error}{kind}, $kind, "kind $kind") if $kind;
        is($p->{error}{message}, $message, 'message') if $message;
        is_deeply($p->{data}, { valid => JSON::PP::false() },
                  'data: valid false, nothing else') if $want eq 'ok';
        is($doc->{summary}{calling_code}, '+1',
           'the calling code, whatever the provider');
    };
}

# every type in one `types` line
{
    my $all = OsintTest->new;
    $all->write_conf(<<'EOF');
    osint_provider x {
        types ipv4 ipv6 ip domain email url hash phone username;
        url "http://127.0.0.1:1/$osint_target";
    }
EOF
    my ($rc, $out) = $all->nginx_test;
    is($rc, 0, 'types: all nine type names in one line') or diag($out);
}

# docs/examples/usernames.conf: at least 15 sites, all of format presence,
# and a configuration nginx accepts
{
    my $file = "$FindBin::Bin/../docs/examples/usernames.conf";
    my $text = OsintTest::_read_file($file) // '';
    my $n = () = $text =~ /^\s*osint_provider \w+ \{/mg;
    my $p = () = $text =~ /^\s*format presence;/mg;
    my $u = () = $text =~ /^\s*types username;/mg;

    cmp_ok($n, '>=', 15, "usernames.conf: $n sites");
    is($p, $n, 'usernames.conf: every site of format presence');
    is($u, $n, 'usernames.conf: every site for usernames');

    my $ex = OsintTest->new;
    $ex->write_conf(<<"EOF");
    osint_zone 8m;
    include $file;
EOF
    my ($rc, $out) = $ex->nginx_test;
    is($rc, 0, 'usernames.conf: nginx -t accepts it') or diag($out);
}

###############################################################################
# conf.example: nginx accepts it, and with no key set a phone lookup still
# answers the number's calling code and country (no network: every phone
# provider of conf.example is keyed, so skipped)

{
    my $text = OsintTest::_read_file("$FindBin::Bin/../conf.example") // '';

    $text =~ s{^load_module .*$}{load_module "%%MODULE%%";}m;
    $text =~ s{^pid .*$}{pid %%TESTDIR%%/nginx.pid;\nerror_log %%TESTDIR%%/error.log info;}m;
    $text =~ s{access_log logs/access\.log}{access_log %%TESTDIR%%/access.log}g;
    $text =~ s{listen 127\.0\.0\.1:8080;}{listen 127.0.0.1:%%PORT%%;};
    $text =~ s{(http \{)}{$1
    client_body_temp_path %%TESTDIR%%/body;
    proxy_temp_path %%TESTDIR%%/proxy;
    fastcgi_temp_path %%TESTDIR%%/fastcgi;
    uwsgi_temp_path %%TESTDIR%%/uwsgi;
    scgi_temp_path %%TESTDIR%%/scgi;};

    my $ex = OsintTest->new(workers => 2);
    $ex->conf_raw($text);

    my ($rc, $out) = $ex->nginx_test;
    is($rc, 0, 'conf.example: nginx -t accepts it') or diag($out);

    $ex->run;

    my ($status, $doc, $res) =
        $ex->get_json('/lookup?target=%2B44%2020%207946%200000');

    is($status, 200, 'conf.example: a phone lookup without keys answers')
        or diag($res->{content});
    is($doc->{target}, '+442079460000', 'conf.example: the number');
    is($doc->{summary}{calling_code}, '+44', 'conf.example: calling code');
    is_deeply($doc->{summary}{country}, [qw(GB GG IM JE)],
              'conf.example: countries');
    is($doc->{providers}{numverify}{status}, 'skipped',
       'conf.example: numverify skipped without its key');

    my ($st, $j) = $ex->get_json('/status?format=json');
    my %types = map { $_ => join ' ', @{$j->{providers}{$_}{types}} }
                keys %{$j->{providers} || {}};

    is($types{numverify}, 'phone', 'conf.example: numverify for phones');
    is($types{mx}, 'email', 'conf.example: mx for e-mail');
    is($types{$_}, 'username', "conf.example: $_ for usernames")
        for qw(github gitlab hackernews);
    ok($j->{providers}{$_}{disabled}, "conf.example: $_ disabled, no key")
        for qw(hibp emailrep numverify);
    ok(!$j->{providers}{$_}{disabled}, "conf.example: $_ keyless, enabled")
        for qw(mx github gitlab hackernews);

    $ex->stop;
}

$t->done_testing;
