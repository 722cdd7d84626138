
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Target parsing, type detection and percent-encoding
 * (src/core/ngx_http_osint_target.c).
 *
 * Input: byte 0 chooses the `want` mask (0: "any"),
 * the rest is the target as a client sends it.  Checked:
 *   - a parsed target has one type, one of those wanted, and a canonical
 *     form without blanks or control characters, which parses again to
 *     itself with the same type, with the same mask and with its own type
 *     alone; "any" accepts whatever a narrower mask accepts
 *     but a username, which is no type detection tries;
 *   - a phone number is "+" and 8..15 digits; the domain of a target
 *     ($osint_target_domain) is a part of its canonical form, not empty
 *     for a domain, an e-mail address or a url;
 *   - a url's canonical form is ASCII and has no dot segment ("." or
 *     "..", %2e read as ".") after its authority;
 *   - ngx_http_osint_escape_component() measures what it writes, writes
 *     only unreserved characters and %XX (upper-case hex) of bytes that
 *     are not unreserved, and decodes back to its input;
 *   - ngx_http_osint_type_parse() and ngx_http_osint_type_name() agree.
 */


#include "fuzz.h"


static void fuzz_parse(ngx_pool_t *pool, ngx_str_t *input, ngx_uint_t want);
static void fuzz_escape(ngx_str_t *input);
static void fuzz_type_name(ngx_str_t *input);
static void fuzz_url(ngx_str_t *url);
static ngx_uint_t fuzz_dots(u_char *p, u_char *last);
static ngx_uint_t fuzz_unreserved(u_char c);
static ngx_uint_t fuzz_hex(u_char c);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_str_t    input;
    ngx_uint_t   want;
    ngx_pool_t  *pool;

    if (size == 0) {
        return 0;
    }

    want = data[0] ? data[0] : NGX_HTTP_OSINT_ANY;

    input.data = (u_char *) data + 1;
    input.len = size - 1;

    pool = fuzz_pool();

    fuzz_parse(pool, &input, want);
    fuzz_escape(&input);
    fuzz_type_name(&input);

    fuzz_pool_free(pool);

    return 0;
}


