
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Foreign fds (libcurl's, hiredis's) on nginx events.  The library owns
 * the fd: it reads, writes and closes it; nginx only tells it when to.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_osint.h"


ngx_connection_t *
ngx_http_osint_fd_wrap(ngx_socket_t fd, ngx_log_t *log)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(fd, log);
    if (c == NULL) {
        return NULL;
    }

    c->read->log = log;
    c->write->log = log;

    return c;
}


/*
 * Level-triggered on purpose: nginx's epoll default is edge-triggered,
 * and libraries that read in bounded chunks would stall on a readable fd
 * that never turns readable "again".
 */

ngx_int_t
ngx_http_osint_fd_watch(ngx_connection_t *c, ngx_uint_t read,
    ngx_uint_t write)
{
    ngx_uint_t  flags;

    flags = NGX_LEVEL_EVENT;

    if (read && !c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, flags) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (!read && c->read->active) {
        if (ngx_del_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (write && !c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, flags) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (!write && c->write->active) {
        if (ngx_del_event(c->write, NGX_WRITE_EVENT, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Gives the connection slot back without closing the fd.  "closed" says
 * the library has closed the fd already, so epoll forgot it by itself and
 * must not be asked (the number may belong to a new socket by now).
 * c->fd = -1 lets the event loop drop events already fetched for it.
 */

void
ngx_http_osint_fd_release(ngx_connection_t *c, ngx_uint_t closed)
{
    ngx_uint_t  flags;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    flags = closed ? NGX_CLOSE_EVENT : 0;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, flags);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, flags);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
}
