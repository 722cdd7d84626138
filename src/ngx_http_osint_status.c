
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * osint_status: the zone's numbers as Prometheus text (0.0.4), as JSON,
 * and as a self-contained ops page.
 * Every number is read from the zone, so it counts all workers and
 * survives reload.  No secret is read here: keys, URLs and Redis
 * credentials never enter these documents.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"
#include "ngx_http_osint_limit.h"


/*
 * What one provider's Prometheus lines can take at most, and the lines
 * of no provider (7.5 KB with every HELP and TYPE: room to grow)
 */
#define NGX_HTTP_OSINT_PROM_PER_PROVIDER  8192
#define NGX_HTTP_OSINT_PROM_FIXED         16384


static ngx_int_t ngx_http_osint_status_prometheus(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf);
static ngx_int_t ngx_http_osint_status_json(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf);
static ngx_int_t ngx_http_osint_status_html(ngx_http_request_t *r);
static ngx_int_t ngx_http_osint_status_control_uri(ngx_str_t *uri);
static void ngx_http_osint_latency_json(cJSON *obj,
    ngx_http_osint_pstate_t *ps);
static ngx_int_t ngx_http_osint_status_headers(ngx_http_request_t *r,
    ngx_uint_t html);
static ngx_int_t ngx_http_osint_send_text(ngx_http_request_t *r,
    ngx_uint_t status, char *type, u_char *text, size_t len);
static ngx_int_t ngx_http_osint_status_sets(cJSON *doc,
    ngx_http_osint_main_conf_t *omcf, ngx_pool_t *pool);
static cJSON *ngx_http_osint_provider_json(ngx_http_osint_provider_t *p,
    ngx_http_osint_shm_t *ctx);
static ngx_int_t ngx_http_osint_budgets_status(cJSON *doc,
    ngx_http_osint_main_conf_t *omcf, ngx_http_osint_shm_t *ctx);
static double ngx_http_osint_latency_quantile(ngx_http_osint_pstate_t *ps,
    double q);
static size_t ngx_http_osint_zone_used(ngx_http_osint_shm_t *ctx);
static u_char *ngx_http_osint_cache_metrics(u_char *p, u_char *last,
    ngx_http_osint_main_conf_t *omcf, ngx_http_osint_shm_t *ctx);
static void ngx_http_osint_cache_json(cJSON *item,
    ngx_http_osint_pstate_t *ps);
static u_char *ngx_http_osint_prom_budgets(u_char *p, u_char *last,
    ngx_http_osint_main_conf_t *omcf);
static u_char *ngx_http_osint_prom_lookups(u_char *p, u_char *last,
    ngx_http_osint_shm_t *ctx);


/* upper bounds of the latency histograms, as Prometheus writes them */
static const char  *ngx_http_osint_le[] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10", "+Inf"
};

static const double  ngx_http_osint_le_ms[] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};

extern const char  ngx_http_osint_status_page[];
extern const char  ngx_http_osint_status_page_body[];
extern const char  ngx_http_osint_status_page_csp[];


/* osint_status [control=URI]; */

char *
ngx_http_osint_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_osint_loc_conf_t  *olcf = conf;

    ngx_str_t  *value, uri;

    value = cf->args->elts;

    if (cf->args->nelts == 1) {
        return ngx_http_osint_content(cf, cmd, conf);
    }

    if (ngx_strncmp(value[1].data, "control=", 8) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    uri.data = value[1].data + 8;
    uri.len = value[1].len - 8;

    if (ngx_http_osint_status_control_uri(&uri) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"control\" URI \"%V\": must be a "
                           "local absolute path such as \"/control\", of "
                           "letters, digits and \"/._~-\"", &uri);
        return NGX_CONF_ERROR;
    }

    olcf->status_control = uri;

    return ngx_http_osint_content(cf, cmd, conf);
}


/*
 * The control URI goes into the ops page as an attribute and the page
 * sends requests to it: a path on the page's own origin ("//host" would
 * be another one, so would "/\host" to a browser), and of characters that
 * need no escaping in HTML or in a URL.
 */

static ngx_int_t
ngx_http_osint_status_control_uri(ngx_str_t *uri)
{
    u_char      c;
    ngx_uint_t  i;

    if (uri->len == 0 || uri->data[0] != '/'
        || (uri->len > 1 && uri->data[1] == '/'))
    {
        return NGX_ERROR;
    }

    for (i = 0; i < uri->len; i++) {
        c = uri->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '/' || c == '.' || c == '_' || c == '~' || c == '-'))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_osint_status_handler(ngx_http_request_t *r)
{
    ngx_str_t                    format;
    ngx_int_t                    rc;
    ngx_uint_t                   json, html, prometheus;
    ngx_http_osint_main_conf_t  *omcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) != NGX_OK) {
        format.len = 0;

        /* a browser asks for HTML; Prometheus asks for text/plain */

        if (r->headers_in.accept
            && ngx_strlcasestrn(r->headers_in.accept->value.data,
                                r->headers_in.accept->value.data
                                + r->headers_in.accept->value.len,
                                (u_char *) "text/html", 9 - 1)
               != NULL)
        {
            ngx_str_set(&format, "html");
        }
    }

    json = (format.len == 4 && ngx_strncmp(format.data, "json", 4) == 0);
    html = (format.len == 4 && ngx_strncmp(format.data, "html", 4) == 0);
    prometheus = (format.len == 0
                  || (format.len == 10
                      && ngx_strncmp(format.data, "prometheus", 10) == 0));

    if (ngx_http_osint_status_headers(r, html) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!(json || html || prometheus)) {

        /* not quoted: the client's bytes, any of them */

        return ngx_http_osint_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_parameter",
                                         "unknown \"format\"; known are "
                                         "prometheus, json and html");
    }

    if (ngx_http_osint_private_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (json) {
        return ngx_http_osint_status_json(r, omcf);
    }

    if (html) {
        return ngx_http_osint_status_html(r);
    }

    return ngx_http_osint_status_prometheus(r, omcf);
}


