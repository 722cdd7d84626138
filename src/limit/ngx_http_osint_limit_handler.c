
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * osint_limit at request time: the rewrite and preaccess handlers, the
 * limits of a location consulted in order, the verdict (pass, delay,
 * reject, dry run), its headers and $osint_limit_status.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"
#include "ngx_http_osint_limit.h"
#include "ngx_http_osint_limit_internal.h"


static ngx_int_t ngx_http_osint_limit_decide(ngx_http_request_t *r,
    ngx_uint_t early);
static void ngx_http_osint_limit_delay(ngx_http_request_t *r);
static ngx_int_t ngx_http_osint_limit_reject(ngx_http_request_t *r,
    ngx_uint_t status, time_t retry_after);
static ngx_int_t ngx_http_osint_limit_set_headers(ngx_http_request_t *r,
    ngx_http_osint_limit_loc_conf_t *llcf, ngx_http_osint_limit_eval_t *ev);
static void ngx_http_osint_limit_cleanup(void *data);


static ngx_str_t  ngx_http_osint_limit_statuses[] = {
    ngx_string("PASSED"),
    ngx_string("DELAYED"),
    ngx_string("DRY_RUN"),
    ngx_string("REJECTED")
};


/*
 * the location's rewrite phase, before its own directives: see the
 * comment at the top of ngx_http_osint_limit.c
 */

ngx_int_t
ngx_http_osint_limit_rewrite_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_osint_limit_decide(r, 1);

    /* this phase's checker finalizes on NGX_AGAIN: a delay is NGX_DONE */

    return rc == NGX_AGAIN ? NGX_DONE : rc;
}


/* the locations whose keys are made by `set` (ngx_http_osint_limit.c) */

ngx_int_t
ngx_http_osint_limit_preaccess_handler(ngx_http_request_t *r)
{
    return ngx_http_osint_limit_decide(r, 0);
}


/*
 * NGX_DECLINED: on with the phases; NGX_AGAIN: delayed; NGX_DONE: the
 * rejection is sent; an HTTP status: fails.
 */

static ngx_int_t
ngx_http_osint_limit_decide(ngx_http_request_t *r, ngx_uint_t early)
{
    ngx_uint_t                        i, n, applied, late;
    ngx_pool_cleanup_t               *cln;
    ngx_http_osint_limit_t           *limits;
    ngx_http_osint_limit_ctx_t       *ctx;
    ngx_http_osint_limit_run_t       *run;
    ngx_http_osint_limit_eval_t      *ev;
    ngx_http_osint_limit_zone_t      *z;
    ngx_http_osint_limit_loc_conf_t  *llcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_limit_module);
    n = llcf->limits.nelts;

    if (n == 0 || ngx_http_osint_limit_get_ctx(r) != NULL) {
        return NGX_DECLINED;
    }

    limits = llcf->limits.elts;

    /* one phase decides: the rewrite phase, unless a key needs a `set` */

    late = 0;

    for (i = 0; i < n; i++) {
        z = limits[i].shm_zone->data;
        late |= z->late;
    }

    if (early ? late : !late) {
        return NGX_DECLINED;
    }

    ev = ngx_pcalloc(r->pool, n * sizeof(ngx_http_osint_limit_eval_t));
    if (ev == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* all keys first: a failure then cannot leave tokens taken */

    applied = 0;

    for (i = 0; i < n; i++) {
        z = limits[i].shm_zone->data;

        if (ngx_http_complex_value(r, &z->key, &ev[i].key) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ev[i].key.len == 0) {
            continue;
        }

        if (ev[i].key.len > NGX_HTTP_OSINT_LIMIT_KEY_MAX) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "osint_limit: the key of zone \"%V\" is longer "
                          "than %d bytes, not limited", &z->name,
                          NGX_HTTP_OSINT_LIMIT_KEY_MAX);
            continue;
        }

        ev[i].hash = ngx_crc32_short(ev[i].key.data, ev[i].key.len);
        ev[i].applied = 1;
        applied++;
    }

    if (applied == 0) {
        return NGX_DECLINED;
    }

    /* the verdict is kept in the pool, found again after a redirect */

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_osint_limit_ctx_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_osint_limit_cleanup;
    ctx = cln->data;
    ngx_http_set_ctx(r, ctx, ngx_http_osint_limit_module);

    run = ngx_pcalloc(r->pool, sizeof(ngx_http_osint_limit_run_t));
    if (run == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    run->request = r;
    run->ev = ev;
    run->n = n;
    run->llcf = llcf;

    ctx->run = run;

    return ngx_http_osint_limit_run(run);
}


