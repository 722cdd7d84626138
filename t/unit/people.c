
/*
 * Unit tests of the people targets of src/core/: phone numbers
 * (ngx_http_osint_phone_parse(): "+" and 8..15 digits with an assigned
 * calling code, the separators people write left out;
 * ngx_http_osint_phone_data(): the calling code and the country or
 * countries) and usernames (ngx_http_osint_target_parse() asked for
 * type=username: 1..64 letters, digits, ".", "_", "-", kept as given).
 * Prints TAP.  Linked without nginx, with the stand-ins of
 * fuzz/ngx_stubs.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"
#include "fuzz.h"
#include "tap.h"


static ngx_pool_t  *pool;


static void
test_phone(const char *input, const char *canonical, const char *code,
    const char *countries)
{
    char       *text;
    cJSON      *data;
    ngx_int_t   rc;
    ngx_str_t   out;

    ngx_str_null(&out);

    rc = ngx_http_osint_phone_parse(pool, (u_char *) input, strlen(input),
                                    &out);

    if (canonical == NULL) {
        ok(rc == NGX_DECLINED, "phone \"%s\" refused", input);
        return;
    }

    ok(rc == NGX_OK && out.len == strlen(canonical)
       && ngx_strncmp(out.data, canonical, out.len) == 0,
       "phone \"%s\" is %s (got \"%.*s\")", input, canonical,
       (int) out.len, out.data ? (char *) out.data : "");

    if (rc != NGX_OK) {
        return;
    }

    data = ngx_http_osint_phone_data(&out);
    text = data ? cJSON_PrintUnformatted(data) : NULL;

    /* a global service (+800) has no country */

    ok(text && strstr(text, code)
       && (countries ? strstr(text, countries) != NULL
                     : strstr(text, "country") == NULL),
       "phone %s: %s and %s in %s", canonical, code,
       countries ? countries : "no country", text ? text : "(none)");

    cJSON_free(text);
    cJSON_Delete(data);
}


static void
test_username(const char *input, ngx_uint_t valid)
{
    ngx_str_t    in, canonical;
    ngx_int_t    rc;
    ngx_uint_t   type;
    const char  *reason;

    in.data = (u_char *) input;
    in.len = strlen(input);
    type = 0;
    reason = NULL;

    rc = ngx_http_osint_target_parse(pool, &in, NGX_HTTP_OSINT_USERNAME,
                                     &canonical, &type, &reason);

    if (!valid) {
        ok(rc != NGX_OK, "username \"%.20s\" (%zu bytes) refused: %s",
           input, in.len, reason ? reason : "(no reason)");
        return;
    }

    ok(rc == NGX_OK && type == NGX_HTTP_OSINT_USERNAME
       && canonical.len == in.len
       && ngx_strncmp(canonical.data, input, in.len) == 0,
       "username \"%s\" kept as given", input);
}


int
main(void)
{
    char  long_name[66];

    pool = fuzz_pool();

    /* the separators people write, the shared and global codes */

    test_phone("+44 20 7946 0000", "+442079460000", "\"+44\"",
               "[\"GB\",\"GG\",\"IM\",\"JE\"]");
    test_phone("+1 (202) 555-0143", "+12025550143", "\"+1\"", "\"US\"");
    test_phone("+49.30.1234567", "+49301234567", "\"+49\"", "\"DE\"");
    test_phone("+33-1-23-45-67-89", "+33123456789", "\"+33\"", "\"FR\"");
    test_phone("+358 9 1234 5678", "+358912345678", "\"+358\"",
               "[\"FI\",\"AX\"]");
    test_phone("+7 495 123-45-67", "+74951234567", "\"+7\"",
               "[\"RU\",\"KZ\"]");
    test_phone("+81 3-1234-5678", "+81312345678", "\"+81\"", "\"JP\"");
    test_phone("+80012345678", "+80012345678", "\"+800\"", NULL);
    test_phone("+12345678", "+12345678", "\"+1\"", "\"CA\"");
    test_phone("+123456789012345", "+123456789012345", "\"+1\"", "\"VI\"");

    /* refused */

    test_phone("+1234567", NULL, NULL, NULL);            /* 7 digits */
    test_phone("+1234567890123456", NULL, NULL, NULL);   /* 16 digits */
    test_phone("+0123456789", NULL, NULL, NULL);         /* code 0 */
    test_phone("+28 1234 5678", NULL, NULL, NULL);       /* unassigned */
    test_phone("+44 20 7946 000a", NULL, NULL, NULL);
    test_phone("+44/2079460000", NULL, NULL, NULL);
    test_phone("+44_2079460000", NULL, NULL, NULL);
    test_phone("+", NULL, NULL, NULL);
    test_phone("442079460000", NULL, NULL, NULL);        /* no "+" */
    test_phone("++442079460000", NULL, NULL, NULL);

    /* usernames: kept as given, case and all */

    test_username("octocat", 1);
    test_username("Jane.Doe_99-x", 1);
    test_username("a", 1);

    ngx_memset(long_name, 'u', 64);
    long_name[64] = '\0';
    test_username(long_name, 1);

    long_name[64] = 'u';
    long_name[65] = '\0';
    test_username(long_name, 0);                         /* 65 bytes */

    test_username("", 0);
    test_username("jane doe", 0);
    test_username("jane@example.com", 0);
    test_username("../admin", 0);
    test_username("j\xc3\xa1ne", 0);                     /* non-ASCII */
    test_username("jane%2f", 0);

    fuzz_pool_free(pool);

    printf("1..%d\n", tests);

    return failed ? 1 : 0;
}
