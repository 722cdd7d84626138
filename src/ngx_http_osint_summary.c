
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * `summary`: the fields of every provider that answered, merged by name.
 * Equal values appear once; different ones become an array of the
 * distinct values, in provider order, so a reader sees agreement at a
 * glance and disagreement without losing anything.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint.h"
#include "ngx_http_osint_verdict.h"


static ngx_int_t ngx_http_osint_summary_add(cJSON *summary, cJSON *field);
static ngx_int_t ngx_http_osint_summary_has(cJSON *values, cJSON *value);
static cJSON *ngx_http_osint_summary_value(cJSON *item);
static ngx_int_t ngx_http_osint_summary_verdict(ngx_http_osint_lookup_t *lk,
    cJSON *summary);


cJSON *
ngx_http_osint_summary(ngx_http_osint_lookup_t *lk)
{
    cJSON       *summary, *field;
    ngx_uint_t   i;

    summary = cJSON_CreateObject();
    if (summary == NULL) {
        return NULL;
    }

    for (i = 0; i < lk->ncalls; i++) {

        if (lk->calls[i].status != NGX_HTTP_OSINT_OK
            || !cJSON_IsObject(lk->calls[i].data))
        {
            continue;
        }

        for (field = lk->calls[i].data->child; field; field = field->next) {
            if (ngx_http_osint_summary_add(summary, field) != NGX_OK) {
                cJSON_Delete(summary);
                return NULL;
            }
        }
    }

    if (ngx_http_osint_summary_verdict(lk, summary) != NGX_OK) {
        cJSON_Delete(summary);
        return NULL;
    }

    return summary;
}


/*
 * summary.verdict, from the providers of built-in formats that answered:
 * the verdict reads their data by format.  Without any, there is nothing
 * it could judge, and no verdict.
 */

static ngx_int_t
ngx_http_osint_summary_verdict(ngx_http_osint_lookup_t *lk, cJSON *summary)
{
    cJSON                      *in, *entry, *verdict;
    ngx_uint_t                  i;
    ngx_http_osint_provider_t  *p;

    in = cJSON_CreateObject();
    if (in == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < lk->ncalls; i++) {
        p = lk->calls[i].provider;

        if (lk->calls[i].status != NGX_HTTP_OSINT_OK
            || ngx_http_osint_formats[p->format].normalise == NULL
            || !cJSON_IsObject(lk->calls[i].data))
        {
            continue;
        }

        /* a reference: deleting the input leaves the call's data alone */

        entry = cJSON_AddObjectToObject(in, (char *) p->name.data);

        if (entry == NULL
            || !cJSON_AddStringToObject(entry, "format",
                                        ngx_http_osint_formats[p->format].name)
            || !cJSON_AddItemReferenceToObject(entry, "data",
                                               lk->calls[i].data))
        {
            cJSON_Delete(in);
            return NGX_ERROR;
        }
    }

    if (in->child == NULL) {
        cJSON_Delete(in);
        return NGX_OK;
    }

    verdict = ngx_http_osint_verdict(in);
    cJSON_Delete(in);

    if (verdict == NULL) {
        return NGX_ERROR;
    }

    /* a provider's own "verdict" field gives way to ours */

    if (cJSON_GetObjectItemCaseSensitive(summary, "verdict")) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(summary, "verdict",
                                                    verdict))
        {
            cJSON_Delete(verdict);
            return NGX_ERROR;
        }

    } else if (!cJSON_AddItemToObject(summary, "verdict", verdict)) {
        cJSON_Delete(verdict);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_summary_add(cJSON *summary, cJSON *field)
{
    cJSON  *have, *values, *copy, *v;

    have = cJSON_GetObjectItemCaseSensitive(summary, field->string);

    if (have == NULL) {
        copy = cJSON_Duplicate(field, 1);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        if (!cJSON_AddItemToObject(summary, field->string, copy)) {
            cJSON_Delete(copy);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (cJSON_Compare(have, field, 1)) {
        return NGX_OK;
    }

    /* arrays merge element-wise; anything else becomes a list of values */

    if (!cJSON_IsArray(have)) {
        values = cJSON_CreateArray();
        copy = ngx_http_osint_summary_value(have);

        if (values == NULL || copy == NULL) {
            cJSON_Delete(values);
            cJSON_Delete(copy);
            return NGX_ERROR;
        }

        cJSON_AddItemToArray(values, copy);

        /* frees the old value; keeps the field's place among the others */

        if (!cJSON_ReplaceItemInObjectCaseSensitive(summary, field->string,
                                                    values))
        {
            cJSON_Delete(values);
            return NGX_ERROR;
        }
        have = values;
    }

    if (cJSON_IsArray(field)) {
        for (v = field->child; v; v = v->next) {
            if (ngx_http_osint_summary_has(have, v)) {
                continue;
            }

            copy = ngx_http_osint_summary_value(v);
            if (copy == NULL) {
                return NGX_ERROR;
            }

            cJSON_AddItemToArray(have, copy);
        }

        return NGX_OK;
    }

    if (ngx_http_osint_summary_has(have, field)) {
        return NGX_OK;
    }

    copy = ngx_http_osint_summary_value(field);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    cJSON_AddItemToArray(have, copy);

    return NGX_OK;
}


/* a copy of a value without its member name, to go into an array */

static cJSON *
ngx_http_osint_summary_value(cJSON *item)
{
    cJSON  *copy;

    copy = cJSON_Duplicate(item, 1);

    if (copy && copy->string) {
        if (!(copy->type & cJSON_StringIsConst)) {
            cJSON_free(copy->string);
        }

        copy->string = NULL;
    }

    return copy;
}


static ngx_int_t
ngx_http_osint_summary_has(cJSON *values, cJSON *value)
{
    cJSON  *v;

    for (v = values->child; v; v = v->next) {
        if (cJSON_Compare(v, value, 1)) {
            return 1;
        }
    }

    return 0;
}
