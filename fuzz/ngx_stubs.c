
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Stand-ins for the nginx core functions the module's pure code calls, so
 * that the fuzz targets link without nginx: Debian's nginx-dev ships the
 * configured headers (build/nginx) but not the core's .c files.
 *
 * Pools: every ngx_palloc() is its own malloc(), remembered in the pool's
 * "large" list and freed by ngx_destroy_pool().  nginx carves small
 * allocations out of 16 KiB blocks, where AddressSanitizer cannot see an
 * overflow into the neighbour; one malloc() per allocation lets it see
 * every byte written past the end.
 *
 * Strings: small rewrites of nginx's ngx_string.c functions with the same
 * contracts (ngx_atoi's overflow check, ngx_strncasecmp stopping at NUL,
 * ngx_vslprintf's conversions and its "last" bound); ngx_unescape_uri()
 * (type 0 only) and ngx_parse_time() follow nginx's documented behaviour,
 * written here for the fuzzers, not taken from nginx.  A conversion the
 * stand-in does not know aborts, so it cannot hide a wrong format.
 *
 * Logging: ngx_log_error_core() and ngx_conf_log_error() format their
 * message into a buffer (so bad arguments still crash) and drop it.
 *
 * Every fuzz target links the whole of src/core/ and src/formats/ with
 * these, so whatever one pure file calls is here.
 */


#include "fuzz.h"


ngx_log_t  fuzz_log = { .log_level = NGX_LOG_DEBUG };


/* pools */

ngx_pool_t *
ngx_create_pool(size_t size, ngx_log_t *log)
{
    ngx_pool_t  *p;

    p = calloc(1, sizeof(ngx_pool_t));
    if (p == NULL) {
        return NULL;
    }

    p->log = log;
    p->current = p;

    return p;
}


void
ngx_destroy_pool(ngx_pool_t *pool)
{
    ngx_pool_large_t    *l, *next;
    ngx_pool_cleanup_t  *c, *cnext;

    for (c = pool->cleanup; c; c = cnext) {
        cnext = c->next;

        if (c->handler) {
            c->handler(c->data);
        }
    }

    for (l = pool->large; l; l = next) {
        next = l->next;
        free(l->alloc);
        free(l);
    }

    free(pool);
}


void *
ngx_palloc(ngx_pool_t *pool, size_t size)
{
    ngx_pool_large_t  *l;

    l = malloc(sizeof(ngx_pool_large_t));
    if (l == NULL) {
        return NULL;
    }

    /* nginx hands out a valid pointer for 0 bytes too */

    l->alloc = malloc(size ? size : 1);
    if (l->alloc == NULL) {
        free(l);
        return NULL;
    }

    l->next = pool->large;
    pool->large = l;

    return l->alloc;
}


void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    return ngx_palloc(pool, size);
}


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    void  *p;

    p = ngx_palloc(pool, size);
    if (p) {
        ngx_memzero(p, size);
    }

    return p;
}


