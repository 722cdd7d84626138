
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * A batch (POST /lookup) under osint_limit: the limiter decides before
 * the body is read, so the request paid one token whatever the number of
 * targets.  Once the body is parsed, the batch asks here for the tokens
 * of its other targets: one per target, per limit, taken at once or not
 * at all (no delay), so a batch of N targets costs what N lookups cost.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint_limit.h"
#include "ngx_http_osint_limit_internal.h"


static ngx_uint_t ngx_http_osint_limit_tokens(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev, ngx_uint_t want, ngx_uint_t take,
    ngx_log_t *log);


/*
 * Takes up to n more tokens from every limit that applied to the
 * request; returns how many it took, the same from each: the smallest
 * number all its limits could give.  Limits in dry_run give without
 * taking; a request no limit applied to gets all n.
 */

ngx_uint_t
ngx_http_osint_limit_charge(ngx_http_request_t *r, ngx_uint_t n)
{
    ngx_uint_t                   i, granted, pass;
    ngx_http_osint_limit_t      *limits;
    ngx_http_osint_limit_ctx_t  *ctx;
    ngx_http_osint_limit_run_t  *run;
    ngx_http_osint_limit_zone_t *z;

    ctx = ngx_http_osint_limit_get_ctx(r);

    if (n == 0 || ctx == NULL || ctx->run == NULL
        || ctx->run->llcf == NULL)
    {
        return n;
    }

    run = ctx->run;
    limits = run->llcf->limits.elts;
    granted = n;

    /* first what each can give, then the same from each */

    for (pass = 0; pass < 2; pass++) {

        for (i = 0; i < run->n && granted; i++) {

            if (!run->ev[i].applied || limits[i].dry_run) {
                continue;
            }

            z = limits[i].shm_zone->data;

            granted = ngx_http_osint_limit_tokens(z, &run->ev[i], granted,
                                                  pass, r->connection->log);
        }
    }

    return granted;
}


/*
 * The whole tokens a key has now, at most "want"; with "take", taken.
 * sync=redis: only the tokens Redis leased to this node, so that the
 * nodes' shared bound holds (a big batch there is mostly rate_limited).
 */

static ngx_uint_t
ngx_http_osint_limit_tokens(ngx_http_osint_limit_zone_t *z,
    ngx_http_osint_limit_eval_t *ev, ngx_uint_t want, ngx_uint_t take,
    ngx_log_t *log)
{
    double                        tokens;
    ngx_uint_t                    got;
    ngx_msec_t                    now;
    ngx_http_osint_limit_node_t  *node;

    now = ngx_current_msec;

    ngx_shmtx_lock(&z->shpool->mutex);

    node = ngx_http_osint_limit_lookup(z, ev, 1, now);

    if (node == NULL) {
        /* no room even after evictions: not limited, as the request */
        ngx_http_osint_limit_unlock(z, ev, log);
        return want;
    }

    if (z->sync) {
        got = (ngx_msec_int_t) (node->lease_exp - now) > 0 ? node->lease : 0;
        got = ngx_min(got, want);

        if (take) {
            node->lease -= got;
        }

    } else {
        tokens = ngx_http_osint_bucket_tokens(&node->bucket, &z->rate, now);
        got = tokens >= 1.0 ? ngx_min((ngx_uint_t) tokens, want) : 0;

        if (take) {
            /* whole tokens present: each take succeeds without a wait */

            for (want = 0; want < got; want++) {
                (void) ngx_http_osint_bucket_take(&node->bucket, &z->rate,
                                                  now, 0);
            }
        }
    }

    ngx_http_osint_limit_unlock(z, ev, log);

    return got;
}
