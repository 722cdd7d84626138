
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Redis Sentinel for osint_redis sentinel=... master=NAME: where the
 * master is, asked of the sentinels in turn with hiredis async
 * ("SENTINEL get-master-addr-by-name", osint_redis's timeout each), and
 * "+switch-master" heard on a subscription to one sentinel per worker,
 * reconnected with backoff.  The Redis client (ngx_http_osint_redis.c)
 * asks before each connection to the master and checks the answer with
 * ROLE; here nothing blocks and nothing is logged per request.
 *
 * The same rules as for the master connection: never touch a context
 * after redisAsyncHandleRead/Write, free one only from a timer, a posted
 * event or one of its reply callbacks, and ask the next sentinel from a
 * posted event.
 */


#include "ngx_http_osint_redis.h"


/* a sentinel's error text quoted in a reason */
#define NGX_HTTP_OSINT_SENTINEL_ERR_MAX    128

#define NGX_HTTP_OSINT_SENTINEL_REASON     256


typedef struct {
    u_char                          host[NGX_SOCKADDR_STRLEN + 1];
    int                             port;
    ngx_str_t                       name;
} ngx_http_osint_sentinel_addr_t;


struct ngx_http_osint_sentinel_s {
    ngx_http_osint_redis_conf_t        *conf;
    ngx_http_osint_sentinel_addr_t     *addrs;
    ngx_uint_t                          naddrs;
    ngx_log_t                          *log;

    ngx_http_osint_sentinel_found_pt    found;
    ngx_http_osint_sentinel_switch_pt   switched;
    void                               *data;

    /* the question: one sentinel at a time */
    redisAsyncContext                  *ac;
    ngx_uint_t                          first;    /* the last to answer */
    ngx_uint_t                          tried;    /* asked this round */
    ngx_uint_t                          current;
    ngx_event_t                         timeout;
    ngx_event_t                         next;     /* posted: ask another */
    u_char                              reason[NGX_HTTP_OSINT_SENTINEL_REASON];
    u_char                             *reason_last;
    u_char                              host[NGX_SOCKADDR_STRLEN + 1];

    /* the subscription to +switch-master */
    redisAsyncContext                  *sub;
    ngx_uint_t                          sub_index;
    ngx_event_t                         sub_ev;   /* retry, or timeout */
    ngx_msec_t                          sub_backoff;

    ngx_connection_t                    dummy;    /* ev->data of timers */

    unsigned                            asking:1;
    unsigned                            subscribed:1;
    unsigned                            sub_lost_logged:1;
    unsigned                            stopped:1;
};


static redisAsyncContext *ngx_http_osint_sentinel_open(
    ngx_http_osint_sentinel_t *s, ngx_uint_t i, u_char *reason,
    u_char **last);
static void ngx_http_osint_sentinel_ask(ngx_http_osint_sentinel_t *s);
static void ngx_http_osint_sentinel_fail(ngx_http_osint_sentinel_t *s,
    const char *fmt, ...);
static void ngx_http_osint_sentinel_next_handler(ngx_event_t *ev);
static void ngx_http_osint_sentinel_timeout_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_osint_sentinel_address(ngx_http_osint_sentinel_t *s,
    redisReply *rr, int *port);
static void ngx_http_osint_sentinel_subscribe(ngx_http_osint_sentinel_t *s);
static void ngx_http_osint_sentinel_sub_lost(ngx_http_osint_sentinel_t *s,
    const char *fmt, ...);
static void ngx_http_osint_sentinel_sub_handler(ngx_event_t *ev);
static void ngx_http_osint_sentinel_switch(ngx_http_osint_sentinel_t *s,
    redisReply *payload);
static void ngx_http_osint_sentinel_lost(const redisAsyncContext *ac);

/* hiredis callbacks */
static void ngx_http_osint_sentinel_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_osint_sentinel_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_osint_sentinel_cleanup(void *privdata);
static void ngx_http_osint_sentinel_auth_done(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_osint_sentinel_master_done(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_osint_sentinel_message(redisAsyncContext *ac,
    void *reply, void *privdata);


ngx_http_osint_sentinel_t *
ngx_http_osint_sentinel_create(ngx_cycle_t *cycle,
    ngx_http_osint_redis_conf_t *rcf, ngx_http_osint_sentinel_found_pt found,
    ngx_http_osint_sentinel_switch_pt switched, void *data)
{
    size_t                           len;
    ngx_uint_t                       i;
    ngx_addr_t                      *addr;
    ngx_http_osint_sentinel_t       *s;
    ngx_http_osint_sentinel_addr_t  *sa;

    s = ngx_pcalloc(cycle->pool, sizeof(ngx_http_osint_sentinel_t));
    if (s == NULL) {
        return NULL;
    }

    s->naddrs = rcf->sentinels->nelts;
    s->addrs = ngx_pcalloc(cycle->pool,
                           s->naddrs * sizeof(ngx_http_osint_sentinel_addr_t));
    if (s->addrs == NULL) {
        return NULL;
    }

    addr = rcf->sentinels->elts;

    for (i = 0; i < s->naddrs; i++) {
        sa = &s->addrs[i];

        /* IP literals, resolved at configuration: hiredis resolves none */

        len = ngx_sock_ntop(addr[i].sockaddr, addr[i].socklen, sa->host,
                            NGX_SOCKADDR_STRLEN, 0);
        sa->host[len] = '\0';
        sa->port = ngx_inet_get_port(addr[i].sockaddr);
        sa->name = addr[i].name;
    }

    s->conf = rcf;
    s->log = cycle->log;
    s->found = found;
    s->switched = switched;
    s->data = data;
    s->reason_last = s->reason;
    s->sub_backoff = NGX_HTTP_OSINT_REDIS_BACKOFF_MIN;

    /* the workers subscribe to different sentinels */

    s->sub_index = ngx_process_slot >= 0 ? ngx_process_slot % s->naddrs : 0;

    s->dummy.fd = (ngx_socket_t) -1;

    s->timeout.data = &s->dummy;
    s->timeout.handler = ngx_http_osint_sentinel_timeout_handler;
    s->timeout.log = cycle->log;
    s->timeout.cancelable = 1;

    s->next.data = &s->dummy;
    s->next.handler = ngx_http_osint_sentinel_next_handler;
    s->next.log = cycle->log;

    s->sub_ev.data = &s->dummy;
    s->sub_ev.handler = ngx_http_osint_sentinel_sub_handler;
    s->sub_ev.log = cycle->log;
    s->sub_ev.cancelable = 1;

    ngx_http_osint_sentinel_subscribe(s);

    return s;
}


void
ngx_http_osint_sentinel_stop(ngx_http_osint_sentinel_t *s)
{
    redisAsyncContext  *ac;

    s->stopped = 1;

    if (s->timeout.timer_set) {
        ngx_del_timer(&s->timeout);
    }

    if (s->sub_ev.timer_set) {
        ngx_del_timer(&s->sub_ev);
    }

    if (s->next.posted) {
        ngx_delete_posted_event(&s->next);
    }

    ac = s->ac;
    s->ac = NULL;

    if (ac) {
        redisAsyncFree(ac);
    }

    ac = s->sub;
    s->sub = NULL;

    if (ac) {
        redisAsyncFree(ac);
    }
}


/*
 * Asks the sentinels in turn, the one that answered last first; "found"
 * is called once, maybe before this returns (every sentinel refused).
 */

void
ngx_http_osint_sentinel_discover(ngx_http_osint_sentinel_t *s)
{
    if (s->asking || s->stopped) {
        return;
    }

    s->asking = 1;
    s->tried = 0;
    s->reason_last = s->reason;

    ngx_http_osint_sentinel_ask(s);
}


static void
ngx_http_osint_sentinel_ask(ngx_http_osint_sentinel_t *s)
{
    ngx_uint_t                   i;
    redisAsyncContext           *ac;
    ngx_http_osint_redis_conf_t *rcf;

    rcf = s->conf;

    while (s->tried < s->naddrs) {
        i = (s->first + s->tried) % s->naddrs;
        s->tried++;

        ac = ngx_http_osint_sentinel_open(s, i, s->reason, &s->reason_last);
        if (ac == NULL) {
            continue;
        }

        if (redisAsyncCommand(ac, ngx_http_osint_sentinel_master_done, NULL,
                              "SENTINEL get-master-addr-by-name %b",
                              rcf->master.data, rcf->master.len)
            != REDIS_OK)
        {
            s->reason_last = ngx_slprintf(s->reason,
                                          s->reason + sizeof(s->reason) - 1,
                                          "sentinel %V: cannot queue the "
                                          "question", &s->addrs[i].name);
            redisAsyncFree(ac);
            continue;
        }

        s->ac = ac;
        s->current = i;

        ngx_add_timer(&s->timeout, rcf->timeout);

        return;
    }

    s->asking = 0;

    if (s->reason_last == s->reason) {
        s->reason_last = ngx_cpymem(s->reason, "no sentinel", 11);
    }

    *s->reason_last = '\0';

    s->found(s->data, NGX_ERROR, NULL, 0, s->reason);
}


/*
 * A context to sentinel i, authenticated when it asks; NULL: "reason"
 * (NGX_HTTP_OSINT_SENTINEL_REASON bytes) says why, up to *last.
 */

static redisAsyncContext *
ngx_http_osint_sentinel_open(ngx_http_osint_sentinel_t *s, ngx_uint_t i,
    u_char *reason, u_char **last)
{
    u_char                          *end;
    redisAsyncContext               *ac;
    ngx_http_osint_redis_conf_t     *rcf;
    ngx_http_osint_sentinel_addr_t  *sa;

    rcf = s->conf;
    sa = &s->addrs[i];
    end = reason + NGX_HTTP_OSINT_SENTINEL_REASON - 1;

    ac = redisAsyncConnect((const char *) sa->host, sa->port);

    if (ac == NULL) {
        *last = ngx_slprintf(reason, end, "sentinel %V: out of memory",
                             &sa->name);
        return NULL;
    }

    if (ac->c.err) {
        /* a loopback refusal is known at once */
        *last = ngx_slprintf(reason, end, "sentinel %V: %s", &sa->name,
                             ac->c.errstr);
        redisAsyncFree(ac);
        return NULL;
    }

    if (ngx_http_osint_hiredis_attach(ac, ngx_http_osint_sentinel_cleanup,
                                      s->log)
        != NGX_OK)
    {
        *last = ngx_slprintf(reason, end, "sentinel %V: no free connection",
                             &sa->name);
        redisAsyncFree(ac);
        return NULL;
    }

    ac->data = s;

    (void) redisAsyncSetConnectCallback(ac,
                                        ngx_http_osint_sentinel_on_connect);
    (void) redisAsyncSetDisconnectCallback(ac,
                                        ngx_http_osint_sentinel_on_disconnect);

    if (rcf->sentinel_password.len
        && redisAsyncCommand(ac, ngx_http_osint_sentinel_auth_done, NULL,
                             "AUTH %b", rcf->sentinel_password.data,
                             rcf->sentinel_password.len)
           != REDIS_OK)
    {
        *last = ngx_slprintf(reason, end, "sentinel %V: cannot queue AUTH",
                             &sa->name);
        redisAsyncFree(ac);
        return NULL;
    }

    return ac;
}


/* this sentinel did not tell: the next one, from a posted event */

static void
ngx_http_osint_sentinel_fail(ngx_http_osint_sentinel_t *s,
    const char *fmt, ...)
{
    va_list             args;
    redisAsyncContext  *ac;

    va_start(args, fmt);
    s->reason_last = ngx_vslprintf(s->reason,
                                   s->reason + sizeof(s->reason) - 1,
                                   fmt, args);
    va_end(args);

    if (s->timeout.timer_set) {
        ngx_del_timer(&s->timeout);
    }

    ac = s->ac;
    s->ac = NULL;

    if (ac) {
        /* inside one of its reply callbacks hiredis defers the free */
        redisAsyncFree(ac);
    }

    if (!s->stopped) {
        ngx_post_event(&s->next, &ngx_posted_events);
    }
}


static void
ngx_http_osint_sentinel_next_handler(ngx_event_t *ev)
{
    ngx_http_osint_sentinel_t  *s;

    s = (ngx_http_osint_sentinel_t *)
            ((u_char *) ev - offsetof(ngx_http_osint_sentinel_t, next));

    if (!s->stopped && s->asking && s->ac == NULL) {
        ngx_http_osint_sentinel_ask(s);
    }
}


static void
ngx_http_osint_sentinel_timeout_handler(ngx_event_t *ev)
{
    ngx_http_osint_sentinel_t  *s;

    s = (ngx_http_osint_sentinel_t *)
            ((u_char *) ev - offsetof(ngx_http_osint_sentinel_t, timeout));

    if (s->ac == NULL) {
        return;
    }

    ngx_http_osint_sentinel_fail(s, "sentinel %V: no answer within %M ms",
                                 &s->addrs[s->current].name,
                                 s->conf->timeout);
}


static void
ngx_http_osint_sentinel_auth_done(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                 *rr = reply;
    ngx_http_osint_sentinel_t  *s = ac->data;

    int  len;

    if (rr == NULL || s == NULL || s->stopped
        || rr->type != REDIS_REPLY_ERROR)
    {
        return;
    }

    len = ngx_min(rr->len, NGX_HTTP_OSINT_SENTINEL_ERR_MAX);

    if (ac == s->ac) {
        ngx_http_osint_sentinel_fail(s, "sentinel %V: AUTH failed: %*s",
                                     &s->addrs[s->current].name,
                                     (size_t) len, rr->str);

    } else if (ac == s->sub) {
        ngx_http_osint_sentinel_sub_lost(s, "AUTH failed: %*s", (size_t) len,
                                         rr->str);
    }
}


static void
ngx_http_osint_sentinel_master_done(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                 *rr = reply;
    ngx_http_osint_sentinel_t  *s = ac->data;

    int                  port;
    ngx_str_t           *name;
    redisAsyncContext   *c;

    if (rr == NULL || s == NULL || s->stopped || ac != s->ac) {
        /* teardown: the context's end is handled elsewhere */
        return;
    }

    name = &s->addrs[s->current].name;

    if (rr->type == REDIS_REPLY_NIL) {
        ngx_http_osint_sentinel_fail(s, "sentinel %V does not know master "
                                     "\"%V\"", name, &s->conf->master);
        return;
    }

    if (rr->type == REDIS_REPLY_ERROR) {
        ngx_http_osint_sentinel_fail(s, "sentinel %V: %*s", name,
                         (size_t) ngx_min(rr->len,
                                          NGX_HTTP_OSINT_SENTINEL_ERR_MAX),
                         rr->str);
        return;
    }

    if (ngx_http_osint_sentinel_address(s, rr, &port) != NGX_OK) {
        ngx_http_osint_sentinel_fail(s, "sentinel %V: no IP address and "
                                     "port for master \"%V\"", name,
                                     &s->conf->master);
        return;
    }

    /* the answer: this sentinel is asked first next time */

    if (s->timeout.timer_set) {
        ngx_del_timer(&s->timeout);
    }

    s->first = s->current;
    s->asking = 0;

    c = s->ac;
    s->ac = NULL;
    redisAsyncFree(c);

    s->found(s->data, NGX_OK, s->host, port, NULL);
}


/*
 * ["ip", "port"]: an IP literal only (announce-hostnames would need a
 * resolver here, and hiredis resolves with a blocking call).
 */

static ngx_int_t
ngx_http_osint_sentinel_address(ngx_http_osint_sentinel_t *s, redisReply *rr,
    int *port)
{
    u_char           buf[NGX_SOCKADDR_STRLEN + 1];
    ngx_int_t        n;
    struct in6_addr  a6;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements != 2
        || rr->element[0]->type != REDIS_REPLY_STRING
        || rr->element[1]->type != REDIS_REPLY_STRING
        || rr->element[0]->len == 0
        || (size_t) rr->element[0]->len >= sizeof(buf))
    {
        return NGX_ERROR;
    }

    ngx_memcpy(buf, rr->element[0]->str, rr->element[0]->len);
    buf[rr->element[0]->len] = '\0';

    if (ngx_inet_addr(buf, rr->element[0]->len) == INADDR_NONE
        && inet_pton(AF_INET6, (char *) buf, &a6) != 1)
    {
        return NGX_ERROR;
    }

    n = ngx_atoi((u_char *) rr->element[1]->str, rr->element[1]->len);

    if (n < 1 || n > 65535) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->host, buf, rr->element[0]->len + 1);
    *port = (int) n;

    return NGX_OK;
}


/* SUBSCRIBE +switch-master on this worker's sentinel */

static void
ngx_http_osint_sentinel_subscribe(ngx_http_osint_sentinel_t *s)
{
    u_char              reason[NGX_HTTP_OSINT_SENTINEL_REASON], *last;
    redisAsyncContext  *ac;

    if (s->stopped || s->sub) {
        return;
    }

    ac = ngx_http_osint_sentinel_open(s, s->sub_index % s->naddrs, reason,
                                      &last);

    if (ac == NULL) {
        ngx_http_osint_sentinel_sub_lost(s, "%*s", (size_t) (last - reason),
                                         reason);
        return;
    }

    if (redisAsyncCommand(ac, ngx_http_osint_sentinel_message, NULL,
                          "SUBSCRIBE +switch-master")
        != REDIS_OK)
    {
        redisAsyncFree(ac);
        ngx_http_osint_sentinel_sub_lost(s, "cannot queue SUBSCRIBE");
        return;
    }

    s->sub = ac;
    s->subscribed = 0;

    /* the confirmation is due within the timeout */

    if (s->sub_ev.timer_set) {
        ngx_del_timer(&s->sub_ev);
    }

    ngx_add_timer(&s->sub_ev, s->conf->timeout);
}


/*
 * The subscription is gone or never came: logged once until it is back,
 * then the next sentinel after a backoff.
 */

static void
ngx_http_osint_sentinel_sub_lost(ngx_http_osint_sentinel_t *s,
    const char *fmt, ...)
{
    u_char              reason[NGX_HTTP_OSINT_SENTINEL_REASON], *p;
    u_char              text[NGX_HTTP_OSINT_LOG_TEXT_MAX];
    va_list             args;
    redisAsyncContext  *ac;

    ac = s->sub;
    s->sub = NULL;
    s->subscribed = 0;

    if (ac) {
        redisAsyncFree(ac);
    }

    if (s->stopped) {
        return;
    }

    if (!s->sub_lost_logged) {
        va_start(args, fmt);
        p = ngx_vslprintf(reason, reason + sizeof(reason), fmt, args);
        va_end(args);

        /* the reason may quote a reply of the sentinel */

        p = ngx_http_osint_log_escape(text, sizeof(text), reason, p - reason);

        ngx_log_error(NGX_LOG_WARN, s->log, 0,
                      "osint: redis sentinel %V: no +switch-master "
                      "subscription: %*s",
                      &s->addrs[s->sub_index % s->naddrs].name,
                      (size_t) (p - text), text);

        s->sub_lost_logged = 1;
    }

    s->sub_index++;

    if (s->sub_ev.timer_set) {
        ngx_del_timer(&s->sub_ev);
    }

    ngx_add_timer(&s->sub_ev,
                  ngx_http_osint_hiredis_backoff(&s->sub_backoff));
}


/* with a subscription pending: its timeout; without: the retry */

static void
ngx_http_osint_sentinel_sub_handler(ngx_event_t *ev)
{
    ngx_http_osint_sentinel_t  *s;

    s = (ngx_http_osint_sentinel_t *)
            ((u_char *) ev - offsetof(ngx_http_osint_sentinel_t, sub_ev));

    if (s->stopped) {
        return;
    }

    if (s->sub == NULL) {
        ngx_http_osint_sentinel_subscribe(s);
        return;
    }

    if (!s->subscribed) {
        ngx_http_osint_sentinel_sub_lost(s, "no answer to SUBSCRIBE within "
                                         "%M ms", s->conf->timeout);
    }
}


/* ["subscribe", channel, n] once, then ["message", channel, payload] */

static void
ngx_http_osint_sentinel_message(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                 *rr = reply;
    ngx_http_osint_sentinel_t  *s = ac->data;

    redisReply  *payload;

    if (rr == NULL || s == NULL || s->stopped || ac != s->sub) {
        return;
    }

    if (rr->type == REDIS_REPLY_ERROR) {
        ngx_http_osint_sentinel_sub_lost(s, "SUBSCRIBE failed: %*s",
                         (size_t) ngx_min(rr->len,
                                          NGX_HTTP_OSINT_SENTINEL_ERR_MAX),
                         rr->str);
        return;
    }

    switch (ngx_http_osint_hiredis_pubsub(rr, &payload)) {

    case NGX_OK:

        if (s->sub_ev.timer_set) {
            ngx_del_timer(&s->sub_ev);
        }

        s->subscribed = 1;
        s->sub_backoff = NGX_HTTP_OSINT_REDIS_BACKOFF_MIN;

        if (s->sub_lost_logged) {
            ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                          "osint: redis sentinel %V: subscribed to "
                          "+switch-master",
                          &s->addrs[s->sub_index % s->naddrs].name);
            s->sub_lost_logged = 0;
        }

        return;

    case NGX_AGAIN:
        ngx_http_osint_sentinel_switch(s, payload);
        return;

    default:
        return;
    }
}


