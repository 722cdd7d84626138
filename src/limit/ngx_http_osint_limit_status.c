
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The limiter's part of osint_status: Prometheus lines and JSON, from the
 * zones of the configuration the worker runs.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"
#include "ngx_http_osint_limit.h"
#include "ngx_http_osint_limit_internal.h"


static ngx_http_osint_limit_main_conf_t *ngx_http_osint_limit_current(void);


static const char  *ngx_http_osint_limit_results[] = {
    "passed", "delayed", "dry_run", "rejected"
};


/* status: the zones of the configuration the worker runs */

static ngx_http_osint_limit_main_conf_t *
ngx_http_osint_limit_current(void)
{
    return ngx_http_cycle_get_module_main_conf((ngx_cycle_t *) ngx_cycle,
                                               ngx_http_osint_limit_module);
}


size_t
ngx_http_osint_limit_prometheus_size(void)
{
    size_t                             size;
    ngx_uint_t                         i;
    ngx_http_osint_limit_zone_t      **zones;
    ngx_http_osint_limit_main_conf_t  *lmcf;

    size = 1024;
    lmcf = ngx_http_osint_limit_current();

    if (lmcf == NULL) {
        return size;
    }

    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        size += (NGX_HTTP_OSINT_LIMIT_RESULTS + 3)
                * (sizeof("osint_limit_requests_total{zone=\"\",result="
                          "\"rejected\"} \n") + zones[i]->name.len
                   + NGX_ATOMIC_T_LEN);
    }

    return size;
}


u_char *
ngx_http_osint_limit_prometheus(u_char *p, u_char *last)
{
    ngx_uint_t                         i, j;
    ngx_http_osint_limit_zone_t      **zones;
    ngx_http_osint_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_osint_limit_current();

    p = ngx_slprintf(p, last,
                     "# HELP osint_limit_requests_total Requests seen by "
                     "osint_limit, by zone and result.\n"
                     "# TYPE osint_limit_requests_total counter\n");

    if (lmcf == NULL) {
        return p;
    }

    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        for (j = 0; zones[i]->sh && j < NGX_HTTP_OSINT_LIMIT_RESULTS; j++) {
            p = ngx_slprintf(p, last, "osint_limit_requests_total{zone="
                             "\"%V\",result=\"%s\"} %uA\n", &zones[i]->name,
                             ngx_http_osint_limit_results[j],
                             zones[i]->sh->requests[j]);
        }
    }

    p = ngx_slprintf(p, last,
                     "# HELP osint_limit_keys Keys with a bucket in the "
                     "osint_limit zone.\n"
                     "# TYPE osint_limit_keys gauge\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->sh) {
            p = ngx_slprintf(p, last, "osint_limit_keys{zone=\"%V\"} %ui\n",
                             &zones[i]->name, zones[i]->sh->keys);
        }
    }

    p = ngx_slprintf(p, last,
                     "# HELP osint_limit_evictions_total Keys evicted, least "
                     "recently used first, to make room in a full "
                     "osint_limit zone.\n"
                     "# TYPE osint_limit_evictions_total counter\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->sh) {
            p = ngx_slprintf(p, last, "osint_limit_evictions_total{zone="
                             "\"%V\"} %uA\n", &zones[i]->name,
                             zones[i]->sh->evictions);
        }
    }

    p = ngx_slprintf(p, last,
                     "# HELP osint_limit_redis_fallback_total Requests of a "
                     "sync=redis zone decided on the local bucket because "
                     "Redis did not answer.\n"
                     "# TYPE osint_limit_redis_fallback_total counter\n");

    for (i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->sh && zones[i]->sync) {
            p = ngx_slprintf(p, last, "osint_limit_redis_fallback_total{zone="
                             "\"%V\"} %uA\n", &zones[i]->name,
                             zones[i]->sh->fallbacks);
        }
    }

    return p;
}


cJSON *
ngx_http_osint_limit_json(void)
{
    char                               name[NGX_HTTP_OSINT_NAME_MAX + 1];
    cJSON                             *doc, *item, *requests;
    ngx_uint_t                         i, j;
    ngx_http_osint_limit_zone_t       *z, **zones;
    ngx_http_osint_limit_main_conf_t  *lmcf;

    doc = cJSON_CreateObject();
    if (doc == NULL) {
        return NULL;
    }

    lmcf = ngx_http_osint_limit_current();

    if (lmcf == NULL) {
        return doc;
    }

    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        z = zones[i];

        if (z->sh == NULL) {
            continue;
        }

        item = cJSON_CreateObject();
        if (item == NULL) {
            cJSON_Delete(doc);
            return NULL;
        }

        ngx_memcpy(name, z->name.data, z->name.len);
        name[z->name.len] = '\0';

        cJSON_AddItemToObject(doc, name, item);

        cJSON_AddNumberToObject(item, "rate", (double) z->rate_n);
        cJSON_AddStringToObject(item, "per", z->window == 1 ? "s" : "m");
        cJSON_AddNumberToObject(item, "burst", (double) z->rate.burst);
        cJSON_AddNumberToObject(item, "keys", (double) z->sh->keys);
        cJSON_AddNumberToObject(item, "evictions",
                                (double) z->sh->evictions);
        if (z->sync) {
            cJSON_AddStringToObject(item, "sync", "redis");
            cJSON_AddNumberToObject(item, "redis_fallback",
                                    (double) z->sh->fallbacks);
        }

        requests = cJSON_AddObjectToObject(item, "requests");

        if (requests == NULL) {
            cJSON_Delete(doc);
            return NULL;
        }

        for (j = 0; j < NGX_HTTP_OSINT_LIMIT_RESULTS; j++) {
            cJSON_AddNumberToObject(requests, ngx_http_osint_limit_results[j],
                                    (double) z->sh->requests[j]);
        }
    }

    return doc;
}
