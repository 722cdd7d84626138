
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * A plain HTTP/1.1 client on nginx's own connections, for providers whose
 * url's origin is "http://" and an IP literal (a service beside nginx, an
 * internal API): with no name to resolve and no TLS, nothing libcurl
 * brings is needed, and what it costs a transfer is not paid (7.88 prints
 * its URL, request line and header lines byte by byte and allocates for
 * each: ~100 000 instructions a transfer, most of a miss).  Connections
 * are kept alive per provider and worker, registered in epoll once for
 * their life, as nginx's upstream keepalive keeps them; answers are read
 * with nginx's own parsers (status line, header lines, chunked).  A
 * redirect is not followed here: its Location goes back to
 * ngx_http_osint_fetch.c, which follows it with libcurl and its checks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_http_osint.h"


/* a connection's read buffer: an answer's headers must fit in it */
#define NGX_HTTP_OSINT_PLAIN_BUFFER       16384

/* an answer's status lines and headers, interim answers' too, at most */
#define NGX_HTTP_OSINT_PLAIN_HEADERS_MAX  65536

/*
 * Reads one event handles at most, before it yields to the other events
 * (posted again): a provider that keeps the socket readable (an endless
 * chunk extension, trailers) must not keep the worker.
 */
#define NGX_HTTP_OSINT_PLAIN_READS        8

/* the module's own request lines (own_lines[] below), as bits */
#define NGX_HTTP_OSINT_PLAIN_OWN_ALL      0xf
#define NGX_HTTP_OSINT_PLAIN_OWN_FORM     0x8     /* a POST's Content-Type */

/* a kept-alive connection no call took for so long is closed */
#define NGX_HTTP_OSINT_PLAIN_IDLE         60000

#define NGX_HTTP_OSINT_PLAIN_AGENT                                           \
    "User-Agent: ngx_http_osint_module/" NGX_HTTP_OSINT_VERSION CRLF


typedef enum {
    NGX_HTTP_OSINT_PLAIN_CONNECT = 0,
    NGX_HTTP_OSINT_PLAIN_SEND,
    NGX_HTTP_OSINT_PLAIN_STATUS,
    NGX_HTTP_OSINT_PLAIN_HEADERS,
    NGX_HTTP_OSINT_PLAIN_BODY,
    NGX_HTTP_OSINT_PLAIN_FAILED         /* ends on its posted event */
} ngx_http_osint_plain_state_e;

typedef enum {
    NGX_HTTP_OSINT_PLAIN_LENGTH = 0,
    NGX_HTTP_OSINT_PLAIN_CHUNKED,
    NGX_HTTP_OSINT_PLAIN_TO_CLOSE
} ngx_http_osint_plain_framing_e;


/* one connection to a provider, and the transfer on it */

typedef struct {
    ngx_peer_connection_t           peer;
    ngx_http_osint_provider_t      *provider;
    ngx_http_osint_fetch_t         *fetch;        /* NULL: idle */
    ngx_http_osint_plain_done_pt    done;
    ngx_queue_t                     queue;        /* in the idle list */

    ngx_event_t                     post;         /* ends a failed one */
    CURLcode                        result;       /* ... with this */

    ngx_buf_t                       out;          /* the request */
    size_t                          out_size;

    ngx_buf_t                       in;           /* what was read */
    u_char                         *line;         /* the line parsed */
    ngx_http_request_t             *parse;        /* nginx's parsers' */
    ngx_http_status_t               status;
    ngx_http_chunked_t              chunked;
    off_t                           remaining;    /* of Content-Length */
    size_t                          header_bytes;
    ngx_uint_t                      said_seen;    /* bits, by header */

    ngx_http_osint_plain_state_e    state;
    ngx_http_osint_plain_framing_e  framing;

    unsigned                        reused:1;     /* was idle before */
    unsigned                        answered:1;   /* a byte came back */
    unsigned                        length:1;     /* Content-Length */
    unsigned                        chunk:1;      /* Transfer-Encoding */
    unsigned                        close:1;      /* not to be kept */
    unsigned                        complete:1;   /* the answer was read */
    unsigned                        retry_after:1;  /* the first taken */
} ngx_http_osint_plain_conn_t;


/*
 * The kept-alive connections to one address in this worker, shared by
 * the providers there (as libcurl's connection cache shares them): at
 * most their "connections" together.
 */

typedef struct {
    ngx_queue_t                     idle;         /* most recent first */
    ngx_uint_t                      nidle;
    ngx_uint_t                      max;
} ngx_http_osint_plain_pool_t;


static ngx_http_osint_plain_conn_t *ngx_http_osint_plain_new(void);
static ngx_int_t ngx_http_osint_plain_connect(
    ngx_http_osint_plain_conn_t *hc);
static void ngx_http_osint_plain_refused(ngx_http_osint_plain_conn_t *hc,
    ngx_err_t err);
static ngx_int_t ngx_http_osint_plain_request(
    ngx_http_osint_plain_conn_t *hc, ngx_http_osint_fetch_t *f);
static ngx_uint_t ngx_http_osint_plain_own(u_char *name, size_t len);
static void ngx_http_osint_plain_write_handler(ngx_event_t *wev);
static void ngx_http_osint_plain_read_handler(ngx_event_t *rev);
static void ngx_http_osint_plain_send(ngx_http_osint_plain_conn_t *hc);
static void ngx_http_osint_plain_read(ngx_http_osint_plain_conn_t *hc);
static ngx_int_t ngx_http_osint_plain_parse(ngx_http_osint_plain_conn_t *hc);
static ngx_int_t ngx_http_osint_plain_header(ngx_http_osint_plain_conn_t *hc);
static ngx_int_t ngx_http_osint_plain_framing(
    ngx_http_osint_plain_conn_t *hc);
static ngx_int_t ngx_http_osint_plain_body(ngx_http_osint_plain_conn_t *hc);
static ngx_int_t ngx_http_osint_plain_keep(ngx_http_osint_plain_conn_t *hc,
    u_char *data, size_t len);
