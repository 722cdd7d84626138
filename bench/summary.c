
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The summary merge (src/core/ngx_http_osint_summary.c) of two providers whose
 * answers are as wide as osint_max_body lets them be: 100 000 members
 * each, of the same names and other values, and arrays of 100 000
 * elements, all different.  Prints the time of each merge; `make
 * bench-summary` builds and runs it.  A merge linear in the data takes
 * milliseconds; one that looks each name or value up in a list, minutes.
 */


#include "fuzz.h"

#include <time.h>


#define BENCH_WIDTH   100000
#define BENCH_ROUNDS  5


static cJSON *bench_answer(ngx_uint_t offset);


static ngx_str_t  target = ngx_string("192.0.2.1");


int
main(void)
{
    cJSON                      *summary;
    double                      ms, worst;
    ngx_uint_t                  i, members, elements;
    ngx_pool_t                 *pool;
    struct timespec             t0, t1;
    ngx_http_osint_summary_in_t calls[2];
    ngx_http_osint_provider_t   providers[2];

    ngx_memzero(calls, sizeof(calls));
    ngx_memzero(providers, sizeof(providers));

    for (i = 0; i < 2; i++) {
        providers[i].name.data = (u_char *) (i ? "p1" : "p0");
        providers[i].name.len = 2;
        calls[i].provider = &providers[i];
        calls[i].status = NGX_HTTP_OSINT_OK;
        calls[i].data = bench_answer(i * BENCH_WIDTH);

        if (calls[i].data == NULL) {
            return 1;
        }
    }

    worst = 0;

    for (i = 0; i < BENCH_ROUNDS; i++) {
        pool = fuzz_pool();

        clock_gettime(CLOCK_MONOTONIC, &t0);
        summary = ngx_http_osint_summary(&target, NGX_HTTP_OSINT_IPV4, calls, 2,
                                         pool);
        clock_gettime(CLOCK_MONOTONIC, &t1);

        if (summary == NULL) {
            return 1;
        }

        ms = (t1.tv_sec - t0.tv_sec) * 1000.0
             + (t1.tv_nsec - t0.tv_nsec) / 1e6;
        worst = ms > worst ? ms : worst;

        members = cJSON_GetArraySize(summary);
        elements = cJSON_GetArraySize(cJSON_GetObjectItem(summary, "list"));

        cJSON_Delete(summary);
        fuzz_pool_free(pool);

        printf("summary of 2 x %d members, 2 x %d elements: %.2f ms "
               "(%lu members, list of %lu)\n", BENCH_WIDTH, BENCH_WIDTH, ms,
               (unsigned long) members, (unsigned long) elements);
    }

    printf("slowest of %d: %.2f ms\n", BENCH_ROUNDS, worst);

    for (i = 0; i < 2; i++) {
        cJSON_Delete(calls[i].data);
    }

    return 0;
}


/* {"list": [offset, offset + 1, ...], "m0": offset, ...} */

static cJSON *
bench_answer(ngx_uint_t offset)
{
    char         name[32];
    cJSON       *o, *list;
    ngx_uint_t   i;

    o = cJSON_CreateObject();
    list = cJSON_CreateArray();

    if (o == NULL || list == NULL) {
        return NULL;
    }

    /* first: its elements are merged, whatever the cap on members */

    cJSON_AddItemToObject(o, "list", list);

    for (i = 0; i < BENCH_WIDTH; i++) {
        (void) snprintf(name, sizeof(name), "m%lu", (unsigned long) i);

        if (cJSON_AddNumberToObject(o, name, (double) offset) == NULL
            || !cJSON_AddItemToArray(list,
                                     cJSON_CreateNumber((double) (offset
                                                                  + i))))
        {
            return NULL;
        }
    }

    return o;
}
