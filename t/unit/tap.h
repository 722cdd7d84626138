
/*
 * TAP for the unit tests in t/unit/: ok(cond, format, ...) prints one
 * "ok N - ..." or "not ok N - ..." line; main() prints "1..tests" last
 * and exits 1 when any failed.
 */


#ifndef _NGX_HTTP_OSINT_TAP_H_INCLUDED_
#define _NGX_HTTP_OSINT_TAP_H_INCLUDED_


static int  tests, failed;


#define ok(cond, ...)                                                         \
    do {                                                                      \
        tests++;                                                              \
        if (!(cond)) {                                                        \
            failed++;                                                         \
            printf("not ok %d - ", tests);                                    \
        } else {                                                              \
            printf("ok %d - ", tests);                                        \
        }                                                                     \
        printf(__VA_ARGS__);                                                  \
        printf("\n");                                                         \
    } while (0)


#endif /* _NGX_HTTP_OSINT_TAP_H_INCLUDED_ */
