
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * One lookup: validate the target, fan out to every provider that fits,
 * in parallel, and end through lk->done once the last call ends or the
 * deadline fires.  Started by the GET handler (ngx_http_osint_handler.c)
 * or by a batch (ngx_http_osint_batch.c), which set lk->done.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


static ngx_int_t ngx_http_osint_lookup_query(ngx_http_osint_lookup_t *lk,
    ngx_http_osint_query_t *q, ngx_uint_t *want, ngx_str_t *providers);
static ngx_int_t ngx_http_osint_arg(ngx_http_osint_lookup_t *lk,
    ngx_str_t *raw, char *name, ngx_str_t *value);
static ngx_int_t ngx_http_osint_reject(ngx_http_osint_lookup_t *lk,
    const char *kind, const char *fmt, ...);
static ngx_int_t ngx_http_osint_lookup_within(ngx_http_osint_lookup_t *lk,
    ngx_http_osint_loc_conf_t *olcf, ngx_str_t *providers);
static ngx_int_t ngx_http_osint_lookup_private(ngx_http_osint_lookup_t *lk,
    ngx_http_osint_private_t *pc);

static void ngx_http_osint_lookup_trace(ngx_http_osint_lookup_t *lk,
    ngx_http_request_t *r);
static void ngx_http_osint_lookup_deadline(ngx_event_t *ev);
static void ngx_http_osint_lookup_call_done(ngx_http_osint_call_t *call);
static void ngx_http_osint_lookup_finish(ngx_http_osint_lookup_t *lk);
static const char *ngx_http_osint_cache_status(ngx_http_osint_lookup_t *lk);
static void ngx_http_osint_lookup_cleanup(void *data);
static ngx_uint_t ngx_http_osint_no_cache(ngx_http_request_t *r);
static ngx_uint_t ngx_http_osint_bypass_allowed(ngx_http_request_t *r);


ngx_http_osint_lookup_t *
ngx_http_osint_lookup_new(ngx_http_request_t *r)
{
    return ngx_http_osint_lookup_create(r, r->pool);
}


/* a lookup whose memory is all in pool: the request's, or its own */

ngx_http_osint_lookup_t *
ngx_http_osint_lookup_create(ngx_http_request_t *r, ngx_pool_t *pool)
{
    ngx_http_variable_value_t   *vv;
    ngx_http_osint_lookup_t     *lk;
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    lk = ngx_pcalloc(pool, sizeof(ngx_http_osint_lookup_t));
    if (lk == NULL) {
        return NULL;
    }

    lk->request = r;
    lk->omcf = omcf;
    lk->log = r->connection->log;
    lk->connection = r->connection;
    lk->pool = pool;

    vv = ngx_http_get_indexed_variable(r, omcf->request_id_index);

    if (vv && !vv->not_found) {
        lk->request_id.data = vv->data;
        lk->request_id.len = vv->len;
    }

    ngx_http_osint_lookup_trace(lk, r->main);

    return lk;
}


/*
 * The client's trace context, for the providers: a tracestate only with a
 * traceparent, each well-formed and sent once; nothing else is passed on.
 */

static void
ngx_http_osint_lookup_trace(ngx_http_osint_lookup_t *lk,
    ngx_http_request_t *r)
{
    ngx_str_t  tp, ts;

    if (ngx_http_osint_header_in(r, "traceparent", &tp) != NGX_OK
        || !ngx_http_osint_traceparent_valid(tp.data, tp.len))
    {
        return;
    }

    lk->traceparent = tp;

    if (ngx_http_osint_header_in(r, "tracestate", &ts) == NGX_OK
        && ngx_http_osint_tracestate_valid(ts.data, ts.len))
    {
        lk->tracestate = ts;
    }
}


/*
 * Starts the calls.  NGX_OK: every one ended at once (caches, refusals);
 * NGX_AGAIN: some are in flight, and ngx_http_osint_lookup_finish() will
 * run when the last ends or the deadline fires.
 */

