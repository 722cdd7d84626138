
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The pure code of the module (src/core/, src/formats/): targets,
 * templates, fields, JSON, the query arguments and the batch body,
 * directive values, answers, the cache value, the summary, resilience
 * arithmetic, redirect rules.  Nothing here knows of a request, the zone
 * or the event loop: it includes nginx core and cJSON only, and the fuzz
 * targets and unit tests link src/core/ and src/formats/ whole.
 */


#ifndef _NGX_HTTP_OSINT_CORE_H_INCLUDED_
#define _NGX_HTTP_OSINT_CORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

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

/* the type bits, and the rows of osint_lookups_total: them, then unknown */
#define NGX_HTTP_OSINT_TYPES          8
#define NGX_HTTP_OSINT_TYPE_ROWS      (NGX_HTTP_OSINT_TYPES + 1)

/* longest target accepted, in bytes after percent-decoding */
#define NGX_HTTP_OSINT_TARGET_MAX     2048


/* how one provider call ended */
typedef enum {
    NGX_HTTP_OSINT_PENDING = 0,
    NGX_HTTP_OSINT_OK,
    NGX_HTTP_OSINT_NOT_FOUND,
    NGX_HTTP_OSINT_ERROR,
    NGX_HTTP_OSINT_SKIPPED,
    NGX_HTTP_OSINT_STATUSES         /* the count */
} ngx_http_osint_status_e;


/* error.kind of docs/document.md; labels in ngx_http_osint_labels.c */
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
    NGX_HTTP_OSINT_ERR_REDIRECT,
    NGX_HTTP_OSINT_ERR_PRIVATE,     /* a private target: not sent */
    NGX_HTTP_OSINT_ERR_OVERLOADED,  /* the worker's own limit: connections */
    NGX_HTTP_OSINT_ERR_KINDS        /* the count */
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
 * A built-in format (src/formats/): turns a
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

/* formats that read NDJSON, given as an array of its lines (src/formats/) */
ngx_uint_t ngx_http_osint_format_ndjson(ngx_uint_t format);
cJSON *ngx_http_osint_fmt_ndjson(const char *p, size_t len);

/* index 0 of ngx_http_osint_formats[] */
#define NGX_HTTP_OSINT_FORMAT_JSON  0
typedef ngx_uint_t  ngx_http_osint_format_e;


/* resilience: the configuration of one provider */

typedef struct {
    double                      per_ms;         /* tokens per ms; 0: none */
    ngx_uint_t                  burst;
    ngx_msec_t                  wait;
    ngx_uint_t                  adaptive;       /* heed what it says */
} ngx_http_osint_rate_t;

#define NGX_HTTP_OSINT_QUOTA_HOUR    1
#define NGX_HTTP_OSINT_QUOTA_DAY     2
#define NGX_HTTP_OSINT_QUOTA_MONTH   3

typedef struct {
    ngx_uint_t                  limit;          /* 0: none */
    ngx_uint_t                  unit;
} ngx_http_osint_quota_t;

/* quota windows, by unit - 1: hour, day, month */
#define NGX_HTTP_OSINT_WINDOWS       3

typedef struct {
    ngx_uint_t                  retries;
    ngx_msec_t                  backoff;
    ngx_msec_t                  max_backoff;
} ngx_http_osint_retry_t;

typedef struct {
    ngx_uint_t                  failures;       /* 0: no such trigger */
    ngx_msec_t                  cooldown;
    ngx_uint_t                  half_open;
    ngx_uint_t                  successes;      /* probes that close it */
    ngx_uint_t                  rate;           /* failure %, 0: no such
                                                   trigger */
    ngx_msec_t                  window;
    ngx_uint_t                  min_calls;
} ngx_http_osint_breaker_conf_t;

/* a breaker exists when either trigger is configured */
#define ngx_http_osint_breaker_on(conf)                                      \
    ((conf)->failures || (conf)->rate)


/* resilience: the state of one provider, in the zone */

