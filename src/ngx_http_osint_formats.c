
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The table of formats a provider's answer can be read with.  "json" is
 * the provider's own JSON, mapped by `field` paths; the others are
 * normalisers of known providers' APIs, in src/formats/.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint.h"


ngx_http_osint_format_t  ngx_http_osint_formats[] = {
    { "json", NULL },
    { NULL, NULL }
};
