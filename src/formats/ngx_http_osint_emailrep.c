
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "emailrep": EmailRep (Sublime Security), GET /ADDRESS with the
 * header "Key: KEY" (and a User-Agent)
 *
 *   {"email": "bill@example.com", "reputation": "high",
 *    "suspicious": false, "references": 79,
 *    "details": {"blacklisted": false, "malicious_activity": false,
 *                "credentials_leaked": true, "data_breach": true,
 *                "first_seen": "07/01/2008", "last_seen": "05/24/2019",
 *                "domain_reputation": "high", "new_domain": false,
 *                "free_provider": false, "disposable": false,
 *                "deliverable": true, "valid_mx": true,
 *                "spf_strict": true, "dmarc_enforced": true,
 *                "profiles": ["twitter", "github"], ...}}
 *
 * data: reputation ("high", "medium", "low", "none"), suspicious,
 * references, and of details, under the same names: blacklisted,
 * malicious_activity, malicious_activity_recent, credentials_leaked,
 * credentials_leaked_recent, data_breach, first_seen, last_seen (strings
 * "MM/DD/YYYY" or "never", as given), domain_exists, domain_reputation,
 * new_domain, days_since_domain_creation, suspicious_tld, spam,
 * free_provider, disposable, deliverable, accept_all, valid_mx,
 * primary_mx, spoofable, spf_strict, dmarc_enforced, profiles (strings).
 *
 * EmailRep has no "not found": an address it knows nothing of answers
 * reputation "none", which is data.  {"status": "fail", "reason": "..."}
 * (a bad address, an exceeded daily limit, a bad key) is an error
 * whatever its status, the reason in the message.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


typedef struct {
    const char  *name;
    int          type;
} ngx_http_osint_emailrep_member_t;


static ngx_http_osint_emailrep_member_t  ngx_http_osint_emailrep_details[] = {
    { "blacklisted", cJSON_True },
    { "malicious_activity", cJSON_True },
    { "malicious_activity_recent", cJSON_True },
    { "credentials_leaked", cJSON_True },
    { "credentials_leaked_recent", cJSON_True },
    { "data_breach", cJSON_True },
    { "first_seen", cJSON_String },
    { "last_seen", cJSON_String },
    { "domain_exists", cJSON_True },
    { "domain_reputation", cJSON_String },
    { "new_domain", cJSON_True },
    { "days_since_domain_creation", cJSON_Number },
    { "suspicious_tld", cJSON_True },
    { "spam", cJSON_True },
    { "free_provider", cJSON_True },
    { "disposable", cJSON_True },
    { "deliverable", cJSON_True },
    { "accept_all", cJSON_True },
    { "valid_mx", cJSON_True },
    { "primary_mx", cJSON_String },
    { "spoofable", cJSON_True },
    { "spf_strict", cJSON_True },
    { "dmarc_enforced", cJSON_True },
    { "profiles", cJSON_Array },
    { NULL, 0 }
};


ngx_int_t
ngx_http_osint_emailrep_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message)
{
    cJSON                             *d, *status, *reason;
    ngx_int_t                          rc;
    ngx_http_osint_fmt_t               f;
    ngx_http_osint_emailrep_member_t  *m;

    if (!cJSON_IsObject(root)) {
        *message = "emailrep: the answer is not an object";
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_init(&f, "emailrep", message) != NGX_OK) {
        return NGX_ERROR;
    }

    status = ngx_http_osint_fmt_get(root, "status");
    reason = ngx_http_osint_fmt_get(root, "reason");

    if (cJSON_IsString(status) && strcmp(status->valuestring, "fail") == 0) {
        return ngx_http_osint_fmt_fail(&f, cJSON_IsString(reason)
                                           ? reason->valuestring
                                           : "the answer is an error");
    }

    if (!cJSON_IsString(ngx_http_osint_fmt_get(root, "reputation"))
        || !cJSON_IsBool(ngx_http_osint_fmt_get(root, "suspicious")))
    {
        return ngx_http_osint_fmt_fail(&f, "the answer has no \"reputation\" "
                                           "string and \"suspicious\" "
                                           "boolean");
    }

    if (ngx_http_osint_fmt_string(&f, "reputation", root, "reputation")
        != NGX_OK
        || ngx_http_osint_fmt_bool(&f, "suspicious", root, "suspicious")
           != NGX_OK
        || ngx_http_osint_fmt_number(&f, "references", root, "references")
           != NGX_OK
        || ngx_http_osint_fmt_take(&f, root, "details", cJSON_Object, &d)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    for (m = ngx_http_osint_emailrep_details; d && m->name; m++) {

        switch (m->type) {

        case cJSON_True:
            rc = ngx_http_osint_fmt_bool(&f, m->name, d, m->name);
            break;

        case cJSON_String:
            rc = ngx_http_osint_fmt_string(&f, m->name, d, m->name);
            break;

        case cJSON_Number:
            rc = ngx_http_osint_fmt_number(&f, m->name, d, m->name);
            break;

        default:
            rc = ngx_http_osint_fmt_strings(&f, m->name, d, m->name, 1);
            break;
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_osint_fmt_done(&f, data);
}
