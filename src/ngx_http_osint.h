
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Shared types of the module: configuration, providers, the lookup context.
 */


#ifndef _NGX_HTTP_OSINT_H_INCLUDED_
#define _NGX_HTTP_OSINT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>


#define NGX_HTTP_OSINT_VERSION        "0.1.0"

/* target types: bits, so that a provider's `types` is a mask */
#define NGX_HTTP_OSINT_IPV4           0x01
#define NGX_HTTP_OSINT_IPV6           0x02
#define NGX_HTTP_OSINT_DOMAIN         0x04
#define NGX_HTTP_OSINT_EMAIL          0x08
#define NGX_HTTP_OSINT_URL            0x10
#define NGX_HTTP_OSINT_HASH           0x20
#define NGX_HTTP_OSINT_PHONE          0x40
#define NGX_HTTP_OSINT_USERNAME       0x80
#define NGX_HTTP_OSINT_IP             (NGX_HTTP_OSINT_IPV4|NGX_HTTP_OSINT_IPV6)
/* the types detected; a username is one only when asked for */
#define NGX_HTTP_OSINT_ANY            0x7f
/* rows of osint_lookups_total: one per type bit, then "unknown" */
#define NGX_HTTP_OSINT_TYPE_ROWS      9

/* longest target accepted, in bytes after percent-decoding */
#define NGX_HTTP_OSINT_TARGET_MAX     2048


/* how one provider call ended */
typedef enum {
    NGX_HTTP_OSINT_PENDING = 0,
    NGX_HTTP_OSINT_OK,
    NGX_HTTP_OSINT_NOT_FOUND,
    NGX_HTTP_OSINT_ERROR,
    NGX_HTTP_OSINT_SKIPPED
} ngx_http_osint_status_e;


/* error.kind of INTERFACE.md; the order is that of ngx_http_osint_kinds[] */
typedef enum {
    NGX_HTTP_OSINT_ERR_NONE = 0,
    NGX_HTTP_OSINT_ERR_TIMEOUT,
    NGX_HTTP_OSINT_ERR_CONNECT,
    NGX_HTTP_OSINT_ERR_HTTP_STATUS,
    NGX_HTTP_OSINT_ERR_BAD_RESPONSE,
    NGX_HTTP_OSINT_ERR_TOO_LARGE,
    NGX_HTTP_OSINT_ERR_RATE_LIMITED,
    NGX_HTTP_OSINT_ERR_BREAKER_OPEN,
    NGX_HTTP_OSINT_ERR_AUTH,
    NGX_HTTP_OSINT_ERR_DEADLINE,
    NGX_HTTP_OSINT_ERR_DISABLED,
    NGX_HTTP_OSINT_ERR_INTERNAL,    /* the worker's own, not the provider's */
    NGX_HTTP_OSINT_ERR_REDIRECT
} ngx_http_osint_err_e;


/*
 * A compiled url or header template: literal text and variables.  The
 * target is always inserted percent-encoded as one component, the api key
 * too but in a header, where it goes as it is.
 */

typedef enum {
    NGX_HTTP_OSINT_TPL_LITERAL = 0,
    NGX_HTTP_OSINT_TPL_TARGET,
    NGX_HTTP_OSINT_TPL_TARGET_TYPE,
    NGX_HTTP_OSINT_TPL_API_KEY,
    NGX_HTTP_OSINT_TPL_TARGET_B64URL,
    NGX_HTTP_OSINT_TPL_TARGET_DOMAIN
} ngx_http_osint_tpl_part_e;

typedef struct {
    ngx_http_osint_tpl_part_e   type;
    ngx_str_t                   text;           /* literal parts only */
} ngx_http_osint_tpl_part_t;

typedef struct {
    ngx_array_t                 parts;  /* of ngx_http_osint_tpl_part_t */
    unsigned                    raw_key:1;  /* a header: the key as it is */
} ngx_http_osint_tpl_t;


/* one step of a `field` path: an object member or an array index */
typedef struct {
    ngx_str_t                   key;            /* empty for an index */
    ngx_int_t                   index;
} ngx_http_osint_path_step_t;

typedef struct {
    ngx_str_t                   name;           /* key in `data` */
    char                       *cname;          /* same, NUL-terminated */
    ngx_str_t                   source;         /* the path as written */
    ngx_array_t                 steps;  /* of ngx_http_osint_path_step_t */
} ngx_http_osint_field_t;


