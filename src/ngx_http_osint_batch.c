
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * POST /lookup: {"targets": [...]} answered as NDJSON, one lookup
 * document a line, in completion order, each sent as soon as it is done;
 * at most osint_batch_concurrency lookups in flight.  A bad target is a
 * line with its error: one typo does not cost the rest of the batch.
 *
 * Flow control: a client that reads slowly holds the lines, not the
 * lookups.  While more than NGX_HTTP_OSINT_BATCH_BUFFERED bytes of lines
 * wait to be sent, no lookup starts; output that makes no progress for
 * send_timeout ends the request, as nginx's own writer does.  Each
 * target's lookup has a pool of its own, destroyed once its line is
 * printed, and each line one, destroyed once it is sent.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"
#include "ngx_http_osint_limit.h"


/* bytes of lines waiting for the client beyond which no lookup starts */
#define NGX_HTTP_OSINT_BATCH_BUFFERED   65536

/* a lookup's pool, and a line's: small lines fit, big ones are "large" */
#define NGX_HTTP_OSINT_BATCH_POOL_SIZE  4096
#define NGX_HTTP_OSINT_LINE_POOL_SIZE   1024


/* a line handed to the output filters: its text is freed once sent */

typedef struct {
    ngx_buf_t                   buf;
    ngx_pool_t                 *pool;           /* of the text */
    ngx_queue_t                 queue;          /* in the batch's lines */
} ngx_http_osint_batch_line_t;


struct ngx_http_osint_batch_s {
    ngx_http_request_t         *request;
    cJSON                      *targets;        /* the body's array */
    ngx_uint_t                  ntargets;
    ngx_uint_t                  next;
    ngx_uint_t                  running;
    ngx_uint_t                  want;
    ngx_str_t                   providers;
    ngx_queue_t                 lookups;        /* whose pools are alive */
    ngx_queue_t                 lines;          /* not yet sent, in order */
    size_t                      buffered;       /* their unsent bytes */
    unsigned                    bypass:1;
    unsigned                    failed:1;       /* the client is gone */
    unsigned                    pumping:1;
};


static void ngx_http_osint_batch_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_osint_batch_parse(ngx_http_osint_batch_t *batch,
    ngx_str_t *reason);
static void ngx_http_osint_batch_invalid(ngx_http_osint_batch_t *batch);
static void ngx_http_osint_batch_pump(ngx_http_osint_batch_t *batch);
static void ngx_http_osint_batch_start(ngx_http_osint_batch_t *batch,
    cJSON *item);
static cJSON *ngx_http_osint_batch_error(ngx_pool_t *pool, ngx_str_t *target,
    const char *kind, ngx_str_t *reason);
static void ngx_http_osint_batch_done(ngx_http_osint_lookup_t *lk);
static void ngx_http_osint_batch_forget(ngx_http_osint_lookup_t *lk);
static void ngx_http_osint_batch_emit(ngx_http_osint_batch_t *batch,
    cJSON *doc);
static void ngx_http_osint_batch_line(ngx_http_osint_batch_t *batch,
    ngx_http_osint_lookup_t *lk, cJSON *doc);
static void ngx_http_osint_batch_send(ngx_http_osint_batch_t *batch,
    ngx_chain_t *in);
static void ngx_http_osint_batch_sent(ngx_http_osint_batch_t *batch);
static void ngx_http_osint_batch_cleanup(void *data);
static void ngx_http_osint_batch_writer(ngx_http_request_t *r);
static void ngx_http_osint_batch_charge(ngx_http_osint_batch_t *batch);


