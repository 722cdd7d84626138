#!/bin/bash
# Runs test files with nginx (master and workers) under valgrind memcheck.
#
#   fuzz/test-valgrind.sh TEST_FILE...
#
# The harness puts valgrind before nginx (OSINT_NGINX_WRAPPER); every
# process writes its own log (vg.PID.log) into a temporary directory.
# The run fails when prove fails, or when any log reports an error:
# an invalid read or write, a use of uninitialised memory, a bad free,
# or a definite leak (--errors-for-leak-kinds=definite).  One-time
# allocations of nginx, libcurl, OpenSSL and glibc that are never freed
# by design are in fuzz/valgrind.supp (see there).

set -u

top=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v valgrind > /dev/null; then
    echo "test-valgrind: valgrind not installed" >&2
    exit 1
fi

# workers run as "nobody" when the tests run as root: they write there too
logs=$(mktemp -d /tmp/osint-valgrind.XXXXXX)
chmod 1777 "$logs"

vg="valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite"
vg="$vg --errors-for-leak-kinds=definite --error-exitcode=99"
vg="$vg --trace-children=yes --vgdb=no --num-callers=40"
vg="$vg --suppressions=$top/fuzz/valgrind.supp --gen-suppressions=all"
vg="$vg --log-file=$logs/vg.%p.log"

export OSINT_NGINX_WRAPPER=$vg

echo "test-valgrind: logs in $logs"

start=$(date +%s)
prove "$@"
rc=$?
took=$(( $(date +%s) - start ))

# "ERROR SUMMARY: N errors from M contexts": every process must say 0
bad=()
nlogs=0

for f in "$logs"/vg.*.log; do
    [ -f "$f" ] || continue
    nlogs=$((nlogs + 1))

    if ! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
        bad+=("$f")
    fi
done

if [ $nlogs -eq 0 ]; then
    echo "test-valgrind: no valgrind log: did nginx run under valgrind?"
    rc=1
fi

for f in "${bad[@]}"; do
    echo
    echo "=== $f"
    cat "$f"
    rc=1
done

echo "test-valgrind: prove ${took} s, $nlogs processes, ${#bad[@]} with errors"

if [ $rc -eq 0 ]; then
    rm -rf "$logs"
fi

exit $rc
