
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

#include "ngx_http_osint_core.h"
#include "ngx_http_osint_verdict.h"
#include "formats/ngx_http_osint_format.h"


#define NGX_HTTP_OSINT_FNV_BASIS  0xcbf29ce484222325ULL


typedef struct {
    uint64_t                         hash;
    cJSON                           *member;    /* of the summary */
    cJSON                           *value;     /* NULL: the member's name */
    ngx_uint_t                       indexed;   /* its elements are too */
} ngx_http_osint_summary_slot_t;


/*
 * An index of the summary while it is merged: its members by name, and
 * the elements of the members that became arrays by value.  Open
 * addressing, grown at half full.
 */

typedef struct {
    cJSON                           *summary;
    ngx_pool_t                      *pool;
    ngx_http_osint_summary_slot_t   *slots;
    ngx_uint_t                       mask;
    ngx_uint_t                       used;
} ngx_http_osint_summary_ctx_t;


static ngx_int_t ngx_http_osint_summary_add(ngx_http_osint_summary_ctx_t *ctx,
    cJSON *field);
static ngx_int_t ngx_http_osint_summary_list(ngx_http_osint_summary_ctx_t *ctx,
    ngx_http_osint_summary_slot_t *name, cJSON **list);
static ngx_int_t ngx_http_osint_summary_merge(
    ngx_http_osint_summary_ctx_t *ctx, cJSON *list, cJSON *value);
static ngx_http_osint_summary_slot_t *ngx_http_osint_summary_find(
    ngx_http_osint_summary_ctx_t *ctx, uint64_t hash, cJSON *member,
    cJSON *value, const char *name);
static ngx_int_t ngx_http_osint_summary_insert(
    ngx_http_osint_summary_ctx_t *ctx, uint64_t hash, cJSON *member,
    cJSON *value);
static ngx_int_t ngx_http_osint_summary_grow(
    ngx_http_osint_summary_ctx_t *ctx, ngx_uint_t size);
static ngx_uint_t ngx_http_osint_summary_slot(ngx_http_osint_summary_slot_t *s,
    ngx_uint_t mask);
static uint64_t ngx_http_osint_summary_hash(uint64_t h, const void *p,
    size_t len);
static uint64_t ngx_http_osint_summary_hash_value(cJSON *item);
static ngx_uint_t ngx_http_osint_summary_equal(cJSON *a, cJSON *b);
static cJSON *ngx_http_osint_summary_value(cJSON *item);
static ngx_int_t ngx_http_osint_summary_verdict(
    ngx_http_osint_summary_in_t *in, ngx_uint_t n, cJSON *summary);
static ngx_int_t ngx_http_osint_summary_local(
    ngx_http_osint_summary_ctx_t *ctx, ngx_str_t *target, ngx_uint_t type,
    ngx_http_osint_summary_in_t *in, ngx_uint_t n);
static ngx_int_t ngx_http_osint_summary_accounts(
    ngx_http_osint_summary_in_t *in, ngx_uint_t n, cJSON *data);


/*
 * The merge costs time linear in the data: names and values are found
 * by hash, and the caps bound what one provider adds to the summary (its
 * whole answer is still in its providers.<name>.data).
 */

cJSON *
ngx_http_osint_summary(ngx_str_t *target, ngx_uint_t type,
    ngx_http_osint_summary_in_t *in, ngx_uint_t n, ngx_pool_t *pool)
{
    cJSON                         *field;
    ngx_int_t                      rc;
    ngx_uint_t                     i, k;
    ngx_http_osint_summary_ctx_t   ctx;

    ngx_memzero(&ctx, sizeof(ngx_http_osint_summary_ctx_t));
    ctx.pool = pool;

    ctx.summary = cJSON_CreateObject();
    if (ctx.summary == NULL) {
        return NULL;
    }

    rc = ngx_http_osint_summary_grow(&ctx, 64);

    if (rc == NGX_OK) {
        rc = ngx_http_osint_summary_local(&ctx, target, type, in, n);
    }

    for (i = 0; rc == NGX_OK && i < n; i++) {

        if (in[i].status != NGX_HTTP_OSINT_OK || !cJSON_IsObject(in[i].data)) {
            continue;
        }

        for (field = in[i].data->child, k = 0;
             field && k < NGX_HTTP_OSINT_SUMMARY_MEMBERS && rc == NGX_OK;
             field = field->next, k++)
        {
            rc = ngx_http_osint_summary_add(&ctx, field);
        }
    }

    if (ctx.slots) {
        ngx_pfree(pool, ctx.slots);
    }

    if (rc != NGX_OK
        || ngx_http_osint_summary_verdict(in, n, ctx.summary) != NGX_OK)
    {
        cJSON_Delete(ctx.summary);
        return NULL;
    }

    return ctx.summary;
}


