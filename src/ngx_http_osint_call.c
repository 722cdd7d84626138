
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * One provider call of a lookup: the caches (L1, Redis), admission by the
 * zone (429 hold, breaker, quota, token bucket), the transfer, its
 * outcome, retries with backoff on nginx timers, and what is stored or
 * served stale at the end.  Every path ends in ngx_http_osint_call_end().
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


/*
 * How often a call waiting for another's answer looks for it, when that
 * call runs in another worker; one of this worker wakes its waiters.
 */
#define NGX_HTTP_OSINT_LOCK_POLL  20


static double ngx_http_osint_call_time(ngx_http_osint_call_t *call,
    double now);
static void ngx_http_osint_call_init(ngx_http_osint_call_t *call);
static void ngx_http_osint_call_fetch(ngx_http_osint_call_t *call);
static void ngx_http_osint_call_done(ngx_http_osint_fetch_t *f);
static ngx_int_t ngx_http_osint_call_header(ngx_http_osint_call_t *call,
    char *name, ngx_str_t *value);
static ngx_http_osint_outcome_e ngx_http_osint_call_classify(
    ngx_http_osint_call_t *call);
static ngx_http_osint_outcome_e ngx_http_osint_call_tree(
    ngx_http_osint_call_t *call, ngx_str_t *answer, long status);
static void ngx_http_osint_call_timer(ngx_event_t *ev);
static ngx_connection_t *ngx_http_osint_call_client(
    ngx_http_osint_call_t *call);
static void ngx_http_osint_call_admit(ngx_http_osint_call_t *call);
static void ngx_http_osint_call_admitted(ngx_http_osint_call_t *call,
    ngx_http_osint_admission_t *a);
static void ngx_http_osint_call_ask(ngx_http_osint_call_t *call,
    ngx_http_osint_admission_t *a);
static void ngx_http_osint_call_granted(void *data, ngx_int_t rc,
    void *reply);
static void ngx_http_osint_call_grant(ngx_http_osint_call_t *call,
    ngx_int_t rc, void *reply);
static ngx_int_t ngx_http_osint_call_cache(ngx_http_osint_call_t *call);
static ngx_int_t ngx_http_osint_call_redis_key(ngx_http_osint_call_t *call,
    ngx_str_t *key);
static void ngx_http_osint_call_redis(void *data, ngx_int_t rc, u_char *value,
    size_t len);
static void ngx_http_osint_call_serve(ngx_http_osint_call_t *call,
    ngx_http_osint_status_e status, ngx_str_t *value,
    ngx_http_osint_source_e tier);
static void ngx_http_osint_call_settle(ngx_http_osint_call_t *call);
static void ngx_http_osint_call_store(ngx_http_osint_call_t *call);
static ngx_msec_t ngx_http_osint_call_ttl(ngx_http_osint_provider_t *p,
    ngx_http_osint_status_e status);
static time_t ngx_http_osint_call_answered(ngx_http_osint_provider_t *p,
    ngx_http_osint_status_e status, time_t fresh_until, time_t answered);
static void ngx_http_osint_call_end(ngx_http_osint_call_t *call);
static void ngx_http_osint_call_local(ngx_http_osint_call_t *call,
    const char *message);
static void ngx_http_osint_call_overloaded(ngx_http_osint_call_t *call);
static void ngx_http_osint_call_stop(ngx_http_osint_call_t *call,
    ngx_http_osint_err_e err, const char *message);
static void ngx_http_osint_call_lead(ngx_http_osint_call_t *call);
static void ngx_http_osint_call_wait(ngx_http_osint_call_t *call);
static ngx_uint_t ngx_http_osint_call_unwait(ngx_http_osint_call_t *call);
static void ngx_http_osint_call_release(ngx_http_osint_call_t *call);
static ngx_uint_t ngx_http_osint_call_same(ngx_http_osint_call_t *a,
    ngx_http_osint_call_t *b);


/*
 * This worker's calls that hold an L1 update lock (leaders), and those
 * that wait for a leader's answer (waiters), linked by call->coalesce.
 */
static ngx_queue_t  ngx_http_osint_call_leaders;
static ngx_queue_t  ngx_http_osint_call_waiters;


/* a call's first pass: its timer, and the worker's queues at first use */

static void
ngx_http_osint_call_init(ngx_http_osint_call_t *call)
{
    ngx_http_osint_lookup_t  *lk;

    lk = call->lookup;

    call->timer.handler = ngx_http_osint_call_timer;
    call->timer.data = lk->connection;
    call->timer.log = lk->log;

    /* a refresh's timers do not keep an exiting worker */

    call->timer.cancelable = (lk->request == NULL);

    if (ngx_http_osint_call_leaders.next == NULL) {
        ngx_queue_init(&ngx_http_osint_call_leaders);
        ngx_queue_init(&ngx_http_osint_call_waiters);
    }
}


/*
 * A call's time, from its lookup's start to now.  While the lookup starts
 * (ngx_http_osint_lookup_run()) it is 0, and the clock is not read: what
 * ends there (an L1 answer, a refusal) took microseconds, and the
 * document says tenths of a ms; the lookup reads the clock once after,
 * for the calls still out.  A vDSO clock read is not free: ten a hit
 * were 3.4 % of an L1-hit worker's time.  "now": the clock when the
 * caller has read it, else 0.
 */

static double
ngx_http_osint_call_time(ngx_http_osint_call_t *call, double now)
{
    ngx_http_osint_lookup_t  *lk;

    lk = call->lookup;

    if (lk->starting) {
        return 0;
    }

    return (now > 0 ? now : ngx_http_osint_now_ms()) - lk->started;
}


/* a call starts with the caches; a miss goes on to the provider */

void
ngx_http_osint_call_begin(ngx_http_osint_call_t *call)
{
    if (call->timer.handler == NULL) {
        ngx_http_osint_call_init(call);
    }

    /* the first pass, and each look for another call's answer (waiting) */

    if (call->cache == NGX_HTTP_OSINT_SRC_NONE
        && ngx_http_osint_call_cache(call) != NGX_DECLINED)
    {
        return;
    }

    ngx_http_osint_call_admit(call);
}


/*
 * The caches, in order: L1, then Redis.  NGX_DONE: answered from a
 * cache; NGX_AGAIN: waiting (for another call's answer, or Redis);
 * NGX_DECLINED: ask the provider.
 */

