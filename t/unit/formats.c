
/*
 * Unit tests of the built-in normalisers (src/formats/) and the verdict
 * (src/core/ngx_http_osint_verdict.c).  Prints TAP.
 *
 * Usage: formats BODIES_DIR   (t/lib/bodies: the canned provider answers
 * the end-to-end tests serve, so both read the same bodies)
 *
 * Each realistic body must give exactly the expected data; not-found
 * bodies NGX_DECLINED; wrong shapes NGX_ERROR with a message.  Then every
 * body, with every one of its values replaced in turn by values of every
 * other type, goes through every normaliser: the contract (NGX_OK with an
 * object, NGX_DECLINED with nothing, NGX_ERROR with a message) must hold
 * and nothing may crash or leak (the runner builds with ASan when it can).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"
#include "tap.h"
#include "formats/ngx_http_osint_format.h"
#include "ngx_http_osint_verdict.h"


static const char  *bodies;


#define IPV4    NGX_HTTP_OSINT_IPV4
#define IPV6    NGX_HTTP_OSINT_IPV6
#define DOMAIN  NGX_HTTP_OSINT_DOMAIN
#define URL     NGX_HTTP_OSINT_URL
#define HASH    NGX_HTTP_OSINT_HASH
#define EMAIL   NGX_HTTP_OSINT_EMAIL
#define PHONE   NGX_HTTP_OSINT_PHONE
#define USER    NGX_HTTP_OSINT_USERNAME


static ngx_http_osint_normalise_pt
normaliser(const char *name)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_osint_formats[i].name; i++) {
        if (strcmp(ngx_http_osint_formats[i].name, name) == 0) {
            return ngx_http_osint_formats[i].normalise;
        }
    }

    return NULL;
}


static char *
slurp(const char *name)
{
    char    path[1024], *text;
    long    len;
    FILE   *f;

    snprintf(path, sizeof(path), "%s/%s.json", bodies, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);

    text = malloc(len + 1);
    if (text == NULL || fread(text, 1, len, f) != (size_t) len) {
        fclose(f);
        free(text);
        return NULL;
    }

    text[len] = '\0';
    fclose(f);

    return text;
}


static cJSON *
body(const char *name)
{
    char   *text;
    cJSON  *root;

    text = slurp(name);
    if (text == NULL) {
        return NULL;
    }

    root = cJSON_Parse(text);
    free(text);

    return root;
}


/*
 * Runs a format over a root; checks the contract whatever the result.
 * Returns rc; *data (when asked for) is the caller's.
 */

static ngx_int_t
run(const char *format, cJSON *root, ngx_uint_t type, cJSON **out,
    const char **msg)
{
    cJSON                        *data;
    ngx_int_t                     rc;
    const char                   *message;
    ngx_http_osint_normalise_pt   fn;

    fn = normaliser(format);
    data = (cJSON *) 1;
    message = NULL;

    rc = fn(root, type, &data, &message);

    if (rc == NGX_OK) {
        if (!cJSON_IsObject(data)) {
            rc = -100;
        }

    } else if (rc == NGX_ERROR) {
        if (message == NULL || message[0] == '\0') {
            rc = -101;
        }

    } else if (rc != NGX_DECLINED) {
        rc = -102;
    }

    if (msg) {
        *msg = message;
    }

    if (out && rc == NGX_OK) {
        *out = data;

    } else if (rc == NGX_OK) {
        cJSON_Delete(data);
    }

    return rc;
}


static void
expect_data(const char *format, const char *name, ngx_uint_t type,
    const char *want)
{
    char        *got_text;
    cJSON       *root, *data, *expected;
    ngx_int_t    rc;
    const char  *msg;

    root = body(name);
    expected = cJSON_Parse(want);

    if (root == NULL || expected == NULL) {
        ok(0, "%s: %s: %s does not parse", format, name,
           root ? "the expected data" : "the body");
        cJSON_Delete(root);
        cJSON_Delete(expected);
        return;
    }

    data = NULL;
    msg = NULL;
    rc = run(format, root, type, &data, &msg);

    got_text = data ? cJSON_PrintUnformatted(data) : NULL;

    ok(rc == NGX_OK && cJSON_Compare(data, expected, 1),
       "%s: %s gives the expected data", format, name);

    if (!(rc == NGX_OK && cJSON_Compare(data, expected, 1))) {
        printf("#   rc %d, message %s\n#   got:  %s\n#   want: %s\n",
               (int) rc, msg ? msg : "-", got_text ? got_text : "-", want);
    }

    free(got_text);
    cJSON_Delete(data);
    cJSON_Delete(expected);
    cJSON_Delete(root);
}


static void
expect_rc(const char *format, const char *json, ngx_uint_t type,
    ngx_int_t want, const char *want_msg, const char *desc)
{
    cJSON       *root;
    ngx_int_t    rc;
    const char  *msg;

    root = cJSON_Parse(json);

    if (root == NULL) {
        root = body(json);
    }

    if (root == NULL) {
        ok(0, "%s: %s: the input does not parse", format, desc);
        return;
    }

    msg = NULL;
    rc = run(format, root, type, NULL, &msg);

    ok(rc == want && (want_msg == NULL || (msg && strstr(msg, want_msg))),
       "%s: %s -> %s", format, desc,
       want == NGX_OK ? "NGX_OK" : want == NGX_DECLINED ? "NGX_DECLINED"
                                                        : "NGX_ERROR");

    if (rc != want || (want_msg && !(msg && strstr(msg, want_msg)))) {
        printf("#   rc %d, message %s\n", (int) rc, msg ? msg : "-");
    }

    cJSON_Delete(root);
}


static void
test_internetdb(void)
{
    expect_data("internetdb", "internetdb", IPV4,
        "{\"ports\":[53,443,853],\"hostnames\":[\"dns.google\"],"
        "\"cpes\":[\"cpe:/a:isc:bind:9.18.24\",\"cpe:/a:google:public_dns\"],"
        "\"tags\":[\"cloud\"],"
        "\"vulns\":[\"CVE-2023-50387\",\"CVE-2023-50868\"]}");

    expect_rc("internetdb", "internetdb_404", IPV4, NGX_DECLINED, NULL,
              "{\"detail\":\"No information available\"} on a 200");
    expect_rc("internetdb", "{\"detail\":\"Invalid IP\"}", IPV4, NGX_ERROR,
              "error detail", "another detail");
    expect_rc("internetdb", "[53, 443]", IPV4, NGX_ERROR, "not an object",
              "an array");
    expect_rc("internetdb", "{\"ports\":\"53\"}", IPV4, NGX_ERROR,
              "\"ports\" is not an array", "ports a string");
    expect_rc("internetdb", "{\"ports\":[80],\"hostnames\":{}}", IPV4,
              NGX_ERROR, "\"hostnames\" is not an array", "hostnames object");
    expect_rc("internetdb", "null", IPV4, NGX_ERROR, NULL, "null");
}


static void
test_internetdb_odd(void)
{
    cJSON  *root, *data, *want;

    root = cJSON_Parse("{\"ports\":[80,\"443\",-1,70000,8.5,null,22],"
                       "\"hostnames\":[\"A.Example\",1,null],"
                       "\"tags\":null}");
    want = cJSON_Parse("{\"ports\":[80,22],\"hostnames\":[\"a.example\"]}");
    data = NULL;

    ok(run("internetdb", root, IPV4, &data, NULL) == NGX_OK
       && cJSON_Compare(data, want, 1),
       "internetdb: odd ports and hostnames skipped, null tags left out");

    cJSON_Delete(root);
    cJSON_Delete(data);
    cJSON_Delete(want);
}


static void
test_ipinfo(void)
{
    expect_data("ipinfo", "ipinfo", IPV4,
        "{\"hostname\":\"dns.google\",\"city\":\"Mountain View\","
        "\"region\":\"California\",\"country\":\"US\","
        "\"loc\":\"37.4056,-122.0775\",\"lat\":37.4056,\"lon\":-122.0775,"
        "\"asn\":\"AS15169\",\"as_name\":\"Google LLC\","
        "\"postal\":\"94043\",\"timezone\":\"America/Los_Angeles\","
        "\"anycast\":true,\"bogon\":false}");

    expect_data("ipinfo", "ipinfo_bogon", IPV4,
        "{\"anycast\":false,\"bogon\":true}");

    expect_rc("ipinfo", "{\"status\":404,\"error\":{\"title\":\"Wrong ip\"}}",
              IPV4, NGX_ERROR, "error", "an error body on a 200");
    expect_rc("ipinfo", "{\"hostname\":\"x\"}", IPV4, NGX_ERROR, "no \"ip\"",
              "no ip");
    expect_rc("ipinfo", "{\"ip\":\"8.8.8.8\",\"city\":5}", IPV4, NGX_ERROR,
              "\"city\" is not a string", "city a number");
    expect_rc("ipinfo", "{\"ip\":\"8.8.8.8\",\"anycast\":\"yes\"}", IPV4,
              NGX_ERROR, "\"anycast\" is not a boolean", "anycast a string");
    expect_rc("ipinfo", "[{\"ip\":\"8.8.8.8\"}]", IPV4, NGX_ERROR,
              "not an object", "an array");
}


