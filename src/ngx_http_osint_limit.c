
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * osint_limit: a token bucket per key in front of any location, shared by
 * all workers and kept across reloads.  A second nginx module of the same
 * .so, with its own directives and configuration.
 *
 *   osint_limit_zone NAME:SIZE key=VAR rate=Nr/s|Nr/m [burst=M]
 *       [sync=redis]
 *   osint_limit zone=NAME [nodelay|delay=D] [dry_run]
 *   osint_limit_status CODE;  osint_limit_log_level LEVEL;
 *   osint_limit_headers on|off
 *
 * sync=redis (needs osint_redis): the bucket of a key is held in Redis,
 * one for all the nginx nodes that share the zone's name and the Redis
 * prefix, and taken from by a Lua script run atomically by Redis (EVAL;
 * Redis's clock, so the nodes' clocks do not matter), under
 * "<prefix>limit:<zone>:<key>", a hash of tokens and the time of the last
 * take, expiring when the bucket would be full again.
 *
 * - The lease: a key's node in the zone also holds tokens granted by
 *   Redis but not used yet, for all the workers of this node.  A request
 *   takes one from the lease when there is one, else it waits (no longer
 *   than osint_redis's timeout) for one EVAL.  At most one EVAL per key
 *   and node at a time asks for a chunk of k = max(1, burst / 8) tokens,
 *   the others for 1; a chunk's first token goes to its request, the rest
 *   to the lease.  A lease unused for 1 s is dropped (its tokens are lost,
 *   never given twice).  With burst < 16, k = 1: every request asks Redis.
 * - The error bound: every request passed in sync is a token Redis
 *   granted, so over any time the nodes together pass no more than the
 *   one shared bucket allows; the leases only move tokens in time, by at
 *   most 1 s.  At any instant at most nodes x (k - 1) tokens are granted
 *   and not yet used: in any window the nodes may pass up to that many
 *   requests more than the shared bucket alone would, i.e. at most
 *   burst + rate x window + nodes x (k - 1).
 * - Without Redis (down, not yet connected, a timeout, an error reply) a
 *   request is decided on this node's own bucket, as without sync, at
 *   once: a node never rejects nor hangs because Redis is gone.  Each
 *   such request counts in osint_limit_redis_fallback_total{zone}; each
 *   worker logs once at warn when its zone falls back ("zone "api" falls
 *   back to local buckets: redis is down") and once at notice when Redis
 *   answers again.  While falling back the limit is per node: N nodes
 *   pass up to N times the limit.
 * - delay= waits only in the local bucket: in sync a request without a
 *   token is rejected (or counted dry_run) at once.
 *
 * The model, and where it differs from limit_req:
 *
 * - Where: limit_req runs in the preaccess phase, after the location's
 *   rewrite directives, so a location that answers with `return` is never
 *   limited.  osint_limit decides first thing in the location's rewrite
 *   phase (registered there after nginx's own modules, its handler runs
 *   before theirs): `return`, proxy_pass, osint_lookup, static files,
 *   anything.  The exception: a zone whose key reads a variable made by
 *   `set` (known at configuration time) could not see it there, so a
 *   location using such a zone decides in the preaccess phase, as
 *   limit_req does (and a `return` in it goes unlimited).  `map` has no
 *   such limit.  A `rewrite ... last` to another location after the
 *   decision does not limit the request again.
 * - A bucket per key holds up to `burst` tokens (default: the rate per
 *   second, at least 1), starts full and refills continuously at `rate`.
 *   burst is the bucket's size: limit_req's "burst=B nodelay" lets B + 1
 *   requests through at once, "burst=B" here lets B through.
 * - A request takes a token.  Without one it is rejected at once, the
 *   default: an API client wants its 429 fast, not a held connection.
 *   `nodelay` says the same explicitly.
 * - `delay=D`: without a token, the request reserves the next one (the
 *   bucket goes below zero) and waits on an nginx timer until it comes,
 *   when that is within D; waiters are served in the order they came.
 *   Later than D: rejected, nothing reserved.  D is a time (500ms, 2s; a
 *   bare number is seconds), not limit_req's count of requests.
 * - An empty key is not limited and not counted, as in limit_req.
 * - Several osint_limit in one location are checked in order; all must
 *   pass.  The first that rejects decides: the tokens taken by the ones
 *   before it are given back, the ones after it are not consulted, and
 *   only the rejecting zone counts the request.  The longest wait of all
 *   is the request's delay.
 * - `dry_run`: the bucket is kept exactly as if the limit were enforced (a
 *   would-be rejection takes no token), but the request passes at once and
 *   the client sees nothing of it (no header field); the zone counts it as
 *   dry_run and logs "would reject".
 * - A rejection: osint_limit_status (default 429), Content-Type
 *   application/json, the body {"error":{"kind":"rate_limited",
 *   "retry_after":S}} and Retry-After: S, S the whole seconds (at least 1)
 *   until the key's next token.  osint_limit_status 444 closes the
 *   connection without an answer, as in limit_req.
 * - The fields of draft-ietf-httpapi-ratelimit-headers-10 on every
 *   response a limit saw, rejected or not (osint_limit_headers off: none):
 *       RateLimit-Policy: "api";q=200;w=1
 *       RateLimit: "api";r=57;t=1
 *   q is the bucket size (burst), from which r counts down; w the unit of
 *   the rate (1 for r/s, 60 for r/m): the draft makes w informative only,
 *   clients act on r and t.  r: whole tokens left after this request; t:
 *   seconds until the next token (0 when the bucket is full; the same as
 *   Retry-After on a rejection).  With several limits both fields are
 *   lists, one item per zone in configuration order; RateLimit lists the
 *   zones consulted (a key was there, the zone was reached).  dry_run
 *   zones stay out of both.
 * - $osint_limit_status: PASSED, DELAYED, REJECTED or DRY_RUN, the most
 *   severe verdict of the location's limits (rejected, then would-be
 *   rejected, then delayed); empty when no limit applied.  A request is
 *   limited once: after an internal redirect (error_page, try_files) its
 *   verdict stands.  Subrequests are part of their main request's cost and
 *   are not limited.
 * - Logged at osint_limit_log_level (default error, as limit_req):
 *   rejections and would-be rejections; delays one level lower.  Keys may
 *   be API keys: only their crc32 is logged.
 * - The zone: rbtree by crc32 of the key, and an LRU queue.  A new key
 *   first drops up to two least recently used keys whose bucket is full
 *   again (the same as no entry); when the slab is out of memory it evicts
 *   the least recently used keys, full or not, and says so once a minute.
 *   A request never fails for memory: with no room at all it passes.
 * - Time is ngx_current_msec (monotonic, the same in all workers); the
 *   bucket arithmetic is the module's: ngx_http_osint_bucket_take().
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_osint.h"
#include "ngx_http_osint_limit.h"


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

    unsigned                        applied:1;  /* non-empty key */
    unsigned                        took:1;     /* a token, or reserved */
    unsigned                        known:1;    /* remaining, reset set */
    unsigned                        synced:1;   /* the token is Redis's */
} ngx_http_osint_limit_eval_t;


