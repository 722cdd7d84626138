
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The body of POST /lookup, {"targets": [...]}, checked as a pure function
 * of its bytes so that fuzz/fuzz_batch_body.c can run it without a
 * request.  Whatever another JSON parser in front of nginx (a WAF, a
 * logging proxy) could read differently is refused: a second "targets"
 * member, bytes after the value, raw control bytes (cJSON takes 0x01 to
 * 0x1f for whitespace between tokens, and keeps them raw in strings;
 * RFC 8259 allows neither but space, tab, LF and CR between tokens).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


static ngx_uint_t ngx_http_osint_batch_body_members(cJSON *root,
    const char *name);
static ngx_uint_t ngx_http_osint_batch_body_controls(u_char *p,
    u_char *last);
static ngx_uint_t ngx_http_osint_batch_body_nul_escape(u_char *p,
    u_char *last);


/*
 * NGX_OK and *targets, the array detached from the body (the caller
 * deletes it); NGX_DECLINED and *reason; NGX_ERROR when memory ran out.
 */

ngx_int_t
ngx_http_osint_batch_body_parse(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_uint_t max, cJSON **targets, ngx_str_t *reason)
{
    u_char       *p, *last;
    cJSON        *root, *array;
    ngx_uint_t    n;
    const char   *end;

    if (len == 0) {
        ngx_str_set(reason, "the batch body is empty: send "
                            "{\"targets\": [...]}");
        return NGX_DECLINED;
    }

    /*
     * JSON has no raw NUL, even in a string, where cJSON would keep it and
     * C strings end: "1.1.1.1<NUL>x" would be looked up as 1.1.1.1; nor
     * any other raw control byte.  Nesting deeper than CJSON_NESTING_LIMIT
     * cJSON refuses as invalid.
     */

    if (ngx_http_osint_batch_body_controls(data, data + len)) {
        ngx_str_set(reason, "the batch body is not valid JSON");
        return NGX_DECLINED;
    }

    end = NULL;
    root = cJSON_ParseWithLengthOpts((char *) data, len, &end, 0);

    if (root == NULL) {
        ngx_str_set(reason, "the batch body is not valid JSON");
        return NGX_DECLINED;
    }

    /* cJSON stops after the value: what follows must be whitespace */

    last = data + len;

    for (p = (u_char *) end; p < last; p++) {
        if (*p != ' ' && *p != '\t' && *p != CR && *p != LF) {
            cJSON_Delete(root);
            ngx_str_set(reason, "the batch body is not valid JSON");
            return NGX_DECLINED;
        }
    }

    if (ngx_http_osint_batch_body_nul_escape(data, last)) {
        cJSON_Delete(root);
        ngx_str_set(reason, "the batch body holds \\u0000, which no target "
                            "can");
        return NGX_DECLINED;
    }

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        ngx_str_set(reason, "the batch body must be {\"targets\": [...]}");
        return NGX_DECLINED;
    }

    if (ngx_http_osint_batch_body_members(root, "targets") > 1) {
        cJSON_Delete(root);
        ngx_str_set(reason, "the batch body has more than one \"targets\" "
                            "member");
        return NGX_DECLINED;
    }

    array = cJSON_DetachItemFromObjectCaseSensitive(root, "targets");
    cJSON_Delete(root);

    if (!cJSON_IsArray(array)) {
        cJSON_Delete(array);
        ngx_str_set(reason, "the batch body must be {\"targets\": [...]}");
        return NGX_DECLINED;
    }

    n = cJSON_GetArraySize(array);

    if (n == 0 || n > max) {
        cJSON_Delete(array);

        reason->data = ngx_pnalloc(pool, NGX_INT_T_LEN + 64);
        if (reason->data == NULL) {
            return NGX_ERROR;
        }

        reason->len = ngx_sprintf(reason->data, "a batch holds 1 to %ui "
                                  "targets", max)
                      - reason->data;
        return NGX_DECLINED;
    }

    *targets = array;

    return NGX_OK;
}


/*
 * Members named so, as cJSON compares names: a name decoded from
 * "\u0000..." ends at the NUL, so "targets\u0000x" counts as "targets",
 * which is what the lookup would read.
 */

static ngx_uint_t
ngx_http_osint_batch_body_members(cJSON *root, const char *name)
{
    cJSON       *item;
    ngx_uint_t   n;

    n = 0;

    for (item = root->child; item; item = item->next) {
        if (item->string && ngx_strcmp(item->string, name) == 0) {
            n++;
        }
    }

    return n;
}


/*
 * A control byte where RFC 8259 has none: outside strings anything below
 * 0x20 but space, tab, LF, CR; inside them anything below 0x20.  Strings
 * are walked as JSON writes them; in text that is not JSON the walk may
 * go astray, but cJSON refuses such text anyway.
 */

static ngx_uint_t
ngx_http_osint_batch_body_controls(u_char *p, u_char *last)
{
    ngx_uint_t  in;

    for (in = 0; p < last; p++) {

        if (*p < 0x20) {
            if (in || (*p != '\t' && *p != LF && *p != CR)) {
                return 1;
            }

            continue;
        }

        if (*p == '"') {
            in = !in;

        } else if (in && *p == '\\' && p + 1 < last) {
            p++;

            if (*p < 0x20) {
                return 1;
            }
        }
    }

    return 0;
}


/*
 * "\u0000" in valid JSON text: cJSON decodes it into a NUL that ends the
 * C string, so "8.8.8.8\u0000.evil" would be looked up as 8.8.8.8.  In
 * valid JSON a backslash only ever starts an escape inside a string, so
 * the escapes can be walked without parsing the strings again.
 */

static ngx_uint_t
ngx_http_osint_batch_body_nul_escape(u_char *p, u_char *last)
{
    for ( /* void */ ; p < last; p++) {

        if (*p != '\\') {
            continue;
        }

        if (last - p >= 6 && p[1] == 'u' && ngx_strncmp(p + 2, "0000", 4) == 0)
        {
            return 1;
        }

        p++;    /* the escaped character: "\\" is not a backslash that
                   starts an escape */
    }

    return 0;
}
