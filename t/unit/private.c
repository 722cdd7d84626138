
/*
 * Unit tests of src/core/ngx_http_osint_private.c: which canonical targets
 * are private (every range and special-use domain, in every form a target
 * can carry a host in), which are not, and the values of
 * osint_private_nets.  Targets go through ngx_http_osint_target_parse()
 * first, as a lookup's do.  Prints TAP.  Linked without nginx, with the
 * stand-ins of fuzz/ngx_stubs.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"
#include "fuzz.h"
#include "tap.h"


static ngx_pool_t                *pool;
static ngx_http_osint_private_t   conf;


/* the reason, "" for a public target, NULL when the target is invalid */

static const char *
judge(ngx_http_osint_private_t *pc, const char *text)
{
    const char  *reason, *why;
    ngx_str_t    in, canonical;
    ngx_uint_t   type;

    in.data = (u_char *) text;
    in.len = strlen(text);

    if (ngx_http_osint_target_parse(pool, &in, NGX_HTTP_OSINT_ANY,
                                    &canonical, &type, &why)
        != NGX_OK)
    {
        return NULL;
    }

    reason = ngx_http_osint_private_match(pc, &canonical, type);

    return reason ? reason : "";
}


static const char  *private[] = {
    /* IPv4 */
    "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1",
    "100.127.255.255", "127.0.0.1", "127.255.255.254", "169.254.169.254",
    "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1",
    "192.168.1.1", "198.18.0.1", "198.19.255.255", "198.51.100.7",
    "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1",
    "255.255.255.255",
    /* IPv6 */
    "::", "::1", "fe80::1", "febf::1", "fec0::1", "fc00::1", "fd12:3456::1",
    "ff02::1", "ff0e::1", "100::1", "2001:db8::1", "2001:db8:ffff::1",
    "3fff::1", "3fff:fff::1", "2001:2::1", "2001:2:0:ffff::1", "2001:10::1",
    "64:ff9b:1::1", "4000::1", "::8.8.8.8",
    /* IPv4 in IPv6 */
    "::ffff:10.1.2.3", "::ffff:127.0.0.1", "::ffff:192.0.2.1",
    "[::ffff:192.168.0.1]", "64:ff9b::10.0.0.1", "64:ff9b::169.254.1.1",
    "2002:a00:1::1", "2002:c0a8:101::", "2001:0:a00:1::1",
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    /* names */
    "printer.local", "host.localhost", "db01.lan", "printer.corp.internal",
    "nas.home.arpa", "a.b.test", "x.invalid", "www.example", "foo.alt",
    "dc1.corp", "router.home", "LOCALHOST.local.",
    "4.3.2.10.in-addr.arpa", "10.in-addr.arpa", "168.192.in-addr.arpa",
    "x.1.0.0.127.in-addr.arpa",
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
    "8.b.d.0.1.0.0.2.ip6.arpa", "d.f.ip6.arpa",
    "10.0.0.0x1", "0xa.0.0.0x1", "0x7f.0x1", "127.0.0.0x01",
    /* urls */
    "http://10.0.0.1/", "https://192.168.1.1:8443/admin?x=1",
    "http://user:pw@127.0.0.1/", "http://[fe80::1]/", "http://[::1]:80/x",
    "http://[::ffff:10.0.0.1]/", "ftp://nas.lan/share",
    "http://jira.corp.internal/browse/X-1", "http://0x7f.0.0.0x1/",
    "https://printer.local:631/", "http://localhost.localhost/",
    /* e-mail */
    "admin@corp.internal", "root@host.local", "a@mail.test",
    NULL
};

static const char  *public[] = {
    "1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.1", "100.63.255.255",
    "100.128.0.1", "126.255.255.255", "128.0.0.1", "169.253.255.255",
    "172.15.255.255", "172.32.0.1", "192.0.1.255", "192.0.3.0",
    "192.169.0.1", "198.17.255.255", "198.20.0.1", "198.51.99.255",
    "198.51.101.0", "203.0.112.255", "203.0.114.0", "223.255.255.255",
    "2001:4860:4860::8888", "2606:4700:4700::1111", "2a00:1450::1",
    "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1",
    "2001:db7:ffff::1", "2001:db9::1", "3ffe::1", "2001:3::1",
    "2001:0:808:808::f7f7:f7f7",
    "example.com", "www.example.org", "mail.example.net", "localhost.com",
    "local.example.com", "internal.company.com", "test.com", "lan.party",
    "my.onion", "in-addr.arpa", "8.in-addr.arpa", "192.in-addr.arpa",
    "8.8.8.8.in-addr.arpa", "2.ip6.arpa", "e1.100.com", "0xcafe.com",
    "http://8.8.8.8/", "https://example.com/", "http://[2001:4860::1]/",
    "http://10.0.0.1.nip.io/", "http://local.example.com/x.local",
    "https://example.com/?u=http://10.0.0.1/", "alice@example.com",
    "someone@internal.company.com",
    "d41d8cd98f00b204e9800998ecf8427e", "+442079460000",
    NULL
};


