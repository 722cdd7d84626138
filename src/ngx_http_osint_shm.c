
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The osint zone: shared memory of all workers.  It outlives reloads when
 * its size is unchanged and its layout signature matches.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


/* bump when ngx_http_osint_shctx_t changes: an old layout is not reused */
#define NGX_HTTP_OSINT_SHM_SIGNATURE                                          \
    (0x6f73696e74000000 + sizeof(ngx_http_osint_shctx_t))


static ngx_int_t ngx_http_osint_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


char *
ngx_http_osint_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_osint_main_conf_t *omcf = conf;

    ssize_t                size;
    ngx_str_t             *value, name;
    ngx_http_osint_shm_t  *ctx;

    if (omcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"osint\" is too small");
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_shm_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&name, "osint");

    omcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_osint_module);
    if (omcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    omcf->shm_zone->init = ngx_http_osint_init_zone;
    omcf->shm_zone->data = ctx;
    omcf->shm_size = size;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_osint_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_osint_shm_t  *octx = data;

    size_t                 len;
    ngx_http_osint_shm_t  *ctx;

    ctx = shm_zone->data;

    if (octx && octx->sh
        && octx->sh->signature == NGX_HTTP_OSINT_SHM_SIGNATURE)
    {
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;

        if (ctx->sh && ctx->sh->signature == NGX_HTTP_OSINT_SHM_SIGNATURE) {
            return NGX_OK;
        }
    }

    ctx->sh = ngx_slab_calloc(ctx->shpool, sizeof(ngx_http_osint_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->sh->signature = NGX_HTTP_OSINT_SHM_SIGNATURE;
    ctx->shpool->data = ctx->sh;

    len = sizeof(" in osint zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in osint zone \"%V\"%Z",
                &shm_zone->shm.name);

    return NGX_OK;
}


/* counts lookups for osint_lookups_total; lock-free, all workers */

void
ngx_http_osint_count_lookup(ngx_http_osint_main_conf_t *omcf,
    ngx_uint_t type, ngx_uint_t result)
{
    ngx_uint_t             row;
    ngx_http_osint_shm_t  *ctx;

    if (omcf->shm_zone == NULL) {
        return;
    }

    ctx = omcf->shm_zone->data;

    if (ctx->sh == NULL) {
        return;
    }

    for (row = 0; row < 6; row++) {
        if (type == ((ngx_uint_t) 1 << row)) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&ctx->sh->counters.lookups[row][result], 1);
}
