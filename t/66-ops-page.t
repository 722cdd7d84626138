#!/usr/bin/perl

# The ops page (osint_status as HTML) in headless Chromium, one page kept
# open across time (t/lib/cdp.py, the DevTools protocol over a pipe):
# its sparklines (lookups/s by result, cache hit ratio, per provider
# calls/s, error ratio and p95, the edge limiter's zones) are flat before
# load and rise after a bounded load (the SVG path data compared, and
# screenshots to /tmp); the JSON carries the latency histograms the p95
# comes from; with `osint_status control=URI` and a GET of URI answering
# 200 the page shows the control buttons, and "force open" (its confirm()
# accepted) sends POST URI?provider=P&breaker=open and the page follows;
# a denied control location shows no button; the page loads nothing but
# its own origin's URLs; control= is checked at configuration.
#
# Needs Debian's chromium (`make test-deps`); without it the browser part
# fails, unless OSINT_ALLOW_SKIP is set.

use strict;
use warnings;

use Test::More;
use IPC::Open2;
use JSON::PP;
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

OsintTest->require_module;

my $CHROMIUM = $ENV{OSINT_CHROMIUM} || '/usr/bin/chromium';
my $CDP = "$FindBin::Bin/lib/cdp.py";
my $SHOTS = $ENV{OSINT_SHOTS} || '/tmp';

###############################################################################
# control= at configuration

{
    my $c = OsintTest->new(workers => 1);

    # nginx's unescaping makes '/\\\\evil' the URI /\evil
    for my $case (['//evil.example/x', '//evil.example/x'],
                  ['/\\\\evil', '/\\evil'], ['control', 'control'],
                  ['/c?x=1', '/c?x=1'], ['', ''])
    {
        my ($uri, $shown) = @$case;
        my $msg = "invalid \"control\" URI \"$shown\"";
        $c->write_conf(<<"EOF");
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /status { osint_status "control=$uri"; }
    }
EOF
        my ($rc, $out) = $c->nginx_test;
        isnt($rc, 0, "control=$uri: nginx -t fails");
        like($out, qr/\[emerg\] \Q$msg\E: must be a local absolute path/,
             "control=$uri: the message") or diag($out);
    }

    $c->write_conf(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /status { osint_status format=html; }
    }
EOF
    my ($rc, $out) = $c->nginx_test;
    like($out, qr/\[emerg\] invalid parameter "format=html"/,
         'an unknown parameter: invalid parameter')
        or diag($out);
}

###############################################################################

my $t = OsintTest->new(workers => 2);
my $fx = $t->fixture;
my $dir = $t->testdir;

$t->write_conf(<<"EOF");
    osint_zone 4m;

    osint_limit_zone edge:1m key=\$binary_remote_addr rate=40r/s burst=40;
    osint_limit_zone shadow:1m key=\$binary_remote_addr rate=1r/m burst=1;

    osint_provider ops {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/ops/\$osint_target?delay=30";
    }

    osint_provider flaky {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/flaky/\$osint_target?status=503";
        breaker off;
    }

    # a 429 with Retry-After: 60 holds it
    osint_provider limited {
        types ipv4;
        url "http://127.0.0.1:%%FX0%%/limited/\$osint_target?status=429&retry_after=60";
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        access_log %%TESTDIR%%/access.log;

        location = /status  { osint_status control=/control; }
        location = /denied  { osint_status control=/closed; }
        location = /plain   { osint_status; }
        location = /lookup  {
            osint_limit zone=edge nodelay;
            osint_limit zone=shadow dry_run;
            osint_lookup;
        }

        location = /control { osint_control; }
        location = /closed  { deny all; osint_control; }
    }
EOF

$t->run;

###############################################################################
# the JSON: each provider's latency histogram

