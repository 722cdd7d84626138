
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The osint_provider block: its own small set of directives, parsed with
 * a cf->handler (as the types and map blocks are) and checked for
 * everything that can be known before a request arrives.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


#define NGX_HTTP_OSINT_DEFAULT_TIMEOUT  3000


typedef char *(*ngx_http_osint_sub_pt)(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);

typedef struct {
    ngx_str_t               name;
    ngx_uint_t              min_args;    /* not counting the name */
    ngx_uint_t              max_args;
    ngx_http_osint_sub_pt   handler;
} ngx_http_osint_sub_t;


static char *ngx_http_osint_provider_directive(ngx_conf_t *cf,
    ngx_command_t *dummy, void *conf);
static char *ngx_http_osint_provider_check(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p);
static char *ngx_http_osint_sub_types(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_url(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_format(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_header(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_api_key(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_timeout(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_field(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);


static ngx_http_osint_sub_t  ngx_http_osint_subs[] = {
    { ngx_string("types"), 1, 7, ngx_http_osint_sub_types },
    { ngx_string("url"), 1, 1, ngx_http_osint_sub_url },
    { ngx_string("format"), 1, 1, ngx_http_osint_sub_format },
    { ngx_string("header"), 1, 1, ngx_http_osint_sub_header },
    { ngx_string("api_key"), 1, 1, ngx_http_osint_sub_api_key },
    { ngx_string("timeout"), 1, 1, ngx_http_osint_sub_timeout },
    { ngx_string("field"), 2, 2, ngx_http_osint_sub_field },
    { ngx_null_string, 0, 0, NULL }
};


char *
ngx_http_osint_provider_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_osint_main_conf_t *omcf = conf;

    char                       *rv;
    u_char                     *c;
    ngx_str_t                  *value;
    ngx_conf_t                  save;
    ngx_http_osint_provider_t  *p;

    value = cf->args->elts;

    for (c = value[1].data; c < value[1].data + value[1].len; c++) {
        if (!(isalnum(*c) || *c == '_' || *c == '-')) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid osint_provider name \"%V\": only "
                               "letters, digits, \"_\" and \"-\" are allowed",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_osint_provider_find(omcf, value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate osint_provider \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    p = ngx_array_push(&omcf->providers);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(p, sizeof(ngx_http_osint_provider_t));

    /*
     * set by ngx_memzero():
     *
     *     p->types = 0;
     *     p->format = NGX_HTTP_OSINT_FORMAT_JSON;
     *     p->url_source = { 0, NULL };
     *     p->api_key = { 0, NULL };
     *     p->disabled = 0;
     */

    p->name = value[1];
    p->index = omcf->providers.nelts - 1;
    p->timeout = NGX_CONF_UNSET_MSEC;
    p->file = cf->conf_file->file.name.data;
    p->line = cf->conf_file->line;

    if (ngx_array_init(&p->headers, cf->pool, 2, sizeof(ngx_http_osint_tpl_t))
        != NGX_OK
        || ngx_array_init(&p->fields, cf->pool, 4,
                          sizeof(ngx_http_osint_field_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    save = *cf;
    cf->handler = ngx_http_osint_provider_directive;
    cf->handler_conf = (char *) p;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_osint_provider_check(cf, p);
}


static char *
ngx_http_osint_provider_check(ngx_conf_t *cf, ngx_http_osint_provider_t *p)
{
    ngx_int_t              uses_key;
    ngx_uint_t             i;
    ngx_http_osint_tpl_t  *tpl;

    if (p->url_source.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no \"url\" in osint_provider \"%V\"", &p->name);
        return NGX_CONF_ERROR;
    }

    if (p->types == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no \"types\" in osint_provider \"%V\"", &p->name);
        return NGX_CONF_ERROR;
    }

    if (p->api_key_env.len == 0) {
        uses_key = ngx_http_osint_tpl_has(&p->url, NGX_HTTP_OSINT_TPL_API_KEY);

        tpl = p->headers.elts;

        for (i = 0; i < p->headers.nelts; i++) {
            uses_key |= ngx_http_osint_tpl_has(&tpl[i],
                                               NGX_HTTP_OSINT_TPL_API_KEY);
        }

        if (uses_key) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "osint_provider \"%V\" uses $osint_api_key "
                               "without \"api_key\"", &p->name);
            return NGX_CONF_ERROR;
        }
    }

    ngx_conf_init_msec_value(p->timeout, NGX_HTTP_OSINT_DEFAULT_TIMEOUT);

    return NGX_CONF_OK;
}


static char *
ngx_http_osint_provider_directive(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf)
{
    ngx_http_osint_provider_t *p = (ngx_http_osint_provider_t *) conf;

    char                  *rv;
    ngx_str_t             *value;
    ngx_uint_t             n;
    ngx_http_osint_sub_t  *sub;

    value = cf->args->elts;
    n = cf->args->nelts - 1;

    for (sub = ngx_http_osint_subs; sub->name.len; sub++) {
        if (sub->name.len == value[0].len
            && ngx_strncmp(sub->name.data, value[0].data, value[0].len) == 0)
        {
            break;
        }
    }

    if (sub->name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown directive \"%V\" in osint_provider \"%V\"",
                           &value[0], &p->name);
        return NGX_CONF_ERROR;
    }

    if (n < sub->min_args || n > sub->max_args) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of arguments in \"%V\" of "
                           "osint_provider \"%V\"", &value[0], &p->name);
        return NGX_CONF_ERROR;
    }

    rv = sub->handler(cf, p, value, n);

    if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
        return rv;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" of osint_provider "
                       "\"%V\" %s", &value[0], &p->name, rv);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_osint_sub_types(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_uint_t  i, type;

    for (i = 1; i <= n; i++) {
        if (ngx_http_osint_type_parse(&value[i], &type) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown target type \"%V\" in osint_provider "
                               "\"%V\"; known are ip, ipv4, ipv6, domain, "
                               "email, url and hash", &value[i], &p->name);
            return NGX_CONF_ERROR;
        }

        p->types |= type;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_osint_sub_url(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    char                       *rv;
    u_char                     *host, *end;
    size_t                      scheme;
    ngx_uint_t                  i;
    ngx_http_osint_tpl_part_t  *part;

    if (p->url_source.len) {
        return "is duplicate";
    }

    if (value[1].len > 7
        && ngx_strncasecmp(value[1].data, (u_char *) "http://", 7) == 0)
    {
        scheme = 7;

    } else if (value[1].len > 8
               && ngx_strncasecmp(value[1].data, (u_char *) "https://", 8)
                  == 0)
    {
        scheme = 8;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid url \"%V\" in osint_provider \"%V\": "
                           "it must start with \"http://\" or \"https://\"",
                           &value[1], &p->name);
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_osint_tpl_compile(cf, &value[1], &p->url);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /* the host part must be literal: variables belong in path or query */

    host = value[1].data + scheme;
    end = host;

    while (end < value[1].data + value[1].len
           && *end != '/' && *end != '?' && *end != '#')
    {
        end++;
    }

    part = p->url.parts.elts;

    if (end == host || ngx_strlchr(host, end, '$')
        || part[0].type != NGX_HTTP_OSINT_TPL_LITERAL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid url \"%V\" in osint_provider \"%V\": "
                           "the host must be given literally",
                           &value[1], &p->name);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < p->url.parts.nelts; i++) {
        if (part[i].type == NGX_HTTP_OSINT_TPL_TARGET) {
            break;
        }
    }

    if (i == p->url.parts.nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid url \"%V\" in osint_provider \"%V\": "
                           "it does not use $osint_target",
                           &value[1], &p->name);
        return NGX_CONF_ERROR;
    }

    p->url_source = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_osint_sub_format(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    if (value[1].len == 4 && ngx_strncmp(value[1].data, "json", 4) == 0) {
        p->format = NGX_HTTP_OSINT_FORMAT_JSON;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown format \"%V\" in osint_provider \"%V\"",
                       &value[1], &p->name);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_osint_sub_header(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char                *c, *colon;
    ngx_http_osint_tpl_t  *tpl;

    colon = ngx_strlchr(value[1].data, value[1].data + value[1].len, ':');

    if (colon == NULL || colon == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid header \"%V\" in osint_provider \"%V\": "
                           "expected \"Name: value\"", &value[1], &p->name);
        return NGX_CONF_ERROR;
    }

    /* the field name is an RFC 9110 token and never templated */

    for (c = value[1].data; c < colon; c++) {
        if (!(isalnum(*c) || ngx_strchr("!#$%&'*+-.^_`|~", *c))
            || *c == '$')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid header name in \"%V\" of "
                               "osint_provider \"%V\"", &value[1], &p->name);
            return NGX_CONF_ERROR;
        }
    }

    tpl = ngx_array_push(&p->headers);
    if (tpl == NULL) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_osint_tpl_compile(cf, &value[1], tpl);
}


/*
 * "api_key env=NAME": read once from the master's environment, so the key
 * never sits in the configuration file.  A missing key disables the
 * provider instead of failing the start: a keyless install must run.
 */

static char *
ngx_http_osint_sub_api_key(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char  *name, *key, *c;

    if (value[1].len <= 4 || ngx_strncmp(value[1].data, "env=", 4) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid api_key \"%V\" in osint_provider \"%V\": "
                           "expected \"env=NAME\"", &value[1], &p->name);
        return NGX_CONF_ERROR;
    }

    p->api_key_env.data = value[1].data + 4;
    p->api_key_env.len = value[1].len - 4;

    name = ngx_pnalloc(cf->pool, p->api_key_env.len + 1);
    if (name == NULL) {
        return NGX_CONF_ERROR;
    }

    (void) ngx_cpystrn(name, p->api_key_env.data, p->api_key_env.len + 1);

    key = (u_char *) getenv((char *) name);

    if (key == NULL || *key == '\0') {
        p->disabled = 1;

        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "osint_provider \"%V\" is disabled: environment "
                           "variable \"%s\" is not set", &p->name, name);
        return NGX_CONF_OK;
    }

    for (c = key; *c; c++) {
        if (*c < 0x21 || *c > 0x7e) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "api key of osint_provider \"%V\" in \"%s\" "
                               "holds whitespace or non-ASCII bytes",
                               &p->name, name);
            return NGX_CONF_ERROR;
        }
    }

    p->api_key.len = c - key;
    p->api_key.data = ngx_pnalloc(cf->pool, p->api_key.len);
    if (p->api_key.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(p->api_key.data, key, p->api_key.len);

    return NGX_CONF_OK;
}