/* a request's decision, which may wait for Redis between two limits */
struct ngx_http_osint_limit_run_s {
    ngx_http_request_t             *request;
    ngx_http_osint_limit_eval_t    *ev;
    ngx_uint_t                      n;
    ngx_uint_t                      next;       /* the limit consulted */
    ngx_uint_t                      want;       /* tokens asked of Redis */
    ngx_http_osint_redis_req_t     *redis;      /* an EVAL in flight */
};


static ngx_int_t ngx_http_osint_limit_rewrite_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_osint_limit_preaccess_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_osint_limit_decide(ngx_http_request_t *r,
    ngx_uint_t early);
static ngx_int_t ngx_http_osint_limit_run(ngx_http_osint_limit_run_t *run);
static void ngx_http_osint_limit_local(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_t *limit, ngx_http_osint_limit_eval_t *ev,
    ngx_msec_t now, ngx_log_t *log);
static ngx_int_t ngx_http_osint_limit_sync(ngx_http_osint_limit_run_t *run,
    ngx_uint_t i, ngx_http_osint_limit_zone_t *z);
static void ngx_http_osint_limit_unask(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev);
static void ngx_http_osint_limit_fallback(ngx_http_osint_limit_zone_t *z,
    ngx_log_t *log);
static ngx_int_t ngx_http_osint_limit_sync_wait(
    ngx_http_osint_limit_run_t *run);
static void ngx_http_osint_limit_sync_timer(ngx_http_request_t *r);
static void ngx_http_osint_limit_sync_done(void *data, ngx_int_t rc,
    void *reply);
static ngx_int_t ngx_http_osint_limit_finish(ngx_http_osint_limit_run_t *run,
    ngx_uint_t rejected);
static void ngx_http_osint_limit_delay(ngx_http_request_t *r);
static ngx_int_t ngx_http_osint_limit_reject(ngx_http_request_t *r,
    ngx_uint_t status, time_t retry_after);
static ngx_int_t ngx_http_osint_limit_set_headers(ngx_http_request_t *r,
    ngx_http_osint_limit_loc_conf_t *llcf, ngx_http_osint_limit_eval_t *ev);
static ngx_int_t ngx_http_osint_limit_add_header(ngx_http_request_t *r,
    char *name, u_char *value, size_t len);
static ngx_http_osint_limit_ctx_t *ngx_http_osint_limit_get_ctx(
    ngx_http_request_t *r);
static void ngx_http_osint_limit_cleanup(void *data);
static ngx_http_osint_limit_node_t *ngx_http_osint_limit_lookup(
    ngx_http_osint_limit_zone_t *z, ngx_http_osint_limit_eval_t *ev,
    ngx_uint_t create, ngx_msec_t now, ngx_log_t *log);
static void ngx_http_osint_limit_expire(ngx_http_osint_limit_zone_t *z,
    ngx_msec_t now);
static ngx_int_t ngx_http_osint_limit_evict(ngx_http_osint_limit_zone_t *z);
static void ngx_http_osint_limit_refund(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev, ngx_msec_t now, ngx_log_t *log);
static void ngx_http_osint_limit_state(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_bucket_t *b, ngx_msec_t now,
    ngx_http_osint_limit_eval_t *ev);
static time_t ngx_http_osint_limit_next_token(ngx_http_osint_limit_zone_t *z,
    double tokens);
static void ngx_http_osint_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_osint_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_osint_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_http_osint_limit_main_conf_t *ngx_http_osint_limit_current(void);

static ngx_int_t ngx_http_osint_limit_add_variables(ngx_conf_t *cf);
static void *ngx_http_osint_limit_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_osint_limit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_osint_limit_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_osint_limit_prepare(ngx_conf_t *cf,
    ngx_http_osint_limit_loc_conf_t *llcf);
static char *ngx_http_osint_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_osint_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_uint_t ngx_http_osint_limit_reads_set(ngx_conf_t *cf,
    ngx_http_complex_value_t *cv);
static ngx_int_t ngx_http_osint_limit_init_sync(ngx_conf_t *cf,
    ngx_http_osint_limit_zone_t *z);
static ngx_int_t ngx_http_osint_limit_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_osint_limit_init_process(ngx_cycle_t *cycle);


/*
 * sync=redis: takes up to ARGV[4] whole tokens from the bucket KEYS[1] of
 * rate ARGV[1] per ARGV[2] ms and size ARGV[3], atomically, on Redis's
 * clock; returns {granted, ms until the next token, whole tokens left}.
 * The hash expires when the bucket is full again (the same as no key).
 */

