
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The labels of the module's enums, the words of docs/document.md and
 * docs/metrics.md, beside each other.  Each table is as long as its enum's
 * count (the last enumerator): a label missing or left over fails the
 * build.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


#define ngx_http_osint_labels_check(table, count)                            \
    typedef char table##_check[                                               \
        (sizeof(table) / sizeof(table[0]) == (count)) ? 1 : -1]


/* providers.NAME.status */

static const char  *ngx_http_osint_statuses[] = {
    "pending",
    "ok",
    "not_found",
    "error",
    "skipped"
};

ngx_http_osint_labels_check(ngx_http_osint_statuses, NGX_HTTP_OSINT_STATUSES);


/* error.kind; "none" is never written */

static const char  *ngx_http_osint_kinds[] = {
    "none",
    "timeout",
    "connect",
    "http_status",
    "bad_response",
    "too_large",
    "rate_limited",
    "breaker_open",
    "auth",
    "deadline",
    "disabled",
    "internal",
    "redirect",
    "private_target",
    "overloaded"
};

ngx_http_osint_labels_check(ngx_http_osint_kinds, NGX_HTTP_OSINT_ERR_KINDS);


/* osint_lookups_total: type, result */

const char  *ngx_http_osint_type_rows[] = {
    "ipv4", "ipv6", "domain", "email", "url", "hash", "phone", "username",
    "unknown"
};

ngx_http_osint_labels_check(ngx_http_osint_type_rows,
                            NGX_HTTP_OSINT_TYPE_ROWS);

const char  *ngx_http_osint_results[] = {
    "ok", "partial", "failed", "invalid"
};

ngx_http_osint_labels_check(ngx_http_osint_results, NGX_HTTP_OSINT_RESULTS);


/* osint_provider_calls_total: outcome; osint_provider_skipped_total: reason */

const char  *ngx_http_osint_outcomes[] = {
    "ok", "not_found", "timeout", "connect", "http_4xx", "http_5xx",
    "rate_limited", "bad_response", "too_large"
};

ngx_http_osint_labels_check(ngx_http_osint_outcomes, NGX_HTTP_OSINT_OUTCOMES);

const char  *ngx_http_osint_skip_reasons[] = {
    "breaker_open", "rate_limited", "disabled", "deadline", "private_target"
};

ngx_http_osint_labels_check(ngx_http_osint_skip_reasons,
                            NGX_HTTP_OSINT_SKIP_REASONS);


/* osint_breaker_state, osint_breaker_transitions_total */

/* osint_health: the status of each check and of the document */

const char  *ngx_http_osint_health_states[] = {
    "ok",
    "degraded",
    "fail"
};

ngx_http_osint_labels_check(ngx_http_osint_health_states,
                            NGX_HTTP_OSINT_HEALTH_STATES);


const char  *ngx_http_osint_breaker_states[] = {
    "closed", "open", "half_open"
};

ngx_http_osint_labels_check(ngx_http_osint_breaker_states,
                            NGX_HTTP_OSINT_BREAKER_STATES);


/* osint_cache_requests_total: tier, result */

const char  *ngx_http_osint_tiers[] = { "l1", "redis" };

ngx_http_osint_labels_check(ngx_http_osint_tiers, NGX_HTTP_OSINT_TIERS);

const char  *ngx_http_osint_cache_results[] = {
    "hit", "miss", "stale", "error"
};

ngx_http_osint_labels_check(ngx_http_osint_cache_results,
                            NGX_HTTP_OSINT_CACHE_RESULTS);


/* osint_control_actions_total: action */

const char  *ngx_http_osint_control_actions[] = {
    "purge", "breaker_close", "breaker_open", "hold_lift", "disable", "enable"
};

ngx_http_osint_labels_check(ngx_http_osint_control_actions,
                            NGX_HTTP_OSINT_CONTROL_ACTIONS);


/* providers.NAME.cache: a call whose caches were not asked is a miss */

const char  *ngx_http_osint_sources[] = {
    "miss", "l1", "redis", "miss", "stale", "bypass"
};

ngx_http_osint_labels_check(ngx_http_osint_sources, NGX_HTTP_OSINT_SOURCES);


const char *
ngx_http_osint_status_name(ngx_http_osint_status_e status)
{
    return ngx_http_osint_statuses[status];
}


const char *
ngx_http_osint_err_kind(ngx_http_osint_err_e err)
{
    return ngx_http_osint_kinds[err];
}


/*
 * error.retryable: whether the same lookup may do better later.  Chance
 * (a timeout, a refused connection, a 5xx, 408, a limit, a breaker, the
 * deadline, the worker's own shortage) is; the provider's considered
 * answer (401/403, another 4xx, an answer we cannot read, too large, a
 * redirect refused) or the configuration (no key) is not.
 */

ngx_uint_t
ngx_http_osint_err_retryable(ngx_http_osint_err_e err, ngx_int_t http_status)
{
    switch (err) {

    case NGX_HTTP_OSINT_ERR_TIMEOUT:
    case NGX_HTTP_OSINT_ERR_CONNECT:
    case NGX_HTTP_OSINT_ERR_RATE_LIMITED:
    case NGX_HTTP_OSINT_ERR_BREAKER_OPEN:
    case NGX_HTTP_OSINT_ERR_DEADLINE:
    case NGX_HTTP_OSINT_ERR_INTERNAL:
    case NGX_HTTP_OSINT_ERR_OVERLOADED:
        return 1;

    case NGX_HTTP_OSINT_ERR_HTTP_STATUS:
        return http_status >= 500 || http_status == 408;

    default:
        return 0;
    }
}