ngx_int_t
ngx_http_osint_lookup_run(ngx_http_osint_lookup_t *lk)
{
    ngx_uint_t                   i;
    ngx_http_request_t          *r;
    ngx_pool_cleanup_t          *pcln;
    ngx_http_cleanup_t          *cln;
    ngx_http_osint_main_conf_t  *omcf;

    r = lk->request;
    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    if (lk->pool == r->pool) {
        cln = ngx_http_cleanup_add(r, 0);
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_http_osint_lookup_cleanup;
        cln->data = lk;

    } else {

        /* a batch's target: its calls stop when its pool is destroyed */

        pcln = ngx_pool_cleanup_add(lk->pool, 0);
        if (pcln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        pcln->handler = ngx_http_osint_lookup_cleanup;
        pcln->data = lk;
    }

    lk->deadline.handler = ngx_http_osint_lookup_deadline;
    lk->deadline.data = r->connection;
    lk->deadline.log = r->connection->log;
    lk->deadline_at = ngx_current_msec + omcf->deadline;

    /* calls that end right here must not finish the lookup */

    lk->starting = 1;

    for (i = 0; i < lk->ncalls; i++) {
        if (lk->calls[i].status == NGX_HTTP_OSINT_PENDING) {
            lk->pending++;
        }
    }

    /* every provider answered from L1 as last time: the document then */

    if (ngx_http_osint_document_recall(lk) != NGX_OK) {

        for (i = 0; i < lk->ncalls; i++) {
            if (lk->calls[i].status == NGX_HTTP_OSINT_PENDING) {
                ngx_http_osint_call_begin(&lk->calls[i]);
            }
        }
    }

    lk->starting = 0;

    if (lk->pending == 0) {
        lk->finished = 1;
        lk->at_once = 1;
        return NGX_OK;
    }

    /* the calls still out were sent microseconds ago: their start */

    lk->started = ngx_http_osint_now_ms();

    ngx_add_timer(&lk->deadline, omcf->deadline);

    return NGX_AGAIN;
}


/* the arguments of a GET: target=, then those of every target */

ngx_int_t
ngx_http_osint_lookup_args(ngx_http_osint_lookup_t *lk, ngx_str_t *providers)
{
    ngx_int_t               rc;
    ngx_str_t               target;
    ngx_uint_t              want;
    ngx_http_osint_query_t  q;

    ngx_http_osint_query_parse(&lk->request->args, &q);

    rc = ngx_http_osint_arg(lk, &q.target, "target", &target);

    if (rc == NGX_ABORT) {
        return ngx_http_osint_reject(lk, "invalid_target",
                                     "the \"target\" parameter is required");
    }

    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_osint_lookup_query(lk, &q, &want, providers);

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_osint_lookup_target(lk, &target, want);
}


/*
 * The query arguments that apply to every target of a request, a batch's
 * too: type=, refresh= (or Cache-Control: no-cache), providers=.
 */

ngx_int_t
ngx_http_osint_lookup_params(ngx_http_osint_lookup_t *lk, ngx_uint_t *want,
    ngx_str_t *providers)
{
    ngx_http_osint_query_t  q;

    ngx_http_osint_query_parse(&lk->request->args, &q);

    return ngx_http_osint_lookup_query(lk, &q, want, providers);
}


static ngx_int_t
ngx_http_osint_lookup_query(ngx_http_osint_lookup_t *lk,
    ngx_http_osint_query_t *q, ngx_uint_t *want, ngx_str_t *providers)
{
    ngx_int_t                   rc;
    ngx_str_t                   type, refresh;
    ngx_uint_t                  bypass;
    ngx_http_request_t         *r;
    ngx_http_osint_loc_conf_t  *olcf;

    r = lk->request;
    olcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_module);
    *want = NGX_HTTP_OSINT_ANY;
    bypass = 0;

    rc = ngx_http_osint_arg(lk, &q->type, "type", &type);

    if (rc == NGX_OK && ngx_http_osint_type_parse(&type, want) != NGX_OK) {
        return ngx_http_osint_reject(lk, "invalid_parameter",
                                     "unknown type \"%V\"; known are ip, "
                                     "ipv4, ipv6, domain, email, url, hash, "
                                     "phone and username", &type);
    }

    if (rc != NGX_OK && rc != NGX_ABORT) {
        return rc;
    }

    /* the location's types= narrow the detection; type= may not widen it */

    if (olcf->types) {
        if (rc == NGX_OK && (*want & ~olcf->types)) {
            return ngx_http_osint_reject(lk, "invalid_parameter",
                                         "type \"%V\" is not offered here",
                                         &type);
        }

        *want = (rc == NGX_OK) ? (*want & olcf->types) : olcf->types;
    }

    rc = ngx_http_osint_arg(lk, &q->refresh, "refresh", &refresh);

    if (rc == NGX_OK
        && ngx_http_osint_refresh_parse(&refresh, &bypass) != NGX_OK)
    {
        return ngx_http_osint_reject(lk, "invalid_parameter",
                                     "\"refresh\" must be 0 or 1");
    }

    if (rc != NGX_OK && rc != NGX_ABORT) {
        return rc;
    }

    lk->refresh = bypass;
    lk->bypass = ngx_http_osint_lookup_bypass(r, bypass);

    rc = ngx_http_osint_arg(lk, &q->providers, "providers", providers);

    if (rc == NGX_ABORT) {
        providers->len = 0;
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_osint_lookup_within(lk, olcf, providers);
}


/*
 * providers= narrows the location's set, never widens it: one outside it
 * is refused, by name, before anything is asked (an unknown name is
 * refused by ngx_http_osint_lookup_select()).
 */

static ngx_int_t
ngx_http_osint_lookup_within(ngx_http_osint_lookup_t *lk,
    ngx_http_osint_loc_conf_t *olcf, ngx_str_t *providers)
{
    uint64_t                     wanted;
    ngx_str_t                    unknown;
    ngx_uint_t                   i;
    ngx_http_osint_provider_t   *prov;
    ngx_http_osint_main_conf_t  *omcf;

    if (olcf->providers == 0 || providers->len == 0) {
        return NGX_OK;
    }

    omcf = ngx_http_get_module_main_conf(lk->request, ngx_http_osint_module);
    prov = omcf->providers.elts;

    if (ngx_http_osint_providers_parse(&omcf->providers, providers, &wanted,
                                       &unknown)
        != NGX_OK)
    {
        return NGX_OK;
    }

    for (i = 0; i < omcf->providers.nelts; i++) {
        if ((wanted & ~olcf->providers) & ((uint64_t) 1 << i)) {
            return ngx_http_osint_reject(lk, "invalid_parameter",
                                         "provider \"%V\" is not offered "
                                         "here", &prov[i].name);
        }
    }

    return NGX_OK;
}


/* the target: valid, of the wanted type, in its canonical form */

ngx_int_t
ngx_http_osint_lookup_target(ngx_http_osint_lookup_t *lk, ngx_str_t *target,
    ngx_uint_t want)
{
    ngx_int_t    rc;
    const char  *reason;

    rc = ngx_http_osint_target_parse(lk->pool, target, want,
                                     &lk->target, &lk->type, &reason);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_http_osint_reject(lk, "invalid_target", "%s", reason);
    }

    return NGX_OK;
}