typedef struct {
    double                      tokens;
    ngx_msec_t                  last;           /* 0: never used */
} ngx_http_osint_bucket_t;

/* one quota window of a budget: its UTC start and the calls in it */
typedef struct {
    time_t                      start;
    ngx_uint_t                  used;
} ngx_http_osint_window_t;

/*
 * A budget's state in the zone: a provider's own rate and quotas, or an
 * osint_budget shared by providers.  Under sync=redis the bucket and the
 * windows are the node's own share (used when Redis is down; the windows
 * count this node's calls in any case), and Redis's last answer is kept
 * for the status page.
 */
typedef struct {
    ngx_http_osint_bucket_t     bucket;
    ngx_http_osint_window_t     window[NGX_HTTP_OSINT_WINDOWS];

    ngx_uint_t                  lease;          /* granted, not yet used */
    ngx_msec_t                  lease_exp;
    ngx_msec_t                  asking;         /* a chunk asked since */

    ngx_msec_t                  synced;         /* Redis answered; 0 never */
    ngx_int_t                   r_tokens;
    ngx_int_t                   r_left[NGX_HTTP_OSINT_WINDOWS];
    time_t                      r_reset[NGX_HTTP_OSINT_WINDOWS];

    ngx_uint_t                  fallback;       /* on the local share */
    ngx_atomic_t                fallbacks;      /* calls decided so */
} ngx_http_osint_bstate_t;

/* a budget's configuration */
typedef struct {
    ngx_str_t                   name;
    ngx_http_osint_rate_t       rate;
    ngx_uint_t                  quota[NGX_HTTP_OSINT_WINDOWS];  /* 0: none */

    /* what the node decides alone: all, or 1/nodes under sync=redis */
    ngx_http_osint_rate_t       share_rate;
    ngx_uint_t                  share_quota[NGX_HTTP_OSINT_WINDOWS];

    ngx_uint_t                  nodes;          /* 0: not given */
    ngx_uint_t                  chunk;          /* lease size k */
    ngx_str_t                   rkey;           /* sync=redis: its key */
    ngx_http_osint_bstate_t    *state;          /* in the zone */

    unsigned                    sync:1;
    unsigned                    shared:1;       /* an osint_budget */

    u_char                     *file;
    ngx_uint_t                  line;
} ngx_http_osint_budget_t;

/* values of the osint_breaker_state gauge */
typedef enum {
    NGX_HTTP_OSINT_BREAKER_CLOSED = 0,
    NGX_HTTP_OSINT_BREAKER_OPEN,
    NGX_HTTP_OSINT_BREAKER_HALF_OPEN,
    NGX_HTTP_OSINT_BREAKER_STATES   /* the count */
} ngx_http_osint_breaker_state_e;

/*
 * The breaker counts failures of distinct targets: the hashes of the
 * last failing ones are kept, and a failure of one of them counts no
 * more (see ngx_http_osint_breaker_record()).
 */
#define NGX_HTTP_OSINT_BREAKER_TARGETS    16

/*
 * The failure-rate trigger counts calls and failures over the last
 * window in this many slots, so a call leaves the count at most
 * window / NGX_HTTP_OSINT_BREAKER_SLOTS late.
 */
#define NGX_HTTP_OSINT_BREAKER_SLOTS      10

typedef struct {
    ngx_msec_t                  start;          /* of the current slot */
    ngx_uint_t                  slot;
    ngx_uint_t                  started;
    uint32_t                    calls[NGX_HTTP_OSINT_BREAKER_SLOTS];
    uint32_t                    fails[NGX_HTTP_OSINT_BREAKER_SLOTS];
    ngx_uint_t                  seen;           /* failing targets so far */
    uint32_t                    targets[NGX_HTTP_OSINT_BREAKER_TARGETS];
} ngx_http_osint_breaker_window_t;

