
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The lookup document of docs/document.md, written as text in one pass
 * into one buffer: byte for byte what ngx_http_osint_json_print() of the
 * same document as a cJSON tree writes (t/79 holds hits to misses).  An
 * answer from a cache is copied as the text it was stored as, a summary
 * the worker remembers (src/ngx_http_osint_memo.c) too; only answers
 * from providers and summaries merged now are trees, printed once.  A
 * tree of the whole document cost an L1 hit more than everything else
 * (a cJSON item, a key and a value copy for every member, each freed).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


/* a call's members but for its strings, data and numbers */
#define NGX_HTTP_OSINT_CALL_FRAME                                             \
    sizeof(":{\"status\":,\"cache\":,\"latency_ms\":,\"attempts\":"           \
           ",\"stale_reason\":,\"data\":,\"error\":{\"kind\":,\"message\":"   \
           ",\"http_status\":,\"retryable\":false,\"retry_after\":}"          \
           ",\"age\":},")


typedef struct {
    ngx_str_t                    data;      /* JSON text of an ok answer */
    char                        *message;   /* NUL-terminated */
} ngx_http_osint_call_text_t;


static ngx_int_t ngx_http_osint_lookup_document(ngx_http_osint_lookup_t *lk,
    ngx_pool_t *pool, ngx_str_t *doc);
static ngx_int_t ngx_http_osint_document_summary(ngx_http_osint_lookup_t *lk,
    ngx_str_t *text);
static size_t ngx_http_osint_document_call_size(ngx_http_osint_call_t *call,
    ngx_http_osint_call_text_t *ct);
static u_char *ngx_http_osint_document_call(u_char *p,
    ngx_http_osint_lookup_t *lk, ngx_uint_t i, ngx_http_osint_call_text_t *ct,
    u_char **holes);
static u_char *ngx_http_osint_document_fill(u_char *p,
    ngx_http_osint_lookup_t *lk, char *request_id, ngx_uint_t hole,
    u_char **holes);
static u_char *ngx_http_osint_document_name(u_char *p, const char *name,
    size_t len);
static ngx_int_t ngx_http_osint_keep_verdict(ngx_http_osint_lookup_t *lk,
    cJSON *summary);


/*
 * A buffer in "pool" of the document and a newline, as a GET sends it and
 * a batch writes its lines.  Its summary's verdict level goes to
 * lk->verdict ($osint_verdict).  NULL without memory.
 */

ngx_buf_t *
ngx_http_osint_lookup_buf(ngx_http_osint_lookup_t *lk, ngx_pool_t *pool)
{
    ngx_int_t  rc;
    ngx_str_t  doc;

    if (lk->recalled) {
        rc = ngx_http_osint_document_compose(lk, pool, &doc);

    } else {
        rc = ngx_http_osint_lookup_document(lk, pool, &doc);
    }

    if (rc != NGX_OK) {
        return NULL;
    }

    doc.data[doc.len++] = LF;

    return ngx_http_osint_text_buf(pool, &doc);
}


/*
 * The document into "pool", with room for a newline after it; one the
 * worker may recall is remembered (src/ngx_http_osint_document_memo.c)
 */

