
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The L1 cache in the osint zone: normalised answers per (provider, its
 * configuration's fingerprint, canonical target), indexed by a hash
 * table with an LRU queue, shared by all workers and kept across
 * reloads.  A table and not an rbtree: a zone of a few hundred
 * megabytes holds hundreds of thousands of entries, and each level of a
 * tree that deep is a cache miss under the lock every worker takes,
 * several times a lookup; a bucket is one or two.  An entry
 * also carries the update lock that coalesces concurrent misses across
 * workers (as proxy_cache_lock does).  The value format both tiers
 * store is in src/core/ngx_http_osint_cache_value.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


/* a full zone is warned of at most this often, in seconds */
#define NGX_HTTP_OSINT_EVICT_LOG_EVERY  60

/*
 * Work under the zone's lock is bounded: a store evicts at most this many
 * unexpired entries, then gives up (the answer is not kept in L1), and an
 * answer larger than 1/L1_SHARE of the zone is never kept in L1.
 */
#define NGX_HTTP_OSINT_EVICT_MAX        16
#define NGX_HTTP_OSINT_L1_SHARE         8

/*
 * A bucket of the index for each this many bytes of the zone: an entry
 * takes a few hundred, so chains stay short even in a zone full of the
 * smallest answers, and the table costs under 1% of the zone.
 */
#define NGX_HTTP_OSINT_L1_BUCKET_BYTES  1024
#define NGX_HTTP_OSINT_L1_BUCKETS_MIN   32

/*
 * A bucket holds at most this many entries: crc32 is no keyed hash, and
 * targets are the client's to choose, so one could pick thousands whose
 * keys share a bucket and make every find walk them under the lock.  A
 * store into a full bucket is not kept in L1 (as a store that finds no
 * room).  By chance it does not happen: an entry takes at least 128
 * bytes of slab, so a bucket's share is at most eight, and a bucket
 * fills with a probability under 10^-9 (Poisson) even then.
 */
#define NGX_HTTP_OSINT_L1_CHAIN_MAX     32


static ngx_http_osint_cache_node_t *ngx_http_osint_l1_find(
    ngx_http_osint_shctx_t *sh, uint32_t hash, u_char *key, size_t len);
static ngx_http_osint_cache_node_t *ngx_http_osint_l1_alloc(
    ngx_http_osint_shm_t *ctx, size_t size, ngx_uint_t *full);
static void ngx_http_osint_l1_full(ngx_uint_t entries, ngx_log_t *log);
static ngx_uint_t ngx_http_osint_l1_room(ngx_http_osint_shctx_t *sh,
    uint32_t hash);
static void ngx_http_osint_l1_insert(ngx_http_osint_shctx_t *sh,
    ngx_http_osint_cache_node_t *cn);
static void ngx_http_osint_l1_free(ngx_http_osint_shm_t *ctx,
    ngx_http_osint_cache_node_t *cn);


/* a new zone's empty cache: the index sized by the zone, a power of two */

ngx_int_t
ngx_http_osint_init_cache(ngx_http_osint_shm_t *ctx, size_t size)
{
    ngx_uint_t                     n;
    ngx_http_osint_cache_node_t  **buckets;

    n = NGX_HTTP_OSINT_L1_BUCKETS_MIN;

    while (n < size / NGX_HTTP_OSINT_L1_BUCKET_BYTES) {
        n <<= 1;
    }

    buckets = ngx_slab_calloc(ctx->shpool, n * sizeof(*buckets));
    if (buckets == NULL) {
        return NGX_ERROR;
    }

    ctx->sh->cache_index = buckets;
    ctx->sh->cache_mask = n - 1;
    ngx_queue_init(&ctx->sh->cache_lru);

    return NGX_OK;
}


/*
 * Looks the answer up.  On a miss, and on an entry only good as stale,
 * the caller gets the update lock for "lock" ms: other calls for the same
 * answer wait (NGX_HTTP_OSINT_L1_BUSY) instead of asking the provider too.
 * An answer found comes with when the provider gave it and when its
 * freshness ends (0 when stale), in seconds of ngx_time(), and with the
 * entry's generation.
 */

ngx_http_osint_l1_e
ngx_http_osint_l1_get(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target, ngx_msec_t lock,
    ngx_pool_t *pool, ngx_http_osint_l1_answer_t *answer)
{
    u_char                        key[NGX_HTTP_OSINT_KEY_MAX];
    size_t                        len;
    uint32_t                      hash;
    ngx_uint_t                    full;
    ngx_msec_t                    now;
    ngx_http_osint_l1_e           rc;
    ngx_http_osint_shm_t         *ctx;
    ngx_http_osint_cache_node_t  *cn;

    len = ngx_http_osint_l1_key(key, p, target);

    hash = ngx_crc32_short(key, len);
    ctx = omcf->shm_zone->data;
    now = ngx_current_msec;
    full = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    cn = ngx_http_osint_l1_find(ctx->sh, hash, key, len);

    if (cn && cn->status
        && (ngx_msec_int_t) (cn->fresh_until - now) > 0)
    {
        rc = NGX_HTTP_OSINT_L1_FRESH;
        goto copy;
    }

    /*
     * stale-while-revalidate: an ok answer within revalidate= of its
     * freshness is served at once; the first caller takes the lock for
     * a background refresh of a whole osint_deadline, the others find it
     * taken and only serve
     */

    if (cn && cn->status == NGX_HTTP_OSINT_OK && p->cache_revalidate
        && (ngx_msec_int_t) (cn->fresh_until + p->cache_revalidate - now) > 0)
    {
        if ((ngx_msec_int_t) (cn->updating_until - now) > 0) {
            rc = NGX_HTTP_OSINT_L1_UPDATING;

        } else {
            cn->updating_until = now + omcf->deadline;
            rc = NGX_HTTP_OSINT_L1_REFRESH;
        }

        goto copy;
    }

    if (cn && (ngx_msec_int_t) (cn->updating_until - now) > 0) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_HTTP_OSINT_L1_BUSY;
    }

    if (cn == NULL) {
        /* a placeholder that holds the lock until the answer comes */

        cn = ngx_http_osint_l1_room(ctx->sh, hash)
             ? ngx_http_osint_l1_alloc(ctx, len, &full) : NULL;

        if (cn == NULL) {
            ngx_shmtx_unlock(&ctx->shpool->mutex);
            ngx_http_osint_l1_full(full, pool->log);
            return NGX_HTTP_OSINT_L1_MISS;
        }

        cn->hash = hash;
        cn->owner = p->state;
        cn->owner->cache_entries++;
        cn->key_len = (u_short) len;
        cn->status = 0;
        cn->value_len = 0;
        cn->fresh_until = now;
        cn->answered = 0;
        cn->gen = 0;
        cn->stale_until = now;
        ngx_memcpy(cn->data, key, len);

        ngx_http_osint_l1_insert(ctx->sh, cn);
        ngx_queue_insert_head(&ctx->sh->cache_lru, &cn->lru);
        ctx->sh->cache_entries++;
    }

    cn->updating_until = now + lock;

    if (cn->status == 0 || (ngx_msec_int_t) (cn->stale_until - now) <= 0) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        ngx_http_osint_l1_full(full, pool->log);
        return NGX_HTTP_OSINT_L1_MISS;
    }

    rc = NGX_HTTP_OSINT_L1_STALE;

