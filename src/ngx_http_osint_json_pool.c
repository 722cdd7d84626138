
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * cJSON's memory in a lookup's pool.  A provider's answer parsed is a
 * node, and often a string, for each value: each a malloc() and later a
 * free(), which cost a miss of three providers more than parsing them
 * (callgrind: ~25 000 of its ~153 000 instructions).  Between
 * ngx_http_osint_json_pool_enter() and ngx_http_osint_json_pool_leave()
 * cJSON takes its memory from the pool and frees nothing: the pool frees
 * it all, with the lookup.
 *
 * cJSON's hooks are the process's: they are set for that span only, and
 * cJSON's own (malloc, free, realloc) are back after it, so that nothing
 * else that uses cJSON ever meets them.  The rule of a span: what is made
 * in it dies with its pool (a call's data), and what it frees was made in
 * it.  The summary's merge is left to the heap: its trees are
 * temporaries, and memory freed at once is memory the next lookup finds
 * in the cache (in a pool, a merge of nine answers cost more time than
 * its allocations).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


static void *ngx_http_osint_json_pool_alloc(size_t size);
static void ngx_http_osint_json_pool_free(void *p);


static ngx_pool_t  *ngx_http_osint_json_pool;


/* the pool that was in use before (NULL: none), for the leave */

ngx_pool_t *
ngx_http_osint_json_pool_enter(ngx_pool_t *pool)
{
    ngx_pool_t   *prev;
    cJSON_Hooks   hooks;

    prev = ngx_http_osint_json_pool;
    ngx_http_osint_json_pool = pool;

    if (prev == NULL) {
        hooks.malloc_fn = ngx_http_osint_json_pool_alloc;
        hooks.free_fn = ngx_http_osint_json_pool_free;
        cJSON_InitHooks(&hooks);
    }

    return prev;
}


void
ngx_http_osint_json_pool_leave(ngx_pool_t *prev)
{
    ngx_http_osint_json_pool = prev;

    if (prev == NULL) {
        cJSON_InitHooks(NULL);
    }
}


static void *
ngx_http_osint_json_pool_alloc(size_t size)
{
    return ngx_palloc(ngx_http_osint_json_pool, size);
}


static void
ngx_http_osint_json_pool_free(void *p)
{
    /* the pool's: freed with it */
}
