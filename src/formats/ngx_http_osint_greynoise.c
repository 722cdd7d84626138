
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "greynoise": GreyNoise Community API, GET /v3/community/IP
 *
 *   {"ip": "8.8.8.8", "noise": false, "riot": true,
 *    "classification": "benign", "name": "Google Public DNS",
 *    "link": "https://viz.greynoise.io/ip/8.8.8.8",
 *    "last_seen": "2024-05-20", "message": "Success"}
 *
 * data:
 *   noise           boolean: seen scanning the internet
 *   riot            boolean: a known benign service (RIOT data set)
 *   classification  string: "benign", "malicious", "unknown"
 *   name            string: the actor or service
 *   last_seen       string "YYYY-MM-DD", as given
 *   link            string: the GreyNoise visualizer page
 *
 * Not found: a 404 with {"noise": false, "riot": false, "message": "IP
 * not observed scanning the internet or contained in RIOT data set."};
 * the same body on a 200 is read as not found too.  An answer without
 * the noise and riot booleans (a rate limit or plan message) is an error.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


ngx_int_t
ngx_http_osint_greynoise_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message)
{
    cJSON                 *noise, *riot, *msg;
    ngx_http_osint_fmt_t   f;

    if (!cJSON_IsObject(root)) {
        *message = "greynoise: the answer is not an object";
        return NGX_ERROR;
    }

    noise = ngx_http_osint_fmt_get(root, "noise");
    riot = ngx_http_osint_fmt_get(root, "riot");
    msg = ngx_http_osint_fmt_get(root, "message");

    if (!cJSON_IsBool(noise) || !cJSON_IsBool(riot)) {
        *message = "greynoise: the answer has no \"noise\" and \"riot\" "
                   "booleans";
        return NGX_ERROR;
    }

    if (cJSON_IsFalse(noise) && cJSON_IsFalse(riot)
        && cJSON_IsString(msg)
        && strncmp(msg->valuestring, "IP not observed", 15) == 0)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_fmt_init(&f, "greynoise", message) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_bool(&f, "noise", root, "noise") != NGX_OK
        || ngx_http_osint_fmt_bool(&f, "riot", root, "riot") != NGX_OK
        || ngx_http_osint_fmt_string(&f, "classification", root,
                                     "classification")
           != NGX_OK
        || ngx_http_osint_fmt_string(&f, "name", root, "name") != NGX_OK
        || ngx_http_osint_fmt_string(&f, "last_seen", root, "last_seen")
           != NGX_OK
        || ngx_http_osint_fmt_string(&f, "link", root, "link") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}