static ngx_int_t
ngx_http_osint_call_cache(ngx_http_osint_call_t *call)
{
    ngx_str_t                    k;
    ngx_msec_int_t               left;
    ngx_http_osint_l1_e          rc;
    ngx_http_osint_lookup_t     *lk;
    ngx_http_osint_provider_t   *p;
    ngx_http_osint_l1_answer_t   a;
    ngx_http_osint_main_conf_t  *omcf;

    lk = call->lookup;
    p = call->provider;
    omcf = lk->omcf;

    if (lk->bypass) {
        call->cache = NGX_HTTP_OSINT_SRC_BYPASS;
        return NGX_DECLINED;
    }

    if (p->cache_ttl == 0) {
        call->cache = NGX_HTTP_OSINT_SRC_MISS;
        return NGX_DECLINED;
    }

    if (omcf->cache_l1) {
        left = (ngx_msec_int_t) (lk->deadline_at - ngx_current_msec);

        rc = ngx_http_osint_l1_get(omcf, p, &lk->target,
                                   left > 0 ? (ngx_msec_t) left : 1,
                                   lk->pool, &a);

        switch (rc) {

        case NGX_HTTP_OSINT_L1_FRESH:
            ngx_http_osint_count_cache(omcf, p, NGX_HTTP_OSINT_TIER_L1,
                                       NGX_HTTP_OSINT_CACHE_HIT);
            call->answered = a.answered;
            call->expires = a.expires;
            call->gen = a.gen;
            ngx_http_osint_call_serve(call, a.status, &a.value,
                                      NGX_HTTP_OSINT_SRC_L1);
            return NGX_DONE;

        case NGX_HTTP_OSINT_L1_BUSY:

            /* another call asks the provider: its answer will be here */

            ngx_http_osint_call_wait(call);
            return NGX_AGAIN;

        case NGX_HTTP_OSINT_L1_REFRESH:

            /*
             * ours to refresh, in the background: the lock goes to the
             * refresh that the lookup starts when this call ends
             */

            call->refresh = 1;

            /* fall through */

        case NGX_HTTP_OSINT_L1_UPDATING:
            ngx_http_osint_count_cache(omcf, p, NGX_HTTP_OSINT_TIER_L1,
                                       NGX_HTTP_OSINT_CACHE_STALE);
            call->answered = a.answered;
            call->gen = a.gen;
            ngx_http_osint_call_serve(call, a.status, &a.value,
                                      NGX_HTTP_OSINT_SRC_STALE);
            return NGX_DONE;

        case NGX_HTTP_OSINT_L1_STALE:
            call->stale = a.value;
            call->stale_status = a.status;
            call->stale_answered = a.answered;

            /* fall through */

        default: /* NGX_HTTP_OSINT_L1_MISS */
            ngx_http_osint_count_cache(omcf, p, NGX_HTTP_OSINT_TIER_L1,
                                       NGX_HTTP_OSINT_CACHE_MISS);
            ngx_http_osint_call_lead(call);
            break;
        }
    }

    call->cache = NGX_HTTP_OSINT_SRC_MISS;

    if (omcf->redis == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_call_redis_key(call, &k) != NGX_OK) {
        return NGX_DECLINED;
    }

    call->redis = ngx_http_osint_redis_get(&k, ngx_http_osint_call_redis,
                                           call, lk->log);

    if (call->redis == NULL) {
        ngx_http_osint_count_cache(omcf, p, NGX_HTTP_OSINT_TIER_REDIS,
                                   NGX_HTTP_OSINT_CACHE_ERROR);
        return NGX_DECLINED;
    }

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_osint_call_redis_key(ngx_http_osint_call_t *call, ngx_str_t *key)
{
    ngx_http_osint_lookup_t     *lk;
    ngx_http_osint_main_conf_t  *omcf;

    lk = call->lookup;
    omcf = lk->omcf;

    return ngx_http_osint_redis_key(omcf, lk->pool, call->provider,
                                    &lk->target, key);
}


static void
ngx_http_osint_call_redis(void *data, ngx_int_t rc, u_char *text, size_t len)
{
    ngx_http_osint_call_t *call = data;

    time_t                       fresh_until, answered;
    ngx_str_t                    value;
    ngx_connection_t            *c;
    ngx_http_osint_lookup_t     *lk;
    ngx_http_osint_provider_t   *p;
    ngx_http_osint_status_e      status;
    ngx_http_osint_main_conf_t  *omcf;

    lk = call->lookup;
    p = call->provider;
    c = ngx_http_osint_call_client(call);
    omcf = lk->omcf;

    call->redis = NULL;

    if (rc == NGX_OK) {
        rc = ngx_http_osint_cache_decode(p, text, len, lk->pool,
                                         &value, &status, &fresh_until,
                                         &answered);

        if (rc == NGX_OK) {
            answered = ngx_http_osint_call_answered(p, status, fresh_until,
                                                    answered);
        }

        if (rc != NGX_OK) {
            ngx_log_error(NGX_LOG_INFO, lk->log, 0,
                          "osint: provider \"%V\" redis value does not "
                          "decode, request %V", &p->name, &lk->request_id);
            rc = NGX_ERROR;

        } else if (fresh_until <= ngx_time()) {
            if (call->stale.len == 0 && status == NGX_HTTP_OSINT_OK) {
                call->stale = value;
                call->stale_status = status;
                call->stale_answered = answered;
            }

            rc = NGX_DECLINED;
        }
    }

    ngx_http_osint_count_cache(omcf, p, NGX_HTTP_OSINT_TIER_REDIS,
                               rc == NGX_OK ? NGX_HTTP_OSINT_CACHE_HIT
                               : rc == NGX_DECLINED ? NGX_HTTP_OSINT_CACHE_MISS
                               : NGX_HTTP_OSINT_CACHE_ERROR);

    if (rc == NGX_OK) {

        /* fills L1 for what is left of the answer's life */

        if (omcf->cache_l1) {
            ngx_http_osint_l1_put(omcf, p, &lk->target, status, &value,
                                  (ngx_msec_t) (fresh_until - ngx_time())
                                  * 1000, answered, lk->log);
            ngx_http_osint_call_release(call);
        }

        call->answered = answered;
        call->expires = fresh_until;

        ngx_http_osint_call_serve(call, status, &value,
                                  NGX_HTTP_OSINT_SRC_REDIS);

    } else {
        ngx_http_osint_call_admit(call);
    }

    if (c) {
        ngx_http_run_posted_requests(c);
    }
}


/*
 * An answer from a cache: no network, no attempt.  Its text is what
 * ngx_http_osint_json_print() wrote, so it is kept as it is, unparsed:
 * a document copies it, and only a summary not remembered parses it
 * (ngx_http_osint_call_data()).
 */

static void
ngx_http_osint_call_serve(ngx_http_osint_call_t *call,
    ngx_http_osint_status_e status, ngx_str_t *value,
    ngx_http_osint_source_e tier)
{
    call->cache = tier;
    call->status = status;
    call->err = NGX_HTTP_OSINT_ERR_NONE;
    call->latency = ngx_http_osint_call_time(call, 0);

    if (status == NGX_HTTP_OSINT_OK) {
        call->text = *value;
    }

    ngx_http_osint_call_end(call);
}


/*
 * A call answered by the L1 entry a remembered document names, confirmed
 * fresh (src/ngx_http_osint_document_memo.c): served and counted as a
 * fresh L1 hit is in ngx_http_osint_call_cache().  Its text stays empty:
 * the document has it already.
 */

void
ngx_http_osint_call_recall(ngx_http_osint_call_t *call,
    ngx_http_osint_status_e status, time_t answered, time_t expires,
    uint64_t gen)
{
    ngx_str_t  none = ngx_null_string;

    ngx_http_osint_call_init(call);

    ngx_http_osint_count_cache(call->lookup->omcf, call->provider,
                               NGX_HTTP_OSINT_TIER_L1,
                               NGX_HTTP_OSINT_CACHE_HIT);
    call->answered = answered;
    call->expires = expires;
    call->gen = gen;
    ngx_http_osint_call_serve(call, status, &none, NGX_HTTP_OSINT_SRC_L1);
}


/* an ok call's answer as a tree; NULL without memory */

cJSON *
ngx_http_osint_call_data(ngx_http_osint_call_t *call)
{
    ngx_pool_t  *pool;

    if (call->data == NULL && call->text.len) {
        pool = ngx_http_osint_json_pool_enter(call->lookup->pool);
        call->data = cJSON_ParseWithLength((char *) call->text.data,
                                           call->text.len);
        ngx_http_osint_json_pool_leave(pool);
    }

    return call->data;
}


/*
 * Admission by the zone, for the first attempt and each retry.  A call
 * the zone refuses makes no network call: it is "skipped" on its first
 * attempt, and keeps its last error on a retry.
 */

static void
ngx_http_osint_call_admit(ngx_http_osint_call_t *call)
{
    ngx_msec_int_t               left;
    ngx_http_osint_lookup_t     *lk;
    ngx_http_osint_provider_t   *p;
    ngx_http_osint_admission_t   a;
    ngx_http_osint_main_conf_t  *omcf;

    lk = call->lookup;
    p = call->provider;
    omcf = lk->omcf;

    left = (ngx_msec_int_t) (lk->deadline_at - ngx_current_msec);

    if (left <= 0) {
        ngx_http_osint_count_skip(p, NGX_HTTP_OSINT_SKIP_DEADLINE);

        if (call->attempts == 0) {
            call->status = NGX_HTTP_OSINT_SKIPPED;
            call->err = NGX_HTTP_OSINT_ERR_DEADLINE;
            ngx_str_set(&call->message, "osint_deadline reached");
        }

        ngx_http_osint_call_end(call);
        return;
    }

    a.no_breaker = call->probing && !p->probe_breaker;

    ngx_http_osint_admit(omcf, p, (ngx_msec_t) left - 1, &a,
                         lk->log);

    ngx_http_osint_call_admitted(call, &a);
}


/* what the admission said: go, wait for a token, ask Redis, or not */

static void
ngx_http_osint_call_admitted(ngx_http_osint_call_t *call,
    ngx_http_osint_admission_t *a)
{
    ngx_http_osint_provider_t  *p;

    p = call->provider;

    if (a->verdict == NGX_HTTP_OSINT_ADMIT_ASK) {
        ngx_http_osint_call_ask(call, a);
        return;
    }

    if (a->verdict == NGX_HTTP_OSINT_REJECT && a->wait) {
        /* Redis's bucket has a token within the wait allowed: ask then */
        call->admitted = 0;
        ngx_add_timer(&call->timer, a->wait);
        return;
    }

    if (a->verdict == NGX_HTTP_OSINT_REJECT) {
        call->retry_after = a->retry_after;

        ngx_http_osint_count_skip(p,
                                  a->err == NGX_HTTP_OSINT_ERR_BREAKER_OPEN
                                  ? NGX_HTTP_OSINT_SKIP_BREAKER_OPEN
                                  : NGX_HTTP_OSINT_SKIP_RATE_LIMITED);

        if (call->attempts == 0) {
            call->status = NGX_HTTP_OSINT_SKIPPED;
            call->err = a->err;
            call->message.data = (u_char *) a->reason;
            call->message.len = ngx_strlen(a->reason);

        } else {
            call->status = NGX_HTTP_OSINT_ERROR;
        }

        ngx_http_osint_call_end(call);
        return;
    }

    call->probe = a->probe;

    if (a->wait) {
        /* a token is reserved for us: go when it comes */
        call->admitted = 1;
        ngx_add_timer(&call->timer, a->wait);
        return;
    }

    ngx_http_osint_call_fetch(call);
}


/*
 * The call's sync=redis budgets are asked of Redis: the answer (or none,
 * within osint_redis's timeout) goes on with the admission.  Not sent:
 * decided at once on the local share.
 */

static void
ngx_http_osint_call_ask(ngx_http_osint_call_t *call,
    ngx_http_osint_admission_t *a)
{
    ngx_http_osint_lookup_t  *lk;

    lk = call->lookup;

    call->probe = a->probe;
    call->ask = a->ask;
    call->want = a->want;
    call->evaled = 0;

    call->redis = ngx_http_osint_budget_ask(call->provider, a->ask, a->want,
                                            0, ngx_http_osint_call_granted,
                                            call, lk->pool,
                                            lk->request->connection->log);

    if (call->redis == NULL) {
        ngx_http_osint_call_grant(call, NGX_ERROR, NULL);
    }
}


static void
ngx_http_osint_call_granted(void *data, ngx_int_t rc, void *reply)
{
    ngx_http_osint_call_t *call = data;

    ngx_connection_t  *c;

    c = call->lookup->request->connection;
    call->redis = NULL;

    if (!call->evaled && ngx_http_osint_budget_noscript(rc, reply)) {
        call->evaled = 1;
        call->redis = ngx_http_osint_budget_ask(call->provider, call->ask,
                                                call->want, 1,
                                                ngx_http_osint_call_granted,
                                                call, call->lookup->pool,
                                                c->log);
        if (call->redis) {
            return;
        }
    }

    ngx_http_osint_call_grant(call, rc, reply);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_osint_call_grant(ngx_http_osint_call_t *call, ngx_int_t rc,
    void *reply)
{
    ngx_msec_int_t               left;
    ngx_http_osint_grant_t       g;
    ngx_http_osint_lookup_t     *lk;
    ngx_http_osint_admission_t   a;
    ngx_http_osint_main_conf_t  *omcf;

    lk = call->lookup;
    omcf = ngx_http_get_module_main_conf(lk->request, ngx_http_osint_module);

    g.asked = call->ask;
    g.want = call->want;

    ngx_http_osint_budget_answer(omcf, call->provider, rc, reply, &g,
                                 lk->request->connection->log);

    left = (ngx_msec_int_t) (lk->deadline_at - ngx_current_msec);

    a.probe = call->probe;
    call->probe = 0;

    ngx_http_osint_admit_grant(omcf, call->provider,
                               left > 0 ? (ngx_msec_t) left - 1 : 0, &g, &a,
                               lk->request->connection->log);

    ngx_http_osint_call_admitted(call, &a);
}


static void
ngx_http_osint_call_timer(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_http_osint_call_t  *call;

    call = (ngx_http_osint_call_t *)
               ((u_char *) ev - offsetof(ngx_http_osint_call_t, timer));

    c = ngx_http_osint_call_client(call);

    if (call->admitted) {
        call->admitted = 0;
        ngx_http_osint_call_fetch(call);

    } else if (call->waiting) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "osint: provider \"%V\" waits for another call, %s",
                       &call->provider->name,
                       call->woken ? "woken by the answer"
                                   : "looks again (poll)");

        (void) ngx_http_osint_call_unwait(call);
        call->cache = NGX_HTTP_OSINT_SRC_NONE;
        ngx_http_osint_call_begin(call);

    } else {
        ngx_http_osint_call_admit(call);
    }

    if (c) {
        ngx_http_run_posted_requests(c);
    }
}


