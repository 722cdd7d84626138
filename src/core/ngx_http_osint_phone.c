
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * Phone targets: E.164 numbers, and the ITU-T country calling codes
 * (E.164 assignments, Complement to ITU-T E.164) that tell the country
 * of a number without asking any provider.  Pure: no request, no event
 * loop, so it is fuzzed with the target parser.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_core.h"


/* E.164: the calling code and the national number, 15 digits at most */
#define NGX_HTTP_OSINT_PHONE_MIN  8
#define NGX_HTTP_OSINT_PHONE_MAX  15


typedef struct {
    const char  *code;
    const char  *countries;     /* ISO 3166 alpha-2, space-separated;
                                   "": a global service, no country */
} ngx_http_osint_calling_code_t;


/*
 * Codes are prefix-free (no code begins another), so a number has at
 * most one: its first 1, 2 or 3 digits.  Shared codes list every country
 * they serve; +1 is the North American Numbering Plan, told apart only
 * by area code, which is not kept here.
 */

static ngx_http_osint_calling_code_t  ngx_http_osint_calling_codes[] = {
    { "1", "US CA AG AI AS BB BM BS DM DO GD GU JM KN KY LC MP MS PR SX TC "
           "TT VC VG VI" },
    { "7", "RU KZ" },
    { "20", "EG" }, { "27", "ZA" }, { "30", "GR" }, { "31", "NL" },
    { "32", "BE" }, { "33", "FR" }, { "34", "ES" }, { "36", "HU" },
    { "39", "IT VA" }, { "40", "RO" }, { "41", "CH" }, { "43", "AT" },
    { "44", "GB GG IM JE" }, { "45", "DK" }, { "46", "SE" },
    { "47", "NO SJ" }, { "48", "PL" }, { "49", "DE" }, { "51", "PE" },
    { "52", "MX" }, { "53", "CU" }, { "54", "AR" }, { "55", "BR" },
    { "56", "CL" }, { "57", "CO" }, { "58", "VE" }, { "60", "MY" },
    { "61", "AU CX CC" }, { "62", "ID" }, { "63", "PH" }, { "64", "NZ" },
    { "65", "SG" }, { "66", "TH" }, { "81", "JP" }, { "82", "KR" },
    { "84", "VN" }, { "86", "CN" }, { "90", "TR" }, { "91", "IN" },
    { "92", "PK" }, { "93", "AF" }, { "94", "LK" }, { "95", "MM" },
    { "98", "IR" },
    { "211", "SS" }, { "212", "MA EH" }, { "213", "DZ" }, { "216", "TN" },
    { "218", "LY" }, { "220", "GM" }, { "221", "SN" }, { "222", "MR" },
    { "223", "ML" }, { "224", "GN" }, { "225", "CI" }, { "226", "BF" },
    { "227", "NE" }, { "228", "TG" }, { "229", "BJ" }, { "230", "MU" },
    { "231", "LR" }, { "232", "SL" }, { "233", "GH" }, { "234", "NG" },
    { "235", "TD" }, { "236", "CF" }, { "237", "CM" }, { "238", "CV" },
    { "239", "ST" }, { "240", "GQ" }, { "241", "GA" }, { "242", "CG" },
    { "243", "CD" }, { "244", "AO" }, { "245", "GW" }, { "246", "IO" },
    { "247", "SH" }, { "248", "SC" }, { "249", "SD" }, { "250", "RW" },
    { "251", "ET" }, { "252", "SO" }, { "253", "DJ" }, { "254", "KE" },
    { "255", "TZ" }, { "256", "UG" }, { "257", "BI" }, { "258", "MZ" },
    { "260", "ZM" }, { "261", "MG" }, { "262", "RE YT" }, { "263", "ZW" },
    { "264", "NA" }, { "265", "MW" }, { "266", "LS" }, { "267", "BW" },
    { "268", "SZ" }, { "269", "KM" }, { "290", "SH" }, { "291", "ER" },
    { "297", "AW" }, { "298", "FO" }, { "299", "GL" },
    { "350", "GI" }, { "351", "PT" }, { "352", "LU" }, { "353", "IE" },
    { "354", "IS" }, { "355", "AL" }, { "356", "MT" }, { "357", "CY" },
    { "358", "FI AX" }, { "359", "BG" }, { "370", "LT" }, { "371", "LV" },
    { "372", "EE" }, { "373", "MD" }, { "374", "AM" }, { "375", "BY" },
    { "376", "AD" }, { "377", "MC" }, { "378", "SM" }, { "380", "UA" },
    { "381", "RS" }, { "382", "ME" }, { "383", "XK" }, { "385", "HR" },
    { "386", "SI" }, { "387", "BA" }, { "389", "MK" }, { "420", "CZ" },
    { "421", "SK" }, { "423", "LI" },
    { "500", "FK GS" }, { "501", "BZ" }, { "502", "GT" }, { "503", "SV" },
    { "504", "HN" }, { "505", "NI" }, { "506", "CR" }, { "507", "PA" },
    { "508", "PM" }, { "509", "HT" }, { "590", "GP BL MF" },
    { "591", "BO" }, { "592", "GY" }, { "593", "EC" }, { "594", "GF" },
    { "595", "PY" }, { "596", "MQ" }, { "597", "SR" }, { "598", "UY" },
    { "599", "CW BQ" },
    { "670", "TL" }, { "672", "NF AQ" }, { "673", "BN" }, { "674", "NR" },
    { "675", "PG" }, { "676", "TO" }, { "677", "SB" }, { "678", "VU" },
    { "679", "FJ" }, { "680", "PW" }, { "681", "WF" }, { "682", "CK" },
    { "683", "NU" }, { "685", "WS" }, { "686", "KI" }, { "687", "NC" },
    { "688", "TV" }, { "689", "PF" }, { "690", "TK" }, { "691", "FM" },
    { "692", "MH" },
    { "800", "" }, { "808", "" }, { "850", "KP" }, { "852", "HK" },
    { "853", "MO" }, { "855", "KH" }, { "856", "LA" }, { "870", "" },
    { "878", "" }, { "880", "BD" }, { "881", "" }, { "882", "" },
    { "883", "" }, { "886", "TW" }, { "888", "" },
    { "960", "MV" }, { "961", "LB" }, { "962", "JO" }, { "963", "SY" },
    { "964", "IQ" }, { "965", "KW" }, { "966", "SA" }, { "967", "YE" },
    { "968", "OM" }, { "970", "PS" }, { "971", "AE" }, { "972", "IL" },
    { "973", "BH" }, { "974", "QA" }, { "975", "BT" }, { "976", "MN" },
    { "977", "NP" }, { "979", "" }, { "992", "TJ" }, { "993", "TM" },
    { "994", "AZ" }, { "995", "GE" }, { "996", "KG" }, { "998", "UZ" },
    { NULL, NULL }
};


