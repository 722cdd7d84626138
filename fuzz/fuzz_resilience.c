
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The arithmetic of resilience (src/core/ngx_http_osint_resilience.c): token
 * bucket, circuit breaker, backoff, quota periods, driven by arbitrary
 * sequences of operations.  (Rate, size and time arguments are parsed by
 * nginx's own ngx_parse_time()/ngx_atoi(): not fuzzed here.)
 *
 * Input: 16 bytes of configuration, then 4-byte operations
 * (op, then 3 bytes of argument); a reload operation takes 16 more bytes
 * of configuration and keeps the state, as the zone does.  The
 * configuration stays within what the directives accept (see
 * fuzz_configure()).  Times move forward by the argument, or back a
 * little (another worker's older cached time), and may wrap ngx_msec_t.
 * The caller's protocol is kept: a probe admitted is recorded or released
 * once, unless its worker dies (then never).  Checked:
 *   - tokens never exceed burst, and bucket_tokens() agrees with take();
 *   - a wait is granted only within max_wait, a refusal changes nothing
 *     that a later take could see as a reservation;
 *   - probes in flight never exceed half_open, never go below zero, and
 *     only probes of the current trial count: one of an earlier trial
 *     that ends late decides nothing and frees no slot;
 *   - half-open refuses only while a probe's deadline is still ahead:
 *     probes of a dead worker do not keep the breaker half-open for good;
 *     the breaker's states and answers follow its rules;
 *   - a call's failure (one of 8 targets) adds at most one to the count;
 *   - backoff stays within [0, min(max, base * 2^(attempt-1))];
 *   - quota: period <= now < reset(period), periods of the unit's length;
 *   - no undefined behaviour anywhere (UBSan).
 */


#include "fuzz.h"

#include <math.h>


#define FUZZ_PROBES  64


static void fuzz_configure(const uint8_t *p, ngx_http_osint_rate_t *rate,
    ngx_http_osint_breaker_conf_t *conf, ngx_msec_t *deadline);
static void fuzz_forget(ngx_uint_t *trial, ngx_uint_t *gone, ngx_uint_t j,
    ngx_uint_t last);
static uint32_t fuzz_u32(const uint8_t *p);
static void fuzz_quota(time_t now, ngx_uint_t unit);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    double                          tokens;
    uint32_t                        arg, r;
    ngx_int_t                       wait, rc;
    ngx_msec_t                      now, max_wait, d, cap, deadline;
    ngx_uint_t                      i, j, probes, state, attempt, reloaded,
                                    current, ended, failures,
                                    trial[FUZZ_PROBES], gone[FUZZ_PROBES];
    ngx_http_osint_rate_t           rate;
    ngx_http_osint_bucket_t         b;
    ngx_http_osint_breaker_t        br;
    ngx_http_osint_admit_e          verdict;
    ngx_http_osint_breaker_conf_t   conf;

    if (size < 16) {
        return 0;
    }

    fuzz_configure(data, &rate, &conf, &deadline);

    /* a clock that is not near zero, as CLOCK_MONOTONIC in ms is not */

    now = (ngx_msec_t) fuzz_u32(data + 8) * 1000 + 1;

    ngx_memzero(&b, sizeof(b));
    ngx_memzero(&br, sizeof(br));

    probes = 0;
    reloaded = 0;

    for (i = 16; i + 4 <= size; i += 4) {
        arg = (uint32_t) data[i + 1] << 16 | data[i + 2] << 8 | data[i + 3];

        switch (data[i] % 12) {

        case 0:     /* time goes on */
            now += arg;
            break;

        case 1:     /* an older cached time */
            now -= arg & 0x3ff;
            break;

        case 2:     /* take a token, maybe waiting */
            max_wait = ngx_min((ngx_msec_t) arg, rate.wait);
            tokens = ngx_http_osint_bucket_tokens(&b, &rate, now);

            wait = ngx_http_osint_bucket_take(&b, &rate, now, max_wait);

            fuzz_check(wait == NGX_DECLINED
                       || (wait >= 0 && (ngx_msec_t) wait <= max_wait),
                       "wait %ld with max_wait %lu", (long) wait,
                       (unsigned long) max_wait);

            /* a token less than 1 ms away is no wait */

            fuzz_check((tokens >= 1.0 && wait == 0)
                       || (tokens < 1.0
                           && (wait != 0
                               || (1.0 - tokens) / rate.per_ms < 0.001)),
                       "%f tokens before, wait %ld", tokens, (long) wait);

            fuzz_check(b.tokens <= (double) rate.burst,
                       "%f tokens over burst %lu", b.tokens,
                       (unsigned long) rate.burst);

            if (wait == NGX_DECLINED) {
                fuzz_check(b.tokens == tokens, "a refusal took %f tokens",
                           tokens - b.tokens);

            } else {
                fuzz_check(b.tokens == tokens - 1.0, "%f tokens, then %f",
                           tokens, b.tokens);
            }

            reloaded = 0;
            break;

        case 3:     /* a 429 */
            ngx_http_osint_bucket_drain(&b, now);
            fuzz_check(b.tokens <= 0.0, "drained to %f", b.tokens);
            break;

        case 4:     /* admit */
            state = br.state;
            verdict = ngx_http_osint_breaker_admit(&br, &conf, now,
                                                   deadline);

            fuzz_check(verdict != NGX_HTTP_OSINT_ADMIT_PROBE
                       || br.probes <= conf.half_open,
                       "%lu probes, half_open %lu",
                       (unsigned long) br.probes,
                       (unsigned long) conf.half_open);

            switch (verdict) {

            case NGX_HTTP_OSINT_ADMIT:
                fuzz_check(state == NGX_HTTP_OSINT_BREAKER_CLOSED
                           && br.state == state, "admitted in state %lu",
                           (unsigned long) state);
                break;

            case NGX_HTTP_OSINT_ADMIT_PROBE:
                fuzz_check(br.state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN,
                           "a probe in state %lu",
                           (unsigned long) br.state);

                fuzz_check(br.trial != 0, "a probe of trial 0");

                fuzz_check(br.probes_end == now + deadline,
                           "probes end at %lu, now %lu, deadline %lu",
                           (unsigned long) br.probes_end,
                           (unsigned long) now, (unsigned long) deadline);

                if (probes < FUZZ_PROBES) {
                    gone[probes] = 0;
                    trial[probes++] = br.trial;

                } else {
                    /* the call went away: its slot comes back */
                    ngx_http_osint_breaker_release(&br, br.trial);
                }

                break;

            case NGX_HTTP_OSINT_REJECT:
                fuzz_check(state != NGX_HTTP_OSINT_BREAKER_CLOSED,
                           "closed breaker rejected");

                /* every slot taken by a probe that may still be alive */

                fuzz_check(state != NGX_HTTP_OSINT_BREAKER_HALF_OPEN
                           || (br.probes >= conf.half_open
                               && (ngx_msec_int_t) (now - br.probes_end) < 0),
                           "half-open refused: %lu probes of %lu, their "
                           "deadline %ld ms ago", (unsigned long) br.probes,
                           (unsigned long) conf.half_open,
                           (long) (ngx_msec_int_t) (now - br.probes_end));
                break;
            }

            break;

        case 5:     /* a call (not a probe) ends */
            state = br.state;
            failures = br.failures;
            rc = ngx_http_osint_breaker_record(&br, &conf, now, 0, arg & 1,
                                               (arg >> 1) & 7);

            /* a failing target counts once: at most one more failure */

            fuzz_check(state != NGX_HTTP_OSINT_BREAKER_CLOSED
                       || !(arg & 1) || br.failures <= failures + 1,
                       "failures went from %lu to %lu",
                       (unsigned long) failures, (unsigned long) br.failures);

            fuzz_check(rc == NGX_DECLINED
                       || (rc == NGX_HTTP_OSINT_BREAKER_OPEN
                           && state == NGX_HTTP_OSINT_BREAKER_CLOSED
                           && (arg & 1)),
                       "a non-probe moved state %lu to %ld",
                       (unsigned long) state, (long) rc);
            break;

        case 6:     /* a probe ends, any of those in flight */
            if (probes == 0) {
                break;
            }

            j = (arg >> 1) % probes;

            if (gone[j]) {
                break;
            }

            ended = trial[j];
            fuzz_forget(trial, gone, j, --probes);
            current = (ended == br.trial);
            state = br.state;

            rc = ngx_http_osint_breaker_record(&br, &conf, now, ended,
                                               arg & 1, (arg >> 1) & 7);

            if (state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN && !current) {
                fuzz_check(rc == NGX_DECLINED,
                           "a probe of an earlier trial gave %ld", (long) rc);
            }

            if (state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN && current) {
                fuzz_check(rc == ((arg & 1) ? NGX_HTTP_OSINT_BREAKER_OPEN
                                            : NGX_HTTP_OSINT_BREAKER_CLOSED),
                           "probe outcome %u in half-open gave %ld",
                           (unsigned) (arg & 1), (long) rc);
            }

            break;

        case 7:     /* a probe's client went away */
            if (probes) {
                j = (arg >> 1) % probes;

                if (gone[j]) {
                    break;
                }

                ended = trial[j];
                fuzz_forget(trial, gone, j, --probes);
                ngx_http_osint_breaker_release(&br, ended);
            }

            break;

        case 8:     /* backoff */
            attempt = (arg >> 16) & 0x7f;
            r = fuzz_u32(data + i);
            d = ngx_http_osint_backoff(rate.wait + 1, (ngx_msec_t) arg * 7,
                                       attempt, r);

            cap = (ngx_msec_t) arg * 7;

            if (attempt > 1 && attempt - 1 <= 30
                && (rate.wait + 1) <= (cap >> (attempt - 1)))
            {
                cap = (rate.wait + 1) << (attempt - 1);

            } else if (attempt <= 1 && rate.wait + 1 <= cap) {
                cap = rate.wait + 1;
            }

            fuzz_check(d <= cap, "backoff %lu over %lu", (unsigned long) d,
                       (unsigned long) cap);
            break;

        case 9:     /* quota periods */
            fuzz_quota((time_t) fuzz_u32(data + i) * 16, arg % 3 + 1);
            break;

        case 10:    /* a reload: new limits, the zone's state kept */
            if (i + 4 + 16 <= size) {
                fuzz_configure(data + i + 4, &rate, &conf, &deadline);
                reloaded = 1;
                i += 16;
            }

            break;

        case 11:    /* a worker dies (kill -9) with a probe in flight */
            if (probes) {
                gone[(arg >> 1) % probes] = 1;
            }

            break;
        }

        fuzz_check(br.state <= NGX_HTTP_OSINT_BREAKER_HALF_OPEN,
                   "state %lu", (unsigned long) br.state);

        /* only the current trial's probes are counted */

        for (current = 0, j = 0; j < probes; j++) {
            current += (trial[j] == br.trial);
        }

        fuzz_check(br.state != NGX_HTTP_OSINT_BREAKER_HALF_OPEN
                   || br.probes <= current,
                   "%lu probes counted, %lu of this trial in flight",
                   (unsigned long) br.probes, (unsigned long) current);

        /* a reload may lower the burst: the next take caps the tokens */

        fuzz_check(!isnan(b.tokens)
                   && (reloaded || b.tokens <= (double) rate.burst),
                   "tokens %f, burst %lu", b.tokens,
                   (unsigned long) rate.burst);
    }

    return 0;
}


/*
 * 16 bytes: rate 1..2^31-1 r/s or r/m, burst 1..2^31, wait up to 2^24 ms
 * (4.6 hours), failures 1..32, half_open 1..16, cooldown 1..65536 ms.
 */

static void
fuzz_configure(const uint8_t *p, ngx_http_osint_rate_t *rate,
    ngx_http_osint_breaker_conf_t *conf, ngx_msec_t *deadline)
{
    rate->per_ms = (double) ((fuzz_u32(p) & 0x7fffffff) | 1)
                   / ((p[7] & 1) ? 60000.0 : 1000.0);
    rate->burst = (fuzz_u32(p + 4) >> 1) + 1;
    rate->wait = fuzz_u32(p + 8) & 0xffffff;

    ngx_memzero(conf, sizeof(ngx_http_osint_breaker_conf_t));
    conf->successes = 1;
    conf->failures = (p[12] & 0x1f) + 1;
    conf->half_open = (p[13] & 0x0f) + 1;
    conf->cooldown = ((ngx_msec_t) p[14] << 8 | p[15]) + 1;

    /* osint_deadline: the bits of p[12] and p[13] left, times 100 ms */

    *deadline = (ngx_msec_t) ((p[12] >> 5) << 4 | p[13] >> 4) * 100 + 1;
}


/* a probe's call is over: the last in flight takes its place */

static void
fuzz_forget(ngx_uint_t *trial, ngx_uint_t *gone, ngx_uint_t j,
    ngx_uint_t last)
{
    trial[j] = trial[last];
    gone[j] = gone[last];
}


static void
fuzz_quota(time_t now, ngx_uint_t unit)
{
    time_t  start, next;

    start = ngx_http_osint_quota_period(now, unit);
    next = ngx_http_osint_quota_reset(start, unit);

    fuzz_check(start <= now && now < next,
               "unit %lu: %lld not in [%lld, %lld)", (unsigned long) unit,
               (long long) now, (long long) start, (long long) next);

    fuzz_check(start % 3600 == 0, "period start %lld", (long long) start);

    switch (unit) {

    case NGX_HTTP_OSINT_QUOTA_HOUR:
        fuzz_check(next - start == 3600, "an hour of %lld s",
                   (long long) (next - start));
        break;

    case NGX_HTTP_OSINT_QUOTA_DAY:
        fuzz_check(next - start == 86400, "a day of %lld s",
                   (long long) (next - start));
        break;

    default:
        fuzz_check(next - start >= 28 * 86400 && next - start <= 31 * 86400,
                   "a month of %lld s", (long long) (next - start));

        /* the next period starts where this one ends */

        fuzz_check(ngx_http_osint_quota_period(next, unit) == next,
                   "month after %lld starts at %lld", (long long) start,
                   (long long) ngx_http_osint_quota_period(next, unit));
    }
}


static uint32_t
fuzz_u32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}