static const char  ngx_http_osint_limit_script[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local rate = tonumber(ARGV[1]) / tonumber(ARGV[2])\n"
    "local burst = tonumber(ARGV[3])\n"
    "local want = tonumber(ARGV[4])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts')\n"
    "local tokens = tonumber(s[1])\n"
    "local ts = tonumber(s[2])\n"
    "if tokens == nil or ts == nil then tokens = burst; ts = now end\n"
    "local d = now - ts\n"
    "if d < 0 then d = 0 end\n"
    "tokens = math.min(burst, tokens + d * rate)\n"
    "local got = math.min(want, math.floor(tokens))\n"
    "if got < 0 then got = 0 end\n"
    "tokens = tokens - got\n"
    "local wait = 0\n"
    "if tokens < 1 then wait = math.ceil((1 - tokens) / rate) end\n"
    "redis.call('HSET', KEYS[1], 'tokens', tostring(tokens),"
    " 'ts', tostring(now))\n"
    "redis.call('PEXPIRE', KEYS[1],"
    " math.ceil((burst - tokens) / rate) + 1000)\n"
    "return {got, wait, math.floor(tokens)}\n";


static const char  *ngx_http_osint_limit_results[] = {
    "passed", "delayed", "dry_run", "rejected"
};

static ngx_str_t  ngx_http_osint_limit_statuses[] = {
    ngx_string("PASSED"),
    ngx_string("DELAYED"),
    ngx_string("DRY_RUN"),
    ngx_string("REJECTED")
};


static ngx_conf_enum_t  ngx_http_osint_limit_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_http_osint_limit_status_bounds = {
    ngx_conf_check_num_bounds, 400, 599
};


static ngx_command_t  ngx_http_osint_limit_commands[] = {

    { ngx_string("osint_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_osint_limit_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_osint_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_limit_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_osint_limit_loc_conf_t, status),
      &ngx_http_osint_limit_status_bounds },

    { ngx_string("osint_limit_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_osint_limit_loc_conf_t, log_level),
      &ngx_http_osint_limit_log_levels },

    { ngx_string("osint_limit_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_osint_limit_loc_conf_t, headers),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_osint_limit_module_ctx = {
    ngx_http_osint_limit_add_variables,    /* preconfiguration */
    ngx_http_osint_limit_init,             /* postconfiguration */

    ngx_http_osint_limit_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_osint_limit_create_loc_conf,  /* create location configuration */
    ngx_http_osint_limit_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_osint_limit_module = {
    NGX_MODULE_V1,
    &ngx_http_osint_limit_module_ctx,      /* module context */
    ngx_http_osint_limit_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_osint_limit_init_process,     /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* the location's rewrite phase, before its own directives: see above */

static ngx_int_t
ngx_http_osint_limit_rewrite_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_osint_limit_decide(r, 1);

    /* this phase's checker finalizes on NGX_AGAIN: a delay is NGX_DONE */

    return rc == NGX_AGAIN ? NGX_DONE : rc;
}


/* the locations whose keys are made by `set` (see above) */

static ngx_int_t
ngx_http_osint_limit_preaccess_handler(ngx_http_request_t *r)
{
    return ngx_http_osint_limit_decide(r, 0);
}


/*
 * NGX_DECLINED: on with the phases; NGX_AGAIN: delayed; NGX_DONE: the
 * rejection is sent; an HTTP status: fails.
 */

static ngx_int_t
ngx_http_osint_limit_decide(ngx_http_request_t *r, ngx_uint_t early)
{
    ngx_uint_t                        i, n, applied, late;
    ngx_pool_cleanup_t               *cln;
    ngx_http_osint_limit_t           *limits;
    ngx_http_osint_limit_ctx_t       *ctx;
    ngx_http_osint_limit_run_t       *run;
    ngx_http_osint_limit_eval_t      *ev;
    ngx_http_osint_limit_zone_t      *z;
    ngx_http_osint_limit_loc_conf_t  *llcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_limit_module);
    n = llcf->limits.nelts;

    if (n == 0 || ngx_http_osint_limit_get_ctx(r) != NULL) {
        return NGX_DECLINED;
    }

    limits = llcf->limits.elts;

    /* one phase decides: the rewrite phase, unless a key needs a `set` */

    late = 0;

    for (i = 0; i < n; i++) {
        z = limits[i].shm_zone->data;
        late |= z->late;
    }

    if (early ? late : !late) {
        return NGX_DECLINED;
    }

    ev = ngx_pcalloc(r->pool, n * sizeof(ngx_http_osint_limit_eval_t));
    if (ev == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* all keys first: a failure then cannot leave tokens taken */

    applied = 0;

    for (i = 0; i < n; i++) {
        z = limits[i].shm_zone->data;

        if (ngx_http_complex_value(r, &z->key, &ev[i].key) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ev[i].key.len == 0) {
            continue;
        }

        if (ev[i].key.len > NGX_HTTP_OSINT_LIMIT_KEY_MAX) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "osint_limit: the key of zone \"%V\" is longer "
                          "than %d bytes, not limited", &z->name,
                          NGX_HTTP_OSINT_LIMIT_KEY_MAX);
            continue;
        }

        ev[i].hash = ngx_crc32_short(ev[i].key.data, ev[i].key.len);
        ev[i].applied = 1;
        applied++;
    }

    if (applied == 0) {
        return NGX_DECLINED;
    }

    /* the verdict is kept in the pool, found again after a redirect */

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_osint_limit_ctx_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_osint_limit_cleanup;
    ctx = cln->data;
    ngx_http_set_ctx(r, ctx, ngx_http_osint_limit_module);

    run = ngx_pcalloc(r->pool, sizeof(ngx_http_osint_limit_run_t));
    if (run == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    run->request = r;
    run->ev = ev;
    run->n = n;

    ctx->run = run;

    return ngx_http_osint_limit_run(run);
}


/*
 * The limits from run->next on, in order.  NGX_AGAIN: waiting for Redis
 * (or delayed); else as ngx_http_osint_limit_decide().
 */

static ngx_int_t
ngx_http_osint_limit_run(ngx_http_osint_limit_run_t *run)
{
    ngx_int_t                         rc;
    ngx_uint_t                        i;
    ngx_http_request_t               *r;
    ngx_http_osint_limit_t           *limits;
    ngx_http_osint_limit_eval_t      *ev;
    ngx_http_osint_limit_zone_t      *z;
    ngx_http_osint_limit_loc_conf_t  *llcf;

    r = run->request;
    ev = run->ev;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_limit_module);
    limits = llcf->limits.elts;

    for (i = run->next; i < run->n; i++) {

        if (!ev[i].applied) {
            continue;
        }

        z = limits[i].shm_zone->data;
        ev[i].result = NGX_HTTP_OSINT_LIMIT_PASSED;

        rc = NGX_DECLINED;

        if (z->sync) {
            rc = ngx_http_osint_limit_sync(run, i, z);

            if (rc == NGX_AGAIN) {
                run->next = i;
                return ngx_http_osint_limit_sync_wait(run);
            }
        }

        if (rc == NGX_DECLINED) {
            ngx_http_osint_limit_local(z, &limits[i], &ev[i],
                                       ngx_current_msec, r->connection->log);
        }

        if (ev[i].result == NGX_HTTP_OSINT_LIMIT_REJECTED) {
            return ngx_http_osint_limit_finish(run, i);
        }
    }

    run->next = run->n;

    return ngx_http_osint_limit_finish(run, run->n);
}


/* a limit decided on this node's bucket */

static void
ngx_http_osint_limit_local(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_t *limit, ngx_http_osint_limit_eval_t *ev,
    ngx_msec_t now, ngx_log_t *log)
{
    ngx_int_t                     wait;
    ngx_http_osint_limit_node_t  *node;

    ngx_shmtx_lock(&z->shpool->mutex);

    node = ngx_http_osint_limit_lookup(z, ev, 1, now, log);

    if (node == NULL) {
        /* no room even after evictions: passes, said once a second */
        ngx_shmtx_unlock(&z->shpool->mutex);
        return;
    }

    wait = ngx_http_osint_bucket_take(&node->bucket, &z->rate, now,
                                      limit->delay);

    if (wait == NGX_DECLINED) {
        ev->result = limit->dry_run ? NGX_HTTP_OSINT_LIMIT_DRY_RUN
                                    : NGX_HTTP_OSINT_LIMIT_REJECTED;

    } else {
        ev->took = 1;
        ev->wait = (ngx_msec_t) wait;

        if (wait && !limit->dry_run) {
            ev->result = NGX_HTTP_OSINT_LIMIT_DELAYED;
        }
    }

    ngx_http_osint_limit_state(z, &node->bucket, now, ev);

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * sync=redis: NGX_OK decided (a token of the lease, or no room in the
 * zone: passes), NGX_AGAIN an EVAL is sent, NGX_DECLINED Redis is down:
 * decide locally.
 */

static ngx_int_t
ngx_http_osint_limit_sync(ngx_http_osint_limit_run_t *run, ngx_uint_t i,
    ngx_http_osint_limit_zone_t *z)
{
    u_char                       *p;
    size_t                        argvlen[8];
    ngx_uint_t                    want;
    ngx_msec_t                    now;
    const char                   *argv[8];
    ngx_http_request_t           *r;
    ngx_http_osint_limit_eval_t  *ev;
    ngx_http_osint_limit_node_t  *node;

    r = run->request;
    ev = &run->ev[i];
    now = ngx_current_msec;

    ngx_shmtx_lock(&z->shpool->mutex);

    node = ngx_http_osint_limit_lookup(z, ev, 1, now, r->connection->log);

    if (node == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_OK;
    }

    if (node->lease && (ngx_msec_int_t) (node->lease_exp - now) > 0) {
        node->lease--;

        ev->took = 1;
        ev->synced = 1;
        ev->remaining = node->left + node->lease;
        ev->reset = node->reset;
        ev->known = 1;

        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_OK;
    }

    node->lease = 0;

    if (!ngx_http_osint_redis_up()) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        ngx_http_osint_limit_fallback(z, r->connection->log);
        return NGX_DECLINED;
    }

    /* one chunk in flight per key and node: the lease stays below k */

    want = 1;

    if (z->chunk > 1
        && (node->asking == 0
            || now - node->asking >= NGX_HTTP_OSINT_LIMIT_LEASE_TTL))
    {
        want = z->chunk;
        node->asking = now ? now : 1;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    p = ngx_pnalloc(r->pool, z->rkey.len + ev->key.len + 4 * NGX_INT_T_LEN);
    if (p == NULL) {
        goto failed;
    }

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_osint_limit_script;
    argvlen[1] = sizeof(ngx_http_osint_limit_script) - 1;
    argv[2] = "1";
    argvlen[2] = 1;

    argv[3] = (const char *) p;
    p = ngx_cpymem(p, z->rkey.data, z->rkey.len);
    p = ngx_cpymem(p, ev->key.data, ev->key.len);
    argvlen[3] = p - (u_char *) argv[3];

    argv[4] = (const char *) p;
    p = ngx_sprintf(p, "%ui", z->rate_n);
    argvlen[4] = p - (u_char *) argv[4];

    argv[5] = (const char *) p;
    p = ngx_sprintf(p, "%ui", z->window * 1000);
    argvlen[5] = p - (u_char *) argv[5];

    argv[6] = (const char *) p;
    p = ngx_sprintf(p, "%ui", z->rate.burst);
    argvlen[6] = p - (u_char *) argv[6];

    argv[7] = (const char *) p;
    p = ngx_sprintf(p, "%ui", want);
    argvlen[7] = p - (u_char *) argv[7];

    run->want = want;

    run->redis = ngx_http_osint_redis_command(8, argv, argvlen,
                                              ngx_http_osint_limit_sync_done,
                                              run, r->connection->log);
    if (run->redis) {
        return NGX_AGAIN;
    }

failed:

    if (want > 1) {
        ngx_http_osint_limit_unask(z, ev);
    }

    ngx_http_osint_limit_fallback(z, r->connection->log);

    return NGX_DECLINED;
}


/* the chunk asked for a key has come (or not): another may be asked */

static void
ngx_http_osint_limit_unask(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev)
{
    ngx_http_osint_limit_node_t  *node;

    ngx_shmtx_lock(&z->shpool->mutex);

    node = ngx_http_osint_limit_lookup(z, ev, 0, ngx_current_msec, NULL);

    if (node) {
        node->asking = 0;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/* a request decided locally for want of Redis: counted, logged once */

static void
ngx_http_osint_limit_fallback(ngx_http_osint_limit_zone_t *z, ngx_log_t *log)
{
    (void) ngx_atomic_fetch_add(&z->sh->fallbacks, 1);

    if (!z->fallback) {
        z->fallback = 1;
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint_limit: zone \"%V\" falls back to local buckets: "
                      "redis is down", &z->name);
    }
}


/*
 * The request waits for its EVAL: the reply, the Redis client's timeout,
 * or, should neither come, a timer of its own a little later.  A client
 * that goes away frees the request: the cleanup cancels the EVAL.
 */

static ngx_int_t
ngx_http_osint_limit_sync_wait(ngx_http_osint_limit_run_t *run)
{
    ngx_msec_t           timeout;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = run->request;
    c = r->connection;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_osint_redis_cancel(run->redis);
        run->redis = NULL;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_osint_limit_sync_timer;

    timeout = ngx_http_osint_redis_timeout() + 100;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_add_timer(c->write, timeout);

    return NGX_AGAIN;
}


static void
ngx_http_osint_limit_sync_timer(ngx_http_request_t *r)
{
    ngx_event_t                 *wev;
    ngx_http_osint_limit_ctx_t  *ctx;

    wev = r->connection->write;

    if (!wev->timedout) {
        return;
    }

    wev->timedout = 0;

    ctx = ngx_http_osint_limit_get_ctx(r);

    if (ctx == NULL || ctx->run == NULL || ctx->run->redis == NULL) {
        return;
    }

    ngx_http_osint_redis_cancel(ctx->run->redis);
    ctx->run->redis = NULL;

    ngx_http_osint_limit_sync_done(ctx->run, NGX_ERROR, NULL);
}


/* the EVAL's reply: {granted, ms until the next token, tokens left} */

static void
ngx_http_osint_limit_sync_done(void *data, ngx_int_t rc, void *reply)
{
    ngx_http_osint_limit_run_t *run = data;

    redisReply                       *rr = reply;
    time_t                            reset;
    ngx_int_t                         got, wait, left;
    ngx_uint_t                        i, k;
    ngx_msec_t                        now;
    ngx_connection_t                 *c;
    ngx_http_request_t               *r;
    ngx_http_osint_limit_t           *limit;
    ngx_http_osint_limit_eval_t      *ev;
    ngx_http_osint_limit_zone_t      *z;
    ngx_http_osint_limit_node_t      *node;
    ngx_http_osint_limit_loc_conf_t  *llcf;

    r = run->request;
    c = r->connection;
    run->redis = NULL;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_limit_module);

    i = run->next;
    limit = (ngx_http_osint_limit_t *) llcf->limits.elts + i;
    z = limit->shm_zone->data;
    ev = &run->ev[i];
    now = ngx_current_msec;

    got = -1;
    wait = 0;
    left = 0;

    if (rc == NGX_OK && rr->type == REDIS_REPLY_ARRAY && rr->elements == 3) {
        for (k = 0; k < 3; k++) {
            if (rr->element[k]->type != REDIS_REPLY_INTEGER
                || rr->element[k]->integer < 0)
            {
                break;
            }
        }

        if (k == 3) {
            got = (ngx_int_t) rr->element[0]->integer;
            wait = (ngx_int_t) rr->element[1]->integer;
            left = (ngx_int_t) rr->element[2]->integer;
        }
    }

    if (got < 0) {
        if (run->want > 1) {
            ngx_http_osint_limit_unask(z, ev);
        }

        ngx_http_osint_limit_fallback(z, c->log);
        ngx_http_osint_limit_local(z, limit, ev, now, c->log);
        goto next;
    }

    if (z->fallback) {
        z->fallback = 0;
        ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                      "osint_limit: zone \"%V\" is in sync with redis again",
                      &z->name);
    }

    reset = (wait + 999) / 1000;

    ngx_shmtx_lock(&z->shpool->mutex);

    node = ngx_http_osint_limit_lookup(z, ev, 1, now, c->log);

    if (node) {
        if (run->want > 1) {
            node->asking = 0;
        }

        if (got > 1) {
            node->lease += got - 1;
            node->lease_exp = now + NGX_HTTP_OSINT_LIMIT_LEASE_TTL;
        }

        node->left = left;
        node->reset = reset;
    }

    ev->remaining = left + (node ? node->lease : 0);

    ngx_shmtx_unlock(&z->shpool->mutex);

    ev->known = 1;
    ev->reset = reset;

    if (got > 0) {
        ev->took = 1;
        ev->synced = 1;

    } else {
        ev->result = limit->dry_run ? NGX_HTTP_OSINT_LIMIT_DRY_RUN
                                    : NGX_HTTP_OSINT_LIMIT_REJECTED;
        ev->reset = ngx_max(reset, 1);
    }

next:

    if (ev->result == NGX_HTTP_OSINT_LIMIT_REJECTED) {
        rc = ngx_http_osint_limit_finish(run, i);

    } else {
        run->next = i + 1;
        rc = ngx_http_osint_limit_run(run);
    }

    switch (rc) {

    case NGX_AGAIN:     /* another EVAL, or a delay */
    case NGX_DONE:      /* rejected, finalized */
        break;

    case NGX_DECLINED:
        r->read_event_handler = ngx_http_block_reading;
        r->write_event_handler = ngx_http_core_run_phases;
        ngx_http_core_run_phases(r);
        break;

    default:
        ngx_http_finalize_request(r, rc);
        break;
    }

    ngx_http_run_posted_requests(c);
}


/* every limit consulted, or "rejected" said no: the verdict */

static ngx_int_t
ngx_http_osint_limit_finish(ngx_http_osint_limit_run_t *run,
    ngx_uint_t rejected)
{
    time_t                            retry_after;
    ngx_int_t                         rc;
    ngx_uint_t                        i, n, status, at;
    ngx_msec_t                        now, delay;
    ngx_http_request_t               *r;
    ngx_http_osint_limit_t           *limits;
    ngx_http_osint_limit_ctx_t       *ctx;
    ngx_http_osint_limit_eval_t      *ev;
    ngx_http_osint_limit_zone_t      *z;
    ngx_http_osint_limit_loc_conf_t  *llcf;

    r = run->request;
    ev = run->ev;
    n = run->n;
    now = ngx_current_msec;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_limit_module);
    limits = llcf->limits.elts;

    ctx = ngx_http_osint_limit_get_ctx(r);

    if (rejected < n) {
        z = limits[rejected].shm_zone->data;
        retry_after = ev[rejected].reset;

        for (i = 0; i < rejected; i++) {
            if (ev[i].took) {
                ngx_http_osint_limit_refund(limits[i].shm_zone->data, &ev[i],
                                            now, r->connection->log);
            }
        }

        (void) ngx_atomic_fetch_add(
                      &z->sh->requests[NGX_HTTP_OSINT_LIMIT_REJECTED], 1);

        ctx->status = NGX_HTTP_OSINT_LIMIT_REJECTED;

        ngx_log_error(llcf->log_level, r->connection->log, 0,
                      "osint_limit: rejected, zone \"%V\", key crc32 %08xD, "
                      "retry after %T s", &z->name, ev[rejected].hash,
                      retry_after);

        if (llcf->status == NGX_HTTP_CLOSE) {
            ngx_http_finalize_request(r, NGX_HTTP_CLOSE);
            return NGX_DONE;
        }

        if (llcf->headers
            && ngx_http_osint_limit_set_headers(r, llcf, ev) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = ngx_http_osint_limit_reject(r, llcf->status, retry_after);

        ngx_http_finalize_request(r, rc);

        return NGX_DONE;
    }

    status = NGX_HTTP_OSINT_LIMIT_PASSED;
    delay = 0;
    at = 0;

    for (i = 0; i < n; i++) {

        if (!ev[i].applied) {
            continue;
        }

        z = limits[i].shm_zone->data;

        (void) ngx_atomic_fetch_add(&z->sh->requests[ev[i].result], 1);

        if (ev[i].result > status) {
            status = ev[i].result;
        }

        if (ev[i].result == NGX_HTTP_OSINT_LIMIT_DRY_RUN) {
            ngx_log_error(llcf->log_level, r->connection->log, 0,
                          "osint_limit: would reject, zone \"%V\", key crc32 "
                          "%08xD (dry run)", &z->name, ev[i].hash);
            continue;
        }

        if (ev[i].wait == 0) {
            continue;
        }

        if (limits[i].dry_run) {
            ngx_log_error(llcf->delay_log_level, r->connection->log, 0,
                          "osint_limit: would delay %M ms, zone \"%V\", key "
                          "crc32 %08xD (dry run)", ev[i].wait, &z->name,
                          ev[i].hash);
            continue;
        }

        if (ev[i].wait > delay) {
            delay = ev[i].wait;
            at = i;
        }
    }

    ctx->status = status;

    if (llcf->headers
        && ngx_http_osint_limit_set_headers(r, llcf, ev) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (delay == 0) {
        return NGX_DECLINED;
    }

    z = limits[at].shm_zone->data;

    ngx_log_error(llcf->delay_log_level, r->connection->log, 0,
                  "osint_limit: delaying %M ms, zone \"%V\", key crc32 %08xD",
                  delay, &z->name, ev[at].hash);

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_osint_limit_delay;

    r->connection->write->delayed = 1;
    ngx_add_timer(r->connection->write, delay);

    return NGX_AGAIN;
}




/* the token reserved has come: on with the phases, as limit_req does */

static void
ngx_http_osint_limit_delay(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "osint_limit delay");

    wev = r->connection->write;

    if (wev->delayed) {

        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}


static ngx_int_t
ngx_http_osint_limit_reject(ngx_http_request_t *r, ngx_uint_t status,
    time_t retry_after)
{
    u_char       *p;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_osint_limit_add_header(r, "Retry-After", p,
                                        ngx_sprintf(p, "%T", retry_after) - p)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_create_temp_buf(r->pool,
                            sizeof("{\"error\":{\"kind\":\"rate_limited\","
                                   "\"retry_after\":}}") + NGX_TIME_T_LEN);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_sprintf(b->last, "{\"error\":{\"kind\":\"rate_limited\","
                                   "\"retry_after\":%T}}", retry_after);
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * RateLimit-Policy (the location's, built at configuration time) and
 * RateLimit: one item per enforced zone consulted.
 */

static ngx_int_t
ngx_http_osint_limit_set_headers(ngx_http_request_t *r,
    ngx_http_osint_limit_loc_conf_t *llcf, ngx_http_osint_limit_eval_t *ev)
{
    u_char                       *value, *p;
    size_t                        len;
    ngx_uint_t                    i;
    ngx_http_osint_limit_t       *limits;
    ngx_http_osint_limit_zone_t  *z;

    if (llcf->policy.len == 0) {
        return NGX_OK;          /* dry_run only */
    }

    limits = llcf->limits.elts;
    len = 0;

    for (i = 0; i < llcf->limits.nelts; i++) {
        if (ev[i].known && !limits[i].dry_run) {
            z = limits[i].shm_zone->data;
            len += sizeof("\"\";r=;t=, ") - 1 + z->name.len
                   + NGX_INT_T_LEN + NGX_TIME_T_LEN;
        }
    }

    if (ngx_http_osint_limit_add_header(r, "RateLimit-Policy",
                                        llcf->policy.data, llcf->policy.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (len == 0) {
        return NGX_OK;
    }

    value = ngx_pnalloc(r->pool, len);
    if (value == NULL) {
        return NGX_ERROR;
    }

    p = value;

    for (i = 0; i < llcf->limits.nelts; i++) {

        if (!ev[i].known || limits[i].dry_run) {
            continue;
        }

        z = limits[i].shm_zone->data;

        if (p != value) {
            p = ngx_cpymem(p, ", ", 2);
        }

        p = ngx_sprintf(p, "\"%V\";r=%ui;t=%T", &z->name, ev[i].remaining,
                        ev[i].reset);
    }

    return ngx_http_osint_limit_add_header(r, "RateLimit", value, p - value);
}


static ngx_int_t
ngx_http_osint_limit_add_header(ngx_http_request_t *r, char *name,
    u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;
    h->lowcase_key = NULL;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


/*
 * The request's verdict.  An internal redirect or a named location clears
 * r->ctx (and a named location leaves r->internal unset): the verdict
 * lives on in the pool cleanup that holds it, so a request is limited
 * once.  The list is short: a handful of cleanups at most.
 */

static ngx_http_osint_limit_ctx_t *
ngx_http_osint_limit_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_osint_limit_ctx_t  *ctx;

    r = r->main;

    ctx = ngx_http_get_module_ctx(r, ngx_http_osint_limit_module);

    if (ctx != NULL) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_osint_limit_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_osint_limit_module);
            return ctx;
        }
    }

    return NULL;
}


static void
ngx_http_osint_limit_cleanup(void *data)
{
    ngx_http_osint_limit_ctx_t *ctx = data;

    /* the cleanup marks where the verdict is; and a client gone away */

    if (ctx->run && ctx->run->redis) {
        ngx_http_osint_redis_cancel(ctx->run->redis);
        ctx->run->redis = NULL;
    }
}


/*
 * The key's node, moved to the head of the LRU; with "create", a new one
 * (a full bucket) when there is none.  NULL: not found, or no memory even
 * after evicting.  Called with the zone's lock held.
 */

static ngx_http_osint_limit_node_t *
ngx_http_osint_limit_lookup(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev, ngx_uint_t create, ngx_msec_t now,
    ngx_log_t *log)
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
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "osint_limit: zone \"%V\" is full, evicting the "
                          "least recently used keys (%uA so far); a larger "
                          "zone would keep them", &z->name, sh->evictions);
        }
    }

    if (ln == NULL) {
        if (ngx_time() != sh->nomem_logged) {
            sh->nomem_logged = ngx_time();
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "osint_limit: zone \"%V\" has no room for a key of "
                          "%uz bytes, the request passes unlimited",
                          &z->name, ev->key.len);
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

static void
ngx_http_osint_limit_refund(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev, ngx_msec_t now, ngx_log_t *log)
{
    ngx_http_osint_limit_node_t  *ln;

    ngx_shmtx_lock(&z->shpool->mutex);

    ln = ngx_http_osint_limit_lookup(z, ev, 0, now, log);

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

static void
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

static ngx_int_t
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


static ngx_int_t
ngx_http_osint_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_osint_limit_ctx_t  *ctx;

    ctx = ngx_http_osint_limit_get_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ngx_http_osint_limit_statuses[ctx->status].len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ngx_http_osint_limit_statuses[ctx->status].data;

    return NGX_OK;
}


/* status: the zones of the configuration the worker runs */

static ngx_http_osint_limit_main_conf_t *
ngx_http_osint_limit_current(void)
{
    return ngx_http_cycle_get_module_main_conf((ngx_cycle_t *) ngx_cycle,
                                               ngx_http_osint_limit_module);
}


size_t
ngx_http_osint_limit_prometheus_size(void)
{
    size_t                             size;
    ngx_uint_t                         i;
    ngx_http_osint_limit_zone_t      **zones;
    ngx_http_osint_limit_main_conf_t  *lmcf;

    size = 1024;
    lmcf = ngx_http_osint_limit_current();

    if (lmcf == NULL) {
        return size;
    }

    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        size += (NGX_HTTP_OSINT_LIMIT_RESULTS + 3)
                * (sizeof("osint_limit_requests_total{zone=\"\",result="
                          "\"rejected\"} \n") + zones[i]->name.len
                   + NGX_ATOMIC_T_LEN);
    }

    return size;
}


u_char *
ngx_http_osint_limit_prometheus(u_char *p, u_char *last)
{
    ngx_uint_t                         i, j;
    ngx_http_osint_limit_zone_t      **zones;
    ngx_http_osint_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_osint_limit_current();

    p = ngx_slprintf(p, last,
                     "# HELP osint_limit_requests_total Requests seen by "
                     "osint_limit, by zone and result.\n"
                     "# TYPE osint_limit_requests_total counter\n");

    if (lmcf == NULL) {
        return p;
    }

    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        for (j = 0; zones[i]->sh && j < NGX_HTTP_OSINT_LIMIT_RESULTS; j++) {
            p = ngx_slprintf(p, last, "osint_limit_requests_total{zone="
                             "\"%V\",result=\"%s\"} %uA\n", &zones[i]->name,
                             ngx_http_osint_limit_results[j],
                             zones[i]->sh->requests[j]);
        }
    }

    p = ngx_slprintf(p, last,
                     "# HELP osint_limit_keys Keys with a bucket in the "
                     "osint_limit zone.\n"
                     "# TYPE osint_limit_keys gauge\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->sh) {
            p = ngx_slprintf(p, last, "osint_limit_keys{zone=\"%V\"} %ui\n",
                             &zones[i]->name, zones[i]->sh->keys);
        }
    }

    p = ngx_slprintf(p, last,
                     "# HELP osint_limit_evictions_total Keys evicted, least "
                     "recently used first, to make room in a full "
                     "osint_limit zone.\n"
                     "# TYPE osint_limit_evictions_total counter\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->sh) {
            p = ngx_slprintf(p, last, "osint_limit_evictions_total{zone="
                             "\"%V\"} %uA\n", &zones[i]->name,
                             zones[i]->sh->evictions);
        }
    }

    p = ngx_slprintf(p, last,
                     "# HELP osint_limit_redis_fallback_total Requests of a "
                     "sync=redis zone decided on the local bucket because "
                     "Redis did not answer.\n"
                     "# TYPE osint_limit_redis_fallback_total counter\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->sh && zones[i]->sync) {
            p = ngx_slprintf(p, last, "osint_limit_redis_fallback_total{zone="
                             "\"%V\"} %uA\n", &zones[i]->name,
                             zones[i]->sh->fallbacks);
        }
    }

    return p;
}


