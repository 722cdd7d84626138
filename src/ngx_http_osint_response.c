
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * JSON answers: the lookup document of docs/document.md, error
 * documents, and sending a cJSON tree as a response.  A sender only
 * sends: what an answer counts is counted by who answers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


static cJSON *ngx_http_osint_call_document(ngx_http_osint_call_t *call);
static ngx_int_t ngx_http_osint_call_fields(ngx_http_osint_call_t *call,
    cJSON *item, cJSON *error);
static cJSON *ngx_http_osint_string(ngx_str_t *s);
static cJSON *ngx_http_osint_ms(double ms);
static ngx_int_t ngx_http_osint_keep_verdict(ngx_http_osint_lookup_t *lk,
    cJSON *summary);


cJSON *
ngx_http_osint_lookup_document(ngx_http_osint_lookup_t *lk)
{
    cJSON                        *doc, *providers, *item;
    ngx_uint_t                    i;
    ngx_http_osint_summary_in_t  *in;

    doc = cJSON_CreateObject();
    if (doc == NULL) {
        return NULL;
    }

    if (!cJSON_AddItemToObject(doc, "target",
                               ngx_http_osint_string(&lk->target))
        || !cJSON_AddStringToObject(doc, "type",
                                    ngx_http_osint_type_name(lk->type))
        || !cJSON_AddItemToObject(doc, "request_id",
                                  ngx_http_osint_string(&lk->request_id))
        || !cJSON_AddItemToObject(doc, "elapsed_ms",
                                  ngx_http_osint_ms(ngx_http_osint_now_ms()
                                                    - lk->started)))
    {
        goto failed;
    }

    in = ngx_palloc(lk->request->pool,
                    lk->ncalls * sizeof(ngx_http_osint_summary_in_t));
    if (in == NULL) {
        goto failed;
    }

    for (i = 0; i < lk->ncalls; i++) {
        in[i].provider = lk->calls[i].provider;
        in[i].status = lk->calls[i].status;
        in[i].data = lk->calls[i].data;
    }

    item = ngx_http_osint_summary(&lk->target, lk->type, in, lk->ncalls,
                                  lk->request->pool);

    if (item == NULL || !cJSON_AddItemToObject(doc, "summary", item)) {
        cJSON_Delete(item);
        goto failed;
    }

    if (ngx_http_osint_keep_verdict(lk, item) != NGX_OK) {
        goto failed;
    }

    providers = cJSON_AddObjectToObject(doc, "providers");
    if (providers == NULL) {
        goto failed;
    }

    for (i = 0; i < lk->ncalls; i++) {
        item = ngx_http_osint_call_document(&lk->calls[i]);

        if (item == NULL) {
            goto failed;
        }

        /* the provider name is a NUL-terminated configuration string */

        cJSON_AddItemToObject(providers,
                              (char *) lk->calls[i].provider->name.data, item);
    }

    return doc;

failed:

    cJSON_Delete(doc);

    return NULL;
}


/* summary.verdict.level for $osint_verdict: the document goes first */

static ngx_int_t
ngx_http_osint_keep_verdict(ngx_http_osint_lookup_t *lk, cJSON *summary)
{
    cJSON  *level;

    level = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(summary, "verdict"), "level");

    if (!cJSON_IsString(level)) {
        return NGX_OK;
    }

    lk->verdict.len = ngx_strlen(level->valuestring);
    lk->verdict.data = ngx_pnalloc(lk->pool, lk->verdict.len);

    if (lk->verdict.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(lk->verdict.data, level->valuestring, lk->verdict.len);

    return NGX_OK;
}


