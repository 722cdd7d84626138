#!/usr/bin/perl

# Hits without parsing (issue 14): a hit copies each answer's stored text
# into the document, and each worker remembers the summary of the answers
# it came from (src/ngx_http_osint_memo.c), named by their L1 entries or,
# from Redis, by their text.  Differential: a hit's document, remembered
# summary or not, is byte for byte the miss's but for the fields of the
# request (request_id, elapsed_ms, and each provider's cache, latency_ms,
# attempts, age); $osint_verdict agrees; a new answer makes a new summary
# at once (the memo is keyed by what names the answers, never by the
# target alone); a batch line is the same document.  Then the same with
# L1 off, every hit from Redis.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use OsintTest;

plan(skip_all => 'redis-server not installed') unless OsintTest::have_redis();

my $t = OsintTest->new;
my $fx = $t->fixture;
my $redis = $t->redis;

sub configure {
    my ($l1) = @_;
    my $rport = $redis->port;

    $t->write_conf(<<"EOF");
    osint_zone 8m;
    osint_deadline 3s;
    osint_cache_l1 $l1;
    osint_redis 127.0.0.1:$rport timeout=500ms prefix=memo$l1:;

    osint_provider abuseipdb {
        types ip;
        url "http://127.0.0.1:%%FX0%%/abuseipdb/check?ipAddress=\$osint_target";
        format abuseipdb;
        cache_ttl 2s;
        breaker off;
    }

    osint_provider greynoise {
        types ip;
        url "http://127.0.0.1:%%FX0%%/greynoise/\$osint_target";
        format greynoise;
        cache_ttl 1h;
        breaker off;
    }

    osint_provider echo {
        types ip;
        url "http://127.0.0.1:%%FX0%%/echo/\$osint_target";
        cache_ttl 1h;
        breaker off;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /lookup {
            osint_lookup;
            add_header X-Verdict \$osint_verdict always;
        }
        location = /status { osint_status; }
    }
EOF
}

sub redis_up {
    return $t->wait_until(
        sub { $t->get('/status')->{content} =~ /^osint_redis_up 1$/m }, 10);
}

# the document without what belongs to the request alone, as bytes
sub shape {
    my ($text) = @_;
    $text =~ s/\n\z//;       # a batch line comes without it
    $text =~ s/"request_id":"[0-9a-f]+"/"request_id":""/;
    $text =~ s/"elapsed_ms":[0-9.]+/"elapsed_ms":0/;
    $text =~ s/"cache":"(?:miss|l1|redis)"/"cache":""/g;
    $text =~ s/"latency_ms":[0-9.]+/"latency_ms":0/g;
    $text =~ s/"attempts":\d+/"attempts":0/g;
    $text =~ s/"age":\d+/"age":0/g;
    return $text;
}

sub caches {
    my ($doc) = @_;
    return OsintTest::caches($doc, qw(abuseipdb greynoise echo));
}

sub lookup {
    my ($target) = @_;
    return $t->lookup("target=$target");
}

# a miss, hits, a new answer, hits, a batch: $tier names the hits' cache
sub checks {
    my ($tier, $target) = @_;

    $fx->control(prefix => '/abuseipdb/', params => { body => 'abuseipdb' });
    $fx->control(prefix => '/greynoise/', params => { body => 'greynoise' });

    my ($miss, $mdoc) = lookup($target);

    is($miss->{status}, 200, "$tier: miss: 200");
    is(caches($mdoc), 'miss,miss,miss', "$tier: miss: every provider asked");
    is($mdoc->{summary}{verdict}{level}, 'malicious',
       "$tier: miss: the verdict");
    is($miss->{headers}{'x-verdict'}, 'malicious',
       "$tier: miss: \$osint_verdict");

    # two workers: whatever the spread, one of them serves at least two
    # hits, and its second is the remembered summary

    my (@same, @verdicts, @tiers);

    for (1 .. 8) {
        my ($res, $doc) = lookup($target);
        push @tiers, caches($doc);
        push @same, shape($res->{content}) eq shape($miss->{content}) ? 1 : 0;
        push @verdicts, $res->{headers}{'x-verdict'} // '';
        diag "hit: $res->{content}\nmiss: $miss->{content}"
            unless $same[-1] || grep { !$_ } @same[0 .. $#same - 1];
    }

    is_deeply(\@tiers, [ ("$tier,$tier,$tier") x 8 ],
              "$tier: hits: every answer from the cache");
    is_deeply(\@same, [ (1) x 8 ],
              "$tier: hits: the miss's document, byte for byte");
    is_deeply(\@verdicts, [ ('malicious') x 8 ],
              "$tier: hits: \$osint_verdict");

    # a new answer: a new summary at once, remembered afresh

    $fx->control(prefix => '/abuseipdb/',
                 params => { body => 'abuseipdb_clean' });

    sleep 2.3;      # abuseipdb's 2 s are over

    my ($new, $ndoc) = lookup($target);

    is(caches($ndoc), "miss,$tier,$tier",
       "$tier: new answer: abuseipdb asked again");
    isnt($ndoc->{summary}{verdict}{level}, 'malicious',
         "$tier: new answer: the verdict follows it");
    isnt(shape($new->{content}), shape($miss->{content}),
         "$tier: new answer: another document");

    my $level = $ndoc->{summary}{verdict}{level} // 'none';

    @same = ();
    @verdicts = ();

    for (1 .. 8) {
        my ($res, $doc) = lookup($target);
        push @same, shape($res->{content}) eq shape($new->{content}) ? 1 : 0;
        push @verdicts, $res->{headers}{'x-verdict'} // '';
    }

    is_deeply(\@same, [ (1) x 8 ], "$tier: new answer: hits are its document");
    is_deeply(\@verdicts, [ ($new->{headers}{'x-verdict'} // '') x 8 ],
              "$tier: new answer: hits' \$osint_verdict ($level)");

    # a batch line: the same document

    my $res = $t->post('/lookup', { targets => [ $target ] });
    my ($line) = split /\n/, $res->{content};

    is($res->{status}, 200, "$tier: batch: 200");
    is(shape($line), shape($new->{content}),
       "$tier: batch: the GET's document");
}

configure('on');
$t->run;

ok(redis_up(), 'redis connected');

checks('l1', '8.8.8.8');

# L1 off: every hit from Redis, its summary named by the answers' texts

configure('off');
$t->reload(wait_old => 1);

ok(redis_up(), 'redis connected after reload');

checks('redis', '8.8.4.4');

$t->done_testing;
