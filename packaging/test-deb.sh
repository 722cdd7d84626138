#!/usr/bin/env bash
# make test-deb: the Debian package, for real, in this machine's nginx.
#
#   packaging/test-deb.sh build/deb/libnginx-mod-http-osint_<v>_<arch>.deb
#
# apt-get installs the .deb; Debian's stock /etc/nginx/nginx.conf is kept
# and only drop-ins are added: the package's examples osint.conf (conf.d/,
# providers pointed at t/lib/fixture.py on 127.0.0.1, the API limit made
# 1r/m burst=2) and osint-locations.conf (snippets/), and a server on a
# free loopback port including them.  Then nginx -t, /usr/sbin/nginx
# started as a daemon with its stock config, a lookup, the status page and
# the limited location are checked; nginx is stopped by the PID in its pid
# file, the drop-ins removed, the package purged and nginx -t run again.
#
# It refuses to run (exit 1, touching nothing) when the package is already
# installed, a drop-in of the same name exists, or /run/nginx.pid names a
# live process: it never stops an nginx it did not start.  When port 80 is
# taken or there is no IPv6, the stock default site (listen 80 and
# [::]:80) could not bind: its sites-enabled link is moved aside meanwhile
# and put back on exit, whatever happens.

set -euo pipefail

DEB=$(realpath "${1:?usage: $0 package.deb}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PKG=libnginx-mod-http-osint
EXAMPLES=/usr/share/doc/$PKG/examples
NGINX=/usr/sbin/nginx
PIDFILE=/run/nginx.pid
CONF_D=/etc/nginx/conf.d/osint.conf
SERVER_D=/etc/nginx/conf.d/osint-test-server.conf
SNIPPET=/etc/nginx/snippets/osint-locations.conf
SITE=/etc/nginx/sites-enabled/default

TMP=$(mktemp -d /tmp/osint-test-deb.XXXXXX)
FX_PID= NGINX_PID= SITE_MOVED= INSTALLED= FAILS=0
# nginx -t writes an empty pid file: remove it at the end if it was not there
PIDFILE_WAS=$([ -e "$PIDFILE" ] && echo 1 || true)

pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

stop_pid() {                        # $1 pid: TERM/QUIT, wait <= 10 s, KILL
    local pid=$1 sig=$2 i
    kill -"$sig" "$pid" 2>/dev/null || return 0
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    set +e
    [ -n "$NGINX_PID" ] && stop_pid "$NGINX_PID" QUIT
    rm -f "$CONF_D" "$SERVER_D" "$SNIPPET"
    [ -n "$SITE_MOVED" ] && mv "$TMP/default.link" "$SITE"
    [ -n "$INSTALLED" ] && DEBIAN_FRONTEND=noninteractive \
        apt-get purge -y -qq "$PKG" >/dev/null
    [ -n "$FX_PID" ] && stop_pid "$FX_PID" TERM
    [ -z "$PIDFILE_WAS" ] && [ ! -s "$PIDFILE" ] && rm -f "$PIDFILE"
    rm -rf "$TMP"
}
trap cleanup EXIT

# refuse rather than disturb what is there
[ "$(id -u)" = 0 ] || { echo "test-deb: needs root (apt-get)"; exit 1; }
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q installed; then
    echo "test-deb: $PKG is installed already: not touching it"; exit 1
fi
for f in "$CONF_D" "$SERVER_D" "$SNIPPET"; do
    [ ! -e "$f" ] || { echo "test-deb: $f exists: not touching it"; exit 1; }
done
if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "test-deb: an nginx runs with $PIDFILE: not touching it"; exit 1
fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# the fixture providers
coproc FX { exec python3 -u "$ROOT/t/lib/fixture.py" --port 0 2>"$TMP/fx.err"; }
FX_PID=$FX_PID
read -r -t 10 ready port <&"${FX[0]}" || true
[ "${ready:-}" = READY ] || { echo "fixture did not start"; exit 1; }
FX_PORT=$port
PORT=$(free_port)

# 1. install
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$DEB" >"$TMP/apt.log" 2>&1 \
    || { cat "$TMP/apt.log"; exit 1; }
INSTALLED=1
pass "apt-get install $DEB"
check "load snippet enabled" test "$(readlink /etc/nginx/modules-enabled/50-mod-http-osint.conf)" \
    = /usr/share/nginx/modules-available/mod-http-osint.conf
check "load snippet loads the module" grep -qx \
    'load_module modules/ngx_http_osint_module.so;' \
    /usr/share/nginx/modules-available/mod-http-osint.conf
check "module installed" test -f /usr/lib/nginx/modules/ngx_http_osint_module.so

# 2. the drop-ins, from the package's examples
FX="http://127.0.0.1:$FX_PORT"
sed -e "s|https://internetdb.shodan.io/\\\$osint_target|$FX/internetdb/\$osint_target?body=internetdb|" \
    -e "s|https://rdap.org/domain/\\\$osint_target|$FX/rdap/\$osint_target?body=rdap_domain|" \
    -e "s|https://dns.google/resolve?name=\\\$osint_target&type=A|$FX/dns?name=\$osint_target\\&body=dns_a|" \
    -e 's|rate=10r/s burst=20|rate=1r/m burst=2|' \
    "$EXAMPLES/osint.conf" > "$CONF_D"
check "providers pointed at the fixture" test "$(grep -c "$FX/" "$CONF_D")" = 3
cp "$EXAMPLES/osint-locations.conf" "$SNIPPET"
cat > "$SERVER_D" <<EOT
server {
    listen 127.0.0.1:$PORT;
    include $SNIPPET;
}
EOT

if [ -n "$(ss -Hnlt 'sport = :80')" ] || [ ! -e /proc/net/if_inet6 ]; then
    if [ -L "$SITE" ]; then
        mv "$SITE" "$TMP/default.link"; SITE_MOVED=1
        echo "# port 80 taken or no IPv6: default site moved aside meanwhile"
    fi
fi

check "nginx -t with the stock nginx.conf and the drop-ins" \
    "$NGINX" -t -q

# 3. run it: the stock config, as a daemon
"$NGINX"
for i in $(seq 100); do [ -s "$PIDFILE" ] && break; sleep 0.1; done
NGINX_PID=$(cat "$PIDFILE")
check "nginx master running ($NGINX_PID)" \
    grep -q 'nginx: master process' "/proc/$NGINX_PID/cmdline"
for i in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/osint/healthz" && break
    sleep 0.1
done

URL="http://127.0.0.1:$PORT"
body=$(curl -s -w '\n%{http_code}' "$URL/osint/lookup?target=8.8.8.8")
check "lookup: 200" test "$(tail -1 <<<"$body")" = 200
check "lookup: internetdb ok from the fixture" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
p = d["providers"]
assert d["target"] == "8.8.8.8" and d["type"] == "ipv4", d
assert list(p) == ["internetdb"], p
assert p["internetdb"]["status"] == "ok", p
' "$(head -n -1 <<<"$body")"

body=$(curl -s -w '\n%{http_code}' "$URL/osint/lookup?target=example.com")
check "domain lookup: rdap and dns ok" python3 -c '
import json, sys
p = json.loads(sys.argv[1])["providers"]
assert sorted(p) == ["dns", "rdap"], p
assert all(v["status"] == "ok" for v in p.values()), p
' "$(head -n -1 <<<"$body")"

status=$(curl -s "$URL/osint/status")
check "status: build info" grep -qE \
    '^osint_build_info\{version="[0-9.]+",nginx="[0-9.]+"\} 1$' <<<"$status"
check "status: the internetdb call counted" grep -qE \
    '^osint_provider_calls_total\{provider="internetdb",outcome="ok"\} 1$' \
    <<<"$status"
check "status: ops page" test "$(curl -s -o /dev/null -w '%{http_code}' \
    "$URL/osint/status?format=html")" = 200

codes=
for i in 1 2 3; do
    codes="$codes $(curl -s -o /dev/null -w '%{http_code}' \
        "$URL/osint/api/lookup?target=192.0.2.$i")"
done
check "limited location: 200 200 429 (burst 2)" test "$codes" = " 200 200 429"
hdr=$(curl -s -D - -o /dev/null "$URL/osint/api/lookup?target=192.0.2.9")
check "limited location: Retry-After" grep -qi '^retry-after: [0-9]' <<<"$hdr"

# 4. stop it, take the drop-ins away, purge
stop_pid "$NGINX_PID" QUIT
check "nginx stopped" sh -c "! kill -0 $NGINX_PID 2>/dev/null"
NGINX_PID=
rm -f "$CONF_D" "$SERVER_D" "$SNIPPET"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$PKG" >"$TMP/apt.log" 2>&1 \
    || cat "$TMP/apt.log"
INSTALLED=
check "purged" sh -c "! dpkg-query -W -f='\${Status}' $PKG 2>/dev/null | grep -q installed"
check "load snippet link gone" test ! -e /etc/nginx/modules-enabled/50-mod-http-osint.conf
check "module gone" test ! -e /usr/lib/nginx/modules/ngx_http_osint_module.so
if [ -n "$SITE_MOVED" ]; then mv "$TMP/default.link" "$SITE"; SITE_MOVED=; fi
check "nginx -t after purge" "$NGINX" -t -q

echo "test-deb: $FAILS failed"
[ "$FAILS" = 0 ]
