
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Helpers of the built-in normalisers: typed reads of a provider's JSON
 * that never trust a type, and writes into `data` that check every
 * allocation.  The conventions they enforce are in ngx_http_osint_format.h.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


/*
 * Messages naming a member are built here.  Workers are single-threaded,
 * and the caller copies *message before the next answer is read.
 */
static char  ngx_http_osint_fmt_buf[160];


static void ngx_http_osint_fmt_cut(void);


/*
 * A message holds the provider's text (urlhaus's query_status), which
 * snprintf() may have cut inside a character, here or in the format's
 * own buffer: it ends before that character.
 */

static void
ngx_http_osint_fmt_cut(void)
{
    u_char  *buf;

    buf = (u_char *) ngx_http_osint_fmt_buf;
    buf[ngx_http_osint_utf8_cut(buf, ngx_strlen(buf))] = '\0';
}


ngx_int_t
ngx_http_osint_fmt_init(ngx_http_osint_fmt_t *f, const char *format,
    const char **message)
{
    f->format = format;
    f->message = message;
    f->truncated = 0;

    f->data = cJSON_CreateObject();
    if (f->data == NULL) {
        *message = "out of memory";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* hands the data over, or frees it when rc is not NGX_OK */

ngx_int_t
ngx_http_osint_fmt_done(ngx_http_osint_fmt_t *f, cJSON **data)
{
    if (f->truncated
        && ngx_http_osint_fmt_add_bool(f, "truncated", 1) != NGX_OK)
    {
        cJSON_Delete(f->data);
        f->data = NULL;
        return NGX_ERROR;
    }

    *data = f->data;
    f->data = NULL;

    return NGX_OK;
}


ngx_int_t
ngx_http_osint_fmt_fail(ngx_http_osint_fmt_t *f, const char *message)
{
    cJSON_Delete(f->data);
    f->data = NULL;

    snprintf(ngx_http_osint_fmt_buf, sizeof(ngx_http_osint_fmt_buf),
             "%s: %s", f->format, message);

    ngx_http_osint_fmt_cut();

    *f->message = ngx_http_osint_fmt_buf;

    return NGX_ERROR;
}


ngx_int_t
ngx_http_osint_fmt_wrong(ngx_http_osint_fmt_t *f, const char *member,
    const char *want)
{
    cJSON_Delete(f->data);
    f->data = NULL;

    snprintf(ngx_http_osint_fmt_buf, sizeof(ngx_http_osint_fmt_buf),
             "%s: \"%s\" is not %s", f->format, member, want);

    ngx_http_osint_fmt_cut();

    *f->message = ngx_http_osint_fmt_buf;

    return NGX_ERROR;
}


ngx_int_t
ngx_http_osint_fmt_nomem(ngx_http_osint_fmt_t *f)
{
    cJSON_Delete(f->data);
    f->data = NULL;

    *f->message = "out of memory";

    return NGX_ERROR;
}


/* a member of an object; NULL when obj is no object or the member null */

cJSON *
ngx_http_osint_fmt_get(cJSON *obj, const char *name)
{
    cJSON  *item;

    if (!cJSON_IsObject(obj)) {
        return NULL;
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (item == NULL || cJSON_IsNull(item)) {
        return NULL;
    }

    return item;
}


static const char *
ngx_http_osint_fmt_type_name(int type)
{
    switch (type) {
    case cJSON_String:
        return "a string";
    case cJSON_Number:
        return "a number";
    case cJSON_True | cJSON_False:
        return "a boolean";
    case cJSON_Array:
        return "an array";
    default:
        return "an object";
    }
}


/*
 * A member of a given cJSON type (cJSON_True|cJSON_False for a boolean):
 * NGX_OK with *item set, NGX_DECLINED when absent or null, NGX_ERROR
 * (the data freed, *message set) when of another type.
 */

ngx_int_t
ngx_http_osint_fmt_take(ngx_http_osint_fmt_t *f, cJSON *from,
    const char *member, int type, cJSON **item)
{
    cJSON  *v;

    *item = NULL;

    v = ngx_http_osint_fmt_get(from, member);
    if (v == NULL) {
        return NGX_DECLINED;
    }

    if ((v->type & 0xff & type) == 0) {
        return ngx_http_osint_fmt_wrong(f, member,
                                        ngx_http_osint_fmt_type_name(type));
    }

    *item = v;

    return NGX_OK;
}


ngx_int_t
ngx_http_osint_fmt_add(ngx_http_osint_fmt_t *f, const char *key,
    cJSON *item)
{
    if (item == NULL || !cJSON_AddItemToObject(f->data, key, item)) {
        cJSON_Delete(item);
        return ngx_http_osint_fmt_nomem(f);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_osint_fmt_add_string(ngx_http_osint_fmt_t *f, const char *key,
    const char *value)
{
    return ngx_http_osint_fmt_add(f, key, cJSON_CreateString(value));
}


ngx_int_t
ngx_http_osint_fmt_add_number(ngx_http_osint_fmt_t *f, const char *key,
    double value)
{
    return ngx_http_osint_fmt_add(f, key, cJSON_CreateNumber(value));
}


ngx_int_t
ngx_http_osint_fmt_add_bool(ngx_http_osint_fmt_t *f, const char *key,
    ngx_uint_t value)
{
    return ngx_http_osint_fmt_add(f, key, cJSON_CreateBool(value != 0));
}


/*
 * The copies below: NGX_OK when copied or absent, NGX_ERROR when of the
 * wrong type or out of memory.
 */

ngx_int_t
ngx_http_osint_fmt_string(ngx_http_osint_fmt_t *f, const char *key,
    cJSON *from, const char *member)
{
    cJSON      *v;
    ngx_int_t   rc;

    rc = ngx_http_osint_fmt_take(f, from, member, cJSON_String, &v);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : rc;
    }

    return ngx_http_osint_fmt_add_string(f, key, v->valuestring);
}


ngx_int_t
ngx_http_osint_fmt_number(ngx_http_osint_fmt_t *f, const char *key,
    cJSON *from, const char *member)
{
    cJSON      *v;
    ngx_int_t   rc;

    rc = ngx_http_osint_fmt_take(f, from, member, cJSON_Number, &v);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : rc;
    }

    return ngx_http_osint_fmt_add_number(f, key, v->valuedouble);
}


ngx_int_t
ngx_http_osint_fmt_bool(ngx_http_osint_fmt_t *f, const char *key,
    cJSON *from, const char *member)
{
    cJSON      *v;
    ngx_int_t   rc;

    rc = ngx_http_osint_fmt_take(f, from, member, cJSON_True|cJSON_False, &v);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : rc;
    }

    return ngx_http_osint_fmt_add_bool(f, key, cJSON_IsTrue(v));
}


/* an array of strings, its other elements skipped, at most LIST_MAX */

ngx_int_t
ngx_http_osint_fmt_strings(ngx_http_osint_fmt_t *f, const char *key,
    cJSON *from, const char *member, ngx_uint_t lower)
{
    cJSON      *v, *e, *list;
    ngx_int_t   rc;

    rc = ngx_http_osint_fmt_take(f, from, member, cJSON_Array, &v);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : rc;
    }

    list = cJSON_CreateArray();
    if (list == NULL || !cJSON_AddItemToObject(f->data, key, list)) {
        cJSON_Delete(list);
        return ngx_http_osint_fmt_nomem(f);
    }

    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsString(e)) {
            continue;
        }

        rc = ngx_http_osint_fmt_list_add(f, list, e->valuestring, lower);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            break;
        }
    }

    return NGX_OK;
}


