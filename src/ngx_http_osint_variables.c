
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Variables for access_log and headers: what a lookup was and how it went.
 * Empty ("not found") outside a lookup.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


typedef enum {
    NGX_HTTP_OSINT_VAR_TARGET_TYPE = 0,
    NGX_HTTP_OSINT_VAR_CACHE_STATUS,
    NGX_HTTP_OSINT_VAR_PROVIDERS_OK,
    NGX_HTTP_OSINT_VAR_PROVIDERS_FAILED,
    NGX_HTTP_OSINT_VAR_UPSTREAM_TIME,
    NGX_HTTP_OSINT_VAR_TARGET,
    NGX_HTTP_OSINT_VAR_VERDICT,
    NGX_HTTP_OSINT_VAR_OUTCOMES
} ngx_http_osint_var_e;


static ngx_int_t ngx_http_osint_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_osint_request_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_osint_request_id_make(ngx_http_request_t *r,
    ngx_int_t index);
static u_char *ngx_http_osint_outcome_list(ngx_http_request_t *r,
    ngx_http_osint_lookup_t *lk, size_t *len);


static ngx_http_variable_t  ngx_http_osint_vars[] = {

    { ngx_string("osint_target_type"), NULL, ngx_http_osint_variable,
      NGX_HTTP_OSINT_VAR_TARGET_TYPE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("osint_cache_status"), NULL, ngx_http_osint_variable,
      NGX_HTTP_OSINT_VAR_CACHE_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("osint_providers_ok"), NULL, ngx_http_osint_variable,
      NGX_HTTP_OSINT_VAR_PROVIDERS_OK, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("osint_providers_failed"), NULL, ngx_http_osint_variable,
      NGX_HTTP_OSINT_VAR_PROVIDERS_FAILED, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("osint_upstream_time"), NULL, ngx_http_osint_variable,
      NGX_HTTP_OSINT_VAR_UPSTREAM_TIME, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("osint_target"), NULL, ngx_http_osint_variable,
      NGX_HTTP_OSINT_VAR_TARGET, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("osint_verdict"), NULL, ngx_http_osint_variable,
      NGX_HTTP_OSINT_VAR_VERDICT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("osint_outcomes"), NULL, ngx_http_osint_variable,
      NGX_HTTP_OSINT_VAR_OUTCOMES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    /* one value a request: the lookups, the answer and the log agree */

    { ngx_string("osint_request_id"), NULL,
      ngx_http_osint_request_id_variable, 0, 0, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_osint_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_osint_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    u_char                   *p;
    size_t                    len;
    double                    max;
    ngx_uint_t                i, n;
    const char               *s;
    ngx_http_osint_ctx_t     *ctx;
    ngx_http_osint_call_t    *call;
    ngx_http_osint_lookup_t  *lk;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_osint_module);
    lk = ctx ? ctx->lookup : NULL;

    /* a lookup refused as bad input has no type yet; a batch has many */

    if (lk == NULL || lk->type == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;

    switch (data) {

    case NGX_HTTP_OSINT_VAR_TARGET_TYPE:
        s = ngx_http_osint_type_name(lk->type);
        v->data = (u_char *) s;
        v->len = ngx_strlen(s);
        break;

    case NGX_HTTP_OSINT_VAR_TARGET:
        v->data = lk->target.data;
        v->len = lk->target.len;
        break;

    case NGX_HTTP_OSINT_VAR_VERDICT:
        v->data = lk->verdict.data;
        v->len = lk->verdict.len;
        break;

    case NGX_HTTP_OSINT_VAR_OUTCOMES:
        v->data = ngx_http_osint_outcome_list(r, lk, &len);

        if (v->data == NULL) {
            return NGX_ERROR;
        }

        v->len = len;
        break;

    case NGX_HTTP_OSINT_VAR_CACHE_STATUS:
        v->data = (u_char *) lk->cache_status;
        v->len = lk->cache_status ? ngx_strlen(lk->cache_status) : 0;
        break;

    case NGX_HTTP_OSINT_VAR_PROVIDERS_OK:
    case NGX_HTTP_OSINT_VAR_PROVIDERS_FAILED:
        n = 0;

        for (i = 0; i < lk->ncalls; i++) {
            call = &lk->calls[i];

            if (data == NGX_HTTP_OSINT_VAR_PROVIDERS_OK) {
                n += (call->status == NGX_HTTP_OSINT_OK
                      || call->status == NGX_HTTP_OSINT_NOT_FOUND);

            } else {
                n += (call->status == NGX_HTTP_OSINT_ERROR
                      || (call->status == NGX_HTTP_OSINT_SKIPPED
                          && !ngx_http_osint_call_refused(call)));
            }
        }

        v->len = ngx_sprintf(p, "%ui", n) - p;
        break;

    default: /* NGX_HTTP_OSINT_VAR_UPSTREAM_TIME */

        /* calls run in parallel: the slowest one is the upstream time */

        max = 0;

        for (i = 0; i < lk->ncalls; i++) {
            if (lk->calls[i].latency > max) {
                max = lk->calls[i].latency;
            }
        }

        v->len = ngx_sprintf(p, "%.3f", max / 1000.0) - p;
        break;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * "name:outcome,..." in configuration order: the status of the document
 * (ok, not_found), else the error's kind (timeout, http_5xx, ...).
 */

static u_char *
ngx_http_osint_outcome_list(ngx_http_request_t *r, ngx_http_osint_lookup_t *lk,
    size_t *len)
{
    u_char                 *text, *p;
    size_t                  size;
    ngx_uint_t              i;
    const char             *s;
    ngx_http_osint_call_t  *call;

    size = 1;

    for (i = 0; i < lk->ncalls; i++) {
        size += lk->calls[i].provider->name.len + sizeof(":,") + 32;
    }

    text = ngx_pnalloc(r->pool, size);
    if (text == NULL) {
        return NULL;
    }

    p = text;

    for (i = 0; i < lk->ncalls; i++) {
        call = &lk->calls[i];

        s = (call->status == NGX_HTTP_OSINT_OK
             || call->status == NGX_HTTP_OSINT_NOT_FOUND)
            ? ngx_http_osint_status_name(call->status)
            : ngx_http_osint_err_kind(call->err);

        p = ngx_slprintf(p, text + size, "%s%V:%s", i ? "," : "",
                         &call->provider->name, s);
    }

    *len = p - text;

    return text;
}


/*
 * The client's X-Request-ID when it is well-formed and sent once, else
 * nginx's $request_id.
 */

static ngx_int_t
ngx_http_osint_request_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                    id;
    ngx_http_variable_value_t   *vv;
    ngx_http_osint_main_conf_t  *omcf;

    if (ngx_http_osint_header_in(r->main, "X-Request-ID", &id) == NGX_OK
        && ngx_http_osint_request_id_valid(id.data, id.len))
    {
        v->data = id.data;
        v->len = id.len;
        v->valid = 1;
        v->no_cacheable = 0;
        v->not_found = 0;

        return NGX_OK;
    }

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    ngx_http_osint_request_id_make(r, omcf->nginx_request_id_index);

    vv = ngx_http_get_indexed_variable(r, omcf->nginx_request_id_index);

    if (vv == NULL) {
        return NGX_ERROR;
    }

    *v = *vv;

    return NGX_OK;
}


/*
 * nginx's $request_id, when nothing has asked for it yet, made as nginx
 * makes it (16 bytes of RAND_bytes() in hex) into nginx's own cache of
 * the variable, so $request_id in a log says the same: the bytes come
 * from 4 KB the worker draws at a time.  RAND_bytes() costs OpenSSL 3
 * about as much for 16 bytes as for 4 KB, a sixth of the instructions of
 * an L1 hit.  Workers fill their own batch: a request is never served by
 * the master, which they are forked from.  Without OpenSSL, or when
 * RAND_bytes() fails, nginx makes it.
 */

static void
ngx_http_osint_request_id_make(ngx_http_request_t *r, ngx_int_t index)
{
#if (NGX_OPENSSL)

    u_char                     *id;
    ngx_http_variable_value_t  *vv;

    static u_char               random[4096];
    static size_t               left;

    vv = &r->variables[index];

    if (vv->valid || vv->not_found) {
        return;
    }

    if (left < 16) {
        if (RAND_bytes(random, sizeof(random)) != 1) {
            ERR_clear_error();
            return;
        }

        left = sizeof(random);
    }

    id = ngx_pnalloc(r->pool, 32);
    if (id == NULL) {
        return;
    }

    ngx_hex_dump(id, random + sizeof(random) - left, 16);
    left -= 16;

    vv->data = id;
    vv->len = 32;
    vv->valid = 1;
    vv->no_cacheable = 0;
    vv->not_found = 0;

#endif
}


/* a request header sent exactly once: NGX_OK; else NGX_DECLINED */

ngx_int_t
ngx_http_osint_header_in(ngx_http_request_t *r, char *name, ngx_str_t *value)
{
    size_t            len;
    ngx_uint_t        i, found;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    found = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            *value = h[i].value;
            found++;
        }
    }

    return found == 1 ? NGX_OK : NGX_DECLINED;
}
