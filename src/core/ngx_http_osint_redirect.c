
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * What a redirect may do.  libcurl does not follow redirects for us: it
 * would send the provider's custom headers (its key) to any host a
 * Location names and connect to any address.  ngx_http_osint_fetch.c
 * follows them hop by hop and asks here whether a hop may be made
 * (ngx_http_osint_redirect_check) and, once a chain has left the
 * provider's own origin, whether an address may be connected to
 * (ngx_http_osint_addr_public, at the socket libcurl opens).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <curl/curl.h>

#include "ngx_http_osint_core.h"


static ngx_uint_t ngx_http_osint_ipv4_public(const u_char *a);
static ngx_uint_t ngx_http_osint_holds_key(const char *url, ngx_str_t *key);
static ngx_int_t ngx_http_osint_origin(CURLU *u, const char *url,
    char **scheme, char **host, char **port);
static ngx_uint_t ngx_http_osint_hex(u_char c);


/*
 * 1 when an address may be reached by a redirected hop: not loopback,
 * private, shared (CGNAT), link-local, unique-local, multicast, reserved
 * or unspecified, IPv4 embedded in IPv6 (mapped, compatible, NAT64, 6to4)
 * judged as the IPv4 address it carries.  Any other family: 0.
 */

ngx_uint_t
ngx_http_osint_addr_public(const struct sockaddr *sa)
{
    const u_char               *a;
    const struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    const struct sockaddr_in6  *sin6;
    static const u_char         zero12[12];
#endif

    if (sa->sa_family == AF_INET) {
        sin = (const struct sockaddr_in *) sa;
        return ngx_http_osint_ipv4_public((const u_char *) &sin->sin_addr);
    }

#if (NGX_HAVE_INET6)

    if (sa->sa_family != AF_INET6) {
        return 0;
    }

    sin6 = (const struct sockaddr_in6 *) sa;
    a = sin6->sin6_addr.s6_addr;

    /* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible; ::, ::1 too) */

    if (ngx_memcmp(a, zero12, 10) == 0
        && ((a[10] == 0xff && a[11] == 0xff)
            || (a[10] == 0 && a[11] == 0)))
    {
        return ngx_http_osint_ipv4_public(a + 12);
    }

    /* 64:ff9b::a.b.c.d (NAT64) and 64:ff9b:1::/48 (local NAT64) */

    if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) {
        if (ngx_memcmp(a + 4, zero12, 8) == 0) {
            return ngx_http_osint_ipv4_public(a + 12);
        }

        return !(a[4] == 0x00 && a[5] == 0x01);
    }

    /* 2002:a.b.c.d::/48 (6to4) */

    if (a[0] == 0x20 && a[1] == 0x02) {
        return ngx_http_osint_ipv4_public(a + 2);
    }

    if ((a[0] & 0xfe) == 0xfc                       /* fc00::/7 unique-local */
        || a[0] == 0xff                             /* ff00::/8 multicast */
        || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)  /* fe80::/10 link-local */
        || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)  /* fec0::/10 site-local */
        || (a[0] == 0x01 && a[1] == 0x00
            && ngx_memcmp(a + 2, zero12, 6) == 0))  /* 100::/64 discard */
    {
        return 0;
    }

    return 1;

#else

    return 0;

#endif
}


static ngx_uint_t
ngx_http_osint_ipv4_public(const u_char *a)
{
    return !(a[0] == 0                              /* 0/8 this network */
             || a[0] == 10                          /* 10/8 */
             || a[0] == 127                         /* 127/8 loopback */
             || (a[0] == 100 && (a[1] & 0xc0) == 64)    /* 100.64/10 */
             || (a[0] == 169 && a[1] == 254)        /* 169.254/16 */
             || (a[0] == 172 && (a[1] & 0xf0) == 16)    /* 172.16/12 */
             || (a[0] == 192 && a[1] == 168)        /* 192.168/16 */
             || (a[0] == 192 && a[1] == 0 && a[2] == 0) /* 192.0.0/24 */
             || (a[0] == 198 && (a[1] & 0xfe) == 18)    /* 198.18/15 */
             || a[0] >= 224);                       /* multicast, 240/4 */
}


