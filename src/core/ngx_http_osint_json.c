
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The JSON text of a cJSON tree, into a pool: byte for byte what
 * cJSON_PrintUnformatted() of cJSON 1.7.15 writes (fuzz/fuzz_json.c holds
 * them to it), at a fraction of the cost where answers spend it.  cJSON
 * prints every number with sprintf("%1.15g") and reads it back with
 * sscanf() to check it, and grows its text with realloc() then hands
 * over a malloc() the caller copies; on an L1 hit that was a tenth of a
 * worker's CPU (perf during bench/cache_resilience).  Here the text is
 * measured, then written once into the pool, and whole numbers below
 * 10^15, which "%1.15g" prints as their digits, are printed as integers.
 *
 * Where it parts from cJSON, on purpose: strings come out as UTF-8
 * whatever they hold (a byte that begins no well-formed sequence, as a
 * reflected argument or a provider's text can, becomes U+FFFD, as
 * ngx_http_osint_utf8_repair() does), and U+2028, U+2029 and U+0085 are
 * escaped: JavaScript and some line readers end a line at them.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <float.h>
#include <math.h>

#include "ngx_http_osint_core.h"


/* "%1.17g" of a double: sign, 17 digits, ".", "e-308" */
#define NGX_HTTP_OSINT_JSON_NUMBER_MAX  32

/* the size of what cJSON would not print */
#define NGX_HTTP_OSINT_JSON_NONE        ((size_t) -1)


static size_t ngx_http_osint_json_size(cJSON *item);
static u_char *ngx_http_osint_json_write(u_char *p, cJSON *item);
static u_char *ngx_http_osint_json_number(u_char *p, double d);
static size_t ngx_http_osint_json_utf8(const u_char *p, size_t *len,
    ngx_uint_t *escape);


/*
 * text: the JSON text of item, with room for "extra" more bytes after
 * it (a newline, a NUL).  NGX_DECLINED for what cJSON would not print
 * (an invalid item, a raw item without text), NGX_ERROR without memory.
 */

