
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * What a provider's answer goes through before it is parsed
 * (src/core/ngx_http_osint_answer.c): ngx_http_osint_utf8_repair() and
 * ngx_http_osint_answer_redact().
 *
 * Input: byte 0 is the length of the secret (mod 33), taken from the
 * bytes that follow; the rest is the answer.  Checked:
 *   - the repaired text is well-formed UTF-8 by an independent decoder
 *     (Unicode 15.0, table 3-7, by code point value, not by byte ranges);
 *   - a well-formed answer comes back as it is, the same buffer;
 *   - otherwise: the length grows by 2 for each byte replaced, and the
 *     text is the input with exactly those bytes replaced by U+FFFD (each
 *     well-formed sequence kept, in order);
 *   - repair is idempotent;
 *   - after redaction the secret occurs nowhere (even when it holds the
 *     fill character '*'), the length is the same, and the bytes that
 *     changed all became one printable fill character, which is no '"',
 *     '\', '%' nor hex digit; a second redaction finds nothing;
 *   - the answer followed by the secret in each form a provider may quote
 *     it in (percent-encoded as the module sends it, every byte as %XX or
 *     %xx, every byte as \u00xx, "/" as "\/" and '"', '\' escaped, "%"
 *     of the module's encoding as \u0025): after redaction that form
 *     occurs nowhere.
 */


#include "fuzz.h"


#define FUZZ_FORMS  6


static void fuzz_forms(ngx_pool_t *pool, ngx_str_t *text, ngx_str_t *secret);
static size_t fuzz_form(u_char *dst, ngx_str_t *secret, ngx_uint_t form);

/*
 * The code point of the well-formed sequence at p and its length in *n,
 * or -1: decoded by value, then checked against the shortest form, the
 * surrogates and U+10FFFF.
 */

static long
fuzz_utf8_decode(const u_char *p, const u_char *last, size_t *n)
{
    long    cp, min;
    size_t  len, i;

    if (p[0] < 0x80) {
        *n = 1;
        return p[0];
    }

    if ((p[0] & 0xe0) == 0xc0) {
        len = 2; cp = p[0] & 0x1f; min = 0x80;

    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3; cp = p[0] & 0x0f; min = 0x800;

    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4; cp = p[0] & 0x07; min = 0x10000;

    } else {
        return -1;
    }

    if ((size_t) (last - p) < len) {
        return -1;
    }

    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return -1;
        }

        cp = cp << 6 | (p[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return -1;
    }

    *n = len;

    return cp;
}


static ngx_uint_t
fuzz_utf8_valid(const u_char *p, size_t len)
{
    size_t        n;
    const u_char  *last;

    for (last = p + len; p < last; p += n) {
        if (fuzz_utf8_decode(p, last, &n) < 0) {
            return 0;
        }
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *copy, *p, *q, *last, fill;
    size_t       n, slen;
    ngx_str_t    in, out, again, secret, text;
    ngx_int_t    rc;
    ngx_uint_t   bad, bad2, redacted;
    ngx_pool_t  *pool;

    if (size < 1) {
        return 0;
    }

    slen = data[0] % 33;

    if (size - 1 < slen) {
        return 0;
    }

    pool = fuzz_pool();
    copy = fuzz_copy(data + 1, size - 1);

    secret.data = copy;
    secret.len = slen;
    in.data = copy + slen;
    in.len = size - 1 - slen;

    /* repair */

    rc = ngx_http_osint_utf8_repair(pool, &in, &out, &bad);
    fuzz_check(rc == NGX_OK, "repair: rc %ld", (long) rc);
    fuzz_check(fuzz_utf8_valid(out.data, out.len),
               "repaired text of %zu bytes is not UTF-8", out.len);

    if (fuzz_utf8_valid(in.data, in.len)) {
        fuzz_check(bad == 0 && out.data == in.data && out.len == in.len,
                   "a well-formed answer changed: %lu bad", bad);

    } else {
        fuzz_check(bad > 0 && out.len == in.len + 2 * bad,
                   "%zu bytes in, %zu out, %lu bad", in.len, out.len, bad);

        /* the input, each replaced byte as U+FFFD */

        q = out.data;
        last = in.data + in.len;

        for (p = in.data; p < last; p += n) {
            if (fuzz_utf8_decode(p, last, &n) < 0) {
                fuzz_check(ngx_memcmp(q, "\xef\xbf\xbd", 3) == 0,
                           "byte %zu: no U+FFFD", (size_t) (p - in.data));
                q += 3;
                n = 1;
                continue;
            }

            fuzz_check(ngx_memcmp(q, p, n) == 0,
                       "byte %zu: a well-formed sequence changed",
                       (size_t) (p - in.data));
            q += n;
        }

        fuzz_check(q == out.data + out.len, "repaired text of another length");
    }

    rc = ngx_http_osint_utf8_repair(pool, &out, &again, &bad2);
    fuzz_check(rc == NGX_OK && bad2 == 0 && again.data == out.data,
               "repair is not idempotent");

    /* in place, as the module calls it */

    rc = ngx_http_osint_utf8_repair(pool, &in, &in, &bad2);
    fuzz_check(rc == NGX_OK && bad2 == bad && in.len == out.len
               && ngx_memcmp(in.data, out.data, in.len) == 0,
               "repair in place differs");

    /* redact */

    text.len = out.len;
    text.data = ngx_pnalloc(pool, text.len + 1);
    fuzz_check(text.data != NULL, "no memory");
    ngx_memcpy(text.data, out.data, out.len);

    redacted = ngx_http_osint_answer_redact(&text, &secret);

    fuzz_check(text.len == out.len, "redaction changed the length");

    if (secret.len) {
        fuzz_check(memmem(text.data, text.len, secret.data, secret.len)
                   == NULL, "the secret is still there after %lu",
                   redacted);
    } else {
        fuzz_check(redacted == 0, "an empty secret redacted %lu", redacted);
    }

    fill = 0;

    for (n = 0; n < text.len; n++) {
        if (text.data[n] == out.data[n]) {
            continue;
        }

        if (fill == 0) {
            fill = text.data[n];
            fuzz_check(fill > ' ' && fill <= '~' && fill != '\\'
                       && fill != '"' && fill != '%' && !isxdigit(fill),
                       "fill character 0x%02x", fill);
        }

        fuzz_check(text.data[n] == fill, "byte %zu changed to 0x%02x, not "
                   "0x%02x", n, text.data[n], fill);
    }

    fuzz_check(redacted > 0 || ngx_memcmp(text.data, out.data, text.len) == 0,
               "nothing redacted, yet the text changed");

    fuzz_check(ngx_http_osint_answer_redact(&text, &secret) == 0,
               "a second redaction found more");

    fuzz_forms(pool, &out, &secret);

    free(copy);
    fuzz_pool_free(pool);

    return 0;
}


/* the answer, then the secret in each form: redacted, the form is gone */

static void
fuzz_forms(ngx_pool_t *pool, ngx_str_t *text, ngx_str_t *secret)
{
    u_char      *f;
    size_t       n;
    ngx_str_t    t;
    ngx_uint_t   form;

    if (secret->len == 0) {
        return;
    }

    for (form = 0; form < FUZZ_FORMS; form++) {
        n = fuzz_form(NULL, secret, form);

        f = ngx_pnalloc(pool, n);
        t.data = ngx_pnalloc(pool, text->len + n);
        fuzz_check(f != NULL && t.data != NULL, "no memory");

        (void) fuzz_form(f, secret, form);
        ngx_memcpy(ngx_cpymem(t.data, text->data, text->len), f, n);
        t.len = text->len + n;

        (void) ngx_http_osint_answer_redact(&t, secret);

        fuzz_check(memmem(t.data, t.len, f, n) == NULL,
                   "form %lu of the secret, \"%.*s\", is still there", form,
                   (int) n, f);
    }
}


/* one form of the secret, written by hand; with dst NULL its length */

static size_t
fuzz_form(u_char *dst, ngx_str_t *secret, ngx_uint_t form)
{
    u_char   c, buf[8], hex[3];
    size_t   i, n, len;

    n = 0;

    for (i = 0; i < secret->len; i++) {
        c = secret->data[i];

        switch (form) {

        case 0:     /* as the module sends it in a url */
            len = ngx_http_osint_escape_component(buf, &c, 1);
            break;

        case 1:
            len = ngx_sprintf(buf, "%%%02Xd", (ngx_uint_t) c) - buf;
            break;

        case 2:
            len = ngx_sprintf(buf, "%%%02xd", (ngx_uint_t) c) - buf;
            break;

        case 3:
            len = ngx_sprintf(buf, "\\u%04xd", (ngx_uint_t) c) - buf;
            break;

        case 4:     /* JSON with "\/" */
            if (c == '/' || c == '"' || c == '\\') {
                buf[0] = '\\';
                buf[1] = c;
                len = 2;

            } else {
                buf[0] = c;
                len = 1;
            }

            break;

        default:    /* the url form, its "%" as \u0025 */
            if (ngx_http_osint_escape_component(hex, &c, 1) == 3) {
                ngx_memcpy(buf, "\\u0025", 6);
                buf[6] = hex[1];
                buf[7] = hex[2];
                len = 8;

            } else {
                buf[0] = c;
                len = 1;
            }
        }

        if (dst) {
            ngx_memcpy(dst + n, buf, len);
        }

        n += len;
    }

    return n;
}