/* a condition of `found` (format presence): all must hold */
typedef struct {
    ngx_uint_t                  status;         /* 0: any 2xx */
    ngx_uint_t                  nonempty;   /* "", [] and {} are absent */
    ngx_http_osint_field_t      path;       /* no steps: no path given */
} ngx_http_osint_found_t;


/*
 * A built-in format (src/ngx_http_osint_formats.c, src/formats/): turns a
 * provider's 2xx JSON answer into stable `data` fields.  Pure: cJSON in,
 * cJSON out, no nginx, so each is unit-tested and fuzzed alone.
 *   NGX_OK        *data is a new object the caller owns
 *   NGX_DECLINED  the provider says it knows nothing of the target
 *   NGX_ERROR     not what this provider answers: *message says why
 * The target type (NGX_HTTP_OSINT_IPV4 ...) tells apart shapes that
 * differ per type (RDAP domain vs network objects, say).
 */

typedef ngx_int_t (*ngx_http_osint_normalise_pt)(cJSON *root,
    ngx_uint_t type, cJSON **data, const char **message);

typedef struct {
    const char                    *name;
    ngx_http_osint_normalise_pt    normalise;   /* NULL: format json */
} ngx_http_osint_format_t;

extern ngx_http_osint_format_t  ngx_http_osint_formats[];

/* index 0 of ngx_http_osint_formats[] */
#define NGX_HTTP_OSINT_FORMAT_JSON  0
typedef ngx_uint_t  ngx_http_osint_format_e;


/* resilience: the configuration of one provider */

typedef struct {
    double                      per_ms;         /* tokens per ms; 0: none */
    ngx_uint_t                  burst;
    ngx_msec_t                  wait;
} ngx_http_osint_rate_t;

#define NGX_HTTP_OSINT_QUOTA_HOUR    1
#define NGX_HTTP_OSINT_QUOTA_DAY     2
#define NGX_HTTP_OSINT_QUOTA_MONTH   3

typedef struct {
    ngx_uint_t                  limit;          /* 0: none */
    ngx_uint_t                  unit;
} ngx_http_osint_quota_t;

typedef struct {
    ngx_uint_t                  retries;
    ngx_msec_t                  backoff;
    ngx_msec_t                  max_backoff;
} ngx_http_osint_retry_t;

typedef struct {
    ngx_uint_t                  failures;       /* 0: no breaker */
    ngx_msec_t                  cooldown;
    ngx_uint_t                  half_open;
} ngx_http_osint_breaker_conf_t;


/* resilience: the state of one provider, in the zone */

typedef struct {
    double                      tokens;
    ngx_msec_t                  last;           /* 0: never used */
} ngx_http_osint_bucket_t;

/* values of the osint_breaker_state gauge */
#define NGX_HTTP_OSINT_BREAKER_CLOSED     0
#define NGX_HTTP_OSINT_BREAKER_OPEN       1
#define NGX_HTTP_OSINT_BREAKER_HALF_OPEN  2

/*
 * The breaker counts failures of distinct targets: the hashes of the
 * last failing ones are kept, and a failure of one of them counts no
 * more (see ngx_http_osint_breaker_record()).
 */
#define NGX_HTTP_OSINT_BREAKER_TARGETS    16

typedef struct {
    ngx_uint_t                  state;
    ngx_uint_t                  failures;       /* consecutive, transient,
                                                   of distinct targets */
    uint32_t                    targets[NGX_HTTP_OSINT_BREAKER_TARGETS];
    ngx_uint_t                  probes;         /* in flight, all workers */
    ngx_uint_t                  trial;          /* half-opens so far */
    ngx_uint_t                  opens;
    ngx_msec_t                  opened_at;
    ngx_msec_t                  probes_end;     /* every probe ended by */
} ngx_http_osint_breaker_t;

typedef enum {
    NGX_HTTP_OSINT_ADMIT = 0,
    NGX_HTTP_OSINT_ADMIT_PROBE,
    NGX_HTTP_OSINT_REJECT
} ngx_http_osint_admit_e;


/* outcome label of osint_provider_calls_total: one per network attempt */
typedef enum {
    NGX_HTTP_OSINT_OUT_OK = 0,
    NGX_HTTP_OSINT_OUT_NOT_FOUND,
    NGX_HTTP_OSINT_OUT_TIMEOUT,
    NGX_HTTP_OSINT_OUT_CONNECT,
    NGX_HTTP_OSINT_OUT_HTTP_4XX,
    NGX_HTTP_OSINT_OUT_HTTP_5XX,
    NGX_HTTP_OSINT_OUT_RATE_LIMITED,
    NGX_HTTP_OSINT_OUT_BAD_RESPONSE,
    NGX_HTTP_OSINT_OUT_TOO_LARGE,
    NGX_HTTP_OSINT_OUTCOMES
} ngx_http_osint_outcome_e;

