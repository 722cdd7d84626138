
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The verdict: what the normalised answers of all providers say about a
 * target, as one level, a score and the reasons, so that a caller can act
 * on a lookup without knowing each provider.  Pure: cJSON in, cJSON out.
 *
 * Input: {"NAME": {"format": "virustotal", "data": {...}}, ...}, the
 * providers that answered ok.  The rules read a provider's data by its
 * format, so any number of providers of one format count, whatever they
 * are called; a reason names the provider as configured.
 *
 * Rules: the evidence each format's data gives, as level and score
 * (0..100); m and s are VirusTotal's malicious and suspicious counts.
 *
 *   virustotal  m >= 3                      malicious   min(100, 70 + 3(m-3))
 *               m 1..2                      suspicious  40 (1), 50 (2)
 *               m 0, s >= 1                 suspicious  35
 *   abuseipdb   abuse_score >= 75           malicious   abuse_score
 *               abuse_score >= 25           suspicious  abuse_score
 *               is_whitelisted              harmless
 *   greynoise   classification "malicious"  malicious   80
 *               riot, classification "benign"  harmless
 *   urlhaus     urls_online > 0             malicious   90
 *               url_status "online"         malicious   90
 *   internetdb  a tag "malware", "c2" or "compromised" (any case)
 *                                           suspicious  50
 *   emailrep    blacklisted                 malicious   80
 *               malicious_activity          malicious   75
 *               suspicious                  suspicious  60
 *               disposable                  suspicious  50
 *               reputation "high", not suspicious  harmless
 *   hibp        breach_count >= 1           suspicious  30: its
 *               credentials are out, an account-takeover risk
 *   whoisxml    domain_age_days < 30        suspicious  30: newly
 *               registered domains carry most phishing and malware
 *
 * Level: the worst of all evidence (malicious > suspicious > harmless);
 * harmless therefore only with positive harmless evidence and nothing
 * bad; "unknown" with no evidence at all (score 0).  Score: the highest
 * score of any evidence; harmless evidence scores 0.  Reasons: one line
 * per piece of evidence, harmless ones included, so that a reader sees
 * disagreement, in the order of the input.
 *
 * Fields of the wrong type are no evidence: the data was normalised, but
 * the verdict does not trust that either.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_osint_verdict.h"


/* levels, worse ones greater */
#define NGX_HTTP_OSINT_VERDICT_UNKNOWN     0
#define NGX_HTTP_OSINT_VERDICT_HARMLESS    1
#define NGX_HTTP_OSINT_VERDICT_SUSPICIOUS  2
#define NGX_HTTP_OSINT_VERDICT_MALICIOUS   3

/* a provider name, then a reason's own text, as they appear in reasons */
#define NGX_HTTP_OSINT_VERDICT_TEXT_MAX    96


typedef struct {
    const char                 *provider;
    ngx_uint_t                  level;
    double                      score;
    cJSON                      *reasons;
    ngx_uint_t                  nomem;
} ngx_http_osint_verdict_t;


typedef void (*ngx_http_osint_verdict_rule_pt)(ngx_http_osint_verdict_t *v,
    cJSON *data);


static void ngx_http_osint_verdict_virustotal(ngx_http_osint_verdict_t *v,
    cJSON *data);
static void ngx_http_osint_verdict_abuseipdb(ngx_http_osint_verdict_t *v,
    cJSON *data);
static void ngx_http_osint_verdict_greynoise(ngx_http_osint_verdict_t *v,
    cJSON *data);
static void ngx_http_osint_verdict_urlhaus(ngx_http_osint_verdict_t *v,
    cJSON *data);
static void ngx_http_osint_verdict_internetdb(ngx_http_osint_verdict_t *v,
    cJSON *data);
static void ngx_http_osint_verdict_emailrep(ngx_http_osint_verdict_t *v,
    cJSON *data);
static void ngx_http_osint_verdict_hibp(ngx_http_osint_verdict_t *v,
    cJSON *data);
static void ngx_http_osint_verdict_whoisxml(ngx_http_osint_verdict_t *v,
    cJSON *data);
static void ngx_http_osint_verdict_evidence(ngx_http_osint_verdict_t *v,
    ngx_uint_t level, double score, const char *fmt, ...);
static ngx_int_t ngx_http_osint_verdict_count(cJSON *data, const char *name,
    double *n);
static void ngx_http_osint_verdict_text(char *buf, size_t size,
    const char *s);


