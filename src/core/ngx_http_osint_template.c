
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * url and header templates of providers.  Compiled once at configuration
 * into literal text and variables; expanded per call with the target
 * percent-encoded as one component, so no target can reach another host,
 * path prefix or header.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


typedef struct {
    ngx_str_t                   name;
    ngx_http_osint_tpl_part_e   type;
} ngx_http_osint_tpl_var_t;


static ngx_http_osint_tpl_var_t  ngx_http_osint_tpl_vars[] = {
    { ngx_string("osint_target"), NGX_HTTP_OSINT_TPL_TARGET },
    { ngx_string("osint_target_type"), NGX_HTTP_OSINT_TPL_TARGET_TYPE },
    { ngx_string("osint_api_key"), NGX_HTTP_OSINT_TPL_API_KEY },

    /* VirusTotal's URL identifier: base64url of the URL, no padding */
    { ngx_string("osint_target_b64url"), NGX_HTTP_OSINT_TPL_TARGET_B64URL },

    /* the domain of an e-mail address or the host of a url */
    { ngx_string("osint_target_domain"), NGX_HTTP_OSINT_TPL_TARGET_DOMAIN },
    { ngx_null_string, 0 }
};


static ngx_int_t ngx_http_osint_tpl_add(ngx_http_osint_tpl_t *tpl,
    ngx_http_osint_tpl_part_e type, u_char *p, size_t len);
static ngx_uint_t ngx_http_osint_tpl_header_safe(ngx_str_t *s);


/*
 * Returns NGX_CONF_OK or an error message for ngx_conf_log_error(); the
 * caller says which directive the template belongs to.
 */