/*
 * May a hop go from the origin of "from" (the provider's configured url)
 * to "next" (absolute, as libcurl resolved the Location)?  NULL: yes, and
 * *same says whether "next" is that origin (scheme, host and port) and
 * the chain never left it (foreign == 0).  Otherwise why not, for the
 * log.  repost: the hop would send the request body again (307, 308).
 */

const char *
ngx_http_osint_redirect_check(const char *from, const char *next,
    ngx_uint_t foreign, ngx_uint_t repost, ngx_str_t *api_key,
    ngx_uint_t *same)
{
    char        *fs, *fh, *fp, *ns, *nh, *np, *user;
    CURLU       *fu, *nu;
    const char  *reason;

    *same = 0;

    fu = curl_url();
    nu = curl_url();

    fs = fh = fp = ns = nh = np = user = NULL;
    reason = NULL;

    if (fu == NULL || nu == NULL) {
        reason = "out of memory";
        goto done;
    }

    if (ngx_http_osint_origin(fu, from, &fs, &fh, &fp) != NGX_OK) {
        reason = "the provider's url does not parse";
        goto done;
    }

    if (curl_url_set(nu, CURLUPART_URL, next, 0) != CURLUE_OK
        || curl_url_get(nu, CURLUPART_SCHEME, &ns, 0) != CURLUE_OK)
    {
        reason = "an invalid URL";
        goto done;
    }

    if (ngx_strcasecmp((u_char *) ns, (u_char *) "http") != 0
        && ngx_strcasecmp((u_char *) ns, (u_char *) "https") != 0)
    {
        reason = "not http or https";
        goto done;
    }

    if (ngx_http_osint_origin(nu, next, &ns, &nh, &np) != NGX_OK) {
        reason = "an invalid URL";
        goto done;
    }

    if (ngx_strcasecmp((u_char *) fs, (u_char *) "https") == 0
        && ngx_strcasecmp((u_char *) ns, (u_char *) "http") == 0)
    {
        reason = "https to http";
        goto done;
    }

    /* libcurl would turn user:password@ into an Authorization header */

    if (curl_url_get(nu, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        reason = "credentials in the URL";
        goto done;
    }

    *same = !foreign
            && ngx_strcasecmp((u_char *) fs, (u_char *) ns) == 0
            && ngx_strcasecmp((u_char *) fh, (u_char *) nh) == 0
            && ngx_strcmp(fp, np) == 0;

    if (*same) {
        goto done;
    }

    if (repost) {
        reason = "a POST to another origin";
        goto done;
    }

    if (api_key && api_key->len
        && ngx_http_osint_holds_key(next, api_key))
    {
        reason = "the URL holds the API key";
        goto done;
    }

done:

    curl_free(fs);
    curl_free(fh);
    curl_free(fp);
    curl_free(ns);
    curl_free(nh);
    curl_free(np);
    curl_free(user);

    if (fu) {
        curl_url_cleanup(fu);
    }

    if (nu) {
        curl_url_cleanup(nu);
    }

    return reason;
}


/* scheme, host and port (the scheme's default when none is written) */

static ngx_int_t
ngx_http_osint_origin(CURLU *u, const char *url, char **scheme, char **host,
    char **port)
{
    if (*scheme == NULL
        && (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK
            || curl_url_get(u, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK))
    {
        return NGX_ERROR;
    }

    if (curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT)
           != CURLUE_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the key in the URL, each of its bytes as itself or as %XX */

static ngx_uint_t
ngx_http_osint_holds_key(const char *url, ngx_str_t *key)
{
    size_t       k;
    const char  *s, *p;

    for (s = url; *s; s++) {
        p = s;

        for (k = 0; k < key->len && *p; k++) {

            if (*p == '%' && p[1] && p[2]
                && ngx_http_osint_hex(p[1]) < 16
                && ngx_http_osint_hex(p[2]) < 16
                && ngx_http_osint_hex(p[1]) * 16 + ngx_http_osint_hex(p[2])
                   == key->data[k])
            {
                p += 3;
                continue;
            }

            if ((u_char) *p != key->data[k]) {
                break;
            }

            p++;
        }

        if (k == key->len) {
            return 1;
        }
    }

    return 0;
}


static ngx_uint_t
ngx_http_osint_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return 16;
}