ngx_int_t
ngx_pfree(ngx_pool_t *pool, void *p)
{
    ngx_pool_large_t  **l, *found;

    for (l = &pool->large; *l; l = &(*l)->next) {
        if ((*l)->alloc == p) {
            found = *l;
            *l = found->next;
            free(found->alloc);
            free(found);
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


ngx_pool_cleanup_t *
ngx_pool_cleanup_add(ngx_pool_t *p, size_t size)
{
    ngx_pool_cleanup_t  *c;

    c = ngx_palloc(p, sizeof(ngx_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    if (size) {
        c->data = ngx_palloc(p, size);
        if (c->data == NULL) {
            return NULL;
        }

    } else {
        c->data = NULL;
    }

    c->handler = NULL;
    c->next = p->cleanup;
    p->cleanup = c;

    return c;
}


void *
ngx_alloc(size_t size, ngx_log_t *log)
{
    return malloc(size);
}


void *
ngx_calloc(size_t size, ngx_log_t *log)
{
    return calloc(1, size);
}


/* arrays: nginx's growth rule (double), without extending in place */

ngx_array_t *
ngx_array_create(ngx_pool_t *p, ngx_uint_t n, size_t size)
{
    ngx_array_t  *a;

    a = ngx_palloc(p, sizeof(ngx_array_t));
    if (a == NULL) {
        return NULL;
    }

    if (ngx_array_init(a, p, n, size) != NGX_OK) {
        return NULL;
    }

    return a;
}


void *
ngx_array_push_n(ngx_array_t *a, ngx_uint_t n)
{
    void        *elt, *new;
    ngx_uint_t   nalloc;

    if (a->nelts + n > a->nalloc) {
        nalloc = 2 * ngx_max(n, a->nalloc);

        new = ngx_palloc(a->pool, nalloc * a->size);
        if (new == NULL) {
            return NULL;
        }

        ngx_memcpy(new, a->elts, a->nelts * a->size);
        a->elts = new;
        a->nalloc = nalloc;
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts += n;

    return elt;
}


void *
ngx_array_push(ngx_array_t *a)
{
    return ngx_array_push_n(a, 1);
}


/* strings */

void
ngx_strlow(u_char *dst, u_char *src, size_t n)
{
    while (n--) {
        *dst++ = ngx_tolower(*src);
        src++;
    }
}


ngx_int_t
ngx_strcasecmp(u_char *s1, u_char *s2)
{
    return ngx_strncasecmp(s1, s2, (size_t) -1);
}


ngx_int_t
ngx_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    ngx_uint_t  c1, c2;

    while (n) {
        c1 = ngx_tolower(*s1);
        c2 = ngx_tolower(*s2);
        s1++;
        s2++;

        if (c1 == c2) {
            if (c1) {
                n--;
                continue;
            }

            return 0;
        }

        return c1 - c2;
    }

    return 0;
}


u_char *
ngx_cpystrn(u_char *dst, u_char *src, size_t n)
{
    if (n == 0) {
        return dst;
    }

    while (--n) {
        *dst = *src;

        if (*dst == '\0') {
            return dst;
        }

        dst++;
        src++;
    }

    *dst = '\0';

    return dst;
}


ngx_int_t
ngx_memn2cmp(u_char *s1, u_char *s2, size_t n1, size_t n2)
{
    size_t     n;
    ngx_int_t  m, z;

    if (n1 <= n2) {
        n = n1;
        z = -1;

    } else {
        n = n2;
        z = 1;
    }

    m = ngx_memcmp(s1, s2, n);

    if (m || n1 == n2) {
        return m;
    }

    return z;
}


ngx_int_t
ngx_atoi(u_char *line, size_t n)
{
    ngx_int_t  value, cutoff, cutlim;

    if (n == 0) {
        return NGX_ERROR;
    }

    cutoff = NGX_MAX_INT_T_VALUE / 10;
    cutlim = NGX_MAX_INT_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return NGX_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return NGX_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


/* the value of a hex digit, or -1 */

static int
fuzz_hex_digit(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


/*
 * A stand-in for ngx_unescape_uri() of type 0, the only type the module
 * passes, written for the fuzzers from nginx's documented behaviour:
 * "%XX" becomes its byte; a "%" before a byte that is no hex digit is
 * dropped and the byte kept; "%X" before one that is not is dropped with
 * it; an escape cut by the end is dropped.  The output is never longer
 * than the input, which is what the module relies on.
 */

void
ngx_unescape_uri(u_char **dst, u_char **src, size_t size, ngx_uint_t type)
{
    int      hi, lo;
    u_char  *d, *s, *last;

    if (type != 0) {
        abort();
    }

    d = *dst;
    s = *src;
    last = s + size;

    while (s < last) {

        if (*s != '%') {
            *d++ = *s++;
            continue;
        }

        if (++s == last) {
            break;
        }

        hi = fuzz_hex_digit(*s);

        if (hi < 0) {
            *d++ = *s++;
            continue;
        }

        if (++s == last) {
            break;
        }

        lo = fuzz_hex_digit(*s++);

        if (lo >= 0) {
            *d++ = (u_char) (hi << 4 | lo);
        }
    }

    *dst = d;
    *src = s;
}


/*
 * A stand-in for ngx_parse_time(), written for the fuzzers from nginx's
 * documented time syntax: numbers with units, largest first, each unit at
 * most once, blanks between them, "1h 30m", "500ms"; a number without a
 * unit counts as seconds and ends the value; "y" and "M" only for
 * seconds (is_sec), "ms" only for milliseconds.  The result is in ms (s
 * when is_sec); NGX_ERROR for anything else or beyond NGX_MAX_INT_T_VALUE.
 */

typedef struct {
    const char  *name;
    ngx_int_t    sec;           /* seconds in one unit; 0: a millisecond */
    ngx_uint_t   sec_only;
} fuzz_time_unit_t;

static fuzz_time_unit_t  fuzz_time_units[] = {     /* largest first */
    { "y",  60 * 60 * 24 * 365, 1 },
    { "M",  60 * 60 * 24 * 30,  1 },
    { "w",  60 * 60 * 24 * 7,   0 },
    { "d",  60 * 60 * 24,       0 },
    { "h",  60 * 60,            0 },
    { "m",  60,                 0 },
    { "s",  1,                  0 },
    { "ms", 0,                  0 },
};

#define FUZZ_TIME_UNITS                                                       \
    (sizeof(fuzz_time_units) / sizeof(fuzz_time_units[0]))


/* total += value * scale, NGX_ERROR past NGX_MAX_INT_T_VALUE */

static ngx_int_t
fuzz_time_add(ngx_int_t *total, ngx_int_t value, ngx_int_t scale)
{
    if (scale && value > NGX_MAX_INT_T_VALUE / scale) {
        return NGX_ERROR;
    }

    if (*total > NGX_MAX_INT_T_VALUE - value * scale) {
        return NGX_ERROR;
    }

    *total += value * scale;

    return NGX_OK;
}


ngx_int_t
ngx_parse_time(ngx_str_t *line, ngx_uint_t is_sec)
{
    u_char            *p, *last;
    size_t             n;
    ngx_int_t          value, total, scale;
    ngx_uint_t         u, next, digits, unit;
    fuzz_time_unit_t  *tu;

    p = line->data;
    last = p + line->len;
    total = 0;
    next = 0;               /* the first unit still allowed */
    digits = 0;

    while (p < last) {

        /* a number */

        value = 0;

        for (n = 0; p < last && *p >= '0' && *p <= '9'; n++, p++) {
            if (value > (NGX_MAX_INT_T_VALUE - (*p - '0')) / 10) {
                return NGX_ERROR;
            }

            value = value * 10 + (*p - '0');
        }

        digits += n;

        if (p == last || *p == ' ') {

            /* no unit: seconds, and nothing may follow but blanks */

            if (fuzz_time_add(&total, value, is_sec ? 1 : 1000) != NGX_OK) {
                return NGX_ERROR;
            }

            while (p < last && *p == ' ') {
                p++;
            }

            if (p < last) {
                return NGX_ERROR;
            }

            break;
        }

        /* its unit: "ms" before "m" */

        unit = FUZZ_TIME_UNITS;

        for (u = 0; u < FUZZ_TIME_UNITS; u++) {
            tu = &fuzz_time_units[u];
            n = ngx_strlen(tu->name);

            if ((size_t) (last - p) >= n
                && ngx_strncmp(p, tu->name, n) == 0
                && (unit == FUZZ_TIME_UNITS
                    || n > ngx_strlen(fuzz_time_units[unit].name)))
            {
                unit = u;
            }
        }

        if (unit == FUZZ_TIME_UNITS || unit < next) {
            return NGX_ERROR;
        }

        tu = &fuzz_time_units[unit];

        if ((tu->sec_only && !is_sec) || (tu->sec == 0 && is_sec)) {
            return NGX_ERROR;
        }

        scale = tu->sec ? (is_sec ? tu->sec : tu->sec * 1000) : 1;

        if (fuzz_time_add(&total, value, scale) != NGX_OK) {
            return NGX_ERROR;
        }

        p += ngx_strlen(tu->name);
        next = unit + 1;

        while (p < last && *p == ' ') {
            p++;
        }
    }

    return digits ? total : NGX_ERROR;
}


static void
fuzz_encode_base64(ngx_str_t *dst, ngx_str_t *src, const char *basis,
    ngx_uint_t padding)
{
    u_char  *d, *s;
    size_t   len;

    len = src->len;
    s = src->data;
    d = dst->data;

    while (len > 2) {
        *d++ = basis[(s[0] >> 2) & 0x3f];
        *d++ = basis[((s[0] & 3) << 4) | (s[1] >> 4)];
        *d++ = basis[((s[1] & 0x0f) << 2) | (s[2] >> 6)];
        *d++ = basis[s[2] & 0x3f];

        s += 3;
        len -= 3;
    }

    if (len) {
        *d++ = basis[(s[0] >> 2) & 0x3f];

        if (len == 1) {
            *d++ = basis[(s[0] & 3) << 4];
            if (padding) {
                *d++ = '=';
            }

        } else {
            *d++ = basis[((s[0] & 3) << 4) | (s[1] >> 4)];
            *d++ = basis[(s[1] & 0x0f) << 2];
        }

        if (padding) {
            *d++ = '=';
        }
    }

    dst->len = d - dst->data;
}


void
ngx_encode_base64(ngx_str_t *dst, ngx_str_t *src)
{
    fuzz_encode_base64(dst, src,
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 1);
}


void
ngx_encode_base64url(ngx_str_t *dst, ngx_str_t *src)
{
    fuzz_encode_base64(dst, src,
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 0);
}


/* formatted output: nginx's conversions, bounded by "last" */

static u_char *
fuzz_sprintf_num(u_char *buf, u_char *last, uint64_t ui64, u_char zero,
    ngx_uint_t hexadecimal, ngx_uint_t width)
{
    u_char         *p, temp[NGX_INT64_LEN + 1];
    size_t          len;
    static u_char   hex[] = "0123456789abcdef";
    static u_char   HEX[] = "0123456789ABCDEF";

    p = temp + NGX_INT64_LEN;

    do {
        if (hexadecimal == 0) {
            *--p = (u_char) (ui64 % 10 + '0');
            ui64 /= 10;

        } else {
            *--p = (hexadecimal == 1 ? hex : HEX)[ui64 & 0xf];
            ui64 >>= 4;
        }
    } while (ui64 != 0);

    len = (temp + NGX_INT64_LEN) - p;

    while (len++ < width && buf < last) {
        *buf++ = zero;
    }

    len = (temp + NGX_INT64_LEN) - p;

    if (buf + len > last) {
        len = last - buf;
    }

    return ngx_cpymem(buf, p, len);
}


u_char *
ngx_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    u_char      *p, zero;
    size_t       slen, len;
    int64_t      i64;
    uint64_t     ui64;
    ngx_str_t   *v;
    ngx_msec_t   ms;
    ngx_uint_t   width, sign, hex, max_width;

    while (*fmt && buf < last) {

        if (*fmt != '%') {
            *buf++ = *fmt++;
            continue;
        }

        i64 = 0;
        ui64 = 0;

        zero = (u_char) ((*++fmt == '0') ? '0' : ' ');
        width = 0;
        sign = 1;
        hex = 0;
        max_width = 0;
        slen = (size_t) -1;

        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }

        for ( ;; ) {
            switch (*fmt) {

            case 'u':
                sign = 0;
                fmt++;
                continue;

            case 'm':
                max_width = 1;
                fmt++;
                continue;

            case 'X':
                hex = 2;
                sign = 0;
                fmt++;
                continue;

            case 'x':
                hex = 1;
                sign = 0;
                fmt++;
                continue;

            case '*':
                slen = va_arg(args, size_t);
                fmt++;
                continue;

            default:
                break;
            }

            break;
        }

        switch (*fmt) {

        case 'V':
            v = va_arg(args, ngx_str_t *);
            len = ngx_min((size_t) (last - buf), v->len);
            buf = ngx_cpymem(buf, v->data, len);
            fmt++;
            continue;

        case 's':
            p = va_arg(args, u_char *);

            if (slen == (size_t) -1) {
                while (*p && buf < last) {
                    *buf++ = *p++;
                }

            } else {
                len = ngx_min((size_t) (last - buf), slen);
                buf = ngx_cpymem(buf, p, len);
            }

            fmt++;
            continue;

        case 'O':
            i64 = (int64_t) va_arg(args, off_t);
            sign = 1;
            break;

        case 'P':
            i64 = (int64_t) va_arg(args, ngx_pid_t);
            sign = 1;
            break;

        case 'T':
            i64 = (int64_t) va_arg(args, time_t);
            sign = 1;
            break;

        case 'M':
            ms = (ngx_msec_t) va_arg(args, ngx_msec_t);
            if ((ngx_msec_int_t) ms == -1) {
                sign = 1;
                i64 = -1;

            } else {
                sign = 0;
                ui64 = (uint64_t) ms;
            }
            break;

        case 'z':
            if (sign) {
                i64 = (int64_t) va_arg(args, ssize_t);
            } else {
                ui64 = (uint64_t) va_arg(args, size_t);
            }
            break;

        case 'i':
            if (sign) {
                i64 = (int64_t) va_arg(args, ngx_int_t);
            } else {
                ui64 = (uint64_t) va_arg(args, ngx_uint_t);
            }

            if (max_width) {
                width = NGX_INT_T_LEN;
            }
            break;

        case 'd':
            if (sign) {
                i64 = (int64_t) va_arg(args, int);
            } else {
                ui64 = (uint64_t) va_arg(args, u_int);
            }
            break;

        case 'l':
            if (sign) {
                i64 = (int64_t) va_arg(args, long);
            } else {
                ui64 = (uint64_t) va_arg(args, u_long);
            }
            break;

        case 'D':
            if (sign) {
                i64 = (int64_t) va_arg(args, int32_t);
            } else {
                ui64 = (uint64_t) va_arg(args, uint32_t);
            }
            break;

        case 'L':
            if (sign) {
                i64 = va_arg(args, int64_t);
            } else {
                ui64 = va_arg(args, uint64_t);
            }
            break;

        case 'A':
            if (sign) {
                i64 = (int64_t) va_arg(args, ngx_atomic_int_t);
            } else {
                ui64 = (uint64_t) va_arg(args, ngx_atomic_uint_t);
            }
            break;

        case 'p':
            ui64 = (uintptr_t) va_arg(args, void *);
            hex = 2;
            sign = 0;
            zero = '0';
            width = 2 * sizeof(void *);
            break;

        case 'c':
            *buf++ = (u_char) (va_arg(args, int) & 0xff);
            fmt++;
            continue;

        case 'Z':
            *buf++ = '\0';
            fmt++;
            continue;

        case 'N':
            *buf++ = LF;
            fmt++;
            continue;

        case '%':
            *buf++ = '%';
            fmt++;
            continue;

        default:
            fprintf(stderr, "fuzz/ngx_stubs.c: ngx_vslprintf() stand-in does "
                    "not know the conversion \"%%%c\" (in \"%s\"): add it\n",
                    *fmt, fmt);
            abort();
        }

        if (sign) {
            if (i64 < 0) {
                *buf++ = '-';
                ui64 = (uint64_t) 0 - (uint64_t) i64;

            } else {
                ui64 = (uint64_t) i64;
            }
        }

        buf = fuzz_sprintf_num(buf, last, ui64, zero, hex, width);

        fmt++;
    }

    return buf;
}


u_char * ngx_cdecl
ngx_sprintf(u_char *buf, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, (void *) -1, fmt, args);
    va_end(args);

    return p;
}


u_char * ngx_cdecl
ngx_snprintf(u_char *buf, size_t max, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + max, fmt, args);
    va_end(args);

    return p;
}


u_char * ngx_cdecl
ngx_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, last, fmt, args);
    va_end(args);

    return p;
}


/*
 * The cycle (for its log, ngx_cycle->log), ngx_gmtime() with gmtime_r()
 * for quota months, and the CRC-32 tables, computed as
 * ngx_crc32_table_init() does, for the cache value's fingerprint.
 */

static ngx_cycle_t  fuzz_cycle = { .log = &fuzz_log };

volatile ngx_cycle_t  *ngx_cycle = &fuzz_cycle;

static uint32_t  fuzz_crc32_short[16];
uint32_t        *ngx_crc32_table_short = fuzz_crc32_short;
uint32_t         ngx_crc32_table256[256];


void
ngx_gmtime(time_t t, ngx_tm_t *tp)
{
    struct tm  tm;

    if (gmtime_r(&t, &tm) == NULL) {
        abort();
    }

    tp->ngx_tm_sec = tm.tm_sec;
    tp->ngx_tm_min = tm.tm_min;
    tp->ngx_tm_hour = tm.tm_hour;
    tp->ngx_tm_mday = tm.tm_mday;
    tp->ngx_tm_mon = tm.tm_mon + 1;
    tp->ngx_tm_year = tm.tm_year + 1900;
    tp->ngx_tm_wday = tm.tm_wday;
}


__attribute__((constructor)) static void
fuzz_crc32_init(void)
{
    uint32_t    c;
    ngx_uint_t  i, k;

    for (i = 0; i < 256; i++) {
        c = (uint32_t) i;

        for (k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320 ^ (c >> 1) : c >> 1;
        }

        ngx_crc32_table256[i] = c;
    }

    for (i = 0; i < 16; i++) {
        fuzz_crc32_short[i] = ngx_crc32_table256[i * 16];
    }
}


/* logging: formatted (bad arguments crash here too), then dropped */

void ngx_cdecl
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   errstr[NGX_MAX_ERROR_STR];
    va_list  args;

    va_start(args, fmt);
    (void) ngx_vslprintf(errstr, errstr + NGX_MAX_ERROR_STR, fmt, args);
    va_end(args);
}


