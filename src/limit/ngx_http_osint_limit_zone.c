
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The limiter's shared memory zone: keys in an rbtree by crc32 and an
 * LRU queue, their expiry and eviction, refunds, and the RateLimit
 * state of a bucket.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"
#include "ngx_http_osint_limit.h"
#include "ngx_http_osint_limit_internal.h"


static void ngx_http_osint_limit_expire(ngx_http_osint_limit_zone_t *z,
    ngx_msec_t now);
static ngx_int_t ngx_http_osint_limit_evict(ngx_http_osint_limit_zone_t *z);
static time_t ngx_http_osint_limit_next_token(ngx_http_osint_limit_zone_t *z,
    double tokens);
static void ngx_http_osint_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


/*
 * The key's node, moved to the head of the LRU; with "create", a new one
 * (a full bucket) when there is none.  NULL: not found, or no memory even
 * after evicting.  Called with the zone's lock held: what is to be
 * warned of is kept in "ev" for ngx_http_osint_limit_unlock().
 */

ngx_http_osint_limit_node_t *
ngx_http_osint_limit_lookup(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev, ngx_uint_t create, ngx_msec_t now)
{
    size_t                         size;
    ngx_int_t                      rc;
    ngx_uint_t                     evicted;
    ngx_rbtree_node_t             *node, *sentinel;
    ngx_http_osint_limit_node_t   *ln;
    ngx_http_osint_limit_shctx_t  *sh;

    sh = z->sh;
    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (ev->hash < node->key) {
            node = node->left;
            continue;
        }

        if (ev->hash > node->key) {
            node = node->right;
            continue;
        }

        /* ev->hash == node->key */

        ln = (ngx_http_osint_limit_node_t *) node;

        rc = ngx_memn2cmp(ev->key.data, ln->data, ev->key.len,
                          (size_t) ln->len);

        if (rc == 0) {
            ngx_queue_remove(&ln->queue);
            ngx_queue_insert_head(&sh->lru, &ln->queue);
            return ln;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    if (!create) {
        return NULL;
    }

    ngx_http_osint_limit_expire(z, now);

    size = offsetof(ngx_http_osint_limit_node_t, data) + ev->key.len;

    ln = ngx_slab_alloc_locked(z->shpool, size);

    for (evicted = 0;
         ln == NULL && evicted < NGX_HTTP_OSINT_LIMIT_EVICT;
         evicted++)
    {
        if (ngx_http_osint_limit_evict(z) != NGX_OK) {
            break;
        }

        ln = ngx_slab_alloc_locked(z->shpool, size);
    }

    if (evicted) {
        (void) ngx_atomic_fetch_add(&sh->evictions, evicted);

        if (ngx_time() - sh->evict_logged >= 60) {
            sh->evict_logged = ngx_time();
            ev->evicted = sh->evictions;
        }
    }

    if (ln == NULL) {
        if (ngx_time() != sh->nomem_logged) {
            sh->nomem_logged = ngx_time();
            ev->nomem = 1;
        }

        return NULL;
    }

    ln->node.key = ev->hash;
    ln->len = (u_short) ev->key.len;
    ln->bucket.tokens = 0.0;
    ln->bucket.last = 0;        /* full at the first take */
    ln->lease = 0;
    ln->lease_exp = 0;
    ln->asking = 0;
    ln->left = 0;
    ln->reset = 0;
    ngx_memcpy(ln->data, ev->key.data, ev->key.len);

    ngx_rbtree_insert(&sh->rbtree, &ln->node);
    ngx_queue_insert_head(&sh->lru, &ln->queue);
    sh->keys++;

    return ln;
}


/*
 * Releases the zone's lock, then warns of what the lookup found: no
 * logging (a write(2) that may block) while other workers wait for it.
 */

void
ngx_http_osint_limit_unlock(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev, ngx_log_t *log)
{
    ngx_shmtx_unlock(&z->shpool->mutex);

    if (ev->evicted) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint_limit: zone \"%V\" is full, evicting the "
                      "least recently used keys (%uA so far); a larger "
                      "zone would keep them", &z->name, ev->evicted);
        ev->evicted = 0;
    }

    if (ev->nomem) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint_limit: zone \"%V\" has no room for a key of "
                      "%uz bytes, the request passes unlimited",
                      &z->name, ev->key.len);
        ev->nomem = 0;
    }
}


/* a key whose bucket is full again is the same as no key: up to two go */

static void
ngx_http_osint_limit_expire(ngx_http_osint_limit_zone_t *z, ngx_msec_t now)
{
    ngx_uint_t                    i;
    ngx_queue_t                  *q;
    ngx_http_osint_limit_node_t  *ln;

    for (i = 0; i < 2; i++) {

        if (ngx_queue_empty(&z->sh->lru)) {
            return;
        }

        q = ngx_queue_last(&z->sh->lru);
        ln = ngx_queue_data(q, ngx_http_osint_limit_node_t, queue);

        if (ngx_http_osint_bucket_tokens(&ln->bucket, &z->rate, now)
            < (double) z->rate.burst)
        {
            return;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&z->sh->rbtree, &ln->node);
        ngx_slab_free_locked(z->shpool, ln);
        z->sh->keys--;
    }
}