/* reason label of osint_provider_skipped_total */
typedef enum {
    NGX_HTTP_OSINT_SKIP_BREAKER_OPEN = 0,
    NGX_HTTP_OSINT_SKIP_RATE_LIMITED,
    NGX_HTTP_OSINT_SKIP_DISABLED,
    NGX_HTTP_OSINT_SKIP_DEADLINE,
    NGX_HTTP_OSINT_SKIP_REASONS
} ngx_http_osint_skip_e;

/* osint_provider_latency_seconds: upper bounds in ms, then +Inf */
#define NGX_HTTP_OSINT_LATENCY_BUCKETS  11

#define NGX_HTTP_OSINT_NAME_MAX         64

typedef struct {
    ngx_queue_t                 queue;
    u_char                      name[NGX_HTTP_OSINT_NAME_MAX];
    size_t                      name_len;

    ngx_http_osint_bucket_t     bucket;
    ngx_msec_t                  hold_until;     /* after a 429 */
    ngx_http_osint_breaker_t    breaker;
    time_t                      quota_start;
    ngx_uint_t                  quota_used;

    ngx_atomic_t                calls[NGX_HTTP_OSINT_OUTCOMES];
    ngx_atomic_t                skipped[NGX_HTTP_OSINT_SKIP_REASONS];
    ngx_atomic_t                retries;
    ngx_atomic_t                transitions[3];  /* by state entered */
    ngx_atomic_t                latency[NGX_HTTP_OSINT_LATENCY_BUCKETS + 1];
    ngx_atomic_t                latency_sum_us;

    ngx_http_osint_err_e        last_err;       /* for the status page */
    time_t                      last_err_time;
} ngx_http_osint_pstate_t;


/* what the zone says of a call about to be made */

typedef struct {
    ngx_http_osint_admit_e      verdict;
    ngx_http_osint_err_e        err;            /* when rejected */
    const char                 *reason;         /* when rejected */
    ngx_msec_t                  wait;           /* for a reserved token */
    ngx_uint_t                  probe;          /* ADMIT_PROBE: its trial */
} ngx_http_osint_admission_t;


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  index;
    ngx_uint_t                  types;          /* NGX_HTTP_OSINT_* mask */
    ngx_http_osint_format_e     format;

    ngx_str_t                   url_source;
    ngx_http_osint_tpl_t        url;
    ngx_array_t                 headers;  /* of ngx_http_osint_tpl_t */
    ngx_http_osint_tpl_t        body;     /* POST form; no parts: GET */
    ngx_str_t                   body_source;

    ngx_str_t                   api_key_env;
    ngx_str_t                   api_key;        /* never logged or shown */

    ngx_array_t                 fields;   /* of ngx_http_osint_field_t */
    ngx_array_t                *found;    /* of ngx_http_osint_found_t */

    ngx_msec_t                  timeout;
    ngx_uint_t                  redirects;      /* hops followed, at most */

    ngx_http_osint_rate_t       rate;
    ngx_http_osint_quota_t      quota;
    ngx_http_osint_retry_t      retry;
    ngx_http_osint_breaker_conf_t  breaker;

    ngx_http_osint_pstate_t    *state;          /* in the zone */

    ngx_msec_t                  cache_ttl;      /* 0: not cached */
    ngx_msec_t                  cache_not_found;
    ngx_msec_t                  cache_stale;
    uint32_t                    fingerprint;    /* of url, format, fields */

    unsigned                    disabled:1;
    unsigned                    format_set:1;
    unsigned                    breaker_set:1;

    u_char                     *file;           /* where it was defined */
    ngx_uint_t                  line;
} ngx_http_osint_provider_t;


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
} ngx_http_osint_redis_conf_t;


typedef struct {
    ngx_array_t                 providers; /* of ngx_http_osint_provider_t */

    ngx_shm_zone_t             *shm_zone;
    ssize_t                     shm_size;

    ngx_msec_t                  deadline;
    size_t                      max_body;
    ngx_flag_t                  ssl_verify;
    ngx_str_t                   ssl_trusted_certificate;

    ngx_int_t                   request_id_index;

    ngx_uint_t                  batch_max;
    ngx_uint_t                  batch_concurrency;

    ngx_http_osint_redis_conf_t *redis;         /* NULL: no L2 */

    ngx_msec_t                  cache_ttl;      /* osint_cache_ttl */
    ngx_flag_t                  cache_l1;       /* osint_cache_l1 */

    unsigned                    lookup_used:1;
} ngx_http_osint_main_conf_t;


