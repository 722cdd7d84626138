
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The Redis L2 cache: one hiredis async connection per worker, its fd on
 * nginx events, its timeouts on nginx timers.  Redis is an optimisation,
 * never a dependency: while it is down, slow or refusing, every GET is a
 * miss at once or after at most "timeout", and the worker keeps serving.
 * Beside it, while it is up, a second one SUBSCRIBEd to "<prefix>purge":
 * osint_control's purges from every node, applied to this node's L1.
 *
 * hiredis 0.14 has no timer hook and frees its context by itself on
 * errors, so the rules here are: never touch a context after
 * redisAsyncHandleRead/Write, never free one from inside its callbacks
 * other than reply callbacks, and reconnect only from a timer.
 */


#include "ngx_http_osint_redis.h"


#define NGX_HTTP_OSINT_REDIS_PORT          6379
#define NGX_HTTP_OSINT_SENTINEL_PORT       26379
#define NGX_HTTP_OSINT_REDIS_TIMEOUT       100
#define NGX_HTTP_OSINT_REDIS_PREFIX        "osint:"

/* commands in a row that time out before the connection counts as hung */
#define NGX_HTTP_OSINT_REDIS_MAX_TIMEOUTS  3

/* SETs awaiting a reply: beyond, new ones are dropped (it is a cache) */
#define NGX_HTTP_OSINT_REDIS_MAX_SETS      4096

/* default of write_buffer=: bytes of SETs awaiting a reply, per worker */
#define NGX_HTTP_OSINT_REDIS_WRITE_BUFFER  (4 * 1024 * 1024)

/* what a SET costs beyond its key and value: the protocol, the TTL */
#define NGX_HTTP_OSINT_REDIS_SET_EXTRA     64

/* a command formatted on the stack up to this size (a GET, a budget) */
#define NGX_HTTP_OSINT_RESP_STACK          512

/* bytes of a Redis error reply quoted in the log */
#define NGX_HTTP_OSINT_REDIS_ERR_MAX       128

/* Redis has 16 databases unless told otherwise; SELECT takes an int */
#define NGX_HTTP_OSINT_REDIS_DB_MAX        65535
#define NGX_HTTP_OSINT_REDIS_PREFIX_MAX    64

/* sentinel=: at most this many; master= and username=: at most this long */
#define NGX_HTTP_OSINT_REDIS_SENTINELS_MAX 16
#define NGX_HTTP_OSINT_REDIS_NAME_MAX      64

/* keys of one MGET at most: its reply is read and parsed whole */
#define NGX_HTTP_OSINT_REDIS_MGET_MAX      64


struct ngx_http_osint_redis_req_s {
    ngx_http_osint_redis_reply_pt   handler;   /* NULL: called or cancelled */
    ngx_http_osint_redis_get_pt     get;       /* a GET: handler is the
                                                  GET adapter */
    void                           *data;
    ngx_event_t                     ev;        /* timeout, or posted failure */
    ngx_msec_t                      start;
    ngx_queue_t                     queue;     /* in "unsent", "pending"
                                                  or "failed" */
    size_t                          bytes;     /* a SET: its size */
    ngx_str_t                       key;       /* a GET: its key, after
                                                  the struct */
    unsigned                        sent:1;    /* hiredis holds a callback */
};


/* the GETs of one turn of the event loop, sent as one MGET */

typedef struct {
    ngx_event_t                     ev;        /* their timeout */
    ngx_uint_t                      n;
    ngx_http_osint_redis_req_t     *req[1];    /* n of them, in key order */
} ngx_http_osint_redis_batch_t;


typedef enum {
    NGX_HTTP_OSINT_REDIS_LOGGED_NONE = 0,
    NGX_HTTP_OSINT_REDIS_LOGGED_UP,
    NGX_HTTP_OSINT_REDIS_LOGGED_DOWN
} ngx_http_osint_redis_logged_e;


/* this worker's connection */

typedef struct {
    ngx_http_osint_redis_conf_t    *conf;
    redisAsyncContext              *ac;        /* NULL: not connected */

    ngx_str_t                       name;      /* for the log */
    u_char                          host[NGX_SOCKADDR_STRLEN + 1];
    int                             port;

    /* sentinel=: where the master is, asked before each connection */
    ngx_http_osint_sentinel_t      *sentinel;
    u_char                          name_buf[NGX_HTTP_OSINT_REDIS_NAME_MAX
                                             + NGX_SOCKADDR_STRLEN + 16];

    ngx_event_t                     reconnect;
    ngx_event_t                     connect;   /* connect + handshake */
    ngx_connection_t                dummy;     /* only for ev->data's fd */

    ngx_queue_t                     unsent;    /* GETs of this turn */
    ngx_event_t                     flush;     /* posted: sends them */
    ngx_queue_t                     pending;   /* GETs sent, oldest first */
    ngx_queue_t                     failed;    /* GETs whose failure is
                                                  posted */
    ngx_uint_t                      timeouts;  /* commands in a row */
    ngx_uint_t                      sets;      /* SETs awaiting a reply */
    size_t                          set_bytes; /* their size */

    ngx_msec_t                      backoff;
    ngx_msec_t                      up_since;
    ngx_log_t                      *log;

    ngx_http_osint_counters_t      *counters;  /* redis_up, in the zone */

    /* SUBSCRIBE <prefix>purge, beside a connection that is up */
    ngx_http_osint_main_conf_t     *omcf;
    redisAsyncContext              *sub;
    ngx_event_t                     sub_retry;
    ngx_msec_t                      sub_backoff;
    u_char                          channel[NGX_HTTP_OSINT_REDIS_PREFIX_MAX
                                            + sizeof("purge")];
    size_t                          channel_len;
    u_char                          dial_err[128];

    ngx_http_osint_redis_logged_e   logged;

    unsigned                        up:1;
    unsigned                        set_error_logged:1;
    unsigned                        set_drop_logged:1;
    unsigned                        exiting:1;
    unsigned                        discovering:1;
    unsigned                        subscribed:1;
    unsigned                        sub_logged:1;
    unsigned                        junk_logged:1;
} ngx_http_osint_redis_t;


static ngx_int_t ngx_http_osint_redis_parse_addr(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *url, in_port_t port, ngx_addr_t **addr);
static ngx_int_t ngx_http_osint_redis_sentinels(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_http_osint_redis_conf_t *rcf, ngx_str_t *param);
static ngx_int_t ngx_http_osint_redis_name(ngx_str_t *name,
    ngx_uint_t strict);
static ngx_int_t ngx_http_osint_redis_secret(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *param, size_t skip, ngx_str_t *secret);
static char *ngx_http_osint_redis_check(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_osint_redis_conf_t *rcf);
static void ngx_http_osint_redis_param_error(ngx_conf_t *cf,
    ngx_command_t *cmd, char *what, ngx_str_t *param);
static u_char *ngx_http_osint_redis_reply_text(redisReply *rr,
    u_char *text, size_t size);
static void ngx_http_osint_redis_connect(ngx_http_osint_redis_t *rd);
static void ngx_http_osint_redis_open(ngx_http_osint_redis_t *rd);
static void ngx_http_osint_redis_found(void *data, ngx_int_t rc,
    u_char *host, int port, u_char *reason);
static void ngx_http_osint_redis_switched(void *data, u_char *host,
    int port);
static void ngx_http_osint_redis_role(ngx_http_osint_redis_t *rd,
    redisReply *rr);
static void ngx_http_osint_redis_verified(ngx_http_osint_redis_t *rd);
static ngx_uint_t ngx_http_osint_redis_moved(redisReply *rr);
static void ngx_http_osint_redis_close(ngx_http_osint_redis_t *rd,
    const char *fmt, ...);
static void ngx_http_osint_redis_down(ngx_http_osint_redis_t *rd,
    const char *fmt, ...);
static void ngx_http_osint_redis_vdown(ngx_http_osint_redis_t *rd,
    const char *fmt, va_list args);
static void ngx_http_osint_redis_lost(const redisAsyncContext *ac);
static void ngx_http_osint_redis_mark(ngx_http_osint_redis_t *rd,
    ngx_uint_t up);
static void ngx_http_osint_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_osint_redis_connect_handler(ngx_event_t *ev);
static void ngx_http_osint_redis_req_handler(ngx_event_t *ev);
static void ngx_http_osint_redis_req_free(ngx_http_osint_redis_req_t *req);
static ngx_http_osint_redis_req_t *ngx_http_osint_redis_req_new(
    ngx_uint_t handler, size_t extra, ngx_log_t **log);
static void ngx_http_osint_redis_req_init(ngx_http_osint_redis_t *rd,
    ngx_http_osint_redis_req_t *req, ngx_log_t *log);
static void ngx_http_osint_redis_req_fail(ngx_http_osint_redis_t *rd,
    ngx_http_osint_redis_req_t *req);
static void ngx_http_osint_redis_flush_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_osint_redis_mget(ngx_http_osint_redis_t *rd,
    ngx_uint_t n);
