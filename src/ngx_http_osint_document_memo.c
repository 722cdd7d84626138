
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Documents remembered whole by each worker, for lookups that every
 * provider answers from L1.  Two such lookups of one target, type and
 * set of providers differ only in what is of the request: request_id,
 * elapsed_ms, and each provider's latency_ms and age, the document's
 * "holes" (NGX_HTTP_OSINT_HOLES()).  The first one's document is kept
 * with its holes cut out, beside each answer's L1 key and generation.
 * The next lookup confirms under one lock that each entry is still the
 * one of that generation and fresh (ngx_http_osint_l1_confirm()), serves
 * each call as the L1 hit it is, and fills the holes in: no answer is
 * copied out of the zone, no summary looked up, nothing escaped but the
 * request_id.  Anything else (a miss, a stale entry, refresh, an entry
 * stored again or purged, which ends its generation) takes the whole
 * path, which remembers the new document.
 *
 * The holes are written by the function that writes them on the whole
 * path (ngx_http_osint_document_hole()), and the rest is that path's
 * bytes: a recalled document is what the whole path would have written
 * (t/80 holds one to the other).  Kept in the worker's memo
 * (src/ngx_http_osint_memo.c) under keys of their own.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


/* a lookup of more providers than this is not remembered */
#define NGX_HTTP_OSINT_DOCUMENT_CALLS  16

/* what a document's memo key starts with: no lookup type is this */
#define NGX_HTTP_OSINT_DOCUMENT_TAG    ((ngx_uint_t) -1)


/*
 * A remembered document, as the memo keeps it: one of these a call (their
 * number is the key's), NGX_HTTP_OSINT_HOLES() offsets of the holes in
 * the text, the calls' L1 keys one after another, then the text without
 * its holes, to the end.
 */

typedef struct {
    uint64_t                    gen;
    time_t                      answered;
    uint32_t                    hash;
    uint16_t                    key_len;
    uint16_t                    status;
} ngx_http_osint_document_call_t;


struct ngx_http_osint_recalled_s {
    u_char                     *text;
    size_t                      text_len;
    uint32_t                   *holes;
};


static ngx_int_t ngx_http_osint_document_key(ngx_http_osint_lookup_t *lk,
    ngx_str_t *key);


/*
 * Serves the lookup from the document the worker remembers for it, when
 * every entry it was made of is still fresh: each call ends as an L1 hit
 * and lk->recalled is the document.  NGX_DECLINED: no call was touched.
 */

ngx_int_t
ngx_http_osint_document_recall(ngx_http_osint_lookup_t *lk)
{
    u_char                          *p, *last;
    ngx_str_t                        key, kept, verdict;
    ngx_uint_t                       i, n;
    ngx_http_osint_shm_t            *ctx;
    ngx_http_osint_recalled_t       *rd;
    ngx_http_osint_l1_ref_t          refs[NGX_HTTP_OSINT_DOCUMENT_CALLS];
    ngx_http_osint_document_call_t  *dc;

    n = lk->ncalls;

    if (lk->request == NULL || lk->bypass || !lk->omcf->cache_l1
        || n == 0 || n > NGX_HTTP_OSINT_DOCUMENT_CALLS)
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        if (lk->calls[i].status != NGX_HTTP_OSINT_PENDING) {
            return NGX_DECLINED;
        }
    }

    if (ngx_http_osint_document_key(lk, &key) != NGX_OK
        || ngx_http_osint_memo_get(lk->omcf, &key, lk->pool, &kept, &verdict)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* a copy of its own, aligned: the memo's may go before it is sent */

    rd = ngx_palloc(lk->pool, sizeof(ngx_http_osint_recalled_t) + kept.len);
    if (rd == NULL) {
        return NGX_DECLINED;
    }

    dc = (ngx_http_osint_document_call_t *) (rd + 1);
    last = ngx_cpymem(dc, kept.data, kept.len);

    rd->holes = (uint32_t *) (dc + n);
    p = (u_char *) (rd->holes + NGX_HTTP_OSINT_HOLES(n));

    for (i = 0; i < n; i++) {
        refs[i].key = p;
        refs[i].key_len = dc[i].key_len;
        refs[i].hash = dc[i].hash;
        refs[i].gen = dc[i].gen;
        p += dc[i].key_len;
    }

    rd->text = p;
    rd->text_len = last - p;

    if (ngx_http_osint_l1_confirm(lk->omcf, refs, n) != NGX_OK) {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        ngx_http_osint_call_recall(&lk->calls[i], dc[i].status,
                                   dc[i].answered, refs[i].expires,
                                   dc[i].gen);
    }

    lk->verdict = verdict;
    lk->recalled = rd;

    ctx = lk->omcf->shm_zone->data;
    (void) ngx_atomic_fetch_add(&ctx->sh->counters.cache_recalled, 1);

    return NGX_OK;
}


/*
 * Whether the lookup's document may be remembered: every provider
 * answered (ok or not_found) from a fresh L1 entry, as the only way
 * ngx_http_osint_document_recall() serves it again.
 */

