
/*
 * TEMPORARY placeholder so the module links while the real Redis client
 * (helper-6) is written: every call behaves as "Redis not available".
 * It is replaced wholesale by the real src/ngx_http_osint_redis.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_osint.h"


ngx_uint_t
ngx_http_osint_redis_up(void)
{
    return 0;
}


ngx_http_osint_redis_req_t *
ngx_http_osint_redis_get(ngx_str_t *key, ngx_http_osint_redis_get_pt handler,
    void *data, ngx_log_t *log)
{
    return NULL;
}


void
ngx_http_osint_redis_cancel(ngx_http_osint_redis_req_t *req)
{
}


void
ngx_http_osint_redis_set(ngx_str_t *key, u_char *value, size_t len,
    time_t ttl)
{
}