typedef struct {
    ngx_uint_t                  state;
    ngx_uint_t                  failures;       /* consecutive, transient,
                                                   of distinct targets */
    uint32_t                    targets[NGX_HTTP_OSINT_BREAKER_TARGETS];
    ngx_uint_t                  successes;      /* probes of this trial */
    ngx_uint_t                  opened_calls;   /* the window when the rate */
    ngx_uint_t                  opened_fails;   /* trigger opened it, or 0 */
    ngx_http_osint_breaker_window_t  window;
    ngx_uint_t                  probes;         /* in flight, all workers */
    ngx_uint_t                  trial;          /* half-opens so far */
    ngx_uint_t                  opens;
    ngx_msec_t                  opened_at;
    ngx_msec_t                  probes_end;     /* every probe ended by */
} ngx_http_osint_breaker_t;

/* what a provider says of its own limit in its answers (rate ... adaptive) */

typedef enum {
    NGX_HTTP_OSINT_SAID_REMAINING = 0,
    NGX_HTTP_OSINT_SAID_LIMIT,
    NGX_HTTP_OSINT_SAID_RESET,          /* seconds from now */
    NGX_HTTP_OSINT_SAID_RESET_ANY,      /* seconds, or a Unix time */
    NGX_HTTP_OSINT_SAID_STRUCTURED      /* RateLimit: limit=, remaining=, ... */
} ngx_http_osint_said_field_e;

#define NGX_HTTP_OSINT_SAID_MAX        4000000000LL
#define NGX_HTTP_OSINT_SAID_RESET_MAX  86400

typedef struct {
    ngx_int_t                   remaining;      /* -1: not said */
    ngx_int_t                   limit;          /* -1: not said */
    ngx_int_t                   reset;          /* s from now; -1: not said */
} ngx_http_osint_said_t;


/* osint_health: a check's status, worst last */
typedef enum {
    NGX_HTTP_OSINT_HEALTH_OK = 0,
    NGX_HTTP_OSINT_HEALTH_DEGRADED,
    NGX_HTTP_OSINT_HEALTH_FAIL,
    NGX_HTTP_OSINT_HEALTH_STATES    /* the count */
} ngx_http_osint_health_e;

/* when a check entered its status, as health requests saw it */
typedef struct {
    ngx_uint_t                  status;         /* + 1; 0: never seen */
    time_t                      since;
} ngx_http_osint_health_seen_t;

typedef enum {
    NGX_HTTP_OSINT_ADMIT = 0,
    NGX_HTTP_OSINT_ADMIT_PROBE,
    NGX_HTTP_OSINT_REJECT,
    NGX_HTTP_OSINT_ADMIT_ASK        /* a sync=redis budget: ask Redis */
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
    NGX_HTTP_OSINT_SKIP_PRIVATE,
    NGX_HTTP_OSINT_SKIP_REASONS
} ngx_http_osint_skip_e;

/* osint_cache_requests_total: tiers and results */
typedef enum {
    NGX_HTTP_OSINT_TIER_L1 = 0,
    NGX_HTTP_OSINT_TIER_REDIS,
    NGX_HTTP_OSINT_TIERS            /* the count */
} ngx_http_osint_tier_e;

typedef enum {
    NGX_HTTP_OSINT_CACHE_HIT = 0,
    NGX_HTTP_OSINT_CACHE_MISS,
    NGX_HTTP_OSINT_CACHE_STALE,
    NGX_HTTP_OSINT_CACHE_ERROR,
    NGX_HTTP_OSINT_CACHE_RESULTS    /* the count */
} ngx_http_osint_cache_result_e;

/* osint_provider_latency_seconds: upper bounds in ms, then +Inf */
#define NGX_HTTP_OSINT_LATENCY_BUCKETS  11

#define NGX_HTTP_OSINT_NAME_MAX         64