/* the client's connection, for its posted requests; NULL: a refresh */

static ngx_connection_t *
ngx_http_osint_call_client(ngx_http_osint_call_t *call)
{
    return call->lookup->request ? call->lookup->request->connection : NULL;
}


/*
 * Stops a call that has not ended: the lookup's deadline, or its client
 * went away (err NONE: nothing to report).  An ended call is left alone.
 */

void
ngx_http_osint_call_abort(ngx_http_osint_call_t *call,
    ngx_http_osint_err_e err, const char *message)
{
    ngx_uint_t                   waited;
    ngx_http_osint_provider_t   *p;
    ngx_http_osint_main_conf_t  *omcf;

    if (call->status != NGX_HTTP_OSINT_PENDING) {
        return;
    }

    p = call->provider;
    omcf = call->lookup->omcf;

    /*
     * Its lookup's pool may go next: out of the waiters, not posted.  A
     * wait counts as one on a timer, polling or not.
     */

    waited = ngx_http_osint_call_unwait(call);

    if (call->timer.timer_set || waited) {
        if (call->timer.timer_set) {
            ngx_del_timer(&call->timer);
        }

        if (err != NGX_HTTP_OSINT_ERR_NONE) {
            ngx_http_osint_count_skip(p, NGX_HTTP_OSINT_SKIP_DEADLINE);
        }
    }

    if (call->fetch) {
        if (call->fetch->active && err != NGX_HTTP_OSINT_ERR_NONE) {
            ngx_http_osint_count_call(p, NGX_HTTP_OSINT_OUT_TIMEOUT);
        }

        ngx_http_osint_fetch_cancel(call->fetch);
    }

    if (call->probe) {
        ngx_http_osint_release_probe(omcf, p, call->probe);
        call->probe = 0;
    }

    if (call->redis) {
        ngx_http_osint_redis_cancel(call->redis);
        call->redis = NULL;
    }

    if (err != NGX_HTTP_OSINT_ERR_NONE) {
        call->latency = ngx_http_osint_call_time(call, 0);
        ngx_http_osint_call_error(call, err, 0, message);
    }

    ngx_http_osint_call_settle(call);
}


