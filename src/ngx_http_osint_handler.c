
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The door of osint_lookup: a POST is a batch (ngx_http_osint_batch.c),
 * a GET or HEAD one lookup, anything else 405.  A GET's arguments are
 * read here, its lookup run (ngx_http_osint_lookup.c) and answered here,
 * at once or through lk->done when its calls end; a request refused as
 * bad input is counted here, in osint_lookups_total{result="invalid"}.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


static ngx_int_t ngx_http_osint_get(ngx_http_request_t *r);
static void ngx_http_osint_get_done(ngx_http_osint_lookup_t *lk);
static ngx_int_t ngx_http_osint_respond(ngx_http_osint_lookup_t *lk);
static ngx_int_t ngx_http_osint_cache_control(ngx_http_osint_lookup_t *lk);
static ngx_int_t ngx_http_osint_not_allowed(ngx_http_request_t *r);


ngx_int_t
ngx_http_osint_lookup_handler(ngx_http_request_t *r)
{
    if (r->method == NGX_HTTP_POST) {
        return ngx_http_osint_batch_handler(r);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_osint_not_allowed(r);
    }

    return ngx_http_osint_get(r);
}


static ngx_int_t
ngx_http_osint_get(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_str_t                 filter;
    ngx_http_osint_ctx_t     *ctx;
    ngx_http_osint_lookup_t  *lk;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    lk = ngx_http_osint_lookup_new(r);
    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_osint_ctx_t));

    if (lk == NULL || ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lk->done = ngx_http_osint_get_done;

    ctx->lookup = lk;
    ngx_http_set_ctx(r, ctx, ngx_http_osint_module);

    /* a query string seen before: what it came to, if nothing differs */

    rc = ngx_http_osint_lookup_recall(lk);

    if (rc != NGX_OK) {
        rc = ngx_http_osint_lookup_args(lk, &filter);

        if (rc == NGX_OK) {
            rc = ngx_http_osint_lookup_select(lk, &filter);
        }
    }

    if (rc == NGX_DECLINED) {
        ngx_http_osint_count_invalid(r);

        return ngx_http_osint_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         lk->reject_kind, "%V",
                                         &lk->reject);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_osint_lookup_run(lk);

    if (rc == NGX_OK) {
        return ngx_http_osint_respond(lk);
    }

    if (rc != NGX_AGAIN) {
        return rc;
    }

    if (!r->discard_body) {
        r->read_event_handler = ngx_http_osint_check_broken;
    }

    r->main->count++;

    return NGX_DONE;
}


/* lk->done of a GET: its calls have ended, or its deadline fired */

static void
ngx_http_osint_get_done(ngx_http_osint_lookup_t *lk)
{
    ngx_http_finalize_request(lk->request, ngx_http_osint_respond(lk));
}


/* the lookup document: 200 or 502 (counted), and X-Cache-Status */

static ngx_int_t
ngx_http_osint_respond(ngx_http_osint_lookup_t *lk)
{
    ngx_buf_t           *b;
    ngx_uint_t           status;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = lk->request;

    /* what its query string came to, for the next one: its calls are over */

    ngx_http_osint_lookup_remember(lk);

    status = ngx_http_osint_lookup_status(lk);

    b = ngx_http_osint_lookup_buf(lk, r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Cache-Status");
    h->value.data = (u_char *) lk->cache_status;
    h->value.len = ngx_strlen(lk->cache_status);

    if (ngx_http_osint_cache_control(lk) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_osint_send_buf(r, status, b);
}


/* Cache-Control: max-age=N, the answers' least freshness, or no-store */

static ngx_int_t
ngx_http_osint_cache_control(ngx_http_osint_lookup_t *lk)
{
    u_char     *p, *last;
    ngx_int_t   max_age;

    max_age = ngx_http_osint_lookup_max_age(lk);

    if (max_age < 0) {
        return ngx_http_osint_add_text_header(lk->request, "Cache-Control",
                                              "no-store");
    }

    p = ngx_pnalloc(lk->request->pool, sizeof("max-age=") + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = ngx_cpymem(p, "max-age=", sizeof("max-age=") - 1);
    last = ngx_http_osint_decimal(last, (uint64_t) max_age);

    return ngx_http_osint_add_header(lk->request, "Cache-Control", p,
                                     last - p);
}


static ngx_int_t
ngx_http_osint_not_allowed(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    ngx_str_set(&h->value, "GET, HEAD, POST");

    return ngx_http_osint_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                     "invalid_parameter",
                                     "method not allowed: use GET, or "
                                     "POST for a batch");
}