static void ngx_http_osint_redis_mget_done(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_osint_redis_mget_timeout(ngx_event_t *ev);
static void ngx_http_osint_redis_timed_out(ngx_http_osint_redis_t *rd,
    ngx_uint_t n);
static ngx_int_t ngx_http_osint_redis_format(ngx_http_osint_redis_t *rd,
    int argc, const char **argv, const size_t *argvlen,
    redisCallbackFn *done, void *privdata);
static ngx_http_osint_redis_req_t *ngx_http_osint_redis_send(int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_osint_redis_reply_pt handler, ngx_http_osint_redis_get_pt get,
    void *data, ngx_log_t *log);
static size_t ngx_http_osint_redis_resp_size(int argc, const size_t *argvlen);
static u_char *ngx_http_osint_redis_resp(u_char *p, int argc,
    const char **argv, const size_t *argvlen);
static void ngx_http_osint_redis_notify(ngx_http_osint_redis_reply_pt handler,
    ngx_http_osint_redis_get_pt get, void *data, ngx_int_t rc,
    redisReply *rr);
static void ngx_http_osint_redis_get_reply(void *data, ngx_int_t rc,
    void *reply);
static ngx_uint_t ngx_http_osint_redis_set_room(ngx_http_osint_redis_t *rd,
    size_t bytes);
static void ngx_http_osint_redis_set_reply(void *data, ngx_int_t rc,
    void *reply);

/* hiredis callbacks */
static void ngx_http_osint_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_osint_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_osint_redis_hello_done(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_osint_redis_command_done(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_osint_redis_cleanup(void *privdata);
static redisAsyncContext *ngx_http_osint_redis_dial(
    ngx_http_osint_redis_t *rd, void (*cleanup)(void *privdata),
    const char **err);
static ngx_int_t ngx_http_osint_redis_auth(redisAsyncContext *ac,
    redisCallbackFn *done);
static void ngx_http_osint_redis_subscribe(ngx_http_osint_redis_t *rd);
static void ngx_http_osint_redis_unsubscribe(ngx_http_osint_redis_t *rd);
static void ngx_http_osint_redis_sub_lost(ngx_http_osint_redis_t *rd,
    const char *reason);
static void ngx_http_osint_redis_sub_handler(ngx_event_t *ev);
static void ngx_http_osint_redis_sub_message(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_osint_redis_sub_purge(ngx_http_osint_redis_t *rd,
    redisReply *payload);
static void ngx_http_osint_redis_sub_gone(const redisAsyncContext *ac);
static void ngx_http_osint_redis_sub_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_osint_redis_sub_on_disconnect(
    const redisAsyncContext *ac, int status);
static void ngx_http_osint_redis_sub_cleanup(void *privdata);
static void ngx_http_osint_redis_published(void *data, ngx_int_t rc,
    void *reply);


static ngx_http_osint_redis_t  *ngx_http_osint_redis;


/*
 * osint_redis host:port|unix:/path|sentinel=host:port,... [master=NAME]
 *     [db=N] [username=NAME] [password=env:NAME]
 *     [sentinel_password=env:NAME] [timeout=T] [prefix=STR]
 *     [write_buffer=SIZE];
 */

char *
ngx_http_osint_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_osint_main_conf_t *omcf = conf;

    size_t                        len;
    ngx_int_t                     n;
    ngx_str_t                    *value, s;
    ngx_uint_t                    i, first;
    ngx_http_osint_redis_conf_t  *rcf;

    if (omcf->redis) {
        return "is duplicate";
    }

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_osint_redis_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rcf->addr = NULL;
     *     rcf->unix_path = { 0, NULL };
     *     rcf->password = { 0, NULL };
     *     rcf->password_env = { 0, NULL };
     *     rcf->username = { 0, NULL };
     *     rcf->sentinels = NULL;
     *     rcf->master = { 0, NULL };
     *     rcf->sentinel_password = { 0, NULL };
     */

    rcf->db = 0;
    rcf->timeout = NGX_HTTP_OSINT_REDIS_TIMEOUT;
    rcf->write_buffer = NGX_HTTP_OSINT_REDIS_WRITE_BUFFER;
    ngx_str_set(&rcf->prefix, NGX_HTTP_OSINT_REDIS_PREFIX);

    value = cf->args->elts;
    first = 2;

    if (value[1].len >= 9 && ngx_strncmp(value[1].data, "sentinel=", 9) == 0)
    {
        /* no address: the sentinels tell it */
        first = 1;

    } else if (value[1].len >= 5
               && ngx_strncmp(value[1].data, "unix:", 5) == 0)
    {
        len = value[1].len - 5;

        if (len == 0 || len >= sizeof(((struct sockaddr_un *) 0)->sun_path)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid unix socket \"%V\" in \"%V\"",
                               &value[1], &cmd->name);
            return NGX_CONF_ERROR;
        }

        rcf->unix_path.data = ngx_pnalloc(cf->pool, len + 1);
        if (rcf->unix_path.data == NULL) {
            return NGX_CONF_ERROR;
        }

        (void) ngx_cpystrn(rcf->unix_path.data, value[1].data + 5, len + 1);
        rcf->unix_path.len = len;

    } else if (ngx_http_osint_redis_parse_addr(cf, cmd, &value[1],
                                               NGX_HTTP_OSINT_REDIS_PORT,
                                               &rcf->addr)
               != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    i = ngx_http_osint_param_repeated(value, first, cf->args->nelts - 1);

    if (i) {
        ngx_http_osint_redis_param_error(cf, cmd, "duplicate", &value[i]);
        return NGX_CONF_ERROR;
    }

    for (i = first; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "sentinel=", 9) == 0) {

            if (first == 2) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "an address and \"sentinel=\" both in "
                                   "\"%V\"", &cmd->name);
                return NGX_CONF_ERROR;
            }

            if (ngx_http_osint_redis_sentinels(cf, cmd, rcf, &value[i])
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "master=", 7) == 0) {
            rcf->master.data = value[i].data + 7;
            rcf->master.len = value[i].len - 7;

            if (ngx_http_osint_redis_name(&rcf->master, 1) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid master \"%V\" in \"%V\"",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "username=", 9) == 0) {
            rcf->username.data = value[i].data + 9;
            rcf->username.len = value[i].len - 9;

            /* not quoted: it may be a password in the wrong place */

            if (ngx_http_osint_redis_name(&rcf->username, 0) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid username in \"%V\"", &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);

            if (n == NGX_ERROR || n > NGX_HTTP_OSINT_REDIS_DB_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid db \"%V\" in \"%V\"",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            rcf->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            rcf->timeout = ngx_parse_time(&s, 0);

            if (rcf->timeout == (ngx_msec_t) NGX_ERROR || rcf->timeout == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid timeout \"%V\" in \"%V\"",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "write_buffer=", 13) == 0) {
            s.data = value[i].data + 13;
            s.len = value[i].len - 13;

            rcf->write_buffer = ngx_parse_size(&s);

            if (rcf->write_buffer == (size_t) NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid write_buffer \"%V\" in \"%V\"",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rcf->prefix.data = value[i].data + 7;
            rcf->prefix.len = value[i].len - 7;

            /* empty, keys of other programs in the same db are ours */

            if (rcf->prefix.len == 0
                || rcf->prefix.len > NGX_HTTP_OSINT_REDIS_PREFIX_MAX)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid prefix \"%V\" in \"%V\": 1 to "
                                   "%d bytes expected", &value[i], &cmd->name,
                                   NGX_HTTP_OSINT_REDIS_PREFIX_MAX);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {

            if (ngx_http_osint_redis_secret(cf, cmd, &value[i], 9,
                                            &rcf->password)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            rcf->password_env.data = value[i].data + 13;
            rcf->password_env.len = value[i].len - 13;
            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel_password=", 18) == 0) {

            if (ngx_http_osint_redis_secret(cf, cmd, &value[i], 18,
                                            &rcf->sentinel_password)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_http_osint_redis_param_error(cf, cmd, "invalid", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_osint_redis_check(cf, cmd, rcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    omcf->redis = rcf;

    return NGX_CONF_OK;
}


/* the parameters that need one another */

static char *
ngx_http_osint_redis_check(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_osint_redis_conf_t *rcf)
{
    char  *need;

    need = NULL;

    if (rcf->sentinels && rcf->master.len == 0) {
        need = "\"sentinel=\" requires \"master=\"";

    } else if (rcf->sentinels == NULL && rcf->master.len) {
        need = "\"master=\" requires \"sentinel=\"";

    } else if (rcf->sentinels == NULL && rcf->sentinel_password.len) {
        need = "\"sentinel_password=\" requires \"sentinel=\"";

    } else if (rcf->username.len && rcf->password.len == 0) {
        need = "\"username=\" requires \"password=\"";
    }

    if (need) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\"", need,
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Names are resolved here, in the master: hiredis would resolve them with
 * a blocking call in the worker's event loop.
 */

static ngx_int_t
ngx_http_osint_redis_parse_addr(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *url, in_port_t port, ngx_addr_t **addr)
{
    ngx_url_t  u;

    if (ngx_strlchr(url->data, url->data + url->len, '@')) {

        /* "user:password@host" is never quoted back */

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid address in \"%V\": no credentials "
                           "there, use \"password=env:NAME\"", &cmd->name);
        return NGX_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *url;
    u.default_port = port;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in \"%V\" of \"%V\"",
                               u.err, &u.url, &cmd->name);
        }

        return NGX_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid address \"%V\" in \"%V\"",
                           url, &cmd->name);
        return NGX_ERROR;
    }

    *addr = &u.addrs[0];

    return NGX_OK;
}


/* sentinel=host:port,host:port,...: IP addresses, resolved here */

static ngx_int_t
ngx_http_osint_redis_sentinels(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_osint_redis_conf_t *rcf, ngx_str_t *param)
{
    u_char      *p, *last, *comma;
    ngx_str_t    url;
    ngx_addr_t  *addr;

    rcf->sentinels = ngx_array_create(cf->pool, 3, sizeof(ngx_addr_t));
    if (rcf->sentinels == NULL) {
        return NGX_ERROR;
    }

    p = param->data + 9;
    last = param->data + param->len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');

        if (comma == NULL) {
            comma = last;
        }

        url.data = p;
        url.len = comma - p;

        if (url.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty address in \"sentinel=\" of \"%V\"",
                               &cmd->name);
            return NGX_ERROR;
        }

        if (rcf->sentinels->nelts == NGX_HTTP_OSINT_REDIS_SENTINELS_MAX) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "too many sentinels in \"%V\": at most %d",
                               &cmd->name,
                               NGX_HTTP_OSINT_REDIS_SENTINELS_MAX);
            return NGX_ERROR;
        }

        if (url.len >= 5 && ngx_strncmp(url.data, "unix:", 5) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid sentinel address \"%V\" in \"%V\"",
                               &url, &cmd->name);
            return NGX_ERROR;
        }

        if (ngx_http_osint_redis_parse_addr(cf, cmd, &url,
                                            NGX_HTTP_OSINT_SENTINEL_PORT,
                                            &addr)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        *(ngx_addr_t *) ngx_array_push(rcf->sentinels) = *addr;

        if (comma == last) {
            return NGX_OK;
        }

        p = comma + 1;
    }
}


