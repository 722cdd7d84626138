
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * What a transfer keeps of its answer, whichever client made it (libcurl,
 * or the plain client of ngx_http_osint_plain.c): the body, bounded by
 * osint_max_body, and the provider's Retry-After.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint.h"


/*
 * Appends to f->body, kept NUL-terminated for the JSON parser.  It grows
 * by doubling, never beyond f->max_body + 1.  NGX_DECLINED: the answer
 * would be larger than f->max_body (f->too_large is set); NGX_ERROR: no
 * memory.
 */

ngx_int_t
ngx_http_osint_fetch_body_add(ngx_http_osint_fetch_t *f, u_char *data,
    size_t len)
{
    u_char  *body;
    size_t   want;

    if (f->max_body && f->body_len + len > f->max_body) {
        f->too_large = 1;
        return NGX_DECLINED;
    }

    if (f->body_len + len + 1 > f->body_size) {
        want = ngx_max(f->body_size * 2, f->body_len + len + 1);
        want = ngx_max(want, 4096);

        if (f->max_body) {
            want = ngx_min(want, f->max_body + 1);
        }

        body = ngx_alloc(want, f->log);
        if (body == NULL) {
            return NGX_ERROR;
        }

        if (f->body) {
            ngx_memcpy(body, f->body, f->body_len);
            ngx_free(f->body);
        }

        f->body = body;
        f->body_size = want;
    }

    ngx_memcpy(f->body + f->body_len, data, len);
    f->body_len += len;
    f->body[f->body_len] = '\0';

    return NGX_OK;
}


/*
 * A Retry-After value (delay-seconds or an HTTP-date) in seconds, at
 * most NGX_HTTP_OSINT_RETRY_AFTER_MAX: clamped while it is read, so that
 * no value, however large, overflows the caller's milliseconds (libcurl's
 * own parser gives 0, "at once", for a number beyond 2^63 or a negative
 * one).  -1: no valid value (a sign, garbage), as if there were none.
 */

curl_off_t
ngx_http_osint_retry_after(u_char *value, size_t len)
{
    u_char      *p, *last;
    time_t       date;
    curl_off_t   n;

    p = value;
    last = value + len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    if (p == last) {
        return -1;
    }

    if (*p >= '0' && *p <= '9') {

        for (n = 0; p < last; p++) {
            if (*p < '0' || *p > '9') {
                return -1;
            }

            n = n * 10 + (*p - '0');

            if (n > NGX_HTTP_OSINT_RETRY_AFTER_MAX) {
                n = NGX_HTTP_OSINT_RETRY_AFTER_MAX;
            }
        }

        return n;
    }

    date = ngx_parse_http_time(p, last - p);

    if (date == NGX_ERROR) {
        return -1;
    }

    date -= ngx_time();

    if (date <= 0) {
        return 0;
    }

    return ngx_min((curl_off_t) date, NGX_HTTP_OSINT_RETRY_AFTER_MAX);
}


/*
 * The headers in which a provider says what is left of its own limit
 * (rate ... adaptive; src/core/ngx_http_osint_ratelimit.c reads them).
 */

ngx_http_osint_said_header_t  ngx_http_osint_said_headers[] = {
    { ngx_string("X-RateLimit-Remaining"), NGX_HTTP_OSINT_SAID_REMAINING },
    { ngx_string("X-RateLimit-Limit"), NGX_HTTP_OSINT_SAID_LIMIT },
    { ngx_string("X-RateLimit-Reset"), NGX_HTTP_OSINT_SAID_RESET_ANY },
    { ngx_string("RateLimit-Remaining"), NGX_HTTP_OSINT_SAID_REMAINING },
    { ngx_string("RateLimit-Limit"), NGX_HTTP_OSINT_SAID_LIMIT },
    { ngx_string("RateLimit-Reset"), NGX_HTTP_OSINT_SAID_RESET },
    { ngx_string("RateLimit"), NGX_HTTP_OSINT_SAID_STRUCTURED },
    { ngx_null_string, 0 }
};