/*
 * A query argument ("raw", as ngx_http_osint_query_parse() found it),
 * percent-decoded by ngx_http_osint_arg_decode(): NGX_OK, NGX_ABORT when
 * absent, NGX_DECLINED when bad.
 */

static ngx_int_t
ngx_http_osint_arg(ngx_http_osint_lookup_t *lk, ngx_str_t *raw, char *name,
    ngx_str_t *value)
{
    ngx_int_t  rc;

    if (raw->data == NULL) {
        return NGX_ABORT;
    }

    rc = ngx_http_osint_arg_decode(lk->request->pool, raw, value);

    if (rc == NGX_DECLINED) {
        return ngx_http_osint_reject(lk,
                                     ngx_strcmp(name, "target") == 0
                                     ? "invalid_target" : "invalid_parameter",
                                     "\"%s\" is too long", name);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/* bad input: remembers why, for the handler's 400 answer */

static ngx_int_t
ngx_http_osint_reject(ngx_http_osint_lookup_t *lk, const char *kind,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    p = ngx_pnalloc(lk->pool, NGX_MAX_ERROR_STR);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    va_start(args, fmt);
    lk->reject.len = ngx_vslprintf(p, p + NGX_MAX_ERROR_STR, fmt, args) - p;
    va_end(args);

    lk->reject.data = p;
    lk->reject_kind = kind;

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_osint_lookup_select(ngx_http_osint_lookup_t *lk, ngx_str_t *filter)
{
    ngx_http_request_t  *r = lk->request;

    uint64_t                     wanted;
    ngx_str_t                    unknown;
    ngx_uint_t                   i, n, enabled;
    ngx_http_osint_call_t       *call;
    ngx_http_osint_provider_t   *prov;
    ngx_http_osint_loc_conf_t   *olcf;
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);
    olcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_module);
    prov = omcf->providers.elts;

    if (ngx_http_osint_providers_parse(&omcf->providers, filter, &wanted,
                                       &unknown)
        != NGX_OK)
    {
        return ngx_http_osint_reject(lk, "invalid_parameter",
                                     "unknown provider \"%V\"", &unknown);
    }

    /* the location's set (providers= outside it: refused by params) */

    if (olcf->providers) {
        wanted &= olcf->providers;
    }

    n = 0;
    enabled = 0;

    for (i = 0; i < omcf->providers.nelts; i++) {
        if ((prov[i].types & lk->type) && (wanted & ((uint64_t) 1 << i))) {
            n++;
            enabled += !prov[i].disabled;
        }
    }

    /*
     * a phone number's calling code and country are known without any
     * provider (summary): its lookup answers them with every one skipped
     */

    if (enabled == 0 && !(n && lk->type == NGX_HTTP_OSINT_PHONE)) {
        return ngx_http_osint_reject(lk, "no_provider",
                                     n ? "every provider for %s targets "
                                         "is disabled"
                                       : "no provider answers %s targets",
                                     ngx_http_osint_type_name(lk->type));
    }

    lk->calls = ngx_pcalloc(lk->pool, n * sizeof(ngx_http_osint_call_t));
    if (lk->calls == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_osint_lookup_private(lk, &omcf->private_nets) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < omcf->providers.nelts; i++) {
        if (!(prov[i].types & lk->type) || !(wanted & ((uint64_t) 1 << i))) {
            continue;
        }

        call = ngx_http_osint_lookup_call(lk, &prov[i]);

        if (prov[i].disabled) {
            ngx_http_osint_count_skip(&prov[i], NGX_HTTP_OSINT_SKIP_DISABLED);
            call->status = NGX_HTTP_OSINT_SKIPPED;
            call->err = NGX_HTTP_OSINT_ERR_DISABLED;
            ngx_str_set(&call->message, "provider has no api key");

        } else if (ngx_http_osint_switched_off(&prov[i])) {
            ngx_http_osint_count_skip(&prov[i], NGX_HTTP_OSINT_SKIP_DISABLED);
            call->status = NGX_HTTP_OSINT_SKIPPED;
            call->err = NGX_HTTP_OSINT_ERR_DISABLED;
            ngx_str_set(&call->message, "provider disabled by osint_control");

        } else if (lk->private.len && !prov[i].private_targets) {
            ngx_http_osint_count_skip(&prov[i], NGX_HTTP_OSINT_SKIP_PRIVATE);
            call->status = NGX_HTTP_OSINT_SKIPPED;
            call->err = NGX_HTTP_OSINT_ERR_PRIVATE;
            call->message = lk->private;
        }
    }

    return NGX_OK;
}


/*
 * lk->private: why the target must stay in the organisation (empty when
 * it need not), for the message of each provider not "private on"
 */

static ngx_int_t
ngx_http_osint_lookup_private(ngx_http_osint_lookup_t *lk,
    ngx_http_osint_private_t *pc)
{
    u_char      *p;
    size_t       len;
    const char  *why;

    why = ngx_http_osint_private_match(pc, &lk->target, lk->type);

    if (why == NULL) {
        return NGX_OK;
    }

    len = sizeof("private target, not sent: ") - 1 + ngx_strlen(why);

    p = ngx_pnalloc(lk->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    lk->private.len = ngx_sprintf(p, "private target, not sent: %s", why) - p;
    lk->private.data = p;

    return NGX_OK;
}


static void
ngx_http_osint_lookup_deadline(ngx_event_t *ev)
{
    ngx_uint_t                   i;
    ngx_http_request_t          *r;
    ngx_http_osint_call_t       *call;
    ngx_http_osint_lookup_t     *lk;
    ngx_http_osint_main_conf_t  *omcf;

    lk = (ngx_http_osint_lookup_t *)
             ((u_char *) ev - offsetof(ngx_http_osint_lookup_t, deadline));

    r = lk->request;
    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "osint: lookup deadline of %M ms reached, request %V",
                  omcf->deadline, &lk->request_id);

    for (i = 0; i < lk->ncalls; i++) {
        call = &lk->calls[i];

        if (call->status == NGX_HTTP_OSINT_PENDING) {
            ngx_http_osint_call_abort(call, NGX_HTTP_OSINT_ERR_DEADLINE,
                                      "osint_deadline reached");
        }
    }

    lk->pending = 0;

    ngx_http_osint_lookup_finish(lk);
}


/* the lookup's next call, to provider p, in lk->calls of select's size */

ngx_http_osint_call_t *
ngx_http_osint_lookup_call(ngx_http_osint_lookup_t *lk,
    ngx_http_osint_provider_t *p)
{
    ngx_http_osint_call_t  *call;

    call = &lk->calls[lk->ncalls++];
    call->lookup = lk;
    call->done = ngx_http_osint_lookup_call_done;
    call->provider = p;

    return call;
}


/*
 * Whether the lookup bypasses the cache: refresh=1 ("refresh") or
 * Cache-Control: no-cache asked for it, and osint_cache_bypass allows it
 */

ngx_uint_t
ngx_http_osint_lookup_bypass(ngx_http_request_t *r, ngx_uint_t refresh)
{
    return (refresh || ngx_http_osint_no_cache(r))
           && ngx_http_osint_bypass_allowed(r);
}


/* a call has ended for good (call->done): the last one ends the lookup */

static void
ngx_http_osint_lookup_call_done(ngx_http_osint_call_t *call)
{
    ngx_http_osint_lookup_t  *lk;

    lk = call->lookup;

    /* stale-while-revalidate: the answer served, the refresh goes out */

    if (call->refresh) {
        call->refresh = 0;
        ngx_http_osint_refresh_start(call);
    }

    if (--lk->pending == 0 && !lk->starting && !lk->finished) {
        ngx_http_osint_lookup_finish(lk);
    }
}


/* runs from curl's or the deadline's events: finalize, then posted */

static void
ngx_http_osint_lookup_finish(ngx_http_osint_lookup_t *lk)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = lk->request;
    c = r->connection;

    lk->finished = 1;

    if (lk->deadline.timer_set) {
        ngx_del_timer(&lk->deadline);
    }

    /* who started the lookup answers: the GET handler or the batch */

    lk->done(lk);

    ngx_http_run_posted_requests(c);
}