/*
 * A master name (strict: letters, digits, "_", "." and "-"; never a
 * space, +switch-master's payload is split on spaces) or a username
 * (any printable but space).
 */

static ngx_int_t
ngx_http_osint_redis_name(ngx_str_t *name, ngx_uint_t strict)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > NGX_HTTP_OSINT_REDIS_NAME_MAX) {
        return NGX_ERROR;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
        {
            continue;
        }

        if (!strict && c > 0x20 && c < 0x7f) {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * password=env:NAME, sentinel_password=env:NAME: from the master's
 * environment (workers lose it); never quoted back, it may be a password
 * written in clear.
 */

static ngx_int_t
ngx_http_osint_redis_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *param, size_t skip, ngx_str_t *secret)
{
    u_char  *name, *pw;
    size_t   len;

    if (param->len <= skip + 4
        || ngx_strncmp(param->data + skip, "env:", 4) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %*s in \"%V\": expected "
                           "\"%*s=env:NAME\"", skip - 1, param->data,
                           &cmd->name, skip - 1, param->data);
        return NGX_ERROR;
    }

    len = param->len - skip - 4;

    name = ngx_pnalloc(cf->pool, len + 1);
    if (name == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(name, param->data + skip + 4, len + 1);

    pw = (u_char *) getenv((char *) name);

    if (pw == NULL || *pw == '\0') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "environment variable \"%s\" of the %*s in \"%V\" "
                           "is not set or empty", name, skip - 1,
                           param->data, &cmd->name);
        return NGX_ERROR;
    }

    secret->len = ngx_strlen(pw);
    secret->data = ngx_pnalloc(cf->pool, secret->len);
    if (secret->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(secret->data, pw, secret->len);

    return NGX_OK;
}


/*
 * A parameter it does not know may be a password mistyped: its name is
 * quoted, its value never ("passwrd=***"), nor a bare word.
 */

static void
ngx_http_osint_redis_param_error(ngx_conf_t *cf, ngx_command_t *cmd,
    char *what, ngx_str_t *param)
{
    u_char     *eq;
    ngx_str_t   name;

    eq = ngx_strlchr(param->data, param->data + param->len, '=');

    if (eq == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s parameter \"***\" in \"%V\": NAME=VALUE "
                           "expected", what, &cmd->name);
        return;
    }

    name.data = param->data;
    name.len = eq - param->data;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "%s parameter \"%V=***\" in \"%V\"", what, &name,
                       &cmd->name);
}


/* an error reply of the server, escaped for a log line, at most ERR_MAX */

static u_char *
ngx_http_osint_redis_reply_text(redisReply *rr, u_char *text, size_t size)
{
    return ngx_http_osint_log_escape(text, size, (u_char *) rr->str,
                                     ngx_min((size_t) rr->len,
                                             NGX_HTTP_OSINT_REDIS_ERR_MAX));
}


ngx_int_t
ngx_http_osint_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_osint_main_conf_t *omcf)
{
    size_t                        len;
    ngx_http_osint_shm_t         *ctx;
    ngx_http_osint_redis_t       *rd;
    ngx_http_osint_redis_conf_t  *rcf;

    if (omcf == NULL || omcf->redis == NULL) {
        return NGX_OK;
    }

    rcf = omcf->redis;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_osint_redis_t));
    if (rd == NULL) {
        return NGX_ERROR;
    }

    rd->conf = rcf;
    rd->log = cycle->log;
    rd->backoff = NGX_HTTP_OSINT_REDIS_BACKOFF_MIN;
    rd->omcf = omcf;
    rd->sub_backoff = NGX_HTTP_OSINT_REDIS_BACKOFF_MIN;
    rd->channel_len = ngx_sprintf(rd->channel, "%Vpurge", &rcf->prefix)
                      - rd->channel;

    if (omcf->shm_zone) {
        ctx = omcf->shm_zone->data;
        rd->counters = &ctx->sh->counters;

        /* the slot's last owner may have been killed while connected */
        ngx_http_osint_redis_mark(rd, 0);
    }

    if (rcf->sentinels) {

        /* the master's address comes with each discovery */

        rd->name = rcf->master;

        rd->sentinel = ngx_http_osint_sentinel_create(cycle, rcf,
                                                ngx_http_osint_redis_found,
                                                ngx_http_osint_redis_switched,
                                                rd);
        if (rd->sentinel == NULL) {
            return NGX_ERROR;
        }

    } else if (rcf->unix_path.len) {
        len = sizeof("unix:") - 1 + rcf->unix_path.len;

        rd->name.data = ngx_pnalloc(cycle->pool, len);
        if (rd->name.data == NULL) {
            return NGX_ERROR;
        }

        rd->name.len = ngx_sprintf(rd->name.data, "unix:%V", &rcf->unix_path)
                       - rd->name.data;

    } else {
        rd->name = rcf->addr->name;

        /* the IP literal: hiredis must not resolve anything */

        len = ngx_sock_ntop(rcf->addr->sockaddr, rcf->addr->socklen,
                            rd->host, NGX_SOCKADDR_STRLEN, 0);
        rd->host[len] = '\0';
        rd->port = ngx_inet_get_port(rcf->addr->sockaddr);
    }

    ngx_queue_init(&rd->unsent);
    ngx_queue_init(&rd->pending);
    ngx_queue_init(&rd->failed);

    /*
     * Timers need a connection-like ev->data (debug logging reads its fd)
     * and must be cancelable: an idle worker exits on reload.
     */

    rd->dummy.fd = (ngx_socket_t) -1;

    rd->reconnect.data = &rd->dummy;
    rd->reconnect.handler = ngx_http_osint_redis_reconnect_handler;
    rd->reconnect.log = cycle->log;
    rd->reconnect.cancelable = 1;

    rd->connect.data = &rd->dummy;
    rd->connect.handler = ngx_http_osint_redis_connect_handler;
    rd->connect.log = cycle->log;
    rd->connect.cancelable = 1;

    rd->flush.data = &rd->dummy;
    rd->flush.handler = ngx_http_osint_redis_flush_handler;
    rd->flush.log = cycle->log;

    rd->sub_retry.data = &rd->dummy;
    rd->sub_retry.handler = ngx_http_osint_redis_sub_handler;
    rd->sub_retry.log = cycle->log;
    rd->sub_retry.cancelable = 1;

    ngx_http_osint_redis = rd;

    /* a Redis that is down now is logged and retried, never fatal */

    ngx_http_osint_redis_connect(rd);

    return NGX_OK;
}


void
ngx_http_osint_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_queue_t                 *q;
    redisAsyncContext           *ac;
    ngx_http_osint_redis_t      *rd;
    ngx_http_osint_redis_req_t  *req;

    rd = ngx_http_osint_redis;

    if (rd == NULL) {
        return;
    }

    /* the requests of the handlers are gone: no handler runs from here */

    rd->exiting = 1;

    if (rd->sentinel) {
        ngx_http_osint_sentinel_stop(rd->sentinel);
    }

    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    if (rd->connect.timer_set) {
        ngx_del_timer(&rd->connect);
    }

    ngx_http_osint_redis_unsubscribe(rd);

    if (rd->up) {
        ngx_http_osint_redis_mark(rd, 0);
    }

    ac = rd->ac;
    rd->ac = NULL;
    rd->up = 0;

    if (ac) {
        /* frees every pending GET through its callback, closes the fd */
        redisAsyncFree(ac);
    }

    if (rd->flush.posted) {
        ngx_delete_posted_event(&rd->flush);
    }

    while (!ngx_queue_empty(&rd->unsent)) {
        q = ngx_queue_head(&rd->unsent);
        req = ngx_queue_data(q, ngx_http_osint_redis_req_t, queue);
        ngx_http_osint_redis_req_free(req);
    }

    while (!ngx_queue_empty(&rd->failed)) {
        q = ngx_queue_head(&rd->failed);
        req = ngx_queue_data(q, ngx_http_osint_redis_req_t, queue);
        ngx_http_osint_redis_req_free(req);
    }

    ngx_http_osint_redis = NULL;
}


ngx_uint_t
ngx_http_osint_redis_up(void)
{
    return ngx_http_osint_redis && ngx_http_osint_redis->up;
}


/* this worker's entry in the zone's redis_up: its pid while connected */

static void
ngx_http_osint_redis_mark(ngx_http_osint_redis_t *rd, ngx_uint_t up)
{
    if (rd->counters && ngx_process_slot >= 0
        && ngx_process_slot < NGX_MAX_PROCESSES)
    {
        rd->counters->redis_up[ngx_process_slot] = up ? ngx_pid : 0;
    }
}


/*
 * Workers connected to Redis, by their entries in the zone.  An entry
 * whose process is gone (kill -9: no exit handler ran) does not count;
 * the master's respawn of that slot clears it.
 */

