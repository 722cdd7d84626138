
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Every built-in normaliser of ngx_http_osint_formats[]
 * (src/formats/) fed arbitrary provider
 * bodies.  The table is walked at run time, so the target covers the
 * formats that exist when it is built.
 *
 * Input: byte 0 chooses the target type (mod 6), then the format's name,
 * RS (0x1e), the body.  A name is used rather than an index so that
 * corpora keep their meaning as formats are added; an unknown name runs
 * every normaliser on the body; a format that reads NDJSON (dnsdb) gets
 * the body's lines as the module gives them.  Checked, for each
 * normaliser run:
 *   - NGX_OK gives a new object, NGX_ERROR a message and no object,
 *     NGX_DECLINED no object; nothing leaks;
 *   - the provider's document is left as it was;
 *   - the same input gives the same answer twice;
 *   - the conventions of src/formats/ngx_http_osint_format.h: members
 *     are snake_case, none is null, no list is longer than
 *     NGX_HTTP_OSINT_FMT_LIST_MAX.
 */


#include "fuzz.h"

#if __has_include("ngx_http_osint_format.h")
#include "ngx_http_osint_format.h"
#endif


static void fuzz_normalise(ngx_http_osint_format_t *fmt, cJSON *root,
    ngx_uint_t type, const char *before);
static void fuzz_conventions(ngx_http_osint_format_t *fmt, cJSON *data);


static ngx_uint_t  fuzz_types[] = {
    NGX_HTTP_OSINT_IPV4, NGX_HTTP_OSINT_IPV6, NGX_HTTP_OSINT_DOMAIN,
    NGX_HTTP_OSINT_EMAIL, NGX_HTTP_OSINT_URL, NGX_HTTP_OSINT_HASH
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                     *before;
    cJSON                    *root;
    ngx_str_t                 name, body;
    ngx_uint_t                type, i, found;
    const u_char             *p;
    ngx_http_osint_format_t  *fmt;

    if (size == 0) {
        return 0;
    }

    type = fuzz_types[data[0] % (sizeof(fuzz_types) / sizeof(ngx_uint_t))];

    p = data + 1;

    if (!fuzz_next(&p, data + size, FUZZ_SEP, &name)) {
        return 0;
    }

    if (p == NULL) {
        /* no name: all of it is the body */
        body = name;
        ngx_str_null(&name);

    } else {
        body.data = (u_char *) p;
        body.len = data + size - p;
    }

    /* a format that reads NDJSON gets the lines, as the module gives it */

    found = 0;

    for (i = 0; ngx_http_osint_formats[i].name; i++) {
        if (ngx_strlen(ngx_http_osint_formats[i].name) == name.len
            && ngx_strncmp(ngx_http_osint_formats[i].name, name.data,
                           name.len)
               == 0)
        {
            found = ngx_http_osint_format_ndjson(i);
        }
    }

    root = found ? ngx_http_osint_fmt_ndjson((const char *) body.data,
                                             body.len)
                 : cJSON_ParseWithLength((const char *) body.data, body.len);

    /* a body that is not JSON never reaches a normaliser */

    if (root == NULL) {
        return 0;
    }

    before = cJSON_PrintUnformatted(root);
    if (before == NULL) {
        abort();
    }

    found = 0;

    for (i = 0; ngx_http_osint_formats[i].name; i++) {
        fmt = &ngx_http_osint_formats[i];

        if (fmt->normalise
            && ngx_strlen(fmt->name) == name.len
            && ngx_strncmp(fmt->name, name.data, name.len) == 0)
        {
            fuzz_normalise(fmt, root, type, before);
            found = 1;
        }
    }

    if (!found) {
        for (i = 0; ngx_http_osint_formats[i].name; i++) {
            fmt = &ngx_http_osint_formats[i];

            if (fmt->normalise) {
                fuzz_normalise(fmt, root, type, before);
            }
        }
    }

    cJSON_free(before);
    cJSON_Delete(root);

    return 0;
}


static void
fuzz_normalise(ngx_http_osint_format_t *fmt, cJSON *root, ngx_uint_t type,
    const char *before)
{
    char        *after;
    cJSON       *data, *data2;
    ngx_int_t    rc, rc2;
    const char  *message, *message2;

    data = NULL;
    message = NULL;

    rc = fmt->normalise(root, type, &data, &message);

    after = cJSON_PrintUnformatted(root);
    fuzz_check(after && strcmp(before, after) == 0,
               "%s changed the provider's document", fmt->name);
    cJSON_free(after);

    switch (rc) {

    case NGX_OK:
        fuzz_check(cJSON_IsObject(data), "%s: NGX_OK without an object",
                   fmt->name);
        fuzz_conventions(fmt, data);
        break;

    case NGX_ERROR:
        fuzz_check(data == NULL && message && message[0],
                   "%s: NGX_ERROR with data %p, message %s", fmt->name,
                   (void *) data, message ? message : "(null)");
        break;

    case NGX_DECLINED:
        fuzz_check(data == NULL, "%s: NGX_DECLINED with data", fmt->name);
        break;

    default:
        fuzz_check(0, "%s: rc %ld", fmt->name, (long) rc);
    }

    /* deterministic: nothing read that was not written */

    data2 = NULL;
    message2 = NULL;

    rc2 = fmt->normalise(root, type, &data2, &message2);

    fuzz_check(rc2 == rc && ((data == NULL && data2 == NULL)
                             || fuzz_json_equal(data, data2)),
               "%s: a second run differs (rc %ld, then %ld)", fmt->name,
               (long) rc, (long) rc2);

    fuzz_check(rc != NGX_ERROR || strcmp(message, message2) == 0,
               "%s: messages \"%s\" then \"%s\"", fmt->name, message,
               message2);

    cJSON_Delete(data);
    cJSON_Delete(data2);
}


static void
fuzz_conventions(ngx_http_osint_format_t *fmt, cJSON *data)
{
    char   *printed;
    cJSON  *m;
    u_char *c;

    for (m = data->child; m; m = m->next) {

        fuzz_check(m->string && m->string[0] >= 'a' && m->string[0] <= 'z',
                   "%s: member \"%s\"", fmt->name,
                   m->string ? m->string : "(null)");

        for (c = (u_char *) m->string; *c; c++) {
            fuzz_check((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')
                       || *c == '_', "%s: member \"%s\" is not snake_case",
                       fmt->name, m->string);
        }

        fuzz_check(!cJSON_IsNull(m), "%s: member \"%s\" is null", fmt->name,
                   m->string);

#ifdef NGX_HTTP_OSINT_FMT_LIST_MAX
        fuzz_check(!cJSON_IsArray(m)
                   || cJSON_GetArraySize(m) <= NGX_HTTP_OSINT_FMT_LIST_MAX,
                   "%s: list \"%s\" of %d elements", fmt->name, m->string,
                   cJSON_GetArraySize(m));
#endif
    }

    printed = cJSON_PrintUnformatted(data);
    fuzz_check(printed != NULL, "%s: data does not print", fmt->name);
    cJSON_free(printed);
}
