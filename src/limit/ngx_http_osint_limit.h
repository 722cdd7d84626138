
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The edge rate limiter (osint_limit_zone, osint_limit): what the rest of
 * the module may call.  The limiter is a second nginx module of the same
 * .so, ngx_http_osint_limit_module, with its own configuration.
 */


#ifndef _NGX_HTTP_OSINT_LIMIT_H_INCLUDED_
#define _NGX_HTTP_OSINT_LIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <cjson/cJSON.h>


extern ngx_module_t  ngx_http_osint_limit_module;


/*
 * For osint_status, in the current configuration's zones: the lines of
 * osint_limit_requests_total (with its HELP and TYPE), osint_limit_keys
 * and osint_limit_evictions_total; at most prometheus_size() bytes.
 */
size_t ngx_http_osint_limit_prometheus_size(void);
u_char *ngx_http_osint_limit_prometheus(u_char *p, u_char *last);

/* {"zone": {"rate": .., "requests": {"passed": .., ..}, ..}, ..}; NULL: no
 * memory */
cJSON *ngx_http_osint_limit_json(void);


/*
 * A batch's targets beyond the first: up to n more tokens of every
 * osint_limit that applied to the request (one a target); returns how
 * many targets they pay for (ngx_http_osint_limit_charge.c).
 */
ngx_uint_t ngx_http_osint_limit_charge(ngx_http_request_t *r, ngx_uint_t n);


#endif /* _NGX_HTTP_OSINT_LIMIT_H_INCLUDED_ */
