
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Summaries remembered by each worker.  A lookup's summary is a function
 * of its target, its type and its calls' providers, statuses and answers;
 * an answer from L1 is named exactly by its entry's generation (a store
 * gives an entry a generation never given before), one from Redis by its
 * text, so (type, target, each call's provider, status and answer's name)
 * is a key that cannot name another summary.  A lookup that finds its key
 * copies the summary's text and verdict instead of parsing every answer
 * and merging them: on an L1 hit that was most of a worker's CPU.
 *
 * The memo lives in the worker's memory, in the cycle: a reload starts
 * with none (providers are new), nothing is locked, and an answer that
 * changes makes a new key, so nothing is ever invalidated: entries go
 * least recently used first, within NGX_HTTP_OSINT_MEMO_SIZE bytes.
 *
 * Whole documents of L1 hits (src/ngx_http_osint_document_memo.c) and
 * what GET query strings came to (src/ngx_http_osint_lookup_memo.c) are
 * remembered here too, under keys of their own, the text a "summary".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


typedef struct {
    ngx_str_node_t              sn;         /* node.key: murmur hash of
                                               str, the key in data */
    ngx_queue_t                 lru;
    size_t                      size;       /* of the whole node */
    size_t                      summary_len;
    size_t                      verdict_len;
    u_char                      data[1];    /* key, summary, verdict */
} ngx_http_osint_memo_node_t;


struct ngx_http_osint_memo_s {
    ngx_rbtree_t                tree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 lru;
    size_t                      size;       /* of the nodes */
};


static ngx_http_osint_memo_t *ngx_http_osint_memo(
    ngx_http_osint_main_conf_t *omcf);
static void ngx_http_osint_memo_free(ngx_http_osint_memo_t *memo,
    ngx_http_osint_memo_node_t *mn);
static void ngx_http_osint_memo_cleanup(void *data);


/*
 * The key of the lookup's summary, in its pool: the type, and for each
 * call its provider, its status and what names its answer: the L1
 * entry's generation, or the answer's text itself (a Redis hit, a stale
 * fallback), then the target and those texts.  Every length is in the
 * fixed-size part, so no two keys of other fields run together.
 * NGX_DECLINED: an answer with neither (one asked of its provider now,
 * whose summary is merged anyway), or texts too long to be worth it.
 */