ngx_int_t
ngx_http_osint_batch_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_osint_ctx_t     *ctx;
    ngx_http_osint_lookup_t  *lk;
    ngx_http_osint_batch_t   *batch;

    batch = ngx_pcalloc(r->pool, sizeof(ngx_http_osint_batch_t));
    if (batch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    batch->request = r;
    ngx_queue_init(&batch->lookups);
    ngx_queue_init(&batch->lines);

    /* query arguments apply to every target: refuse bad ones up front */

    lk = ngx_http_osint_lookup_new(r);
    if (lk == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_osint_lookup_params(lk, &batch->want, &batch->providers);

    if (rc == NGX_DECLINED) {
        ngx_http_osint_count_invalid(r);

        return ngx_http_osint_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         lk->reject_kind, "%V", &lk->reject);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    batch->bypass = lk->bypass;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_osint_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->batch = batch;
    ngx_http_set_ctx(r, ctx, ngx_http_osint_module);

    /* the body is parsed whole, so it must sit in memory */

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_osint_batch_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_osint_batch_body(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                    reason;
    ngx_table_elt_t             *h;
    ngx_http_cleanup_t          *cln;
    ngx_http_osint_ctx_t        *ctx;
    ngx_http_osint_batch_t      *batch;
    ngx_http_variable_value_t   *vv;
    ngx_http_osint_main_conf_t  *omcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_osint_module);
    batch = ctx->batch;

    rc = ngx_http_osint_batch_parse(batch, &reason);

    if (rc == NGX_DECLINED) {
        ngx_http_osint_count_invalid(r);
        ngx_http_finalize_request(r,
            ngx_http_osint_send_error(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_parameter", "%V", &reason));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        cJSON_Delete(batch->targets);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = ngx_http_osint_batch_cleanup;
    cln->data = batch;

    /* the lookups send $request_id to providers: it names the answer */

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);
    vv = ngx_http_get_indexed_variable(r, omcf->request_id_index);

    if (vv && !vv->not_found) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "X-Request-ID");
        h->value.data = vv->data;
        h->value.len = vv->len;
    }

    /*
     * the lines' freshness is not known when the header goes, and a
     * batch is one client's: each line's providers carry their "age"
     */

    if (ngx_http_osint_add_text_header(r, "Cache-Control", "no-store")
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type, "application/x-ndjson");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    ngx_http_clear_content_length(r);

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    r->read_event_handler = ngx_http_osint_check_broken;
    r->write_event_handler = ngx_http_osint_batch_writer;

    ngx_http_osint_batch_invalid(batch);
    ngx_http_osint_batch_charge(batch);
    ngx_http_osint_batch_pump(batch);
}


/*
 * Targets that cannot be looked up need no provider and no slot: their
 * lines go first, and they leave the list.
 */

static void
ngx_http_osint_batch_invalid(ngx_http_osint_batch_t *batch)
{
    cJSON                    *item, *next, *doc;
    ngx_str_t                 target;
    ngx_http_osint_lookup_t  *lk;

    lk = ngx_http_osint_lookup_new(batch->request);
    if (lk == NULL) {
        batch->failed = 1;
        return;
    }

    for (item = batch->targets->child; item; item = next) {
        next = item->next;

        if (cJSON_IsString(item)) {
            target.data = (u_char *) item->valuestring;
            target.len = ngx_strlen(item->valuestring);

            if (ngx_http_osint_lookup_target(lk, &target, batch->want)
                != NGX_DECLINED)
            {
                continue;
            }

        } else {
            ngx_str_set(&lk->reject, "a target must be a string");
            lk->reject_kind = "invalid_target";
        }

        doc = ngx_http_osint_batch_error(batch->request->pool,
                                         cJSON_IsString(item) ? &target : NULL,
                                         lk->reject_kind, &lk->reject);

        ngx_http_osint_batch_emit(batch, doc);

        cJSON_Delete(cJSON_DetachItemViaPointer(batch->targets, item));
        batch->ntargets--;
    }
}


/*
 * The body in memory, checked by ngx_http_osint_batch_body_parse():
 * NGX_OK, or NGX_DECLINED and why.  nginx may hand over a body that fits
 * client_body_buffer_size in two buffers (what came with the headers and
 * the rest): they are joined.  A body nginx wrote to a file is refused
 * rather than read with blocking file I/O.
 */

static ngx_int_t
ngx_http_osint_batch_parse(ngx_http_osint_batch_t *batch, ngx_str_t *reason)
{
    u_char                      *p;
    size_t                       len;
    ngx_int_t                    rc;
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_http_request_t          *r;
    ngx_http_osint_main_conf_t  *omcf;

    r = batch->request;
    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return ngx_http_osint_batch_body_parse(r->pool, NULL, 0,
                                               omcf->batch_max,
                                               &batch->targets, reason);
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file || r->request_body->temp_file) {
            ngx_str_set(reason, "the batch body is larger than "
                                "client_body_buffer_size");
            return NGX_DECLINED;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    b = r->request_body->bufs->buf;
    p = b->pos;

    if (r->request_body->bufs->next) {
        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        len = 0;

        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            len = ngx_cpymem(p + len, cl->buf->pos,
                             cl->buf->last - cl->buf->pos) - p;
        }
    }

    rc = ngx_http_osint_batch_body_parse(r->pool, p, len, omcf->batch_max,
                                         &batch->targets, reason);

    if (rc == NGX_OK) {
        batch->ntargets = cJSON_GetArraySize(batch->targets);
    }

    return rc;
}


