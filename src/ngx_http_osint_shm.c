
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The osint zone: shared memory of all workers.  It outlives reloads when
 * its size is unchanged and its layout signature matches.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


/*
 * The zone's layout: a reload that loads a module of another layout
 * (an upgrade) must not read the old zone's nodes; bump the version (bits
 * 32-39) when a node's fields change but not its size.  Version 1: the
 * breaker's recent failing targets; 2: the cache node's owner; 3: its
 * generation; 4: the cache indexed by a hash table, not an rbtree.
 */
#define NGX_HTTP_OSINT_SHM_SIGNATURE                                          \
    (0x6f73696e74000000 + ((ngx_uint_t) 4 << 32)                             \
     + (sizeof(ngx_http_osint_shctx_t) << 16)                                 \
     + sizeof(ngx_http_osint_pstate_t))


/* the state of an osint_budget in the zone, found by name at reload */
typedef struct {
    ngx_queue_t                 queue;
    u_char                      name[NGX_HTTP_OSINT_NAME_MAX];
    size_t                      name_len;
    ngx_http_osint_bstate_t     state;
} ngx_http_osint_bnode_t;


static ngx_int_t ngx_http_osint_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_osint_shm_t *ngx_http_osint_running_zone(
    ngx_shm_zone_t *shm_zone);
static ngx_int_t ngx_http_osint_init_providers(ngx_http_osint_shm_t *ctx,
    ngx_http_osint_shm_t *octx);
static void ngx_http_osint_carry_state(ngx_http_osint_shm_t *octx,
    ngx_http_osint_pstate_t *from, ngx_http_osint_pstate_t *to);
static ngx_int_t ngx_http_osint_init_budgets(ngx_http_osint_shm_t *ctx,
    ngx_http_osint_shm_t *octx);
static ngx_uint_t ngx_http_osint_latency_bucket(double ms);
static ngx_uint_t ngx_http_osint_said_spent(ngx_http_osint_pstate_t *ps);
static ngx_int_t ngx_http_osint_admit_budgets(ngx_http_osint_provider_t *p,
    ngx_msec_t max_wait, ngx_http_osint_grant_t *g,
    ngx_http_osint_admission_t *a);
static ngx_http_osint_counters_t *ngx_http_osint_counters(
    ngx_http_osint_main_conf_t *omcf);


