
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * osint_control: the operators' API (docs/control.md).  GET shows every
 * provider's state; DELETE ?target= purges a target's answers from L1
 * and Redis; POST ?provider=&breaker= closes or forces open a breaker,
 * POST ?provider=&enabled= takes a provider out of every lookup or back,
 * DELETE ?provider=&hold lifts a 429 hold.  The state lives in the zone
 * (src/ngx_http_osint_shm.c, ngx_http_osint_cache.c): every worker sees a
 * change at once.  Every change is logged at notice and counted.  The
 * body is discarded before anything is answered.  Nothing here shows a
 * key: the location must still be protected (allow/deny, auth_request).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_osint.h"


/* one canonical form of the target a purge was given */
typedef struct {
    ngx_str_t                   target;
    ngx_uint_t                  type;
} ngx_http_osint_form_t;

/* a purge waiting for Redis's DEL */
typedef struct {
    ngx_http_request_t         *request;
    ngx_http_osint_redis_req_t *redis;
    ngx_str_t                   target;         /* as given, for the log */
    ngx_uint_t                  l1;
    u_char                     *msg;            /* the L1 keys, one a line */
    u_char                     *last;
} ngx_http_osint_purge_t;


static ngx_int_t ngx_http_osint_control_get(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf);
static ngx_int_t ngx_http_osint_control_post(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf);
static ngx_int_t ngx_http_osint_control_delete(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf);
static ngx_int_t ngx_http_osint_control_provider(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf, ngx_uint_t required,
    ngx_http_osint_provider_t **p, ngx_int_t *rc);
static ngx_int_t ngx_http_osint_control_arg(ngx_http_request_t *r,
    char *name, ngx_str_t *value);
static ngx_int_t ngx_http_osint_control_flag(ngx_http_request_t *r,
    char *name);
static ngx_int_t ngx_http_osint_control_forms(ngx_http_request_t *r,
    ngx_str_t *target, ngx_array_t *forms, const char **kind,
    const char **reason);
static ngx_int_t ngx_http_osint_purge(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf, ngx_str_t *target,
    ngx_http_osint_provider_t *only);
static void ngx_http_osint_purge_line(ngx_http_osint_purge_t *pg,
    ngx_str_t *key);
static void ngx_http_osint_purge_publish(ngx_http_osint_purge_t *pg);
static void ngx_http_osint_purge_redis(void *data, ngx_int_t rc,
    void *reply);
static void ngx_http_osint_purge_cleanup(void *data);
static ngx_int_t ngx_http_osint_purge_answer(ngx_http_osint_purge_t *pg,
    ngx_int_t redis);
static ngx_int_t ngx_http_osint_control_answer(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf, ngx_http_osint_provider_t *p,
    ngx_http_osint_control_e action);
static cJSON *ngx_http_osint_control_state(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p);
static cJSON *ngx_http_osint_control_breaker(ngx_http_osint_provider_t *p,
    ngx_http_osint_pstate_t *ps);
static void ngx_http_osint_control_log(ngx_http_request_t *r,
    const char *fmt, ...);
static ngx_int_t ngx_http_osint_control_not_allowed(ngx_http_request_t *r);


ngx_int_t
ngx_http_osint_control_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_osint_main_conf_t  *omcf;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    switch (r->method) {

    case NGX_HTTP_GET:
    case NGX_HTTP_HEAD:
        return ngx_http_osint_control_get(r, omcf);

    case NGX_HTTP_POST:
        return ngx_http_osint_control_post(r, omcf);

    case NGX_HTTP_DELETE:
        return ngx_http_osint_control_delete(r, omcf);

    default:
        return ngx_http_osint_control_not_allowed(r);
    }
}


/* GET: {"providers":{NAME: its state, ...}} */

