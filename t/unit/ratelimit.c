
/*
 * Unit tests of what a provider says of its own limit
 * (src/core/ngx_http_osint_ratelimit.c): the header forms, odd values,
 * caps.  Prints TAP.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"
#include "tap.h"


#define NOW  1800000000


static ngx_http_osint_said_t
said_of(ngx_uint_t field, char *value)
{
    ngx_http_osint_said_t  said;

    ngx_http_osint_said_init(&said);
    ngx_http_osint_said_field(&said, field, (u_char *) value,
                              ngx_strlen(value), NOW);

    return said;
}


int
main(void)
{
    ngx_http_osint_said_t  s;

    s = said_of(NGX_HTTP_OSINT_SAID_REMAINING, "42");
    ok(s.remaining == 42 && s.limit == -1 && s.reset == -1, "remaining 42");

    s = said_of(NGX_HTTP_OSINT_SAID_REMAINING, " 7 ");
    ok(s.remaining == 7, "spaces around a number");

    s = said_of(NGX_HTTP_OSINT_SAID_REMAINING, "0");
    ok(s.remaining == 0, "remaining 0");

    s = said_of(NGX_HTTP_OSINT_SAID_REMAINING, "-1");
    ok(s.remaining == -1, "a sign: not said");

    s = said_of(NGX_HTTP_OSINT_SAID_REMAINING, "12abc");
    ok(s.remaining == -1, "garbage after digits: not said");

    s = said_of(NGX_HTTP_OSINT_SAID_REMAINING, "");
    ok(s.remaining == -1, "empty: not said");

    s = said_of(NGX_HTTP_OSINT_SAID_REMAINING,
                "99999999999999999999999999999999");
    ok(s.remaining == NGX_HTTP_OSINT_SAID_MAX, "huge: capped, no overflow");

    s = said_of(NGX_HTTP_OSINT_SAID_LIMIT, "5000");
    ok(s.limit == 5000, "limit 5000");

    s = said_of(NGX_HTTP_OSINT_SAID_RESET, "30");
    ok(s.reset == 30, "RateLimit-Reset: seconds");

    s = said_of(NGX_HTTP_OSINT_SAID_RESET_ANY, "30");
    ok(s.reset == 30, "X-RateLimit-Reset: small, seconds");

    s = said_of(NGX_HTTP_OSINT_SAID_RESET_ANY, "1800000090");
    ok(s.reset == 90, "X-RateLimit-Reset: a Unix time, 90 s ahead");

    s = said_of(NGX_HTTP_OSINT_SAID_RESET_ANY, "1799999000");
    ok(s.reset == 0, "X-RateLimit-Reset: a Unix time past: 0");

    s = said_of(NGX_HTTP_OSINT_SAID_RESET, "999999999");
    ok(s.reset == NGX_HTTP_OSINT_SAID_RESET_MAX, "a reset capped at a day");

    s = said_of(NGX_HTTP_OSINT_SAID_STRUCTURED,
                "limit=100, remaining=50, reset=30");
    ok(s.limit == 100 && s.remaining == 50 && s.reset == 30,
       "RateLimit: limit=, remaining=, reset=");

    s = said_of(NGX_HTTP_OSINT_SAID_STRUCTURED, "\"default\";r=50;t=30");
    ok(s.limit == -1 && s.remaining == 50 && s.reset == 30,
       "RateLimit: \"default\";r=50;t=30");

    s = said_of(NGX_HTTP_OSINT_SAID_STRUCTURED,
                "remaining=x, reset=, =5, limit, r=3");
    ok(s.remaining == 3 && s.reset == -1 && s.limit == -1,
       "RateLimit: odd members ignored");

    s = said_of(NGX_HTTP_OSINT_SAID_STRUCTURED, ";;,,");
    ok(s.remaining == -1, "RateLimit: separators only");

    printf("1..%d\n", tests);

    return failed ? 1 : 0;
}