typedef struct {
    ngx_flag_t                  lookup;
    ngx_array_t                *cache_bypass;   /* osint_cache_bypass, of
                                                   ngx_http_complex_value_t;
                                                   NULL: never */
} ngx_http_osint_loc_conf_t;


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
    char                            error[CURL_ERROR_SIZE];
    const char                     *local;  /* our own failure, or NULL */

    ngx_queue_t                     queue;        /* in the worker's list */

    unsigned                        active:1;
    unsigned                        too_large:1;
    unsigned                        fresh_connect:1;
    unsigned                        foreign:1;    /* left the origin */
    unsigned                        addr_refused:1;
};


/* one provider's part of one lookup */

typedef struct ngx_http_osint_lookup_s  ngx_http_osint_lookup_t;

typedef struct {
    ngx_http_osint_lookup_t    *lookup;
    ngx_http_osint_provider_t  *provider;
    ngx_http_osint_fetch_t      fetch;

    ngx_http_osint_status_e     status;
    ngx_http_osint_err_e        err;
    ngx_str_t                   message;
    ngx_int_t                   http_status;        /* 0: none */
    ngx_uint_t                  attempts;
    double                      started;            /* ms, monotonic */
    double                      attempt_started;    /* ms, monotonic */
    double                      latency;            /* ms */
    cJSON                      *data;

    ngx_event_t                 timer;      /* token wait, backoff, cache lock */

    const char                 *cache;      /* l1, redis, miss, stale, bypass */
    ngx_str_t                   stale;      /* a stale answer to fall back on */
    ngx_http_osint_status_e     stale_status;
    ngx_http_osint_err_e        stale_reason;
    ngx_http_osint_redis_req_t *redis;      /* a GET in flight */
    ngx_queue_t                 coalesce;   /* in the worker's calls that
                                               hold an L1 update lock, or
                                               that wait for one */

    unsigned                    admitted:1; /* the timer ends a token wait */
    ngx_uint_t                  probe;      /* the breaker trial it probes,
                                               0: not a probe */
    unsigned                    locked:1;   /* holds the L1 update lock */
    unsigned                    fresh:1;    /* retry on a new connection */
    unsigned                    waiting:1;  /* waits for another's answer */
    unsigned                    woken:1;    /* ... and it came: the timer
                                               event is posted */
} ngx_http_osint_call_t;


typedef struct ngx_http_osint_batch_s  ngx_http_osint_batch_t;

struct ngx_http_osint_lookup_s {
    ngx_http_request_t         *request;
    ngx_http_osint_batch_t     *batch;              /* NULL: GET */
    ngx_pool_t                 *pool;       /* a GET: r->pool; a batch's
                                               target: its own, freed with
                                               its line */
    ngx_queue_t                 queue;              /* in its batch */
    ngx_str_t                   target;             /* canonical form */
    ngx_uint_t                  type;
    ngx_str_t                   request_id;

    ngx_http_osint_call_t      *calls;
    ngx_uint_t                  ncalls;
    ngx_uint_t                  pending;

    ngx_event_t                 deadline;
    ngx_msec_t                  deadline_at;        /* ngx_current_msec */
    double                      started;            /* ms, monotonic */

    const char                 *cache_status;       /* X-Cache-Status */
    ngx_str_t                   reject;             /* why input is bad */
    const char                 *reject_kind;

    unsigned                    bypass:1;           /* refresh */
    unsigned                    starting:1;
    unsigned                    finished:1;
};


/* the request's module context: a lookup (GET) or a batch (POST) */

typedef struct {
    ngx_http_osint_lookup_t    *lookup;
    ngx_http_osint_batch_t     *batch;
} ngx_http_osint_ctx_t;


/* the osint zone: header of the shared memory */

/* osint_cache_requests_total: tiers and results */
#define NGX_HTTP_OSINT_TIER_L1       0
#define NGX_HTTP_OSINT_TIER_REDIS    1
#define NGX_HTTP_OSINT_CACHE_HIT     0
#define NGX_HTTP_OSINT_CACHE_MISS    1
#define NGX_HTTP_OSINT_CACHE_STALE   2
#define NGX_HTTP_OSINT_CACHE_ERROR   3

