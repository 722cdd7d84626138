
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "dnsdb": Farsight DNSDB API v2 (passive DNS), rrset lookups of a
 * name (GET /dnsdb/v2/lookup/rrset/name/NAME) and rdata lookups of an
 * address (GET /dnsdb/v2/lookup/rdata/ip/ADDRESS), answered in the
 * Streaming API Framing as NDJSON ("Accept: application/x-ndjson"), one
 * JSON object a line, given here as one array (ngx_http_osint_fmt_ndjson):
 *
 *   {"cond":"begin"}
 *   {"obj":{"count":5059,"time_first":1380139330,"time_last":1427307444,
 *           "rrname":"www.farsightsecurity.com.","rrtype":"A",
 *           "bailiwick":"farsightsecurity.com.","rdata":["66.160.140.81"]}}
 *   {"cond":"succeeded"}
 *
 * An rdata lookup's "rdata" is one string; a record seen only in zone
 * files has zone_time_first and zone_time_last instead of time_first
 * and time_last.  Between objects, {"cond":"ongoing"} keeps the stream
 * alive.  The stream ends with "succeeded", "limited" (a limit of the
 * query or the account stopped it: what came is a part) or "failed"
 * (with "msg").
 *
 * data:
 *   resolutions  array of {rrname, rrtype, rdata (array of strings),
 *                count, first_seen, last_seen, bailiwick}: names
 *                lower-cased without the root's dot, rdata as given,
 *                first_seen and last_seen Unix seconds (the sensors'
 *                times, else the zone files')
 *   first_seen   the earliest first_seen, last_seen the latest
 *   count        number: the sum of the counts
 *   hostnames    the rrnames, sorted, unique (an address's names)
 *   limited      true when the stream ended "limited"
 *
 * Not found: a stream with no object ("begin", "succeeded").  Errors: a
 * stream that does not begin with "begin", one that ends with no final
 * cond (cut in transfer), "failed", and an object of the wrong shape.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


typedef struct {
    ngx_http_osint_fmt_t       f;
    cJSON                     *list;
    ngx_http_osint_fmt_set_t   names;
    double                     first;
    double                     last;
    double                     count;
    ngx_uint_t                 seen;        /* a first_seen was */
} ngx_http_osint_dnsdb_t;


static const char *ngx_http_osint_dnsdb_cond(cJSON *line);
static ngx_int_t ngx_http_osint_dnsdb_check(cJSON *root, const char **cond,
    const char **message);
static ngx_int_t ngx_http_osint_dnsdb_obj(ngx_http_osint_dnsdb_t *d,
    cJSON *obj);
static ngx_int_t ngx_http_osint_dnsdb_fields(ngx_http_osint_dnsdb_t *d,
    cJSON *obj, ngx_http_osint_fmt_t *g);
static ngx_int_t ngx_http_osint_dnsdb_time(ngx_http_osint_dnsdb_t *d,
    cJSON *obj, ngx_http_osint_fmt_t *g, const char *key, const char *sensor,
    const char *zone);
static char *ngx_http_osint_dnsdb_name(const char *s);


ngx_int_t
ngx_http_osint_dnsdb_normalise(cJSON *root, ngx_uint_t type, cJSON **data,
    const char **message)
{
    char                     text[256];
    cJSON                   *line, *obj, *msg;
    ngx_int_t                rc, n;
    const char              *cond;
    ngx_http_osint_dnsdb_t   d;

    rc = ngx_http_osint_dnsdb_check(root, &cond, message);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_memzero(&d, sizeof(ngx_http_osint_dnsdb_t));
    d.names.own = 1;

    if (ngx_http_osint_fmt_init(&d.f, "dnsdb", message) != NGX_OK) {
        return NGX_ERROR;
    }

    if (strcmp(cond, "failed") == 0) {
        msg = ngx_http_osint_fmt_get(cJSON_GetArrayItem(root,
                                         cJSON_GetArraySize(root) - 1),
                                     "msg");
        snprintf(text, sizeof(text), "the stream ended \"failed\": %s",
                 cJSON_IsString(msg) ? msg->valuestring : "no reason given");

        return ngx_http_osint_fmt_fail(&d.f, text);
    }

    d.list = cJSON_CreateArray();

    if (ngx_http_osint_fmt_add(&d.f, "resolutions", d.list) != NGX_OK) {
        return NGX_ERROR;
    }

    n = 0;

    cJSON_ArrayForEach(line, root) {
        obj = ngx_http_osint_fmt_get(line, "obj");

        if (obj == NULL) {
            continue;
        }

        if (ngx_http_osint_dnsdb_obj(&d, obj) != NGX_OK) {
            ngx_http_osint_fmt_set_free(&d.names);
            return NGX_ERROR;
        }

        n++;
    }

    if (n == 0) {
        ngx_http_osint_fmt_set_free(&d.names);
        cJSON_Delete(d.f.data);

        /* "limited" with nothing: a limit, not an absence */

        if (strcmp(cond, "limited") == 0) {
            *message = "dnsdb: the stream ended \"limited\" before any "
                       "record";
            return NGX_ERROR;
        }

        return NGX_DECLINED;
    }

    if ((d.seen
         && (ngx_http_osint_fmt_add_number(&d.f, "first_seen", d.first)
             != NGX_OK
             || ngx_http_osint_fmt_add_number(&d.f, "last_seen", d.last)
                != NGX_OK))
        || ngx_http_osint_fmt_add_number(&d.f, "count", d.count) != NGX_OK
        || (strcmp(cond, "limited") == 0
            && ngx_http_osint_fmt_add_bool(&d.f, "limited", 1) != NGX_OK))
    {
        ngx_http_osint_fmt_set_free(&d.names);
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_set_emit(&d.f, &d.names, "hostnames") != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&d.f, data);
}


/* the framing: "begin" first, then a final cond, last: *cond */

static ngx_int_t
ngx_http_osint_dnsdb_check(cJSON *root, const char **cond,
    const char **message)
{
    const char  *first;

    if (!cJSON_IsArray(root)) {
        *message = "dnsdb: the answer is not a stream of JSON lines";
        return NGX_ERROR;
    }

    first = ngx_http_osint_dnsdb_cond(cJSON_GetArrayItem(root, 0));

    if (first == NULL || strcmp(first, "begin") != 0) {
        *message = "dnsdb: the stream does not begin with "
                   "{\"cond\":\"begin\"}";
        return NGX_ERROR;
    }

    *cond = ngx_http_osint_dnsdb_cond(cJSON_GetArrayItem(root,
                                          cJSON_GetArraySize(root) - 1));

    if (*cond == NULL
        || (strcmp(*cond, "succeeded") != 0 && strcmp(*cond, "limited") != 0
            && strcmp(*cond, "failed") != 0))
    {
        *message = "dnsdb: the stream ended without its final cond "
                   "(truncated)";
        return NGX_ERROR;
    }

    return NGX_OK;
}


static const char *
ngx_http_osint_dnsdb_cond(cJSON *line)
{
    cJSON  *cond;

    cond = ngx_http_osint_fmt_get(line, "cond");

    return cJSON_IsString(cond) ? cond->valuestring : NULL;
}


/*
 * One record set: its resolution, built in a context of its own (the
 * helpers write into g.data and free it on failure), then listed; its
 * name among the hostnames.  Beyond LIST_MAX its times and count still
 * count.
 */

static ngx_int_t
ngx_http_osint_dnsdb_obj(ngx_http_osint_dnsdb_t *d, cJSON *obj)
{
    char                  *name;
    cJSON                 *rrname, *v;
    ngx_http_osint_fmt_t   g;

    if (!cJSON_IsObject(obj)) {
        return ngx_http_osint_fmt_wrong(&d->f, "obj", "an object");
    }

    rrname = ngx_http_osint_fmt_get(obj, "rrname");

    if (!cJSON_IsString(rrname)) {
        return ngx_http_osint_fmt_wrong(&d->f, "rrname", "a string");
    }

    name = ngx_http_osint_dnsdb_name(rrname->valuestring);

    if (name == NULL
        || ngx_http_osint_fmt_set_add(&d->f, &d->names, name) != NGX_OK)
    {
        free(name);
        return ngx_http_osint_fmt_nomem(&d->f);
    }

    if (ngx_http_osint_fmt_init(&g, "dnsdb", d->f.message) != NGX_OK
        || ngx_http_osint_fmt_add_string(&g, "rrname", name) != NGX_OK
        || ngx_http_osint_dnsdb_fields(d, obj, &g) != NGX_OK)
    {
        cJSON_Delete(d->f.data);
        d->f.data = NULL;
        return NGX_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(g.data, "count");
    d->count += v ? v->valuedouble : 0;

    if (d->list->valueint >= NGX_HTTP_OSINT_FMT_LIST_MAX) {
        d->f.truncated = 1;
        cJSON_Delete(g.data);
        return NGX_OK;
    }

    if (!cJSON_AddItemToArray(d->list, g.data)) {
        cJSON_Delete(g.data);
        return ngx_http_osint_fmt_nomem(&d->f);
    }

    d->list->valueint++;

    return NGX_OK;
}


/* the members of a resolution, into g.data */

static ngx_int_t
ngx_http_osint_dnsdb_fields(ngx_http_osint_dnsdb_t *d, cJSON *obj,
    ngx_http_osint_fmt_t *g)
{
    char   *name;
    cJSON  *v;

    if (ngx_http_osint_fmt_string(g, "rrtype", obj, "rrtype") != NGX_OK) {
        return NGX_ERROR;
    }

    v = ngx_http_osint_fmt_get(obj, "rdata");

    if (cJSON_IsString(v)) {
        if (ngx_http_osint_fmt_add(g, "rdata",
                                   cJSON_CreateStringArray(
                                       (const char **) &v->valuestring, 1))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (ngx_http_osint_fmt_strings(g, "rdata", obj, "rdata", 0)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_number(g, "count", obj, "count") != NGX_OK
        || ngx_http_osint_dnsdb_time(d, obj, g, "first_seen", "time_first",
                                     "zone_time_first")
           != NGX_OK
        || ngx_http_osint_dnsdb_time(d, obj, g, "last_seen", "time_last",
                                     "zone_time_last")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = ngx_http_osint_fmt_get(obj, "bailiwick");

    if (!cJSON_IsString(v)) {
        return NGX_OK;
    }

    name = ngx_http_osint_dnsdb_name(v->valuestring);

    if (name == NULL) {
        return ngx_http_osint_fmt_nomem(g);
    }

    if (ngx_http_osint_fmt_add_string(g, "bailiwick", name) != NGX_OK) {
        free(name);
        return NGX_ERROR;
    }

    free(name);

    return NGX_OK;
}


/* first_seen or last_seen: the sensors' time, else the zone files' */

static ngx_int_t
ngx_http_osint_dnsdb_time(ngx_http_osint_dnsdb_t *d, cJSON *obj,
    ngx_http_osint_fmt_t *g, const char *key, const char *sensor,
    const char *zone)
{
    cJSON  *v;

    if (ngx_http_osint_fmt_number(g, key, obj, sensor) != NGX_OK
        || (!cJSON_HasObjectItem(g->data, key)
            && ngx_http_osint_fmt_number(g, key, obj, zone) != NGX_OK))
    {
        return NGX_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(g->data, key);

    if (v == NULL) {
        return NGX_OK;
    }

    if (key[0] == 'f') {
        if (!d->seen || v->valuedouble < d->first) {
            d->first = v->valuedouble;
        }

        d->seen = 1;

    } else if (v->valuedouble > d->last) {
        d->last = v->valuedouble;
    }

    return NGX_OK;
}


/* a DNS name lower-cased, without the root's final dot; malloc() */

static char *
ngx_http_osint_dnsdb_name(const char *s)
{
    size_t  len;

    len = strlen(s);

    if (len > 1 && s[len - 1] == '.') {
        len--;
    }

    return ngx_http_osint_fmt_lower(s, len);
}