/*
 * 200 when a provider answered (ok or not_found), or the target is a
 * phone number, 502 when none did; the lookup is counted in
 * osint_lookups_total here, once, and its time (lk->elapsed, the
 * document's elapsed_ms: asked before the document is written).
 */

ngx_uint_t
ngx_http_osint_lookup_status(ngx_http_osint_lookup_t *lk)
{
    ngx_uint_t                   i, ok, failed, refused;
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_get_module_main_conf(lk->request, ngx_http_osint_module);

    /* a phone number answers its calling code and country itself */

    ok = (lk->type == NGX_HTTP_OSINT_PHONE);
    failed = 0;
    refused = 0;

    for (i = 0; i < lk->ncalls; i++) {
        switch (lk->calls[i].status) {

        case NGX_HTTP_OSINT_OK:
        case NGX_HTTP_OSINT_NOT_FOUND:
            ok++;
            break;

        case NGX_HTTP_OSINT_ERROR:
            failed++;
            break;

        default:

            /*
             * skipped: a provider without its key, or one a private
             * target must not reach, is configured so
             */

            if (ngx_http_osint_call_refused(&lk->calls[i])) {
                refused += (lk->calls[i].err == NGX_HTTP_OSINT_ERR_PRIVATE);

            } else {
                failed++;
            }

            break;
        }
    }

    /* a private target no provider may receive: answered, none failed */

    if (ok == 0 && failed == 0 && refused) {
        ok = 1;
    }

    lk->cache_status = ngx_http_osint_cache_status(lk);

    ngx_http_osint_count_lookup(omcf, lk->type,
                                ok == 0 ? NGX_HTTP_OSINT_RESULT_FAILED
                                : failed ? NGX_HTTP_OSINT_RESULT_PARTIAL
                                : NGX_HTTP_OSINT_RESULT_OK);
    /* the document's elapsed_ms is what the histogram counts */

    lk->elapsed = lk->at_once ? 0 : ngx_http_osint_now_ms() - lk->started;
    ngx_http_osint_count_duration(omcf, lk->elapsed);

    return ok ? NGX_HTTP_OK : NGX_HTTP_BAD_GATEWAY;
}


