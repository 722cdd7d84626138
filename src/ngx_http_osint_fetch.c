
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * libcurl's multi_socket API on the worker's own event loop: one multi
 * handle per worker, curl's sockets as nginx connections, curl's timer as
 * an nginx timer.  Transfers to one provider share kept-alive connections
 * through the multi's connection cache.  Names are resolved by libcurl's
 * threaded resolver (Debian builds it so), never in the worker's thread.
 * Redirects are followed here, hop by hop, not by libcurl: it would send
 * the provider's custom headers (its key) to whatever host a Location
 * names, and connect to whatever address that host has.  A provider at
 * an IP literal over plain HTTP is called by ngx_http_osint_plain.c
 * instead; a redirect of its answer is followed here, by libcurl.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_osint.h"


/*
 * The least size of libcurl's connection cache; it is made as large as
 * the providers' "connections" together.  A connection given back to a
 * full cache is closed, after a walk over every connection of the multi
 * for the oldest idle one: with more transfers in flight than the cache
 * holds, each transfer paid that walk and a new connection.
 */
#define NGX_HTTP_OSINT_MAX_CONNECTS  256

/*
 * Easy handles kept for reuse: making one and setting its constant
 * options costs more than the rest of a call's setup.
 */
#define NGX_HTTP_OSINT_IDLE_EASY     64

/* why a transfer failed when ngx_get_connection() had nothing to give */
#define NGX_HTTP_OSINT_NO_CONNECTION                                         \
    "no connection left for a provider socket (worker_connections)"


/*
 * Sets an option that bounds what a transfer may do (protocols, size,
 * time, TLS verification, where sockets go); if libcurl refuses it, the
 * call fails and the reason is logged as an alert.
 */