/*
 * Starts lookups while fewer than osint_batch_concurrency run and the
 * client keeps up; answers that need no network (caches, bad targets)
 * are written at once.  When all are sent, the answer ends; when the
 * client is gone, at once (the cleanup stops what runs).
 */

static void
ngx_http_osint_batch_pump(ngx_http_osint_batch_t *batch)
{
    cJSON                       *item;
    ngx_http_request_t          *r;
    ngx_http_osint_main_conf_t  *omcf;

    r = batch->request;
    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    if (batch->pumping) {
        return;
    }

    batch->pumping = 1;

    while (!batch->failed
           && batch->next < batch->ntargets
           && batch->running < omcf->batch_concurrency
           && batch->buffered <= NGX_HTTP_OSINT_BATCH_BUFFERED)
    {
        item = cJSON_GetArrayItem(batch->targets, (int) batch->next++);
        ngx_http_osint_batch_start(batch, item);
    }

    batch->pumping = 0;

    if (batch->failed) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (batch->running
        || batch->next < batch->ntargets
        || !ngx_queue_empty(&batch->lines))
    {
        return;
    }

    cJSON_Delete(batch->targets);
    batch->targets = NULL;

    ngx_http_finalize_request(r, ngx_http_send_special(r, NGX_HTTP_LAST));
}


static void
ngx_http_osint_batch_start(ngx_http_osint_batch_t *batch, cJSON *item)
{
    ngx_int_t                 rc;
    ngx_str_t                 target;
    ngx_pool_t               *pool;
    ngx_http_osint_lookup_t  *lk;

    pool = ngx_create_pool(NGX_HTTP_OSINT_BATCH_POOL_SIZE,
                           batch->request->connection->log);
    if (pool == NULL) {
        batch->failed = 1;
        return;
    }

    lk = ngx_http_osint_lookup_create(batch->request, pool);
    if (lk == NULL) {
        ngx_destroy_pool(pool);
        batch->failed = 1;
        return;
    }

    lk->done = ngx_http_osint_batch_done;
    lk->batch = batch;
    lk->bypass = batch->bypass;
    ngx_queue_insert_tail(&batch->lookups, &lk->queue);

    /* valid: ngx_http_osint_batch_invalid() took the others out */

    target.data = (u_char *) item->valuestring;
    target.len = ngx_strlen(item->valuestring);

    rc = ngx_http_osint_lookup_target(lk, &target, batch->want);

    if (rc == NGX_OK) {
        rc = ngx_http_osint_lookup_select(lk, &batch->providers);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_osint_lookup_run(lk);
    }

    if (rc == NGX_AGAIN) {
        batch->running++;
        return;
    }

    if (rc == NGX_OK) {
        (void) ngx_http_osint_lookup_status(lk);
        ngx_http_osint_batch_line(batch, lk, NULL);

    } else if (rc == NGX_DECLINED) {

        /* no provider for its type: an error document of its own */

        ngx_http_osint_batch_emit(batch,
                                  ngx_http_osint_batch_error(lk->pool,
                                                             &lk->target,
                                                             lk->reject_kind,
                                                             &lk->reject));

    } else {
        batch->failed = 1;
    }

    ngx_http_osint_batch_forget(lk);
}


/* {"target": ..., "error": {"kind": ..., "message": ...}}; target NULL: null */