ngx_uint_t
ngx_http_osint_redis_workers_up(ngx_http_osint_counters_t *c)
{
    ngx_pid_t   pid;
    ngx_uint_t  i, n;

    n = 0;

    for (i = 0; i < NGX_MAX_PROCESSES; i++) {
        pid = c->redis_up[i];

        if (pid > 0 && (kill(pid, 0) == 0 || ngx_errno == NGX_EPERM)) {
            n++;
        }
    }

    return n;
}


/* the command timeout of this worker's connection; 0: no Redis */

ngx_msec_t
ngx_http_osint_redis_timeout(void)
{
    return ngx_http_osint_redis ? ngx_http_osint_redis->conf->timeout : 0;
}


/*
 * The key is used as given (the caller prepends conf->prefix).  NULL:
 * no request now, a miss for the caller.  Otherwise the handler runs
 * exactly once, later, from an nginx event, unless cancelled.
 *
 * The GETs of one turn of the event loop go at its end as one MGET (the
 * lookups of a turn ask for several providers' answers each): one
 * command for hiredis to queue a callback for and one reply to parse,
 * where each GET was one of each.
 */

ngx_http_osint_redis_req_t *
ngx_http_osint_redis_get(ngx_str_t *key, ngx_http_osint_redis_get_pt handler,
    void *data, ngx_log_t *log)
{
    ngx_http_osint_redis_t      *rd;
    ngx_http_osint_redis_req_t  *req;

    rd = ngx_http_osint_redis;

    req = ngx_http_osint_redis_req_new(handler != NULL, key->len, &log);
    if (req == NULL) {
        return NULL;
    }

    /* the caller's pool may go before the turn ends (a cancel frees req) */

    req->key.data = (u_char *) req + sizeof(ngx_http_osint_redis_req_t);
    req->key.len = key->len;
    ngx_memcpy(req->key.data, key->data, key->len);

    req->handler = ngx_http_osint_redis_get_reply;
    req->get = handler;
    req->data = data;

    /* no timer of its own: its MGET's is its timeout */

    ngx_http_osint_redis_req_init(rd, req, log);

    ngx_queue_insert_tail(&rd->unsent, &req->queue);

    if (!rd->flush.posted) {
        ngx_post_event(&rd->flush, &ngx_posted_events);
    }

    return req;
}


/*
 * Any command, its arguments binary-safe.  The same contract as GET: NULL
 * when Redis is down or not configured (nothing will be called);
 * otherwise the handler runs exactly once, later, from an nginx event
 * (within the timeout of osint_redis), unless cancelled: rc NGX_OK with
 * the reply (valid only during the call; an error reply too), or
 * NGX_ERROR with NULL (down, timeout).
 */

ngx_http_osint_redis_req_t *
ngx_http_osint_redis_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_osint_redis_reply_pt handler, void *data,
    ngx_log_t *log)
{
    return ngx_http_osint_redis_send(argc, argv, argvlen, handler, NULL, data,
                                     log);
}


static ngx_http_osint_redis_req_t *
ngx_http_osint_redis_send(int argc, const char **argv, const size_t *argvlen,
    ngx_http_osint_redis_reply_pt handler, ngx_http_osint_redis_get_pt get,
    void *data, ngx_log_t *log)
{
    ngx_http_osint_redis_t      *rd;
    ngx_http_osint_redis_req_t  *req;

    rd = ngx_http_osint_redis;

    req = ngx_http_osint_redis_req_new(handler != NULL, 0, &log);
    if (req == NULL) {
        return NULL;
    }

    if (ngx_http_osint_redis_format(rd, argc, argv, argvlen,
                                    ngx_http_osint_redis_command_done, req)
        != NGX_OK)
    {
        ngx_free(req);
        return NULL;
    }

    req->handler = handler;
    req->get = get;
    req->data = data;
    req->sent = 1;

    ngx_http_osint_redis_req_init(rd, req, log);
    ngx_add_timer(&req->ev, rd->conf->timeout);

    ngx_queue_insert_tail(&rd->pending, &req->queue);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "osint: redis %*s %p", argvlen[0], argv[0], req);

    return req;
}


/*
 * A request and room for "extra" bytes after it; NULL without a handler
 * or a connection that is up.  A NULL *log becomes the worker's.
 */

static ngx_http_osint_redis_req_t *
ngx_http_osint_redis_req_new(ngx_uint_t handler, size_t extra,
    ngx_log_t **log)
{
    ngx_http_osint_redis_t  *rd;

    rd = ngx_http_osint_redis;

    if (rd == NULL || !rd->up || rd->ac == NULL || !handler) {
        return NULL;
    }

    if (*log == NULL) {
        *log = rd->log;
    }

    return ngx_calloc(sizeof(ngx_http_osint_redis_req_t) + extra, *log);
}


/* a request's event: the timer of a command, or a failure posted */

static void
ngx_http_osint_redis_req_init(ngx_http_osint_redis_t *rd,
    ngx_http_osint_redis_req_t *req, ngx_log_t *log)
{
    req->start = ngx_current_msec;

    req->ev.data = &rd->dummy;
    req->ev.handler = ngx_http_osint_redis_req_handler;
    req->ev.log = log;
    req->ev.cancelable = 1;
}


/* a request that will not be sent: its failure, from a posted event */

static void
ngx_http_osint_redis_req_fail(ngx_http_osint_redis_t *rd,
    ngx_http_osint_redis_req_t *req)
{
    if (req->ev.timer_set) {
        ngx_del_timer(&req->ev);
    }

    ngx_queue_remove(&req->queue);
    ngx_queue_insert_tail(&rd->failed, &req->queue);

    ngx_post_event(&req->ev, &ngx_posted_events);
}


/* the end of a turn: its GETs, as MGETs of at most MGET_MAX keys */

static void
ngx_http_osint_redis_flush_handler(ngx_event_t *ev)
{
    ngx_uint_t                   n;
    ngx_queue_t                 *q;
    ngx_http_osint_redis_t      *rd;
    ngx_http_osint_redis_req_t  *req;

    rd = ngx_http_osint_redis;

    while (!ngx_queue_empty(&rd->unsent)) {

        n = 0;

        for (q = ngx_queue_head(&rd->unsent);
             q != ngx_queue_sentinel(&rd->unsent)
             && n < NGX_HTTP_OSINT_REDIS_MGET_MAX;
             q = ngx_queue_next(q))
        {
            n++;
        }

        if (rd->up && rd->ac && ngx_http_osint_redis_mget(rd, n) == NGX_OK) {
            continue;
        }

        /* gone down since they were asked, or no memory */

        while (!ngx_queue_empty(&rd->unsent)) {
            q = ngx_queue_head(&rd->unsent);
            req = ngx_queue_data(q, ngx_http_osint_redis_req_t, queue);
            ngx_http_osint_redis_req_fail(rd, req);
        }
    }
}


/* the first n unsent GETs as one MGET; NGX_ERROR: nothing was sent */

static ngx_int_t
ngx_http_osint_redis_mget(ngx_http_osint_redis_t *rd, ngx_uint_t n)
{
    size_t                         *argvlen;
    ngx_uint_t                      i;
    ngx_queue_t                    *q;
    const char                    **argv;
    ngx_http_osint_redis_req_t     *req;
    ngx_http_osint_redis_batch_t   *batch;

    batch = ngx_alloc(offsetof(ngx_http_osint_redis_batch_t, req)
                      + n * sizeof(ngx_http_osint_redis_req_t *)
                      + (n + 1) * (sizeof(char *) + sizeof(size_t)),
                      rd->log);
    if (batch == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&batch->ev, sizeof(ngx_event_t));
    batch->n = n;

    argv = (const char **) &batch->req[n];
    argvlen = (size_t *) &argv[n + 1];

    argv[0] = "MGET";
    argvlen[0] = 4;

    q = ngx_queue_head(&rd->unsent);

    for (i = 0; i < n; i++) {
        req = ngx_queue_data(q, ngx_http_osint_redis_req_t, queue);
        q = ngx_queue_next(q);

        batch->req[i] = req;
        argv[i + 1] = (const char *) req->key.data;
        argvlen[i + 1] = req->key.len;
    }

    if (ngx_http_osint_redis_format(rd, (int) n + 1, argv, argvlen,
                                    ngx_http_osint_redis_mget_done, batch)
        != NGX_OK)
    {
        ngx_free(batch);
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        req = batch->req[i];
        req->sent = 1;

        ngx_queue_remove(&req->queue);
        ngx_queue_insert_tail(&rd->pending, &req->queue);
    }

    /* one timer for the n: one tree insertion where each GET had one */

    batch->ev.data = &rd->dummy;
    batch->ev.handler = ngx_http_osint_redis_mget_timeout;
    batch->ev.log = rd->log;
    batch->ev.cancelable = 1;

    ngx_add_timer(&batch->ev, rd->conf->timeout);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "osint: redis MGET of %ui keys %p", n, batch);

    return NGX_OK;
}


/* an MGET's reply: each GET gets its own element, in order */

static void
ngx_http_osint_redis_mget_done(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                    *rr = reply;
    ngx_http_osint_redis_batch_t  *batch = privdata;

    ngx_uint_t   i;
    redisReply  *one;

    if (batch->ev.timer_set) {
        ngx_del_timer(&batch->ev);
    }

    for (i = 0; i < batch->n; i++) {

        /* NULL (torn down) and an error reply are every GET's */

        one = rr;

        if (rr && rr->type == REDIS_REPLY_ARRAY && rr->elements == batch->n)
        {
            one = rr->element[i];
        }

        ngx_http_osint_redis_command_done(ac, one, batch->req[i]);
    }

    ngx_free(batch);
}