static struct {
    const char                      *format;
    ngx_http_osint_verdict_rule_pt   rule;
} ngx_http_osint_verdict_rules[] = {
    { "virustotal", ngx_http_osint_verdict_virustotal },
    { "abuseipdb", ngx_http_osint_verdict_abuseipdb },
    { "greynoise", ngx_http_osint_verdict_greynoise },
    { "urlhaus", ngx_http_osint_verdict_urlhaus },
    { "internetdb", ngx_http_osint_verdict_internetdb },
    { "emailrep", ngx_http_osint_verdict_emailrep },
    { "hibp", ngx_http_osint_verdict_hibp },
    { "whoisxml", ngx_http_osint_verdict_whoisxml },
    { NULL, NULL }
};


static const char  *ngx_http_osint_verdict_levels[] = {
    "unknown",
    "harmless",
    "suspicious",
    "malicious"
};


cJSON *
ngx_http_osint_verdict(cJSON *providers_data)
{
    char                      name[NGX_HTTP_OSINT_VERDICT_TEXT_MAX];
    cJSON                    *verdict, *p, *format, *data;
    ngx_uint_t                i;
    ngx_http_osint_verdict_t  v;

    verdict = cJSON_CreateObject();
    if (verdict == NULL) {
        return NULL;
    }

    v.level = NGX_HTTP_OSINT_VERDICT_UNKNOWN;
    v.score = 0;
    v.nomem = 0;
    v.reasons = cJSON_CreateArray();

    if (v.reasons == NULL) {
        cJSON_Delete(verdict);
        return NULL;
    }

    p = cJSON_IsObject(providers_data) ? providers_data->child : NULL;

    for ( /* void */ ; p; p = p->next) {
        format = cJSON_GetObjectItemCaseSensitive(p, "format");
        data = cJSON_GetObjectItemCaseSensitive(p, "data");

        if (p->string == NULL || !cJSON_IsObject(p)
            || !cJSON_IsString(format) || !cJSON_IsObject(data))
        {
            continue;
        }

        ngx_http_osint_verdict_text(name, sizeof(name), p->string);
        v.provider = name;

        for (i = 0; ngx_http_osint_verdict_rules[i].format; i++) {
            if (strcmp(format->valuestring,
                       ngx_http_osint_verdict_rules[i].format)
                == 0)
            {
                ngx_http_osint_verdict_rules[i].rule(&v, data);
                break;
            }
        }
    }

    if (v.nomem
        || !cJSON_AddStringToObject(verdict, "level",
                                    ngx_http_osint_verdict_levels[v.level])
        || !cJSON_AddNumberToObject(verdict, "score", v.score)
        || !cJSON_AddItemToObject(verdict, "reasons", v.reasons))
    {
        cJSON_Delete(v.reasons);
        cJSON_Delete(verdict);
        return NULL;
    }

    return verdict;
}


static void
ngx_http_osint_verdict_virustotal(ngx_http_osint_verdict_t *v, cJSON *data)
{
    double  m, s;

    if (ngx_http_osint_verdict_count(data, "malicious", &m) != NGX_OK) {
        m = 0;
    }

    if (ngx_http_osint_verdict_count(data, "suspicious", &s) != NGX_OK) {
        s = 0;
    }

    if (m >= 3) {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_MALICIOUS,
                                        ngx_min(100, 70 + 3 * (m - 3)),
                                        "%.0f engines flag it malicious", m);

    } else if (m >= 1) {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_SUSPICIOUS,
                                        40 + 10 * (m - 1),
                                        "%.0f engine%s flag%s it malicious",
                                        m, m == 1 ? "" : "s",
                                        m == 1 ? "s" : "");

    } else if (s >= 1) {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_SUSPICIOUS,
                                        35,
                                        "%.0f engine%s flag%s it suspicious",
                                        s, s == 1 ? "" : "s",
                                        s == 1 ? "s" : "");
    }
}


