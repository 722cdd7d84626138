
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * What a provider's answer must be before it is parsed: well-formed UTF-8,
 * and free of the provider's own API key.
 *
 * Provider answers are JSON, which is UTF-8 (RFC 8259, 8.1), and so is
 * every document we answer.  cJSON copies string bytes as they come: an
 * answer with ill-formed UTF-8 (a Latin-1 WHOIS name, a truncated
 * sequence, an encoded surrogate) would make our document ill-formed too,
 * and strict clients would reject all of it for one provider's byte.
 * So an ill-formed answer is repaired before it is parsed: each byte that
 * does not begin a well-formed sequence becomes U+FFFD, as decoders that
 * replace rather than fail do (Unicode 15.0, 3.9, "U+FFFD Substitution").
 *
 * Some providers quote the request, key included, in their answers (an
 * error that says which key is invalid, an echo of the URL): the key
 * would reach our documents, the caches and Redis.  So every occurrence
 * of it, raw, percent-encoded or JSON-escaped, is overwritten with '*'
 * of the same length (another character if the key holds '*').
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


/* steps of redaction per byte of the secret, at each position */
#define NGX_HTTP_OSINT_REDACT_STEPS  8


typedef struct {
    ngx_int_t   value;
    size_t      len;
} ngx_http_osint_redact_unit_t;


static u_char ngx_http_osint_redact_fill(ngx_str_t *secret);
static u_char *ngx_http_osint_redact_match(u_char *p, u_char *last,
    u_char *k, u_char *klast, ngx_uint_t *budget);
static ngx_uint_t ngx_http_osint_redact_units(u_char *p, u_char *last,
    ngx_http_osint_redact_unit_t *u);
static ngx_int_t ngx_http_osint_redact_json(u_char **p, u_char *last);
static ngx_int_t ngx_http_osint_redact_hex(ngx_int_t c);


/*
 * The length of the well-formed sequence at p, or 0: Unicode 15.0,
 * table 3-7, which rules out overlong forms, surrogates (U+D800..DFFF)
 * and code points above U+10FFFF by the range of the second byte.
 */

