
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The request glue of the module (the files of src/): configuration, the
 * lookup and its calls, the zone, the transfers, Redis, the responses.
 * The pure code's types and functions: src/core/ngx_http_osint_core.h.
 */


#ifndef _NGX_HTTP_OSINT_H_INCLUDED_
#define _NGX_HTTP_OSINT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "ngx_http_osint_core.h"


/* what the zone says of a call about to be made */

typedef struct {
    ngx_http_osint_admit_e      verdict;
    ngx_http_osint_err_e        err;            /* when rejected */
    const char                 *reason;         /* when rejected */
    ngx_msec_t                  wait;           /* for a reserved token;
                                                   rejected: ask again then */
    ngx_uint_t                  probe;          /* ADMIT_PROBE: its trial */
    ngx_msec_t                  retry_after;    /* rejected: when it may
                                                   admit; 0: unknown */
    ngx_uint_t                  ask;            /* ADMIT_ASK: the budgets */
    ngx_uint_t                  want;           /* ... and tokens to ask */
    ngx_http_osint_budget_t    *fell_back;      /* to log: it falls back */
    ngx_uint_t                  no_breaker;     /* in: a probe the breaker
                                                   neither stops nor hears */
} ngx_http_osint_admission_t;


/* Redis's answer for the sync=redis budgets of a call */

typedef struct {
    ngx_uint_t                  asked;          /* the budgets asked */
    ngx_uint_t                  want;           /* tokens asked */
    ngx_int_t                   got;            /* -1: no answer */
    ngx_uint_t                  why;            /* got 0: a NGX_HTTP_OSINT_
                                                   GRANT_* */
    ngx_msec_t                  wait;           /* got 0, rate: next token */
    ngx_msec_t                  hold;           /* another node's 429 */
} ngx_http_osint_grant_t;

#define NGX_HTTP_OSINT_GRANT_HELD   1
#define NGX_HTTP_OSINT_GRANT_RATE   2
#define NGX_HTTP_OSINT_GRANT_QUOTA  3


/* osint_redis: where the L2 cache is and how to speak to it */

typedef struct ngx_http_osint_redis_req_s  ngx_http_osint_redis_req_t;

typedef struct {
    ngx_addr_t                 *addr;           /* resolved at start */
    ngx_str_t                   unix_path;      /* or a unix socket */
    ngx_uint_t                  db;
    ngx_str_t                   password;       /* never logged or shown */
    ngx_str_t                   password_env;
    ngx_msec_t                  timeout;
    ngx_str_t                   prefix;
    size_t                      write_buffer;   /* SET bytes in flight */

    /* a Redis 6 ACL user; Sentinel: sentinel= master= sentinel_password= */
    ngx_str_t                   username;
    ngx_array_t                *sentinels;      /* of ngx_addr_t, or NULL */
    ngx_str_t                   master;
    ngx_str_t                   sentinel_password;  /* never logged */
} ngx_http_osint_redis_conf_t;


/* a worker's remembered summaries and documents (src/ngx_http_osint_memo.c) */
typedef struct ngx_http_osint_memo_s  ngx_http_osint_memo_t;

/* a worker's remembered summaries: bytes of them at most */
#define NGX_HTTP_OSINT_MEMO_SIZE   (4 * 1024 * 1024)

/* a summary (a document) larger than this is computed every time */
#define NGX_HTTP_OSINT_MEMO_ENTRY  (NGX_HTTP_OSINT_MEMO_SIZE / 64)

/* a document recalled whole (src/ngx_http_osint_document_memo.c) */
typedef struct ngx_http_osint_recalled_s  ngx_http_osint_recalled_t;

typedef struct {
    ngx_array_t                 providers; /* of ngx_http_osint_provider_t */
    ngx_array_t                 budgets;   /* of ngx_http_osint_budget_t */

    ngx_shm_zone_t             *shm_zone;
    ssize_t                     shm_size;

    ngx_msec_t                  deadline;
    size_t                      max_body;
    ngx_flag_t                  ssl_verify;
    ngx_str_t                   ssl_trusted_certificate;

    ngx_int_t                   request_id_index;
    ngx_int_t                   nginx_request_id_index; /* $request_id */

    ngx_uint_t                  batch_max;
    ngx_uint_t                  batch_concurrency;

    ngx_http_osint_redis_conf_t *redis;         /* NULL: no L2 */

    ngx_msec_t                  cache_ttl;      /* osint_cache_ttl */
    ngx_flag_t                  cache_l1;       /* osint_cache_l1 */

    ngx_array_t                 locations;  /* of ngx_http_osint_set_t */
    ngx_http_osint_private_t    private_nets;   /* osint_private_nets */
    ngx_http_osint_memo_t      *memo;           /* the worker's, or NULL */

    unsigned                    lookup_used:1;
    unsigned                    control_used:1;
} ngx_http_osint_main_conf_t;


