#!/usr/bin/perl

# Documents remembered whole (issue 14, src/ngx_http_osint_document_memo.c):
# when every provider answers from L1, a worker keeps the document with
# what is of the request cut out, and serves the next lookup of the same
# target, type and providers from it once each L1 entry is confirmed to be
# the one it was made of, still fresh.  Held here: a recalled document is
# the whole path's byte for byte but for request_id, elapsed_ms, and each
# provider's latency_ms and age (and those are this request's: an age
# grows); every recall counts once in osint_cache_recalled_total and each
# provider's L1 hit as before; a worker recalls from its second hit on,
# exactly (X-Pid tells the workers apart); a purged entry, a new answer
# and refresh=1 are never served from the old document; a batch line is
# the same document.  GET query strings are remembered too
# (src/ngx_http_osint_lookup_memo.c): what is of the moment still
# counts, a bypass osint_cache_bypass allows for this request only, a
# provider switched off; another location's providers are its own.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

my $t = OsintTest->new;
my $fx = $t->fixture;

$t->write_conf(<<'EOF');
    osint_zone 8m;
    osint_deadline 3s;

    osint_provider abuseipdb {
        types ip;
        url "http://127.0.0.1:%%FX0%%/abuseipdb/check?ipAddress=$osint_target";
        format abuseipdb;
        cache_ttl 2s;
        breaker off;
    }

    osint_provider greynoise {
        types ip;
        url "http://127.0.0.1:%%FX0%%/greynoise/$osint_target";
        format greynoise;
        cache_ttl 1h;
        breaker off;
    }

    osint_provider echo {
        types ip;
        url "http://127.0.0.1:%%FX0%%/echo/$osint_target";
        cache_ttl 1h;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup {
            osint_lookup;
            osint_cache_bypass $http_x_admin;
            add_header X-Pid $pid always;
            add_header X-Verdict $osint_verdict always;
        }
        location = /two {
            osint_lookup providers=greynoise,echo;
            add_header X-Pid $pid always;
        }
        location = /status { osint_status; }
        location = /control { osint_control; }
    }
EOF

$t->run;

# the document without its holes, what belongs to the request alone
sub shape {
    my ($text) = @_;
    $text =~ s/\n\z//;
    $text =~ s/"request_id":"[0-9a-f]+"/"request_id":""/;
    $text =~ s/"elapsed_ms":[0-9.]+/"elapsed_ms":0/;
    $text =~ s/"latency_ms":[0-9.]+/"latency_ms":0/g;
    $text =~ s/"age":\d+/"age":0/g;
    return $text;
}

# ... and without where its answers came from, to hold a hit to a miss
sub answers {
    my ($text) = @_;
    $text = shape($text);
    $text =~ s/"cache":"(?:miss|l1)"/"cache":""/g;
    $text =~ s/"attempts":\d+/"attempts":0/g;
    return $text;
}

sub counter {
    my ($re) = @_;
    my $prom = $t->get('/status')->{content};
    return $prom =~ $re ? $1 : undef;
}

sub recalled { counter(qr/^osint_cache_recalled_total (\d+)$/m) }

sub l1_hits {
    my ($p) = @_;
    counter(qr/^osint_cache_requests_total
               \{provider="$p",tier="l1",result="hit"\}\ (\d+)$/mx);
}