static void
ngx_http_osint_lookup_cleanup(void *data)
{
    ngx_http_osint_lookup_t *lk = data;

    ngx_uint_t  i;

    if (lk->deadline.timer_set) {
        ngx_del_timer(&lk->deadline);
    }

    /* the answers' trees are in lk->pool (ngx_http_osint_json_pool_enter()) */

    for (i = 0; i < lk->ncalls; i++) {
        ngx_http_osint_call_abort(&lk->calls[i], NGX_HTTP_OSINT_ERR_NONE, NULL);
        lk->calls[i].data = NULL;
    }

    if (!lk->finished) {
        ngx_log_error(NGX_LOG_INFO, lk->request->connection->log, 0,
                      "osint: lookup cancelled, client went away, request %V",
                      &lk->request_id);
    }

    lk->finished = 1;
}


/*
 * The client's connection while providers are asked: a close cancels the
 * lookup (as upstream's check_broken_connection does for proxy_pass).
 */

void
ngx_http_osint_check_broken(ngx_http_request_t *r)
{
    int                n;
    char               buf[1];
    ngx_err_t          err;
#if (NGX_HAVE_EPOLLRDHUP)
    socklen_t          len;
#endif
    ngx_event_t       *ev;
    ngx_connection_t  *c;

    c = r->connection;
    ev = c->read;

#if (NGX_HTTP_V2)
    if (r->stream) {
        return;
    }
#endif

#if (NGX_HAVE_EPOLLRDHUP)

    if ((ngx_event_flags & NGX_USE_EPOLL_EVENT) && ngx_use_epoll_rdhup) {
        if (!ev->pending_eof) {
            return;
        }

        len = sizeof(ngx_err_t);
        err = 0;

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len)
            == -1)
        {
            err = ngx_socket_errno;
        }

        ev->eof = 1;
        c->error = 1;

        ngx_log_error(NGX_LOG_INFO, c->log, err,
                      "client prematurely closed connection");

        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        return;
    }

