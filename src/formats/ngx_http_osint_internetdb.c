
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "internetdb": Shodan InternetDB, GET https://internetdb.shodan.io/IP
 *
 *   {"cpes": [...], "hostnames": [...], "ip": "8.8.8.8",
 *    "ports": [53, 443], "tags": [...], "vulns": ["CVE-..."]}
 *
 * data:
 *   ports       array of numbers (whole numbers 0..65535 only)
 *   hostnames   array of strings, lower-cased
 *   cpes        array of strings
 *   tags        array of strings ("cloud", "vpn", "c2", ...)
 *   vulns       array of strings (CVE ids)
 *
 * Not found: {"detail": "No information available"}, normally with a 404
 * (handled before the normaliser), but read on a 200 too.  Any other
 * "detail" without ports is InternetDB saying something went wrong.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


ngx_int_t
ngx_http_osint_internetdb_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message)
{
    cJSON                 *ports, *detail, *e, *list;
    ngx_int_t              rc;
    ngx_http_osint_fmt_t   f;

    if (!cJSON_IsObject(root)) {
        *message = "internetdb: the answer is not an object";
        return NGX_ERROR;
    }

    ports = ngx_http_osint_fmt_get(root, "ports");
    detail = ngx_http_osint_fmt_get(root, "detail");

    if (ports == NULL) {
        if (cJSON_IsString(detail)
            && strcmp(detail->valuestring, "No information available") == 0)
        {
            return NGX_DECLINED;
        }

        *message = cJSON_IsString(detail)
                   ? "internetdb: the answer is an error detail"
                   : "internetdb: the answer has no \"ports\"";
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_init(&f, "internetdb", message) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_osint_fmt_take(&f, root, "ports", cJSON_Array, &ports);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    list = cJSON_CreateArray();

    if (ngx_http_osint_fmt_add(&f, "ports", list) != NGX_OK) {
        return NGX_ERROR;
    }

    cJSON_ArrayForEach(e, ports) {
        if (!cJSON_IsNumber(e)
            || !(e->valuedouble >= 0 && e->valuedouble <= 65535)
            || e->valuedouble != (double) e->valueint)
        {
            continue;
        }

        if (list->valueint >= NGX_HTTP_OSINT_FMT_LIST_MAX) {
            f.truncated = 1;
            break;
        }

        if (!cJSON_AddItemToArray(list, cJSON_CreateNumber(e->valuedouble))) {
            return ngx_http_osint_fmt_nomem(&f);
        }

        list->valueint++;
    }

    if (ngx_http_osint_fmt_strings(&f, "hostnames", root, "hostnames", 1)
        != NGX_OK
        || ngx_http_osint_fmt_strings(&f, "cpes", root, "cpes", 0) != NGX_OK
        || ngx_http_osint_fmt_strings(&f, "tags", root, "tags", 0) != NGX_OK
        || ngx_http_osint_fmt_strings(&f, "vulns", root, "vulns", 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}