static ngx_int_t
ngx_http_osint_control_get(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf)
{
    cJSON                      *doc, *obj, *item;
    ngx_uint_t                  i;
    ngx_http_osint_provider_t  *prov;

    prov = omcf->providers.elts;

    doc = cJSON_CreateObject();
    obj = doc ? cJSON_AddObjectToObject(doc, "providers") : NULL;

    if (obj == NULL) {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < omcf->providers.nelts; i++) {
        item = ngx_http_osint_control_state(omcf, &prov[i]);

        if (item == NULL) {
            cJSON_Delete(doc);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cJSON_AddItemToObject(obj, (char *) prov[i].name.data, item);
    }

    if (ngx_http_osint_private_headers(r) != NGX_OK) {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_osint_send_json(r, NGX_HTTP_OK, doc);
}


/* POST ?provider=P and one of breaker=closed|open, enabled=on|off */

static ngx_int_t
ngx_http_osint_control_post(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf)
{
    ngx_int_t                   rc, has_breaker, has_enabled;
    ngx_str_t                   breaker, enabled;
    ngx_uint_t                  on;
    ngx_http_osint_provider_t  *p;
    ngx_http_osint_control_e    action;

    has_breaker = ngx_http_osint_control_arg(r, "breaker", &breaker);
    has_enabled = ngx_http_osint_control_arg(r, "enabled", &enabled);

    if (has_breaker == NGX_ERROR || has_enabled == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if ((has_breaker == NGX_OK) == (has_enabled == NGX_OK)) {
        return ngx_http_osint_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_parameter",
                                         "POST takes provider= and one of "
                                         "breaker=closed|open or "
                                         "enabled=on|off");
    }

    if (ngx_http_osint_control_provider(r, omcf, 1, &p, &rc) != NGX_OK) {
        return rc;
    }

    if (has_breaker == NGX_OK) {
        on = (breaker.len == 6 && ngx_strncmp(breaker.data, "closed", 6) == 0);

        if (!on && !(breaker.len == 4
                     && ngx_strncmp(breaker.data, "open", 4) == 0))
        {
            return ngx_http_osint_send_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "\"breaker\" must be closed "
                                             "or open");
        }

        ngx_http_osint_force_breaker(omcf, p, !on);

        ngx_http_osint_control_log(r, "provider \"%V\" breaker %s", &p->name,
                                   on ? "closed" : "forced open");

        action = on ? NGX_HTTP_OSINT_CONTROL_BREAKER_CLOSE
                    : NGX_HTTP_OSINT_CONTROL_BREAKER_OPEN;

        return ngx_http_osint_control_answer(r, omcf, p, action);
    }

    on = (enabled.len == 2 && ngx_strncmp(enabled.data, "on", 2) == 0);

    if (!on && !(enabled.len == 3 && ngx_strncmp(enabled.data, "off", 3) == 0))
    {
        return ngx_http_osint_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_parameter",
                                         "\"enabled\" must be on or off");
    }

    ngx_http_osint_switch(omcf, p, on);

    ngx_http_osint_control_log(r, "provider \"%V\" %s", &p->name,
                               on ? "enabled" : "disabled");

    return ngx_http_osint_control_answer(r, omcf, p,
                                         on ? NGX_HTTP_OSINT_CONTROL_ENABLE
                                            : NGX_HTTP_OSINT_CONTROL_DISABLE);
}


/* DELETE ?target=T[&provider=P][&type=X], or ?provider=P&hold */

static ngx_int_t
ngx_http_osint_control_delete(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf)
{
    ngx_int_t                   rc, has_target, has_hold;
    ngx_str_t                   target;
    ngx_uint_t                  held;
    ngx_http_osint_provider_t  *p;

    has_target = ngx_http_osint_control_arg(r, "target", &target);
    has_hold = ngx_http_osint_control_flag(r, "hold");

    if (has_target == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if ((has_target == NGX_OK) == (has_hold == NGX_OK)) {
        return ngx_http_osint_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_parameter",
                                         "DELETE takes target= (a purge) "
                                         "or provider= and hold (lift a "
                                         "429 hold)");
    }

    if (ngx_http_osint_control_provider(r, omcf, has_hold == NGX_OK, &p, &rc)
        != NGX_OK)
    {
        return rc;
    }

    if (has_target == NGX_OK) {
        return ngx_http_osint_purge(r, omcf, &target, p);
    }

    held = ngx_http_osint_lift_hold(omcf, p);

    ngx_http_osint_control_log(r, "provider \"%V\" hold lifted%s", &p->name,
                               held ? "" : " (there was none)");

    return ngx_http_osint_control_answer(r, omcf, p,
                                         NGX_HTTP_OSINT_CONTROL_HOLD_LIFT);
}