char *
ngx_http_osint_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_osint_main_conf_t *omcf = conf;

    ssize_t                size;
    ngx_str_t             *value, name;
    ngx_http_osint_shm_t  *ctx;

    if (omcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"osint\" is too small");
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_shm_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&name, "osint");

    omcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_osint_module);
    if (omcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    ctx->omcf = omcf;

    omcf->shm_zone->init = ngx_http_osint_init_zone;
    omcf->shm_zone->data = ctx;
    omcf->shm_size = size;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_osint_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_osint_shm_t  *octx = data;

    size_t                 len;
    ngx_http_osint_shm_t  *ctx;

    ctx = shm_zone->data;

    if (octx && octx->sh
        && octx->sh->signature == NGX_HTTP_OSINT_SHM_SIGNATURE)
    {
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        return ngx_http_osint_init_providers(ctx, octx);
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;

        if (ctx->sh && ctx->sh->signature == NGX_HTTP_OSINT_SHM_SIGNATURE) {
            return ngx_http_osint_init_providers(ctx, NULL);
        }
    }

    ctx->sh = ngx_slab_calloc(ctx->shpool, sizeof(ngx_http_osint_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->sh->signature = NGX_HTTP_OSINT_SHM_SIGNATURE;
    ctx->sh->counters.start = ngx_time();
    ngx_queue_init(&ctx->sh->providers);
    ctx->shpool->data = ctx->sh;

    if (ngx_http_osint_init_cache(ctx, shm_zone->shm.size) != NGX_OK) {
        return NGX_ERROR;
    }

    len = sizeof(" in osint zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in osint zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is routine for the cache: it evicts and says so itself */

    ctx->shpool->log_nomem = 0;

    return ngx_http_osint_init_providers(ctx,
                                         ngx_http_osint_running_zone(shm_zone));
}


/*
 * A zone whose size changed is a new one (nginx reuses a zone only of
 * the same size), made while the old one still serves the running
 * configuration: the zone of the running cycle, when its layout is ours,
 * so its providers' state can be carried over.  NULL at the first start.
 */

static ngx_http_osint_shm_t *
ngx_http_osint_running_zone(ngx_shm_zone_t *shm_zone)
{
    ngx_uint_t             i;
    ngx_shm_zone_t        *oshm;
    ngx_list_part_t       *part;
    ngx_http_osint_shm_t  *octx;

    /* during ngx_init_cycle(), ngx_cycle is still the running cycle */

    part = (ngx_list_part_t *) &ngx_cycle->shared_memory.part;
    oshm = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            oshm = part->elts;
            i = 0;
        }

        if (oshm[i].tag != shm_zone->tag
            || oshm[i].shm.name.len != shm_zone->shm.name.len
            || ngx_strncmp(oshm[i].shm.name.data, shm_zone->shm.name.data,
                           shm_zone->shm.name.len) != 0)
        {
            continue;
        }

        octx = oshm[i].data;

        if (octx == NULL || octx->sh == NULL
            || octx->sh->signature != NGX_HTTP_OSINT_SHM_SIGNATURE)
        {
            return NULL;
        }

        return octx;
    }
}


/*
 * Gives every configured provider its state in the zone, by name, so a
 * reload keeps buckets, breakers, quotas and counters.  "octx" is the
 * zone of the running configuration (NULL at the first start): a
 * provider absent from it starts afresh; a configuration that fails to
 * load changes nothing for the next one, which again compares with the
 * running one.  When the zone is new (resized), the state is copied from
 * the running zone.  Nodes are never freed: old workers may still use
 * them while a reload settles.
 */

static ngx_int_t
ngx_http_osint_init_providers(ngx_http_osint_shm_t *ctx,
    ngx_http_osint_shm_t *octx)
{
    ngx_uint_t                  i;
    ngx_http_osint_shctx_t     *sh;
    ngx_http_osint_pstate_t    *ps;
    ngx_http_osint_provider_t  *p, *op;

    sh = ctx->sh;
    p = ctx->omcf->providers.elts;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (i = 0; i < ctx->omcf->providers.nelts; i++) {

        ps = ngx_http_osint_zone_named(&sh->providers, &p[i].name);

        op = octx ? ngx_http_osint_provider_find(&octx->omcf->providers,
                                                 p[i].name.data,
                                                 p[i].name.len)
                  : NULL;

        if (ps == NULL) {
            ps = ngx_http_osint_zone_add(ctx, &sh->providers, &p[i].name,
                                         sizeof(ngx_http_osint_pstate_t),
                                         "osint_provider");
            if (ps == NULL) {
                ngx_shmtx_unlock(&ctx->shpool->mutex);
                return NGX_ERROR;
            }

            if (op && op->state && octx->sh != sh) {
                ngx_http_osint_carry_state(octx, op->state, ps);
            }

        } else if (op == NULL) {
            ngx_memzero((u_char *) ps + offsetof(ngx_http_osint_pstate_t,
                                                 own),
                        sizeof(ngx_http_osint_pstate_t)
                        - offsetof(ngx_http_osint_pstate_t, own));
        }

        p[i].state = ps;
        p[i].own.state = &ps->own;
    }

    if (ngx_http_osint_init_budgets(ctx, octx) != NGX_OK) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_ERROR;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (octx && octx->sh != sh) {
        ngx_shmtx_lock(&octx->shpool->mutex);
        ngx_memcpy((void *) sh->counters.lookups,
                   (void *) octx->sh->counters.lookups,
                   sizeof(sh->counters.lookups));
        ngx_memcpy((void *) sh->counters.cache,
                   (void *) octx->sh->counters.cache,
                   sizeof(sh->counters.cache));
        ngx_memcpy((void *) sh->counters.lookup_latency,
                   (void *) octx->sh->counters.lookup_latency,
                   sizeof(sh->counters.lookup_latency));
        sh->counters.lookup_latency_sum_us =
                                     octx->sh->counters.lookup_latency_sum_us;
        ngx_memcpy((void *) sh->counters.control,
                   (void *) octx->sh->counters.control,
                   sizeof(sh->counters.control));
        sh->counters.start = octx->sh->counters.start;
        ngx_shmtx_unlock(&octx->shpool->mutex);
    }

    return NGX_OK;
}


/*
 * Gives every osint_budget its state in the zone, by name, so a reload
 * keeps its bucket and windows, and a resized zone gets them from the
 * running one ("octx"); under the zone's lock.  Nodes are never freed
 * (old workers may still use them).
 */

static ngx_int_t
ngx_http_osint_init_budgets(ngx_http_osint_shm_t *ctx,
    ngx_http_osint_shm_t *octx)
{
    ngx_uint_t                i;
    ngx_http_osint_budget_t  *b;
    ngx_http_osint_bnode_t   *bn, *old;

    if (ctx->sh->budgets.next == NULL) {
        ngx_queue_init(&ctx->sh->budgets);
    }

    b = ctx->omcf->budgets.elts;

    for (i = 0; i < ctx->omcf->budgets.nelts; i++) {
        bn = ngx_http_osint_zone_named(&ctx->sh->budgets, &b[i].name);

        if (bn == NULL) {
            bn = ngx_http_osint_zone_add(ctx, &ctx->sh->budgets, &b[i].name,
                                         sizeof(ngx_http_osint_bnode_t),
                                         "osint_budget");
            if (bn == NULL) {
                return NGX_ERROR;
            }

            /* a resized zone: the running one's bucket and windows */

            if (octx && octx->sh != ctx->sh && octx->sh->budgets.next) {
                ngx_shmtx_lock(&octx->shpool->mutex);

                old = ngx_http_osint_zone_named(&octx->sh->budgets,
                                                &b[i].name);
                if (old) {
                    bn->state = old->state;
                }

                ngx_shmtx_unlock(&octx->shpool->mutex);
            }
        }

        b[i].state = &bn->state;
    }

    return NGX_OK;
}


/*
 * The state named so in a list of the zone, or NULL: a provider's or a
 * budget's, both of which start with ngx_http_osint_named_t.
 */

void *
ngx_http_osint_zone_named(ngx_queue_t *list, ngx_str_t *name)
{
    ngx_queue_t             *q;
    ngx_http_osint_named_t  *n;

    for (q = ngx_queue_head(list);
         q != ngx_queue_sentinel(list);
         q = ngx_queue_next(q))
    {
        n = ngx_queue_data(q, ngx_http_osint_named_t, queue);

        if (n->name_len == name->len
            && ngx_strncmp(n->name, name->data, name->len) == 0)
        {
            return n;
        }
    }

    return NULL;
}


/*
 * A new state of "size" bytes, named so, at the end of a list of the
 * zone; under its lock.  NULL: the zone is full (at start: said so).
 */

void *
ngx_http_osint_zone_add(ngx_http_osint_shm_t *ctx, ngx_queue_t *list,
    ngx_str_t *name, size_t size, const char *what)
{
    ngx_http_osint_named_t  *n;

    n = ngx_slab_calloc_locked(ctx->shpool, size);
    if (n == NULL) {
        ngx_log_error(NGX_LOG_EMERG, ngx_cycle->log, 0,
                      "osint_zone is too small for the state of %s \"%V\"",
                      what, name);
        return NULL;
    }

    ngx_memcpy(n->name, name->data, name->len);
    n->name_len = name->len;
    ngx_queue_insert_tail(list, &n->queue);

    return n;
}


/*
 * A provider's state from the running zone into a new one: quota spent,
 * bucket, 429 hold, breaker and counters.  What the old workers change
 * after this (their last lookups) stays in the old zone.
 */

static void
ngx_http_osint_carry_state(ngx_http_osint_shm_t *octx,
    ngx_http_osint_pstate_t *from, ngx_http_osint_pstate_t *to)
{
    ngx_shmtx_lock(&octx->shpool->mutex);

    ngx_memcpy((u_char *) to + offsetof(ngx_http_osint_pstate_t, own),
               (u_char *) from + offsetof(ngx_http_osint_pstate_t, own),
               sizeof(ngx_http_osint_pstate_t)
               - offsetof(ngx_http_osint_pstate_t, own));

    ngx_shmtx_unlock(&octx->shpool->mutex);
}


/*
 * Decides whether a call may go out now, later (a reserved token) or not
 * at all; under the zone's lock, so all workers see one bucket, one
 * breaker and one quota.  The order matters: a 429 hold and an open
 * breaker cost nothing; a rate-limited call takes no quota.
 */

void
ngx_http_osint_admit(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_msec_t max_wait,
    ngx_http_osint_admission_t *a, ngx_log_t *log)
{
    ngx_msec_t                now;
    ngx_uint_t                state, trial, half_open;
    ngx_http_osint_shm_t     *ctx;
    ngx_http_osint_pstate_t  *ps;

    ctx = omcf->shm_zone->data;
    ps = p->state;
    now = ngx_current_msec;
    half_open = 0;

    a->verdict = NGX_HTTP_OSINT_ADMIT;
    a->wait = 0;
    a->probe = 0;
    a->retry_after = 0;
    a->ask = 0;
    a->fell_back = NULL;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (ps->forced_open) {
        a->verdict = NGX_HTTP_OSINT_REJECT;
        a->err = NGX_HTTP_OSINT_ERR_BREAKER_OPEN;
        a->reason = "the circuit breaker is forced open (osint_control)";
        goto done;
    }

    if ((ngx_msec_int_t) (ps->hold_until - now) > 0) {
        a->verdict = NGX_HTTP_OSINT_REJECT;
        a->err = NGX_HTTP_OSINT_ERR_RATE_LIMITED;
        a->reason = "the provider asked to wait (Retry-After)";
        a->retry_after = ps->hold_until - now;
        goto done;
    }

    if (ngx_http_osint_breaker_on(&p->breaker) && !a->no_breaker) {
        state = ps->breaker.state;
        trial = ps->breaker.trial;

        a->verdict = ngx_http_osint_breaker_admit(&ps->breaker, &p->breaker,
                                                  now, omcf->deadline);

        if (a->verdict == NGX_HTTP_OSINT_REJECT) {
            a->err = NGX_HTTP_OSINT_ERR_BREAKER_OPEN;
            a->reason = "the circuit breaker is open";

            /* open: its cooldown left; half-open: its probes decide */

            if (ps->breaker.state == NGX_HTTP_OSINT_BREAKER_OPEN) {
                a->retry_after = ps->breaker.opened_at + p->breaker.cooldown
                                 - now;
            }

            goto done;
        }

        if (a->verdict == NGX_HTTP_OSINT_ADMIT_PROBE) {
            a->probe = ps->breaker.trial;
        }

        if (ps->breaker.trial != trial) {
            half_open = (state == NGX_HTTP_OSINT_BREAKER_OPEN) ? 1 : 2;
        }

        if (half_open == 1) {
            (void) ngx_atomic_fetch_add(
                &ps->transitions[NGX_HTTP_OSINT_BREAKER_HALF_OPEN], 1);
        }
    }

    if (p->own.rate.adaptive && ngx_http_osint_said_spent(ps)) {
        a->err = NGX_HTTP_OSINT_ERR_RATE_LIMITED;
        a->reason = "the provider said nothing is left before its reset";
        goto reject;
    }

    if (ngx_http_osint_admit_budgets(p, max_wait, NULL, a) != NGX_OK) {
        goto reject;
    }

    if (ps->said_reset && a->verdict != NGX_HTTP_OSINT_ADMIT_ASK) {
        ps->said_remaining--;   /* ours, until its next answer says more */
    }

    goto done;

reject:

    if (a->verdict == NGX_HTTP_OSINT_ADMIT_PROBE) {
        ngx_http_osint_breaker_release(&ps->breaker, a->probe);
        a->probe = 0;
    }

    a->verdict = NGX_HTTP_OSINT_REJECT;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    /* logged after unlocking: a slow log never holds every worker */

    ngx_http_osint_budget_log(a, log);

    if (half_open == 1) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint: provider \"%V\" breaker half-open: "
                      "cooldown over, probing", &p->name);

    } else if (half_open == 2) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint: provider \"%V\" breaker half-open: "
                      "its probes outlived osint_deadline (a worker "
                      "exited abnormally), probing again", &p->name);
    }
}


