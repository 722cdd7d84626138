
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "ipinfo": ipinfo.io, GET https://ipinfo.io/IP/json
 *
 *   {"ip": "8.8.8.8", "hostname": "dns.google", "city": "Mountain View",
 *    "region": "California", "country": "US", "loc": "37.4056,-122.0775",
 *    "org": "AS15169 Google LLC", "postal": "94043",
 *    "timezone": "America/Los_Angeles", "anycast": true}
 *
 * A private or reserved address answers 200 {"ip": ..., "bogon": true}.
 * The Lite API (api.ipinfo.io/lite/IP) answers "asn", "as_name" and
 * "country_code" (its "country" is a name there), and paid plans an
 * "asn" object {"asn": "AS15169", "name": ...}: all are read.
 *
 * data:
 *   hostname    string
 *   city        string
 *   region      string
 *   country     string, ISO 3166 alpha-2
 *   loc         string "lat,lon", as given
 *   lat, lon    numbers, from loc (left out when loc does not parse)
 *   asn         string "AS15169", from org's first word (or asn)
 *   as_name     string "Google LLC", the rest of org (or as_name);
 *               an org without an AS number is all as_name
 *   postal      string
 *   timezone    string
 *   anycast     boolean, false when not given (ipinfo only says true)
 *   bogon       boolean, false when not given
 *
 * A 200 that carries an "error" object is an error, as is an answer
 * without "ip".
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


static ngx_int_t ngx_http_osint_ipinfo_loc(ngx_http_osint_fmt_t *f,
    cJSON *root);
static ngx_int_t ngx_http_osint_ipinfo_org(ngx_http_osint_fmt_t *f,
    cJSON *root);


ngx_int_t
ngx_http_osint_ipinfo_normalise(cJSON *root, ngx_uint_t type, cJSON **data,
    const char **message)
{
    cJSON                 *v;
    ngx_http_osint_fmt_t   f;

    if (!cJSON_IsObject(root)) {
        *message = "ipinfo: the answer is not an object";
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_get(root, "error")) {
        *message = "ipinfo: the answer is an error";
        return NGX_ERROR;
    }

    if (!cJSON_IsString(ngx_http_osint_fmt_get(root, "ip"))) {
        *message = "ipinfo: the answer has no \"ip\"";
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_init(&f, "ipinfo", message) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_string(&f, "hostname", root, "hostname") != NGX_OK
        || ngx_http_osint_fmt_string(&f, "city", root, "city") != NGX_OK
        || ngx_http_osint_fmt_string(&f, "region", root, "region") != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* Lite: "country" is the name, "country_code" the code */

    v = ngx_http_osint_fmt_get(root, "country_code");

    if (ngx_http_osint_fmt_string(&f, "country", root,
                                  v ? "country_code" : "country")
        != NGX_OK
        || ngx_http_osint_ipinfo_loc(&f, root) != NGX_OK
        || ngx_http_osint_ipinfo_org(&f, root) != NGX_OK
        || ngx_http_osint_fmt_string(&f, "postal", root, "postal") != NGX_OK
        || ngx_http_osint_fmt_string(&f, "timezone", root, "timezone")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_take(&f, root, "anycast", cJSON_True|cJSON_False,
                                &v)
        == NGX_ERROR
        || ngx_http_osint_fmt_add_bool(&f, "anycast", cJSON_IsTrue(v))
           != NGX_OK
        || ngx_http_osint_fmt_take(&f, root, "bogon", cJSON_True|cJSON_False,
                                   &v)
           == NGX_ERROR
        || ngx_http_osint_fmt_add_bool(&f, "bogon", cJSON_IsTrue(v)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}


/* "37.4056,-122.0775": kept as given, and as two numbers when it parses */

static ngx_int_t
ngx_http_osint_ipinfo_loc(ngx_http_osint_fmt_t *f, cJSON *root)
{
    char       *end;
    cJSON      *loc;
    double      lat, lon;
    ngx_int_t   rc;

    rc = ngx_http_osint_fmt_take(f, root, "loc", cJSON_String, &loc);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : rc;
    }

    if (ngx_http_osint_fmt_add_string(f, "loc", loc->valuestring) != NGX_OK) {
        return NGX_ERROR;
    }

    /* strtod() would also take "inf", "nan" and hex: digits first */

    if (!(loc->valuestring[0] == '-' || isdigit((u_char) loc->valuestring[0])))
    {
        return NGX_OK;
    }

    lat = strtod(loc->valuestring, &end);

    if (*end != ',' || !(end[1] == '-' || isdigit((u_char) end[1]))) {
        return NGX_OK;
    }

    lon = strtod(end + 1, &end);

    if (*end != '\0'
        || !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180))
    {
        return NGX_OK;
    }

    if (ngx_http_osint_fmt_add_number(f, "lat", lat) != NGX_OK
        || ngx_http_osint_fmt_add_number(f, "lon", lon) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "AS15169 Google LLC" into asn and as_name */

static ngx_int_t
ngx_http_osint_ipinfo_org(ngx_http_osint_fmt_t *f, cJSON *root)
{
    char       *s, *sp;
    char        asn[16];
    cJSON      *org, *v;
    ngx_int_t   rc;

    /* the Lite and paid answers name them directly */

    v = ngx_http_osint_fmt_get(root, "asn");

    if (cJSON_IsObject(v)) {
        if (ngx_http_osint_fmt_asn(asn, sizeof(asn),
                                   ngx_http_osint_fmt_get(v, "asn"))
            == NGX_OK
            && ngx_http_osint_fmt_add_string(f, "asn", asn) != NGX_OK)
        {
            return NGX_ERROR;
        }

        return ngx_http_osint_fmt_string(f, "as_name", v, "name");
    }

    if (v) {
        if (ngx_http_osint_fmt_asn(asn, sizeof(asn), v) != NGX_OK) {
            return ngx_http_osint_fmt_wrong(f, "asn", "an AS number");
        }

        if (ngx_http_osint_fmt_add_string(f, "asn", asn) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_http_osint_fmt_string(f, "as_name", root, "as_name");
    }

    rc = ngx_http_osint_fmt_take(f, root, "org", cJSON_String, &org);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : rc;
    }

    /* a name could start with digits: only "AS" makes a number one */

    s = org->valuestring;
    sp = strchr(s, ' ');

    if ((s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')
        && ngx_http_osint_fmt_asn_text(asn, sizeof(asn), s,
                                       sp ? (size_t) (sp - s) : strlen(s))
           == NGX_OK)
    {
        if (ngx_http_osint_fmt_add_string(f, "asn", asn) != NGX_OK) {
            return NGX_ERROR;
        }

        while (sp && *sp == ' ') {
            sp++;
        }

        return (sp && *sp) ? ngx_http_osint_fmt_add_string(f, "as_name", sp)
                           : NGX_OK;
    }

    return ngx_http_osint_fmt_add_string(f, "as_name", org->valuestring);
}
