
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "crtsh": crt.sh, GET https://crt.sh/?q=NAME&output=json
 *
 *   [{"issuer_ca_id": 295810, "issuer_name": "C=US, O=Let's Encrypt, CN=R3",
 *     "common_name": "example.com", "name_value": "example.com\nwww...",
 *     "id": 11923114741, "entry_timestamp": "2024-01-15T08:12:34.567",
 *     "not_before": "2024-01-15T07:12:34", "not_after": "2024-04-14T07:12:33",
 *     "serial_number": "04a1...", "result_count": 3}, ...]
 *
 * data:
 *   names        array of strings: every line of every name_value,
 *                lower-cased, wildcards ("*.example.com") kept, unique,
 *                sorted; at most NGX_HTTP_OSINT_FMT_LIST_MAX (1000), the
 *                first in sort order
 *   issuers      array of strings: unique issuer_name, sorted
 *   first_seen   the earliest not_before, as given
 *   last_seen    the latest not_after, as given
 *   count        number: the certificate entries read (crt.sh lists a
 *                precertificate and its certificate as two)
 *   truncated    true when names (or issuers) were cut
 *
 * first_seen / last_seen are validity dates, not CT log times: together
 * they are the span some certificate covered the name, which is what a
 * reader of a domain's history asks; entry_timestamp would only say when
 * logs heard of it.  last_seen may lie in the future.  crt.sh writes all
 * of them "YYYY-MM-DDThh:mm:ss" UTC, so comparing the strings compares
 * the times; a value not shaped so is ignored.
 *
 * Not found: crt.sh answers 200 [].  Any array element that is no
 * certificate entry is skipped; an array with none at all is an error.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


static ngx_int_t ngx_http_osint_crtsh_names(ngx_http_osint_fmt_t *f,
    ngx_http_osint_fmt_set_t *names, const char *value);
static ngx_uint_t ngx_http_osint_crtsh_time(cJSON *item);


ngx_int_t
ngx_http_osint_crtsh_normalise(cJSON *root, ngx_uint_t type, cJSON **data,
    const char **message)
{
    cJSON                     *e, *v, *first, *last;
    double                     count;
    ngx_http_osint_fmt_t       f;
    ngx_http_osint_fmt_set_t   names, issuers;

    if (!cJSON_IsArray(root)) {
        *message = "crtsh: the answer is not an array";
        return NGX_ERROR;
    }

    if (root->child == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_fmt_init(&f, "crtsh", message) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&names, sizeof(ngx_http_osint_fmt_set_t));
    ngx_memzero(&issuers, sizeof(ngx_http_osint_fmt_set_t));
    names.own = 1;

    first = NULL;
    last = NULL;
    count = 0;

    cJSON_ArrayForEach(e, root) {
        v = ngx_http_osint_fmt_get(e, "name_value");

        if (!cJSON_IsString(v)) {
            continue;
        }

        count++;

        if (ngx_http_osint_crtsh_names(&f, &names, v->valuestring) != NGX_OK)
        {
            goto failed;
        }

        v = ngx_http_osint_fmt_get(e, "issuer_name");

        if (cJSON_IsString(v) && v->valuestring[0] != '\0'
            && ngx_http_osint_fmt_set_add(&f, &issuers, v->valuestring)
               != NGX_OK)
        {
            goto failed;
        }

        v = ngx_http_osint_fmt_get(e, "not_before");

        if (ngx_http_osint_crtsh_time(v)
            && (first == NULL
                || strcmp(v->valuestring, first->valuestring) < 0))
        {
            first = v;
        }

        v = ngx_http_osint_fmt_get(e, "not_after");

        if (ngx_http_osint_crtsh_time(v)
            && (last == NULL || strcmp(v->valuestring, last->valuestring) > 0))
        {
            last = v;
        }
    }

    if (count == 0) {
        ngx_http_osint_fmt_set_free(&names);
        ngx_http_osint_fmt_set_free(&issuers);
        return ngx_http_osint_fmt_fail(&f, "the answer has no certificate "
                                           "entry");
    }

    if (ngx_http_osint_fmt_set_emit(&f, &names, "names") != NGX_OK) {
        ngx_http_osint_fmt_set_free(&issuers);
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_set_emit(&f, &issuers, "issuers") != NGX_OK
        || (first && ngx_http_osint_fmt_add_string(&f, "first_seen",
                                                   first->valuestring)
                     != NGX_OK)
        || (last && ngx_http_osint_fmt_add_string(&f, "last_seen",
                                                  last->valuestring)
                    != NGX_OK)
        || ngx_http_osint_fmt_add_number(&f, "count", count) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);

failed:

    ngx_http_osint_fmt_set_free(&names);
    ngx_http_osint_fmt_set_free(&issuers);

    return NGX_ERROR;
}


/* one name per line of name_value; blank lines and spaces dropped */

static ngx_int_t
ngx_http_osint_crtsh_names(ngx_http_osint_fmt_t *f,
    ngx_http_osint_fmt_set_t *names, const char *value)
{
    char        *name;
    const char  *p, *q, *end;

    p = value;

    while (*p) {
        end = strchr(p, '\n');
        if (end == NULL) {
            end = p + strlen(p);
        }

        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) {
            p++;
        }

        if (end > p) {
            q = end;

            while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
            {
                q--;
            }

            name = ngx_http_osint_fmt_lower(p, q - p);
            if (name == NULL) {
                return ngx_http_osint_fmt_nomem(f);
            }

            if (ngx_http_osint_fmt_set_add(f, names, name) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        p = *end ? end + 1 : end;
    }

    return NGX_OK;
}


/* "YYYY-MM-DDThh:mm:ss...": the shape that makes strcmp() a time order */

static ngx_uint_t
ngx_http_osint_crtsh_time(cJSON *item)
{
    const char  *s;
    ngx_uint_t   i;

    static const char  shape[] = "dddd-dd-ddTdd:dd:dd";

    if (!cJSON_IsString(item)) {
        return 0;
    }

    s = item->valuestring;

    for (i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
        {
            return 0;
        }
    }

    return 1;
}
