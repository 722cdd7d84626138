
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The table of formats a provider's answer can be read with.  "json" is
 * the provider's own JSON, mapped by `field` paths; the others are
 * normalisers of known providers' APIs, in src/formats/.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"
#include "formats/ngx_http_osint_format.h"


ngx_http_osint_format_t  ngx_http_osint_formats[] = {
    { "json", NULL },
    { "rdap", ngx_http_osint_rdap_normalise },
    { "internetdb", ngx_http_osint_internetdb_normalise },
    { "ipinfo", ngx_http_osint_ipinfo_normalise },
    { "crtsh", ngx_http_osint_crtsh_normalise },
    { "virustotal", ngx_http_osint_virustotal_normalise },
    { "abuseipdb", ngx_http_osint_abuseipdb_normalise },
    { "greynoise", ngx_http_osint_greynoise_normalise },
    { "urlhaus", ngx_http_osint_urlhaus_normalise },
    { "dns", ngx_http_osint_dns_normalise },
    { "presence", ngx_http_osint_presence_normalise },
    { "hibp", ngx_http_osint_hibp_normalise },
    { "emailrep", ngx_http_osint_emailrep_normalise },
    { "numverify", ngx_http_osint_numverify_normalise },
    { "censys", ngx_http_osint_censys_normalise },
    { "dnsdb", ngx_http_osint_dnsdb_normalise },
    { "whoisxml", ngx_http_osint_whoisxml_normalise },
    { NULL, NULL }
};


/* a stream of JSON lines (DNSDB's), given to the normaliser as one array */

ngx_uint_t
ngx_http_osint_format_ndjson(ngx_uint_t format)
{
    return ngx_http_osint_formats[format].normalise
           == ngx_http_osint_dnsdb_normalise;
}
