
/*
 * Copyright (C) ngx_http_osint_module authors
 *
 * The ops page of osint_status (?format=html): one self-contained
 * document, no external assets, refreshing itself from ?format=json
 * every 2 s.  Every string taken from the JSON is escaped before it
 * enters the HTML; keys missing from the JSON (a disabled provider,
 * no cache, no Redis) show as a dash.  Rows carry data-provider,
 * data-breaker and data-disabled for the tests (t/08-status.t).
 *
 * The page keeps its last 150 polls (5 minutes) in a ring and draws
 * sparklines from them as inline SVG: lookups/s by result, cache hit
 * ratio per tier, per provider calls/s, error ratio and p95 latency (of
 * the last 10 s, from the difference of two latency histograms), and the
 * edge limiter's zones.  With osint_status control=URI the body carries
 * data-control="URI"; when a GET of it answers 200 (allow/deny decide),
 * the page shows osint_control's buttons, each confirmed first
 * (t/66-ops-page.t).  The page is two strings: the attribute goes
 * between them, the script stays one text of one hash.
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
".closed{background:#1e7b34}.half_open{background:#f0a500;color:#1b1f23}.open,.forced_open{background:#c62828}.off,.unknown{background:#6b7280}\n"
".bad{color:#b71c1c;font-weight:600}.ok{color:#1e7b34;font-weight:600}\n"
"tr.dis td{color:#7a808a}\n"
"td.r{white-space:normal;overflow-wrap:anywhere;min-width:140px;max-width:260px;text-align:left}\n"
"[hidden]{display:none!important}\n"
".sp{vertical-align:middle}.sp path{fill:none;stroke-width:1.5}\n"
"td.s{padding-left:2px;text-align:left}\n"
"h2{font-size:12px;margin:10px 0 4px;text-transform:uppercase;color:#5f6670}\n"
"button{font:inherit;font-size:11px;margin:0 2px;padding:1px 6px;cursor:pointer}\n"
"#ctl{display:flex;gap:6px;align-items:center;padding:0 14px 8px}\n"
"</style></head>\n"
"<body";


const char  ngx_http_osint_status_page_body[] =
">\n"
"<header><h1>osint status</h1><span id=\"meta\" class=\"m\">loading&hellip;</span></header>\n"
"<div id=\"err\" role=\"alert\"></div>\n"
"<section id=\"sum\"></section>\n"
"<div id=\"ctl\" hidden><input id=\"pt\" placeholder=\"target\" aria-label=\"target\"><button data-m=\"DELETE\" data-q=\"purge\">purge from cache</button><span id=\"said\" class=\"m\"></span></div>\n"
"<div class=\"w\"><table><thead><tr><th>provider</th><th class=\"l\">breaker</th><th>tokens</th><th class=\"l\" colspan=\"2\">calls/s</th><th class=\"l\" colspan=\"2\">error rate</th><th>p50 ms</th><th class=\"l\" colspan=\"2\">p95 ms</th><th class=\"l\">last error</th><th>quota left</th><th class=\"l\">quota reset</th><th class=\"l\">disabled because</th><th id=\"acts\" class=\"l\" hidden>control</th></tr></thead>\n"
"<tbody id=\"rows\"><tr><td colspan=\"14\" class=\"m\">loading&hellip;</td></tr></tbody></table>\n"
"<div id=\"lim\" hidden><h2>edge limiter</h2><table><thead><tr><th>zone</th><th class=\"l\">rate</th><th>keys</th><th>passed/s</th><th>delayed/s</th><th>rejected/s</th><th>dry-run/s</th><th class=\"l\">trend</th></tr></thead><tbody id=\"zones\"></tbody></table></div></div>\n"
"<script>\n"
"\"use strict\";\n"
"var URL_=\"?format=json\",D=\"&mdash;\",RING=150,SW=150,SH=24,H=[],okAt=null,timer=null,ctl=null;\n"
"var CTL=document.body.dataset.control||\"\";\n"
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
"function last(s){return s.length?s[s.length-1]:null}\n"
"var PER={h:\"hour\",d:\"day\",mo:\"month\"},RES=[\"ok\",\"partial\",\"failed\",\"invalid\"],RC=[\"#1e7b34\",\"#f0a500\",\"#c62828\",\"#6b7280\"];\n"
"var LR=[\"passed\",\"delayed\",\"rejected\",\"dry_run\"];\n"
"/* the ring H holds the last RING polls {t: s, d: JSON}; a series has one\n"
"   value per interval between two polls, null where there is none */\n"
"function rates(g){var o=[];for(var i=1;i<H.length;i++){var a=g(H[i-1].d),b=g(H[i].d),dt=H[i].t-H[i-1].t;o.push(a==null||b==null||b<a||!(dt>0)?null:(b-a)/dt)}return o}\n"
"function ratios(ga,gb){var o=[];for(var i=1;i<H.length;i++){var a=ga(H[i].d)-ga(H[i-1].d),b=gb(H[i].d)-gb(H[i-1].d);o.push(b>0&&a>=0?a/b:null)}return o}\n"
"function prov(d,name){return obj(obj(d.providers)&&d.providers[name])}\n"
"function quant(le,c,q){var t=0,s=0,j;for(j=0;j<c.length;j++)t+=c[j];if(!(t>0))return null;\n"
" for(j=0;j<le.length;j++){if(c[j]>0&&s+c[j]>=q*t){var lo=j?le[j-1]:0;return lo+(le[j]-lo)*(q*t-s)/c[j]}s+=c[j]}return le[le.length-1]}\n"
"/* p95 of the calls of the last 5 intervals, from the histograms' difference */\n"
"function p95s(name){var o=[];for(var i=1;i<H.length;i++){\n"
" var a=obj((prov(H[Math.max(0,i-5)].d,name)||{}).latency),b=obj((prov(H[i].d,name)||{}).latency);\n"
" o.push(a&&b&&Array.isArray(a.buckets)&&Array.isArray(b.buckets)&&Array.isArray(b.le_ms)?quant(b.le_ms,b.buckets.map(function(x,j){return x-(a.buckets[j]||0)}),.95):null)}return o}\n"
"function spark(id,ls,cs,unit){var mx=0,k=SW/(RING-2),h=\"\";\n"
" ls.forEach(function(s){s.forEach(function(v){if(v>mx)mx=v})});\n"
" ls.forEach(function(s,j){var d=\"\",pen=\"M\";s.forEach(function(v,i){if(v==null){pen=\"M\";return}\n"
"  d+=pen+(SW-(s.length-1-i)*k).toFixed(1)+\" \"+(SH-1-(mx>0?v/mx*(SH-2):0)).toFixed(1);pen=\"L\"});\n"
"  h+='<path d=\"'+d+'\" stroke=\"'+cs[j%cs.length]+'\"/>'});\n"
" return'<svg class=\"sp\" data-spark=\"'+esc(id)+'\" width=\"'+SW+'\" height=\"'+SH+'\" viewBox=\"0 0 '+SW+\" \"+SH+'\"><title>'+esc(id)+\", last \"+Math.round(RING*2/60)+\" min, top \"+f(mx)+(unit||\"\")+\"</title>\"+h+\"</svg>\"}\n"
"function summary(d){\n"
" var h=\"\",r={ok:0,partial:0,failed:0,invalid:0},lk=obj(d.lookups)||{},k,t;\n"
" for(t in lk)for(k in r)r[k]+=n(obj(lk[t])&&lk[t][k])||0;\n"
" var bt=[];for(t in lk){k=Object.keys(r).filter(function(x){return n(obj(lk[t])&&lk[t][x])}).map(function(x){return x+\" \"+lk[t][x]});if(k.length)bt.push(t+\": \"+k.join(\", \"))}\n"
" var ls=RES.map(function(x){return rates(function(d){var l=obj(d.lookups),s=0;for(var t in l)s+=n(obj(l[t])&&l[t][x])||0;return l?s:null})});\n"
" h+=card(\"lookups\",'<span class=\"ok\">'+r.ok+\"</span> ok &middot; \"+r.partial+\" partial &middot; \"+(r.failed?'<span class=\"bad\">'+r.failed+\"</span>\":0)+\" failed &middot; \"+r.invalid+\" invalid \"+spark(\"lookups/s\",ls,RC,\"/s\"),bt.join(\"; \"));\n"
" var c=obj(d.cache),tiers=c?Object.keys(c).filter(function(k){var x=obj(c[k]);return x&&!(k===\"redis\"&&!obj(d.redis)&&!sum(x))}):[];\n"
" if(!tiers.length)h+=card(\"cache hit ratio\",D+' <span class=\"m\">n/a</span>');\n"
" tiers.forEach(function(tr){var x=obj(c[tr])||{},all=sum(x),g=function(d){return obj(obj(d.cache)&&d.cache[tr])};\n"
"  var hr=ratios(function(d){return n((g(d)||{}).hit)},function(d){return sum(g(d))}).map(function(v){return v==null?null:100*v});\n"
"  h+=card(\"cache \"+tr+\" hit ratio\",'<span data-cache=\"'+esc(tr)+'\">'+pct(n(x.hit)||0,all)+\"</span>\"+(tr===\"l1\"&&n(c.entries)!=null?' <span class=\"m\">'+n(c.entries)+\" entries</span>\":\"\")+\" \"+spark(\"cache \"+tr+\" hit %\",[hr],[\"#1f5fbf\"],\"%\"),\"hit \"+(n(x.hit)||0)+\", miss \"+(n(x.miss)||0)+\", stale \"+(n(x.stale)||0)+\", error \"+(n(x.error)||0)+\" (hits / all)\")});\n"
" var rd=obj(d.redis),st=!rd?\"not_configured\":rd.up===true?\"up\":rd.up===false?\"down\":\"unknown\";\n"
" h+=card(\"redis\",'<span id=\"redis\" data-state=\"'+st+'\" class=\"'+(st===\"up\"?\"ok\":st===\"down\"?\"bad\":\"m\")+'\">'+st.replace(\"_\",\" \")+\"</span>\");\n"
" var z=obj(d.zone)||{};\n"
" h+=card(\"zone memory\",bytes(z.used)+\" of \"+bytes(z.size)+' <span class=\"m\">('+pct(n(z.used)||0,n(z.size))+\")</span>\");\n"
" (Array.isArray(d.locations)?d.locations:[]).forEach(function(l){l=obj(l)||{};var ps=Array.isArray(l.providers)?l.providers.join(\", \"):\"all providers\";\n"
"  h+=card(\"lookup \"+l.location,'<span data-location=\"'+esc(l.location)+'\">'+esc(ps)+\"</span>\"+(Array.isArray(l.types)?' <span class=\"m\">'+esc(l.types.join(\" \"))+\"</span>\":\"\"))});\n"
" $(\"sum\").innerHTML=h}\n"
"function btn(m,q,c,t){return'<button data-m=\"'+m+'\" data-q=\"'+esc(q)+'\" data-c=\"'+esc(c)+'\">'+t+\"</button>\"}\n"
"/* what osint_control offers for a provider, from its GET */\n"
"function buttons(name){var c=obj(obj(ctl.providers)&&ctl.providers[name]),p=\"provider=\"+encodeURIComponent(name),h=\"\";\n"
" if(!c)return D;var st=(obj(c.breaker)||{}).state;\n"
" if(st===\"closed\")h+=btn(\"POST\",p+\"&breaker=open\",\"Force the breaker of \"+name+\" open?\",\"force open\");\n"
" else if(/^(open|half_open|forced_open)$/.test(st))h+=btn(\"POST\",p+\"&breaker=closed\",\"Close the breaker of \"+name+\"?\",\"close breaker\");\n"
" if(obj(c.hold))h+=btn(\"DELETE\",p+\"&hold\",\"Lift the hold of \"+name+\"?\",\"lift hold\");\n"
" h+=c.enabled===false?btn(\"POST\",p+\"&enabled=on\",\"Enable \"+name+\"?\",\"enable\"):btn(\"POST\",p+\"&enabled=off\",\"Take \"+name+\" out of every lookup?\",\"disable\");\n"
" return h}\n"
"function rows(d){\n"
" var ps=obj(d.providers)||{},now=n(d.time)||Date.now()/1000,h=\"\",names=Object.keys(ps);\n"
" if(!names.length)h='<tr><td colspan=\"14\" class=\"m\">no provider configured</td></tr>';\n"
" names.forEach(function(name){\n"
"  var p=obj(ps[name])||{},b=obj(p.breaker),bk=obj(p.bucket),q=obj(p.quota),le=obj(p.last_error),lat=obj(p.latency)||{};\n"
"  var st=b&&typeof b.state===\"string\"?b.state:\"unknown\",cls=/^(closed|open|half_open|forced_open|off)$/.test(st)?st:\"unknown\",bl=p.disabled?\"disabled\":st.replace(\"_\",\" \");\n"
"  if(p.disabled)cls=\"off\";\n"
"  var calls=sum(p.calls),gc=function(d){var x=prov(d,name);return x?sum(x.calls):null},ge=function(d){var x=prov(d,name);return x?sum(x.calls,[\"ok\",\"not_found\"]):null};\n"
"  var cs=rates(gc),es=ratios(ge,gc),ec=H.length>1?ge(H[H.length-1].d)-ge(H[H.length-2].d):0,er=last(es)==null?D:pct(last(es),1),p9=p95s(name);\n"
"  if(ec>0)er='<span class=\"bad\">'+er+\"</span>\";\n"
"  var bt=b?esc(b.failures)+\"/\"+esc(b.threshold)+\" failures, opened \"+esc(b.opens)+\" times\":\"\";\n"
"  var cb=ctl&&obj(ctl.providers)&&obj(ctl.providers[name]),cst=cb&&obj(cb.breaker)?cb.breaker.state:\"\";\n"
"  var held=n(p.held_for_ms)>0?' <span class=\"m\">held '+f(p.held_for_ms/1000,1)+\"s</span>\":\"\";\n"
"  h+='<tr data-provider=\"'+esc(name)+'\" data-breaker=\"'+esc(st)+'\" data-disabled=\"'+(p.disabled?1:0)+'\"'+(cb?' data-control-breaker=\"'+esc(cst)+'\"':\"\")+(p.disabled?' class=\"dis\"':\"\")+\">\"\n"
"  +\"<td><b>\"+esc(name)+'</b> <span class=\"m\">'+esc((Array.isArray(p.types)?p.types:[]).join(\" \"))+\"</span></td>\"\n"
"  +'<td class=\"l\"><span class=\"bd '+cls+'\" title=\"'+bt+'\">'+esc(bl)+\"</span>\"+held+\"</td>\"\n"
"  +\"<td>\"+(bk?f(bk.tokens,1)+\" / \"+f(bk.capacity,0):D)+\"</td>\"\n"
"  +'<td title=\"'+esc(calls==null?\"\":calls+\" calls in all, \"+(n(p.retries)||0)+\" retries, skipped: \"+JSON.stringify(obj(p.skipped)||{}).replace(/[{}\"]/g,\"\"))+'\">'+f(last(cs))+\"</td>\"\n"
"  +'<td class=\"s\">'+spark(name+\" calls/s\",[cs],[\"#1f5fbf\"],\"/s\")+\"</td><td>\"+er+'</td><td class=\"s\">'+spark(name+\" error %\",[es.map(function(v){return v==null?null:100*v})],[\"#c62828\"],\"%\")+\"</td>\"\n"
"  +\"<td>\"+(n(lat.count)?f(lat.p50_ms,1):D)+\"</td><td>\"+(n(lat.count)?f(lat.p95_ms,1):D)+'</td><td class=\"s\">'+spark(name+\" p95 ms\",[p9],[\"#6a3fb5\"],\" ms\")+\"</td>\"\n"
"  +'<td class=\"l\">'+(le?'<span class=\"bad\">'+esc(le.kind)+\"</span> \"+ago(now-(n(le.time)||now)):D)+\"</td>\"\n"
"  +\"<td>\"+(q?f(q.remaining,0)+\" / \"+f(q.limit,0)+(q.period?' <span class=\"m\">per '+esc(PER[q.period]||q.period)+\"</span>\":\"\"):D)+\"</td>\"\n"
"  +'<td class=\"l\">'+(q?utc(q.reset)+(n(q.reset)>now?' <span class=\"m\">(in '+ago(q.reset-now).replace(\" ago\",\"\")+\")</span>\":\"\"):D)+\"</td>\"\n"
"  +'<td class=\"r\">'+(p.disabled?'<span class=\"bad\">'+esc(p.disabled_reason||\"disabled\")+\"</span>\":D)+\"</td>\"\n"
"  +(ctl?'<td class=\"l\">'+buttons(name)+\"</td>\":\"\")+\"</tr>\"});\n"
" $(\"rows\").innerHTML=h}\n"
"function limits(d){var z=obj(d.limits)||{},ks=Object.keys(z),h=\"\";\n"
" ks.forEach(function(k){var x=obj(z[k])||{},s=LR.map(function(r){return rates(function(d){var y=obj(obj(d.limits)&&d.limits[k]);return y&&obj(y.requests)?n(y.requests[r]):null})});\n"
"  h+='<tr data-zone=\"'+esc(k)+'\"><td><b>'+esc(k)+'</b></td><td class=\"l\">'+f(x.rate,0)+\" r/\"+esc(x.per)+\", burst \"+f(x.burst,0)+(x.sync?\" (redis)\":\"\")+\"</td><td>\"+f(x.keys,0)+\"</td>\"\n"
"  +s.map(function(v){return\"<td>\"+f(last(v))+\"</td>\"}).join(\"\")+'<td class=\"l\">'+spark(\"zone \"+k+\" passed, delayed, rejected, dry-run /s\",s,RC,\"/s\")+\"</td></tr>\"});\n"
" $(\"lim\").hidden=!ks.length;$(\"zones\").innerHTML=h}\n"
"/* a button: confirm, send, show the answer, refresh */\n"
"function act(b){var q=b.dataset.q,c=b.dataset.c;\n"
" if(q===\"purge\"){var v=$(\"pt\").value.trim();if(!v)return;q=\"target=\"+encodeURIComponent(v);c=\"Purge \"+v+\" from every cache?\"}\n"
" if(!window.confirm(c))return;\n"
" fetch(CTL+\"?\"+q,{method:b.dataset.m,cache:\"no-store\"}).then(function(r){return\"HTTP \"+r.status},function(e){return String(e)}).then(function(s){\n"
"  $(\"said\").textContent=b.dataset.m+\" \"+q+\": \"+s;load()})}\n"
"document.addEventListener(\"click\",function(e){var b=e.target.closest&&e.target.closest(\"button[data-m]\");if(b&&CTL)act(b)});\n"
"/* the control's state; refused (401, 403, 404): not asked again */\n"
"function ctlGet(){return CTL?fetch(CTL,{cache:\"no-store\",headers:{Accept:\"application/json\"}}).then(function(r){\n"
" if(/^40[134]$/.test(r.status))CTL=\"\";return r.status===200?r.json():null}).catch(function(){return null}):Promise.resolve(null)}\n"
"function load(){\n"
" clearTimeout(timer);\n"
" var ac=new AbortController(),to=setTimeout(function(){ac.abort()},5000),t0=performance.now();\n"
" Promise.all([fetch(URL_,{cache:\"no-store\",signal:ac.signal,headers:{Accept:\"application/json\"}}).then(function(r){\n"
"  if(!r.ok)throw new Error(\"HTTP \"+r.status);return r.json()}),ctlGet()]).then(function(v){var d=v[0];\n"
"  if(!obj(d))throw new Error(\"not a JSON object\");\n"
"  ctl=obj(v[1])&&obj(v[1].providers)?v[1]:null;\n"
"  H.push({t:t0/1000,d:d});if(H.length>RING)H.shift();\n"
"  summary(d);rows(d);limits(d);okAt=t0;$(\"ctl\").hidden=$(\"acts\").hidden=!ctl;\n"
"  $(\"meta\").innerHTML=\"v\"+esc(d.version)+\" &middot; server time \"+utc(d.time,1)+\" &middot; updated \"+esc(new Date().toLocaleTimeString())+\" &middot; every 2 s\";\n"
"  $(\"err\").style.display=\"none\"}).catch(function(e){\n"
"  var E=$(\"err\");E.style.display=\"block\";\n"
"  E.innerHTML=\"Refresh failed: \"+esc(e&&e.name===\"AbortError\"?\"timeout\":e&&e.message||e)+(okAt==null?\"\":\" &mdash; showing data from \"+esc(new Date(performance.timeOrigin+okAt).toLocaleTimeString()))}).finally(function(){\n"
"  clearTimeout(to);clearTimeout(timer);timer=setTimeout(load,2000)})}\n"
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
    "script-src 'sha256-7BbqJinGdH6V7mivU+ceARnCfubXdMQRyB26/MIBwsA='; "
    "style-src 'sha256-2Wf1Z9w+pGYa45Xzyl8TekDSB7TZJwsgMwwTOm38Kgo='; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";
