
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The summary merge (src/core/ngx_http_osint_summary.c) over arbitrary
 * provider data, and the verdict (src/core/ngx_http_osint_verdict.c) it adds
 * from the providers of built-in formats.
 *
 * Input: one record per provider call, records separated by RS (0x1e);
 * a record's first byte b is the call's status (b mod 5: pending, ok,
 * not_found, error, skipped), its provider's format (b / 5 mod the
 * number of formats, an index into ngx_http_osint_formats[]) and the
 * target type (b / (5 * formats) mod 6); the rest is the provider's JSON
 * answer.  As in a lookup, an answer of a built-in format becomes the
 * normaliser's `data` (its NGX_DECLINED a not_found call, its NGX_ERROR
 * an error), one of format json is `data` as it is.  The summary's
 * input is, per call, its status, data and a provider with a name
 * ("p0", "p1", ...) and a format.  Checked:
 *   - the summary is an object; the calls' data are left as they were;
 *   - every member of every ok call's object data, of its first
 *     NGX_HTTP_OSINT_SUMMARY_MEMBERS, is in the summary, and its value
 *     there equals it or (as an array) holds it, or holds its elements
 *     (the first NGX_HTTP_OSINT_SUMMARY_ELEMENTS) when it is an array;
 *   - every member of the summary comes from some ok call (of those
 *     first members), but "verdict",
 *     which is there (an object with level, score and reasons) exactly
 *     when an ok call with object data has a built-in format (a member
 *     "verdict" of a call's data is then not looked for);
 *   - a value only one ok call gives, once, is copied as it is (an
 *     array: its first NGX_HTTP_OSINT_SUMMARY_ELEMENTS elements);
 *   - member names are unique.
 */


#include "fuzz.h"


#define FUZZ_CALLS  16


static ngx_uint_t  fuzz_types[] = {
    NGX_HTTP_OSINT_IPV4, NGX_HTTP_OSINT_IPV6, NGX_HTTP_OSINT_DOMAIN,
    NGX_HTTP_OSINT_EMAIL, NGX_HTTP_OSINT_URL, NGX_HTTP_OSINT_HASH
};


static ngx_str_t  fuzz_target = ngx_string("192.0.2.1");


static ngx_uint_t fuzz_holds(cJSON *have, cJSON *value);
static ngx_uint_t fuzz_is_copy(cJSON *have, cJSON *value);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                       *before[FUZZ_CALLS], *after;
    cJSON                      *summary, *m, *have, *other, *answer, *out;
    ngx_int_t                   rc;
    ngx_str_t                   rec;
    ngx_uint_t                  i, j, k, n, seen, nformats, judged, type,
                                presence;
    ngx_pool_t                 *pool;
    const char                 *message;
    ngx_http_osint_format_t    *fmt;
    const u_char               *p;
    ngx_http_osint_summary_in_t calls[FUZZ_CALLS];
    ngx_http_osint_provider_t   providers[FUZZ_CALLS];
    u_char                      names[FUZZ_CALLS][8];

    ngx_memzero(calls, sizeof(calls));
    ngx_memzero(providers, sizeof(providers));

    for (nformats = 0; ngx_http_osint_formats[nformats].name; nformats++) {
        /* void */
    }

    p = data;
    n = 0;

    while (n < FUZZ_CALLS && fuzz_next(&p, data + size, FUZZ_SEP, &rec)) {

        if (rec.len == 0) {
            continue;
        }

        (void) snprintf((char *) names[n], sizeof(names[n]), "p%u",
                        (unsigned) n);
        providers[n].name.data = names[n];
        providers[n].name.len = ngx_strlen(names[n]);
        providers[n].index = n;
        providers[n].format = (rec.data[0] / 5) % nformats;

        calls[n].provider = &providers[n];
        calls[n].status = rec.data[0] % 5;

        answer = cJSON_ParseWithLength((const char *) rec.data + 1,
                                       rec.len - 1);
        fmt = &ngx_http_osint_formats[providers[n].format];

        if (fmt->normalise && answer && calls[n].status == NGX_HTTP_OSINT_OK)
        {
            type = fuzz_types[(rec.data[0] / (5 * nformats)) % 6];
            out = NULL;
            message = NULL;

            rc = fmt->normalise(answer, type, &out, &message);

            calls[n].status = (rc == NGX_OK) ? NGX_HTTP_OSINT_OK
                              : (rc == NGX_DECLINED) ? NGX_HTTP_OSINT_NOT_FOUND
                              : NGX_HTTP_OSINT_ERROR;
            calls[n].data = out;
            cJSON_Delete(answer);

        } else {
            calls[n].data = answer;
        }

        before[n] = calls[n].data ? cJSON_PrintUnformatted(calls[n].data)
                                  : NULL;
        n++;
    }


    pool = fuzz_pool();
    /* not a phone: the summary's members all come from the calls */

    summary = ngx_http_osint_summary(&fuzz_target, NGX_HTTP_OSINT_IPV4,
                                     calls, n, pool);

    fuzz_check(cJSON_IsObject(summary), "summary is not an object");

    judged = 0;
    presence = 0;

    for (i = 0; i < n; i++) {
        judged |= (calls[i].status == NGX_HTTP_OSINT_OK
                   && cJSON_IsObject(calls[i].data)
                   && ngx_http_osint_formats[providers[i].format].normalise);

        /* summary.accounts: the lookup's own, of its presence providers */

        presence |= (strcmp(ngx_http_osint_formats[providers[i].format].name,
                            "presence")
                     == 0);
    }

    for (i = 0; i < n; i++) {

        if (calls[i].data) {
            after = cJSON_PrintUnformatted(calls[i].data);
            fuzz_check(before[i] && after && strcmp(before[i], after) == 0,
                       "data of call %lu changed", (unsigned long) i);
            cJSON_free(after);
        }

        if (calls[i].status != NGX_HTTP_OSINT_OK
            || !cJSON_IsObject(calls[i].data))
        {
            continue;
        }

        for (m = calls[i].data->child, k = 0;
             m && k < NGX_HTTP_OSINT_SUMMARY_MEMBERS;
             m = m->next, k++)
        {
            /* the verdict's own member takes the name (or config refuses) */

            if ((judged && strcmp(m->string, "verdict") == 0)
                || (presence && strcmp(m->string, "accounts") == 0))
            {
                continue;
            }

            have = cJSON_GetObjectItemCaseSensitive(summary, m->string);

            fuzz_check(have != NULL, "member \"%s\" of call %lu missing",
                       m->string, (unsigned long) i);

            fuzz_check(fuzz_holds(have, m), "summary \"%s\" lost a value of "
                       "call %lu", m->string, (unsigned long) i);
        }
    }

    for (m = summary->child; m; m = m->next) {

        /* names are unique in the summary */

        for (j = 0, have = summary->child; have; have = have->next) {
            j += (strcmp(have->string, m->string) == 0);
        }

        fuzz_check(j == 1, "summary member \"%s\" appears %lu times",
                   m->string, (unsigned long) j);

        if (judged && strcmp(m->string, "verdict") == 0) {
            fuzz_check(cJSON_IsObject(m)
                       && cJSON_IsString(cJSON_GetObjectItem(m, "level"))
                       && cJSON_IsNumber(cJSON_GetObjectItem(m, "score"))
                       && cJSON_IsArray(cJSON_GetObjectItem(m, "reasons")),
                       "verdict is not {level, score, reasons}");
            continue;
        }

        if (presence && strcmp(m->string, "accounts") == 0) {
            fuzz_check(cJSON_IsArray(m), "accounts is not an array");
            continue;
        }

        seen = 0;
        other = NULL;

        for (i = 0; i < n; i++) {
            if (calls[i].status != NGX_HTTP_OSINT_OK
                || !cJSON_IsObject(calls[i].data))
            {
                continue;
            }

            for (have = calls[i].data->child, k = 0;
                 have && k < NGX_HTTP_OSINT_SUMMARY_MEMBERS;
                 have = have->next, k++)
            {
                if (strcmp(have->string, m->string) == 0) {
                    seen++;
                    other = have;
                }
            }
        }

        fuzz_check(seen > 0, "summary member \"%s\" from nowhere", m->string);

        if (seen == 1) {
            fuzz_check(fuzz_is_copy(m, other), "summary \"%s\" of one "
                       "value is not that value", m->string);
        }
    }

    fuzz_check(!judged
               || cJSON_GetObjectItemCaseSensitive(summary, "verdict"),
               "no verdict from providers of built-in formats");

    cJSON_Delete(summary);
    fuzz_pool_free(pool);

    for (i = 0; i < n; i++) {
        cJSON_free(before[i]);
        cJSON_Delete(calls[i].data);
    }

    return 0;
}


