
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * url, header and body templates (src/core/ngx_http_osint_template.c).
 *
 * Input: byte 0 chooses the target type (bits 0..6) and a header
 * template (bit 7), then template RS target RS api key (RS is 0x1e).
 * Checked:
 *   - a template with CR, LF or NUL does not compile; an error is a
 *     message; compiled literals lie inside the source and hold no '$';
 *   - the expansion is exactly literal text, the target and api key
 *     percent-encoded (only unreserved characters and %XX: no CR, LF,
 *     '/', '?', '#', '@', ':' from the target; in a header the key as
 *     it is, and no expansion of a key with CR, LF or NUL), the type name
 *     and the unpadded base64url of the target, in template order; *len
 *     is the length of that string, which is NUL-terminated.
 */


#include "fuzz.h"


static size_t fuzz_expect(u_char *dst, ngx_http_osint_tpl_t *tpl,
    ngx_str_t *target, ngx_uint_t type, ngx_str_t *key);
static size_t fuzz_escape(u_char *dst, ngx_str_t *s);
static size_t fuzz_b64url(u_char *dst, ngx_str_t *s);


static ngx_uint_t  fuzz_types[] = {
    NGX_HTTP_OSINT_IPV4, NGX_HTTP_OSINT_IPV6, NGX_HTTP_OSINT_DOMAIN,
    NGX_HTTP_OSINT_EMAIL, NGX_HTTP_OSINT_URL, NGX_HTTP_OSINT_HASH
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                       *rv;
    u_char                     *out, *expect;
    size_t                      len, n, i;
    ngx_str_t                   src, target, key;
    ngx_uint_t                  type;
    ngx_conf_t                  cf;
    ngx_pool_t                 *pool;
    const u_char               *p;
    ngx_http_osint_tpl_t        tpl;
    ngx_http_osint_tpl_part_t  *part;
    ngx_http_osint_tpl_part_e   t;

    if (size == 0) {
        return 0;
    }

    type = fuzz_types[(data[0] & 0x7f)
                      % (sizeof(fuzz_types) / sizeof(ngx_uint_t))];

    p = data + 1;
    ngx_str_null(&src);
    ngx_str_null(&target);
    ngx_str_null(&key);

    (void) fuzz_next(&p, data + size, FUZZ_SEP, &src);
    (void) fuzz_next(&p, data + size, FUZZ_SEP, &target);
    (void) fuzz_next(&p, data + size, FUZZ_SEP, &key);

    pool = fuzz_pool();
    fuzz_conf(&cf, pool);

    /* bit 7: a header template, which takes the key as it is */

    tpl.raw_key = (data[0] & 0x80) ? 1 : 0;

    rv = ngx_http_osint_tpl_compile(&cf, &src, &tpl);

    fuzz_check(rv != NGX_CONF_ERROR, "compile ran out of memory");

    if (rv != NGX_CONF_OK) {
        fuzz_check(rv[0] != '\0', "empty error message");
        goto done;
    }

    fuzz_check(memchr(src.data, CR, src.len) == NULL
               && memchr(src.data, LF, src.len) == NULL
               && memchr(src.data, '\0', src.len) == NULL,
               "a template with CR, LF or NUL compiled");

    part = tpl.parts.elts;

    for (i = 0; i < tpl.parts.nelts; i++) {
        if (part[i].type != NGX_HTTP_OSINT_TPL_LITERAL) {
            continue;
        }

        fuzz_check(part[i].text.len > 0
                   && part[i].text.data >= src.data
                   && part[i].text.data + part[i].text.len
                      <= src.data + src.len
                   && memchr(part[i].text.data, '$', part[i].text.len)
                      == NULL,
                   "literal part %zu \"%.*s\"", i, (int) part[i].text.len,
                   part[i].text.data);
    }

    for (t = NGX_HTTP_OSINT_TPL_LITERAL;
         t <= NGX_HTTP_OSINT_TPL_TARGET_DOMAIN;
         t++)
    {
        for (i = 0; i < tpl.parts.nelts; i++) {
            if (part[i].type == t) {
                break;
            }
        }

        fuzz_check(ngx_http_osint_tpl_has(&tpl, t)
                   == (i < tpl.parts.nelts), "tpl_has(%d)", (int) t);
    }

    len = (size_t) -1;

    out = ngx_http_osint_tpl_expand(pool, &tpl, &target, type, &key, &len);

    if (tpl.raw_key && key.len
        && ngx_http_osint_tpl_has(&tpl, NGX_HTTP_OSINT_TPL_API_KEY)
        && (memchr(key.data, CR, key.len) || memchr(key.data, LF, key.len)
            || memchr(key.data, '\0', key.len)))
    {
        fuzz_check(out == NULL, "a header took a key with CR, LF or NUL");
        goto done;
    }

    fuzz_check(out != NULL, "expand ran out of memory");

    n = fuzz_expect(NULL, &tpl, &target, type, &key);

    expect = malloc(n + 1);
    if (expect == NULL) {
        abort();
    }

    (void) fuzz_expect(expect, &tpl, &target, type, &key);

    fuzz_check(ngx_strlen(out) == n && ngx_memcmp(out, expect, n) == 0,
               "expanded \"%s\", expected \"%.*s\"", out, (int) n, expect);

    fuzz_check(len == n, "*len is %zu for the %zu bytes of \"%s\"", len, n,
               out);

    fuzz_check(memchr(out, CR, n) == NULL && memchr(out, LF, n) == NULL,
               "CR or LF in \"%s\"", out);

    free(expect);

done:

    fuzz_pool_free(pool);

    return 0;
}