void ngx_cdecl
ngx_conf_log_error(ngx_uint_t level, ngx_conf_t *cf, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   errstr[NGX_MAX_CONF_ERRSTR];
    va_list  args;

    va_start(args, fmt);
    (void) ngx_vslprintf(errstr, errstr + NGX_MAX_CONF_ERRSTR, fmt, args);
    va_end(args);
}


/* helpers of the targets */

ngx_pool_t *
fuzz_pool(void)
{
    ngx_pool_t  *pool;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, &fuzz_log);
    if (pool == NULL) {
        abort();
    }

    return pool;
}


void
fuzz_pool_free(ngx_pool_t *pool)
{
    ngx_destroy_pool(pool);
}


void
fuzz_conf(ngx_conf_t *cf, ngx_pool_t *pool)
{
    ngx_memzero(cf, sizeof(ngx_conf_t));

    cf->pool = pool;
    cf->temp_pool = pool;
    cf->log = &fuzz_log;
}


u_char *
fuzz_copy(const uint8_t *data, size_t size)
{
    u_char  *copy;

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        abort();
    }

    return ngx_cpymem(copy, data, size) - size;
}


int
fuzz_next(const u_char **p, const u_char *last, u_char sep, ngx_str_t *part)
{
    const u_char  *start, *end;

    start = *p;

    if (start == NULL) {
        return 0;
    }

    end = memchr(start, sep, last - start);

    part->data = (u_char *) start;
    part->len = (end ? end : last) - start;

    /* NULL: the last part was handed out */

    *p = end ? end + 1 : NULL;

    return 1;
}


/*
 * cJSON_Compare() finds no object with a repeated member name equal to
 * itself (it looks names up: the first one wins), nor an infinite number
 * (1e999).  Equal here: cJSON_Compare(), or the same text.
 */

ngx_uint_t
fuzz_json_equal(cJSON *a, cJSON *b)
{
    char        *pa, *pb;
    ngx_uint_t   eq;

    if (cJSON_Compare(a, b, 1)) {
        return 1;
    }

    if (a == NULL || b == NULL) {
        return 0;
    }

    pa = cJSON_PrintUnformatted(a);
    pb = cJSON_PrintUnformatted(b);

    eq = (pa && pb && strcmp(pa, pb) == 0);

    cJSON_free(pa);
    cJSON_free(pb);

    return eq;
}