static char *
ngx_http_osint_sub_timeout(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_msec_t  t;

    t = ngx_parse_time(&value[1], 0);

    if (t == (ngx_msec_t) NGX_ERROR || t == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid timeout \"%V\" in osint_provider \"%V\"",
                           &value[1], &p->name);
        return NGX_CONF_ERROR;
    }

    p->timeout = t;

    return NGX_CONF_OK;
}


static char *
ngx_http_osint_sub_field(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_uint_t               i;
    ngx_http_osint_field_t  *f;

    f = p->fields.elts;

    for (i = 0; i < p->fields.nelts; i++) {
        if (f[i].name.len == value[1].len
            && ngx_strncmp(f[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate field \"%V\" in osint_provider "
                               "\"%V\"", &value[1], &p->name);
            return NGX_CONF_ERROR;
        }
    }

    f = ngx_array_push(&p->fields);
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_osint_field_compile(cf, &value[1], &value[2], f);
}


ngx_http_osint_provider_t *
ngx_http_osint_provider_find(ngx_http_osint_main_conf_t *omcf, u_char *name,
    size_t len)
{
    ngx_uint_t                  i;
    ngx_http_osint_provider_t  *p;

    p = omcf->providers.elts;

    for (i = 0; i < omcf->providers.nelts; i++) {
        if (p[i].name.len == len && ngx_strncmp(p[i].name.data, name, len) == 0)
        {
            return &p[i];
        }
    }

    return NULL;
}
