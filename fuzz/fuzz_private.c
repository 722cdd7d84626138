
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Private targets (src/core/ngx_http_osint_private.c):
 * ngx_http_osint_private_match() on what ngx_http_osint_target_parse()
 * makes of the input, and ngx_http_osint_private_parse() on the input as
 * a value of osint_private_nets.
 *
 * Input: the target, or the value.  Checked:
 *   - a reason is a non-empty text, the same twice; the list of
 *     osint_private_nets only adds (private without it: private with it);
 *   - a host is judged alike in every form that carries it: an IPv4
 *     address as itself, mapped (::ffff:), 6to4 (2002::/16) and in a
 *     url; an IPv6 address in brackets in a url; a name as itself, in a
 *     url (with credentials and a port) and in an e-mail address; and a
 *     name below a private one is private (but for names that are IPv4
 *     addresses as inet_aton() reads them);
 *   - a value is a prefix (no bit set past it, at most 32 or 128 bits) or
 *     ".name", and the name as a target is private with only it listed.
 */


#include "fuzz.h"

#include <arpa/inet.h>


static ngx_http_osint_private_t  fuzz_pc;


static void fuzz_list(ngx_pool_t *pool);
static const char *fuzz_judge(ngx_pool_t *pool, const char *fmt,
    ngx_str_t *host);
static void fuzz_forms(ngx_pool_t *pool, ngx_str_t *canonical,
    ngx_uint_t type);
static void fuzz_value(ngx_pool_t *pool, ngx_str_t *input);
static void fuzz_same(const char *a, const char *b, const char *form,
    ngx_str_t *host);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char       *copy;
    ngx_str_t     input, canonical;
    ngx_uint_t    type;
    const char   *why, *r1, *r2;
    ngx_pool_t   *pool;

    if (size > 512) {
        return 0;
    }

    pool = fuzz_pool();
    copy = fuzz_copy(data, size);

    input.data = copy;
    input.len = size;

    fuzz_list(pool);

    if (ngx_http_osint_target_parse(pool, &input, NGX_HTTP_OSINT_ANY,
                                    &canonical, &type, &why)
        == NGX_OK)
    {
        r1 = ngx_http_osint_private_match(NULL, &canonical, type);
        r2 = ngx_http_osint_private_match(&fuzz_pc, &canonical, type);

        fuzz_check(r1 == NULL || *r1, "an empty reason for %.*s",
                   (int) canonical.len, canonical.data);
        fuzz_check(r1 == ngx_http_osint_private_match(NULL, &canonical, type),
                   "two answers for %.*s", (int) canonical.len,
                   canonical.data);
        fuzz_check(r1 == NULL || r2 != NULL,
                   "osint_private_nets made %.*s public",
                   (int) canonical.len, canonical.data);

        fuzz_forms(pool, &canonical, type);
    }

    fuzz_value(pool, &input);

    free(copy);
    fuzz_pool_free(pool);

    return 0;
}


/* the list: one IPv4 and one IPv6 prefix, one domain suffix */

static void
fuzz_list(ngx_pool_t *pool)
{
    ngx_str_t             *d;
    ngx_http_osint_net_t  *n;

    fuzz_pc.nets = ngx_array_create(pool, 2, sizeof(ngx_http_osint_net_t));
    fuzz_pc.domains = ngx_array_create(pool, 1, sizeof(ngx_str_t));

    n = ngx_array_push_n(fuzz_pc.nets, 2);
    ngx_memzero(n, 2 * sizeof(ngx_http_osint_net_t));

    n[0].family = AF_INET;
    n[0].prefix = 24;
    n[0].addr[0] = 8;
    n[0].addr[1] = 8;
    n[0].addr[2] = 4;

    n[1].family = AF_INET6;
    n[1].prefix = 48;
    (void) inet_pton(AF_INET6, "2a01:4f8:c0de::", n[1].addr);

    d = ngx_array_push(fuzz_pc.domains);
    ngx_str_set(d, "corp.example.com");
}


/* the host in a form: NULL when public, "" when the form is no target */

static const char *
fuzz_judge(ngx_pool_t *pool, const char *fmt, ngx_str_t *host)
{
    u_char      *buf;
    ngx_str_t    in, canonical;
    ngx_uint_t   type;
    const char  *why;

    buf = ngx_pnalloc(pool, host->len + 64);
    in.data = buf;
    in.len = ngx_sprintf(buf, fmt, host) - buf;

    if (ngx_http_osint_target_parse(pool, &in, NGX_HTTP_OSINT_ANY,
                                    &canonical, &type, &why)
        != NGX_OK)
    {
        return "";
    }

    return ngx_http_osint_private_match(&fuzz_pc, &canonical, type);
}