typedef struct {
    ngx_flag_t                  lookup;
    ngx_array_t                *cache_bypass;   /* osint_cache_bypass, of
                                                   ngx_http_complex_value_t;
                                                   NULL: never */
    ngx_array_t                *health_require; /* of ngx_uint_t, provider
                                                   indexes; NULL: none */
    ngx_str_t                   status_control; /* osint_status control= */
    uint64_t                    providers;      /* osint_lookup providers=,
                                                   a bit a provider; 0: all */
    ngx_uint_t                  types;          /* types=; 0: all */
} ngx_http_osint_loc_conf_t;


/* an osint_lookup location, its set as written, for status and checks */

typedef struct {
    ngx_str_t                   location;       /* its name */
    ngx_array_t                *names;          /* providers=, of ngx_str_t;
                                                   NULL: all */
    ngx_http_osint_loc_conf_t  *olcf;
    u_char                     *file;
    ngx_uint_t                  line;
} ngx_http_osint_set_t;


/* a transfer handed to the curl multi of this worker */

typedef struct ngx_http_osint_fetch_s  ngx_http_osint_fetch_t;

typedef void (*ngx_http_osint_fetch_done_pt)(ngx_http_osint_fetch_t *f);

struct ngx_http_osint_fetch_s {
    CURL                           *easy;
    struct curl_slist              *headers;

    u_char                         *body;
    size_t                          body_len;
    size_t                          body_size;
    size_t                          max_body;

    u_char                         *post;           /* NULL: GET */
    size_t                          post_len;

    ngx_http_osint_fetch_done_pt    done;
    void                           *data;
    ngx_log_t                      *log;

    /* whose connections it takes: "connections" of the provider */
    ngx_http_osint_provider_t      *provider;
    ngx_msec_t                      timeout;        /* the attempt's */
    ngx_event_t                     timer;          /* ... ends it */

    /* redirects, followed hop by hop (ngx_http_osint_redirect.c) */
    const char                     *origin_url;     /* the configured one */
    ngx_str_t                      *api_key;
    ngx_uint_t                      redirects;      /* hops allowed */
    ngx_uint_t                      hops;           /* hops made */
    ngx_msec_t                      deadline;       /* of all hops */
    long                            redirect_status;  /* the last 3xx */
    const char                     *redirect_error; /* answer's message */

    CURLcode                        result;
    long                            http_status;
    curl_off_t                      retry_after;    /* s; -1: none */
    ngx_http_osint_said_t           said;   /* with said_wanted */
    char                            error[CURL_ERROR_SIZE];
    const char                     *local;  /* our own failure, or NULL */

    ngx_queue_t                     queue;        /* in the worker's list */

    void                           *plain;  /* the plain client's
                                               connection, or NULL */
    u_char                         *location;   /* the plain client's
                                                   3xx: NUL-terminated */

    unsigned                        active:1;
    unsigned                        too_large:1;
    unsigned                        fresh_connect:1;
    unsigned                        foreign:1;    /* left the origin */
    unsigned                        addr_refused:1;
    unsigned                        said_wanted:1;  /* rate ... adaptive */
    unsigned                        queued:1;     /* waits for its turn */
};


/* one provider's part of one lookup */

typedef struct ngx_http_osint_lookup_s  ngx_http_osint_lookup_t;
typedef struct ngx_http_osint_call_s  ngx_http_osint_call_t;

/* a call has ended for good: its lookup's report, set by the lookup */
typedef void (*ngx_http_osint_call_done_pt)(ngx_http_osint_call_t *call);

struct ngx_http_osint_call_s {
    ngx_http_osint_lookup_t    *lookup;
    ngx_http_osint_call_done_pt done;
    ngx_http_osint_provider_t  *provider;
    ngx_http_osint_fetch_t     *fetch;      /* NULL until its first
                                               attempt: a hit never
                                               needs one */

    ngx_http_osint_status_e     status;
    ngx_http_osint_err_e        err;
    ngx_str_t                   message;
    ngx_int_t                   http_status;        /* 0: none */
    ngx_msec_t                  retry_after;        /* 0: unknown */
    ngx_uint_t                  attempts;
    double                      attempt_started;    /* ms, monotonic */
    double                      latency;            /* ms */
    cJSON                      *data;
    ngx_str_t                   text;   /* an ok answer's JSON text: from
                                           a cache (parsed only by
                                           ..._call_data()), or as the
                                           caches keep a provider's */
    uint64_t                    gen;    /* its L1 entry's; 0: none */

    ngx_event_t                 timer;      /* token wait, backoff, cache lock */

    ngx_http_osint_source_e     cache;      /* where the answer came from */
    time_t                      answered;   /* when the provider answered;
                                               0: no answer (age) */
    time_t                      expires;    /* its freshness ends (max-age) */
    ngx_str_t                   stale;      /* a stale answer to fall back on */
    ngx_http_osint_status_e     stale_status;
    time_t                      stale_answered;
    ngx_http_osint_err_e        stale_reason;
    ngx_http_osint_redis_req_t *redis;      /* a GET in flight */
    ngx_queue_t                 coalesce;   /* in the worker's calls that
                                               hold an L1 update lock, or
                                               that wait for one */

