
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * ngx_http_osint_json_print() (src/core/ngx_http_osint_json.c) against the
 * reference it replaces, cJSON_PrintUnformatted(): byte for byte the same
 * text, or both refuse, but for what the printer does on purpose and the
 * reference is made to do here (fuzz_utf8()): each byte that begins no
 * well-formed UTF-8 sequence as U+FFFD, and U+2028, U+2029, U+0085
 * escaped as \u2028, \u2029, \u0085.
 *
 * Input: byte 0 picks the tree: even, the rest parsed by cJSON (any JSON
 * a provider or a cache can hold); odd, the rest cut into 8-byte doubles
 * put into an array, with what parsing never gives (NaN, infinities, -0,
 * subnormals, integers beyond 2^53), then a raw item (empty, or without
 * text, which neither prints) and a string of the input's bytes
 * (controls, quotes, bytes above 0x7f) as members of an object.  Checked: the same text; the room asked for after it is there.
 *
 * And ngx_http_osint_json_canonical() of the even branch's text: NGX_OK
 * exactly when the printer writes the tree cJSON parses from it as that
 * same text (but texts deeper than it reads, which need 2 bytes a level).
 */


#include "fuzz.h"


static void fuzz_compare(cJSON *item);
static void fuzz_canonical(const uint8_t *data, size_t size, cJSON *root);
static char *fuzz_utf8(char *text);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          *s;
    cJSON         *root, *array, *raw, *nothing;
    double         d;
    size_t         i;

    if (size < 1) {
        return 0;
    }

    if ((data[0] & 1) == 0) {
        root = cJSON_ParseWithLength((const char *) data + 1, size - 1);

        fuzz_canonical(data + 1, size - 1, root);

        if (root) {
            fuzz_compare(root);
            cJSON_Delete(root);
        }

        return 0;
    }

    root = cJSON_CreateObject();
    array = cJSON_AddArrayToObject(root, "numbers");

    for (i = 1; i + 8 <= size; i += 8) {
        ngx_memcpy(&d, data + i, 8);
        cJSON_AddItemToArray(array, cJSON_CreateNumber(d));
    }

    s = malloc(size);
    if (s == NULL) {
        abort();
    }

    ngx_memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';

    cJSON_AddStringToObject(root, s, s);

    raw = cJSON_CreateRaw(size < 2 ? "[1,{}]"
                          : (data[1] & 3) == 0 ? "12.5"
                          : (data[1] & 3) == 1 ? "" : "[1,{}]");

    if (size > 1 && (data[1] & 3) == 3) {

        /* a raw item whose text is gone: cJSON refuses to print it */

        nothing = cJSON_CreateRaw("x");
        cJSON_free(nothing->valuestring);
        nothing->valuestring = NULL;
        cJSON_AddItemToArray(array, nothing);
    }

    cJSON_AddItemToObject(root, "raw", raw);

    fuzz_compare(root);
    fuzz_compare(array);

    free(s);
    cJSON_Delete(root);

    return 0;
}


static void
fuzz_compare(cJSON *item)
{
    char        *ref;
    size_t       n;
    ngx_int_t    rc;
    ngx_str_t    text;
    ngx_pool_t  *pool;

    pool = fuzz_pool();

    ref = fuzz_utf8(cJSON_PrintUnformatted(item));
    rc = ngx_http_osint_json_print(pool, item, 3, &text);

    if (ref == NULL) {
        fuzz_check(rc == NGX_DECLINED, "cJSON refused, we gave rc %ld",
                   (long) rc);

    } else {
        n = strlen(ref);

        fuzz_check(rc == NGX_OK, "cJSON printed %zu bytes, we gave rc %ld",
                   n, (long) rc);

        fuzz_check(text.len == n && ngx_memcmp(text.data, ref, n) == 0,
                   "texts differ:\n  cJSON %s\n  ours  %.*s", ref,
                   (int) text.len, text.data);

        /* the room after the text: ASan sees a write past the allocation */

        ngx_memcpy(text.data + text.len, "\n\n\n", 3);

        free(ref);
    }

    fuzz_pool_free(pool);
}


/*
 * cJSON's text made UTF-8 by code points, independently of the module's
 * decoder: shortest form, no surrogates, at most U+10FFFF.  Outside
 * strings the text is ASCII (raw items here are), so the whole text can
 * be walked.  The result is malloc()ed; text is freed.
 */

static char *
fuzz_utf8(char *text)
{
    char           *out, *o;
    size_t          n, i;
    uint32_t        cp, min;
    const u_char   *p;

    if (text == NULL) {
        return NULL;
    }

    out = malloc(strlen(text) * 3 + 1);
    if (out == NULL) {
        abort();
    }

    o = out;
    p = (const u_char *) text;

    while (*p) {

        if (*p < 0x80) {
            *o++ = *p++;
            continue;
        }

        n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
            : (*p & 0xf8) == 0xf0 ? 4 : 0;
        min = (n == 2) ? 0x80 : (n == 3) ? 0x800 : 0x10000;
        cp = *p & (0x7f >> n);

        for (i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                n = 0;
                break;
            }

            cp = (cp << 6) | (p[i] & 0x3f);
        }

        if (n == 0 || cp < min || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff))
        {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
            continue;
        }

        if (cp == 0x85 || cp == 0x2028 || cp == 0x2029) {
            o += sprintf(o, "\\u%04x", (unsigned) cp);

        } else {
            memcpy(o, p, n);
            o += n;
        }

        p += n;
    }

    *o = '\0';
    cJSON_free(text);

    return out;
}


static void
fuzz_canonical(const uint8_t *data, size_t size, cJSON *root)
{
    ngx_int_t    rc, same;
    ngx_str_t    text;
    ngx_pool_t  *pool;

    pool = fuzz_pool();
    ngx_str_null(&text);

    same = root != NULL
           && ngx_http_osint_json_print(pool, root, 0, &text) == NGX_OK
           && text.len == size && ngx_memcmp(text.data, data, size) == 0;

    rc = ngx_http_osint_json_canonical(data, size);

    fuzz_check(rc == NGX_OK || rc == NGX_DECLINED, "rc %ld", (long) rc);

    fuzz_check(rc != NGX_OK || same,
               "\"%.*s\" called canonical, the printer writes \"%.*s\"",
               (int) size, data, same || root == NULL ? 0 : (int) text.len,
               same || root == NULL ? "" : (char *) text.data);

    fuzz_check(rc == NGX_OK || !same || size >= 2 * 256,
               "\"%.*s\" is what the printer writes, not called canonical",
               (int) size, data);

    fuzz_pool_free(pool);
}