/* the merged value equals this value, or as an array holds it */

static ngx_uint_t
fuzz_holds(cJSON *have, cJSON *value)
{
    cJSON       *v, *e;
    ngx_uint_t   n;

    if (fuzz_json_equal(have, value)) {
        return 1;
    }

    if (!cJSON_IsArray(have)) {
        return 0;
    }

    if (cJSON_IsArray(value)) {
        for (e = value->child, n = 0;
             e && n < NGX_HTTP_OSINT_SUMMARY_ELEMENTS;
             e = e->next, n++)
        {
            for (v = have->child; v; v = v->next) {
                if (fuzz_json_equal(v, e)) {
                    break;
                }
            }

            if (v == NULL) {
                return 0;
            }
        }

        return 1;
    }

    for (v = have->child; v; v = v->next) {
        if (fuzz_json_equal(v, value)) {
            return 1;
        }
    }

    return 0;
}



/* the value as it is, but of an array only its first elements */

static ngx_uint_t
fuzz_is_copy(cJSON *have, cJSON *value)
{
    cJSON       *v, *e;
    ngx_uint_t   n;

    if (!cJSON_IsArray(value)) {
        return fuzz_json_equal(have, value);
    }

    if (!cJSON_IsArray(have)) {
        return 0;
    }

    for (v = have->child, e = value->child, n = 0;
         v && e && n < NGX_HTTP_OSINT_SUMMARY_ELEMENTS;
         v = v->next, e = e->next, n++)
    {
        if (!fuzz_json_equal(v, e)) {
            return 0;
        }
    }

    return v == NULL && (e == NULL || n == NGX_HTTP_OSINT_SUMMARY_ELEMENTS);
}