static void
fuzz_parse(ngx_pool_t *pool, ngx_str_t *input, ngx_uint_t want)
{
    size_t       i;
    ngx_int_t    rc;
    ngx_str_t    canonical, again, domain;
    ngx_uint_t   type, type2;
    const char  *reason;

    reason = NULL;
    type = 0;

    rc = ngx_http_osint_target_parse(pool, input, want, &canonical, &type,
                                     &reason);

    fuzz_check(rc == NGX_OK || rc == NGX_DECLINED, "rc %ld", (long) rc);

    if (rc == NGX_DECLINED) {
        fuzz_check(reason != NULL && reason[0] != '\0', "no reason");
        return;
    }

    fuzz_check(type != 0 && (type & (type - 1)) == 0 && (type & want),
               "type 0x%lx, want 0x%lx", (unsigned long) type,
               (unsigned long) want);

    fuzz_check(canonical.len > 0
               && canonical.len <= NGX_HTTP_OSINT_TARGET_MAX
               && (type == NGX_HTTP_OSINT_URL
                   || canonical.len <= ngx_max(input->len,
                                               NGX_INET6_ADDRSTRLEN)),
               "canonical length %zu of input length %zu", canonical.len,
               input->len);

    for (i = 0; i < canonical.len; i++) {
        fuzz_check(canonical.data[i] > 0x20 && canonical.data[i] != 0x7f,
                   "control byte 0x%02x in canonical \"%.*s\"",
                   canonical.data[i], (int) canonical.len, canonical.data);
    }

    /* the canonical form is a fixed point */

    rc = ngx_http_osint_target_parse(pool, &canonical, want, &again, &type2,
                                     &reason);

    fuzz_check(rc == NGX_OK && type2 == type && again.len == canonical.len
               && ngx_memcmp(again.data, canonical.data, again.len) == 0,
               "canonical \"%.*s\" (%s) parses to \"%.*s\" (%s), rc %ld",
               (int) canonical.len, canonical.data,
               ngx_http_osint_type_name(type),
               rc == NGX_OK ? (int) again.len : 0,
               rc == NGX_OK ? again.data : (u_char *) "",
               ngx_http_osint_type_name(type2), (long) rc);

    rc = ngx_http_osint_target_parse(pool, &canonical, type, &again, &type2,
                                     &reason);

    fuzz_check(rc == NGX_OK && type2 == type && again.len == canonical.len
               && ngx_memcmp(again.data, canonical.data, again.len) == 0,
               "canonical \"%.*s\" is not a %s alone, rc %ld",
               (int) canonical.len, canonical.data,
               ngx_http_osint_type_name(type), (long) rc);

    /* detection accepts whatever a narrower mask accepts */

    if (want != NGX_HTTP_OSINT_ANY && type != NGX_HTTP_OSINT_USERNAME) {
        rc = ngx_http_osint_target_parse(pool, input, NGX_HTTP_OSINT_ANY,
                                         &again, &type2, &reason);

        fuzz_check(rc == NGX_OK, "a %s is refused by detection: %s",
                   ngx_http_osint_type_name(type), reason);
    }

    ngx_http_osint_target_domain(&canonical, type, &domain);

    fuzz_check(domain.data >= canonical.data
               && domain.data + domain.len <= canonical.data + canonical.len
               && (domain.len > 0
                   || !(type & (NGX_HTTP_OSINT_DOMAIN|NGX_HTTP_OSINT_EMAIL
                                |NGX_HTTP_OSINT_URL))),
               "domain of %s \"%.*s\"", ngx_http_osint_type_name(type),
               (int) canonical.len, canonical.data);

    /* what each type promises of its canonical form */

    switch (type) {

    case NGX_HTTP_OSINT_HASH:
        fuzz_check(canonical.len == 32 || canonical.len == 40
                   || canonical.len == 64, "hash of length %zu",
                   canonical.len);

        for (i = 0; i < canonical.len; i++) {
            fuzz_check(isdigit(canonical.data[i])
                       || (canonical.data[i] >= 'a'
                           && canonical.data[i] <= 'f'),
                       "hash byte '%c'", canonical.data[i]);
        }

        break;

    case NGX_HTTP_OSINT_DOMAIN:
    case NGX_HTTP_OSINT_EMAIL:
        fuzz_check(canonical.len <= 253 + 65
                   && canonical.data[canonical.len - 1] != '.',
                   "name \"%.*s\"", (int) canonical.len, canonical.data);

        for (i = 0; i < canonical.len; i++) {
            fuzz_check(!(canonical.data[i] >= 'A' && canonical.data[i] <= 'Z')
                       && canonical.data[i] < 0x80,
                       "name byte 0x%02x", canonical.data[i]);
        }

        fuzz_check((type == NGX_HTTP_OSINT_EMAIL)
                   == (memchr(canonical.data, '@', canonical.len) != NULL),
                   "'@' in \"%.*s\"", (int) canonical.len, canonical.data);
        break;

    case NGX_HTTP_OSINT_PHONE:
        fuzz_check(canonical.len >= 9 && canonical.len <= 16
                   && canonical.data[0] == '+',
                   "phone \"%.*s\"", (int) canonical.len, canonical.data);

        for (i = 1; i < canonical.len; i++) {
            fuzz_check(isdigit(canonical.data[i]), "phone byte '%c'",
                       canonical.data[i]);
        }

        break;

    case NGX_HTTP_OSINT_URL:
        fuzz_check((canonical.len > 7
                    && ngx_strncmp(canonical.data, "http://", 7) == 0)
                   || (canonical.len > 8
                       && ngx_strncmp(canonical.data, "https://", 8) == 0)
                   || (canonical.len > 6
                       && ngx_strncmp(canonical.data, "ftp://", 6) == 0),
                   "url \"%.*s\"", (int) canonical.len, canonical.data);
        fuzz_url(&canonical);
        break;

    default:
        break;
    }
}


