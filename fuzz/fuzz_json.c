
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * ngx_http_osint_json_print() (src/ngx_http_osint_json.c) against the
 * reference it replaces, cJSON_PrintUnformatted(): byte for byte the same
 * text, or both refuse.
 *
 * Input: byte 0 picks the tree: even, the rest parsed by cJSON (any JSON
 * a provider or a cache can hold); odd, the rest cut into 8-byte doubles
 * put into an array, with what parsing never gives (NaN, infinities, -0,
 * subnormals, integers beyond 2^53), then a raw item (empty, or without
 * text, which neither prints) and a string of the input's bytes
 * (controls, quotes, bytes above 0x7f) as members of an object.  Checked: the same text; the room asked for after it is there.
 */


#include "fuzz.h"


static void fuzz_compare(cJSON *item);


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

    ref = cJSON_PrintUnformatted(item);
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

        cJSON_free(ref);
    }

    fuzz_pool_free(pool);
}
