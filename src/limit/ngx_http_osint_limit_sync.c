
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * sync=redis: a key's bucket held in Redis for all the nodes, taken from
 * by a Lua script (EVAL) on the worker's Redis connection; tokens
 * granted ahead are leased in the zone; without Redis, the local bucket.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_osint.h"
#include "ngx_http_osint_limit.h"
#include "ngx_http_osint_limit_internal.h"


static void ngx_http_osint_limit_unask(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev);
static void ngx_http_osint_limit_fallback(ngx_http_osint_limit_zone_t *z,
    ngx_log_t *log);
static void ngx_http_osint_limit_sync_timer(ngx_http_request_t *r);
static void ngx_http_osint_limit_sync_done(void *data, ngx_int_t rc,
    void *reply);


/*
 * sync=redis: takes up to ARGV[4] whole tokens from the bucket KEYS[1] of
 * rate ARGV[1] per ARGV[2] ms and size ARGV[3], atomically, on Redis's
 * clock; returns {granted, ms until the next token, whole tokens left}.
 * The hash expires when the bucket is full again (the same as no key).
 */

static const char  ngx_http_osint_limit_script[] =
    NGX_HTTP_OSINT_LUA_NOW
    "local rate = tonumber(ARGV[1]) / tonumber(ARGV[2])\n"
    "local burst = tonumber(ARGV[3])\n"
    "local want = tonumber(ARGV[4])\n"
    "local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts')\n"
    NGX_HTTP_OSINT_LUA_REFILL
    "local got = math.min(want, math.floor(tokens))\n"
    "if got < 0 then got = 0 end\n"
    "tokens = tokens - got\n"
    "local wait = 0\n"
    "if tokens < 1 then wait = math.ceil((1 - tokens) / rate) end\n"
    "redis.call('HSET', KEYS[1], 'tokens', tostring(tokens),"
    " 'ts', tostring(now))\n"
    "redis.call('PEXPIRE', KEYS[1],"
    " math.ceil((burst - tokens) / rate) + 1000)\n"
    "return {got, wait, math.floor(tokens)}\n";


/*
 * sync=redis: NGX_OK decided (a token of the lease, or no room in the
 * zone: passes), NGX_AGAIN an EVAL is sent, NGX_DECLINED Redis is down:
 * decide locally.
 */

ngx_int_t
ngx_http_osint_limit_sync(ngx_http_osint_limit_run_t *run, ngx_uint_t i,
    ngx_http_osint_limit_zone_t *z)
{
    u_char                       *p;
    size_t                        argvlen[8];
    ngx_uint_t                    want;
    ngx_msec_t                    now;
    const char                   *argv[8];
    ngx_http_request_t           *r;
    ngx_http_osint_limit_eval_t  *ev;
    ngx_http_osint_limit_node_t  *node;

    r = run->request;
    ev = &run->ev[i];
    now = ngx_current_msec;

    ngx_shmtx_lock(&z->shpool->mutex);

    node = ngx_http_osint_limit_lookup(z, ev, 1, now);

    if (node == NULL) {
        ngx_http_osint_limit_unlock(z, ev, r->connection->log);
        return NGX_OK;
    }

    if (node->lease && (ngx_msec_int_t) (node->lease_exp - now) > 0) {
        node->lease--;

        ev->took = 1;
        ev->synced = 1;
        ev->remaining = node->left + node->lease;
        ev->reset = node->reset;
        ev->known = 1;

        ngx_http_osint_limit_unlock(z, ev, r->connection->log);
        return NGX_OK;
    }

    node->lease = 0;

    if (!ngx_http_osint_redis_up()) {
        ngx_http_osint_limit_unlock(z, ev, r->connection->log);
        ngx_http_osint_limit_fallback(z, r->connection->log);
        return NGX_DECLINED;
    }

    /* one chunk in flight per key and node: the lease stays below k */

    want = 1;

    if (z->chunk > 1
        && (node->asking == 0
            || now - node->asking >= NGX_HTTP_OSINT_LIMIT_LEASE_TTL))
    {
        want = z->chunk;
        node->asking = now ? now : 1;
    }

    ngx_http_osint_limit_unlock(z, ev, r->connection->log);

    p = ngx_pnalloc(r->pool, z->rkey.len + ev->key.len + 4 * NGX_INT_T_LEN);
    if (p == NULL) {
        goto failed;
    }

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_osint_limit_script;
    argvlen[1] = sizeof(ngx_http_osint_limit_script) - 1;
    argv[2] = "1";
    argvlen[2] = 1;

    argv[3] = (const char *) p;
    p = ngx_cpymem(p, z->rkey.data, z->rkey.len);
    p = ngx_cpymem(p, ev->key.data, ev->key.len);
    argvlen[3] = p - (u_char *) argv[3];

    argv[4] = (const char *) p;
    p = ngx_sprintf(p, "%ui", z->rate_n);
    argvlen[4] = p - (u_char *) argv[4];

    argv[5] = (const char *) p;
    p = ngx_sprintf(p, "%ui", z->window * 1000);
    argvlen[5] = p - (u_char *) argv[5];

    argv[6] = (const char *) p;
    p = ngx_sprintf(p, "%ui", z->rate.burst);
    argvlen[6] = p - (u_char *) argv[6];

    argv[7] = (const char *) p;
    p = ngx_sprintf(p, "%ui", want);
    argvlen[7] = p - (u_char *) argv[7];

    run->want = want;

    run->redis = ngx_http_osint_redis_command(8, argv, argvlen,
                                              ngx_http_osint_limit_sync_done,
                                              run, r->connection->log);
    if (run->redis) {
        return NGX_AGAIN;
    }

failed:

    if (want > 1) {
        ngx_http_osint_limit_unask(z, ev);
    }

    ngx_http_osint_limit_fallback(z, r->connection->log);

    return NGX_DECLINED;
}


