
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * osint_limit: a token bucket per key in front of any location, shared by
 * all workers and kept across reloads.  A second nginx module of the same
 * .so, with its own directives (docs/directives.md) and configuration.
 * The model, sync=redis and where it differs from limit_req: README.md,
 * "Edge rate limiting", "Design notes".
 *
 * This file holds the directives and the configuration; requests are
 * decided in ngx_http_osint_limit_handler.c, sync=redis lives in
 * ngx_http_osint_limit_sync.c, the zone's keys in
 * ngx_http_osint_limit_zone.c, and osint_status's part in
 * ngx_http_osint_limit_status.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"
#include "ngx_http_osint_limit.h"
#include "ngx_http_osint_limit_internal.h"


static ngx_int_t ngx_http_osint_limit_add_variables(ngx_conf_t *cf);
static void *ngx_http_osint_limit_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_osint_limit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_osint_limit_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_osint_limit_prepare(ngx_conf_t *cf,
    ngx_http_osint_limit_loc_conf_t *llcf);
static char *ngx_http_osint_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_osint_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_uint_t ngx_http_osint_limit_reads_set(ngx_conf_t *cf,
    ngx_http_complex_value_t *cv);
static ngx_int_t ngx_http_osint_limit_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_osint_limit_init_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_osint_limit_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_http_osint_limit_status_bounds = {
    ngx_conf_check_num_bounds, 400, 599
};


