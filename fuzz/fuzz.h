
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * What the fuzz targets share: the stand-ins of fuzz/ngx_stubs.c for the
 * few nginx core functions the pure code calls (nginx-dev ships headers,
 * not core sources), and helpers to split one input into parts.
 */


#ifndef _FUZZ_H_INCLUDED_
#define _FUZZ_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>
#include <stdlib.h>

#include "ngx_http_osint_core.h"


/*
 * An invariant of the code under test does not hold: print why and
 * abort(), which libFuzzer reports as a crash with the input saved.
 */
#define fuzz_check(cond, ...)                                                 \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "\nfuzz invariant failed at %s:%d: %s\n  ",      \
                    __FILE__, __LINE__, #cond);                               \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, "\n");                                            \
            abort();                                                          \
        }                                                                     \
    } while (0)


/* log, pool and configuration to pass to the code under test */
extern ngx_log_t   fuzz_log;

ngx_pool_t *fuzz_pool(void);
void fuzz_pool_free(ngx_pool_t *pool);
void fuzz_conf(ngx_conf_t *cf, ngx_pool_t *pool);

/*
 * Splits [*p, last) at the next byte "sep": the part before it goes to
 * *part, *p moves past it (NULL after the last part).  Returns 0 when
 * nothing is left.
 */
int fuzz_next(const u_char **p, const u_char *last, u_char sep,
    ngx_str_t *part);

/*
 * The input in a malloc() of its own size (free() it): AddressSanitizer
 * sees any read past it.
 */
u_char *fuzz_copy(const uint8_t *data, size_t size);

/* cJSON_Compare(), or the same text (see fuzz/ngx_stubs.c) */
ngx_uint_t fuzz_json_equal(cJSON *a, cJSON *b);

/* the record separator of RFC 7464 JSON text sequences splits inputs */
#define FUZZ_SEP  0x1e


#endif /* _FUZZ_H_INCLUDED_ */