static cJSON *
ngx_http_osint_call_document(ngx_http_osint_call_t *call)
{
    cJSON  *item, *error;

    item = cJSON_CreateObject();
    if (item == NULL) {
        return NULL;
    }

    if (!cJSON_AddStringToObject(item, "status",
                                 ngx_http_osint_status_name(call->status))
        || !cJSON_AddStringToObject(item, "cache",
                                    ngx_http_osint_sources[call->cache])
        || !cJSON_AddItemToObject(item, "latency_ms",
                                  ngx_http_osint_ms(call->latency))
        || !cJSON_AddNumberToObject(item, "attempts",
                                    (double) call->attempts))
    {
        goto failed;
    }

    if (call->stale_reason != NGX_HTTP_OSINT_ERR_NONE
        && !cJSON_AddStringToObject(
               item, "stale_reason",
               ngx_http_osint_err_kind(call->stale_reason)))
    {
        goto failed;
    }

    if (call->status == NGX_HTTP_OSINT_OK) {

        /* the document owns the data from here on */

        cJSON_AddItemToObject(item, "data", call->data);
        call->data = NULL;
    }

    error = NULL;

    if (call->status == NGX_HTTP_OSINT_ERROR
        || call->status == NGX_HTTP_OSINT_SKIPPED)
    {
        error = cJSON_AddObjectToObject(item, "error");

        if (error == NULL
            || !cJSON_AddStringToObject(error, "kind",
                                        ngx_http_osint_err_kind(call->err))
            || !cJSON_AddItemToObject(error, "message",
                                      ngx_http_osint_string(&call->message))
            || !cJSON_AddItemToObject(error, "http_status",
                                      call->http_status
                                      ? cJSON_CreateNumber(call->http_status)
                                      : cJSON_CreateNull()))
        {
            goto failed;
        }
    }

    if (ngx_http_osint_call_fields(call, item, error) != NGX_OK) {
        goto failed;
    }

    return item;

failed:

    cJSON_Delete(item);

    return NULL;
}


/*
 * What a provider's result says of this request only, whatever tier it
 * came from (a cached result is the same bytes for every client, these
 * are not): "age" of an answer, seconds since its provider gave it; of an
 * error, "retryable" and, when known, "retry_after" in whole seconds
 * (rounded up: a client that waits that long is not refused for the
 * same reason).
 */

