
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Budgets: a provider's own rate and quotas, and osint_budget shared by
 * the providers that name it (one API key, several endpoints).  A call
 * takes from every budget of its provider, all or none; under the zone's
 * lock, or, with sync=redis, from Redis (ngx_http_osint_budget_sync.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


/* tokens granted ahead by Redis and not used within this are lost */
#define NGX_HTTP_OSINT_BUDGET_LEASE_TTL  1000


/* how one budget decides one call */
typedef enum {
    NGX_HTTP_OSINT_BUDGET_LOCAL = 0,    /* the zone's bucket and windows */
    NGX_HTTP_OSINT_BUDGET_LEASE,        /* a token Redis granted ahead */
    NGX_HTTP_OSINT_BUDGET_GRANTED,      /* Redis has just granted it */
    NGX_HTTP_OSINT_BUDGET_ASK           /* Redis must be asked */
} ngx_http_osint_budget_mode_e;


static ngx_uint_t ngx_http_osint_budget_repeated(ngx_str_t *value,
    ngx_uint_t last);
static ngx_int_t ngx_http_osint_budget_finish(ngx_conf_t *cf,
    ngx_http_osint_main_conf_t *omcf, ngx_http_osint_budget_t *b,
    const char *what);
static ngx_http_osint_budget_mode_e ngx_http_osint_budget_mode(
    ngx_http_osint_budget_t *b, ngx_uint_t bit, ngx_http_osint_grant_t *g,
    ngx_http_osint_admission_t *a);
static void ngx_http_osint_budgets_keep(ngx_http_osint_budget_t **b,
    ngx_http_osint_budget_mode_e *mode, ngx_uint_t n,
    ngx_http_osint_grant_t *g);
static void ngx_http_osint_budget_lease(ngx_http_osint_bstate_t *st,
    ngx_uint_t n);
static ngx_uint_t ngx_http_osint_budget_want(ngx_http_osint_budget_t **b,
    ngx_uint_t n, ngx_uint_t ask);


static ngx_uint_t  ngx_http_osint_no_limit[NGX_HTTP_OSINT_WINDOWS];

static const char  *ngx_http_osint_windows[] = { "h", "d", "mo" };


/*
 * One parameter of a budget, for osint_budget and a provider's rate and
 * quota lines: NGX_OK, NGX_DECLINED not one of these, NGX_ERROR invalid,
 * NGX_BUSY a quota window given twice.
 */

ngx_int_t
ngx_http_osint_budget_param(ngx_str_t *v, ngx_http_osint_budget_t *b)
{
    ngx_int_t               rc, rate;
    ngx_str_t               s;
    ngx_uint_t              window, burst;
    ngx_http_osint_quota_t  q;

    rc = ngx_http_osint_param_num(v, "burst", NGX_HTTP_OSINT_BURST_MAX,
                                  &burst);
    if (rc != NGX_DECLINED) {
        if (rc == NGX_OK) {
            b->rate.burst = burst;
        }

        return rc;
    }

    rc = ngx_http_osint_param_msec(v, "wait", 0, &b->rate.wait);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_osint_param_num(v, "nodes", 1000, &b->nodes);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (v->len == sizeof("sync=redis") - 1
        && ngx_strncmp(v->data, "sync=redis", v->len) == 0)
    {
        b->sync = 1;
        return NGX_OK;
    }

    if (v->len > 5 && ngx_strncmp(v->data, "rate=", 5) == 0) {
        s.data = v->data + 5;
        s.len = v->len - 5;

        if (b->rate.per_ms > 0.0
            || ngx_http_osint_rate_parse(&s, &rate, &window) != NGX_OK)
        {
            return NGX_ERROR;
        }

        b->rate.per_ms = (double) rate / (double) (window * 1000);
        return NGX_OK;
    }

    if (v->len > 6 && ngx_strncmp(v->data, "quota=", 6) == 0) {
        s.data = v->data + 6;
        s.len = v->len - 6;

        if (ngx_http_osint_quota_parse(&s, &q) != NGX_OK) {
            return NGX_ERROR;
        }

        if (b->quota[q.unit - 1]) {
            return NGX_BUSY;
        }

        b->quota[q.unit - 1] = q.limit;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* osint_budget NAME rate=… [burst=…] [wait=…] quota=…/h … [sync=redis] */

char *
ngx_http_osint_budget_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_osint_main_conf_t *omcf = conf;

    ngx_int_t                 rc;
    ngx_str_t                *value;
    ngx_uint_t                i, j;
    ngx_http_osint_budget_t  *b;

    value = cf->args->elts;

    if (!ngx_http_osint_zone_name_valid(&value[1])
        || value[1].len >= NGX_HTTP_OSINT_NAME_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid osint_budget name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    b = omcf->budgets.elts;

    for (i = 0; i < omcf->budgets.nelts; i++) {
        if (b[i].name.len == value[1].len
            && ngx_strncmp(b[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate osint_budget \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    j = ngx_http_osint_budget_repeated(value, cf->args->nelts - 1);

    if (j) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate parameter \"%V\"", &value[j]);
        return NGX_CONF_ERROR;
    }

    b = ngx_array_push(&omcf->budgets);
    if (b == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(b, sizeof(ngx_http_osint_budget_t));

    b->name = value[1];
    b->shared = 1;
    b->rate.burst = 1;
    b->file = cf->conf_file->file.name.data;
    b->line = cf->conf_file->line;

    for (i = 2; i < cf->args->nelts; i++) {
        rc = ngx_http_osint_budget_param(&value[i], b);

        if (rc == NGX_BUSY) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate quota window in \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (rc != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (b->rate.per_ms == 0.0
        && ngx_memcmp(b->quota, ngx_http_osint_no_limit, sizeof(b->quota))
           == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "osint_budget \"%V\" has neither \"rate=\" nor "
                           "\"quota=\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a parameter repeated, but for quota= (one for each window): or 0 */

static ngx_uint_t
ngx_http_osint_budget_repeated(ngx_str_t *value, ngx_uint_t last)
{
    ngx_uint_t  i;

    for (i = 3; i <= last; i++) {
        if (!(value[i].len > 6 && ngx_strncmp(value[i].data, "quota=", 6) == 0)
            && ngx_http_osint_param_repeated(value, 2, i) == i)
        {
            return i;
        }
    }

    return 0;
}


/* "budget NAME" in osint_provider: found once all of http{} is read */

char *
ngx_http_osint_budget_conf(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    if (p->budget_name.len) {
        return "is duplicate";
    }

    p->budget_name = value[1];

    return NGX_CONF_OK;
}


/*
 * After http{}: each provider's budget by name, and every budget's local
 * share, lease size and Redis key.
 */

ngx_int_t
ngx_http_osint_budgets_init(ngx_conf_t *cf, ngx_http_osint_main_conf_t *omcf)
{
    ngx_uint_t                  i, j;
    ngx_http_osint_budget_t    *b;
    ngx_http_osint_provider_t  *p;

    b = omcf->budgets.elts;

    for (j = 0; j < omcf->budgets.nelts; j++) {
        if (ngx_http_osint_budget_finish(cf, omcf, &b[j], "osint_budget")
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    p = omcf->providers.elts;

    for (i = 0; i < omcf->providers.nelts; i++) {

        if (p[i].budget_name.len) {
            for (j = 0; j < omcf->budgets.nelts; j++) {
                if (b[j].name.len == p[i].budget_name.len
                    && ngx_strncmp(b[j].name.data, p[i].budget_name.data,
                                   b[j].name.len) == 0)
                {
                    p[i].budget = &b[j];
                    break;
                }
            }

            if (p[i].budget == NULL) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "unknown osint_budget \"%V\" in "
                              "osint_provider \"%V\" in %s:%ui",
                              &p[i].budget_name, &p[i].name, p[i].file,
                              p[i].line);
                return NGX_ERROR;
            }
        }

        p[i].own.name = p[i].name;
        p[i].own.file = p[i].file;
        p[i].own.line = p[i].line;

        if (ngx_http_osint_budget_finish(cf, omcf, &p[i].own,
                                         "osint_provider")
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_budget_finish(ngx_conf_t *cf, ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_budget_t *b, const char *what)
{
    ngx_uint_t  i, share;

    /* without Redis the node decides alone: on its share of the budget */

    share = (b->sync && b->nodes) ? b->nodes : 1;

    b->share_rate = b->rate;
    b->share_rate.per_ms = b->rate.per_ms / share;
    b->share_rate.burst = ngx_max(b->rate.burst / share, 1);

    for (i = 0; i < NGX_HTTP_OSINT_WINDOWS; i++) {
        b->share_quota[i] = b->quota[i] ? ngx_max(b->quota[i] / share, 1) : 0;
    }

    /* a lease of k tokens; none where a lost token would be a lost quota */

    b->chunk = 1;

    if (ngx_memcmp(b->quota, ngx_http_osint_no_limit, sizeof(b->quota)) == 0
        && b->rate.burst >= 16)
    {
        b->chunk = b->rate.burst / 8;
    }

    if (!b->sync) {
        return NGX_OK;
    }

    if (omcf->redis == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "%s \"%V\" with sync=redis requires \"osint_redis\" "
                      "in %s:%ui", what, &b->name, b->file, b->line);
        return NGX_ERROR;
    }

    /* <prefix>budget:<name> and <prefix>quota:<provider> never meet */

    b->rkey.len = omcf->redis->prefix.len + sizeof("provider-budget:") - 1
                  + b->name.len;

    b->rkey.data = ngx_pnalloc(cf->pool, b->rkey.len);
    if (b->rkey.data == NULL) {
        return NGX_ERROR;
    }

    b->rkey.len = ngx_sprintf(b->rkey.data, "%V%s:%V", &omcf->redis->prefix,
                              b->shared ? "budget" : "provider-budget",
                              &b->name)
                  - b->rkey.data;

    return NGX_OK;
}


/* the budgets a call of the provider takes from: its own, the shared */

ngx_uint_t
ngx_http_osint_budgets_of(ngx_http_osint_provider_t *p,
    ngx_http_osint_budget_t **b)
{
    ngx_uint_t  n;

    n = 0;

    if (p->own.rate.per_ms > 0.0
        || ngx_memcmp(p->own.quota, ngx_http_osint_no_limit,
                      sizeof(p->own.quota))
           != 0)
    {
        b[n++] = &p->own;
    }

    if (p->budget) {
        b[n++] = p->budget;
    }

    return n;
}


/*
 * Takes a call from every budget of the provider, all or none, under the
 * zone's lock: NGX_OK taken (a->wait: for a reserved token), NGX_DECLINED
 * refused (a->reason; nothing taken), NGX_AGAIN Redis is to be asked for
 * the budgets of a->ask (nothing taken yet).  "g": Redis's answer to
 * that, or NULL the first time.
 */

ngx_int_t
ngx_http_osint_budgets_take(ngx_http_osint_provider_t *p, ngx_msec_t max_wait,
    ngx_http_osint_grant_t *g, ngx_http_osint_admission_t *a)
{
    time_t                        sec;
    ngx_int_t                     w;
    ngx_uint_t                    i, n, ask;
    ngx_msec_t                    now, wait;
    ngx_http_osint_bucket_t       bucket[2];
    ngx_http_osint_window_t       win[2][NGX_HTTP_OSINT_WINDOWS];
    ngx_http_osint_budget_t      *b[2];
    ngx_http_osint_budget_mode_e  mode[2];

    n = ngx_http_osint_budgets_of(p, b);
    now = ngx_current_msec;
    sec = ngx_time();
    ask = 0;
    wait = 0;

    for (i = 0; i < n; i++) {
        mode[i] = ngx_http_osint_budget_mode(b[i], 1 << i, g, a);

        if (mode[i] == NGX_HTTP_OSINT_BUDGET_ASK) {
            ask |= 1 << i;
        }

        if (mode[i] != NGX_HTTP_OSINT_BUDGET_LOCAL) {
            continue;
        }

        /* on copies: a refusal by one budget takes nothing from another */

        bucket[i] = b[i]->state->bucket;
        ngx_memcpy(win[i], b[i]->state->window, sizeof(win[i]));

        if (ngx_http_osint_windows_take(win[i], b[i]->share_quota, sec)
            != NGX_OK)
        {
            a->reason = "the quota of the period is spent";
            a->retry_after = ngx_http_osint_windows_retry(win[i],
                                                          b[i]->share_quota,
                                                          sec);
            goto refused;
        }

        if (b[i]->share_rate.per_ms > 0.0) {
            w = ngx_http_osint_bucket_take(&bucket[i], &b[i]->share_rate, now,
                                           ngx_min(max_wait,
                                                   b[i]->share_rate.wait));
            if (w == NGX_DECLINED) {
                a->reason = "no token left in the rate limit";

                /* the bucket kept what it had: the time to one token */

                a->retry_after = (ngx_msec_t)
                                 ((1.0 - bucket[i].tokens)
                                  / b[i]->share_rate.per_ms) + 1;
                goto refused;
            }

            wait = ngx_max(wait, (ngx_msec_t) w);
        }
    }

    if (ask) {
        ngx_http_osint_budgets_keep(b, mode, n, g);
        a->ask = ask;
        a->want = ngx_http_osint_budget_want(b, n, ask);
        return NGX_AGAIN;
    }

    for (i = 0; i < n; i++) {
        switch (mode[i]) {

        case NGX_HTTP_OSINT_BUDGET_LOCAL:
            b[i]->state->bucket = bucket[i];
            ngx_memcpy(b[i]->state->window, win[i], sizeof(win[i]));
            break;

        case NGX_HTTP_OSINT_BUDGET_LEASE:
            b[i]->state->lease--;
            (void) ngx_http_osint_windows_take(b[i]->state->window,
                                               ngx_http_osint_no_limit, sec);
            break;

        default: /* GRANTED */
            ngx_http_osint_budget_lease(b[i]->state, g->got - 1);
            (void) ngx_http_osint_windows_take(b[i]->state->window,
                                               ngx_http_osint_no_limit, sec);
            break;
        }
    }

    a->wait = wait;

    return NGX_OK;

refused:

    ngx_http_osint_budgets_keep(b, mode, n, g);

    a->err = NGX_HTTP_OSINT_ERR_RATE_LIMITED;

    return NGX_DECLINED;
}


static ngx_http_osint_budget_mode_e
ngx_http_osint_budget_mode(ngx_http_osint_budget_t *b, ngx_uint_t bit,
    ngx_http_osint_grant_t *g, ngx_http_osint_admission_t *a)
{
    ngx_http_osint_bstate_t  *st;

    if (!b->sync) {
        return NGX_HTTP_OSINT_BUDGET_LOCAL;
    }

    st = b->state;

    if (g && (g->asked & bit)) {
        if (g->got > 0) {
            return NGX_HTTP_OSINT_BUDGET_GRANTED;
        }

        goto fallback;
    }

    if (st->lease && (ngx_msec_int_t) (st->lease_exp - ngx_current_msec) > 0) {
        return NGX_HTTP_OSINT_BUDGET_LEASE;
    }

    st->lease = 0;

    if (ngx_http_osint_redis_up()) {
        return NGX_HTTP_OSINT_BUDGET_ASK;
    }

fallback:

    (void) ngx_atomic_fetch_add(&st->fallbacks, 1);

    if (!st->fallback) {
        st->fallback = 1;
        a->fell_back = b;
    }

    return NGX_HTTP_OSINT_BUDGET_LOCAL;
}


/* what Redis granted for a call that does not go goes to the lease */

static void
ngx_http_osint_budgets_keep(ngx_http_osint_budget_t **b,
    ngx_http_osint_budget_mode_e *mode, ngx_uint_t n,
    ngx_http_osint_grant_t *g)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (mode[i] == NGX_HTTP_OSINT_BUDGET_GRANTED) {
            ngx_http_osint_budget_lease(b[i]->state, g->got);
        }
    }
}


static void
ngx_http_osint_budget_lease(ngx_http_osint_bstate_t *st, ngx_uint_t n)
{
    if (n) {
        st->lease += n;
        st->lease_exp = ngx_current_msec + NGX_HTTP_OSINT_BUDGET_LEASE_TTL;
    }
}


/*
 * How many tokens to ask for: one, or a chunk of k for the lease when no
 * other chunk of these budgets is asked for (at most one in flight per
 * budget and node, so a node's lease stays below k).
 */

static ngx_uint_t
ngx_http_osint_budget_want(ngx_http_osint_budget_t **b, ngx_uint_t n,
    ngx_uint_t ask)
{
    ngx_uint_t   i, want;
    ngx_msec_t   now;

    now = ngx_current_msec;
    want = NGX_HTTP_OSINT_BURST_MAX;

    for (i = 0; i < n; i++) {
        if (!(ask & (1 << i))) {
            continue;
        }

        if (b[i]->state->asking
            && now - b[i]->state->asking < NGX_HTTP_OSINT_BUDGET_LEASE_TTL)
        {
            return 1;
        }

        want = ngx_min(want, b[i]->chunk);
    }

    for (i = 0; want > 1 && i < n; i++) {
        if (ask & (1 << i)) {
            b[i]->state->asking = now ? now : 1;
        }
    }

    return want;
}


/* JSON of a budget's state for the status page; under the zone's lock */

cJSON *
ngx_http_osint_budget_json(ngx_http_osint_budget_t *b)
{
    cJSON                    *item, *arr, *w;
    time_t                    sec, start;
    ngx_uint_t                i, left;
    ngx_http_osint_bstate_t  *st;

    item = cJSON_CreateObject();
    if (item == NULL) {
        return NULL;
    }

    st = b->state;
    sec = ngx_time();

    cJSON_AddStringToObject(item, "sync", b->sync ? "redis" : "off");
    cJSON_AddBoolToObject(item, "fallback", b->sync && st->fallback);
    cJSON_AddNumberToObject(item, "fallbacks", (double) st->fallbacks);

    if (b->rate.per_ms > 0.0) {
        cJSON_AddNumberToObject(item, "tokens",
                                ngx_http_osint_budget_tokens(b));
        cJSON_AddNumberToObject(item, "capacity", (double) b->rate.burst);
        cJSON_AddNumberToObject(item, "rate_per_s", b->rate.per_ms * 1000);

    } else {
        cJSON_AddNullToObject(item, "tokens");
    }

    arr = cJSON_AddArrayToObject(item, "windows");

    for (i = 0; arr && i < NGX_HTTP_OSINT_WINDOWS; i++) {
        if (b->quota[i] == 0) {
            continue;
        }

        w = cJSON_CreateObject();
        if (w == NULL) {
            break;
        }

        start = ngx_http_osint_quota_period(sec, i + 1);

        cJSON_AddStringToObject(w, "period", ngx_http_osint_windows[i]);
        cJSON_AddNumberToObject(w, "limit", (double) b->quota[i]);
        left = ngx_http_osint_budget_left(b, i, sec);

        cJSON_AddNumberToObject(w, "remaining", (double) left);
        cJSON_AddNumberToObject(w, "used", (double) (b->quota[i] - left));
        cJSON_AddNumberToObject(w, "used_here", (double)
                                (st->window[i].start == start
                                 ? st->window[i].used : 0));
        cJSON_AddNumberToObject(w, "reset", (double)
                                ngx_http_osint_quota_reset(start, i + 1));
        cJSON_AddItemToArray(arr, w);
    }

    return item;
}


/*
 * Tokens left: Redis's last answer while in sync (within a second, and
 * what the bucket refilled since), else the local bucket.
 */

double
ngx_http_osint_budget_tokens(ngx_http_osint_budget_t *b)
{
    double                    t;
    ngx_msec_t                now;
    ngx_http_osint_bstate_t  *st;

    st = b->state;
    now = ngx_current_msec;

    if (b->sync && !st->fallback && st->synced) {
        t = st->r_tokens + st->lease + (double) (now - st->synced)
                                       * b->rate.per_ms;
        t = ngx_min(t, (double) b->rate.burst);

    } else {
        t = ngx_http_osint_bucket_tokens(&st->bucket, &b->share_rate, now);
    }

    return (double) (int64_t) (t * 100) / 100;
}


/* calls left in window i: Redis's last word in sync, else the share's */

ngx_uint_t
ngx_http_osint_budget_left(ngx_http_osint_budget_t *b, ngx_uint_t i,
    time_t sec)
{
    ngx_http_osint_bstate_t  *st;

    st = b->state;

    if (b->sync && !st->fallback && st->synced && st->r_left[i] >= 0
        && st->r_reset[i] > sec)
    {
        return (ngx_uint_t) st->r_left[i];
    }

    if (b->sync && !st->fallback && st->synced) {
        return b->quota[i];     /* a new window since Redis answered */
    }

    return ngx_http_osint_window_left(&st->window[i], b->share_quota[i],
                                      i + 1, sec);
}


/*
 * One metric family's line of a budget, "prefix_name{label="…"}": none
 * when the budget has no such thing.
 */

u_char *
ngx_http_osint_budget_prometheus(u_char *p, u_char *last,
    ngx_http_osint_budget_t *b, ngx_uint_t what, const char *prefix,
    const char *label)
{
    time_t      sec;
    ngx_uint_t  i;

    sec = ngx_time();

    switch (what) {

    case NGX_HTTP_OSINT_BUDGET_PROM_TOKENS:
        if (b->rate.per_ms > 0.0) {
            p = ngx_slprintf(p, last, "%s_tokens{%s=\"%V\"} %.3f\n", prefix,
                             label, &b->name, ngx_http_osint_budget_tokens(b));
        }

        return p;

    case NGX_HTTP_OSINT_BUDGET_PROM_FALLBACK:
        if (b->sync) {
            p = ngx_slprintf(p, last, "%s_redis_fallback{%s=\"%V\"} %ui\n",
                             prefix, label, &b->name, b->state->fallback);
        }

        return p;

    case NGX_HTTP_OSINT_BUDGET_PROM_FALLBACKS:
        if (b->sync) {
            p = ngx_slprintf(p, last, "%s_redis_fallback_total{%s=\"%V\"} "
                             "%uA\n", prefix, label, &b->name,
                             b->state->fallbacks);
        }

        return p;
    }

    for (i = 0; i < NGX_HTTP_OSINT_WINDOWS; i++) {
        if (b->quota[i] == 0) {
            continue;
        }

        if (what == NGX_HTTP_OSINT_BUDGET_PROM_REMAINING) {
            p = ngx_slprintf(p, last, "%s_quota_remaining{%s=\"%V\","
                             "window=\"%s\"} %ui\n", prefix, label, &b->name,
                             ngx_http_osint_windows[i],
                             ngx_http_osint_budget_left(b, i, sec));

        } else {
            p = ngx_slprintf(p, last, "%s_quota_reset_timestamp_seconds{%s="
                             "\"%V\",window=\"%s\"} %T\n", prefix, label,
                             &b->name, ngx_http_osint_windows[i],
                             ngx_http_osint_quota_reset(
                                 ngx_http_osint_quota_period(sec, i + 1),
                                 i + 1));
        }
    }

    return p;
}
