
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The limiter's own types and the calls between its files
 * (ngx_http_osint_limit*.c); the rest of the module sees only
 * ngx_http_osint_limit.h.
 */


#ifndef _NGX_HTTP_OSINT_LIMIT_INTERNAL_H_INCLUDED_
#define _NGX_HTTP_OSINT_LIMIT_INTERNAL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


/* verdicts, from the least to the most severe */
#define NGX_HTTP_OSINT_LIMIT_PASSED     0
#define NGX_HTTP_OSINT_LIMIT_DELAYED    1
#define NGX_HTTP_OSINT_LIMIT_DRY_RUN    2
#define NGX_HTTP_OSINT_LIMIT_REJECTED   3
#define NGX_HTTP_OSINT_LIMIT_RESULTS    4

/* LRU keys evicted at most for one new key before it passes unlimited */
#define NGX_HTTP_OSINT_LIMIT_EVICT      16

#define NGX_HTTP_OSINT_LIMIT_KEY_MAX    65535

/* sync=redis: an unused lease is dropped after this long, ms */
#define NGX_HTTP_OSINT_LIMIT_LEASE_TTL  1000


/* one key in the zone */
typedef struct {
    ngx_rbtree_node_t               node;       /* key: crc32 of the key */
    ngx_queue_t                     queue;      /* LRU, recent first */
    ngx_http_osint_bucket_t         bucket;

    /* sync=redis: tokens granted by Redis not used yet, and until when */
    ngx_uint_t                      lease;
    ngx_msec_t                      lease_exp;
    ngx_msec_t                      asking;     /* a chunk asked since; 0 */
    ngx_uint_t                      left;       /* Redis's last r and t */
    time_t                          reset;

    u_short                         len;
    u_char                          data[1];
} ngx_http_osint_limit_node_t;


/* the zone's header in shared memory */
typedef struct {
    ngx_uint_t                      signature;
    ngx_rbtree_t                    rbtree;
    ngx_rbtree_node_t               sentinel;
    ngx_queue_t                     lru;  /* of ngx_http_osint_limit_node_t */
    ngx_uint_t                      keys;
    time_t                          evict_logged;
    time_t                          nomem_logged;

    /* counters, lock-free, away from the lines the lock guards */
    u_char                          pad[NGX_CPU_CACHE_LINE];
    ngx_atomic_t                    requests[NGX_HTTP_OSINT_LIMIT_RESULTS];
    ngx_atomic_t                    evictions;
    ngx_atomic_t                    fallbacks;  /* sync=redis, decided
                                                   locally */
} ngx_http_osint_limit_shctx_t;

/* changes with the shared structs: an old layout is not reused */
#define NGX_HTTP_OSINT_LIMIT_SIGNATURE                                        \
    ((ngx_uint_t) 0x6f6c696d ^ (sizeof(ngx_http_osint_limit_shctx_t) << 12)  \
     ^ sizeof(ngx_http_osint_limit_node_t))


/* osint_limit_zone */
typedef struct {
    ngx_http_osint_limit_shctx_t   *sh;
    ngx_slab_pool_t                *shpool;
    ngx_shm_zone_t                 *shm_zone;
    ngx_str_t                       name;
    ngx_http_complex_value_t        key;
    ngx_http_osint_rate_t           rate;       /* per_ms, burst */
    ngx_uint_t                      rate_n;     /* N of N r/s, N r/m */
    ngx_uint_t                      window;     /* 1 (r/s) or 60 (r/m) */
    ngx_uint_t                      late;       /* the key reads a `set` */

    /* sync=redis */
    ngx_uint_t                      sync;
    ngx_uint_t                      chunk;      /* k: tokens asked at once */
    ngx_str_t                       rkey;       /* "<prefix>limit:<zone>:" */
    u_char                         *file;
    ngx_uint_t                      line;
    ngx_uint_t                      fallback;   /* this worker: logged */
} ngx_http_osint_limit_zone_t;


/* osint_limit */
typedef struct {
    ngx_shm_zone_t                 *shm_zone;
    ngx_msec_t                      delay;      /* 0: nodelay */
    ngx_uint_t                      dry_run;
    u_char                         *file;
    ngx_uint_t                      line;
} ngx_http_osint_limit_t;