    ngx_uint_t                  ask;        /* budgets asked of Redis */
    ngx_uint_t                  want;       /* ... tokens asked */
    unsigned                    admitted:1; /* the timer ends a token wait */
    unsigned                    evaled:1;   /* the budget script sent whole */
    ngx_uint_t                  probe;      /* the breaker trial it probes,
                                               0: not a probe */
    unsigned                    locked:1;   /* holds the L1 update lock */
    unsigned                    fresh:1;    /* retry on a new connection */
    unsigned                    waiting:1;  /* waits for another's answer */
    unsigned                    woken:1;    /* ... and it came: the timer
                                               event is posted */
    unsigned                    probing:1;  /* an active probe's call */
    unsigned                    refresh:1;  /* served stale holding the
                                               lock: a background refresh
                                               is due (its lookup starts
                                               it) */
};

/* skipped by configuration (no api key, a private target): no failure */

static ngx_inline ngx_uint_t
ngx_http_osint_call_refused(ngx_http_osint_call_t *call)
{
    return call->status == NGX_HTTP_OSINT_SKIPPED
           && (call->err == NGX_HTTP_OSINT_ERR_DISABLED
               || call->err == NGX_HTTP_OSINT_ERR_PRIVATE);
}


typedef struct ngx_http_osint_batch_s  ngx_http_osint_batch_t;

/*
 * A lookup has ended (every call, or the deadline): who started it
 * answers, the GET handler or the batch.
 */
typedef void (*ngx_http_osint_lookup_done_pt)(ngx_http_osint_lookup_t *lk);

struct ngx_http_osint_lookup_s {
    ngx_http_request_t         *request;        /* NULL: a background
                                                   refresh (no client) */
    ngx_http_osint_main_conf_t *omcf;
    ngx_log_t                  *log;
    ngx_connection_t           *connection;     /* its events' data */
    ngx_http_osint_lookup_done_pt  done;
    ngx_http_osint_batch_t     *batch;              /* NULL: GET */
    ngx_pool_t                 *pool;       /* a GET: r->pool; a batch's
                                               target: its own, freed with
                                               its line */
    ngx_queue_t                 queue;              /* in its batch */
    ngx_str_t                   target;             /* canonical form */
    ngx_uint_t                  type;
    ngx_str_t                   request_id;
    ngx_str_t                   traceparent;        /* valid, or empty */
    ngx_str_t                   tracestate;         /* valid, or empty */
    ngx_str_t                   verdict;            /* its level */
    ngx_str_t                   private;    /* why the target is private:
                                               the message; empty: not */

    ngx_http_osint_call_t      *calls;
    ngx_uint_t                  ncalls;
    ngx_uint_t                  pending;

    ngx_event_t                 deadline;
    ngx_msec_t                  deadline_at;        /* ngx_current_msec */
    double                      started;    /* ms, monotonic: when its
                                               calls still out after it
                                               started were sent */
    double                      elapsed;            /* ms, at its status */

    ngx_http_osint_recalled_t  *recalled;   /* its document, remembered
                                               by the worker; NULL: none */
    const char                 *cache_status;       /* X-Cache-Status */
    ngx_str_t                   reject;             /* why input is bad */
    const char                 *reject_kind;

    unsigned                    bypass:1;           /* refresh */
    unsigned                    refresh:1;  /* refresh=1 asked, allowed
                                               or not */
    unsigned                    args_recalled:1;    /* ..._lookup_recall() */
    unsigned                    starting:1;
    unsigned                    at_once:1;  /* every call ended as it
                                               started */
    unsigned                    finished:1;
};


/* the request's module context: a lookup (GET) or a batch (POST) */

typedef struct {
    ngx_http_osint_lookup_t    *lookup;
    ngx_http_osint_batch_t     *batch;
} ngx_http_osint_ctx_t;


/* what a provider's and a budget's state in the zone start with */

typedef struct {
    ngx_queue_t                 queue;
    u_char                      name[NGX_HTTP_OSINT_NAME_MAX];
    size_t                      name_len;
} ngx_http_osint_named_t;


/* the osint zone: header of the shared memory */

