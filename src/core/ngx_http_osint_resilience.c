
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The arithmetic of resilience: token bucket, circuit breaker, retry
 * backoff, quota periods.  Pure functions over plain structs: the caller
 * holds the zone's lock and passes the time in, so they are unit-tested
 * and fuzzed without nginx.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


static void ngx_http_osint_breaker_trial(ngx_http_osint_breaker_t *b);
static ngx_uint_t ngx_http_osint_breaker_counts(uint32_t *targets,
    ngx_uint_t seen, uint32_t target);
static ngx_uint_t ngx_http_osint_breaker_row_trips(
    ngx_http_osint_breaker_t *b, ngx_http_osint_breaker_conf_t *conf,
    ngx_uint_t failed, uint32_t target);
static ngx_uint_t ngx_http_osint_breaker_rate_trips(
    ngx_http_osint_breaker_t *b, ngx_http_osint_breaker_conf_t *conf,
    ngx_msec_t now, ngx_uint_t failed, uint32_t target);
static void ngx_http_osint_breaker_slide(ngx_http_osint_breaker_window_t *w,
    ngx_msec_t window, ngx_msec_t now);


/*
 * Takes one token.  Tokens refill continuously at rate->per_ms up to
 * burst.  Without a token the caller may reserve the next one: the bucket
 * goes below zero and the caller waits until its token would have come,
 * so waiters are served in the order they asked (limit_req's "delay").
 * Returns the wait in ms, or NGX_DECLINED when it would exceed max_wait.
 */

ngx_int_t
ngx_http_osint_bucket_take(ngx_http_osint_bucket_t *b,
    ngx_http_osint_rate_t *rate, ngx_msec_t now, ngx_msec_t max_wait)
{
    double      tokens, need;
    ngx_msec_t  elapsed, wait;

    if (b->last == 0) {
        b->tokens = (double) rate->burst;
        b->last = now;
    }

    /* a clock that went back (another worker's stale time): no refill */

    elapsed = (ngx_msec_int_t) (now - b->last) > 0 ? now - b->last : 0;

    tokens = b->tokens + (double) elapsed * rate->per_ms;

    if (tokens > (double) rate->burst) {
        tokens = (double) rate->burst;
    }

    if (elapsed) {
        b->last = now;
    }

    if (tokens >= 1.0) {
        b->tokens = tokens - 1.0;
        return 0;
    }

    need = 1.0 - tokens;
    wait = (ngx_msec_t) (need / rate->per_ms + 0.999);

    if (wait > max_wait) {
        b->tokens = tokens;
        return NGX_DECLINED;
    }

    b->tokens = tokens - 1.0;

    return (ngx_int_t) wait;
}


/* a 429: no token for anybody until the provider's hold ends */

void
ngx_http_osint_bucket_drain(ngx_http_osint_bucket_t *b, ngx_msec_t now)
{
    if (b->tokens > 0.0) {
        b->tokens = 0.0;
    }

    b->last = now;
}


double
ngx_http_osint_bucket_tokens(ngx_http_osint_bucket_t *b,
    ngx_http_osint_rate_t *rate, ngx_msec_t now)
{
    double      tokens;
    ngx_msec_t  elapsed;

    if (b->last == 0) {
        return (double) rate->burst;
    }

    elapsed = (ngx_msec_int_t) (now - b->last) > 0 ? now - b->last : 0;
    tokens = b->tokens + (double) elapsed * rate->per_ms;

    return tokens > (double) rate->burst ? (double) rate->burst : tokens;
}


/*
 * CLOSED: calls pass.  OPEN: none pass until the cooldown has run, then
 * HALF_OPEN: at most half_open probes pass at a time, all workers
 * together; their outcome decides between CLOSED and OPEN.
 *
 * Each half-open period is a trial, numbered: a probe belongs to the
 * trial that admitted it (b->trial then), and only probes of the current
 * trial count and decide.  With half_open > 1 and a cooldown shorter than
 * the provider's timeout, a probe of an earlier trial may end after its
 * trial failed and a new one began: it must neither close the breaker on
 * the new trial's behalf nor free one of its slots.
 *
 * No call outlives its lookup's deadline: a live probe has ended, or freed
 * its slot, by then.  Slots still taken after every probe's deadline were
 * held by a worker that died (kill -9, a crash) and will never come back;
 * without a new trial the breaker would stay half-open and refuse every
 * call for good, the zone outliving reloads.
 */