#define ngx_http_osint_bound(easy, opt, val, log)                             \
    ngx_http_osint_bound_set(curl_easy_setopt(easy, opt, val), #opt, log)


/* what this worker knows of one socket libcurl uses */

typedef struct {
    ngx_connection_t           *conn;
    unsigned                    opened:1;   /* through our opensocket */
    unsigned                    want_in:1;  /* what libcurl waits for */
    unsigned                    want_out:1;
} ngx_http_osint_sock_t;


/* one provider's transfers in this worker: "connections N queue=M" */

typedef struct {
    ngx_uint_t                  busy;        /* transfers under way */
    ngx_uint_t                  waiting;
    ngx_queue_t                 queue;       /* of ngx_http_osint_fetch_t */
} ngx_http_osint_gate_t;


typedef struct {
    CURLM                      *multi;
    ngx_event_t                 timer;
    ngx_connection_t            timer_conn;  /* only for ev->data's fd */
    ngx_queue_t                 active;      /* of ngx_http_osint_fetch_t */

    ngx_event_t                 fail;        /* posted: ends "failed" */
    ngx_queue_t                 failed;      /* transfers we cannot serve */

    ngx_http_osint_sock_t      *socks;       /* indexed by fd */
    ngx_uint_t                  nsocks;

    ngx_http_osint_gate_t      *gates;       /* indexed by provider */

    CURL                       *idle[NGX_HTTP_OSINT_IDLE_EASY];
    ngx_uint_t                  nidle;       /* easy handles to reuse */

    ngx_log_t                  *log;
    ngx_http_osint_main_conf_t *omcf;
} ngx_http_osint_multi_t;


static int ngx_http_osint_socket_cb(CURL *easy, curl_socket_t s, int what,
    void *userp, void *socketp);
static int ngx_http_osint_timer_cb(CURLM *multi, long timeout_ms,
    void *userp);
static curl_socket_t ngx_http_osint_open_cb(void *clientp,
    curlsocktype purpose, struct curl_sockaddr *addr);
static int ngx_http_osint_close_cb(void *clientp, curl_socket_t s);
static size_t ngx_http_osint_write_cb(char *ptr, size_t size, size_t nmemb,
    void *userdata);
static void ngx_http_osint_socket_handler(ngx_event_t *ev);
static void ngx_http_osint_timer_handler(ngx_event_t *ev);
static ngx_uint_t ngx_http_osint_socket_wanted(ngx_socket_t fd,
    ngx_uint_t write);
static void ngx_http_osint_socket_action(curl_socket_t s, int action);
static void ngx_http_osint_fail_handler(ngx_event_t *ev);
static void ngx_http_osint_fetch_fail(CURL *easy, const char *why);
static void ngx_http_osint_fetch_fail_post(ngx_http_osint_fetch_t *f,
    const char *why);
static void ngx_http_osint_check_done(void);
static void ngx_http_osint_fetch_end(ngx_http_osint_fetch_t *f,
    CURLcode result);
static ngx_http_osint_sock_t *ngx_http_osint_sock(curl_socket_t s);
static void ngx_http_osint_fetch_free(ngx_http_osint_fetch_t *f);
static CURL *ngx_http_osint_easy_get(ngx_http_osint_multi_t *m);
static ngx_int_t ngx_http_osint_easy_bounds(CURL *easy,
    ngx_http_osint_multi_t *m);
static ngx_int_t ngx_http_osint_bound_set(CURLcode rc, const char *name,
    ngx_log_t *log);
static void ngx_http_osint_fetch_said(ngx_http_osint_fetch_t *f);
static ngx_int_t ngx_http_osint_fetch_redirect(ngx_http_osint_fetch_t *f,
    long status);
static ngx_int_t ngx_http_osint_fetch_redirect_to(ngx_http_osint_fetch_t *f,
    long status, char *next);
static ngx_int_t ngx_http_osint_fetch_hop(ngx_http_osint_fetch_t *f,
    const char *next, ngx_uint_t same, ngx_uint_t repost);
static void ngx_http_osint_easy_put(CURL *easy);
static ngx_int_t ngx_http_osint_fetch_go(ngx_http_osint_fetch_t *f);
static ngx_int_t ngx_http_osint_fetch_easy_call(ngx_http_osint_fetch_t *f);
static char *ngx_http_osint_fetch_location(ngx_http_osint_fetch_t *f);
static void ngx_http_osint_fetch_leave(ngx_http_osint_fetch_t *f);
static void ngx_http_osint_fetch_timeout(ngx_event_t *ev);


static ngx_http_osint_multi_t  *ngx_http_osint_multi;


/*
 * The libcurl the worker will run, checked with the configuration: names
 * must resolve off the worker's thread (threaded resolver or c-ares), and
 * a transfer cancelled while resolving must not wait for the resolver
 * (CURLOPT_QUICK_EXIT, 7.87.0).
 */

ngx_int_t
ngx_http_osint_fetch_check_libcurl(ngx_log_t *log)
{
    curl_version_info_data  *v;

    v = curl_version_info(CURLVERSION_NOW);

    if (!(v->features & CURL_VERSION_ASYNCHDNS)) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "osint: libcurl %s resolves names in the calling "
                      "thread (no AsynchDNS feature), which would block "
                      "nginx workers", v->version);
        return NGX_ERROR;
    }

    if (v->version_num < 0x075700) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "osint: libcurl %s is too old, 7.87.0 or newer "
                      "is required", v->version);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_osint_fetch_init_process(ngx_cycle_t *cycle,
    ngx_http_osint_main_conf_t *omcf)
{
    ngx_uint_t                  i, conns;
    ngx_http_osint_multi_t     *m;
    ngx_http_osint_provider_t  *p;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "osint: curl_global_init() failed");
        return NGX_ERROR;
    }

    m = ngx_pcalloc(cycle->pool, sizeof(ngx_http_osint_multi_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->multi = curl_multi_init();
    if (m->multi == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "osint: curl_multi_init() failed");
        return NGX_ERROR;
    }

    m->log = cycle->log;
    m->omcf = omcf;
    ngx_queue_init(&m->active);

    conns = NGX_HTTP_OSINT_MAX_CONNECTS;
    p = omcf->providers.elts;

    if (omcf->providers.nelts) {
        m->gates = ngx_pcalloc(cycle->pool, omcf->providers.nelts
                                            * sizeof(ngx_http_osint_gate_t));
        if (m->gates == NULL) {
            return NGX_ERROR;
        }

        conns = 0;

        for (i = 0; i < omcf->providers.nelts; i++) {
            ngx_queue_init(&m->gates[i].queue);
            conns += p[i].conns;
        }

        conns = ngx_max(conns, NGX_HTTP_OSINT_MAX_CONNECTS);
    }
    ngx_queue_init(&m->failed);

    /*
     * The timer's data must look like a connection: nginx's debug log
     * prints ev->data's fd.  cancelable: an idle multi must not keep a
     * worker from exiting.
     */

    m->timer_conn.fd = (ngx_socket_t) -1;
    m->timer.data = &m->timer_conn;
    m->timer.handler = ngx_http_osint_timer_handler;
    m->timer.log = cycle->log;
    m->timer.cancelable = 1;

    m->fail.data = &m->timer_conn;
    m->fail.handler = ngx_http_osint_fail_handler;
    m->fail.log = cycle->log;

    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION,
                      ngx_http_osint_socket_cb);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION,
                      ngx_http_osint_timer_cb);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long) conns);

    ngx_http_osint_multi = m;

    return ngx_http_osint_plain_init_process(cycle, omcf);
}


void
ngx_http_osint_fetch_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t               i;
    ngx_queue_t             *q;
    ngx_http_osint_multi_t  *m;
    ngx_http_osint_fetch_t  *f;

    m = ngx_http_osint_multi;

    if (m == NULL) {
        return;
    }

    /* the waiting first: an ended transfer would start them */

    for (i = 0; i < m->omcf->providers.nelts; i++) {
        while (!ngx_queue_empty(&m->gates[i].queue)) {
            q = ngx_queue_head(&m->gates[i].queue);
            f = ngx_queue_data(q, ngx_http_osint_fetch_t, queue);
            ngx_http_osint_fetch_cancel(f);
        }
    }

    ngx_queue_add(&m->active, &m->failed);
    ngx_queue_init(&m->failed);

    while (!ngx_queue_empty(&m->active)) {
        q = ngx_queue_head(&m->active);
        f = ngx_queue_data(q, ngx_http_osint_fetch_t, queue);
        ngx_http_osint_fetch_cancel(f);
    }

    if (m->fail.posted) {
        ngx_delete_posted_event(&m->fail);
    }

    /* closes the cached connections through our closesocket callback */

    curl_multi_cleanup(m->multi);

    while (m->nidle) {
        curl_easy_cleanup(m->idle[--m->nidle]);
    }

    if (m->timer.timer_set) {
        ngx_del_timer(&m->timer);
    }

    /*
     * Sockets libcurl did not report closed: their fds may be gone, so
     * only give the slots back; the process is leaving anyway.
     */

    for (i = 0; i < m->nsocks; i++) {
        if (m->socks[i].conn) {
            ngx_http_osint_fd_release(m->socks[i].conn, 1);
        }
    }

    ngx_free(m->socks);

    ngx_http_osint_plain_exit_process();

    ngx_http_osint_multi = NULL;

    curl_global_cleanup();
}


