
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Targets: type names, validation, type detection and canonical form, and
 * the percent-encoding that keeps a target inside one URL component.
 * Pure functions: no request, no event loop, so they can be fuzzed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <arpa/inet.h>

#include "ngx_http_osint_core.h"


typedef struct {
    ngx_str_t    name;
    ngx_uint_t   type;
} ngx_http_osint_type_name_t;


static ngx_int_t ngx_http_osint_parse_ipv4(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_osint_parse_ipv6(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_osint_parse_hash(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_osint_parse_domain(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_osint_parse_email(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_osint_parse_url(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_osint_parse_username(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_osint_valid_domain(u_char *p, size_t len);
static ngx_int_t ngx_http_osint_valid_ipv4(u_char *p, size_t len,
    struct in_addr *addr);
static ngx_int_t ngx_http_osint_url_ipv6(u_char *p, u_char *last,
    u_char *dst, size_t *len);
static ngx_int_t ngx_http_osint_url_port(u_char *p, u_char *last,
    ngx_uint_t *port);
static ngx_uint_t ngx_http_osint_url_dot_segment(u_char *p, u_char *last);
static ngx_int_t ngx_http_osint_url_dots(u_char *p, u_char *last);
static u_char *ngx_http_osint_url_path(u_char *dst, u_char *p, u_char *last);
static u_char *ngx_http_osint_url_copy(u_char *dst, u_char *p, u_char *last);
static u_char *ngx_http_osint_lowcase_copy(ngx_pool_t *pool, u_char *p,
    size_t len);


static ngx_http_osint_type_name_t  ngx_http_osint_type_names[] = {
    { ngx_string("ipv4"), NGX_HTTP_OSINT_IPV4 },
    { ngx_string("ipv6"), NGX_HTTP_OSINT_IPV6 },
    { ngx_string("domain"), NGX_HTTP_OSINT_DOMAIN },
    { ngx_string("email"), NGX_HTTP_OSINT_EMAIL },
    { ngx_string("url"), NGX_HTTP_OSINT_URL },
    { ngx_string("hash"), NGX_HTTP_OSINT_HASH },
    { ngx_string("ip"), NGX_HTTP_OSINT_IP },
    { ngx_string("phone"), NGX_HTTP_OSINT_PHONE },
    { ngx_string("username"), NGX_HTTP_OSINT_USERNAME },
    { ngx_null_string, 0 }
};


static u_char  ngx_http_osint_hex[] = "0123456789ABCDEF";


/*
 * The order in which detection tries the types: most specific first.  A
 * username only when asked for (NGX_HTTP_OSINT_ANY leaves it out): a
 * bare word could as well be a single-label name.
 */

typedef ngx_int_t (*ngx_http_osint_parse_pt)(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);

static struct {
    ngx_uint_t               type;
    ngx_http_osint_parse_pt  parse;
} ngx_http_osint_parsers[] = {
    { NGX_HTTP_OSINT_IPV4, ngx_http_osint_parse_ipv4 },
    { NGX_HTTP_OSINT_IPV6, ngx_http_osint_parse_ipv6 },
    { NGX_HTTP_OSINT_PHONE, ngx_http_osint_phone_parse },
    { NGX_HTTP_OSINT_URL, ngx_http_osint_parse_url },
    { NGX_HTTP_OSINT_EMAIL, ngx_http_osint_parse_email },
    { NGX_HTTP_OSINT_HASH, ngx_http_osint_parse_hash },
    { NGX_HTTP_OSINT_DOMAIN, ngx_http_osint_parse_domain },
    { NGX_HTTP_OSINT_USERNAME, ngx_http_osint_parse_username },
    { 0, NULL }
};


ngx_int_t
ngx_http_osint_type_parse(ngx_str_t *name, ngx_uint_t *type)
{
    ngx_http_osint_type_name_t  *t;

    for (t = ngx_http_osint_type_names; t->name.len; t++) {
        if (t->name.len == name->len
            && ngx_strncasecmp(t->name.data, name->data, name->len) == 0)
        {
            *type = t->type;
            return NGX_OK;
        }
    }

    return NGX_ERROR;
}


const char *
ngx_http_osint_type_name(ngx_uint_t type)
{
    ngx_http_osint_type_name_t  *t;

    for (t = ngx_http_osint_type_names; t->name.len; t++) {
        if (t->type == type) {
            return (const char *) t->name.data;
        }
    }

    return "unknown";
}


/*
 * Validates input as one of the types in "want" (NGX_HTTP_OSINT_ANY to
 * detect) and writes its canonical form.  Surrounding whitespace is
 * dropped, as pasted indicators often carry it.
 */

ngx_int_t
ngx_http_osint_target_parse(ngx_pool_t *pool, ngx_str_t *input,
    ngx_uint_t want, ngx_str_t *canonical, ngx_uint_t *type,
    const char **reason)
{
    u_char      *p, *last;
    size_t       len;
    ngx_uint_t   i;

    p = input->data;
    last = p + input->len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    len = last - p;

    if (len == 0) {
        *reason = "target is empty";
        return NGX_DECLINED;
    }

    if (len > NGX_HTTP_OSINT_TARGET_MAX) {
        *reason = "target is too long";
        return NGX_DECLINED;
    }

    /* a phone number is often written with spaces: "+44 20 7946 0000" */

    for (i = 0; i < len; i++) {
        if ((p[i] < 0x21 && !(p[i] == ' ' && p[0] == '+')) || p[i] == 0x7f) {
            *reason = "target contains whitespace or control characters";
            return NGX_DECLINED;
        }
    }

    for (i = 0; ngx_http_osint_parsers[i].parse; i++) {

        if (!(ngx_http_osint_parsers[i].type & want)) {
            continue;
        }

        switch (ngx_http_osint_parsers[i].parse(pool, p, len, canonical)) {

        case NGX_OK:

            /* a url grows where its bytes above 0x7f are encoded */

            if (canonical->len > NGX_HTTP_OSINT_TARGET_MAX) {
                *reason = "target is too long";
                return NGX_DECLINED;
            }

            *type = ngx_http_osint_parsers[i].type;
            return NGX_OK;

        case NGX_ERROR:
            return NGX_ERROR;

        case NGX_ABORT:
            *reason = "url target holds a \".\" or \"..\" segment in its "
                      "query or fragment";
            return NGX_DECLINED;

        default:
            break;
        }
    }

    for (i = 0; i < len; i++) {
        if (p[i] >= 0x80) {
            *reason = "internationalized names must be given in punycode "
                      "(xn--)";
            return NGX_DECLINED;
        }
    }

    if (want == NGX_HTTP_OSINT_ANY) {
        *reason = "target is not an ip address, domain, email, url, phone "
                  "number or hash";

    } else {
        *reason = "target is not of the requested type";
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_osint_parse_ipv4(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    struct in_addr  addr;

    if (ngx_http_osint_valid_ipv4(p, len, &addr) != NGX_OK) {
        return NGX_DECLINED;
    }

    out->data = ngx_pnalloc(pool, INET_ADDRSTRLEN);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    if (inet_ntop(AF_INET, &addr, (char *) out->data, INET_ADDRSTRLEN)
        == NULL)
    {
        return NGX_DECLINED;
    }

    out->len = ngx_strlen(out->data);

    return NGX_OK;
}


/* inet_pton() rejects leading zeros and short forms like "1.2.3" */

static ngx_int_t
ngx_http_osint_valid_ipv4(u_char *p, size_t len, struct in_addr *addr)
{
    u_char  buf[INET_ADDRSTRLEN];

    if (len >= INET_ADDRSTRLEN) {
        return NGX_DECLINED;
    }

    ngx_memcpy(buf, p, len);
    buf[len] = '\0';

    return inet_pton(AF_INET, (char *) buf, addr) == 1 ? NGX_OK
                                                       : NGX_DECLINED;
}


static ngx_int_t
ngx_http_osint_parse_ipv6(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    u_char           buf[INET6_ADDRSTRLEN];
    struct in6_addr  addr;

    if (len > 2 && p[0] == '[' && p[len - 1] == ']') {
        p++;
        len -= 2;
    }

    if (len >= INET6_ADDRSTRLEN) {
        return NGX_DECLINED;
    }

    ngx_memcpy(buf, p, len);
    buf[len] = '\0';

    if (inet_pton(AF_INET6, (char *) buf, &addr) != 1) {
        return NGX_DECLINED;
    }

    out->data = ngx_pnalloc(pool, INET6_ADDRSTRLEN);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    /* glibc writes the RFC 5952 form: lower case, longest zero run "::" */

    if (inet_ntop(AF_INET6, &addr, (char *) out->data, INET6_ADDRSTRLEN)
        == NULL)
    {
        return NGX_DECLINED;
    }

    out->len = ngx_strlen(out->data);

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_parse_hash(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    size_t  i;

    /* md5, sha1, sha256 */

    if (len != 32 && len != 40 && len != 64) {
        return NGX_DECLINED;
    }

    for (i = 0; i < len; i++) {
        if (!isxdigit(p[i])) {
            return NGX_DECLINED;
        }
    }

    out->data = ngx_http_osint_lowcase_copy(pool, p, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_parse_domain(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    /* a fully qualified name may end with a dot; the canonical one not */

    if (len > 1 && p[len - 1] == '.') {
        len--;
    }

    if (ngx_http_osint_valid_domain(p, len) != NGX_OK) {
        return NGX_DECLINED;
    }

    out->data = ngx_http_osint_lowcase_copy(pool, p, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = len;

    return NGX_OK;
}


/*
 * LDH labels (and "_", used by service names such as _dmarc), 1..63 bytes,
 * no hyphen at either end, 253 bytes in all, at least two labels, and a
 * top label that is not all digits (so "1.2.3" is no domain).
 */

static ngx_int_t
ngx_http_osint_valid_domain(u_char *p, size_t len)
{
    u_char      *label, *last;
    ngx_uint_t   labels, digits;

    if (len == 0 || len > 253) {
        return NGX_DECLINED;
    }

    last = p + len;
    labels = 0;

    while (p < last) {
        label = p;
        digits = 1;

        while (p < last && *p != '.') {
            if (!(isalnum(*p) || *p == '-' || *p == '_')) {
                return NGX_DECLINED;
            }

            if (!isdigit(*p)) {
                digits = 0;
            }

            p++;
        }

        if (p == label || p - label > 63
            || *label == '-' || p[-1] == '-')
        {
            return NGX_DECLINED;
        }

        labels++;

        if (p < last) {
            p++;

            if (p == last) {
                return NGX_DECLINED;
            }
        }
    }

    if (labels < 2 || digits) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_parse_email(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    u_char  *at, *c;
    size_t   local;

    at = ngx_strlchr(p, p + len, '@');
    if (at == NULL) {
        return NGX_DECLINED;
    }

    local = at - p;

    if (local == 0 || local > 64 || p[0] == '.' || at[-1] == '.') {
        return NGX_DECLINED;
    }

    /* the dot-atom of RFC 5322; quoted local parts are not indicators */

    for (c = p; c < at; c++) {
        if (isalnum(*c)) {
            continue;
        }

        if (ngx_strchr("!#$%&'*+-/=?^_`{|}~.", *c) == NULL
            || (*c == '.' && c[1] == '.'))
        {
            return NGX_DECLINED;
        }
    }

    if (ngx_http_osint_valid_domain(at + 1, p + len - at - 1) != NGX_OK) {
        return NGX_DECLINED;
    }

    /* mailbox providers compare addresses without case */

    out->data = ngx_http_osint_lowcase_copy(pool, p, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = len;

    return NGX_OK;
}


/* letters, digits, ".", "_" and "-", 1..64 of them, kept as given */

static ngx_int_t
ngx_http_osint_parse_username(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    size_t  i;

    if (len > 64) {
        return NGX_DECLINED;
    }

    for (i = 0; i < len; i++) {
        if (!(isalnum(p[i]) || p[i] == '.' || p[i] == '_' || p[i] == '-')) {
            return NGX_DECLINED;
        }
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, p, len);
    out->len = len;

    return NGX_OK;
}


/*
 * http, https and ftp URLs with a host: a name, an IPv4 address or an
 * IPv6 one in brackets, and a port of 1..65535.  The canonical form has
 * scheme and host in lower case (an IPv6 host in the RFC 5952 form), the
 * port in plain decimal, the dot segments of the path removed (RFC 3986,
 * 5.2.4, with %2e read as "."), and every byte above 0x7f percent-encoded
 * (bidi controls included); the rest is kept as given, since path and
 * query are case-sensitive.
 *
 * Dot segments matter because a provider's front end (nginx's defaults)
 * decodes the target back into its path and resolves them there: a
 * target could choose the provider's endpoint.  In the query and the
 * fragment they cannot be removed without changing what they say, so
 * they are refused (NGX_ABORT).
 */

static ngx_int_t
ngx_http_osint_parse_url(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    u_char          *host, *end, *last, *h, *port, *path, *rest, *d;
    u_char           ip6[NGX_INET6_ADDRSTRLEN + 2];
    size_t           scheme, ip6len;
    ngx_uint_t       portn;
    struct in_addr   a4;

    if (len > 7 && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0) {
        scheme = 7;

    } else if (len > 8 && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0) {
        scheme = 8;

    } else if (len > 6 && ngx_strncasecmp(p, (u_char *) "ftp://", 6) == 0) {
        scheme = 6;

    } else {
        return NGX_DECLINED;
    }

    last = p + len;
    host = p + scheme;

    for (end = host; end < last; end++) {
        if (*end == '/' || *end == '?' || *end == '#') {
            break;
        }
    }

    /* credentials in the authority: keep only what follows them */

    h = host;

    for (port = host; port < end; port++) {
        if (*port == '@') {
            h = port + 1;
        }
    }

    if (h == end) {
        return NGX_DECLINED;
    }

    ip6len = 0;

    if (*h == '[') {
        port = ngx_strlchr(h, end, ']');

        if (port == NULL
            || ngx_http_osint_url_ipv6(h + 1, port, ip6, &ip6len) != NGX_OK)
        {
            return NGX_DECLINED;
        }

        port++;

    } else {
        port = ngx_strlchr(h, end, ':');
        if (port == NULL) {
            port = end;
        }

        if (ngx_http_osint_valid_domain(h, port - h) != NGX_OK
            && ngx_http_osint_valid_ipv4(h, port - h, &a4) != NGX_OK)
        {
            return NGX_DECLINED;
        }
    }

    portn = 0;

    if (port < end
        && (*port != ':'
            || ngx_http_osint_url_port(port + 1, end, &portn) != NGX_OK))
    {
        return NGX_DECLINED;
    }

    for (path = end; path < last; path++) {
        if (*path == '?' || *path == '#') {
            break;
        }
    }

    rest = path;

    if (ngx_http_osint_url_dots(rest, last) != NGX_OK) {
        return NGX_ABORT;
    }

    /* what is kept may triple, each byte above 0x7f becoming %XX */

    out->data = ngx_pnalloc(pool, scheme + sizeof(ip6) + sizeof(":65535")
                                  + 3 * len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(out->data, p, scheme);
    d = out->data + scheme;
    d = ngx_http_osint_url_copy(d, host, h);

    if (ip6len) {
        d = ngx_cpymem(d, ip6, ip6len);

    } else {
        ngx_strlow(d, h, port - h);
        d += port - h;
    }

    if (portn) {
        d = ngx_sprintf(d, ":%ui", portn);
    }

    d = ngx_http_osint_url_path(d, end, path);
    d = ngx_http_osint_url_copy(d, rest, last);

    out->len = d - out->data;

    return NGX_OK;
}


/*
 * The host of "[...]": an IPv6 address, written in brackets in its RFC
 * 5952 form.  Zone ids ("%25eth0") name an interface of the host that
 * asks and IPvFuture ("v1.x") nothing a provider knows: refused.
 */

static ngx_int_t
ngx_http_osint_url_ipv6(u_char *p, u_char *last, u_char *dst, size_t *len)
{
    u_char           buf[NGX_INET6_ADDRSTRLEN];
    struct in6_addr  a6;

    if ((size_t) (last - p) >= NGX_INET6_ADDRSTRLEN) {
        return NGX_DECLINED;
    }

    ngx_memcpy(buf, p, last - p);
    buf[last - p] = '\0';

    if (inet_pton(AF_INET6, (char *) buf, &a6) != 1
        || inet_ntop(AF_INET6, &a6, (char *) dst + 1, NGX_INET6_ADDRSTRLEN)
           == NULL)
    {
        return NGX_DECLINED;
    }

    dst[0] = '[';
    *len = ngx_strlen(dst);
    dst[(*len)++] = ']';

    return NGX_OK;
}


/* a port: digits only, 1..65535; leading zeros are dropped from the form */

static ngx_int_t
ngx_http_osint_url_port(u_char *p, u_char *last, ngx_uint_t *port)
{
    ngx_uint_t  n;

    if (p == last) {
        return NGX_DECLINED;
    }

    for (n = 0; p < last; p++) {
        if (*p < '0' || *p > '9') {
            return NGX_DECLINED;
        }

        n = n * 10 + (*p - '0');

        if (n > 65535) {
            return NGX_DECLINED;
        }
    }

    if (n == 0) {
        return NGX_DECLINED;
    }

    *port = n;

    return NGX_OK;
}


/* "." or "..", either dot possibly written %2e or %2E: 1 or 2, else 0 */

static ngx_uint_t
ngx_http_osint_url_dot_segment(u_char *p, u_char *last)
{
    ngx_uint_t  dots;

    for (dots = 0; p < last; dots++) {

        if (*p == '.') {
            p++;

        } else if (last - p >= 3 && p[0] == '%' && p[1] == '2'
                   && (p[2] == 'e' || p[2] == 'E'))
        {
            p += 3;

        } else {
            return 0;
        }
    }

    return dots <= 2 ? dots : 0;
}


/* NGX_OK when no "/"-delimited segment of the query and fragment is dots */

static ngx_int_t
ngx_http_osint_url_dots(u_char *p, u_char *last)
{
    u_char  *seg;

    for ( ;; ) {
        p = ngx_strlchr(p, last, '/');

        if (p == NULL) {
            return NGX_OK;
        }

        seg = ++p;

        while (p < last && *p != '/') {
            p++;
        }

        if (ngx_http_osint_url_dot_segment(seg, p)) {
            return NGX_DECLINED;
        }
    }
}


/*
 * The path (starting with "/", or empty) without dot segments: RFC 3986,
 * 5.2.4, segment by segment.  ".." takes back the last segment written,
 * and a dot segment at the end leaves the "/" before it.
 */

static u_char *
ngx_http_osint_url_path(u_char *dst, u_char *p, u_char *last)
{
    u_char      *start, *seg;
    ngx_uint_t   dots;

    start = dst;

    while (p < last) {
        seg = ++p;

        while (p < last && *p != '/') {
            p++;
        }

        dots = ngx_http_osint_url_dot_segment(seg, p);

        while (dots == 2 && dst > start) {
            if (*--dst == '/') {
                break;
            }
        }

        if (dots) {
            if (p == last) {
                *dst++ = '/';
            }

            continue;
        }

        *dst++ = '/';
        dst = ngx_http_osint_url_copy(dst, seg, p);
    }

    return dst;
}


/* a copy with each byte above 0x7f as %XX, so the form is ASCII */

static u_char *
ngx_http_osint_url_copy(u_char *dst, u_char *p, u_char *last)
{
    while (p < last) {

        if (*p < 0x80) {
            *dst++ = *p++;
            continue;
        }

        *dst++ = '%';
        *dst++ = ngx_http_osint_hex[*p >> 4];
        *dst++ = ngx_http_osint_hex[*p++ & 0xf];
    }

    return dst;
}


static u_char *
ngx_http_osint_lowcase_copy(ngx_pool_t *pool, u_char *p, size_t len)
{
    u_char  *dst;

    dst = ngx_pnalloc(pool, len);
    if (dst == NULL) {
        return NULL;
    }

    ngx_strlow(dst, p, len);

    return dst;
}


/*
 * RFC 3986 percent-encoding of everything but the unreserved characters,
 * so the result cannot end a path segment, a query parameter or a header
 * line.  With dst NULL, returns the length it would write.
 */

size_t
ngx_http_osint_escape_component(u_char *dst, u_char *src, size_t len)
{
    u_char  *d;
    size_t   i, n;

    n = 0;
    d = dst;

    for (i = 0; i < len; i++) {

        if (isalnum(src[i]) || src[i] == '-' || src[i] == '.'
            || src[i] == '_' || src[i] == '~')
        {
            if (d) {
                *d++ = src[i];
            }

            n++;
            continue;
        }

        if (d) {
            *d++ = '%';
            *d++ = ngx_http_osint_hex[src[i] >> 4];
            *d++ = ngx_http_osint_hex[src[i] & 0xf];
        }

        n += 3;
    }

    return n;
}


/*
 * $osint_target_domain: a domain target itself, the domain of an e-mail
 * address, the host of a url (an IPv6 one without its brackets); empty
 * for every other type.  The target is in its canonical form.
 */

void
ngx_http_osint_target_domain(ngx_str_t *target, ngx_uint_t type,
    ngx_str_t *domain)
{
    u_char  *p, *last, *at;

    domain->data = target->data;
    domain->len = 0;

    if (target->len == 0) {
        return;     /* no target (the fuzzer's): data may be NULL */
    }

    p = target->data;
    last = p + target->len;

    switch (type) {

    case NGX_HTTP_OSINT_DOMAIN:
        domain->len = target->len;
        return;

    case NGX_HTTP_OSINT_EMAIL:
        at = ngx_strlchr(p, last, '@');

        if (at) {
            domain->data = at + 1;
            domain->len = last - at - 1;
        }

        return;

    case NGX_HTTP_OSINT_URL:
        break;

    default:
        return;
    }

    /* the canonical form begins "http://", "https://" or "ftp://" */

    p = ngx_strlchr(p, last, ':');
    if (p == NULL || last - p < 3) {
        return;
    }

    p += 3;

    for (last = p; last < target->data + target->len; last++) {
        if (*last == '/' || *last == '?' || *last == '#') {
            break;
        }
    }

    /* credentials stay out of it */

    for (at = p; at < last; at++) {
        if (*at == '@') {
            p = at + 1;
        }
    }

    if (p < last && *p == '[') {
        at = ngx_strlchr(p, last, ']');
        domain->data = p + 1;
        domain->len = at ? (size_t) (at - p - 1) : 0;
        return;
    }

    at = ngx_strlchr(p, last, ':');

    domain->data = p;
    domain->len = (at ? at : last) - p;
}