ngx_http_osint_admit_e
ngx_http_osint_breaker_admit(ngx_http_osint_breaker_t *b,
    ngx_http_osint_breaker_conf_t *conf, ngx_msec_t now, ngx_msec_t deadline)
{
    switch (b->state) {

    case NGX_HTTP_OSINT_BREAKER_CLOSED:
        return NGX_HTTP_OSINT_ADMIT;

    case NGX_HTTP_OSINT_BREAKER_OPEN:
        if ((ngx_msec_int_t) (now - b->opened_at) < (ngx_msec_int_t)
                                                     conf->cooldown)
        {
            return NGX_HTTP_OSINT_REJECT;
        }

        b->state = NGX_HTTP_OSINT_BREAKER_HALF_OPEN;
        ngx_http_osint_breaker_trial(b);
        break;

    default: /* NGX_HTTP_OSINT_BREAKER_HALF_OPEN */

        if (b->probes < conf->half_open) {
            break;
        }

        if ((ngx_msec_int_t) (now - b->probes_end) < 0) {
            return NGX_HTTP_OSINT_REJECT;
        }

        /* the probes' holders are gone: their trial is over */

        ngx_http_osint_breaker_trial(b);
        break;
    }

    b->probes++;
    b->probes_end = now + deadline;

    return NGX_HTTP_OSINT_ADMIT_PROBE;
}


/* a new half-open trial: probes of earlier ones, if any end, decide nothing */

static void
ngx_http_osint_breaker_trial(ngx_http_osint_breaker_t *b)
{
    b->probes = 0;
    b->successes = 0;
    b->trial++;

    if (b->trial == 0) {
        b->trial = 1;   /* 0 means "not a probe" */
    }
}


/*
 * Records the end of an admitted call; "probe" is the trial it probed
 * (0: an ordinary call), "failed" a transient failure, "target" a hash of
 * the call's target.  Returns the state entered, or NGX_DECLINED when the
 * state is unchanged.
 */

ngx_int_t
ngx_http_osint_breaker_record(ngx_http_osint_breaker_t *b,
    ngx_http_osint_breaker_conf_t *conf, ngx_msec_t now, ngx_uint_t probe,
    ngx_uint_t failed, uint32_t target)
{
    if (probe != b->trial || b->state != NGX_HTTP_OSINT_BREAKER_HALF_OPEN) {
        probe = 0;      /* its trial is over: an ordinary late call now */
    }

    if (probe && b->probes) {
        b->probes--;
    }

    switch (b->state) {

    case NGX_HTTP_OSINT_BREAKER_CLOSED:
        b->opened_calls = 0;
        b->opened_fails = 0;

        if (!ngx_http_osint_breaker_rate_trips(b, conf, now, failed, target)
            && !ngx_http_osint_breaker_row_trips(b, conf, failed, target))
        {
            return NGX_DECLINED;
        }

        ngx_memzero(&b->window, sizeof(ngx_http_osint_breaker_window_t));

        b->state = NGX_HTTP_OSINT_BREAKER_OPEN;
        b->opened_at = now;
        b->opens++;

        return NGX_HTTP_OSINT_BREAKER_OPEN;

    case NGX_HTTP_OSINT_BREAKER_HALF_OPEN:

        /* only probes decide: older calls may still be finishing */

        if (!probe) {
            return NGX_DECLINED;
        }

        if (failed) {
            b->state = NGX_HTTP_OSINT_BREAKER_OPEN;
            b->opened_at = now;
            b->opens++;
            return NGX_HTTP_OSINT_BREAKER_OPEN;
        }

        /* successes=S: the provider must answer S probes in a row */

        if (++b->successes < conf->successes) {
            return NGX_DECLINED;
        }

        b->state = NGX_HTTP_OSINT_BREAKER_CLOSED;
        b->failures = 0;
        b->probes = 0;

        return NGX_HTTP_OSINT_BREAKER_CLOSED;

    default: /* OPEN: calls admitted before it opened end here */
        return NGX_DECLINED;
    }
}


/*
 * Whether a failure of this target counts, remembering it if so.  One
 * client asking again and again for a target the provider is slow on
 * must not switch the provider off for everybody: only a target not among
 * the last NGX_HTTP_OSINT_BREAKER_TARGETS failing ones since the count
 * was last reset counts.  With failures= up to that number, the breaker
 * opens after failures of exactly that many distinct targets.
 */

static ngx_uint_t
ngx_http_osint_breaker_counts(uint32_t *targets, ngx_uint_t seen,
    uint32_t target)
{
    ngx_uint_t  i, n;

    n = ngx_min(seen, NGX_HTTP_OSINT_BREAKER_TARGETS);

    for (i = 0; i < n; i++) {
        if (targets[i] == target) {
            return 0;
        }
    }

    targets[seen % NGX_HTTP_OSINT_BREAKER_TARGETS] = target;

    return 1;
}


/* failures=N: N transient failures in a row, of distinct targets */

