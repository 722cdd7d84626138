
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * osint_health: liveness, and readiness with the checks behind it.
 *
 * GET /healthz answers {"status":"ok"} while the worker serves, at no
 * cost: liveness probes poll it.  ?ready=1 answers the checks:
 *
 *   redis          a PING from this worker, its round trip (when
 *                  osint_redis is configured);
 *   zone           whether L1 had to evict answers before they expired in
 *                  the last minute (osint_zone too small);
 *   providers      the enabled providers together: fail when every
 *                  breaker is open, as no lookup can be answered;
 *   provider:NAME  each provider "osint_health require=" names.
 *
 * Each check is ok, degraded or fail, with the time it entered that
 * status, as health requests saw it (kept in the zone, so every worker
 * tells the same).  The document's status is the worst of them; 503 when
 * it is fail.  ?providers=1 adds every provider's state.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_osint.h"


/* L1 evicting unexpired answers this recently: the zone is too small */
#define NGX_HTTP_OSINT_HEALTH_EVICT_WINDOW  60


typedef struct {
    ngx_http_request_t          *request;
    ngx_http_osint_redis_req_t  *ping;
    ngx_msec_t                   start;
} ngx_http_osint_health_ctx_t;

/* one check, as read under the zone's lock */
typedef struct {
    ngx_uint_t                   status;
    time_t                       since;
    const char                  *reason;
} ngx_http_osint_health_check_t;

/* one provider, as read under the zone's lock */
typedef struct {
    ngx_http_osint_health_check_t  check;
    const char                  *breaker;
    time_t                       last_ok;
    time_t                       last_err_time;
    ngx_http_osint_err_e         last_err;
    ngx_msec_t                   latency_us;
    time_t                       probe_at;      /* 0: no probe yet */
    ngx_http_osint_err_e         probe_err;
    ngx_msec_t                   probe_latency_us;
} ngx_http_osint_health_prov_t;

typedef struct {
    ngx_int_t                    redis;         /* see _answer() */
    double                       redis_ms;
    ngx_uint_t                   redis_workers;
    ngx_uint_t                   enabled;
    ngx_uint_t                   open;
    ngx_http_osint_health_check_t  redis_check;
    ngx_http_osint_health_check_t  zone_check;
    ngx_http_osint_health_check_t  providers_check;
    ngx_http_osint_health_prov_t  *prov;        /* one a provider */
} ngx_http_osint_health_t;


static ngx_uint_t ngx_http_osint_health_asked(ngx_http_request_t *r,
    char *name, size_t len);
static ngx_int_t ngx_http_osint_health_ready(ngx_http_request_t *r);
static void ngx_http_osint_health_pong(void *data, ngx_int_t rc,
    void *reply);
static void ngx_http_osint_health_cleanup(void *data);
static ngx_int_t ngx_http_osint_health_answer(ngx_http_request_t *r,
    ngx_int_t redis, double redis_ms);
static void ngx_http_osint_health_read(ngx_http_osint_health_t *h,
    ngx_http_osint_main_conf_t *omcf, ngx_http_osint_shm_t *ctx);
static void ngx_http_osint_health_provider(ngx_http_osint_health_prov_t *hp,
    ngx_http_osint_provider_t *p, ngx_msec_t now);
static void ngx_http_osint_health_seen(ngx_http_osint_health_check_t *check,
    ngx_http_osint_health_seen_t *seen);
static cJSON *ngx_http_osint_health_add(cJSON *checks, const char *name,
    ngx_http_osint_health_check_t *check);
static void ngx_http_osint_health_worst(ngx_http_osint_health_check_t *worst,
    ngx_http_osint_health_check_t *check);
static ngx_int_t ngx_http_osint_health_document(cJSON *doc,
    ngx_http_request_t *r, ngx_http_osint_health_t *h,
    ngx_http_osint_main_conf_t *omcf);
static void ngx_http_osint_health_detail(cJSON *doc,
    ngx_http_osint_main_conf_t *omcf, ngx_http_osint_health_t *h);


/*
 * osint_health [require=NAME,...];  The providers named must be defined
 * above the location, as osint_provider blocks at the http level are.
 */