static ngx_command_t  ngx_http_osint_limit_commands[] = {

    { ngx_string("osint_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_osint_limit_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_osint_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("osint_limit_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_osint_limit_loc_conf_t, status),
      &ngx_http_osint_limit_status_bounds },

    { ngx_string("osint_limit_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_osint_limit_loc_conf_t, log_level),
      &ngx_http_osint_limit_log_levels },

    { ngx_string("osint_limit_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_osint_limit_loc_conf_t, headers),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_osint_limit_module_ctx = {
    ngx_http_osint_limit_add_variables,    /* preconfiguration */
    ngx_http_osint_limit_init,             /* postconfiguration */

    ngx_http_osint_limit_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_osint_limit_create_loc_conf,  /* create location configuration */
    ngx_http_osint_limit_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_osint_limit_module = {
    NGX_MODULE_V1,
    &ngx_http_osint_limit_module_ctx,      /* module context */
    ngx_http_osint_limit_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_osint_limit_init_process,     /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_osint_limit_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    ngx_str_t  name = ngx_string("osint_limit_status");

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_osint_limit_variable;

    return NGX_OK;
}


static void *
ngx_http_osint_limit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_osint_limit_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_limit_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&lmcf->zones, cf->pool, 4,
                       sizeof(ngx_http_osint_limit_zone_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return lmcf;
}


static void *
ngx_http_osint_limit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_osint_limit_loc_conf_t  *llcf;

    llcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_limit_loc_conf_t));
    if (llcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     llcf->limits.elts = NULL;
     *     llcf->policy = { 0, NULL };
     *     llcf->prepared = 0;
     */

    llcf->status = NGX_CONF_UNSET_UINT;
    llcf->log_level = NGX_CONF_UNSET_UINT;
    llcf->headers = NGX_CONF_UNSET;

    return llcf;
}


static char *
ngx_http_osint_limit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_osint_limit_loc_conf_t *prev = parent;
    ngx_http_osint_limit_loc_conf_t *conf = child;

    /*
     * The limits are checked and their policy built where they are
     * written; those of the http level are never a child: done when first
     * inherited.
     */

    if (conf->limits.elts == NULL) {
        if (prev->limits.elts && !prev->prepared) {
            if (ngx_http_osint_limit_prepare(cf, prev) != NGX_OK) {
                return NGX_CONF_ERROR;
            }
        }

        conf->limits = prev->limits;
        conf->policy = prev->policy;
        conf->prepared = prev->prepared;

    } else if (!conf->prepared) {
        if (ngx_http_osint_limit_prepare(cf, conf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    ngx_conf_merge_uint_value(conf->status, prev->status,
                              NGX_HTTP_TOO_MANY_REQUESTS);

    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_ERR);

    conf->delay_log_level = (conf->log_level == NGX_LOG_INFO)
                            ? NGX_LOG_INFO : conf->log_level + 1;

    ngx_conf_merge_value(conf->headers, prev->headers, 1);

    return NGX_CONF_OK;
}


/*
 * Zones may be declared after their use: all are known by now.  The
 * RateLimit-Policy value of a location never changes: built once.
 */

static ngx_int_t
ngx_http_osint_limit_prepare(ngx_conf_t *cf,
    ngx_http_osint_limit_loc_conf_t *llcf)
{
    u_char                       *p;
    size_t                        len;
    ngx_uint_t                    i;
    ngx_http_osint_limit_t       *limits;
    ngx_http_osint_limit_zone_t  *z;

    limits = llcf->limits.elts;
    len = 0;

    for (i = 0; i < llcf->limits.nelts; i++) {
        if (limits[i].shm_zone->data == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown osint_limit_zone \"%V\" in %s:%ui",
                          &limits[i].shm_zone->shm.name, limits[i].file,
                          limits[i].line);
            return NGX_ERROR;
        }
    }

    llcf->prepared = 1;

    for (i = 0; i < llcf->limits.nelts; i++) {
        if (!limits[i].dry_run) {
            z = limits[i].shm_zone->data;
            len += sizeof("\"\";q=;w=, ") - 1 + z->name.len
                   + 2 * NGX_INT_T_LEN;
        }
    }

    if (len == 0) {
        return NGX_OK;
    }

    llcf->policy.data = ngx_pnalloc(cf->pool, len);
    if (llcf->policy.data == NULL) {
        return NGX_ERROR;
    }

    p = llcf->policy.data;

    for (i = 0; i < llcf->limits.nelts; i++) {

        if (limits[i].dry_run) {
            continue;
        }

        z = limits[i].shm_zone->data;

        if (p != llcf->policy.data) {
            p = ngx_cpymem(p, ", ", 2);
        }

        p = ngx_sprintf(p, "\"%V\";q=%ui;w=%ui", &z->name, z->rate.burst,
                        z->window);
    }

    llcf->policy.len = p - llcf->policy.data;

    return NGX_OK;
}


/* osint_limit_zone NAME:SIZE key=VAR rate=Nr/s|Nr/m [burst=M] [sync=redis] */

static char *
ngx_http_osint_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_osint_limit_main_conf_t *lmcf = conf;

    u_char                            *p;
    ssize_t                            size;
    ngx_int_t                          rate, burst;
    ngx_str_t                         *value, name, s, key;
    ngx_uint_t                         i, scale;
    ngx_shm_zone_t                    *shm_zone;
    ngx_http_osint_limit_zone_t       *z, **zp;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    p = (u_char *) ngx_strlchr(value[1].data, value[1].data + value[1].len,
                               ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", NAME:SIZE expected",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    if (!ngx_http_osint_zone_name_valid(&name)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\": at most %d letters, "
                           "digits, \"_\", \"-\" or \".\"", &name,
                           NGX_HTTP_OSINT_NAME_MAX);
        return NGX_CONF_ERROR;
    }

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    z = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_limit_zone_t));
    if (z == NULL) {
        return NGX_CONF_ERROR;
    }

    key.len = 0;
    rate = 0;
    scale = 1;
    burst = 0;

    i = ngx_http_osint_param_repeated(value, 2, cf->args->nelts - 1);

    if (i) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {

            key.data = value[i].data + 4;
            key.len = value[i].len - 4;

            if (key.len == 0) {
                goto invalid;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &key;
            ccv.complex_value = &z->key;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {

            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (ngx_http_osint_rate_parse(&s, &rate, &scale) != NGX_OK) {
                goto invalid_rate;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {

            burst = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (burst <= 0 || burst > NGX_HTTP_OSINT_BURST_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst value \"%V\", 1 to %d "
                                   "expected", &value[i],
                                   NGX_HTTP_OSINT_BURST_MAX);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sync=", 5) == 0) {

            if (value[i].len == 10
                && ngx_strncmp(value[i].data + 5, "redis", 5) == 0)
            {
                z->sync = 1;
                continue;
            }

            goto invalid;
        }

        goto invalid;
    }

    if (key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "osint_limit_zone \"%V\" must have \"key\" "
                           "parameter", &name);
        return NGX_CONF_ERROR;
    }

    if (rate == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "osint_limit_zone \"%V\" must have \"rate\" "
                           "parameter", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_osint_limit_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "osint_limit_zone \"%V\" is duplicate", &name);
        return NGX_CONF_ERROR;
    }

    z->shm_zone = shm_zone;
    z->name = shm_zone->shm.name;
    z->rate_n = rate;
    z->window = scale;
    z->rate.per_ms = (double) rate / (double) (scale * 1000);

    /* default: what one second of the rate brings, at least 1 */

    z->rate.burst = burst ? (ngx_uint_t) burst
                          : ((ngx_uint_t) rate + scale - 1) / scale;

    z->chunk = ngx_max(1, z->rate.burst / 8);
    z->file = cf->conf_file->file.name.data;
    z->line = cf->conf_file->line;

    shm_zone->init = ngx_http_osint_limit_init_zone;
    shm_zone->data = z;

    zp = ngx_array_push(&lmcf->zones);
    if (zp == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = z;

    return NGX_CONF_OK;

invalid_rate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid rate \"%V\", 1 to %d r/s or r/m expected",
                       &value[i], NGX_HTTP_OSINT_RATE_MAX);
    return NGX_CONF_ERROR;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* osint_limit zone=NAME [nodelay|delay=D] [dry_run] */

static char *
ngx_http_osint_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_osint_limit_loc_conf_t *llcf = conf;

    ngx_str_t               *value, s;
    ngx_uint_t               i, dry_run, nodelay, delay_set;
    ngx_msec_t               delay;
    ngx_shm_zone_t          *shm_zone;
    ngx_http_osint_limit_t  *limit, *limits;

    value = cf->args->elts;

    shm_zone = NULL;
    delay = 0;
    delay_set = 0;
    nodelay = 0;
    dry_run = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (s.len == 0) {
                goto invalid;
            }

            shm_zone = ngx_shared_memory_add(cf, &s, 0,
                                             &ngx_http_osint_limit_module);
            if (shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "delay=", 6) == 0) {

            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            delay = ngx_parse_time(&s, 0);

            if (delay == (ngx_msec_t) NGX_ERROR) {
                goto invalid;
            }

            delay_set = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "nodelay") == 0) {
            nodelay = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "dry_run") == 0) {
            dry_run = 1;
            continue;
        }

        goto invalid;
    }

    if (shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (nodelay && delay_set) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"nodelay\" and \"delay=\" cannot be used "
                           "together");
        return NGX_CONF_ERROR;
    }

    limits = llcf->limits.elts;

    if (limits == NULL) {
        if (ngx_array_init(&llcf->limits, cf->pool, 1,
                           sizeof(ngx_http_osint_limit_t))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 0; i < llcf->limits.nelts; i++) {
        if (shm_zone == limits[i].shm_zone) {
            return "is duplicate";
        }
    }

    limit = ngx_array_push(&llcf->limits);
    if (limit == NULL) {
        return NGX_CONF_ERROR;
    }

    limit->shm_zone = shm_zone;
    limit->delay = delay;
    limit->dry_run = dry_run;
    limit->file = cf->conf_file->file.name.data;
    limit->line = cf->conf_file->line;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * Whether a key reads a variable that only `set` makes: the rewrite module
 * creates those NGX_HTTP_VAR_WEAK, a flag that any other definition of
 * the name clears.  The variables' names are still in variables_keys
 * during postconfiguration.
 */

static ngx_uint_t
ngx_http_osint_limit_reads_set(ngx_conf_t *cf, ngx_http_complex_value_t *cv)
{
    ngx_uint_t                 *index, i;
    ngx_hash_key_t             *key;
    ngx_http_variable_t        *v, *indexed;
    ngx_http_core_main_conf_t  *cmcf;

    if (cv->flushes == NULL) {
        return 0;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (cmcf->variables_keys == NULL) {
        return 0;
    }

    indexed = cmcf->variables.elts;
    key = cmcf->variables_keys->keys.elts;

    for (index = cv->flushes; *index != (ngx_uint_t) -1; index++) {

        for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
            v = key[i].value;

            if (v->name.len == indexed[*index].name.len
                && ngx_strncasecmp(v->name.data, indexed[*index].name.data,
                                   v->name.len)
                   == 0)
            {
                if (v->flags & NGX_HTTP_VAR_WEAK) {
                    return 1;
                }

                break;
            }
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_osint_limit_init(ngx_conf_t *cf)
{
    ngx_uint_t                         i;
    ngx_http_handler_pt               *h;
    ngx_http_core_main_conf_t         *cmcf;
    ngx_http_osint_limit_zone_t      **zones;
    ngx_http_osint_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_osint_limit_module);

    /* without a zone no osint_limit can be valid: no handler to run */

    if (lmcf->zones.nelts == 0) {
        return NGX_OK;
    }

    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        zones[i]->late = ngx_http_osint_limit_reads_set(cf, &zones[i]->key);

        if (zones[i]->sync
            && ngx_http_osint_limit_init_sync(cf, zones[i]) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_osint_limit_rewrite_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_osint_limit_preaccess_handler;

    return NGX_OK;
}


/*
 * sync=redis needs the worker's Redis connection, which the main module
 * opens only for osint_lookup: opened here otherwise (and closed by the
 * main module's exit_process, which always closes it).
 */

static ngx_int_t
ngx_http_osint_limit_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                         i;
    ngx_http_osint_main_conf_t        *omcf;
    ngx_http_osint_limit_zone_t      **zones;
    ngx_http_osint_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_osint_limit_module);
    omcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_osint_module);

    if (lmcf == NULL || omcf == NULL || omcf->redis == NULL
        || omcf->lookup_used)
    {
        return NGX_OK;
    }

    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->sync) {
            return ngx_http_osint_redis_init_process(cycle, omcf);
        }
    }

    return NGX_OK;
}