static ngx_uint_t
ngx_http_osint_breaker_row_trips(ngx_http_osint_breaker_t *b,
    ngx_http_osint_breaker_conf_t *conf, ngx_uint_t failed, uint32_t target)
{
    if (conf->failures == 0) {
        return 0;
    }

    if (!failed) {
        b->failures = 0;
        return 0;
    }

    if (!ngx_http_osint_breaker_counts(b->targets, b->failures, target)) {
        return 0;
    }

    return ++b->failures >= conf->failures;
}


/*
 * rate=P% window=W min=M: at least M calls ended in the last W and P % or
 * more of them failed.  As for failures=, one target failing again and
 * again counts once: a failure of a target among the last failing ones
 * counts neither as a call nor as a failure, so one client repeating a
 * target the provider is slow on cannot push the ratio up by itself.
 */

static ngx_uint_t
ngx_http_osint_breaker_rate_trips(ngx_http_osint_breaker_t *b,
    ngx_http_osint_breaker_conf_t *conf, ngx_msec_t now, ngx_uint_t failed,
    uint32_t target)
{
    ngx_uint_t                        i, calls, fails;
    ngx_http_osint_breaker_window_t  *w;

    if (conf->rate == 0) {
        return 0;
    }

    w = &b->window;

    if (failed) {
        if (!ngx_http_osint_breaker_counts(w->targets, w->seen, target)) {
            return 0;
        }

        w->seen++;
    }

    ngx_http_osint_breaker_slide(w, conf->window, now);

    w->calls[w->slot]++;

    if (!failed) {
        return 0;       /* a success never opens it */
    }

    w->fails[w->slot]++;

    calls = 0;
    fails = 0;

    for (i = 0; i < NGX_HTTP_OSINT_BREAKER_SLOTS; i++) {
        calls += w->calls[i];
        fails += w->fails[i];
    }

    if (calls < conf->min_calls || fails * 100 < conf->rate * calls) {
        return 0;
    }

    b->opened_calls = calls;
    b->opened_fails = fails;

    return 1;
}


/*
 * Moves the window to "now": the slots that ended since are emptied, at
 * most all of them (a window idle for longer than itself starts anew).
 */

static void
ngx_http_osint_breaker_slide(ngx_http_osint_breaker_window_t *w,
    ngx_msec_t window, ngx_msec_t now)
{
    ngx_uint_t  n;
    ngx_msec_t  width;

    width = ngx_max(window / NGX_HTTP_OSINT_BREAKER_SLOTS, 1);

    if (!w->started || now - w->start >= width * NGX_HTTP_OSINT_BREAKER_SLOTS
        || (ngx_msec_int_t) (now - w->start) < 0)
    {
        ngx_memzero(w->calls, sizeof(w->calls));
        ngx_memzero(w->fails, sizeof(w->fails));
        w->started = 1;
        w->start = now;
        w->slot = 0;
        return;
    }

    for (n = 0; now - w->start >= width; n++) {
        w->slot = (w->slot + 1) % NGX_HTTP_OSINT_BREAKER_SLOTS;
        w->calls[w->slot] = 0;
        w->fails[w->slot] = 0;
        w->start += width;
    }
}


/*
 * The calls and failures of the last window as of "now", for the status,
 * without moving the window: the slots ngx_http_osint_breaker_slide()
 * would empty are left out.
 */

void
ngx_http_osint_breaker_window_counts(ngx_http_osint_breaker_window_t *w,
    ngx_msec_t window, ngx_msec_t now, ngx_uint_t *calls, ngx_uint_t *fails)
{
    ngx_uint_t  i, ended;
    ngx_msec_t  width;

    *calls = 0;
    *fails = 0;

    width = ngx_max(window / NGX_HTTP_OSINT_BREAKER_SLOTS, 1);

    if (!w->started || (ngx_msec_int_t) (now - w->start) < 0) {
        return;
    }

    ended = (now - w->start) / width;

    for (i = ended; i < NGX_HTTP_OSINT_BREAKER_SLOTS; i++) {

        /* the slots from the oldest one still in the window to the newest */

        *calls += w->calls[(w->slot + 1 + i) % NGX_HTTP_OSINT_BREAKER_SLOTS];
        *fails += w->fails[(w->slot + 1 + i) % NGX_HTTP_OSINT_BREAKER_SLOTS];
    }
}


/* a probe that never finished (its client went away) frees its slot */

void
ngx_http_osint_breaker_release(ngx_http_osint_breaker_t *b, ngx_uint_t probe)
{
    if (probe == b->trial && b->state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN
        && b->probes)
    {
        b->probes--;
    }
}


/*
 * Closed by an operator (osint_control): no failure counts any more, and
 * a new trial, so that probes still in flight decide nothing when they
 * end (ngx_http_osint_breaker_record() takes them for late calls).
 */