static void
ngx_http_osint_call_end(ngx_http_osint_call_t *call)
{
    ngx_http_osint_call_settle(call);
    call->done(call);
}


/*
 * The answer is final: a fresh one is stored in both tiers; a failure
 * falls back on a stale answer when one is at hand (stale-if-error); the
 * update lock is released either way.
 */

static void
ngx_http_osint_call_settle(ngx_http_osint_call_t *call)
{
    ngx_http_osint_provider_t   *p;
    ngx_http_osint_main_conf_t  *omcf;

    p = call->provider;
    omcf = call->lookup->omcf;

    if (call->attempts
        && (call->status == NGX_HTTP_OSINT_OK
            || call->status == NGX_HTTP_OSINT_NOT_FOUND))
    {
        /* the provider answered now: age 0, fresh for what is cached */

        call->answered = ngx_time();
        call->expires = call->answered
                        + (time_t) (ngx_http_osint_call_ttl(p, call->status)
                                    / 1000);

        if (p->cache_ttl) {
            ngx_http_osint_call_store(call);
        }

    } else if (call->stale.len
               && (call->status == NGX_HTTP_OSINT_ERROR
                   || (call->status == NGX_HTTP_OSINT_SKIPPED
                       && call->err != NGX_HTTP_OSINT_ERR_DISABLED)))
    {
        ngx_log_error(NGX_LOG_INFO, call->lookup->log, 0,
                      "osint: provider \"%V\" answered from stale cache "
                      "after %s, request %V", &p->name,
                      ngx_http_osint_err_kind(call->err),
                      &call->lookup->request_id);

        ngx_http_osint_count_cache(omcf, p, NGX_HTTP_OSINT_TIER_L1,
                                   NGX_HTTP_OSINT_CACHE_STALE);

        call->stale_reason = call->err;
        call->cache = NGX_HTTP_OSINT_SRC_STALE;
        call->answered = call->stale_answered;
        call->expires = 0;
        call->status = call->stale_status;
        call->err = NGX_HTTP_OSINT_ERR_NONE;

        if (call->status == NGX_HTTP_OSINT_OK) {
            call->text = call->stale;
        }
    }

    if (call->locked) {
        ngx_http_osint_l1_unlock(omcf, p, &call->lookup->target);
        ngx_http_osint_call_release(call);
    }
}