typedef struct {
    ngx_atomic_t                lookups[NGX_HTTP_OSINT_TYPE_ROWS]
                                       [NGX_HTTP_OSINT_RESULTS];
    ngx_atomic_t                cache[NGX_HTTP_OSINT_TIERS]
                                     [NGX_HTTP_OSINT_CACHE_RESULTS];
    ngx_atomic_t                cache_recalled; /* lookups answered by a
                                                   remembered document */
    /*
     * Redis connections up, one entry a process slot (ngx_process_slot):
     * the pid of the worker while connected, else 0.  Only the owner
     * writes its entry; a worker killed while connected leaves its pid
     * behind, which readers find dead (ngx_http_osint_redis_workers_up).
     */
    ngx_pid_t                   redis_up[NGX_MAX_PROCESSES];
    ngx_atomic_t                redis_writes_dropped;

    /*
     * sentinel=: the master last verified (ROLE), as a hash of its
     * address, and how often it changed; the first worker to see a new
     * master counts it, so a node counts each failover once.
     */
    ngx_atomic_t                redis_master;
    ngx_atomic_t                redis_failovers;

    /* whole lookups answered: osint_lookup_duration_seconds */
    ngx_atomic_t                lookup_latency[NGX_HTTP_OSINT_LATENCY_BUCKETS
                                               + 1];
    ngx_atomic_t                lookup_latency_sum_us;
    time_t                      start;          /* the counters' start */

    /* osint_health's checks, under the zone's lock */
    ngx_http_osint_health_seen_t  health_redis;
    ngx_http_osint_health_seen_t  health_zone;
    ngx_http_osint_health_seen_t  health_providers;
    ngx_atomic_t                control[NGX_HTTP_OSINT_CONTROL_ACTIONS];
} ngx_http_osint_counters_t;


/* one cached answer in the zone: L1 */

typedef struct ngx_http_osint_cache_node_s  ngx_http_osint_cache_node_t;

struct ngx_http_osint_cache_node_s {
    ngx_http_osint_cache_node_t  *next;         /* in its index bucket */
    ngx_http_osint_cache_node_t **prev;         /* what points at it */
    uint32_t                    hash;           /* crc32 of the key */
    ngx_queue_t                 lru;
    ngx_http_osint_pstate_t    *owner;          /* counts it; never freed */
    ngx_msec_t                  fresh_until;
    ngx_msec_t                  stale_until;
    ngx_msec_t                  updating_until; /* a worker asks upstream */
    time_t                      answered;       /* when the provider did */
    uint64_t                    gen;            /* unique in the zone, for
                                                   as long as it lives;
                                                   0: a placeholder */
    uint32_t                    value_len;
    u_short                     key_len;
    u_char                      status;         /* ok, not_found; 0: none */
    u_char                      data[1];        /* key, then value */
};

/* what the L1 lookup found */
typedef enum {
    NGX_HTTP_OSINT_L1_MISS = 0,     /* the caller now holds the lock */
    NGX_HTTP_OSINT_L1_FRESH,
    NGX_HTTP_OSINT_L1_STALE,        /* the caller holds the lock */
    NGX_HTTP_OSINT_L1_BUSY,         /* another call is asking upstream */
    NGX_HTTP_OSINT_L1_REFRESH,      /* stale to serve within revalidate=:
                                       the caller holds the lock, for a
                                       background refresh */
    NGX_HTTP_OSINT_L1_UPDATING      /* the same, another refreshes it */
} ngx_http_osint_l1_e;

/*
 * An L1 entry as a remembered document names it: its key and generation;
 * "expires" is set as ngx_http_osint_l1_answer_t's is
 */
typedef struct {
    u_char                     *key;
    size_t                      key_len;
    uint32_t                    hash;       /* ngx_crc32_short() of key */
    uint64_t                    gen;
    time_t                      expires;
} ngx_http_osint_l1_ref_t;

/* an answer L1 found: its text is a copy in the caller's pool */
typedef struct {
    ngx_str_t                   value;      /* JSON text, NUL-terminated */
    ngx_http_osint_status_e     status;
    time_t                      answered;   /* when the provider gave it */
    time_t                      expires;    /* its freshness ends; 0: stale */
    uint64_t                    gen;        /* the entry's, see memo.c */
} ngx_http_osint_l1_answer_t;

typedef struct {
    ngx_uint_t                  signature;
    ngx_queue_t                 providers;  /* of ngx_http_osint_pstate_t */
    ngx_queue_t                 budgets;    /* osint_budget states */
    ngx_http_osint_counters_t   counters;

    ngx_http_osint_cache_node_t **cache_index;  /* hash buckets */
    ngx_uint_t                  cache_mask;     /* their number - 1 */
    ngx_queue_t                 cache_lru;  /* of ngx_http_osint_cache_node_t */
    ngx_uint_t                  cache_entries;
    uint64_t                    cache_gen;  /* the last answer stored */
    time_t                      evict_logged;   /* last warning */
} ngx_http_osint_shctx_t;

typedef struct {
    ngx_http_osint_shctx_t     *sh;
    ngx_slab_pool_t            *shpool;
    ngx_http_osint_main_conf_t *omcf;
} ngx_http_osint_shm_t;


extern ngx_module_t  ngx_http_osint_module;