static ngx_int_t
ngx_http_osint_lookup_document(ngx_http_osint_lookup_t *lk, ngx_pool_t *pool,
    ngx_str_t *doc)
{
    u_char                      *p;
    size_t                       size;
    char                        *target, *request_id;
    u_char                     **holes;
    const char                  *type;
    ngx_str_t                    summary;
    ngx_uint_t                   i;
    ngx_http_osint_call_t       *call;
    ngx_http_osint_call_text_t  *ct;

    if (ngx_http_osint_document_summary(lk, &summary) != NGX_OK) {
        return NGX_ERROR;
    }

    target = ngx_http_osint_cstring(lk->pool, &lk->target);
    request_id = ngx_http_osint_cstring(lk->pool, &lk->request_id);
    ct = ngx_pcalloc(lk->pool,
                     lk->ncalls * sizeof(ngx_http_osint_call_text_t));

    if (target == NULL || request_id == NULL || ct == NULL) {
        return NGX_ERROR;
    }

    holes = NULL;

    if (ngx_http_osint_document_memorable(lk)) {
        holes = ngx_palloc(lk->pool, 2 * NGX_HTTP_OSINT_HOLES(lk->ncalls)
                                     * sizeof(u_char *));
        if (holes == NULL) {
            return NGX_ERROR;
        }
    }

    type = ngx_http_osint_type_name(lk->type);

    size = sizeof("{\"target\":,\"type\":,\"request_id\":,\"elapsed_ms\":"
                  ",\"summary\":,\"providers\":{}}")
           + ngx_http_osint_json_string_size(target)
           + ngx_strlen(type) + 2
           + ngx_http_osint_document_holes_size(lk)
           + summary.len;

    for (i = 0; i < lk->ncalls; i++) {
        call = &lk->calls[i];

        if (call->status == NGX_HTTP_OSINT_OK) {
            if (call->text.len) {
                ct[i].data = call->text;

            } else if (ngx_http_osint_json_print(lk->pool, call->data, 0,
                                                 &ct[i].data)
                       != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        if (call->status == NGX_HTTP_OSINT_ERROR
            || call->status == NGX_HTTP_OSINT_SKIPPED)
        {
            ct[i].message = ngx_http_osint_cstring(lk->pool, &call->message);
            if (ct[i].message == NULL) {
                return NGX_ERROR;
            }
        }

        size += ngx_http_osint_document_call_size(call, &ct[i]);
    }

    doc->data = ngx_pnalloc(pool, size + 1);
    if (doc->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(doc->data, "{\"target\":", sizeof("{\"target\":") - 1);
    p = ngx_http_osint_json_string(p, target);
    p = ngx_cpymem(p, ",\"type\":", sizeof(",\"type\":") - 1);
    p = ngx_http_osint_document_name(p, type, ngx_strlen(type));
    p = ngx_cpymem(p, ",\"request_id\":", sizeof(",\"request_id\":") - 1);
    p = ngx_http_osint_document_fill(p, lk, request_id, 0, holes);
    p = ngx_cpymem(p, ",\"elapsed_ms\":", sizeof(",\"elapsed_ms\":") - 1);
    p = ngx_http_osint_document_fill(p, lk, request_id, 1, holes);
    p = ngx_cpymem(p, ",\"summary\":", sizeof(",\"summary\":") - 1);
    p = ngx_cpymem(p, summary.data, summary.len);
    p = ngx_cpymem(p, ",\"providers\":{", sizeof(",\"providers\":{") - 1);

    for (i = 0; i < lk->ncalls; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_http_osint_document_call(p, lk, i, &ct[i], holes);
    }

    *p++ = '}';
    *p++ = '}';

    doc->len = p - doc->data;

    if (holes) {
        ngx_http_osint_document_remember(lk, doc, holes);
    }

    return NGX_OK;
}


/*
 * The summary's text, and its verdict level in lk->verdict: remembered
 * by the worker when every answer came from a cache, else merged from
 * the answers, and remembered if it may be.  A remembered text is the
 * worker's: it is copied into the document before anything else is
 * remembered (ngx_http_osint_memo_get()).
 */

static ngx_int_t
ngx_http_osint_document_summary(ngx_http_osint_lookup_t *lk, ngx_str_t *text)
{
    cJSON                        *summary;
    ngx_int_t                     memo, rc;
    ngx_str_t                     key;
    ngx_uint_t                    i;
    ngx_http_osint_call_t        *call;
    ngx_http_osint_summary_in_t  *in;

    memo = ngx_http_osint_memo_key(lk, &key);

    if (memo == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (memo == NGX_OK
        && ngx_http_osint_memo_get(lk->omcf, &key, lk->pool, text,
                                   &lk->verdict)
           == NGX_OK)
    {
        return NGX_OK;
    }

    in = ngx_palloc(lk->pool, lk->ncalls * sizeof(ngx_http_osint_summary_in_t));
    if (in == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < lk->ncalls; i++) {
        call = &lk->calls[i];

        in[i].provider = call->provider;
        in[i].status = call->status;
        in[i].data = NULL;

        if (call->status == NGX_HTTP_OSINT_OK) {
            in[i].data = ngx_http_osint_call_data(call);

            if (in[i].data == NULL) {
                return NGX_ERROR;
            }
        }
    }

    summary = ngx_http_osint_summary(&lk->target, lk->type, in, lk->ncalls,
                                     lk->pool);
    if (summary == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_osint_keep_verdict(lk, summary);

    if (rc == NGX_OK) {
        rc = ngx_http_osint_json_print(lk->pool, summary, 0, text);
    }

    cJSON_Delete(summary);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (memo == NGX_OK) {
        ngx_http_osint_memo_put(lk->omcf, &key, text, &lk->verdict, lk->log);
    }

    return NGX_OK;
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


/*
 * At least the length ngx_http_osint_document_call() writes.  Provider
 * names (letters, digits, "_" and "-": ngx_http_osint_provider()) and the
 * labels need no escape: they are only quoted.
 */

static size_t
ngx_http_osint_document_call_size(ngx_http_osint_call_t *call,
    ngx_http_osint_call_text_t *ct)
{
    size_t  size;

    size = NGX_HTTP_OSINT_CALL_FRAME
           + call->provider->name.len + 2
           + ngx_strlen(ngx_http_osint_status_name(call->status)) + 2
           + ngx_strlen(ngx_http_osint_sources[call->cache]) + 2
           + NGX_HTTP_OSINT_NUM_LEN * 3
           + ct->data.len;

    if (call->stale_reason != NGX_HTTP_OSINT_ERR_NONE) {
        size += ngx_strlen(ngx_http_osint_err_kind(call->stale_reason)) + 2;
    }

    if (ct->message) {
        size += ngx_strlen(ngx_http_osint_err_kind(call->err)) + 2
                + ngx_http_osint_json_string_size(ct->message);
    }

    return size;
}


/*
 * "name":{...}, a provider's result, its members in the order of
 * docs/document.md.  What a result says of this request only, whatever
 * tier it came from (a cached result is the same bytes for every client,
 * these are not): "age" of an answer, seconds since its provider gave
 * it; of an error, "retryable" and, when known, "retry_after" in whole
 * seconds (rounded up: a client that waits that long is not refused for
 * the same reason).
 */

static u_char *
ngx_http_osint_document_call(u_char *p, ngx_http_osint_lookup_t *lk,
    ngx_uint_t i, ngx_http_osint_call_text_t *ct, u_char **holes)
{
    ngx_uint_t              retryable;
    const char             *label;
    ngx_http_osint_call_t  *call;

    call = &lk->calls[i];

    p = ngx_http_osint_document_name(p, (char *) call->provider->name.data,
                                     call->provider->name.len);
    p = ngx_cpymem(p, ":{\"status\":", sizeof(":{\"status\":") - 1);
    label = ngx_http_osint_status_name(call->status);
    p = ngx_http_osint_document_name(p, label, ngx_strlen(label));
    p = ngx_cpymem(p, ",\"cache\":", sizeof(",\"cache\":") - 1);
    label = ngx_http_osint_sources[call->cache];
    p = ngx_http_osint_document_name(p, label, ngx_strlen(label));
    p = ngx_cpymem(p, ",\"latency_ms\":", sizeof(",\"latency_ms\":") - 1);
    p = ngx_http_osint_document_fill(p, lk, NULL, 2 + 2 * i, holes);
    p = ngx_cpymem(p, ",\"attempts\":", sizeof(",\"attempts\":") - 1);
    p = ngx_http_osint_decimal(p, call->attempts);

    if (call->stale_reason != NGX_HTTP_OSINT_ERR_NONE) {
        p = ngx_cpymem(p, ",\"stale_reason\":",
                       sizeof(",\"stale_reason\":") - 1);
        label = ngx_http_osint_err_kind(call->stale_reason);
        p = ngx_http_osint_document_name(p, label, ngx_strlen(label));
    }

    if (call->status == NGX_HTTP_OSINT_OK) {
        p = ngx_cpymem(p, ",\"data\":", sizeof(",\"data\":") - 1);
        p = ngx_cpymem(p, ct->data.data, ct->data.len);
    }

    if (call->status == NGX_HTTP_OSINT_ERROR
        || call->status == NGX_HTTP_OSINT_SKIPPED)
    {
        retryable = ngx_http_osint_err_retryable(call->err,
                                                 call->http_status);

        p = ngx_cpymem(p, ",\"error\":{\"kind\":",
                       sizeof(",\"error\":{\"kind\":") - 1);
        label = ngx_http_osint_err_kind(call->err);
        p = ngx_http_osint_document_name(p, label, ngx_strlen(label));
        p = ngx_cpymem(p, ",\"message\":", sizeof(",\"message\":") - 1);
        p = ngx_http_osint_json_string(p, ct->message);

        if (call->http_status > 0) {
            p = ngx_cpymem(p, ",\"http_status\":",
                           sizeof(",\"http_status\":") - 1);
            p = ngx_http_osint_decimal(p, (uint64_t) call->http_status);

        } else {
            p = ngx_cpymem(p, ",\"http_status\":null",
                           sizeof(",\"http_status\":null") - 1);
        }

        p = ngx_sprintf(p, ",\"retryable\":%s",
                        retryable ? "true" : "false");

        if (call->retry_after && retryable) {
            p = ngx_sprintf(p, ",\"retry_after\":%M",
                            (call->retry_after + 999) / 1000);
        }

        *p++ = '}';
    }

    if (call->answered) {
        p = ngx_cpymem(p, ",\"age\":", sizeof(",\"age\":") - 1);
        p = ngx_http_osint_document_fill(p, lk, NULL, 3 + 2 * i, holes);
    }

    *p++ = '}';

    return p;
}


/* hole h written, and where it starts and ends kept when holes is set */

static u_char *
ngx_http_osint_document_fill(u_char *p, ngx_http_osint_lookup_t *lk,
    char *request_id, ngx_uint_t hole, u_char **holes)
{
    u_char  *start;

    start = p;
    p = ngx_http_osint_document_hole(p, lk, request_id, hole);

    if (holes) {
        holes[2 * hole] = start;
        holes[2 * hole + 1] = p;
    }

    return p;
}


/* a name that needs no escape, as JSON: only quoted */

static u_char *
ngx_http_osint_document_name(u_char *p, const char *name, size_t len)
{
    *p++ = '"';
    p = ngx_cpymem(p, name, len);
    *p++ = '"';

    return p;
}