static void
test_ipinfo_variants(void)
{
    static const char  *cases[][2] = {

        /* Lite */
        { "{\"ip\":\"8.8.8.8\",\"asn\":\"AS15169\",\"as_name\":\"Google LLC\","
          "\"as_domain\":\"google.com\",\"country_code\":\"US\","
          "\"country\":\"United States\"}",
          "{\"asn\":\"AS15169\",\"as_name\":\"Google LLC\",\"country\":\"US\","
          "\"anycast\":false,\"bogon\":false}" },

        /* paid plans: an asn object */
        { "{\"ip\":\"8.8.8.8\",\"asn\":{\"asn\":\"AS15169\","
          "\"name\":\"Google LLC\",\"type\":\"hosting\"}}",
          "{\"asn\":\"AS15169\",\"as_name\":\"Google LLC\","
          "\"anycast\":false,\"bogon\":false}" },

        /* an org without AS number; a loc that is no coordinate */
        { "{\"ip\":\"1.2.3.4\",\"org\":\"3 Ireland\",\"loc\":\"nan,inf\"}",
          "{\"as_name\":\"3 Ireland\",\"loc\":\"nan,inf\","
          "\"anycast\":false,\"bogon\":false}" },

        /* an org that is only the number; loc out of range */
        { "{\"ip\":\"1.2.3.4\",\"org\":\"AS64500\",\"loc\":\"91.0,10\"}",
          "{\"asn\":\"AS64500\",\"loc\":\"91.0,10\","
          "\"anycast\":false,\"bogon\":false}" },
    };

    cJSON       *root, *data, *want;
    ngx_uint_t   i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        root = cJSON_Parse(cases[i][0]);
        want = cJSON_Parse(cases[i][1]);
        data = NULL;

        ok(run("ipinfo", root, IPV4, &data, NULL) == NGX_OK
           && cJSON_Compare(data, want, 1), "ipinfo: variant %u",
           (unsigned) i);

        cJSON_Delete(root);
        cJSON_Delete(data);
        cJSON_Delete(want);
    }
}


static void
test_rdap(void)
{
    expect_data("rdap", "rdap_domain", DOMAIN,
        "{\"object_class\":\"domain\",\"handle\":\"2336799_DOMAIN_COM-VRSN\","
        "\"domain\":\"example.com\","
        "\"registrar\":\"RESERVED-Internet Assigned Numbers Authority\","
        "\"registrar_iana_id\":\"376\","
        "\"registration\":\"1995-08-14T04:00:00Z\","
        "\"expiration\":\"2025-08-13T04:00:00Z\","
        "\"last_changed\":\"2024-08-14T07:01:34Z\","
        "\"status\":[\"client delete prohibited\","
        "\"client transfer prohibited\",\"client update prohibited\"],"
        "\"nameservers\":[\"a.iana-servers.net\",\"b.iana-servers.net\"],"
        "\"abuse_email\":\"abuse@iana.org\"}");

    expect_data("rdap", "rdap_ip", IPV4,
        "{\"object_class\":\"ip network\",\"handle\":\"NET-8-8-8-0-2\","
        "\"network_name\":\"GOGL\",\"start_address\":\"8.8.8.0\","
        "\"end_address\":\"8.8.8.255\",\"cidr\":[\"8.8.8.0/24\"],"
        "\"registration\":\"2023-12-28T17:24:33-05:00\","
        "\"last_changed\":\"2023-12-28T17:24:56-05:00\","
        "\"status\":[\"active\"],\"registrant\":\"Google LLC\","
        "\"abuse_email\":\"network-abuse@google.com\"}");

    expect_data("rdap", "rdap_ip_ripe", IPV4,
        "{\"object_class\":\"ip network\","
        "\"handle\":\"193.0.0.0 - 193.0.10.255\","
        "\"network_name\":\"RIPE-NCC\","
        "\"start_address\":\"193.0.0.0\",\"end_address\":\"193.0.10.255\","
        "\"cidr\":[\"193.0.0.0/21\",\"193.0.8.0/23\",\"193.0.10.0/24\"],"
        "\"country\":\"NL\",\"registration\":\"2003-03-17T12:15:57Z\","
        "\"last_changed\":\"2016-04-14T10:48:45Z\",\"status\":[\"active\"],"
        "\"registrant\":\"Reseaux IP Europeens Network Coordination Centre "
        "(RIPE NCC)\",\"abuse_email\":\"abuse@ripe.net\"}");

    expect_data("rdap", "rdap_autnum", IPV4,
        "{\"object_class\":\"autnum\",\"handle\":\"AS15169\","
        "\"asn\":\"AS15169\",\"as_name\":\"GOOGLE\","
        "\"registration\":\"2000-03-30T00:00:00-05:00\","
        "\"last_changed\":\"2012-02-24T09:44:34-05:00\","
        "\"status\":[\"active\"],\"registrant\":\"Google LLC\","
        "\"abuse_email\":\"network-abuse@google.com\"}");

    expect_rc("rdap", "rdap_404", DOMAIN, NGX_DECLINED, NULL,
              "an RFC 9083 404 error body on a 200");
    expect_rc("rdap", "{\"errorCode\":500,\"title\":\"Oops\"}", DOMAIN,
              NGX_ERROR, "error", "another error body");
    expect_rc("rdap", "{\"objectClassName\":\"entity\",\"handle\":\"X\"}",
              DOMAIN, NGX_ERROR, "object class", "an entity");
    expect_rc("rdap", "{\"objectClassName\":7}", DOMAIN, NGX_ERROR,
              "not a string", "objectClassName a number");
    expect_rc("rdap", "{\"hello\":\"world\"}", DOMAIN, NGX_ERROR,
              "no RDAP object", "an unrelated object");
    expect_rc("rdap", "[]", DOMAIN, NGX_ERROR, "not an object", "an array");
    expect_rc("rdap", "{\"objectClassName\":\"domain\",\"status\":\"ok\"}",
              DOMAIN, NGX_ERROR, "\"status\" is not an array",
              "status a string");
    expect_rc("rdap", "{\"objectClassName\":\"domain\","
                      "\"nameservers\":[1,{\"ldhName\":2},null]}",
              DOMAIN, NGX_OK, NULL, "odd nameservers skipped");
}