typedef struct {
    ngx_queue_t                 queue;
    u_char                      name[NGX_HTTP_OSINT_NAME_MAX];
    size_t                      name_len;

    /*
     * its answers in L1, under the zone's lock; before "own": neither
     * reset nor carried into a new zone with the rest, as the entries are
     * the zone's
     */
    ngx_uint_t                  cache_entries;

    ngx_http_osint_bstate_t     own;            /* its rate and quotas */
    ngx_msec_t                  hold_until;     /* after a 429 */
    ngx_http_osint_breaker_t    breaker;

    ngx_atomic_t                calls[NGX_HTTP_OSINT_OUTCOMES];
    ngx_atomic_t                skipped[NGX_HTTP_OSINT_SKIP_REASONS];
    ngx_atomic_t                retries;
    ngx_atomic_t                transitions[NGX_HTTP_OSINT_BREAKER_STATES];
                                                /* by state entered */
    ngx_atomic_t                latency[NGX_HTTP_OSINT_LATENCY_BUCKETS + 1];
    ngx_atomic_t                latency_sum_us;

    ngx_http_osint_err_e        last_err;       /* for the status page */
    time_t                      last_err_time;

    /* rate ... adaptive: what the provider said; said_reset 0: nothing */
    ngx_int_t                   said_remaining;
    ngx_int_t                   said_limit;
    time_t                      said_reset;

    /* probe: when the next is due (one worker claims it), the last one */
    ngx_msec_t                  probe_next;
    time_t                      probe_at;       /* 0: none yet */
    ngx_http_osint_err_e        probe_err;      /* NONE: it answered */
    ngx_msec_t                  probe_latency_us;

    /* for osint_health */
    time_t                      last_ok_time;
    ngx_uint_t                  last_failed;
    ngx_msec_t                  last_latency_us;
    ngx_http_osint_health_seen_t  health;
    /* osint_control: kept across reloads, lost with the zone */
    time_t                      forced_open;    /* since; 0: not forced */
    ngx_uint_t                  off;            /* enabled=off */
    /* osint_cache_requests_total{provider=...} */
    ngx_atomic_t                cache[NGX_HTTP_OSINT_TIERS]
                                     [NGX_HTTP_OSINT_CACHE_RESULTS];
} ngx_http_osint_pstate_t;


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  index;
    ngx_uint_t                  types;          /* NGX_HTTP_OSINT_* mask */
    ngx_http_osint_format_e     format;

    ngx_str_t                   url_source;
    ngx_http_osint_tpl_t        url;

    /*
     * The url's origin, when it is "http://" and an IP literal: the
     * plain client's (ngx_http_osint_plain.c); NULL: libcurl's
     */
    ngx_addr_t                 *plain;
    ngx_str_t                   plain_host;     /* Host, as in the url */
    size_t                      plain_path;     /* where the path starts */
    ngx_uint_t                  plain_own;      /* the module's own lines
                                                   no header replaces */

    ngx_array_t                 headers;  /* of ngx_http_osint_tpl_t */
    ngx_http_osint_tpl_t        body;     /* POST form; no parts: GET */
    ngx_str_t                   body_source;

    ngx_str_t                   api_key_env;
    ngx_str_t                   api_key;        /* never logged or shown */

    ngx_array_t                 fields;   /* of ngx_http_osint_field_t */
    ngx_array_t                *found;    /* of ngx_http_osint_found_t */

    ngx_msec_t                  timeout;
    ngx_uint_t                  redirects;      /* hops followed, at most */
    ngx_uint_t                  conns;          /* transfers a worker has
                                                   under way, at most */
    ngx_uint_t                  conns_queue;    /* calls waiting, at most */

    ngx_http_osint_budget_t     own;            /* rate and quota */
    ngx_http_osint_budget_t    *budget;         /* NULL: none shared */
    ngx_str_t                   budget_name;
    ngx_http_osint_retry_t      retry;
    ngx_http_osint_breaker_conf_t  breaker;

    ngx_http_osint_pstate_t    *state;          /* in the zone */

    ngx_msec_t                  cache_ttl;      /* 0: not cached */
    ngx_msec_t                  cache_not_found;
    ngx_msec_t                  cache_stale;
    ngx_msec_t                  cache_revalidate;   /* 0: none */
    uint32_t                    fingerprint;    /* of url, format, fields */

    /* probe TARGET [interval=T] [breaker]: an active check */
    ngx_str_t                   probe_target;   /* canonical; len 0: none */
    ngx_uint_t                  probe_type;
    ngx_msec_t                  probe_interval;

    unsigned                    probe_breaker:1;    /* it feeds the breaker */
    unsigned                    disabled:1;
    unsigned                    format_set:1;
    unsigned                    breaker_set:1;
    unsigned                    private_targets:1;  /* "private on" */
    unsigned                    private_set:1;

    u_char                     *file;           /* where it was defined */
    ngx_uint_t                  line;
} ngx_http_osint_provider_t;


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

