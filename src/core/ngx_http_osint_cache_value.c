
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The value both cache tiers store (the L1 cache in the zone and Redis),
 * so a Redis value is checked as strictly as an L1 entry, and the
 * fingerprint of a provider's configuration it is stored under.  Pure:
 * no zone, no request, so fuzz_cache_decode links it with the rest of
 * src/core/.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <math.h>

#include "ngx_http_osint_core.h"


/* version of the value format; a different one is a miss */
#define NGX_HTTP_OSINT_CACHE_VERSION    1

/* {"v":1,"fp":"1a2b3c4d","status":" */
#define NGX_HTTP_OSINT_CACHE_HEAD                                             \
    (sizeof("{\"v\":,\"fp\":\"\",\"status\":\"") - 1 + NGX_INT_T_LEN + 8)


static u_char *ngx_http_osint_cache_head(u_char *p,
    ngx_http_osint_provider_t *pr);
static ngx_int_t ngx_http_osint_cache_decode_written(
    ngx_http_osint_provider_t *p, u_char *text, size_t len, ngx_pool_t *pool,
    ngx_str_t *value, ngx_http_osint_status_e *status, time_t *fresh_until,
    time_t *answered);
static u_char *ngx_http_osint_cache_seconds(u_char *q, u_char *end,
    const char *name, time_t *seconds);


/* what makes a provider's answers what they are: url, format, fields */

uint32_t
ngx_http_osint_fingerprint(ngx_http_osint_provider_t *p)
{
    uint32_t                    crc;
    ngx_uint_t                  i, j;
    ngx_http_osint_tpl_t       *tpl;
    ngx_http_osint_field_t     *f;
    ngx_http_osint_tpl_part_t  *part;

    ngx_crc32_init(crc);

    ngx_crc32_update(&crc, p->url_source.data, p->url_source.len);
    ngx_crc32_update(&crc, p->body_source.data, p->body_source.len);
    ngx_crc32_update(&crc, (u_char *) ngx_http_osint_formats[p->format].name,
                     ngx_strlen(ngx_http_osint_formats[p->format].name) + 1);

    tpl = p->headers.elts;

    for (i = 0; i < p->headers.nelts; i++) {
        part = tpl[i].parts.elts;

        for (j = 0; j < tpl[i].parts.nelts; j++) {
            ngx_crc32_update(&crc, (u_char *) &part[j].type,
                             sizeof(part[j].type));
            ngx_crc32_update(&crc, part[j].text.data, part[j].text.len);
        }
    }

    f = p->fields.elts;

    for (i = 0; i < p->fields.nelts; i++) {
        ngx_crc32_update(&crc, f[i].name.data, f[i].name.len + 1);
        ngx_crc32_update(&crc, f[i].source.data, f[i].source.len);
    }

    ngx_http_osint_found_fingerprint(p, &crc);

    ngx_crc32_final(crc);

    return crc;
}


/*
 * The value Redis holds: readable JSON, self-describing and checked on
 * the way back:
 *   {"v":1,"fp":"1a2b3c4d","status":"ok","fresh_until":1700000000,
 *    "at":1699999000,"data":{..}}
 * "at" is when the provider answered (the answer's age); a value written
 * before it existed has none and is still read (version 1 either way:
 * older readers ignore the member).
 */

u_char *
ngx_http_osint_cache_encode(ngx_http_osint_provider_t *p,
    ngx_http_osint_status_e status, ngx_str_t *value, time_t fresh_until,
    time_t answered, size_t *len)
{
    u_char  *text, *last;
    size_t   size;

    size = sizeof("{\"v\":,\"fp\":\"\",\"status\":\"not_found\","
                  "\"fresh_until\":,\"at\":,\"data\":}")
           + NGX_INT_T_LEN * 3 + 8 + (value->len ? value->len : 4);

    text = ngx_alloc(size, ngx_cycle->log);
    if (text == NULL) {
        return NULL;
    }

    last = ngx_http_osint_cache_head(text, p);
    last = ngx_sprintf(last, "%s\",\"fresh_until\":%T,\"at\":%T,\"data\":",
                       status == NGX_HTTP_OSINT_OK ? "ok" : "not_found",
                       fresh_until, answered);

    if (value->len) {
        last = ngx_cpymem(last, value->data, value->len);

    } else {
        last = ngx_cpymem(last, "null", 4);
    }

    *last++ = '}';
    *len = last - text;

    return text;
}