static void
test_rdap_variants(void)
{
    static const char  *cases[][3] = {

        /* no objectClassName: the target type decides */
        { "{\"ldhName\":\"EXAMPLE.NET\"}", "d",
          "{\"object_class\":\"domain\",\"domain\":\"example.net\"}" },
        { "{\"startAddress\":\"10.0.0.0\",\"endAddress\":\"10.255.255.255\"}",
          "4",
          "{\"object_class\":\"ip network\",\"start_address\":\"10.0.0.0\","
          "\"end_address\":\"10.255.255.255\",\"cidr\":[\"10.0.0.0/8\"]}" },

        /* IPv6, from the range */
        { "{\"objectClassName\":\"ip network\","
          "\"startAddress\":\"2001:67c:2e8::\","
          "\"endAddress\":\"2001:67c:2e8:ffff:ffff:ffff:ffff:ffff\"}", "6",
          "{\"object_class\":\"ip network\","
          "\"start_address\":\"2001:67c:2e8::\","
          "\"end_address\":\"2001:67c:2e8:ffff:ffff:ffff:ffff:ffff\","
          "\"cidr\":[\"2001:67c:2e8::/48\"]}" },

        /* cidr0 with host bits, a v6 one, and junk */
        { "{\"objectClassName\":\"ip network\",\"cidr0_cidrs\":["
          "{\"v4prefix\":\"192.0.2.77\",\"length\":24},"
          "{\"v6prefix\":\"2001:DB8::\",\"length\":32},"
          "{\"v4prefix\":\"300.1.1.1\",\"length\":8},"
          "{\"v4prefix\":\"1.1.1.1\",\"length\":33},"
          "{\"v4prefix\":\"1.1.1.1\",\"length\":\"8\"}, 5]}", "4",
          "{\"object_class\":\"ip network\","
          "\"cidr\":[\"192.0.2.0/24\",\"2001:db8::/32\"]}" },

        /* the whole space, a single address, an inverted range */
        { "{\"objectClassName\":\"ip network\",\"startAddress\":\"0.0.0.0\","
          "\"endAddress\":\"255.255.255.255\"}", "4",
          "{\"object_class\":\"ip network\",\"start_address\":\"0.0.0.0\","
          "\"end_address\":\"255.255.255.255\",\"cidr\":[\"0.0.0.0/0\"]}" },
        { "{\"objectClassName\":\"ip network\",\"startAddress\":\"::1\","
          "\"endAddress\":\"::1\"}", "6",
          "{\"object_class\":\"ip network\",\"start_address\":\"::1\","
          "\"end_address\":\"::1\",\"cidr\":[\"::1/128\"]}" },
        { "{\"objectClassName\":\"ip network\",\"startAddress\":\"10.0.0.9\","
          "\"endAddress\":\"10.0.0.1\"}", "4",
          "{\"object_class\":\"ip network\",\"start_address\":\"10.0.0.9\","
          "\"end_address\":\"10.0.0.1\"}" },
        { "{\"objectClassName\":\"ip network\",\"startAddress\":\"10.0.0.1\","
          "\"endAddress\":\"10.0.0.6\"}", "4",
          "{\"object_class\":\"ip network\",\"start_address\":\"10.0.0.1\","
          "\"end_address\":\"10.0.0.6\",\"cidr\":[\"10.0.0.1/32\","
          "\"10.0.0.2/31\",\"10.0.0.4/31\",\"10.0.0.6/32\"]}" },

        /* an autnum block is no one AS; a mailto: e-mail */
        { "{\"objectClassName\":\"autnum\",\"handle\":\"AS64496 - AS64511\","
          "\"startAutnum\":64496,\"endAutnum\":64511,"
          "\"entities\":[{\"roles\":[\"abuse\"],\"vcardArray\":[\"vcard\","
          "[[\"email\",{},\"uri\",\"mailto:abuse@example.net\"]]]}]}", "4",
          "{\"object_class\":\"autnum\",\"handle\":\"AS64496 - AS64511\","
          "\"abuse_email\":\"abuse@example.net\"}" },

        /* an abuse entity without e-mail is passed for one with */
        { "{\"objectClassName\":\"domain\",\"entities\":["
          "{\"roles\":[\"abuse\"],\"vcardArray\":[\"vcard\",[[\"fn\",{},"
          "\"text\",\"No Mail\"]]]},"
          "{\"roles\":[\"technical\"],\"entities\":[{\"roles\":[\"abuse\"],"
          "\"vcardArray\":[\"vcard\",[[\"email\",{},\"text\",\"\"],"
          "[\"email\",{},\"text\",\"deep@example.org\"]]]}]}]}", "d",
          "{\"object_class\":\"domain\","
          "\"abuse_email\":\"deep@example.org\"}" },
    };

    cJSON       *root, *data, *want;
    char        *got;
    ngx_uint_t   i, type;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        root = cJSON_Parse(cases[i][0]);
        want = cJSON_Parse(cases[i][2]);
        type = cases[i][1][0] == 'd' ? DOMAIN
               : cases[i][1][0] == '6' ? IPV6 : IPV4;
        data = NULL;

        ok(root && want && run("rdap", root, type, &data, NULL) == NGX_OK
           && cJSON_Compare(data, want, 1), "rdap: variant %u", (unsigned) i);

        if (!cJSON_Compare(data, want, 1)) {
            got = data ? cJSON_PrintUnformatted(data) : NULL;
            printf("#   got %s\n", got ? got : "-");
            free(got);
        }

        cJSON_Delete(root);
        cJSON_Delete(data);
        cJSON_Delete(want);
    }
}


/* entities nested far deeper than any server does */

static void
test_rdap_deep(void)
{
    char        *text, *p;
    ngx_int_t    rc;
    ngx_uint_t   i, depth;
    cJSON       *root, *data;

    depth = 400;
    text = malloc(depth * 64 + 256);
    p = text;

    p += sprintf(p, "{\"objectClassName\":\"domain\",\"entities\":[");

    for (i = 0; i < depth; i++) {
        p += sprintf(p, "{\"roles\":[\"x\"],\"entities\":[");
    }

    p += sprintf(p, "{\"roles\":[\"abuse\"],\"vcardArray\":[\"vcard\","
                    "[[\"email\",{},\"text\",\"a@b\"]]]}");

    for (i = 0; i < depth; i++) {
        p += sprintf(p, "]}");
    }

    sprintf(p, "]}");

    root = cJSON_Parse(text);
    data = NULL;
    rc = root ? run("rdap", root, DOMAIN, &data, NULL) : -1;

    ok(rc == NGX_OK && cJSON_GetObjectItem(data, "abuse_email") == NULL,
       "rdap: entities 400 deep: searched %d deep only, no crash",
       NGX_HTTP_OSINT_FMT_DEPTH_MAX);

    cJSON_Delete(data);
    cJSON_Delete(root);
    free(text);
}


static void
test_crtsh(void)
{
    expect_data("crtsh", "crtsh", DOMAIN,
        "{\"names\":[\"*.example.org\",\"example.org\",\"mail.example.org\","
        "\"www.example.org\"],"
        "\"issuers\":[\"C=GB, ST=Greater Manchester, L=Salford, "
        "O=Sectigo Limited, CN=Sectigo RSA Domain Validation Secure Server "
        "CA\",\"C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 "
        "2020 CA1\",\"C=US, O=Let's Encrypt, CN=R3\"],"
        "\"first_seen\":\"2022-11-01T00:00:00\","
        "\"last_seen\":\"2025-03-01T23:59:59\",\"count\":4}");

    expect_rc("crtsh", "crtsh_empty", DOMAIN, NGX_DECLINED, NULL, "[]");
    expect_rc("crtsh", "{\"name_value\":\"a\"}", DOMAIN, NGX_ERROR,
              "not an array", "an object");
    expect_rc("crtsh", "[1, \"a\", null, [], {\"name_value\": 5}]", DOMAIN,
              NGX_ERROR, "no certificate entry", "an array of junk");
    expect_rc("crtsh", "[{\"name_value\":\"a.example\",\"not_before\":7,"
                       "\"not_after\":\"later\",\"issuer_name\":[]}]",
              DOMAIN, NGX_OK, NULL, "odd dates and issuer ignored");
}


static void
test_crtsh_big(void)
{
    char        *text, *p;
    cJSON       *root, *data, *names, *want;
    ngx_uint_t   i, n;

    /* 5000 certificates, 2 names each, one shared: 5001 unique names */

    n = 5000;
    text = malloc(n * 160 + 16);
    p = text;
    *p++ = '[';

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s{\"name_value\":\"HOST%05u.example.org\\n"
                        "example.org\",\"not_before\":\"2020-01-01T00:00:00\","
                        "\"id\":%u}",
                     i ? "," : "", (unsigned) (n - i), (unsigned) i);
    }

    sprintf(p, "]");

    root = cJSON_Parse(text);
    data = NULL;

    ok(root && run("crtsh", root, DOMAIN, &data, NULL) == NGX_OK,
       "crtsh: 5000 certificates");

    names = cJSON_GetObjectItem(data, "names");

    ok(cJSON_GetArraySize(names) == NGX_HTTP_OSINT_FMT_LIST_MAX
       && cJSON_IsTrue(cJSON_GetObjectItem(data, "truncated")),
       "crtsh: names cut at %d, truncated: true",
       NGX_HTTP_OSINT_FMT_LIST_MAX);

    ok(names
       && strcmp(cJSON_GetArrayItem(names, 0)->valuestring, "example.org")
          == 0
       && strcmp(cJSON_GetArrayItem(names, 1)->valuestring,
                 "host00001.example.org") == 0
       && strcmp(cJSON_GetArrayItem(names, 999)->valuestring,
                 "host00999.example.org") == 0,
       "crtsh: the first names in sort order, lower-cased");

    want = cJSON_CreateNumber(5000);
    ok(cJSON_Compare(cJSON_GetObjectItem(data, "count"), want, 1),
       "crtsh: count 5000");

    cJSON_Delete(want);
    cJSON_Delete(data);
    cJSON_Delete(root);
    free(text);
}


