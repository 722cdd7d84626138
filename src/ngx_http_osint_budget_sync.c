
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * sync=redis for budgets: the tokens and quota windows of a budget held
 * in Redis for all the nodes, taken by one Lua script (EVALSHA, EVAL
 * after a NOSCRIPT) for all the budgets of a call at once, on Redis's
 * clock; a 429's hold as a key that expires.  The call waits for the
 * answer as a step of its lookup.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include <hiredis/hiredis.h>

#include "ngx_http_osint.h"


/* the reply: got, why, wait, hold, then per budget these */
#define NGX_HTTP_OSINT_SYNC_HEAD  4
#define NGX_HTTP_OSINT_SYNC_EACH  (1 + 2 * NGX_HTTP_OSINT_WINDOWS)


static void ngx_http_osint_budget_digest(void);
static void ngx_http_osint_budget_hold_done(void *data, ngx_int_t rc,
    void *reply);
static ngx_int_t ngx_http_osint_budget_reply(redisReply *rr, ngx_uint_t n,
    ngx_http_osint_grant_t *g);


/*
 * KEYS[1] the provider's hold (a 429 seen by any node), KEYS[2..] the
 * budgets; ARGV[1] tokens wanted, then per budget: rate per hour (0:
 * none), burst, and the limits of the hour, day and month (0: none).
 * All or none: "got" is what every budget can give (0 when held); then
 * every budget pays it.  UTC windows from Redis's TIME (the month by
 * days_from_civil); a budget's hash expires when nothing in it matters.
 * Returns {got, why (1 held, 2 rate, 3 quota), ms to the next token,
 * ms of hold, then per budget: tokens left, and left and reset (Unix
 * time) of each window (-1 left: no limit)}.
 */

static const char  ngx_http_osint_budget_script[] =
    NGX_HTTP_OSINT_LUA_NOW
    "local sec = tonumber(t[1])\n"
    "local want = tonumber(ARGV[1])\n"
    "local function days(y, m)\n"
    "  if m <= 2 then y = y - 1 end\n"
    "  local era = math.floor(y / 400)\n"
    "  local yoe = y - era * 400\n"
    "  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5)\n"
    "  return era * 146097 + yoe * 365 + math.floor(yoe / 4)"
    " - math.floor(yoe / 100) + doy - 719468\n"
    "end\n"
    "local function window(w)\n"
    "  if w == 1 then return sec - sec % 3600, sec - sec % 3600 + 3600 end\n"
    "  if w == 2 then return sec - sec % 86400, sec - sec % 86400 + 86400"
    " end\n"
    "  local z = math.floor(sec / 86400) + 719468\n"
    "  local era = math.floor(z / 146097)\n"
    "  local doe = z - era * 146097\n"
    "  local yoe = math.floor((doe - math.floor(doe / 1460)"
    " + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)\n"
    "  local doy = doe - (365 * yoe + math.floor(yoe / 4)"
    " - math.floor(yoe / 100))\n"
    "  local mp = math.floor((5 * doy + 2) / 153)\n"
    "  local m = mp < 10 and mp + 3 or mp - 9\n"
    "  local y = yoe + era * 400\n"
    "  if m <= 2 then y = y + 1 end\n"
    "  local n = m == 12 and days(y + 1, 1) or days(y, m + 1)\n"
    "  return days(y, m) * 86400, n * 86400\n"
    "end\n"
    "local hold = redis.call('PTTL', KEYS[1])\n"
    "if hold < 0 then hold = 0 end\n"
    "local got, wait, spent, st = want, 0, false, {}\n"
    "for i = 2, #KEYS do\n"
    "  local a = 2 + (i - 2) * 5\n"
    "  local b = {rate = tonumber(ARGV[a]) / 3600000,"
    " burst = tonumber(ARGV[a + 1]), tokens = -1, w = {}}\n"
    "  local s = redis.call('HMGET', KEYS[i], 'tokens', 'ts', 's1', 'u1',"
    " 's2', 'u2', 's3', 'u3')\n"
    "  local rate, burst = b.rate, b.burst\n"
    "  if rate > 0 then\n"
    NGX_HTTP_OSINT_LUA_REFILL
    "    if tokens < 1 then\n"
    "      wait = math.max(wait, math.ceil((1 - tokens) / rate))\n"
    "    end\n"
    "    got = math.max(0, math.min(got, math.floor(tokens)))\n"
    "    b.tokens = tokens\n"
    "  end\n"
    "  for w = 1, 3 do\n"
    "    local lim = tonumber(ARGV[a + 1 + w])\n"
    "    local ws, we = window(w)\n"
    "    local used = 0\n"
    "    if tonumber(s[1 + 2 * w]) == ws then"
    " used = tonumber(s[2 + 2 * w]) or 0 end\n"
    "    b.w[w] = {ws, used, lim, we}\n"
    "    if lim > 0 then\n"
    "      if used >= lim then spent = true end\n"
    "      got = math.max(0, math.min(got, lim - used))\n"
    "    end\n"
    "  end\n"
    "  st[i] = b\n"
    "end\n"
    "local why = 0\n"
    "if hold > 0 then got = 0; why = 1\n"
    "elseif got == 0 then why = spent and 3 or 2 end\n"
    "local out = {got, why, wait, hold}\n"
    "for i = 2, #KEYS do\n"
    "  local b = st[i]\n"
    "  local ttl = 1000\n"
    "  if b.rate > 0 then\n"
    "    b.tokens = b.tokens - got\n"
    "    if got > 0 then\n"
    "      redis.call('HSET', KEYS[i], 'tokens', tostring(b.tokens),"
    " 'ts', tostring(now))\n"
    "    end\n"
    "    ttl = math.ceil((b.burst - b.tokens) / b.rate) + 1000\n"
    "  end\n"
    "  table.insert(out, math.floor(b.tokens))\n"
    "  for w = 1, 3 do\n"
    "    local x = b.w[w]\n"
    "    if x[3] > 0 then\n"
    "      x[2] = x[2] + got\n"
    "      if got > 0 then\n"
    "        redis.call('HSET', KEYS[i], 's' .. w, x[1], 'u' .. w, x[2])\n"
    "      end\n"
    "      ttl = math.max(ttl, (x[4] - sec) * 1000 + 1000)\n"
    "      table.insert(out, x[3] - x[2])\n"
    "    else\n"
    "      table.insert(out, -1)\n"
    "    end\n"
    "    table.insert(out, x[4])\n"
    "  end\n"
    "  if got > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end\n"
    "end\n"
    "return out\n";