char *
ngx_http_osint_tpl_compile(ngx_conf_t *cf, ngx_str_t *src,
    ngx_http_osint_tpl_t *tpl)
{
    u_char                    *p, *last, *start, *name, *msg;
    size_t                     len;
    ngx_uint_t                 braces;
    ngx_http_osint_tpl_var_t  *v;

    if (ngx_array_init(&tpl->parts, cf->pool, 4,
                       sizeof(ngx_http_osint_tpl_part_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    p = src->data;
    last = p + src->len;
    start = p;

    while (p < last) {

        if (*p == CR || *p == LF || *p == '\0') {
            return "contains a control character";
        }

        if (*p != '$') {
            p++;
            continue;
        }

        if (p > start
            && ngx_http_osint_tpl_add(tpl, NGX_HTTP_OSINT_TPL_LITERAL,
                                      start, p - start)
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        p++;
        braces = (p < last && *p == '{');

        if (braces) {
            p++;
        }

        name = p;

        while (p < last && (isalnum(*p) || *p == '_')) {
            p++;
        }

        len = p - name;

        if (braces) {
            if (p == last || *p != '}') {
                return "has an unterminated \"${\"";
            }

            p++;
        }

        for (v = ngx_http_osint_tpl_vars; v->name.len; v++) {
            if (v->name.len == len
                && ngx_strncmp(v->name.data, name, len) == 0)
            {
                break;
            }
        }

        if (v->name.len == 0) {
            msg = ngx_pnalloc(cf->pool, len + sizeof(
                              "uses an unknown variable \"$\"; known are "
                              "$osint_target, $osint_target_type, "
                              "$osint_target_b64url, $osint_target_domain "
                              "and $osint_api_key"));
            if (msg == NULL) {
                return NGX_CONF_ERROR;
            }

            (void) ngx_sprintf(msg, "uses an unknown variable \"$%*s\"; "
                               "known are $osint_target, $osint_target_type, "
                               "$osint_target_b64url, $osint_target_domain "
                               "and $osint_api_key%Z",
                               len, name);

            return (char *) msg;
        }

        if (ngx_http_osint_tpl_add(tpl, v->type, NULL, 0) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        start = p;
    }

    if (p > start
        && ngx_http_osint_tpl_add(tpl, NGX_HTTP_OSINT_TPL_LITERAL,
                                  start, p - start)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_osint_tpl_add(ngx_http_osint_tpl_t *tpl,
    ngx_http_osint_tpl_part_e type, u_char *p, size_t len)
{
    ngx_http_osint_tpl_part_t  *part;

    part = ngx_array_push(&tpl->parts);
    if (part == NULL) {
        return NGX_ERROR;
    }

    part->type = type;
    part->text.data = p;
    part->text.len = len;

    return NGX_OK;
}


/* no CR, LF or NUL: nothing that ends a header line */

static ngx_uint_t
ngx_http_osint_tpl_header_safe(ngx_str_t *s)
{
    size_t  i;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] == CR || s->data[i] == LF || s->data[i] == '\0') {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_http_osint_tpl_has(ngx_http_osint_tpl_t *tpl,
    ngx_http_osint_tpl_part_e type)
{
    ngx_uint_t                  i;
    ngx_http_osint_tpl_part_t  *part;

    part = tpl->parts.elts;

    for (i = 0; i < tpl->parts.nelts; i++) {
        if (part[i].type == type) {
            return 1;
        }
    }

    return 0;
}


/*
 * Expands into a NUL-terminated string allocated from pool.  The api key
 * is a url or form component like the target, percent-encoded; in a
 * header it goes as it is, since "+/=" of a base64 key must reach the
 * provider so.  A key nginx could not send in a header is refused at
 * start (ngx_http_osint_provider.c); here a CR, LF or NUL still fails
 * the expansion rather than split the request.
 */

u_char *
ngx_http_osint_tpl_expand(ngx_pool_t *pool, ngx_http_osint_tpl_t *tpl,
    ngx_str_t *target, ngx_uint_t type, ngx_str_t *api_key, size_t *len)
{
    u_char                     *buf, *d;
    size_t                      n;
    ngx_str_t                   src, dst, domain;
    ngx_uint_t                  i, pass;
    const char                 *tname;
    ngx_http_osint_tpl_part_t  *part;

    part = tpl->parts.elts;
    tname = ngx_http_osint_type_name(type);
    ngx_http_osint_target_domain(target, type, &domain);
    buf = NULL;
    d = NULL;
    n = 0;

    /* pass 0 measures, pass 1 writes */

    for (pass = 0; pass < 2; pass++) {

        for (i = 0; i < tpl->parts.nelts; i++) {

            switch (part[i].type) {

            case NGX_HTTP_OSINT_TPL_LITERAL:
                if (d) {
                    d = ngx_cpymem(d, part[i].text.data, part[i].text.len);

                } else {
                    n += part[i].text.len;
                }

                break;

            case NGX_HTTP_OSINT_TPL_TARGET:
                if (d) {
                    d += ngx_http_osint_escape_component(d, target->data,
                                                         target->len);

                } else {
                    n += ngx_http_osint_escape_component(NULL, target->data,
                                                         target->len);
                }

                break;

            case NGX_HTTP_OSINT_TPL_TARGET_DOMAIN:
                if (d) {
                    d += ngx_http_osint_escape_component(d, domain.data,
                                                         domain.len);

                } else {
                    n += ngx_http_osint_escape_component(NULL, domain.data,
                                                         domain.len);
                }

                break;

            case NGX_HTTP_OSINT_TPL_TARGET_TYPE:
                if (d) {
                    d = ngx_cpymem(d, tname, ngx_strlen(tname));

                } else {
                    n += ngx_strlen(tname);
                }

                break;

            case NGX_HTTP_OSINT_TPL_TARGET_B64URL:

                /* only URL-safe letters: nothing to escape */

                if (d) {
                    src.data = target->data;
                    src.len = target->len;
                    dst.data = d;
                    ngx_encode_base64url(&dst, &src);
                    d += dst.len;

                } else {
                    n += ngx_base64_encoded_length(target->len);
                }

                break;

            case NGX_HTTP_OSINT_TPL_API_KEY:
                if (tpl->raw_key) {
                    if (d) {
                        /* ngx_cpymem() of a NULL data is undefined */
                        d = api_key->len ? ngx_cpymem(d, api_key->data,
                                                      api_key->len)
                                         : d;

                    } else if (ngx_http_osint_tpl_header_safe(api_key)) {
                        n += api_key->len;

                    } else {
                        return NULL;
                    }

                } else if (d) {
                    d += ngx_http_osint_escape_component(d, api_key->data,
                                                         api_key->len);

                } else {
                    n += ngx_http_osint_escape_component(NULL, api_key->data,
                                                         api_key->len);
                }

                break;
            }
        }

        if (pass == 0) {
            buf = ngx_pnalloc(pool, n + 1);
            if (buf == NULL) {
                return NULL;
            }

            d = buf;
        }
    }

    /* what was written: base64url without padding is shorter than measured */

    *d = '\0';
    *len = d - buf;

    return buf;
}