/*
 * Appends a string (lower-cased with lower) to a list made by
 * cJSON_CreateArray(): NGX_OK, NGX_DECLINED when the list is full (and
 * the data marked truncated), NGX_ERROR when out of memory.  The count
 * lives in the array's unused valueint, so that appending stays O(1)
 * however long the provider's list.
 */

ngx_int_t
ngx_http_osint_fmt_list_add(ngx_http_osint_fmt_t *f, cJSON *list,
    const char *value, ngx_uint_t lower)
{
    char   *s;
    cJSON  *e;

    if (list->valueint >= NGX_HTTP_OSINT_FMT_LIST_MAX) {
        f->truncated = 1;
        return NGX_DECLINED;
    }

    if (lower) {
        s = ngx_http_osint_fmt_lower(value, strlen(value));
        if (s == NULL) {
            return ngx_http_osint_fmt_nomem(f);
        }

        e = cJSON_CreateString(s);
        free(s);

    } else {
        e = cJSON_CreateString(value);
    }

    if (e == NULL || !cJSON_AddItemToArray(list, e)) {
        cJSON_Delete(e);
        return ngx_http_osint_fmt_nomem(f);
    }

    list->valueint++;

    return NGX_OK;
}


/*
 * A set of strings: collected as pointers, then sorted, deduplicated and
 * cut to LIST_MAX in one go, O(n log n) however many the answer holds
 * (a crt.sh answer can list tens of thousands of names).
 */