/* the script's SHA1 in hex, for EVALSHA: Redis caches it by that */

static u_char  ngx_http_osint_budget_sha[41];


/*
 * Sends the script for the budgets "ask" of the provider: by its SHA1
 * (EVALSHA: 40 bytes instead of the script), or whole (EVAL) when "eval"
 * (Redis answered NOSCRIPT: a restart, SCRIPT FLUSH; EVAL caches it
 * again).  The request, or NULL (Redis down: nothing will be called).
 */

ngx_http_osint_redis_req_t *
ngx_http_osint_budget_ask(ngx_http_osint_provider_t *p, ngx_uint_t ask,
    ngx_uint_t want, ngx_uint_t eval, ngx_http_osint_redis_reply_pt handler,
    void *data, ngx_pool_t *pool, ngx_log_t *log)
{
    u_char                      *s;
    size_t                       argvlen[4 + 2 + 2 * 5];
    ngx_uint_t                   i, j, n, argc;
    const char                  *argv[4 + 2 + 2 * 5];
    ngx_http_osint_budget_t     *b[2];
    ngx_http_osint_main_conf_t  *omcf;

    omcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_osint_module);

    n = ngx_http_osint_budgets_of(p, b);

    s = ngx_pnalloc(pool, omcf->redis->prefix.len + sizeof("hold:") - 1
                          + p->name.len + 12 * NGX_INT_T_LEN);
    if (s == NULL) {
        return NULL;
    }

    if (ngx_http_osint_budget_sha[0] == '\0') {
        ngx_http_osint_budget_digest();
    }

    if (eval) {
        argv[0] = "EVAL";
        argvlen[0] = 4;
        argv[1] = ngx_http_osint_budget_script;
        argvlen[1] = sizeof(ngx_http_osint_budget_script) - 1;

    } else {
        argv[0] = "EVALSHA";
        argvlen[0] = 7;
        argv[1] = (const char *) ngx_http_osint_budget_sha;
        argvlen[1] = 40;
    }

    argv[3] = (const char *) s;
    s = ngx_sprintf(s, "%Vhold:%V", &omcf->redis->prefix, &p->name);
    argvlen[3] = s - (u_char *) argv[3];

    argc = 4;

    for (i = 0; i < n; i++) {
        if (ask & (1 << i)) {
            argv[argc] = (const char *) b[i]->rkey.data;
            argvlen[argc++] = b[i]->rkey.len;
        }
    }

    argv[2] = (argc - 4 == 1) ? "2" : "3";      /* the hold, the budgets */
    argvlen[2] = 1;

    argv[argc] = (const char *) s;
    s = ngx_sprintf(s, "%ui", want);
    argvlen[argc] = s - (u_char *) argv[argc];
    argc++;

    for (i = 0; i < n; i++) {
        if (!(ask & (1 << i))) {
            continue;
        }

        argv[argc] = (const char *) s;
        s = ngx_sprintf(s, "%uL",
                        (uint64_t) (b[i]->rate.per_ms * 3600000 + 0.5));
        argvlen[argc] = s - (u_char *) argv[argc];
        argc++;

        argv[argc] = (const char *) s;
        s = ngx_sprintf(s, "%ui", b[i]->rate.burst);
        argvlen[argc] = s - (u_char *) argv[argc];
        argc++;

        for (j = 0; j < NGX_HTTP_OSINT_WINDOWS; j++) {
            argv[argc] = (const char *) s;
            s = ngx_sprintf(s, "%ui", b[i]->quota[j]);
            argvlen[argc] = s - (u_char *) argv[argc];
            argc++;
        }
    }

    return ngx_http_osint_redis_command((int) argc, argv, argvlen, handler,
                                        data, log);
}