static void ngx_http_osint_plain_broken(ngx_http_osint_plain_conn_t *hc,
    ngx_uint_t eof);
static ngx_int_t ngx_http_osint_plain_error(ngx_http_osint_plain_conn_t *hc,
    CURLcode result, const char *text);
static void ngx_http_osint_plain_fail(ngx_http_osint_plain_conn_t *hc,
    CURLcode result);
static void ngx_http_osint_plain_post_handler(ngx_event_t *ev);
static void ngx_http_osint_plain_end(ngx_http_osint_plain_conn_t *hc,
    CURLcode result);
static void ngx_http_osint_plain_idle_handler(ngx_event_t *rev);
static void ngx_http_osint_plain_empty_handler(ngx_event_t *ev);
static void ngx_http_osint_plain_close(ngx_http_osint_plain_conn_t *hc);


static ngx_http_osint_plain_pool_t  *ngx_http_osint_plain_pools;
static ngx_uint_t                    ngx_http_osint_plain_npools;

/* by provider index: its address's pool, or NULL */
static ngx_http_osint_plain_pool_t **ngx_http_osint_plain_pool_of;

/* what posted events point to: nginx's debug log reads ev->data's fd */
static ngx_connection_t              ngx_http_osint_plain_no_conn;


/*
 * At the end of an osint_provider block: is the url's origin "http://"
 * and an IP literal, all of it written out (no variable in it)?  Then
 * the plain client makes its calls.  A name, "https://", userinfo: not.
 */