ngx_int_t
ngx_http_osint_memo_key(ngx_http_osint_lookup_t *lk, ngx_str_t *key)
{
    u_char                 *p;
    size_t                  texts;
    ngx_uint_t              i, n;
    ngx_http_osint_call_t  *call;

    texts = 0;

    for (i = 0; i < lk->ncalls; i++) {
        call = &lk->calls[i];

        if (call->status != NGX_HTTP_OSINT_OK || call->gen) {
            continue;
        }

        /*
         * an answer asked of its provider now has its text too (stored
         * as it was printed), but its summary is seldom asked for again
         * before its L1 entry names it: not remembered
         */

        if (call->text.len == 0
            || (call->cache != NGX_HTTP_OSINT_SRC_REDIS
                && call->cache != NGX_HTTP_OSINT_SRC_STALE))
        {
            return NGX_DECLINED;
        }

        texts += call->text.len;
    }

    if (texts > NGX_HTTP_OSINT_MEMO_ENTRY) {
        return NGX_DECLINED;
    }

    key->len = sizeof(ngx_uint_t) * 2 + lk->target.len + texts
               + lk->ncalls * (sizeof(void *) + sizeof(ngx_uint_t)
                               + sizeof(uint64_t) + sizeof(size_t));

    key->data = ngx_pnalloc(lk->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    n = lk->type;
    p = ngx_cpymem(key->data, &n, sizeof(ngx_uint_t));
    n = lk->target.len;
    p = ngx_cpymem(p, &n, sizeof(ngx_uint_t));

    for (i = 0; i < lk->ncalls; i++) {
        call = &lk->calls[i];

        n = call->status;
        texts = (n == NGX_HTTP_OSINT_OK && call->gen == 0) ? call->text.len
                                                           : 0;

        p = ngx_cpymem(p, &call->provider, sizeof(void *));
        p = ngx_cpymem(p, &n, sizeof(ngx_uint_t));
        p = ngx_cpymem(p, &call->gen, sizeof(uint64_t));
        p = ngx_cpymem(p, &texts, sizeof(size_t));
    }

    p = ngx_cpymem(p, lk->target.data, lk->target.len);

    for (i = 0; i < lk->ncalls; i++) {
        call = &lk->calls[i];

        if (call->status == NGX_HTTP_OSINT_OK && call->gen == 0) {
            p = ngx_cpymem(p, call->text.data, call->text.len);
        }
    }

    return NGX_OK;
}


/*
 * The summary of the key, if remembered: its text, the worker's until it
 * remembers another (ngx_http_osint_memo_put() may forget this one), and
 * its verdict, copied into the pool for the rest of the request.
 */

ngx_int_t
ngx_http_osint_memo_get(ngx_http_osint_main_conf_t *omcf, ngx_str_t *key,
    ngx_pool_t *pool, ngx_str_t *summary, ngx_str_t *verdict)
{
    u_char                      *p;
    ngx_http_osint_memo_t       *memo;
    ngx_http_osint_memo_node_t  *mn;

    memo = ngx_http_osint_memo(omcf);
    if (memo == NULL) {
        return NGX_DECLINED;
    }

    mn = (ngx_http_osint_memo_node_t *) ngx_str_rbtree_lookup(&memo->tree,
                                   key, ngx_murmur_hash2(key->data, key->len));
    if (mn == NULL) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(pool, mn->verdict_len);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    summary->data = mn->data + mn->sn.str.len;
    summary->len = mn->summary_len;

    verdict->data = p;
    verdict->len = mn->verdict_len;
    ngx_memcpy(p, summary->data + summary->len, mn->verdict_len);

    ngx_queue_remove(&mn->lru);
    ngx_queue_insert_head(&memo->lru, &mn->lru);

    return NGX_OK;
}


/*
 * Remembers a summary (or a document, or a query string's arguments),
 * forgetting the least recently used to make room
 */

void
ngx_http_osint_memo_put(ngx_http_osint_main_conf_t *omcf, ngx_str_t *key,
    ngx_str_t *summary, ngx_str_t *verdict, ngx_log_t *log)
{
    size_t                       size;
    uint32_t                     hash;
    ngx_queue_t                 *q;
    ngx_http_osint_memo_t       *memo;
    ngx_http_osint_memo_node_t  *mn;

    size = offsetof(ngx_http_osint_memo_node_t, data)
           + key->len + summary->len + verdict->len;

    if (size > NGX_HTTP_OSINT_MEMO_ENTRY) {
        return;
    }

    memo = ngx_http_osint_memo(omcf);
    if (memo == NULL) {
        return;
    }

    hash = ngx_murmur_hash2(key->data, key->len);

    /*
     * a summary's key names its answers: one found is the same summary;
     * a document's names its lookup only: the new one replaces the old
     */

    mn = (ngx_http_osint_memo_node_t *) ngx_str_rbtree_lookup(&memo->tree,
                                                               key, hash);
    if (mn) {
        ngx_http_osint_memo_free(memo, mn);
    }

    while (memo->size + size > NGX_HTTP_OSINT_MEMO_SIZE
           && !ngx_queue_empty(&memo->lru))
    {
        q = ngx_queue_last(&memo->lru);
        ngx_http_osint_memo_free(memo,
                       ngx_queue_data(q, ngx_http_osint_memo_node_t, lru));
    }

    mn = ngx_alloc(size, log);
    if (mn == NULL) {
        return;
    }

    mn->sn.node.key = hash;
    mn->sn.str.len = key->len;
    mn->sn.str.data = mn->data;
    mn->size = size;
    mn->summary_len = summary->len;
    mn->verdict_len = verdict->len;

    ngx_memcpy(ngx_cpymem(ngx_cpymem(mn->data, key->data, key->len),
                          summary->data, summary->len),
               verdict->data, verdict->len);

    ngx_rbtree_insert(&memo->tree, &mn->sn.node);
    ngx_queue_insert_head(&memo->lru, &mn->lru);
    memo->size += size;
}


/* the worker's memo, made at first use, freed with the cycle */

static ngx_http_osint_memo_t *
ngx_http_osint_memo(ngx_http_osint_main_conf_t *omcf)
{
    ngx_pool_cleanup_t     *cln;
    ngx_http_osint_memo_t  *memo;

    if (omcf->memo) {
        return omcf->memo;
    }

    cln = ngx_pool_cleanup_add(ngx_cycle->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    memo = ngx_pcalloc(ngx_cycle->pool, sizeof(ngx_http_osint_memo_t));
    if (memo == NULL) {
        return NULL;
    }

    ngx_rbtree_init(&memo->tree, &memo->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&memo->lru);

    cln->handler = ngx_http_osint_memo_cleanup;
    cln->data = memo;

    omcf->memo = memo;

    return memo;
}


static void
ngx_http_osint_memo_free(ngx_http_osint_memo_t *memo,
    ngx_http_osint_memo_node_t *mn)
{
    ngx_rbtree_delete(&memo->tree, &mn->sn.node);
    ngx_queue_remove(&mn->lru);
    memo->size -= mn->size;
    ngx_free(mn);
}


static void
ngx_http_osint_memo_cleanup(void *data)
{
    ngx_http_osint_memo_t *memo = data;

    ngx_queue_t  *q;

    while (!ngx_queue_empty(&memo->lru)) {
        q = ngx_queue_head(&memo->lru);
        ngx_http_osint_memo_free(memo,
                       ngx_queue_data(q, ngx_http_osint_memo_node_t, lru));
    }
}
