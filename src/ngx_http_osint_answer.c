
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
 * of it is overwritten with '*' of the same length (another character if
 * the key holds '*'), which keeps the JSON as valid as it was.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint.h"


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
 * Every occurrence of the secret in the text, overwritten with '*', or
 * with another character when the secret holds '*': a fill character
 * the secret does not hold cannot make a new occurrence, so one pass
 * leaves none.
 */

ngx_uint_t
ngx_http_osint_answer_redact(ngx_str_t *text, ngx_str_t *secret)
{
    u_char      *p, *last, fill;
    ngx_uint_t   n;

    if (secret->len == 0) {
        return 0;
    }

    /* printable, and needs no escape inside a JSON string */

    for (fill = '*'; fill <= '~'; fill++) {
        if (fill != '"' && fill != '\\'
            && ngx_strlchr(secret->data, secret->data + secret->len, fill)
               == NULL)
        {
            break;
        }
    }

    if (fill > '~') {
        fill = '*';
    }

    n = 0;
    p = text->data;
    last = text->data + text->len;

    while ((size_t) (last - p) >= secret->len) {
        p = memmem(p, last - p, secret->data, secret->len);

        if (p == NULL) {
            break;
        }

        ngx_memset(p, fill, secret->len);
        p += secret->len;
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