char *
ngx_http_osint_plain_origin(ngx_conf_t *cf, ngx_http_osint_provider_t *p)
{
    u_char                     *host, *end, *last, *c;
    ngx_int_t                   rc;
    ngx_str_t                  *text;
    ngx_uint_t                  i, own;
    ngx_addr_t                 *addr;
    ngx_http_osint_tpl_t       *tpl;
    ngx_http_osint_tpl_part_t  *part, *hpart;

    part = p->url.parts.elts;

    if (p->url.parts.nelts == 0
        || part[0].type != NGX_HTTP_OSINT_TPL_LITERAL)
    {
        return NGX_CONF_OK;
    }

    text = &part[0].text;

    if (text->len < sizeof("http://") - 1
        || ngx_strncasecmp(text->data, (u_char *) "http://",
                           sizeof("http://") - 1)
           != 0)
    {
        return NGX_CONF_OK;
    }

    host = text->data + sizeof("http://") - 1;
    last = text->data + text->len;

    for (end = host; end < last; end++) {
        if (*end == '/' || *end == '?' || *end == '#') {
            break;
        }
    }

    if ((end == last && p->url.parts.nelts > 1)
        || end == host
        || ngx_strlchr(host, end, '@') != NULL)
    {
        return NGX_CONF_OK;
    }

    addr = ngx_pcalloc(cf->pool, sizeof(ngx_addr_t));
    if (addr == NULL) {
        return NGX_CONF_ERROR;
    }

    if (*host == '[') {
        if (end[-1] == ']') {
            rc = ngx_parse_addr(cf->pool, addr, host + 1, end - host - 2);

        } else {
            rc = ngx_parse_addr_port(cf->pool, addr, host, end - host);
        }

    } else {
        rc = ngx_parse_addr_port(cf->pool, addr, host, end - host);

        /* "http://::1/" is no URL: libcurl says so */

        if (rc == NGX_OK && addr->sockaddr->sa_family != AF_INET) {
            rc = NGX_DECLINED;
        }
    }

    if (rc == NGX_DECLINED) {
        return NGX_CONF_OK;         /* a name: libcurl resolves it */
    }

    if (rc != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * A byte a request line cannot carry, written in the url (a variable
     * is always percent-encoded): libcurl's, which refuses such a url.
     */

    for (i = 0; i < p->url.parts.nelts; i++) {
        if (part[i].type != NGX_HTTP_OSINT_TPL_LITERAL) {
            continue;
        }

        for (c = part[i].text.data;
             c < part[i].text.data + part[i].text.len;
             c++)
        {
            if (*c <= ' ' || *c == 0x7f) {
                return NGX_CONF_OK;
            }
        }
    }

    /* header names are never templated: which own lines they replace */

    own = NGX_HTTP_OSINT_PLAIN_OWN_ALL;
    tpl = p->headers.elts;

    for (i = 0; i < p->headers.nelts; i++) {
        hpart = tpl[i].parts.elts;

        if (tpl[i].parts.nelts && hpart[0].type == NGX_HTTP_OSINT_TPL_LITERAL
            && (c = ngx_strlchr(hpart[0].text.data,
                                hpart[0].text.data + hpart[0].text.len, ':')))
        {
            own &= ~ngx_http_osint_plain_own(hpart[0].text.data,
                                             c - hpart[0].text.data);
        }
    }

    if (ngx_inet_get_port(addr->sockaddr) == 0) {
        ngx_inet_set_port(addr->sockaddr, 80);
    }

    addr->name.data = host;
    addr->name.len = end - host;

    p->plain = addr;
    p->plain_host = addr->name;
    p->plain_path = end - text->data;
    p->plain_own = own;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_osint_plain_init_process(ngx_cycle_t *cycle,
    ngx_http_osint_main_conf_t *omcf)
{
    ngx_uint_t                    i, j, n;
    ngx_http_osint_provider_t    *p;
    ngx_http_osint_plain_pool_t  *pool;

    ngx_http_osint_plain_no_conn.fd = (ngx_socket_t) -1;

    n = omcf->providers.nelts;

    if (n == 0) {
        return NGX_OK;
    }

    ngx_http_osint_plain_pools = ngx_pcalloc(cycle->pool,
                                     n * sizeof(ngx_http_osint_plain_pool_t));
    ngx_http_osint_plain_pool_of = ngx_pcalloc(cycle->pool,
                                     n * sizeof(ngx_http_osint_plain_pool_t *));

    if (ngx_http_osint_plain_pools == NULL
        || ngx_http_osint_plain_pool_of == NULL)
    {
        return NGX_ERROR;
    }

    p = omcf->providers.elts;

    /* providers are few: the same address is looked for among all before */

    for (i = 0; i < n; i++) {
        if (p[i].plain == NULL) {
            continue;
        }

        pool = NULL;

        for (j = 0; j < i; j++) {
            if (p[j].plain
                && ngx_cmp_sockaddr(p[i].plain->sockaddr, p[i].plain->socklen,
                                    p[j].plain->sockaddr, p[j].plain->socklen,
                                    1)
                   == NGX_OK)
            {
                pool = ngx_http_osint_plain_pool_of[j];
                break;
            }
        }

        if (pool == NULL) {
            pool = &ngx_http_osint_plain_pools[ngx_http_osint_plain_npools++];
            ngx_queue_init(&pool->idle);
        }

        pool->max += p[i].conns;
        ngx_http_osint_plain_pool_of[i] = pool;
    }

    return NGX_OK;
}


/* the transfers under way were cancelled before: only idle ones are left */

void
ngx_http_osint_plain_exit_process(void)
{
    ngx_uint_t                    i;
    ngx_queue_t                  *q;
    ngx_http_osint_plain_conn_t  *hc;

    for (i = 0; i < ngx_http_osint_plain_npools; i++) {
        while (!ngx_queue_empty(&ngx_http_osint_plain_pools[i].idle)) {
            q = ngx_queue_head(&ngx_http_osint_plain_pools[i].idle);
            ngx_queue_remove(q);

            hc = ngx_queue_data(q, ngx_http_osint_plain_conn_t, queue);
            ngx_http_osint_plain_close(hc);
        }

        ngx_http_osint_plain_pools[i].nidle = 0;
    }

    ngx_http_osint_plain_npools = 0;
}


/*
 * Starts f on a kept-alive connection of its provider, or a new one
 * (always new for f->fresh_connect: a retry after a connection failure).
 * Nothing ends here: done() is called later, from an event, never before
 * this returns.  NGX_ERROR: the worker could not start it (f->local).
 */

ngx_int_t
ngx_http_osint_plain_start(ngx_http_osint_fetch_t *f,
    ngx_http_osint_plain_done_pt done)
{
    ngx_int_t                     rc;
    ngx_queue_t                  *q;
    ngx_connection_t             *c;
    ngx_http_osint_plain_conn_t  *hc;
    ngx_http_osint_plain_pool_t  *pool;

    pool = ngx_http_osint_plain_pool_of[f->provider->index];
    hc = NULL;

    if (!f->fresh_connect && !ngx_queue_empty(&pool->idle)) {
        q = ngx_queue_head(&pool->idle);
        ngx_queue_remove(q);
        pool->nidle--;

        hc = ngx_queue_data(q, ngx_http_osint_plain_conn_t, queue);
        hc->reused = 1;

        c = hc->peer.connection;
        c->idle = 0;
        c->read->handler = ngx_http_osint_plain_read_handler;
        c->write->handler = ngx_http_osint_plain_write_handler;
        c->read->cancelable = 0;

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }
    }

    if (hc == NULL) {
        hc = ngx_http_osint_plain_new();
        if (hc == NULL) {
            f->local = "out of memory";
            return NGX_ERROR;
        }
    }

    hc->fetch = f;
    hc->done = done;
    hc->provider = f->provider;     /* a pool's providers share it */
    f->plain = hc;

    if (ngx_http_osint_plain_request(hc, f) != NGX_OK) {
        f->plain = NULL;
        ngx_http_osint_plain_close(hc);
        return NGX_ERROR;
    }

    if (f->said_wanted) {
        ngx_http_osint_said_init(&f->said);
    }

    if (hc->reused) {
        hc->state = NGX_HTTP_OSINT_PLAIN_SEND;
        ngx_post_event(hc->peer.connection->write, &ngx_posted_events);
        return NGX_OK;
    }

    rc = ngx_http_osint_plain_connect(hc);

    if (rc == NGX_ERROR) {
        f->plain = NULL;
        ngx_http_osint_plain_close(hc);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_http_osint_plain_conn_t *
ngx_http_osint_plain_new(void)
{
    ngx_http_osint_plain_conn_t  *hc;

    hc = ngx_calloc(sizeof(ngx_http_osint_plain_conn_t), ngx_cycle->log);
    if (hc == NULL) {
        return NULL;
    }

    hc->parse = ngx_calloc(sizeof(ngx_http_request_t), ngx_cycle->log);
    hc->in.start = ngx_alloc(NGX_HTTP_OSINT_PLAIN_BUFFER, ngx_cycle->log);

    if (hc->parse == NULL || hc->in.start == NULL) {
        ngx_http_osint_plain_close(hc);
        return NULL;
    }

    hc->in.end = hc->in.start + NGX_HTTP_OSINT_PLAIN_BUFFER;

    hc->post.data = &ngx_http_osint_plain_no_conn;
    hc->post.handler = ngx_http_osint_plain_post_handler;
    hc->post.log = ngx_cycle->log;

    return hc;
}


/*
 * A new connection for hc's transfer.  NGX_ERROR: none could be had (the
 * worker's failure: descriptors, worker_connections), f->local says so.
 * A connect() refused at once ends the transfer as the provider's
 * failure, on a posted event.
 */

static ngx_int_t
ngx_http_osint_plain_connect(ngx_http_osint_plain_conn_t *hc)
{
    ngx_int_t                rc;
    ngx_connection_t        *c;
    ngx_peer_connection_t   *pc;
    ngx_http_osint_fetch_t  *f;

    f = hc->fetch;
    pc = &hc->peer;

    ngx_memzero(pc, sizeof(ngx_peer_connection_t));

    pc->sockaddr = hc->provider->plain->sockaddr;
    pc->socklen = hc->provider->plain->socklen;
    pc->name = &hc->provider->plain->name;
    pc->get = ngx_event_get_peer;
    pc->log = ngx_cycle->log;
    pc->log_error = NGX_ERROR_ERR;
    pc->tries = 1;

    rc = ngx_event_connect_peer(pc);

    if (rc == NGX_DECLINED) {
        ngx_http_osint_plain_refused(hc, ngx_socket_errno);

        pc->connection = NULL;
        ngx_http_osint_plain_fail(hc, CURLE_COULDNT_CONNECT);

        return NGX_OK;
    }

    if (rc != NGX_OK && rc != NGX_AGAIN) {
        f->local = "no connection left for a provider socket "
                   "(worker_connections)";
        return NGX_ERROR;
    }

    c = pc->connection;
    c->data = hc;
    c->read->handler = ngx_http_osint_plain_read_handler;
    c->write->handler = ngx_http_osint_plain_write_handler;

    /* what the call's error says: not another line in error_log */
    c->log_error = NGX_ERROR_INFO;

    hc->parse->connection = c;

    if (rc == NGX_AGAIN) {
        hc->state = NGX_HTTP_OSINT_PLAIN_CONNECT;
        return NGX_OK;
    }

    hc->state = NGX_HTTP_OSINT_PLAIN_SEND;
    ngx_post_event(c->write, &ngx_posted_events);

    return NGX_OK;
}


/* connect() failed: the call's message, as libcurl words it */

static void
ngx_http_osint_plain_refused(ngx_http_osint_plain_conn_t *hc, ngx_err_t err)
{
    u_char                  *p, *last;
    ngx_http_osint_fetch_t  *f;

    f = hc->fetch;
    last = (u_char *) f->error + CURL_ERROR_SIZE - 1;

    p = ngx_snprintf((u_char *) f->error, last - (u_char *) f->error,
                     "Failed to connect to %V: ", &hc->provider->plain->name);
    p = ngx_strerror(err, p, last - p);
    *p = '\0';

    hc->result = CURLE_COULDNT_CONNECT;
}


/*
 * The request, as libcurl would write it for the same call: method and
 * the url's path and query, Host as in the url, User-Agent, Accept, the
 * provider's header lines (one of the same name replaces the module's
 * own; "Name:" with no value sends nothing, as libcurl's "removes"), and
 * a form body.  No Accept-Encoding: answers come as they are.
 */

static ngx_int_t
ngx_http_osint_plain_request(ngx_http_osint_plain_conn_t *hc,
    ngx_http_osint_fetch_t *f)
{
    u_char             *path, *p, *colon, *value, *end;
    size_t              len, path_len;
    ngx_uint_t          own, i;
    struct curl_slist  *h;

    /* the parts of the request the module writes unless a header did */

    static ngx_str_t  own_lines[] = {
        ngx_string("Host: "),
        ngx_string(NGX_HTTP_OSINT_PLAIN_AGENT),
        ngx_string("Accept: */*" CRLF),
        ngx_string("Content-Type: application/x-www-form-urlencoded" CRLF)
    };

    path = (u_char *) f->origin_url + hc->provider->plain_path;

    /*
     * The path, up to a fragment (libcurl sends none); its bytes were
     * checked in ngx_http_osint_plain_origin().
     */

    for (p = path; *p && *p != '#'; p++) {
        /* void */
    }

    path_len = p - path;

    own = hc->provider->plain_own;

    if (f->post == NULL) {
        own &= ~NGX_HTTP_OSINT_PLAIN_OWN_FORM;
    }

    len = sizeof("POST / HTTP/1.1" CRLF) - 1 + path_len
          + own_lines[0].len + hc->provider->plain_host.len + 2
          + own_lines[1].len + own_lines[2].len + own_lines[3].len
          + sizeof("Content-Length: " CRLF) - 1 + NGX_SIZE_T_LEN
          + 2 + f->post_len;

    /*
     * No line break in them: ngx_http_osint_tpl_compile() refuses CR and
     * LF in a template, a variable is percent-encoded, the key printable;
     * X-Request-ID and the trace context are header values nginx parsed.
     */

    for (h = f->headers; h; h = h->next) {
        len += ngx_strlen(h->data) + 2;
    }

    if (len > hc->out_size) {
        ngx_free(hc->out.start);

        hc->out.start = ngx_alloc(len, f->log);
        if (hc->out.start == NULL) {
            hc->out_size = 0;
            f->local = "out of memory";
            return NGX_ERROR;
        }

        hc->out_size = len;
    }

    p = hc->out.start;

    p = f->post ? ngx_cpymem(p, "POST ", 5) : ngx_cpymem(p, "GET ", 4);

    if (path_len == 0 || *path != '/') {
        *p++ = '/';
    }

    p = ngx_cpymem(p, path, path_len);
    p = ngx_cpymem(p, " HTTP/1.1" CRLF, sizeof(" HTTP/1.1" CRLF) - 1);

    for (i = 0; i < 4; i++) {
        if (!(own & (1 << i))) {
            continue;
        }

        p = ngx_cpymem(p, own_lines[i].data, own_lines[i].len);

        if (i == 0) {
            p = ngx_cpymem(p, hc->provider->plain_host.data,
                           hc->provider->plain_host.len);
            *p++ = CR; *p++ = LF;
        }
    }

    for (h = f->headers; h; h = h->next) {
        colon = (u_char *) ngx_strchr(h->data, ':');
        end = (u_char *) h->data + ngx_strlen(h->data);

        if (colon == NULL) {
            continue;               /* "header" lines always have one */
        }

        for (value = colon + 1; value < end && *value == ' '; value++) {
            /* void */
        }

        if (value == end) {
            continue;
        }

        p = ngx_cpymem(p, h->data, end - (u_char *) h->data);
        *p++ = CR; *p++ = LF;
    }

    if (f->post) {
        p = ngx_sprintf(p, "Content-Length: %uz" CRLF, f->post_len);
    }

    *p++ = CR; *p++ = LF;

    if (f->post) {
        p = ngx_cpymem(p, f->post, f->post_len);
    }

    hc->out.pos = hc->out.start;
    hc->out.last = p;

    /* what the last answer on this connection left */

    hc->in.pos = hc->in.start;
    hc->in.last = hc->in.start;
    hc->parse->state = 0;
    ngx_memzero(&hc->status, sizeof(ngx_http_status_t));

    hc->header_bytes = 0;
    hc->answered = 0;
    hc->length = 0;
    hc->chunk = 0;
    hc->close = 0;
    hc->complete = 0;
    hc->retry_after = 0;
    hc->said_seen = 0;

    return NGX_OK;
}


/* which of the module's own lines a header of this name replaces */

static ngx_uint_t
ngx_http_osint_plain_own(u_char *name, size_t len)
{
    if (len == 4 && ngx_strncasecmp(name, (u_char *) "Host", 4) == 0) {
        return 1;
    }

    if (len == 10 && ngx_strncasecmp(name, (u_char *) "User-Agent", 10) == 0)
    {
        return 2;
    }

    if (len == 6 && ngx_strncasecmp(name, (u_char *) "Accept", 6) == 0) {
        return 4;
    }

    if (len == 12
        && ngx_strncasecmp(name, (u_char *) "Content-Type", 12) == 0)
    {
        return 8;
    }

    return 0;
}


static void
ngx_http_osint_plain_write_handler(ngx_event_t *wev)
{
    int                           err;
    socklen_t                     len;
    ngx_connection_t             *c;
    ngx_http_osint_plain_conn_t  *hc;

    c = wev->data;
    hc = c->data;

    if (hc->state == NGX_HTTP_OSINT_PLAIN_CONNECT) {

        /* connect() ended: how, as ngx_http_upstream_test_connect() asks */

        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len)
            == -1)
        {
            err = ngx_socket_errno;
        }

        if (err) {
            (void) ngx_connection_error(c, err, "connect() failed");
            ngx_http_osint_plain_refused(hc, err);
            ngx_http_osint_plain_end(hc, CURLE_COULDNT_CONNECT);
            return;
        }

        hc->state = NGX_HTTP_OSINT_PLAIN_SEND;
    }

    if (hc->state == NGX_HTTP_OSINT_PLAIN_SEND) {
        ngx_http_osint_plain_send(hc);
    }
}


/*
 * Registered for both directions once, edge-triggered: an event of the
 * side not waited for is only remembered (ev->ready) until it is.
 */

static void
ngx_http_osint_plain_read_handler(ngx_event_t *rev)
{
    ngx_connection_t             *c;
    ngx_http_osint_plain_conn_t  *hc;

    c = rev->data;
    hc = c->data;

    if (hc->state == NGX_HTTP_OSINT_PLAIN_STATUS
        || hc->state == NGX_HTTP_OSINT_PLAIN_HEADERS
        || hc->state == NGX_HTTP_OSINT_PLAIN_BODY)
    {
        ngx_http_osint_plain_read(hc);
    }
}


static void
ngx_http_osint_plain_send(ngx_http_osint_plain_conn_t *hc)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = hc->peer.connection;

    while (hc->out.pos < hc->out.last) {
        n = c->send(c, hc->out.pos, hc->out.last - hc->out.pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_osint_plain_broken(hc, 0);
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_osint_plain_broken(hc, 0);
            return;
        }

        hc->out.pos += n;
    }

    hc->state = NGX_HTTP_OSINT_PLAIN_STATUS;

    if (c->read->ready) {
        ngx_http_osint_plain_read(hc);
    }
}