static void
ngx_http_osint_call_store(ngx_http_osint_call_t *call)
{
    u_char                      *enc;
    size_t                       len;
    ngx_str_t                    value, key;
    ngx_msec_t                   ttl;
    ngx_http_osint_lookup_t     *lk;
    ngx_http_osint_provider_t   *p;
    ngx_http_osint_main_conf_t  *omcf;

    lk = call->lookup;
    p = call->provider;
    omcf = lk->omcf;

    ngx_str_null(&value);

    ttl = ngx_http_osint_call_ttl(p, call->status);

    if (ttl == 0) {
        return;
    }

    if (call->status == NGX_HTTP_OSINT_OK) {
        if (ngx_http_osint_json_print(lk->pool, call->data, 0, &value)
            != NGX_OK)
        {
            return;
        }

        /* the document copies the text the caches keep: one print */

        call->text = value;
    }

    if (omcf->cache_l1) {
        ngx_http_osint_l1_put(omcf, p, &lk->target, call->status, &value, ttl,
                              call->answered, lk->log);
        ngx_http_osint_call_release(call);
    }

    if (omcf->redis && ngx_http_osint_redis_up()) {
        enc = ngx_http_osint_cache_encode(p, call->status, &value,
                                          ngx_time() + ttl / 1000,
                                          call->answered, &len);

        if (enc) {
            if (ngx_http_osint_call_redis_key(call, &key) == NGX_OK) {

                /*
                 * Redis keeps the stale window of an ok answer too: L2
                 * can serve it; a negative answer is never served stale
                 */

                if (call->status == NGX_HTTP_OSINT_OK) {
                    ttl += ngx_max(p->cache_stale, p->cache_revalidate);
                }

                ngx_http_osint_redis_set(&key, enc, len,
                                         (time_t) (ttl / 1000 + 1));
            }

            ngx_free(enc);
        }
    }
}


/* how long an answer of this status is cached, ms; 0: not at all */

static ngx_msec_t
ngx_http_osint_call_ttl(ngx_http_osint_provider_t *p,
    ngx_http_osint_status_e status)
{
    if (p->cache_ttl == 0) {
        return 0;
    }

    return status == NGX_HTTP_OSINT_OK ? p->cache_ttl : p->cache_not_found;
}


/*
 * When the provider gave a Redis value: its "at", or for a value written
 * before "at" existed, its freshness's end less this provider's TTL,
 * never in the future.
 */

static time_t
ngx_http_osint_call_answered(ngx_http_osint_provider_t *p,
    ngx_http_osint_status_e status, time_t fresh_until, time_t answered)
{
    time_t  now;

    now = ngx_time();

    if (answered == 0) {
        answered = fresh_until
                   - (time_t) (ngx_http_osint_call_ttl(p, status) / 1000);
    }

    return ngx_min(answered, now);
}


static void
ngx_http_osint_call_fetch(ngx_http_osint_call_t *call)
{
    u_char                      *url, *line;
    size_t                       len;
    ngx_int_t                    rc;
    ngx_uint_t                   i;
    ngx_msec_t                   timeout;
    ngx_http_osint_tpl_t        *tpl;
    ngx_http_osint_fetch_t      *f;
    ngx_http_osint_lookup_t     *lk;
    ngx_http_osint_provider_t   *p;
    ngx_http_osint_main_conf_t  *omcf;

    lk = call->lookup;
    p = call->provider;

    if (call->fetch == NULL) {
        call->fetch = ngx_pcalloc(lk->pool, sizeof(ngx_http_osint_fetch_t));

        if (call->fetch == NULL) {
            ngx_http_osint_call_local(call, "the call could not be started");
            return;
        }
    }

    f = call->fetch;
    omcf = lk->omcf;

    f->max_body = omcf->max_body;
    f->provider = p;
    f->redirects = p->redirects;
    f->said_wanted = p->own.rate.adaptive;
    f->api_key = &p->api_key;

    /*
     * libcurl re-sends a request by itself when a kept-alive connection
     * turns out dead; a retry after a connection failure must be one
     * request on a new connection, so that attempts count requests.
     */

    f->fresh_connect = call->fresh;
    f->done = ngx_http_osint_call_done;
    f->data = call;
    f->log = lk->log;

    url = ngx_http_osint_tpl_expand(lk->pool, &p->url, &lk->target, lk->type,
                                    &p->api_key, &len);
    if (url == NULL) {
        goto failed;
    }

    tpl = p->headers.elts;

    for (i = 0; i < p->headers.nelts; i++) {
        line = ngx_http_osint_tpl_expand(lk->pool, &tpl[i], &lk->target,
                                         lk->type, &p->api_key, &len);
        if (line == NULL
            || ngx_http_osint_fetch_add_header(f, (char *) line) != NGX_OK)
        {
            goto failed;
        }
    }

    if (p->body_source.len) {
        f->post = ngx_http_osint_tpl_expand(lk->pool, &p->body, &lk->target,
                                            lk->type, &p->api_key,
                                            &f->post_len);
        if (f->post == NULL) {
            goto failed;
        }
    }

    /* correlation; ngx_http_osint_fetch drops them off the origin */

    if (ngx_http_osint_call_header(call, "X-Request-ID", &lk->request_id)
        != NGX_OK
        || ngx_http_osint_call_header(call, "traceparent", &lk->traceparent)
           != NGX_OK
        || ngx_http_osint_call_header(call, "tracestate", &lk->tracestate)
           != NGX_OK)
    {
        goto failed;
    }

    /*
     * The lookup's deadline ends every attempt that outlives it: its own
     * timer, which fires first (an attempt's runs 1 ms longer), so that
     * the call says "deadline", not "timeout".
     */

    timeout = ngx_min(p->timeout, lk->deadline_at - ngx_current_msec + 1);

    call->attempts++;
    call->attempt_started = ngx_http_osint_now_ms();
    call->err = NGX_HTTP_OSINT_ERR_NONE;

    rc = ngx_http_osint_fetch_start(f, (char *) url, timeout);

    if (rc == NGX_OK) {
        return;
    }

    if (rc == NGX_BUSY) {
        ngx_http_osint_fetch_cancel(f);
        ngx_http_osint_call_overloaded(call);
        return;
    }

    goto failed;

failed:

    ngx_http_osint_fetch_cancel(f);

    ngx_log_error(NGX_LOG_ERR, lk->log, 0,
                  "osint: provider \"%V\" call could not be started",
                  &p->name);

    ngx_http_osint_call_local(call, "the call could not be started");
}