static void
test_virustotal(void)
{
    expect_data("virustotal", "virustotal_domain", DOMAIN,
        "{\"last_analysis_stats\":{\"malicious\":12,\"suspicious\":2,"
        "\"undetected\":24,\"harmless\":55,\"timeout\":0},"
        "\"malicious\":12,\"suspicious\":2,\"reputation\":-42,"
        "\"last_analysis_date\":1716201234,"
        "\"categories\":{\"Forcepoint ThreatSeeker\":"
        "\"phishing and other frauds\",\"Sophos\":\"phishing\","
        "\"alphaMountain.ai\":\"Phishing, Suspicious\"},\"tags\":[\"dga\"]}");

    expect_data("virustotal", "virustotal_ip", IPV4,
        "{\"last_analysis_stats\":{\"malicious\":0,\"suspicious\":0,"
        "\"undetected\":24,\"harmless\":67,\"timeout\":0},"
        "\"malicious\":0,\"suspicious\":0,\"reputation\":534,"
        "\"last_analysis_date\":1716200000,\"as_owner\":\"GOOGLE\","
        "\"country\":\"US\",\"network\":\"8.8.8.0/24\",\"tags\":[],"
        "\"asn\":\"AS15169\"}");

    expect_data("virustotal", "virustotal_file", HASH,
        "{\"last_analysis_stats\":{\"harmless\":0,\"type-unsupported\":8,"
        "\"suspicious\":0,\"confirmed-timeout\":0,\"timeout\":0,"
        "\"failure\":0,\"malicious\":62,\"undetected\":6},"
        "\"malicious\":62,\"suspicious\":0,\"reputation\":-1821,"
        "\"last_analysis_date\":1716204999,\"meaningful_name\":\"eicar.com\","
        "\"type_description\":\"Text\",\"size\":68,"
        "\"sha256\":\"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538a"
        "abf651fd0f\",\"md5\":\"44d88612fea8a8f36de82e1278abb02f\","
        "\"sha1\":\"3395856ce81f2b7382dee72602f798b642f14140\","
        "\"tags\":[\"text\",\"attachment\",\"via-tor\"]}");

    expect_data("virustotal", "virustotal_url", URL,
        "{\"last_analysis_stats\":{\"malicious\":9,\"suspicious\":1,"
        "\"undetected\":20,\"harmless\":60,\"timeout\":0},"
        "\"malicious\":9,\"suspicious\":1,\"reputation\":-15,"
        "\"last_analysis_date\":1716300000,"
        "\"url\":\"http://malware.example.net/dl/invoice.exe\","
        "\"final_url\":\"http://malware.example.net/dl/invoice.exe\","
        "\"categories\":{\"Sophos\":\"malware repository, spyware and "
        "malware\",\"Forcepoint ThreatSeeker\":\"malicious web sites\"},"
        "\"tags\":[]}");

    expect_rc("virustotal", "virustotal_404", DOMAIN, NGX_DECLINED, NULL,
              "NotFoundError on a 200");
    expect_rc("virustotal", "{\"error\":{\"code\":\"QuotaExceededError\"}}",
              DOMAIN, NGX_ERROR, "error", "QuotaExceededError on a 200");
    expect_rc("virustotal", "{\"data\":[]}", DOMAIN, NGX_ERROR,
              "data.attributes", "data an array");
    expect_rc("virustotal", "{\"data\":{\"attributes\":{\"reputation\":"
                            "\"high\"}}}",
              DOMAIN, NGX_ERROR, "\"reputation\" is not a number",
              "reputation a string");
    expect_rc("virustotal", "{\"data\":{\"attributes\":{\"asn\":\"big\"}}}",
              IPV4, NGX_ERROR, "\"asn\" is not an AS number", "asn a word");
    expect_rc("virustotal", "{\"data\":{\"attributes\":{"
                            "\"last_analysis_stats\":{\"malicious\":\"9\","
                            "\"x\":{\"deep\":[1]}}}}}",
              DOMAIN, NGX_OK, NULL, "string counts and nested stats skipped");
}


static void
test_abuseipdb(void)
{
    expect_data("abuseipdb", "abuseipdb", IPV4,
        "{\"abuse_score\":100,\"total_reports\":2413,"
        "\"usage_type\":\"Fixed Line ISP\","
        "\"isp\":\"Privacy Relay Network e.V.\","
        "\"domain\":\"privacy-relay.example\",\"country\":\"DE\","
        "\"hostnames\":[\"tor-exit-34.privacy-relay.example\"],"
        "\"is_tor\":true,\"is_whitelisted\":false,"
        "\"last_reported_at\":\"2024-05-20T14:03:11+00:00\"}");

    expect_data("abuseipdb", "abuseipdb_clean", IPV4,
        "{\"abuse_score\":0,\"total_reports\":0,"
        "\"usage_type\":\"Data Center/Web Hosting/Transit\","
        "\"isp\":\"Example Hosting Inc.\",\"domain\":\"examplehosting.net\","
        "\"country\":\"US\",\"hostnames\":[],\"is_tor\":false}");

    expect_rc("abuseipdb", "{\"errors\":[{\"detail\":\"The ip address "
                           "must be a valid IPv4 or IPv6 address\","
                           "\"status\":422}]}",
              IPV4, NGX_ERROR, "error", "an errors body on a 200");
    expect_rc("abuseipdb", "{\"data\":{\"abuseConfidenceScore\":\"100\"}}",
              IPV4, NGX_ERROR, "abuseConfidenceScore", "score a string");
    expect_rc("abuseipdb", "{\"data\":{\"abuseConfidenceScore\":5,"
                           "\"isTor\":\"no\"}}",
              IPV4, NGX_ERROR, "\"isTor\" is not a boolean", "isTor a string");
    expect_rc("abuseipdb", "[]", IPV4, NGX_ERROR, "not an object", "an array");
}


static void
test_greynoise(void)
{
    expect_data("greynoise", "greynoise", IPV4,
        "{\"noise\":false,\"riot\":true,\"classification\":\"benign\","
        "\"name\":\"Google Public DNS\",\"last_seen\":\"2024-05-20\","
        "\"link\":\"https://viz.greynoise.io/ip/8.8.8.8\"}");

    expect_data("greynoise", "greynoise_malicious", IPV4,
        "{\"noise\":true,\"riot\":false,\"classification\":\"malicious\","
        "\"name\":\"unknown\",\"last_seen\":\"2024-05-19\","
        "\"link\":\"https://viz.greynoise.io/ip/45.83.66.201\"}");

    expect_rc("greynoise", "greynoise_404", IPV4, NGX_DECLINED, NULL,
              "\"IP not observed\" on a 200");
    expect_rc("greynoise", "{\"plan\":\"unauthenticated\",\"rate-limit\":"
                           "\"100-lookups/day\",\"message\":\"You have hit "
                           "your daily rate limit\"}",
              IPV4, NGX_ERROR, "noise", "a rate limit message on a 200");
    expect_rc("greynoise", "{\"noise\":\"false\",\"riot\":false}", IPV4,
              NGX_ERROR, NULL, "noise a string");
    expect_rc("greynoise", "{\"noise\":false,\"riot\":false,"
                           "\"classification\":3}",
              IPV4, NGX_ERROR, "\"classification\" is not a string",
              "classification a number");
}


static void
test_urlhaus(void)
{
    expect_data("urlhaus", "urlhaus_host", DOMAIN,
        "{\"url_count\":3,\"urls_online\":1,"
        "\"threats\":[\"malware_download\"],"
        "\"tags\":[\"AgentTesla\",\"Mozi\",\"elf\",\"exe\"],"
        "\"blacklists\":{\"spamhaus_dbl\":\"abused_legit_malware\","
        "\"surbl\":\"listed\"},\"first_seen\":\"2024-04-02 08:15:44 UTC\","
        "\"link\":\"https://urlhaus.abuse.ch/host/dl.badhost.example/\"}");

    expect_data("urlhaus", "urlhaus_url", URL,
        "{\"url_status\":\"online\",\"threat\":\"malware_download\","
        "\"tags\":[\"elf\",\"Mozi\"],"
        "\"date_added\":\"2024-05-18 21:04:09 UTC\","
        "\"host\":\"dl.badhost.example\","
        "\"blacklists\":{\"spamhaus_dbl\":\"abused_legit_malware\","
        "\"surbl\":\"not listed\"},"
        "\"link\":\"https://urlhaus.abuse.ch/url/2871234/\"}");

    expect_rc("urlhaus", "urlhaus_no_results", DOMAIN, NGX_DECLINED, NULL,
              "no_results");
    expect_rc("urlhaus", "urlhaus_invalid_host", DOMAIN, NGX_ERROR,
              "bad input: invalid_host", "invalid_host");
    expect_rc("urlhaus", "{\"query_status\":\"invalid_url\"}", URL,
              NGX_ERROR, "bad input: invalid_url", "invalid_url");
    expect_rc("urlhaus", "{\"query_status\":\"http_post_expected\"}", URL,
              NGX_ERROR, "query_status http_post_expected",
              "http_post_expected");
    expect_rc("urlhaus", "{\"query_status\":\"ok\"}", URL, NGX_ERROR,
              "neither", "ok without a lookup");
    expect_rc("urlhaus", "{\"query_status\":\"ok\",\"url_count\":\"many\"}",
              DOMAIN, NGX_ERROR, "\"url_count\" is not a count",
              "url_count a word");
    expect_rc("urlhaus", "{\"query_status\":\"ok\",\"urls\":{}}", DOMAIN,
              NGX_ERROR, "\"urls\" is not an array", "urls an object");
    expect_rc("urlhaus", "{\"query_status\":1}", DOMAIN, NGX_ERROR,
              "query_status", "query_status a number");
}