static void
ngx_http_osint_plain_read(ngx_http_osint_plain_conn_t *hc)
{
    size_t             left;
    ssize_t            n;
    ngx_int_t          rc;
    ngx_buf_t         *in;
    ngx_uint_t         reads;
    ngx_connection_t  *c;

    c = hc->peer.connection;
    in = &hc->in;

    for (reads = 0; /* void */; reads++) {

        if (reads == NGX_HTTP_OSINT_PLAIN_READS) {
            ngx_post_event(c->read, &ngx_posted_events);
            return;
        }

        if (hc->state == NGX_HTTP_OSINT_PLAIN_BODY) {
            if (in->pos == in->last) {
                in->pos = in->start;
                in->last = in->start;
            }

        } else if (in->last == in->end) {

            /* headers: the line parsed goes to the front, or is too long */

            if (hc->line == in->start) {
                (void) ngx_http_osint_plain_error(hc, CURLE_WEIRD_SERVER_REPLY,
                                                  "a line of the answer's "
                                                  "headers is longer than "
                                                  "16 KB");
                ngx_http_osint_plain_end(hc, hc->result);
                return;
            }

            left = in->last - hc->line;
            ngx_memmove(in->start, hc->line, left);

            in->pos = in->start;
            in->last = in->start + left;
            hc->line = in->start;
        }

        n = c->recv(c, in->last, in->end - in->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_osint_plain_broken(hc, 0);
            }

            return;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_osint_plain_broken(hc, n == 0);
            return;
        }

        in->last += n;
        hc->answered = 1;

        rc = ngx_http_osint_plain_parse(hc);

        if (rc == NGX_AGAIN) {
            continue;
        }

        ngx_http_osint_plain_end(hc, rc == NGX_OK ? CURLE_OK : hc->result);
        return;
    }
}