/*
 * An MGET not answered in time: each of its GETs that waits fails now;
 * hiredis still holds them, and their reply or the teardown frees them.
 */

static void
ngx_http_osint_redis_mget_timeout(ngx_event_t *ev)
{
    void                           *data[NGX_HTTP_OSINT_REDIS_MGET_MAX];
    ngx_uint_t                      i, n;
    ngx_http_osint_redis_t         *rd;
    ngx_http_osint_redis_req_t     *req;
    ngx_http_osint_redis_batch_t   *batch;
    ngx_http_osint_redis_get_pt     get[NGX_HTTP_OSINT_REDIS_MGET_MAX];
    ngx_http_osint_redis_reply_pt   handler[NGX_HTTP_OSINT_REDIS_MGET_MAX];

    batch = (ngx_http_osint_redis_batch_t *)
                ((u_char *) ev - offsetof(ngx_http_osint_redis_batch_t, ev));

    rd = ngx_http_osint_redis;

    n = 0;

    for (i = 0; i < batch->n; i++) {
        req = batch->req[i];

        if (req->handler == NULL) {
            continue;                   /* cancelled */
        }

        handler[n] = req->handler;
        get[n] = req->get;
        data[n] = req->data;
        n++;

        req->handler = NULL;
        req->get = NULL;
        req->data = NULL;
        req->ev.log = rd->log;
    }

    /* batch may be freed from here */

    ngx_http_osint_redis_timed_out(rd, batch->n);

    for (i = 0; i < n; i++) {
        ngx_http_osint_redis_notify(handler[i], get[i], data[i], NGX_ERROR,
                                    NULL);
    }
}


/* a command into hiredis's output buffer, its callback queued */

static ngx_int_t
ngx_http_osint_redis_format(ngx_http_osint_redis_t *rd, int argc,
    const char **argv, const size_t *argvlen, redisCallbackFn *done,
    void *privdata)
{
    int      rc;
    u_char   buf[NGX_HTTP_OSINT_RESP_STACK], *cmd, *last;
    size_t   size;

    size = ngx_http_osint_redis_resp_size(argc, argvlen);

    cmd = (size <= sizeof(buf)) ? buf : ngx_alloc(size, rd->log);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    last = ngx_http_osint_redis_resp(cmd, argc, argv, argvlen);

    /*
     * hiredis copies the command into its output buffer; it reads the
     * command's name as a C string, one byte past a command of one
     * argument (PING), as its own sds strings always end with a NUL
     */

    *last = '\0';

    rc = redisAsyncFormattedCommand(rd->ac, done, privdata, (char *) cmd,
                                    last - cmd);

    if (cmd != buf) {
        ngx_free(cmd);
    }

    return rc == REDIS_OK ? NGX_OK : NGX_ERROR;
}


/*
 * A command in Redis's protocol (RESP) as hiredis's
 * redisFormatCommandArgv() writes it, without its sds string grown
 * argument by argument: that cost a GET ~2 000 instructions, more than
 * everything else hiredis does to send it.
 */

static size_t
ngx_http_osint_redis_resp_size(int argc, const size_t *argvlen)
{
    int     i;
    size_t  size;

    size = sizeof("*" CRLF) + NGX_INT_T_LEN;      /* and a NUL */

    for (i = 0; i < argc; i++) {
        size += sizeof("$" CRLF CRLF) - 1 + NGX_SIZE_T_LEN + argvlen[i];
    }

    return size;
}


static u_char *
ngx_http_osint_redis_resp(u_char *p, int argc, const char **argv,
    const size_t *argvlen)
{
    int  i;

    *p++ = '*';
    p = ngx_http_osint_decimal(p, (uint64_t) argc);
    *p++ = CR; *p++ = LF;

    for (i = 0; i < argc; i++) {
        *p++ = '$';
        p = ngx_http_osint_decimal(p, (uint64_t) argvlen[i]);
        *p++ = CR; *p++ = LF;
        p = ngx_cpymem(p, argv[i], argvlen[i]);
        *p++ = CR; *p++ = LF;
    }

    return p;
}


void
ngx_http_osint_redis_cancel(ngx_http_osint_redis_req_t *req)
{
    if (req == NULL || req->handler == NULL) {
        return;
    }

    req->handler = NULL;
    req->get = NULL;
    req->data = NULL;

    if (req->ev.timer_set) {
        ngx_del_timer(&req->ev);
    }

    if (!req->sent) {
        /* not sent yet, or its failure posted: nobody else will free it */
        ngx_http_osint_redis_req_free(req);
        return;
    }

    /* the request's log may go away before hiredis lets req go */

    req->ev.log = ngx_http_osint_redis ? ngx_http_osint_redis->log
                                       : ngx_cycle->log;
}


/* a cached answer's key, "prefix" "provider" ":" "target" (redis-cli) */

ngx_int_t
ngx_http_osint_redis_key(ngx_http_osint_main_conf_t *omcf, ngx_pool_t *pool,
    ngx_http_osint_provider_t *p, ngx_str_t *target, ngx_str_t *key)
{
    u_char  *k;

    key->len = omcf->redis->prefix.len + p->name.len + 1 + target->len;

    key->data = ngx_pnalloc(pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    /* "%V%V:%V" by hand: ngx_sprintf() cost a Redis hit ~300 a key */

    k = ngx_cpymem(key->data, omcf->redis->prefix.data,
                   omcf->redis->prefix.len);
    k = ngx_cpymem(k, p->name.data, p->name.len);
    *k++ = ':';
    ngx_memcpy(k, target->data, target->len);

    return NGX_OK;
}


/*
 * A cache write: dropped, and counted, when the SETs awaiting a reply
 * hold write_buffer bytes (hiredis would buffer whatever a hung Redis
 * does not read).  It has the timeout of a GET, and times out as one.
 */

void
ngx_http_osint_redis_set(ngx_str_t *key, u_char *value, size_t len,
    time_t ttl)
{
    u_char                       ex[NGX_TIME_T_LEN];
    size_t                       argvlen[5], bytes;
    const char                  *argv[5];
    ngx_http_osint_redis_t      *rd;
    ngx_http_osint_redis_req_t  *req;

    rd = ngx_http_osint_redis;

    if (rd == NULL || !rd->up || rd->ac == NULL || ttl <= 0) {
        return;
    }

    bytes = key->len + len + NGX_HTTP_OSINT_REDIS_SET_EXTRA;

    if (!ngx_http_osint_redis_set_room(rd, bytes)) {
        return;
    }

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[1] = (const char *) key->data;
    argvlen[1] = key->len;
    argv[2] = (const char *) value;
    argvlen[2] = len;
    argv[3] = "EX";
    argvlen[3] = 2;
    argv[4] = (const char *) ex;
    argvlen[4] = ngx_sprintf(ex, "%T", ttl) - ex;

    req = ngx_http_osint_redis_send(5, argv, argvlen,
                                    ngx_http_osint_redis_set_reply, NULL,
                                    rd, NULL);
    if (req == NULL) {
        return;
    }

    req->bytes = bytes;
    rd->sets++;
    rd->set_bytes += bytes;
}


/* room for one more SET of "bytes"; else it is dropped and counted */

static ngx_uint_t
ngx_http_osint_redis_set_room(ngx_http_osint_redis_t *rd, size_t bytes)
{
    if (rd->sets < NGX_HTTP_OSINT_REDIS_MAX_SETS
        && rd->set_bytes + bytes <= rd->conf->write_buffer)
    {
        return 1;
    }

    if (rd->counters) {
        (void) ngx_atomic_fetch_add(&rd->counters->redis_writes_dropped, 1);
    }

    /* once per connection: Redis reads slower than lookups write */

    if (!rd->set_drop_logged) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "osint: redis %V cache writes dropped: %ui SETs of "
                      "%uz bytes await a reply", &rd->name, rd->sets,
                      rd->set_bytes);
        rd->set_drop_logged = 1;
    }

    return 0;
}


static void
ngx_http_osint_redis_connect(ngx_http_osint_redis_t *rd)
{
    if (rd->sentinel) {

        /* where the master is now: asked before every connection */

        rd->discovering = 1;
        ngx_http_osint_sentinel_discover(rd->sentinel);
        return;
    }

    ngx_http_osint_redis_open(rd);
}


/* the sentinels answered, or none did */

static void
ngx_http_osint_redis_found(void *data, ngx_int_t rc, u_char *host, int port,
    u_char *reason)
{
    ngx_http_osint_redis_t  *rd = data;

    u_char  *p;

    rd->discovering = 0;

    if (rd->exiting) {
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_osint_redis_down(rd, "%s", reason);
        return;
    }

    if (port != rd->port || ngx_strcmp(host, rd->host) != 0) {
        (void) ngx_cpystrn(rd->host, host, sizeof(rd->host));
        rd->port = port;

        p = ngx_strlchr(host, host + ngx_strlen(host), ':')
            ? ngx_snprintf(rd->name_buf, sizeof(rd->name_buf),
                           "%V ([%s]:%d)", &rd->conf->master, host, port)
            : ngx_snprintf(rd->name_buf, sizeof(rd->name_buf),
                           "%V (%s:%d)", &rd->conf->master, host, port);

        rd->name.data = rd->name_buf;
        rd->name.len = p - rd->name_buf;
    }

    ngx_http_osint_redis_open(rd);
}


/*
 * +switch-master: a connection elsewhere is dropped, a wait for the next
 * attempt is cut short; either way the sentinels are asked again.
 */

