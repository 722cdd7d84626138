
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "presence": does a site have an account of this name?  Any
 * site's own JSON, e.g. GET https://api.github.com/users/NAME
 *
 *   {"login": "octocat", "id": 583231, "type": "User", ...}
 *
 * data:
 *   found   boolean true: the site has the account
 *
 * Not found: a 404 (as for every format), and an answer that says
 * nothing: null (Hacker News answers 200 null for a name it does not
 * know), false, "", [] (GitLab's user search) or {}.  The provider's
 * own `found` conditions (status, a member present or not empty) are
 * checked before this, in ngx_http_osint_found.c; the site's answer is
 * not kept, as every site words its profile its own way.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


ngx_int_t
ngx_http_osint_presence_normalise(cJSON *root, ngx_uint_t type,
    cJSON **data, const char **message)
{
    ngx_http_osint_fmt_t  f;

    if (ngx_http_osint_presence_empty(root)) {
        return NGX_DECLINED;
    }

    if (ngx_http_osint_fmt_init(&f, "presence", message) != NGX_OK
        || ngx_http_osint_fmt_add_bool(&f, "found", 1) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}


/* null, false, "", [] and {}: an answer that says nothing */

ngx_uint_t
ngx_http_osint_presence_empty(cJSON *item)
{
    return item == NULL
           || cJSON_IsNull(item)
           || cJSON_IsFalse(item)
           || (cJSON_IsString(item) && item->valuestring[0] == '\0')
           || ((cJSON_IsArray(item) || cJSON_IsObject(item))
               && item->child == NULL);
}