static void
ngx_http_osint_budget_digest(void)
{
    u_char      hash[20];
    ngx_sha1_t  sha1;

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, ngx_http_osint_budget_script,
                    sizeof(ngx_http_osint_budget_script) - 1);
    ngx_sha1_final(hash, &sha1);

    *ngx_hex_dump(ngx_http_osint_budget_sha, hash, 20) = '\0';
}


/* Redis does not hold the script (yet, or any more): send it whole */

ngx_uint_t
ngx_http_osint_budget_noscript(ngx_int_t rc, void *reply)
{
    redisReply  *rr = reply;

    return rc == NGX_OK && rr && rr->type == REDIS_REPLY_ERROR
           && rr->len >= 8 && ngx_strncmp(rr->str, "NOSCRIPT", 8) == 0;
}


/*
 * Redis's answer (rc NGX_ERROR: none, within its timeout): into "g", and
 * what it says of each budget into the zone, for the status page.
 */

void
ngx_http_osint_budget_answer(ngx_http_osint_main_conf_t *omcf,
    ngx_http_osint_provider_t *p, ngx_int_t rc, void *reply,
    ngx_http_osint_grant_t *g, ngx_log_t *log)
{
    redisReply               *rr = reply;
    ngx_uint_t                i, j, k, n, asked, back;
    ngx_msec_t                now;
    ngx_http_osint_shm_t     *ctx;
    ngx_http_osint_budget_t  *b[2], *synced;
    ngx_http_osint_bstate_t  *st;

    n = ngx_http_osint_budgets_of(p, b);

    for (asked = 0, i = 0; i < n; i++) {
        asked += (g->asked >> i) & 1;
    }

    g->got = -1;

    if (rc != NGX_OK
        || ngx_http_osint_budget_reply(rr, asked, g) != NGX_OK)
    {
        return;
    }

    ctx = omcf->shm_zone->data;
    now = ngx_current_msec;
    synced = NULL;
    k = NGX_HTTP_OSINT_SYNC_HEAD;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (g->hold
        && (ngx_msec_int_t) (p->state->hold_until - (now + g->hold)) < 0)
    {
        p->state->hold_until = now + g->hold;
    }

    for (i = 0; i < n; i++) {
        if (!(g->asked & (1 << i))) {
            continue;
        }

        st = b[i]->state;
        st->synced = now ? now : 1;
        st->r_tokens = (ngx_int_t) rr->element[k++]->integer;

        for (j = 0; j < NGX_HTTP_OSINT_WINDOWS; j++) {
            st->r_left[j] = (ngx_int_t) rr->element[k++]->integer;
            st->r_reset[j] = (time_t) rr->element[k++]->integer;
        }

        if (g->want > 1) {
            st->asking = 0;
        }

        back = st->fallback;
        st->fallback = 0;

        if (back) {
            synced = b[i];
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (synced) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "osint: %s \"%V\" is in sync with redis again",
                      synced->shared ? "osint_budget" : "provider",
                      &synced->name);
    }
}