ngx_int_t
ngx_http_osint_fmt_set_add(ngx_http_osint_fmt_t *f,
    ngx_http_osint_fmt_set_t *set, char *s)
{
    char    **elts;
    size_t    size;

    if (set->n == set->size) {
        size = set->size ? set->size * 2 : 16;

        elts = realloc(set->elts, size * sizeof(char *));
        if (elts == NULL) {
            if (set->own) {
                free(s);
            }

            return ngx_http_osint_fmt_nomem(f);
        }

        set->elts = elts;
        set->size = size;
    }

    set->elts[set->n++] = s;

    return NGX_OK;
}


static int
ngx_http_osint_fmt_set_cmp(const void *one, const void *two)
{
    return strcmp(*(char * const *) one, *(char * const *) two);
}


/* adds the set as a sorted list of unique strings, and frees the set */

ngx_int_t
ngx_http_osint_fmt_set_emit(ngx_http_osint_fmt_t *f,
    ngx_http_osint_fmt_set_t *set, const char *key)
{
    size_t      i;
    cJSON      *list, *e;
    ngx_int_t   rc;

    rc = NGX_OK;

    if (set->n) {
        qsort(set->elts, set->n, sizeof(char *), ngx_http_osint_fmt_set_cmp);
    }

    list = cJSON_CreateArray();
    if (list == NULL || !cJSON_AddItemToObject(f->data, key, list)) {
        cJSON_Delete(list);
        rc = ngx_http_osint_fmt_nomem(f);
        goto done;
    }

    for (i = 0; i < set->n; i++) {
        if (i && strcmp(set->elts[i], set->elts[i - 1]) == 0) {
            continue;
        }

        if (list->valueint >= NGX_HTTP_OSINT_FMT_LIST_MAX) {
            f->truncated = 1;
            break;
        }

        e = cJSON_CreateString(set->elts[i]);

        if (e == NULL || !cJSON_AddItemToArray(list, e)) {
            cJSON_Delete(e);
            rc = ngx_http_osint_fmt_nomem(f);
            goto done;
        }

        list->valueint++;
    }

done:

    ngx_http_osint_fmt_set_free(set);

    return rc;
}


void
ngx_http_osint_fmt_set_free(ngx_http_osint_fmt_set_t *set)
{
    size_t  i;

    if (set->own) {
        for (i = 0; i < set->n; i++) {
            free(set->elts[i]);
        }
    }

    free(set->elts);

    set->elts = NULL;
    set->n = 0;
    set->size = 0;
}


/*
 * A copy of an object's scalar members, at most OBJECT_MAX of them: the
 * provider's own object "as given" (VirusTotal stats and categories,
 * URLhaus blacklists) without letting nested junk into `data`.
 */