char *
ngx_http_osint_health_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_osint_loc_conf_t *olcf = conf;

    u_char                      *p, *end, *comma;
    ngx_str_t                   *value, name;
    ngx_uint_t                   i, k, *req;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_osint_provider_t   *prov;
    ngx_http_osint_main_conf_t  *omcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_osint_health_handler;

    if (cf->args->nelts == 1) {
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    if (value[1].len <= 8 || ngx_strncmp(value[1].data, "require=", 8) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    omcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_osint_module);
    prov = omcf->providers.elts;

    olcf->health_require = ngx_array_create(cf->pool, 4, sizeof(ngx_uint_t));
    if (olcf->health_require == NULL) {
        return NGX_CONF_ERROR;
    }

    p = value[1].data + 8;
    end = value[1].data + value[1].len;

    while (p <= end) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        name.data = p;
        name.len = comma - p;
        p = comma + 1;

        for (i = 0; i < omcf->providers.nelts; i++) {
            if (prov[i].name.len == name.len
                && ngx_strncmp(prov[i].name.data, name.data, name.len) == 0)
            {
                break;
            }
        }

        if (i == omcf->providers.nelts) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown osint_provider \"%V\" in \"%V\" "
                               "(providers are defined above it)",
                               &name, &value[1]);
            return NGX_CONF_ERROR;
        }

        req = olcf->health_require->elts;

        for (k = 0; k < olcf->health_require->nelts; k++) {
            if (req[k] == i) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "osint_provider \"%V\" is named twice in "
                                   "\"%V\"", &name, &value[1]);
                return NGX_CONF_ERROR;
            }
        }

        req = ngx_array_push(olcf->health_require);
        if (req == NULL) {
            return NGX_CONF_ERROR;
        }

        *req = i;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_osint_health_handler(ngx_http_request_t *r)
{
    cJSON  *doc;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_osint_private_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_osint_health_asked(r, "ready", 5)
        || ngx_http_osint_health_asked(r, "providers", 9))
    {
        return ngx_http_osint_health_ready(r);
    }

    doc = cJSON_CreateObject();
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cJSON_AddStringToObject(doc, "status", "ok");

    return ngx_http_osint_send_json(r, NGX_HTTP_OK, doc);
}


/* ?name=… present and not "0" */

static ngx_uint_t
ngx_http_osint_health_asked(ngx_http_request_t *r, char *name, size_t len)
{
    ngx_str_t  arg;

    if (ngx_http_arg(r, (u_char *) name, len, &arg) != NGX_OK) {
        return 0;
    }

    return !(arg.len == 1 && arg.data[0] == '0');
}


/*
 * With osint_redis the answer waits for a PING from this worker, at most
 * osint_redis's timeout: the request is held (count + 1) and finished from
 * the reply's handler, which always runs unless the request goes first.
 */

