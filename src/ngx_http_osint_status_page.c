
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The ops page of osint_status (?format=html): one self-contained
 * document, no external assets, refreshing itself from ?format=json
 * every 2 s.  Every string taken from the JSON is escaped before it
 * enters the HTML; keys missing from the JSON (a disabled provider,
 * no cache, no Redis) show as a dash.  Rows carry data-provider,
 * data-breaker and data-disabled for the tests (t/08-status.t).
 */


const char  ngx_http_osint_status_page[] =
"<!DOCTYPE html>\n"
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
"<title>osint status</title>\n"
"<style>\n"
"body{margin:0;font:13px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#1b1f23;background:#f6f7f9}\n"
"header{display:flex;gap:12px;align-items:baseline;padding:8px 14px;background:#fff;border-bottom:1px solid #d8dbe0}\n"
"h1{font-size:16px;margin:0}\n"
".m{color:#5f6670}\n"
"#err{display:none;margin:8px 14px 0;padding:6px 10px;background:#fde8e8;border:1px solid #c62828;color:#8e1111;font-weight:600;border-radius:3px}\n"
"#sum{display:flex;flex-wrap:wrap;gap:8px;padding:8px 14px}\n"
".c{background:#fff;border:1px solid #d8dbe0;border-radius:4px;padding:5px 10px;min-width:120px}\n"
".c b{display:block;font-size:11px;color:#5f6670;font-weight:600;text-transform:uppercase;letter-spacing:.03em}\n"
".c span{white-space:nowrap}\n"
".w{padding:0 14px 14px;overflow-x:auto}\n"
"table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d8dbe0}\n"
"th,td{padding:4px 8px;border-bottom:1px solid #eceef1;text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\n"
"th{background:#eef0f3;font-size:12px;font-weight:600}\n"
"th:first-child,td:first-child,td.l,th.l{text-align:left}\n"
".bd{display:inline-block;min-width:64px;text-align:center;padding:1px 6px;border-radius:3px;font-size:11px;font-weight:700;text-transform:uppercase;color:#fff}\n"
".closed{background:#1e7b34}.half_open{background:#f0a500;color:#1b1f23}.open{background:#c62828}.off,.unknown{background:#6b7280}\n"
".bad{color:#b71c1c;font-weight:600}.ok{color:#1e7b34;font-weight:600}\n"
"tr.dis td{color:#7a808a}\n"
"td.r{white-space:normal;overflow-wrap:anywhere;min-width:140px;max-width:260px;text-align:left}\n"
"</style></head>\n"
"<body>\n"
"<header><h1>osint status</h1><span id=\"meta\" class=\"m\">loading&hellip;</span></header>\n"
"<div id=\"err\" role=\"alert\"></div>\n"
"<section id=\"sum\"></section>\n"
"<div class=\"w\"><table><thead><tr><th>provider</th><th class=\"l\">breaker</th><th>tokens</th><th>calls/s</th><th>error rate</th><th>p50 ms</th><th>p95 ms</th><th class=\"l\">last error</th><th>quota left</th><th class=\"l\">quota reset</th><th class=\"l\">disabled because</th></tr></thead>\n"
"<tbody id=\"rows\"><tr><td colspan=\"11\" class=\"m\">loading&hellip;</td></tr></tbody></table></div>\n"
"<script>\n"
"\"use strict\";\n"
"var URL_=\"?format=json\",D=\"&mdash;\",prev=null,okAt=null;\n"
"function $(i){return document.getElementById(i)}\n"
"function esc(s){return String(s==null?\"\":s).replace(/[&<>\"']/g,function(c){return\"&#\"+c.charCodeAt(0)+\";\"})}\n"
"function obj(x){return x&&typeof x===\"object\"?x:null}\n"
"function n(x){x=Number(x);return isFinite(x)?x:null}\n"
"function f(x,d){x=n(x);return x==null?D:String(+x.toFixed(d==null?2:d))}\n"
"function sum(o,skip){var t=0;o=obj(o);if(!o)return null;for(var k in o)if(!skip||skip.indexOf(k)<0)t+=n(o[k])||0;return t}\n"
"function pct(a,b){return b>0?f(100*a/b,1)+\"%\":D}\n"
"function bytes(x){x=n(x);if(x==null)return D;var u=[\"B\",\"KiB\",\"MiB\",\"GiB\"],i=0;while(x>=1024&&i<3){x/=1024;i++}return f(x,i?1:0)+\" \"+u[i]}\n"
"function ago(s){s=Math.max(0,Math.round(s));return s<120?s+\"s ago\":s<7200?Math.round(s/60)+\"m ago\":Math.round(s/3600)+\"h ago\"}\n"
"function utc(t,y){t=n(t);return t==null?D:new Date(t*1000).toISOString().slice(y?0:5,16).replace(\"T\",\" \")+\"Z\"}\n"
"function card(t,v,tip){return'<div class=\"c\"'+(tip?' title=\"'+esc(tip)+'\"':\"\")+\"><b>\"+esc(t)+\"</b><span>\"+v+\"</span></div>\"}\n"
"var PER={h:\"hour\",d:\"day\",mo:\"month\"};\n""function wins(l){return l&&Array.isArray(l.windows)&&l.windows.length?l.windows.filter(obj):null}\n"
"function left(w){return f(w.remaining,0)+\" / \"+f(w.limit,0)+(w.period?' <span class=\"m\">per '+esc(PER[w.period]||w.period)+\"</span>\":\"\")}\n"
"function reset(w,now){return utc(w.reset)+(n(w.reset)>now?' <span class=\"m\">(in '+ago(w.reset-now).replace(\" ago\",\"\")+\")</span>\":\"\")}\n"
"function budgets(d){var bs=obj(d.budgets)||{},h=\"\";Object.keys(bs).forEach(function(k){var b=obj(bs[k])||{},ws=wins(b)||[];\n"
" h+=card(\"budget \"+k,(b.tokens!=null?f(b.tokens,1)+\" / \"+f(b.capacity,0)+\" tokens \":\"\")+ws.map(left).join(\" &middot; \")+(b.fallback?' <span class=\"bad\" data-fallback=\"1\">local share</span>':b.sync===\"redis\"?' <span class=\"m\">redis</span>':\"\"),ws.map(function(w){return w.period+\" resets \"+utc(w.reset,1)}).join(\", \"))});\n"
" return h}\n"
"function summary(d){\n"
" var h=\"\",r={ok:0,partial:0,failed:0,invalid:0},lk=obj(d.lookups)||{},k,t;\n"
" for(t in lk)for(k in r)r[k]+=n(obj(lk[t])&&lk[t][k])||0;\n"
" var bt=[];for(t in lk){k=Object.keys(r).filter(function(x){return n(obj(lk[t])&&lk[t][x])}).map(function(x){return x+\" \"+lk[t][x]});if(k.length)bt.push(t+\": \"+k.join(\", \"))}\n"
" h+=card(\"lookups\",'<span class=\"ok\">'+r.ok+\"</span> ok &middot; \"+r.partial+\" partial &middot; \"+(r.failed?'<span class=\"bad\">'+r.failed+\"</span>\":0)+\" failed &middot; \"+r.invalid+\" invalid\",bt.join(\"; \"));\n"
" var c=obj(d.cache),tiers=c?Object.keys(c).filter(function(k){var x=obj(c[k]);return x&&!(k===\"redis\"&&!obj(d.redis)&&!sum(x))}):[];\n"
" if(!tiers.length)h+=card(\"cache hit ratio\",D+' <span class=\"m\">n/a</span>');\n"
" tiers.forEach(function(tr){var x=obj(c[tr])||{},all=sum(x);\n"
"  h+=card(\"cache \"+tr+\" hit ratio\",'<span data-cache=\"'+esc(tr)+'\">'+pct(n(x.hit)||0,all)+\"</span>\"+(tr===\"l1\"&&n(c.entries)!=null?' <span class=\"m\">'+n(c.entries)+\" entries</span>\":\"\"),\"hit \"+(n(x.hit)||0)+\", miss \"+(n(x.miss)||0)+\", stale \"+(n(x.stale)||0)+\", error \"+(n(x.error)||0)+\" (hits / all)\")});\n"
" var rd=obj(d.redis),st=!rd?\"not_configured\":rd.up===true?\"up\":rd.up===false?\"down\":\"unknown\";\n"
" h+=card(\"redis\",'<span id=\"redis\" data-state=\"'+st+'\" class=\"'+(st===\"up\"?\"ok\":st===\"down\"?\"bad\":\"m\")+'\">'+st.replace(\"_\",\" \")+\"</span>\");\n"
" var z=obj(d.zone)||{};\n"
" h+=card(\"zone memory\",bytes(z.used)+\" of \"+bytes(z.size)+' <span class=\"m\">('+pct(n(z.used)||0,n(z.size))+\")</span>\");\n"
" $(\"sum\").innerHTML=h+budgets(d)}\n"
"function rows(d,dt){\n"
" var ps=obj(d.providers)||{},now=n(d.time)||Date.now()/1000,h=\"\",names=Object.keys(ps);\n"
" if(!names.length)h='<tr><td colspan=\"11\" class=\"m\">no provider configured</td></tr>';\n"
" names.forEach(function(name){\n"
"  var p=obj(ps[name])||{},b=obj(p.breaker),bk=obj(p.bucket),q=obj(p.quota),le=obj(p.last_error),lat=obj(p.latency)||{};\n""  var qs=wins(obj(p.limits))||(q?[q]:[]);\n"
"  var st=b&&typeof b.state===\"string\"?b.state:\"unknown\",cls=/^(closed|open|half_open|off)$/.test(st)?st:\"unknown\",bl=p.disabled?\"disabled\":st.replace(\"_\",\" \");\n"
"  if(p.disabled)cls=\"off\";\n"
"  var calls=sum(p.calls),errs=sum(p.calls,[\"ok\",\"not_found\"]),rate=D,er=D;\n"
"  var o=prev&&prev[name];\n"
"  if(o&&dt>0&&calls!=null&&calls>=o.calls){rate=f((calls-o.calls)/dt,2);er=calls>o.calls?pct(errs-o.errs,calls-o.calls):D;if(errs-o.errs>0)er='<span class=\"bad\">'+er+\"</span>\"}\n"
"  p._c={calls:calls||0,errs:errs||0};\n"
"  var bt=b?esc(b.failures)+\"/\"+esc(b.threshold)+\" failures, opened \"+esc(b.opens)+\" times\":\"\";\n"
"  var held=n(p.held_for_ms)>0?' <span class=\"m\">held '+f(p.held_for_ms/1000,1)+\"s</span>\":\"\";\n"
"  h+='<tr data-provider=\"'+esc(name)+'\" data-breaker=\"'+esc(st)+'\" data-disabled=\"'+(p.disabled?1:0)+'\"'+(p.disabled?' class=\"dis\"':\"\")+\">\"\n"
"  +\"<td><b>\"+esc(name)+'</b> <span class=\"m\">'+esc((Array.isArray(p.types)?p.types:[]).join(\" \"))+\"</span></td>\"\n"
"  +'<td class=\"l\"><span class=\"bd '+cls+'\" title=\"'+bt+'\">'+esc(bl)+\"</span>\"+held+\"</td>\"\n"
"  +\"<td>\"+(bk?f(bk.tokens,1)+\" / \"+f(bk.capacity,0):D)+\"</td>\"\n"
"  +'<td title=\"'+esc(calls==null?\"\":calls+\" calls in all, \"+(n(p.retries)||0)+\" retries, skipped: \"+JSON.stringify(obj(p.skipped)||{}).replace(/[{}\"]/g,\"\"))+'\">'+rate+\"</td><td>\"+er+\"</td>\"\n"
"  +\"<td>\"+(n(lat.count)?f(lat.p50_ms,1):D)+\"</td><td>\"+(n(lat.count)?f(lat.p95_ms,1):D)+\"</td>\"\n"
"  +'<td class=\"l\">'+(le?'<span class=\"bad\">'+esc(le.kind)+\"</span> \"+ago(now-(n(le.time)||now)):D)+\"</td>\"\n"
"  +\"<td>\"+(qs.length?qs.map(left).join(\"<br>\"):D)+\"</td>\"\n"
"  +'<td class=\"l\">'+(qs.length?qs.map(function(w){return reset(w,now)}).join(\"<br>\"):D)+\"</td>\"\n"
"  +'<td class=\"r\">'+(p.disabled?'<span class=\"bad\">'+esc(p.disabled_reason||\"disabled\")+\"</span>\":D)+\"</td></tr>\"});\n"
" $(\"rows\").innerHTML=h;\n"
" prev={};names.forEach(function(k){prev[k]=ps[k]._c})}\n"
"function load(){\n"
" var ac=new AbortController(),to=setTimeout(function(){ac.abort()},5000),t0=performance.now();\n"
" fetch(URL_,{cache:\"no-store\",signal:ac.signal,headers:{Accept:\"application/json\"}}).then(function(r){\n"
"  if(!r.ok)throw new Error(\"HTTP \"+r.status);return r.json()}).then(function(d){\n"
"  if(!obj(d))throw new Error(\"not a JSON object\");\n"
"  var dt=okAt==null?0:(t0-okAt)/1000;\n"
"  summary(d);rows(d,dt);okAt=t0;\n"
"  $(\"meta\").innerHTML=\"v\"+esc(d.version)+\" &middot; server time \"+utc(d.time,1)+\" &middot; updated \"+esc(new Date().toLocaleTimeString())+\" &middot; every 2 s\";\n"
"  $(\"err\").style.display=\"none\"}).catch(function(e){\n"
"  var E=$(\"err\");E.style.display=\"block\";\n"
"  E.innerHTML=\"Refresh failed: \"+esc(e&&e.name===\"AbortError\"?\"timeout\":e&&e.message||e)+(okAt==null?\"\":\" &mdash; showing data from \"+esc(new Date(performance.timeOrigin+okAt).toLocaleTimeString()))}).finally(function(){\n"
"  clearTimeout(to);setTimeout(load,2000)})}\n"
"load();\n"
"</script>\n"
"</body></html>\n";


/*
 * The page's Content-Security-Policy: its inline script and style run by
 * their SHA-256 (of the text between the tags), nothing else loads, and
 * it fetches only from its own origin.  Change the page, change these:
 * t/23-status-headers.t prints the policy of the page it was served.
 */

const char  ngx_http_osint_status_page_csp[] =
    "default-src 'none'; "
    "script-src 'sha256-6yZsc9XOT4LYfr/uchBFMVSPV72g8RfnSMCvHw4gMh0='; "
    "style-src 'sha256-h7EQtdIkQiVgjjn1nzQn2owV5yK7KoCN9qzMs3z1EKQ='; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";
