
/*
 * Unit tests of src/core/ngx_http_osint_redirect.c: which addresses a hop off
 * the provider's origin may reach (every non-public range, in every form
 * IPv6 can carry an IPv4 address in), and which hops may be made at all.
 * No test may connect to most of these addresses: they are judged here.
 * Prints TAP.  Linked without nginx, with the stand-ins of
 * fuzz/ngx_stubs.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"
#include "tap.h"


static int
is_public(const char *text)
{
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    ngx_memzero(&sin, sizeof(sin));
    ngx_memzero(&sin6, sizeof(sin6));

    if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        return ngx_http_osint_addr_public((struct sockaddr *) &sin);
    }

    if (inet_pton(AF_INET6, text, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        return ngx_http_osint_addr_public((struct sockaddr *) &sin6);
    }

    return -1;
}


static const char  *not_public[] = {
    "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "127.0.0.1",
    "127.0.0.2", "127.255.255.254", "100.64.0.1", "100.127.255.255",
    "169.254.169.254", "169.254.0.1", "172.16.0.1", "172.31.255.255",
    "192.168.0.1", "192.168.255.255", "192.0.0.1", "198.18.0.1",
    "198.19.255.255", "224.0.0.1", "239.255.255.250", "240.0.0.1",
    "255.255.255.255",
    "::", "::1", "fe80::1", "febf::1", "fec0::1", "fc00::1", "fd12:3456::1",
    "ff02::1", "ff05::2", "100::1",
    "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254",
    "::ffff:192.168.1.1", "::ffff:0.0.0.0", "::ffff:100.64.1.1",
    "::127.0.0.1", "::10.0.0.1", "::169.254.169.254",
    "64:ff9b::127.0.0.1", "64:ff9b::169.254.169.254", "64:ff9b:1::1",
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:c0a8:101::1",
    NULL
};

static const char  *public[] = {
    "1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.1", "100.63.255.255",
    "100.128.0.1", "126.255.255.255", "128.0.0.1", "169.253.255.255",
    "169.255.0.1", "172.15.255.255", "172.32.0.1", "192.167.255.255",
    "192.169.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.255",
    "2001:4860:4860::8888", "2606:4700:4700::1111", "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8", "2002:808:808::1", "fbff::1", "fe7f::1",
    NULL
};


static void
test_addresses(void)
{
    ngx_uint_t  i;

    for (i = 0; not_public[i]; i++) {
        ok(is_public(not_public[i]) == 0, "%s is not public", not_public[i]);
    }

    for (i = 0; public[i]; i++) {
        ok(is_public(public[i]) == 1, "%s is public", public[i]);
    }
}


#define FROM   "http://127.0.0.1:8080/ip/1.2.3.4?key=k%2By%2F1"
#define FROMS  "https://rdap.example:443/ip/1.2.3.4"

typedef struct {
    const char  *from;
    const char  *next;
    ngx_uint_t   foreign;
    ngx_uint_t   repost;
    const char  *reason;        /* NULL: allowed */
    ngx_uint_t   same;
    const char  *name;
} hop_case_t;


static hop_case_t  hops[] = {
    { FROM, "http://127.0.0.1:8080/x", 0, 0, NULL, 1,
      "same origin: allowed, same" },
    { FROM, "HTTP://127.0.0.1:8080/x", 0, 1, NULL, 1,
      "scheme case: same; a repost allowed" },
    { FROM, "http://127.0.0.1:8081/x", 0, 0, NULL, 0,
      "another port: allowed, foreign" },
    { FROM, "http://127.0.0.1:8080/x", 1, 0, NULL, 0,
      "back to the origin once left: foreign" },
    { FROMS, "https://RDAP.example/x", 0, 0, NULL, 1,
      "default port, host case: same" },
    { FROMS, "http://rdap.example/x", 0, 0, "https to http", 0,
      "https to http" },
    { FROM, "ftp://127.0.0.1/x", 0, 0, "not http or https", 0, "ftp" },
    { FROM, "file:///etc/passwd", 0, 0, "not http or https", 0, "file" },
    { FROM, "http://u:p@1.1.1.1/x", 0, 0, "credentials in the URL", 0,
      "user:password@" },
    { FROM, "http://1.1.1.1/x", 0, 1, "a POST to another origin", 0,
      "a repost to another origin" },
    { FROM, "http://1.1.1.1/?k=k+y/1", 0, 0, "the URL holds the API key", 0,
      "the key, raw" },
    { FROM, "http://1.1.1.1/?k=k%2by%2F1", 0, 0,
      "the URL holds the API key", 0, "the key, percent-encoded" },
    { FROM, "http://1.1.1.1/?k=k%2By", 0, 0, NULL, 0,
      "a part of the key only: allowed" },
    { FROM, "http://127.0.0.1:8080/?k=k+y/1", 0, 0, NULL, 1,
      "the key to its own origin: allowed" },
    { NULL, NULL, 0, 0, NULL, 0, NULL }
};


static void
test_hops(void)
{
    ngx_str_t    key = ngx_string("k+y/1");
    ngx_uint_t   same;
    const char  *reason;
    hop_case_t  *c;

    for (c = hops; c->from; c++) {
        same = 2;
        reason = ngx_http_osint_redirect_check(c->from, c->next, c->foreign,
                                               c->repost, &key, &same);

        ok((reason == NULL && c->reason == NULL && same == c->same)
           || (reason && c->reason && ngx_strcmp(reason, c->reason) == 0),
           "%s: %s", c->name, reason ? reason : "allowed");
    }
}


int
main(void)
{
    test_addresses();
    test_hops();

    printf("1..%d\n", tests);

    return failed ? 1 : 0;
}