/*
 * Every osint_status answer: its format may follow Accept, it is never
 * framed, and only the ops page runs anything: its own inline script and
 * style, by their hashes, and fetches from its own origin.
 */

static ngx_int_t
ngx_http_osint_status_headers(ngx_http_request_t *r, ngx_uint_t html)
{
    char  *csp;

    csp = html ? (char *) ngx_http_osint_status_page_csp
               : "default-src 'none'; frame-ancestors 'none'";

    if (ngx_http_osint_add_text_header(r, "Vary", "Accept") != NGX_OK
        || ngx_http_osint_add_text_header(r, "X-Frame-Options", "DENY")
           != NGX_OK
        || ngx_http_osint_add_header(r, "Content-Security-Policy",
                                     (u_char *) csp, ngx_strlen(csp))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


#define ngx_http_osint_help(p, last, name, type, help)                        \
    p = ngx_slprintf(p, last, "# HELP " name " " help "\n"                   \
                              "# TYPE " name " " type "\n")


static ngx_int_t
ngx_http_osint_status_prometheus(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf)
{
    u_char                     *text, *p, *last;
    size_t                      size;
    ngx_uint_t                  i, j, n, cumulative;
    ngx_http_osint_shm_t       *ctx;
    ngx_http_osint_pstate_t    *ps;
    ngx_http_osint_provider_t  *prov;

    ctx = omcf->shm_zone ? omcf->shm_zone->data : NULL;
    prov = omcf->providers.elts;
    n = omcf->providers.nelts;

    /* the provider list is the configuration's: its size cannot change */

    size = NGX_HTTP_OSINT_PROM_FIXED + n * NGX_HTTP_OSINT_PROM_PER_PROVIDER
           + omcf->budgets.nelts * NGX_HTTP_OSINT_PROM_PER_PROVIDER
           + ngx_http_osint_limit_prometheus_size();

    text = ngx_pnalloc(r->pool, size);
    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = text;
    last = text + size;

    /* nginx's version as built against: a module loads in no other */

    ngx_http_osint_help(p, last, "osint_build_info", "gauge",
                        "Always 1; the module's version and nginx's "
                        "as labels.");
    p = ngx_slprintf(p, last, "osint_build_info{version=\""
                     NGX_HTTP_OSINT_VERSION "\",nginx=\"" NGINX_VERSION
                     "\"} 1\n");

    p = ngx_http_osint_prom_lookups(p, last, ctx);

    ngx_http_osint_help(p, last, "osint_provider_calls_total", "counter",
                        "Network attempts to providers, by outcome.");

    for (i = 0; i < n; i++) {
        for (j = 0; prov[i].state && j < NGX_HTTP_OSINT_OUTCOMES; j++) {
            p = ngx_slprintf(p, last, "osint_provider_calls_total{provider="
                             "\"%V\",outcome=\"%s\"} %uA\n", &prov[i].name,
                             ngx_http_osint_outcomes[j],
                             prov[i].state->calls[j]);
        }
    }

    ngx_http_osint_help(p, last, "osint_provider_skipped_total", "counter",
                        "Provider calls not made, by reason.");

    for (i = 0; i < n; i++) {
        for (j = 0; prov[i].state && j < NGX_HTTP_OSINT_SKIP_REASONS; j++) {
            p = ngx_slprintf(p, last, "osint_provider_skipped_total{provider="
                             "\"%V\",reason=\"%s\"} %uA\n", &prov[i].name,
                             ngx_http_osint_skip_reasons[j],
                             prov[i].state->skipped[j]);
        }
    }

    ngx_http_osint_help(p, last, "osint_provider_retries_total", "counter",
                        "Retries of provider calls.");

    for (i = 0; i < n; i++) {
        if (prov[i].state) {
            p = ngx_slprintf(p, last, "osint_provider_retries_total{provider="
                             "\"%V\"} %uA\n", &prov[i].name,
                             prov[i].state->retries);
        }
    }

    ngx_http_osint_help(p, last, "osint_provider_latency_seconds",
                        "histogram",
                        "Duration of network attempts to providers, "
                        "in seconds.");

    for (i = 0; i < n; i++) {
        ps = prov[i].state;

        if (ps == NULL) {
            continue;
        }

        cumulative = 0;

        for (j = 0; j <= NGX_HTTP_OSINT_LATENCY_BUCKETS; j++) {
            cumulative += ps->latency[j];
            p = ngx_slprintf(p, last, "osint_provider_latency_seconds_bucket"
                             "{provider=\"%V\",le=\"%s\"} %ui\n",
                             &prov[i].name, ngx_http_osint_le[j], cumulative);
        }

        p = ngx_slprintf(p, last, "osint_provider_latency_seconds_sum"
                         "{provider=\"%V\"} %.6f\n"
                         "osint_provider_latency_seconds_count"
                         "{provider=\"%V\"} %ui\n",
                         &prov[i].name,
                         (double) ps->latency_sum_us / 1000000.0,
                         &prov[i].name, cumulative);
    }

    ngx_http_osint_help(p, last, "osint_breaker_state", "gauge",
                        "Circuit breaker: 0 closed, 1 open, 2 half-open.");

    for (i = 0; i < n; i++) {
        if (prov[i].state) {
            p = ngx_slprintf(p, last, "osint_breaker_state{provider=\"%V\"}"
                             " %ui\n", &prov[i].name,
                             prov[i].state->forced_open
                             ? (ngx_uint_t) NGX_HTTP_OSINT_BREAKER_OPEN
                             : prov[i].state->breaker.state);
        }
    }

    ngx_http_osint_help(p, last, "osint_breaker_transitions_total",
                        "counter", "Circuit breaker transitions, by state "
                        "entered.");

    for (i = 0; i < n; i++) {
        for (j = 0;
             prov[i].state && j < NGX_HTTP_OSINT_BREAKER_STATES;
             j++)
        {
            p = ngx_slprintf(p, last, "osint_breaker_transitions_total"
                             "{provider=\"%V\",state=\"%s\"} %uA\n",
                             &prov[i].name, ngx_http_osint_breaker_states[j],
                             prov[i].state->transitions[j]);
        }
    }

    ngx_http_osint_help(p, last, "osint_bucket_tokens", "gauge",
                        "Tokens left in the provider's rate limit "
                        "bucket.");

    if (ctx) {
        ngx_shmtx_lock(&ctx->shpool->mutex);
    }

    for (i = 0; i < n; i++) {
        if (prov[i].state && prov[i].own.rate.per_ms > 0.0) {
            p = ngx_slprintf(p, last, "osint_bucket_tokens{provider=\"%V\"}"
                             " %.3f\n", &prov[i].name,
                             ngx_http_osint_budget_tokens(&prov[i].own));
        }
    }

    p = ngx_http_osint_prom_budgets(p, last, omcf);

    if (ctx) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
    }

    ngx_http_osint_help(p, last, "osint_provider_disabled", "gauge",
                        "1 when the provider is disabled, its api key "
                        "missing; else 0.");

    for (i = 0; i < n; i++) {
        p = ngx_slprintf(p, last, "osint_provider_disabled{provider=\"%V\"}"
                         " %ui\n", &prov[i].name, (ngx_uint_t) prov[i].disabled);
    }

    ngx_http_osint_help(p, last, "osint_cache_requests_total", "counter",
                        "Cache lookups, by provider, tier and result.");

    p = ngx_http_osint_cache_metrics(p, last, omcf, ctx);

    ngx_http_osint_help(p, last, "osint_cache_recalled_total", "counter",
                        "Lookups answered by a document a worker "
                        "remembered, every provider an L1 hit.");

    if (ctx) {
        p = ngx_slprintf(p, last, "osint_cache_recalled_total %uA\n",
                         ctx->sh->counters.cache_recalled);
    }

    ngx_http_osint_help(p, last, "osint_redis_up", "gauge",
                        "1 when a worker is connected to the Redis L2 "
                        "cache, else 0.");

    if (ctx && omcf->redis) {
        p = ngx_slprintf(p, last, "osint_redis_up %d\n",
                         ngx_http_osint_redis_workers_up(&ctx->sh->counters)
                         ? 1 : 0);
    }

    ngx_http_osint_help(p, last, "osint_redis_writes_dropped_total", "counter",
                        "Cache writes not sent to Redis: the SETs awaiting "
                        "a reply held write_buffer bytes.");

    if (ctx && omcf->redis) {
        p = ngx_slprintf(p, last, "osint_redis_writes_dropped_total %uA\n",
                         ctx->sh->counters.redis_writes_dropped);
    }

    ngx_http_osint_help(p, last, "osint_redis_failovers_total", "counter",
                        "Changes of the Redis master found through the "
                        "sentinels (osint_redis sentinel=).");

    if (ctx && omcf->redis && omcf->redis->sentinels) {
        p = ngx_slprintf(p, last, "osint_redis_failovers_total %uA\n",
                         ctx->sh->counters.redis_failovers);
    }

    p = ngx_http_osint_limit_prometheus(p, last);

    if (ctx) {
        ngx_http_osint_help(p, last, "osint_zone_size_bytes", "gauge",
                            "Size of the osint shared memory zone, in "
                            "bytes.");
        p = ngx_slprintf(p, last, "osint_zone_size_bytes %uz\n",
                         (size_t) omcf->shm_size);

        ngx_http_osint_help(p, last, "osint_zone_used_bytes", "gauge",
                            "Bytes of the osint shared memory zone in "
                            "use.");
        p = ngx_slprintf(p, last, "osint_zone_used_bytes %uz\n",
                         ngx_http_osint_zone_used(ctx));

        ngx_http_osint_help(p, last, "osint_control_actions_total",
                            "counter",
                            "Changes made through osint_control, by "
                            "action.");

        for (j = 0; j < NGX_HTTP_OSINT_CONTROL_ACTIONS; j++) {
            p = ngx_slprintf(p, last, "osint_control_actions_total{action="
                             "\"%s\"} %uA\n",
                             ngx_http_osint_control_actions[j],
                             ctx->sh->counters.control[j]);
        }
    }

    return ngx_http_osint_send_text(r, NGX_HTTP_OK,
                                    "text/plain; version=0.0.4; "
                                    "charset=utf-8", text, p - text);
}


/*
 * The quota windows of the providers' own budgets and the osint_budget
 * ones: family by family, each with its help; under the zone's lock.
 */

static u_char *
ngx_http_osint_prom_budgets(u_char *p, u_char *last,
    ngx_http_osint_main_conf_t *omcf)
{
    ngx_uint_t                  i, k, f;
    ngx_http_osint_budget_t    *b;
    ngx_http_osint_provider_t  *prov;

    static const char  *help[][2] = {
        { "tokens", "Tokens left in the budget's bucket (Redis's last "
                    "word under sync=redis)." },
        { "quota_remaining", "Calls left in the quota window." },
        { "quota_reset_timestamp_seconds", "Unix time in seconds when the "
                                           "quota window ends." },
        { "redis_fallback", "1 while sync=redis decides on the node's "
                            "local share (Redis down or slow), else 0." },
        { "redis_fallback_total", "Calls decided on the node's local share "
                                  "for want of Redis." }
    };

    static const char  *type[] = { "gauge", "gauge", "gauge", "gauge",
                                   "counter" };

    prov = omcf->providers.elts;
    b = omcf->budgets.elts;

    for (k = 0; k < 2; k++) {
        for (f = (k == 0); f < 5; f++) {
            p = ngx_slprintf(p, last, "# HELP %s_%s %s\n# TYPE %s_%s %s\n",
                             k ? "osint_budget" : "osint_provider",
                             help[f][0], help[f][1],
                             k ? "osint_budget" : "osint_provider",
                             help[f][0], type[f]);

            for (i = 0; k == 0 && i < omcf->providers.nelts; i++) {
                if (prov[i].own.state) {
                    p = ngx_http_osint_budget_prometheus(p, last,
                                                         &prov[i].own, f,
                                                         "osint_provider",
                                                         "provider");
                }
            }

            for (i = 0; k == 1 && i < omcf->budgets.nelts; i++) {
                if (b[i].state) {
                    p = ngx_http_osint_budget_prometheus(p, last, &b[i], f,
                                                         "osint_budget",
                                                         "budget");
                }
            }
        }
    }

    return p;
}


/*
 * Lookups: how they ended, how long the answered ones took, and since
 * when the counters count (a new zone, not a reload, starts them again).
 */

static u_char *
ngx_http_osint_prom_lookups(u_char *p, u_char *last,
    ngx_http_osint_shm_t *ctx)
{
    ngx_uint_t                  i, j, cumulative;
    ngx_http_osint_counters_t  *c;

    c = ctx ? &ctx->sh->counters : NULL;

    ngx_http_osint_help(p, last, "osint_start_time_seconds", "gauge",
                        "Unix time in seconds when the counters started: "
                        "the osint zone's creation.");

    if (c) {
        p = ngx_slprintf(p, last, "osint_start_time_seconds %T\n", c->start);
    }

    ngx_http_osint_help(p, last, "osint_lookups_total", "counter",
                        "Lookups ended, by target type and result; "
                        "refused as bad input: invalid.");

    for (i = 0; c && i < NGX_HTTP_OSINT_TYPE_ROWS; i++) {
        for (j = 0; j < NGX_HTTP_OSINT_RESULTS; j++) {
            p = ngx_slprintf(p, last,
                             "osint_lookups_total{type=\"%s\",result=\"%s\"}"
                             " %uA\n", ngx_http_osint_type_rows[i],
                             ngx_http_osint_results[j], c->lookups[i][j]);
        }
    }

    ngx_http_osint_help(p, last, "osint_lookup_duration_seconds",
                        "histogram", "Duration of the lookups answered, "
                        "from their start to their answer, in seconds.");

    if (c == NULL) {
        return p;
    }

    cumulative = 0;

    for (j = 0; j <= NGX_HTTP_OSINT_LATENCY_BUCKETS; j++) {
        cumulative += c->lookup_latency[j];
        p = ngx_slprintf(p, last, "osint_lookup_duration_seconds_bucket"
                         "{le=\"%s\"} %ui\n", ngx_http_osint_le[j],
                         cumulative);
    }

    return ngx_slprintf(p, last, "osint_lookup_duration_seconds_sum %.6f\n"
                        "osint_lookup_duration_seconds_count %ui\n",
                        (double) c->lookup_latency_sum_us / 1000000.0,
                        cumulative);
}


/*
 * Cache lookups per provider: providers x 2 tiers x 4 results series,
 * bounded by the configuration (at most 64 providers), every one from
 * the start; a provider's hit ratio is sum by (provider).
 */

static u_char *
ngx_http_osint_cache_metrics(u_char *p, u_char *last,
    ngx_http_osint_main_conf_t *omcf, ngx_http_osint_shm_t *ctx)
{
    ngx_uint_t                  i, j, k;
    ngx_http_osint_pstate_t    *ps;
    ngx_http_osint_provider_t  *prov;

    prov = omcf->providers.elts;

    for (k = 0; ctx && k < omcf->providers.nelts; k++) {
        ps = prov[k].state;

        for (i = 0; ps && i < NGX_HTTP_OSINT_TIERS; i++) {
            for (j = 0; j < NGX_HTTP_OSINT_CACHE_RESULTS; j++) {
                p = ngx_slprintf(p, last, "osint_cache_requests_total"
                                 "{provider=\"%V\",tier=\"%s\","
                                 "result=\"%s\"} %uA\n", &prov[k].name,
                                 ngx_http_osint_tiers[i],
                                 ngx_http_osint_cache_results[j],
                                 ps->cache[i][j]);
            }
        }
    }

    return p;
}


/* providers.NAME.cache: {"l1":{"hit":N,...},"redis":{...}} */

static void
ngx_http_osint_cache_json(cJSON *item, ngx_http_osint_pstate_t *ps)
{
    cJSON       *obj, *row;
    ngx_uint_t   i, j;

    obj = cJSON_AddObjectToObject(item, "cache");

    for (i = 0; obj && i < NGX_HTTP_OSINT_TIERS; i++) {
        row = cJSON_AddObjectToObject(obj, ngx_http_osint_tiers[i]);

        for (j = 0; row && j < NGX_HTTP_OSINT_CACHE_RESULTS; j++) {
            cJSON_AddNumberToObject(row, ngx_http_osint_cache_results[j],
                                    (double) ps->cache[i][j]);
        }
    }
}


static ngx_int_t
ngx_http_osint_status_json(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf)
{
    cJSON                      *doc, *obj, *row, *item;
    ngx_uint_t                  i, j;
    ngx_http_osint_shm_t       *ctx;
    ngx_http_osint_provider_t  *prov;

    ctx = omcf->shm_zone ? omcf->shm_zone->data : NULL;
    prov = omcf->providers.elts;

    doc = cJSON_CreateObject();
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cJSON_AddStringToObject(doc, "version", NGX_HTTP_OSINT_VERSION);
    cJSON_AddNumberToObject(doc, "time", (double) ngx_time());

    obj = cJSON_AddObjectToObject(doc, "zone");

    if (obj && ctx) {
        cJSON_AddNumberToObject(obj, "size", (double) omcf->shm_size);
        cJSON_AddNumberToObject(obj, "used",
                                (double) ngx_http_osint_zone_used(ctx));
    }

    if (omcf->redis && ctx) {
        obj = cJSON_AddObjectToObject(doc, "redis");

        if (obj) {
            cJSON_AddBoolToObject(obj, "up",
                ngx_http_osint_redis_workers_up(&ctx->sh->counters) > 0);
            cJSON_AddNumberToObject(obj, "writes_dropped",
                (double) ctx->sh->counters.redis_writes_dropped);

            if (omcf->redis->sentinels) {
                cJSON_AddNumberToObject(obj, "failovers",
                    (double) ctx->sh->counters.redis_failovers);
            }
        }

    } else {
        cJSON_AddNullToObject(doc, "redis");
    }

    obj = cJSON_AddObjectToObject(doc, "cache");

    for (i = 0; obj && ctx && i < NGX_HTTP_OSINT_TIERS; i++) {
        row = cJSON_AddObjectToObject(obj, ngx_http_osint_tiers[i]);

        for (j = 0; row && j < NGX_HTTP_OSINT_CACHE_RESULTS; j++) {
            cJSON_AddNumberToObject(row, ngx_http_osint_cache_results[j],
                                    (double) ctx->sh->counters.cache[i][j]);
        }
    }

    if (obj && ctx) {
        cJSON_AddNumberToObject(obj, "entries",
                                (double) ctx->sh->cache_entries);
        cJSON_AddNumberToObject(obj, "recalled",
                                (double) ctx->sh->counters.cache_recalled);
    }

    obj = cJSON_AddObjectToObject(doc, "lookups");

    for (i = 0; obj && ctx && i < NGX_HTTP_OSINT_TYPE_ROWS; i++) {
        row = cJSON_AddObjectToObject(obj, ngx_http_osint_type_rows[i]);

        for (j = 0; row && j < NGX_HTTP_OSINT_RESULTS; j++) {
            cJSON_AddNumberToObject(row, ngx_http_osint_results[j],
                                    (double) ctx->sh->counters.lookups[i][j]);
        }
    }

    obj = cJSON_AddObjectToObject(doc, "control");
    row = obj ? cJSON_AddObjectToObject(obj, "actions") : NULL;

    for (j = 0; row && ctx && j < NGX_HTTP_OSINT_CONTROL_ACTIONS; j++) {
        cJSON_AddNumberToObject(row, ngx_http_osint_control_actions[j],
                                (double) ctx->sh->counters.control[j]);
    }

    if (ngx_http_osint_status_sets(doc, omcf, r->pool) != NGX_OK) {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    obj = ngx_http_osint_limit_json();

    if (obj == NULL) {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cJSON_AddItemToObject(doc, "limits", obj);

    if (ngx_http_osint_budgets_status(doc, omcf, ctx) != NGX_OK) {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    obj = cJSON_AddObjectToObject(doc, "providers");

    for (i = 0; obj && i < omcf->providers.nelts; i++) {
        item = ngx_http_osint_provider_json(&prov[i], ctx);

        if (item == NULL) {
            cJSON_Delete(doc);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cJSON_AddItemToObject(obj, (char *) prov[i].name.data, item);
    }

    return ngx_http_osint_send_json(r, NGX_HTTP_OK, doc);
}


/*
 * "locations": each osint_lookup location and its set: the providers
 * and types it offers, null for all of them.
 */

static ngx_int_t
ngx_http_osint_status_sets(cJSON *doc, ngx_http_osint_main_conf_t *omcf,
    ngx_pool_t *pool)
{
    u_char                     *name;
    cJSON                      *arr, *item, *list;
    ngx_uint_t                  i, j;
    ngx_http_osint_set_t       *set;
    ngx_http_osint_provider_t  *prov;

    arr = cJSON_AddArrayToObject(doc, "locations");
    set = omcf->locations.elts;
    prov = omcf->providers.elts;

    for (i = 0; arr && i < omcf->locations.nelts; i++) {
        item = cJSON_CreateObject();

        if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            return NGX_ERROR;
        }

        name = ngx_pnalloc(pool, set[i].location.len + 1);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *ngx_cpymem(name, set[i].location.data, set[i].location.len) = '\0';
        cJSON_AddStringToObject(item, "location", (char *) name);

        list = set[i].olcf->providers ? cJSON_CreateArray()
                                      : cJSON_CreateNull();
        cJSON_AddItemToObject(item, "providers", list);

        for (j = 0; list && set[i].olcf->providers
                    && j < omcf->providers.nelts; j++)
        {
            if (set[i].olcf->providers & ((uint64_t) 1 << j)) {
                cJSON_AddItemToArray(list, cJSON_CreateString(
                                               (char *) prov[j].name.data));
            }
        }

        list = set[i].olcf->types ? cJSON_CreateArray() : cJSON_CreateNull();
        cJSON_AddItemToObject(item, "types", list);

        for (j = 0; list && set[i].olcf->types
                    && j < NGX_HTTP_OSINT_TYPES; j++)
        {
            if (set[i].olcf->types & ((ngx_uint_t) 1 << j)) {
                cJSON_AddItemToArray(list, cJSON_CreateString(
                                               ngx_http_osint_type_rows[j]));
            }
        }
    }

    return arr ? NGX_OK : NGX_ERROR;
}


static cJSON *
ngx_http_osint_provider_json(ngx_http_osint_provider_t *p,
    ngx_http_osint_shm_t *ctx)
{
    cJSON                    *item, *obj, *arr;
    ngx_uint_t                j, count, calls, fails;
    ngx_msec_t                now;
    ngx_http_osint_pstate_t  *ps;

    item = cJSON_CreateObject();
    if (item == NULL) {
        return NULL;
    }

    ps = p->state;
    now = ngx_current_msec;

    arr = cJSON_AddArrayToObject(item, "types");

    for (j = 0; arr && j < NGX_HTTP_OSINT_TYPES; j++) {
        if (p->types & (1 << j)) {
            cJSON_AddItemToArray(arr, cJSON_CreateString(
                                     ngx_http_osint_type_rows[j]));
        }
    }

    cJSON_AddBoolToObject(item, "disabled", p->disabled);

    if (p->disabled) {
        u_char  reason[128];

        /* the variable's name, never its value */

        *ngx_snprintf(reason, sizeof(reason) - 1, "environment variable "
                      "%V is not set", &p->api_key_env) = '\0';
        cJSON_AddStringToObject(item, "disabled_reason", (char *) reason);

    } else {
        cJSON_AddNullToObject(item, "disabled_reason");
    }

    if (ps == NULL || ctx == NULL) {
        return item;
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);

    obj = cJSON_AddObjectToObject(item, "breaker");

    if (obj) {
        cJSON_AddStringToObject(obj, "state",
                                ps->forced_open ? "forced_open"
                                : ngx_http_osint_breaker_on(&p->breaker)
                                ? ngx_http_osint_breaker_states[
                                      ps->breaker.state]
                                : "off");
        cJSON_AddNumberToObject(obj, "failures", (double) ps->breaker.failures);
        cJSON_AddNumberToObject(obj, "threshold", (double) p->breaker.failures);
        cJSON_AddNumberToObject(obj, "opens", (double) ps->breaker.opens);
        cJSON_AddNumberToObject(obj, "successes",
                                (double) ps->breaker.successes);
        cJSON_AddNumberToObject(obj, "successes_needed",
                                (double) p->breaker.successes);

        if (p->breaker.rate) {
            ngx_http_osint_breaker_window_counts(&ps->breaker.window,
                                                 p->breaker.window, now,
                                                 &calls, &fails);

            obj = cJSON_AddObjectToObject(obj, "window");

            if (obj) {
                cJSON_AddNumberToObject(obj, "calls", (double) calls);
                cJSON_AddNumberToObject(obj, "failures", (double) fails);
                cJSON_AddNumberToObject(obj, "rate", (double) p->breaker.rate);
                cJSON_AddNumberToObject(obj, "seconds",
                                        (double) p->breaker.window / 1000);
                cJSON_AddNumberToObject(obj, "min", (double)
                                        p->breaker.min_calls);
            }
        }
    }

    if (p->own.rate.per_ms > 0.0) {
        obj = cJSON_AddObjectToObject(item, "bucket");

        if (obj) {
            cJSON_AddNumberToObject(obj, "tokens",
                                    ngx_http_osint_budget_tokens(&p->own));
            cJSON_AddNumberToObject(obj, "capacity",
                                    (double) p->own.rate.burst);
            cJSON_AddNumberToObject(obj, "rate_per_s",
                                    p->own.rate.per_ms * 1000);
            cJSON_AddBoolToObject(obj, "adaptive", p->own.rate.adaptive);
        }

        /* the provider's own figures beside ours, while in force */

        if (p->own.rate.adaptive && ps->said_reset > ngx_time()) {
            obj = cJSON_AddObjectToObject(item, "provider_said");

            if (obj) {
                cJSON_AddNumberToObject(obj, "remaining", (double)
                                        ngx_max(ps->said_remaining, 0));
                cJSON_AddNumberToObject(obj, "limit",
                                        (double) ps->said_limit);
                cJSON_AddNumberToObject(obj, "reset",
                                        (double) ps->said_reset);
            }
        }

    } else {
        cJSON_AddNullToObject(item, "bucket");
    }

    ngx_http_osint_quota_json(item, p);

    if (p->probe_target.len) {
        ngx_http_osint_probe_json(item, p, ps);
    }

    cJSON_AddNumberToObject(item, "held_for_ms",
                            (ngx_msec_int_t) (ps->hold_until - now) > 0
                            ? (double) (ps->hold_until - now) : 0);

    if (ps->last_err_time) {
        obj = cJSON_AddObjectToObject(item, "last_error");

        if (obj) {
            cJSON_AddStringToObject(obj, "kind",
                                    ngx_http_osint_err_kind(ps->last_err));
            cJSON_AddNumberToObject(obj, "time", (double) ps->last_err_time);
        }

    } else {
        cJSON_AddNullToObject(item, "last_error");
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_http_osint_cache_json(item, ps);

    obj = cJSON_AddObjectToObject(item, "calls");

    for (j = 0; obj && j < NGX_HTTP_OSINT_OUTCOMES; j++) {
        cJSON_AddNumberToObject(obj, ngx_http_osint_outcomes[j],
                                (double) ps->calls[j]);
    }

    obj = cJSON_AddObjectToObject(item, "skipped");

    for (j = 0; obj && j < NGX_HTTP_OSINT_SKIP_REASONS; j++) {
        cJSON_AddNumberToObject(obj, ngx_http_osint_skip_reasons[j],
                                (double) ps->skipped[j]);
    }

    cJSON_AddNumberToObject(item, "retries", (double) ps->retries);

    obj = cJSON_AddObjectToObject(item, "latency");

    if (obj) {
        count = 0;

        for (j = 0; j <= NGX_HTTP_OSINT_LATENCY_BUCKETS; j++) {
            count += ps->latency[j];
        }

        ngx_http_osint_latency_json(obj, ps);

        cJSON_AddNumberToObject(obj, "count", (double) count);
        cJSON_AddNumberToObject(obj, "sum_s",
                                (double) ps->latency_sum_us / 1000000.0);
        cJSON_AddNumberToObject(obj, "p50_ms",
                                ngx_http_osint_latency_quantile(ps, 0.5));
        cJSON_AddNumberToObject(obj, "p95_ms",
                                ngx_http_osint_latency_quantile(ps, 0.95));
    }

    return item;
}


/*
 * "probe": its target and interval, and the last one: when, whether the
 * provider answered (ok, or the error kind), its latency; under the
 * zone's lock
 */

void
ngx_http_osint_probe_json(cJSON *item, ngx_http_osint_provider_t *p,
    ngx_http_osint_pstate_t *ps)
{
    cJSON  *obj;

    obj = cJSON_AddObjectToObject(item, "probe");
    if (obj == NULL) {
        return;
    }

    cJSON_AddStringToObject(obj, "target", (char *) p->probe_target.data);
    cJSON_AddNumberToObject(obj, "interval_s",
                            (double) p->probe_interval / 1000);
    cJSON_AddBoolToObject(obj, "breaker", p->probe_breaker);

    if (ps->probe_at == 0) {
        cJSON_AddNullToObject(obj, "last");
        return;
    }

    cJSON_AddNumberToObject(obj, "last", (double) ps->probe_at);
    cJSON_AddBoolToObject(obj, "ok", ps->probe_err == NGX_HTTP_OSINT_ERR_NONE);

    if (ps->probe_err == NGX_HTTP_OSINT_ERR_NONE) {
        cJSON_AddNullToObject(obj, "error");

    } else {
        cJSON_AddStringToObject(obj, "error",
                                ngx_http_osint_err_kind(ps->probe_err));
    }

    cJSON_AddNumberToObject(obj, "latency_ms",
                            (double) ps->probe_latency_us / 1000.0);
}


/*
 * The histogram itself, for a quantile over the last seconds (the ops
 * page's sparklines take the difference of two of these): le_ms the
 * upper bounds, buckets the count in each, not cumulative, one more than
 * le_ms (above the last bound).
 */

static void
ngx_http_osint_latency_json(cJSON *obj, ngx_http_osint_pstate_t *ps)
{
    cJSON       *le, *buckets;
    ngx_uint_t   j;

    le = cJSON_AddArrayToObject(obj, "le_ms");
    buckets = cJSON_AddArrayToObject(obj, "buckets");

    for (j = 0; le && buckets && j <= NGX_HTTP_OSINT_LATENCY_BUCKETS; j++) {
        if (j < NGX_HTTP_OSINT_LATENCY_BUCKETS) {
            cJSON_AddItemToArray(le,
                cJSON_CreateNumber(ngx_http_osint_le_ms[j]));
        }

        cJSON_AddItemToArray(buckets,
                             cJSON_CreateNumber((double) ps->latency[j]));
    }
}


/*
 * A quantile from the histogram, interpolated inside its bucket as
 * Prometheus' histogram_quantile() does; 0 without data.
 */

/* "budgets": each osint_budget's tokens, windows, sync and fallback */

static ngx_int_t
ngx_http_osint_budgets_status(cJSON *doc, ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_shm_t *ctx)
{
    cJSON                    *obj, *item;
    ngx_uint_t                i;
    ngx_http_osint_budget_t  *b;

    obj = cJSON_AddObjectToObject(doc, "budgets");
    if (obj == NULL) {
        return NGX_ERROR;
    }

    b = omcf->budgets.elts;

    for (i = 0; ctx && i < omcf->budgets.nelts; i++) {
        if (b[i].state == NULL) {
            continue;
        }

        ngx_shmtx_lock(&ctx->shpool->mutex);
        item = ngx_http_osint_budget_json(&b[i]);
        ngx_shmtx_unlock(&ctx->shpool->mutex);

        if (item == NULL) {
            return NGX_ERROR;
        }

        cJSON_AddItemToObject(obj, (char *) b[i].name.data, item);
    }

    return NGX_OK;
}


/*
 * A provider's quotas and budget: "quota" its first window (as before
 * several windows), "limits" all of its own (windows, sync, fallback),
 * "budget" the name of its osint_budget; under the zone's lock.
 */

void
ngx_http_osint_quota_json(cJSON *item, ngx_http_osint_provider_t *p)
{
    cJSON       *obj, *limits, *w;
    ngx_uint_t   n;

    limits = (p->own.state
              && (p->own.rate.per_ms > 0.0 || p->own.quota[0]
                  || p->own.quota[1] || p->own.quota[2]))
             ? ngx_http_osint_budget_json(&p->own) : NULL;

    w = limits ? cJSON_GetObjectItemCaseSensitive(limits, "windows") : NULL;
    n = w ? (ngx_uint_t) cJSON_GetArraySize(w) : 0;

    if (n) {
        obj = cJSON_Duplicate(cJSON_GetArrayItem(w, 0), 1);
        cJSON_AddItemToObject(item, "quota", obj);

    } else {
        cJSON_AddNullToObject(item, "quota");
    }

    if (limits) {
        cJSON_AddItemToObject(item, "limits", limits);

    } else {
        cJSON_AddNullToObject(item, "limits");
    }

    if (p->budget) {
        cJSON_AddStringToObject(item, "budget", (char *) p->budget->name.data);

    } else {
        cJSON_AddNullToObject(item, "budget");
    }
}


static double
ngx_http_osint_latency_quantile(ngx_http_osint_pstate_t *ps, double q)
{
    double      rank, lo, hi, seen, in;
    ngx_uint_t  j, count;

    count = 0;

    for (j = 0; j <= NGX_HTTP_OSINT_LATENCY_BUCKETS; j++) {
        count += ps->latency[j];
    }

    if (count == 0) {
        return 0;
    }

    rank = q * (double) count;
    seen = 0;

    for (j = 0; j < NGX_HTTP_OSINT_LATENCY_BUCKETS; j++) {
        in = (double) ps->latency[j];

        if (seen + in >= rank && in > 0) {
            lo = j ? ngx_http_osint_le_ms[j - 1] : 0;
            hi = ngx_http_osint_le_ms[j];
            return (double) (int64_t) ((lo + (hi - lo) * (rank - seen) / in)
                                       * 10) / 10;
        }

        seen += in;
    }

    return ngx_http_osint_le_ms[NGX_HTTP_OSINT_LATENCY_BUCKETS - 1];
}


static size_t
ngx_http_osint_zone_used(ngx_http_osint_shm_t *ctx)
{
    size_t  used;

    ngx_shmtx_lock(&ctx->shpool->mutex);
    used = (size_t) (ctx->shpool->end - (u_char *) ctx->shpool)
           - ctx->shpool->pfree * ngx_pagesize;
    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return used;
}


/*
 * The page, with the control URI (checked at configuration) as its body's
 * data-control attribute: the script stays one text, of one hash.
 */

static ngx_int_t
ngx_http_osint_status_html(ngx_http_request_t *r)
{
    u_char                     *page, *p;
    size_t                      head, body;
    ngx_http_osint_loc_conf_t  *olcf;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_module);

    head = ngx_strlen(ngx_http_osint_status_page);
    body = ngx_strlen(ngx_http_osint_status_page_body);

    page = ngx_pnalloc(r->pool, head + sizeof(" data-control=\"\"") - 1
                                + olcf->status_control.len + body);
    if (page == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(page, ngx_http_osint_status_page, head);

    if (olcf->status_control.len) {
        p = ngx_sprintf(p, " data-control=\"%V\"", &olcf->status_control);
    }

    p = ngx_cpymem(p, ngx_http_osint_status_page_body, body);

    return ngx_http_osint_send_text(r, NGX_HTTP_OK, "text/html; charset=utf-8",
                                    page, p - page);
}


static ngx_int_t
ngx_http_osint_send_text(ngx_http_request_t *r, ngx_uint_t status, char *type,
    u_char *text, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    ngx_http_osint_discard_body(r);

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = text;
    b->last = text + len;
    b->memory = 1;
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
