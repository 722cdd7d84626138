
/*
 * Unit tests of the pure resilience arithmetic
 * (src/core/ngx_http_osint_resilience.c): token bucket, circuit breaker,
 * backoff, quota periods.  Prints TAP.  Linked without nginx, with the
 * stand-ins of fuzz/ngx_stubs.c (ngx_gmtime() with gmtime_r()).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"
#include "tap.h"


/* osint_deadline of the tests but one: longer than any of their scenes */
#define DEADLINE  10000


static void
test_bucket(void)
{
    ngx_int_t                i, passed, w;
    ngx_msec_t               now;
    ngx_http_osint_rate_t    rate;
    ngx_http_osint_bucket_t  b;

    /* 10 r/s, burst 5, no waiting */

    rate.per_ms = 10.0 / 1000.0;
    rate.burst = 5;
    rate.wait = 0;
    ngx_memzero(&b, sizeof(b));
    now = 1000;

    passed = 0;
    for (i = 0; i < 20; i++) {
        passed += (ngx_http_osint_bucket_take(&b, &rate, now, 0) == 0);
    }

    ok(passed == 5, "a full bucket passes its burst at once (%d)", (int) passed);

    ok(ngx_http_osint_bucket_take(&b, &rate, now + 99, 0) == NGX_DECLINED,
       "no token 99 ms later at 10 r/s");
    ok(ngx_http_osint_bucket_take(&b, &rate, now + 100, 0) == 0,
       "one token 100 ms later");

    /* demand far above the rate for 5 s: burst + rate * 5 s pass */

    ngx_memzero(&b, sizeof(b));
    passed = 0;
    for (now = 1000; now < 6000; now++) {
        passed += (ngx_http_osint_bucket_take(&b, &rate, now, 0) == 0);
    }

    ok(passed == 5 + 50 - 1 || passed == 5 + 50,
       "5 s of demand at 10 r/s burst 5: %d passed", (int) passed);

    /* refill stops at burst */

    ngx_memzero(&b, sizeof(b));
    (void) ngx_http_osint_bucket_take(&b, &rate, 1000, 0);
    ok(ngx_http_osint_bucket_tokens(&b, &rate, 1000000) == 5.0,
       "refill is capped at the burst");

    /* waiting: tokens are reserved in order, each 100 ms after the last */

    rate.burst = 1;
    ngx_memzero(&b, sizeof(b));
    ok(ngx_http_osint_bucket_take(&b, &rate, 1000, 1000) == 0, "first free");

    w = ngx_http_osint_bucket_take(&b, &rate, 1000, 1000);
    ok(w == 100, "second waits 100 ms (%d)", (int) w);

    w = ngx_http_osint_bucket_take(&b, &rate, 1000, 1000);
    ok(w == 200, "third waits 200 ms (%d)", (int) w);

    w = ngx_http_osint_bucket_take(&b, &rate, 1000, 250);
    ok(w == NGX_DECLINED, "fourth would wait 300 ms > 250: refused");

    w = ngx_http_osint_bucket_take(&b, &rate, 1000, 1000);
    ok(w == 300, "a refusal reserves nothing: next waits 300 ms (%d)", (int) w);

    /* r/m: 30 per minute is one per 2 s */

    rate.per_ms = 30.0 / 60000.0;
    rate.burst = 2;
    ngx_memzero(&b, sizeof(b));
    passed = 0;
    for (now = 1000; now < 5000; now += 10) {
        passed += (ngx_http_osint_bucket_take(&b, &rate, now, 0) == 0);
    }

    ok(passed == 3 || passed == 4, "4 s at 30 r/m burst 2: %d passed",
       (int) passed);

    /* a clock seen going back (another worker's older time) refills nothing */

    rate.per_ms = 10.0 / 1000.0;
    rate.burst = 1;
    ngx_memzero(&b, sizeof(b));
    (void) ngx_http_osint_bucket_take(&b, &rate, 5000, 0);
    ok(ngx_http_osint_bucket_take(&b, &rate, 4000, 0) == NGX_DECLINED,
       "time going back gives no token");

    /* a 429 drains what is left */

    rate.burst = 5;
    ngx_memzero(&b, sizeof(b));
    (void) ngx_http_osint_bucket_take(&b, &rate, 1000, 0);
    ngx_http_osint_bucket_drain(&b, 1000);
    ok(ngx_http_osint_bucket_take(&b, &rate, 1000, 0) == NGX_DECLINED,
       "drained bucket refuses");
}