/*
 * What every value of the provider starts with, up to its status' text:
 * written by hand, as ngx_sprintf() cost a Redis hit ~600 instructions
 * a value to compare it.
 */

static u_char *
ngx_http_osint_cache_head(u_char *p, ngx_http_osint_provider_t *pr)
{
    p = ngx_cpymem(p, "{\"v\":", sizeof("{\"v\":") - 1);
    p = ngx_http_osint_decimal(p, NGX_HTTP_OSINT_CACHE_VERSION);
    p = ngx_cpymem(p, ",\"fp\":\"", sizeof(",\"fp\":\"") - 1);
    p = ngx_http_osint_hex32(p, pr->fingerprint);

    return ngx_cpymem(p, "\",\"status\":\"", sizeof("\",\"status\":\"") - 1);
}


/*
 * NGX_OK, or NGX_DECLINED for anything not written by this provider.
 * *answered is 0 when the value does not say (written before "at").
 */

ngx_int_t
ngx_http_osint_cache_decode(ngx_http_osint_provider_t *p, u_char *text,
    size_t len, ngx_pool_t *pool, ngx_str_t *value,
    ngx_http_osint_status_e *status, time_t *fresh_until, time_t *answered)
{
    char      fp[9];
    cJSON    *root, *v, *data;
    ngx_int_t rc;

    if (ngx_http_osint_cache_decode_written(p, text, len, pool, value, status,
                                            fresh_until, answered)
        == NGX_OK)
    {
        return NGX_OK;
    }

    root = cJSON_ParseWithLength((char *) text, len);
    if (root == NULL) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    (void) ngx_sprintf((u_char *) fp, "%08xD%Z", p->fingerprint);

    v = cJSON_GetObjectItemCaseSensitive(root, "v");
    if (!cJSON_IsNumber(v) || v->valuedouble != NGX_HTTP_OSINT_CACHE_VERSION) {
        goto done;
    }

    v = cJSON_GetObjectItemCaseSensitive(root, "fp");
    if (!cJSON_IsString(v) || ngx_strcmp(v->valuestring, fp) != 0) {
        goto done;
    }

    /* a time a cast can hold: anything else was not written by us */

    v = cJSON_GetObjectItemCaseSensitive(root, "fresh_until");
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0)
        || v->valuedouble > (double) NGX_MAX_INT32_VALUE * 1024)
    {
        goto done;
    }

    *fresh_until = (time_t) v->valuedouble;

    /* the same bounds; a bad one is the same as none */

    v = cJSON_GetObjectItemCaseSensitive(root, "at");

    *answered = (cJSON_IsNumber(v) && v->valuedouble >= 0
                 && v->valuedouble <= (double) NGX_MAX_INT32_VALUE * 1024)
                ? (time_t) v->valuedouble : 0;

    v = cJSON_GetObjectItemCaseSensitive(root, "status");
    data = cJSON_GetObjectItemCaseSensitive(root, "data");

    /* a number beyond a double (1e999) reads as infinity and prints null */

    if (cJSON_IsString(v) && ngx_strcmp(v->valuestring, "ok") == 0
        && data && !cJSON_IsNull(data)
        && !(cJSON_IsNumber(data) && !isfinite(data->valuedouble)))
    {
        if (ngx_http_osint_json_print(pool, data, 1, value) == NGX_OK) {
            value->data[value->len] = '\0';
            *status = NGX_HTTP_OSINT_OK;
            rc = NGX_OK;
        }

    } else if (cJSON_IsString(v) && ngx_strcmp(v->valuestring, "not_found") == 0)
    {
        value->data = (u_char *) "";
        value->len = 0;
        *status = NGX_HTTP_OSINT_NOT_FOUND;
        rc = NGX_OK;
    }