/*
 * The worker's own failure (memory, descriptors, worker_connections, an
 * event it could not watch), not the provider's: no outcome is recorded,
 * so no breaker counts it, and a probe gives its slot back deciding
 * nothing.  A token or quota unit taken stays taken: the request may have
 * reached the provider.  No retry: the shortage is likely still there.
 */

/* "name: value" for the provider, unless the value is empty */

static ngx_int_t
ngx_http_osint_call_header(ngx_http_osint_call_t *call, char *name,
    ngx_str_t *value)
{
    u_char  *line;

    if (value->len == 0) {
        return NGX_OK;
    }

    line = ngx_pnalloc(call->lookup->pool,
                       ngx_strlen(name) + sizeof(": ") + value->len);
    if (line == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_sprintf(line, "%s: %V%Z", name, value);

    return ngx_http_osint_fetch_add_header(call->fetch, (char *) line);
}


static void
ngx_http_osint_call_local(ngx_http_osint_call_t *call, const char *message)
{
    ngx_http_osint_call_stop(call, NGX_HTTP_OSINT_ERR_INTERNAL, message);
}


static void
ngx_http_osint_call_stop(ngx_http_osint_call_t *call,
    ngx_http_osint_err_e err, const char *message)
{
    ngx_http_osint_main_conf_t  *omcf;

    omcf = call->lookup->omcf;

    if (call->probe) {
        ngx_http_osint_release_probe(omcf, call->provider, call->probe);
        call->probe = 0;
    }

    ngx_http_osint_call_error(call, err, 0, message);

    ngx_http_osint_call_end(call);
}


/*
 * The provider's transfers of this worker are all under way and its
 * queue is full ("connections N queue=M"): the module's own limit, so no
 * outcome is recorded and no breaker counts it, as in call_local().  No
 * request was made: the attempt is not counted either.
 */

static void
ngx_http_osint_call_overloaded(ngx_http_osint_call_t *call)
{
    u_char                     *last;
    ngx_http_osint_provider_t  *p;
    u_char                      text[sizeof("provider queue full "
                                            "(connections  queue=)")
                                     + 2 * NGX_INT_T_LEN];

    p = call->provider;

    call->attempts--;

    last = ngx_snprintf(text, sizeof(text) - 1,
                        "provider queue full (connections %ui queue=%ui)",
                        p->conns, p->conns_queue);
    *last = '\0';

    ngx_http_osint_call_stop(call, NGX_HTTP_OSINT_ERR_OVERLOADED,
                             (char *) text);
}


static void
ngx_http_osint_call_done(ngx_http_osint_fetch_t *f)
{
    double                       now;
    ngx_uint_t                   transient;
    ngx_msec_t                   hold, delay;
    ngx_http_osint_call_t       *call;
    ngx_http_osint_lookup_t     *lk;
    ngx_http_osint_provider_t   *p;
    ngx_http_osint_outcome_e     outcome;
    ngx_http_osint_main_conf_t  *omcf;

    call = f->data;
    lk = call->lookup;
    p = call->provider;
    omcf = lk->omcf;

    now = ngx_http_osint_now_ms();
    call->latency = ngx_http_osint_call_time(call, now);

    /* a transfer that also ran short of a socket and then failed */

    if (f->local && f->result != CURLE_OK) {
        ngx_http_osint_fetch_cancel(f);
        ngx_http_osint_call_local(call, f->local);
        return;
    }

    outcome = ngx_http_osint_call_classify(call);

    /*
     * A 429 holds the provider for every worker: for its Retry-After
     * (already at most NGX_HTTP_OSINT_RETRY_AFTER_MAX seconds, so the
     * product cannot overflow), or a second without one.
     */

    hold = 0;

    if (outcome == NGX_HTTP_OSINT_OUT_RATE_LIMITED) {
        hold = f->retry_after >= 0 ? (ngx_msec_t) f->retry_after * 1000
                                   : 1000;

    } else if (p->own.rate.adaptive && f->http_status == 503
               && f->retry_after > 0)
    {
        /* "come back later", from a provider whose word is heeded */
        hold = (ngx_msec_t) f->retry_after * 1000;
    }

    /* for the client: a 429's hold, or a 503's Retry-After */

    call->retry_after = hold ? hold
                        : f->retry_after > 0 && outcome != NGX_HTTP_OSINT_OUT_OK
                          ? (ngx_msec_t) f->retry_after * 1000 : 0;

    ngx_http_osint_record(omcf, p, outcome, call->err, call->probe,
                          ngx_crc32_short(lk->target.data, lk->target.len),
                          now - call->attempt_started, hold,
                          !call->probing || p->probe_breaker,
                          lk->log, &lk->request_id);
    call->probe = 0;

    if (f->said_wanted) {
        ngx_http_osint_record_said(omcf, p, &f->said);
    }

    transient = (outcome == NGX_HTTP_OSINT_OUT_TIMEOUT
                 || outcome == NGX_HTTP_OSINT_OUT_CONNECT
                 || outcome == NGX_HTTP_OSINT_OUT_HTTP_5XX
                 || outcome == NGX_HTTP_OSINT_OUT_RATE_LIMITED);

    if (!transient || call->attempts > p->retry.retries) {
        ngx_http_osint_fetch_cancel(f);
        ngx_http_osint_call_end(call);
        return;
    }

    /* Retry-After replaces the backoff, within max_backoff */

    if (f->retry_after >= 0) {
        delay = (ngx_msec_t) ngx_min(f->retry_after * 1000,
                                     (curl_off_t) p->retry.max_backoff);

    } else {
        delay = ngx_http_osint_backoff(p->retry.backoff, p->retry.max_backoff,
                                       call->attempts, (uint32_t) ngx_random());
    }

    ngx_http_osint_fetch_cancel(f);

    if ((ngx_msec_int_t) (lk->deadline_at - ngx_current_msec - delay) <= 0) {
        ngx_http_osint_count_skip(p, NGX_HTTP_OSINT_SKIP_DEADLINE);
        ngx_http_osint_call_end(call);
        return;
    }

    ngx_http_osint_count_retry(p);

    call->fresh = (outcome == NGX_HTTP_OSINT_OUT_CONNECT);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, lk->log, 0,
                   "osint: provider \"%V\" retry %ui in %M ms",
                   &p->name, call->attempts, delay);

    call->status = NGX_HTTP_OSINT_PENDING;
    call->admitted = 0;
    ngx_add_timer(&call->timer, delay);
}