static void
ngx_http_osint_redis_switched(void *data, u_char *host, int port)
{
    ngx_http_osint_redis_t  *rd = data;

    if (rd->exiting || rd->discovering) {
        return;
    }

    if (rd->up && rd->port == port && ngx_strcmp(rd->host, host) == 0) {
        return;
    }

    rd->backoff = NGX_HTTP_OSINT_REDIS_BACKOFF_MIN;

    if (rd->ac) {
        ngx_http_osint_redis_close(rd, "+switch-master to %s:%d", host, port);
        return;
    }

    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    /* jitter: the workers do not ask the sentinels all at once */

    ngx_add_timer(&rd->reconnect, 1 + (ngx_msec_t) ngx_random()
                                      % NGX_HTTP_OSINT_REDIS_BACKOFF_MIN);
}


static void
ngx_http_osint_redis_open(ngx_http_osint_redis_t *rd)
{
    const char                   *err;
    u_char                        db[NGX_INT_T_LEN + 1];
    redisAsyncContext            *ac;
    ngx_http_osint_redis_conf_t  *rcf;

    rcf = rd->conf;

    ac = ngx_http_osint_redis_dial(rd, ngx_http_osint_redis_cleanup, &err);

    if (ac == NULL) {
        ngx_http_osint_redis_down(rd, "%s", err);
        return;
    }

    rd->ac = ac;

    (void) redisAsyncSetConnectCallback(ac, ngx_http_osint_redis_on_connect);
    (void) redisAsyncSetDisconnectCallback(ac,
                                           ngx_http_osint_redis_on_disconnect);

    /*
     * The handshake is pipelined behind the connect; PING last, so that
     * "up" means Redis answered, not merely that the kernel accepted.
     * AUTH user password is Redis 6's, for an ACL user.
     */

    if (ngx_http_osint_redis_auth(ac, ngx_http_osint_redis_hello_done)
        != NGX_OK)
    {
        goto failed;
    }

    if (rcf->db) {
        *ngx_sprintf(db, "%ui", rcf->db) = '\0';

        if (redisAsyncCommand(ac, ngx_http_osint_redis_hello_done, "SELECT",
                              "SELECT %s", db)
            != REDIS_OK)
        {
            goto failed;
        }
    }

    /* what a sentinel named may be a replica by now: it must say master */

    if (rd->sentinel
        && redisAsyncCommand(ac, ngx_http_osint_redis_hello_done, "ROLE",
                             "ROLE")
           != REDIS_OK)
    {
        goto failed;
    }

    if (redisAsyncCommand(ac, ngx_http_osint_redis_hello_done, "PING",
                          "PING")
        != REDIS_OK)
    {
        goto failed;
    }

    if (rd->connect.timer_set) {
        ngx_del_timer(&rd->connect);
    }

    ngx_add_timer(&rd->connect, rcf->timeout);

    return;

failed:

    ngx_http_osint_redis_close(rd, "cannot queue the handshake");
}


/* not from inside hiredis callbacks other than reply callbacks */

static void
ngx_http_osint_redis_close(ngx_http_osint_redis_t *rd, const char *fmt, ...)
{
    va_list             args;
    redisAsyncContext  *ac;

    ac = rd->ac;
    rd->ac = NULL;

    va_start(args, fmt);
    ngx_http_osint_redis_vdown(rd, fmt, args);
    va_end(args);

    if (ac) {
        /*
         * Pending callbacks get a NULL reply (GETs then fail through a
         * posted event), the adapter's cleanup releases the fd's
         * connection, then hiredis closes the fd.
         */
        redisAsyncFree(ac);
    }
}


static void
ngx_http_osint_redis_down(ngx_http_osint_redis_t *rd, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    ngx_http_osint_redis_vdown(rd, fmt, args);
    va_end(args);
}


/* marks the worker down, logs it once, schedules the next attempt */

static void
ngx_http_osint_redis_vdown(ngx_http_osint_redis_t *rd, const char *fmt,
    va_list args)
{
    u_char  reason[NGX_MAX_ERROR_STR], *p;
    u_char  text[NGX_HTTP_OSINT_LOG_TEXT_MAX];

    if (rd->up) {
        ngx_http_osint_redis_mark(rd, 0);

        if (ngx_current_msec - rd->up_since
            >= NGX_HTTP_OSINT_REDIS_BACKOFF_MAX)
        {
            /* a connection that lived: try again soon */
            rd->backoff = NGX_HTTP_OSINT_REDIS_BACKOFF_MIN;
        }
    }

    rd->up = 0;
    rd->timeouts = 0;

    if (rd->connect.timer_set) {
        ngx_del_timer(&rd->connect);
    }

    /* the subscription follows the connection, to a new master too */

    ngx_http_osint_redis_unsubscribe(rd);

    if (rd->logged != NGX_HTTP_OSINT_REDIS_LOGGED_DOWN) {
        p = ngx_vslprintf(reason, reason + sizeof(reason), fmt, args);

        /* the reason may quote a reply of the server */

        p = ngx_http_osint_log_escape(text, sizeof(text), reason, p - reason);

        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "osint: redis %V is down: %*s",
                      &rd->name, (size_t) (p - text), text);

        rd->logged = NGX_HTTP_OSINT_REDIS_LOGGED_DOWN;
    }

    if (rd->exiting || rd->reconnect.timer_set) {
        return;
    }

    /* jitter: workers that lost Redis together do not return together */

    ngx_add_timer(&rd->reconnect,
                  ngx_http_osint_hiredis_backoff(&rd->backoff));
}


/*
 * hiredis gave the context up: a failed connect, an error, EOF.  Called
 * from its connect and disconnect callbacks and from the adapter's
 * cleanup, whichever comes first; hiredis frees the context itself.
 */

static void
ngx_http_osint_redis_lost(const redisAsyncContext *ac)
{
    ngx_http_osint_redis_t  *rd;

    rd = ngx_http_osint_redis;

    if (rd == NULL || rd->ac != ac) {
        return;
    }

    rd->ac = NULL;

    ngx_http_osint_redis_down(rd, "%s",
                              ac->c.err ? ac->c.errstr : "connection closed");
}


static void
ngx_http_osint_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_osint_redis_t  *rd;

    rd = ngx_http_osint_redis;

    if (rd == NULL || rd->ac || rd->discovering || rd->exiting) {
        return;
    }

    ngx_http_osint_redis_connect(rd);
}


/* neither connected nor answered PING in time */

static void
ngx_http_osint_redis_connect_handler(ngx_event_t *ev)
{
    ngx_http_osint_redis_t  *rd;

    rd = ngx_http_osint_redis;

    if (rd == NULL || rd->ac == NULL || rd->up) {
        return;
    }

    if (rd->ac->c.flags & REDIS_CONNECTED) {
        ngx_http_osint_redis_close(rd, "no answer to the handshake within "
                                   "%M ms", rd->conf->timeout);

    } else {
        ngx_http_osint_redis_close(rd, "connect timed out after %M ms",
                                   rd->conf->timeout);
    }
}


/*
 * One event per request: the timeout of a command other than a GET (a
 * GET's is its MGET's); posted, the failure of a connection that went
 * away or of a GET that could not be sent (never from inside hiredis).
 */

static void
ngx_http_osint_redis_req_handler(ngx_event_t *ev)
{
    void                           *data;
    ngx_http_osint_redis_t         *rd;
    ngx_http_osint_redis_req_t     *req;
    ngx_http_osint_redis_get_pt     get;
    ngx_http_osint_redis_reply_pt   handler;

    req = (ngx_http_osint_redis_req_t *)
              ((u_char *) ev - offsetof(ngx_http_osint_redis_req_t, ev));

    rd = ngx_http_osint_redis;

    handler = req->handler;
    get = req->get;
    data = req->data;

    /* posted (a failure), or not sent yet: nobody else holds req */

    if (!ev->timedout || !req->sent) {
        ngx_http_osint_redis_req_free(req);

        if (handler) {
            ngx_http_osint_redis_notify(handler, get, data, NGX_ERROR, NULL);
        }

        return;
    }

    ev->timedout = 0;

    /* hiredis still holds req: its reply, or the teardown, frees it */

    req->handler = NULL;
    req->get = NULL;
    req->data = NULL;
    req->ev.log = rd->log;

    ngx_http_osint_redis_timed_out(rd, 1);

    /* req may be freed by now */

    if (handler) {
        ngx_http_osint_redis_notify(handler, get, data, NGX_ERROR, NULL);
    }
}


/* n commands timed out: how long Redis may stay this far behind */

static void
ngx_http_osint_redis_timed_out(ngx_http_osint_redis_t *rd, ngx_uint_t n)
{
    ngx_msec_t                   age;
    ngx_queue_t                 *q;
    ngx_http_osint_redis_req_t  *oldest;

    rd->timeouts += n;

    /* replies come in order: the oldest one tells how far behind Redis is */

    q = ngx_queue_head(&rd->pending);
    oldest = ngx_queue_data(q, ngx_http_osint_redis_req_t, queue);
    age = ngx_current_msec - oldest->start;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "osint: redis: %ui commands timed out, %ui in a row",
                   n, rd->timeouts);

    /*
     * A Redis that accepts and never answers would cost every lookup the
     * whole timeout: drop the connection, and the backoff makes GETs fail
     * at once until a new one answers PING.
     */

    if (rd->ac && rd->up) {
        if (rd->timeouts >= NGX_HTTP_OSINT_REDIS_MAX_TIMEOUTS) {
            ngx_http_osint_redis_close(rd, "%ui commands in a row timed "
                                       "out after %M ms", rd->timeouts,
                                       rd->conf->timeout);

        } else if (age >= 2 * rd->conf->timeout) {
            ngx_http_osint_redis_close(rd, "a reply is overdue by %M ms",
                                       age);
        }
    }
}


