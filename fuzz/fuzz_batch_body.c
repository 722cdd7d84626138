
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The body of POST /lookup (src/core/ngx_http_osint_batch_body.c):
 * ngx_http_osint_batch_body_parse() against an answer worked out here
 * from cJSON's own NUL-terminated parser.
 *
 * Input: byte 0: osint_batch_max - 1; then the body.  Checked:
 *   - NGX_OK or NGX_DECLINED, with exactly the reason the reference
 *     expects (empty; not valid JSON: unparsable, a raw control byte
 *     (outside strings: below 0x20 but tab, LF, CR; inside: below 0x20,
 *     escaped or not), anything but JSON whitespace after the value; a \u0000 escape, found by
 *     walking the strings; not an object; more than one "targets"; not
 *     an array; 1 to max elements);
 *   - NGX_OK: the array is the body's "targets", detached, of 1 to max
 *     elements.
 */


#include "fuzz.h"


static const char *fuzz_expected(const u_char *body, size_t len,
    ngx_uint_t max, u_char *buf, cJSON **ref);
static ngx_uint_t fuzz_nul_escape(const u_char *p, const u_char *last);
static ngx_uint_t fuzz_raw_control(const u_char *p, const u_char *last);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *body, buf[NGX_INT_T_LEN + 64];
    cJSON       *targets, *ref;
    size_t       len;
    ngx_int_t    rc;
    ngx_str_t    reason;
    ngx_uint_t   max;
    ngx_pool_t  *pool;
    const char  *expected;

    if (size == 0) {
        return 0;
    }

    max = (ngx_uint_t) data[0] + 1;
    len = size - 1;

    body = fuzz_copy(data + 1, len);

    pool = fuzz_pool();
    targets = NULL;
    ngx_str_null(&reason);

    rc = ngx_http_osint_batch_body_parse(pool, body, len, max, &targets,
                                         &reason);

    ref = NULL;
    expected = fuzz_expected(data + 1, len, max, buf, &ref);

    if (expected == NULL) {
        fuzz_check(rc == NGX_OK, "rc %ld (%.*s) for a good body", (long) rc,
                   (int) reason.len, reason.data);

        fuzz_check(cJSON_IsArray(targets) && targets->next == NULL
                   && targets->prev == NULL,
                   "targets not a detached array");

        fuzz_check((ngx_uint_t) cJSON_GetArraySize(targets) >= 1
                   && (ngx_uint_t) cJSON_GetArraySize(targets) <= max,
                   "%d targets, max %lu", cJSON_GetArraySize(targets),
                   (unsigned long) max);

        fuzz_check(fuzz_json_equal(targets, ref),
                   "targets differ from the body's");

    } else {
        fuzz_check(rc == NGX_DECLINED, "rc %ld, expected \"%s\"", (long) rc,
                   expected);

        fuzz_check(targets == NULL, "targets set with NGX_DECLINED");

        fuzz_check(reason.len == ngx_strlen(expected)
                   && ngx_memcmp(reason.data, expected, reason.len) == 0,
                   "reason \"%.*s\", expected \"%s\"", (int) reason.len,
                   reason.data, expected);
    }

    cJSON_Delete(targets);
    cJSON_Delete(ref);
    fuzz_pool_free(pool);
    free(body);

    return 0;
}


/*
 * The reason a body is refused (the one about the count printed in buf),
 * or NULL for a good one with a copy of its "targets" in *ref.
 */

static const char *
fuzz_expected(const u_char *body, size_t len, ngx_uint_t max, u_char *buf,
    cJSON **ref)
{
    int          n;
    char        *text;
    cJSON       *root, *item, *array;
    ngx_uint_t   members;
    const char  *end;

    if (len == 0) {
        return "the batch body is empty: send {\"targets\": [...]}";
    }

    /*
     * cJSON skips a UTF-8 BOM only when 4 more bytes lie within the length
     * it is given: the module's length leaves a BOM before a single byte,
     * where this NUL-terminated copy, one longer, skips it
     */

    if (fuzz_raw_control(body, body + len)
        || (len == 4 && ngx_memcmp(body, "\xef\xbb\xbf", 3) == 0))
    {
        return "the batch body is not valid JSON";
    }

    text = malloc(len + 1);
    if (text == NULL) {
        abort();
    }

    ngx_memcpy(text, body, len);
    text[len] = '\0';

    root = cJSON_ParseWithOpts(text, &end, 0);

    if (root == NULL || strspn(end, " \t\r\n") != strlen(end)) {
        cJSON_Delete(root);
        free(text);
        return "the batch body is not valid JSON";
    }

    free(text);

    if (fuzz_nul_escape(body, body + len)) {
        cJSON_Delete(root);
        return "the batch body holds \\u0000, which no target can";
    }

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return "the batch body must be {\"targets\": [...]}";
    }

    members = 0;

    for (item = root->child; item; item = item->next) {
        members += (item->string && strcmp(item->string, "targets") == 0);
    }

    if (members > 1) {
        cJSON_Delete(root);
        return "the batch body has more than one \"targets\" member";
    }

    array = cJSON_GetObjectItemCaseSensitive(root, "targets");

    if (!cJSON_IsArray(array)) {
        cJSON_Delete(root);
        return "the batch body must be {\"targets\": [...]}";
    }

    n = cJSON_GetArraySize(array);

    if (n == 0 || (ngx_uint_t) n > max) {
        cJSON_Delete(root);
        ngx_sprintf(buf, "a batch holds 1 to %ui targets%Z", max);
        return (const char *) buf;
    }

    *ref = cJSON_Duplicate(array, 1);
    cJSON_Delete(root);

    if (*ref == NULL) {
        abort();
    }

    return NULL;
}


/*
 * A "\u0000" escape in a string of valid JSON text, by walking in and out
 * of the strings (the module relies on the text being valid instead).
 */

static ngx_uint_t
fuzz_nul_escape(const u_char *p, const u_char *last)
{
    ngx_uint_t  in;

    for (in = 0; p < last; p++) {

        if (!in) {
            in = (*p == '"');
            continue;
        }

        if (*p == '"') {
            in = 0;
            continue;
        }

        if (*p != '\\' || p + 1 == last) {
            continue;
        }

        p++;

        if (*p == 'u' && last - p > 4 && p[1] == '0' && p[2] == '0'
            && p[3] == '0' && p[4] == '0')
        {
            return 1;
        }
    }

    return 0;
}


/*
 * RFC 8259: between tokens only space, tab, LF and CR; in a string no
 * byte below 0x20, nor one after a backslash.
 */

static ngx_uint_t
fuzz_raw_control(const u_char *p, const u_char *last)
{
    ngx_uint_t  in, escaped;

    in = 0;
    escaped = 0;

    while (p < last) {
        u_char  c = *p++;

        if (in) {
            if (c < 0x20) {
                return 1;
            }

            if (escaped) {
                escaped = 0;

            } else if (c == '\\') {
                escaped = 1;

            } else if (c == '"') {
                in = 0;
            }

            continue;
        }

        if (c == '"') {
            in = 1;

        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return 1;
        }
    }

    return 0;
}
