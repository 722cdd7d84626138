
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "whoisxml": WhoisXML API's WHOIS API, JSON output (GET
 * /whoisserver/WhoisService?apiKey=KEY&domainName=NAME&outputFormat=JSON):
 *
 *   {"WhoisRecord": {"domainName": "google.com",
 *     "registrarName": "MarkMonitor, Inc.", "registrarIANAID": "292",
 *     "createdDate": "1997-09-15T07:00:00+0000",
 *     "updatedDate": "2019-09-09T15:39:04+0000",
 *     "expiresDate": "2028-09-13T07:00:00+0000",
 *     "registrant": {"organization": "Google LLC", "countryCode": "US"},
 *     "nameServers": {"hostNames": ["ns1.google.com", ...]},
 *     "status": "clientUpdateProhibited clientTransferProhibited",
 *     "contactEmail": "abusecomplaint@markmonitor.com",
 *     "estimatedDomainAge": 9745,
 *     "registryData": {... the registry's own record, the same names}}}
 *
 * A member missing from the registrar's record is taken from the
 * registry's (registryData), as WhoisXML's own documentation advises.
 *
 * data:
 *   registrar, registrar_iana_id   strings
 *   created, updated, expires      strings, as given
 *   name_servers      array of strings, lower-cased
 *   whois_status      array of strings: the EPP status codes
 *   registrant_org, registrant_country   strings (countryCode)
 *   contact_email     string
 *   domain_age_days   number (estimatedDomainAge)
 *
 * Not found: "dataError" "MISSING_WHOIS_DATA" or "NO_WHOIS_DATA" (no
 * such registration).  Errors: {"ErrorMessage": {"errorCode": ...,
 * "msg": ...}} and a body without "WhoisRecord".
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


static ngx_int_t ngx_http_osint_whoisxml_string(ngx_http_osint_fmt_t *f,
    const char *key, cJSON *record, const char *member);
static ngx_int_t ngx_http_osint_whoisxml_lists(ngx_http_osint_fmt_t *f,
    cJSON *record);
static ngx_int_t ngx_http_osint_whoisxml_words(ngx_http_osint_fmt_t *f,
    const char *key, const char *s);


ngx_int_t
ngx_http_osint_whoisxml_normalise(cJSON *root, ngx_uint_t type, cJSON **data,
    const char **message)
{
    cJSON                 *record, *err, *registrant;
    ngx_http_osint_fmt_t   f;

    if (ngx_http_osint_fmt_get(root, "ErrorMessage")) {
        *message = "whoisxml: the answer is an ErrorMessage";
        return NGX_ERROR;
    }

    record = ngx_http_osint_fmt_get(root, "WhoisRecord");

    if (!cJSON_IsObject(record)) {
        *message = "whoisxml: the answer has no \"WhoisRecord\" object";
        return NGX_ERROR;
    }

    err = ngx_http_osint_fmt_get(record, "dataError");

    if (cJSON_IsString(err)
        && (strcmp(err->valuestring, "MISSING_WHOIS_DATA") == 0
            || strcmp(err->valuestring, "NO_WHOIS_DATA") == 0))
    {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_fmt_init(&f, "whoisxml", message) != NGX_OK) {
        return NGX_ERROR;
    }

    registrant = ngx_http_osint_fmt_get(record, "registrant");

    if (ngx_http_osint_whoisxml_string(&f, "registrar", record,
                                       "registrarName")
        != NGX_OK
        || ngx_http_osint_whoisxml_string(&f, "registrar_iana_id", record,
                                          "registrarIANAID")
           != NGX_OK
        || ngx_http_osint_whoisxml_string(&f, "created", record,
                                          "createdDate")
           != NGX_OK
        || ngx_http_osint_whoisxml_string(&f, "updated", record,
                                          "updatedDate")
           != NGX_OK
        || ngx_http_osint_whoisxml_string(&f, "expires", record,
                                          "expiresDate")
           != NGX_OK
        || ngx_http_osint_whoisxml_lists(&f, record) != NGX_OK
        || (cJSON_IsObject(registrant)
            && (ngx_http_osint_fmt_string(&f, "registrant_org", registrant,
                                          "organization")
                != NGX_OK
                || ngx_http_osint_fmt_string(&f, "registrant_country",
                                             registrant, "countryCode")
                   != NGX_OK))
        || ngx_http_osint_fmt_string(&f, "contact_email", record,
                                     "contactEmail")
           != NGX_OK
        || ngx_http_osint_fmt_number(&f, "domain_age_days", record,
                                     "estimatedDomainAge")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}


/* the registrar's value, else the registry's; empty strings are absent */

static ngx_int_t
ngx_http_osint_whoisxml_string(ngx_http_osint_fmt_t *f, const char *key,
    cJSON *record, const char *member)
{
    cJSON  *v;

    v = ngx_http_osint_fmt_get(record, member);

    if (v == NULL || (cJSON_IsString(v) && v->valuestring[0] == '\0')) {
        v = ngx_http_osint_fmt_get(ngx_http_osint_fmt_get(record,
                                                          "registryData"),
                                   member);
    }

    if (v == NULL || (cJSON_IsString(v) && v->valuestring[0] == '\0')) {
        return NGX_OK;
    }

    if (!cJSON_IsString(v)) {
        return ngx_http_osint_fmt_wrong(f, member, "a string");
    }

    return ngx_http_osint_fmt_add_string(f, key, v->valuestring);
}


/* name_servers and whois_status, the registrar's or the registry's */

static ngx_int_t
ngx_http_osint_whoisxml_lists(ngx_http_osint_fmt_t *f, cJSON *record)
{
    cJSON  *ns, *status, *registry;

    registry = ngx_http_osint_fmt_get(record, "registryData");

    ns = ngx_http_osint_fmt_get(record, "nameServers");

    if (cJSON_GetArraySize(ngx_http_osint_fmt_get(ns, "hostNames")) == 0) {
        ns = ngx_http_osint_fmt_get(registry, "nameServers");
    }

    if (cJSON_IsObject(ns)
        && ngx_http_osint_fmt_strings(f, "name_servers", ns, "hostNames", 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    status = ngx_http_osint_fmt_get(record, "status");

    if (!cJSON_IsString(status) || status->valuestring[0] == '\0') {
        status = ngx_http_osint_fmt_get(registry, "status");
    }

    if (!cJSON_IsString(status)) {
        return NGX_OK;
    }

    return ngx_http_osint_whoisxml_words(f, "whois_status",
                                         status->valuestring);
}


/* "a b  c" as ["a", "b", "c"], at most LIST_MAX */

static ngx_int_t
ngx_http_osint_whoisxml_words(ngx_http_osint_fmt_t *f, const char *key,
    const char *s)
{
    char        *word;
    size_t       n;
    cJSON       *list;
    ngx_int_t    rc;

    list = cJSON_CreateArray();

    if (ngx_http_osint_fmt_add(f, key, list) != NGX_OK) {
        return NGX_ERROR;
    }

    for ( ;; ) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
            s++;
        }

        if (*s == '\0') {
            return NGX_OK;
        }

        n = strcspn(s, " \t\r\n");

        word = strndup(s, n);
        if (word == NULL) {
            return ngx_http_osint_fmt_nomem(f);
        }

        rc = ngx_http_osint_fmt_list_add(f, list, word, 0);
        free(word);

        if (rc != NGX_OK) {
            return rc == NGX_DECLINED ? NGX_OK : NGX_ERROR;
        }

        s += n;
    }
}