cJSON *
ngx_http_osint_limit_json(void)
{
    char                               name[NGX_HTTP_OSINT_NAME_MAX + 1];
    cJSON                             *doc, *item, *requests;
    ngx_uint_t                         i, j;
    ngx_http_osint_limit_zone_t       *z, **zones;
    ngx_http_osint_limit_main_conf_t  *lmcf;

    doc = cJSON_CreateObject();
    if (doc == NULL) {
        return NULL;
    }

    lmcf = ngx_http_osint_limit_current();

    if (lmcf == NULL) {
        return doc;
    }

    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        z = zones[i];

        if (z->sh == NULL) {
            continue;
        }

        item = cJSON_CreateObject();
        if (item == NULL) {
            cJSON_Delete(doc);
            return NULL;
        }

        ngx_memcpy(name, z->name.data, z->name.len);
        name[z->name.len] = '\0';

        cJSON_AddItemToObject(doc, name, item);

        cJSON_AddNumberToObject(item, "rate", (double) z->rate_n);
        cJSON_AddStringToObject(item, "per", z->window == 1 ? "s" : "m");
        cJSON_AddNumberToObject(item, "burst", (double) z->rate.burst);
        cJSON_AddNumberToObject(item, "keys", (double) z->sh->keys);
        cJSON_AddNumberToObject(item, "evictions",
                                (double) z->sh->evictions);
        if (z->sync) {
            cJSON_AddStringToObject(item, "sync", "redis");
            cJSON_AddNumberToObject(item, "redis_fallback",
                                    (double) z->sh->fallbacks);
        }

        requests = cJSON_AddObjectToObject(item, "requests");

        if (requests == NULL) {
            cJSON_Delete(doc);
            return NULL;
        }

        for (j = 0; j < NGX_HTTP_OSINT_LIMIT_RESULTS; j++) {
            cJSON_AddNumberToObject(requests, ngx_http_osint_limit_results[j],
                                    (double) z->sh->requests[j]);
        }
    }

    return doc;
}