typedef struct {
    ngx_array_t                     zones;
                                    /* of ngx_http_osint_limit_zone_t * */
} ngx_http_osint_limit_main_conf_t;


typedef struct {
    ngx_array_t                     limits;   /* of ngx_http_osint_limit_t */
    ngx_str_t                       policy;   /* RateLimit-Policy value */
    ngx_uint_t                      status;
    ngx_uint_t                      log_level;
    ngx_uint_t                      delay_log_level;
    ngx_flag_t                      headers;
    ngx_uint_t                      prepared;   /* limits checked */
} ngx_http_osint_limit_loc_conf_t;


typedef struct ngx_http_osint_limit_run_s  ngx_http_osint_limit_run_t;


/* the verdict of a request, kept across internal redirects */
typedef struct {
    ngx_uint_t                      status;
    ngx_http_osint_limit_run_t     *run;
} ngx_http_osint_limit_ctx_t;


/* one limit's part of one request */
typedef struct {
    ngx_str_t                       key;
    uint32_t                        hash;
    ngx_uint_t                      result;
    ngx_msec_t                      wait;
    ngx_uint_t                      remaining;  /* r */
    time_t                          reset;      /* t */
    ngx_atomic_uint_t               evicted;    /* to warn of: evictions so
                                                   far; 0: nothing */

    unsigned                        applied:1;  /* non-empty key */
    unsigned                        took:1;     /* a token, or reserved */
    unsigned                        known:1;    /* remaining, reset set */
    unsigned                        synced:1;   /* the token is Redis's */
    unsigned                        nomem:1;    /* to warn of: no room */
} ngx_http_osint_limit_eval_t;


/* a request's decision, which may wait for Redis between two limits */
struct ngx_http_osint_limit_run_s {
    ngx_http_request_t             *request;
    ngx_http_osint_limit_eval_t    *ev;
    ngx_uint_t                      n;
    ngx_uint_t                      next;       /* the limit consulted */
    ngx_uint_t                      want;       /* tokens asked of Redis */
    ngx_http_osint_redis_req_t     *redis;      /* an EVAL in flight */
    ngx_http_osint_limit_loc_conf_t *llcf;      /* the limits decided */
};


/* between the limiter's files */

ngx_int_t ngx_http_osint_limit_rewrite_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_osint_limit_preaccess_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_osint_limit_run(ngx_http_osint_limit_run_t *run);
void ngx_http_osint_limit_local(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_t *limit, ngx_http_osint_limit_eval_t *ev,
    ngx_msec_t now, ngx_log_t *log);
ngx_int_t ngx_http_osint_limit_sync(ngx_http_osint_limit_run_t *run,
    ngx_uint_t i, ngx_http_osint_limit_zone_t *z);
ngx_int_t ngx_http_osint_limit_sync_wait(ngx_http_osint_limit_run_t *run);
ngx_int_t ngx_http_osint_limit_finish(ngx_http_osint_limit_run_t *run,
    ngx_uint_t rejected);
ngx_http_osint_limit_ctx_t *ngx_http_osint_limit_get_ctx(
    ngx_http_request_t *r);
ngx_http_osint_limit_node_t *ngx_http_osint_limit_lookup(
    ngx_http_osint_limit_zone_t *z, ngx_http_osint_limit_eval_t *ev,
    ngx_uint_t create, ngx_msec_t now);
void ngx_http_osint_limit_unlock(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev, ngx_log_t *log);
void ngx_http_osint_limit_refund(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev, ngx_msec_t now, ngx_log_t *log);
void ngx_http_osint_limit_state(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_bucket_t *b, ngx_msec_t now,
    ngx_http_osint_limit_eval_t *ev);
ngx_int_t ngx_http_osint_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_int_t ngx_http_osint_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
ngx_int_t ngx_http_osint_limit_init_sync(ngx_conf_t *cf,
    ngx_http_osint_limit_zone_t *z);


#endif /* _NGX_HTTP_OSINT_LIMIT_INTERNAL_H_INCLUDED_ */
