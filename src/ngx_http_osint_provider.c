
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


#define NGX_HTTP_OSINT_DEFAULT_TIMEOUT      3000
#define NGX_HTTP_OSINT_DEFAULT_FAILURES     5
#define NGX_HTTP_OSINT_DEFAULT_COOLDOWN     30000
#define NGX_HTTP_OSINT_DEFAULT_WINDOW       60000
#define NGX_HTTP_OSINT_PROBE_INTERVAL       60000
#define NGX_HTTP_OSINT_DEFAULT_MIN_CALLS    20
#define NGX_HTTP_OSINT_DEFAULT_BACKOFF      200
#define NGX_HTTP_OSINT_DEFAULT_MAX_BACKOFF  5000
#define NGX_HTTP_OSINT_DEFAULT_REDIRECTS    3       /* without an api_key */
#define NGX_HTTP_OSINT_MAX_REDIRECTS        10

/*
 * A worker's transfers to one provider, and calls waiting for one: enough
 * for a busy provider (256 in flight at 200 ms is 1280 calls a second a
 * worker), few enough that its descriptors fit worker_connections and
 * libcurl's search of the host's cached connections stays short.
 */
#define NGX_HTTP_OSINT_DEFAULT_CONNS        256
#define NGX_HTTP_OSINT_DEFAULT_CONNS_QUEUE  1024


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
static char *ngx_http_osint_sub_rate(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_quota(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_retries(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_breaker(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_cache_ttl(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_body(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_redirects(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_probe(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_private(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_osint_sub_connections(ngx_conf_t *cf,
    ngx_http_osint_provider_t *p, ngx_str_t *value, ngx_uint_t n);


static ngx_http_osint_sub_t  ngx_http_osint_subs[] = {
    { ngx_string("types"), 1, 9, ngx_http_osint_sub_types },
    { ngx_string("url"), 1, 1, ngx_http_osint_sub_url },
    { ngx_string("format"), 1, 1, ngx_http_osint_sub_format },
    { ngx_string("header"), 1, 1, ngx_http_osint_sub_header },
    { ngx_string("api_key"), 1, 1, ngx_http_osint_sub_api_key },
    { ngx_string("timeout"), 1, 1, ngx_http_osint_sub_timeout },
    { ngx_string("field"), 2, 2, ngx_http_osint_sub_field },
    { ngx_string("rate"), 1, 6, ngx_http_osint_sub_rate },
    { ngx_string("quota"), 1, 5, ngx_http_osint_sub_quota },
    { ngx_string("budget"), 1, 1, ngx_http_osint_budget_conf },
    { ngx_string("retries"), 1, 3, ngx_http_osint_sub_retries },
    { ngx_string("breaker"), 1, 7, ngx_http_osint_sub_breaker },
    { ngx_string("cache_ttl"), 1, 4, ngx_http_osint_sub_cache_ttl },
    { ngx_string("body"), 1, 1, ngx_http_osint_sub_body },
    { ngx_string("redirects"), 1, 1, ngx_http_osint_sub_redirects },
    { ngx_string("found"), 1, 2, ngx_http_osint_found_conf },
    { ngx_string("private"), 1, 1, ngx_http_osint_sub_private },
    { ngx_string("probe"), 1, 3, ngx_http_osint_sub_probe },
    { ngx_string("connections"), 1, 2, ngx_http_osint_sub_connections },
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
            break;
        }
    }

    if (value[1].len == 0 || c < value[1].data + value[1].len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid osint_provider name \"%V\": only "
                           "letters, digits, \"_\" and \"-\" are allowed",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (value[1].len >= NGX_HTTP_OSINT_NAME_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "osint_provider name \"%V\" is longer than %d "
                           "characters", &value[1], NGX_HTTP_OSINT_NAME_MAX - 1);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_osint_provider_find(&omcf->providers, value[1].data,
                                     value[1].len))
    {
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
     *     p->own = { ... };              no rate limit, no quota
     *     p->budget = NULL;              no shared budget
     *     p->retry = { 0, 0, 0 };        no retries
     *     p->disabled = 0;
     */

    p->name = value[1];
    p->index = omcf->providers.nelts - 1;
    p->timeout = NGX_CONF_UNSET_MSEC;
    p->cache_ttl = NGX_CONF_UNSET_MSEC;
    p->cache_not_found = NGX_CONF_UNSET_MSEC;
    p->redirects = NGX_CONF_UNSET_UINT;
    p->conns = NGX_CONF_UNSET_UINT;
    p->conns_queue = NGX_CONF_UNSET_UINT;

    /* a dead provider must not cost every lookup its full timeout */

    p->breaker.failures = NGX_HTTP_OSINT_DEFAULT_FAILURES;
    p->breaker.cooldown = NGX_HTTP_OSINT_DEFAULT_COOLDOWN;
    p->breaker.half_open = 1;
    p->breaker.successes = 1;
    p->breaker.window = NGX_HTTP_OSINT_DEFAULT_WINDOW;
    p->breaker.min_calls = NGX_HTTP_OSINT_DEFAULT_MIN_CALLS;

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

    /*
     * the target goes in the url (or the domain of it, for an MX query of
     * an address's domain), or in the form body of a POST
     */

    if (!ngx_http_osint_tpl_has(&p->url, NGX_HTTP_OSINT_TPL_TARGET)
        && !ngx_http_osint_tpl_has(&p->url, NGX_HTTP_OSINT_TPL_TARGET_B64URL)
        && !ngx_http_osint_tpl_has(&p->url, NGX_HTTP_OSINT_TPL_TARGET_DOMAIN)
        && !(p->body_source.len
             && ngx_http_osint_tpl_has(&p->body, NGX_HTTP_OSINT_TPL_TARGET)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid url \"%V\" in osint_provider \"%V\": "
                           "it does not use $osint_target",
                           &p->url_source, &p->name);
        return NGX_CONF_ERROR;
    }

    if (p->types == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no \"types\" in osint_provider \"%V\"", &p->name);
        return NGX_CONF_ERROR;
    }

    if (p->probe_target.len && !(p->types & p->probe_type)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the probe target \"%V\" of osint_provider \"%V\" "
                           "is of type %s, which it does not serve",
                           &p->probe_target, &p->name,
                           ngx_http_osint_type_name(p->probe_type));
        return NGX_CONF_ERROR;
    }

    if (p->api_key_env.len == 0) {
        uses_key = ngx_http_osint_tpl_has(&p->url, NGX_HTTP_OSINT_TPL_API_KEY)
                   || (p->body_source.len
                       && ngx_http_osint_tpl_has(&p->body,
                                                 NGX_HTTP_OSINT_TPL_API_KEY));

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

    if (ngx_http_osint_found_check(cf, p) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_osint_plain_origin(cf, p) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_msec_value(p->timeout, NGX_HTTP_OSINT_DEFAULT_TIMEOUT);
    ngx_conf_init_uint_value(p->conns, NGX_HTTP_OSINT_DEFAULT_CONNS);
    ngx_conf_init_uint_value(p->conns_queue,
                             NGX_HTTP_OSINT_DEFAULT_CONNS_QUEUE);

    /* a keyed provider follows no redirect unless told to */

    ngx_conf_init_uint_value(p->redirects,
                             p->api_key_env.len
                             ? 0 : NGX_HTTP_OSINT_DEFAULT_REDIRECTS);

    return NGX_CONF_OK;
}


static char *
ngx_http_osint_provider_directive(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf)
{
    ngx_http_osint_provider_t *p = (ngx_http_osint_provider_t *) conf;

    char                  *rv;
    ngx_str_t             *value;
    ngx_uint_t             n, i;
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

    i = ngx_http_osint_param_repeated(value, 1, n);

    if (i) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate parameter \"%V\" in \"%V\" of "
                           "osint_provider \"%V\"", &value[i], &value[0],
                           &p->name);
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

    if (p->types) {
        return "is duplicate";
    }

    for (i = 1; i <= n; i++) {
        if (ngx_http_osint_type_parse(&value[i], &type) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown target type \"%V\" in osint_provider "
                               "\"%V\"; known are ip, ipv4, ipv6, domain, "
                               "email, url, hash, phone and username",
                               &value[i], &p->name);
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

    p->url_source = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_osint_sub_format(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_uint_t  i;

    if (p->format_set) {
        return "is duplicate";
    }

    p->format_set = 1;

    for (i = 0; ngx_http_osint_formats[i].name; i++) {
        if (ngx_strlen(ngx_http_osint_formats[i].name) == value[1].len
            && ngx_strncmp(ngx_http_osint_formats[i].name, value[1].data,
                           value[1].len) == 0)
        {
            p->format = i;
            return NGX_CONF_OK;
        }
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

    /* a header value takes the key as providers issue it: "+/=" kept */

    tpl->raw_key = 1;

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

    if (p->api_key_env.len) {
        return "is duplicate";
    }

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
                           "variable \"%s\" is not set or empty",
                           &p->name, name);
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

    if (p->timeout != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

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
    char                    *rv;
    ngx_uint_t               i;
    ngx_http_osint_field_t  *f;

    if (value[1].len == 0) {
        return "has an empty field name";
    }

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

    rv = ngx_http_osint_field_compile(cf, &value[1], &value[2], f);

    if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
        return rv;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid field path \"%V\" in osint_provider \"%V\": "
                       "expected \"$\" followed by \".key\", \"['key']\" or "
                       "\"[N]\" steps", &value[2], &p->name);

    return NGX_CONF_ERROR;
}


/*
 * "rate N r/s|r/m [burst=M] [wait=T] [sync=redis] [nodes=N]", as
 * limit_req_zone writes rates
 */

static char *
ngx_http_osint_sub_rate(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t    rate;
    ngx_uint_t   i, window;

    if (p->own.rate.per_ms > 0.0) {
        return "is duplicate";
    }

    if (ngx_http_osint_rate_parse(&value[1], &rate, &window) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate \"%V\" in osint_provider \"%V\"",
                           &value[1], &p->name);
        return NGX_CONF_ERROR;
    }

    p->own.rate.burst = 1;
    p->own.rate.wait = 0;

    for (i = 2; i <= n; i++) {

        if (value[i].len == 8
            && ngx_strncmp(value[i].data, "adaptive", 8) == 0
            && !p->own.rate.adaptive)
        {
            p->own.rate.adaptive = 1;
            continue;
        }

        if ((value[i].len > 5 && ngx_strncmp(value[i].data, "rate=", 5) == 0)
            || (value[i].len > 6
                && ngx_strncmp(value[i].data, "quota=", 6) == 0))
        {
            goto invalid;
        }

        if (ngx_http_osint_budget_param(&value[i], &p->own) != NGX_OK) {
            goto invalid;
        }
    }

    p->own.rate.per_ms = (double) rate / (double) (window * 1000);

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"rate\" of "
                       "osint_provider \"%V\"", &value[i], &p->name);

    return NGX_CONF_ERROR;
}


/*
 * "quota N/h|N/d|N/mo ... [sync=redis] [nodes=N]": a budget per UTC hour,
 * day and month, one or several; a window once
 */

static char *
ngx_http_osint_sub_quota(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t               rc;
    ngx_str_t               v;
    ngx_uint_t              i;
    ngx_http_osint_quota_t  q;

    for (i = 1; i <= n; i++) {

        if (ngx_http_osint_quota_parse(&value[i], &q) == NGX_OK) {
            if (p->own.quota[q.unit - 1]) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate quota window in \"%V\" of "
                                   "osint_provider \"%V\"", &value[i],
                                   &p->name);
                return NGX_CONF_ERROR;
            }

            p->own.quota[q.unit - 1] = q.limit;
            continue;
        }

        v = value[i];
        rc = NGX_DECLINED;

        if (!(v.len > 5 && ngx_strncmp(v.data, "rate=", 5) == 0)
            && !(v.len > 6 && ngx_strncmp(v.data, "quota=", 6) == 0)
            && !(v.len > 6 && ngx_strncmp(v.data, "burst=", 6) == 0)
            && !(v.len > 5 && ngx_strncmp(v.data, "wait=", 5) == 0))
        {
            rc = ngx_http_osint_budget_param(&v, &p->own);
        }

        if (rc != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid quota \"%V\" in osint_provider "
                               "\"%V\": expected N/h, N/d or N/mo",
                               &value[i], &p->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* "retries N [backoff=T] [max_backoff=T]" */

static char *
ngx_http_osint_sub_retries(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t   retries, rc;
    ngx_uint_t  i;

    if (p->retry.backoff) {
        return "is duplicate";
    }

    retries = ngx_atoi(value[1].data, value[1].len);

    if (retries == NGX_ERROR || retries > 10) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid retries \"%V\" in osint_provider \"%V\": "
                           "expected 0..10", &value[1], &p->name);
        return NGX_CONF_ERROR;
    }

    p->retry.retries = retries;
    p->retry.backoff = NGX_HTTP_OSINT_DEFAULT_BACKOFF;
    p->retry.max_backoff = NGX_HTTP_OSINT_DEFAULT_MAX_BACKOFF;

    for (i = 2; i <= n; i++) {

        rc = ngx_http_osint_param_msec(&value[i], "backoff", 1,
                                       &p->retry.backoff);

        if (rc != NGX_DECLINED) {
            if (rc != NGX_OK) {
                goto invalid;
            }

            continue;
        }

        rc = ngx_http_osint_param_msec(&value[i], "max_backoff", 1,
                                       &p->retry.max_backoff);

        if (rc != NGX_DECLINED) {
            if (rc != NGX_OK) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (p->retry.max_backoff < p->retry.backoff) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"max_backoff\" is less than \"backoff\" in "
                           "osint_provider \"%V\"", &p->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"retries\" of "
                       "osint_provider \"%V\"", &value[i], &p->name);

    return NGX_CONF_ERROR;
}


/*
 * "breaker [failures=F] [rate=P% [window=T] [min=M]] [cooldown=T]
 * [half_open=H] [successes=S]" or "breaker off".  rate= without failures=
 * leaves the failure rate as the only trigger.
 */

static char *
ngx_http_osint_sub_breaker(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t                       rc;
    ngx_uint_t                      i, k, row, windowed;
    ngx_http_osint_breaker_conf_t  *b;

    b = &p->breaker;

    struct {
        char        *name;
        ngx_uint_t   max;
        ngx_uint_t  *out;
    } nums[] = {
        { "failures", NGX_HTTP_OSINT_FAILURES_MAX, &b->failures },
        { "half_open", NGX_HTTP_OSINT_HALF_OPEN_MAX, &b->half_open },
        { "successes", NGX_HTTP_OSINT_SUCCESSES_MAX, &b->successes },
        { "min", NGX_HTTP_OSINT_MIN_CALLS_MAX, &b->min_calls }
    };

    if (p->breaker_set) {
        return "is duplicate";
    }

    p->breaker_set = 1;

    if (n == 1 && value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0)
    {
        b->failures = 0;
        return NGX_CONF_OK;
    }

    row = 0;
    windowed = 0;

    for (i = 1; i <= n; i++) {

        for (k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
            rc = ngx_http_osint_param_num(&value[i], nums[k].name,
                                          nums[k].max, nums[k].out);
            if (rc != NGX_DECLINED) {
                break;
            }
        }

        if (rc == NGX_DECLINED) {
            rc = ngx_http_osint_param_msec(&value[i], "cooldown", 1,
                                           &b->cooldown);
            k = 4;
        }

        if (rc == NGX_DECLINED) {
            rc = ngx_http_osint_param_msec(&value[i], "window", 1,
                                           &b->window);
            k = 5;
        }

        if (rc == NGX_DECLINED) {
            rc = ngx_http_osint_param_percent(&value[i], "rate", &b->rate);
            k = 6;
        }

        if (rc != NGX_OK) {
            goto invalid;
        }

        row |= (k == 0);
        windowed |= (k == 3 || k == 5);
    }

    if (b->window < NGX_HTTP_OSINT_WINDOW_MIN
        || b->window > NGX_HTTP_OSINT_WINDOW_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"window\" of \"breaker\" of osint_provider "
                           "\"%V\" must be 1s..1h", &p->name);
        return NGX_CONF_ERROR;
    }

    if (b->rate == 0) {
        if (windowed) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"window\" and \"min\" of \"breaker\" of "
                               "osint_provider \"%V\" require \"rate\"",
                               &p->name);
            return NGX_CONF_ERROR;
        }

    } else if (!row) {
        b->failures = 0;    /* the failure rate alone */
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"breaker\" of "
                       "osint_provider \"%V\"", &value[i], &p->name);

    return NGX_CONF_ERROR;
}


/*
 * "cache_ttl T [not_found=T] [stale=T] [revalidate=T]" or "cache_ttl off".
 * not_found defaults to T; stale (served when the provider fails) and
 * revalidate (served while a background call refreshes) to none.
 */

static char *
ngx_http_osint_sub_cache_ttl(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t    rc;
    ngx_uint_t   i, j;
    ngx_msec_t   t, *param[3];

    static char  *names[] = { "not_found", "stale", "revalidate" };

    if (p->cache_ttl != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    if (n == 1 && value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0)
    {
        p->cache_ttl = 0;
        return NGX_CONF_OK;
    }

    t = ngx_parse_time(&value[1], 0);

    if (t == (ngx_msec_t) NGX_ERROR) {
        i = 1;
        goto invalid;
    }

    p->cache_ttl = t;

    param[0] = &p->cache_not_found;
    param[1] = &p->cache_stale;
    param[2] = &p->cache_revalidate;

    for (i = 2; i <= n; i++) {

        rc = NGX_DECLINED;

        for (j = 0; rc == NGX_DECLINED && j < 3; j++) {
            rc = ngx_http_osint_param_msec(&value[i], names[j], 0, param[j]);
        }

        if (rc != NGX_OK) {
            goto invalid;
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"cache_ttl\" of "
                       "osint_provider \"%V\"", &value[i], &p->name);

    return NGX_CONF_ERROR;
}


/*
 * "body TEMPLATE": the call is a POST of this form body (URLhaus asks so),
 * with the target percent-encoded like everywhere else, which is exactly
 * application/x-www-form-urlencoded.
 */

static char *
ngx_http_osint_sub_body(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    if (p->body_source.len) {
        return "is duplicate";
    }

    if (value[1].len == 0) {
        return "is empty";
    }

    p->body_source = value[1];

    return ngx_http_osint_tpl_compile(cf, &value[1], &p->body);
}


/*
 * "redirects N": how many redirects a call follows, 0..10.  Hops to the
 * provider's own origin carry its headers; others go without them and
 * may reach public addresses only (ngx_http_osint_fetch.c).
 */

static char *
ngx_http_osint_sub_redirects(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t  redirects;

    if (p->redirects != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    redirects = ngx_atoi(value[1].data, value[1].len);

    if (redirects == NGX_ERROR
        || redirects > NGX_HTTP_OSINT_MAX_REDIRECTS)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redirects \"%V\" in osint_provider "
                           "\"%V\": expected 0..%d", &value[1], &p->name,
                           NGX_HTTP_OSINT_MAX_REDIRECTS);
        return NGX_CONF_ERROR;
    }

    p->redirects = redirects;

    return NGX_CONF_OK;
}


/*
 * "probe TARGET [interval=T] [breaker]": an active probe of the provider
 * (src/ngx_http_osint_probe.c); interval 1s..1d, default 60s
 */

static char *
ngx_http_osint_sub_probe(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char      *t;
    ngx_int_t    rc;
    ngx_uint_t   i;
    const char  *reason;

    if (p->probe_target.len) {
        return "is duplicate";
    }

    rc = ngx_http_osint_target_parse(cf->pool, &value[1], NGX_HTTP_OSINT_ANY,
                                     &p->probe_target, &p->probe_type,
                                     &reason);
    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid probe target \"%V\" in osint_provider "
                           "\"%V\": %s", &value[1], &p->name, reason);
        return NGX_CONF_ERROR;
    }

    /* NUL-terminated for the status JSON */

    t = ngx_pnalloc(cf->pool, p->probe_target.len + 1);
    if (t == NULL) {
        return NGX_CONF_ERROR;
    }

    *ngx_cpymem(t, p->probe_target.data, p->probe_target.len) = '\0';
    p->probe_target.data = t;

    p->probe_interval = NGX_HTTP_OSINT_PROBE_INTERVAL;

    for (i = 2; i <= n; i++) {

        if (value[i].len == 7 && ngx_strncmp(value[i].data, "breaker", 7) == 0
            && !p->probe_breaker)
        {
            p->probe_breaker = 1;
            continue;
        }

        rc = ngx_http_osint_param_msec(&value[i], "interval", 1,
                                       &p->probe_interval);

        if (rc != NGX_OK || p->probe_interval < 1000
            || p->probe_interval > 86400000)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"probe\" of "
                               "osint_provider \"%V\"", &value[i], &p->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* "private on": an internal provider, which may receive private targets */

static char *
ngx_http_osint_sub_private(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    if (p->private_set) {
        return "is duplicate";
    }

    if (value[1].len == 2 && ngx_strncmp(value[1].data, "on", 2) == 0) {
        p->private_targets = 1;

    } else if (value[1].len != 3
               || ngx_strncmp(value[1].data, "off", 3) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"private\" of "
                           "osint_provider \"%V\", it must be \"on\" or "
                           "\"off\"", &value[1], &p->name);
        return NGX_CONF_ERROR;
    }

    p->private_set = 1;

    return NGX_CONF_OK;
}


/*
 * osint_private_nets CIDR|.domain ...: the organisation's own ranges and
 * domains, private as the built-in ones are (src/core/
 * ngx_http_osint_private.c); repeatable, each adds
 */

char *
ngx_http_osint_private_nets(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_osint_main_conf_t *omcf = conf;

    ngx_int_t              rc;
    ngx_str_t             *value, domain, *d;
    ngx_uint_t             i;
    ngx_http_osint_net_t   net, *np;

    value = cf->args->elts;

    if (omcf->private_nets.nets == NULL) {
        omcf->private_nets.nets = ngx_array_create(cf->pool, 4,
                                              sizeof(ngx_http_osint_net_t));
        omcf->private_nets.domains = ngx_array_create(cf->pool, 4,
                                                 sizeof(ngx_str_t));

        if (omcf->private_nets.nets == NULL
            || omcf->private_nets.domains == NULL)
        {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 1; i < cf->args->nelts; i++) {
        rc = ngx_http_osint_private_parse(&value[i], &net, &domain);

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_AGAIN) {
            d = ngx_array_push(omcf->private_nets.domains);
            if (d == NULL) {
                return NGX_CONF_ERROR;
            }

            d->len = domain.len;
            d->data = ngx_pnalloc(cf->pool, domain.len);
            if (d->data == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_strlow(d->data, domain.data, domain.len);
            continue;
        }

        if (rc == NGX_DONE) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "low address bits of %V are meaningless",
                               &value[i]);
        }

        np = ngx_array_push(omcf->private_nets.nets);
        if (np == NULL) {
            return NGX_CONF_ERROR;
        }

        *np = net;
    }

    return NGX_CONF_OK;
}


/*
 * "connections N [queue=M]": a worker's transfers to the provider under
 * way at once, at most (so its connections), and calls waiting for one
 * (ngx_http_osint_fetch.c).  queue=0: a call that finds all N busy fails
 * at once.
 */

static char *
ngx_http_osint_sub_connections(ngx_conf_t *cf, ngx_http_osint_provider_t *p,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t   num;
    ngx_str_t   v, *bad;

    if (p->conns != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    bad = &value[1];
    num = ngx_atoi(value[1].data, value[1].len);

    if (num <= 0 || num > NGX_HTTP_OSINT_CONNS_MAX) {
        goto invalid;
    }

    p->conns = num;

    if (n == 2) {
        bad = &value[2];

        if (ngx_http_osint_param(&value[2], "queue", &v) != NGX_OK) {
            goto invalid;
        }

        num = ngx_atoi(v.data, v.len);

        if (num == NGX_ERROR || num > NGX_HTTP_OSINT_CONNS_QUEUE_MAX) {
            goto invalid;
        }

        p->conns_queue = num;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid connections \"%V\" in osint_provider \"%V\": "
                       "expected 1..%d [queue=0..%d]", bad, &p->name,
                       NGX_HTTP_OSINT_CONNS_MAX,
                       NGX_HTTP_OSINT_CONNS_QUEUE_MAX);

    return NGX_CONF_ERROR;
}
