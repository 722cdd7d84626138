
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "abuseipdb": AbuseIPDB API v2, GET /api/v2/check?ipAddress=IP
 *
 *   {"data": {"ipAddress": "118.25.6.39", "isPublic": true,
 *             "ipVersion": 4, "isWhitelisted": false,
 *             "abuseConfidenceScore": 100, "countryCode": "CN",
 *             "usageType": "Data Center/Web Hosting/Transit",
 *             "isp": "Tencent Cloud Computing (Beijing) Co. Ltd",
 *             "domain": "tencent.com", "hostnames": [], "isTor": false,
 *             "totalReports": 1, "numDistinctUsers": 1,
 *             "lastReportedAt": "2018-12-20T20:55:14+00:00"}}
 *
 * data:
 *   abuse_score       number 0..100   (abuseConfidenceScore)
 *   total_reports     number          (totalReports)
 *   usage_type        string          (usageType)
 *   isp               string
 *   domain            string
 *   country           string, ISO 3166 alpha-2 (countryCode)
 *   hostnames         array of strings, lower-cased
 *   is_tor            boolean         (isTor)
 *   is_whitelisted    boolean         (isWhitelisted; AbuseIPDB sends
 *                                      null for most addresses: left out)
 *   last_reported_at  string, ISO 8601 "+00:00" as given (lastReportedAt;
 *                                      null when never reported: left out)
 *
 * AbuseIPDB has no "not found": an address nobody reported answers
 * abuse_score 0, total_reports 0, which is data, not absence.  An
 * {"errors": [...]} body is an error whatever its status.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


ngx_int_t
ngx_http_osint_abuseipdb_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message)
{
    cJSON                 *d;
    ngx_http_osint_fmt_t   f;

    if (!cJSON_IsObject(root)) {
        *message = "abuseipdb: the answer is not an object";
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_get(root, "errors")) {
        *message = "abuseipdb: the answer is an error";
        return NGX_ERROR;
    }

    d = ngx_http_osint_fmt_get(root, "data");

    if (!cJSON_IsNumber(ngx_http_osint_fmt_get(d, "abuseConfidenceScore"))) {
        *message = "abuseipdb: the answer has no "
                   "data.abuseConfidenceScore number";
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_init(&f, "abuseipdb", message) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_number(&f, "abuse_score", d,
                                  "abuseConfidenceScore")
        != NGX_OK
        || ngx_http_osint_fmt_number(&f, "total_reports", d, "totalReports")
           != NGX_OK
        || ngx_http_osint_fmt_string(&f, "usage_type", d, "usageType")
           != NGX_OK
        || ngx_http_osint_fmt_string(&f, "isp", d, "isp") != NGX_OK
        || ngx_http_osint_fmt_string(&f, "domain", d, "domain") != NGX_OK
        || ngx_http_osint_fmt_string(&f, "country", d, "countryCode")
           != NGX_OK
        || ngx_http_osint_fmt_strings(&f, "hostnames", d, "hostnames", 1)
           != NGX_OK
        || ngx_http_osint_fmt_bool(&f, "is_tor", d, "isTor") != NGX_OK
        || ngx_http_osint_fmt_bool(&f, "is_whitelisted", d, "isWhitelisted")
           != NGX_OK
        || ngx_http_osint_fmt_string(&f, "last_reported_at", d,
                                     "lastReportedAt")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}
