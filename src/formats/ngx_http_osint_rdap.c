
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Format "rdap": RFC 9083 answers to domain, IP and autnum queries
 * (rdap.org, rdap.verisign.com, rdap.arin.net, rdap.db.ripe.net, ...).
 *
 * The object's "objectClassName" says which it is; without one the target
 * type decides (a domain target: a domain, an IP: a network).
 *
 * data of a domain ("objectClassName": "domain"):
 *   object_class       "domain"
 *   handle             string, as given
 *   domain             ldhName, lower-cased
 *   registrar          "fn" of the vCard of the entity with role registrar
 *   registrar_iana_id  string, publicIds identifier of type
 *                      "IANA Registrar ID" of that entity
 *   registration       eventDate of the "registration" event, as given
 *   expiration         eventDate of the "expiration" event
 *   last_changed       eventDate of the "last changed" event
 *   status             array of strings, as given
 *   nameservers        array of ldhName, lower-cased
 *   abuse_email        see below
 *
 * data of an IP network ("ip network"):
 *   object_class       "ip network"
 *   handle, status, registration, last_changed, abuse_email  as above
 *   network_name       "name"
 *   start_address, end_address   as given
 *   cidr               array of "a.b.c.d/n" (or IPv6): the cidr0_cidrs
 *                      extension when given, else computed from the
 *                      start and end addresses (a range that is no single
 *                      prefix gives several)
 *   country            "country", as given
 *   registrant         "fn" of the entity with role registrant
 *
 * data of an autnum ("autnum"):
 *   object_class       "autnum"
 *   handle, status, registration, last_changed, abuse_email,
 *   country, registrant  as above
 *   asn                "AS15169" from startAutnum (when it equals
 *                      endAutnum: a block is no one AS)
 *   as_name            "name"
 *
 * abuse_email: the first "email" of a vCard of an entity with role
 * "abuse", searched depth first through nested entities (Verisign puts
 * the abuse entity inside the registrar entity, ARIN inside the
 * organisation), at most NGX_HTTP_OSINT_FMT_DEPTH_MAX deep.  A "mailto:"
 * prefix is removed.
 *
 * Not found is a 404 (handled before the normaliser); an RFC 9083 §6 error
 * body on a 200 is read too: errorCode 404 is not found, others errors.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_format.h"


/* a prefix as text: the longest IPv6 address, "/128" and the NUL */
#define NGX_HTTP_OSINT_RDAP_CIDR_LEN  (NGX_INET6_ADDRSTRLEN + 5)


static ngx_int_t ngx_http_osint_rdap_domain(ngx_http_osint_fmt_t *f,
    cJSON *root);
static ngx_int_t ngx_http_osint_rdap_network(ngx_http_osint_fmt_t *f,
    cJSON *root);
static ngx_int_t ngx_http_osint_rdap_autnum(ngx_http_osint_fmt_t *f,
    cJSON *root);
static ngx_int_t ngx_http_osint_rdap_common(ngx_http_osint_fmt_t *f,
    cJSON *root);
static ngx_int_t ngx_http_osint_rdap_events(ngx_http_osint_fmt_t *f,
    cJSON *root);
static ngx_int_t ngx_http_osint_rdap_registrar(ngx_http_osint_fmt_t *f,
    cJSON *root);
static ngx_int_t ngx_http_osint_rdap_contact(ngx_http_osint_fmt_t *f,
    cJSON *root, const char *role, const char *property, const char *key);
static cJSON *ngx_http_osint_rdap_find(cJSON *entities, const char *role,
    const char *property, ngx_uint_t depth);
static ngx_uint_t ngx_http_osint_rdap_has_role(cJSON *entity,
    const char *role);
static cJSON *ngx_http_osint_rdap_vcard(cJSON *entity, const char *property);
static ngx_int_t ngx_http_osint_rdap_cidrs(ngx_http_osint_fmt_t *f,
    cJSON *root);
static ngx_int_t ngx_http_osint_rdap_range(ngx_http_osint_fmt_t *f,
    cJSON *list, const char *start, const char *end);
static ngx_int_t ngx_http_osint_rdap_cidr_add(ngx_http_osint_fmt_t *f,
    cJSON *list, int family, u_char *addr, ngx_uint_t len);