static void
test_targets(void)
{
    const char  *r;
    ngx_uint_t   i;

    for (i = 0; private[i]; i++) {
        r = judge(NULL, private[i]);
        ok(r && *r, "%s is private (%s)", private[i],
           r ? (*r ? r : "public") : "invalid target");
    }

    for (i = 0; public[i]; i++) {
        r = judge(NULL, public[i]);
        ok(r && *r == '\0', "%s is public (%s)", public[i],
           r ? (*r ? r : "public") : "invalid target");
    }

    /* the target parser refuses single-label names before any provider */

    ok(judge(NULL, "printer") == NULL, "a single-label name is no target");
    ok(judge(NULL, "http://printer/") == NULL,
       "a url of a single-label host is no target");
    ok(judge(NULL, "root@printer") == NULL,
       "an address at a single-label host is no target");
}


static void
add(const char *text, ngx_int_t expect)
{
    ngx_int_t              rc;
    ngx_str_t              value, domain, *d;
    ngx_http_osint_net_t   net, *n;

    value.len = strlen(text);
    value.data = ngx_pnalloc(pool, value.len);
    ngx_memcpy(value.data, text, value.len);

    rc = ngx_http_osint_private_parse(&value, &net, &domain);
    ok(rc == expect, "osint_private_nets %s: %d (%d expected)", text,
       (int) rc, (int) expect);

    if (rc == NGX_OK || rc == NGX_DONE) {
        n = ngx_array_push(conf.nets);
        *n = net;

    } else if (rc == NGX_AGAIN) {
        d = ngx_array_push(conf.domains);
        *d = domain;
    }
}


static void
test_nets(void)
{
    static const char  *bad[] = {
        "", ".", "..", ".a..b", ".a.", "10.0.0.0/33", "::/129", "10.0.0.0/",
        "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0", "corp.example",
        "10.0.0.0/08x", "fe80::1%eth0", ".a b", ".-a.b!", "/8", "1.2.3.4/1000",
        NULL
    };

    ngx_uint_t  i;

    conf.nets = ngx_array_create(pool, 4, sizeof(ngx_http_osint_net_t));
    conf.domains = ngx_array_create(pool, 4, sizeof(ngx_str_t));

    add("2a01:4f8:c0de::/48", NGX_OK);
    add("8.8.4.0/24", NGX_OK);
    add("9.9.9.9", NGX_OK);
    add("1.1.1.1/24", NGX_DONE);
    add(".corp.example.com", NGX_AGAIN);
    add(".onion", NGX_AGAIN);
    add(".x_y-z.net", NGX_AGAIN);

    for (i = 0; bad[i]; i++) {
        add(bad[i], NGX_DECLINED);
    }

    ok(*judge(&conf, "2a01:4f8:c0de:1::5"), "an IPv6 prefix of the list");
    ok(*judge(&conf, "http://[2a01:4f8:c0de::1]:8080/"), "in a url too");
    ok(*judge(&conf, "::ffff:8.8.4.4"), "an IPv4 prefix holds mapped ones");
    ok(*judge(&conf, "2002:808:404::1"), "and 6to4 ones");
    ok(*judge(&conf, "9.9.9.9") && !*judge(&conf, "9.9.9.10"),
       "a bare address is a /32");
    ok(*judge(&conf, "1.1.1.200"), "low bits cleared: 1.1.1.0/24");
    ok(*judge(&conf, "4.4.8.8.in-addr.arpa"), "a reverse name in the list");
    ok(!*judge(&conf, "8.8.in-addr.arpa"),
       "a reverse zone larger than the list's range is not");
    ok(!*judge(&conf, "2a01:4f8:c0df::1"), "next to the IPv6 prefix: public");
    ok(*judge(&conf, "corp.example.com"), "the suffix itself");
    ok(*judge(&conf, "jira.eu.corp.example.com"), "a name below the suffix");
    ok(*judge(&conf, "it@corp.example.com"), "an address there");
    ok(*judge(&conf, "https://wiki.corp.example.com/"), "a url there");
    ok(!*judge(&conf, "xcorp.example.com"), "a suffix is whole labels");
    ok(!*judge(&conf, "example.com"), "the parent is not");
    ok(*judge(&conf, "abcdefghijklmnop.onion"), ".onion when listed");
    ok(!*judge(&conf, "8.8.8.8"), "8.8.8.8 still public");
}


int
main(void)
{
    pool = fuzz_pool();

    test_targets();
    test_nets();

    fuzz_pool_free(pool);

    printf("1..%d\n", tests);

    return failed ? 1 : 0;
}