done:

    cJSON_Delete(root);

    return rc;
}


/*
 * A value as ngx_http_osint_cache_encode() writes it, read without a
 * tree: its members in that order, whole seconds as digits, and data
 * that ngx_http_osint_json_print() would write as it is, copied.  On an
 * L1 miss that Redis answers this is most of the work (a tree of the
 * whole value parsed, data printed from it, the tree freed).
 * NGX_DECLINED: read it the long way (another writer, an older format),
 * which says the same of everything this says NGX_OK of (fuzz_cache_decode).
 */

static ngx_int_t
ngx_http_osint_cache_decode_written(ngx_http_osint_provider_t *p,
    u_char *text, size_t len, ngx_pool_t *pool, ngx_str_t *value,
    ngx_http_osint_status_e *status, time_t *fresh_until, time_t *answered)
{
    u_char                   *q, *end;
    u_char                    head[NGX_HTTP_OSINT_CACHE_HEAD];
    size_t                    n;
    ngx_http_osint_status_e   st;

    q = text;
    end = text + len;

    n = ngx_http_osint_cache_head(head, p) - head;

    if ((size_t) (end - q) < n || ngx_memcmp(q, head, n) != 0) {
        return NGX_DECLINED;
    }

    q += n;

    if (end - q >= 3 && ngx_strncmp(q, "ok\"", 3) == 0) {
        st = NGX_HTTP_OSINT_OK;
        q += 3;

    } else if (end - q >= 10 && ngx_strncmp(q, "not_found\"", 10) == 0) {
        st = NGX_HTTP_OSINT_NOT_FOUND;
        q += 10;

    } else {
        return NGX_DECLINED;
    }

    q = ngx_http_osint_cache_seconds(q, end, ",\"fresh_until\":", fresh_until);
    q = ngx_http_osint_cache_seconds(q, end, ",\"at\":", answered);

    n = sizeof(",\"data\":") - 1;

    if (q == NULL || (size_t) (end - q) < n + 2
        || ngx_strncmp(q, ",\"data\":", n) != 0 || end[-1] != '}')
    {
        return NGX_DECLINED;
    }

    q += n;
    n = end - 1 - q;

    /* what encode writes for not_found; ok's data is a value, never null */

    if (st == NGX_HTTP_OSINT_NOT_FOUND) {
        if (n != 4 || ngx_strncmp(q, "null", 4) != 0) {
            return NGX_DECLINED;
        }

        value->data = (u_char *) "";
        value->len = 0;
        *status = st;

        return NGX_OK;
    }

    if ((n == 4 && ngx_strncmp(q, "null", 4) == 0)
        || ngx_http_osint_json_canonical(q, n) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    value->data = ngx_pnalloc(pool, n + 1);
    if (value->data == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(value->data, q, n);
    value->data[n] = '\0';
    value->len = n;
    *status = st;

    return NGX_OK;
}


/*
 * ","name":" and whole seconds as encode writes them (digits, no sign,
 * no leading zero, within the long way's bound): after them, or NULL
 */

static u_char *
ngx_http_osint_cache_seconds(u_char *q, u_char *end, const char *name,
    time_t *seconds)
{
    size_t  n;
    time_t  t;

    n = ngx_strlen(name);

    if (q == NULL || (size_t) (end - q) < n + 1
        || ngx_strncmp(q, name, n) != 0)
    {
        return NULL;
    }

    q += n;

    if (*q < '0' || *q > '9' || (*q == '0' && q + 1 < end
                                  && q[1] >= '0' && q[1] <= '9'))
    {
        return NULL;
    }

    for (t = 0; q < end && *q >= '0' && *q <= '9'; q++) {
        t = t * 10 + (*q - '0');

        if (t > (time_t) NGX_MAX_INT32_VALUE * 1024) {
            return NULL;
        }
    }

    *seconds = t;

    return q;
}
