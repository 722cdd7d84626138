
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "urlhaus": URLhaus (abuse.ch) API v1, POST form lookups:
 * /v1/host/ (host=NAME or IP) and /v1/url/ (url=URL).
 *
 *   host: {"query_status": "ok", "urlhaus_reference": "...",
 *          "host": "vektorex.com", "firstseen": "2019-01-15 07:09:01 UTC",
 *          "url_count": "110", "blacklists": {"spamhaus_dbl": ...,
 *          "surbl": ...}, "urls": [{"url": ..., "url_status": "online",
 *          "threat": "malware_download", "tags": ["exe", "Loki"], ...}]}
 *   url:  {"query_status": "ok", "url": ..., "url_status": "online",
 *          "host": ..., "date_added": "2019-01-19 01:33:26 UTC",
 *          "threat": "malware_download", "blacklists": {...},
 *          "tags": ["emotet"], "urlhaus_reference": ..., ...}
 *
 * data of a host lookup:
 *   url_count    number (URLhaus sends a string of digits; read both)
 *   urls_online  number: urls whose url_status is "online"
 *   threats      array of strings: the urls' threat values, unique, sorted
 *   tags         array of strings: the union of the urls' tags, sorted
 *   blacklists   object as given (spamhaus_dbl, surbl)
 *   first_seen   string "YYYY-MM-DD hh:mm:ss UTC" as given (firstseen)
 *   link         string (urlhaus_reference)
 *
 * data of a url lookup (the answer has url_status):
 *   url_status   string: "online", "offline", "unknown"
 *   threat       string
 *   tags         array of strings
 *   date_added   string, as given
 *   host         string
 *   blacklists   object as given
 *   link         string (urlhaus_reference)
 *
 * query_status: "no_results" is not found; "invalid_host", "invalid_url"
 * (any "invalid_...") mean bad input, an error; so is any other status
 * ("http_post_expected", "unknown_auth_key").
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


static ngx_int_t ngx_http_osint_urlhaus_host(ngx_http_osint_fmt_t *f,
    cJSON *root);
static ngx_int_t ngx_http_osint_urlhaus_url(ngx_http_osint_fmt_t *f,
    cJSON *root);


ngx_int_t
ngx_http_osint_urlhaus_normalise(cJSON *root, ngx_uint_t type, cJSON **data,
    const char **message)
{
    char                   buf[64];
    cJSON                 *status;
    ngx_int_t              rc;
    ngx_http_osint_fmt_t   f;

    if (!cJSON_IsObject(root)) {
        *message = "urlhaus: the answer is not an object";
        return NGX_ERROR;
    }

    status = ngx_http_osint_fmt_get(root, "query_status");

    if (!cJSON_IsString(status)) {
        *message = "urlhaus: the answer has no \"query_status\"";
        return NGX_ERROR;
    }

    if (strcmp(status->valuestring, "no_results") == 0) {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_fmt_init(&f, "urlhaus", message) != NGX_OK) {
        return NGX_ERROR;
    }

    if (strcmp(status->valuestring, "ok") != 0) {
        snprintf(buf, sizeof(buf), "%s%s",
                 strncmp(status->valuestring, "invalid_", 8) == 0
                 ? "bad input: " : "query_status ",
                 status->valuestring);

        return ngx_http_osint_fmt_fail(&f, buf);
    }

    if (ngx_http_osint_fmt_get(root, "url_status")) {
        rc = ngx_http_osint_urlhaus_url(&f, root);

    } else if (ngx_http_osint_fmt_get(root, "urls")
               || ngx_http_osint_fmt_get(root, "url_count"))
    {
        rc = ngx_http_osint_urlhaus_host(&f, root);

    } else {
        return ngx_http_osint_fmt_fail(&f, "the answer is neither a host "
                                           "nor a url lookup");
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}


static ngx_int_t
ngx_http_osint_urlhaus_host(ngx_http_osint_fmt_t *f, cJSON *root)
{
    char                      *end;
    cJSON                     *count, *urls, *u, *v, *t;
    double                     n, online;
    ngx_int_t                  rc;
    ngx_http_osint_fmt_set_t   threats, tags;

    count = ngx_http_osint_fmt_get(root, "url_count");

    if (count) {
        if (cJSON_IsNumber(count)) {
            n = count->valuedouble;

        } else if (cJSON_IsString(count)
                   && count->valuestring[0] >= '0'
                   && count->valuestring[0] <= '9')
        {
            n = strtod(count->valuestring, &end);

            if (*end != '\0' || n > 1e15) {
                return ngx_http_osint_fmt_wrong(f, "url_count", "a count");
            }

        } else {
            return ngx_http_osint_fmt_wrong(f, "url_count", "a count");
        }

        if (ngx_http_osint_fmt_add_number(f, "url_count", n) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    rc = ngx_http_osint_fmt_take(f, root, "urls", cJSON_Array, &urls);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_memzero(&threats, sizeof(ngx_http_osint_fmt_set_t));
    ngx_memzero(&tags, sizeof(ngx_http_osint_fmt_set_t));

    online = 0;

    cJSON_ArrayForEach(u, urls) {
        v = ngx_http_osint_fmt_get(u, "url_status");

        if (cJSON_IsString(v) && strcmp(v->valuestring, "online") == 0) {
            online++;
        }

        v = ngx_http_osint_fmt_get(u, "threat");

        if (cJSON_IsString(v) && v->valuestring[0] != '\0'
            && ngx_http_osint_fmt_set_add(f, &threats, v->valuestring)
               != NGX_OK)
        {
            goto failed;
        }

        v = ngx_http_osint_fmt_get(u, "tags");

        if (!cJSON_IsArray(v)) {
            continue;
        }

        cJSON_ArrayForEach(t, v) {
            if (cJSON_IsString(t) && t->valuestring[0] != '\0'
                && ngx_http_osint_fmt_set_add(f, &tags, t->valuestring)
                   != NGX_OK)
            {
                goto failed;
            }
        }
    }

    if (ngx_http_osint_fmt_add_number(f, "urls_online", online) != NGX_OK) {
        goto failed;
    }

    if (ngx_http_osint_fmt_set_emit(f, &threats, "threats") != NGX_OK) {
        ngx_http_osint_fmt_set_free(&tags);
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_set_emit(f, &tags, "tags") != NGX_OK
        || ngx_http_osint_fmt_flat_object(f, "blacklists", root, "blacklists")
           != NGX_OK
        || ngx_http_osint_fmt_string(f, "first_seen", root, "firstseen")
           != NGX_OK
        || ngx_http_osint_fmt_string(f, "link", root, "urlhaus_reference")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;

failed:

    ngx_http_osint_fmt_set_free(&threats);
    ngx_http_osint_fmt_set_free(&tags);

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_osint_urlhaus_url(ngx_http_osint_fmt_t *f, cJSON *root)
{
    if (ngx_http_osint_fmt_string(f, "url_status", root, "url_status")
        != NGX_OK
        || ngx_http_osint_fmt_string(f, "threat", root, "threat") != NGX_OK
        || ngx_http_osint_fmt_strings(f, "tags", root, "tags", 0) != NGX_OK
        || ngx_http_osint_fmt_string(f, "date_added", root, "date_added")
           != NGX_OK
        || ngx_http_osint_fmt_string(f, "host", root, "host") != NGX_OK
        || ngx_http_osint_fmt_flat_object(f, "blacklists", root, "blacklists")
           != NGX_OK
        || ngx_http_osint_fmt_string(f, "link", root, "urlhaus_reference")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