/* provider blocks */
char *ngx_http_osint_private_nets(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_osint_provider_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/* foreign fds on nginx events */
ngx_connection_t *ngx_http_osint_fd_wrap(ngx_socket_t fd, ngx_log_t *log);
ngx_int_t ngx_http_osint_fd_watch(ngx_connection_t *c, ngx_uint_t read,
    ngx_uint_t write);
void ngx_http_osint_fd_release(ngx_connection_t *c, ngx_uint_t closed);


/* libcurl multi on this worker's event loop */
ngx_int_t ngx_http_osint_fetch_check_libcurl(ngx_log_t *log);
ngx_int_t ngx_http_osint_fetch_init_process(ngx_cycle_t *cycle,
    ngx_http_osint_main_conf_t *omcf);
void ngx_http_osint_fetch_exit_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_osint_fetch_start(ngx_http_osint_fetch_t *f,
    const char *url, ngx_msec_t timeout);
ngx_int_t ngx_http_osint_fetch_add_header(ngx_http_osint_fetch_t *f,
    const char *line);
void ngx_http_osint_fetch_cancel(ngx_http_osint_fetch_t *f);

/* what a transfer keeps of its answer */
typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  field;  /* ngx_http_osint_said_field_e */
} ngx_http_osint_said_header_t;

extern ngx_http_osint_said_header_t  ngx_http_osint_said_headers[];

ngx_int_t ngx_http_osint_fetch_body_add(ngx_http_osint_fetch_t *f,
    u_char *data, size_t len);

/* the plain HTTP/1.1 client, for origins at an IP literal */
typedef void (*ngx_http_osint_plain_done_pt)(ngx_http_osint_fetch_t *f,
    CURLcode result);

char *ngx_http_osint_plain_origin(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p);
ngx_int_t ngx_http_osint_plain_init_process(ngx_cycle_t *cycle,
    ngx_http_osint_main_conf_t *omcf);
void ngx_http_osint_plain_exit_process(void);
ngx_int_t ngx_http_osint_plain_start(ngx_http_osint_fetch_t *f,
    ngx_http_osint_plain_done_pt done);
void ngx_http_osint_plain_finish(ngx_http_osint_fetch_t *f);

/* the longest a 429's Retry-After is obeyed, s: an hour */
#define NGX_HTTP_OSINT_RETRY_AFTER_MAX  3600

curl_off_t ngx_http_osint_retry_after(u_char *value, size_t len);

/* the door of osint_lookup: GET or POST */
ngx_int_t ngx_http_osint_lookup_handler(ngx_http_request_t *r);

/* the lookup */
ngx_http_osint_lookup_t *ngx_http_osint_lookup_new(ngx_http_request_t *r);
ngx_http_osint_lookup_t *ngx_http_osint_lookup_create(ngx_http_request_t *r,
    ngx_pool_t *pool);
ngx_int_t ngx_http_osint_lookup_args(ngx_http_osint_lookup_t *lk,
    ngx_str_t *providers);
ngx_int_t ngx_http_osint_lookup_params(ngx_http_osint_lookup_t *lk,
    ngx_uint_t *want, ngx_str_t *providers);
ngx_int_t ngx_http_osint_lookup_target(ngx_http_osint_lookup_t *lk,
    ngx_str_t *target, ngx_uint_t want);
ngx_int_t ngx_http_osint_lookup_select(ngx_http_osint_lookup_t *lk,
    ngx_str_t *filter);
ngx_int_t ngx_http_osint_lookup_run(ngx_http_osint_lookup_t *lk);
ngx_uint_t ngx_http_osint_lookup_status(ngx_http_osint_lookup_t *lk);
ngx_http_osint_call_t *ngx_http_osint_lookup_call(ngx_http_osint_lookup_t *lk,
    ngx_http_osint_provider_t *p);
ngx_uint_t ngx_http_osint_lookup_bypass(ngx_http_request_t *r,
    ngx_uint_t refresh);

/* the GET arguments of L1-hit lookups, remembered by the worker */
ngx_int_t ngx_http_osint_lookup_recall(ngx_http_osint_lookup_t *lk);
void ngx_http_osint_lookup_remember(ngx_http_osint_lookup_t *lk);
void ngx_http_osint_check_broken(ngx_http_request_t *r);


/* POST /lookup: a batch streamed as NDJSON */
ngx_int_t ngx_http_osint_batch_handler(ngx_http_request_t *r);


/* the monotonic clock of latencies and elapsed_ms, in ms */

static ngx_inline double
ngx_http_osint_now_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1000000.0;
}


/*
 * The Redis L2 cache (src/ngx_http_osint_redis.c): one hiredis async
 * connection per worker on nginx events.  Never an error for a lookup:
 * down, refusing or slow is a miss.
 */

/* rc: NGX_OK a value, NGX_DECLINED no such key, NGX_ERROR down/timeout */
typedef void (*ngx_http_osint_redis_get_pt)(void *data, ngx_int_t rc,
    u_char *value, size_t len);