static void
fuzz_same(const char *a, const char *b, const char *form, ngx_str_t *host)
{
    if (b && *b == '\0') {
        return;                         /* that form is no target */
    }

    fuzz_check((a == NULL) == (b == NULL), "%.*s: %s as itself, %s as %s",
               (int) host->len, host->data, a ? a : "public",
               b ? b : "public", form);
}


static void
fuzz_forms(ngx_pool_t *pool, ngx_str_t *canonical, ngx_uint_t type)
{
    u_char          *a, buf[256];
    ngx_str_t        six;
    const char      *r;
    struct in_addr   in;

    if (canonical->len >= sizeof(buf)) {
        return;
    }

    r = ngx_http_osint_private_match(&fuzz_pc, canonical, type);

    ngx_memcpy(buf, canonical->data, canonical->len);
    buf[canonical->len] = '\0';

    if (type == NGX_HTTP_OSINT_IPV4) {
        fuzz_same(r, fuzz_judge(pool, "::ffff:%V", canonical), "mapped",
                  canonical);
        fuzz_same(r, fuzz_judge(pool, "http://%V:8080/x", canonical), "url",
                  canonical);

        (void) inet_pton(AF_INET, (char *) buf, &in);

        a = (u_char *) &in;
        six.data = buf;
        six.len = ngx_sprintf(buf, "2002:%02xd%02xd:%02xd%02xd::1",
                              a[0], a[1], a[2], a[3])
                  - buf;

        fuzz_same(r, fuzz_judge(pool, "%V", &six), "6to4", canonical);
        return;
    }

    if (type == NGX_HTTP_OSINT_IPV6) {
        fuzz_same(r, fuzz_judge(pool, "https://u@[%V]:1/?q", canonical),
                  "url", canonical);
        return;
    }

    if (type != NGX_HTTP_OSINT_DOMAIN) {
        return;
    }

    fuzz_same(r, fuzz_judge(pool, "http://user:pw@%V:81/a?b#c", canonical),
              "url", canonical);
    fuzz_same(r, fuzz_judge(pool, "someone@%V", canonical), "e-mail",
              canonical);

    if (r && inet_aton((char *) buf, &in) == 0) {
        fuzz_check(fuzz_judge(pool, "x.%V", canonical) != NULL,
                   "x.%.*s is public below a private name",
                   (int) canonical->len, canonical->data);
    }
}


static void
fuzz_value(ngx_pool_t *pool, ngx_str_t *input)
{
    ngx_int_t                 rc;
    ngx_str_t                 domain, canonical;
    ngx_uint_t                i, full, type;
    const char               *why;
    ngx_http_osint_net_t      net;
    ngx_http_osint_private_t  pc;

    rc = ngx_http_osint_private_parse(input, &net, &domain);

    if (rc == NGX_OK || rc == NGX_DONE) {
        full = (net.family == AF_INET) ? 32 : 128;

        fuzz_check(net.family == AF_INET || net.family == AF_INET6,
                   "family %d", (int) net.family);
        fuzz_check(net.prefix <= full, "prefix %d", (int) net.prefix);

        for (i = net.prefix; i < full; i++) {
            fuzz_check(!(net.addr[i / 8] & (0x80 >> (i % 8))),
                       "bit %d set past /%d", (int) i, (int) net.prefix);
        }

        return;
    }

    if (rc != NGX_AGAIN) {
        fuzz_check(rc == NGX_DECLINED, "rc %d", (int) rc);
        return;
    }

    fuzz_check(domain.data == input->data + 1
               && domain.len == input->len - 1, "the domain is the rest");

    if (ngx_http_osint_target_parse(pool, &domain, NGX_HTTP_OSINT_DOMAIN,
                                    &canonical, &type, &why)
        != NGX_OK)
    {
        return;
    }

    pc.nets = NULL;
    pc.domains = ngx_array_create(pool, 1, sizeof(ngx_str_t));
    *(ngx_str_t *) ngx_array_push(pc.domains) = canonical;

    fuzz_check(ngx_http_osint_private_match(&pc, &canonical, type) != NULL,
               "%.*s listed but public", (int) canonical.len,
               canonical.data);
}