static void
ngx_http_osint_redis_notify(ngx_http_osint_redis_reply_pt handler,
    ngx_http_osint_redis_get_pt get, void *data, ngx_int_t rc,
    redisReply *rr)
{
    void  *args[2];

    if (get == NULL) {
        handler(data, rc, rr);
        return;
    }

    /* the GET adapter needs the caller's handler too */

    args[0] = (void *) get;
    args[1] = data;

    handler(args, rc, rr);
}


/* a GET's reply, turned into its handler's terms */

static void
ngx_http_osint_redis_get_reply(void *data, ngx_int_t rc, void *reply)
{
    void       **args = data;
    redisReply  *rr = reply;

    size_t                        len;
    u_char                       *value;
    ngx_http_osint_redis_get_pt   get;

    get = (ngx_http_osint_redis_get_pt) args[0];
    data = args[1];

    value = NULL;
    len = 0;

    if (rc == NGX_OK) {
        switch (rr->type) {

        case REDIS_REPLY_STRING:
            value = (u_char *) rr->str;
            len = rr->len;
            break;

        case REDIS_REPLY_NIL:
            rc = NGX_DECLINED;
            break;

        default:
            rc = NGX_ERROR;
            break;
        }
    }

    get(data, rc, value, len);
}


static void
ngx_http_osint_redis_req_free(ngx_http_osint_redis_req_t *req)
{
    if (req->ev.timer_set) {
        ngx_del_timer(&req->ev);
    }

    if (req->ev.posted) {
        ngx_delete_posted_event(&req->ev);
    }

    ngx_queue_remove(&req->queue);

    ngx_free(req);
}


static void
ngx_http_osint_redis_on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        /* hiredis frees ac when this returns: reconnect from a timer */
        ngx_http_osint_redis_lost(ac);
    }
}


static void
ngx_http_osint_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_osint_redis_lost(ac);
}


/* AUTH, SELECT, PING; privdata names the command */

static void
ngx_http_osint_redis_hello_done(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply  *rr = reply;

    size_t                   len;
    ngx_http_osint_redis_t  *rd;

    rd = ngx_http_osint_redis;

    if (rr == NULL || rd == NULL || rd->ac != ac) {
        /* teardown: the connection's end is handled elsewhere */
        return;
    }

    if (rr->type == REDIS_REPLY_ERROR) {
        len = ngx_min((size_t) rr->len, NGX_HTTP_OSINT_REDIS_ERR_MAX);

        /* freeing is deferred by hiredis until this callback returns */

        ngx_http_osint_redis_close(rd, "%s failed: %*s", (char *) privdata,
                                   len, rr->str);
        return;
    }

    if (ngx_strcmp(privdata, "ROLE") == 0) {
        ngx_http_osint_redis_role(rd, rr);
        return;
    }

    if (ngx_strcmp(privdata, "PING") != 0) {
        return;
    }

    if (rd->connect.timer_set) {
        ngx_del_timer(&rd->connect);
    }

    ngx_http_osint_redis_mark(rd, 1);

    rd->up = 1;
    rd->up_since = ngx_current_msec;
    rd->timeouts = 0;
    rd->set_error_logged = 0;
    rd->set_drop_logged = 0;

    if (rd->logged != NGX_HTTP_OSINT_REDIS_LOGGED_UP) {
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "osint: redis %V is up", &rd->name);
        rd->logged = NGX_HTTP_OSINT_REDIS_LOGGED_UP;
    }

    ngx_http_osint_redis_subscribe(rd);
}


/* ROLE's first element: "master", or a replica (or a sentinel) */

static void
ngx_http_osint_redis_role(ngx_http_osint_redis_t *rd, redisReply *rr)
{
    redisReply  *role;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements == 0
        || rr->element[0]->type != REDIS_REPLY_STRING)
    {
        ngx_http_osint_redis_close(rd, "ROLE: an unexpected reply");
        return;
    }

    role = rr->element[0];

    if (role->len == 6 && ngx_strncmp(role->str, "master", 6) == 0) {
        ngx_http_osint_redis_verified(rd);
        return;
    }

    ngx_http_osint_redis_close(rd, "ROLE is \"%*s\", not master",
                               (size_t) ngx_min(role->len,
                                                NGX_HTTP_OSINT_REDIS_ERR_MAX),
                               role->str);
}


/*
 * A master verified: when it is not the one the zone holds, the worker
 * that swaps it in counts the failover and logs it, once for the node.
 */

static void
ngx_http_osint_redis_verified(ngx_http_osint_redis_t *rd)
{
    ngx_atomic_uint_t  old, now;

    if (rd->counters == NULL) {
        return;
    }

    now = ngx_crc32_short(rd->name.data, rd->name.len);
    now = now ? now : 1;

    old = rd->counters->redis_master;

    if (old == now
        || !ngx_atomic_cmp_set(&rd->counters->redis_master, old, now))
    {
        return;
    }

    if (old == 0) {
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "osint: redis sentinel master \"%V\" is %s:%d",
                      &rd->conf->master, rd->host, rd->port);
        return;
    }

    (void) ngx_atomic_fetch_add(&rd->counters->redis_failovers, 1);

    ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                  "osint: redis sentinel master \"%V\" is now %s:%d",
                  &rd->conf->master, rd->host, rd->port);
}


/* the replies of a master that is no longer one */

static ngx_uint_t
ngx_http_osint_redis_moved(redisReply *rr)
{
    return rr->type == REDIS_REPLY_ERROR
           && ((rr->len >= 8 && ngx_strncmp(rr->str, "READONLY", 8) == 0)
               || (rr->len >= 10
                   && ngx_strncmp(rr->str, "MASTERDOWN", 10) == 0));
}


static void
ngx_http_osint_redis_command_done(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                  *rr = reply;
    ngx_http_osint_redis_req_t  *req = privdata;

    u_char                         *last;
    u_char                          text[NGX_HTTP_OSINT_LOG_TEXT_MAX];
    void                           *data;
    ngx_http_osint_redis_t         *rd;
    ngx_http_osint_redis_get_pt     get;
    ngx_http_osint_redis_reply_pt   handler;

    rd = ngx_http_osint_redis;

    req->sent = 0;

    if (rd && req->bytes) {

        /* hiredis lets a SET's bytes go: room for another */

        rd->sets--;
        rd->set_bytes -= req->bytes;
    }

    if (rr && rd) {
        /* any answer: the connection is alive */
        rd->timeouts = 0;

        if (rd->sentinel && rd->ac == ac && !rd->exiting
            && ngx_http_osint_redis_moved(rr))
        {
            /* a failover the connection outlived: ask the sentinels */

            rd->set_error_logged = 1;

            ngx_http_osint_redis_close(rd, "%*s",
                         (size_t) ngx_min(rr->len,
                                          NGX_HTTP_OSINT_REDIS_ERR_MAX),
                         rr->str);
        }
    }

    handler = req->handler;

    if (handler == NULL || rd == NULL || rd->exiting) {
        ngx_http_osint_redis_req_free(req);
        return;
    }

    if (rr == NULL) {

        /*
         * The connection is being torn down inside hiredis: the handler
         * runs from a posted event, when the worker is marked down.
         */

        ngx_http_osint_redis_req_fail(rd, req);
        return;
    }

    if (rr->type == REDIS_REPLY_ERROR && req->bytes == 0) {
        last = ngx_http_osint_redis_reply_text(rr, text, sizeof(text));

        ngx_log_error(NGX_LOG_INFO, req->ev.log, 0,
                      "osint: redis %V command failed: %*s", &rd->name,
                      (size_t) (last - text), text);
    }

    get = req->get;
    data = req->data;

    ngx_http_osint_redis_req_free(req);

    /* the reply is freed when this callback returns */

    ngx_http_osint_redis_notify(handler, get, data, NGX_OK, rr);
}


/* a SET's reply; a time out or a lost connection needs nothing more */

static void
ngx_http_osint_redis_set_reply(void *data, ngx_int_t rc, void *reply)
{
    u_char                  *last, text[NGX_HTTP_OSINT_LOG_TEXT_MAX];
    redisReply              *rr = reply;
    ngx_http_osint_redis_t  *rd = data;

    /* once per connection: a full Redis (maxmemory) refuses every SET */

    if (rc == NGX_OK && rr->type == REDIS_REPLY_ERROR
        && !rd->set_error_logged)
    {
        last = ngx_http_osint_redis_reply_text(rr, text, sizeof(text));

        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "osint: redis %V SET failed: %*s", &rd->name,
                      (size_t) (last - text), text);
        rd->set_error_logged = 1;
    }
}


static void
ngx_http_osint_redis_cleanup(void *privdata)
{
    ngx_http_osint_redis_lost(ngx_http_osint_hiredis_release(privdata));
}


/*
 * A context to the master's address on nginx events, or NULL and *err;
 * the adapter first: setting the connect callback adds a write event.
 */

static redisAsyncContext *
ngx_http_osint_redis_dial(ngx_http_osint_redis_t *rd,
    void (*cleanup)(void *privdata), const char **err)
{
    redisAsyncContext  *ac;

    if (rd->conf->unix_path.len) {
        ac = redisAsyncConnectUnix((const char *) rd->conf->unix_path.data);

    } else {
        ac = redisAsyncConnect((const char *) rd->host, rd->port);
    }

    if (ac == NULL) {
        *err = "out of memory";
        return NULL;
    }

    if (ac->c.err) {
        /* a loopback refusal is known at once; errstr goes with ac */
        (void) ngx_cpystrn(rd->dial_err, (u_char *) ac->c.errstr,
                           sizeof(rd->dial_err));
        *err = (const char *) rd->dial_err;
        redisAsyncFree(ac);
        return NULL;
    }

    if (ngx_http_osint_hiredis_attach(ac, cleanup, rd->log) != NGX_OK) {
        *err = "no free connection";
        redisAsyncFree(ac);
        return NULL;
    }

    return ac;
}