/* the least recently used key goes, full or not: the zone is too small */

static ngx_int_t
ngx_http_osint_limit_evict(ngx_http_osint_limit_zone_t *z)
{
    ngx_queue_t                  *q;
    ngx_http_osint_limit_node_t  *ln;

    if (ngx_queue_empty(&z->sh->lru)) {
        return NGX_DECLINED;
    }

    q = ngx_queue_last(&z->sh->lru);
    ln = ngx_queue_data(q, ngx_http_osint_limit_node_t, queue);

    ngx_queue_remove(q);
    ngx_rbtree_delete(&z->sh->rbtree, &ln->node);
    ngx_slab_free_locked(z->shpool, ln);
    z->sh->keys--;

    return NGX_OK;
}


/*
 * A later limit rejected the request: the token taken (or reserved) here
 * goes back.  The node is looked up again: another worker may have
 * evicted it meanwhile, and a new one would be full anyway.
 */

void
ngx_http_osint_limit_refund(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev, ngx_msec_t now, ngx_log_t *log)
{
    ngx_http_osint_limit_node_t  *ln;

    ngx_shmtx_lock(&z->shpool->mutex);

    ln = ngx_http_osint_limit_lookup(z, ev, 0, now);

    if (ln && ev->synced) {
        /* Redis's token: to the lease, for the next request */
        ln->lease++;
        ln->lease_exp = now + NGX_HTTP_OSINT_LIMIT_LEASE_TTL;
        ev->remaining = ln->left + ln->lease;

    } else if (ln) {
        ln->bucket.tokens += 1.0;

        if (ln->bucket.tokens > (double) z->rate.burst) {
            ln->bucket.tokens = (double) z->rate.burst;
        }

        ngx_http_osint_limit_state(z, &ln->bucket, now, ev);

    } else {
        ev->remaining = z->rate.burst;
        ev->reset = 0;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    ev->took = 0;
}


/* r and t of the RateLimit field, from the bucket as it is now */

void
ngx_http_osint_limit_state(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_bucket_t *b, ngx_msec_t now,
    ngx_http_osint_limit_eval_t *ev)
{
    double  tokens;

    tokens = ngx_http_osint_bucket_tokens(b, &z->rate, now);

    ev->remaining = tokens >= 1.0 ? (ngx_uint_t) tokens : 0;
    ev->reset = ngx_http_osint_limit_next_token(z, tokens);
    ev->known = 1;
}


/* whole seconds, rounded up, until the next whole token; 0: full */

static time_t
ngx_http_osint_limit_next_token(ngx_http_osint_limit_zone_t *z,
    double tokens)
{
    double      next;
    ngx_msec_t  ms;

    if (tokens >= (double) z->rate.burst) {
        return 0;
    }

    next = tokens >= 0.0 ? (double) (ngx_uint_t) tokens + 1.0 : 1.0;

    ms = (ngx_msec_t) ((next - tokens) / z->rate.per_ms + 0.999);

    if (ms == 0) {
        ms = 1;
    }

    return (time_t) ((ms + 999) / 1000);
}


static void
ngx_http_osint_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t            **p;
    ngx_http_osint_limit_node_t   *ln, *lnt;

    for ( ;; ) {

        if (node->key < temp->key) {

            p = &temp->left;

        } else if (node->key > temp->key) {

            p = &temp->right;

        } else { /* node->key == temp->key */

            ln = (ngx_http_osint_limit_node_t *) node;
            lnt = (ngx_http_osint_limit_node_t *) temp;

            p = (ngx_memn2cmp(ln->data, lnt->data, ln->len, lnt->len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/*
 * A reload with the same name and size hands over the memory: the keys
 * and their buckets are kept, even if the key, rate or burst changed (a
 * bucket then refills to the new burst).  The header is found through
 * shpool->data, never through the old configuration's structures, which
 * an older module version may have laid out differently; a header of an
 * other layout is left to the old workers and a new one is made.
 */

ngx_int_t
ngx_http_osint_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                         len;
    ngx_http_osint_limit_zone_t   *z;
    ngx_http_osint_limit_shctx_t  *sh;

    z = shm_zone->data;
    z->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data || shm_zone->shm.exists) {
        sh = z->shpool->data;

        if (sh && sh->signature == NGX_HTTP_OSINT_LIMIT_SIGNATURE) {
            z->sh = sh;
            return NGX_OK;
        }
    }

    sh = ngx_slab_calloc(z->shpool, sizeof(ngx_http_osint_limit_shctx_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->signature = NGX_HTTP_OSINT_LIMIT_SIGNATURE;

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                    ngx_http_osint_limit_rbtree_insert_value);
    ngx_queue_init(&sh->lru);

    z->sh = sh;
    z->shpool->data = sh;

    len = sizeof(" in osint_limit_zone \"\"") + shm_zone->shm.name.len;

    z->shpool->log_ctx = ngx_slab_alloc(z->shpool, len);
    if (z->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(z->shpool->log_ctx, " in osint_limit_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is routine: it evicts and says so itself */

    z->shpool->log_nomem = 0;

    return NGX_OK;
}
