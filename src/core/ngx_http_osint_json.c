
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

/*
 * The deepest text ngx_http_osint_json_canonical() reads: deeper ones
 * (up to cJSON's 1000) take the long way
 */
#define NGX_HTTP_OSINT_JSON_DEPTH       256


static size_t ngx_http_osint_json_size(cJSON *item);
static u_char *ngx_http_osint_json_write(u_char *p, cJSON *item);
static u_char *ngx_http_osint_json_number(u_char *p, double d);
static size_t ngx_http_osint_json_utf8(const u_char *p, size_t *len,
    ngx_uint_t *escape);
static ngx_uint_t ngx_http_osint_json_line_end(const u_char *p, size_t n);
static const u_char *ngx_http_osint_json_check_string(const u_char *p,
    const u_char *end);
static const u_char *ngx_http_osint_json_check_number(const u_char *p,
    const u_char *end);


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

    /*
     * what rounds to 0 (and NaN) is "0" at once: a hit's four times are,
     * and the divisions below are not free
     */

    if (!(ms >= 0.05)) {
        *p++ = '0';
        return p;
    }

    /* a day is more than any lookup lasts: no overflow below */

    if (ms > 86400000.0) {
        ms = 86400000.0;
    }

    tenths = (int64_t) (ms * 10.0 + 0.5);

    p = ngx_http_osint_decimal(p, (uint64_t) (tenths / 10));

    if (tenths % 10) {
        *p++ = '.';
        *p++ = (u_char) ('0' + tenths % 10);
    }

    return p;
}


/*
 * The decimal digits of n, as "%uL" writes them, for the hot paths (a
 * document's numbers, headers, Redis commands): ngx_sprintf() spent more
 * on reading its format than on them (a tenth of an L1 hit's
 * instructions).
 */