static void
ngx_http_osint_verdict_abuseipdb(ngx_http_osint_verdict_t *v, cJSON *data)
{
    double   score, reports;
    cJSON   *white;

    if (ngx_http_osint_verdict_count(data, "abuse_score", &score) == NGX_OK
        && score >= 25)
    {
        if (score > 100) {
            score = 100;
        }

        if (ngx_http_osint_verdict_count(data, "total_reports", &reports)
            != NGX_OK)
        {
            reports = 0;
        }

        ngx_http_osint_verdict_evidence(v, score >= 75
                                           ? NGX_HTTP_OSINT_VERDICT_MALICIOUS
                                           : NGX_HTTP_OSINT_VERDICT_SUSPICIOUS,
                                        score,
                                        "abuse confidence %.0f%% "
                                        "(%.0f report%s)",
                                        score, reports,
                                        reports == 1 ? "" : "s");
    }

    white = cJSON_GetObjectItemCaseSensitive(data, "is_whitelisted");

    if (cJSON_IsTrue(white)) {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_HARMLESS, 0,
                                        "whitelisted");
    }
}


static void
ngx_http_osint_verdict_greynoise(ngx_http_osint_verdict_t *v, cJSON *data)
{
    char    name[NGX_HTTP_OSINT_VERDICT_TEXT_MAX];
    cJSON  *class, *riot, *n;

    class = cJSON_GetObjectItemCaseSensitive(data, "classification");
    riot = cJSON_GetObjectItemCaseSensitive(data, "riot");
    n = cJSON_GetObjectItemCaseSensitive(data, "name");

    name[0] = '\0';

    if (cJSON_IsString(n) && strcmp(n->valuestring, "unknown") != 0) {
        ngx_http_osint_verdict_text(name, sizeof(name), n->valuestring);
    }

    if (cJSON_IsString(class) && strcmp(class->valuestring, "malicious") == 0)
    {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_MALICIOUS,
                                        80, "classified malicious%s%s%s",
                                        name[0] ? " (" : "", name,
                                        name[0] ? ")" : "");
        return;
    }

    if (cJSON_IsTrue(riot)
        || (cJSON_IsString(class)
            && strcmp(class->valuestring, "benign") == 0))
    {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_HARMLESS, 0,
                                        "%s%s%s%s",
                                        cJSON_IsTrue(riot)
                                        ? "a known benign service"
                                        : "classified benign",
                                        name[0] ? " (" : "", name,
                                        name[0] ? ")" : "");
    }
}


static void
ngx_http_osint_verdict_urlhaus(ngx_http_osint_verdict_t *v, cJSON *data)
{
    char     threat[NGX_HTTP_OSINT_VERDICT_TEXT_MAX];
    double   online;
    cJSON   *status, *t;

    if (ngx_http_osint_verdict_count(data, "urls_online", &online) == NGX_OK
        && online > 0)
    {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_MALICIOUS,
                                        90, "%.0f malware URL%s online",
                                        online, online == 1 ? "" : "s");
    }

    status = cJSON_GetObjectItemCaseSensitive(data, "url_status");

    if (cJSON_IsString(status) && strcmp(status->valuestring, "online") == 0)
    {
        t = cJSON_GetObjectItemCaseSensitive(data, "threat");
        threat[0] = '\0';

        if (cJSON_IsString(t)) {
            ngx_http_osint_verdict_text(threat, sizeof(threat),
                                        t->valuestring);
        }

        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_MALICIOUS,
                                        90, "the URL is online%s%s",
                                        threat[0] ? ", " : "", threat);
    }
}


static void
ngx_http_osint_verdict_internetdb(ngx_http_osint_verdict_t *v, cJSON *data)
{
    char         list[NGX_HTTP_OSINT_VERDICT_TEXT_MAX];
    size_t       len;
    cJSON       *tags, *t;
    ngx_uint_t   i, n;

    static const char  *bad[] = { "malware", "c2", "compromised" };

    tags = cJSON_GetObjectItemCaseSensitive(data, "tags");

    if (!cJSON_IsArray(tags)) {
        return;
    }

    list[0] = '\0';
    len = 0;
    n = 0;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON_ArrayForEach(t, tags) {
            if (cJSON_IsString(t) && strcasecmp(t->valuestring, bad[i]) == 0)
            {
                len += snprintf(list + len, sizeof(list) - len, "%s%s",
                                n++ ? ", " : "", bad[i]);
                break;
            }
        }
    }

    if (n) {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_SUSPICIOUS,
                                        50, "tagged %s", list);
    }
}