/*
 * provider=: NGX_OK with *p (NULL when absent and not required), or
 * NGX_DECLINED with the answer sent, *rc the handler's to return: 400
 * when required and absent, 404 when no such provider.
 */

static ngx_int_t
ngx_http_osint_control_provider(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf, ngx_uint_t required,
    ngx_http_osint_provider_t **p, ngx_int_t *rc)
{
    ngx_str_t  name;

    *p = NULL;

    switch (ngx_http_osint_control_arg(r, "provider", &name)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:

        if (!required) {
            return NGX_OK;
        }

        *rc = ngx_http_osint_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_parameter",
                                        "the \"provider\" parameter is "
                                        "required");
        return NGX_DECLINED;

    default:
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DECLINED;
    }

    *p = ngx_http_osint_provider_find(&omcf->providers, name.data, name.len);

    if (*p == NULL) {
        *rc = ngx_http_osint_send_error(r, NGX_HTTP_NOT_FOUND,
                                        "unknown_provider",
                                        "unknown provider \"%V\"", &name);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* a query argument, percent-decoded: NGX_OK, NGX_DECLINED when absent */

static ngx_int_t
ngx_http_osint_control_arg(ngx_http_request_t *r, char *name,
    ngx_str_t *value)
{
    ngx_int_t  rc;
    ngx_str_t  raw;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        return NGX_DECLINED;
    }

    rc = ngx_http_osint_arg_decode(r->pool, &raw, value);

    if (rc == NGX_DECLINED) {

        /* longer than any target: no provider, no target has it */

        ngx_str_set(value, "");
        return NGX_OK;
    }

    return rc == NGX_OK ? NGX_OK : NGX_ERROR;
}


/* an argument that may come without a value: "hold", "hold=" or "hold=1" */

static ngx_int_t
ngx_http_osint_control_flag(ngx_http_request_t *r, char *name)
{
    u_char  *p, *last, *amp;
    size_t   len;

    len = ngx_strlen(name);
    p = r->args.data;
    last = p + r->args.len;

    while (p < last) {
        amp = ngx_strlchr(p, last, '&');

        if (amp == NULL) {
            amp = last;
        }

        if ((size_t) (amp - p) >= len
            && ngx_strncmp(p, name, len) == 0
            && (p + len == amp || p[len] == '='))
        {
            return NGX_OK;
        }

        p = amp + 1;
    }

    return NGX_DECLINED;
}


/*
 * Every canonical form the target takes as a lookup would read it: one a
 * type it parses as (of type= when given).  NGX_DECLINED: none, *reason
 * says why.
 */

static ngx_int_t
ngx_http_osint_control_forms(ngx_http_request_t *r, ngx_str_t *target,
    ngx_array_t *forms, const char **kind, const char **reason)
{
    ngx_int_t               rc;
    ngx_str_t               type, canonical;
    ngx_uint_t              want, bit, found, i;
    ngx_http_osint_form_t  *f;

    want = ((ngx_uint_t) 1 << NGX_HTTP_OSINT_TYPES) - 1;

    rc = ngx_http_osint_control_arg(r, "type", &type);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK && ngx_http_osint_type_parse(&type, &want) != NGX_OK) {
        *kind = "invalid_parameter";
        *reason = "unknown \"type\"; known are ip, ipv4, ipv6, domain, "
                  "email, url, hash, phone and username";
        return NGX_DECLINED;
    }

    *kind = "invalid_target";
    *reason = "target is empty";

    for (bit = 1; bit < ((ngx_uint_t) 1 << NGX_HTTP_OSINT_TYPES); bit <<= 1) {

        if (!(want & bit)) {
            continue;
        }

        rc = ngx_http_osint_target_parse(r->pool, target, bit, &canonical,
                                         &i, reason);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc != NGX_OK) {
            continue;
        }

        f = forms->elts;
        found = 0;

        for (i = 0; i < forms->nelts; i++) {
            found |= (f[i].type == bit && f[i].target.len == canonical.len
                      && ngx_strncmp(f[i].target.data, canonical.data,
                                     canonical.len) == 0);
        }

        if (found) {
            continue;
        }

        f = ngx_array_push(forms);
        if (f == NULL) {
            return NGX_ERROR;
        }

        f->target = canonical;
        f->type = bit;
    }

    return forms->nelts ? NGX_OK : NGX_DECLINED;
}


