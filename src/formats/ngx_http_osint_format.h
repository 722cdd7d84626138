
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The built-in normalisers of src/formats/ and the helpers they share.
 *
 * Every normaliser is pure C over cJSON: no pool, no log, no nginx
 * function, so that t/unit/formats.c and the fuzzers link it alone.
 *
 * Conventions of every format's `data`, so that a reader (and the
 * summary, which merges fields by name) can rely on them:
 *
 *   - names are snake_case and the same across formats for the same
 *     thing: country (ISO 3166 alpha-2), asn ("AS15169"), as_name,
 *     hostnames, tags, link;
 *   - a member the provider leaves out, or sends as null, is left out;
 *     a member of the wrong type makes the answer NGX_ERROR, naming the
 *     member, because it says the body is not what the format reads;
 *   - elements of the wrong type inside a list are skipped;
 *   - lists hold at most NGX_HTTP_OSINT_FMT_LIST_MAX elements; when one
 *     was cut, `"truncated": true` says so;
 *   - times are the provider's own strings or numbers, as given.
 */


#ifndef _NGX_HTTP_OSINT_FORMAT_H_INCLUDED_
#define _NGX_HTTP_OSINT_FORMAT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


#define NGX_HTTP_OSINT_FMT_LIST_MAX    1000

/* members kept of an object copied "as given" (VirusTotal categories) */
#define NGX_HTTP_OSINT_FMT_OBJECT_MAX  100

/* nested RDAP entities searched, in depth; real servers nest two deep */
#define NGX_HTTP_OSINT_FMT_DEPTH_MAX   8


/* what a normaliser builds, and why it failed */

typedef struct {
    const char                 *format;     /* prefix of messages */
    cJSON                      *data;
    const char                **message;
    ngx_uint_t                  truncated;  /* a list was cut */
} ngx_http_osint_fmt_t;


/* strings collected, then sorted and deduplicated at once */

typedef struct {
    char                      **elts;
    size_t                      n;
    size_t                      size;
    ngx_uint_t                  own;        /* free() the strings */
} ngx_http_osint_fmt_set_t;


ngx_int_t ngx_http_osint_fmt_init(ngx_http_osint_fmt_t *f,
    const char *format, const char **message);
ngx_int_t ngx_http_osint_fmt_done(ngx_http_osint_fmt_t *f, cJSON **data);
ngx_int_t ngx_http_osint_fmt_fail(ngx_http_osint_fmt_t *f,
    const char *message);
ngx_int_t ngx_http_osint_fmt_wrong(ngx_http_osint_fmt_t *f,
    const char *member, const char *want);
ngx_int_t ngx_http_osint_fmt_nomem(ngx_http_osint_fmt_t *f);

cJSON *ngx_http_osint_fmt_get(cJSON *obj, const char *name);
ngx_int_t ngx_http_osint_fmt_take(ngx_http_osint_fmt_t *f, cJSON *from,
    const char *member, int type, cJSON **item);

ngx_int_t ngx_http_osint_fmt_add(ngx_http_osint_fmt_t *f, const char *key,
    cJSON *item);
ngx_int_t ngx_http_osint_fmt_add_string(ngx_http_osint_fmt_t *f,
    const char *key, const char *value);
ngx_int_t ngx_http_osint_fmt_add_number(ngx_http_osint_fmt_t *f,
    const char *key, double value);
ngx_int_t ngx_http_osint_fmt_add_bool(ngx_http_osint_fmt_t *f,
    const char *key, ngx_uint_t value);

ngx_int_t ngx_http_osint_fmt_string(ngx_http_osint_fmt_t *f,
    const char *key, cJSON *from, const char *member);
ngx_int_t ngx_http_osint_fmt_number(ngx_http_osint_fmt_t *f,
    const char *key, cJSON *from, const char *member);
ngx_int_t ngx_http_osint_fmt_bool(ngx_http_osint_fmt_t *f,
    const char *key, cJSON *from, const char *member);
ngx_int_t ngx_http_osint_fmt_strings(ngx_http_osint_fmt_t *f,
    const char *key, cJSON *from, const char *member, ngx_uint_t lower);
ngx_int_t ngx_http_osint_fmt_flat_object(ngx_http_osint_fmt_t *f,
    const char *key, cJSON *from, const char *member);

ngx_int_t ngx_http_osint_fmt_list_add(ngx_http_osint_fmt_t *f, cJSON *list,
    const char *value, ngx_uint_t lower);

ngx_int_t ngx_http_osint_fmt_set_add(ngx_http_osint_fmt_t *f,
    ngx_http_osint_fmt_set_t *set, char *s);
ngx_int_t ngx_http_osint_fmt_set_emit(ngx_http_osint_fmt_t *f,
    ngx_http_osint_fmt_set_t *set, const char *key);
void ngx_http_osint_fmt_set_free(ngx_http_osint_fmt_set_t *set);

char *ngx_http_osint_fmt_lower(const char *s, size_t len);
ngx_int_t ngx_http_osint_fmt_asn(char *buf, size_t size, cJSON *item);
ngx_int_t ngx_http_osint_fmt_asn_text(char *buf, size_t size, const char *s,
    size_t len);


ngx_int_t ngx_http_osint_rdap_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_internetdb_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_ipinfo_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_crtsh_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_virustotal_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_abuseipdb_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_greynoise_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_urlhaus_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_dns_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_presence_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_hibp_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_emailrep_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_numverify_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_censys_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_dnsdb_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);
ngx_int_t ngx_http_osint_whoisxml_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message);

ngx_uint_t ngx_http_osint_presence_empty(cJSON *item);


#endif /* _NGX_HTTP_OSINT_FORMAT_H_INCLUDED_ */