/*
 * Starts a transfer, or queues it behind the provider's transfers under
 * way ("connections N queue=M"); f->max_body, f->done, f->data, f->log,
 * f->headers, f->provider, f->redirects and f->api_key are set by the
 * caller.  NGX_BUSY: the queue is full, nothing started.  The timeout
 * runs from the start, not while queued: the lookup's deadline bounds
 * the wait.  The body is freed by ngx_http_osint_fetch_cancel().
 */

ngx_int_t
ngx_http_osint_fetch_start(ngx_http_osint_fetch_t *f, const char *url,
    ngx_msec_t timeout)
{
    ngx_http_osint_gate_t      *gate;
    ngx_http_osint_multi_t     *m;
    ngx_http_osint_provider_t  *p;

    m = ngx_http_osint_multi;

    if (m == NULL) {
        return NGX_ERROR;
    }

    f->origin_url = url;
    f->timeout = timeout;

    p = f->provider;
    gate = &m->gates[p->index];

    if (gate->busy < p->conns) {
        return ngx_http_osint_fetch_go(f);
    }

    if (gate->waiting >= p->conns_queue) {
        return NGX_BUSY;
    }

    ngx_queue_insert_tail(&gate->queue, &f->queue);
    gate->waiting++;
    f->queued = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_fetch_go(ngx_http_osint_fetch_t *f)
{
    CURL                    *easy;
    CURLMcode                rc;
    ngx_msec_t               lag;
    ngx_http_osint_multi_t  *m;

    m = ngx_http_osint_multi;

    f->error[0] = '\0';
    f->local = NULL;

    f->hops = 0;
    f->foreign = 0;
    f->addr_refused = 0;
    f->deadline = ngx_current_msec + f->timeout;
    f->redirect_status = 0;
    f->redirect_error = NULL;
    f->http_status = 0;
    f->retry_after = -1;

    if (f->provider->plain) {
        if (ngx_http_osint_plain_start(f, ngx_http_osint_fetch_end)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        goto started;
    }

    easy = ngx_http_osint_easy_get(m);
    if (easy == NULL) {
        return NGX_ERROR;
    }

    f->easy = easy;

    if (curl_easy_setopt(easy, CURLOPT_URL, f->origin_url) != CURLE_OK
        || ngx_http_osint_fetch_easy_call(f) != NGX_OK)
    {
        goto failed;
    }

    rc = curl_multi_add_handle(m->multi, easy);

    if (rc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, f->log, 0,
                      "osint: curl_multi_add_handle() failed: %s",
                      curl_multi_strerror(rc));
        goto failed;
    }

started:

    /*
     * The attempt's timeout on an nginx timer rather than
     * CURLOPT_TIMEOUT_MS: libcurl's own costs a timer of its multi, and
     * calls to ours, at every step of every transfer.  It runs from now,
     * as libcurl's did, not from the start of this turn of the loop
     * (ngx_current_msec): that may be long past on a busy worker.
     */

    lag = (ngx_msec_t) ngx_http_osint_now_ms() + 1 - ngx_current_msec;

    if ((ngx_msec_int_t) lag < 0) {
        lag = 0;
    }

    f->timer.handler = ngx_http_osint_fetch_timeout;
    f->timer.data = &m->timer_conn;
    f->timer.log = f->log;
    f->timer.cancelable = 1;
    ngx_add_timer(&f->timer, f->timeout + lag);

    ngx_queue_insert_tail(&m->active, &f->queue);
    f->active = 1;
    m->gates[f->provider->index].busy++;

    return NGX_OK;

failed:

    ngx_http_osint_easy_put(easy);
    f->easy = NULL;

    return NGX_ERROR;
}


/* what differs between calls; the rest was set when the handle was made */

static ngx_int_t
ngx_http_osint_fetch_easy_call(ngx_http_osint_fetch_t *f)
{
    CURL  *easy;

    easy = f->easy;

    if (ngx_http_osint_bound(easy, CURLOPT_MAXFILESIZE_LARGE,
                             (curl_off_t) f->max_body, f->log)
        != NGX_OK
        || ngx_http_osint_bound(easy, CURLOPT_OPENSOCKETDATA, f, f->log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    curl_easy_setopt(easy, CURLOPT_PRIVATE, f);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, f->error);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, f->headers);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, (long) f->fresh_connect);

    if (f->post) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long) f->post_len);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, f->post);

    } else {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    }

    return NGX_OK;
}


/*
 * A transfer under way has left the multi for good: the provider's first
 * waiting call, if any, takes its place.  One that cannot start ends as
 * the worker's failure, through the posted "failed" event: its owner may
 * be in the middle of ending another call.
 */

static void
ngx_http_osint_fetch_leave(ngx_http_osint_fetch_t *f)
{
    ngx_queue_t             *q;
    ngx_http_osint_gate_t   *gate;
    ngx_http_osint_fetch_t  *next;
    ngx_http_osint_multi_t  *m;

    m = ngx_http_osint_multi;
    gate = &m->gates[f->provider->index];

    gate->busy--;

    while (gate->busy < f->provider->conns && !ngx_queue_empty(&gate->queue)) {
        q = ngx_queue_head(&gate->queue);
        ngx_queue_remove(q);
        gate->waiting--;

        next = ngx_queue_data(q, ngx_http_osint_fetch_t, queue);
        next->queued = 0;

        if (ngx_http_osint_fetch_go(next) == NGX_OK) {
            continue;
        }

        /* it holds its place until it ends, as a started one */

        next->active = 1;
        gate->busy++;
        ngx_http_osint_fetch_fail_post(next, "the call could not be started");
    }
}


