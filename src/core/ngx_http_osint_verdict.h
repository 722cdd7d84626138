
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The verdict of a lookup: one level and score from the evidence of the
 * providers that answered.  Pure: cJSON in, cJSON out.
 */


#ifndef _NGX_HTTP_OSINT_VERDICT_H_INCLUDED_
#define _NGX_HTTP_OSINT_VERDICT_H_INCLUDED_


#include <cjson/cJSON.h>


/*
 * providers_data: {"NAME": {"format": "virustotal", "data": {...}}, ...}
 * for the providers that answered ok.  Returns a new object the caller
 * owns, {"level": ..., "score": ..., "reasons": [...]}, or NULL when out
 * of memory.
 */
cJSON *ngx_http_osint_verdict(cJSON *providers_data);


#endif /* _NGX_HTTP_OSINT_VERDICT_H_INCLUDED_ */