# n lookups of the query: their documents, and how many a recall made
sub hits {
    my ($query, $n) = @_;
    my $before = recalled();
    my (@res, %pids);

    for (1 .. $n) {
        my ($res, $doc) = $t->lookup($query);
        push @res, [ $res, $doc ];
        $pids{ $res->{headers}{'x-pid'} // '' }++;
    }

    return (\@res, recalled() - $before, scalar keys %pids, \%pids);
}

# of the workers in $now, how many did not serve in $before
sub new_workers {
    my ($now, $before) = @_;
    return scalar grep { !$before->{$_} } keys %$now;
}

my $ip = '8.8.8.8';
my @P = qw(abuseipdb greynoise echo);

$fx->control(prefix => '/abuseipdb/', params => { body => 'abuseipdb' });
$fx->control(prefix => '/greynoise/', params => { body => 'greynoise' });

is(recalled(), 0, 'osint_cache_recalled_total starts at 0');

my ($miss, $mdoc) = $t->lookup("target=$ip");

is(OsintTest::caches($mdoc, @P), 'miss,miss,miss',
   'miss: every provider asked');

my %hits0 = map { $_ => l1_hits($_) } @P;

my ($res, $recalls, $workers, $pids) = hits("target=$ip", 12);

is_deeply([ map { OsintTest::caches($_->[1], @P) } @$res ],
          [ ('l1,l1,l1') x 12 ],
          'hits: every answer from L1');
# each worker's first hit takes the whole path, the rest are recalled

is_deeply([ map { shape($_->[0]{content}) eq shape($res->[0][0]{content})
                  ? 1 : 0 } @$res ],
          [ (1) x 12 ], 'hits: one document, recalled or not, byte for byte');
is(answers($res->[0][0]{content}), answers($miss->{content}),
   "hits: the miss's answers and summary");
is($recalls, 12 - $workers,
   "a worker recalls from its second hit on ($workers workers served)");
is_deeply([ map { $_->[0]{headers}{'x-verdict'} } @$res ],
          [ ('malicious') x 12 ], 'hits: $osint_verdict');
is_deeply([ map { ($_->[0]{headers}{'cache-control'} // '') =~ /^max-age=[12]$/
                  ? 1 : 0 } @$res ],
          [ (1) x 12 ], 'hits: max-age of the answer that ends first');
is_deeply({ map { $_ => l1_hits($_) - $hits0{$_} } @P },
          { abuseipdb => 12, greynoise => 12, echo => 12 },
          'a recalled lookup counts an L1 hit for each provider');

my %ids = map { $_->[1]{request_id} => 1 } @$res;
is(scalar keys %ids, 12, 'each hit its own request_id');

# an answer L1 gives as the lookup starts took no time to speak of: 0,
# recalled or written whole, and so did a lookup all of whose answers
# were (no clock read for them), under valgrind too
is(join(',', map { my $d = $_->[1];
                   map { $d->{providers}{$_}{latency_ms} } @P } @$res),
   join(',', ('0') x (3 * 12)), 'hits: latency_ms 0 for each provider');
is(join(',', map { $_->[1]{elapsed_ms} } @$res), join(',', ('0') x 12),
   'hits: elapsed_ms 0');

# refresh=1 where osint_cache_bypass allows it ($http_x_admin, per
# request) asks every provider, though the same query string was
# remembered for a client it did not allow; Cache-Control: no-cache too

my $now;

($res, $recalls, $workers, $now) = hits("target=$ip&refresh=1", 6);

is_deeply([ map { OsintTest::caches($_->[1], @P) } @$res ],
          [ ('l1,l1,l1') x 6 ], 'refresh=1 not allowed: from L1');
is($recalls, 6 - new_workers($now, $pids),
   'refresh=1 not allowed: recalled by every worker that has the document');

for my $h ([ 'refresh=1', {} ], [ '', { 'Cache-Control' => 'no-cache' } ]) {
    my ($query, $headers) = @$h;
    my $before = recalled();
    my @caches;

    for (1 .. 3) {
        my $r = $t->get("/lookup?target=$ip" . ($query ? "&$query" : ''),
                        { 'X-Admin' => '1', %$headers });
        push @caches,
            OsintTest::caches(OsintTest::decode_json_or_undef($r->{content}),
                              @P);
    }

    my $what = $query || 'no-cache';

    is_deeply(\@caches, [ ('bypass,bypass,bypass') x 3 ],
              "$what allowed: every provider asked");
    is(recalled() - $before, 0, "$what allowed: nothing recalled");
}

# the same query string in a location of other providers: its own lookup

($res, $recalls, $workers, $pids) = hits("target=$ip", 4);
my ($two) = $t->get("/two?target=$ip");
my $tdoc = OsintTest::decode_json_or_undef($two->{content});

is(join(',', sort keys %{ $tdoc->{providers} }), 'echo,greynoise',
   'another location: its providers only');

# a provider switched off by osint_control: not recalled, skipped

my $off = $t->request('POST', '/control?provider=echo&enabled=off');
is($off->{status}, 200, 'echo switched off');

($res, $recalls) = hits("target=$ip", 4);

is_deeply([ map { $_->[1]{providers}{echo}{error}{kind} // 'none' } @$res ],
          [ ('disabled') x 4 ], 'switched off: echo skipped, not recalled');

$off = $t->request('POST', '/control?provider=echo&enabled=on');
is($off->{status}, 200, 'echo switched on');

($res, $recalls, $workers, $now) = hits("target=$ip", 6);

is_deeply([ map { OsintTest::caches($_->[1], @P) } @$res ],
          [ ('l1,l1,l1') x 6 ], 'switched on: from L1 again');
is($recalls, 6 - new_workers($now, $pids),
   'switched on: recalled by every worker that has the document');

# an age is this request's: it grows while the document stays remembered

my ($old) = hits("target=$ip", 4);
sleep 1.2;
($res, $recalls, $workers) = hits("target=$ip", 4);

cmp_ok($recalls, '>=', 4 - $workers, 'later hits recalled');
ok((grep { $_->[1]{providers}{greynoise}{age} >= 1 } @$res) == 4,
   'recalled: greynoise\'s age grew') or diag explain $res->[0][1];

# a purged entry ends the document made of it

my $purge = $t->request('DELETE', "/control?target=$ip&provider=greynoise");
is($purge->{status}, 200, 'purge greynoise');

my ($after, $adoc) = $t->lookup("target=$ip");
like(OsintTest::caches($adoc, @P), qr/^(?:l1|miss),miss,l1$/,
     'after the purge: greynoise asked, not recalled');

# a new answer: the document follows it at once

$fx->control(prefix => '/abuseipdb/',
             params => { body => 'abuseipdb_clean' });

sleep 2.3;      # abuseipdb's 2 s are over

my ($new, $ndoc) = $t->lookup("target=$ip");

is(OsintTest::caches($ndoc, @P), 'miss,l1,l1',
   'new answer: abuseipdb asked again');
isnt($ndoc->{summary}{verdict}{level}, 'malicious',
     'new answer: the verdict follows it');

($res, $recalls, $workers) = hits("target=$ip", 8);

is_deeply([ map { shape($_->[0]{content}) eq shape($res->[0][0]{content})
                  ? 1 : 0 } @$res ],
          [ (1) x 8 ], 'new answer: one document, recalled or not');
is(answers($res->[0][0]{content}), answers($new->{content}),
   'new answer: hits are its document');
cmp_ok($recalls, '>=', 8 - $workers, 'new answer: recalled again');

# a batch line: the same document, recalled or not

my $batch = $t->post('/lookup', { targets => [ $ip, $ip ] });
my @lines = split /\n/, $batch->{content};

is($batch->{status}, 200, 'batch: 200');
is_deeply([ map { shape($_) eq shape($res->[0][0]{content}) ? 1 : 0 } @lines ],
          [ 1, 1 ], "batch: the GET's document");

# JSON status has the count too

my (undef, $status) = $t->get_json('/status?format=json');
is($status->{cache}{recalled}, recalled(), 'JSON status: cache.recalled');

$t->done_testing;