static void
ngx_http_osint_fetch_timeout(ngx_event_t *ev)
{
    ngx_http_osint_fetch_t  *f;

    f = (ngx_http_osint_fetch_t *)
            ((u_char *) ev - offsetof(ngx_http_osint_fetch_t, timer));

    ngx_http_osint_fetch_end(f, CURLE_OPERATION_TIMEDOUT);
}


ngx_int_t
ngx_http_osint_fetch_add_header(ngx_http_osint_fetch_t *f, const char *line)
{
    struct curl_slist  *list;

    list = curl_slist_append(f->headers, line);
    if (list == NULL) {
        return NGX_ERROR;
    }

    f->headers = list;

    return NGX_OK;
}


/* never called from inside a libcurl callback */

void
ngx_http_osint_fetch_cancel(ngx_http_osint_fetch_t *f)
{
    ngx_uint_t  leave;

    leave = 0;

    if (f->queued) {
        ngx_queue_remove(&f->queue);
        f->queued = 0;

        if (ngx_http_osint_multi) {
            ngx_http_osint_multi->gates[f->provider->index].waiting--;
        }
    }

    if (f->active) {
        ngx_queue_remove(&f->queue);
        f->active = 0;

        if (ngx_http_osint_multi) {
            if (f->easy) {
                curl_multi_remove_handle(ngx_http_osint_multi->multi,
                                         f->easy);
            }

            leave = 1;
        }
    }

    ngx_http_osint_fetch_free(f);

    if (leave) {
        ngx_http_osint_fetch_leave(f);
    }
}


static void
ngx_http_osint_fetch_free(ngx_http_osint_fetch_t *f)
{
    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }

    /* a transfer cut short: its connection is closed */

    ngx_http_osint_plain_finish(f);

    if (f->location) {
        ngx_free(f->location);
        f->location = NULL;
    }

    if (f->easy) {
        ngx_http_osint_easy_put(f->easy);
        f->easy = NULL;
    }

    if (f->headers) {
        curl_slist_free_all(f->headers);
        f->headers = NULL;
    }

    if (f->body) {
        ngx_free(f->body);
        f->body = NULL;
    }

    f->body_len = 0;
    f->body_size = 0;
}


static CURL *
ngx_http_osint_easy_get(ngx_http_osint_multi_t *m)
{
    CURL  *easy;

    if (m->nidle) {
        return m->idle[--m->nidle];
    }

    easy = curl_easy_init();
    if (easy == NULL) {
        return NULL;
    }

    /*
     * A transfer removed while its name still resolves (its timeout,
     * osint_deadline, a client gone, the worker exiting) leaves libcurl's
     * resolver thread behind instead of joining it: joined, the worker
     * would wait for the system resolver's timeout, seconds per lookup in
     * a DNS outage, with every client of the worker.
     */

    if (curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L) != CURLE_OK) {
        ngx_log_error(NGX_LOG_ALERT, m->log, 0,
                      "osint: curl_easy_setopt(CURLOPT_QUICK_EXIT) failed");
        curl_easy_cleanup(easy);
        return NULL;
    }

    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, ngx_http_osint_write_cb);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION,
                     ngx_http_osint_close_cb);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, m);
    curl_easy_setopt(easy, CURLOPT_USERAGENT,
                     "ngx_http_osint_module/" NGX_HTTP_OSINT_VERSION);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");

    if (ngx_http_osint_easy_bounds(easy, m) != NGX_OK) {
        curl_easy_cleanup(easy);
        return NULL;
    }

    return easy;
}


