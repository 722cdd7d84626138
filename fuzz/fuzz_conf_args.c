
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The values of the module's directives (src/core/ngx_http_osint_conf_parse.c):
 * rate_parse() ("rate" of osint_provider, "rate=" of osint_limit_zone),
 * quota_parse(), zone_name_valid(), and the "name=" parameters param(),
 * param_num(), param_msec() of rate, retries, breaker and cache_ttl.
 * ngx_atoi() and ngx_parse_time() are stubbed (fuzz/ngx_stubs.c).
 *
 * Input: one argument of a directive.  Checked, against a reading done
 * here:
 *   - rate: NGX_OK exactly for decimal N in 1..NGX_HTTP_OSINT_RATE_MAX
 *     followed by "r/s" (window 1) or "r/m" (window 60), with that N;
 *   - quota: NGX_OK exactly for N in 1..NGX_HTTP_OSINT_QUOTA_MAX "/" then
 *     "h", "d" or "mo", with that N and unit; nothing written otherwise;
 *   - zone names: 1 to NGX_HTTP_OSINT_NAME_MAX of [A-Za-z0-9_.-];
 *   - name=: NGX_OK exactly for "name=" and a non-empty rest, which is the
 *     value; name=N: N in 1..max (NGX_HTTP_OSINT_BURST_MAX), name=TIME: ngx_parse_time() of the
 *     rest, not 0 when it must be positive, and the time printed in ms
 *     reads back the same.
 */


#include "fuzz.h"


static ngx_int_t fuzz_number(u_char *p, size_t len);
static void fuzz_params(ngx_str_t *arg);


static char  *fuzz_param_names[] = {
    "burst", "wait", "backoff", "max_backoff", "failures", "half_open",
    "cooldown", "not_found", "stale", NULL
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                  *copy, *slash, c;
    size_t                   i;
    ngx_int_t                rc, rate, n;
    ngx_str_t                arg, unit;
    ngx_uint_t               window, valid;
    ngx_http_osint_quota_t   quota;

    copy = fuzz_copy(data, size);

    arg.data = copy;
    arg.len = size;

    /* rate */

    rate = -1;
    window = 0;
    rc = ngx_http_osint_rate_parse(&arg, &rate, &window);

    n = size > 3 ? fuzz_number(copy, size - 3) : NGX_ERROR;

    if (n > NGX_HTTP_OSINT_RATE_MAX) {
        n = NGX_ERROR;
    }

    if (n > 0 && ngx_strncmp(copy + size - 3, "r/s", 3) == 0) {
        fuzz_check(rc == NGX_OK && rate == n && window == 1,
                   "rate: rc %ld, %ld per %lu s, expected %ld/s", (long) rc,
                   (long) rate, (unsigned long) window, (long) n);

    } else if (n > 0 && ngx_strncmp(copy + size - 3, "r/m", 3) == 0) {
        fuzz_check(rc == NGX_OK && rate == n && window == 60,
                   "rate: rc %ld, %ld per %lu s, expected %ld/min",
                   (long) rc, (long) rate, (unsigned long) window, (long) n);

    } else {
        fuzz_check(rc == NGX_ERROR && rate == -1 && window == 0,
                   "rate: rc %ld for a bad rate", (long) rc);
    }

    /* quota */

    quota.limit = 0;
    quota.unit = 0;
    rc = ngx_http_osint_quota_parse(&arg, &quota);

    slash = memchr(copy, '/', size);
    n = slash ? fuzz_number(copy, slash - copy) : NGX_ERROR;
    window = 0;

    if (n > NGX_HTTP_OSINT_QUOTA_MAX) {
        n = NGX_ERROR;
    }

    if (n > 0) {
        unit.data = slash + 1;
        unit.len = copy + size - unit.data;

        if (unit.len == 1 && unit.data[0] == 'h') {
            window = NGX_HTTP_OSINT_QUOTA_HOUR;

        } else if (unit.len == 1 && unit.data[0] == 'd') {
            window = NGX_HTTP_OSINT_QUOTA_DAY;

        } else if (unit.len == 2 && unit.data[0] == 'm'
                   && unit.data[1] == 'o')
        {
            window = NGX_HTTP_OSINT_QUOTA_MONTH;
        }
    }

    if (window) {
        fuzz_check(rc == NGX_OK && quota.limit == (ngx_uint_t) n
                   && quota.unit == window,
                   "quota: rc %ld, %lu per unit %lu, expected %ld per %lu",
                   (long) rc, (unsigned long) quota.limit,
                   (unsigned long) quota.unit, (long) n,
                   (unsigned long) window);

    } else {
        fuzz_check(rc == NGX_ERROR && quota.limit == 0 && quota.unit == 0,
                   "quota: rc %ld for a bad quota", (long) rc);
    }

    /* zone names */

    valid = (size >= 1 && size <= NGX_HTTP_OSINT_NAME_MAX);

    for (i = 0; valid && i < size; i++) {
        c = copy[i];
        valid = (isalnum(c) && c < 0x80) || c == '_' || c == '-' || c == '.';
    }

    fuzz_check(ngx_http_osint_zone_name_valid(&arg) == valid,
               "zone name of %zu bytes: expected %lu", size,
               (unsigned long) valid);

    fuzz_params(&arg);

    free(copy);

    return 0;
}