u_char *
ngx_http_osint_decimal(u_char *p, uint64_t n)
{
    u_char   digits[NGX_INT64_LEN];
    u_char  *d;

    /* most of a hit's numbers: attempts, ages, latencies of 0 ms */

    if (n < 10) {
        *p++ = (u_char) ('0' + n);
        return p;
    }

    d = digits + sizeof(digits);

    do {
        *--d = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return ngx_cpymem(p, d, digits + sizeof(digits) - d);
}


/* n as "%08xD" writes it: the fingerprint in keys and cached values */

u_char *
ngx_http_osint_hex32(u_char *p, uint32_t n)
{
    ngx_int_t  shift;

    static u_char  hex[] = "0123456789abcdef";

    for (shift = 28; shift >= 0; shift -= 4) {
        *p++ = hex[(n >> shift) & 0xf];
    }

    return p;
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
    const u_char  *p, *run;

    size = 2;

    if (s == NULL) {
        return size;
    }

    p = (const u_char *) s;

    for ( ;; ) {

        /* what needs no escape is counted in runs: the NUL ends one */

        for (run = p; ngx_http_osint_json_escape[*p] == 1; p++) {
            /* void */
        }

        size += p - run;

        if (*p == '\0') {
            return size;
        }

        if (*p >= 0x80) {
            size += ngx_http_osint_json_utf8(p, &n, &escape);
            p += n;

        } else {
            size += ngx_http_osint_json_escape[*p++];
        }
    }
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
    *escape = ngx_http_osint_json_line_end(p, n);

    return *escape ? sizeof("\\uXXXX") - 1 : n;
}


/*
 * The code point of a well-formed sequence of n bytes when it ends a
 * line for JavaScript or a line reader (U+0085, U+2028, U+2029), else 0
 */

static ngx_uint_t
ngx_http_osint_json_line_end(const u_char *p, size_t n)
{
    if (n == 2 && p[0] == 0xc2 && p[1] == 0x85) {
        return 0x85;
    }

    if (n == 3 && p[0] == 0xe2 && p[1] == 0x80
        && (p[2] == 0xa8 || p[2] == 0xa9))
    {
        return 0x2000 + (p[2] - 0x80);
    }

    return 0;
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


/*
 * NGX_OK when "text" is one JSON value exactly as this printer writes
 * the tree cJSON parses from it, so it can be copied instead: no
 * whitespace, strings of well-formed UTF-8 with only the escapes above
 * (U+2028, U+2029, U+0085 escaped, "/" not), numbers as
 * ngx_http_osint_json_number() writes them, at most
 * NGX_HTTP_OSINT_JSON_DEPTH deep.  NGX_DECLINED for anything else, which
 * a reader parses and prints (fuzz_json holds the two to each other).
 * Linear, no allocation.
 */

ngx_int_t
ngx_http_osint_json_canonical(const u_char *text, size_t len)
{
    u_char         stack[NGX_HTTP_OSINT_JSON_DEPTH];
    ngx_uint_t     depth, key;
    const u_char  *p, *end;

    p = text;
    end = text + len;
    depth = 0;
    key = 0;

    for ( ;; ) {

        /* a member's name and ":" first */

        if (key) {
            if (p == end || *p != '"') {
                return NGX_DECLINED;
            }

            p = ngx_http_osint_json_check_string(p, end);

            if (p == NULL || p == end || *p++ != ':') {
                return NGX_DECLINED;
            }
        }

        /* a value */

        if (p == end) {
            return NGX_DECLINED;
        }

        switch (*p) {

        case '{':
        case '[':
            if (depth == NGX_HTTP_OSINT_JSON_DEPTH) {
                return NGX_DECLINED;
            }

            stack[depth] = (*p == '{') ? '}' : ']';
            p++;

            if (p < end && *p == stack[depth]) {
                p++;
                break;              /* empty */
            }

            key = (stack[depth++] == '}');
            continue;

        case '"':
            p = ngx_http_osint_json_check_string(p, end);
            break;

        case 't':
            p = (end - p >= 4 && ngx_strncmp(p, "true", 4) == 0) ? p + 4
                                                                 : NULL;
            break;

        case 'f':
            p = (end - p >= 5 && ngx_strncmp(p, "false", 5) == 0) ? p + 5
                                                                  : NULL;
            break;

        case 'n':
            p = (end - p >= 4 && ngx_strncmp(p, "null", 4) == 0) ? p + 4
                                                                 : NULL;
            break;

        default:
            p = ngx_http_osint_json_check_number(p, end);
            break;
        }

        if (p == NULL) {
            return NGX_DECLINED;
        }

        /* the value ended: a "," and the next one, or its containers end */

        while (depth) {
            if (p == end) {
                return NGX_DECLINED;
            }

            if (*p == ',') {
                p++;
                key = (stack[depth - 1] == '}');
                break;
            }

            if (*p++ != stack[depth - 1]) {
                return NGX_DECLINED;
            }

            depth--;
        }

        if (depth == 0) {
            return (p == end) ? NGX_OK : NGX_DECLINED;
        }
    }
}


/* a string as ngx_http_osint_json_string() writes it: after its end */

static const u_char *
ngx_http_osint_json_check_string(const u_char *p, const u_char *end)
{
    size_t      n;
    ngx_uint_t  c, i;

    for (p++; p < end; /* void */) {

        /* what is printed as it is, in a tight loop: most of a string */

        while (ngx_http_osint_json_escape[*p] == 1) {
            if (++p == end) {
                return NULL;
            }
        }

        if (*p == '"') {
            return p + 1;
        }

        if (*p >= 0x80) {
            n = ngx_http_osint_utf8_sequence((u_char *) p,
                                             (u_char *) ngx_min(p + 4, end));

            /* ill-formed: printed as U+FFFD; or one printed as \uXXXX */

            if (n == 0 || ngx_http_osint_json_line_end(p, n)) {
                return NULL;
            }

            p += n;
            continue;
        }

        if (*p != '\\') {
            return NULL;            /* a control, printed escaped */
        }

        if (end - p < 2) {
            return NULL;
        }

        switch (p[1]) {

        case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
            p += 2;
            continue;

        case 'u':
            break;

        default:
            return NULL;            /* "\/" is printed "/" */
        }

        if (end - p < 6) {
            return NULL;
        }

        c = 0;

        for (i = 2; i < 6; i++) {
            if (p[i] >= '0' && p[i] <= '9') {
                c = c * 16 + p[i] - '0';

            } else if (p[i] >= 'a' && p[i] <= 'f') {
                c = c * 16 + p[i] - 'a' + 10;

            } else {
                return NULL;
            }
        }

        /* the controls without a short escape, and the three line ends */

        if (!((c >= 0x01 && c < 0x20 && c != '\b' && c != '\f' && c != '\n'
               && c != '\r' && c != '\t')
              || c == 0x85 || c == 0x2028 || c == 0x2029))
        {
            return NULL;
        }

        p += 6;
    }

    return NULL;
}


/*
 * A number of JSON's grammar that ngx_http_osint_json_number() writes
 * the same way back: after its end
 */

static const u_char *
ngx_http_osint_json_check_number(const u_char *p, const u_char *end)
{
    u_char         text[NGX_HTTP_OSINT_JSON_NUMBER_MAX + 1];
    u_char         back[NGX_HTTP_OSINT_JSON_NUMBER_MAX];
    size_t         len, digits;
    ngx_uint_t     integer;
    const u_char  *start, *last;

    start = p;
    integer = 1;

    if (p < end && *p == '-') {
        p++;
    }

    if (p == end || *p < '0' || *p > '9') {
        return NULL;
    }

    if (*p++ != '0') {
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    digits = p - start - (*start == '-');

    if (p < end && *p == '.') {
        integer = 0;

        if (++p == end || *p < '0' || *p > '9') {
            return NULL;
        }

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = 0;

        if (++p < end && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == end || *p < '0' || *p > '9') {
            return NULL;
        }

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    /*
     * digits alone below 10^15, but "-0": the printer's integer path
     * writes them as they are, no need to read them back
     */

    if (integer && digits <= 15
        && !(*start == '-' && digits == 1 && start[1] == '0'))
    {
        return p;
    }

    len = p - start;

    if (len > NGX_HTTP_OSINT_JSON_NUMBER_MAX) {
        return NULL;                /* longer than any the printer writes */
    }

    ngx_memcpy(text, start, len);
    text[len] = '\0';

    last = ngx_http_osint_json_number(back, strtod((char *) text, NULL));

    if ((size_t) (last - back) != len || ngx_memcmp(back, start, len) != 0) {
        return NULL;
    }

    return p;
}