static ngx_int_t
ngx_http_osint_easy_bounds(CURL *easy, ngx_http_osint_multi_t *m)
{
    ngx_http_osint_main_conf_t  *omcf;

    omcf = m->omcf;

    /* our own redirect following: ngx_http_osint_fetch_redirect() */

    if (ngx_http_osint_bound(easy, CURLOPT_FOLLOWLOCATION, 0L, m->log)
        != NGX_OK
        || ngx_http_osint_bound(easy, CURLOPT_PROTOCOLS_STR, "http,https",
                                m->log)
           != NGX_OK
        || ngx_http_osint_bound(easy, CURLOPT_OPENSOCKETFUNCTION,
                                ngx_http_osint_open_cb, m->log)
           != NGX_OK
        || ngx_http_osint_bound(easy, CURLOPT_SSL_VERIFYPEER,
                                omcf->ssl_verify ? 1L : 0L, m->log)
           != NGX_OK
        || ngx_http_osint_bound(easy, CURLOPT_SSL_VERIFYHOST,
                                omcf->ssl_verify ? 2L : 0L, m->log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (omcf->ssl_trusted_certificate.len
        && ngx_http_osint_bound(easy, CURLOPT_CAINFO,
                                omcf->ssl_trusted_certificate.data, m->log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_bound_set(CURLcode rc, const char *name, ngx_log_t *log)
{
    if (rc == CURLE_OK) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "osint: curl_easy_setopt(%s) failed: %s, the call is "
                  "not made", name, curl_easy_strerror(rc));

    return NGX_ERROR;
}


/*
 * A handle out of the multi goes back to the idle list with its constant
 * options; pointers into the ended call's memory are cleared first.
 */

static void
ngx_http_osint_easy_put(CURL *easy)
{
    ngx_http_osint_multi_t  *m;

    m = ngx_http_osint_multi;

    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, NULL);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, NULL);

    if (m && m->nidle < NGX_HTTP_OSINT_IDLE_EASY) {
        m->idle[m->nidle++] = easy;
        return;
    }

    curl_easy_cleanup(easy);
}


static size_t
ngx_http_osint_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    ngx_http_osint_fetch_t *f = userdata;

    size_t  len;

    len = size * nmemb;

    if (ngx_http_osint_fetch_body_add(f, (u_char *) ptr, len) != NGX_OK) {
        return 0;
    }

    return len;
}


static ngx_http_osint_sock_t *
ngx_http_osint_sock(curl_socket_t s)
{
    ngx_uint_t               n;
    ngx_http_osint_multi_t  *m;
    ngx_http_osint_sock_t   *socks;

    m = ngx_http_osint_multi;

    if (s < 0) {
        return NULL;
    }

    if ((ngx_uint_t) s >= m->nsocks) {
        n = ngx_max(64, m->nsocks * 2);
        n = ngx_max(n, (ngx_uint_t) s + 1);

        socks = ngx_alloc(n * sizeof(ngx_http_osint_sock_t), m->log);
        if (socks == NULL) {
            return NULL;
        }

        ngx_memzero(socks, n * sizeof(ngx_http_osint_sock_t));

        if (m->socks) {
            ngx_memcpy(socks, m->socks,
                       m->nsocks * sizeof(ngx_http_osint_sock_t));
            ngx_free(m->socks);
        }

        m->socks = socks;
        m->nsocks = n;
    }

    return &m->socks[s];
}


/*
 * Where the address a name resolved to is known.  A socket we cannot
 * open or wrap is the worker's failure (descriptors, worker_connections,
 * memory), not the provider's: the transfer is told so (f->local) before
 * libcurl fails it, or tries another address.  A hop that left the
 * provider's origin may only reach a public address (no check between
 * resolving and connecting can be raced by DNS).  clientp is the fetch.
 */

static curl_socket_t
ngx_http_osint_open_cb(void *clientp, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
    ngx_http_osint_fetch_t *f = clientp;

    u_char                   text[NGX_SOCKADDR_STRLEN];
    size_t                   len;
    const char              *why;
    ngx_socket_t             s;
    ngx_http_osint_sock_t   *sk;
    ngx_http_osint_multi_t  *m;

    m = ngx_http_osint_multi;

    if (f == NULL || m == NULL) {
        return CURL_SOCKET_BAD;
    }

    if (f->foreign && !ngx_http_osint_addr_public(&addr->addr)) {
        len = ngx_sock_ntop(&addr->addr, addr->addrlen, text,
                            NGX_SOCKADDR_STRLEN, 1);

        ngx_log_error(NGX_LOG_INFO, f->log, 0,
                      "osint: redirect refused: a non-public address %*s",
                      len, text);

        f->addr_refused = 1;

        return CURL_SOCKET_BAD;
    }

    s = ngx_socket(addr->family, addr->socktype, addr->protocol);

    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ERR, m->log, ngx_socket_errno,
                      "osint: socket() failed");
        why = "socket() failed";
        goto failed;
    }

    sk = ngx_http_osint_sock(s);
    if (sk == NULL) {
        ngx_close_socket(s);
        why = "out of memory";
        goto failed;
    }

    /* a number reused after a socket closed behind libcurl's back */

    if (sk->conn) {
        ngx_http_osint_fd_release(sk->conn, 1);
    }

    sk->conn = ngx_http_osint_fd_wrap(s, m->log);
    if (sk->conn == NULL) {
        ngx_close_socket(s);
        why = NGX_HTTP_OSINT_NO_CONNECTION;
        goto failed;
    }

    sk->conn->read->handler = ngx_http_osint_socket_handler;
    sk->conn->write->handler = ngx_http_osint_socket_handler;
    sk->opened = 1;

    return s;

failed:

    if (f) {
        f->local = why;
    }

    return CURL_SOCKET_BAD;
}


static int
ngx_http_osint_close_cb(void *clientp, curl_socket_t s)
{
    ngx_http_osint_sock_t  *sk;

    sk = (ngx_http_osint_multi && s >= 0
          && (ngx_uint_t) s < ngx_http_osint_multi->nsocks)
         ? &ngx_http_osint_multi->socks[s] : NULL;

    /* the close below takes it out of epoll: no epoll_ctl() first */

    if (sk && sk->conn) {
        ngx_http_osint_fd_release(sk->conn, 1);
        sk->conn = NULL;
        sk->opened = 0;
    }

    return ngx_close_socket(s);
}


/*
 * Sockets opened through ngx_http_osint_open_cb() live until the close
 * callback, and stay registered in epoll for reading all along, as nginx
 * keeps its upstream connections: CURL_POLL_REMOVE only stops watching
 * them for writing (always writable, level-triggered), and the next
 * transfer on the same cached connection asks for reading what is
 * already there; two epoll_ctl() calls fewer a transfer.  What libcurl
 * did not ask for is not passed on (ngx_http_osint_socket_handler).
 * Others (the threaded resolver's socketpair) are never reported closed:
 * forget them at REMOVE.
 *
 * Never -1: libcurl would fail every transfer of the worker.  A socket we
 * cannot watch fails the one transfer it serves (fetch_fail).
 */