#endif

    n = recv(c->fd, buf, 1, MSG_PEEK);
    err = ngx_socket_errno;

    if (n > 0 || (n == -1 && err == NGX_EAGAIN)) {

        /* pipelined bytes wait for their turn; level events would spin */

        if ((ngx_event_flags & NGX_USE_LEVEL_EVENT) && ev->active) {
            (void) ngx_del_event(ev, NGX_READ_EVENT, 0);
        }

        return;
    }

    ev->eof = 1;
    c->error = 1;

    ngx_log_error(NGX_LOG_INFO, c->log, n == -1 ? err : 0,
                  "client prematurely closed connection");

    ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
}


/*
 * A client's refresh=1 or no-cache spends provider quota that all
 * clients share: honoured only where osint_cache_bypass allows it (any
 * of its values not empty and not "0", as proxy_cache_bypass).
 * Elsewhere both are ignored and the caches answer as usual.
 */

static ngx_uint_t
ngx_http_osint_bypass_allowed(ngx_http_request_t *r)
{
    ngx_http_osint_loc_conf_t  *olcf;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_module);

    return olcf->cache_bypass
           && ngx_http_test_predicates(r, olcf->cache_bypass) == NGX_DECLINED;
}


/* "Cache-Control: no-cache" from the client: as refresh=1 */

static ngx_uint_t
ngx_http_osint_no_cache(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Cache-Control") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Cache-Control",
                               sizeof("Cache-Control") - 1) == 0
            && ngx_strlcasestrn(h[i].value.data,
                                h[i].value.data + h[i].value.len,
                                (u_char *) "no-cache", 8 - 1)
               != NULL)
        {
            return 1;
        }
    }
}


/*
 * X-Cache-Status: HIT when every answer came from a cache (stale ones
 * too), MISS when none did, PARTIAL between, BYPASS for refresh.
 * Providers skipped for want of a key, or for a private target, neither
 * hit nor miss.
 */

static const char *
ngx_http_osint_cache_status(ngx_http_osint_lookup_t *lk)
{
    ngx_uint_t              i, cached, counted;
    ngx_http_osint_call_t  *call;

    if (lk->bypass) {
        return "BYPASS";
    }

    cached = 0;
    counted = 0;

    for (i = 0; i < lk->ncalls; i++) {
        call = &lk->calls[i];

        if (ngx_http_osint_call_refused(call)) {
            continue;
        }

        counted++;

        if (call->cache == NGX_HTTP_OSINT_SRC_L1
            || call->cache == NGX_HTTP_OSINT_SRC_REDIS
            || call->cache == NGX_HTTP_OSINT_SRC_STALE)
        {
            cached++;
        }
    }

    if (cached == 0) {
        return "MISS";
    }

    return cached == counted ? "HIT" : "PARTIAL";
}