/* turns the transfer's outcome into status, error kind and data */

static ngx_http_osint_outcome_e
ngx_http_osint_call_classify(ngx_http_osint_call_t *call)
{
    long                       status;
    ngx_str_t                  body;
    ngx_uint_t                 bad;
    ngx_pool_t                *pool;
    ngx_http_osint_fetch_t    *f;
    ngx_http_osint_outcome_e   out;

    f = call->fetch;
    status = f->http_status;

    /* the same words for every refused hop: nothing of where it led */

    if (f->redirect_error) {
        ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_REDIRECT,
                                  f->redirect_status, f->redirect_error);
        return NGX_HTTP_OSINT_OUT_BAD_RESPONSE;
    }

    switch (f->result) {

    case CURLE_OK:
        break;

    case CURLE_OPERATION_TIMEDOUT:
        ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_TIMEOUT, 0,
                                  "the provider did not answer in time");
        return NGX_HTTP_OSINT_OUT_TIMEOUT;

    case CURLE_FILESIZE_EXCEEDED:
        ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_TOO_LARGE, status,
                                  "the answer is larger than osint_max_body");
        return NGX_HTTP_OSINT_OUT_TOO_LARGE;

    case CURLE_WRITE_ERROR:
        if (f->too_large) {
            ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_TOO_LARGE,
                                      status, "the answer is larger than "
                                      "osint_max_body");
            return NGX_HTTP_OSINT_OUT_TOO_LARGE;
        }

        /* fall through */

    default:

        /* before a status line: no connection; after it: a broken answer */

        ngx_http_osint_call_error(call,
                                  status ? NGX_HTTP_OSINT_ERR_BAD_RESPONSE
                                         : NGX_HTTP_OSINT_ERR_CONNECT,
                                  status,
                                  f->foreign ? "the redirected request failed"
                                  : f->error[0] ? f->error
                                  : curl_easy_strerror(f->result));

        return status ? NGX_HTTP_OSINT_OUT_BAD_RESPONSE
                      : NGX_HTTP_OSINT_OUT_CONNECT;
    }

    if (status == 404) {
        call->status = NGX_HTTP_OSINT_NOT_FOUND;
        call->http_status = status;
        return NGX_HTTP_OSINT_OUT_NOT_FOUND;
    }

    if (status == 429) {
        ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_RATE_LIMITED, status,
                                  "the provider answered 429 Too Many "
                                  "Requests");
        return NGX_HTTP_OSINT_OUT_RATE_LIMITED;
    }

    if (status == 401 || status == 403) {
        ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_AUTH, status,
                                  "the provider refused the credentials");
        return NGX_HTTP_OSINT_OUT_HTTP_4XX;
    }

    if (status < 200 || status > 299) {
        ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_HTTP_STATUS, status,
                                  "the provider answered an unexpected "
                                  "status");

        return status >= 500 ? NGX_HTTP_OSINT_OUT_HTTP_5XX
                             : NGX_HTTP_OSINT_OUT_HTTP_4XX;
    }

    body.data = f->body;
    body.len = f->body ? f->body_len : 0;

    if (ngx_http_osint_utf8_repair(call->lookup->pool, &body, &body,
                                   &bad)
        != NGX_OK)
    {
        ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_BAD_RESPONSE,
                                  status, "out of memory reading the answer");
        return NGX_HTTP_OSINT_OUT_BAD_RESPONSE;
    }

    if (bad) {
        ngx_log_error(NGX_LOG_INFO, call->lookup->log, 0,
                      "osint: provider \"%V\": %ui bytes of ill-formed "
                      "UTF-8 in the answer replaced with U+FFFD",
                      &call->provider->name, bad);
    }

    if (ngx_http_osint_answer_redact(&body, &call->provider->api_key)) {
        ngx_log_error(NGX_LOG_INFO, call->lookup->log, 0,
                      "osint: provider \"%V\": its API key in the answer "
                      "redacted", &call->provider->name);
    }

    /* the trees of the answer live in the lookup's pool, and die with it */

    pool = ngx_http_osint_json_pool_enter(call->lookup->pool);
    out = ngx_http_osint_call_tree(call, &body, status);
    ngx_http_osint_json_pool_leave(pool);

    return out;
}


/* the answer as call->data, through its format or its fields */

static ngx_http_osint_outcome_e
ngx_http_osint_call_tree(ngx_http_osint_call_t *call, ngx_str_t *answer,
    long status)
{
    cJSON                        *root;
    ngx_int_t                     rc;
    const char                   *message;
    ngx_http_osint_normalise_pt   normalise;

    if (answer->len == 0) {
        root = NULL;

    } else if (ngx_http_osint_format_ndjson(call->provider->format)) {
        root = ngx_http_osint_fmt_ndjson((char *) answer->data, answer->len);

    } else {
        root = cJSON_ParseWithLength((char *) answer->data, answer->len);
    }

    if (root == NULL) {
        ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_BAD_RESPONSE,
                                  status, "the answer is not valid JSON");
        return NGX_HTTP_OSINT_OUT_BAD_RESPONSE;
    }

    normalise = ngx_http_osint_formats[call->provider->format].normalise;

    if (normalise) {

        /* a built-in format: its own not found, its own idea of bad */

        message = "the answer is not what the format reads";

        /* format presence: the provider's own "no such user" first */

        rc = ngx_http_osint_found(call->provider, status, root)
             ? normalise(root, call->lookup->type, &call->data, &message)
             : NGX_DECLINED;
        cJSON_Delete(root);

        if (rc == NGX_DECLINED) {
            call->data = NULL;
            call->status = NGX_HTTP_OSINT_NOT_FOUND;
            call->http_status = status;
            return NGX_HTTP_OSINT_OUT_NOT_FOUND;
        }

        if (rc != NGX_OK) {
            call->data = NULL;
            ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_BAD_RESPONSE,
                                      status, message);
            return NGX_HTTP_OSINT_OUT_BAD_RESPONSE;
        }

    } else if (call->provider->fields.nelts) {
        call->data = ngx_http_osint_field_map(&call->provider->fields, root);
        cJSON_Delete(root);

    } else {
        call->data = root;
    }

    if (call->data == NULL) {
        ngx_http_osint_call_error(call, NGX_HTTP_OSINT_ERR_BAD_RESPONSE,
                                  status, "out of memory mapping the answer");
        return NGX_HTTP_OSINT_OUT_BAD_RESPONSE;
    }

    call->status = NGX_HTTP_OSINT_OK;
    call->http_status = status;

    return NGX_HTTP_OSINT_OUT_OK;
}