/* NGX_OK: the answer is whole; NGX_ERROR: hc->result says what broke */

static ngx_int_t
ngx_http_osint_plain_parse(ngx_http_osint_plain_conn_t *hc)
{
    ngx_int_t                rc;
    ngx_buf_t               *in;
    ngx_http_request_t      *r;
    ngx_http_osint_fetch_t  *f;

    in = &hc->in;
    r = hc->parse;
    f = hc->fetch;

    for ( ;; ) {

        switch (hc->state) {

        case NGX_HTTP_OSINT_PLAIN_STATUS:
            hc->line = in->pos;

            rc = ngx_http_parse_status_line(r, in, &hc->status);

            if (rc == NGX_AGAIN) {

                /* parsed again from its start once more has come */

                in->pos = hc->line;
                r->state = 0;
                ngx_memzero(&hc->status, sizeof(ngx_http_status_t));
                return NGX_AGAIN;
            }

            if (rc != NGX_OK) {
                return ngx_http_osint_plain_error(hc, CURLE_WEIRD_SERVER_REPLY,
                                                  "the answer is not HTTP/1");
            }

            hc->header_bytes += in->pos - hc->line;

            if (hc->status.code == 101 || hc->status.code < 100) {
                return ngx_http_osint_plain_error(hc, CURLE_WEIRD_SERVER_REPLY,
                                                  "the answer's status is "
                                                  "not one of HTTP's");
            }

            if (hc->status.code >= 200) {
                f->http_status = hc->status.code;
            }

            if (hc->status.http_version < NGX_HTTP_VERSION_11) {
                hc->close = 1;
            }

            hc->state = NGX_HTTP_OSINT_PLAIN_HEADERS;
            break;

        case NGX_HTTP_OSINT_PLAIN_HEADERS:
            hc->line = in->pos;

            rc = ngx_http_parse_header_line(r, in, 1);

            if (rc != NGX_AGAIN) {
                hc->header_bytes += in->pos - hc->line;

                if (hc->header_bytes > NGX_HTTP_OSINT_PLAIN_HEADERS_MAX) {
                    return ngx_http_osint_plain_error(hc,
                                                      CURLE_WEIRD_SERVER_REPLY,
                                                      "the answer's headers "
                                                      "are larger than "
                                                      "64 KB");
                }
            }

            if (rc == NGX_OK) {
                if (r->invalid_header || hc->status.code < 200) {
                    break;
                }

                if (ngx_http_osint_plain_header(hc) != NGX_OK) {
                    return NGX_ERROR;
                }

                break;
            }

            if (rc == NGX_AGAIN) {
                in->pos = hc->line;
                r->state = 0;
                return NGX_AGAIN;
            }

            if (rc != NGX_HTTP_PARSE_HEADER_DONE) {
                return ngx_http_osint_plain_error(hc, CURLE_WEIRD_SERVER_REPLY,
                                                  "the answer has a header "
                                                  "line that is not HTTP's");
            }

            if (hc->status.code < 200) {

                /* 100 Continue, 103 Early Hints: the answer comes next */

                ngx_memzero(&hc->status, sizeof(ngx_http_status_t));
                hc->state = NGX_HTTP_OSINT_PLAIN_STATUS;
                break;
            }

            rc = ngx_http_osint_plain_framing(hc);

            if (rc != NGX_AGAIN) {
                return rc;
            }

            break;

        case NGX_HTTP_OSINT_PLAIN_BODY:
            return ngx_http_osint_plain_body(hc);

        default:
            return NGX_ERROR;
        }
    }
}


