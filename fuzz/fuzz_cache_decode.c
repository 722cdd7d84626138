
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The value both cache tiers store (src/core/ngx_http_osint_cache_value.c):
 * ngx_http_osint_cache_decode() of whatever a Redis server may hold, and
 * the encode/decode round trip.  The provider's fingerprint is 1a2b3c4d,
 * which the seeds carry.
 *
 * Input: a Redis value.  Checked:
 *   - decode says NGX_OK or NGX_DECLINED; on NGX_OK the status is ok
 *     (a NUL-terminated JSON value that is not null) or not_found (an
 *     empty value), and fresh_until and at are not negative;
 *   - what decodes, encoded again, decodes to the same status, value,
 *     fresh_until and at;
 *   - an input that is a JSON object (as `data` always is), encoded as
 *     the data of an ok answer, decodes back to it;
 *   - the same input after a space, which only the long way reads (a
 *     tree of the whole value) decodes to the same rc, status, value,
 *     fresh_until and at: what the short way (a value as encode writes
 *     it, read without a tree) says is what the long way says.
 */


#include "fuzz.h"


static ngx_uint_t fuzz_utf8_whole(u_char *p, size_t len);
static void fuzz_round_trip(ngx_http_osint_provider_t *p, ngx_pool_t *pool,
    ngx_http_osint_status_e status, ngx_str_t *value, time_t fresh_until,
    time_t answered);
static void fuzz_long_way(ngx_http_osint_provider_t *p, ngx_pool_t *pool,
    const uint8_t *data, size_t size, ngx_int_t rc,
    ngx_http_osint_status_e status, ngx_str_t *value, time_t fresh_until,
    time_t answered);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                       *printed;
    cJSON                      *json, *check;
    time_t                      fresh_until, answered;
    ngx_int_t                   rc;
    ngx_str_t                   value;
    ngx_pool_t                 *pool;
    ngx_http_osint_status_e     status;
    ngx_http_osint_provider_t   p;

    ngx_memzero(&p, sizeof(p));
    p.fingerprint = 0x1a2b3c4d;

    pool = fuzz_pool();

    fresh_until = -1;
    answered = -1;
    status = NGX_HTTP_OSINT_PENDING;
    ngx_str_null(&value);

    rc = ngx_http_osint_cache_decode(&p, (u_char *) data, size, pool, &value,
                                     &status, &fresh_until, &answered);

    fuzz_check(rc == NGX_OK || rc == NGX_DECLINED, "rc %ld", (long) rc);

    fuzz_long_way(&p, pool, data, size, rc, status, &value, fresh_until,
                  answered);

    if (rc == NGX_OK) {
        fuzz_check(fresh_until >= 0, "fresh_until %lld",
                   (long long) fresh_until);
        fuzz_check(answered >= 0, "at %lld", (long long) answered);

        if (status == NGX_HTTP_OSINT_OK) {
            fuzz_check(value.len > 0 && value.data[value.len] == '\0'
                       && ngx_strlen(value.data) == value.len,
                       "ok value of %zu bytes", value.len);

            check = cJSON_ParseWithLength((char *) value.data, value.len);
            fuzz_check(check != NULL && !cJSON_IsNull(check),
                       "ok value \"%s\" is not JSON data", value.data);
            cJSON_Delete(check);

        } else {
            fuzz_check(status == NGX_HTTP_OSINT_NOT_FOUND && value.len == 0,
                       "status %d, value of %zu bytes", (int) status,
                       value.len);
        }

        fuzz_round_trip(&p, pool, status, &value, fresh_until, answered);
    }

    /*
     * any object as the data of an answer (not any JSON: cJSON prints a
     * number too large for a double, 1e999, as null)
     */

    json = cJSON_ParseWithLength((const char *) data, size);

    if (cJSON_IsObject(json)) {
        printed = cJSON_PrintUnformatted(json);

        if (printed) {
            value.data = (u_char *) printed;
            value.len = ngx_strlen(printed);

            fuzz_round_trip(&p, pool, NGX_HTTP_OSINT_OK, &value,
                            (time_t) size * 1000003, (time_t) size);

            cJSON_free(printed);
        }
    }

    cJSON_Delete(json);

    fuzz_pool_free(pool);

    return 0;
}


