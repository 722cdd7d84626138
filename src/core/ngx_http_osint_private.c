
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Private targets: whether a canonical target (ngx_http_osint_target.c)
 * names something of the organisation's own network, which must not
 * leave for a third party.  Two tables of address ranges, first match
 * wins, and a list of special-use domains, then the ranges and domain
 * suffixes of osint_private_nets.  Pure: no request, no nginx state.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <arpa/inet.h>

#include "ngx_http_osint_core.h"


#define NGX_HTTP_OSINT_RANGE_PRIVATE   0
#define NGX_HTTP_OSINT_RANGE_PUBLIC    1
#define NGX_HTTP_OSINT_RANGE_MAPPED    2    /* IPv4 in the last 32 bits */
#define NGX_HTTP_OSINT_RANGE_6TO4      3    /* IPv4 in bits 16..47 */
#define NGX_HTTP_OSINT_RANGE_TEREDO    4    /* server, ~client */


typedef struct {
    u_char                      addr[16];
    ngx_uint_t                  prefix;
    ngx_uint_t                  action;     /* 0: PRIVATE */
    const char                 *name;       /* of a private range */
} ngx_http_osint_range_t;


static const char *ngx_http_osint_private_url(ngx_http_osint_private_t *pc,
    u_char *p, size_t len);
static const char *ngx_http_osint_private_host(ngx_http_osint_private_t *pc,
    u_char *p, size_t len);
static const char *ngx_http_osint_private_name(ngx_http_osint_private_t *pc,
    u_char *p, size_t len);
static ngx_uint_t ngx_http_osint_private_suffix(u_char *p, size_t len,
    ngx_str_t *suffix);
static const char *ngx_http_osint_private_reverse(
    ngx_http_osint_private_t *pc, u_char *p, size_t len);
static const char *ngx_http_osint_private_addr(ngx_http_osint_private_t *pc,
    ngx_uint_t family, u_char *a, ngx_uint_t bits);
static const char *ngx_http_osint_private_listed(ngx_http_osint_private_t *pc,
    ngx_uint_t family, u_char *a, ngx_uint_t bits);
static ngx_uint_t ngx_http_osint_prefix_match(u_char *a, u_char *net,
    ngx_uint_t prefix);
static ngx_int_t ngx_http_osint_name_valid(u_char *p, size_t len);


/*
 * IANA's special-purpose registries (RFC 6890 and after): every range
 * that is not globally reachable, and the documentation ranges, whose
 * lookups are always a mistake or a lab.  A target in a range of
 * action PRIVATE stays here; one of PUBLIC may go.
 */

static ngx_http_osint_range_t  ngx_http_osint_ranges4[] = {
    { { 0 }, 8, 0, "0.0.0.0/8 (this network)" },
    { { 10 }, 8, 0, "10.0.0.0/8 (private-use)" },
    { { 100, 64 }, 10, 0, "100.64.0.0/10 (shared address space, CGNAT)" },
    { { 127 }, 8, 0, "127.0.0.0/8 (loopback)" },
    { { 169, 254 }, 16, 0, "169.254.0.0/16 (link-local)" },
    { { 172, 16 }, 12, 0, "172.16.0.0/12 (private-use)" },
    { { 192, 0, 0 }, 24, 0, "192.0.0.0/24 (IETF protocol assignments)" },
    { { 192, 0, 2 }, 24, 0, "192.0.2.0/24 (documentation)" },
    { { 192, 168 }, 16, 0, "192.168.0.0/16 (private-use)" },
    { { 198, 18 }, 15, 0, "198.18.0.0/15 (benchmarking)" },
    { { 198, 51, 100 }, 24, 0, "198.51.100.0/24 (documentation)" },
    { { 203, 0, 113 }, 24, 0, "203.0.113.0/24 (documentation)" },
    { { 224 }, 4, 0, "224.0.0.0/4 (multicast)" },
    { { 255, 255, 255, 255 }, 32, 0, "255.255.255.255/32 (broadcast)" },
    { { 240 }, 4, 0, "240.0.0.0/4 (reserved)" },
    { { 0 }, 0, NGX_HTTP_OSINT_RANGE_PUBLIC, NULL }
};

