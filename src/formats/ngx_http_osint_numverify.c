
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "numverify": numverify (apilayer), GET
 * /api/validate?access_key=KEY&number=NUMBER
 *
 *   {"valid": true, "number": "14158586273",
 *    "local_format": "4158586273", "international_format": "+14158586273",
 *    "country_prefix": "+1", "country_code": "US",
 *    "country_name": "United States of America", "location": "Novato",
 *    "carrier": "AT&T Mobility LLC", "line_type": "mobile"}
 *
 * data:
 *   valid                 boolean: a number in service in its plan
 *   international_format  string "+14158586273"
 *   local_format          string
 *   calling_code          string "+1" (country_prefix), as the summary
 *                         has it from the number itself
 *   country               string, ISO 3166 alpha-2 (country_code)
 *   country_name          string
 *   location              string
 *   carrier               string
 *   line_type             string: "mobile", "landline", "special_services",
 *                         "toll_free", "premium_rate", "satellite", "paging"
 *
 * numverify sends "" (or null) for what it does not know: left out.  It
 * has no "not found": an invalid number is {"valid": false, ...}, data.
 * Errors come on a 200 as {"success": false, "error": {"code": 104,
 * "type": "usage_limit_reached", "info": "..."}}: an error, its type in
 * the message (101 invalid_access_key, 104 usage_limit_reached, ...).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


static ngx_int_t ngx_http_osint_numverify_string(ngx_http_osint_fmt_t *f,
    const char *key, cJSON *from, const char *member);


ngx_int_t
ngx_http_osint_numverify_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message)
{
    cJSON                 *error, *etype;
    ngx_http_osint_fmt_t   f;

    if (!cJSON_IsObject(root)) {
        *message = "numverify: the answer is not an object";
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_init(&f, "numverify", message) != NGX_OK) {
        return NGX_ERROR;
    }

    error = ngx_http_osint_fmt_get(root, "error");

    if (cJSON_IsFalse(ngx_http_osint_fmt_get(root, "success")) || error) {
        etype = ngx_http_osint_fmt_get(error, "type");

        return ngx_http_osint_fmt_fail(&f, cJSON_IsString(etype)
                                           ? etype->valuestring
                                           : "the answer is an error");
    }

    if (!cJSON_IsBool(ngx_http_osint_fmt_get(root, "valid"))) {
        return ngx_http_osint_fmt_fail(&f, "the answer has no \"valid\" "
                                           "boolean");
    }

    if (ngx_http_osint_fmt_bool(&f, "valid", root, "valid") != NGX_OK
        || ngx_http_osint_numverify_string(&f, "international_format", root,
                                           "international_format")
           != NGX_OK
        || ngx_http_osint_numverify_string(&f, "local_format", root,
                                           "local_format")
           != NGX_OK
        || ngx_http_osint_numverify_string(&f, "calling_code", root,
                                           "country_prefix")
           != NGX_OK
        || ngx_http_osint_numverify_string(&f, "country", root,
                                           "country_code")
           != NGX_OK
        || ngx_http_osint_numverify_string(&f, "country_name", root,
                                           "country_name")
           != NGX_OK
        || ngx_http_osint_numverify_string(&f, "location", root, "location")
           != NGX_OK
        || ngx_http_osint_numverify_string(&f, "carrier", root, "carrier")
           != NGX_OK
        || ngx_http_osint_numverify_string(&f, "line_type", root,
                                           "line_type")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}


/* a string member, left out when empty: numverify's "unknown" */

static ngx_int_t
ngx_http_osint_numverify_string(ngx_http_osint_fmt_t *f, const char *key,
    cJSON *from, const char *member)
{
    cJSON  *v;

    v = ngx_http_osint_fmt_get(from, member);

    if (cJSON_IsString(v) && v->valuestring[0] == '\0') {
        return NGX_OK;
    }

    return ngx_http_osint_fmt_string(f, key, from, member);
}
