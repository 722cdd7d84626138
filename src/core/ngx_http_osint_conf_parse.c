
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The values of the module's directives, as pure functions of their text
 * so that fuzz/fuzz_conf_args.c can run them without a configuration.
 * The callers word the errors: these only tell whether a value is one.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


/* "name=value" parameters: NGX_OK and the value when arg is one */

ngx_int_t
ngx_http_osint_param(ngx_str_t *arg, char *name, ngx_str_t *value)
{
    size_t  len;

    len = ngx_strlen(name);

    if (arg->len <= len + 1 || ngx_strncmp(arg->data, name, len) != 0
        || arg->data[len] != '=')
    {
        return NGX_DECLINED;
    }

    value->data = arg->data + len + 1;
    value->len = arg->len - len - 1;

    return NGX_OK;
}


/*
 * The first of value[first..last] that repeats the "name=" of one before
 * it, or 0: a repeated parameter is a typo whichever of them was meant.
 */

ngx_uint_t
ngx_http_osint_param_repeated(ngx_str_t *value, ngx_uint_t first,
    ngx_uint_t last)
{
    u_char      *eq;
    size_t       len;
    ngx_uint_t   i, j;

    for (i = first + 1; i <= last; i++) {
        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL) {
            continue;
        }

        len = eq - value[i].data + 1;

        for (j = first; j < i; j++) {
            if (value[j].len >= len
                && ngx_strncmp(value[j].data, value[i].data, len) == 0)
            {
                return i;
            }
        }
    }

    return 0;
}


/* "name=TIME": NGX_OK and the time, NGX_DECLINED not this name, or NGX_ERROR */

ngx_int_t
ngx_http_osint_param_msec(ngx_str_t *arg, char *name, ngx_uint_t positive,
    ngx_msec_t *out)
{
    ngx_str_t   v;
    ngx_msec_t  t;

    if (ngx_http_osint_param(arg, name, &v) != NGX_OK) {
        return NGX_DECLINED;
    }

    t = ngx_parse_time(&v, 0);

    if (t == (ngx_msec_t) NGX_ERROR || (positive && t == 0)) {
        return NGX_ERROR;
    }

    *out = t;

    return NGX_OK;
}


/* "name=P%", 0 < P <= 100: as ngx_http_osint_param_msec() */

ngx_int_t
ngx_http_osint_param_percent(ngx_str_t *arg, char *name, ngx_uint_t *out)
{
    ngx_int_t  num;
    ngx_str_t  v;

    if (ngx_http_osint_param(arg, name, &v) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (v.len < 2 || v.data[v.len - 1] != '%') {
        return NGX_ERROR;
    }

    num = ngx_atoi(v.data, v.len - 1);

    if (num <= 0 || num > 100) {
        return NGX_ERROR;
    }

    *out = (ngx_uint_t) num;

    return NGX_OK;
}


/* "name=N", 0 < N <= max: as ngx_http_osint_param_msec() */

ngx_int_t
ngx_http_osint_param_num(ngx_str_t *arg, char *name, ngx_uint_t max,
    ngx_uint_t *out)
{
    ngx_int_t  num;
    ngx_str_t  v;

    if (ngx_http_osint_param(arg, name, &v) != NGX_OK) {
        return NGX_DECLINED;
    }

    num = ngx_atoi(v.data, v.len);

    if (num <= 0 || (ngx_uint_t) num > max) {
        return NGX_ERROR;
    }

    *out = (ngx_uint_t) num;

    return NGX_OK;
}


/*
 * "Nr/s" or "Nr/m", 0 < N <= NGX_HTTP_OSINT_RATE_MAX, as limit_req_zone
 * writes rates: NGX_OK, the rate and its window in seconds (1 or 60), or
 * NGX_ERROR.  The bound keeps tokens and their sums exact in a double.
 */

ngx_int_t
ngx_http_osint_rate_parse(ngx_str_t *value, ngx_int_t *rate,
    ngx_uint_t *window)
{
    u_char      *last;
    ngx_int_t    n;
    ngx_uint_t   w;

    if (value->len <= 3) {
        return NGX_ERROR;
    }

    last = value->data + value->len;

    if (ngx_strncmp(last - 3, "r/s", 3) == 0) {
        w = 1;

    } else if (ngx_strncmp(last - 3, "r/m", 3) == 0) {
        w = 60;

    } else {
        return NGX_ERROR;
    }

    n = ngx_atoi(value->data, value->len - 3);

    if (n <= 0 || n > NGX_HTTP_OSINT_RATE_MAX) {
        return NGX_ERROR;
    }

    *rate = n;
    *window = w;

    return NGX_OK;
}


/*
 * "N/h", "N/d" or "N/mo", 0 < N <= NGX_HTTP_OSINT_QUOTA_MAX: NGX_OK and
 * the quota, or NGX_ERROR
 */

ngx_int_t
ngx_http_osint_quota_parse(ngx_str_t *value, ngx_http_osint_quota_t *quota)
{
    u_char     *slash;
    ngx_int_t   limit;
    ngx_str_t   unit;

    slash = ngx_strlchr(value->data, value->data + value->len, '/');

    if (slash == NULL) {
        return NGX_ERROR;
    }

    limit = ngx_atoi(value->data, slash - value->data);

    if (limit <= 0 || limit > NGX_HTTP_OSINT_QUOTA_MAX) {
        return NGX_ERROR;
    }

    unit.data = slash + 1;
    unit.len = value->data + value->len - unit.data;

    if (unit.len == 1 && unit.data[0] == 'h') {
        quota->unit = NGX_HTTP_OSINT_QUOTA_HOUR;

    } else if (unit.len == 1 && unit.data[0] == 'd') {
        quota->unit = NGX_HTTP_OSINT_QUOTA_DAY;

    } else if (unit.len == 2 && ngx_strncmp(unit.data, "mo", 2) == 0) {
        quota->unit = NGX_HTTP_OSINT_QUOTA_MONTH;

    } else {
        return NGX_ERROR;
    }

    quota->limit = limit;

    return NGX_OK;
}


/*
 * The name of an osint_limit_zone: it goes into header fields and metric
 * labels unescaped, so letters, digits, "_", "-" and "." only.
 */

ngx_uint_t
ngx_http_osint_zone_name_valid(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > NGX_HTTP_OSINT_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
        {
            return 0;
        }
    }

    return 1;
}