typedef struct {
    ngx_atomic_t                lookups[NGX_HTTP_OSINT_TYPE_ROWS][4];
                                            /* [type bit or 8][result] */
    ngx_atomic_t                cache[2][4];    /* [tier][result] */
    /*
     * Redis connections up, one entry a process slot (ngx_process_slot):
     * the pid of the worker while connected, else 0.  Only the owner
     * writes its entry; a worker killed while connected leaves its pid
     * behind, which readers find dead (ngx_http_osint_redis_workers_up).
     */
    ngx_pid_t                   redis_up[NGX_MAX_PROCESSES];
    ngx_atomic_t                redis_writes_dropped;
} ngx_http_osint_counters_t;


/* one cached answer in the zone: L1 */

typedef struct {
    ngx_rbtree_node_t           node;           /* key: crc32 of the key */
    ngx_queue_t                 lru;
    ngx_msec_t                  fresh_until;
    ngx_msec_t                  stale_until;
    ngx_msec_t                  updating_until; /* a worker asks upstream */
    uint32_t                    value_len;
    u_short                     key_len;
    u_char                      status;         /* ok, not_found; 0: none */
    u_char                      data[1];        /* key, then value */
} ngx_http_osint_cache_node_t;

/* what the L1 lookup found */
typedef enum {
    NGX_HTTP_OSINT_L1_MISS = 0,     /* the caller now holds the lock */
    NGX_HTTP_OSINT_L1_FRESH,
    NGX_HTTP_OSINT_L1_STALE,        /* the caller holds the lock */
    NGX_HTTP_OSINT_L1_BUSY          /* another call is asking upstream */
} ngx_http_osint_l1_e;

typedef struct {
    ngx_uint_t                  signature;
    ngx_queue_t                 providers;  /* of ngx_http_osint_pstate_t */
    ngx_http_osint_counters_t   counters;

    ngx_rbtree_t                cache;
    ngx_rbtree_node_t           cache_sentinel;
    ngx_queue_t                 cache_lru;  /* of ngx_http_osint_cache_node_t */
    ngx_uint_t                  cache_entries;
    time_t                      evict_logged;   /* last warning */
} ngx_http_osint_shctx_t;

typedef struct {
    ngx_http_osint_shctx_t     *sh;
    ngx_slab_pool_t            *shpool;
    ngx_http_osint_main_conf_t *omcf;
} ngx_http_osint_shm_t;


/* lookup result for osint_lookups_total */
#define NGX_HTTP_OSINT_RESULT_OK       0
#define NGX_HTTP_OSINT_RESULT_PARTIAL  1
#define NGX_HTTP_OSINT_RESULT_FAILED   2
#define NGX_HTTP_OSINT_RESULT_INVALID  3


extern ngx_module_t  ngx_http_osint_module;


/* target: parsing, type detection, canonical form, encoding */
ngx_int_t ngx_http_osint_type_parse(ngx_str_t *name, ngx_uint_t *type);
const char *ngx_http_osint_type_name(ngx_uint_t type);
ngx_int_t ngx_http_osint_target_parse(ngx_pool_t *pool, ngx_str_t *input,
    ngx_uint_t want, ngx_str_t *canonical, ngx_uint_t *type,
    const char **reason);
size_t ngx_http_osint_escape_component(u_char *dst, u_char *src,
    size_t len);
void ngx_http_osint_target_domain(ngx_str_t *target, ngx_uint_t type,
    ngx_str_t *domain);