/*
 * What the target itself says, known without asking anyone, first: the
 * calling code and country of a phone number; and the accounts the sites
 * of format presence found.
 */

static ngx_int_t
ngx_http_osint_summary_local(ngx_http_osint_summary_ctx_t *ctx,
    ngx_str_t *target, ngx_uint_t type, ngx_http_osint_summary_in_t *in,
    ngx_uint_t n)
{
    cJSON      *data, *field;
    ngx_int_t   rc;

    data = (type == NGX_HTTP_OSINT_PHONE)
           ? ngx_http_osint_phone_data(target) : cJSON_CreateObject();

    if (data == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_osint_summary_accounts(in, n, data);

    for (field = data->child; field && rc == NGX_OK; field = field->next) {
        rc = ngx_http_osint_summary_add(ctx, field);
    }

    cJSON_Delete(data);

    return rc;
}


/*
 * summary.verdict, from the providers of built-in formats that answered:
 * the verdict reads their data by format.  Without any, there is nothing
 * it could judge, and no verdict.
 */

static ngx_int_t
ngx_http_osint_summary_verdict(ngx_http_osint_summary_in_t *in, ngx_uint_t n,
    cJSON *summary)
{
    cJSON                      *judged, *entry, *verdict;
    ngx_uint_t                  i;
    ngx_http_osint_provider_t  *p;

    judged = cJSON_CreateObject();
    if (judged == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        p = in[i].provider;

        if (in[i].status != NGX_HTTP_OSINT_OK
            || ngx_http_osint_formats[p->format].normalise == NULL
            || !cJSON_IsObject(in[i].data))
        {
            continue;
        }

        /* a reference: deleting the input leaves the call's data alone */

        entry = cJSON_AddObjectToObject(judged, (char *) p->name.data);

        if (entry == NULL
            || !cJSON_AddStringToObject(entry, "format",
                                        ngx_http_osint_formats[p->format].name)
            || !cJSON_AddItemReferenceToObject(entry, "data", in[i].data))
        {
            cJSON_Delete(judged);
            return NGX_ERROR;
        }
    }

    if (judged->child == NULL) {
        cJSON_Delete(judged);
        return NGX_OK;
    }

    verdict = ngx_http_osint_verdict(judged);
    cJSON_Delete(judged);

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
ngx_http_osint_summary_add(ngx_http_osint_summary_ctx_t *ctx, cJSON *field)
{
    cJSON                          *copy, *list, *v;
    uint64_t                        hash;
    ngx_uint_t                      n;
    ngx_http_osint_summary_slot_t  *name;

    hash = ngx_http_osint_summary_hash(NGX_HTTP_OSINT_FNV_BASIS, field->string,
                                       ngx_strlen(field->string));

    name = ngx_http_osint_summary_find(ctx, hash, NULL, NULL, field->string);

    if (name == NULL) {
        copy = ngx_http_osint_summary_value(field);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        if (!cJSON_AddItemToObject(ctx->summary, field->string, copy)) {
            cJSON_Delete(copy);
            return NGX_ERROR;
        }

        return ngx_http_osint_summary_insert(ctx, hash, copy, NULL);
    }

    /* arrays merge element-wise; anything else becomes a list of values */

    if (!cJSON_IsArray(name->member)
        && ngx_http_osint_summary_equal(name->member, field))
    {
        return NGX_OK;
    }

    if (ngx_http_osint_summary_list(ctx, name, &list) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!cJSON_IsArray(field)) {
        return ngx_http_osint_summary_merge(ctx, list, field);
    }

    for (v = field->child, n = 0;
         v && n < NGX_HTTP_OSINT_SUMMARY_ELEMENTS;
         v = v->next, n++)
    {
        if (ngx_http_osint_summary_merge(ctx, list, v) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The member as a list of values with its elements indexed: an array is
 * indexed once, anything else becomes the list of its one value, in its
 * place among the other members.
 */

static ngx_int_t
ngx_http_osint_summary_list(ngx_http_osint_summary_ctx_t *ctx,
    ngx_http_osint_summary_slot_t *name, cJSON **list)
{
    cJSON  *have, *values, *copy, *v;

    have = name->member;

    if (name->indexed) {
        *list = have;
        return NGX_OK;
    }

    name->indexed = 1;

    if (!cJSON_IsArray(have)) {
        values = cJSON_CreateArray();
        copy = ngx_http_osint_summary_value(have);

        if (values == NULL || copy == NULL) {
            cJSON_Delete(values);
            cJSON_Delete(copy);
            return NGX_ERROR;
        }

        cJSON_AddItemToArray(values, copy);

        /* the name moves over; replacing frees the old value */

        values->string = have->string;
        values->type |= have->type & cJSON_StringIsConst;
        have->string = NULL;

        if (!cJSON_ReplaceItemViaPointer(ctx->summary, have, values)) {
            have->string = values->string;
            values->string = NULL;
            cJSON_Delete(values);
            return NGX_ERROR;
        }

        name->member = values;
        have = values;
    }

    /* the slot may move as the index grows: done with it */

    for (v = have->child; v; v = v->next) {
        if (ngx_http_osint_summary_insert(ctx,
                                          ngx_http_osint_summary_hash_value(v),
                                          have, v)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    *list = have;

    return NGX_OK;
}


/* a value joins the list unless the list holds it already */

static ngx_int_t
ngx_http_osint_summary_merge(ngx_http_osint_summary_ctx_t *ctx, cJSON *list,
    cJSON *value)
{
    cJSON     *copy;
    uint64_t   hash;

    hash = ngx_http_osint_summary_hash_value(value);

    if (ngx_http_osint_summary_find(ctx, hash, list, value, NULL)) {
        return NGX_OK;
    }

    copy = ngx_http_osint_summary_value(value);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    if (!cJSON_AddItemToArray(list, copy)) {
        cJSON_Delete(copy);
        return NGX_ERROR;
    }

    return ngx_http_osint_summary_insert(ctx, hash, list, copy);
}


/*
 * A name's slot (value NULL, name given), or a slot of an element of the
 * list "member" equal to "value".
 */

static ngx_http_osint_summary_slot_t *
ngx_http_osint_summary_find(ngx_http_osint_summary_ctx_t *ctx, uint64_t hash,
    cJSON *member, cJSON *value, const char *name)
{
    ngx_uint_t                      i;
    ngx_http_osint_summary_slot_t  *s, key;

    key.hash = hash;
    key.member = member;
    key.value = value;

    for (i = ngx_http_osint_summary_slot(&key, ctx->mask);
         ctx->slots[i].member;
         i = (i + 1) & ctx->mask)
    {
        s = &ctx->slots[i];

        if (s->hash != hash || (s->value == NULL) != (value == NULL)) {
            continue;
        }

        if (value == NULL) {
            if (ngx_strcmp(s->member->string, name) == 0) {
                return s;
            }

            continue;
        }

        if (s->member == member
            && ngx_http_osint_summary_equal(s->value, value))
        {
            return s;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_osint_summary_insert(ngx_http_osint_summary_ctx_t *ctx,
    uint64_t hash, cJSON *member, cJSON *value)
{
    ngx_uint_t                      i;
    ngx_http_osint_summary_slot_t   key;

    if ((ctx->used + 1) * 2 > ctx->mask + 1
        && ngx_http_osint_summary_grow(ctx, (ctx->mask + 1) * 2) != NGX_OK)
    {
        return NGX_ERROR;
    }

    key.hash = hash;
    key.member = member;
    key.value = value;
    key.indexed = 0;

    for (i = ngx_http_osint_summary_slot(&key, ctx->mask);
         ctx->slots[i].member;
         i = (i + 1) & ctx->mask)
    {
        /* void */
    }

    ctx->slots[i] = key;
    ctx->used++;

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_summary_grow(ngx_http_osint_summary_ctx_t *ctx,
    ngx_uint_t size)
{
    ngx_uint_t                      i, j;
    ngx_http_osint_summary_slot_t  *old, *s;

    s = ngx_pcalloc(ctx->pool, size * sizeof(ngx_http_osint_summary_slot_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    old = ctx->slots;

    for (i = 0; old && i <= ctx->mask; i++) {
        if (old[i].member == NULL) {
            continue;
        }

        for (j = ngx_http_osint_summary_slot(&old[i], size - 1);
             s[j].member;
             j = (j + 1) & (size - 1))
        {
            /* void */
        }

        s[j] = old[i];
    }

    if (old) {
        ngx_pfree(ctx->pool, old);
    }

    ctx->slots = s;
    ctx->mask = size - 1;

    return NGX_OK;
}


/* an element's slot depends on its list too: equal values, other lists */

static ngx_uint_t
ngx_http_osint_summary_slot(ngx_http_osint_summary_slot_t *s, ngx_uint_t mask)
{
    uint64_t  h;

    h = s->hash;

    if (s->value) {
        h ^= (uint64_t) (uintptr_t) s->member * 0x9e3779b97f4a7c15ULL;
    }

    return (ngx_uint_t) ((h ^ (h >> 29)) & mask);
}


/* FNV-1a, 64 bits, on from h (NGX_HTTP_OSINT_FNV_BASIS to begin) */

static uint64_t
ngx_http_osint_summary_hash(uint64_t h, const void *p, size_t len)
{
    const u_char  *c;

    for (c = p; len--; c++) {
        h = (h ^ *c) * 0x100000001b3ULL;
    }

    return h;
}


/* of the value as _equal() sees it: in order, numbers by value */

static uint64_t
ngx_http_osint_summary_hash_value(cJSON *item)
{
    int        type;
    double     d;
    cJSON     *v;
    uint64_t   h, child;

    type = item->type & 0xff;
    h = ngx_http_osint_summary_hash(NGX_HTTP_OSINT_FNV_BASIS, &type,
                                    sizeof(int));

    switch (type) {

    case cJSON_Number:
        d = (item->valuedouble == 0) ? 0 : item->valuedouble;
        return ngx_http_osint_summary_hash(h, &d, sizeof(double));

    case cJSON_String:
    case cJSON_Raw:
        return item->valuestring
               ? ngx_http_osint_summary_hash(h, item->valuestring,
                                             ngx_strlen(item->valuestring))
               : h;

    case cJSON_Array:
    case cJSON_Object:
        for (v = item->child; v; v = v->next) {
            if (type == cJSON_Object) {
                h = ngx_http_osint_summary_hash(h, v->string,
                                                ngx_strlen(v->string) + 1);
            }

            child = ngx_http_osint_summary_hash_value(v);
            h = ngx_http_osint_summary_hash(h, &child, sizeof(uint64_t));
        }

        return h;

    default:
        return h;
    }
}


/*
 * Equal values: the same type, numbers of the same value, the same text,
 * the same elements and members in the same order.  Linear in the size,
 * where cJSON_Compare() looks each member of an object up by name.
 */

static ngx_uint_t
ngx_http_osint_summary_equal(cJSON *a, cJSON *b)
{
    int     type;
    cJSON  *x, *y;

    type = a->type & 0xff;

    if (type != (b->type & 0xff)) {
        return 0;
    }

    switch (type) {

    case cJSON_Number:
        return a->valuedouble == b->valuedouble;

    case cJSON_String:
    case cJSON_Raw:
        if (a->valuestring == NULL || b->valuestring == NULL) {
            return a->valuestring == b->valuestring;
        }

        return ngx_strcmp(a->valuestring, b->valuestring) == 0;

    case cJSON_Array:
    case cJSON_Object:
        for (x = a->child, y = b->child; x && y; x = x->next, y = y->next) {
            if ((type == cJSON_Object
                 && ngx_strcmp(x->string, y->string) != 0)
                || !ngx_http_osint_summary_equal(x, y))
            {
                return 0;
            }
        }

        return x == NULL && y == NULL;

    default:
        return 1;
    }
}


/*
 * A copy of a value without its member name, to go into the summary or
 * an array; of an array, its first elements only.
 */

static cJSON *
ngx_http_osint_summary_value(cJSON *item)
{
    cJSON       *copy, *v, *e;
    ngx_uint_t   n;

    if (!cJSON_IsArray(item)) {
        copy = cJSON_Duplicate(item, 1);

        if (copy && copy->string) {
            if (!(copy->type & cJSON_StringIsConst)) {
                cJSON_free(copy->string);
            }

            copy->string = NULL;
            copy->type &= ~cJSON_StringIsConst;
        }

        return copy;
    }

    copy = cJSON_CreateArray();
    if (copy == NULL) {
        return NULL;
    }

    for (v = item->child, n = 0;
         v && n < NGX_HTTP_OSINT_SUMMARY_ELEMENTS;
         v = v->next, n++)
    {
        e = ngx_http_osint_summary_value(v);

        if (e == NULL || !cJSON_AddItemToArray(copy, e)) {
            cJSON_Delete(e);
            cJSON_Delete(copy);
            return NULL;
        }
    }

    return copy;
}


/*
 * summary.accounts: the providers of format presence that found one, in
 * configuration order; an empty list when none did, so that "asked and
 * not found" differs from "not asked".
 */

static ngx_int_t
ngx_http_osint_summary_accounts(ngx_http_osint_summary_in_t *in,
    ngx_uint_t n, cJSON *data)
{
    cJSON                      *list, *name;
    ngx_uint_t                  i;
    ngx_http_osint_provider_t  *p;

    list = NULL;

    for (i = 0; i < n; i++) {
        p = in[i].provider;

        if (ngx_http_osint_formats[p->format].normalise
            != ngx_http_osint_presence_normalise)
        {
            continue;
        }

        if (list == NULL) {
            list = cJSON_AddArrayToObject(data, "accounts");
            if (list == NULL) {
                return NGX_ERROR;
            }
        }

        if (in[i].status != NGX_HTTP_OSINT_OK) {
            continue;
        }

        name = cJSON_CreateString((char *) p->name.data);

        if (name == NULL || !cJSON_AddItemToArray(list, name)) {
            cJSON_Delete(name);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
