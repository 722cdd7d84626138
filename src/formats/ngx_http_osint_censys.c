
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "censys": Censys Search API v2, a host (GET /api/v2/hosts/IP) or
 * a host search (GET /api/v2/hosts/search?q=QUERY), with HTTP basic
 * authentication (API ID and secret):
 *
 *   {"code": 200, "status": "OK", "result": {"ip": "8.8.8.8",
 *    "services": [{"port": 53, "service_name": "DNS",
 *                  "transport_protocol": "UDP"}, ...],
 *    "location": {"country": "United States", "country_code": "US",
 *                 "city": "Mountain View", ...},
 *    "autonomous_system": {"asn": 15169, "name": "GOOGLE",
 *                          "bgp_prefix": "8.8.8.0/24", ...},
 *    "dns": {"reverse_dns": {"names": ["dns.google"]}},
 *    "last_updated_at": "2024-05-20T09:12:48.191Z"}}
 *
 * A search's result is {"query", "total", "hits": [hosts as above, with
 * fewer members], "links"}.
 *
 * data of a host:
 *   ports        array of numbers: the services' ports, sorted, unique
 *   services     array of {port, service_name, transport_protocol}
 *   asn          "AS15169"; as_name, bgp_prefix strings
 *   country      ISO 3166 alpha-2 (country_code); city string
 *   hostnames    the reverse DNS and DNS names, lower-cased, sorted,
 *                unique
 *   last_updated string, as given
 * data of a search:
 *   total        number: hosts matching
 *   hosts        array of {ip, ports, asn, country} of the hits
 *
 * Not found: a 404 (no such host: the module's own not found), or a
 * search with no hits.  Errors: a body with no "result" object (Censys
 * answers errors as {"code": 4xx, "status": ..., "error": ...}).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


static ngx_int_t ngx_http_osint_censys_host(ngx_http_osint_fmt_t *f,
    cJSON *host, ngx_uint_t brief);
static ngx_int_t ngx_http_osint_censys_ports(ngx_http_osint_fmt_t *f,
    cJSON *services, ngx_uint_t detail);
static ngx_int_t ngx_http_osint_censys_names(ngx_http_osint_fmt_t *f,
    cJSON *host);
static ngx_int_t ngx_http_osint_censys_search(ngx_http_osint_fmt_t *f,
    cJSON *result);
static int ngx_http_osint_censys_cmp(const void *one, const void *two);


ngx_int_t
ngx_http_osint_censys_normalise(cJSON *root, ngx_uint_t type, cJSON **data,
    const char **message)
{
    cJSON                 *result, *hits;
    ngx_http_osint_fmt_t   f;

    result = ngx_http_osint_fmt_get(root, "result");

    if (!cJSON_IsObject(result)) {
        *message = ngx_http_osint_fmt_get(root, "error")
                   ? "censys: the answer is an error"
                   : "censys: the answer has no \"result\" object";
        return NGX_ERROR;
    }

    hits = ngx_http_osint_fmt_get(result, "hits");

    if (hits && cJSON_GetArraySize(hits) == 0) {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_fmt_init(&f, "censys", message) != NGX_OK) {
        return NGX_ERROR;
    }

    if ((hits ? ngx_http_osint_censys_search(&f, result)
              : ngx_http_osint_censys_host(&f, result, 0))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}


/* a host into f->data: whole, or brief (a search hit) */

static ngx_int_t
ngx_http_osint_censys_host(ngx_http_osint_fmt_t *f, cJSON *host,
    ngx_uint_t brief)
{
    char    asn[32];
    cJSON  *as, *loc, *services;

    if (brief && ngx_http_osint_fmt_string(f, "ip", host, "ip") != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_take(f, host, "services", cJSON_Array, &services)
        == NGX_ERROR
        || (services
            && ngx_http_osint_censys_ports(f, services, !brief) != NGX_OK)
        || ngx_http_osint_fmt_take(f, host, "autonomous_system",
                                   cJSON_Object, &as)
           == NGX_ERROR
        || ngx_http_osint_fmt_take(f, host, "location", cJSON_Object, &loc)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (as && ngx_http_osint_fmt_asn(asn, sizeof(asn),
                                     ngx_http_osint_fmt_get(as, "asn"))
              == NGX_OK
        && ngx_http_osint_fmt_add_string(f, "asn", asn) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (loc && ngx_http_osint_fmt_string(f, "country", loc, "country_code")
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (brief) {
        return NGX_OK;
    }

    if ((as && (ngx_http_osint_fmt_string(f, "as_name", as, "name")
                != NGX_OK
                || ngx_http_osint_fmt_string(f, "bgp_prefix", as,
                                             "bgp_prefix")
                   != NGX_OK))
        || (loc && ngx_http_osint_fmt_string(f, "city", loc, "city")
                   != NGX_OK)
        || ngx_http_osint_censys_names(f, host) != NGX_OK
        || ngx_http_osint_fmt_string(f, "last_updated", host,
                                     "last_updated_at")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* ports (sorted, unique) and, with detail, services */

static ngx_int_t
ngx_http_osint_censys_ports(ngx_http_osint_fmt_t *f, cJSON *services,
    ngx_uint_t detail)
{
    int                    *ports;
    cJSON                  *s, *port, *list, *item, *saved;
    ngx_int_t               rc;
    ngx_uint_t              i, n;
    ngx_http_osint_fmt_t    g;

    ports = malloc(NGX_HTTP_OSINT_FMT_LIST_MAX * sizeof(int));
    if (ports == NULL) {
        return ngx_http_osint_fmt_nomem(f);
    }

    list = detail ? cJSON_CreateArray() : NULL;

    if (detail && ngx_http_osint_fmt_add(f, "services", list) != NGX_OK) {
        free(ports);
        return NGX_ERROR;
    }

    n = 0;
    rc = NGX_OK;

    cJSON_ArrayForEach(s, services) {
        port = ngx_http_osint_fmt_get(s, "port");

        if (!cJSON_IsNumber(port) || port->valuedouble < 0
            || port->valuedouble > 65535
            || port->valuedouble != (double) port->valueint)
        {
            continue;
        }

        if (n == NGX_HTTP_OSINT_FMT_LIST_MAX) {
            f->truncated = 1;
            break;
        }

        ports[n++] = port->valueint;

        if (!detail) {
            continue;
        }

        /* one service, in a context of its own, then listed */

        if (ngx_http_osint_fmt_init(&g, "censys", f->message) != NGX_OK
            || ngx_http_osint_fmt_add_number(&g, "port", port->valuedouble)
               != NGX_OK
            || ngx_http_osint_fmt_string(&g, "service_name", s,
                                         "service_name")
               != NGX_OK
            || ngx_http_osint_fmt_string(&g, "transport_protocol", s,
                                         "transport_protocol")
               != NGX_OK)
        {
            saved = f->data;
            f->data = NULL;
            cJSON_Delete(saved);
            rc = NGX_ERROR;
            break;
        }

        item = g.data;

        if (!cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            rc = ngx_http_osint_fmt_nomem(f);
            break;
        }
    }

    if (rc == NGX_OK) {
        qsort(ports, n, sizeof(int), ngx_http_osint_censys_cmp);

        list = cJSON_CreateArray();
        rc = ngx_http_osint_fmt_add(f, "ports", list);

        for (i = 0; rc == NGX_OK && i < n; i++) {
            if (i && ports[i] == ports[i - 1]) {
                continue;
            }

            if (!cJSON_AddItemToArray(list, cJSON_CreateNumber(ports[i]))) {
                rc = ngx_http_osint_fmt_nomem(f);
            }
        }
    }

    free(ports);

    return rc;
}


static int
ngx_http_osint_censys_cmp(const void *one, const void *two)
{
    return *(const int *) one - *(const int *) two;
}


/* hostnames: dns.names and dns.reverse_dns.names */

static ngx_int_t
ngx_http_osint_censys_names(ngx_http_osint_fmt_t *f, cJSON *host)
{
    char                      *s;
    cJSON                     *dns, *lists[2], *e;
    ngx_uint_t                 i;
    ngx_http_osint_fmt_set_t   set;

    dns = ngx_http_osint_fmt_get(host, "dns");

    if (!cJSON_IsObject(dns)) {
        return NGX_OK;
    }

    lists[0] = ngx_http_osint_fmt_get(dns, "names");
    lists[1] = ngx_http_osint_fmt_get(
                   ngx_http_osint_fmt_get(dns, "reverse_dns"), "names");

    if (!cJSON_IsArray(lists[0]) && !cJSON_IsArray(lists[1])) {
        return NGX_OK;
    }

    ngx_memzero(&set, sizeof(ngx_http_osint_fmt_set_t));
    set.own = 1;

    for (i = 0; i < 2; i++) {
        if (!cJSON_IsArray(lists[i])) {
            continue;
        }

        cJSON_ArrayForEach(e, lists[i]) {
            if (!cJSON_IsString(e)) {
                continue;
            }

            s = ngx_http_osint_fmt_lower(e->valuestring,
                                         strlen(e->valuestring));

            if (s == NULL || ngx_http_osint_fmt_set_add(f, &set, s) != NGX_OK)
            {
                free(s);
                ngx_http_osint_fmt_set_free(&set);
                return s ? NGX_ERROR : ngx_http_osint_fmt_nomem(f);
            }
        }
    }

    return ngx_http_osint_fmt_set_emit(f, &set, "hostnames");
}


/* total, and the hits in brief */

static ngx_int_t
ngx_http_osint_censys_search(ngx_http_osint_fmt_t *f, cJSON *result)
{
    cJSON                 *hits, *hit, *list, *data;
    ngx_http_osint_fmt_t   g;

    if (ngx_http_osint_fmt_number(f, "total", result, "total") != NGX_OK
        || ngx_http_osint_fmt_take(f, result, "hits", cJSON_Array, &hits)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    list = cJSON_CreateArray();

    if (ngx_http_osint_fmt_add(f, "hosts", list) != NGX_OK) {
        return NGX_ERROR;
    }

    cJSON_ArrayForEach(hit, hits) {
        if (!cJSON_IsObject(hit)) {
            continue;
        }

        if (list->valueint >= NGX_HTTP_OSINT_FMT_LIST_MAX) {
            f->truncated = 1;
            break;
        }

        if (ngx_http_osint_fmt_init(&g, "censys", f->message) != NGX_OK
            || ngx_http_osint_censys_host(&g, hit, 1) != NGX_OK)
        {
            data = f->data;
            f->data = NULL;
            cJSON_Delete(data);
            return NGX_ERROR;
        }

        f->truncated |= g.truncated;

        if (!cJSON_AddItemToArray(list, g.data)) {
            cJSON_Delete(g.data);
            return ngx_http_osint_fmt_nomem(f);
        }

        list->valueint++;
    }

    return NGX_OK;
}
