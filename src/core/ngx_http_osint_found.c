
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format presence: the `found` conditions of a provider, which tell an
 * account from a site's way of saying "no such user".
 *
 *   found status=200;               the answer's status
 *   found field=$.login;            a member present, not null or false
 *   found nonempty=$.them[0];       ... and not "", [] or {}
 *
 * Paths are those of `field`.  Every condition of every `found` line
 * must hold; an answer that says nothing (null, [] ...) is never an
 * account, conditions or not (src/formats/ngx_http_osint_presence.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"
#include "formats/ngx_http_osint_format.h"


static char *ngx_http_osint_found_param(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *v, ngx_http_osint_found_t *c);


char *
ngx_http_osint_found_conf(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    char                    *rv;
    ngx_uint_t               i;
    ngx_http_osint_found_t  *c;

    if (p->found == NULL) {
        p->found = ngx_array_create(cf->pool, 2,
                                    sizeof(ngx_http_osint_found_t));
        if (p->found == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    c = ngx_array_push(p->found);
    if (c == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(c, sizeof(ngx_http_osint_found_t));

    for (i = 1; i <= n; i++) {
        rv = ngx_http_osint_found_param(cf, p, &value[i], c);

        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_osint_found_param(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *v, ngx_http_osint_found_t *c)
{
    char       *rv;
    ngx_int_t   status;
    ngx_str_t   name, path;

    if (v->len > 7 && ngx_strncmp(v->data, "status=", 7) == 0) {
        status = ngx_atoi(v->data + 7, v->len - 7);

        if (status < 200 || status > 299 || c->status) {
            goto invalid;
        }

        c->status = status;
        return NGX_CONF_OK;
    }

    if (c->path.source.len) {
        goto invalid;
    }

    if (v->len > 6 && ngx_strncmp(v->data, "field=", 6) == 0) {
        path.data = v->data + 6;
        path.len = v->len - 6;

    } else if (v->len > 9 && ngx_strncmp(v->data, "nonempty=", 9) == 0) {
        path.data = v->data + 9;
        path.len = v->len - 9;
        c->nonempty = 1;

    } else {
        goto invalid;
    }

    ngx_str_set(&name, "found");

    rv = ngx_http_osint_field_compile(cf, &name, &path, &c->path);

    if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
        return rv;
    }

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"found\" of "
                       "osint_provider \"%V\"", v, &p->name);

    return NGX_CONF_ERROR;
}


char *
ngx_http_osint_found_check(ngx_conf_t *cf, ngx_http_osint_provider_t *p)
{
    if (p->found
        && ngx_http_osint_formats[p->format].normalise
           != ngx_http_osint_presence_normalise)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"found\" of osint_provider \"%V\" needs "
                           "\"format presence\"", &p->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* 1 when the answer (2xx, parsed) meets every condition */

ngx_uint_t
ngx_http_osint_found(ngx_http_osint_provider_t *p, long status, cJSON *root)
{
    cJSON                   *node;
    ngx_uint_t               i;
    ngx_http_osint_found_t  *c;

    if (p->found == NULL) {
        return 1;
    }

    c = p->found->elts;

    for (i = 0; i < p->found->nelts; i++) {

        if (c[i].status && (long) c[i].status != status) {
            return 0;
        }

        if (c[i].path.source.len == 0) {
            continue;
        }

        node = ngx_http_osint_field_find(&c[i].path, root);

        if (node == NULL || cJSON_IsNull(node) || cJSON_IsFalse(node)
            || (c[i].nonempty && ngx_http_osint_presence_empty(node)))
        {
            return 0;
        }
    }

    return 1;
}


/* the conditions are part of what the answers are: in the cache key */

void
ngx_http_osint_found_fingerprint(ngx_http_osint_provider_t *p, uint32_t *crc)
{
    ngx_uint_t               i;
    ngx_http_osint_found_t  *c;

    if (p->found == NULL) {
        return;
    }

    c = p->found->elts;

    for (i = 0; i < p->found->nelts; i++) {
        ngx_crc32_update(crc, (u_char *) &c[i].status, sizeof(c[i].status));
        ngx_crc32_update(crc, (u_char *) &c[i].nonempty,
                         sizeof(c[i].nonempty));
        ngx_crc32_update(crc, c[i].path.source.data, c[i].path.source.len);
    }
}