ngx_uint_t
ngx_http_osint_document_memorable(ngx_http_osint_lookup_t *lk)
{
    ngx_uint_t              i;
    ngx_http_osint_call_t  *call;

    if (lk->request == NULL || lk->bypass || lk->recalled
        || lk->ncalls == 0 || lk->ncalls > NGX_HTTP_OSINT_DOCUMENT_CALLS)
    {
        return 0;
    }

    for (i = 0; i < lk->ncalls; i++) {
        call = &lk->calls[i];

        if (call->cache != NGX_HTTP_OSINT_SRC_L1
            || (call->status != NGX_HTTP_OSINT_OK
                && call->status != NGX_HTTP_OSINT_NOT_FOUND)
            || call->gen == 0
            || call->answered == 0
            || call->attempts
            || call->stale_reason != NGX_HTTP_OSINT_ERR_NONE)
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Remembers the document the whole path wrote for a memorable lookup;
 * holes[2h] and holes[2h + 1] are where hole h starts and ends in it.
 * A document larger than the memo keeps is not copied to find that out.
 */

void
ngx_http_osint_document_remember(ngx_http_osint_lookup_t *lk, ngx_str_t *doc,
    u_char **holes)
{
    u_char                          *p, *from;
    size_t                           len;
    uint32_t                        *at;
    ngx_str_t                        key, kept;
    ngx_uint_t                       i, h, n;
    ngx_http_osint_call_t           *call;
    ngx_http_osint_document_call_t  *dc;

    n = lk->ncalls;

    /* the keys' room at their longest: each is written once, in place */

    kept.len = n * sizeof(ngx_http_osint_document_call_t)
               + NGX_HTTP_OSINT_HOLES(n) * sizeof(uint32_t)
               + n * NGX_HTTP_OSINT_KEY_MAX + doc->len;

    if (doc->len > NGX_HTTP_OSINT_MEMO_ENTRY
        || ngx_http_osint_document_key(lk, &key) != NGX_OK)
    {
        return;
    }

    kept.data = ngx_palloc(lk->pool, kept.len);
    if (kept.data == NULL) {
        return;
    }

    dc = (ngx_http_osint_document_call_t *) kept.data;
    at = (uint32_t *) (dc + n);
    p = (u_char *) (at + NGX_HTTP_OSINT_HOLES(n));

    for (i = 0; i < n; i++) {
        call = &lk->calls[i];

        len = ngx_http_osint_l1_key(p, call->provider, &lk->target);

        dc[i].gen = call->gen;
        dc[i].answered = call->answered;
        dc[i].hash = ngx_crc32_short(p, len);
        dc[i].key_len = (uint16_t) len;
        dc[i].status = (uint16_t) call->status;

        p += len;
    }

    /* the text between the holes, and where each hole goes in it */

    from = doc->data;
    len = 0;

    for (h = 0; h < NGX_HTTP_OSINT_HOLES(n); h++) {
        p = ngx_cpymem(p, from, holes[2 * h] - from);
        len += holes[2 * h] - from;
        at[h] = (uint32_t) len;
        from = holes[2 * h + 1];
    }

    p = ngx_cpymem(p, from, doc->data + doc->len - from);

    kept.len = p - kept.data;

    ngx_http_osint_memo_put(lk->omcf, &key, &kept, &lk->verdict, lk->log);
}


/* the recalled document with this request's holes filled in, into "pool" */

ngx_int_t
ngx_http_osint_document_compose(ngx_http_osint_lookup_t *lk, ngx_pool_t *pool,
    ngx_str_t *doc)
{
    u_char                     *p;
    char                       *request_id;
    size_t                      from;
    ngx_uint_t                  h;
    ngx_http_osint_recalled_t  *rd;

    rd = lk->recalled;

    request_id = ngx_http_osint_cstring(lk->pool, &lk->request_id);
    if (request_id == NULL) {
        return NGX_ERROR;
    }

    doc->data = ngx_pnalloc(pool, rd->text_len
                                  + ngx_http_osint_document_holes_size(lk)
                                  + 1);
    if (doc->data == NULL) {
        return NGX_ERROR;
    }

    p = doc->data;
    from = 0;

    for (h = 0; h < NGX_HTTP_OSINT_HOLES(lk->ncalls); h++) {
        p = ngx_cpymem(p, rd->text + from, rd->holes[h] - from);
        p = ngx_http_osint_document_hole(p, lk, request_id, h);
        from = rd->holes[h];
    }

    p = ngx_cpymem(p, rd->text + from, rd->text_len - from);

    doc->len = p - doc->data;

    return NGX_OK;
}


/*
 * The memo key of a lookup's document: a tag no summary's key starts
 * with, the type, the providers in the order of the calls, the target.
 */

static ngx_int_t
ngx_http_osint_document_key(ngx_http_osint_lookup_t *lk, ngx_str_t *key)
{
    u_char      *p;
    ngx_uint_t   i, head[3];

    key->len = sizeof(head) + lk->ncalls * sizeof(void *) + lk->target.len;

    key->data = ngx_pnalloc(lk->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    head[0] = NGX_HTTP_OSINT_DOCUMENT_TAG;
    head[1] = lk->type;
    head[2] = lk->ncalls;

    p = ngx_cpymem(key->data, head, sizeof(head));

    for (i = 0; i < lk->ncalls; i++) {
        p = ngx_cpymem(p, &lk->calls[i].provider, sizeof(void *));
    }

    ngx_memcpy(p, lk->target.data, lk->target.len);

    return NGX_OK;
}
