
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * What a provider says of its own rate limit in its answers, for
 * "rate ... adaptive": the de facto X-RateLimit-Limit / -Remaining /
 * -Reset (GitHub, many others; Reset a Unix time or seconds), the IETF
 * draft's RateLimit-Limit / -Remaining / -Reset (seconds), and its
 * structured "RateLimit: limit=N, remaining=N, reset=N" (draft 03 to 06)
 * or '"policy";r=N;t=N' (draft 07 on).  Pure: the values come in as text.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


/* a Reset above this is a Unix time, not seconds from now */
#define NGX_HTTP_OSINT_SAID_EPOCH    1000000000

static ngx_int_t ngx_http_osint_said_number(u_char *p, u_char *last);
static void ngx_http_osint_said_structured(ngx_http_osint_said_t *said,
    u_char *p, u_char *last);


void
ngx_http_osint_said_init(ngx_http_osint_said_t *said)
{
    said->remaining = -1;
    said->limit = -1;
    said->reset = -1;
}


/*
 * One header's value.  Values that are not numbers are ignored, numbers
 * are capped at NGX_HTTP_OSINT_SAID_MAX and resets at
 * NGX_HTTP_OSINT_SAID_RESET_MAX seconds: no answer can make the module
 * wait longer than that, nor overflow a count.
 */

void
ngx_http_osint_said_field(ngx_http_osint_said_t *said, ngx_uint_t field,
    u_char *value, size_t len, time_t now)
{
    ngx_int_t   n;
    u_char     *last;

    last = value + len;

    while (value < last && (*value == ' ' || *value == '\t')) {
        value++;
    }

    while (last > value && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    if (field == NGX_HTTP_OSINT_SAID_STRUCTURED) {
        ngx_http_osint_said_structured(said, value, last);
        return;
    }

    n = ngx_http_osint_said_number(value, last);

    if (n < 0) {
        return;
    }

    switch (field) {

    case NGX_HTTP_OSINT_SAID_REMAINING:
        said->remaining = n;
        return;

    case NGX_HTTP_OSINT_SAID_LIMIT:
        said->limit = n;
        return;

    case NGX_HTTP_OSINT_SAID_RESET_ANY:
        if (n > NGX_HTTP_OSINT_SAID_EPOCH) {
            n = (n > now) ? n - now : 0;
        }

        break;

    default: /* NGX_HTTP_OSINT_SAID_RESET: seconds */
        break;
    }

    said->reset = ngx_min(n, NGX_HTTP_OSINT_SAID_RESET_MAX);
}


/* digits only, at most NGX_HTTP_OSINT_SAID_MAX; -1 otherwise */

static ngx_int_t
ngx_http_osint_said_number(u_char *p, u_char *last)
{
    ngx_int_t  n;

    if (p == last) {
        return -1;
    }

    for (n = 0; p < last; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }

        if (n < NGX_HTTP_OSINT_SAID_MAX) {     /* n * 10 stays in 64 bits */
            n = n * 10 + (*p - '0');
        }
    }

    return ngx_min(n, NGX_HTTP_OSINT_SAID_MAX);
}


/*
 * "limit=100, remaining=50, reset=30" or '"default";r=50;t=30': members
 * separated by "," or ";", each name=value; other members are ignored.
 */

static void
ngx_http_osint_said_structured(ngx_http_osint_said_t *said, u_char *p,
    u_char *last)
{
    u_char     *name, *eq, *end;
    size_t      len;
    ngx_int_t   n;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == ',' || *p == ';')) {
            p++;
        }

        name = p;

        for (end = p; end < last && *end != ',' && *end != ';'; end++) {
            /* void */
        }

        p = end;

        eq = ngx_strlchr(name, end, '=');
        if (eq == NULL) {
            continue;
        }

        len = eq - name;
        n = ngx_http_osint_said_number(eq + 1, end);

        if (n < 0) {
            continue;
        }

        if ((len == 9 && ngx_strncmp(name, "remaining", 9) == 0)
            || (len == 1 && name[0] == 'r'))
        {
            said->remaining = n;

        } else if (len == 5 && ngx_strncmp(name, "limit", 5) == 0) {
            said->limit = n;

        } else if ((len == 5 && ngx_strncmp(name, "reset", 5) == 0)
                   || (len == 1 && name[0] == 't'))
        {
            said->reset = ngx_min(n, NGX_HTTP_OSINT_SAID_RESET_MAX);
        }
    }
}
