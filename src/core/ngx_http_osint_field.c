
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * `field NAME $.path` of format json: a small JSONPath subset compiled at
 * configuration ("$", ".key", "['key']", "[N]") and evaluated over cJSON.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


static ngx_int_t ngx_http_osint_field_step(ngx_http_osint_field_t *f,
    u_char *key, size_t len, ngx_int_t index);


char *
ngx_http_osint_field_compile(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *path, ngx_http_osint_field_t *f)
{
    u_char     *p, *last, *start;
    ngx_int_t   index;

    f->name = *name;
    f->source = *path;

    f->cname = ngx_pnalloc(cf->pool, name->len + 1);
    if (f->cname == NULL) {
        return NGX_CONF_ERROR;
    }

    (void) ngx_cpystrn((u_char *) f->cname, name->data, name->len + 1);

    if (ngx_array_init(&f->steps, cf->pool, 4,
                       sizeof(ngx_http_osint_path_step_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    p = path->data;
    last = p + path->len;

    if (p == last || *p++ != '$') {
        goto invalid;
    }

    while (p < last) {

        if (*p == '.') {
            start = ++p;

            while (p < last && *p != '.' && *p != '[') {
                p++;
            }

            if (p == start) {
                goto invalid;
            }

            if (ngx_http_osint_field_step(f, start, p - start, -1) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (*p != '[' || ++p == last) {
            goto invalid;
        }

        if (*p == '\'' || *p == '"') {
            start = p + 1;
            p = ngx_strlchr(start, last, *p);

            /* an empty key is no step: ['']  */

            if (p == NULL || p == start || p + 1 >= last || p[1] != ']') {
                goto invalid;
            }

            if (ngx_http_osint_field_step(f, start, p - start, -1) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            p += 2;
            continue;
        }

        start = p;

        while (p < last && *p != ']') {
            p++;
        }

        if (p == last) {
            goto invalid;
        }

        index = ngx_atoi(start, p - start);

        /* cJSON indexes arrays with an int */

        if (index == NGX_ERROR || index > NGX_MAX_INT32_VALUE) {
            goto invalid;
        }

        if (ngx_http_osint_field_step(f, NULL, 0, index) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        p++;
    }

    return NGX_CONF_OK;

invalid:

    /* the caller knows the provider: it says the rest */

    return "invalid";
}


static ngx_int_t
ngx_http_osint_field_step(ngx_http_osint_field_t *f, u_char *key, size_t len,
    ngx_int_t index)
{
    ngx_http_osint_path_step_t  *step;

    step = ngx_array_push(&f->steps);
    if (step == NULL) {
        return NGX_ERROR;
    }

    step->key.data = key;
    step->key.len = len;
    step->index = index;

    return NGX_OK;
}


/*
 * Builds `data` from the provider's JSON.  A path that leads nowhere
 * leaves its field out: absent means "the provider did not say".
 * Returns NULL only when memory runs out.
 */

cJSON *
ngx_http_osint_field_map(ngx_array_t *fields, cJSON *root)
{
    cJSON                   *data, *node, *copy;
    ngx_uint_t               i;
    ngx_http_osint_field_t  *f;

    data = cJSON_CreateObject();
    if (data == NULL) {
        return NULL;
    }

    f = fields->elts;

    for (i = 0; i < fields->nelts; i++) {
        node = ngx_http_osint_field_find(&f[i], root);

        if (node == NULL) {
            continue;
        }

        copy = cJSON_Duplicate(node, 1);
        if (copy == NULL) {
            cJSON_Delete(data);
            return NULL;
        }

        if (!cJSON_AddItemToObject(data, f[i].cname, copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(data);
            return NULL;
        }
    }

    return data;
}


/* the value a path leads to in root, or NULL */

cJSON *
ngx_http_osint_field_find(ngx_http_osint_field_t *f, cJSON *root)
{
    cJSON                       *node;
    ngx_uint_t                   j;
    ngx_http_osint_path_step_t  *step;

    node = root;
    step = f->steps.elts;

    for (j = 0; node && j < f->steps.nelts; j++) {

        if (step[j].key.len) {
            if (!cJSON_IsObject(node)) {
                return NULL;
            }

            for (node = node->child; node; node = node->next) {
                if (node->string
                    && ngx_strlen(node->string) == step[j].key.len
                    && ngx_strncmp(node->string, step[j].key.data,
                                   step[j].key.len) == 0)
                {
                    break;
                }
            }

            continue;
        }

        node = cJSON_IsArray(node)
               ? cJSON_GetArrayItem(node, (int) step[j].index) : NULL;
    }

    return node;
}