/* phone targets (src/ngx_http_osint_phone.c) */
ngx_int_t ngx_http_osint_phone_parse(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
cJSON *ngx_http_osint_phone_data(ngx_str_t *canonical);

/* templates for url and header lines */
char *ngx_http_osint_tpl_compile(ngx_conf_t *cf, ngx_str_t *src,
    ngx_http_osint_tpl_t *tpl);
ngx_int_t ngx_http_osint_tpl_has(ngx_http_osint_tpl_t *tpl,
    ngx_http_osint_tpl_part_e type);
u_char *ngx_http_osint_tpl_expand(ngx_pool_t *pool,
    ngx_http_osint_tpl_t *tpl, ngx_str_t *target, ngx_uint_t type,
    ngx_str_t *api_key, size_t *len);

/* provider blocks */
char *ngx_http_osint_provider_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * directive values (src/ngx_http_osint_conf_parse.c), within bounds that
 * keep every sum of them exact and every buffer they size in reason
 */
#define NGX_HTTP_OSINT_RATE_MAX         1000000
#define NGX_HTTP_OSINT_BURST_MAX        1000000
#define NGX_HTTP_OSINT_QUOTA_MAX        1000000000
#define NGX_HTTP_OSINT_FAILURES_MAX     1000
#define NGX_HTTP_OSINT_HALF_OPEN_MAX    100
#define NGX_HTTP_OSINT_MAX_BODY_MAX     (64 * 1024 * 1024)
#define NGX_HTTP_OSINT_BATCH_MAX        10000
#define NGX_HTTP_OSINT_CONCURRENCY_MAX  256

ngx_int_t ngx_http_osint_param(ngx_str_t *arg, char *name, ngx_str_t *value);
ngx_uint_t ngx_http_osint_param_repeated(ngx_str_t *value, ngx_uint_t first,
    ngx_uint_t last);
ngx_int_t ngx_http_osint_param_msec(ngx_str_t *arg, char *name,
    ngx_uint_t positive, ngx_msec_t *out);
ngx_int_t ngx_http_osint_param_num(ngx_str_t *arg, char *name,
    ngx_uint_t max, ngx_uint_t *out);
ngx_int_t ngx_http_osint_rate_parse(ngx_str_t *value, ngx_int_t *rate,
    ngx_uint_t *window);
ngx_int_t ngx_http_osint_quota_parse(ngx_str_t *value,
    ngx_http_osint_quota_t *quota);
ngx_uint_t ngx_http_osint_zone_name_valid(ngx_str_t *name);

/* `field` paths over cJSON */
char *ngx_http_osint_field_compile(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *path, ngx_http_osint_field_t *field);
cJSON *ngx_http_osint_field_map(ngx_array_t *fields, cJSON *root);
cJSON *ngx_http_osint_field_find(ngx_http_osint_field_t *f, cJSON *root);

/* `found` of format presence (src/ngx_http_osint_found.c) */
char *ngx_http_osint_found_conf(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
char *ngx_http_osint_found_check(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p);
ngx_uint_t ngx_http_osint_found(ngx_http_osint_provider_t *p, long status,
    cJSON *root);
void ngx_http_osint_found_fingerprint(ngx_http_osint_provider_t *p,
    uint32_t *crc);

/* JSON text of a cJSON tree into a pool, as cJSON_PrintUnformatted() */
ngx_int_t ngx_http_osint_json_print(ngx_pool_t *pool, cJSON *item,
    size_t extra, ngx_str_t *text);
ngx_buf_t *ngx_http_osint_json_buf(ngx_pool_t *pool, cJSON *item);

/* U+FFFD REPLACEMENT CHARACTER */
#define NGX_HTTP_OSINT_UTF8_REPLACEMENT  "\xef\xbf\xbd"

/* provider answers before parsing: UTF-8 repaired, the API key redacted */
size_t ngx_http_osint_utf8_sequence(u_char *p, u_char *last);

/*
 * The length of p[0..len) without a sequence cut short at its end, as
 * snprintf() into a buffer leaves one when a provider's text is longer:
 * the last lead byte within 4 of the end announces more bytes than follow.
 * Inline: the formats use it, which link nothing but themselves.
 */

static ngx_inline size_t
ngx_http_osint_utf8_cut(u_char *p, size_t len)
{
    size_t  i, need;

    for (i = len; i > 0 && len - i < 4; i--) {

        if ((p[i - 1] & 0xc0) == 0x80) {
            continue;       /* a continuation byte: its lead is before */
        }

        need = (p[i - 1] >= 0xf0) ? 4 : (p[i - 1] >= 0xe0) ? 3
               : (p[i - 1] >= 0xc0) ? 2 : 1;

        return (len - (i - 1) < need) ? i - 1 : len;
    }

    return len;
}


/* untrusted text for error.log: controls, quotes, non-UTF-8 as \xHH */
#define NGX_HTTP_OSINT_LOG_TEXT_MAX  256
u_char *ngx_http_osint_log_escape(u_char *dst, size_t size, u_char *src,
    size_t len);
ngx_int_t ngx_http_osint_utf8_repair(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *out, ngx_uint_t *bad);
ngx_uint_t ngx_http_osint_answer_redact(ngx_str_t *text, ngx_str_t *secret);

/* foreign fds on nginx events */
ngx_connection_t *ngx_http_osint_fd_wrap(ngx_socket_t fd, ngx_log_t *log);
ngx_int_t ngx_http_osint_fd_watch(ngx_connection_t *c, ngx_uint_t read,
    ngx_uint_t write);
void ngx_http_osint_fd_release(ngx_connection_t *c, ngx_uint_t closed);

/* redirects: the hops allowed, the addresses they may reach */
ngx_uint_t ngx_http_osint_addr_public(const struct sockaddr *sa);
const char *ngx_http_osint_redirect_check(const char *from, const char *next,
    ngx_uint_t foreign, ngx_uint_t repost, ngx_str_t *api_key,
    ngx_uint_t *same);

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

/* the longest a 429's Retry-After is obeyed, s: an hour */
#define NGX_HTTP_OSINT_RETRY_AFTER_MAX  3600

curl_off_t ngx_http_osint_retry_after(u_char *value, size_t len);

/* the lookup */
ngx_int_t ngx_http_osint_lookup_handler(ngx_http_request_t *r);
ngx_http_osint_lookup_t *ngx_http_osint_lookup_new(ngx_http_request_t *r);
ngx_http_osint_lookup_t *ngx_http_osint_lookup_create(ngx_http_request_t *r,
    ngx_pool_t *pool);
ngx_int_t ngx_http_osint_lookup_params(ngx_http_osint_lookup_t *lk,
    ngx_uint_t *want, ngx_str_t *providers);
ngx_int_t ngx_http_osint_lookup_target(ngx_http_osint_lookup_t *lk,
    ngx_str_t *target, ngx_uint_t want);
ngx_int_t ngx_http_osint_lookup_select(ngx_http_osint_lookup_t *lk,
    ngx_str_t *filter);
ngx_int_t ngx_http_osint_lookup_run(ngx_http_osint_lookup_t *lk);
ngx_uint_t ngx_http_osint_lookup_status(ngx_http_osint_lookup_t *lk);
void ngx_http_osint_check_broken(ngx_http_request_t *r);

/* the query arguments of /lookup (src/ngx_http_osint_args.c) */
#define NGX_HTTP_OSINT_PARAM_MAX  (3 * NGX_HTTP_OSINT_TARGET_MAX)

ngx_int_t ngx_http_osint_arg_decode(ngx_pool_t *pool, ngx_str_t *raw,
    ngx_str_t *value);
ngx_int_t ngx_http_osint_refresh_parse(ngx_str_t *value, ngx_uint_t *bypass);
ngx_int_t ngx_http_osint_providers_parse(ngx_array_t *providers,
    ngx_str_t *list, uint64_t *wanted, ngx_str_t *unknown);
ngx_http_osint_provider_t *ngx_http_osint_provider_find(
    ngx_array_t *providers, u_char *name, size_t len);

/* POST /lookup: a batch streamed as NDJSON */
ngx_int_t ngx_http_osint_batch_handler(ngx_http_request_t *r);
void ngx_http_osint_batch_done(ngx_http_osint_lookup_t *lk);
ngx_int_t ngx_http_osint_batch_body_parse(ngx_pool_t *pool, u_char *data,
    size_t len, ngx_uint_t max, cJSON **targets, ngx_str_t *reason);
double ngx_http_osint_now_ms(void);

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
void ngx_http_osint_redis_set(ngx_str_t *key, u_char *value, size_t len,
    time_t ttl);

/* L1 cache in the zone, and the values both tiers store */
ngx_http_osint_l1_e ngx_http_osint_l1_get(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target, ngx_msec_t lock,
    ngx_pool_t *pool, ngx_str_t *value, ngx_http_osint_status_e *status);
void ngx_http_osint_l1_put(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target,
    ngx_http_osint_status_e status, ngx_str_t *value, ngx_msec_t fresh,
    ngx_log_t *log);
void ngx_http_osint_l1_unlock(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_str_t *target);
void ngx_http_osint_count_cache(ngx_http_osint_main_conf_t *omcf,
    ngx_uint_t tier, ngx_uint_t result);
void ngx_http_osint_init_cache(ngx_http_osint_shctx_t *sh);
uint32_t ngx_http_osint_fingerprint(ngx_http_osint_provider_t *p);
u_char *ngx_http_osint_cache_encode(ngx_http_osint_provider_t *p,
    ngx_http_osint_status_e status, ngx_str_t *value, time_t fresh_until,
    size_t *len);
ngx_int_t ngx_http_osint_cache_decode(ngx_http_osint_provider_t *p,
    u_char *text, size_t len, ngx_pool_t *pool, ngx_str_t *value,
    ngx_http_osint_status_e *status, time_t *fresh_until);

/* variables */
ngx_int_t ngx_http_osint_add_variables(ngx_conf_t *cf);

/* status and health */
ngx_int_t ngx_http_osint_status_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_osint_health_handler(ngx_http_request_t *r);

/* response documents */
ngx_int_t ngx_http_osint_send_json(ngx_http_request_t *r, ngx_uint_t status,
    cJSON *doc);
ngx_int_t ngx_http_osint_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *kind, const char *fmt, ...);
void ngx_http_osint_discard_body(ngx_http_request_t *r);
ngx_int_t ngx_http_osint_add_header(ngx_http_request_t *r, char *name,
    u_char *value, size_t len);
#define ngx_http_osint_add_text_header(r, name, text)                         \
    ngx_http_osint_add_header(r, name, (u_char *) text, sizeof(text) - 1)
ngx_int_t ngx_http_osint_private_headers(ngx_http_request_t *r);
cJSON *ngx_http_osint_lookup_document(ngx_http_osint_lookup_t *lk);
const char *ngx_http_osint_err_kind(ngx_http_osint_err_e err);

/*
 * summary merge: of each provider's data, at most its first MEMBERS
 * members, and of an array, its first ELEMENTS elements
 */
#define NGX_HTTP_OSINT_SUMMARY_MEMBERS   256
#define NGX_HTTP_OSINT_SUMMARY_ELEMENTS  256

cJSON *ngx_http_osint_summary(ngx_http_osint_lookup_t *lk, ngx_pool_t *pool);

/* the zone */
char *ngx_http_osint_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void ngx_http_osint_count_lookup(ngx_http_osint_main_conf_t *omcf,
    ngx_uint_t type, ngx_uint_t result);
void ngx_http_osint_admit(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_msec_t max_wait,
    ngx_http_osint_admission_t *a, ngx_log_t *log);
void ngx_http_osint_record(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_outcome_e outcome,
    ngx_http_osint_err_e err, ngx_uint_t probe, uint32_t target,
    double latency_ms, ngx_msec_t hold, ngx_log_t *log,
    ngx_str_t *request_id);
void ngx_http_osint_release_probe(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_uint_t probe);
void ngx_http_osint_count_skip(ngx_http_osint_provider_t *p,
    ngx_http_osint_skip_e reason);
void ngx_http_osint_count_retry(ngx_http_osint_provider_t *p);
void ngx_http_osint_count_call(ngx_http_osint_provider_t *p,
    ngx_http_osint_outcome_e outcome);

/* resilience arithmetic, pure */
ngx_int_t ngx_http_osint_bucket_take(ngx_http_osint_bucket_t *b,
    ngx_http_osint_rate_t *rate, ngx_msec_t now, ngx_msec_t max_wait);
void ngx_http_osint_bucket_drain(ngx_http_osint_bucket_t *b, ngx_msec_t now);
double ngx_http_osint_bucket_tokens(ngx_http_osint_bucket_t *b,
    ngx_http_osint_rate_t *rate, ngx_msec_t now);
ngx_http_osint_admit_e ngx_http_osint_breaker_admit(
    ngx_http_osint_breaker_t *b, ngx_http_osint_breaker_conf_t *conf,
    ngx_msec_t now, ngx_msec_t deadline);
ngx_int_t ngx_http_osint_breaker_record(ngx_http_osint_breaker_t *b,
    ngx_http_osint_breaker_conf_t *conf, ngx_msec_t now, ngx_uint_t probe,
    ngx_uint_t failed, uint32_t target);
void ngx_http_osint_breaker_release(ngx_http_osint_breaker_t *b,
    ngx_uint_t probe);
ngx_msec_t ngx_http_osint_backoff(ngx_msec_t base, ngx_msec_t max,
    ngx_uint_t attempt, uint32_t random);
time_t ngx_http_osint_quota_period(time_t now, ngx_uint_t unit);
time_t ngx_http_osint_quota_reset(time_t start, ngx_uint_t unit);

/* one provider call: admission, transfer, outcome, retries */
void ngx_http_osint_call_begin(ngx_http_osint_call_t *call);
void ngx_http_osint_call_abort(ngx_http_osint_call_t *call,
    ngx_http_osint_err_e err, const char *message);
void ngx_http_osint_call_error(ngx_http_osint_call_t *call,
    ngx_http_osint_err_e err, ngx_int_t http_status, const char *message);
void ngx_http_osint_lookup_call_done(ngx_http_osint_lookup_t *lk);


#endif /* _NGX_HTTP_OSINT_H_INCLUDED_ */