/*
 * The limits from run->next on, in order.  NGX_AGAIN: waiting for Redis
 * (or delayed); else as ngx_http_osint_limit_decide().
 */

ngx_int_t
ngx_http_osint_limit_run(ngx_http_osint_limit_run_t *run)
{
    ngx_int_t                         rc;
    ngx_uint_t                        i;
    ngx_http_request_t               *r;
    ngx_http_osint_limit_t           *limits;
    ngx_http_osint_limit_eval_t      *ev;
    ngx_http_osint_limit_zone_t      *z;
    ngx_http_osint_limit_loc_conf_t  *llcf;

    r = run->request;
    ev = run->ev;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_limit_module);
    limits = llcf->limits.elts;

    for (i = run->next; i < run->n; i++) {

        if (!ev[i].applied) {
            continue;
        }

        z = limits[i].shm_zone->data;
        ev[i].result = NGX_HTTP_OSINT_LIMIT_PASSED;

        rc = NGX_DECLINED;

        if (z->sync) {
            rc = ngx_http_osint_limit_sync(run, i, z);

            if (rc == NGX_AGAIN) {
                run->next = i;
                return ngx_http_osint_limit_sync_wait(run);
            }
        }

        if (rc == NGX_DECLINED) {
            ngx_http_osint_limit_local(z, &limits[i], &ev[i],
                                       ngx_current_msec, r->connection->log);
        }

        if (ev[i].result == NGX_HTTP_OSINT_LIMIT_REJECTED) {
            return ngx_http_osint_limit_finish(run, i);
        }
    }

    run->next = run->n;

    return ngx_http_osint_limit_finish(run, run->n);
}


/* a limit decided on this node's bucket */

void
ngx_http_osint_limit_local(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_t *limit, ngx_http_osint_limit_eval_t *ev,
    ngx_msec_t now, ngx_log_t *log)
{
    ngx_int_t                     wait;
    ngx_http_osint_limit_node_t  *node;

    ngx_shmtx_lock(&z->shpool->mutex);

    node = ngx_http_osint_limit_lookup(z, ev, 1, now);

    if (node == NULL) {
        /* no room even after evictions: passes, said once a second */
        ngx_http_osint_limit_unlock(z, ev, log);
        return;
    }

    wait = ngx_http_osint_bucket_take(&node->bucket, &z->rate, now,
                                      limit->delay);

    if (wait == NGX_DECLINED) {
        ev->result = limit->dry_run ? NGX_HTTP_OSINT_LIMIT_DRY_RUN
                                    : NGX_HTTP_OSINT_LIMIT_REJECTED;

    } else {
        ev->took = 1;
        ev->wait = (ngx_msec_t) wait;

        if (wait && !limit->dry_run) {
            ev->result = NGX_HTTP_OSINT_LIMIT_DELAYED;
        }
    }

    ngx_http_osint_limit_state(z, &node->bucket, now, ev);

    ngx_http_osint_limit_unlock(z, ev, log);
}


/* every limit consulted, or "rejected" said no: the verdict */

