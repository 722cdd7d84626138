
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * What src/ngx_http_osint_cache.c needs to link besides fuzz/ngx_stubs.c.
 * The file holds the L1 cache in the zone as well as the value format of
 * both tiers; fuzz_cache_decode calls only the value format (encode,
 * decode), so the zone's functions are stubs that abort() if ever
 * reached: ngx_shmtx_lock/unlock, ngx_slab_alloc_locked/free_locked,
 * ngx_rbtree_insert/delete.  Globals: ngx_cycle (for its log),
 * ngx_cached_time, ngx_current_msec, and the CRC-32 tables (computed
 * here, as ngx_crc32_table_init() would).
 */


#include "fuzz.h"


static ngx_cycle_t  fuzz_cycle = { .log = &fuzz_log };
static ngx_time_t   fuzz_time;

volatile ngx_cycle_t  *ngx_cycle = &fuzz_cycle;
volatile ngx_time_t   *ngx_cached_time = &fuzz_time;
volatile ngx_msec_t    ngx_current_msec;

static uint32_t  fuzz_crc32_short[16];
uint32_t        *ngx_crc32_table_short = fuzz_crc32_short;
uint32_t         ngx_crc32_table256[256];


static void fuzz_unreachable(const char *name) __attribute__((noreturn));


static void
fuzz_unreachable(const char *name)
{
    fprintf(stderr, "fuzz/stubs_cache.c: %s() called: the decode path "
            "reached the zone\n", name);
    abort();
}


void
ngx_shmtx_lock(ngx_shmtx_t *mtx)
{
    fuzz_unreachable("ngx_shmtx_lock");
}


void
ngx_shmtx_unlock(ngx_shmtx_t *mtx)
{
    fuzz_unreachable("ngx_shmtx_unlock");
}


void *
ngx_slab_alloc_locked(ngx_slab_pool_t *pool, size_t size)
{
    fuzz_unreachable("ngx_slab_alloc_locked");
}


void
ngx_slab_free_locked(ngx_slab_pool_t *pool, void *p)
{
    fuzz_unreachable("ngx_slab_free_locked");
}


void
ngx_rbtree_insert(ngx_rbtree_t *tree, ngx_rbtree_node_t *node)
{
    fuzz_unreachable("ngx_rbtree_insert");
}


void
ngx_rbtree_delete(ngx_rbtree_t *tree, ngx_rbtree_node_t *node)
{
    fuzz_unreachable("ngx_rbtree_delete");
}


__attribute__((constructor)) static void
fuzz_crc32_init(void)
{
    uint32_t    c;
    ngx_uint_t  i, k;

    for (i = 0; i < 256; i++) {
        c = (uint32_t) i;

        for (k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320 ^ (c >> 1) : c >> 1;
        }

        ngx_crc32_table256[i] = c;
    }

    for (i = 0; i < 16; i++) {
        fuzz_crc32_short[i] = ngx_crc32_table256[i * 16];
    }
}