static void
test_dns(void)
{
    expect_data("dns", "dns_a", DOMAIN,
        "{\"status\":0,\"a\":[\"93.184.215.14\",\"93.184.215.15\"],"
        "\"cname\":[\"www.example.org.cdn.example.net\"]}");

    expect_data("dns", "dns_mx", DOMAIN,
        "{\"status\":0,\"mx\":[\"10 mx1.mail.example.net\","
        "\"20 mx2.mail.example.net\"]}");

    expect_data("dns", "dns_txt", DOMAIN,
        "{\"status\":0,\"txt\":[\"v=spf1 include:_spf.mail.example.net ~all\","
        "\"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\","
        "\"say \\\"hi\\\"\"]}");

    expect_rc("dns", "dns_nxdomain", DOMAIN, NGX_DECLINED, NULL,
              "Status 3 NXDOMAIN");
    expect_rc("dns", "dns_servfail", DOMAIN, NGX_ERROR, "SERVFAIL",
              "Status 2 SERVFAIL");
    expect_rc("dns", "{\"Status\":5}", DOMAIN, NGX_ERROR, "rcode 5",
              "Status 5 REFUSED");
    expect_rc("dns", "{\"Status\":\"0\"}", DOMAIN, NGX_ERROR, "Status",
              "Status a string");
    expect_rc("dns", "{\"Status\":0.5}", DOMAIN, NGX_ERROR, "Status",
              "Status a fraction");
    expect_rc("dns", "{\"Status\":0,\"Answer\":{}}", DOMAIN, NGX_ERROR,
              "\"Answer\" is not an array", "Answer an object");
    expect_rc("dns", "{\"Status\":0}", DOMAIN, NGX_OK, NULL,
              "NODATA: status only");
}


static void
test_dns_txt(void)
{
    static const char  *cases[][2] = {
        { "v=spf1 -all", "v=spf1 -all" },
        { "\"a\" \"b\"", "ab" },
        { "\"\\065\\066\"", "AB" },
        { "\"unterminated", "\"unterminated" },
        { "\"a\" junk", "\"a\" junk" },
        { "\"nul\\000\"", "\"nul\\000\"" },
        { "\"bad\\9\"", "\"bad\\9\"" },
        { "\"end\\", "\"end\\" },
        { "\"\"", "" },
    };

    char        *json, *esc;
    cJSON       *root, *data, *txt, *rr, *answer;
    ngx_uint_t   i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        root = cJSON_CreateObject();
        cJSON_AddNumberToObject(root, "Status", 0);
        answer = cJSON_AddArrayToObject(root, "Answer");
        rr = cJSON_CreateObject();
        cJSON_AddNumberToObject(rr, "type", 16);
        cJSON_AddStringToObject(rr, "data", cases[i][0]);
        cJSON_AddItemToArray(answer, rr);

        data = NULL;
        txt = NULL;

        if (run("dns", root, DOMAIN, &data, NULL) == NGX_OK) {
            txt = cJSON_GetArrayItem(cJSON_GetObjectItem(data, "txt"), 0);
        }

        json = cJSON_PrintUnformatted(rr);
        esc = json;

        ok(cJSON_IsString(txt) && strcmp(txt->valuestring, cases[i][1]) == 0,
           "dns: txt %s", esc);

        free(json);
        cJSON_Delete(data);
        cJSON_Delete(root);
    }
}


static void
test_presence(void)
{
    expect_data("presence", "presence_github", USER, "{\"found\":true}");
    expect_data("presence", "presence_gitlab", USER, "{\"found\":true}");
    expect_data("presence", "presence_keybase_none", USER,
                "{\"found\":true}");

    expect_rc("presence", "presence_hn_none", USER, NGX_DECLINED, NULL,
              "null (Hacker News)");
    expect_rc("presence", "presence_gitlab_none", USER, NGX_DECLINED, NULL,
              "[] (GitLab)");
    expect_rc("presence", "{}", USER, NGX_DECLINED, NULL, "{}");
    expect_rc("presence", "\"\"", USER, NGX_DECLINED, NULL, "\"\"");
    expect_rc("presence", "false", USER, NGX_DECLINED, NULL, "false");
    expect_rc("presence", "0", USER, NGX_OK, NULL, "0");
    expect_rc("presence", "[null]", USER, NGX_OK, NULL, "[null]");
}


static void
test_hibp(void)
{
    expect_data("hibp", "hibp", EMAIL,
        "{\"breaches\":["
        "{\"name\":\"Adobe\",\"domain\":\"adobe.com\","
        "\"date\":\"2013-10-04\",\"pwn_count\":152445165,"
        "\"data_classes\":[\"Email addresses\",\"Password hints\","
        "\"Passwords\",\"Usernames\"],\"verified\":true,"
        "\"sensitive\":false},"
        "{\"name\":\"Dropbox\",\"domain\":\"dropbox.com\","
        "\"date\":\"2012-07-01\",\"pwn_count\":68648009,"
        "\"data_classes\":[\"Email addresses\",\"Passwords\"],"
        "\"verified\":true,\"sensitive\":false},"
        "{\"name\":\"Canva\",\"domain\":\"canva.com\","
        "\"date\":\"2019-05-24\",\"pwn_count\":137272116,"
        "\"data_classes\":[\"Email addresses\",\"Geographic locations\","
        "\"Names\",\"Passwords\",\"Usernames\"],\"verified\":true,"
        "\"sensitive\":false}],"
        "\"breach_count\":3,\"latest_breach\":\"Canva\","
        "\"latest_breach_date\":\"2019-05-24\","
        "\"data_classes\":[\"Email addresses\",\"Geographic locations\","
        "\"Names\",\"Password hints\",\"Passwords\",\"Usernames\"]}");

    expect_data("hibp", "hibp_truncated", EMAIL,
        "{\"breaches\":[{\"name\":\"Adobe\"},{\"name\":\"Canva\"},"
        "{\"name\":\"Dropbox\"}],\"breach_count\":3,"
        "\"data_classes\":[]}");

    expect_rc("hibp", "[]", EMAIL, NGX_DECLINED, NULL, "[] on a 200");
    expect_rc("hibp", "hibp_error", EMAIL, NGX_ERROR,
              "hibp: the answer is an error", "a 401 body on a 200");
    expect_rc("hibp", "hibp_quota", EMAIL, NGX_ERROR,
              "hibp: the answer is an error", "a 429 body on a 200");
    expect_rc("hibp", "hibp_malformed", EMAIL, NGX_ERROR,
              "hibp: \"BreachDate\" is not a string", "BreachDate a number");
    expect_rc("hibp", "[1, \"Adobe\", {\"Title\": \"Adobe\"}]", EMAIL,
              NGX_ERROR, "no breach", "no element with a Name");
    expect_rc("hibp", "[1, {\"Name\": \"Adobe\"}]", EMAIL, NGX_OK, NULL,
              "an element that is no object skipped");
}


static void
test_emailrep(void)
{
    expect_data("emailrep", "emailrep", EMAIL,
        "{\"reputation\":\"high\",\"suspicious\":false,"
        "\"references\":79,\"blacklisted\":false,"
        "\"malicious_activity\":false,"
        "\"malicious_activity_recent\":false,"
        "\"credentials_leaked\":true,\"credentials_leaked_recent\":false,"
        "\"data_breach\":true,\"first_seen\":\"07/01/2008\","
        "\"last_seen\":\"05/24/2019\",\"domain_exists\":true,"
        "\"domain_reputation\":\"high\",\"new_domain\":false,"
        "\"days_since_domain_creation\":10341,\"suspicious_tld\":false,"
        "\"spam\":false,\"free_provider\":false,\"disposable\":false,"
        "\"deliverable\":true,\"accept_all\":true,\"valid_mx\":true,"
        "\"primary_mx\":\"example-com.mail.protection.outlook.com\","
        "\"spoofable\":false,\"spf_strict\":true,"
        "\"dmarc_enforced\":true,"
        "\"profiles\":[\"twitter\",\"linkedin\",\"github\","
        "\"aboutme\"]}");

    expect_rc("emailrep", "emailrep_suspicious", EMAIL, NGX_OK, NULL,
              "a suspicious disposable address");
    expect_rc("emailrep", "emailrep_error", EMAIL, NGX_ERROR,
              "emailrep: invalid email", "status fail");
    expect_rc("emailrep", "emailrep_quota", EMAIL, NGX_ERROR,
              "emailrep: exceeded daily limit", "the daily limit");
    expect_rc("emailrep", "emailrep_malformed", EMAIL, NGX_ERROR,
              "\"disposable\" is not a boolean", "disposable a string");
    expect_rc("emailrep", "{\"reputation\":\"high\"}", EMAIL, NGX_ERROR,
              "no \"reputation\"", "no suspicious");
    expect_rc("emailrep", "{\"reputation\":\"high\",\"suspicious\":true,"
                          "\"details\":[]}", EMAIL, NGX_ERROR,
              "\"details\" is not an object", "details an array");
    expect_rc("emailrep", "[]", EMAIL, NGX_ERROR, "not an object",
              "an array");
}