static ngx_int_t
ngx_http_osint_limit_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    ngx_str_t  name = ngx_string("osint_limit_status");

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_osint_limit_variable;

    return NGX_OK;
}


static void *
ngx_http_osint_limit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_osint_limit_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_limit_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&lmcf->zones, cf->pool, 4,
                       sizeof(ngx_http_osint_limit_zone_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return lmcf;
}


static void *
ngx_http_osint_limit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_osint_limit_loc_conf_t  *llcf;

    llcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_limit_loc_conf_t));
    if (llcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     llcf->limits.elts = NULL;
     *     llcf->policy = { 0, NULL };
     *     llcf->prepared = 0;
     */

    llcf->status = NGX_CONF_UNSET_UINT;
    llcf->log_level = NGX_CONF_UNSET_UINT;
    llcf->headers = NGX_CONF_UNSET;

    return llcf;
}


static char *
ngx_http_osint_limit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_osint_limit_loc_conf_t *prev = parent;
    ngx_http_osint_limit_loc_conf_t *conf = child;

    /*
     * The limits are checked and their policy built where they are
     * written; those of the http level are never a child: done when first
     * inherited.
     */

    if (conf->limits.elts == NULL) {
        if (prev->limits.elts && !prev->prepared) {
            if (ngx_http_osint_limit_prepare(cf, prev) != NGX_OK) {
                return NGX_CONF_ERROR;
            }
        }

        conf->limits = prev->limits;
        conf->policy = prev->policy;
        conf->prepared = prev->prepared;

    } else if (!conf->prepared) {
        if (ngx_http_osint_limit_prepare(cf, conf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    ngx_conf_merge_uint_value(conf->status, prev->status,
                              NGX_HTTP_TOO_MANY_REQUESTS);

    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_ERR);

    conf->delay_log_level = (conf->log_level == NGX_LOG_INFO)
                            ? NGX_LOG_INFO : conf->log_level + 1;

    ngx_conf_merge_value(conf->headers, prev->headers, 1);

    return NGX_CONF_OK;
}


/*
 * Zones may be declared after their use: all are known by now.  The
 * RateLimit-Policy value of a location never changes: built once.
 */

static ngx_int_t
ngx_http_osint_limit_prepare(ngx_conf_t *cf,
    ngx_http_osint_limit_loc_conf_t *llcf)
{
    u_char                       *p;
    size_t                        len;
    ngx_uint_t                    i;
    ngx_http_osint_limit_t       *limits;
    ngx_http_osint_limit_zone_t  *z;

    limits = llcf->limits.elts;
    len = 0;

    for (i = 0; i < llcf->limits.nelts; i++) {
        if (limits[i].shm_zone->data == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown osint_limit_zone \"%V\" in %s:%ui",
                          &limits[i].shm_zone->shm.name, limits[i].file,
                          limits[i].line);
            return NGX_ERROR;
        }
    }

    llcf->prepared = 1;

    for (i = 0; i < llcf->limits.nelts; i++) {
        if (!limits[i].dry_run) {
            z = limits[i].shm_zone->data;
            len += sizeof("\"\";q=;w=, ") - 1 + z->name.len
                   + 2 * NGX_INT_T_LEN;
        }
    }

    if (len == 0) {
        return NGX_OK;
    }

    llcf->policy.data = ngx_pnalloc(cf->pool, len);
    if (llcf->policy.data == NULL) {
        return NGX_ERROR;
    }

    p = llcf->policy.data;

    for (i = 0; i < llcf->limits.nelts; i++) {

        if (limits[i].dry_run) {
            continue;
        }

        z = limits[i].shm_zone->data;

        if (p != llcf->policy.data) {
            p = ngx_cpymem(p, ", ", 2);
        }

        p = ngx_sprintf(p, "\"%V\";q=%ui;w=%ui", &z->name, z->rate.burst,
                        z->window);
    }

    llcf->policy.len = p - llcf->policy.data;

    return NGX_OK;
}