/*
 * DELETE ?target=: the target's answers of every provider (or "only")
 * that serves one of its types leave L1 at once, then Redis with one
 * DEL; answered when Redis replies.
 */

static ngx_int_t
ngx_http_osint_purge(ngx_http_request_t *r, ngx_http_osint_main_conf_t *omcf,
    ngx_str_t *target, ngx_http_osint_provider_t *only)
{
    size_t                     *argvlen;
    u_char                      buf[NGX_HTTP_OSINT_KEY_MAX];
    ngx_str_t                   key, l1key;
    ngx_uint_t                  i, j, n;
    ngx_array_t                 forms;
    const char                **argv, *kind, *reason;
    ngx_http_cleanup_t         *cln;
    ngx_http_osint_form_t      *f;
    ngx_http_osint_purge_t     *pg;
    ngx_http_osint_provider_t  *prov;

    if (ngx_array_init(&forms, r->pool, 4, sizeof(ngx_http_osint_form_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ngx_http_osint_control_forms(r, target, &forms, &kind, &reason)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        return ngx_http_osint_send_error(r, NGX_HTTP_BAD_REQUEST, kind, "%s",
                                         reason);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pg = ngx_pcalloc(r->pool, sizeof(ngx_http_osint_purge_t));
    n = omcf->providers.nelts * forms.nelts + 1;
    argv = ngx_palloc(r->pool, n * sizeof(char *));
    argvlen = ngx_palloc(r->pool, n * sizeof(size_t));

    if (pg == NULL || argv == NULL || argvlen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pg->request = r;
    pg->target = *target;
    l1key.data = buf;

    /* the keys for the other nodes, one a line */

    pg->msg = ngx_pnalloc(r->pool, (omcf->providers.nelts * forms.nelts)
                                   * (NGX_HTTP_OSINT_KEY_MAX + 1));
    pg->last = pg->msg;

    argv[0] = "DEL";
    argvlen[0] = 3;
    n = 1;

    prov = omcf->providers.elts;
    f = forms.elts;

    for (i = 0; i < omcf->providers.nelts; i++) {

        if (only && only != &prov[i]) {
            continue;
        }

        for (j = 0; j < forms.nelts; j++) {

            if (!(prov[i].types & f[j].type)) {
                continue;
            }

            pg->l1 += ngx_http_osint_l1_purge(omcf, &prov[i], &f[j].target,
                                              &l1key);

            if (omcf->redis == NULL) {
                continue;
            }

            ngx_http_osint_purge_line(pg, &l1key);

            if (ngx_http_osint_redis_key(omcf, r->pool, &prov[i],
                                         &f[j].target, &key)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            argv[n] = (const char *) key.data;
            argvlen[n++] = key.len;
        }
    }

    if (omcf->redis == NULL || n == 1) {
        return ngx_http_osint_purge_answer(pg, omcf->redis ? 0 : NGX_DECLINED);
    }

    if (pg->msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pg->redis = ngx_http_osint_redis_command((int) n, argv, argvlen,
                                             ngx_http_osint_purge_redis, pg,
                                             r->connection->log);

    if (pg->redis == NULL) {
        return ngx_http_osint_purge_answer(pg, NGX_ERROR);
    }

    /* the other nodes' L1, after the DEL on the same connection */

    ngx_http_osint_purge_publish(pg);

    cln->handler = ngx_http_osint_purge_cleanup;
    cln->data = pg;

    if (!r->discard_body) {
        r->read_event_handler = ngx_http_osint_check_broken;
    }

    r->main->count++;

    return NGX_DONE;
}


/* a key for the other nodes */

static void
ngx_http_osint_purge_line(ngx_http_osint_purge_t *pg, ngx_str_t *key)
{
    if (pg->msg == NULL) {
        return;
    }

    pg->last = ngx_cpymem(pg->last, key->data, key->len);
    *pg->last++ = '\n';
}


/* the keys, NGX_HTTP_OSINT_PURGE_KEYS_MAX lines a message at most */

static void
ngx_http_osint_purge_publish(ngx_http_osint_purge_t *pg)
{
    u_char      *p, *start;
    ngx_uint_t   lines;

    start = pg->msg;
    lines = 0;

    for (p = pg->msg; p < pg->last; p++) {

        if (*p != '\n' || ++lines < NGX_HTTP_OSINT_PURGE_KEYS_MAX) {
            continue;
        }

        ngx_http_osint_redis_publish_purge(start, p - start);

        start = p + 1;
        lines = 0;
    }

    if (lines) {
        /* without the last line's end */
        ngx_http_osint_redis_publish_purge(start, pg->last - 1 - start);
    }
}


static void
ngx_http_osint_purge_redis(void *data, ngx_int_t rc, void *reply)
{
    ngx_http_osint_purge_t *pg = data;

    redisReply          *rr;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = pg->request;
    c = r->connection;
    rr = reply;

    pg->redis = NULL;

    if (rc == NGX_OK && rr->type == REDIS_REPLY_INTEGER && rr->integer >= 0) {
        rc = (ngx_int_t) rr->integer;

    } else {
        rc = NGX_ERROR;
    }

    ngx_http_finalize_request(r, ngx_http_osint_purge_answer(pg, rc));
    ngx_http_run_posted_requests(c);
}


/* the client went away while Redis was asked */

static void
ngx_http_osint_purge_cleanup(void *data)
{
    ngx_http_osint_purge_t *pg = data;

    if (pg->redis) {
        ngx_http_osint_redis_cancel(pg->redis);
        pg->redis = NULL;
    }
}


/*
 * 200 {"purged":{"l1":N,"redis":N}}; redis: the keys Redis deleted,
 * NGX_DECLINED without osint_redis ("redis": null), NGX_ERROR when Redis
 * did not answer: 503, L1 is purged, Redis may still serve.
 */

static ngx_int_t
ngx_http_osint_purge_answer(ngx_http_osint_purge_t *pg, ngx_int_t redis)
{
    u_char                       text[NGX_HTTP_OSINT_LOG_TEXT_MAX];
    u_char                      *last;
    cJSON                       *doc, *obj;
    ngx_http_request_t          *r;
    ngx_http_osint_main_conf_t  *omcf;

    r = pg->request;
    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    ngx_http_osint_count_control(omcf, NGX_HTTP_OSINT_CONTROL_PURGE);

    last = ngx_http_osint_log_escape(text, sizeof(text), pg->target.data,
                                     pg->target.len);

    if (redis == NGX_ERROR) {
        ngx_http_osint_control_log(r, "target \"%*s\" purged from L1 (%ui), "
                                   "not from Redis: down or timed out",
                                   last - text, text, pg->l1);

        return ngx_http_osint_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "redis_unavailable",
                                         "%ui entries purged from L1; Redis "
                                         "is down or timed out: its "
                                         "entries may still be served, "
                                         "retry", pg->l1);
    }

    ngx_http_osint_control_log(r, "target \"%*s\" purged: L1 %ui, Redis %i",
                               last - text, text, pg->l1,
                               redis < 0 ? 0 : redis);

    doc = cJSON_CreateObject();
    obj = doc ? cJSON_AddObjectToObject(doc, "purged") : NULL;

    if (obj == NULL) {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cJSON_AddNumberToObject(obj, "l1", (double) pg->l1);

    if (redis < 0) {
        cJSON_AddNullToObject(obj, "redis");

    } else {
        cJSON_AddNumberToObject(obj, "redis", (double) redis);
    }

    if (ngx_http_osint_private_headers(r) != NGX_OK) {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_osint_send_json(r, NGX_HTTP_OK, doc);
}


/* a change made: counted, and the provider's state answered */

static ngx_int_t
ngx_http_osint_control_answer(ngx_http_request_t *r,
    ngx_http_osint_main_conf_t *omcf, ngx_http_osint_provider_t *p,
    ngx_http_osint_control_e action)
{
    cJSON  *doc;

    ngx_http_osint_count_control(omcf, action);

    doc = ngx_http_osint_control_state(omcf, p);

    if (doc == NULL || ngx_http_osint_private_headers(r) != NGX_OK) {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_osint_send_json(r, NGX_HTTP_OK, doc);
}


/*
 * One provider's state (docs/control.md), from a copy taken under the
 * zone's lock: times as Unix epochs, never a key or a URL.
 */

static cJSON *
ngx_http_osint_control_state(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p)
{
    cJSON                    *item, *obj;
    ngx_msec_t                now;
    ngx_msec_int_t            left;
    ngx_http_osint_pstate_t   ps;

    ngx_http_osint_pstate_copy(omcf, p, &ps);

    now = ngx_current_msec;

    item = cJSON_CreateObject();
    if (item == NULL) {
        return NULL;
    }

    cJSON_AddBoolToObject(item, "enabled", !p->disabled && !ps.off);

    if (p->disabled || ps.off) {
        cJSON_AddStringToObject(item, "disabled_by",
                                p->disabled ? "api_key" : "control");

    } else {
        cJSON_AddNullToObject(item, "disabled_by");
    }

    obj = ngx_http_osint_control_breaker(p, &ps);

    if (obj == NULL) {
        cJSON_Delete(item);
        return NULL;
    }

    cJSON_AddItemToObject(item, "breaker", obj);

    left = (ngx_msec_int_t) (ps.hold_until - now);

    if (left > 0) {
        obj = cJSON_AddObjectToObject(item, "hold");
        cJSON_AddNumberToObject(obj, "until",
                                (double) (ngx_time() + (left + 999) / 1000));

    } else {
        cJSON_AddNullToObject(item, "hold");
    }

    if (p->own.rate.per_ms > 0.0) {
        obj = cJSON_AddObjectToObject(item, "bucket");
        cJSON_AddNumberToObject(obj, "tokens",
                                ngx_http_osint_budget_tokens(&p->own));

    } else {
        cJSON_AddNullToObject(item, "bucket");
    }

    ngx_http_osint_quota_json(item, p);

    obj = cJSON_AddObjectToObject(item, "cache");
    cJSON_AddNumberToObject(obj, "entries", (double) ps.cache_entries);

    return item;
}


/* "state": closed, open, half_open, forced_open; "off" with breaker off */

static cJSON *
ngx_http_osint_control_breaker(ngx_http_osint_provider_t *p,
    ngx_http_osint_pstate_t *ps)
{
    cJSON       *obj;
    time_t       opened;
    const char  *state;

    obj = cJSON_CreateObject();
    if (obj == NULL) {
        return NULL;
    }

    opened = 0;

    if (ps->forced_open) {
        state = "forced_open";
        opened = ps->forced_open;

    } else if (!ngx_http_osint_breaker_on(&p->breaker)) {
        state = "off";

    } else {
        state = ngx_http_osint_breaker_states[ps->breaker.state];

        if (ps->breaker.state != NGX_HTTP_OSINT_BREAKER_CLOSED) {
            opened = ngx_time()
                     - (time_t) ((ngx_current_msec - ps->breaker.opened_at)
                                 / 1000);
        }
    }

    cJSON_AddStringToObject(obj, "state", state);
    cJSON_AddNumberToObject(obj, "failures", (double) ps->breaker.failures);
    cJSON_AddNumberToObject(obj, "threshold", (double) p->breaker.failures);

    if (opened) {
        cJSON_AddNumberToObject(obj, "opened_at", (double) opened);

    } else {
        cJSON_AddNullToObject(obj, "opened_at");
    }

    return obj;
}


/* every change: at notice, with who asked and the request's id */

static void
ngx_http_osint_control_log(ngx_http_request_t *r, const char *fmt, ...)
{
    u_char                      *p;
    u_char                       text[NGX_MAX_ERROR_STR];
    va_list                      args;
    ngx_str_t                    id;
    ngx_http_variable_value_t   *vv;
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    va_start(args, fmt);
    p = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    va_end(args);

    ngx_str_set(&id, "-");

    vv = ngx_http_get_indexed_variable(r, omcf->request_id_index);

    if (vv && !vv->not_found) {
        id.data = vv->data;
        id.len = vv->len;
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "osint: control: %*s, client %V, request %V",
                  p - text, text, &r->connection->addr_text, &id);
}


static ngx_int_t
ngx_http_osint_control_not_allowed(ngx_http_request_t *r)
{
    if (ngx_http_osint_add_text_header(r, "Allow", "GET, HEAD, POST, DELETE")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_osint_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                     "invalid_parameter",
                                     "method not allowed: use GET, POST "
                                     "or DELETE");
}