static ngx_int_t
ngx_http_osint_call_fields(ngx_http_osint_call_t *call, cJSON *item,
    cJSON *error)
{
    time_t  age;

    if (call->answered) {
        age = ngx_time() - call->answered;

        if (!cJSON_AddNumberToObject(item, "age",
                                     (double) (age > 0 ? age : 0)))
        {
            return NGX_ERROR;
        }
    }

    if (error == NULL) {
        return NGX_OK;
    }

    if (!cJSON_AddBoolToObject(error, "retryable",
                               ngx_http_osint_err_retryable(call->err,
                                                            call->http_status)))
    {
        return NGX_ERROR;
    }

    if (call->retry_after
        && ngx_http_osint_err_retryable(call->err, call->http_status)
        && !cJSON_AddNumberToObject(error, "retry_after",
                                    (double) ((call->retry_after + 999)
                                              / 1000)))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * "retryable" of an error document of the request: only an edge limit is
 * (the limiter's own 429 writes its document itself), bad input is not.
 */

ngx_int_t
ngx_http_osint_error_retryable(cJSON *error, const char *kind)
{
    return cJSON_AddBoolToObject(error, "retryable",
                                 ngx_strcmp(kind, "rate_limited") == 0)
           ? NGX_OK : NGX_ERROR;
}


/*
 * The seconds a shared cache may keep the whole document: the least
 * freshness left of its answers.  -1: not at all ("no-store"), when a
 * provider failed, was refused (breaker, rate, deadline) or was served
 * stale after failing: the next request may do better.  A provider
 * skipped for want of its key (configuration, not chance) does not count.
 */

ngx_int_t
ngx_http_osint_lookup_max_age(ngx_http_osint_lookup_t *lk)
{
    time_t                  now, left, min;
    ngx_uint_t              i;
    ngx_http_osint_call_t  *call;

    now = ngx_time();
    min = -1;

    for (i = 0; i < lk->ncalls; i++) {
        call = &lk->calls[i];

        if (ngx_http_osint_call_refused(call)) {
            continue;   /* no key, a private target: not transient */
        }

        if ((call->status != NGX_HTTP_OSINT_OK
             && call->status != NGX_HTTP_OSINT_NOT_FOUND)
            || call->stale_reason != NGX_HTTP_OSINT_ERR_NONE)
        {
            return -1;
        }

        left = call->expires - now;
        left = left > 0 ? left : 0;

        if (min == -1 || left < min) {
            min = left;
        }
    }

    return min == -1 ? 0 : (ngx_int_t) min;
}


static cJSON *
ngx_http_osint_string(ngx_str_t *s)
{
    char   buf[NGX_HTTP_OSINT_TARGET_MAX * 2 + 1];
    cJSON *item;

    if (s->len >= sizeof(buf)) {
        return NULL;
    }

    ngx_memcpy(buf, s->data, s->len);
    buf[s->len] = '\0';

    item = cJSON_CreateString(buf);

    return item;
}


/*
 * Milliseconds to 0.1 ms, what the clock can honestly tell across
 * event-loop turns, as JSON text of our own: "14.2", "3001".  cJSON
 * prints a fraction with sprintf("%1.15g") and reads it back with
 * sscanf() to check it; with two in every answer that was an eighth of
 * a worker's CPU on L1 hits (perf during bench/cache_resilience).
 */

static cJSON *
ngx_http_osint_ms(double ms)
{
    u_char   buf[NGX_INT64_LEN + 3];
    int64_t  tenths;

    /* a day is more than any lookup lasts: no overflow below */

    if (!(ms > 0.0)) {
        ms = 0.0;

    } else if (ms > 86400000.0) {
        ms = 86400000.0;
    }

    tenths = (int64_t) (ms * 10.0 + 0.5);

    if (tenths % 10) {
        (void) ngx_sprintf(buf, "%L.%L%Z", tenths / 10, tenths % 10);

    } else {
        (void) ngx_sprintf(buf, "%L%Z", tenths / 10);
    }

    return cJSON_CreateRaw((char *) buf);
}


ngx_int_t
ngx_http_osint_send_json(ngx_http_request_t *r, ngx_uint_t status,
    cJSON *doc)
{
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;
    ngx_http_variable_value_t   *vv;
    ngx_http_osint_main_conf_t  *omcf;

    b = ngx_http_osint_json_buf(r->pool, doc);
    cJSON_Delete(doc);

    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_osint_discard_body(r);

    omcf = ngx_http_get_module_main_conf(r, ngx_http_osint_module);

    vv = ngx_http_get_indexed_variable(r, omcf->request_id_index);

    if (vv && !vv->not_found) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "X-Request-ID");
        h->value.data = vv->data;
        h->value.len = vv->len;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (r == r->main) {
        b->last_buf = 1;

    } else {
        b->last_in_chain = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_osint_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *kind, const char *fmt, ...)
{
    u_char   *p;
    u_char    message[NGX_MAX_ERROR_STR];
    cJSON    *doc, *error;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(message, message + sizeof(message) - 1, fmt, args);
    va_end(args);

    /* a reflected value cut at the end is cut before its character */

    p = message + ngx_http_osint_utf8_cut(message, p - message);
    *p = '\0';

    doc = cJSON_CreateObject();
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    error = cJSON_AddObjectToObject(doc, "error");

    if (error == NULL
        || !cJSON_AddStringToObject(error, "kind", kind)
        || !cJSON_AddStringToObject(error, "message", (char *) message)
        || ngx_http_osint_error_retryable(error, kind) != NGX_OK)
    {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_osint_private_headers(r) != NGX_OK) {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_osint_send_json(r, status, doc);
}


/*
 * Before every answer of the module: a request body nobody reads would be
 * parsed as the next request of a keep-alive connection (smuggling).  A
 * body read or being discarded already is left alone; when discarding
 * fails, as in nginx's own special responses, the connection closes after
 * the answer.
 */

void
ngx_http_osint_discard_body(ngx_http_request_t *r)
{
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }
}


/* the value is not copied: it must live as long as the request */

ngx_int_t
ngx_http_osint_add_header(ngx_http_request_t *r, char *name, u_char *value,
    size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;
    h->lowcase_key = NULL;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


/*
 * Errors, health and status: no cache keeps them, no browser reads them
 * as another type than the one sent (a JSON error quoting input as HTML).
 */

ngx_int_t
ngx_http_osint_private_headers(ngx_http_request_t *r)
{
    if (ngx_http_osint_add_text_header(r, "X-Content-Type-Options",
                                       "nosniff")
        != NGX_OK
        || ngx_http_osint_add_text_header(r, "Cache-Control", "no-store")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
