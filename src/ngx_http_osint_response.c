
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * JSON answers: error documents, the lookup's Cache-Control, and
 * sending a JSON text or a cJSON tree as a response (the lookup document
 * is written by src/ngx_http_osint_document.c).  A sender only sends:
 * what an answer counts is counted by who answers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


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


ngx_int_t
ngx_http_osint_send_json(ngx_http_request_t *r, ngx_uint_t status,
    cJSON *doc)
{
    ngx_buf_t  *b;

    b = ngx_http_osint_json_buf(r->pool, doc);
    cJSON_Delete(doc);

    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_osint_send_buf(r, status, b);
}


/* a JSON text in b, with X-Request-ID */

ngx_int_t
ngx_http_osint_send_buf(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b)
{
    ngx_int_t                    rc;
    ngx_chain_t                  out;
    ngx_table_elt_t             *h;
    ngx_http_variable_value_t   *vv;
    ngx_http_osint_main_conf_t  *omcf;

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
