
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The document's holes: its members of this request only, request_id,
 * elapsed_ms, and each provider's latency_ms and age
 * (NGX_HTTP_OSINT_HOLES()).  Written here for the whole document
 * (src/ngx_http_osint_document.c) and for one recalled from a worker's
 * memory (src/ngx_http_osint_document_memo.c) alike, so the two cannot
 * tell them apart.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


/* hole h; the age of an answer is whole seconds since its provider gave it */

u_char *
ngx_http_osint_document_hole(u_char *p, ngx_http_osint_lookup_t *lk,
    char *request_id, ngx_uint_t hole)
{
    time_t                  age;
    ngx_http_osint_call_t  *call;

    if (hole == 0) {
        return ngx_http_osint_json_string(p, request_id);
    }

    if (hole == 1) {
        return ngx_http_osint_json_ms(p, lk->elapsed);
    }

    call = &lk->calls[(hole - 2) / 2];

    if (hole % 2 == 0) {
        return ngx_http_osint_json_ms(p, call->latency);
    }

    age = ngx_time() - call->answered;

    return ngx_http_osint_decimal(p, age > 0 ? (uint64_t) age : 0);
}


/*
 * At least the length of every hole of the document: the request_id's
 * bytes each escaped at the longest ("\u00xx"), not counted one by one
 */

size_t
ngx_http_osint_document_holes_size(ngx_http_osint_lookup_t *lk)
{
    return sizeof("\"\"") - 1 + lk->request_id.len * 6
           + NGX_HTTP_OSINT_MS_LEN * (1 + lk->ncalls)
           + NGX_HTTP_OSINT_NUM_LEN * lk->ncalls;
}


/* a NUL-terminated copy of s, as the JSON writers take strings */

char *
ngx_http_osint_cstring(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    *ngx_cpymem(p, s->data, s->len) = '\0';

    return (char *) p;
}