/* the chunk asked for a key has come (or not): another may be asked */

static void
ngx_http_osint_limit_unask(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev)
{
    ngx_http_osint_limit_node_t  *node;

    ngx_shmtx_lock(&z->shpool->mutex);

    node = ngx_http_osint_limit_lookup(z, ev, 0, ngx_current_msec);

    if (node) {
        node->asking = 0;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/* a request decided locally for want of Redis: counted, logged once */

static void
ngx_http_osint_limit_fallback(ngx_http_osint_limit_zone_t *z, ngx_log_t *log)
{
    (void) ngx_atomic_fetch_add(&z->sh->fallbacks, 1);

    if (!z->fallback) {
        z->fallback = 1;
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint_limit: zone \"%V\" falls back to local buckets: "
                      "redis is down", &z->name);
    }
}


/*
 * The request waits for its EVAL: the reply, the Redis client's timeout,
 * or, should neither come, a timer of its own a little later.  A client
 * that goes away frees the request: the cleanup cancels the EVAL.
 */

ngx_int_t
ngx_http_osint_limit_sync_wait(ngx_http_osint_limit_run_t *run)
{
    ngx_msec_t           timeout;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = run->request;
    c = r->connection;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_osint_redis_cancel(run->redis);
        run->redis = NULL;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_osint_limit_sync_timer;

    timeout = ngx_http_osint_redis_timeout() + 100;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_add_timer(c->write, timeout);

    return NGX_AGAIN;
}


static void
ngx_http_osint_limit_sync_timer(ngx_http_request_t *r)
{
    ngx_event_t                 *wev;
    ngx_http_osint_limit_ctx_t  *ctx;

    wev = r->connection->write;

    if (!wev->timedout) {
        return;
    }

    wev->timedout = 0;

    ctx = ngx_http_osint_limit_get_ctx(r);

    if (ctx == NULL || ctx->run == NULL || ctx->run->redis == NULL) {
        return;
    }

    ngx_http_osint_redis_cancel(ctx->run->redis);
    ctx->run->redis = NULL;

    ngx_http_osint_limit_sync_done(ctx->run, NGX_ERROR, NULL);
}


/* the EVAL's reply: {granted, ms until the next token, tokens left} */

static void
ngx_http_osint_limit_sync_done(void *data, ngx_int_t rc, void *reply)
{
    ngx_http_osint_limit_run_t *run = data;

    redisReply                       *rr = reply;
    time_t                            reset;
    ngx_int_t                         got, wait, left;
    ngx_uint_t                        i, k;
    ngx_msec_t                        now;
    ngx_connection_t                 *c;
    ngx_http_request_t               *r;
    ngx_http_osint_limit_t           *limit;
    ngx_http_osint_limit_eval_t      *ev;
    ngx_http_osint_limit_zone_t      *z;
    ngx_http_osint_limit_node_t      *node;
    ngx_http_osint_limit_loc_conf_t  *llcf;

    r = run->request;
    c = r->connection;
    run->redis = NULL;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_osint_limit_module);

    i = run->next;
    limit = (ngx_http_osint_limit_t *) llcf->limits.elts + i;
    z = limit->shm_zone->data;
    ev = &run->ev[i];
    now = ngx_current_msec;

    got = -1;
    wait = 0;
    left = 0;

    if (rc == NGX_OK && rr->type == REDIS_REPLY_ARRAY && rr->elements == 3) {
        for (k = 0; k < 3; k++) {
            if (rr->element[k]->type != REDIS_REPLY_INTEGER
                || rr->element[k]->integer < 0)
            {
                break;
            }
        }

        if (k == 3) {
            got = (ngx_int_t) rr->element[0]->integer;
            wait = (ngx_int_t) rr->element[1]->integer;
            left = (ngx_int_t) rr->element[2]->integer;
        }
    }

    if (got < 0) {
        if (run->want > 1) {
            ngx_http_osint_limit_unask(z, ev);
        }

        ngx_http_osint_limit_fallback(z, c->log);
        ngx_http_osint_limit_local(z, limit, ev, now, c->log);
        goto next;
    }

    if (z->fallback) {
        z->fallback = 0;
        ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                      "osint_limit: zone \"%V\" is in sync with redis again",
                      &z->name);
    }

    reset = (wait + 999) / 1000;

    ngx_shmtx_lock(&z->shpool->mutex);

    node = ngx_http_osint_limit_lookup(z, ev, 1, now);

    if (node) {
        if (run->want > 1) {
            node->asking = 0;
        }

        if (got > 1) {
            node->lease += got - 1;
            node->lease_exp = now + NGX_HTTP_OSINT_LIMIT_LEASE_TTL;
        }

        node->left = left;
        node->reset = reset;
    }

    ev->remaining = left + (node ? node->lease : 0);

    ngx_http_osint_limit_unlock(z, ev, c->log);

    ev->known = 1;
    ev->reset = reset;

    if (got > 0) {
        ev->took = 1;
        ev->synced = 1;

    } else {
        ev->result = limit->dry_run ? NGX_HTTP_OSINT_LIMIT_DRY_RUN
                                    : NGX_HTTP_OSINT_LIMIT_REJECTED;
        ev->reset = ngx_max(reset, 1);
    }