copy:

    ngx_queue_remove(&cn->lru);
    ngx_queue_insert_head(&ctx->sh->cache_lru, &cn->lru);

    answer->answered = cn->answered;
    answer->expires = (rc == NGX_HTTP_OSINT_L1_FRESH)
                      ? ngx_time() + (time_t) ((cn->fresh_until - now) / 1000)
                      : 0;
    answer->status = cn->status;
    answer->gen = cn->gen;
    answer->value.len = cn->value_len;
    answer->value.data = ngx_pnalloc(pool, cn->value_len + 1);

    if (answer->value.data == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_HTTP_OSINT_L1_MISS;
    }

    ngx_memcpy(answer->value.data, cn->data + cn->key_len, cn->value_len);
    answer->value.data[cn->value_len] = '\0';

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * Confirms the entries of a document the worker remembers
 * (src/ngx_http_osint_document_memo.c) under one lock: NGX_OK when each
 * is still the entry of its generation (a store or a purge ends one) and
 * fresh, as ngx_http_osint_l1_get() serves a fresh hit, with its LRU
 * place and refs[i].expires set as that does; NGX_DECLINED when any is
 * not (those before it were moved up the LRU queue: the lookup looks
 * them up next).
 */

ngx_int_t
ngx_http_osint_l1_confirm(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_l1_ref_t *refs, ngx_uint_t n)
{
    ngx_uint_t                    i;
    ngx_msec_t                    now;
    ngx_http_osint_shm_t         *ctx;
    ngx_http_osint_cache_node_t  *cn;

    ctx = omcf->shm_zone->data;
    now = ngx_current_msec;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (i = 0; i < n; i++) {
        cn = ngx_http_osint_l1_find(ctx->sh, refs[i].hash, refs[i].key,
                                    refs[i].key_len);

        if (cn == NULL
            || cn->gen != refs[i].gen
            || cn->status == 0
            || (ngx_msec_int_t) (cn->fresh_until - now) <= 0)
        {
            ngx_shmtx_unlock(&ctx->shpool->mutex);
            return NGX_DECLINED;
        }

        ngx_queue_remove(&cn->lru);
        ngx_queue_insert_head(&ctx->sh->cache_lru, &cn->lru);

        refs[i].expires = ngx_time()
                          + (time_t) ((cn->fresh_until - now) / 1000);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}


/*
 * Stores a fresh answer for "fresh" ms, an ok one kept "cache_stale" ms
 * longer for stale-if-error (only ok answers are served stale), and ends
 * the update lock: waiters find it at once.  An answer too large for L1,
 * or one that would evict more than a few entries, is not kept.
 * "answered" is when the provider gave it (ngx_time()), for its age.
 */

void
ngx_http_osint_l1_put(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target,
    ngx_http_osint_status_e status, ngx_str_t *value, ngx_msec_t fresh,
    time_t answered, ngx_log_t *log)
{
    u_char                        key[NGX_HTTP_OSINT_KEY_MAX];
    size_t                        len;
    uint32_t                      hash;
    size_t                        size;
    ngx_uint_t                    full, room;
    ngx_msec_t                    now;
    ngx_http_osint_shm_t         *ctx;
    ngx_http_osint_cache_node_t  *cn;

    len = ngx_http_osint_l1_key(key, p, target);

    hash = ngx_crc32_short(key, len);
    ctx = omcf->shm_zone->data;
    now = ngx_current_msec;
    size = offsetof(ngx_http_osint_cache_node_t, data) + len + value->len;
    full = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    cn = ngx_http_osint_l1_find(ctx->sh, hash, key, len);

    if (cn) {
        ngx_http_osint_l1_free(ctx, cn);
    }

    cn = NULL;

    room = ngx_http_osint_l1_room(ctx->sh, hash);

    if (size <= (size_t) omcf->shm_size / NGX_HTTP_OSINT_L1_SHARE && room) {
        cn = ngx_http_osint_l1_alloc(ctx, len + value->len, &full);
    }

    if (cn) {
        cn->hash = hash;
        cn->owner = p->state;
        cn->owner->cache_entries++;
        cn->key_len = (u_short) len;
        cn->status = (u_char) status;
        cn->value_len = (uint32_t) value->len;
        cn->fresh_until = now + fresh;
        cn->stale_until = now + fresh
                          + (status == NGX_HTTP_OSINT_OK
                             ? ngx_max(p->cache_stale, p->cache_revalidate)
                             : 0);
        cn->updating_until = now;
        cn->answered = answered;
        cn->gen = ++ctx->sh->cache_gen;
        ngx_memcpy(cn->data, key, len);
        ngx_memcpy(cn->data + len, value->data, value->len);

        ngx_http_osint_l1_insert(ctx->sh, cn);
        ngx_queue_insert_head(&ctx->sh->cache_lru, &cn->lru);
        ctx->sh->cache_entries++;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_http_osint_l1_full(full, log);

    if (cn == NULL) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "osint: provider \"%V\" answer of %uz bytes not "
                      "cached in L1: %s", &p->name, value->len,
                      size > (size_t) omcf->shm_size / NGX_HTTP_OSINT_L1_SHARE
                      ? "larger than 1/8 of osint_zone"
                      : room ? "no room after evicting a few entries"
                      : "too many answers share its index bucket");
    }
}


