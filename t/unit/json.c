
/*
 * Unit tests of the number writers and the canonical-text check of
 * src/core/ngx_http_osint_json.c: ngx_http_osint_decimal() and
 * ngx_http_osint_json_ms() against the forms the documents have always
 * had ("%uL"; tenths of a millisecond, "14.2", "3001"), and
 * ngx_http_osint_json_canonical() on texts the printer writes and on
 * texts it would write otherwise (fuzz_json checks the two against each
 * other at random).  Prints TAP.  Linked without nginx, with the
 * stand-ins of fuzz/ngx_stubs.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <math.h>

#include "ngx_http_osint_core.h"
#include "fuzz.h"
#include "tap.h"


static void
test_uint(uint64_t n, const char *want)
{
    u_char  buf[NGX_INT64_LEN + 1], *last;

    last = ngx_http_osint_decimal(buf, n);
    *last = '\0';

    ok(strcmp((char *) buf, want) == 0, "uint %s: \"%s\"", want, buf);
}


static void
test_ms(double ms, const char *want)
{
    u_char  buf[NGX_INT64_LEN + 3], *last;

    last = ngx_http_osint_json_ms(buf, ms);
    *last = '\0';

    ok(strcmp((char *) buf, want) == 0, "ms %g: \"%s\" (want \"%s\")", ms,
       buf, want);
}


static void
test_canonical(const char *text, ngx_int_t want)
{
    ngx_int_t  rc;

    rc = ngx_http_osint_json_canonical((u_char *) text, strlen(text));

    ok(rc == want, "canonical %s: %s", text,
       rc == NGX_OK ? "yes" : "no");
}


int
main(void)
{
    test_uint(0, "0");
    test_uint(7, "7");
    test_uint(404, "404");
    test_uint(1000000, "1000000");
    test_uint(18446744073709551615ULL, "18446744073709551615");

    test_ms(0.0, "0");
    test_ms(-3.0, "0");
    test_ms(NAN, "0");
    test_ms(0.04, "0");
    test_ms(0.05, "0.1");
    test_ms(14.24, "14.2");
    test_ms(14.26, "14.3");
    test_ms(3001.0, "3001");
    test_ms(3000.96, "3001");
    test_ms(1e12, "86400000");

    /* what the printer writes */

    test_canonical("{}", NGX_OK);
    test_canonical("[]", NGX_OK);
    test_canonical("{\"a\":[1,-2,1.5,true,false,null,{}],\"b\":\"x/y\"}",
                   NGX_OK);
    test_canonical("\"\\u2028\\u0085\\n\\u001f\\\"\\\\\"", NGX_OK);
    test_canonical("\"\xc3\xa9\xe6\x97\xa5\"", NGX_OK);
    test_canonical("123456789012345", NGX_OK);
    test_canonical("1e+20", NGX_OK);
    test_canonical("0.1", NGX_OK);
    test_canonical("-0", NGX_OK);

    /* what it would write otherwise */

    test_canonical("", NGX_DECLINED);
    test_canonical("{ }", NGX_DECLINED);               /* whitespace */
    test_canonical("{\"a\":1,}", NGX_DECLINED);
    test_canonical("[1]]", NGX_DECLINED);
    test_canonical("{\"a\":1}x", NGX_DECLINED);
    test_canonical("\"x\\/y\"", NGX_DECLINED);         /* "/" unescaped */
    test_canonical("\"\\u00e9\"", NGX_DECLINED);       /* raw UTF-8 */
    test_canonical("\"\\u001F\"", NGX_DECLINED);       /* lower case */
    test_canonical("\"\\u0000\"", NGX_DECLINED);
    test_canonical("\"\xe2\x80\xa8\"", NGX_DECLINED);  /* U+2028 escaped */
    test_canonical("\"\xc3\"", NGX_DECLINED);          /* ill-formed */
    test_canonical("\"a\x01\"", NGX_DECLINED);         /* a control */
    test_canonical("1.0", NGX_DECLINED);
    test_canonical("01", NGX_DECLINED);
    test_canonical("1E5", NGX_DECLINED);
    test_canonical("1e999", NGX_DECLINED);             /* printed null */
    test_canonical("1234567890123456789", NGX_DECLINED);
    test_canonical("tru", NGX_DECLINED);
    test_canonical("\"unterminated", NGX_DECLINED);

    printf("1..%d\n", tests);

    return failed ? 1 : 0;
}