/* osint_limit_zone NAME:SIZE key=VAR rate=Nr/s|Nr/m [burst=M] [sync=redis] */

static char *
ngx_http_osint_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_osint_limit_main_conf_t *lmcf = conf;

    u_char                            *p;
    ssize_t                            size;
    ngx_int_t                          rate, burst;
    ngx_str_t                         *value, name, s, key;
    ngx_uint_t                         i, scale;
    ngx_shm_zone_t                    *shm_zone;
    ngx_http_osint_limit_zone_t       *z, **zp;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    p = (u_char *) ngx_strlchr(value[1].data, value[1].data + value[1].len,
                               ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", NAME:SIZE expected",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    if (!ngx_http_osint_zone_name_valid(&name)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\": at most %d letters, "
                           "digits, \"_\", \"-\" or \".\"", &name,
                           NGX_HTTP_OSINT_NAME_MAX);
        return NGX_CONF_ERROR;
    }

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    z = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_limit_zone_t));
    if (z == NULL) {
        return NGX_CONF_ERROR;
    }

    key.len = 0;
    rate = 0;
    scale = 1;
    burst = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {

            key.data = value[i].data + 4;
            key.len = value[i].len - 4;

            if (key.len == 0) {
                goto invalid;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &key;
            ccv.complex_value = &z->key;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {

            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (ngx_http_osint_rate_parse(&s, &rate, &scale) != NGX_OK) {
                goto invalid_rate;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {

            burst = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (burst <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst value \"%V\", at least 1 "
                                   "expected", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sync=", 5) == 0) {

            if (value[i].len == 10
                && ngx_strncmp(value[i].data + 5, "redis", 5) == 0)
            {
                z->sync = 1;
                continue;
            }

            goto invalid;
        }

        goto invalid;
    }

    if (key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "osint_limit_zone \"%V\" must have \"key\" "
                           "parameter", &name);
        return NGX_CONF_ERROR;
    }

    if (rate == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "osint_limit_zone \"%V\" must have \"rate\" "
                           "parameter", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_osint_limit_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "osint_limit_zone \"%V\" is duplicate", &name);
        return NGX_CONF_ERROR;
    }

    z->shm_zone = shm_zone;
    z->name = shm_zone->shm.name;
    z->rate_n = rate;
    z->window = scale;
    z->rate.per_ms = (double) rate / (double) (scale * 1000);

    /* default: what one second of the rate brings, at least 1 */

    z->rate.burst = burst ? (ngx_uint_t) burst
                          : ((ngx_uint_t) rate + scale - 1) / scale;

    z->chunk = ngx_max(1, z->rate.burst / 8);
    z->file = cf->conf_file->file.name.data;
    z->line = cf->conf_file->line;

    shm_zone->init = ngx_http_osint_limit_init_zone;
    shm_zone->data = z;

    zp = ngx_array_push(&lmcf->zones);
    if (zp == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = z;

    return NGX_CONF_OK;

invalid_rate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid rate \"%V\", Nr/s or Nr/m expected",
                       &value[i]);
    return NGX_CONF_ERROR;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* osint_limit zone=NAME [nodelay|delay=D] [dry_run] */

static char *
ngx_http_osint_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_osint_limit_loc_conf_t *llcf = conf;

    ngx_str_t               *value, s;
    ngx_uint_t               i, dry_run, nodelay, delay_set;
    ngx_msec_t               delay;
    ngx_shm_zone_t          *shm_zone;
    ngx_http_osint_limit_t  *limit, *limits;

    value = cf->args->elts;

    shm_zone = NULL;
    delay = 0;
    delay_set = 0;
    nodelay = 0;
    dry_run = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (s.len == 0) {
                goto invalid;
            }

            shm_zone = ngx_shared_memory_add(cf, &s, 0,
                                             &ngx_http_osint_limit_module);
            if (shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "delay=", 6) == 0) {

            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            delay = ngx_parse_time(&s, 0);

            if (delay == (ngx_msec_t) NGX_ERROR) {
                goto invalid;
            }

            delay_set = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "nodelay") == 0) {
            nodelay = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "dry_run") == 0) {
            dry_run = 1;
            continue;
        }

        goto invalid;
    }

    if (shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (nodelay && delay_set) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"nodelay\" and \"delay=\" cannot be used "
                           "together");
        return NGX_CONF_ERROR;
    }

    limits = llcf->limits.elts;

    if (limits == NULL) {
        if (ngx_array_init(&llcf->limits, cf->pool, 1,
                           sizeof(ngx_http_osint_limit_t))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 0; i < llcf->limits.nelts; i++) {
        if (shm_zone == limits[i].shm_zone) {
            return "is duplicate";
        }
    }

    limit = ngx_array_push(&llcf->limits);
    if (limit == NULL) {
        return NGX_CONF_ERROR;
    }

    limit->shm_zone = shm_zone;
    limit->delay = delay;
    limit->dry_run = dry_run;
    limit->file = cf->conf_file->file.name.data;
    limit->line = cf->conf_file->line;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_osint_limit_init(ngx_conf_t *cf)
{
    ngx_uint_t                         i;
    ngx_http_handler_pt               *h;
    ngx_http_core_main_conf_t         *cmcf;
    ngx_http_osint_limit_zone_t      **zones;
    ngx_http_osint_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_osint_limit_module);

    /* without a zone no osint_limit can be valid: no handler to run */

    if (lmcf->zones.nelts == 0) {
        return NGX_OK;
    }

    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        zones[i]->late = ngx_http_osint_limit_reads_set(cf, &zones[i]->key);

        if (zones[i]->sync
            && ngx_http_osint_limit_init_sync(cf, zones[i]) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_osint_limit_rewrite_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_osint_limit_preaccess_handler;

    return NGX_OK;
}


/*
 * sync=redis needs the worker's Redis connection, which the main module
 * opens only for osint_lookup: opened here otherwise (and closed by the
 * main module's exit_process, which always closes it).
 */

static ngx_int_t
ngx_http_osint_limit_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                         i;
    ngx_http_osint_main_conf_t        *omcf;
    ngx_http_osint_limit_zone_t      **zones;
    ngx_http_osint_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_osint_limit_module);
    omcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_osint_module);

    if (lmcf == NULL || omcf == NULL || omcf->redis == NULL
        || omcf->lookup_used)
    {
        return NGX_OK;
    }

    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->sync) {
            return ngx_http_osint_redis_init_process(cycle, omcf);
        }
    }

    return NGX_OK;
}