static int
ngx_http_osint_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
    ngx_http_osint_multi_t *m = userp;

    ngx_http_osint_sock_t  *sk;

    sk = ngx_http_osint_sock(s);
    if (sk == NULL) {
        if (what != CURL_POLL_REMOVE) {
            ngx_http_osint_fetch_fail(easy, "out of memory");
        }

        return 0;
    }

    if (what == CURL_POLL_REMOVE) {
        if (sk->conn == NULL) {
            return 0;
        }

        sk->want_in = 0;
        sk->want_out = 0;

        if (sk->opened && sk->conn->write->active
            && fcntl(s, F_GETFD) == -1)
        {
            /*
             * libcurl before 8.2 closes a socket still connecting (so
             * watched for writing) with a plain close(), bypassing our
             * close callback, then reports REMOVE: the fd is gone, so
             * epoll must not be asked.
             */

            ngx_http_osint_fd_release(sk->conn, 1);
            sk->conn = NULL;
            sk->opened = 0;

        } else if (sk->opened) {
            (void) ngx_http_osint_fd_watch(sk->conn, sk->conn->read->active,
                                           0);

        } else {
            ngx_http_osint_fd_release(sk->conn, 0);
            sk->conn = NULL;
        }

        return 0;
    }

    if (sk->conn == NULL || (socketp == NULL && !sk->opened)) {

        if (sk->conn) {
            /* a stale non-opened socket: its number was closed and reused */
            ngx_http_osint_fd_release(sk->conn, 1);
        }

        sk->conn = ngx_http_osint_fd_wrap(s, m->log);
        if (sk->conn == NULL) {
            ngx_http_osint_fetch_fail(easy, NGX_HTTP_OSINT_NO_CONNECTION);
            return 0;
        }

        sk->conn->read->handler = ngx_http_osint_socket_handler;
        sk->conn->write->handler = ngx_http_osint_socket_handler;
        sk->opened = 0;
    }

    if (socketp == NULL) {
        curl_multi_assign(m->multi, s, sk);
    }

    sk->want_in = (what == CURL_POLL_IN || what == CURL_POLL_INOUT);
    sk->want_out = (what == CURL_POLL_OUT || what == CURL_POLL_INOUT);

    /* our own sockets stay registered for reading (see above) */

    if (ngx_http_osint_fd_watch(sk->conn,
                                sk->want_in
                                || (sk->opened && sk->conn->read->active),
                                sk->want_out)
        != NGX_OK)
    {
        ngx_http_osint_fetch_fail(easy, "its socket could not be watched");
    }

    return 0;
}


/*
 * Ends one transfer as the worker's own failure, soon: a handle cannot
 * leave the multi inside libcurl's callback, so it waits in m->failed for
 * a posted event.  Its socket is not watched meanwhile.
 */

static void
ngx_http_osint_fetch_fail(CURL *easy, const char *why)
{
    ngx_http_osint_fetch_t  *f;
    ngx_http_osint_multi_t  *m;

    m = ngx_http_osint_multi;
    f = NULL;

    if (easy) {
        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &f);
    }

    if (f == NULL || !f->active) {
        ngx_log_error(NGX_LOG_ERR, m->log, 0,
                      "osint: %s, in no transfer of ours", why);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, f->log, 0,
                  "osint: a provider transfer fails: %s", why);

    ngx_queue_remove(&f->queue);
    ngx_http_osint_fetch_fail_post(f, why);
}


/* f, in no list, ends as our failure on the next posted events */

static void
ngx_http_osint_fetch_fail_post(ngx_http_osint_fetch_t *f, const char *why)
{
    ngx_http_osint_multi_t  *m;

    m = ngx_http_osint_multi;

    f->local = why;
    ngx_queue_insert_tail(&m->failed, &f->queue);

    if (!m->fail.posted) {
        ngx_post_event(&m->fail, &ngx_posted_events);
    }
}


static void
ngx_http_osint_fail_handler(ngx_event_t *ev)
{
    ngx_queue_t             *q;
    ngx_http_osint_fetch_t  *f;

    /* f->done() may cancel other transfers, failed ones too: look again */

    while (ngx_http_osint_multi
           && !ngx_queue_empty(&ngx_http_osint_multi->failed))
    {
        q = ngx_queue_head(&ngx_http_osint_multi->failed);
        f = ngx_queue_data(q, ngx_http_osint_fetch_t, queue);
        ngx_http_osint_fetch_end(f, CURLE_ABORTED_BY_CALLBACK);
    }
}


/*
 * -1 deletes the timer; 0 means "as soon as possible", which nginx does
 * on the next turn of the loop, outside this callback, as libcurl wants.
 * ngx_add_timer() keeps a close-enough old deadline, so delete first.
 */

static int
ngx_http_osint_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    ngx_http_osint_multi_t *m = userp;

    if (m->timer.timer_set) {
        ngx_del_timer(&m->timer);
    }

    if (timeout_ms >= 0) {
        ngx_add_timer(&m->timer, (ngx_msec_t) timeout_ms);
    }

    return 0;
}