/*
 * IPv4 carried in IPv6 is judged as the IPv4 address it is: mapped,
 * NAT64 (64:ff9b::/96 must carry global addresses only, RFC 6052), 6to4
 * and Teredo (either its server or its client).  Outside 2000::/3 all
 * is reserved but what is listed.
 */

static ngx_http_osint_range_t  ngx_http_osint_ranges6[] = {
    { { 0 }, 128, 0, "::/128 (unspecified)" },
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128, 0,
      "::1/128 (loopback)" },
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96,
      NGX_HTTP_OSINT_RANGE_MAPPED, NULL },
    { { 0, 0x64, 0xff, 0x9b }, 96, NGX_HTTP_OSINT_RANGE_MAPPED, NULL },
    { { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48, 0, "64:ff9b:1::/48 (local NAT64)" },
    { { 0x01, 0x00 }, 64, 0, "100::/64 (discard-only)" },
    { { 0x20, 0x01, 0, 0 }, 32, NGX_HTTP_OSINT_RANGE_TEREDO, NULL },
    { { 0x20, 0x01, 0, 0x02, 0, 0 }, 48, 0, "2001:2::/48 (benchmarking)" },
    { { 0x20, 0x01, 0, 0x10 }, 28, 0, "2001:10::/28 (ORCHID)" },
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32, 0, "2001:db8::/32 (documentation)" },
    { { 0x20, 0x02 }, 16, NGX_HTTP_OSINT_RANGE_6TO4, NULL },
    { { 0x3f, 0xff }, 20, 0, "3fff::/20 (documentation)" },
    { { 0x20 }, 3, NGX_HTTP_OSINT_RANGE_PUBLIC, NULL },
    { { 0xfc }, 7, 0, "fc00::/7 (unique-local)" },
    { { 0xfe, 0x80 }, 10, 0, "fe80::/10 (link-local)" },
    { { 0xfe, 0xc0 }, 10, 0, "fec0::/10 (site-local)" },
    { { 0xff }, 8, 0, "ff00::/8 (multicast)" },
    { { 0 }, 0, 0, "::/0 outside 2000::/3 (reserved)" }
};


/*
 * Special-use names (RFC 6761, 6762, 8375, 9476), the TLD the Internet
 * draft reserves for private use (.internal), the never-delegated ones
 * networks use inside (.lan, .corp, .home, ICANN's name-collision list),
 * and .example, documentation's.  Not .onion: it names a public service,
 * which providers know.
 */

static struct {
    ngx_str_t                   suffix;
    const char                 *name;
} ngx_http_osint_special_domains[] = {
    { ngx_string("localhost"), ".localhost (special-use, RFC 6761)" },
    { ngx_string("local"), ".local (special-use, mDNS, RFC 6762)" },
    { ngx_string("internal"), ".internal (private use)" },
    { ngx_string("lan"), ".lan (internal, never delegated)" },
    { ngx_string("home.arpa"), ".home.arpa (special-use, RFC 8375)" },
    { ngx_string("test"), ".test (special-use, RFC 6761)" },
    { ngx_string("invalid"), ".invalid (special-use, RFC 6761)" },
    { ngx_string("example"), ".example (documentation, RFC 6761)" },
    { ngx_string("alt"), ".alt (special-use, RFC 9476)" },
    { ngx_string("corp"), ".corp (internal, never delegated)" },
    { ngx_string("home"), ".home (internal, never delegated)" },
    { ngx_null_string, NULL }
};


/*
 * NULL when the canonical target may go to any provider, else what makes
 * it private, for the message.  The host of a url or an e-mail address
 * counts; hashes, phone numbers and usernames name no network.
 */

const char *
ngx_http_osint_private_match(ngx_http_osint_private_t *pc, ngx_str_t *target,
    ngx_uint_t type)
{
    u_char  *at, *last;

    last = target->data + target->len;

    switch (type) {

    case NGX_HTTP_OSINT_IPV4:
    case NGX_HTTP_OSINT_IPV6:
    case NGX_HTTP_OSINT_DOMAIN:
        return ngx_http_osint_private_host(pc, target->data, target->len);

    case NGX_HTTP_OSINT_EMAIL:
        at = ngx_strlchr(target->data, last, '@');

        if (at == NULL) {
            return NULL;
        }

        return ngx_http_osint_private_host(pc, at + 1, last - at - 1);

    case NGX_HTTP_OSINT_URL:
        return ngx_http_osint_private_url(pc, target->data, target->len);

    default:
        return NULL;
    }
}