next:

    if (ev->result == NGX_HTTP_OSINT_LIMIT_REJECTED) {
        rc = ngx_http_osint_limit_finish(run, i);

    } else {
        run->next = i + 1;
        rc = ngx_http_osint_limit_run(run);
    }

    switch (rc) {

    case NGX_AGAIN:     /* another EVAL, or a delay */
    case NGX_DONE:      /* rejected, finalized */
        break;

    case NGX_DECLINED:
        r->read_event_handler = ngx_http_block_reading;
        r->write_event_handler = ngx_http_core_run_phases;
        ngx_http_core_run_phases(r);
        break;

    default:
        ngx_http_finalize_request(r, rc);
        break;
    }

    ngx_http_run_posted_requests(c);
}


/* sync=redis: Redis is configured (anywhere in http{}), the key's prefix */

ngx_int_t
ngx_http_osint_limit_init_sync(ngx_conf_t *cf, ngx_http_osint_limit_zone_t *z)
{
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_osint_module);

    if (omcf == NULL || omcf->redis == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "osint_limit_zone \"%V\" with sync=redis requires "
                      "\"osint_redis\" in %s:%ui", &z->name, z->file,
                      z->line);
        return NGX_ERROR;
    }

    z->rkey.len = omcf->redis->prefix.len + sizeof("limit::") - 1
                  + z->name.len;

    z->rkey.data = ngx_pnalloc(cf->pool, z->rkey.len);
    if (z->rkey.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_sprintf(z->rkey.data, "%Vlimit:%V:", &omcf->redis->prefix,
                       &z->name);

    return NGX_OK;
}