ngx_int_t
ngx_http_osint_json_print(ngx_pool_t *pool, cJSON *item, size_t extra,
    ngx_str_t *text)
{
    u_char  *p;
    size_t   size;

    size = ngx_http_osint_json_size(item);

    if (size == NGX_HTTP_OSINT_JSON_NONE) {
        return NGX_DECLINED;
    }

    text->data = ngx_pnalloc(pool, size + extra);
    if (text->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_osint_json_write(text->data, item);
    text->len = p - text->data;

    return NGX_OK;
}


/* a buffer of item's JSON text and a newline, as documents are sent */

ngx_buf_t *
ngx_http_osint_json_buf(ngx_pool_t *pool, cJSON *item)
{
    ngx_str_t  text;

    if (ngx_http_osint_json_print(pool, item, 1, &text) != NGX_OK) {
        return NULL;
    }

    text.data[text.len++] = LF;

    return ngx_http_osint_text_buf(pool, &text);
}


/* a buffer of a text in the pool, as it is */

ngx_buf_t *
ngx_http_osint_text_buf(ngx_pool_t *pool, ngx_str_t *text)
{
    ngx_buf_t  *b;

    b = ngx_calloc_buf(pool);
    if (b == NULL) {
        return NULL;
    }

    b->start = text->data;
    b->pos = text->data;
    b->last = text->data + text->len;
    b->end = b->last;
    b->temporary = 1;

    return b;
}


/*
 * Milliseconds to 0.1 ms, what the clock can honestly tell across
 * event-loop turns, as JSON text of our own: "14.2", "3001".  cJSON
 * prints a fraction with sprintf("%1.15g") and reads it back with
 * sscanf() to check it; with two in every answer that was an eighth of
 * a worker's CPU on L1 hits (perf during bench/cache_resilience).  At
 * most NGX_INT64_LEN + 2 bytes.
 */

u_char *
ngx_http_osint_json_ms(u_char *p, double ms)
{
    int64_t  tenths;

    /* a day is more than any lookup lasts: no overflow below */

    if (!(ms > 0.0)) {
        ms = 0.0;

    } else if (ms > 86400000.0) {
        ms = 86400000.0;
    }

    tenths = (int64_t) (ms * 10.0 + 0.5);

    if (tenths % 10) {
        return ngx_sprintf(p, "%L.%L", tenths / 10, tenths % 10);
    }

    return ngx_sprintf(p, "%L", tenths / 10);
}


/*
 * At least the length of the text (numbers at their longest), or
 * NGX_HTTP_OSINT_JSON_NONE.
 */

static size_t
ngx_http_osint_json_size(cJSON *item)
{
    size_t  size, n;
    cJSON  *child;

    switch (item->type & 0xff) {

    case cJSON_False:
        return sizeof("false") - 1;

    case cJSON_True:
        return sizeof("true") - 1;

    case cJSON_NULL:
        return sizeof("null") - 1;

    case cJSON_Number:
        return NGX_HTTP_OSINT_JSON_NUMBER_MAX;

    case cJSON_String:
        return ngx_http_osint_json_string_size(item->valuestring);

    case cJSON_Raw:
        return item->valuestring ? ngx_strlen(item->valuestring)
                                 : NGX_HTTP_OSINT_JSON_NONE;

    case cJSON_Array:
    case cJSON_Object:
        size = 2;

        for (child = item->child; child; child = child->next) {
            n = ngx_http_osint_json_size(child);

            if (n == NGX_HTTP_OSINT_JSON_NONE) {
                return n;
            }

            size += n + 1;

            if ((item->type & 0xff) == cJSON_Object) {
                size += ngx_http_osint_json_string_size(child->string) + 1;
            }
        }

        return size;

    default:
        return NGX_HTTP_OSINT_JSON_NONE;
    }
}


/*
 * The bytes a string byte takes in JSON text, as cJSON escapes: 2 for
 * the short escapes, 6 for other controls (\u00xx), else 1; 0 beyond
 * ASCII, where ngx_http_osint_json_utf8() tells.
 */

static const u_char  ngx_http_osint_json_escape[256] = {
    6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 6, 2, 2, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,     /* '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1,     /* '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};


/* the length of a string's JSON text, its quotes included */

size_t
ngx_http_osint_json_string_size(const char *s)
{
    size_t         size, n;
    ngx_uint_t     escape;
    const u_char  *p;

    size = 2;

    if (s == NULL) {
        return size;
    }

    for (p = (const u_char *) s; *p; p += n) {
        n = 1;
        size += ngx_http_osint_json_escape[*p];

        if (*p >= 0x80) {
            size += ngx_http_osint_json_utf8(p, &n, &escape);
        }
    }

    return size;
}


/*
 * A string's bytes at p beyond ASCII: the bytes they take in JSON text;
 * *len: how many of them that is; *escape: the code point to write as
 * \uXXXX, or 0.  The string's NUL ends a sequence before it is read past.
 */

static size_t
ngx_http_osint_json_utf8(const u_char *p, size_t *len, ngx_uint_t *escape)
{
    size_t  n;

    n = ngx_http_osint_utf8_sequence((u_char *) p, (u_char *) p + 4);
    *escape = 0;

    if (n == 0) {
        *len = 1;
        return sizeof(NGX_HTTP_OSINT_UTF8_REPLACEMENT) - 1;
    }

    *len = n;

    if (n == 2 && p[0] == 0xc2 && p[1] == 0x85) {
        *escape = 0x85;

    } else if (n == 3 && p[0] == 0xe2 && p[1] == 0x80
               && (p[2] == 0xa8 || p[2] == 0xa9))
    {
        *escape = 0x2000 + (p[2] - 0x80);
    }

    return *escape ? sizeof("\\uXXXX") - 1 : n;
}


static u_char *
ngx_http_osint_json_write(u_char *p, cJSON *item)
{
    cJSON  *child;

    switch (item->type & 0xff) {

    case cJSON_False:
        return ngx_cpymem(p, "false", 5);

    case cJSON_True:
        return ngx_cpymem(p, "true", 4);

    case cJSON_NULL:
        return ngx_cpymem(p, "null", 4);

    case cJSON_Number:
        return ngx_http_osint_json_number(p, item->valuedouble);

    case cJSON_String:
        return ngx_http_osint_json_string(p, item->valuestring);

    case cJSON_Raw:
        return ngx_cpymem(p, item->valuestring, ngx_strlen(item->valuestring));

    case cJSON_Array:
        *p++ = '[';

        for (child = item->child; child; child = child->next) {
            p = ngx_http_osint_json_write(p, child);

            if (child->next) {
                *p++ = ',';
            }
        }

        *p++ = ']';
        return p;

    default: /* cJSON_Object: ngx_http_osint_json_size() let nothing else by */
        *p++ = '{';

        for (child = item->child; child; child = child->next) {
            p = ngx_http_osint_json_string(p, child->string);
            *p++ = ':';
            p = ngx_http_osint_json_write(p, child);

            if (child->next) {
                *p++ = ',';
            }
        }

        *p++ = '}';
        return p;
    }
}


/*
 * As cJSON escapes: the short escapes, other controls as \u00xx; beyond
 * ASCII as ngx_http_osint_json_utf8() says.
 */

u_char *
ngx_http_osint_json_string(u_char *p, const char *s)
{
    u_char         c;
    size_t         n;
    ngx_uint_t     escape;
    const u_char  *q, *run;

    static u_char  hex[] = "0123456789abcdef";

    *p++ = '"';
    q = (const u_char *) (s ? s : "");

    for ( ;; ) {

        /* what needs no escape goes in runs */

        for (run = q; *q && ngx_http_osint_json_escape[*q] == 1; q++) {
            /* void */
        }

        p = ngx_cpymem(p, run, q - run);

        if (*q >= 0x80) {
            (void) ngx_http_osint_json_utf8(q, &n, &escape);

            if (escape) {
                *p++ = '\\';
                *p++ = 'u';
                *p++ = hex[escape >> 12];
                *p++ = hex[(escape >> 8) & 0xf];
                *p++ = hex[(escape >> 4) & 0xf];
                *p++ = hex[escape & 0xf];

            } else if (n == 1) {
                p = ngx_cpymem(p, NGX_HTTP_OSINT_UTF8_REPLACEMENT,
                               sizeof(NGX_HTTP_OSINT_UTF8_REPLACEMENT) - 1);

            } else {
                p = ngx_cpymem(p, q, n);
            }

            q += n;
            continue;
        }

        c = *q++;

        switch (c) {

        case '\0':
            *p++ = '"';
            return p;

        case '"':  *p++ = '\\'; *p++ = '"';  break;
        case '\\': *p++ = '\\'; *p++ = '\\'; break;
        case '\b': *p++ = '\\'; *p++ = 'b';  break;
        case '\f': *p++ = '\\'; *p++ = 'f';  break;
        case '\n': *p++ = '\\'; *p++ = 'n';  break;
        case '\r': *p++ = '\\'; *p++ = 'r';  break;
        case '\t': *p++ = '\\'; *p++ = 't';  break;

        default:
            p = ngx_cpymem(p, "\\u00", 4);
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
        }
    }
}


/*
 * As cJSON: NaN and infinities are null; "%1.15g" when it reads back to
 * the same double (cJSON's test: within DBL_EPSILON relative), else
 * "%1.17g".  A whole number below 10^15 prints as its digits either way,
 * so it takes the integer path; -0 is not one of them ("%g" keeps its
 * sign).
 */

static u_char *
ngx_http_osint_json_number(u_char *p, double d)
{
    int     n;
    char    buf[NGX_HTTP_OSINT_JSON_NUMBER_MAX];
    double  test, max;

    if (isnan(d) || isinf(d)) {
        return ngx_cpymem(p, "null", 4);
    }

    if (d > -1e15 && d < 1e15 && d == (double) (int64_t) d
        && !(d == 0.0 && signbit(d)))
    {
        return ngx_sprintf(p, "%L", (int64_t) d);
    }

    n = snprintf(buf, sizeof(buf), "%1.15g", d);

    test = strtod(buf, NULL);
    max = ngx_max(fabs(test), fabs(d));

    if (!(fabs(test - d) <= max * DBL_EPSILON)) {
        n = snprintf(buf, sizeof(buf), "%1.17g", d);
    }

    return ngx_cpymem(p, buf, n);
}