ngx_int_t
ngx_http_osint_rdap_normalise(cJSON *root, ngx_uint_t type, cJSON **data,
    const char **message)
{
    cJSON                 *class, *code;
    ngx_int_t              rc;
    ngx_http_osint_fmt_t   f;

    if (!cJSON_IsObject(root)) {
        *message = "rdap: the answer is not an object";
        return NGX_ERROR;
    }

    code = ngx_http_osint_fmt_get(root, "errorCode");

    if (code) {
        if (cJSON_IsNumber(code) && code->valuedouble == 404) {
            return NGX_DECLINED;
        }

        *message = "rdap: the answer is an error";
        return NGX_ERROR;
    }

    class = ngx_http_osint_fmt_get(root, "objectClassName");

    if (class && !cJSON_IsString(class)) {
        *message = "rdap: \"objectClassName\" is not a string";
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_init(&f, "rdap", message) != NGX_OK) {
        return NGX_ERROR;
    }

    if (class ? strcmp(class->valuestring, "domain") == 0
              : (type & NGX_HTTP_OSINT_DOMAIN)
                && ngx_http_osint_fmt_get(root, "ldhName"))
    {
        rc = ngx_http_osint_rdap_domain(&f, root);

    } else if (class ? strcmp(class->valuestring, "ip network") == 0
                     : (type & NGX_HTTP_OSINT_IP)
                       && ngx_http_osint_fmt_get(root, "startAddress"))
    {
        rc = ngx_http_osint_rdap_network(&f, root);

    } else if (class && strcmp(class->valuestring, "autnum") == 0) {
        rc = ngx_http_osint_rdap_autnum(&f, root);

    } else {
        return ngx_http_osint_fmt_fail(&f, class
                                           ? "the object class is not one "
                                             "of domain, ip network, autnum"
                                           : "the answer is no RDAP object");
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_osint_fmt_done(&f, data);
}


static ngx_int_t
ngx_http_osint_rdap_domain(ngx_http_osint_fmt_t *f, cJSON *root)
{
    char       *s;
    cJSON      *ns, *e, *name, *list;
    ngx_int_t   rc;

    if (ngx_http_osint_fmt_add_string(f, "object_class", "domain") != NGX_OK
        || ngx_http_osint_fmt_string(f, "handle", root, "handle") != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_osint_fmt_take(f, root, "ldhName", cJSON_String, &name);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (name) {
        s = ngx_http_osint_fmt_lower(name->valuestring,
                                     strlen(name->valuestring));
        if (s == NULL) {
            return ngx_http_osint_fmt_nomem(f);
        }

        rc = ngx_http_osint_fmt_add_string(f, "domain", s);
        free(s);

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_osint_rdap_registrar(f, root) != NGX_OK
        || ngx_http_osint_rdap_common(f, root) != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_osint_fmt_take(f, root, "nameservers", cJSON_Array, &ns);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (ns) {
        list = cJSON_CreateArray();

        if (ngx_http_osint_fmt_add(f, "nameservers", list) != NGX_OK) {
            return NGX_ERROR;
        }

        cJSON_ArrayForEach(e, ns) {
            name = ngx_http_osint_fmt_get(e, "ldhName");

            if (!cJSON_IsString(name)) {
                continue;
            }

            rc = ngx_http_osint_fmt_list_add(f, list, name->valuestring, 1);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_DECLINED) {
                break;
            }
        }
    }

    return ngx_http_osint_rdap_contact(f, root, "abuse", "email",
                                       "abuse_email");
}


static ngx_int_t
ngx_http_osint_rdap_network(ngx_http_osint_fmt_t *f, cJSON *root)
{
    if (ngx_http_osint_fmt_add_string(f, "object_class", "ip network")
        != NGX_OK
        || ngx_http_osint_fmt_string(f, "handle", root, "handle") != NGX_OK
        || ngx_http_osint_fmt_string(f, "network_name", root, "name")
           != NGX_OK
        || ngx_http_osint_fmt_string(f, "start_address", root,
                                     "startAddress")
           != NGX_OK
        || ngx_http_osint_fmt_string(f, "end_address", root, "endAddress")
           != NGX_OK
        || ngx_http_osint_rdap_cidrs(f, root) != NGX_OK
        || ngx_http_osint_fmt_string(f, "country", root, "country") != NGX_OK
        || ngx_http_osint_rdap_common(f, root) != NGX_OK
        || ngx_http_osint_rdap_contact(f, root, "registrant", "fn",
                                       "registrant")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_rdap_contact(f, root, "abuse", "email",
                                       "abuse_email");
}


static ngx_int_t
ngx_http_osint_rdap_autnum(ngx_http_osint_fmt_t *f, cJSON *root)
{
    char    asn[16];
    cJSON  *start, *end;

    if (ngx_http_osint_fmt_add_string(f, "object_class", "autnum") != NGX_OK
        || ngx_http_osint_fmt_string(f, "handle", root, "handle") != NGX_OK)
    {
        return NGX_ERROR;
    }

    start = ngx_http_osint_fmt_get(root, "startAutnum");
    end = ngx_http_osint_fmt_get(root, "endAutnum");

    if (cJSON_IsNumber(start)
        && (end == NULL
            || (cJSON_IsNumber(end) && end->valuedouble == start->valuedouble))
        && ngx_http_osint_fmt_asn(asn, sizeof(asn), start) == NGX_OK
        && ngx_http_osint_fmt_add_string(f, "asn", asn) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_osint_fmt_string(f, "as_name", root, "name") != NGX_OK
        || ngx_http_osint_fmt_string(f, "country", root, "country") != NGX_OK
        || ngx_http_osint_rdap_common(f, root) != NGX_OK
        || ngx_http_osint_rdap_contact(f, root, "registrant", "fn",
                                       "registrant")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_osint_rdap_contact(f, root, "abuse", "email",
                                       "abuse_email");
}


/* events and status, which every object class has */

static ngx_int_t
ngx_http_osint_rdap_common(ngx_http_osint_fmt_t *f, cJSON *root)
{
    if (ngx_http_osint_rdap_events(f, root) != NGX_OK
        || ngx_http_osint_fmt_strings(f, "status", root, "status", 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_rdap_events(ngx_http_osint_fmt_t *f, cJSON *root)
{
    cJSON       *events, *e, *action, *date;
    ngx_int_t    rc;
    ngx_uint_t   i;

    static const char  *actions[][2] = {
        { "registration", "registration" },
        { "expiration", "expiration" },
        { "last changed", "last_changed" }
    };

    rc = ngx_http_osint_fmt_take(f, root, "events", cJSON_Array, &events);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : rc;
    }

    cJSON_ArrayForEach(e, events) {
        action = ngx_http_osint_fmt_get(e, "eventAction");
        date = ngx_http_osint_fmt_get(e, "eventDate");

        if (!cJSON_IsString(action) || !cJSON_IsString(date)) {
            continue;
        }

        for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {

            /* the first of each wins: a server lists them once */

            if (strcmp(action->valuestring, actions[i][0]) != 0
                || cJSON_GetObjectItemCaseSensitive(f->data, actions[i][1]))
            {
                continue;
            }

            if (ngx_http_osint_fmt_add_string(f, actions[i][1],
                                              date->valuestring)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_osint_rdap_registrar(ngx_http_osint_fmt_t *f, cJSON *root)
{
    cJSON  *entity, *fn, *ids, *e, *type, *id;

    entity = ngx_http_osint_rdap_find(ngx_http_osint_fmt_get(root, "entities"),
                                      "registrar", NULL, 0);
    if (entity == NULL) {
        return NGX_OK;
    }

    fn = ngx_http_osint_rdap_vcard(entity, "fn");

    if (fn && ngx_http_osint_fmt_add_string(f, "registrar", fn->valuestring)
              != NGX_OK)
    {
        return NGX_ERROR;
    }

    ids = ngx_http_osint_fmt_get(entity, "publicIds");

    if (!cJSON_IsArray(ids)) {
        return NGX_OK;
    }

    cJSON_ArrayForEach(e, ids) {
        type = ngx_http_osint_fmt_get(e, "type");
        id = ngx_http_osint_fmt_get(e, "identifier");

        if (cJSON_IsString(type) && cJSON_IsString(id)
            && strcmp(type->valuestring, "IANA Registrar ID") == 0)
        {
            return ngx_http_osint_fmt_add_string(f, "registrar_iana_id",
                                                 id->valuestring);
        }
    }

    return NGX_OK;
}


/* a vCard property of the first entity with a role that has one */

static ngx_int_t
ngx_http_osint_rdap_contact(ngx_http_osint_fmt_t *f, cJSON *root,
    const char *role, const char *property, const char *key)
{
    char   *value;
    cJSON  *entity, *v;

    entity = ngx_http_osint_rdap_find(ngx_http_osint_fmt_get(root, "entities"),
                                      role, property, 0);
    if (entity == NULL) {
        return NGX_OK;
    }

    v = ngx_http_osint_rdap_vcard(entity, property);
    value = v->valuestring;

    if (strncmp(value, "mailto:", 7) == 0) {
        value += 7;
    }

    return ngx_http_osint_fmt_add_string(f, key, value);
}


/*
 * Depth first: the first entity with the role (and, when property is
 * given, a vCard with that property), in the order the server lists them.
 */

static cJSON *
ngx_http_osint_rdap_find(cJSON *entities, const char *role,
    const char *property, ngx_uint_t depth)
{
    cJSON  *e, *found;

    if (!cJSON_IsArray(entities) || depth >= NGX_HTTP_OSINT_FMT_DEPTH_MAX) {
        return NULL;
    }

    cJSON_ArrayForEach(e, entities) {
        if (!cJSON_IsObject(e)) {
            continue;
        }

        if (ngx_http_osint_rdap_has_role(e, role)
            && (property == NULL || ngx_http_osint_rdap_vcard(e, property)))
        {
            return e;
        }

        found = ngx_http_osint_rdap_find(ngx_http_osint_fmt_get(e, "entities"),
                                         role, property, depth + 1);
        if (found) {
            return found;
        }
    }

    return NULL;
}


static ngx_uint_t
ngx_http_osint_rdap_has_role(cJSON *entity, const char *role)
{
    cJSON  *roles, *r;

    roles = ngx_http_osint_fmt_get(entity, "roles");

    if (!cJSON_IsArray(roles)) {
        return 0;
    }

    cJSON_ArrayForEach(r, roles) {
        if (cJSON_IsString(r) && strcmp(r->valuestring, role) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * The text value of the first property of that name in the entity's
 * jCard (RFC 7095): ["vcard", [[name, params, type, value], ...]].
 */

static cJSON *
ngx_http_osint_rdap_vcard(cJSON *entity, const char *property)
{
    cJSON  *vcard, *props, *p, *name, *value;

    vcard = ngx_http_osint_fmt_get(entity, "vcardArray");

    if (!cJSON_IsArray(vcard)) {
        return NULL;
    }

    props = cJSON_GetArrayItem(vcard, 1);

    if (!cJSON_IsArray(props)) {
        return NULL;
    }

    cJSON_ArrayForEach(p, props) {
        if (!cJSON_IsArray(p)) {
            continue;
        }

        name = cJSON_GetArrayItem(p, 0);
        value = cJSON_GetArrayItem(p, 3);

        if (cJSON_IsString(name) && cJSON_IsString(value)
            && strcmp(name->valuestring, property) == 0
            && value->valuestring[0] != '\0')
        {
            return value;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_osint_rdap_cidrs(ngx_http_osint_fmt_t *f, cJSON *root)
{
    int          family;
    u_char       addr[16];
    cJSON       *cidrs, *e, *prefix, *length, *start, *end, *list;
    ngx_int_t    rc;
    ngx_uint_t   max;

    list = cJSON_CreateArray();

    if (ngx_http_osint_fmt_add(f, "cidr", list) != NGX_OK) {
        return NGX_ERROR;
    }

    cidrs = ngx_http_osint_fmt_get(root, "cidr0_cidrs");

    if (cJSON_IsArray(cidrs)) {
        cJSON_ArrayForEach(e, cidrs) {
            length = ngx_http_osint_fmt_get(e, "length");
            prefix = ngx_http_osint_fmt_get(e, "v4prefix");
            family = AF_INET;
            max = 32;

            if (prefix == NULL) {
                prefix = ngx_http_osint_fmt_get(e, "v6prefix");
                family = AF_INET6;
                max = 128;
            }

            if (!cJSON_IsString(prefix) || !cJSON_IsNumber(length)
                || !(length->valuedouble >= 0 && length->valuedouble <= max)
                || length->valuedouble != (double) length->valueint
                || inet_pton(family, prefix->valuestring, addr) != 1)
            {
                continue;
            }

            rc = ngx_http_osint_rdap_cidr_add(f, list, family, addr,
                                              length->valueint);
            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_DECLINED) {
                break;
            }
        }

        if (list->valueint) {
            return NGX_OK;
        }
    }

    start = ngx_http_osint_fmt_get(root, "startAddress");
    end = ngx_http_osint_fmt_get(root, "endAddress");

    if (cJSON_IsString(start) && cJSON_IsString(end)) {
        if (ngx_http_osint_rdap_range(f, list, start->valuestring,
                                      end->valuestring)
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }
    }

    if (list->valueint == 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(f->data, "cidr");
    }

    return NGX_OK;
}


/*
 * The fewest prefixes covering start..end: from start, the largest
 * aligned block that does not pass end, again and again.  Addresses are
 * big-endian byte strings, so IPv4 and IPv6 share the arithmetic.
 */

static ngx_int_t
ngx_http_osint_rdap_range(ngx_http_osint_fmt_t *f, cJSON *list,
    const char *start, const char *end)
{
    int          family;
    u_char       a[16], b[16], last[16];
    ngx_int_t    rc;
    ngx_uint_t   n, bits, host, i, aligned, carry;

    family = AF_INET;
    n = 4;

    if (inet_pton(AF_INET, start, a) != 1 || inet_pton(AF_INET, end, b) != 1)
    {
        family = AF_INET6;
        n = 16;

        if (inet_pton(AF_INET6, start, a) != 1
            || inet_pton(AF_INET6, end, b) != 1)
        {
            return NGX_DECLINED;
        }
    }

    if (memcmp(a, b, n) > 0) {
        return NGX_DECLINED;
    }

    bits = n * 8;

    for ( ;; ) {

        /* the largest host part that start is aligned to and fits */

        for (host = bits; host > 0; host--) {
            aligned = 1;

            for (i = 0; i < host; i++) {
                if (a[n - 1 - i / 8] & (1 << (i % 8))) {
                    aligned = 0;
                    break;
                }
            }

            if (!aligned) {
                continue;
            }

            ngx_memcpy(last, a, n);

            for (i = 0; i < host; i++) {
                last[n - 1 - i / 8] |= (u_char) (1 << (i % 8));
            }

            if (memcmp(last, b, n) <= 0) {
                break;
            }
        }

        if (host == 0) {
            ngx_memcpy(last, a, n);
        }

        rc = ngx_http_osint_rdap_cidr_add(f, list, family, a, bits - host);
        if (rc != NGX_OK) {
            return rc;
        }

        if (memcmp(last, b, n) >= 0) {
            return NGX_OK;
        }

        /* start = last + 1; no carry out: last < end */

        ngx_memcpy(a, last, n);
        carry = 1;

        for (i = n; i > 0 && carry; i--) {
            a[i - 1]++;
            carry = (a[i - 1] == 0);
        }
    }
}


static ngx_int_t
ngx_http_osint_rdap_cidr_add(ngx_http_osint_fmt_t *f, cJSON *list,
    int family, u_char *addr, ngx_uint_t len)
{
    char        text[NGX_HTTP_OSINT_RDAP_CIDR_LEN];
    u_char      net[16];
    ngx_uint_t  n, i;

    /* the network address: a cidr0 prefix may carry host bits */

    n = (family == AF_INET) ? 4 : 16;

    for (i = 0; i < n; i++) {
        if (i * 8 >= len) {
            net[i] = 0;

        } else if (i * 8 + 8 <= len) {
            net[i] = addr[i];

        } else {
            net[i] = addr[i] & (u_char) (0xff << (8 - (len - i * 8)));
        }
    }

    if (inet_ntop(family, net, text, sizeof(text)) == NULL) {
        return NGX_DECLINED;
    }

    snprintf(text + strlen(text), sizeof(text) - strlen(text), "/%u",
             (unsigned) len);

    return ngx_http_osint_fmt_list_add(f, list, text, 0);
}