static void
ngx_http_osint_verdict_evidence(ngx_http_osint_verdict_t *v,
    ngx_uint_t level, double score, const char *fmt, ...)
{
    int       n;
    char      text[2 * NGX_HTTP_OSINT_VERDICT_TEXT_MAX + 64];
    cJSON    *reason;
    va_list   args;

    if (level > v->level) {
        v->level = level;
    }

    if (score > v->score) {
        v->score = score;
    }

    n = snprintf(text, sizeof(text), "%s: ", v->provider);

    va_start(args, fmt);
    vsnprintf(text + n, sizeof(text) - n, fmt, args);
    va_end(args);

    reason = cJSON_CreateString(text);

    if (reason == NULL || !cJSON_AddItemToArray(v->reasons, reason)) {
        cJSON_Delete(reason);
        v->nomem = 1;
    }
}


/* a count the rules compare: a number, not NaN, not negative */

static ngx_int_t
ngx_http_osint_verdict_count(cJSON *data, const char *name, double *n)
{
    cJSON  *item;

    item = cJSON_GetObjectItemCaseSensitive(data, name);

    if (!cJSON_IsNumber(item) || !(item->valuedouble >= 0)) {
        return NGX_DECLINED;
    }

    *n = item->valuedouble;

    return NGX_OK;
}


/*
 * A provider's text in a reason: cut to the buffer on a UTF-8 character
 * boundary, so that a long name never leaves half a character behind.
 */

static void
ngx_http_osint_verdict_text(char *buf, size_t size, const char *s)
{
    size_t  len;

    len = strlen(s);

    if (len >= size) {
        len = size - 1;

        while (len > 0 && ((u_char) s[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    ngx_memcpy(buf, s, len);
    buf[len] = '\0';
}


static void
ngx_http_osint_verdict_emailrep(ngx_http_osint_verdict_t *v, cJSON *data)
{
    char    rep[NGX_HTTP_OSINT_VERDICT_TEXT_MAX];
    cJSON  *r, *suspicious;

    r = cJSON_GetObjectItemCaseSensitive(data, "reputation");
    suspicious = cJSON_GetObjectItemCaseSensitive(data, "suspicious");

    rep[0] = '\0';

    if (cJSON_IsString(r)) {
        ngx_http_osint_verdict_text(rep, sizeof(rep), r->valuestring);
    }

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "blacklisted")))
    {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_MALICIOUS,
                                        80, "blacklisted");
    }

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data,
                                                      "malicious_activity")))
    {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_MALICIOUS,
                                        75, "malicious activity seen");
    }

    if (cJSON_IsTrue(suspicious)) {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_SUSPICIOUS,
                                        60, "flagged suspicious%s%s%s",
                                        rep[0] ? " (reputation " : "", rep,
                                        rep[0] ? ")" : "");
    }

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "disposable"))) {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_SUSPICIOUS,
                                        50, "a disposable address");
    }

    if (cJSON_IsFalse(suspicious) && strcmp(rep, "high") == 0) {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_HARMLESS, 0,
                                        "reputation high");
    }
}


static void
ngx_http_osint_verdict_hibp(ngx_http_osint_verdict_t *v, cJSON *data)
{
    char     latest[NGX_HTTP_OSINT_VERDICT_TEXT_MAX];
    char     date[sizeof("YYYY-MM-DD") + 5];    /* the reason stays whole */
    double   n;
    cJSON   *l, *d;

    if (ngx_http_osint_verdict_count(data, "breach_count", &n) != NGX_OK
        || n < 1)
    {
        return;
    }

    l = cJSON_GetObjectItemCaseSensitive(data, "latest_breach");
    d = cJSON_GetObjectItemCaseSensitive(data, "latest_breach_date");

    latest[0] = '\0';
    date[0] = '\0';

    if (cJSON_IsString(l) && cJSON_IsString(d)) {
        ngx_http_osint_verdict_text(latest, sizeof(latest), l->valuestring);
        ngx_http_osint_verdict_text(date, sizeof(date), d->valuestring);
    }

    ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_SUSPICIOUS, 30,
                                    "in %.0f breach%s%s%s%s%s%s", n,
                                    n == 1 ? "" : "es",
                                    latest[0] ? ", the latest " : "", latest,
                                    latest[0] ? " (" : "", date,
                                    latest[0] ? ")" : "");
}


static void
ngx_http_osint_verdict_whoisxml(ngx_http_osint_verdict_t *v, cJSON *data)
{
    double  days;

    if (ngx_http_osint_verdict_count(data, "domain_age_days", &days)
        == NGX_OK
        && days < 30)
    {
        ngx_http_osint_verdict_evidence(v, NGX_HTTP_OSINT_VERDICT_SUSPICIOUS,
                                        30, "registered %.0f days ago", days);
    }
}