/* private targets (src/core/ngx_http_osint_private.c) */
typedef struct {
    u_char                      addr[16];       /* bits past prefix: 0 */
    ngx_uint_t                  family;         /* AF_INET, AF_INET6 */
    ngx_uint_t                  prefix;
} ngx_http_osint_net_t;

typedef struct {
    ngx_array_t                *nets;     /* of ngx_http_osint_net_t */
    ngx_array_t                *domains;  /* of ngx_str_t, lower case */
} ngx_http_osint_private_t;

const char *ngx_http_osint_private_match(ngx_http_osint_private_t *pc,
    ngx_str_t *target, ngx_uint_t type);
ngx_int_t ngx_http_osint_private_parse(ngx_str_t *value,
    ngx_http_osint_net_t *net, ngx_str_t *domain);

/* phone targets (src/core/ngx_http_osint_phone.c) */
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

/*
 * directive values (src/core/ngx_http_osint_conf_parse.c), within bounds that
 * keep every sum of them exact and every buffer they size in reason
 */
#define NGX_HTTP_OSINT_RATE_MAX         1000000
#define NGX_HTTP_OSINT_BURST_MAX        1000000
#define NGX_HTTP_OSINT_QUOTA_MAX        1000000000
#define NGX_HTTP_OSINT_FAILURES_MAX     1000
#define NGX_HTTP_OSINT_HALF_OPEN_MAX    100
#define NGX_HTTP_OSINT_SUCCESSES_MAX    100
#define NGX_HTTP_OSINT_MIN_CALLS_MAX    100000
#define NGX_HTTP_OSINT_WINDOW_MIN       1000
#define NGX_HTTP_OSINT_WINDOW_MAX       3600000
#define NGX_HTTP_OSINT_MAX_BODY_MAX     (64 * 1024 * 1024)
#define NGX_HTTP_OSINT_BATCH_MAX        10000
#define NGX_HTTP_OSINT_CONCURRENCY_MAX  256
#define NGX_HTTP_OSINT_CONNS_MAX        65535
#define NGX_HTTP_OSINT_CONNS_QUEUE_MAX  1000000

ngx_int_t ngx_http_osint_param(ngx_str_t *arg, char *name, ngx_str_t *value);
ngx_uint_t ngx_http_osint_param_repeated(ngx_str_t *value, ngx_uint_t first,
    ngx_uint_t last);
ngx_int_t ngx_http_osint_param_msec(ngx_str_t *arg, char *name,
    ngx_uint_t positive, ngx_msec_t *out);
ngx_int_t ngx_http_osint_param_percent(ngx_str_t *arg, char *name,
    ngx_uint_t *out);
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

/* `found` of format presence (src/core/ngx_http_osint_found.c) */
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
ngx_buf_t *ngx_http_osint_text_buf(ngx_pool_t *pool, ngx_str_t *text);
size_t ngx_http_osint_json_string_size(const char *s);
u_char *ngx_http_osint_json_string(u_char *p, const char *s);
u_char *ngx_http_osint_json_ms(u_char *p, double ms);
/* numbers written without ngx_sprintf(): "%uL" and "%08xD" */
u_char *ngx_http_osint_decimal(u_char *p, uint64_t n);
u_char *ngx_http_osint_hex32(u_char *p, uint32_t n);
ngx_int_t ngx_http_osint_json_canonical(const u_char *text, size_t len);

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

