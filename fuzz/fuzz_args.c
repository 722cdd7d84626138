
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The module's reading of the query arguments of /lookup
 * (src/core/ngx_http_osint_args.c): ngx_http_osint_arg_decode() (the length
 * limit, then nginx's ngx_unescape_uri(), stubbed), type=
 * (ngx_http_osint_type_parse()), refresh= (ngx_http_osint_refresh_parse())
 * and providers= (ngx_http_osint_providers_parse()) over 64 configured
 * providers, the most there can be.
 *
 * Input: a query string.  It is split here as ngx_http_arg() finds
 * arguments: the first "&"-separated part whose name matches, case
 * aside.  Checked:
 *   - ngx_http_osint_query_parse() finds each argument, or its absence,
 *     exactly there, in its one pass;
 *   - decoding refuses exactly the values longer than
 *     NGX_HTTP_OSINT_PARAM_MAX, never lengthens, keeps a value without
 *     "%" as it is and decodes well-formed "%XX" as expected;
 *   - type= is accepted exactly for a known name, case aside;
 *   - refresh= is accepted exactly for "0" and "1", bypass for "1";
 *   - providers=, and the whole input taken as a list: NGX_OK exactly
 *     when every non-empty comma-separated name is configured, with
 *     their bits (all bits for an empty list); NGX_DECLINED names the
 *     first unknown one, as it lies in the list.
 */


#include "fuzz.h"


#define FUZZ_NPROVIDERS  64


static void fuzz_providers(ngx_array_t *providers);
static ngx_int_t fuzz_arg(ngx_str_t *args, char *name, ngx_str_t *raw);
static void fuzz_query(ngx_str_t *args);
static ngx_str_t *fuzz_decode(ngx_pool_t *pool, ngx_str_t *args, char *name);
static void fuzz_list(ngx_array_t *providers, ngx_str_t *list);
static ngx_int_t fuzz_known(ngx_array_t *providers, ngx_str_t *name);
static ngx_uint_t fuzz_hex(u_char c);


static char  *fuzz_names[] = {
    "vt", "abuseipdb", "ipinfo", "internetdb", "rdap", "crtsh", "greynoise",
    "urlhaus", "dns", "a", "a-b", "x_1", "A", "ab", NULL
};

static char  *fuzz_types[] = {
    "ip", "ipv4", "ipv6", "domain", "email", "url", "hash", NULL
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char         **t;
    u_char        *copy;
    ngx_str_t      args, *v;
    ngx_uint_t     type, known, bypass;
    ngx_int_t      rc;
    ngx_pool_t    *pool;
    ngx_array_t    providers;

    copy = fuzz_copy(data, size);

    args.data = copy;
    args.len = size;

    pool = fuzz_pool();

    if (ngx_array_init(&providers, pool, FUZZ_NPROVIDERS,
                       sizeof(ngx_http_osint_provider_t))
        != NGX_OK)
    {
        abort();
    }

    fuzz_providers(&providers);

    fuzz_query(&args);

    (void) fuzz_decode(pool, &args, "target");

    v = fuzz_decode(pool, &args, "type");

    if (v) {
        known = 0;

        for (t = fuzz_types; *t; t++) {
            known |= (v->len == ngx_strlen(*t)
                      && ngx_strncasecmp(v->data, (u_char *) *t, v->len) == 0);
        }

        type = 0;
        rc = ngx_http_osint_type_parse(v, &type);

        fuzz_check((rc == NGX_OK) == known && (rc != NGX_OK || type != 0),
                   "type \"%.*s\": rc %ld, type %lu", (int) v->len, v->data,
                   (long) rc, (unsigned long) type);
    }

    v = fuzz_decode(pool, &args, "refresh");

    if (v) {
        bypass = 2;
        rc = ngx_http_osint_refresh_parse(v, &bypass);

        if (v->len == 1 && (v->data[0] == '0' || v->data[0] == '1')) {
            fuzz_check(rc == NGX_OK
                       && bypass == (ngx_uint_t) (v->data[0] == '1'),
                       "refresh \"%c\": rc %ld, bypass %lu", v->data[0],
                       (long) rc, (unsigned long) bypass);

        } else {
            fuzz_check(rc == NGX_DECLINED && bypass == 2,
                       "refresh \"%.*s\": rc %ld", (int) v->len, v->data,
                       (long) rc);
        }
    }

    v = fuzz_decode(pool, &args, "providers");

    if (v) {
        fuzz_list(&providers, v);
    }

    fuzz_list(&providers, &args);

    fuzz_pool_free(pool);
    free(copy);

    return 0;
}


/* the names above, then "p14".."p63": index i, bit i */

static void
fuzz_providers(ngx_array_t *providers)
{
    u_char                     *name;
    ngx_uint_t                  i;
    ngx_http_osint_provider_t  *p;

    for (i = 0; i < FUZZ_NPROVIDERS; i++) {
        p = ngx_array_push(providers);
        if (p == NULL) {
            abort();
        }

        ngx_memzero(p, sizeof(ngx_http_osint_provider_t));
        p->index = i;

        if (i < sizeof(fuzz_names) / sizeof(fuzz_names[0]) - 1) {
            p->name.data = (u_char *) fuzz_names[i];
            p->name.len = ngx_strlen(fuzz_names[i]);
            continue;
        }

        name = ngx_pnalloc(providers->pool, 8);
        if (name == NULL) {
            abort();
        }

        p->name.data = name;
        p->name.len = ngx_sprintf(name, "p%ui", i) - name;
    }
}


/* as ngx_http_arg(): NGX_OK and the first "name=" part's value */

static ngx_int_t
fuzz_arg(ngx_str_t *args, char *name, ngx_str_t *raw)
{
    size_t         len;
    ngx_str_t      part;
    const u_char  *p;

    len = ngx_strlen(name);
    p = args->len ? args->data : NULL;

    while (fuzz_next(&p, args->data + args->len, '&', &part)) {
        if (part.len > len && part.data[len] == '='
            && ngx_strncasecmp(part.data, (u_char *) name, len) == 0)
        {
            raw->data = part.data + len + 1;
            raw->len = part.len - len - 1;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* ngx_http_osint_query_parse() against fuzz_arg() for each name */

static void
fuzz_query(ngx_str_t *args)
{
    ngx_str_t               raw, *found;
    ngx_uint_t              i;
    ngx_http_osint_query_t  q;

    static char  *names[] = { "target", "type", "refresh", "providers" };
    ngx_str_t    *args_of[] = { &q.target, &q.type, &q.refresh,
                                &q.providers };

    ngx_http_osint_query_parse(args, &q);

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        found = args_of[i];

        if (fuzz_arg(args, names[i], &raw) != NGX_OK) {
            fuzz_check(found->data == NULL, "%s found at %ld, absent",
                       names[i], (long) (found->data - args->data));
            continue;
        }

        fuzz_check(found->data == raw.data && found->len == raw.len,
                   "%s found at %ld (%zu bytes), expected at %ld (%zu)",
                   names[i],
                   found->data ? (long) (found->data - args->data) : -1L,
                   found->len, (long) (raw.data - args->data), raw.len);
    }
}


/* the argument decoded by the module, checked; NULL when absent or long */

static ngx_str_t *
fuzz_decode(ngx_pool_t *pool, ngx_str_t *args, char *name)
{
    u_char      *p, *last, *d;
    ngx_int_t    rc;
    ngx_str_t    raw, *value;
    ngx_uint_t   escapes, wellformed;

    if (fuzz_arg(args, name, &raw) != NGX_OK) {
        return NULL;
    }

    value = ngx_pcalloc(pool, sizeof(ngx_str_t));
    if (value == NULL) {
        abort();
    }

    rc = ngx_http_osint_arg_decode(pool, &raw, value);

    if (raw.len > NGX_HTTP_OSINT_PARAM_MAX) {
        fuzz_check(rc == NGX_DECLINED, "%s of %zu bytes: rc %ld", name,
                   raw.len, (long) rc);
        return NULL;
    }

    fuzz_check(rc == NGX_OK, "%s of %zu bytes: rc %ld", name, raw.len,
               (long) rc);

    fuzz_check(value->len <= raw.len, "%s: %zu bytes decoded from %zu", name,
               value->len, raw.len);

    /* every "%" followed by two hex digits: decode it here too */

    escapes = 0;
    wellformed = 1;
    last = raw.data + raw.len;

    for (p = raw.data; p < last; p++) {
        if (*p == '%') {
            escapes++;
            wellformed &= (last - p > 2 && isxdigit(p[1]) && isxdigit(p[2]));
            p += 2;
        }
    }

    if (!wellformed) {
        return value;
    }

    fuzz_check(value->len == raw.len - 2 * escapes, "%s: %zu bytes decoded "
               "from %zu with %lu escapes", name, value->len, raw.len,
               (unsigned long) escapes);

    d = value->data;

    for (p = raw.data; p < last; p++, d++) {
        if (*p == '%') {
            fuzz_check(*d == fuzz_hex(p[1]) * 16 + fuzz_hex(p[2]),
                       "%s: %%%c%c decoded as 0x%02x", name, p[1], p[2], *d);
            p += 2;

        } else {
            fuzz_check(*d == *p, "%s: byte %zu changed", name,
                       (size_t) (p - raw.data));
        }
    }

    return value;
}


/* providers_parse() against the list split here */

static void
fuzz_list(ngx_array_t *providers, ngx_str_t *list)
{
    uint64_t       wanted, expected;
    ngx_int_t      rc, i;
    ngx_str_t      name, unknown, first;
    const u_char  *p;

    wanted = 0x5a5a;
    ngx_str_null(&unknown);
    ngx_str_null(&first);

    rc = ngx_http_osint_providers_parse(providers, list, &wanted, &unknown);

    expected = list->len ? 0 : (uint64_t) -1;
    p = list->len ? list->data : NULL;

    while (fuzz_next(&p, list->data + list->len, ',', &name)) {
        if (name.len == 0) {
            continue;
        }

        i = fuzz_known(providers, &name);

        if (i < 0) {
            first = name;
            break;
        }

        expected |= (uint64_t) 1 << i;
    }

    if (first.data == NULL) {
        fuzz_check(rc == NGX_OK && wanted == expected,
                   "list of %zu bytes: rc %ld, wanted %016llx, expected "
                   "%016llx", list->len, (long) rc,
                   (unsigned long long) wanted,
                   (unsigned long long) expected);
        return;
    }

    fuzz_check(rc == NGX_DECLINED && unknown.data == first.data
               && unknown.len == first.len,
               "list of %zu bytes: rc %ld, unknown \"%.*s\" at %ld, expected "
               "\"%.*s\" at %ld", list->len, (long) rc, (int) unknown.len,
               unknown.data, (long) (unknown.data - list->data),
               (int) first.len, first.data, (long) (first.data - list->data));
}


/* the index of a configured name, -1: none; compared byte for byte */

static ngx_int_t
fuzz_known(ngx_array_t *providers, ngx_str_t *name)
{
    ngx_uint_t                  i;
    ngx_http_osint_provider_t  *p;

    p = providers->elts;

    for (i = 0; i < providers->nelts; i++) {
        if (p[i].name.len == name->len
            && memcmp(p[i].name.data, name->data, name->len) == 0)
        {
            return (ngx_int_t) i;
        }
    }

    return -1;
}


static ngx_uint_t
fuzz_hex(u_char c)
{
    return (c <= '9') ? (ngx_uint_t) (c - '0')
                      : (ngx_uint_t) ((c | 0x20) - 'a' + 10);
}
