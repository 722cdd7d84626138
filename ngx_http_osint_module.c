
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Module definition: directives, configuration, worker start and exit.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


#define NGX_HTTP_OSINT_MAX_PROVIDERS  64


/* a count or size directive within 1..max: the post of its command */

typedef struct {
    ngx_conf_post_handler_pt   post_handler;
    char                      *name;
    ngx_uint_t                 max;
    char                      *max_text;
} ngx_http_osint_bounds_t;


static void *ngx_http_osint_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_osint_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_osint_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_osint_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_osint_postconfiguration(ngx_conf_t *cf);
static char *ngx_http_osint_lookup(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_osint_lookup_param(ngx_conf_t *cf,
    ngx_http_osint_loc_conf_t *olcf, ngx_http_osint_set_t *set,
    ngx_str_t *value);
static ngx_int_t ngx_http_osint_resolve_sets(ngx_conf_t *cf,
    ngx_http_osint_main_conf_t *omcf);
static char *ngx_http_osint_positive(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_osint_bounds(ngx_conf_t *cf, void *post, void *data);
static ngx_int_t ngx_http_osint_init_process(ngx_cycle_t *cycle);


static ngx_conf_post_handler_pt  ngx_http_osint_positive_p =
    ngx_http_osint_positive;
static void ngx_http_osint_exit_process(ngx_cycle_t *cycle);


static ngx_http_osint_bounds_t  ngx_http_osint_batch_max_bounds = {
    ngx_http_osint_bounds, "osint_batch_max", NGX_HTTP_OSINT_BATCH_MAX,
    "10000"
};

static ngx_http_osint_bounds_t  ngx_http_osint_concurrency_bounds = {
    ngx_http_osint_bounds, "osint_batch_concurrency",
    NGX_HTTP_OSINT_CONCURRENCY_MAX, "256"
};

static ngx_http_osint_bounds_t  ngx_http_osint_max_body_bounds = {
    ngx_http_osint_bounds, "osint_max_body", NGX_HTTP_OSINT_MAX_BODY_MAX,
    "64m"
};


static ngx_command_t  ngx_http_osint_commands[] = {

    { ngx_string("osint_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_osint_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_provider"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_http_osint_provider_block,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_deadline"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_osint_main_conf_t, deadline),
      &ngx_http_osint_positive_p },

    { ngx_string("osint_budget"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_osint_budget_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_osint_redis_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_cache_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_osint_main_conf_t, cache_ttl),
      NULL },

    { ngx_string("osint_cache_l1"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_osint_main_conf_t, cache_l1),
      NULL },

    { ngx_string("osint_batch_max"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_osint_main_conf_t, batch_max),
      &ngx_http_osint_batch_max_bounds },

    { ngx_string("osint_batch_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_osint_main_conf_t, batch_concurrency),
      &ngx_http_osint_concurrency_bounds },

    { ngx_string("osint_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_osint_main_conf_t, max_body),
      &ngx_http_osint_max_body_bounds },

    { ngx_string("osint_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_osint_main_conf_t, ssl_verify),
      NULL },

    { ngx_string("osint_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_osint_main_conf_t, ssl_trusted_certificate),
      NULL },

    { ngx_string("osint_private_nets"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_osint_private_nets,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_lookup"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE12,
      ngx_http_osint_lookup,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_cache_bypass"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_set_predicate_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_osint_loc_conf_t, cache_bypass),
      NULL },

    { ngx_string("osint_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_osint_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_osint_status_handler },

    { ngx_string("osint_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_osint_health_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_control"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_osint_content,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_osint_control_handler },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_osint_module_ctx = {
    ngx_http_osint_add_variables,          /* preconfiguration */
    ngx_http_osint_postconfiguration,      /* postconfiguration */

    ngx_http_osint_create_main_conf,       /* create main configuration */
    ngx_http_osint_init_main_conf,         /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_osint_create_loc_conf,        /* create location configuration */
    ngx_http_osint_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_osint_module = {
    NGX_MODULE_V1,
    &ngx_http_osint_module_ctx,            /* module context */
    ngx_http_osint_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_osint_init_process,           /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_osint_exit_process,           /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_osint_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_main_conf_t));
    if (omcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     omcf->shm_zone = NULL;
     *     omcf->ssl_trusted_certificate = { 0, NULL };
     *     omcf->lookup_used = 0;
     */

    if (ngx_array_init(&omcf->providers, cf->pool, 8,
                       sizeof(ngx_http_osint_provider_t))
        != NGX_OK
        || ngx_array_init(&omcf->locations, cf->pool, 4,
                          sizeof(ngx_http_osint_set_t))
           != NGX_OK
        || ngx_array_init(&omcf->budgets, cf->pool, 4,
                          sizeof(ngx_http_osint_budget_t))
           != NGX_OK)
    {
        return NULL;
    }

    omcf->deadline = NGX_CONF_UNSET_MSEC;
    omcf->cache_ttl = NGX_CONF_UNSET_MSEC;
    omcf->cache_l1 = NGX_CONF_UNSET;
    omcf->max_body = NGX_CONF_UNSET_SIZE;
    omcf->batch_max = NGX_CONF_UNSET_UINT;
    omcf->batch_concurrency = NGX_CONF_UNSET_UINT;
    omcf->ssl_verify = NGX_CONF_UNSET;

    return omcf;
}


static char *
ngx_http_osint_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_osint_main_conf_t *omcf = conf;

    ngx_uint_t                  i;
    ngx_http_osint_provider_t  *p;

    ngx_str_t  name = ngx_string("osint_request_id");
    ngx_str_t  request_id = ngx_string("request_id");

    ngx_conf_init_msec_value(omcf->deadline, 5000);
    ngx_conf_init_msec_value(omcf->cache_ttl, 3600000);
    ngx_conf_init_value(omcf->cache_l1, 1);
    ngx_conf_init_uint_value(omcf->batch_max, 100);
    ngx_conf_init_uint_value(omcf->batch_concurrency, 8);

    p = omcf->providers.elts;

    for (i = 0; i < omcf->providers.nelts; i++) {
        ngx_conf_init_msec_value(p[i].cache_ttl, omcf->cache_ttl);
        ngx_conf_init_msec_value(p[i].cache_not_found, p[i].cache_ttl);
        p[i].fingerprint = ngx_http_osint_fingerprint(&p[i]);
    }

    if (ngx_http_osint_budgets_init(cf, omcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_size_value(omcf->max_body, 1024 * 1024);
    ngx_conf_init_value(omcf->ssl_verify, 1);

    if (omcf->ssl_trusted_certificate.len) {
        if (ngx_conf_full_name(cf->cycle, &omcf->ssl_trusted_certificate, 1)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        /* libcurl would only say so at the first call: say it now */

        if (access((char *) omcf->ssl_trusted_certificate.data, R_OK) != 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, ngx_errno,
                          "osint_ssl_trusted_certificate \"%V\" cannot be "
                          "read", &omcf->ssl_trusted_certificate);
            return NGX_CONF_ERROR;
        }
    }

    omcf->request_id_index = ngx_http_get_variable_index(cf, &name);

    if (omcf->request_id_index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    omcf->nginx_request_id_index = ngx_http_get_variable_index(cf,
                                                               &request_id);

    if (omcf->nginx_request_id_index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_osint_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_osint_loc_conf_t  *olcf;

    olcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_loc_conf_t));
    if (olcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     olcf->providers = 0;
     *     olcf->types = 0;
     */

    olcf->lookup = NGX_CONF_UNSET;
    olcf->cache_bypass = NGX_CONF_UNSET_PTR;

    return olcf;
}


static char *
ngx_http_osint_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_osint_loc_conf_t *prev = parent;
    ngx_http_osint_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->lookup, prev->lookup, 0);
    ngx_conf_merge_ptr_value(conf->cache_bypass, prev->cache_bypass, NULL);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_osint_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_osint_module);

    if (omcf->providers.nelts > NGX_HTTP_OSINT_MAX_PROVIDERS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many osint_provider blocks, at most %d",
                           NGX_HTTP_OSINT_MAX_PROVIDERS);
        return NGX_ERROR;
    }

    if (omcf->lookup_used && omcf->shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"osint_lookup\" requires \"osint_zone\" "
                           "in the http block");
        return NGX_ERROR;
    }

    if (omcf->control_used && omcf->shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"osint_control\" requires \"osint_zone\" "
                           "in the http block");
        return NGX_ERROR;
    }

    if (omcf->lookup_used && omcf->providers.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"osint_lookup\" requires at least one "
                           "\"osint_provider\"");
        return NGX_ERROR;
    }

    if (omcf->lookup_used
        && ngx_http_osint_fetch_check_libcurl(cf->log) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_resolve_sets(cf, omcf);
}


/*
 * The providers= of every osint_lookup, by name: every osint_provider is
 * known only now, as blocks may follow the servers that name them.
 */

static ngx_int_t
ngx_http_osint_resolve_sets(ngx_conf_t *cf, ngx_http_osint_main_conf_t *omcf)
{
    ngx_str_t                  *name;
    ngx_uint_t                  i, j;
    ngx_http_osint_set_t       *set;
    ngx_http_osint_provider_t  *p;

    set = omcf->locations.elts;

    for (i = 0; i < omcf->locations.nelts; i++) {

        if (set[i].names == NULL) {
            continue;
        }

        name = set[i].names->elts;

        for (j = 0; j < set[i].names->nelts; j++) {
            p = ngx_http_osint_provider_find(&omcf->providers, name[j].data,
                                             name[j].len);

            if (p == NULL) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "unknown osint_provider \"%V\" in "
                              "\"osint_lookup\" in %s:%ui",
                              &name[j], set[i].file, set[i].line);
                return NGX_ERROR;
            }

            set[i].olcf->providers |= (uint64_t) 1 << p->index;
        }
    }

    return NGX_OK;
}


static char *
ngx_http_osint_lookup(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_osint_loc_conf_t *olcf = conf;

    char                        *rv;
    ngx_str_t                   *value;
    ngx_uint_t                   i;
    ngx_http_osint_set_t        *set;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_osint_main_conf_t  *omcf;

    if (olcf->lookup != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    olcf->lookup = 1;

    omcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_osint_module);
    omcf->lookup_used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_osint_lookup_handler;

    set = ngx_array_push(&omcf->locations);
    if (set == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(set, sizeof(ngx_http_osint_set_t));

    set->location = clcf->name;
    set->olcf = olcf;
    set->file = cf->conf_file->file.name.data;
    set->line = cf->conf_file->line;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        rv = ngx_http_osint_lookup_param(cf, olcf, set, &value[i]);

        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    return NGX_CONF_OK;
}


/* providers=a,b (names checked once every block is read) or types=... */

static char *
ngx_http_osint_lookup_param(ngx_conf_t *cf, ngx_http_osint_loc_conf_t *olcf,
    ngx_http_osint_set_t *set, ngx_str_t *value)
{
    u_char     *p, *last, *comma;
    ngx_str_t   item, *name;
    ngx_uint_t  type, types;

    types = ngx_strncmp(value->data, "types=", 6) == 0;

    if (!types && ngx_strncmp(value->data, "providers=", 10) != 0) {
        goto invalid;
    }

    if ((types && olcf->types) || (!types && set->names)) {
        goto invalid;
    }

    p = value->data + (types ? 6 : 10);
    last = value->data + value->len;

    if (p == last) {
        goto invalid;
    }

    if (!types) {
        set->names = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (set->names == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    while (p <= last) {
        comma = ngx_strlchr(p, last, ',');

        if (comma == NULL) {
            comma = last;
        }

        item.data = p;
        item.len = comma - p;

        if (item.len == 0) {
            goto invalid;
        }

        if (types) {
            if (ngx_http_osint_type_parse(&item, &type) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unknown type \"%V\" in \"%V\"",
                                   &item, value);
                return NGX_CONF_ERROR;
            }

            olcf->types |= type;

        } else {
            name = ngx_array_push(set->names);
            if (name == NULL) {
                return NGX_CONF_ERROR;
            }

            *name = item;
        }

        p = comma + 1;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", value);

    return NGX_CONF_ERROR;
}


/* osint_control, and osint_status through its directive: the post */

char *
ngx_http_osint_content(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_osint_main_conf_t  *omcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate";
    }

    clcf->handler = (ngx_http_handler_pt) cmd->post;

    if (clcf->handler == ngx_http_osint_control_handler) {
        omcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_osint_module);
        omcf->control_used = 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_osint_positive(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *t = data;

    if (*t == 0) {
        return "must not be zero";
    }

    return NGX_CONF_OK;
}


/*
 * ngx_uint_t and size_t are one width wherever nginx builds, as
 * ngx_conf_check_num_bounds() relies on for ngx_int_t.
 */

static char *
ngx_http_osint_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_http_osint_bounds_t  *b = post;
    ngx_uint_t               *n = data;

    if (*n < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" must be at least 1", b->name);
        return NGX_CONF_ERROR;
    }

    if (*n > b->max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" must be at most %s", b->name,
                           b->max_text);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_osint_init_process(ngx_cycle_t *cycle)
{
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_osint_module);

    /* osint_control purges Redis too */

    if (omcf == NULL || !(omcf->lookup_used || omcf->control_used)) {
        return NGX_OK;
    }

    if (ngx_http_osint_fetch_init_process(cycle, omcf) != NGX_OK
        || ngx_http_osint_probe_init_process(cycle, omcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* Redis being down never stops a worker: it only costs hit rate */

    if (omcf->redis) {
        return ngx_http_osint_redis_init_process(cycle, omcf);
    }

    return NGX_OK;
}


static void
ngx_http_osint_exit_process(ngx_cycle_t *cycle)
{
    /* refreshes first: their transfers and Redis requests are still up */

    ngx_http_osint_probe_exit_process(cycle);
    ngx_http_osint_refresh_exit_process(cycle);
    ngx_http_osint_redis_exit_process(cycle);
    ngx_http_osint_fetch_exit_process(cycle);
}