static void
ngx_http_osint_socket_handler(ngx_event_t *ev)
{
    int                  action;
    ngx_socket_t         fd;
    ngx_connection_t    *c;

    c = ev->data;
    fd = c->fd;

    /*
     * A cached connection readable while no transfer uses it: the
     * provider closed it, or sent what nobody asked for.  libcurl finds
     * out when it takes the connection again; until then, no more
     * events of it (level-triggered, they would come every turn).
     */

    if (!ngx_http_osint_socket_wanted(fd, ev->write)) {
        if (!ev->write && c->read->active) {
            (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
        }

        return;
    }

    /* which event fired, not ev->ready: nginx never reads these fds */

    action = ev->write ? CURL_CSELECT_OUT : CURL_CSELECT_IN;

    if (ev->error) {
        action |= CURL_CSELECT_ERR;
    }

    /* c may be released inside: do not touch it afterwards */

    ngx_http_osint_socket_action(fd, action);
}


static ngx_uint_t
ngx_http_osint_socket_wanted(ngx_socket_t fd, ngx_uint_t write)
{
    ngx_http_osint_sock_t  *sk;

    if (ngx_http_osint_multi == NULL || fd < 0
        || (ngx_uint_t) fd >= ngx_http_osint_multi->nsocks)
    {
        return 0;
    }

    sk = &ngx_http_osint_multi->socks[fd];

    return write ? sk->want_out : sk->want_in;
}


static void
ngx_http_osint_timer_handler(ngx_event_t *ev)
{
    if (ngx_http_osint_multi == NULL) {
        return;
    }

    ngx_http_osint_socket_action(CURL_SOCKET_TIMEOUT, 0);
}


/*
 * An error here is libcurl's own (memory, a bad socket): what it could
 * not do for a transfer comes back as that transfer's result.
 */

static void
ngx_http_osint_socket_action(curl_socket_t s, int action)
{
    int        running;
    CURLMcode  rc;

    rc = curl_multi_socket_action(ngx_http_osint_multi->multi, s, action,
                                  &running);

    if (rc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, ngx_http_osint_multi->log, 0,
                      "osint: curl_multi_socket_action() failed: %s",
                      curl_multi_strerror(rc));
    }

    ngx_http_osint_check_done();
}


static void
ngx_http_osint_check_done(void)
{
    int                      left;
    CURLMsg                 *msg;
    ngx_http_osint_fetch_t  *f;

    while (ngx_http_osint_multi
           && (msg = curl_multi_info_read(ngx_http_osint_multi->multi, &left)))
    {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        f = NULL;
        (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                                 (char **) &f);

        if (f) {
            ngx_http_osint_fetch_end(f, msg->data.result);
        }
    }
}


/* the transfer leaves the multi, its outcome read, and its owner is told */

static void
ngx_http_osint_fetch_end(ngx_http_osint_fetch_t *f, CURLcode result)
{
    long                 status;
    struct curl_header  *h;

    f->result = result;

    /* the plain client read status, Retry-After and said with the answer */

    ngx_http_osint_plain_finish(f);

    if (f->easy) {
        status = 0;
        (void) curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
        f->http_status = status;

        f->retry_after = -1;

        if (curl_easy_header(f->easy, "Retry-After", 0, CURLH_HEADER, -1, &h)
            == CURLHE_OK)
        {
            f->retry_after = ngx_http_osint_retry_after((u_char *) h->value,
                                                        ngx_strlen(h->value));
        }

        if (f->said_wanted) {
            ngx_http_osint_fetch_said(f);
        }
    }

    status = f->http_status;

    if (result == CURLE_OK
        && (status == 301 || status == 302 || status == 303
            || status == 307 || status == 308)
        && ngx_http_osint_fetch_redirect(f, status) == NGX_OK)
    {
        return;                 /* the next hop is on its way */
    }

    /* no other address of the name was allowed either */

    if (f->result != CURLE_OK && f->addr_refused) {
        f->redirect_error = "redirect refused";
    }

    ngx_queue_remove(&f->queue);

    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }

    if (f->easy) {
        curl_multi_remove_handle(ngx_http_osint_multi->multi, f->easy);
        ngx_http_osint_easy_put(f->easy);
        f->easy = NULL;
    }

    if (f->headers) {
        curl_slist_free_all(f->headers);
        f->headers = NULL;
    }

    if (f->active) {
        f->active = 0;
        ngx_http_osint_fetch_leave(f);
    }

    /* the body stays with f until the owner calls fetch_cancel() */

    f->done(f);
}


/*
 * A 3xx with a Location: the next hop, if the provider's "redirects" and
 * ngx_http_osint_redirect_check() allow it.  NGX_OK: it is under way;
 * otherwise the answer ends here (f->redirect_error says why, if set).
 */

static ngx_int_t
ngx_http_osint_fetch_redirect(ngx_http_osint_fetch_t *f, long status)
{
    char       *next;
    ngx_int_t   rc;

    next = NULL;

    if (f->easy == NULL) {
        if (f->location == NULL) {
            return NGX_DECLINED;
        }

        next = ngx_http_osint_fetch_location(f);

        if (next == NULL) {
            return NGX_DECLINED;    /* as libcurl's CURLINFO_REDIRECT_URL */
        }

        rc = ngx_http_osint_fetch_redirect_to(f, status, next);

        curl_free(next);

        return rc;
    }

    if (curl_easy_getinfo(f->easy, CURLINFO_REDIRECT_URL, &next) != CURLE_OK
        || next == NULL)
    {
        return NGX_DECLINED;    /* no Location: a status like any other */
    }

    return ngx_http_osint_fetch_redirect_to(f, status, next);
}


/* next: the absolute URL of the Location, the string of its owner */