static cJSON *
ngx_http_osint_batch_error(ngx_pool_t *pool, ngx_str_t *target,
    const char *kind, ngx_str_t *reason)
{
    cJSON   *doc, *error;
    u_char  *s;
    size_t   len;

    doc = cJSON_CreateObject();
    error = cJSON_CreateObject();
    len = reason->len;

    if (target && target->len > len) {
        len = target->len;
    }

    s = ngx_pnalloc(pool, len + 1);

    if (doc == NULL || error == NULL || s == NULL) {
        cJSON_Delete(doc);
        cJSON_Delete(error);
        return NULL;
    }

    if (target) {
        *ngx_cpymem(s, target->data, target->len) = '\0';
        cJSON_AddStringToObject(doc, "target", (char *) s);

    } else {
        cJSON_AddNullToObject(doc, "target");
    }

    cJSON_AddItemToObject(doc, "error", error);
    cJSON_AddStringToObject(error, "kind", kind);
    *ngx_cpymem(s, reason->data, reason->len) = '\0';
    cJSON_AddStringToObject(error, "message", (char *) s);
    (void) ngx_http_osint_error_retryable(error, kind);

    return doc;
}


/* lk->done of a batch's lookup: its line, then the next targets */

static void
ngx_http_osint_batch_done(ngx_http_osint_lookup_t *lk)
{
    ngx_http_osint_batch_t  *batch;

    batch = lk->batch;
    batch->running--;

    (void) ngx_http_osint_lookup_status(lk);
    ngx_http_osint_batch_line(batch, lk, NULL);

    /*
     * Nothing of lk is touched once lk->done returns (a GET's request
     * may be freed by then too): its pool goes.
     */

    ngx_http_osint_batch_forget(lk);

    ngx_http_osint_batch_pump(batch);
}


/* the target's line is printed: its answers, its calls, its pool go */

static void
ngx_http_osint_batch_forget(ngx_http_osint_lookup_t *lk)
{
    ngx_queue_remove(&lk->queue);
    ngx_destroy_pool(lk->pool);
}


/*
 * One NDJSON line, flushed to the client now or as soon as it reads.
 * Its text has a pool of its own, destroyed once sent; the buffer stays
 * in the request's pool, where filters may still look at it.
 */

static void
ngx_http_osint_batch_emit(ngx_http_osint_batch_t *batch, cJSON *doc)
{
    ngx_http_osint_batch_line(batch, NULL, doc);
}


/* a line, of a lookup's document or (lk NULL) of an error document */

static void
ngx_http_osint_batch_line(ngx_http_osint_batch_t *batch,
    ngx_http_osint_lookup_t *lk, cJSON *doc)
{
    ngx_buf_t                    *b;
    ngx_pool_t                   *pool;
    ngx_chain_t                   out;
    ngx_http_request_t           *r;
    ngx_http_osint_batch_line_t  *line;

    r = batch->request;

    if ((lk == NULL && doc == NULL) || batch->failed) {
        cJSON_Delete(doc);
        batch->failed = 1;
        return;
    }

    line = ngx_palloc(r->pool, sizeof(ngx_http_osint_batch_line_t));
    pool = ngx_create_pool(NGX_HTTP_OSINT_LINE_POOL_SIZE, r->connection->log);

    b = NULL;

    if (line == NULL || pool == NULL) {
        /* no memory */

    } else if (lk == NULL) {
        b = ngx_http_osint_json_buf(pool, doc);

    } else {
        b = ngx_http_osint_lookup_buf(lk, pool);
    }

    cJSON_Delete(doc);

    if (b == NULL) {
        if (pool) {
            ngx_destroy_pool(pool);
        }

        batch->failed = 1;
        return;
    }

    line->buf = *b;
    line->buf.flush = 1;
    line->pool = pool;
    ngx_queue_insert_tail(&batch->lines, &line->queue);

    out.buf = &line->buf;
    out.next = NULL;

    ngx_http_osint_batch_send(batch, &out);
}


/*
 * Hands lines to the output filters (in NULL: what waits), frees those
 * sent, and keeps send_timeout running while output waits, as
 * ngx_http_writer() does.
 */