/* redirects: the hops allowed, the addresses they may reach */
ngx_uint_t ngx_http_osint_addr_public(const struct sockaddr *sa);
const char *ngx_http_osint_redirect_check(const char *from, const char *next,
    ngx_uint_t foreign, ngx_uint_t repost, ngx_str_t *api_key,
    ngx_uint_t *same);

/* the query arguments of /lookup (src/core/ngx_http_osint_args.c) */
#define NGX_HTTP_OSINT_PARAM_MAX  (3 * NGX_HTTP_OSINT_TARGET_MAX)

/* the arguments /lookup reads, raw; data NULL: absent */
typedef struct {
    ngx_str_t                   target;
    ngx_str_t                   type;
    ngx_str_t                   refresh;
    ngx_str_t                   providers;
} ngx_http_osint_query_t;

void ngx_http_osint_query_parse(ngx_str_t *args, ngx_http_osint_query_t *q);

ngx_int_t ngx_http_osint_arg_decode(ngx_pool_t *pool, ngx_str_t *raw,
    ngx_str_t *value);
ngx_int_t ngx_http_osint_refresh_parse(ngx_str_t *value, ngx_uint_t *bypass);
ngx_int_t ngx_http_osint_providers_parse(ngx_array_t *providers,
    ngx_str_t *list, uint64_t *wanted, ngx_str_t *unknown);
ngx_http_osint_provider_t *ngx_http_osint_provider_find(
    ngx_array_t *providers, u_char *name, size_t len);

/* the body of POST /lookup */
ngx_int_t ngx_http_osint_batch_body_parse(ngx_pool_t *pool, u_char *data,
    size_t len, ngx_uint_t max, cJSON **targets, ngx_str_t *reason);

/* the value both cache tiers store */
uint32_t ngx_http_osint_fingerprint(ngx_http_osint_provider_t *p);
u_char *ngx_http_osint_cache_encode(ngx_http_osint_provider_t *p,
    ngx_http_osint_status_e status, ngx_str_t *value, time_t fresh_until,
    time_t answered, size_t *len);
ngx_int_t ngx_http_osint_cache_decode(ngx_http_osint_provider_t *p,
    u_char *text, size_t len, ngx_pool_t *pool, ngx_str_t *value,
    ngx_http_osint_status_e *status, time_t *fresh_until, time_t *answered);

/*
 * summary merge: of each provider's data, at most its first MEMBERS
 * members, and of an array, its first ELEMENTS elements
 */
#define NGX_HTTP_OSINT_SUMMARY_MEMBERS   256
#define NGX_HTTP_OSINT_SUMMARY_ELEMENTS  256

/* what the summary reads of one provider's part of a lookup */
typedef struct {
    ngx_http_osint_provider_t  *provider;
    ngx_http_osint_status_e     status;
    cJSON                      *data;
} ngx_http_osint_summary_in_t;

/* target and type: what the target itself says (a phone's country) */
cJSON *ngx_http_osint_summary(ngx_str_t *target, ngx_uint_t type,
    ngx_http_osint_summary_in_t *in, ngx_uint_t n, ngx_pool_t *pool);

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
void ngx_http_osint_said_init(ngx_http_osint_said_t *said);
void ngx_http_osint_said_field(ngx_http_osint_said_t *said, ngx_uint_t field,
    u_char *value, size_t len, time_t now);
void ngx_http_osint_breaker_window_counts(
    ngx_http_osint_breaker_window_t *w, ngx_msec_t window, ngx_msec_t now,
    ngx_uint_t *calls, ngx_uint_t *fails);
void ngx_http_osint_breaker_release(ngx_http_osint_breaker_t *b,
    ngx_uint_t probe);
void ngx_http_osint_breaker_close(ngx_http_osint_breaker_t *b);
ngx_msec_t ngx_http_osint_backoff(ngx_msec_t base, ngx_msec_t max,
    ngx_uint_t attempt, uint32_t random);
time_t ngx_http_osint_quota_period(time_t now, ngx_uint_t unit);
time_t ngx_http_osint_quota_reset(time_t start, ngx_uint_t unit);
ngx_int_t ngx_http_osint_windows_take(ngx_http_osint_window_t *w,
    ngx_uint_t *limit, time_t now);