/* the host of "scheme://[userinfo@]host[:port][/?#...]" */

static const char *
ngx_http_osint_private_url(ngx_http_osint_private_t *pc, u_char *p,
    size_t len)
{
    u_char  *last, *host, *end, *c;

    last = p + len;

    host = ngx_strlchr(p, last, ':');

    if (host == NULL || last - host < 3 || host[1] != '/' || host[2] != '/') {
        return NULL;
    }

    host += 3;

    for (end = host; end < last; end++) {
        if (*end == '/' || *end == '?' || *end == '#') {
            break;
        }
    }

    for (c = host; c < end; c++) {
        if (*c == '@') {
            host = c + 1;
        }
    }

    if (host < end && *host == '[') {
        c = ngx_strlchr(host, end, ']');
        return c ? ngx_http_osint_private_host(pc, host + 1, c - host - 1)
                 : NULL;
    }

    c = ngx_strlchr(host, end, ':');

    return ngx_http_osint_private_host(pc, host, (c ? c : end) - host);
}


/* an IPv4 or IPv6 address as text, or a name */

static const char *
ngx_http_osint_private_host(ngx_http_osint_private_t *pc, u_char *p,
    size_t len)
{
    u_char  buf[NGX_INET6_ADDRSTRLEN];
    u_char  a[16];

    if (len == 0) {
        return NULL;
    }

    if (len < sizeof(buf)) {
        ngx_memcpy(buf, p, len);
        buf[len] = '\0';

        if (inet_pton(AF_INET, (char *) buf, a) == 1) {
            return ngx_http_osint_private_addr(pc, AF_INET, a, 32);
        }

        if (inet_pton(AF_INET6, (char *) buf, a) == 1) {
            return ngx_http_osint_private_addr(pc, AF_INET6, a, 128);
        }
    }

    return ngx_http_osint_private_name(pc, p, len);
}


static const char *
ngx_http_osint_private_name(ngx_http_osint_private_t *pc, u_char *p,
    size_t len)
{
    u_char          buf[256];
    ngx_str_t      *d;
    ngx_uint_t      i;
    struct in_addr  in;

    if (ngx_strlchr(p, p + len, '.') == NULL) {
        return "a single-label name";
    }

    for (i = 0; ngx_http_osint_special_domains[i].name; i++) {
        if (ngx_http_osint_private_suffix(
                p, len, &ngx_http_osint_special_domains[i].suffix))
        {
            return ngx_http_osint_special_domains[i].name;
        }
    }

    if (pc && pc->domains) {
        d = pc->domains->elts;

        for (i = 0; i < pc->domains->nelts; i++) {
            if (ngx_http_osint_private_suffix(p, len, &d[i])) {
                return "a domain of osint_private_nets";
            }
        }
    }

    /*
     * "10.0.0.0x1", "0xa.1" and the like: an IPv4 address as URL parsers
     * (WHATWG's, curl's) and inet_aton() read it, hex and octal parts
     * and all; the target parser takes them for names
     */

    if (len < sizeof(buf)) {
        ngx_memcpy(buf, p, len);
        buf[len] = '\0';

        if (inet_aton((char *) buf, &in) == 1) {
            return ngx_http_osint_private_addr(pc, AF_INET, (u_char *) &in,
                                               32);
        }
    }

    return ngx_http_osint_private_reverse(pc, p, len);
}


/* the name is "suffix" or ends with ".suffix" */

static ngx_uint_t
ngx_http_osint_private_suffix(u_char *p, size_t len, ngx_str_t *suffix)
{
    if (len == suffix->len) {
        return ngx_strncmp(p, suffix->data, len) == 0;
    }

    return len > suffix->len
           && p[len - suffix->len - 1] == '.'
           && ngx_strncmp(p + len - suffix->len, suffix->data, suffix->len)
              == 0;
}