static void
test_numverify(void)
{
    expect_data("numverify", "numverify", PHONE,
        "{\"valid\":true,\"international_format\":\"+14158586273\","
        "\"local_format\":\"4158586273\",\"calling_code\":\"+1\","
        "\"country\":\"US\","
        "\"country_name\":\"United States of America\","
        "\"location\":\"Novato\",\"carrier\":\"AT&T Mobility LLC\","
        "\"line_type\":\"mobile\"}");

    expect_data("numverify", "numverify_invalid", PHONE, "{\"valid\":false}");

    expect_rc("numverify", "numverify_error", PHONE, NGX_ERROR,
              "numverify: invalid_access_key", "a bad key on a 200");
    expect_rc("numverify", "numverify_quota", PHONE, NGX_ERROR,
              "numverify: usage_limit_reached", "the monthly limit on a 200");
    expect_rc("numverify", "numverify_malformed", PHONE, NGX_ERROR,
              "no \"valid\" boolean", "valid a string");
    expect_rc("numverify", "{\"valid\":true,\"carrier\":7}", PHONE,
              NGX_ERROR, "\"carrier\" is not a string", "carrier a number");
    expect_rc("numverify", "[]", PHONE, NGX_ERROR, "not an object",
              "an array");
}


static void
test_lists_capped(void)
{
    char        *text, *p;
    cJSON       *root, *data;
    ngx_uint_t   i;

    text = malloc(5000 * 8 + 64);
    p = text;
    p += sprintf(p, "{\"ports\":[");

    for (i = 0; i < 5000; i++) {
        p += sprintf(p, "%s%u", i ? "," : "", (unsigned) (i % 65536));
    }

    sprintf(p, "]}");

    root = cJSON_Parse(text);
    data = NULL;

    ok(root && run("internetdb", root, IPV4, &data, NULL) == NGX_OK
       && cJSON_GetArraySize(cJSON_GetObjectItem(data, "ports"))
          == NGX_HTTP_OSINT_FMT_LIST_MAX
       && cJSON_IsTrue(cJSON_GetObjectItem(data, "truncated")),
       "internetdb: 5000 ports cut at %d, truncated: true",
       NGX_HTTP_OSINT_FMT_LIST_MAX);

    cJSON_Delete(data);
    cJSON_Delete(root);
    free(text);
}


/*
 * Every normaliser over every body, and over each body with each of its
 * values (the first MUTATE_MAX in document order) replaced by values of
 * every other type; plus deep nesting and scalars.
 */

#define MUTATE_MAX  400

static const char  *all_bodies[] = {
    "internetdb", "internetdb_404", "ipinfo", "ipinfo_bogon", "rdap_domain",
    "rdap_ip", "rdap_ip_ripe", "rdap_autnum", "rdap_404", "crtsh",
    "crtsh_empty", "virustotal_domain", "virustotal_ip", "virustotal_file",
    "virustotal_url", "virustotal_404", "abuseipdb", "abuseipdb_clean",
    "greynoise", "greynoise_404", "greynoise_malicious", "urlhaus_host",
    "urlhaus_url", "urlhaus_no_results", "urlhaus_invalid_host", "dns_a",
    "dns_mx", "dns_txt", "dns_nxdomain", "dns_servfail", "presence_github",
    "presence_gitlab", "presence_gitlab_none", "presence_hn",
    "presence_hn_none", "presence_keybase", "presence_keybase_none",
    "hibp", "hibp_truncated", "hibp_error", "hibp_quota", "hibp_malformed",
    "emailrep", "emailrep_suspicious", "emailrep_error", "emailrep_quota",
    "emailrep_malformed", "numverify", "numverify_invalid",
    "numverify_error", "numverify_quota", "numverify_malformed",
    "censys_host", "censys_search", "censys_search_empty", "censys_404",
    "censys_401", "whoisxml", "whoisxml_registry", "whoisxml_missing",
    "whoisxml_error",
    NULL
};

static const char  *replacements[] = {
    "null", "true", "false", "0", "-1", "3", "1e308", "-0.5", "\"\"",
    "\"x\"", "\"online\"", "\"AS1\"", "\"\\n\\n\"", "[]", "{}",
    "[null, 1, \"a\", [], {}]", "{\"a\": {\"b\": [1]}}",
    "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]", NULL
};


static cJSON *
nth_item(cJSON *item, ngx_uint_t *n, cJSON **parent)
{
    cJSON  *c, *found;

    for (c = item->child; c; c = c->next) {
        if ((*n)-- == 0) {
            *parent = item;
            return c;
        }

        found = nth_item(c, n, parent);
        if (found) {
            return found;
        }
    }

    return NULL;
}


/* every format, every target type: how many runs broke the contract */

static ngx_uint_t
contract_all(cJSON *root, ngx_uint_t *runs)
{
    ngx_int_t   rc;
    ngx_uint_t  i, t, bad;

    static ngx_uint_t  types[] = { IPV4, IPV6, DOMAIN, URL, HASH, EMAIL,
                                   PHONE, USER };

    bad = 0;

    for (i = 1; ngx_http_osint_formats[i].name; i++) {
        for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
            rc = run(ngx_http_osint_formats[i].name, root, types[t], NULL,
                     NULL);
            (*runs)++;

            if (rc != NGX_OK && rc != NGX_DECLINED && rc != NGX_ERROR) {
                printf("# contract broken by %s: rc %d\n",
                       ngx_http_osint_formats[i].name, (int) rc);
                bad++;
            }
        }
    }

    return bad;
}


static void
test_mutations(void)
{
    char        *text;
    cJSON       *root, *target, *parent, *repl;
    ngx_uint_t   b, r, i, n, bad, runs, mutated;

    bad = 0;
    runs = 0;
    mutated = 0;

    for (b = 0; all_bodies[b]; b++) {
        text = slurp(all_bodies[b]);

        if (text == NULL) {
            ok(0, "contract: body %s missing", all_bodies[b]);
            continue;
        }

        root = cJSON_Parse(text);
        bad += contract_all(root, &runs);
        cJSON_Delete(root);

        for (i = 0; i < MUTATE_MAX; i++) {
            root = cJSON_Parse(text);
            n = i;
            target = nth_item(root, &n, &parent);
            cJSON_Delete(root);

            if (target == NULL) {
                break;
            }

            for (r = 0; replacements[r]; r++) {
                root = cJSON_Parse(text);
                n = i;
                target = nth_item(root, &n, &parent);
                repl = cJSON_Parse(replacements[r]);

                cJSON_ReplaceItemViaPointer(parent, target, repl);
                mutated++;

                bad += contract_all(root, &runs);
                cJSON_Delete(root);
            }
        }

        free(text);
    }

    ok(bad == 0 && mutated > 10000,
       "contract: %u bodies mutated, %u runs, %u broke it",
       (unsigned) mutated, (unsigned) runs, (unsigned) bad);
}


static void
test_junk(void)
{
    char        *text, *p;
    cJSON       *root;
    ngx_uint_t   i, runs, bad;

    static const char  *junk[] = {
        "null", "true", "false", "0", "-1e308", "\"\"", "\"text\"", "[]",
        "{}", "[{}]", "[[]]", "{\"\":null}",
        "{\"data\":{\"attributes\":[]}}",
        "{\"data\":{\"attributes\":{\"last_analysis_stats\":[]}}}",
        "{\"Status\":0,\"Answer\":[{\"type\":28},{\"data\":\"x\"},"
        "{\"type\":\"1\",\"data\":\"x\"},{\"type\":1e300,\"data\":\"x\"}]}",
        "{\"query_status\":\"ok\",\"urls\":[1,{\"tags\":{}},{\"tags\":[1]}]}",
        "{\"objectClassName\":\"domain\",\"entities\":{},\"events\":[1],"
        "\"nameservers\":{}}",
        "{\"objectClassName\":\"domain\",\"entities\":[{\"roles\":\"abuse\","
        "\"vcardArray\":[\"vcard\",{}]},{\"roles\":[\"registrar\"],"
        "\"vcardArray\":[\"vcard\",[1,[],[\"fn\"],[\"fn\",{},\"text\",1]]],"
        "\"publicIds\":{}}]}",
        "[{\"name_value\":\"\\n\\n \\n\"}]",
        NULL
    };

    runs = 0;
    bad = 0;

    for (i = 0; junk[i]; i++) {
        root = cJSON_Parse(junk[i]);

        if (root == NULL) {
            ok(0, "junk %u parses", (unsigned) i);
            continue;
        }

        bad += contract_all(root, &runs);
        cJSON_Delete(root);
    }

    /* nesting as deep as cJSON parses (its limit is 1000) */

    text = malloc(4 * 990 + 64);
    p = text;

    p += sprintf(p, "{\"data\":{\"attributes\":{\"categories\":");

    for (i = 0; i < 900; i++) {
        *p++ = '[';
    }

    for (i = 0; i < 900; i++) {
        *p++ = ']';
    }

    sprintf(p, "}}}");

    root = cJSON_Parse(text);

    if (root) {
        bad += contract_all(root, &runs);
        cJSON_Delete(root);
    }

    ok(root != NULL && bad == 0,
       "contract: scalars, odd shapes and 900-deep nesting, %u runs",
       (unsigned) runs);

    free(text);
}