static void
test_breaker(void)
{
    ngx_int_t                      i, rc;
    ngx_http_osint_breaker_t       b;
    ngx_http_osint_breaker_conf_t  conf;

    ngx_memzero(&conf, sizeof(conf));
    conf.successes = 1;
    conf.failures = 3;
    conf.cooldown = 1000;
    conf.half_open = 2;
    ngx_memzero(&b, sizeof(b));

    for (i = 0; i < 2; i++) {
        ok(ngx_http_osint_breaker_admit(&b, &conf, 0, DEADLINE) == NGX_HTTP_OSINT_ADMIT,
           "closed admits");
        rc = ngx_http_osint_breaker_record(&b, &conf, 0, 0, 1, i);
        ok(rc == NGX_DECLINED, "failure %d keeps it closed", (int) i + 1);
    }

    /* a success in between resets the count */

    rc = ngx_http_osint_breaker_record(&b, &conf, 0, 0, 0, 7);
    ok(rc == NGX_DECLINED && b.failures == 0, "success resets failures");

    /* the targets that failed before the success count again */

    for (i = 0; i < 2; i++) {
        (void) ngx_http_osint_breaker_record(&b, &conf, 10, 0, 1, i);
    }

    /* one target failing again and again counts once */

    for (i = 0; i < 10; i++) {
        rc = ngx_http_osint_breaker_record(&b, &conf, 10, 0, 1, 1);
        ok(rc == NGX_DECLINED && b.failures == 2,
           "a target already failing counts no more (%d)", (int) i);
    }

    rc = ngx_http_osint_breaker_record(&b, &conf, 10, 0, 1, 2);
    ok(rc == NGX_HTTP_OSINT_BREAKER_OPEN,
       "third failure of a distinct target opens");

    ok(ngx_http_osint_breaker_admit(&b, &conf, 500, DEADLINE) == NGX_HTTP_OSINT_REJECT,
       "open rejects during the cooldown");
    ok(ngx_http_osint_breaker_admit(&b, &conf, 1009, DEADLINE) == NGX_HTTP_OSINT_REJECT,
       "still open 1 ms before the cooldown ends");

    ok(ngx_http_osint_breaker_admit(&b, &conf, 1010, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "cooldown over: first probe");
    ok(b.state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN, "half-open");
    ok(ngx_http_osint_breaker_admit(&b, &conf, 1010, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "second probe (half_open=2)");
    ok(ngx_http_osint_breaker_admit(&b, &conf, 1010, DEADLINE) == NGX_HTTP_OSINT_REJECT,
       "no third probe while two are in flight");

    /* a probe whose client went away frees its slot */

    ngx_http_osint_breaker_release(&b, b.trial);
    ok(ngx_http_osint_breaker_admit(&b, &conf, 1010, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "released slot is reused");

    /* a call admitted before the breaker opened does not decide */

    rc = ngx_http_osint_breaker_record(&b, &conf, 1020, 0, 0, 0);
    ok(rc == NGX_DECLINED && b.state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN,
       "non-probe success in half-open changes nothing");

    rc = ngx_http_osint_breaker_record(&b, &conf, 1030, b.trial, 1, 0);
    ok(rc == NGX_HTTP_OSINT_BREAKER_OPEN, "failed probe re-opens");
    ok(ngx_http_osint_breaker_admit(&b, &conf, 2000, DEADLINE) == NGX_HTTP_OSINT_REJECT,
       "re-opened for a new cooldown from the probe's failure");

    ok(ngx_http_osint_breaker_admit(&b, &conf, 2030, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "probe after the second cooldown");

    rc = ngx_http_osint_breaker_record(&b, &conf, 2040, b.trial, 0, 0);
    ok(rc == NGX_HTTP_OSINT_BREAKER_CLOSED && b.failures == 0,
       "successful probe closes");
    ok(b.opens == 2, "opened twice in all");
}


/*
 * failures= above NGX_HTTP_OSINT_BREAKER_TARGETS: the oldest failing
 * targets are forgotten, and count again.
 */

static void
test_breaker_targets(void)
{
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    ngx_http_osint_breaker_t       b;
    ngx_http_osint_breaker_conf_t  conf;

    ngx_memzero(&conf, sizeof(conf));
    conf.successes = 1;
    conf.failures = NGX_HTTP_OSINT_BREAKER_TARGETS + 2;
    conf.cooldown = 1000;
    conf.half_open = 1;
    ngx_memzero(&b, sizeof(b));

    for (i = 0; i < NGX_HTTP_OSINT_BREAKER_TARGETS; i++) {
        (void) ngx_http_osint_breaker_record(&b, &conf, 0, 0, 1, 100 + i);
    }

    ok(b.failures == NGX_HTTP_OSINT_BREAKER_TARGETS,
       "targets: %d distinct failures counted", (int) b.failures);

    rc = ngx_http_osint_breaker_record(&b, &conf, 0, 0, 1, 100);
    ok(rc == NGX_DECLINED && b.failures == NGX_HTTP_OSINT_BREAKER_TARGETS,
       "targets: the oldest, still remembered, counts no more");

    rc = ngx_http_osint_breaker_record(&b, &conf, 0, 0, 1, 999);
    ok(b.failures == NGX_HTTP_OSINT_BREAKER_TARGETS + 1,
       "targets: a new one counts, and takes the oldest's place");

    rc = ngx_http_osint_breaker_record(&b, &conf, 0, 0, 1, 100);
    ok(rc == NGX_HTTP_OSINT_BREAKER_OPEN,
       "targets: the forgotten one counts again: failures=%d opens",
       (int) conf.failures);
}


/* failures=1 cooldown=100ms half_open=2, opened at 0 */

static void
breaker_opened(ngx_http_osint_breaker_t *b,
    ngx_http_osint_breaker_conf_t *conf)
{
    ngx_memzero(conf, sizeof(ngx_http_osint_breaker_conf_t));
    conf->successes = 1;
    conf->failures = 1;
    conf->cooldown = 100;
    conf->half_open = 2;
    ngx_memzero(b, sizeof(ngx_http_osint_breaker_t));

    (void) ngx_http_osint_breaker_record(b, conf, 0, 0, 1, 0);
}


/* successes=3: the provider must answer three probes before it closes */

static void
test_breaker_successes(void)
{
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    ngx_http_osint_breaker_t       b;
    ngx_http_osint_breaker_conf_t  conf;

    breaker_opened(&b, &conf);
    conf.successes = 3;
    conf.half_open = 1;

    for (i = 0; i < 2; i++) {
        ok(ngx_http_osint_breaker_admit(&b, &conf, 100, DEADLINE)
           == NGX_HTTP_OSINT_ADMIT_PROBE, "successes: probe %d", (int) i + 1);
        ok(ngx_http_osint_breaker_admit(&b, &conf, 100, DEADLINE)
           == NGX_HTTP_OSINT_REJECT, "successes: one probe at a time");
        rc = ngx_http_osint_breaker_record(&b, &conf, 110, b.trial, 0, 0);
        ok(rc == NGX_DECLINED && b.state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN,
           "successes: %d of 3 keeps it half-open", (int) i + 1);
    }

    ok(ngx_http_osint_breaker_admit(&b, &conf, 120, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "successes: probe 3");
    rc = ngx_http_osint_breaker_record(&b, &conf, 130, b.trial, 0, 0);
    ok(rc == NGX_HTTP_OSINT_BREAKER_CLOSED, "successes: the third closes");

    /* a failed probe after two successes re-opens, and the count restarts */

    (void) ngx_http_osint_breaker_record(&b, &conf, 200, 0, 1, 9);
    ok(b.state == NGX_HTTP_OSINT_BREAKER_OPEN, "successes: opened again");

    for (i = 0; i < 2; i++) {
        (void) ngx_http_osint_breaker_admit(&b, &conf, 300, DEADLINE);
        (void) ngx_http_osint_breaker_record(&b, &conf, 310, b.trial, 0, 0);
    }

    (void) ngx_http_osint_breaker_admit(&b, &conf, 320, DEADLINE);
    rc = ngx_http_osint_breaker_record(&b, &conf, 330, b.trial, 1, 0);
    ok(rc == NGX_HTTP_OSINT_BREAKER_OPEN, "successes: a failed third re-opens");

    ok(ngx_http_osint_breaker_admit(&b, &conf, 430, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE && b.successes == 0,
       "successes: a new trial starts from 0");
}


/* rate=50% window=1s min=10: the failure-rate trigger alone */

static void
test_breaker_rate(void)
{
    ngx_int_t                      rc;
    ngx_uint_t                     i, calls, fails;
    ngx_http_osint_breaker_t       b;
    ngx_http_osint_breaker_conf_t  conf;

    ngx_memzero(&conf, sizeof(conf));
    ngx_memzero(&b, sizeof(b));
    conf.successes = 1;
    conf.cooldown = 1000;
    conf.half_open = 1;
    conf.rate = 50;
    conf.window = 1000;
    conf.min_calls = 10;

    /* 5 successes, then 4 failures of distinct targets: 9 calls, too few */

    for (i = 0; i < 5; i++) {
        rc = ngx_http_osint_breaker_record(&b, &conf, 100, 0, 0, 0);
    }

    for (i = 0; i < 4; i++) {
        rc = ngx_http_osint_breaker_record(&b, &conf, 100, 0, 1, i);
    }

    ok(rc == NGX_DECLINED, "rate: 9 calls are fewer than min=10");

    /* one target failing again and again counts neither way */

    for (i = 0; i < 20; i++) {
        rc = ngx_http_osint_breaker_record(&b, &conf, 100, 0, 1, 3);
    }

    ngx_http_osint_breaker_window_counts(&b.window, conf.window, 100,
                                         &calls, &fails);
    ok(rc == NGX_DECLINED && calls == 9 && fails == 4,
       "rate: a repeated failing target counts once (%d/%d)",
       (int) fails, (int) calls);

    /* a success as the tenth call: 4/10 < 50 %, and successes never open */

    rc = ngx_http_osint_breaker_record(&b, &conf, 100, 0, 0, 0);
    ok(rc == NGX_DECLINED, "rate: 4 of 10 failed, below 50 %%");

    rc = ngx_http_osint_breaker_record(&b, &conf, 150, 0, 1, 100);
    ok(rc == NGX_DECLINED, "rate: 5 of 11, below 50 %%");

    rc = ngx_http_osint_breaker_record(&b, &conf, 150, 0, 1, 101);
    ok(rc == NGX_HTTP_OSINT_BREAKER_OPEN && b.opened_fails == 6
       && b.opened_calls == 12, "rate: 6 of 12 failed opens it");

    ngx_http_osint_breaker_window_counts(&b.window, conf.window, 150,
                                         &calls, &fails);
    ok(calls == 0 && fails == 0, "rate: opening empties the window");

    /* calls slide out of the window */

    (void) ngx_http_osint_breaker_admit(&b, &conf, 1150, DEADLINE);
    rc = ngx_http_osint_breaker_record(&b, &conf, 1160, b.trial, 0, 0);
    ok(rc == NGX_HTTP_OSINT_BREAKER_CLOSED, "rate: a probe closes it");

    for (i = 0; i < 9; i++) {
        (void) ngx_http_osint_breaker_record(&b, &conf, 2000, 0, 1, 200 + i);
    }

    ngx_http_osint_breaker_window_counts(&b.window, conf.window, 2899,
                                         &calls, &fails);
    ok(calls == 9 && fails == 9, "rate: 9 failures still in the window");

    ngx_http_osint_breaker_window_counts(&b.window, conf.window, 3000,
                                         &calls, &fails);
    ok(calls == 0, "rate: a window later they are gone (%d)", (int) calls);

    rc = ngx_http_osint_breaker_record(&b, &conf, 3000, 0, 1, 300);
    ok(rc == NGX_DECLINED, "rate: so the tenth failure, later, is alone");

    /* 10 failures within one window open it */

    for (i = 0; i < 9; i++) {
        rc = ngx_http_osint_breaker_record(&b, &conf, 3100 + i * 50, 0, 1,
                                           400 + i);
    }

    ok(rc == NGX_HTTP_OSINT_BREAKER_OPEN, "rate: 10 of 10 in 550 ms open it");

    /* with failures= too, the consecutive trigger still works */

    ngx_memzero(&b, sizeof(b));
    conf.failures = 3;
    conf.min_calls = 100;

    for (i = 0; i < 3; i++) {
        rc = ngx_http_osint_breaker_record(&b, &conf, 10, 0, 1, i);
    }

    ok(rc == NGX_HTTP_OSINT_BREAKER_OPEN && b.opened_calls == 0,
       "rate and failures: 3 in a row open it first");
}


/*
 * half_open=2, a cooldown shorter than the provider's timeout: a probe of
 * a trial that already failed ends during the next trial.  It must not
 * close the breaker for the new trial, nor free one of its slots.
 */

static void
test_breaker_late_probe(void)
{
    ngx_int_t                      rc;
    ngx_uint_t                     first, second;
    ngx_http_osint_breaker_t       b;
    ngx_http_osint_breaker_conf_t  conf;

    breaker_opened(&b, &conf);
    ok(b.state == NGX_HTTP_OSINT_BREAKER_OPEN, "late probe: opened");

    ok(ngx_http_osint_breaker_admit(&b, &conf, 100, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "late probe: trial 1, probe A");
    first = b.trial;
    ok(ngx_http_osint_breaker_admit(&b, &conf, 100, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "late probe: trial 1, probe B");

    rc = ngx_http_osint_breaker_record(&b, &conf, 150, first, 1, 0);
    ok(rc == NGX_HTTP_OSINT_BREAKER_OPEN, "late probe: A fails, re-opened");

    ok(ngx_http_osint_breaker_admit(&b, &conf, 250, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "late probe: trial 2, probe C");
    second = b.trial;
    ok(second != first && b.probes == 1, "late probe: a new trial, 1 probe");

    /* B, of trial 1, succeeds now */

    rc = ngx_http_osint_breaker_record(&b, &conf, 260, first, 0, 0);
    ok(rc == NGX_DECLINED && b.state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN,
       "late probe: B's success does not close trial 2");
    ok(b.probes == 1, "late probe: nor free C's slot");

    ngx_http_osint_breaker_release(&b, first);
    ok(b.probes == 1, "late probe: releasing B frees nothing either");

    ok(ngx_http_osint_breaker_admit(&b, &conf, 260, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "late probe: trial 2, probe D");
    ok(ngx_http_osint_breaker_admit(&b, &conf, 260, DEADLINE) == NGX_HTTP_OSINT_REJECT,
       "late probe: no third probe in trial 2");

    rc = ngx_http_osint_breaker_record(&b, &conf, 270, second, 0, 0);
    ok(rc == NGX_HTTP_OSINT_BREAKER_CLOSED, "late probe: C closes it");

    /* D, of trial 2, ends after the close: an ordinary call */

    rc = ngx_http_osint_breaker_record(&b, &conf, 280, second, 1, 0);
    ok(rc == NGX_HTTP_OSINT_BREAKER_OPEN && b.failures == 1,
       "late probe: D failing after the close counts as a call's failure");
}


/*
 * A worker killed while its calls probe (kill -9, a crash) never frees
 * their slots.  Once every probe's deadline has passed, the slots are
 * known dead: a new trial begins instead of half-open refusing forever.
 */

static void
test_breaker_dead_probes(void)
{
    ngx_int_t                      rc;
    ngx_uint_t                     dead;
    ngx_http_osint_breaker_t       b;
    ngx_http_osint_breaker_conf_t  conf;

    breaker_opened(&b, &conf);

    ok(ngx_http_osint_breaker_admit(&b, &conf, 100, 500)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "dead probes: probe A at 100");
    ok(ngx_http_osint_breaker_admit(&b, &conf, 300, 500)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "dead probes: probe B at 300");
    dead = b.trial;

    /* their worker dies: neither is recorded nor released */

    ok(ngx_http_osint_breaker_admit(&b, &conf, 600, 500)
       == NGX_HTTP_OSINT_REJECT, "dead probes: A's deadline over, B's not");
    ok(ngx_http_osint_breaker_admit(&b, &conf, 799, 500)
       == NGX_HTTP_OSINT_REJECT, "dead probes: 1 ms before B's deadline");

    ok(ngx_http_osint_breaker_admit(&b, &conf, 800, 500)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "dead probes: B's deadline over");
    ok(b.trial != dead && b.probes == 1
       && b.state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN,
       "dead probes: a new trial, one probe");

    /* were one of them alive after all, it ends as a late call */

    rc = ngx_http_osint_breaker_record(&b, &conf, 810, dead, 0, 0);
    ok(rc == NGX_DECLINED && b.probes == 1
       && b.state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN,
       "dead probes: a probe of the dead trial decides nothing");

    rc = ngx_http_osint_breaker_record(&b, &conf, 820, b.trial, 0, 0);
    ok(rc == NGX_HTTP_OSINT_BREAKER_CLOSED, "dead probes: the new probe closes");
}


static void
test_backoff(void)
{
    ngx_uint_t  attempt, i, ok_range;
    ngx_msec_t  d, cap;

    ok_range = 1;

    for (attempt = 1; attempt <= 8; attempt++) {
        cap = ngx_min(5000, 200 << (attempt - 1));

        for (i = 0; i < 1000; i++) {
            d = ngx_http_osint_backoff(200, 5000, attempt,
                                       (uint32_t) (i * 2654435761u));
            if (d > cap) {
                ok_range = 0;
            }
        }
    }

    ok(ok_range, "full jitter stays within min(max, base * 2^(n-1))");

    ok(ngx_http_osint_backoff(200, 5000, 1, 200) == 200,
       "attempt 1 reaches base");
    ok(ngx_http_osint_backoff(200, 5000, 3, 800) == 800,
       "attempt 3 reaches base * 4");
    ok(ngx_http_osint_backoff(200, 5000, 60, 5000) == 5000,
       "a huge attempt number is capped, not overflowed");
    ok(ngx_http_osint_backoff(200, 5000, 60, 5001) == 0,
       "uniform modulo cap + 1");
}


static void
test_quota(void)
{
    time_t  t, start;

    t = 1763769600 + 13 * 3600 + 125;    /* 2025-11-22 13:02:05 UTC */

    ok(ngx_http_osint_quota_period(t, NGX_HTTP_OSINT_QUOTA_HOUR)
       == 1763769600 + 13 * 3600, "hour period starts on the hour");
    ok(ngx_http_osint_quota_period(t, NGX_HTTP_OSINT_QUOTA_DAY) == 1763769600,
       "day period starts at 00:00 UTC");

    start = ngx_http_osint_quota_period(t, NGX_HTTP_OSINT_QUOTA_MONTH);
    ok(start == 1761955200, "month period starts on the 1st (%ld)",
       (long) start);
    ok(ngx_http_osint_quota_reset(start, NGX_HTTP_OSINT_QUOTA_MONTH)
       == 1761955200 + 30 * 86400, "November has 30 days");

    start = 1706745600;                  /* 2024-02-01 */
    ok(ngx_http_osint_quota_reset(start, NGX_HTTP_OSINT_QUOTA_MONTH)
       == start + 29 * 86400, "February 2024 has 29 days");

    start = 1675209600;                  /* 2023-02-01 */
    ok(ngx_http_osint_quota_reset(start, NGX_HTTP_OSINT_QUOTA_MONTH)
       == start + 28 * 86400, "February 2023 has 28 days");

    ok(ngx_http_osint_quota_reset(1763769600, NGX_HTTP_OSINT_QUOTA_DAY)
       == 1763769600 + 86400, "a day resets a day later");
}


/* closed by an operator: no failure kept, probes in flight decide nothing */

static void
test_breaker_close(void)
{
    ngx_int_t                      rc;
    ngx_uint_t                     probe;
    ngx_http_osint_breaker_t       b;
    ngx_http_osint_breaker_conf_t  conf;

    ngx_memzero(&conf, sizeof(conf));
    conf.successes = 1;
    conf.failures = 2;
    conf.cooldown = 1000;
    conf.half_open = 1;
    ngx_memzero(&b, sizeof(b));

    (void) ngx_http_osint_breaker_record(&b, &conf, 0, 0, 1, 1);
    (void) ngx_http_osint_breaker_record(&b, &conf, 0, 0, 1, 2);
    ok(b.state == NGX_HTTP_OSINT_BREAKER_OPEN, "close: opened by failures");

    ngx_http_osint_breaker_close(&b);
    ok(b.state == NGX_HTTP_OSINT_BREAKER_CLOSED && b.failures == 0,
       "close: closed, no failure");
    ok(ngx_http_osint_breaker_admit(&b, &conf, 10, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT, "close: admits at once");

    rc = ngx_http_osint_breaker_record(&b, &conf, 20, 0, 1, 1);
    ok(rc == NGX_DECLINED && b.failures == 1,
       "close: a target that failed before counts again");

    /* half-open with a probe in flight, then closed by hand */

    (void) ngx_http_osint_breaker_record(&b, &conf, 30, 0, 1, 2);
    ok(ngx_http_osint_breaker_admit(&b, &conf, 2000, DEADLINE)
       == NGX_HTTP_OSINT_ADMIT_PROBE, "close: a probe");
    probe = b.trial;

    ngx_http_osint_breaker_close(&b);
    ok(b.probes == 0 && b.trial != probe, "close: a new trial, no probe");

    rc = ngx_http_osint_breaker_record(&b, &conf, 2010, probe, 1, 3);
    ok(rc == NGX_DECLINED && b.state == NGX_HTTP_OSINT_BREAKER_CLOSED,
       "close: the old probe's failure counts as a late call's");
}


/* several windows at once: all or none, each starting over on its own */

static void
test_windows(void)
{
    time_t                   t;
    ngx_uint_t               i, limit[NGX_HTTP_OSINT_WINDOWS] = { 2, 3, 0 };
    ngx_http_osint_window_t  w[NGX_HTTP_OSINT_WINDOWS];

    memset(w, 0, sizeof(w));
    t = 1763769600 + 13 * 3600 + 125;    /* 2025-11-22 13:02:05 UTC */

    for (i = 0; i < 2; i++) {
        ok(ngx_http_osint_windows_take(w, limit, t) == NGX_OK,
           "window call %u taken", (unsigned) i + 1);
    }

    ok(ngx_http_osint_windows_take(w, limit, t) == NGX_DECLINED,
       "the hour's 2 stop the third call");
    ok(w[0].used == 2 && w[1].used == 2 && w[2].used == 2,
       "a refusal takes nothing from any window");
    ok(ngx_http_osint_window_left(&w[1], 3, NGX_HTTP_OSINT_QUOTA_DAY, t) == 1,
       "the day has 1 left");

    t += 3600;                           /* the next hour, the same day */

    ok(ngx_http_osint_window_left(&w[0], 2, NGX_HTTP_OSINT_QUOTA_HOUR, t)
       == 2, "a new hour: its window is whole again");
    ok(ngx_http_osint_windows_take(w, limit, t) == NGX_OK,
       "the next hour takes one");
    ok(ngx_http_osint_windows_take(w, limit, t) == NGX_DECLINED,
       "then the day's 3 stop it");
    ok(w[0].used == 1 && w[1].used == 3 && w[2].used == 3,
       "the hour started over, the day and month did not");
}


int
main(void)
{
    test_bucket();
    test_breaker();
    test_breaker_targets();
    test_breaker_late_probe();
    test_breaker_dead_probes();
    test_breaker_successes();
    test_breaker_rate();
    test_breaker_close();
    test_backoff();
    test_quota();
    test_windows();

    printf("1..%d\n", tests);

    return failed ? 1 : 0;
}