static ngx_int_t
ngx_http_osint_fetch_redirect_to(ngx_http_osint_fetch_t *f, long status,
    char *next)
{
    char        *copy;
    size_t       len;
    ngx_int_t    rc;
    ngx_uint_t   same, repost;
    const char  *reason;

    f->redirect_status = status;

    if (f->hops >= f->redirects) {
        f->redirect_error = f->redirects ? "too many redirects"
                                         : "redirects are off for this "
                                           "provider";
        return NGX_DECLINED;
    }

    /* 307 and 308 keep the method; 301, 302, 303 turn a POST into a GET */

    repost = f->post && (status == 307 || status == 308);

    reason = ngx_http_osint_redirect_check(f->origin_url, next, f->foreign,
                                           repost, f->api_key, &same);
    if (reason) {
        ngx_log_error(NGX_LOG_INFO, f->log, 0,
                      "osint: redirect refused: %s", reason);
        f->redirect_error = "redirect refused";
        return NGX_DECLINED;
    }

    if ((ngx_msec_int_t) (f->deadline - ngx_current_msec) <= 0) {
        f->result = CURLE_OPERATION_TIMEDOUT;
        return NGX_DECLINED;
    }

    /* libcurl's string may not outlive the handle's removal */

    len = ngx_strlen(next) + 1;

    copy = ngx_alloc(len, f->log);
    if (copy == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(copy, next, len);

    rc = ngx_http_osint_fetch_hop(f, copy, same, repost);

    ngx_free(copy);

    return rc;
}


/*
 * The same handle, the next URL.  A hop off the provider's origin goes
 * without its headers (key, custom headers, X-Request-ID), on a new
 * connection so that ngx_http_osint_open_cb() sees the address, and
 * from then on every hop is such a hop.  All hops share the timeout.
 */

static ngx_int_t
ngx_http_osint_fetch_hop(ngx_http_osint_fetch_t *f, const char *next,
    ngx_uint_t same, ngx_uint_t repost)
{
    CURL                    *easy;
    ngx_http_osint_multi_t  *m;

    m = ngx_http_osint_multi;

    f->hops++;
    f->body_len = 0;
    f->error[0] = '\0';

    if (!same) {
        f->foreign = 1;
    }

    if (f->post && !repost) {
        f->post = NULL;
    }

    if (f->easy) {
        curl_multi_remove_handle(m->multi, f->easy);

    } else {

        /* the plain client's answer: libcurl takes the hops from here */

        f->easy = ngx_http_osint_easy_get(m);

        if (f->easy == NULL || ngx_http_osint_fetch_easy_call(f) != NGX_OK) {
            f->redirect_error = "redirect refused";
            return NGX_ERROR;
        }
    }

    easy = f->easy;

    if (ngx_http_osint_bound(easy, CURLOPT_URL, next, f->log) != NGX_OK
        || (f->foreign
            && (ngx_http_osint_bound(easy, CURLOPT_HTTPHEADER, NULL, f->log)
                != NGX_OK
                || ngx_http_osint_bound(easy, CURLOPT_FRESH_CONNECT, 1L,
                                        f->log)
                   != NGX_OK))
        || (f->post == NULL
            && ngx_http_osint_bound(easy, CURLOPT_HTTPGET, 1L, f->log)
               != NGX_OK))
    {
        f->redirect_error = "redirect refused";
        return NGX_ERROR;
    }

    if (curl_multi_add_handle(m->multi, easy) != CURLM_OK) {
        f->redirect_error = "redirect refused";
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "osint: redirect %ui followed%s", f->hops,
                   f->foreign ? ", off the origin" : "");

    return NGX_OK;
}


/*
 * What the provider said of its own limit (rate ... adaptive): the
 * headers of src/core/ngx_http_osint_ratelimit.c, read from the answer
 * just ended, before its handle goes back to the pool.  Only for
 * providers that heed them: each is a walk over the answer's headers.
 */

static void
ngx_http_osint_fetch_said(ngx_http_osint_fetch_t *f)
{
    struct curl_header            *h;
    ngx_http_osint_said_header_t  *sh;

    ngx_http_osint_said_init(&f->said);

    for (sh = ngx_http_osint_said_headers; sh->name.len; sh++) {
        if (curl_easy_header(f->easy, (char *) sh->name.data, 0,
                             CURLH_HEADER, -1, &h)
            == CURLHE_OK)
        {
            ngx_http_osint_said_field(&f->said, sh->field,
                                      (u_char *) h->value,
                                      ngx_strlen(h->value), ngx_time());
        }
    }
}


/*
 * The plain client's Location as an absolute URL, resolved against the
 * url called, as libcurl resolves CURLINFO_REDIRECT_URL; curl_free() it.
 * Any scheme: ngx_http_osint_redirect_check() is the one to refuse it.
 */

static char *
ngx_http_osint_fetch_location(ngx_http_osint_fetch_t *f)
{
    char   *next;
    CURLU  *u;

    u = curl_url();
    if (u == NULL) {
        return NULL;
    }

    next = NULL;

    if (curl_url_set(u, CURLUPART_URL, f->origin_url, 0) != CURLUE_OK
        || curl_url_set(u, CURLUPART_URL, (char *) f->location,
                        CURLU_URLENCODE | CURLU_ALLOW_SPACE
                        | CURLU_NON_SUPPORT_SCHEME)
           != CURLUE_OK
        || curl_url_get(u, CURLUPART_URL, &next, 0) != CURLUE_OK)
    {
        next = NULL;
    }

    curl_url_cleanup(u);

    return next;
}