/* one header line of the answer: what the module reads of it */

static ngx_int_t
ngx_http_osint_plain_header(ngx_http_osint_plain_conn_t *hc)
{
    u_char                        *name, *value;
    off_t                          n;
    size_t                         name_len, len;
    ngx_uint_t                     i;
    ngx_http_request_t            *r;
    ngx_http_osint_fetch_t        *f;
    ngx_http_osint_said_header_t  *sh;

    r = hc->parse;
    f = hc->fetch;

    name = r->header_name_start;
    name_len = r->header_name_end - r->header_name_start;
    value = r->header_start;
    len = r->header_end - r->header_start;

#define ngx_http_osint_plain_is(s)                                           \
    (name_len == sizeof(s) - 1                                               \
     && ngx_strncasecmp(name, (u_char *) s, sizeof(s) - 1) == 0)

    if (ngx_http_osint_plain_is("Content-Length")) {
        n = ngx_atoof(value, len);

        if (n == NGX_ERROR || (hc->length && n != hc->remaining)) {
            return ngx_http_osint_plain_error(hc, CURLE_WEIRD_SERVER_REPLY,
                                              "the answer's Content-Length "
                                              "is not valid");
        }

        hc->remaining = n;
        hc->length = 1;

    } else if (ngx_http_osint_plain_is("Transfer-Encoding")) {

        if (len != 7 || ngx_strncasecmp(value, (u_char *) "chunked", 7) != 0)
        {
            return ngx_http_osint_plain_error(hc, CURLE_WEIRD_SERVER_REPLY,
                                              "the answer's "
                                              "Transfer-Encoding is not "
                                              "chunked");
        }

        hc->chunk = 1;

    } else if (ngx_http_osint_plain_is("Connection")) {

        if (ngx_strlcasestrn(value, value + len, (u_char *) "close",
                             sizeof("close") - 2)
            != NULL)
        {
            hc->close = 1;
        }

    } else if (ngx_http_osint_plain_is("Content-Encoding")) {

        /* none was asked for (no Accept-Encoding) */

        if (len != 8 || ngx_strncasecmp(value, (u_char *) "identity", 8) != 0)
        {
            return ngx_http_osint_plain_error(hc, CURLE_BAD_CONTENT_ENCODING,
                                              "the answer's "
                                              "Content-Encoding was not "
                                              "asked for");
        }

    } else if (ngx_http_osint_plain_is("Location")) {

        if (f->location == NULL) {
            f->location = ngx_alloc(len + 1, f->log);
            if (f->location == NULL) {
                return ngx_http_osint_plain_error(hc, CURLE_OUT_OF_MEMORY,
                                                  "out of memory");
            }

            ngx_memcpy(f->location, value, len);
            f->location[len] = '\0';
        }

    } else if (ngx_http_osint_plain_is("Retry-After")) {

        if (!hc->retry_after) {
            f->retry_after = ngx_http_osint_retry_after(value, len);
            hc->retry_after = 1;
        }

    } else if (f->said_wanted) {

        for (sh = ngx_http_osint_said_headers, i = 0; sh->name.len; sh++, i++) {
            if (name_len == sh->name.len
                && ngx_strncasecmp(name, sh->name.data, name_len) == 0
                && !(hc->said_seen & (1 << i)))
            {
                hc->said_seen |= 1 << i;
                ngx_http_osint_said_field(&f->said, sh->field, value, len,
                                          ngx_time());
                break;
            }
        }
    }

#undef ngx_http_osint_plain_is

    return NGX_OK;
}