char *ngx_http_osint_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_osint_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_osint_main_conf_t *omcf);
void ngx_http_osint_redis_exit_process(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_osint_redis_up(void);
ngx_uint_t ngx_http_osint_redis_workers_up(ngx_http_osint_counters_t *c);
ngx_http_osint_redis_req_t *ngx_http_osint_redis_get(ngx_str_t *key,
    ngx_http_osint_redis_get_pt handler, void *data, ngx_log_t *log);
void ngx_http_osint_redis_cancel(ngx_http_osint_redis_req_t *req);

/*
 * A purge's L1 keys, one a line, to every node's L1 through the channel
 * "<prefix>purge"; a message with more lines is ignored by the nodes.
 */
#define NGX_HTTP_OSINT_PURGE_KEYS_MAX  64
void ngx_http_osint_redis_publish_purge(u_char *msg, size_t len);

/*
 * Any command (redisAsyncCommandArgv's arguments).  NULL: down or not
 * configured, nothing will be called.  Else the handler runs exactly once,
 * later, from an nginx event, within osint_redis's timeout, unless
 * cancelled: rc NGX_OK and the reply (any type, an error reply included;
 * valid during the call only), or NGX_ERROR and NULL (down, timeout).
 * The reply is a hiredis redisReply.
 */
typedef void (*ngx_http_osint_redis_reply_pt)(void *data, ngx_int_t rc,
    void *reply);
ngx_http_osint_redis_req_t *ngx_http_osint_redis_command(int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_osint_redis_reply_pt handler, void *data, ngx_log_t *log);
ngx_msec_t ngx_http_osint_redis_timeout(void);

/*
 * Lua shared by the scripts of sync=redis (the limiter's, the budgets'):
 * "now" in ms on Redis's clock; then a bucket refilled from its hash "s"
 * (HMGET tokens, ts) at "rate" per ms up to "burst", into "tokens".
 */
#define NGX_HTTP_OSINT_LUA_NOW                                                \
    "if redis.replicate_commands then redis.replicate_commands() end\n"      \
    "local t = redis.call('TIME')\n"                                         \
    "local now = tonumber(t[1]) * 1000"                                       \
    " + math.floor(tonumber(t[2]) / 1000)\n"

#define NGX_HTTP_OSINT_LUA_REFILL                                             \
    "local tokens = tonumber(s[1])\n"                                        \
    "local ts = tonumber(s[2])\n"                                            \
    "if tokens == nil or ts == nil then tokens = burst; ts = now end\n"      \
    "local d = now - ts\n"                                                   \
    "if d < 0 then d = 0 end\n"                                              \
    "tokens = math.min(burst, tokens + d * rate)\n"
void ngx_http_osint_redis_set(ngx_str_t *key, u_char *value, size_t len,
    time_t ttl);
ngx_int_t ngx_http_osint_redis_key(ngx_http_osint_main_conf_t *omcf,
    ngx_pool_t *pool, ngx_http_osint_provider_t *p, ngx_str_t *target,
    ngx_str_t *key);

/* L1 cache in the zone */
ngx_http_osint_l1_e ngx_http_osint_l1_get(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target, ngx_msec_t lock,
    ngx_pool_t *pool, ngx_http_osint_l1_answer_t *answer);
void ngx_http_osint_l1_put(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target,
    ngx_http_osint_status_e status, ngx_str_t *value, ngx_msec_t fresh,
    time_t answered, ngx_log_t *log);
ngx_int_t ngx_http_osint_l1_confirm(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_l1_ref_t *refs, ngx_uint_t n);
size_t ngx_http_osint_l1_key(u_char *key, ngx_http_osint_provider_t *p,
    ngx_str_t *target);
void ngx_http_osint_l1_unlock(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target);
void ngx_http_osint_count_cache(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_uint_t tier, ngx_uint_t result);
ngx_int_t ngx_http_osint_init_cache(ngx_http_osint_shm_t *ctx, size_t size);
ngx_uint_t ngx_http_osint_l1_purge(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target, ngx_str_t *key);
ngx_uint_t ngx_http_osint_l1_purge_key(ngx_http_osint_main_conf_t *omcf,
    u_char *key, size_t len);

/* an L1 key, "name:fingerprint:target" */
#define NGX_HTTP_OSINT_KEY_MAX                                                \
    (NGX_HTTP_OSINT_NAME_MAX + 10 + NGX_HTTP_OSINT_TARGET_MAX)

/* variables */
ngx_int_t ngx_http_osint_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_osint_header_in(ngx_http_request_t *r, char *name,
    ngx_str_t *value);

/* status and health */
ngx_int_t ngx_http_osint_status_handler(ngx_http_request_t *r);
char *ngx_http_osint_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_osint_content(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_osint_health_handler(ngx_http_request_t *r);
char *ngx_http_osint_health_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_osint_quota_json(cJSON *item, ngx_http_osint_provider_t *p);
void ngx_http_osint_probe_json(cJSON *item, ngx_http_osint_provider_t *p,
    ngx_http_osint_pstate_t *ps);

/* osint_control: the operators' API (src/ngx_http_osint_control.c) */
ngx_int_t ngx_http_osint_control_handler(ngx_http_request_t *r);

/* response documents */
ngx_int_t ngx_http_osint_send_json(ngx_http_request_t *r, ngx_uint_t status,
    cJSON *doc);
ngx_int_t ngx_http_osint_send_buf(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b);
ngx_int_t ngx_http_osint_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *kind, const char *fmt, ...);
void ngx_http_osint_discard_body(ngx_http_request_t *r);
ngx_int_t ngx_http_osint_add_header(ngx_http_request_t *r, char *name,
    u_char *value, size_t len);
#define ngx_http_osint_add_text_header(r, name, text)                         \
    ngx_http_osint_add_header(r, name, (u_char *) text, sizeof(text) - 1)
ngx_int_t ngx_http_osint_private_headers(ngx_http_request_t *r);
ngx_buf_t *ngx_http_osint_lookup_buf(ngx_http_osint_lookup_t *lk,
    ngx_pool_t *pool);
ngx_int_t ngx_http_osint_lookup_max_age(ngx_http_osint_lookup_t *lk);
ngx_int_t ngx_http_osint_error_retryable(cJSON *error, const char *kind);


/* the zone */
char *ngx_http_osint_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void *ngx_http_osint_zone_named(ngx_queue_t *list, ngx_str_t *name);
void *ngx_http_osint_zone_add(ngx_http_osint_shm_t *ctx, ngx_queue_t *list,
    ngx_str_t *name, size_t size, const char *what);
void ngx_http_osint_count_duration(ngx_http_osint_main_conf_t *omcf,
    double ms);
void ngx_http_osint_count_lookup(ngx_http_osint_main_conf_t *omcf,
    ngx_uint_t type, ngx_uint_t result);
void ngx_http_osint_count_invalid(ngx_http_request_t *r);
void ngx_http_osint_admit(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_msec_t max_wait,
    ngx_http_osint_admission_t *a, ngx_log_t *log);
void ngx_http_osint_record_said(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_said_t *said);
void ngx_http_osint_record(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_outcome_e outcome,
    ngx_http_osint_err_e err, ngx_uint_t probe, uint32_t target,
    double latency_ms, ngx_msec_t hold, ngx_uint_t breaker, ngx_log_t *log,
    ngx_str_t *request_id);
void ngx_http_osint_release_probe(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_uint_t probe);
void ngx_http_osint_count_skip(ngx_http_osint_provider_t *p,
    ngx_http_osint_skip_e reason);
void ngx_http_osint_count_retry(ngx_http_osint_provider_t *p);
void ngx_http_osint_count_call(ngx_http_osint_provider_t *p,
    ngx_http_osint_outcome_e outcome);

/* osint_control's changes of a provider's state, under the zone's lock */
void ngx_http_osint_force_breaker(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_uint_t open);
ngx_uint_t ngx_http_osint_lift_hold(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p);
void ngx_http_osint_switch(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_uint_t on);
ngx_uint_t ngx_http_osint_switched_off(ngx_http_osint_provider_t *p);
void ngx_http_osint_pstate_copy(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_pstate_t *copy);
void ngx_http_osint_count_control(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_control_e action);


/* budgets (src/ngx_http_osint_budget.c, _budget_sync.c) */
#define NGX_HTTP_OSINT_BUDGET_PROM_TOKENS     0
#define NGX_HTTP_OSINT_BUDGET_PROM_REMAINING  1
#define NGX_HTTP_OSINT_BUDGET_PROM_RESET      2
#define NGX_HTTP_OSINT_BUDGET_PROM_FALLBACK   3
#define NGX_HTTP_OSINT_BUDGET_PROM_FALLBACKS  4

char *ngx_http_osint_budget_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_osint_budget_conf(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
ngx_int_t ngx_http_osint_budget_param(ngx_str_t *v,
    ngx_http_osint_budget_t *b);
ngx_int_t ngx_http_osint_budgets_init(ngx_conf_t *cf,
    ngx_http_osint_main_conf_t *omcf);
ngx_uint_t ngx_http_osint_budgets_of(ngx_http_osint_provider_t *p,
    ngx_http_osint_budget_t **b);
ngx_int_t ngx_http_osint_budgets_take(ngx_http_osint_provider_t *p,
    ngx_msec_t max_wait, ngx_http_osint_grant_t *g,
    ngx_http_osint_admission_t *a);
void ngx_http_osint_admit_grant(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_msec_t max_wait,
    ngx_http_osint_grant_t *g, ngx_http_osint_admission_t *a, ngx_log_t *log);
cJSON *ngx_http_osint_budget_json(ngx_http_osint_budget_t *b);
double ngx_http_osint_budget_tokens(ngx_http_osint_budget_t *b);
ngx_uint_t ngx_http_osint_budget_left(ngx_http_osint_budget_t *b,
    ngx_uint_t i, time_t sec);
u_char *ngx_http_osint_budget_prometheus(u_char *p, u_char *last,
    ngx_http_osint_budget_t *b, ngx_uint_t what, const char *prefix,
    const char *label);
ngx_http_osint_redis_req_t *ngx_http_osint_budget_ask(
    ngx_http_osint_provider_t *p, ngx_uint_t ask, ngx_uint_t want,
    ngx_uint_t eval, ngx_http_osint_redis_reply_pt handler, void *data,
    ngx_pool_t *pool, ngx_log_t *log);
ngx_uint_t ngx_http_osint_budget_noscript(ngx_int_t rc, void *reply);
void ngx_http_osint_budget_answer(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_int_t rc, void *reply,
    ngx_http_osint_grant_t *g, ngx_log_t *log);
void ngx_http_osint_budget_hold(ngx_http_osint_provider_t *p,
    ngx_msec_t hold);
void ngx_http_osint_budget_log(ngx_http_osint_admission_t *a, ngx_log_t *log);


/* one provider call: admission, transfer, outcome, retries */
void ngx_http_osint_call_begin(ngx_http_osint_call_t *call);
void ngx_http_osint_call_refresh(ngx_http_osint_call_t *call);
void ngx_http_osint_call_probe(ngx_http_osint_call_t *call);
cJSON *ngx_http_osint_call_data(ngx_http_osint_call_t *call);
void ngx_http_osint_call_recall(ngx_http_osint_call_t *call,
    ngx_http_osint_status_e status, time_t answered, time_t expires,
    uint64_t gen);

/* cJSON's memory in a pool, for a span (src/ngx_http_osint_json_pool.c) */
ngx_pool_t *ngx_http_osint_json_pool_enter(ngx_pool_t *pool);
void ngx_http_osint_json_pool_leave(ngx_pool_t *prev);

/*
 * The document's members of this request only, its "holes"
 * (src/ngx_http_osint_document_holes.c): 0 request_id, 1 elapsed_ms,
 * then 2 + 2i latency_ms and 3 + 2i age of call i, in the order written
 */
#define NGX_HTTP_OSINT_HOLES(ncalls)  (2 + 2 * (ncalls))

/* "86400000.9", the longest ngx_http_osint_json_ms() writes */
#define NGX_HTTP_OSINT_MS_LEN  (NGX_INT64_LEN + 2)

/* the longest number a document member holds */
#define NGX_HTTP_OSINT_NUM_LEN  NGX_INT64_LEN

u_char *ngx_http_osint_document_hole(u_char *p, ngx_http_osint_lookup_t *lk,
    char *request_id, ngx_uint_t hole);
size_t ngx_http_osint_document_holes_size(ngx_http_osint_lookup_t *lk);
char *ngx_http_osint_cstring(ngx_pool_t *pool, ngx_str_t *s);

/* documents remembered whole by the worker, for L1 hits */
ngx_int_t ngx_http_osint_document_recall(ngx_http_osint_lookup_t *lk);
ngx_uint_t ngx_http_osint_document_memorable(ngx_http_osint_lookup_t *lk);
void ngx_http_osint_document_remember(ngx_http_osint_lookup_t *lk,
    ngx_str_t *doc, u_char **holes);
ngx_int_t ngx_http_osint_document_compose(ngx_http_osint_lookup_t *lk,
    ngx_pool_t *pool, ngx_str_t *doc);

/* summaries (and documents) remembered by the worker */
ngx_int_t ngx_http_osint_memo_key(ngx_http_osint_lookup_t *lk, ngx_str_t *key);
ngx_int_t ngx_http_osint_memo_get(ngx_http_osint_main_conf_t *omcf,
    ngx_str_t *key, ngx_pool_t *pool, ngx_str_t *summary, ngx_str_t *verdict);
void ngx_http_osint_memo_put(ngx_http_osint_main_conf_t *omcf, ngx_str_t *key,
    ngx_str_t *summary, ngx_str_t *verdict, ngx_log_t *log);

/* background refreshes of stale-while-revalidate, owned by the worker */
void ngx_http_osint_refresh_start(ngx_http_osint_call_t *from);
void ngx_http_osint_refresh_exit_process(ngx_cycle_t *cycle);
/* a probe has ended: NGX_HTTP_OSINT_ERR_NONE when the provider answered */
typedef void (*ngx_http_osint_probed_pt)(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_err_e err,
    ngx_msec_t latency_us);

void ngx_http_osint_refresh_probe(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_probed_pt probed);

/* active probes (src/ngx_http_osint_probe.c) */
ngx_int_t ngx_http_osint_probe_init_process(ngx_cycle_t *cycle,
    ngx_http_osint_main_conf_t *omcf);
void ngx_http_osint_probe_exit_process(ngx_cycle_t *cycle);
void ngx_http_osint_call_abort(ngx_http_osint_call_t *call,
    ngx_http_osint_err_e err, const char *message);
void ngx_http_osint_call_error(ngx_http_osint_call_t *call,
    ngx_http_osint_err_e err, ngx_int_t http_status, const char *message);


#endif /* _NGX_HTTP_OSINT_H_INCLUDED_ */