/*
 * rate ... adaptive: nothing is left of what the provider last said was
 * left, and its reset is ahead.  A reset that has passed forgets it.
 * Under the zone's lock.
 */

static ngx_uint_t
ngx_http_osint_said_spent(ngx_http_osint_pstate_t *ps)
{
    if (ps->said_reset == 0) {
        return 0;
    }

    if (ngx_time() >= ps->said_reset) {
        ps->said_reset = 0;
        return 0;
    }

    return ps->said_remaining <= 0;
}


/*
 * What an answer said of the provider's limit replaces what the zone
 * held: the provider counts every node's and worker's calls, the zone
 * only ours.  Calls admitted before this answer and still in flight are
 * not in its figure, so the provider may see up to that many more (the
 * error bound README states).  A remainder without a reset is trusted
 * for a second, as a 429 without Retry-After holds for one.
 */

void
ngx_http_osint_record_said(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_said_t *said)
{
    ngx_http_osint_shm_t     *ctx;
    ngx_http_osint_pstate_t  *ps;

    if (said->remaining < 0 && said->limit < 0) {
        return;
    }

    ctx = omcf->shm_zone->data;
    ps = p->state;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (said->limit >= 0) {
        ps->said_limit = said->limit;
    }

    if (said->remaining >= 0) {
        ps->said_remaining = said->remaining;
        ps->said_reset = ngx_time() + (said->reset > 0 ? said->reset : 1);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


/*
 * The end of one network attempt: counters, latency, the breaker, and a
 * 429's hold (hold > 0) that stops every worker's calls until it ends.
 */

void
ngx_http_osint_record(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_outcome_e outcome,
    ngx_http_osint_err_e err, ngx_uint_t probe, uint32_t target,
    double latency_ms, ngx_msec_t hold, ngx_uint_t breaker, ngx_log_t *log,
    ngx_str_t *request_id)
{
    ngx_int_t                 entered;
    ngx_uint_t                i, failed, failures, was, opened_calls,
                              opened_fails;
    ngx_msec_t                now;
    ngx_http_osint_shm_t     *ctx;
    ngx_http_osint_pstate_t  *ps;

    ctx = omcf->shm_zone->data;
    ps = p->state;
    now = ngx_current_msec;

    (void) ngx_atomic_fetch_add(&ps->calls[outcome], 1);

    i = ngx_http_osint_latency_bucket(latency_ms);
    (void) ngx_atomic_fetch_add(&ps->latency[i], 1);
    (void) ngx_atomic_fetch_add(&ps->latency_sum_us,
                                (ngx_atomic_int_t) (latency_ms * 1000.0));

    failed = (outcome == NGX_HTTP_OSINT_OUT_TIMEOUT
              || outcome == NGX_HTTP_OSINT_OUT_CONNECT
              || outcome == NGX_HTTP_OSINT_OUT_HTTP_5XX
              || outcome == NGX_HTTP_OSINT_OUT_RATE_LIMITED);

    entered = NGX_DECLINED;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (err != NGX_HTTP_OSINT_ERR_NONE) {
        ps->last_err = err;
        ps->last_err_time = ngx_time();

    } else {
        ps->last_ok_time = ngx_time();
    }

    ps->last_failed = (err != NGX_HTTP_OSINT_ERR_NONE);
    ps->last_latency_us = (ngx_msec_t) (latency_ms * 1000.0);

    if (hold) {
        ps->hold_until = now + hold;

        if (p->own.rate.per_ms > 0.0) {
            ngx_http_osint_bucket_drain(&ps->own.bucket, now);
        }
    }

    failures = ps->breaker.failures + 1;

    was = ps->breaker.state;

    if (ngx_http_osint_breaker_on(&p->breaker) && breaker) {
        entered = ngx_http_osint_breaker_record(&ps->breaker, &p->breaker,
                                                now, probe, failed, target);
    }

    opened_calls = ps->breaker.opened_calls;
    opened_fails = ps->breaker.opened_fails;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (hold) {
        ngx_http_osint_budget_hold(p, hold);
    }

    if (entered == NGX_DECLINED) {
        return;
    }

    (void) ngx_atomic_fetch_add(&ps->transitions[entered], 1);

    if (entered == NGX_HTTP_OSINT_BREAKER_CLOSED) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint: provider \"%V\" breaker closed: probe "
                      "succeeded, request %V", &p->name, request_id);

    } else if (was == NGX_HTTP_OSINT_BREAKER_HALF_OPEN) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint: provider \"%V\" breaker re-opened for %M ms: "
                      "probe failed (%s), request %V", &p->name,
                      p->breaker.cooldown, ngx_http_osint_err_kind(err),
                      request_id);

    } else if (opened_calls) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint: provider \"%V\" breaker opened for %M ms "
                      "after %ui of %ui calls in %M ms failed (last: %s), "
                      "request %V",
                      &p->name, p->breaker.cooldown, opened_fails,
                      opened_calls, p->breaker.window,
                      ngx_http_osint_err_kind(err), request_id);

    } else {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint: provider \"%V\" breaker opened for %M ms "
                      "after %ui consecutive failures of distinct targets "
                      "(last: %s), request %V",
                      &p->name, p->breaker.cooldown, failures,
                      ngx_http_osint_err_kind(err), request_id);
    }
}


