
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The arguments of GET lookups remembered by each worker: what a query
 * string came to in a location, its canonical target, its type and the
 * providers called.  The same query string again in the same location
 * is not parsed, validated or matched against the providers and the
 * private ranges: its lookup is set up from what it came to last time
 * (and on an L1 hit its document is then recalled whole,
 * src/ngx_http_osint_document_memo.c).
 *
 * That is what ngx_http_osint_lookup_args() and _select() make of it:
 * both read only the query string and the configuration, but for three
 * things of the moment, checked here each time: a bypass of the cache
 * (osint_cache_bypass is evaluated per request, Cache-Control too), and
 * a provider disabled (no api key) or switched off by osint_control.  A
 * query that was refused, bypassed the cache, named a private target or
 * had a provider skipped is never remembered.  Kept in the worker's memo
 * (src/ngx_http_osint_memo.c) under keys of their own.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


/* a longer query string is parsed every time */
#define NGX_HTTP_OSINT_ARGS_MEMO_MAX  1024

/* what an arguments' memo key starts with: no lookup type is this */
#define NGX_HTTP_OSINT_ARGS_TAG       ((ngx_uint_t) -2)


/*
 * Remembered arguments, as the memo keeps them: this head, the indexes
 * of the providers called, in order, then the canonical target.
 */

typedef struct {
    uint32_t                    type;
    uint16_t                    ncalls;
    uint16_t                    refresh;    /* refresh=1 was asked */
} ngx_http_osint_args_head_t;


static ngx_int_t ngx_http_osint_lookup_key(ngx_http_osint_lookup_t *lk,
    ngx_str_t *key);


/*
 * Sets the lookup up from the arguments its query string came to last
 * time, as ngx_http_osint_lookup_args() and _select() would: NGX_OK;
 * NGX_DECLINED (nothing set) when not remembered or when something of
 * the moment differs, and then those two run.
 */

ngx_int_t
ngx_http_osint_lookup_recall(ngx_http_osint_lookup_t *lk)
{
    u_char                      *p;
    uint16_t                    *index;
    ngx_str_t                    key, kept, none;
    ngx_uint_t                   i;
    ngx_http_request_t          *r;
    ngx_http_osint_provider_t   *prov;
    ngx_http_osint_args_head_t  *head;

    r = lk->request;

    if (r->args.len == 0 || r->args.len > NGX_HTTP_OSINT_ARGS_MEMO_MAX) {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_lookup_key(lk, &key) != NGX_OK
        || ngx_http_osint_memo_get(lk->omcf, &key, lk->pool, &kept, &none)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* a copy of its own, aligned: the memo's may go while calls run */

    head = ngx_palloc(lk->pool, kept.len);
    if (head == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(head, kept.data, kept.len);

    index = (uint16_t *) (head + 1);
    p = (u_char *) (index + head->ncalls);

    if (head->ncalls == 0 || p > (u_char *) head + kept.len) {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_lookup_bypass(r, head->refresh)) {
        return NGX_DECLINED;
    }

    prov = lk->omcf->providers.elts;

    for (i = 0; i < head->ncalls; i++) {
        if (index[i] >= lk->omcf->providers.nelts
            || prov[index[i]].disabled
            || ngx_http_osint_switched_off(&prov[index[i]]))
        {
            return NGX_DECLINED;
        }
    }

    lk->calls = ngx_pcalloc(lk->pool,
                            head->ncalls * sizeof(ngx_http_osint_call_t));
    if (lk->calls == NULL) {
        return NGX_DECLINED;
    }

    for (i = 0; i < head->ncalls; i++) {
        ngx_http_osint_lookup_call(lk, &prov[index[i]]);
    }

    lk->type = head->type;
    lk->target.data = p;
    lk->target.len = (u_char *) head + kept.len - p;
    lk->refresh = head->refresh;
    lk->args_recalled = 1;

    return NGX_OK;
}


/*
 * Remembers what the query string of a GET lookup came to, its calls
 * over: only one that did not bypass the cache, whose target is not
 * private, and whose providers were all called (none refused as
 * disabled or private: a provider's skip of the moment, a breaker or a
 * bucket, is not the arguments')
 */

void
ngx_http_osint_lookup_remember(ngx_http_osint_lookup_t *lk)
{
    u_char                      *p;
    uint16_t                    *index;
    ngx_str_t                    key, kept, none;
    ngx_uint_t                   i;
    ngx_http_osint_provider_t   *prov;
    ngx_http_osint_args_head_t  *head;

    if (lk->args_recalled || lk->batch || lk->request == NULL
        || lk->bypass || lk->private.len || lk->ncalls == 0
        || lk->request->args.len > NGX_HTTP_OSINT_ARGS_MEMO_MAX)
    {
        return;
    }

    for (i = 0; i < lk->ncalls; i++) {
        if (ngx_http_osint_call_refused(&lk->calls[i])) {
            return;
        }
    }

    if (ngx_http_osint_lookup_key(lk, &key) != NGX_OK) {
        return;
    }

    kept.len = sizeof(ngx_http_osint_args_head_t)
               + lk->ncalls * sizeof(uint16_t) + lk->target.len;

    kept.data = ngx_palloc(lk->pool, kept.len);
    if (kept.data == NULL) {
        return;
    }

    head = (ngx_http_osint_args_head_t *) kept.data;
    head->type = (uint32_t) lk->type;
    head->ncalls = (uint16_t) lk->ncalls;
    head->refresh = lk->refresh;

    index = (uint16_t *) (head + 1);
    prov = lk->omcf->providers.elts;

    for (i = 0; i < lk->ncalls; i++) {
        index[i] = (uint16_t) (lk->calls[i].provider - prov);
    }

    p = (u_char *) (index + lk->ncalls);
    ngx_memcpy(p, lk->target.data, lk->target.len);

    ngx_str_null(&none);

    ngx_http_osint_memo_put(lk->omcf, &key, &kept, &none, lk->log);
}


/*
 * The memo key of a query string: a tag no other key starts with, the
 * location's configuration (its providers= and types=), the string
 */

static ngx_int_t
ngx_http_osint_lookup_key(ngx_http_osint_lookup_t *lk, ngx_str_t *key)
{
    u_char                     *p;
    ngx_uint_t                  tag;
    ngx_http_request_t         *r;
    ngx_http_osint_loc_conf_t  *olcf;

    r = lk->request;
    olcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_module);
    tag = NGX_HTTP_OSINT_ARGS_TAG;

    key->len = sizeof(ngx_uint_t) + sizeof(void *) + r->args.len;

    key->data = ngx_pnalloc(lk->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key->data, &tag, sizeof(ngx_uint_t));
    p = ngx_cpymem(p, &olcf, sizeof(void *));
    ngx_memcpy(p, r->args.data, r->args.len);

    return NGX_OK;
}
