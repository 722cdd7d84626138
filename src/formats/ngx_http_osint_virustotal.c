
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "virustotal": VirusTotal API v3 objects, GET
 * /api/v3/ip_addresses/IP, /domains/NAME, /files/HASH, /urls/ID:
 *
 *   {"data": {"id": ..., "type": "domain", "links": {...},
 *             "attributes": {"last_analysis_stats": {...}, ...}}}
 *
 * data (each only when the object has it):
 *   last_analysis_stats  object as given (harmless, malicious, suspicious,
 *                        undetected, timeout, ...), scalar members only
 *   malicious            number, from last_analysis_stats
 *   suspicious           number, from last_analysis_stats
 *   reputation           number
 *   categories           object as given ({"Forcepoint ThreatSeeker":
 *                        "search engines and portals", ...}); an array
 *                        of strings when the object has one
 *   tags                 array of strings
 *   last_analysis_date   number, Unix epoch as given
 *   files: meaningful_name, type_description (strings), size (number),
 *          sha256, md5, sha1 (strings)
 *   IP addresses: asn (string "AS15169": VirusTotal gives the number,
 *          written as every other format writes it), as_owner, country,
 *          network (strings)
 *   URLs: url, final_url (last_final_url) (strings)
 *
 * Not found is a 404 NotFoundError (handled before the normaliser); the
 * same error object on a 200 is read as not found too, any other error
 * object is an error.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


static ngx_int_t ngx_http_osint_virustotal_stats(ngx_http_osint_fmt_t *f,
    cJSON *attrs);


/* attribute -> data key, copied when present */

typedef struct {
    const char                 *member;
    const char                 *key;
    int                         type;
} ngx_http_osint_virustotal_field_t;


static ngx_http_osint_virustotal_field_t  ngx_http_osint_virustotal_fields[]
    = {
    { "reputation", "reputation", cJSON_Number },
    { "last_analysis_date", "last_analysis_date", cJSON_Number },
    { "meaningful_name", "meaningful_name", cJSON_String },
    { "type_description", "type_description", cJSON_String },
    { "size", "size", cJSON_Number },
    { "sha256", "sha256", cJSON_String },
    { "md5", "md5", cJSON_String },
    { "sha1", "sha1", cJSON_String },
    { "as_owner", "as_owner", cJSON_String },
    { "country", "country", cJSON_String },
    { "network", "network", cJSON_String },
    { "url", "url", cJSON_String },
    { "last_final_url", "final_url", cJSON_String },
    { NULL, NULL, 0 }
};


ngx_int_t
ngx_http_osint_virustotal_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message)
{
    char                                buf[16];
    cJSON                              *obj, *attrs, *error, *v;
    ngx_int_t                           rc;
    ngx_http_osint_fmt_t                f;
    ngx_http_osint_virustotal_field_t  *field;

    if (!cJSON_IsObject(root)) {
        *message = "virustotal: the answer is not an object";
        return NGX_ERROR;
    }

    error = ngx_http_osint_fmt_get(root, "error");

    if (error) {
        v = ngx_http_osint_fmt_get(error, "code");

        if (cJSON_IsString(v)
            && strcmp(v->valuestring, "NotFoundError") == 0)
        {
            return NGX_DECLINED;
        }

        *message = "virustotal: the answer is an error";
        return NGX_ERROR;
    }

    obj = ngx_http_osint_fmt_get(root, "data");
    attrs = ngx_http_osint_fmt_get(obj, "attributes");

    if (!cJSON_IsObject(attrs)) {
        *message = "virustotal: the answer has no data.attributes object";
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_init(&f, "virustotal", message) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_osint_virustotal_stats(&f, attrs) != NGX_OK) {
        return NGX_ERROR;
    }

    for (field = ngx_http_osint_virustotal_fields; field->member; field++) {

        rc = (field->type == cJSON_Number)
             ? ngx_http_osint_fmt_number(&f, field->key, attrs, field->member)
             : ngx_http_osint_fmt_string(&f, field->key, attrs, field->member);

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    v = ngx_http_osint_fmt_get(attrs, "categories");

    rc = cJSON_IsArray(v)
         ? ngx_http_osint_fmt_strings(&f, "categories", attrs, "categories", 0)
         : ngx_http_osint_fmt_flat_object(&f, "categories", attrs,
                                          "categories");

    if (rc != NGX_OK
        || ngx_http_osint_fmt_strings(&f, "tags", attrs, "tags", 0) != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = ngx_http_osint_fmt_get(attrs, "asn");

    if (v) {
        if (ngx_http_osint_fmt_asn(buf, sizeof(buf), v) != NGX_OK) {
            return ngx_http_osint_fmt_wrong(&f, "asn", "an AS number");
        }

        if (ngx_http_osint_fmt_add_string(&f, "asn", buf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_osint_fmt_done(&f, data);
}


static ngx_int_t
ngx_http_osint_virustotal_stats(ngx_http_osint_fmt_t *f, cJSON *attrs)
{
    cJSON  *stats, *v;

    if (ngx_http_osint_fmt_flat_object(f, "last_analysis_stats", attrs,
                                       "last_analysis_stats")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    stats = ngx_http_osint_fmt_get(attrs, "last_analysis_stats");

    if (stats == NULL) {
        return NGX_OK;
    }

    /* the counts the verdict reads, at the top where a reader looks */

    v = ngx_http_osint_fmt_get(stats, "malicious");

    if (cJSON_IsNumber(v)
        && ngx_http_osint_fmt_add_number(f, "malicious", v->valuedouble)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = ngx_http_osint_fmt_get(stats, "suspicious");

    if (cJSON_IsNumber(v)
        && ngx_http_osint_fmt_add_number(f, "suspicious", v->valuedouble)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