/* "<name> <old-ip> <old-port> <new-ip> <new-port>" */

static void
ngx_http_osint_sentinel_switch(ngx_http_osint_sentinel_t *s,
    redisReply *payload)
{
    int         port;
    u_char     *p, *last, *word[5];
    size_t      len[5];
    ngx_int_t   n;
    ngx_uint_t  i;

    p = (u_char *) payload->str;
    last = p + payload->len;

    for (i = 0; i < 5; i++) {
        while (p < last && *p == ' ') {
            p++;
        }

        word[i] = p;

        while (p < last && *p != ' ') {
            p++;
        }

        len[i] = p - word[i];

        if (len[i] == 0) {
            return;
        }
    }

    if (len[0] != s->conf->master.len
        || ngx_strncmp(word[0], s->conf->master.data, len[0]) != 0
        || len[3] >= sizeof(s->host))
    {
        return;
    }

    n = ngx_atoi(word[4], len[4]);

    if (n < 1 || n > 65535) {
        return;
    }

    port = (int) n;

    ngx_memcpy(s->host, word[3], len[3]);
    s->host[len[3]] = '\0';

    s->switched(s->data, s->host, port);
}


static void
ngx_http_osint_sentinel_on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        /* hiredis frees ac when this returns */
        ngx_http_osint_sentinel_lost(ac);
    }
}


static void
ngx_http_osint_sentinel_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_osint_sentinel_lost(ac);
}


static void
ngx_http_osint_sentinel_cleanup(void *privdata)
{
    ngx_http_osint_sentinel_lost(ngx_http_osint_hiredis_release(privdata));
}


/* hiredis gave a context up (a failed connect, an error, EOF) and frees it */

static void
ngx_http_osint_sentinel_lost(const redisAsyncContext *ac)
{
    const char                 *err;
    ngx_http_osint_sentinel_t  *s = ac->data;

    if (s == NULL || s->stopped) {
        return;
    }

    err = ac->c.err ? ac->c.errstr : "connection closed";

    if (ac == s->ac) {
        s->ac = NULL;
        ngx_http_osint_sentinel_fail(s, "sentinel %V: %s",
                                     &s->addrs[s->current].name, err);

    } else if (ac == s->sub) {
        s->sub = NULL;
        ngx_http_osint_sentinel_sub_lost(s, "%s", err);
    }
}
