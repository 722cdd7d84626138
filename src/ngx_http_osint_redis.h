
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Inside the Redis client: hiredis async contexts on nginx events
 * (src/ngx_http_osint_hiredis.c) and the discovery of the master through
 * Redis Sentinel (src/ngx_http_osint_redis_sentinel.c), both used by
 * src/ngx_http_osint_redis.c only.
 */


#ifndef _NGX_HTTP_OSINT_REDIS_H_INCLUDED_
#define _NGX_HTTP_OSINT_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "ngx_http_osint.h"


/* reconnect backoff, ms: of the master connection and of the sentinels' */
#define NGX_HTTP_OSINT_REDIS_BACKOFF_MIN   100
#define NGX_HTTP_OSINT_REDIS_BACKOFF_MAX   5000


/*
 * Puts a new context's fd on nginx events (level-triggered, NGINX-NOTES).
 * "cleanup" is the context's ev.cleanup: it must call
 * ngx_http_osint_hiredis_release() and may then learn the context is gone.
 */
ngx_int_t ngx_http_osint_hiredis_attach(redisAsyncContext *ac,
    void (*cleanup)(void *privdata), ngx_log_t *log);
redisAsyncContext *ngx_http_osint_hiredis_release(void *privdata);
ngx_int_t ngx_http_osint_hiredis_pubsub(redisReply *rr, redisReply **payload);
ngx_msec_t ngx_http_osint_hiredis_backoff(ngx_msec_t *backoff);


typedef struct ngx_http_osint_sentinel_s  ngx_http_osint_sentinel_t;

/*
 * The end of a discovery: rc NGX_OK, the master is at host (an IP
 * literal) and port; NGX_ERROR, "reason" says why no sentinel told.
 */
typedef void (*ngx_http_osint_sentinel_found_pt)(void *data, ngx_int_t rc,
    u_char *host, int port, u_char *reason);

/* a sentinel announced +switch-master for our master: now at host:port */
typedef void (*ngx_http_osint_sentinel_switch_pt)(void *data, u_char *host,
    int port);

ngx_http_osint_sentinel_t *ngx_http_osint_sentinel_create(ngx_cycle_t *cycle,
    ngx_http_osint_redis_conf_t *rcf, ngx_http_osint_sentinel_found_pt found,
    ngx_http_osint_sentinel_switch_pt switched, void *data);
void ngx_http_osint_sentinel_discover(ngx_http_osint_sentinel_t *s);
void ngx_http_osint_sentinel_stop(ngx_http_osint_sentinel_t *s);


#endif /* _NGX_HTTP_OSINT_REDIS_H_INCLUDED_ */
