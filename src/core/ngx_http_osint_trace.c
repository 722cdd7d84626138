
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Correlation headers a client may send: X-Request-ID, adopted when it is
 * well-formed, and W3C Trace Context (traceparent, tracestate), forwarded
 * to providers only then.  A malformed value is never passed on: it would
 * reach providers' logs and the access log as the client wrote it.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


static ngx_uint_t ngx_http_osint_hex_id(u_char *p, size_t len);


/* 1..64 bytes of [A-Za-z0-9._-]: safe in a header, a log, a JSON string */

ngx_uint_t
ngx_http_osint_request_id_valid(u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > NGX_HTTP_OSINT_REQUEST_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (p[i] >= '0' && p[i] <= '9')
              || p[i] == '.' || p[i] == '_' || p[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * traceparent version 00: "00-" 32 hex "-" 16 hex "-" 2 hex, lower-case,
 * neither id all zeros; exactly 55 bytes (a later version may be longer,
 * but its format is unknown here, so it is not passed on).
 */

ngx_uint_t
ngx_http_osint_traceparent_valid(u_char *p, size_t len)
{
    if (len != 55
        || p[0] != '0' || p[1] != '0'
        || p[2] != '-' || p[35] != '-' || p[52] != '-')
    {
        return 0;
    }

    /* the flags may be all zeros, the ids not */

    return ngx_http_osint_hex_id(p + 3, 32) == 1
           && ngx_http_osint_hex_id(p + 36, 16) == 1
           && ngx_http_osint_hex_id(p + 53, 2) != 0;
}


/* 1..512 printable ASCII bytes; its list members are the vendors' own */

ngx_uint_t
ngx_http_osint_tracestate_valid(u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > NGX_HTTP_OSINT_TRACESTATE_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


/* 0: not lower-case hex; 1: hex, not all zeros; 2: all zeros */

static ngx_uint_t
ngx_http_osint_hex_id(u_char *p, size_t len)
{
    size_t      i;
    ngx_uint_t  zero;

    zero = 1;

    for (i = 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return 0;
        }

        zero &= (p[i] == '0');
    }

    return zero ? 2 : 1;
}