/* the budgets' part of an admission: NGX_OK (maybe ask Redis), or not */

static ngx_int_t
ngx_http_osint_admit_budgets(ngx_http_osint_provider_t *p,
    ngx_msec_t max_wait, ngx_http_osint_grant_t *g,
    ngx_http_osint_admission_t *a)
{
    ngx_int_t  rc;

    rc = ngx_http_osint_budgets_take(p, max_wait, g, a);

    if (rc == NGX_AGAIN) {
        a->verdict = NGX_HTTP_OSINT_ADMIT_ASK;
        return NGX_OK;
    }

    return rc;
}


/*
 * The admission of a call that asked Redis for its sync=redis budgets:
 * "g" is the answer; a->probe the breaker trial it holds.  Refused by
 * Redis for want of a token that comes within the wait allowed: rejected
 * with a->wait, to ask again then.
 */

void
ngx_http_osint_admit_grant(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_msec_t max_wait,
    ngx_http_osint_grant_t *g, ngx_http_osint_admission_t *a, ngx_log_t *log)
{
    ngx_uint_t                i, n;
    ngx_msec_t                wait;
    ngx_http_osint_shm_t     *ctx;
    ngx_http_osint_budget_t  *b[2];

    ctx = omcf->shm_zone->data;

    a->verdict = a->probe ? NGX_HTTP_OSINT_ADMIT_PROBE : NGX_HTTP_OSINT_ADMIT;
    a->wait = 0;
    a->retry_after = 0;
    a->ask = 0;
    a->fell_back = NULL;
    a->err = NGX_HTTP_OSINT_ERR_RATE_LIMITED;

    if (g->got == 0) {
        n = ngx_http_osint_budgets_of(p, b);
        wait = 0;

        for (i = 0; i < n; i++) {
            if (g->asked & (1 << i)) {
                wait = ngx_max(wait, b[i]->rate.wait);
            }
        }

        switch (g->why) {

        case NGX_HTTP_OSINT_GRANT_HELD:
            a->reason = "the provider asked to wait (Retry-After)";
            break;

        case NGX_HTTP_OSINT_GRANT_QUOTA:
            a->reason = "the quota of the period is spent";
            break;

        default:
            a->reason = "no token left in the rate limit";

            if (g->wait <= ngx_min(wait, max_wait)) {
                a->wait = g->wait;
            }
        }

        goto reject;
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (ngx_http_osint_admit_budgets(p, max_wait, g, a) != NGX_OK) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        goto reject;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_http_osint_budget_log(a, log);

    return;

reject:

    ngx_http_osint_budget_log(a, log);

    if (a->probe) {
        ngx_http_osint_release_probe(omcf, p, a->probe);
        a->probe = 0;
    }

    a->verdict = NGX_HTTP_OSINT_REJECT;
}


void
ngx_http_osint_release_probe(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_uint_t probe)
{
    ngx_http_osint_shm_t  *ctx;

    ctx = omcf->shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);
    ngx_http_osint_breaker_release(&p->state->breaker, probe);
    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


void
ngx_http_osint_count_skip(ngx_http_osint_provider_t *p,
    ngx_http_osint_skip_e reason)
{
    if (p->state) {
        (void) ngx_atomic_fetch_add(&p->state->skipped[reason], 1);
    }
}


void
ngx_http_osint_count_retry(ngx_http_osint_provider_t *p)
{
    if (p->state) {
        (void) ngx_atomic_fetch_add(&p->state->retries, 1);
    }
}


/* a request refused as bad input: osint_lookups_total{result="invalid"} */

void
ngx_http_osint_count_invalid(ngx_http_request_t *r)
{
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    ngx_http_osint_count_lookup(omcf, 0, NGX_HTTP_OSINT_RESULT_INVALID);
}


/* a latency's bucket of the histograms; upper bounds as in status */

static ngx_uint_t
ngx_http_osint_latency_bucket(double ms)
{
    ngx_uint_t  i;

    static ngx_msec_t  bounds[NGX_HTTP_OSINT_LATENCY_BUCKETS] = {
        5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
    };

    for (i = 0; i < NGX_HTTP_OSINT_LATENCY_BUCKETS; i++) {
        if (ms <= (double) bounds[i]) {
            break;
        }
    }

    return i;
}


/* the zone's counters, all workers'; NULL without a zone */

static ngx_http_osint_counters_t *
ngx_http_osint_counters(ngx_http_osint_main_conf_t *omcf)
{
    ngx_http_osint_shm_t  *ctx;

    if (omcf->shm_zone == NULL) {
        return NULL;
    }

    ctx = omcf->shm_zone->data;

    return ctx->sh ? &ctx->sh->counters : NULL;
}


/* a lookup answered, for osint_lookup_duration_seconds; lock-free */

void
ngx_http_osint_count_duration(ngx_http_osint_main_conf_t *omcf, double ms)
{
    ngx_uint_t                  i;
    ngx_http_osint_counters_t  *c;

    c = ngx_http_osint_counters(omcf);

    if (c == NULL) {
        return;
    }

    i = ngx_http_osint_latency_bucket(ms);
    (void) ngx_atomic_fetch_add(&c->lookup_latency[i], 1);
    (void) ngx_atomic_fetch_add(&c->lookup_latency_sum_us,
                                (ngx_atomic_int_t) (ms * 1000.0));
}


/* counts lookups for osint_lookups_total; lock-free, all workers */

void
ngx_http_osint_count_lookup(ngx_http_osint_main_conf_t *omcf,
    ngx_uint_t type, ngx_uint_t result)
{
    ngx_uint_t                  row;
    ngx_http_osint_counters_t  *c;

    c = ngx_http_osint_counters(omcf);

    if (c == NULL) {
        return;
    }

    for (row = 0; row < NGX_HTTP_OSINT_TYPES; row++) {
        if (type == ((ngx_uint_t) 1 << row)) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&c->lookups[row][result], 1);
}


/* an attempt the deadline cut short: counted, but no breaker evidence */

void
ngx_http_osint_count_call(ngx_http_osint_provider_t *p,
    ngx_http_osint_outcome_e outcome)
{
    if (p->state) {
        (void) ngx_atomic_fetch_add(&p->state->calls[outcome], 1);
    }
}


/*
 * osint_control: a breaker forced open stays open, whatever its cooldown,
 * until closed; closing ends a forced open and an open breaker alike.
 */

void
ngx_http_osint_force_breaker(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_uint_t open)
{
    ngx_uint_t                was;
    ngx_http_osint_shm_t     *ctx;
    ngx_http_osint_pstate_t  *ps;

    ctx = omcf->shm_zone->data;
    ps = p->state;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    was = ps->forced_open ? NGX_HTTP_OSINT_BREAKER_OPEN : ps->breaker.state;

    if (open) {
        if (ps->forced_open == 0) {
            ps->forced_open = ngx_time();
        }

    } else {
        ps->forced_open = 0;
        ngx_http_osint_breaker_close(&ps->breaker);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (open && was != NGX_HTTP_OSINT_BREAKER_OPEN) {
        (void) ngx_atomic_fetch_add(
                          &ps->transitions[NGX_HTTP_OSINT_BREAKER_OPEN], 1);

    } else if (!open && was != NGX_HTTP_OSINT_BREAKER_CLOSED) {
        (void) ngx_atomic_fetch_add(
                          &ps->transitions[NGX_HTTP_OSINT_BREAKER_CLOSED], 1);
    }
}


/* osint_control: ends a 429's hold; 1 when there was one */

ngx_uint_t
ngx_http_osint_lift_hold(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p)
{
    ngx_uint_t                held;
    ngx_http_osint_shm_t     *ctx;
    ngx_http_osint_pstate_t  *ps;

    ctx = omcf->shm_zone->data;
    ps = p->state;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    held = ((ngx_msec_int_t) (ps->hold_until - ngx_current_msec) > 0);
    ps->hold_until = ngx_current_msec;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return held;
}


/* osint_control: enabled=off takes the provider out of every lookup */

void
ngx_http_osint_switch(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_uint_t on)
{
    ngx_http_osint_shm_t  *ctx;

    ctx = omcf->shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);
    p->state->off = !on;
    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


/* read without the lock: a word, and a lookup a moment late is harmless */

ngx_uint_t
ngx_http_osint_switched_off(ngx_http_osint_provider_t *p)
{
    return p->state && *(volatile ngx_uint_t *) &p->state->off;
}


/* a consistent copy of a provider's state, for osint_control's answers */

void
ngx_http_osint_pstate_copy(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_pstate_t *copy)
{
    ngx_http_osint_shm_t  *ctx;

    ctx = omcf->shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);
    ngx_memcpy(copy, p->state, sizeof(ngx_http_osint_pstate_t));
    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


/* osint_control_actions_total; lock-free */

void
ngx_http_osint_count_control(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_control_e action)
{
    ngx_http_osint_counters_t  *c;

    c = ngx_http_osint_counters(omcf);

    if (c) {
        (void) ngx_atomic_fetch_add(&c->control[action], 1);
    }
}