/* the expansion, built independently of the code under test */

static size_t
fuzz_expect(u_char *dst, ngx_http_osint_tpl_t *tpl, ngx_str_t *target,
    ngx_uint_t type, ngx_str_t *key)
{
    size_t                      n, len;
    ngx_str_t                   name;
    ngx_uint_t                  i;
    ngx_http_osint_tpl_part_t  *part;

    part = tpl->parts.elts;
    n = 0;

    for (i = 0; i < tpl->parts.nelts; i++) {

        switch (part[i].type) {

        case NGX_HTTP_OSINT_TPL_LITERAL:
            if (dst) {
                ngx_memcpy(dst + n, part[i].text.data, part[i].text.len);
            }

            len = part[i].text.len;
            break;

        case NGX_HTTP_OSINT_TPL_TARGET:
            len = fuzz_escape(dst ? dst + n : NULL, target);
            break;

        case NGX_HTTP_OSINT_TPL_API_KEY:
            if (!tpl->raw_key) {
                len = fuzz_escape(dst ? dst + n : NULL, key);
                break;
            }

            if (dst && key->len) {
                ngx_memcpy(dst + n, key->data, key->len);
            }

            len = key->len;
            break;

        case NGX_HTTP_OSINT_TPL_TARGET_TYPE:
            name.data = (u_char *) ngx_http_osint_type_name(type);
            name.len = ngx_strlen(name.data);

            if (dst) {
                ngx_memcpy(dst + n, name.data, name.len);
            }

            len = name.len;
            break;

        case NGX_HTTP_OSINT_TPL_TARGET_B64URL:
            len = fuzz_b64url(dst ? dst + n : NULL, target);
            break;

        case NGX_HTTP_OSINT_TPL_TARGET_DOMAIN:

            /*
             * which part is the domain is t/50-people.t's to check; here:
             * a part of the target, within it, escaped as one component
             */

            ngx_http_osint_target_domain(target, type, &name);

            fuzz_check(name.len == 0
                       || (name.data >= target->data
                           && name.data + name.len
                              <= target->data + target->len),
                       "the domain of \"%.*s\" is not within it",
                       (int) target->len, target->data);

            len = fuzz_escape(dst ? dst + n : NULL, &name);
            break;

        default:
            fuzz_check(0, "part %zu of unknown type %d", i,
                       (int) part[i].type);
            len = 0;
        }

        n += len;
    }

    if (dst) {
        dst[n] = '\0';
    }

    return n;
}


static size_t
fuzz_escape(u_char *dst, ngx_str_t *s)
{
    u_char   c;
    size_t   i, n;

    n = 0;

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            if (dst) {
                dst[n] = c;
            }

            n++;
            continue;
        }

        if (dst) {
            dst[n] = '%';
            dst[n + 1] = "0123456789ABCDEF"[c >> 4];
            dst[n + 2] = "0123456789ABCDEF"[c & 0xf];
        }

        n += 3;
    }

    return n;
}


/* RFC 4648 section 5, no padding */

static size_t
fuzz_b64url(u_char *dst, ngx_str_t *s)
{
    size_t     i, n;
    uint32_t   bits;
    ngx_uint_t nbits;

    static const char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    n = 0;
    bits = 0;
    nbits = 0;

    for (i = 0; i < s->len; i++) {
        bits = (bits << 8) | s->data[i];
        nbits += 8;

        while (nbits >= 6) {
            nbits -= 6;

            if (dst) {
                dst[n] = alphabet[(bits >> nbits) & 0x3f];
            }

            n++;
        }

        bits &= (1u << nbits) - 1;
    }

    if (nbits) {
        if (dst) {
            dst[n] = alphabet[(bits << (6 - nbits)) & 0x3f];
        }

        n++;
    }

    return n;
}