static void
ngx_http_osint_batch_send(ngx_http_osint_batch_t *batch, ngx_chain_t *in)
{
    ngx_event_t               *wev;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_core_loc_conf_t  *clcf;

    r = batch->request;
    c = r->connection;
    wev = c->write;

    if (ngx_http_output_filter(r, in) == NGX_ERROR) {
        batch->failed = 1;
        return;
    }

    ngx_http_osint_batch_sent(batch);

    if (!r->buffered && !c->buffered) {
        if (wev->timer_set) {
            ngx_del_timer(wev);
        }

        return;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* a new line is no progress: only the writer restarts the timer */

    if (!wev->delayed && !wev->timer_set) {
        ngx_add_timer(wev, clcf->send_timeout);
    }

    if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
        batch->failed = 1;
    }
}


/* lines sent are freed; the unsent bytes of the others are counted */

static void
ngx_http_osint_batch_sent(ngx_http_osint_batch_t *batch)
{
    size_t                        buffered;
    ngx_queue_t                  *q, *next;
    ngx_http_osint_batch_line_t  *line;

    buffered = 0;

    for (q = ngx_queue_head(&batch->lines);
         q != ngx_queue_sentinel(&batch->lines);
         q = next)
    {
        next = ngx_queue_next(q);
        line = ngx_queue_data(q, ngx_http_osint_batch_line_t, queue);

        if (ngx_buf_size(&line->buf) == 0) {
            ngx_queue_remove(q);
            ngx_destroy_pool(line->pool);
            continue;
        }

        buffered += ngx_buf_size(&line->buf);
    }

    batch->buffered = buffered;
}


/* the client's socket is writable again, or send_timeout passed */

static void
ngx_http_osint_batch_writer(ngx_http_request_t *r)
{
    ngx_event_t             *wev;
    ngx_connection_t        *c;
    ngx_http_osint_batch_t  *batch;

    c = r->connection;
    wev = c->write;
    batch = ((ngx_http_osint_ctx_t *)
             ngx_http_get_module_ctx(r, ngx_http_osint_module))->batch;

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "client timed out");
        c->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (wev->delayed) {

        /* limit_rate: the write filter's own timer wakes us */

        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_ERROR);
        }

        return;
    }

    /* progress: send_timeout starts again if output still waits */

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    ngx_http_osint_batch_send(batch, NULL);
    ngx_http_osint_batch_pump(batch);
}


/*
 * The request ends (or the client went away): the lookups still alive
 * stop their calls as their pools go; lines not sent are dropped.
 */

static void
ngx_http_osint_batch_cleanup(void *data)
{
    ngx_http_osint_batch_t *batch = data;

    ngx_queue_t                  *q;
    ngx_http_osint_lookup_t      *lk;
    ngx_http_osint_batch_line_t  *line;

    while (!ngx_queue_empty(&batch->lookups)) {
        q = ngx_queue_head(&batch->lookups);
        lk = ngx_queue_data(q, ngx_http_osint_lookup_t, queue);
        ngx_http_osint_batch_forget(lk);
    }

    while (!ngx_queue_empty(&batch->lines)) {
        q = ngx_queue_head(&batch->lines);
        line = ngx_queue_data(q, ngx_http_osint_batch_line_t, queue);
        ngx_queue_remove(q);
        ngx_destroy_pool(line->pool);
    }

    batch->running = 0;

    cJSON_Delete(batch->targets);
    batch->targets = NULL;
}


/*
 * Under osint_limit a batch costs a token per target, as that many
 * lookups would: the request paid for its first target; the targets its
 * buckets cannot pay for now get a rate_limited line of their own and
 * leave the list, the last ones first.
 */

static void
ngx_http_osint_batch_charge(ngx_http_osint_batch_t *batch)
{
    cJSON       *item;
    ngx_str_t    target, reason;
    ngx_uint_t   paid;

    if (batch->ntargets < 2 || batch->failed) {
        return;
    }

    paid = 1 + ngx_http_osint_limit_charge(batch->request,
                                           batch->ntargets - 1);

    ngx_str_set(&reason, "no token left in the rate limit for this target");

    while (batch->ntargets > paid) {
        item = cJSON_GetArrayItem(batch->targets, (int) paid);

        target.data = (u_char *) item->valuestring;
        target.len = ngx_strlen(item->valuestring);

        ngx_http_osint_batch_emit(batch,
            ngx_http_osint_batch_error(batch->request->pool, &target,
                                       "rate_limited", &reason));

        cJSON_Delete(cJSON_DetachItemViaPointer(batch->targets, item));
        batch->ntargets--;
    }
}