/* decimal digits only, at most NGX_MAX_INT_T_VALUE; else NGX_ERROR */

static ngx_int_t
fuzz_number(u_char *p, size_t len)
{
    uint64_t  n;

    if (len == 0) {
        return NGX_ERROR;
    }

    for (n = 0; len--; p++) {
        if (*p < '0' || *p > '9'
            || __builtin_mul_overflow(n, 10, &n)
            || __builtin_add_overflow(n, (uint64_t) (*p - '0'), &n)
            || n > NGX_MAX_INT_T_VALUE)
        {
            return NGX_ERROR;
        }
    }

    return (ngx_int_t) n;
}


static void
fuzz_params(ngx_str_t *arg)
{
    u_char       buf[NGX_INT_T_LEN + 3];
    char       **name;
    size_t       len;
    ngx_int_t    rc, n, t;
    ngx_str_t    value, printed;
    ngx_uint_t   num, positive, is;
    ngx_msec_t   msec;

    for (name = fuzz_param_names; *name; name++) {
        len = ngx_strlen(*name);

        is = (arg->len > len + 1 && ngx_strncmp(arg->data, *name, len) == 0
              && arg->data[len] == '=');

        ngx_str_null(&value);
        rc = ngx_http_osint_param(arg, *name, &value);

        fuzz_check((rc == NGX_OK) == is
                   && (!is || (value.data == arg->data + len + 1
                               && value.len == arg->len - len - 1)),
                   "%s=: rc %ld", *name, (long) rc);

        num = 0;
        rc = ngx_http_osint_param_num(arg, *name, NGX_HTTP_OSINT_BURST_MAX,
                                      &num);

        if (!is) {
            fuzz_check(rc == NGX_DECLINED && num == 0, "%s=N: rc %ld",
                       *name, (long) rc);
            continue;
        }

        n = fuzz_number(value.data, value.len);

        if (n > NGX_HTTP_OSINT_BURST_MAX) {
            n = NGX_ERROR;
        }

        fuzz_check(n > 0 ? rc == NGX_OK && num == (ngx_uint_t) n
                         : rc == NGX_ERROR && num == 0,
                   "%s=N: rc %ld, %lu, expected %ld", *name, (long) rc,
                   (unsigned long) num, (long) n);

        t = ngx_parse_time(&value, 0);

        for (positive = 0; positive < 2; positive++) {
            msec = 1234;
            rc = ngx_http_osint_param_msec(arg, *name, positive, &msec);

            if (t == NGX_ERROR || (positive && t == 0)) {
                fuzz_check(rc == NGX_ERROR && msec == 1234,
                           "%s=TIME: rc %ld for a bad time", *name,
                           (long) rc);
                continue;
            }

            fuzz_check(rc == NGX_OK && msec == (ngx_msec_t) t,
                       "%s=TIME: rc %ld, %lu ms, expected %ld", *name,
                       (long) rc, (unsigned long) msec, (long) t);

            printed.data = buf;
            printed.len = ngx_sprintf(buf, "%Mms", msec) - buf;

            fuzz_check(ngx_parse_time(&printed, 0) == t,
                       "%s=TIME: %lu ms does not read back", *name,
                       (unsigned long) msec);
        }
    }
}