{
    my $res = $t->get('/lookup?target=9.9.0.1');
    is($res->{status}, 200, 'a first lookup');
    my $J = OsintTest::decode_json_or_undef($t->get('/status?format=json')
                                            ->{content});
    my $lat = $J->{providers}{ops}{latency} // {};
    is_deeply($lat->{le_ms},
              [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
              'json: latency.le_ms, the bounds');
    is(ref $lat->{buckets} eq 'ARRAY' ? scalar @{$lat->{buckets}} : -1, 12,
       'json: latency.buckets, one more than the bounds');
    my $sum = 0;
    $sum += $_ for @{$lat->{buckets} // []};
    is($sum, $lat->{count}, 'json: the buckets add up to latency.count');
    my @b = @{$lat->{buckets} // []};
    is(join(',', map { $_ // 0 } @b[0 .. 2]), '0,0,0',
       'json: the call of 30 ms or more in no bucket up to 25 ms');
    is($lat->{count}, 1, 'json: one call counted');

    my $html = $t->get('/status?format=html')->{content} // '';
    like($html, qr/<body data-control="\/control">/,
         'html: the control URI as the body\'s data-control');
    like($t->get('/plain?format=html')->{content} // '', qr/<body>\n/,
         'html: no control= no attribute');
}

SKIP: {
    if (!-x $CHROMIUM) {
        fail("$CHROMIUM is missing (Debian package chromium; "
             . "`make test-deps` installs it)")
            unless $ENV{OSINT_ALLOW_SKIP};
        skip "$CHROMIUM missing", 1;
    }

    browser_part();
}

$t->stop;
done_testing;


###############################################################################

sub browser_part {
    my $page = $t->url('/status?format=html');
    my ($out, $in);
    my $pid = open2($out, $in, 'python3', $CDP, '--limit', 150,
                    '--log', "$dir/chromium.log", $page);
    my $json = JSON::PP->new->canonical;

    my $cmd = sub {
        my ($c) = @_;
        print $in $json->encode($c), "\n";
        $in->flush;
        my $line = <$out>;
        return defined $line ? $json->decode($line) : { error => 'eof' };
    };
    my $eval = sub { $cmd->({ cmd => 'eval', expr => $_[0] })->{value} };

    # every sparkline: id => [ its paths' d ]
    my $sparks = sub {
        $eval->('(function(){var o={};document.querySelectorAll('
                . '"svg[data-spark]").forEach(function(s){'
                . 'o[s.dataset.spark]=[].map.call(s.querySelectorAll('
                . '"path"),function(p){return p.getAttribute("d")})});'
                . 'return o})()') // {};
    };

    my $polls = sub {
        my ($n) = @_;
        my $s;
        return $t->wait_until(sub {
            $s = $sparks->();
            my $d = ($s->{'lookups/s'} // [])->[0] // '';
            () = $d =~ /[ML]/g;
            (() = $d =~ /[ML]/g) >= $n;
        }, 30, 0.25);
    };

    ok($polls->(3), 'page: rendered, 3 intervals drawn')
        or diag($json->encode($sparks->()));
    my $before = $sparks->();
    my $shot = $cmd->({ cmd => 'shot', path => "$SHOTS/osint-ops-before.png" });
    ok(($shot->{bytes} // 0) > 1000, "screenshot $SHOTS/osint-ops-before.png");

    my @ids = ('lookups/s', 'cache l1 hit %', 'ops calls/s', 'ops p95 ms',
               'flaky error %',
               'zone edge passed, delayed, rejected, dry-run /s',
               'zone shadow passed, delayed, rejected, dry-run /s');
    for my $id (@ids) {
        ok(exists $before->{$id}, "before: a sparkline \"$id\"");
    }
    for my $id ('lookups/s', 'ops calls/s', 'flaky error %',
                'zone edge passed, delayed, rejected, dry-run /s')
    {
        is(top($before->{$id}), undef, "before load: \"$id\" flat");
    }

    # bounded load: 160 lookups, 4 at a time, 40 targets (so cache hits)
    my @req = map { '/lookup?target=9.9.1.' . ($_ % 40 + 1) } 1 .. 160;
    my $res = $t->parallel_get(\@req, 4, timeout => 40);
    my %st;
    $st{$_->{status}}++ for @$res;
    ok(($st{200} // 0) >= 40, 'load: lookups answered')
        or diag(explain \%st);

    my $after;
    my $risen = $t->wait_until(sub {
        $after = $sparks->();
        defined top($after->{'lookups/s'})
            && defined top($after->{'ops calls/s'})
    }, 20, 0.5);
    ok($risen, 'after load: the sparklines rose within 20 s');
    $polls->(1);
    $after = $sparks->();
    $shot = $cmd->({ cmd => 'shot', path => "$SHOTS/osint-ops-after.png" });
    ok(($shot->{bytes} // 0) > 1000, "screenshot $SHOTS/osint-ops-after.png");

    for my $id (@ids) {
        isnt(join('|', @{$after->{$id} // []}),
             join('|', @{$before->{$id} // []}), "after load: \"$id\" moved");
    }
    for my $id ('lookups/s', 'cache l1 hit %', 'ops calls/s', 'ops p95 ms',
                'flaky error %',
                'zone edge passed, delayed, rejected, dry-run /s',
                'zone shadow passed, delayed, rejected, dry-run /s')
    {
        ok(defined top($after->{$id}), "after load: \"$id\" above zero")
            or diag(join "\n", @{$after->{$id} // []});
    }
    like($eval->('document.querySelector(\'tr[data-zone="shadow"]\')'
                 . '.textContent'), qr/^shadow1 r\/m, burst 11\d*\.?\d*/,
         'zone row: rate, burst, keys');

    # the buttons: GET /control answered 200
    my $q = 'tr[data-provider="ops"]';
    is($eval->("document.querySelector('$q').dataset.controlBreaker"),
       'closed', 'control: the ops row shows the control\'s breaker state');
    is($eval->("document.getElementById('ctl').hidden"), JSON::PP::false,
       'control: the purge field shown');
    is($eval->("[].map.call(document.querySelectorAll('$q button'),"
               . "function(b){return b.textContent}).join()"),
       'force open,disable', 'control: the ops row\'s buttons');

    my $mark = length(OsintTest::_read_file("$dir/access.log") // '');
    $eval->("document.querySelector('$q button[data-q\$=\"breaker=open\"]')"
            . '.click()');
    my $forced = $t->wait_until(sub {
        ($eval->("document.querySelector('$q').dataset.controlBreaker")
         // '') eq 'forced_open'
    }, 15, 0.25);
    ok($forced, 'force open: the page shows forced_open');
    is_deeply($cmd->({ cmd => 'dialogs' })->{dialogs},
              [{ type => 'confirm',
                 message => 'Force the breaker of ops open?' }],
              'force open: asked for confirmation');
    my $log = substr(OsintTest::_read_file("$dir/access.log") // '', $mark);
    my $post = qr{"POST /control\?provider=ops&breaker=open HTTP/1\.1" 200 };
    is(scalar(() = $log =~ /$post/g), 1,
       'force open: one POST /control?provider=ops&breaker=open, 200')
        or diag($log);
    is(scalar(() = $log =~ m{"(?:POST|DELETE) }g), 1,
       'force open: nothing else sent');
    like($eval->("document.getElementById('said').textContent"),
         qr{^POST provider=ops&breaker=open: HTTP 200$},
         'force open: the answer shown');
    is($eval->("[].map.call(document.querySelectorAll('$q button'),"
               . "function(b){return b.textContent}).join()"),
       'close breaker,disable', 'force open: now a close button');

    # dismissed: nothing sent
    $cmd->({ cmd => 'accept', value => JSON::PP::false });
    $mark = length(OsintTest::_read_file("$dir/access.log") // '');
    $eval->("document.querySelector('tr[data-provider=\"flaky\"] "
            . "button[data-q\$=\"enabled=off\"]').click()");
    is(scalar @{$cmd->({ cmd => 'dialogs' })->{dialogs}}, 2,
       'disable flaky, dismissed: asked');
    $t->wait_until(sub { 0 }, 2.5, 0.5);
    unlike(substr(OsintTest::_read_file("$dir/access.log") // '', $mark),
           qr{"(?:POST|DELETE) }, 'disable flaky, dismissed: nothing sent');
    $cmd->({ cmd => 'accept', value => JSON::PP::true });

    # run JS that presses a button -> true once the access log has the
    # request line $sent answered 200
    my $press = sub {
        my ($js, $sent) = @_;
        my $from = length(OsintTest::_read_file("$dir/access.log") // '');
        $eval->($js);
        return $t->wait_until(sub {
            substr(OsintTest::_read_file("$dir/access.log") // '', $from)
                =~ m{"\Q$sent\E HTTP/1\.1" 200 }
        }, 10, 0.25);
    };

    # accepted: disable flaky, lift the hold of limited
    my $buttons = sub {
        my $list = $eval->("[].map.call(document.querySelectorAll('"
                           . "tr[data-provider=\"$_[0]\"] button'),"
                           . "function(b){return b.textContent}).join()");
        return { map { $_ => 1 } split /,/, $list // '' };
    };
    for my $c (['flaky', 'enabled=off', 'POST /control?provider=flaky'
                . '&enabled=off', 'disable', 'enable'],
               ['limited', '&hold', 'DELETE /control?provider=limited&hold',
                'lift hold', undef])
    {
        my ($name, $q, $sent, $gone, $new) = @$c;
        ok($buttons->($name)->{$gone}, "$name: a \"$gone\" button");
        ok($press->("document.querySelector('tr[data-provider=\"$name\"] "
                    . "button[data-q\$=\"$q\"]').click()", $sent),
           "$name: $sent sent");
        ok($t->wait_until(sub {
            my $b = $buttons->($name);
            !$b->{$gone} && (!defined $new || $b->{$new})
        }, 10, 0.25), "$name: then no \"$gone\" button"
                      . ($new ? ", an \"$new\" one" : ''));
    }

    # purge a target
    ok($press->("document.getElementById('pt').value='9.9.1.7';"
                . "document.querySelector('#ctl button').click()",
                'DELETE /control?target=9.9.1.7'),
       'purge: DELETE /control?target=9.9.1.7 sent');

    # nothing but the page's own origin
    my $origin = $t->url('/');
    my @reqs = @{$cmd->({ cmd => 'requests' })->{requests} // []};
    my @foreign = grep { index($_->{url} // '', $origin) != 0 } @reqs;
    ok(@reqs > 10, scalar(@reqs) . ' requests seen');
    is_deeply(\@foreign, [], 'no request outside the page\'s origin');
    my %paths;
    for (@reqs) {
        (my $p = substr($_->{url}, length($origin) - 1)) =~ s/\?.*//;
        $paths{$p}++;
    }
    is_deeply([sort keys %paths], ['/control', '/status'],
              'requests: only the page, its JSON and the control');

    close $in;
    waitpid($pid, 0);

    # the control location denied: no button
    my $url = $t->url('/denied?format=html');
    my $browser = "$FindBin::Bin/lib/browser.sh -t 60 -l $dir/chromium.log";
    my $dom = `$browser --virtual-time-budget=5000 --dump-dom '$url'`;
    like($dom, qr/<tr data-provider="ops"/, 'denied control: page rendered');
    unlike($dom, qr/<button data-m="POST"/,
           'denied control: no provider button');
    like($dom, qr/<div id="ctl" hidden="">/, 'denied control: no purge field');
    my $asked = () = (OsintTest::_read_file("$dir/access.log") // '')
                     =~ m{"GET /closed HTTP/1\.1" 403 }g;
    is($asked, 1, 'denied control: asked once (403), not again');
}

# the highest point of a sparkline's paths above its baseline (y 23.0),
# undef when all lie on it
sub top {
    my ($paths) = @_;
    my $top;
    for my $d (@{$paths // []}) {
        while ($d =~ /[ML]([\d.]+) ([\d.]+)/g) {
            $top = $2 if $2 < 23 && (!defined $top || $2 < $top);
        }
    }
    return $top;
}
