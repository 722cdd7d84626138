
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Background refreshes of stale-while-revalidate (cache_ttl ...
 * revalidate=): a lookup that finds an answer past its freshness, and
 * takes the L1 update lock for it (ngx_http_osint_l1_get), serves it at
 * once and leaves the provider call to a refresh.  A refresh has no
 * client: it owns its memory (a pool of its own, freed when its call
 * ends), its deadline (osint_deadline, from its start) and its place in
 * this worker's list, which exit_process empties.  Its call is a call as
 * any other (admission, retries, the store in both tiers, the lock
 * released); its timers are cancelable, so an exiting worker (reload,
 * quit) does not wait for it: exit_process cancels it.  Active probes
 * (src/ngx_http_osint_probe.c) are background calls of the same kind,
 * without the lock, told their end through their "probed" handler.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


#define NGX_HTTP_OSINT_REFRESH_POOL  4096


typedef struct {
    ngx_queue_t                 queue;      /* in this worker's refreshes */
    ngx_pool_t                 *pool;       /* holds all of it */
    ngx_http_osint_lookup_t     lookup;
    ngx_http_osint_call_t       call;
    ngx_http_osint_probed_pt    probed;     /* a probe's: told its end */
} ngx_http_osint_refresh_t;


static ngx_http_osint_refresh_t *ngx_http_osint_refresh_new(
    ngx_http_osint_main_conf_t *omcf, ngx_http_osint_provider_t *p,
    ngx_str_t *target, ngx_uint_t type, ngx_str_t *request_id);
static void ngx_http_osint_refresh_done(ngx_http_osint_call_t *call);
static void ngx_http_osint_refresh_probed(ngx_http_osint_call_t *call);
static void ngx_http_osint_refresh_deadline(ngx_event_t *ev);
static void ngx_http_osint_refresh_free(ngx_http_osint_refresh_t *rf);


/* this worker's refreshes in flight */
static ngx_queue_t       ngx_http_osint_refreshes;

/* what a refresh's events carry as data: nginx's debug log reads its fd */
static ngx_connection_t  ngx_http_osint_refresh_conn;


/*
 * "from" holds the lock for its answer (L1_REFRESH): the refresh takes it
 * over.  When none can start (no memory), the lock is released, so that
 * the next lookup tries again.
 */

void
ngx_http_osint_refresh_start(ngx_http_osint_call_t *from)
{
    ngx_http_osint_refresh_t  *rf;

    rf = ngx_http_osint_refresh_new(from->lookup->omcf, from->provider,
                                    &from->lookup->target,
                                    from->lookup->type,
                                    &from->lookup->request_id);
    if (rf == NULL) {
        ngx_http_osint_l1_unlock(from->lookup->omcf, from->provider,
                                 &from->lookup->target);
        return;
    }

    rf->call.done = ngx_http_osint_refresh_done;

    ngx_log_error(NGX_LOG_INFO, rf->lookup.log, 0,
                  "osint: provider \"%V\" answer stale, refreshed in the "
                  "background, request %V", &from->provider->name,
                  &rf->lookup.request_id);

    /* it may end at once (a breaker, a bucket): rf is gone then */

    ngx_http_osint_call_refresh(&rf->call);
}


/*
 * An active probe of the provider (probe TARGET): a background call of
 * its own, to its probe target, whatever the caches hold.  A target the
 * provider may not receive (a private one) is never sent: the probe
 * records that instead.
 */

void
ngx_http_osint_refresh_probe(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_probed_pt probed)
{
    ngx_str_t                  id;
    ngx_http_osint_refresh_t  *rf;

    if (!p->private_targets
        && ngx_http_osint_private_match(&omcf->private_nets, &p->probe_target,
                                        p->probe_type))
    {
        probed(omcf, p, NGX_HTTP_OSINT_ERR_PRIVATE, 0);
        return;
    }

    ngx_str_set(&id, "probe");

    rf = ngx_http_osint_refresh_new(omcf, p, &p->probe_target, p->probe_type,
                                    &id);
    if (rf == NULL) {
        return;
    }

    rf->call.done = ngx_http_osint_refresh_probed;
    rf->probed = probed;

    ngx_http_osint_call_probe(&rf->call);
}


/* a background call's owner: its pool, lookup, call and deadline */