/* the reply's shape: an array of integers, of the size asked */

static ngx_int_t
ngx_http_osint_budget_reply(redisReply *rr, ngx_uint_t n,
    ngx_http_osint_grant_t *g)
{
    ngx_uint_t  i;

    if (rr == NULL || rr->type != REDIS_REPLY_ARRAY
        || rr->elements != NGX_HTTP_OSINT_SYNC_HEAD
                           + n * NGX_HTTP_OSINT_SYNC_EACH)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < rr->elements; i++) {
        if (rr->element[i]->type != REDIS_REPLY_INTEGER) {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < NGX_HTTP_OSINT_SYNC_HEAD; i++) {
        if (rr->element[i]->integer < 0) {
            return NGX_ERROR;
        }
    }

    g->got = (ngx_int_t) ngx_min(rr->element[0]->integer, (long long) g->want);
    g->why = (ngx_uint_t) rr->element[1]->integer;
    g->wait = (ngx_msec_t) ngx_min(rr->element[2]->integer, 3600000);
    g->hold = (ngx_msec_t) ngx_min(rr->element[3]->integer,
                                   NGX_HTTP_OSINT_RETRY_AFTER_MAX * 1000);

    return NGX_OK;
}


/*
 * A 429 seen here holds the provider on every node: its hold key, which
 * every node's script reads.  Fire and forget: a lost one leaves the
 * other nodes to find the 429 for themselves.
 */

void
ngx_http_osint_budget_hold(ngx_http_osint_provider_t *p, ngx_msec_t hold)
{
    u_char                      *s;
    size_t                       argvlen[5];
    const char                  *argv[5];
    ngx_http_osint_budget_t     *b[2];
    ngx_http_osint_main_conf_t  *omcf;
    u_char                       buf[256 + NGX_HTTP_OSINT_NAME_MAX
                                     + NGX_INT_T_LEN];

    if (ngx_http_osint_budgets_of(p, b) == 0
        || !(b[0]->sync || (p->budget && p->budget->sync)))
    {
        return;
    }

    omcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_osint_module);

    if (omcf->redis->prefix.len > 200) {
        return;
    }

    s = buf;

    argv[0] = "SET";
    argvlen[0] = 3;

    argv[1] = (const char *) s;
    s = ngx_sprintf(s, "%Vhold:%V", &omcf->redis->prefix, &p->name);
    argvlen[1] = s - (u_char *) argv[1];

    argv[2] = "1";
    argvlen[2] = 1;
    argv[3] = "PX";
    argvlen[3] = 2;

    argv[4] = (const char *) s;
    s = ngx_sprintf(s, "%M", hold);
    argvlen[4] = s - (u_char *) argv[4];

    (void) ngx_http_osint_redis_command(5, argv, argvlen,
                                        ngx_http_osint_budget_hold_done,
                                        NULL, NULL);
}


static void
ngx_http_osint_budget_hold_done(void *data, ngx_int_t rc, void *reply)
{
    /* nothing to do: the key is set, or the other nodes see the 429 */
}


/* a budget's move to its local share, once a period; after unlocking */

void
ngx_http_osint_budget_log(ngx_http_osint_admission_t *a, ngx_log_t *log)
{
    if (a->fell_back) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "osint: %s \"%V\" falls back to its local share: "
                      "redis is down or slow",
                      a->fell_back->shared ? "osint_budget" : "provider",
                      &a->fell_back->name);
    }
}