static ngx_http_osint_calling_code_t *ngx_http_osint_phone_code(u_char *p,
    size_t len);
static cJSON *ngx_http_osint_phone_countries(const char *s);


/*
 * "+" and 8..15 digits with an assigned calling code; spaces, dots,
 * dashes and parentheses between them, as numbers are written, are left
 * out of the canonical form "+DIGITS".
 */

ngx_int_t
ngx_http_osint_phone_parse(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    u_char   digits[NGX_HTTP_OSINT_PHONE_MAX];
    size_t   i, n;

    if (len < 2 || p[0] != '+') {
        return NGX_DECLINED;
    }

    n = 0;

    for (i = 1; i < len; i++) {

        if (p[i] >= '0' && p[i] <= '9') {
            if (n == NGX_HTTP_OSINT_PHONE_MAX) {
                return NGX_DECLINED;
            }

            digits[n++] = p[i];
            continue;
        }

        if (ngx_strchr(" .-()", p[i]) == NULL || p[i] == '\0') {
            return NGX_DECLINED;
        }
    }

    if (n < NGX_HTTP_OSINT_PHONE_MIN
        || ngx_http_osint_phone_code(digits, n) == NULL)
    {
        return NGX_DECLINED;
    }

    out->data = ngx_pnalloc(pool, n + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->data[0] = '+';
    ngx_memcpy(out->data + 1, digits, n);
    out->len = n + 1;

    return NGX_OK;
}


static ngx_http_osint_calling_code_t *
ngx_http_osint_phone_code(u_char *p, size_t len)
{
    size_t                          n;
    ngx_http_osint_calling_code_t  *c;

    for (n = 1; n <= 3 && n <= len; n++) {
        for (c = ngx_http_osint_calling_codes; c->code; c++) {
            if (ngx_strlen(c->code) == n
                && ngx_strncmp(c->code, p, n) == 0)
            {
                return c;
            }
        }
    }

    return NULL;
}


/*
 * What the number itself says, as `data` fields for the summary:
 * calling_code ("+44") and country, an ISO 3166 alpha-2 code, or the
 * list of them for a shared code; none for a global service (+800).
 * NULL when out of memory or not a canonical number.
 */

cJSON *
ngx_http_osint_phone_data(ngx_str_t *canonical)
{
    u_char                          code[sizeof("+999")];
    cJSON                          *data, *country;
    ngx_http_osint_calling_code_t  *c;

    if (canonical->len < 2 || canonical->data[0] != '+') {
        return NULL;
    }

    c = ngx_http_osint_phone_code(canonical->data + 1, canonical->len - 1);
    if (c == NULL) {
        return NULL;
    }

    data = cJSON_CreateObject();
    if (data == NULL) {
        return NULL;
    }

    (void) ngx_sprintf(code, "+%s%Z", c->code);

    if (cJSON_AddStringToObject(data, "calling_code", (char *) code) == NULL) {
        cJSON_Delete(data);
        return NULL;
    }

    if (c->countries[0] == '\0') {
        return data;
    }

    country = ngx_http_osint_phone_countries(c->countries);

    if (country == NULL || !cJSON_AddItemToObject(data, "country", country)) {
        cJSON_Delete(country);
        cJSON_Delete(data);
        return NULL;
    }

    return data;
}


/* "GB" as a string, "GB GG IM JE" as an array of them */

static cJSON *
ngx_http_osint_phone_countries(const char *s)
{
    cJSON  *list, *item;
    char    cc[3];

    if (s[2] == '\0') {
        return cJSON_CreateString(s);
    }

    list = cJSON_CreateArray();
    if (list == NULL) {
        return NULL;
    }

    for ( ;; ) {
        cc[0] = s[0];
        cc[1] = s[1];
        cc[2] = '\0';

        item = cJSON_CreateString(cc);

        if (item == NULL || !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            cJSON_Delete(list);
            return NULL;
        }

        if (s[2] == '\0') {
            return list;
        }

        s += 3;
    }
}