/* sync=redis: Redis is configured (anywhere in http{}), the key's prefix */

static ngx_int_t
ngx_http_osint_limit_init_sync(ngx_conf_t *cf, ngx_http_osint_limit_zone_t *z)
{
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_osint_module);

    if (omcf == NULL || omcf->redis == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "osint_limit_zone \"%V\" with sync=redis requires "
                      "\"osint_redis\" in %s:%ui", &z->name, z->file,
                      z->line);
        return NGX_ERROR;
    }

    z->rkey.len = omcf->redis->prefix.len + sizeof("limit::") - 1
                  + z->name.len;

    z->rkey.data = ngx_pnalloc(cf->pool, z->rkey.len);
    if (z->rkey.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_sprintf(z->rkey.data, "%Vlimit:%V:", &omcf->redis->prefix,
                       &z->name);

    return NGX_OK;
}


/*
 * Whether a key reads a variable that only `set` makes: the rewrite module
 * creates those NGX_HTTP_VAR_WEAK, a flag that any other definition of
 * the name clears.  The variables' names are still in variables_keys
 * during postconfiguration.
 */

static ngx_uint_t
ngx_http_osint_limit_reads_set(ngx_conf_t *cf, ngx_http_complex_value_t *cv)
{
    ngx_uint_t                 *index, i;
    ngx_hash_key_t             *key;
    ngx_http_variable_t        *v, *indexed;
    ngx_http_core_main_conf_t  *cmcf;

    if (cv->flushes == NULL) {
        return 0;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (cmcf->variables_keys == NULL) {
        return 0;
    }

    indexed = cmcf->variables.elts;
    key = cmcf->variables_keys->keys.elts;

    for (index = cv->flushes; *index != (ngx_uint_t) -1; index++) {

        for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
            v = key[i].value;

            if (v->name.len == indexed[*index].name.len
                && ngx_strncasecmp(v->name.data, indexed[*index].name.data,
                                   v->name.len)
                   == 0)
            {
                if (v->flags & NGX_HTTP_VAR_WEAK) {
                    return 1;
                }

                break;
            }
        }
    }

    return 0;
}