static void
fuzz_round_trip(ngx_http_osint_provider_t *p, ngx_pool_t *pool,
    ngx_http_osint_status_e status, ngx_str_t *value, time_t fresh_until,
    time_t answered)
{
    u_char                   *text;
    size_t                    len;
    cJSON                    *a, *b;
    time_t                    fresh2, answered2;
    ngx_int_t                 rc;
    ngx_str_t                 value2;
    ngx_http_osint_status_e   status2;

    len = 0;

    text = ngx_http_osint_cache_encode(p, status, value, fresh_until,
                                       answered, &len);

    fuzz_check(text != NULL, "encode ran out of memory");

    rc = ngx_http_osint_cache_decode(p, text, len, pool, &value2, &status2,
                                     &fresh2, &answered2);

    fuzz_check(rc == NGX_OK && status2 == status && fresh2 == fresh_until
               && answered2 == answered,
               "\"%.*s\" decodes to rc %ld, status %d, fresh_until %lld, "
               "at %lld", (int) len, text, (long) rc, (int) status2,
               (long long) fresh2, (long long) answered2);

    /*
     * the printer writes U+FFFD for ill-formed UTF-8, so only a value that
     * is UTF-8 comes back as it went; any other comes back as UTF-8
     */

    if (status == NGX_HTTP_OSINT_OK && !fuzz_utf8_whole(value->data, value->len))
    {
        fuzz_check(fuzz_utf8_whole(value2.data, value2.len),
                   "\"%.*s\" comes back as ill-formed UTF-8",
                   (int) value->len, value->data);

    } else if (status == NGX_HTTP_OSINT_OK) {
        a = cJSON_ParseWithLength((char *) value->data, value->len);
        b = cJSON_ParseWithLength((char *) value2.data, value2.len);

        fuzz_check(a && b && fuzz_json_equal(a, b),
                   "\"%.*s\" comes back as \"%.*s\"", (int) value->len,
                   value->data, (int) value2.len, value2.data);

        cJSON_Delete(a);
        cJSON_Delete(b);

    } else {
        fuzz_check(value2.len == 0, "not_found with a value");
    }

    ngx_free(text);
}


static ngx_uint_t
fuzz_utf8_whole(u_char *p, size_t len)
{
    size_t   n;
    u_char  *last;

    last = p + len;

    while (p < last) {
        n = ngx_http_osint_utf8_sequence(p, last);

        if (n == 0) {
            return 0;
        }

        p += n;
    }

    return 1;
}


static void
fuzz_long_way(ngx_http_osint_provider_t *p, ngx_pool_t *pool,
    const uint8_t *data, size_t size, ngx_int_t rc,
    ngx_http_osint_status_e status, ngx_str_t *value, time_t fresh_until,
    time_t answered)
{
    u_char                   *text;
    time_t                    fresh2, answered2;
    ngx_int_t                 rc2;
    ngx_str_t                 value2;
    ngx_http_osint_status_e   status2;

    text = ngx_pnalloc(pool, size + 1);
    fuzz_check(text != NULL, "no memory for %zu bytes", size + 1);

    text[0] = ' ';
    ngx_memcpy(text + 1, data, size);

    fresh2 = -1;
    answered2 = -1;
    status2 = NGX_HTTP_OSINT_PENDING;
    ngx_str_null(&value2);

    rc2 = ngx_http_osint_cache_decode(p, text, size + 1, pool, &value2,
                                      &status2, &fresh2, &answered2);

    fuzz_check(rc2 == rc, "rc %ld, the long way %ld", (long) rc, (long) rc2);

    if (rc != NGX_OK) {
        return;
    }

    fuzz_check(status2 == status && fresh2 == fresh_until
               && answered2 == answered && value2.len == value->len
               && ngx_memcmp(value2.data, value->data, value->len) == 0,
               "status %d, fresh_until %lld, at %lld, value \"%.*s\"; "
               "the long way %d, %lld, %lld, \"%.*s\"",
               (int) status, (long long) fresh_until, (long long) answered,
               (int) value->len, value->data, (int) status2,
               (long long) fresh2, (long long) answered2,
               (int) value2.len, value2.data);
}
