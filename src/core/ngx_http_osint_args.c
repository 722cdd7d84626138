
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The module's own reading of the query arguments of /lookup, as pure
 * functions of their text (found in one pass, as ngx_http_arg() finds
 * each; nginx's ngx_unescape_uri() decodes them), so that
 * fuzz/fuzz_args.c can run them without a request.  Provider names are
 * looked up here too: the configuration and providers= share the lookup.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


/*
 * The arguments of a query string in one pass: of each name, the first
 * "&"-separated part that is the name, case aside, then "=", as
 * ngx_http_arg() finds it.  ngx_http_arg() searches the whole string
 * again for every name it is asked; a hit asks four.
 */

void
ngx_http_osint_query_parse(ngx_str_t *args, ngx_http_osint_query_t *q)
{
    u_char      *p, *last, *name, *eq;
    ngx_str_t   *arg;
    ngx_uint_t   i;

    static struct {
        ngx_str_t   name;
        size_t      offset;
    } known[] = {
        { ngx_string("target"), offsetof(ngx_http_osint_query_t, target) },
        { ngx_string("type"), offsetof(ngx_http_osint_query_t, type) },
        { ngx_string("refresh"), offsetof(ngx_http_osint_query_t, refresh) },
        { ngx_string("providers"),
          offsetof(ngx_http_osint_query_t, providers) }
    };

    ngx_memzero(q, sizeof(ngx_http_osint_query_t));

    p = args->data;
    last = p + args->len;

    for ( /* void */ ; p < last; p++) {
        name = p;
        eq = NULL;

        for ( /* void */ ; p < last && *p != '&'; p++) {
            if (eq == NULL && *p == '=') {
                eq = p;
            }
        }

        if (eq == NULL) {
            continue;
        }

        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if ((size_t) (eq - name) != known[i].name.len
                || ngx_strncasecmp(name, known[i].name.data,
                                   known[i].name.len)
                   != 0)
            {
                continue;
            }

            arg = (ngx_str_t *) ((u_char *) q + known[i].offset);

            if (arg->data == NULL) {
                arg->data = eq + 1;
                arg->len = p - eq - 1;
            }

            break;
        }
    }
}


/*
 * A raw argument, percent-decoded into the pool: NGX_OK, NGX_DECLINED
 * when longer than NGX_HTTP_OSINT_PARAM_MAX (decoding never lengthens),
 * NGX_ERROR.  "+" stays "+": no target holds a space, and e-mail
 * addresses often hold "+".
 */

ngx_int_t
ngx_http_osint_arg_decode(ngx_pool_t *pool, ngx_str_t *raw, ngx_str_t *value)
{
    u_char  *dst, *src;

    if (raw->len > NGX_HTTP_OSINT_PARAM_MAX) {
        return NGX_DECLINED;
    }

    dst = ngx_pnalloc(pool, raw->len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    value->data = dst;
    src = raw->data;

    ngx_unescape_uri(&dst, &src, raw->len, 0);

    value->len = dst - value->data;

    return NGX_OK;
}


/* refresh=0|1: NGX_OK and *bypass, or NGX_DECLINED */

ngx_int_t
ngx_http_osint_refresh_parse(ngx_str_t *value, ngx_uint_t *bypass)
{
    if (value->len != 1 || (value->data[0] != '0' && value->data[0] != '1')) {
        return NGX_DECLINED;
    }

    *bypass = (value->data[0] == '1');

    return NGX_OK;
}


/*
 * providers=a,b: NGX_OK and the bit of each named provider in *wanted
 * (every bit for an empty list; empty names are skipped), or NGX_DECLINED
 * and the first name that is not configured in *unknown.  Providers are at
 * most 64, checked at configuration.
 */

ngx_int_t
ngx_http_osint_providers_parse(ngx_array_t *providers, ngx_str_t *list,
    uint64_t *wanted, ngx_str_t *unknown)
{
    u_char                     *p, *last, *name;
    ngx_http_osint_provider_t  *pr;

    if (list->len == 0) {
        *wanted = (uint64_t) -1;
        return NGX_OK;
    }

    *wanted = 0;
    p = list->data;
    last = p + list->len;

    while (p < last) {
        name = p;

        while (p < last && *p != ',') {
            p++;
        }

        if (p > name) {
            pr = ngx_http_osint_provider_find(providers, name, p - name);

            if (pr == NULL) {
                unknown->data = name;
                unknown->len = p - name;
                return NGX_DECLINED;
            }

            *wanted |= (uint64_t) 1 << pr->index;
        }

        p++;
    }

    return NGX_OK;
}


ngx_http_osint_provider_t *
ngx_http_osint_provider_find(ngx_array_t *providers, u_char *name, size_t len)
{
    ngx_uint_t                  i;
    ngx_http_osint_provider_t  *p;

    p = providers->elts;

    for (i = 0; i < providers->nelts; i++) {
        if (p[i].name.len == len && ngx_memcmp(p[i].name.data, name, len) == 0)
        {
            return &p[i];
        }
    }

    return NULL;
}