/* AUTH [user] password when configured; privdata "AUTH" for "done" */

static ngx_int_t
ngx_http_osint_redis_auth(redisAsyncContext *ac, redisCallbackFn *done)
{
    int                           rc;
    ngx_http_osint_redis_conf_t  *rcf;

    rcf = ngx_http_osint_redis->conf;

    if (rcf->password.len == 0) {
        return NGX_OK;
    }

    /* AUTH user password is Redis 6's, for an ACL user */

    rc = rcf->username.len
         ? redisAsyncCommand(ac, done, "AUTH", "AUTH %b %b",
                             rcf->username.data, rcf->username.len,
                             rcf->password.data, rcf->password.len)
         : redisAsyncCommand(ac, done, "AUTH", "AUTH %b", rcf->password.data,
                             rcf->password.len);

    return rc == REDIS_OK ? NGX_OK : NGX_ERROR;
}


/*
 * A purge's keys to the other nodes: after the purge's DEL on the same
 * connection, so that a node purged reads Redis without the answer.
 * Nothing is waited for; a Redis down loses the message (and the DEL).
 * Nobody cancels it either, so it logs to the Redis connection's log: the
 * purging request, and its log, may be gone before the reply comes.
 */

void
ngx_http_osint_redis_publish_purge(u_char *msg, size_t len)
{
    size_t                   argvlen[3];
    const char              *argv[3];
    ngx_http_osint_redis_t  *rd;

    rd = ngx_http_osint_redis;

    if (rd == NULL || len == 0) {
        return;
    }

    argv[0] = "PUBLISH";
    argvlen[0] = 7;
    argv[1] = (const char *) rd->channel;
    argvlen[1] = rd->channel_len;
    argv[2] = (const char *) msg;
    argvlen[2] = len;

    (void) ngx_http_osint_redis_command(3, argv, argvlen,
                                        ngx_http_osint_redis_published, NULL,
                                        NULL);
}


static void
ngx_http_osint_redis_published(void *data, ngx_int_t rc, void *reply)
{
    /* the number of subscribers is of no use here */
}


/*
 * A second connection of the worker to the master the first one is up
 * to: a subscribed context can do nothing else.  Opened when the first
 * is up, closed when it is lost; lost alone, retried with backoff.
 */

static void
ngx_http_osint_redis_subscribe(ngx_http_osint_redis_t *rd)
{
    const char         *err;
    redisAsyncContext  *ac;

    if (rd->sub || rd->exiting || !rd->up || rd->omcf->shm_zone == NULL) {
        return;
    }

    ac = ngx_http_osint_redis_dial(rd, ngx_http_osint_redis_sub_cleanup,
                                   &err);

    if (ac == NULL) {
        ngx_http_osint_redis_sub_lost(rd, err);
        return;
    }

    ac->data = rd;

    (void) redisAsyncSetConnectCallback(ac,
                                    ngx_http_osint_redis_sub_on_connect);
    (void) redisAsyncSetDisconnectCallback(ac,
                                    ngx_http_osint_redis_sub_on_disconnect);

    if (ngx_http_osint_redis_auth(ac, ngx_http_osint_redis_sub_message)
        != NGX_OK
        || redisAsyncCommand(ac, ngx_http_osint_redis_sub_message, NULL,
                             "SUBSCRIBE %b", rd->channel, rd->channel_len)
           != REDIS_OK)
    {
        redisAsyncFree(ac);
        ngx_http_osint_redis_sub_lost(rd, "cannot queue SUBSCRIBE");
        return;
    }

    rd->sub = ac;
    rd->subscribed = 0;

    /* the confirmation is due within the timeout */

    if (rd->sub_retry.timer_set) {
        ngx_del_timer(&rd->sub_retry);
    }

    ngx_add_timer(&rd->sub_retry, rd->conf->timeout);
}


static void
ngx_http_osint_redis_unsubscribe(ngx_http_osint_redis_t *rd)
{
    redisAsyncContext  *ac;

    if (rd->sub_retry.timer_set) {
        ngx_del_timer(&rd->sub_retry);
    }

    ac = rd->sub;
    rd->sub = NULL;
    rd->subscribed = 0;

    if (ac) {
        redisAsyncFree(ac);
    }
}


/* logged once until the subscription is back; retried after a backoff */

static void
ngx_http_osint_redis_sub_lost(ngx_http_osint_redis_t *rd, const char *reason)
{
    u_char  text[NGX_HTTP_OSINT_LOG_TEXT_MAX], *p;

    ngx_http_osint_redis_unsubscribe(rd);

    if (rd->exiting || !rd->up) {
        return;
    }

    if (!rd->sub_logged) {
        /* the reason may quote a reply of the server */

        p = ngx_http_osint_log_escape(text, sizeof(text), (u_char *) reason,
                                      ngx_strlen(reason));

        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "osint: redis %V: no subscription to purges: %*s",
                      &rd->name, (size_t) (p - text), text);

        rd->sub_logged = 1;
    }

    ngx_add_timer(&rd->sub_retry,
                  ngx_http_osint_hiredis_backoff(&rd->sub_backoff));
}


/* with a subscription pending: its timeout; without: the retry */

static void
ngx_http_osint_redis_sub_handler(ngx_event_t *ev)
{
    ngx_http_osint_redis_t  *rd;

    rd = ngx_http_osint_redis;

    if (rd == NULL || rd->exiting) {
        return;
    }

    if (rd->sub == NULL) {
        ngx_http_osint_redis_subscribe(rd);
        return;
    }

    if (!rd->subscribed) {
        ngx_http_osint_redis_sub_lost(rd, "no answer to SUBSCRIBE in time");
    }
}


/* AUTH's reply, ["subscribe", channel, n], then ["message", channel, keys] */

static void
ngx_http_osint_redis_sub_message(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply              *rr = reply;
    redisReply              *payload;
    ngx_http_osint_redis_t  *rd;

    rd = ngx_http_osint_redis;

    if (rr == NULL || rd == NULL || rd->exiting || ac != rd->sub) {
        return;
    }

    if (rr->type == REDIS_REPLY_ERROR) {
        /* hiredis defers the free until this callback returns */
        ngx_http_osint_redis_sub_lost(rd, privdata ? "AUTH failed"
                                                   : "SUBSCRIBE failed");
        return;
    }

    switch (ngx_http_osint_hiredis_pubsub(rr, &payload)) {

    case NGX_OK:

        if (rd->sub_retry.timer_set) {
            ngx_del_timer(&rd->sub_retry);
        }

        rd->subscribed = 1;
        rd->sub_backoff = NGX_HTTP_OSINT_REDIS_BACKOFF_MIN;

        if (rd->sub_logged) {
            ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                          "osint: redis %V: subscribed to purges",
                          &rd->name);
            rd->sub_logged = 0;
        }

        return;

    case NGX_AGAIN:
        ngx_http_osint_redis_sub_purge(rd, payload);
        return;

    default:
        return;
    }
}


/*
 * Untrusted bytes from Redis: at most NGX_HTTP_OSINT_PURGE_KEYS_MAX lines
 * of at most NGX_HTTP_OSINT_KEY_MAX bytes, or the message is ignored
 * (logged once per worker); each line is one lookup in L1.
 */

static void
ngx_http_osint_redis_sub_purge(ngx_http_osint_redis_t *rd,
    redisReply *payload)
{
    u_char      *p, *last, *nl;
    size_t       len;
    ngx_uint_t   n;

    p = (u_char *) payload->str;
    last = p + payload->len;
    n = 0;

    if (payload->len == 0
        || payload->len > NGX_HTTP_OSINT_PURGE_KEYS_MAX
                          * (NGX_HTTP_OSINT_KEY_MAX + 1))
    {
        goto junk;
    }

    for ( /* void */ ; p < last; p = nl + 1) {
        nl = ngx_strlchr(p, last, '\n');
        nl = nl ? nl : last;
        len = nl - p;

        if (len == 0 || len > NGX_HTTP_OSINT_KEY_MAX
            || ++n > NGX_HTTP_OSINT_PURGE_KEYS_MAX)
        {
            goto junk;
        }
    }

    for (p = (u_char *) payload->str; p < last; p = nl + 1) {
        nl = ngx_strlchr(p, last, '\n');
        nl = nl ? nl : last;

        (void) ngx_http_osint_l1_purge_key(rd->omcf, p, nl - p);
    }

    return;

junk:

    if (!rd->junk_logged) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "osint: redis %V: a malformed message on \"%*s\" "
                      "ignored", &rd->name, rd->channel_len, rd->channel);
        rd->junk_logged = 1;
    }
}


static void
ngx_http_osint_redis_sub_on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        /* hiredis frees ac when this returns */
        ngx_http_osint_redis_sub_gone(ac);
    }
}


static void
ngx_http_osint_redis_sub_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_osint_redis_sub_gone(ac);
}


static void
ngx_http_osint_redis_sub_cleanup(void *privdata)
{
    ngx_http_osint_redis_sub_gone(ngx_http_osint_hiredis_release(privdata));
}


/* hiredis gave the subscription up and frees it */

static void
ngx_http_osint_redis_sub_gone(const redisAsyncContext *ac)
{
    ngx_http_osint_redis_t  *rd;

    rd = ngx_http_osint_redis;

    if (rd == NULL || ac == NULL || rd->sub != ac) {
        return;
    }

    rd->sub = NULL;
    ngx_http_osint_redis_sub_lost(rd, ac->c.err ? ac->c.errstr
                                                : "connection closed");
}
