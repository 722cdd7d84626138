
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
    "redirect"
};

ngx_http_osint_labels_check(ngx_http_osint_kinds, NGX_HTTP_OSINT_ERR_KINDS);


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
