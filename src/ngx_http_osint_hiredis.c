
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The hiredis event adapter: an async context's fd on nginx events, for
 * the master connection and the sentinels'.  hiredis 0.14 has five hooks
 * and no timer: timeouts are the users' own nginx timers.
 */


#include "ngx_http_osint_redis.h"


static void ngx_http_osint_hiredis_add_read(void *privdata);
static void ngx_http_osint_hiredis_del_read(void *privdata);
static void ngx_http_osint_hiredis_add_write(void *privdata);
static void ngx_http_osint_hiredis_del_write(void *privdata);
static void ngx_http_osint_hiredis_read_handler(ngx_event_t *ev);
static void ngx_http_osint_hiredis_write_handler(ngx_event_t *ev);


/* before redisAsyncSetConnectCallback: setting it adds a write event */

ngx_int_t
ngx_http_osint_hiredis_attach(redisAsyncContext *ac,
    void (*cleanup)(void *privdata), ngx_log_t *log)
{
    ngx_connection_t  *c;

    c = ngx_http_osint_fd_wrap(ac->c.fd, log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = ac;
    c->read->handler = ngx_http_osint_hiredis_read_handler;
    c->write->handler = ngx_http_osint_hiredis_write_handler;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_osint_hiredis_add_read;
    ac->ev.delRead = ngx_http_osint_hiredis_del_read;
    ac->ev.addWrite = ngx_http_osint_hiredis_add_write;
    ac->ev.delWrite = ngx_http_osint_hiredis_del_write;
    ac->ev.cleanup = cleanup;

    return NGX_OK;
}


/* hiredis closes the fd right after: release the connection, never close */

redisAsyncContext *
ngx_http_osint_hiredis_release(void *privdata)
{
    ngx_connection_t  *c = privdata;

    redisAsyncContext  *ac;

    ac = c->data;

    ngx_http_osint_fd_release(c, 0);

    return ac;
}


/* level-triggered: hiredis reads at most 16 KiB per call */

static void
ngx_http_osint_hiredis_add_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (ngx_http_osint_fd_watch(c, 1, c->write->active) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "osint: redis: cannot watch the socket");
    }
}


static void
ngx_http_osint_hiredis_del_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    (void) ngx_http_osint_fd_watch(c, 0, c->write->active);
}


static void
ngx_http_osint_hiredis_add_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (ngx_http_osint_fd_watch(c, c->read->active, 1) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "osint: redis: cannot watch the socket");
    }
}


static void
ngx_http_osint_hiredis_del_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    (void) ngx_http_osint_fd_watch(c, c->read->active, 0);
}


static void
ngx_http_osint_hiredis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    /* ac and c may be freed inside: touch neither afterwards */

    redisAsyncHandleRead(c->data);
}


static void
ngx_http_osint_hiredis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    redisAsyncHandleWrite(c->data);
}