void
ngx_http_osint_call_error(ngx_http_osint_call_t *call,
    ngx_http_osint_err_e err, ngx_int_t http_status, const char *message)
{
    u_char  *last, text[NGX_HTTP_OSINT_LOG_TEXT_MAX];
    size_t   len;

    call->status = NGX_HTTP_OSINT_ERROR;
    call->err = err;
    call->http_status = http_status;

    len = ngx_strlen(message);

    call->message.data = ngx_pnalloc(call->lookup->pool, len);

    if (call->message.data) {
        ngx_memcpy(call->message.data, message, len);
        call->message.len = len;
    }

    /* the message may be the provider's text, or libcurl's quoting it */

    last = ngx_http_osint_log_escape(text, sizeof(text), call->message.data,
                                     call->message.len);

    ngx_log_error(NGX_LOG_INFO, call->lookup->log, 0,
                  "osint: provider \"%V\" failed: %s: %*s, request %V",
                  &call->provider->name, ngx_http_osint_err_kind(err),
                  (size_t) (last - text), text, &call->lookup->request_id);
}


/*
 * A background refresh (ngx_http_osint_refresh.c) holds the L1 update
 * lock already, taken by the lookup that found the answer stale: no
 * cache to read, the provider to ask, the answer stored as any other.
 */

void
ngx_http_osint_call_refresh(ngx_http_osint_call_t *call)
{
    /*
     * leads before it begins: a call refused at once settles unlocking;
     * the lookup that started it has set the queues up
     */

    call->cache = NGX_HTTP_OSINT_SRC_MISS;

    ngx_http_osint_call_lead(call);
    ngx_http_osint_call_begin(call);
}


/*
 * An active probe (probe TARGET): a call to the provider whatever the
 * caches hold, not coalesced, its answer stored as any other.
 */

void
ngx_http_osint_call_probe(ngx_http_osint_call_t *call)
{
    call->cache = NGX_HTTP_OSINT_SRC_MISS;
    call->probing = 1;

    ngx_http_osint_call_begin(call);
}


/* the call takes the L1 update lock: this worker's waiters count on it */

static void
ngx_http_osint_call_lead(ngx_http_osint_call_t *call)
{
    call->locked = 1;
    ngx_queue_insert_tail(&ngx_http_osint_call_leaders, &call->coalesce);
}


/*
 * Waits for the answer of the call that holds the update lock.  One of
 * this worker wakes us when it ends, and the lookup's deadline bounds the
 * wait; one of another worker cannot: then we look again now and then.
 */

static void
ngx_http_osint_call_wait(ngx_http_osint_call_t *call)
{
    ngx_queue_t            *q;
    ngx_http_osint_call_t  *leader;

    call->waiting = 1;
    ngx_queue_insert_tail(&ngx_http_osint_call_waiters, &call->coalesce);

    for (q = ngx_queue_head(&ngx_http_osint_call_leaders);
         q != ngx_queue_sentinel(&ngx_http_osint_call_leaders);
         q = ngx_queue_next(q))
    {
        leader = ngx_queue_data(q, ngx_http_osint_call_t, coalesce);

        if (ngx_http_osint_call_same(leader, call)) {
            return;
        }
    }

    ngx_add_timer(&call->timer, NGX_HTTP_OSINT_LOCK_POLL);
}


/* the wait ends: woken, a poll, or the call is stopped; 1: it waited */

static ngx_uint_t
ngx_http_osint_call_unwait(ngx_http_osint_call_t *call)
{
    if (!call->waiting) {
        return 0;
    }

    if (!call->woken) {
        ngx_queue_remove(&call->coalesce);

    } else if (call->timer.posted) {
        ngx_delete_posted_event(&call->timer);
    }

    call->waiting = 0;
    call->woken = 0;

    return 1;
}


/*
 * The update lock is released (an answer stored, or none): this worker's
 * waiters for the same answer look again on the next posted events,
 * where they find it, or one of them takes the lock.
 */

static void
ngx_http_osint_call_release(ngx_http_osint_call_t *call)
{
    ngx_queue_t            *q;
    ngx_http_osint_call_t  *w;

    if (!call->locked) {
        return;
    }

    call->locked = 0;
    ngx_queue_remove(&call->coalesce);

    q = ngx_queue_head(&ngx_http_osint_call_waiters);

    while (q != ngx_queue_sentinel(&ngx_http_osint_call_waiters)) {
        w = ngx_queue_data(q, ngx_http_osint_call_t, coalesce);
        q = ngx_queue_next(q);

        if (!ngx_http_osint_call_same(w, call)) {
            continue;
        }

        ngx_queue_remove(&w->coalesce);

        if (w->timer.timer_set) {
            ngx_del_timer(&w->timer);
        }

        w->woken = 1;
        ngx_post_event(&w->timer, &ngx_posted_events);
    }
}


/* the same answer: the same provider (of this cycle) and target */

static ngx_uint_t
ngx_http_osint_call_same(ngx_http_osint_call_t *a, ngx_http_osint_call_t *b)
{
    return a->provider == b->provider
           && a->lookup->target.len == b->lookup->target.len
           && ngx_strncmp(a->lookup->target.data, b->lookup->target.data,
                          a->lookup->target.len) == 0;
}
