
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * `field NAME $.path` of format json (src/core/ngx_http_osint_field.c):
 * compiling paths and mapping them over arbitrary JSON.
 *
 * Input: up to 8 paths, then the provider's body, separated by RS (0x1e):
 * "path RS path RS ... RS body".  Checked:
 *   - a path compiles or is "invalid"; a compiled one starts with '$' and
 *     has steps that are a non-empty key or an index >= 0;
 *   - field_map() returns an object holding, under each field's name,
 *     a copy of exactly the node an independent walk of the same steps
 *     finds (cJSON_GetArrayItem() for indexes, first member of that name
 *     for keys), and nothing for a path that leads nowhere; the body is
 *     left as it was.
 */


#include "fuzz.h"


#define FUZZ_FIELDS  8


static cJSON *fuzz_walk(ngx_http_osint_field_t *f, cJSON *root);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                        *rv, *before, *after, name[8];
    cJSON                       *root, *out, *item, *want;
    ngx_str_t                    part[FUZZ_FIELDS + 1], fname;
    ngx_uint_t                   i, j, n, nfields;
    ngx_conf_t                   cf;
    ngx_pool_t                  *pool;
    ngx_array_t                  fields;
    const u_char                *p;
    ngx_http_osint_field_t      *f;
    ngx_http_osint_path_step_t  *step;

    p = data;
    n = 0;

    while (n < FUZZ_FIELDS + 1 && fuzz_next(&p, data + size, FUZZ_SEP, &part[n]))
    {
        n++;
    }

    if (n < 2) {
        return 0;
    }

    /* the last part is the body, and takes whatever is left */

    if (p != NULL) {
        part[n - 1].len = data + size - part[n - 1].data;
    }

    pool = fuzz_pool();
    fuzz_conf(&cf, pool);

    if (ngx_array_init(&fields, pool, 1, sizeof(ngx_http_osint_field_t))
        != NGX_OK)
    {
        abort();
    }

    nfields = 0;

    for (i = 0; i + 1 < n; i++) {
        f = ngx_array_push(&fields);
        if (f == NULL) {
            abort();
        }

        (void) snprintf(name, sizeof(name), "f%u", (unsigned) i);
        fname.data = (u_char *) name;
        fname.len = ngx_strlen(name);

        /* steps point into the path, as into cf->args in nginx */

        rv = ngx_http_osint_field_compile(&cf, &fname, &part[i], f);

        fuzz_check(rv != NGX_CONF_ERROR, "compile ran out of memory");

        if (rv != NGX_CONF_OK) {
            fuzz_check(ngx_strcmp(rv, "invalid") == 0, "message \"%s\"", rv);
            fields.nelts--;
            continue;
        }

        fuzz_check(part[i].len > 0 && part[i].data[0] == '$',
                   "\"%.*s\" compiled", (int) part[i].len, part[i].data);

        fuzz_check(f->cname != NULL && ngx_strcmp(f->cname, name) == 0,
                   "cname \"%s\"", f->cname ? f->cname : "(null)");

        step = f->steps.elts;

        for (j = 0; j < f->steps.nelts; j++) {
            fuzz_check((step[j].key.len > 0 && step[j].index == -1)
                       || (step[j].key.len == 0 && step[j].index >= 0),
                       "step %lu of \"%.*s\": key \"%.*s\", index %ld",
                       (unsigned long) j, (int) part[i].len, part[i].data,
                       (int) step[j].key.len, step[j].key.data,
                       (long) step[j].index);
        }

        nfields++;
    }

    root = cJSON_ParseWithLength((const char *) part[n - 1].data,
                                 part[n - 1].len);

    before = root ? cJSON_PrintUnformatted(root) : NULL;

    out = ngx_http_osint_field_map(&fields, root);

    fuzz_check(cJSON_IsObject(out), "field_map did not return an object");

    f = fields.elts;

    for (i = 0; i < fields.nelts; i++) {
        want = fuzz_walk(&f[i], root);
        item = cJSON_GetObjectItemCaseSensitive(out, f[i].cname);

        if (want == NULL) {
            fuzz_check(item == NULL, "field \"%.*s\" found a node nowhere",
                       (int) f[i].source.len, f[i].source.data);
            continue;
        }

        fuzz_check(item != NULL && fuzz_json_equal(item, want),
                   "field \"%.*s\" holds the wrong node",
                   (int) f[i].source.len, f[i].source.data);
    }

    fuzz_check(cJSON_GetArraySize(out) <= (int) nfields, "extra members");

    if (root) {
        after = cJSON_PrintUnformatted(root);

        fuzz_check((before == NULL) == (after == NULL)
                   && (before == NULL || strcmp(before, after) == 0),
                   "the body changed");

        cJSON_free(after);
    }

    cJSON_free(before);
    cJSON_Delete(out);
    cJSON_Delete(root);

    fuzz_pool_free(pool);

    return 0;
}


/* the reference walk: steps as written, over the parsed document */

static cJSON *
fuzz_walk(ngx_http_osint_field_t *f, cJSON *root)
{
    cJSON                       *node, *m;
    ngx_uint_t                   j;
    ngx_http_osint_path_step_t  *step;

    node = root;
    step = f->steps.elts;

    for (j = 0; node && j < f->steps.nelts; j++) {

        if (step[j].key.len) {
            if (!cJSON_IsObject(node)) {
                return NULL;
            }

            for (m = node->child; m; m = m->next) {
                if (m->string && strlen(m->string) == step[j].key.len
                    && memcmp(m->string, step[j].key.data, step[j].key.len)
                       == 0)
                {
                    break;
                }
            }

            node = m;
            continue;
        }

        if (!cJSON_IsArray(node)
            || step[j].index >= cJSON_GetArraySize(node))
        {
            return NULL;
        }

        node = cJSON_GetArrayItem(node, (int) step[j].index);
    }

    return node;
}