ngx_int_t
ngx_http_osint_fmt_flat_object(ngx_http_osint_fmt_t *f, const char *key,
    cJSON *from, const char *member)
{
    cJSON       *v, *e, *obj, *copy;
    ngx_int_t    rc;
    ngx_uint_t   n;

    rc = ngx_http_osint_fmt_take(f, from, member, cJSON_Object, &v);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : rc;
    }

    obj = cJSON_CreateObject();
    if (obj == NULL || !cJSON_AddItemToObject(f->data, key, obj)) {
        cJSON_Delete(obj);
        return ngx_http_osint_fmt_nomem(f);
    }

    n = 0;

    cJSON_ArrayForEach(e, v) {
        if (!(cJSON_IsString(e) || cJSON_IsNumber(e) || cJSON_IsBool(e))
            || e->string == NULL
            || cJSON_GetObjectItemCaseSensitive(obj, e->string))
        {
            continue;
        }

        if (n++ == NGX_HTTP_OSINT_FMT_OBJECT_MAX) {
            f->truncated = 1;
            break;
        }

        copy = cJSON_Duplicate(e, 0);

        if (copy == NULL || !cJSON_AddItemToObject(obj, e->string, copy)) {
            cJSON_Delete(copy);
            return ngx_http_osint_fmt_nomem(f);
        }
    }

    return NGX_OK;
}


/* a lower-cased copy (ASCII: host names), to free(); NULL: no memory */

char *
ngx_http_osint_fmt_lower(const char *s, size_t len)
{
    char    *p;
    size_t   i;

    p = malloc(len + 1);
    if (p == NULL) {
        return NULL;
    }

    for (i = 0; i < len; i++) {
        p[i] = (char) ngx_tolower((u_char) s[i]);
    }

    p[len] = '\0';

    return p;
}


/*
 * "AS15169" from 15169, "15169", "as15169" or "AS15169": every format
 * writes an AS number so, so that the summary merges them into one.
 * NGX_DECLINED when the item is no AS number.
 */

ngx_int_t
ngx_http_osint_fmt_asn(char *buf, size_t size, cJSON *item)
{
    if (cJSON_IsString(item)) {
        return ngx_http_osint_fmt_asn_text(buf, size, item->valuestring,
                                           strlen(item->valuestring));
    }

    if (!cJSON_IsNumber(item)
        || !(item->valuedouble >= 0 && item->valuedouble <= 4294967295.0)
        || item->valuedouble != (double) (uint64_t) item->valuedouble)
    {
        return NGX_DECLINED;
    }

    snprintf(buf, size, "AS%llu", (unsigned long long) item->valuedouble);

    return NGX_OK;
}


ngx_int_t
ngx_http_osint_fmt_asn_text(char *buf, size_t size, const char *s,
    size_t len)
{
    uint64_t     n;
    const char  *last;

    last = s + len;

    if (len > 2
        && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
    {
        s += 2;
    }

    if (s == last || last - s > 10) {
        return NGX_DECLINED;
    }

    for (n = 0; s < last; s++) {
        if (*s < '0' || *s > '9') {
            return NGX_DECLINED;
        }

        n = n * 10 + (*s - '0');
    }

    if (n > 4294967295ULL) {
        return NGX_DECLINED;
    }

    snprintf(buf, size, "AS%llu", (unsigned long long) n);

    return NGX_OK;
}


/*
 * An NDJSON answer (one JSON value a line, "\n" or "\r\n" between, blank
 * lines skipped) as one array of its values, for a format that reads a
 * stream (DNSDB).  A last line with no end of line that does not parse
 * was cut in transfer: it is left out, and the format, which sees its
 * stream end early, says so.  NULL when another line is not JSON, or out
 * of memory.
 */

cJSON *
ngx_http_osint_fmt_ndjson(const char *p, size_t len)
{
    cJSON       *list, *item;
    size_t       n;
    const char  *last, *eol;

    list = cJSON_CreateArray();
    if (list == NULL) {
        return NULL;
    }

    last = p + len;

    for ( /* void */ ; p < last; p = eol + 1) {
        eol = memchr(p, '\n', last - p);
        n = (eol ? eol : last) - p;

        if (n && p[n - 1] == '\r') {
            n--;
        }

        while (n && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }

        if (n) {
            item = cJSON_ParseWithLength(p, n);

            if (item == NULL) {
                if (eol == NULL) {
                    break;
                }

                cJSON_Delete(list);
                return NULL;
            }

            cJSON_AddItemToArray(list, item);
        }

        if (eol == NULL) {
            break;
        }
    }

    return list;
}