size_t
ngx_http_osint_utf8_sequence(u_char *p, u_char *last)
{
    u_char  c, lo, hi;
    size_t  n, i;

    c = p[0];

    if (c < 0x80) {
        return 1;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = (c == 0xe0) ? 0xa0 : 0x80;     /* overlong */
        hi = (c == 0xed) ? 0x9f : 0xbf;     /* surrogates */

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = (c == 0xf0) ? 0x90 : 0x80;     /* overlong */
        hi = (c == 0xf4) ? 0x8f : 0xbf;     /* above U+10FFFF */

    } else {
        return 0;       /* a continuation byte, C0, C1, F5..FF */
    }

    if ((size_t) (last - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


/*
 * *out: in itself when it is well-formed (the common case costs one
 * scan), else a copy from the pool with U+FFFD for each byte that begins
 * no well-formed sequence; *bad: how many such bytes.  out may be in.
 */

ngx_int_t
ngx_http_osint_utf8_repair(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *out,
    ngx_uint_t *bad)
{
    u_char      *p, *start, *last, *first, *dst;
    size_t       n;
    ngx_uint_t   nbad;

    start = in->data;
    last = in->data + in->len;

    *out = *in;
    *bad = 0;

    p = start;

    for ( ;; ) {

        /* most answers are ASCII */

        while (p < last && *p < 0x80) {
            p++;
        }

        if (p == last) {
            return NGX_OK;
        }

        n = ngx_http_osint_utf8_sequence(p, last);

        if (n == 0) {
            break;
        }

        p += n;
    }

    /* count first: the copy grows by 2 bytes for each replaced one */

    first = p;
    nbad = 0;

    while (p < last) {
        n = ngx_http_osint_utf8_sequence(p, last);

        if (n == 0) {
            nbad++;
            n = 1;
        }

        p += n;
    }

    dst = ngx_pnalloc(pool, (last - start) + 2 * nbad);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    out->data = dst;
    dst = ngx_cpymem(dst, start, first - start);

    for (p = first; p < last; p += n) {
        n = ngx_http_osint_utf8_sequence(p, last);

        if (n == 0) {
            dst = ngx_cpymem(dst, NGX_HTTP_OSINT_UTF8_REPLACEMENT, 3);
            n = 1;
            continue;
        }

        dst = ngx_cpymem(dst, p, n);
    }

    out->len = dst - out->data;
    *bad = nbad;

    return NGX_OK;
}


/*
 * Every occurrence of the secret in the text, in any form it can take
 * there, overwritten with a fill character: the key goes out raw in
 * headers and percent-encoded in urls and bodies, and a provider quoting
 * it may re-encode it (lower-case hex, only some bytes) and JSON-escape
 * the result ("\/", "\u002F", "\u0025" for "%").  So each byte of the
 * secret matches as itself, as a JSON escape of itself, or as "%XX" of
 * itself whose three characters may each be JSON-escaped (a backslash
 * always begins an escape, as in JSON text).  The span
 * matched is filled whole, which keeps the length, and the JSON valid
 * where the span was whole escapes.
 *
 * The fill is no byte of the secret and can begin no escape nor be a hex
 * digit, so no match can include it and one pass leaves none.  Where a
 * "%" of the secret gives two readings ("%", "%25") both are tried, in a
 * budget of steps per position (nothing a real key reaches), so the work
 * stays linear in the answer.
 */

ngx_uint_t
ngx_http_osint_answer_redact(ngx_str_t *text, ngx_str_t *secret)
{
    u_char      *p, *last, *end, *k, *klast, fill;
    ngx_uint_t   n, budget;

    if (secret->len == 0) {
        return 0;
    }

    fill = ngx_http_osint_redact_fill(secret);

    k = secret->data;
    klast = secret->data + secret->len;
    last = text->data + text->len;

    /* the raw bytes first, wherever they are, escapes or not */

    n = 0;
    p = text->data;

    while ((size_t) (last - p) >= secret->len) {
        p = memmem(p, last - p, secret->data, secret->len);

        if (p == NULL) {
            break;
        }

        ngx_memset(p, fill, secret->len);
        p += secret->len;
        n++;
    }

    for (p = text->data; p < last; p++) {

        if (*p != *k && *p != '%' && *p != '\\') {
            continue;
        }

        budget = NGX_HTTP_OSINT_REDACT_STEPS * secret->len;

        end = ngx_http_osint_redact_match(p, last, k, klast, &budget);

        if (end == NULL) {
            continue;
        }

        ngx_memset(p, fill, end - p);
        p = end - 1;
        n++;
    }

    return n;
}


/*
 * Text from a provider, a client or Redis for a log line: written into
 * dst[0..size) with each byte that a terminal or a log reader would take
 * for more than a character as \xHH: controls (CR and LF forge lines, ESC
 * starts terminal sequences), DEL, '"' and '\' (which quote and escape
 * in nginx's own lines), the C1 controls U+0080..U+009F, and bytes that
 * begin no well-formed UTF-8 sequence.  What does not fit ends in "...".
 * size must be at least 8.  Returns the end of what was written.
 */

u_char *
ngx_http_osint_log_escape(u_char *dst, size_t size, u_char *src, size_t len)
{
    u_char  *p, *last, *end, c;
    size_t   n, need;

    static u_char  hex[] = "0123456789abcdef";

    p = dst;
    end = dst + size - 3;       /* room for "..." */
    last = src + len;

    while (src < last) {
        c = *src;
        n = ngx_http_osint_utf8_sequence(src, last);

        if (n == 2 && c == 0xc2 && src[1] < 0xa0) {
            n = 0;      /* a C1 control: its lead escaped, then itself */
        }

        if (n == 0 || c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            need = 4;

        } else {
            need = n;
        }

        if ((size_t) (end - p) < need) {
            return ngx_cpymem(p, "...", 3);
        }

        if (need == 4) {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
            src++;
            continue;
        }

        p = ngx_cpymem(p, src, n);
        src += n;
    }

    return p;
}


static u_char
ngx_http_osint_redact_fill(ngx_str_t *secret)
{
    u_char  *fill;

    /* printable; no '"', '\', '%', '/', hex digit, nor letter of an escape */

    static u_char  fills[] = "*#!~^|_-.:;,?@$&'()+=<>[]{}`"
                             "ghijklmopqsvwxyzGHIJKLMNOPQRSTUVWXYZ";

    for (fill = fills; *fill; fill++) {
        if (ngx_strlchr(secret->data, secret->data + secret->len, *fill)
            == NULL)
        {
            return *fill;
        }
    }

    return '*';
}


/*
 * The end of a match of the secret [k, klast) at p, or NULL.  Where more
 * than one reading of p gives the byte wanted, all but the last are tried
 * first by recursion; every reading costs a step of the budget.
 */

static u_char *
ngx_http_osint_redact_match(u_char *p, u_char *last, u_char *k,
    u_char *klast, ngx_uint_t *budget)
{
    u_char                     *end;
    ngx_uint_t                  i, n, next;
    ngx_http_osint_redact_unit_t  u[2];

    while (k < klast) {

        if (p == last || *budget == 0) {
            return NULL;
        }

        (*budget)--;

        n = ngx_http_osint_redact_units(p, last, u);
        next = n;

        for (i = 0; i < n; i++) {
            if (u[i].value != *k) {
                continue;
            }

            if (next < n) {
                end = ngx_http_osint_redact_match(p + u[next].len, last,
                                                  k + 1, klast, budget);
                if (end) {
                    return end;
                }
            }

            next = i;
        }

        if (next == n) {
            return NULL;
        }

        p += u[next].len;
        k++;
    }

    return p;
}


/* the readings of the text at p as one byte: raw or escaped, "%XX" */

static ngx_uint_t
ngx_http_osint_redact_units(u_char *p, u_char *last,
    ngx_http_osint_redact_unit_t *u)
{
    u_char      *q;
    ngx_int_t    hi, lo;
    ngx_uint_t   n;

    /*
     * In JSON text a backslash begins an escape: read so, it is one way
     * to read, not two (a run of them would be read 2^n ways otherwise).
     */

    q = p;
    u[0].value = ngx_http_osint_redact_json(&q, last);
    u[0].len = q - p;
    n = 1;

    q = p;

    if (ngx_http_osint_redact_json(&q, last) == '%') {
        hi = ngx_http_osint_redact_hex(ngx_http_osint_redact_json(&q, last));
        lo = ngx_http_osint_redact_hex(ngx_http_osint_redact_json(&q, last));

        if (hi >= 0 && lo >= 0) {
            u[n].value = hi << 4 | lo;
            u[n++].len = q - p;
        }
    }

    return n;
}


/*
 * One character of JSON text at *p: a string escape decoded ("\u" to
 * its UTF-16 unit), anything else as it is; -1 at the end.
 */

static ngx_int_t
ngx_http_osint_redact_json(u_char **p, u_char *last)
{
    u_char     *q;
    ngx_int_t   c, h;
    ngx_uint_t  i;

    q = *p;

    if (q == last) {
        return -1;
    }

    if (*q != '\\' || last - q < 2) {
        (*p)++;
        return *q;
    }

    switch (q[1]) {

    case '"':
    case '\\':
    case '/':
        *p += 2;
        return q[1];

    case 'b':
        *p += 2;
        return '\b';

    case 'f':
        *p += 2;
        return '\f';

    case 'n':
        *p += 2;
        return '\n';

    case 'r':
        *p += 2;
        return '\r';

    case 't':
        *p += 2;
        return '\t';

    case 'u':
        if (last - q < 6) {
            break;
        }

        for (c = 0, i = 2; i < 6; i++) {
            h = ngx_http_osint_redact_hex(q[i]);

            if (h < 0) {
                break;
            }

            c = c << 4 | h;
        }

        if (i == 6) {
            *p += 6;
            return c;
        }

        break;
    }

    (*p)++;
    return '\\';
}


static ngx_int_t
ngx_http_osint_redact_hex(ngx_int_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}