/*
 * The reverse names of DNS: "4.3.2.10.in-addr.arpa" names 10.2.3.4,
 * "10.in-addr.arpa" all of 10.0.0.0/8 (private as a whole only when a
 * private range holds the whole zone), "x.4.3.2.10.in-addr.arpa" a name
 * below 10.2.3.4's.  ip6.arpa likewise, by nibbles.
 */

static const char *
ngx_http_osint_private_reverse(ngx_http_osint_private_t *pc, u_char *p,
    size_t len)
{
    u_char      *end, *label;
    u_char       a[16];
    ngx_int_t    v;
    ngx_uint_t   n, max, width, family;

    static ngx_str_t  in_addr = ngx_string("in-addr.arpa");
    static ngx_str_t  ip6 = ngx_string("ip6.arpa");

    if (ngx_http_osint_private_suffix(p, len, &in_addr)) {
        end = p + len - in_addr.len;
        family = AF_INET;
        max = 4;
        width = 8;

    } else if (ngx_http_osint_private_suffix(p, len, &ip6)) {
        end = p + len - ip6.len;
        family = AF_INET6;
        max = 32;
        width = 4;

    } else {
        return NULL;
    }

    ngx_memzero(a, sizeof(a));

    /* the labels before the suffix, the nearest first */

    end = (end > p) ? end - 1 : p;

    for (n = 0; n < max && end > p; n++) {
        label = end - 1;

        while (label > p && label[-1] != '.') {
            label--;
        }

        if (family == AF_INET) {
            v = (end - label <= 3) ? ngx_atoi(label, end - label)
                                   : NGX_ERROR;

            if (v == NGX_ERROR || v > 255) {
                break;
            }

            a[n] = (u_char) v;

        } else {
            if (end - label != 1 || !isxdigit(*label)) {
                break;
            }

            v = isdigit(*label) ? *label - '0' : (*label | 0x20) - 'a' + 10;

            a[n / 2] |= (u_char) (n % 2 ? v : v << 4);
        }

        end = (label > p) ? label - 1 : p;
    }

    if (n == 0) {
        return NULL;
    }

    return ngx_http_osint_private_addr(pc, family, a, n * width);
}


/*
 * The first range of the table that holds all "bits" leading bits of
 * the address (a whole address: 32 or 128) decides; then
 * osint_private_nets.
 */

static const char *
ngx_http_osint_private_addr(ngx_http_osint_private_t *pc, ngx_uint_t family,
    u_char *a, ngx_uint_t bits)
{
    u_char                   v4[4];
    ngx_uint_t               i, full;
    ngx_http_osint_range_t  *r;

    r = (family == AF_INET) ? ngx_http_osint_ranges4 : ngx_http_osint_ranges6;
    full = (family == AF_INET) ? 32 : 128;

    for (i = 0; /* void */; i++) {
        if (r[i].prefix > bits
            || !ngx_http_osint_prefix_match(a, r[i].addr, r[i].prefix))
        {
            continue;
        }

        if (r[i].action == NGX_HTTP_OSINT_RANGE_PRIVATE) {
            return r[i].name;
        }

        if (r[i].action == NGX_HTTP_OSINT_RANGE_PUBLIC || bits < full) {
            break;
        }

        if (r[i].action == NGX_HTTP_OSINT_RANGE_MAPPED) {
            return ngx_http_osint_private_addr(pc, AF_INET, a + 12, 32);
        }

        if (r[i].action == NGX_HTTP_OSINT_RANGE_6TO4) {
            return ngx_http_osint_private_addr(pc, AF_INET, a + 2, 32);
        }

        /* Teredo: the server's address, then the client's, inverted */

        v4[0] = a[12] ^ 0xff;
        v4[1] = a[13] ^ 0xff;
        v4[2] = a[14] ^ 0xff;
        v4[3] = a[15] ^ 0xff;

        if (ngx_http_osint_private_addr(pc, AF_INET, a + 4, 32)) {
            return "a Teredo address of a private server";
        }

        if (ngx_http_osint_private_addr(pc, AF_INET, v4, 32)) {
            return "a Teredo address of a private client";
        }

        break;
    }

    return ngx_http_osint_private_listed(pc, family, a, bits);
}