void
ngx_http_osint_breaker_close(ngx_http_osint_breaker_t *b)
{
    b->state = NGX_HTTP_OSINT_BREAKER_CLOSED;
    b->failures = 0;
    b->probes = 0;
    b->trial++;
    b->successes = 0;
    ngx_memzero(b->targets, sizeof(b->targets));
    ngx_memzero(&b->window, sizeof(ngx_http_osint_breaker_window_t));
}


/*
 * Exponential backoff with full jitter: a uniform delay in
 * [0, min(max, base * 2^(attempt - 1))], attempt counting from 1.
 */

ngx_msec_t
ngx_http_osint_backoff(ngx_msec_t base, ngx_msec_t max, ngx_uint_t attempt,
    uint32_t random)
{
    ngx_msec_t  cap;
    ngx_uint_t  shift;

    shift = attempt > 1 ? attempt - 1 : 0;

    if (shift > 30 || base > (max >> shift)) {
        cap = max;

    } else {
        cap = base << shift;
    }

    return (ngx_msec_t) ((uint64_t) random % ((uint64_t) cap + 1));
}


/* start of the UTC period that holds "now" */

time_t
ngx_http_osint_quota_period(time_t now, ngx_uint_t unit)
{
    ngx_tm_t  tm;

    switch (unit) {

    case NGX_HTTP_OSINT_QUOTA_HOUR:
        return now - now % 3600;

    case NGX_HTTP_OSINT_QUOTA_DAY:
        return now - now % 86400;

    default: /* NGX_HTTP_OSINT_QUOTA_MONTH */
        ngx_gmtime(now, &tm);

        /* days since the 1st, then back to midnight */

        return now - now % 86400 - (time_t) (tm.ngx_tm_mday - 1) * 86400;
    }
}


/* start of the next period: when a spent quota comes back */

time_t
ngx_http_osint_quota_reset(time_t start, ngx_uint_t unit)
{
    ngx_tm_t  tm;

    switch (unit) {

    case NGX_HTTP_OSINT_QUOTA_HOUR:
        return start + 3600;

    case NGX_HTTP_OSINT_QUOTA_DAY:
        return start + 86400;

    default: /* NGX_HTTP_OSINT_QUOTA_MONTH */
        ngx_gmtime(start, &tm);

        /* ngx_gmtime(): ngx_tm_mon is 1..12, ngx_tm_year the full year */

        switch (tm.ngx_tm_mon) {
        case 2:
            return start + 86400 * ((tm.ngx_tm_year % 4 == 0
                                     && (tm.ngx_tm_year % 100 != 0
                                         || tm.ngx_tm_year % 400 == 0))
                                    ? 29 : 28);
        case 4: case 6: case 9: case 11:
            return start + 86400 * 30;
        default:
            return start + 86400 * 31;
        }
    }
}


/*
 * Takes one call from every window with a limit (limit[unit - 1], 0:
 * none), all or none: NGX_OK taken, NGX_DECLINED one window is spent
 * (nothing taken).  A window of a past period starts over.
 */

ngx_int_t
ngx_http_osint_windows_take(ngx_http_osint_window_t *w, ngx_uint_t *limit,
    time_t now)
{
    time_t      start;
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_OSINT_WINDOWS; i++) {
        start = ngx_http_osint_quota_period(now, i + 1);

        if (w[i].start != start) {
            w[i].start = start;
            w[i].used = 0;
        }

        if (limit[i] && w[i].used >= limit[i]) {
            return NGX_DECLINED;
        }
    }

    for (i = 0; i < NGX_HTTP_OSINT_WINDOWS; i++) {
        w[i].used++;
    }

    return NGX_OK;
}


/*
 * After ngx_http_osint_windows_take() refused: the ms until every spent
 * window has started over (the latest of their resets).
 */

ngx_msec_t
ngx_http_osint_windows_retry(ngx_http_osint_window_t *w, ngx_uint_t *limit,
    time_t now)
{
    time_t      reset, latest;
    ngx_uint_t  i;

    latest = now;

    for (i = 0; i < NGX_HTTP_OSINT_WINDOWS; i++) {
        if (limit[i] == 0
            || ngx_http_osint_window_left(&w[i], limit[i], i + 1, now))
        {
            continue;
        }

        reset = ngx_http_osint_quota_reset(
                    ngx_http_osint_quota_period(now, i + 1), i + 1);
        latest = ngx_max(latest, reset);
    }

    return (ngx_msec_t) (latest - now) * 1000;
}


/* calls left in a window of the given unit now */

ngx_uint_t
ngx_http_osint_window_left(ngx_http_osint_window_t *w, ngx_uint_t limit,
    ngx_uint_t unit, time_t now)
{
    if (w->start != ngx_http_osint_quota_period(now, unit)) {
        return limit;
    }

    return limit - ngx_min(w->used, limit);
}