/* the provider failed: let others try; a placeholder goes away */

void
ngx_http_osint_l1_unlock(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target)
{
    u_char                        key[NGX_HTTP_OSINT_KEY_MAX];
    size_t                        len;
    ngx_http_osint_shm_t         *ctx;
    ngx_http_osint_cache_node_t  *cn;

    len = ngx_http_osint_l1_key(key, p, target);
    ctx = omcf->shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    cn = ngx_http_osint_l1_find(ctx->sh, ngx_crc32_short(key, len), key, len);

    if (cn) {
        if (cn->status == 0) {
            ngx_http_osint_l1_free(ctx, cn);

        } else {
            cn->updating_until = ngx_current_msec;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


/*
 * osint_control's purge: the answer goes, for every worker at once; 1
 * when there was one.  "key", when not NULL, gets the entry's L1 key
 * (NGX_HTTP_OSINT_KEY_MAX bytes), for the other nodes.
 */

ngx_uint_t
ngx_http_osint_l1_purge(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target, ngx_str_t *key)
{
    u_char  buf[NGX_HTTP_OSINT_KEY_MAX];
    size_t  len;

    len = ngx_http_osint_l1_key(buf, p, target);

    if (key) {
        key->len = len;
        ngx_memcpy(key->data, buf, len);
    }

    return ngx_http_osint_l1_purge_key(omcf, buf, len);
}


/*
 * The same by the L1 key, which may come from another node through Redis:
 * any bytes, one lookup under the lock.  A placeholder (a call asking
 * upstream) stays: it holds no answer, and its call stores a fresh one.
 */

ngx_uint_t
ngx_http_osint_l1_purge_key(ngx_http_osint_main_conf_t *omcf, u_char *key,
    size_t len)
{
    ngx_uint_t                    purged;
    ngx_http_osint_shm_t         *ctx;
    ngx_http_osint_cache_node_t  *cn;

    if (len == 0 || len > NGX_HTTP_OSINT_KEY_MAX || omcf->shm_zone == NULL) {
        return 0;
    }

    ctx = omcf->shm_zone->data;
    purged = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    cn = ngx_http_osint_l1_find(ctx->sh, ngx_crc32_short(key, len), key, len);

    if (cn && cn->status) {
        ngx_http_osint_l1_free(ctx, cn);
        purged = 1;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return purged;
}


/* the L1 key of p's answer for target, at most NGX_HTTP_OSINT_KEY_MAX */

size_t
ngx_http_osint_l1_key(u_char *key, ngx_http_osint_provider_t *p,
    ngx_str_t *target)
{
    u_char  *k;

    /* names and targets are bounded at configuration and parsing */

    if (p->name.len + sizeof(":01234567:") - 1 + target->len
        > NGX_HTTP_OSINT_KEY_MAX)
    {
        return ngx_snprintf(key, NGX_HTTP_OSINT_KEY_MAX, "%V:%08xD:%V",
                            &p->name, p->fingerprint, target) - key;
    }

    /* "%V:%08xD:%V" written by hand: three a hit, ngx_snprintf() the most */

    k = ngx_cpymem(key, p->name.data, p->name.len);
    *k++ = ':';

    k = ngx_http_osint_hex32(k, p->fingerprint);
    *k++ = ':';
    k = ngx_cpymem(k, target->data, target->len);

    return k - key;
}


static ngx_http_osint_cache_node_t *
ngx_http_osint_l1_find(ngx_http_osint_shctx_t *sh, uint32_t hash, u_char *key,
    size_t len)
{
    ngx_http_osint_cache_node_t  *cn;

    for (cn = sh->cache_index[hash & sh->cache_mask]; cn; cn = cn->next) {

        if (cn->hash == hash && cn->key_len == len
            && ngx_memcmp(cn->data, key, len) == 0)
        {
            return cn;
        }
    }

    return NULL;
}


/* whether hash's bucket takes another entry: a walk of at most a few */

static ngx_uint_t
ngx_http_osint_l1_room(ngx_http_osint_shctx_t *sh, uint32_t hash)
{
    ngx_uint_t                    n;
    ngx_http_osint_cache_node_t  *cn;

    n = 0;

    for (cn = sh->cache_index[hash & sh->cache_mask]; cn; cn = cn->next) {
        if (++n == NGX_HTTP_OSINT_L1_CHAIN_MAX) {
            return 0;
        }
    }

    return 1;
}


/* at the head of its bucket: a key is in the index at most once */

static void
ngx_http_osint_l1_insert(ngx_http_osint_shctx_t *sh,
    ngx_http_osint_cache_node_t *cn)
{
    ngx_http_osint_cache_node_t  **bucket;

    bucket = &sh->cache_index[cn->hash & sh->cache_mask];

    cn->next = *bucket;
    cn->prev = bucket;

    if (*bucket) {
        (*bucket)->prev = &cn->next;
    }

    *bucket = cn;
}


/*
 * Entries past their stale window go first; when the zone is still full,
 * the least recently used ones go too, at most NGX_HTTP_OSINT_EVICT_MAX of
 * them: then the store gives up rather than empty the cache under the
 * lock every worker shares.  When a warning is due (once a minute), *full
 * is the number of entries plus one, for the caller to log after
 * unlocking; a full zone costs hit rate and never fails a lookup.
 */

static ngx_http_osint_cache_node_t *
ngx_http_osint_l1_alloc(ngx_http_osint_shm_t *ctx, size_t size,
    ngx_uint_t *full)
{
    ngx_uint_t                    i, forced;
    ngx_msec_t                    now;
    ngx_queue_t                  *q;
    ngx_http_osint_cache_node_t  *cn;

    size += offsetof(ngx_http_osint_cache_node_t, data);
    now = ngx_current_msec;

    /* two expired entries out per store keeps the cache from growing stale */

    for (i = 0; i < 2 && !ngx_queue_empty(&ctx->sh->cache_lru); i++) {
        q = ngx_queue_last(&ctx->sh->cache_lru);
        cn = ngx_queue_data(q, ngx_http_osint_cache_node_t, lru);

        if ((ngx_msec_int_t) (cn->stale_until - now) > 0
            || (ngx_msec_int_t) (cn->updating_until - now) > 0)
        {
            break;
        }

        ngx_http_osint_l1_free(ctx, cn);
    }

    forced = 0;

    for (i = 0; /* void */; i++) {
        cn = ngx_slab_alloc_locked(ctx->shpool, size);

        if (cn || i == NGX_HTTP_OSINT_EVICT_MAX
            || ngx_queue_empty(&ctx->sh->cache_lru))
        {
            break;
        }

        q = ngx_queue_last(&ctx->sh->cache_lru);
        cn = ngx_queue_data(q, ngx_http_osint_cache_node_t, lru);

        forced += ((ngx_msec_int_t) (cn->stale_until - now) > 0);

        ngx_http_osint_l1_free(ctx, cn);
        cn = NULL;
    }

    if (forced
        && ngx_time() - ctx->sh->evict_logged >= NGX_HTTP_OSINT_EVICT_LOG_EVERY)
    {
        ctx->sh->evict_logged = ngx_time();
        *full = ctx->sh->cache_entries + 1;
    }

    return cn;
}


static void
ngx_http_osint_l1_full(ngx_uint_t entries, ngx_log_t *log)
{
    if (entries == 0) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "osint: zone is full, evicting cached answers before "
                  "they expire (%ui cached); consider a larger osint_zone",
                  entries - 1);
}


static void
ngx_http_osint_l1_free(ngx_http_osint_shm_t *ctx,
    ngx_http_osint_cache_node_t *cn)
{
    *cn->prev = cn->next;

    if (cn->next) {
        cn->next->prev = cn->prev;
    }

    ngx_queue_remove(&cn->lru);
    cn->owner->cache_entries--;
    ngx_slab_free_locked(ctx->shpool, cn);
    ctx->sh->cache_entries--;
}


/* in total (the JSON status) and per provider (both formats) */

void
ngx_http_osint_count_cache(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_uint_t tier, ngx_uint_t result)
{
    ngx_http_osint_shm_t  *ctx;

    ctx = omcf->shm_zone->data;

    (void) ngx_atomic_fetch_add(&ctx->sh->counters.cache[tier][result], 1);

    if (p->state) {
        (void) ngx_atomic_fetch_add(&p->state->cache[tier][result], 1);
    }
}