ngx_int_t
ngx_http_osint_limit_finish(ngx_http_osint_limit_run_t *run,
    ngx_uint_t rejected)
{
    time_t                            retry_after;
    ngx_int_t                         rc;
    ngx_uint_t                        i, n, status, at;
    ngx_msec_t                        now, delay;
    ngx_http_request_t               *r;
    ngx_http_osint_limit_t           *limits;
    ngx_http_osint_limit_ctx_t       *ctx;
    ngx_http_osint_limit_eval_t      *ev;
    ngx_http_osint_limit_zone_t      *z;
    ngx_http_osint_limit_loc_conf_t  *llcf;

    r = run->request;
    ev = run->ev;
    n = run->n;
    now = ngx_current_msec;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_limit_module);
    limits = llcf->limits.elts;

    ctx = ngx_http_osint_limit_get_ctx(r);

    if (rejected < n) {
        z = limits[rejected].shm_zone->data;
        retry_after = ev[rejected].reset;

        for (i = 0; i < rejected; i++) {
            if (ev[i].took) {
                ngx_http_osint_limit_refund(limits[i].shm_zone->data, &ev[i],
                                            now, r->connection->log);
            }
        }

        (void) ngx_atomic_fetch_add(
                      &z->sh->requests[NGX_HTTP_OSINT_LIMIT_REJECTED], 1);

        ctx->status = NGX_HTTP_OSINT_LIMIT_REJECTED;

        ngx_log_error(llcf->log_level, r->connection->log, 0,
                      "osint_limit: rejected, zone \"%V\", key crc32 %08xD, "
                      "retry after %T s", &z->name, ev[rejected].hash,
                      retry_after);

        if (llcf->status == NGX_HTTP_CLOSE) {
            ngx_http_finalize_request(r, NGX_HTTP_CLOSE);
            return NGX_DONE;
        }

        if (llcf->headers
            && ngx_http_osint_limit_set_headers(r, llcf, ev) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = ngx_http_osint_limit_reject(r, llcf->status, retry_after);

        ngx_http_finalize_request(r, rc);

        return NGX_DONE;
    }

    status = NGX_HTTP_OSINT_LIMIT_PASSED;
    delay = 0;
    at = 0;

    for (i = 0; i < n; i++) {

        if (!ev[i].applied) {
            continue;
        }

        z = limits[i].shm_zone->data;

        (void) ngx_atomic_fetch_add(&z->sh->requests[ev[i].result], 1);

        if (ev[i].result > status) {
            status = ev[i].result;
        }

        if (ev[i].result == NGX_HTTP_OSINT_LIMIT_DRY_RUN) {
            ngx_log_error(llcf->log_level, r->connection->log, 0,
                          "osint_limit: would reject, zone \"%V\", key crc32 "
                          "%08xD (dry run)", &z->name, ev[i].hash);
            continue;
        }

        if (ev[i].wait == 0) {
            continue;
        }

        if (limits[i].dry_run) {
            ngx_log_error(llcf->delay_log_level, r->connection->log, 0,
                          "osint_limit: would delay %M ms, zone \"%V\", key "
                          "crc32 %08xD (dry run)", ev[i].wait, &z->name,
                          ev[i].hash);
            continue;
        }

        if (ev[i].wait > delay) {
            delay = ev[i].wait;
            at = i;
        }
    }

    ctx->status = status;

    if (llcf->headers
        && ngx_http_osint_limit_set_headers(r, llcf, ev) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (delay == 0) {
        return NGX_DECLINED;
    }

    z = limits[at].shm_zone->data;

    ngx_log_error(llcf->delay_log_level, r->connection->log, 0,
                  "osint_limit: delaying %M ms, zone \"%V\", key crc32 %08xD",
                  delay, &z->name, ev[at].hash);

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_osint_limit_delay;

    r->connection->write->delayed = 1;
    ngx_add_timer(r->connection->write, delay);

    return NGX_AGAIN;
}


/* the token reserved has come: on with the phases, as limit_req does */

static void
ngx_http_osint_limit_delay(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "osint_limit delay");

    wev = r->connection->write;

    if (wev->delayed) {

        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}


static ngx_int_t
ngx_http_osint_limit_reject(ngx_http_request_t *r, ngx_uint_t status,
    time_t retry_after)
{
    u_char       *p;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    ngx_http_osint_discard_body(r);

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_osint_add_header(r, "Retry-After", p,
                                        ngx_sprintf(p, "%T", retry_after) - p)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_create_temp_buf(r->pool,
                            sizeof("{\"error\":{\"kind\":\"rate_limited\","
                                   "\"retryable\":true,\"retry_after\":}}")
                            + NGX_TIME_T_LEN);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_sprintf(b->last, "{\"error\":{\"kind\":\"rate_limited\","
                                   "\"retryable\":true,\"retry_after\":%T}}",
                          retry_after);
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * RateLimit-Policy (the location's, built at configuration time) and
 * RateLimit: one item per enforced zone consulted.
 */

static ngx_int_t
ngx_http_osint_limit_set_headers(ngx_http_request_t *r,
    ngx_http_osint_limit_loc_conf_t *llcf, ngx_http_osint_limit_eval_t *ev)
{
    u_char                       *value, *p;
    size_t                        len;
    ngx_uint_t                    i;
    ngx_http_osint_limit_t       *limits;
    ngx_http_osint_limit_zone_t  *z;

    if (llcf->policy.len == 0) {
        return NGX_OK;          /* dry_run only */
    }

    limits = llcf->limits.elts;
    len = 0;

    for (i = 0; i < llcf->limits.nelts; i++) {
        if (ev[i].known && !limits[i].dry_run) {
            z = limits[i].shm_zone->data;
            len += sizeof("\"\";r=;t=, ") - 1 + z->name.len
                   + NGX_INT_T_LEN + NGX_TIME_T_LEN;
        }
    }

    if (ngx_http_osint_add_header(r, "RateLimit-Policy",
                                        llcf->policy.data, llcf->policy.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (len == 0) {
        return NGX_OK;
    }

    value = ngx_pnalloc(r->pool, len);
    if (value == NULL) {
        return NGX_ERROR;
    }

    p = value;

    for (i = 0; i < llcf->limits.nelts; i++) {

        if (!ev[i].known || limits[i].dry_run) {
            continue;
        }

        z = limits[i].shm_zone->data;

        if (p != value) {
            p = ngx_cpymem(p, ", ", 2);
        }

        p = ngx_sprintf(p, "\"%V\";r=%ui;t=%T", &z->name, ev[i].remaining,
                        ev[i].reset);
    }

    return ngx_http_osint_add_header(r, "RateLimit", value, p - value);
}


/*
 * The request's verdict.  An internal redirect or a named location clears
 * r->ctx (and a named location leaves r->internal unset): the verdict
 * lives on in the pool cleanup that holds it, so a request is limited
 * once.  The list is short: a handful of cleanups at most.
 */

ngx_http_osint_limit_ctx_t *
ngx_http_osint_limit_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_osint_limit_ctx_t  *ctx;

    r = r->main;

    ctx = ngx_http_get_module_ctx(r, ngx_http_osint_limit_module);

    if (ctx != NULL) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_osint_limit_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_osint_limit_module);
            return ctx;
        }
    }

    return NULL;
}


static void
ngx_http_osint_limit_cleanup(void *data)
{
    ngx_http_osint_limit_ctx_t *ctx = data;

    /* the cleanup marks where the verdict is; and a client gone away */

    if (ctx->run && ctx->run->redis) {
        ngx_http_osint_redis_cancel(ctx->run->redis);
        ctx->run->redis = NULL;
    }
}


ngx_int_t
ngx_http_osint_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_osint_limit_ctx_t  *ctx;

    ctx = ngx_http_osint_limit_get_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ngx_http_osint_limit_statuses[ctx->status].len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ngx_http_osint_limit_statuses[ctx->status].data;

    return NGX_OK;
}
