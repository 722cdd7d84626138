
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Active probes: "probe TARGET [interval=T] [breaker]" in an
 * osint_provider calls the provider with a known target every interval,
 * in the background, so that its state is known before a client asks.
 * Every worker ticks each second; the zone decides which one probes (the
 * first to find the probe due moves its next time on), so a provider is
 * probed once an interval whatever the number of workers.  The call is a
 * background call (src/ngx_http_osint_refresh.c): its own pool and
 * deadline, cancelled when the worker exits.  Its outcome and latency
 * are the provider's last probe, on the status and health pages; it
 * feeds the breaker only with "breaker" (and only then does an open
 * breaker stop it).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


#define NGX_HTTP_OSINT_PROBE_TICK  1000


static void ngx_http_osint_probe_tick(ngx_event_t *ev);
static ngx_uint_t ngx_http_osint_probe_due(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p);
static void ngx_http_osint_probe_record(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_err_e err,
    ngx_msec_t latency_us);


static ngx_event_t       ngx_http_osint_probe_timer;
static ngx_connection_t  ngx_http_osint_probe_conn;


ngx_int_t
ngx_http_osint_probe_init_process(ngx_cycle_t *cycle,
    ngx_http_osint_main_conf_t *omcf)
{
    ngx_uint_t                  i;
    ngx_http_osint_provider_t  *prov;

    prov = omcf->providers.elts;

    for (i = 0; i < omcf->providers.nelts; i++) {
        if (prov[i].probe_target.len && !prov[i].disabled) {
            break;
        }
    }

    if (i == omcf->providers.nelts || omcf->shm_zone == NULL) {
        return NGX_OK;
    }

    ngx_http_osint_probe_conn.fd = (ngx_socket_t) -1;

    ngx_http_osint_probe_timer.handler = ngx_http_osint_probe_tick;
    ngx_http_osint_probe_timer.data = &ngx_http_osint_probe_conn;
    ngx_http_osint_probe_timer.log = cycle->log;
    ngx_http_osint_probe_timer.cancelable = 1;

    ngx_add_timer(&ngx_http_osint_probe_timer, NGX_HTTP_OSINT_PROBE_TICK);

    return NGX_OK;
}


void
ngx_http_osint_probe_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_osint_probe_timer.timer_set) {
        ngx_del_timer(&ngx_http_osint_probe_timer);
    }
}


static void
ngx_http_osint_probe_tick(ngx_event_t *ev)
{
    ngx_uint_t                   i;
    ngx_http_osint_provider_t   *prov;
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_osint_module);
    prov = omcf->providers.elts;

    for (i = 0; i < omcf->providers.nelts; i++) {
        if (prov[i].probe_target.len && !prov[i].disabled
            && ngx_http_osint_probe_due(omcf, &prov[i]))
        {
            ngx_http_osint_refresh_probe(omcf, &prov[i],
                                         ngx_http_osint_probe_record);
        }
    }

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(ev, NGX_HTTP_OSINT_PROBE_TICK);
    }
}


/* the probe is due and this worker takes it: its next one moves on */

static ngx_uint_t
ngx_http_osint_probe_due(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p)
{
    ngx_uint_t                due;
    ngx_msec_t                now;
    ngx_http_osint_shm_t     *ctx;
    ngx_http_osint_pstate_t  *ps;

    ctx = omcf->shm_zone->data;
    ps = p->state;
    now = ngx_current_msec;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    due = (ps->probe_next == 0
           || (ngx_msec_int_t) (now - ps->probe_next) >= 0);

    if (due) {
        ps->probe_next = now + p->probe_interval;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return due;
}


/* the outcome of a probe: NGX_HTTP_OSINT_ERR_NONE when it answered */

static void
ngx_http_osint_probe_record(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_http_osint_err_e err,
    ngx_msec_t latency_us)
{
    ngx_http_osint_shm_t     *ctx;
    ngx_http_osint_pstate_t  *ps;

    ctx = omcf->shm_zone->data;
    ps = p->state;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ps->probe_at = ngx_time();
    ps->probe_err = err;
    ps->probe_latency_us = latency_us;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (err != NGX_HTTP_OSINT_ERR_NONE) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "osint: provider \"%V\" probe failed: %s",
                      &p->name, ngx_http_osint_err_kind(err));
    }
}
