
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "dns": DNS-over-HTTPS JSON, Google (GET dns.google/resolve?name=N
 * &type=T) and Cloudflare (GET cloudflare-dns.com/dns-query?name=N&type=T,
 * "accept: application/dns-json"):
 *
 *   {"Status": 0, "TC": false, "RD": true, "RA": true, "AD": false,
 *    "CD": false, "Question": [{"name": "example.com.", "type": 1}],
 *    "Answer": [{"name": "example.com.", "type": 1, "TTL": 3600,
 *                "data": "93.184.215.14"}]}
 *
 * data:
 *   status   number: the RCODE (0 NOERROR)
 *   a        array of strings (type 1), as given
 *   aaaa     array of strings (type 28), as given
 *   cname    array of strings (type 5)
 *   mx       array of strings "10 smtp.example.com" (type 15)
 *   ns       array of strings (type 2)
 *   txt      array of strings (type 16), unquoted: Cloudflare sends
 *            "\"v=spf1 -all\"" and splits long records into several
 *            quoted strings, which are joined (RFC 7208 §3.3); Google
 *            sends the text itself, kept as is
 *
 * Names (cname, mx, ns) are lower-cased and lose the root's final dot.
 * A list is there only when the answer holds records of its type: a
 * query asks for one type, and an empty "aaaa" would claim an absence
 * nobody asked about.  NOERROR without records (NODATA) is just status.
 *
 * Status 3 (NXDOMAIN) is not found; 2 (SERVFAIL) and every other RCODE
 * are errors: the resolver could not answer.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


#define NGX_HTTP_OSINT_DNS_TYPES  6


static char *ngx_http_osint_dns_name(const char *s);
static char *ngx_http_osint_dns_txt(const char *s);


/* the record types read, in the order of their lists in data */

static struct {
    int                         type;
    const char                 *key;
    char                     *(*convert)(const char *s);
} ngx_http_osint_dns_types[NGX_HTTP_OSINT_DNS_TYPES] = {
    { 1, "a", NULL },
    { 28, "aaaa", NULL },
    { 5, "cname", ngx_http_osint_dns_name },
    { 15, "mx", ngx_http_osint_dns_name },
    { 2, "ns", ngx_http_osint_dns_name },
    { 16, "txt", ngx_http_osint_dns_txt }
};


ngx_int_t
ngx_http_osint_dns_normalise(cJSON *root, ngx_uint_t type, cJSON **data,
    const char **message)
{
    char                   buf[32], *s;
    cJSON                 *status, *answer, *rr, *t, *d;
    cJSON                 *lists[NGX_HTTP_OSINT_DNS_TYPES];
    ngx_int_t              rc;
    ngx_uint_t             i;
    ngx_http_osint_fmt_t   f;

    if (!cJSON_IsObject(root)) {
        *message = "dns: the answer is not an object";
        return NGX_ERROR;
    }

    status = ngx_http_osint_fmt_get(root, "Status");

    if (!cJSON_IsNumber(status)
        || !(status->valuedouble >= 0 && status->valuedouble <= 65535)
        || status->valuedouble != (double) status->valueint)
    {
        *message = "dns: the answer has no \"Status\" RCODE";
        return NGX_ERROR;
    }

    if (status->valueint == 3) {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_fmt_init(&f, "dns", message) != NGX_OK) {
        return NGX_ERROR;
    }

    if (status->valueint != 0) {
        snprintf(buf, sizeof(buf), status->valueint == 2
                                   ? "SERVFAIL (rcode %d)" : "rcode %d",
                 status->valueint);

        return ngx_http_osint_fmt_fail(&f, buf);
    }

    if (ngx_http_osint_fmt_add_number(&f, "status", 0) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_osint_fmt_take(&f, root, "Answer", cJSON_Array, &answer);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_memzero(lists, sizeof(lists));

    for (i = 0; i < NGX_HTTP_OSINT_DNS_TYPES; i++) {
        lists[i] = cJSON_CreateArray();

        if (lists[i] == NULL) {
            rc = ngx_http_osint_fmt_nomem(&f);
            goto done;
        }
    }

    cJSON_ArrayForEach(rr, answer) {
        t = ngx_http_osint_fmt_get(rr, "type");
        d = ngx_http_osint_fmt_get(rr, "data");

        if (!cJSON_IsNumber(t) || !cJSON_IsString(d)) {
            continue;
        }

        for (i = 0; i < NGX_HTTP_OSINT_DNS_TYPES; i++) {
            if (ngx_http_osint_dns_types[i].type == t->valuedouble) {
                break;
            }
        }

        if (i == NGX_HTTP_OSINT_DNS_TYPES) {
            continue;
        }

        if (ngx_http_osint_dns_types[i].convert == NULL) {
            rc = ngx_http_osint_fmt_list_add(&f, lists[i], d->valuestring, 0);

        } else {
            s = ngx_http_osint_dns_types[i].convert(d->valuestring);
            if (s == NULL) {
                rc = ngx_http_osint_fmt_nomem(&f);
                goto done;
            }

            rc = ngx_http_osint_fmt_list_add(&f, lists[i], s, 0);
            free(s);
        }

        if (rc == NGX_ERROR) {
            goto done;
        }
    }

    rc = NGX_OK;

    for (i = 0; i < NGX_HTTP_OSINT_DNS_TYPES; i++) {
        if (lists[i]->child == NULL) {
            continue;
        }

        rc = ngx_http_osint_fmt_add(&f, ngx_http_osint_dns_types[i].key,
                                    lists[i]);
        lists[i] = NULL;

        if (rc != NGX_OK) {
            goto done;
        }
    }

done:

    for (i = 0; i < NGX_HTTP_OSINT_DNS_TYPES; i++) {
        cJSON_Delete(lists[i]);
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}


/* "Mail.Example.COM." -> "mail.example.com"; the root "." stays */

static char *
ngx_http_osint_dns_name(const char *s)
{
    size_t  len;

    len = strlen(s);

    if (len > 1 && s[len - 1] == '.') {
        len--;
    }

    return ngx_http_osint_fmt_lower(s, len);
}


/*
 * "\"v=spf1 \" \"-all\"" -> "v=spf1 -all": the character-strings of the
 * presentation format (RFC 1035 §5.1) joined, with \" \\ and \DDD.  Text
 * that is not quoted, or not well formed, is kept as given.
 */

static char *
ngx_http_osint_dns_txt(const char *s)
{
    char        *out, *o;
    const char  *p;
    ngx_uint_t   c;

    if (s[0] != '"') {
        return strdup(s);
    }

    out = malloc(strlen(s) + 1);
    if (out == NULL) {
        return NULL;
    }

    o = out;
    p = s;

    while (*p) {

        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }

        if (*p++ != '"') {
            goto as_given;
        }

        while (*p != '"') {

            if (*p == '\0') {
                goto as_given;
            }

            if (*p != '\\') {
                *o++ = *p++;
                continue;
            }

            p++;

            if (p[0] >= '0' && p[0] <= '9') {
                if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0'
                      && p[2] <= '9'))
                {
                    goto as_given;
                }

                c = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');

                /* a NUL would end the C string early */

                if (c == 0 || c > 255) {
                    goto as_given;
                }

                *o++ = (char) c;
                p += 3;
                continue;
            }

            if (*p == '\0') {
                goto as_given;
            }

            *o++ = *p++;
        }

        p++;
    }

    *o = '\0';

    return out;

as_given:

    free(out);

    return strdup(s);
}