static ngx_int_t
ngx_http_osint_health_ready(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_osint_health_ctx_t  *hc;
    ngx_http_osint_main_conf_t   *omcf;

    static const char    *argv[] = { "PING" };
    static const size_t   argvlen[] = { 4 };

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    if (omcf->redis == NULL) {
        return ngx_http_osint_health_answer(r, NGX_DECLINED, 0);
    }

    hc = ngx_pcalloc(r->pool, sizeof(ngx_http_osint_health_ctx_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (hc == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hc->request = r;
    hc->start = ngx_current_msec;

    hc->ping = ngx_http_osint_redis_command(1, argv, argvlen,
                                            ngx_http_osint_health_pong, hc,
                                            r->connection->log);
    if (hc->ping == NULL) {
        return ngx_http_osint_health_answer(r, NGX_AGAIN, 0);
    }

    cln->handler = ngx_http_osint_health_cleanup;
    cln->data = hc;

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_osint_health_pong(void *data, ngx_int_t rc, void *reply)
{
    ngx_http_osint_health_ctx_t *hc = data;

    redisReply          *rr;
    ngx_http_request_t  *r;

    r = hc->request;
    hc->ping = NULL;
    rr = reply;

    if (rc == NGX_OK && (rr == NULL || rr->type == REDIS_REPLY_ERROR)) {
        rc = NGX_ERROR;     /* NOAUTH, or an ACL without PING */
    }

    ngx_http_finalize_request(r,
        ngx_http_osint_health_answer(r, rc,
                                     (double) (ngx_current_msec - hc->start)));
}


static void
ngx_http_osint_health_cleanup(void *data)
{
    ngx_http_osint_health_ctx_t *hc = data;

    if (hc->ping) {
        ngx_http_osint_redis_cancel(hc->ping);
        hc->ping = NULL;
    }
}


/*
 * redis: NGX_OK the PING took redis_ms, NGX_ERROR it failed (down,
 * timeout, an error reply), NGX_AGAIN this worker is not connected,
 * NGX_DECLINED no osint_redis.
 */

static ngx_int_t
ngx_http_osint_health_answer(ngx_http_request_t *r, ngx_int_t redis,
    double redis_ms)
{
    cJSON                       *doc;
    ngx_int_t                    status;
    ngx_http_osint_shm_t        *ctx;
    ngx_http_osint_health_t      h;
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);
    ctx = omcf->shm_zone ? omcf->shm_zone->data : NULL;

    ngx_memzero(&h, sizeof(ngx_http_osint_health_t));
    h.redis = redis;
    h.redis_ms = redis_ms;

    if (ctx) {
        h.prov = ngx_pcalloc(r->pool, omcf->providers.nelts
                                      * sizeof(ngx_http_osint_health_prov_t));
        if (h.prov == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_osint_health_read(&h, omcf, ctx);
    }

    doc = cJSON_CreateObject();
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    status = ngx_http_osint_health_document(doc, r, &h, omcf);

    if (status == NGX_ERROR) {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx && ngx_http_osint_health_asked(r, "providers", 9)) {
        ngx_http_osint_health_detail(doc, omcf, &h);
    }

    return ngx_http_osint_send_json(r, status == NGX_HTTP_OSINT_HEALTH_FAIL
                                       ? NGX_HTTP_SERVICE_UNAVAILABLE
                                       : NGX_HTTP_OK, doc);
}


/*
 * Every check's status, and when it entered it, under the zone's lock:
 * a few comparisons a provider, no allocation, no log.
 */

static void
ngx_http_osint_health_read(ngx_http_osint_health_t *h,
    ngx_http_osint_main_conf_t *omcf, ngx_http_osint_shm_t *ctx)
{
    ngx_uint_t                    i;
    ngx_msec_t                    now;
    ngx_http_osint_counters_t    *c;
    ngx_http_osint_provider_t    *prov;
    ngx_http_osint_health_check_t *check;

    c = &ctx->sh->counters;
    now = ngx_current_msec;
    prov = omcf->providers.elts;

    h->redis_workers = ngx_http_osint_redis_workers_up(c);

    check = &h->redis_check;

    switch (h->redis) {

    case NGX_OK:
        check->status = NGX_HTTP_OSINT_HEALTH_OK;
        break;

    case NGX_ERROR:
        check->status = NGX_HTTP_OSINT_HEALTH_FAIL;
        check->reason = "redis did not answer PING";
        break;

    case NGX_AGAIN:
        check->status = h->redis_workers ? NGX_HTTP_OSINT_HEALTH_DEGRADED
                                         : NGX_HTTP_OSINT_HEALTH_FAIL;
        check->reason = h->redis_workers
                        ? "this worker is not connected to redis"
                        : "redis is down";
        break;

    default: /* NGX_DECLINED: no osint_redis */
        break;
    }

    check = &h->zone_check;

    if (ngx_time() - ctx->sh->evict_logged
        < NGX_HTTP_OSINT_HEALTH_EVICT_WINDOW && ctx->sh->evict_logged)
    {
        check->status = NGX_HTTP_OSINT_HEALTH_DEGRADED;
        check->reason = "the cache evicted answers before they expired in "
                        "the last minute (osint_zone is too small)";
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (i = 0; i < omcf->providers.nelts; i++) {
        if (prov[i].disabled || prov[i].state == NULL) {
            h->prov[i].check.status = NGX_HTTP_OSINT_HEALTH_FAIL;
            h->prov[i].check.reason = "disabled: no api key";
            h->prov[i].breaker = "off";
            continue;
        }

        if (prov[i].state->off) {
            h->prov[i].check.status = NGX_HTTP_OSINT_HEALTH_FAIL;
            h->prov[i].check.reason = "disabled by osint_control";
            h->prov[i].breaker = "off";
            ngx_http_osint_health_seen(&h->prov[i].check,
                                       &prov[i].state->health);
            continue;
        }

        h->enabled++;
        h->open += (prov[i].state->forced_open
                    || (ngx_http_osint_breaker_on(&prov[i].breaker)
                        && prov[i].state->breaker.state
                           == NGX_HTTP_OSINT_BREAKER_OPEN));

        ngx_http_osint_health_provider(&h->prov[i], &prov[i], now);
        ngx_http_osint_health_seen(&h->prov[i].check,
                                   &prov[i].state->health);
    }

    check = &h->providers_check;

    if (h->enabled && h->open == h->enabled) {
        check->status = NGX_HTTP_OSINT_HEALTH_FAIL;
        check->reason = "the circuit breaker of every provider is open";

    } else if (h->open) {
        check->status = NGX_HTTP_OSINT_HEALTH_DEGRADED;
        check->reason = "the circuit breaker of a provider is open";
    }

    if (h->redis != NGX_DECLINED) {
        ngx_http_osint_health_seen(&h->redis_check, &c->health_redis);
    }

    ngx_http_osint_health_seen(&h->zone_check, &c->health_zone);
    ngx_http_osint_health_seen(&h->providers_check, &c->health_providers);

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


/*
 * A provider: fail while its breaker is open (no call goes out), degraded
 * while it is half-open, held by a 429's Retry-After, or its last call
 * failed; ok otherwise.
 */

static void
ngx_http_osint_health_provider(ngx_http_osint_health_prov_t *hp,
    ngx_http_osint_provider_t *p, ngx_msec_t now)
{
    ngx_http_osint_pstate_t  *ps;

    ps = p->state;

    hp->last_ok = ps->last_ok_time;
    hp->last_err = ps->last_err;
    hp->last_err_time = ps->last_err_time;
    hp->latency_us = ps->last_latency_us;
    hp->probe_at = p->probe_target.len ? ps->probe_at : 0;
    hp->probe_err = ps->probe_err;
    hp->probe_latency_us = ps->probe_latency_us;
    hp->breaker = ps->forced_open ? "forced_open"
                  : ngx_http_osint_breaker_on(&p->breaker)
                  ? ngx_http_osint_breaker_states[ps->breaker.state] : "off";

    if (ps->forced_open) {
        hp->check.status = NGX_HTTP_OSINT_HEALTH_FAIL;
        hp->check.reason = "its circuit breaker is forced open "
                           "(osint_control)";

    } else if (ngx_http_osint_breaker_on(&p->breaker)
        && ps->breaker.state == NGX_HTTP_OSINT_BREAKER_OPEN)
    {
        hp->check.status = NGX_HTTP_OSINT_HEALTH_FAIL;
        hp->check.reason = "its circuit breaker is open";

    } else if (ngx_http_osint_breaker_on(&p->breaker)
               && ps->breaker.state == NGX_HTTP_OSINT_BREAKER_HALF_OPEN)
    {
        hp->check.status = NGX_HTTP_OSINT_HEALTH_DEGRADED;
        hp->check.reason = "its circuit breaker is half-open";

    } else if ((ngx_msec_int_t) (ps->hold_until - now) > 0) {
        hp->check.status = NGX_HTTP_OSINT_HEALTH_DEGRADED;
        hp->check.reason = "it asked to wait (Retry-After)";

    } else if (p->probe_target.len && ps->probe_at
               && ps->probe_err != NGX_HTTP_OSINT_ERR_NONE)
    {
        hp->check.status = NGX_HTTP_OSINT_HEALTH_DEGRADED;
        hp->check.reason = "its last probe failed";

    } else if (ps->last_failed) {
        hp->check.status = NGX_HTTP_OSINT_HEALTH_DEGRADED;
        hp->check.reason = "its last call failed";
    }
}


/* the time a check entered its status, as health requests saw it */

static void
ngx_http_osint_health_seen(ngx_http_osint_health_check_t *check,
    ngx_http_osint_health_seen_t *seen)
{
    if (seen->status != check->status + 1) {
        seen->status = check->status + 1;
        seen->since = ngx_time();
    }

    check->since = seen->since;
}


/* the document; NGX_ERROR on no memory, else its status */

static ngx_int_t
ngx_http_osint_health_document(cJSON *doc, ngx_http_request_t *r,
    ngx_http_osint_health_t *h, ngx_http_osint_main_conf_t *omcf)
{
    cJSON                          *checks, *item, *status;
    u_char                          name[NGX_HTTP_OSINT_NAME_MAX + 10];
    ngx_uint_t                      i, *req;
    ngx_http_osint_provider_t      *prov;
    ngx_http_osint_loc_conf_t      *olcf;
    ngx_http_osint_health_check_t   worst;

    status = cJSON_AddStringToObject(doc, "status", "");
    checks = cJSON_AddObjectToObject(doc, "checks");

    if (status == NULL || checks == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&worst, sizeof(ngx_http_osint_health_check_t));

    if (h->prov == NULL) {
        goto done;      /* no osint_zone: nothing to check */
    }

    if (h->redis != NGX_DECLINED) {
        item = ngx_http_osint_health_add(checks, "redis", &h->redis_check);

        if (item && h->redis == NGX_OK) {
            cJSON_AddNumberToObject(item, "latency_ms", h->redis_ms);
        }

        if (item) {
            cJSON_AddNumberToObject(item, "workers_connected",
                                    (double) h->redis_workers);
        }

        ngx_http_osint_health_worst(&worst, &h->redis_check);
    }

    (void) ngx_http_osint_health_add(checks, "zone", &h->zone_check);
    ngx_http_osint_health_worst(&worst, &h->zone_check);

    item = ngx_http_osint_health_add(checks, "providers",
                                     &h->providers_check);
    if (item) {
        cJSON_AddNumberToObject(item, "enabled", (double) h->enabled);
        cJSON_AddNumberToObject(item, "open", (double) h->open);
    }

    ngx_http_osint_health_worst(&worst, &h->providers_check);

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_module);
    prov = omcf->providers.elts;

    if (olcf->health_require) {
        req = olcf->health_require->elts;

        for (i = 0; i < olcf->health_require->nelts; i++) {
            (void) ngx_snprintf(name, sizeof(name), "provider:%V%Z",
                                &prov[req[i]].name);
            (void) ngx_http_osint_health_add(checks, (char *) name,
                                             &h->prov[req[i]].check);
            ngx_http_osint_health_worst(&worst, &h->prov[req[i]].check);
        }
    }

done:

    cJSON_SetValuestring(status, ngx_http_osint_health_states[worst.status]);

    if (worst.reason) {
        cJSON_AddStringToObject(doc, "reason", worst.reason);
    }

    return worst.status;
}


static cJSON *
ngx_http_osint_health_add(cJSON *checks, const char *name,
    ngx_http_osint_health_check_t *check)
{
    cJSON  *item;

    item = cJSON_AddObjectToObject(checks, name);
    if (item == NULL) {
        return NULL;
    }

    cJSON_AddStringToObject(item, "status",
                            ngx_http_osint_health_states[check->status]);
    cJSON_AddNumberToObject(item, "since", (double) check->since);

    if (check->reason) {
        cJSON_AddStringToObject(item, "reason", check->reason);
    }

    return item;
}


/* the first check of the worst status gives the document's reason */

static void
ngx_http_osint_health_worst(ngx_http_osint_health_check_t *worst,
    ngx_http_osint_health_check_t *check)
{
    if (check->status > worst->status) {
        *worst = *check;
    }
}


/* ?providers=1: every provider's state */

static void
ngx_http_osint_health_detail(cJSON *doc, ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_health_t *h)
{
    cJSON                         *all, *item, *err;
    ngx_uint_t                     i;
    ngx_http_osint_provider_t     *prov;
    ngx_http_osint_health_prov_t  *hp;

    all = cJSON_AddObjectToObject(doc, "providers");
    prov = omcf->providers.elts;

    for (i = 0; all && i < omcf->providers.nelts; i++) {
        hp = &h->prov[i];

        item = cJSON_AddObjectToObject(all, (char *) prov[i].name.data);
        if (item == NULL) {
            return;
        }

        cJSON_AddStringToObject(item, "status",
                                ngx_http_osint_health_states[
                                    hp->check.status]);
        cJSON_AddNumberToObject(item, "since", (double) hp->check.since);

        if (hp->check.reason) {
            cJSON_AddStringToObject(item, "reason", hp->check.reason);
        }

        cJSON_AddStringToObject(item, "breaker", hp->breaker);

        if (hp->last_ok) {
            cJSON_AddNumberToObject(item, "last_success",
                                    (double) hp->last_ok);
        } else {
            cJSON_AddNullToObject(item, "last_success");
        }

        if (hp->last_err_time) {
            err = cJSON_AddObjectToObject(item, "last_error");

            if (err) {
                cJSON_AddStringToObject(err, "kind",
                                        ngx_http_osint_err_kind(hp->last_err));
                cJSON_AddNumberToObject(err, "at",
                                        (double) hp->last_err_time);
            }

        } else {
            cJSON_AddNullToObject(item, "last_error");
        }

        cJSON_AddNumberToObject(item, "latency_ms",
                                (double) hp->latency_us / 1000.0);

        if (hp->probe_at == 0) {
            cJSON_AddNullToObject(item, "last_probe");
            continue;
        }

        err = cJSON_AddObjectToObject(item, "last_probe");

        if (err) {
            cJSON_AddNumberToObject(err, "at", (double) hp->probe_at);
            cJSON_AddBoolToObject(err, "ok",
                                  hp->probe_err == NGX_HTTP_OSINT_ERR_NONE);
            cJSON_AddNumberToObject(err, "latency_ms",
                                    (double) hp->probe_latency_us / 1000.0);

            if (hp->probe_err != NGX_HTTP_OSINT_ERR_NONE) {
                cJSON_AddStringToObject(err, "error",
                                        ngx_http_osint_err_kind(
                                            hp->probe_err));
            }
        }
    }
}