/*
 * The headers are read: how the body ends.  A Content-Length larger than
 * osint_max_body ends the answer before its body, as libcurl's
 * CURLOPT_MAXFILESIZE did.
 */

static ngx_int_t
ngx_http_osint_plain_framing(ngx_http_osint_plain_conn_t *hc)
{
    ngx_http_osint_fetch_t  *f;

    f = hc->fetch;

    if (hc->status.code == 204 || hc->status.code == 304) {
        if (hc->in.pos != hc->in.last) {
            hc->close = 1;
        }

        return NGX_OK;
    }

    hc->state = NGX_HTTP_OSINT_PLAIN_BODY;

    if (hc->chunk) {
        hc->framing = NGX_HTTP_OSINT_PLAIN_CHUNKED;
        ngx_memzero(&hc->chunked, sizeof(ngx_http_chunked_t));

        /* both: a message to be wary of (RFC 9112, 6.1) */
        if (hc->length) {
            hc->close = 1;
        }

        return NGX_AGAIN;
    }

    if (hc->length) {
        if (f->max_body && hc->remaining > (off_t) f->max_body) {
            f->too_large = 1;
            return ngx_http_osint_plain_error(hc, CURLE_FILESIZE_EXCEEDED,
                                              "Maximum file size exceeded");
        }

        if (hc->remaining == 0) {
            if (hc->in.pos != hc->in.last) {
                hc->close = 1;
            }

            return NGX_OK;
        }

        hc->framing = NGX_HTTP_OSINT_PLAIN_LENGTH;
        return NGX_AGAIN;
    }

    hc->framing = NGX_HTTP_OSINT_PLAIN_TO_CLOSE;
    hc->close = 1;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_osint_plain_body(ngx_http_osint_plain_conn_t *hc)
{
    size_t      n;
    ngx_int_t   rc;
    ngx_buf_t  *in;

    in = &hc->in;

    switch (hc->framing) {

    case NGX_HTTP_OSINT_PLAIN_LENGTH:
        n = (size_t) ngx_min(hc->remaining, in->last - in->pos);

        if (ngx_http_osint_plain_keep(hc, in->pos, n) != NGX_OK) {
            return NGX_ERROR;
        }

        in->pos += n;
        hc->remaining -= n;

        if (hc->remaining) {
            return NGX_AGAIN;
        }

        /* more than was announced: the connection is not to be trusted */

        if (in->pos != in->last) {
            hc->close = 1;
        }

        return NGX_OK;

    case NGX_HTTP_OSINT_PLAIN_CHUNKED:

        for ( ;; ) {
#if (nginx_version >= 1027002)
            rc = ngx_http_parse_chunked(hc->parse, in, &hc->chunked, 0);
#else
            rc = ngx_http_parse_chunked(hc->parse, in, &hc->chunked);
#endif

            if (rc == NGX_OK) {
                n = (size_t) ngx_min(hc->chunked.size, in->last - in->pos);

                if (ngx_http_osint_plain_keep(hc, in->pos, n) != NGX_OK) {
                    return NGX_ERROR;
                }

                in->pos += n;
                hc->chunked.size -= n;
                continue;
            }

            if (rc == NGX_DONE) {
                if (in->pos != in->last) {
                    hc->close = 1;
                }

                return NGX_OK;
            }

            if (rc == NGX_AGAIN) {
                return NGX_AGAIN;
            }

            return ngx_http_osint_plain_error(hc, CURLE_RECV_ERROR,
                                              "the answer's chunked "
                                              "encoding is broken");
        }

    default: /* NGX_HTTP_OSINT_PLAIN_TO_CLOSE */

        if (ngx_http_osint_plain_keep(hc, in->pos, in->last - in->pos)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        in->pos = in->last;

        return NGX_AGAIN;
    }
}


static ngx_int_t
ngx_http_osint_plain_keep(ngx_http_osint_plain_conn_t *hc, u_char *data,
    size_t len)
{
    ngx_int_t  rc;

    if (len == 0) {
        return NGX_OK;
    }

    rc = ngx_http_osint_fetch_body_add(hc->fetch, data, len);

    if (rc == NGX_DECLINED) {
        return ngx_http_osint_plain_error(hc, CURLE_WRITE_ERROR,
                                          "the answer is larger than "
                                          "osint_max_body");
    }

    if (rc != NGX_OK) {
        return ngx_http_osint_plain_error(hc, CURLE_OUT_OF_MEMORY,
                                          "out of memory");
    }

    return NGX_OK;
}


/*
 * The connection failed or closed (eof).  A kept-alive connection that
 * fails before any byte of the answer was closed by the provider while
 * idle: the request goes again once, on a new connection, as libcurl
 * does; not for a call that asked for a fresh one.
 */

static void
ngx_http_osint_plain_broken(ngx_http_osint_plain_conn_t *hc, ngx_uint_t eof)
{
    ngx_int_t                rc;
    ngx_http_osint_fetch_t  *f;

    f = hc->fetch;

    if (eof && hc->state == NGX_HTTP_OSINT_PLAIN_BODY
        && hc->framing == NGX_HTTP_OSINT_PLAIN_TO_CLOSE)
    {
        ngx_http_osint_plain_end(hc, CURLE_OK);
        return;
    }

    if (hc->reused && !hc->answered && !f->fresh_connect) {

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, f->log, 0,
                       "osint: a kept-alive connection was closed, "
                       "the request goes on a new one");

        ngx_close_connection(hc->peer.connection);
        hc->peer.connection = NULL;
        hc->reused = 0;
        hc->out.pos = hc->out.start;

        rc = ngx_http_osint_plain_connect(hc);

        if (rc == NGX_ERROR) {
            ngx_http_osint_plain_fail(hc, CURLE_COULDNT_CONNECT);
        }

        return;
    }

    switch (hc->state) {

    case NGX_HTTP_OSINT_PLAIN_CONNECT:
        (void) ngx_http_osint_plain_error(hc, CURLE_COULDNT_CONNECT,
                                          "Failed to connect to the "
                                          "provider");
        break;

    case NGX_HTTP_OSINT_PLAIN_SEND:
        (void) ngx_http_osint_plain_error(hc, CURLE_SEND_ERROR,
                                          "Failure when sending data to "
                                          "the peer");
        break;

    case NGX_HTTP_OSINT_PLAIN_BODY:
        (void) ngx_http_osint_plain_error(hc, CURLE_PARTIAL_FILE,
                                          "transfer closed with "
                                          "outstanding read data "
                                          "remaining");
        break;

    default:
        if (!eof) {
            (void) ngx_http_osint_plain_error(hc, CURLE_RECV_ERROR,
                                              "Failure when receiving data "
                                              "from the peer");

        } else if (hc->answered) {
            (void) ngx_http_osint_plain_error(hc, CURLE_RECV_ERROR,
                                              "the connection closed in "
                                              "the answer's headers");

        } else {
            (void) ngx_http_osint_plain_error(hc, CURLE_GOT_NOTHING,
                                              "Empty reply from server");
        }
    }

    ngx_http_osint_plain_end(hc, hc->result);
}


/* the transfer's error, for f->error as libcurl's would be; NGX_ERROR */

static ngx_int_t
ngx_http_osint_plain_error(ngx_http_osint_plain_conn_t *hc, CURLcode result,
    const char *text)
{
    ngx_http_osint_fetch_t  *f;

    f = hc->fetch;
    hc->result = result;

    if (f->error[0] == '\0') {
        *ngx_cpystrn((u_char *) f->error, (u_char *) text, CURL_ERROR_SIZE)
            = '\0';
    }

    return NGX_ERROR;
}


/* ends the transfer on a posted event: never inside plain_start() */

static void
ngx_http_osint_plain_fail(ngx_http_osint_plain_conn_t *hc, CURLcode result)
{
    hc->result = result;
    hc->state = NGX_HTTP_OSINT_PLAIN_FAILED;

    ngx_post_event(&hc->post, &ngx_posted_events);
}


static void
ngx_http_osint_plain_post_handler(ngx_event_t *ev)
{
    ngx_http_osint_plain_conn_t  *hc;

    hc = (ngx_http_osint_plain_conn_t *)
             ((u_char *) ev - offsetof(ngx_http_osint_plain_conn_t, post));

    ngx_http_osint_plain_end(hc, hc->result);
}


/* the owner is told; hc is not to be touched afterwards */

static void
ngx_http_osint_plain_end(ngx_http_osint_plain_conn_t *hc, CURLcode result)
{
    hc->complete = (result == CURLE_OK);

    hc->done(hc->fetch, result);
}


/*
 * The transfer is over (ended, timed out, cancelled): its connection is
 * kept for the provider's next call if the answer was read whole and
 * nothing says otherwise, else closed.  The pool holds at most the
 * provider's "connections".
 */

void
ngx_http_osint_plain_finish(ngx_http_osint_fetch_t *f)
{
    ngx_connection_t             *c;
    ngx_http_osint_plain_conn_t  *hc;
    ngx_http_osint_plain_pool_t  *pool;

    hc = f->plain;

    if (hc == NULL) {
        return;
    }

    f->plain = NULL;
    hc->fetch = NULL;

    if (hc->post.posted) {
        ngx_delete_posted_event(&hc->post);
    }

    c = hc->peer.connection;
    pool = ngx_http_osint_plain_pool_of[hc->provider->index];

    if (c == NULL || !hc->complete || hc->close || ngx_exiting
        || ngx_terminate || pool->nidle >= pool->max)
    {
        ngx_http_osint_plain_close(hc);
        return;
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    hc->state = NGX_HTTP_OSINT_PLAIN_STATUS;
    hc->reused = 0;

    c->idle = 1;
    c->read->handler = ngx_http_osint_plain_idle_handler;
    c->write->handler = ngx_http_osint_plain_empty_handler;
    c->read->cancelable = 1;
    ngx_add_timer(c->read, NGX_HTTP_OSINT_PLAIN_IDLE);

    ngx_queue_insert_head(&pool->idle, &hc->queue);
    pool->nidle++;

    /* the provider closed it, or said more than it was asked */

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }
}


/*
 * An idle connection readable: the provider closed it, or sent what
 * nobody asked for; either way it goes, as ngx_http_upstream_keepalive
 * does.  Also its idle time over, or the worker shutting down
 * (c->close, from ngx_close_idle_connections()).
 */

static void
ngx_http_osint_plain_idle_handler(ngx_event_t *rev)
{
    char                          buf[1];
    ssize_t                       n;
    ngx_connection_t             *c;
    ngx_http_osint_plain_conn_t  *hc;

    c = rev->data;
    hc = c->data;

    if (!c->close && !rev->timedout) {
        n = recv(c->fd, buf, 1, MSG_PEEK);

        if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
            rev->ready = 0;

            if (ngx_handle_read_event(rev, 0) == NGX_OK) {
                return;
            }
        }
    }

    ngx_queue_remove(&hc->queue);
    ngx_http_osint_plain_pool_of[hc->provider->index]->nidle--;

    ngx_http_osint_plain_close(hc);
}


static void
ngx_http_osint_plain_empty_handler(ngx_event_t *ev)
{
    return;
}


static void
ngx_http_osint_plain_close(ngx_http_osint_plain_conn_t *hc)
{
    if (hc->peer.connection) {
        ngx_close_connection(hc->peer.connection);
    }

    if (hc->post.posted) {
        ngx_delete_posted_event(&hc->post);
    }

    ngx_free(hc->out.start);
    ngx_free(hc->in.start);
    ngx_free(hc->parse);
    ngx_free(hc);
}
