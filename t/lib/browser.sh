#!/bin/bash
#
# Headless Chromium (Debian's `chromium` package), bounded in time and
# leaving nothing behind: for the tests of the ops page, and by hand.
#
#   t/lib/browser.sh [-t SECONDS] [-l LOGFILE] CHROMIUM-ARGS... URL
#
#   t/lib/browser.sh -t 60 --virtual-time-budget=5000 --dump-dom \
#       'http://127.0.0.1:8080/status?format=html' > dom.html
#   t/lib/browser.sh -t 60 --virtual-time-budget=5000 \
#       --screenshot=/tmp/status.png --window-size=1200,800 \
#       'http://127.0.0.1:8080/status?format=html'
#
# Adds the flags this machine needs (headless, no sandbox as root, no GPU,
# no QUIC, no background network traffic to Google's hosts) and a fresh
# --user-data-dir, removed afterwards.  stdout is Chromium's (--dump-dom
# writes the DOM there); Chromium's own chatter goes to LOGFILE (default
# stderr).  Chromium and everything it spawned run in their own process
# group; on timeout (default 60 s) the group gets SIGTERM, then SIGKILL
# after 5 s, and after any exit whatever is left of that group is killed.
#
# Exit status: Chromium's; 124 on timeout; 127 when Chromium is missing.
#
# Environment: OSINT_CHROMIUM (default /usr/bin/chromium).

set -u

limit=60
log=
while [ $# -gt 0 ]; do
    case "$1" in
        -t) limit=$2; shift 2 ;;
        -l) log=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done

chromium=${OSINT_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    echo "browser.sh: $chromium not found (Debian package chromium)" >&2
    exit 127
fi

profile=$(mktemp -d "${TMPDIR:-/tmp}/osint-chromium-XXXXXXXX") || exit 1

if [ -n "$log" ]; then
    exec 2>>"$log"
fi

# timeout(1) puts itself and Chromium in a new process group, whose id is
# its PID; on expiry it signals the whole group.
timeout -k 5 "$limit" "$chromium" \
    --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update \
    --disable-sync --disable-extensions --disable-breakpad \
    --no-default-browser-check --mute-audio --hide-scrollbars \
    --disable-dev-shm-usage --user-data-dir="$profile" \
    "$@" &
pid=$!

# killed ourselves (e.g. by a test's own deadline): take the group along
trap 'kill -TERM -- "-$pid" 2>/dev/null; sleep 1;
      kill -KILL -- "-$pid" 2>/dev/null; rm -rf "$profile"; exit 143' \
    TERM INT HUP

wait "$pid"
rc=$?

# stragglers of that group (renderers, zygotes) and the profile
kill -KILL -- "-$pid" 2>/dev/null
rm -rf "$profile"

exit "$rc"
