
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "hibp": Have I Been Pwned API v3, GET
 * /api/v3/breachedaccount/ADDRESS?truncateResponse=false with the header
 * "hibp-api-key: KEY" (and a User-Agent, which HIBP requires)
 *
 *   [{"Name": "Adobe", "Title": "Adobe", "Domain": "adobe.com",
 *     "BreachDate": "2013-10-04", "AddedDate": "2013-12-04T00:00:00Z",
 *     "PwnCount": 152445165, "DataClasses": ["Email addresses",
 *     "Password hints", "Passwords", "Usernames"], "IsVerified": true,
 *     "IsSensitive": false, "IsSpamList": false, ...}, ...]
 *
 * data:
 *   breach_count        number of breaches
 *   breaches            array, as HIBP lists them, of objects:
 *     name              string (Name)
 *     domain            string (Domain; "" for some: kept as given)
 *     date              string "YYYY-MM-DD" (BreachDate)
 *     pwn_count         number (PwnCount)
 *     data_classes      array of strings (DataClasses)
 *     verified          boolean (IsVerified)
 *     sensitive         boolean (IsSensitive)
 *   latest_breach       string: the name of the newest breach by date
 *   latest_breach_date  string "YYYY-MM-DD"
 *   data_classes        array of strings: what any breach exposed,
 *                       sorted, each once
 *
 * Not found: a 404 (no breach of this address), as for every format;
 * an empty array too.  With truncateResponse=true (HIBP's default) each
 * breach is only {"Name": ...}: the breaches then have names only and
 * there is no latest_breach.  An element that is no object with a Name
 * string is skipped; a member of a breach of the wrong type makes the
 * answer an error.  Errors (401, 429 with Retry-After) come as a status
 * with {"statusCode": N, "message": "..."}: read from the status; that
 * body on a 200 is an error too.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


static ngx_int_t ngx_http_osint_hibp_breach(ngx_http_osint_fmt_t *f,
    cJSON *list, cJSON *breach, const char **message);
static ngx_int_t ngx_http_osint_hibp_classes(ngx_http_osint_fmt_t *f,
    ngx_http_osint_fmt_set_t *set, cJSON *breach);


ngx_int_t
ngx_http_osint_hibp_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message)
{
    cJSON                     *e, *list, *name, *date, *latest, *latest_date;
    ngx_uint_t                 n;
    ngx_http_osint_fmt_t       f;
    ngx_http_osint_fmt_set_t   classes;

    if (!cJSON_IsArray(root)) {
        *message = cJSON_IsObject(root)
                   && ngx_http_osint_fmt_get(root, "statusCode")
                   ? "hibp: the answer is an error"
                   : "hibp: the answer is not an array";
        return NGX_ERROR;
    }

    if (root->child == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_fmt_init(&f, "hibp", message) != NGX_OK) {
        return NGX_ERROR;
    }

    list = cJSON_CreateArray();
    if (ngx_http_osint_fmt_add(&f, "breaches", list) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&classes, sizeof(ngx_http_osint_fmt_set_t));

    n = 0;
    latest = NULL;
    latest_date = NULL;

    cJSON_ArrayForEach(e, root) {
        name = ngx_http_osint_fmt_get(e, "Name");

        if (!cJSON_IsString(name)) {
            continue;
        }

        n++;

        if (ngx_http_osint_hibp_breach(&f, list, e, message) != NGX_OK
            || ngx_http_osint_hibp_classes(&f, &classes, e) != NGX_OK)
        {
            ngx_http_osint_fmt_set_free(&classes);
            return NGX_ERROR;
        }

        date = ngx_http_osint_fmt_get(e, "BreachDate");

        if (cJSON_IsString(date)
            && (latest_date == NULL
                || strcmp(date->valuestring, latest_date->valuestring) > 0))
        {
            latest = name;
            latest_date = date;
        }
    }

    if (n == 0) {
        ngx_http_osint_fmt_set_free(&classes);
        return ngx_http_osint_fmt_fail(&f, "no breach in the answer");
    }

    if (ngx_http_osint_fmt_add_number(&f, "breach_count", n) != NGX_OK
        || (latest
            && (ngx_http_osint_fmt_add_string(&f, "latest_breach",
                                              latest->valuestring)
                != NGX_OK
                || ngx_http_osint_fmt_add_string(&f, "latest_breach_date",
                                                 latest_date->valuestring)
                   != NGX_OK)))
    {
        ngx_http_osint_fmt_set_free(&classes);
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_set_emit(&f, &classes, "data_classes") != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}


/* one breach into the list, its members checked as the top level's are */

static ngx_int_t
ngx_http_osint_hibp_breach(ngx_http_osint_fmt_t *f, cJSON *list,
    cJSON *breach, const char **message)
{
    cJSON                 *item;
    ngx_http_osint_fmt_t   b;

    if (list->valueint >= NGX_HTTP_OSINT_FMT_LIST_MAX) {
        f->truncated = 1;
        return NGX_OK;
    }

    if (ngx_http_osint_fmt_init(&b, "hibp", message) != NGX_OK) {
        return ngx_http_osint_fmt_nomem(f);
    }

    if (ngx_http_osint_fmt_string(&b, "name", breach, "Name") != NGX_OK
        || ngx_http_osint_fmt_string(&b, "domain", breach, "Domain")
           != NGX_OK
        || ngx_http_osint_fmt_string(&b, "date", breach, "BreachDate")
           != NGX_OK
        || ngx_http_osint_fmt_number(&b, "pwn_count", breach, "PwnCount")
           != NGX_OK
        || ngx_http_osint_fmt_strings(&b, "data_classes", breach,
                                      "DataClasses", 0)
           != NGX_OK
        || ngx_http_osint_fmt_bool(&b, "verified", breach, "IsVerified")
           != NGX_OK
        || ngx_http_osint_fmt_bool(&b, "sensitive", breach, "IsSensitive")
           != NGX_OK
        || ngx_http_osint_fmt_done(&b, &item) != NGX_OK)
    {
        /* b's message is in place; f goes with it */

        cJSON_Delete(f->data);
        f->data = NULL;
        return NGX_ERROR;
    }

    f->truncated |= b.truncated;

    if (!cJSON_AddItemToArray(list, item)) {
        cJSON_Delete(item);
        return ngx_http_osint_fmt_nomem(f);
    }

    list->valueint++;

    return NGX_OK;
}


/* the strings stay the answer's until the set is emitted */

static ngx_int_t
ngx_http_osint_hibp_classes(ngx_http_osint_fmt_t *f,
    ngx_http_osint_fmt_set_t *set, cJSON *breach)
{
    cJSON  *classes, *e;

    classes = ngx_http_osint_fmt_get(breach, "DataClasses");

    if (!cJSON_IsArray(classes)) {
        return NGX_OK;
    }

    cJSON_ArrayForEach(e, classes) {
        if (cJSON_IsString(e)
            && ngx_http_osint_fmt_set_add(f, set, e->valuestring) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
