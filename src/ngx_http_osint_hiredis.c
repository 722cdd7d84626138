
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The hiredis event adapter: an async context's fd on nginx events, for
 * the master connection, the purge subscription and the sentinels'; the
 * pub/sub replies and the reconnect backoff they share.  hiredis 0.14 has
 * five hooks and no timer: timeouts are the users' own nginx timers.
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


/*
 * A command appended to a connection that has room is written at the end
 * of this turn of the event loop, with every other command of the turn:
 * one write(2) for them all and no epoll_ctl() for a room that is there.
 * Only a connect in progress, or a write that found the socket full,
 * waits for epoll to say the socket is writable.
 */

static void
ngx_http_osint_hiredis_add_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->write->ready && !c->write->active) {
        if (!c->write->posted) {
            ngx_post_event(c->write, &ngx_posted_events);
        }

        return;
    }

    if (ngx_http_osint_fd_watch(c, c->read->active, 1) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "osint: redis: cannot watch the socket");
    }
}


/* all written: the socket has room for the next commands */

static void
ngx_http_osint_hiredis_del_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    c->write->ready = 1;

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

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

    /* until hiredis says all is written (del_write), more waits for epoll */

    ev->ready = 0;

    redisAsyncHandleWrite(c->data);
}


/*
 * A subscribed context's replies: ["subscribe", channel, n] is NGX_OK,
 * ["message", channel, payload] NGX_AGAIN with *payload, the rest
 * NGX_DECLINED.
 */

ngx_int_t
ngx_http_osint_hiredis_pubsub(redisReply *rr, redisReply **payload)
{
    redisReply  *kind;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements != 3
        || rr->element[0]->type != REDIS_REPLY_STRING)
    {
        return NGX_DECLINED;
    }

    kind = rr->element[0];

    if (kind->len == 9 && ngx_strncmp(kind->str, "subscribe", 9) == 0) {
        return NGX_OK;
    }

    if (kind->len == 7 && ngx_strncmp(kind->str, "message", 7) == 0
        && rr->element[2]->type == REDIS_REPLY_STRING)
    {
        *payload = rr->element[2];
        return NGX_AGAIN;
    }

    return NGX_DECLINED;
}


/*
 * The next retry: *backoff less up to a quarter, so that workers that
 * lost Redis together do not return together; then *backoff doubles.
 */

ngx_msec_t
ngx_http_osint_hiredis_backoff(ngx_msec_t *backoff)
{
    ngx_msec_t  delay;

    delay = *backoff - *backoff / 4
            + (ngx_msec_t) ngx_random() % (*backoff / 4 + 1);

    *backoff = ngx_min(*backoff * 2, NGX_HTTP_OSINT_REDIS_BACKOFF_MAX);

    return delay;
}