static void
fuzz_escape(ngx_str_t *input)
{
    u_char  *buf, c;
    size_t   n, written, i, j;

    n = ngx_http_osint_escape_component(NULL, input->data, input->len);

    fuzz_check(n >= input->len && n <= 3 * input->len,
               "escaped length %zu of %zu bytes", n, input->len);

    /* exactly n bytes: ASan sees a byte written past them */

    buf = malloc(n ? n : 1);
    if (buf == NULL) {
        abort();
    }

    written = ngx_http_osint_escape_component(buf, input->data, input->len);

    fuzz_check(written == n, "measured %zu, wrote %zu", n, written);

    for (i = 0, j = 0; i < n; j++) {

        fuzz_check(j < input->len, "more output than input");

        if (buf[i] == '%') {
            fuzz_check(i + 2 < n, "truncated escape at %zu", i);
            fuzz_check(fuzz_hex(buf[i + 1]) < 16 && fuzz_hex(buf[i + 2]) < 16
                       && !(buf[i + 1] >= 'a' && buf[i + 1] <= 'f')
                       && !(buf[i + 2] >= 'a' && buf[i + 2] <= 'f'),
                       "escape \"%.3s\"", &buf[i]);

            c = (u_char) (fuzz_hex(buf[i + 1]) << 4 | fuzz_hex(buf[i + 2]));

            fuzz_check(!fuzz_unreserved(c), "unreserved 0x%02x escaped", c);
            i += 3;

        } else {
            fuzz_check(fuzz_unreserved(buf[i]), "byte 0x%02x not escaped",
                       buf[i]);
            c = buf[i];
            i++;
        }

        fuzz_check(c == input->data[j], "decodes to 0x%02x, not 0x%02x", c,
                   input->data[j]);
    }

    fuzz_check(j == input->len, "decodes to %zu of %zu bytes", j, input->len);

    free(buf);
}


static void
fuzz_type_name(ngx_str_t *input)
{
    ngx_uint_t   type;
    const char  *name;

    if (ngx_http_osint_type_parse(input, &type) != NGX_OK) {
        return;
    }

    name = ngx_http_osint_type_name(type);

    fuzz_check(ngx_strlen(name) == input->len
               && ngx_strncasecmp((u_char *) name, input->data, input->len)
                  == 0, "type \"%.*s\" is named \"%s\"", (int) input->len,
               input->data, name);
}


/*
 * A canonical url is ASCII, and no "/"-delimited segment after its
 * authority is "." or ".." (%2e read as "."): a provider's front end that
 * decodes the target into its path cannot move up from it.
 */

static void
fuzz_url(ngx_str_t *url)
{
    u_char  *p, *last, *seg;
    size_t   i;

    for (i = 0; i < url->len; i++) {
        fuzz_check(url->data[i] < 0x80, "byte 0x%02x in url \"%.*s\"",
                   url->data[i], (int) url->len, url->data);
    }

    last = url->data + url->len;
    p = ngx_strlchr(url->data, last, ':') + 3;      /* after "://" */

    for ( ;; ) {
        p = ngx_strlchr(p, last, '/');

        if (p == NULL) {
            break;
        }

        seg = ++p;

        while (p < last && *p != '/') {
            p++;
        }

        fuzz_check(!fuzz_dots(seg, p), "dot segment in url \"%.*s\"",
                   (int) url->len, url->data);
    }
}


static ngx_uint_t
fuzz_dots(u_char *p, u_char *last)
{
    ngx_uint_t  n;

    for (n = 0; p < last; n++) {
        if (*p == '.') {
            p++;

        } else if (last - p >= 3 && ngx_strncasecmp(p, (u_char *) "%2e", 3)
                                    == 0)
        {
            p += 3;

        } else {
            return 0;
        }
    }

    return n == 1 || n == 2;
}


static ngx_uint_t
fuzz_unreserved(u_char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~';
}


static ngx_uint_t
fuzz_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return 16;
}