static const char *
ngx_http_osint_private_listed(ngx_http_osint_private_t *pc, ngx_uint_t family,
    u_char *a, ngx_uint_t bits)
{
    ngx_uint_t             i;
    ngx_http_osint_net_t  *net;

    if (pc == NULL || pc->nets == NULL) {
        return NULL;
    }

    net = pc->nets->elts;

    for (i = 0; i < pc->nets->nelts; i++) {
        if (net[i].family == family && net[i].prefix <= bits
            && ngx_http_osint_prefix_match(a, net[i].addr, net[i].prefix))
        {
            return "a range of osint_private_nets";
        }
    }

    return NULL;
}


static ngx_uint_t
ngx_http_osint_prefix_match(u_char *a, u_char *net, ngx_uint_t prefix)
{
    ngx_uint_t  bytes, rest;

    bytes = prefix / 8;
    rest = prefix % 8;

    if (ngx_memcmp(a, net, bytes) != 0) {
        return 0;
    }

    return rest == 0
           || ((a[bytes] ^ net[bytes]) & (u_char) (0xff << (8 - rest))) == 0;
}


/*
 * A value of osint_private_nets: an IPv4 or IPv6 address or prefix
 * (NGX_OK; NGX_DONE when bits below the prefix were set, and cleared),
 * or ".name", a domain suffix (NGX_AGAIN, *domain the name without its
 * dot, as given).  NGX_DECLINED: neither.
 */

ngx_int_t
ngx_http_osint_private_parse(ngx_str_t *value, ngx_http_osint_net_t *net,
    ngx_str_t *domain)
{
    u_char      *slash;
    u_char       buf[NGX_INET6_ADDRSTRLEN];
    size_t       len;
    ngx_int_t    prefix, rc;
    ngx_uint_t   i, full;

    if (value->len > 1 && value->data[0] == '.') {
        if (ngx_http_osint_name_valid(value->data + 1, value->len - 1)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        domain->data = value->data + 1;
        domain->len = value->len - 1;

        return NGX_AGAIN;
    }

    slash = ngx_strlchr(value->data, value->data + value->len, '/');
    len = (slash ? slash : value->data + value->len) - value->data;

    if (len == 0 || len >= sizeof(buf)) {
        return NGX_DECLINED;
    }

    ngx_memcpy(buf, value->data, len);
    buf[len] = '\0';
    ngx_memzero(net, sizeof(ngx_http_osint_net_t));

    if (inet_pton(AF_INET, (char *) buf, net->addr) == 1) {
        net->family = AF_INET;
        full = 32;

    } else if (inet_pton(AF_INET6, (char *) buf, net->addr) == 1) {
        net->family = AF_INET6;
        full = 128;

    } else {
        return NGX_DECLINED;
    }

    prefix = full;

    if (slash) {
        len = value->data + value->len - slash - 1;
        prefix = (len && len <= 3) ? ngx_atoi(slash + 1, len) : NGX_ERROR;

        if (prefix == NGX_ERROR || (ngx_uint_t) prefix > full) {
            return NGX_DECLINED;
        }
    }

    net->prefix = prefix;
    rc = NGX_OK;

    for (i = prefix; i < full; i++) {
        if (net->addr[i / 8] & (0x80 >> (i % 8))) {
            net->addr[i / 8] &= (u_char) ~(0x80 >> (i % 8));
            rc = NGX_DONE;
        }
    }

    return rc;
}


/* labels of letters, digits, "-" and "_", 1..63 bytes, 253 in all */

static ngx_int_t
ngx_http_osint_name_valid(u_char *p, size_t len)
{
    u_char  *last, *label;

    if (len > 253) {
        return NGX_DECLINED;
    }

    last = p + len;

    while (p < last) {
        label = p;

        while (p < last && *p != '.') {
            if (!(isalnum(*p) || *p == '-' || *p == '_')) {
                return NGX_DECLINED;
            }

            p++;
        }

        if (p == label || p - label > 63) {
            return NGX_DECLINED;
        }

        if (p < last && ++p == last) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}