/* the verdict */

static void
expect_verdict(const char *input, const char *want, const char *desc)
{
    char   *got_text;
    cJSON  *in, *got, *expected;

    in = cJSON_Parse(input);
    expected = cJSON_Parse(want);
    got = ngx_http_osint_verdict(in);

    ok(expected && got && cJSON_Compare(got, expected, 1), "verdict: %s",
       desc);

    if (!(expected && got && cJSON_Compare(got, expected, 1))) {
        got_text = got ? cJSON_PrintUnformatted(got) : NULL;
        printf("#   got:  %s\n#   want: %s\n", got_text ? got_text : "-",
               want);
        free(got_text);
    }

    cJSON_Delete(in);
    cJSON_Delete(got);
    cJSON_Delete(expected);
}


static void
test_verdict(void)
{
    expect_verdict("{}",
        "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}", "no providers");
    expect_verdict("[1,2]",
        "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}", "not an object");
    expect_verdict(
        "{\"virustotal\":{\"format\":\"virustotal\","
        "\"data\":{\"malicious\":12,"
        "\"suspicious\":2}}}",
        "{\"level\":\"malicious\",\"score\":97,\"reasons\":["
        "\"virustotal: 12 engines flag it malicious\"]}", "VT 12 malicious");
    expect_verdict(
        "{\"vt\":{\"format\":\"virustotal\",\"data\":{\"malicious\":3}}}",
        "{\"level\":\"malicious\",\"score\":70,\"reasons\":["
        "\"vt: 3 engines flag it malicious\"]}", "VT 3 malicious: the bound");
    expect_verdict(
        "{\"vt\":{\"format\":\"virustotal\",\"data\":{\"malicious\":1,"
        "\"suspicious\":0}}}",
        "{\"level\":\"suspicious\",\"score\":40,\"reasons\":["
        "\"vt: 1 engine flags it malicious\"]}", "VT 1 malicious");
    expect_verdict(
        "{\"vt\":{\"format\":\"virustotal\",\"data\":{\"malicious\":2}}}",
        "{\"level\":\"suspicious\",\"score\":50,\"reasons\":["
        "\"vt: 2 engines flag it malicious\"]}", "VT 2 malicious");
    expect_verdict(
        "{\"vt\":{\"format\":\"virustotal\",\"data\":{\"malicious\":0,"
        "\"suspicious\":1}}}",
        "{\"level\":\"suspicious\",\"score\":35,\"reasons\":["
        "\"vt: 1 engine flags it suspicious\"]}", "VT 1 suspicious");
    expect_verdict(
        "{\"vt\":{\"format\":\"virustotal\",\"data\":{\"malicious\":0,"
        "\"suspicious\":0}}}",
        "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}", "VT clean");
    expect_verdict(
        "{\"vt\":{\"format\":\"virustotal\",\"data\":{\"malicious\":\"12\"}}}",
        "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}",
        "VT count of the wrong type is no evidence");

    expect_verdict(
        "{\"aipdb\":{\"format\":\"abuseipdb\",\"data\":{\"abuse_score\":100,"
        "\"total_reports\":2413}}}",
        "{\"level\":\"malicious\",\"score\":100,\"reasons\":["
        "\"aipdb: abuse confidence 100% (2413 reports)\"]}",
        "AbuseIPDB 100");
    expect_verdict(
        "{\"aipdb\":{\"format\":\"abuseipdb\",\"data\":{\"abuse_score\":75,"
        "\"total_reports\":1}}}",
        "{\"level\":\"malicious\",\"score\":75,\"reasons\":["
        "\"aipdb: abuse confidence 75% (1 report)\"]}", "AbuseIPDB 75");
    expect_verdict(
        "{\"aipdb\":{\"format\":\"abuseipdb\",\"data\":{\"abuse_score\":30}}}",
        "{\"level\":\"suspicious\",\"score\":30,\"reasons\":["
        "\"aipdb: abuse confidence 30% (0 reports)\"]}", "AbuseIPDB 30");
    expect_verdict(
        "{\"aipdb\":{\"format\":\"abuseipdb\",\"data\":{\"abuse_score\":24}}}",
        "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}", "AbuseIPDB 24");
    expect_verdict(
        "{\"aipdb\":{\"format\":\"abuseipdb\",\"data\":{\"abuse_score\":0,"
        "\"is_whitelisted\":true}}}",
        "{\"level\":\"harmless\",\"score\":0,\"reasons\":["
        "\"aipdb: whitelisted\"]}", "AbuseIPDB whitelisted: harmless");

    expect_verdict(
        "{\"gn\":{\"format\":\"greynoise\",\"data\":{\"noise\":true,"
        "\"riot\":false,\"classification\":\"malicious\","
        "\"name\":\"unknown\"}}}",
        "{\"level\":\"malicious\",\"score\":80,\"reasons\":["
        "\"gn: classified malicious\"]}", "GreyNoise malicious");
    expect_verdict(
        "{\"greynoise\":{\"format\":\"greynoise\",\"data\":{\"noise\":false,"
        "\"riot\":true,\"classification\":\"benign\","
        "\"name\":\"Google Public DNS\"}}}",
        "{\"level\":\"harmless\",\"score\":0,\"reasons\":["
        "\"greynoise: a known benign service (Google Public DNS)\"]}",
        "GreyNoise riot: harmless");
    expect_verdict(
        "{\"gn\":{\"format\":\"greynoise\",\"data\":{\"noise\":true,"
        "\"riot\":false,\"classification\":\"unknown\"}}}",
        "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}",
        "GreyNoise noise alone is no evidence");

    expect_verdict(
        "{\"uh\":{\"format\":\"urlhaus\",\"data\":{\"url_count\":3,"
        "\"urls_online\":1}}}",
        "{\"level\":\"malicious\",\"score\":90,\"reasons\":["
        "\"uh: 1 malware URL online\"]}", "URLhaus host online");
    expect_verdict(
        "{\"uh\":{\"format\":\"urlhaus\",\"data\":{\"url_count\":3,"
        "\"urls_online\":0}}}",
        "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}",
        "URLhaus host, nothing online");
    expect_verdict(
        "{\"uh\":{\"format\":\"urlhaus\",\"data\":{\"url_status\":\"online\","
        "\"threat\":\"malware_download\"}}}",
        "{\"level\":\"malicious\",\"score\":90,\"reasons\":["
        "\"uh: the URL is online, malware_download\"]}",
        "URLhaus url online");

    expect_verdict(
        "{\"idb\":{\"format\":\"internetdb\",\"data\":{\"tags\":[\"cloud\","
        "\"C2\",\"compromised\",7]}}}",
        "{\"level\":\"suspicious\",\"score\":50,\"reasons\":["
        "\"idb: tagged c2, compromised\"]}", "InternetDB c2 tags");
    expect_verdict(
        "{\"idb\":{\"format\":\"internetdb\",\"data\":{\"tags\":[\"cloud\","
        "\"malware-free\"]}}}",
        "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}",
        "InternetDB harmless tags");

    expect_verdict(
        "{\"greynoise\":{\"format\":\"greynoise\",\"data\":{\"riot\":true,"
        "\"name\":\"Google Public DNS\"}},"
        "\"vt\":{\"format\":\"virustotal\",\"data\":{\"malicious\":5}},"
        "\"info\":{\"format\":\"ipinfo\",\"data\":{\"country\":\"US\"}}}",
        "{\"level\":\"malicious\",\"score\":76,\"reasons\":["
        "\"greynoise: a known benign service (Google Public DNS)\","
        "\"vt: 5 engines flag it malicious\"]}",
        "harmless and malicious evidence: malicious, both reasons");
    expect_verdict(
        "{\"a\":{\"format\":\"abuseipdb\",\"data\":{\"abuse_score\":80,"
        "\"total_reports\":9}},"
        "\"u\":{\"format\":\"urlhaus\",\"data\":{\"urls_online\":2}},"
        "\"i\":{\"format\":\"internetdb\",\"data\":{\"tags\":[\"malware\"]}}}",
        "{\"level\":\"malicious\",\"score\":90,\"reasons\":["
        "\"a: abuse confidence 80% (9 reports)\","
        "\"u: 2 malware URLs online\",\"i: tagged malware\"]}",
        "score: the highest of all evidence");
    expect_verdict(
        "{\"x\":{\"format\":\"virustotal\",\"data\":[1]},"
        "\"y\":{\"format\":7,\"data\":{\"malicious\":9}},"
        "\"z\":{\"data\":{\"malicious\":9}},\"w\":null,"
        "\"v\":{\"format\":\"urlhaus\",\"data\":{\"urls_online\":-3}}}",
        "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}",
        "malformed entries are no evidence");
}


/* the realistic bodies, normalised, then judged */