ngx_msec_t ngx_http_osint_windows_retry(ngx_http_osint_window_t *w,
    ngx_uint_t *limit, time_t now);
ngx_uint_t ngx_http_osint_window_left(ngx_http_osint_window_t *w,
    ngx_uint_t limit, ngx_uint_t unit, time_t now);

/* result label of osint_lookups_total */
typedef enum {
    NGX_HTTP_OSINT_RESULT_OK = 0,
    NGX_HTTP_OSINT_RESULT_PARTIAL,
    NGX_HTTP_OSINT_RESULT_FAILED,
    NGX_HTTP_OSINT_RESULT_INVALID,
    NGX_HTTP_OSINT_RESULTS          /* the count */
} ngx_http_osint_result_e;

/* osint_control_actions_total: action */
typedef enum {
    NGX_HTTP_OSINT_CONTROL_PURGE = 0,
    NGX_HTTP_OSINT_CONTROL_BREAKER_CLOSE,
    NGX_HTTP_OSINT_CONTROL_BREAKER_OPEN,
    NGX_HTTP_OSINT_CONTROL_HOLD_LIFT,
    NGX_HTTP_OSINT_CONTROL_DISABLE,
    NGX_HTTP_OSINT_CONTROL_ENABLE,
    NGX_HTTP_OSINT_CONTROL_ACTIONS  /* the count */
} ngx_http_osint_control_e;

/*
 * providers.NAME.cache: where a call's answer came from.  NONE: the
 * caches not asked yet (a call's first pass), written as a miss.
 */
typedef enum {
    NGX_HTTP_OSINT_SRC_NONE = 0,
    NGX_HTTP_OSINT_SRC_L1,
    NGX_HTTP_OSINT_SRC_REDIS,
    NGX_HTTP_OSINT_SRC_MISS,
    NGX_HTTP_OSINT_SRC_STALE,
    NGX_HTTP_OSINT_SRC_BYPASS,
    NGX_HTTP_OSINT_SOURCES          /* the count */
} ngx_http_osint_source_e;


/*
 * The labels of the enums, src/core/ngx_http_osint_labels.c: each table
 * as long as its enum's count (in the comment), or the build fails.
 */
extern const char  *ngx_http_osint_type_rows[];        /* TYPE_ROWS */
extern const char  *ngx_http_osint_results[];          /* RESULTS */
extern const char  *ngx_http_osint_outcomes[];         /* OUTCOMES */
extern const char  *ngx_http_osint_skip_reasons[];     /* SKIP_REASONS */
extern const char  *ngx_http_osint_breaker_states[];   /* BREAKER_STATES */
extern const char  *ngx_http_osint_health_states[];    /* HEALTH_STATES */
extern const char  *ngx_http_osint_tiers[];            /* TIERS */
extern const char  *ngx_http_osint_cache_results[];    /* CACHE_RESULTS */
extern const char  *ngx_http_osint_sources[];          /* SOURCES */
extern const char  *ngx_http_osint_control_actions[];  /* CONTROL_ACTIONS */

const char *ngx_http_osint_status_name(ngx_http_osint_status_e status);
const char *ngx_http_osint_err_kind(ngx_http_osint_err_e err);
ngx_uint_t ngx_http_osint_err_retryable(ngx_http_osint_err_e err,
    ngx_int_t http_status);



/* correlation headers, src/core/ngx_http_osint_trace.c */
#define NGX_HTTP_OSINT_REQUEST_ID_MAX   64
#define NGX_HTTP_OSINT_TRACESTATE_MAX   512

ngx_uint_t ngx_http_osint_request_id_valid(u_char *p, size_t len);
ngx_uint_t ngx_http_osint_traceparent_valid(u_char *p, size_t len);
ngx_uint_t ngx_http_osint_tracestate_valid(u_char *p, size_t len);

#endif /* _NGX_HTTP_OSINT_CORE_H_INCLUDED_ */