static ngx_http_osint_refresh_t *
ngx_http_osint_refresh_new(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target, ngx_uint_t type,
    ngx_str_t *request_id)
{
    ngx_pool_t                *pool;
    ngx_http_osint_lookup_t   *lk;
    ngx_http_osint_refresh_t  *rf;

    pool = ngx_create_pool(NGX_HTTP_OSINT_REFRESH_POOL, ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    rf = ngx_pcalloc(pool, sizeof(ngx_http_osint_refresh_t));
    if (rf == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    rf->pool = pool;
    lk = &rf->lookup;

    lk->target.data = ngx_pstrdup(pool, target);
    lk->request_id.data = ngx_pstrdup(pool, request_id);

    if (lk->target.data == NULL
        || (request_id->len && lk->request_id.data == NULL))
    {
        ngx_destroy_pool(pool);
        return NULL;
    }

    lk->target.len = target->len;
    lk->request_id.len = request_id->len;
    lk->type = type;
    lk->omcf = omcf;
    lk->log = ngx_cycle->log;
    lk->pool = pool;

    ngx_http_osint_refresh_conn.fd = (ngx_socket_t) -1;
    lk->connection = &ngx_http_osint_refresh_conn;

    lk->calls = &rf->call;
    lk->ncalls = 1;
    lk->pending = 1;
    lk->started = ngx_http_osint_now_ms();

    rf->call.lookup = lk;
    rf->call.provider = p;

    lk->deadline.handler = ngx_http_osint_refresh_deadline;
    lk->deadline.data = lk->connection;
    lk->deadline.log = lk->log;
    lk->deadline.cancelable = 1;
    lk->deadline_at = ngx_current_msec + omcf->deadline;

    ngx_add_timer(&lk->deadline, omcf->deadline);

    if (ngx_http_osint_refreshes.next == NULL) {
        ngx_queue_init(&ngx_http_osint_refreshes);
    }

    ngx_queue_insert_tail(&ngx_http_osint_refreshes, &rf->queue);

    return rf;
}


/* call->done: stored (both tiers) or not, the lock is released */

static void
ngx_http_osint_refresh_done(ngx_http_osint_call_t *call)
{
    ngx_http_osint_refresh_t  *rf;

    rf = (ngx_http_osint_refresh_t *)
             ((u_char *) call - offsetof(ngx_http_osint_refresh_t, call));

    ngx_log_error(NGX_LOG_INFO, rf->lookup.log, 0,
                  "osint: provider \"%V\" background refresh: %s%s%s, "
                  "request %V", &call->provider->name,
                  ngx_http_osint_status_name(call->status),
                  call->err ? " " : "",
                  call->err ? ngx_http_osint_err_kind(call->err) : "",
                  &rf->lookup.request_id);

    ngx_http_osint_refresh_free(rf);
}


/* call->done of a probe: its outcome is the provider's last probe */

static void
ngx_http_osint_refresh_probed(ngx_http_osint_call_t *call)
{
    ngx_http_osint_refresh_t  *rf;

    rf = (ngx_http_osint_refresh_t *)
             ((u_char *) call - offsetof(ngx_http_osint_refresh_t, call));

    rf->probed(rf->lookup.omcf, call->provider,
               call->status == NGX_HTTP_OSINT_OK
               || call->status == NGX_HTTP_OSINT_NOT_FOUND
               ? NGX_HTTP_OSINT_ERR_NONE
               : call->err ? call->err : NGX_HTTP_OSINT_ERR_INTERNAL,
               (ngx_msec_t) (call->latency * 1000.0));

    ngx_http_osint_refresh_free(rf);
}


static void
ngx_http_osint_refresh_deadline(ngx_event_t *ev)
{
    ngx_http_osint_refresh_t  *rf;

    rf = (ngx_http_osint_refresh_t *)
             ((u_char *) ev - offsetof(ngx_http_osint_refresh_t,
                                       lookup.deadline));

    ngx_http_osint_call_abort(&rf->call, NGX_HTTP_OSINT_ERR_DEADLINE,
                              "osint_deadline reached");

    ngx_http_osint_refresh_free(rf);
}


/* the worker exits (reload, quit): each refresh stops, its lock released */

void
ngx_http_osint_refresh_exit_process(ngx_cycle_t *cycle)
{
    ngx_queue_t               *q;
    ngx_http_osint_refresh_t  *rf;

    if (ngx_http_osint_refreshes.next == NULL) {
        return;
    }

    while (!ngx_queue_empty(&ngx_http_osint_refreshes)) {
        q = ngx_queue_head(&ngx_http_osint_refreshes);
        rf = ngx_queue_data(q, ngx_http_osint_refresh_t, queue);

        ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                      "osint: provider \"%V\" background refresh "
                      "cancelled, worker exiting", &rf->call.provider->name);

        ngx_http_osint_call_abort(&rf->call, NGX_HTTP_OSINT_ERR_NONE, NULL);
        ngx_http_osint_refresh_free(rf);
    }
}


static void
ngx_http_osint_refresh_free(ngx_http_osint_refresh_t *rf)
{
    if (rf->lookup.deadline.timer_set) {
        ngx_del_timer(&rf->lookup.deadline);
    }

    /* the answer's tree is in the pool (ngx_http_osint_json_pool_enter()) */

    rf->call.data = NULL;

    ngx_queue_remove(&rf->queue);
    ngx_destroy_pool(rf->pool);
}