static void
test_verdict_people(void)
{
    expect_verdict("{\"er\":{\"format\":\"emailrep\",\"data\":"
                   "{\"reputation\":\"none\",\"suspicious\":true,"
                   "\"blacklisted\":true,\"disposable\":true}}}",
                   "{\"level\":\"malicious\",\"score\":80,\"reasons\":["
                   "\"er: blacklisted\","
                   "\"er: flagged suspicious (reputation none)\","
                   "\"er: a disposable address\"]}",
                   "emailrep: blacklisted, suspicious, disposable");
    expect_verdict("{\"er\":{\"format\":\"emailrep\",\"data\":"
                   "{\"reputation\":\"high\",\"suspicious\":false,"
                   "\"malicious_activity\":true}}}",
                   "{\"level\":\"malicious\",\"score\":75,\"reasons\":["
                   "\"er: malicious activity seen\","
                   "\"er: reputation high\"]}",
                   "emailrep: malicious activity beats a high reputation");
    expect_verdict("{\"er\":{\"format\":\"emailrep\",\"data\":"
                   "{\"reputation\":\"high\",\"suspicious\":false}}}",
                   "{\"level\":\"harmless\",\"score\":0,\"reasons\":["
                   "\"er: reputation high\"]}",
                   "emailrep: reputation high");
    expect_verdict("{\"pwned\":{\"format\":\"hibp\",\"data\":"
                   "{\"breach_count\":3,\"latest_breach\":\"Canva\","
                   "\"latest_breach_date\":\"2019-05-24\"}}}",
                   "{\"level\":\"suspicious\",\"score\":30,\"reasons\":["
                   "\"pwned: in 3 breaches, the latest Canva (2019-05-24)\"]}",
                   "hibp: three breaches");
    expect_verdict("{\"pwned\":{\"format\":\"hibp\",\"data\":"
                   "{\"breach_count\":1}}}",
                   "{\"level\":\"suspicious\",\"score\":30,\"reasons\":["
                   "\"pwned: in 1 breach\"]}",
                   "hibp: one breach, names only");
    expect_verdict("{\"pwned\":{\"format\":\"hibp\",\"data\":"
                   "{\"breach_count\":\"3\"}}}",
                   "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}",
                   "hibp: a count of the wrong type is no evidence");
    expect_verdict("{\"nv\":{\"format\":\"numverify\",\"data\":"
                   "{\"valid\":true,\"line_type\":\"mobile\"}}}",
                   "{\"level\":\"unknown\",\"score\":0,\"reasons\":[]}",
                   "numverify: no evidence either way");
}


static void
test_verdict_bodies(void)
{
    char        *text;
    cJSON       *in, *entry, *root, *data, *verdict;
    ngx_uint_t   i;

    static const char  *chain[][3] = {
        { "vt", "virustotal", "virustotal_domain" },
        { "abuseipdb", "abuseipdb", "abuseipdb" },
        { "greynoise", "greynoise", "greynoise" },
        { "urlhaus", "urlhaus", "urlhaus_host" },
        { "shodan", "internetdb", "internetdb" },
        { "ipinfo", "ipinfo", "ipinfo" },
    };

    in = cJSON_CreateObject();

    for (i = 0; i < sizeof(chain) / sizeof(chain[0]); i++) {
        root = body(chain[i][2]);
        data = NULL;

        if (root == NULL
            || run(chain[i][1], root, IPV4, &data, NULL) != NGX_OK)
        {
            ok(0, "verdict: %s normalises", chain[i][2]);
            cJSON_Delete(root);
            continue;
        }

        entry = cJSON_AddObjectToObject(in, chain[i][0]);
        cJSON_AddStringToObject(entry, "format", chain[i][1]);
        cJSON_AddItemToObject(entry, "data", data);
        cJSON_Delete(root);
    }

    verdict = ngx_http_osint_verdict(in);
    text = verdict ? cJSON_PrintUnformatted(verdict) : NULL;

    ok(text && strcmp(text,
                      "{\"level\":\"malicious\",\"score\":100,\"reasons\":["
                      "\"vt: 12 engines flag it malicious\","
                      "\"abuseipdb: abuse confidence 100% (2413 reports)\","
                      "\"greynoise: a known benign service "
                      "(Google Public DNS)\","
                      "\"urlhaus: 1 malware URL online\"]}") == 0,
       "verdict: over the canned bodies: %s", text ? text : "-");

    free(text);
    cJSON_Delete(verdict);
    cJSON_Delete(in);
}


/*
 * censys, dnsdb, whoisxml (t/63-formats-more.t has their bodies end to
 * end): the NDJSON reader, and what each refuses or finds absent
 */

static void
test_ndjson(const char *text, int want, const char *desc)
{
    cJSON  *list;

    list = ngx_http_osint_fmt_ndjson(text, strlen(text));

    ok(want < 0 ? list == NULL : cJSON_GetArraySize(list) == want,
       "ndjson: %s", desc);

    cJSON_Delete(list);
}


static void
test_formats_more(void)
{
    test_ndjson("", 0, "empty: no line");
    test_ndjson("{\"a\":1}\r\n\n  {\"b\":2}\n", 2,
                "CRLF, a blank line, leading blanks");
    test_ndjson("{\"a\":1}\n{\"b\":2}", 2, "no end of line at the end");
    test_ndjson("{\"a\":1}\n{\"b\"", 1, "a last line cut: left out");
    test_ndjson("{\"a\":1}\nnope\n{\"b\":2}\n", -1,
                "a line that is not JSON: none");

    expect_rc("dnsdb", "[{\"cond\":\"begin\"},{\"cond\":\"succeeded\"}]",
              DOMAIN, NGX_DECLINED, NULL, "no record: not found");
    expect_rc("dnsdb", "[{\"cond\":\"begin\"},{\"cond\":\"limited\"}]",
              DOMAIN, NGX_ERROR, "\"limited\" before any record",
              "limited with no record");
    expect_rc("dnsdb", "[{\"cond\":\"succeeded\"}]", DOMAIN, NGX_ERROR,
              "does not begin", "no begin");
    expect_rc("dnsdb", "{\"cond\":\"begin\"}", DOMAIN, NGX_ERROR,
              "not a stream", "an object");
    expect_rc("dnsdb", "[{\"cond\":\"begin\"},{\"cond\":\"ongoing\"}]",
              DOMAIN, NGX_ERROR, "(truncated)", "ends ongoing");
    expect_rc("dnsdb", "[{\"cond\":\"begin\"},{\"obj\":{\"rrname\":1}},"
              "{\"cond\":\"succeeded\"}]", DOMAIN, NGX_ERROR,
              "dnsdb: \"rrname\" is not", "rrname a number");
    expect_rc("dnsdb", "[{\"cond\":\"begin\"},{\"obj\":{\"rrname\":\"a.\","
              "\"count\":\"7\"}},{\"cond\":\"succeeded\"}]", DOMAIN,
              NGX_ERROR, "dnsdb: \"count\" is not", "count a string");
    expect_rc("dnsdb", "[{\"cond\":\"begin\"},{\"obj\":{\"rrname\":\"a.\"}},"
              "{\"cond\":\"failed\"}]", DOMAIN, NGX_ERROR,
              "\"failed\": no reason given", "failed without msg");

    expect_rc("censys", "{\"result\":{\"hits\":[]}}", DOMAIN, NGX_DECLINED,
              NULL, "a search without hits");
    expect_rc("censys", "{\"result\":{\"services\":\"x\"}}", IPV4,
              NGX_ERROR, "censys: \"services\" is not", "services a string");
    expect_rc("censys", "{\"code\":429,\"error\":\"x\"}", IPV4, NGX_ERROR,
              "censys: the answer is an error", "an error body");

    expect_rc("whoisxml", "{\"WhoisRecord\":{\"dataError\":"
              "\"NO_WHOIS_DATA\"}}", DOMAIN, NGX_DECLINED, NULL,
              "no WHOIS data");
    expect_rc("whoisxml", "{\"WhoisRecord\":{\"registrarName\":5}}",
              DOMAIN, NGX_ERROR, "whoisxml: \"registrarName\" is not",
              "registrarName a number");
}


int
main(int argc, char **argv)
{
    bodies = argc > 1 ? argv[1] : "t/lib/bodies";

    test_internetdb();
    test_internetdb_odd();
    test_ipinfo();
    test_ipinfo_variants();
    test_rdap();
    test_rdap_variants();
    test_rdap_deep();
    test_crtsh();
    test_crtsh_big();
    test_virustotal();
    test_abuseipdb();
    test_greynoise();
    test_urlhaus();
    test_dns();
    test_dns_txt();
    test_presence();
    test_hibp();
    test_emailrep();
    test_numverify();
    test_formats_more();
    test_lists_capped();
    test_junk();
    test_mutations();
    test_verdict();
    test_verdict_people();
    test_verdict_bodies();

    printf("1..%d\n", tests);

    return failed ? 1 : 0;
}
