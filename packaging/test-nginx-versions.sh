#!/usr/bin/env bash
# make test-nginx-versions: the module built against other nginx releases,
# each with its own nginx binary (a module loads only in the version it was
# built for), and a smoke subset of t/ run on each.
#
#   packaging/test-nginx-versions.sh GIT_DIR "release-1.24.0 ..." "t/00-harness.t ..."
#
# GIT_DIR: a clone of github.com/nginx/nginx (configure at auto/configure).
# Each tag is exported to a temporary directory (removed afterwards),
# configured with --with-compat --add-dynamic-module=<this repo>, built
# (nginx and the module), and the tests run with OSINT_NGINX and
# OSINT_MODULE pointing at that build.  Prints one line per version.

set -uo pipefail

GIT_DIR=${1:?usage: $0 nginx-git-dir tags tests}
TAGS=${2:?}
TESTS=${3:?}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-2}
status=0
summary=

for tag in $TAGS; do
    tmp=$(mktemp -d "/tmp/osint-nginx-${tag}.XXXXXX")
    log=$tmp.log
    result=
    if ! git --git-dir="$GIT_DIR" archive "$tag" | tar -x -C "$tmp"; then
        result="no such tag"
    elif ! (cd "$tmp" && ./auto/configure --with-compat \
                --add-dynamic-module="$ROOT" >"$log" 2>&1 \
            && make -j"$JOBS" >>"$log" 2>&1); then
        result="build failed (tail of $log):"
        tail -15 "$log"
    elif ! OSINT_NGINX="$tmp/objs/nginx" \
           OSINT_MODULE="$tmp/objs/ngx_http_osint_module.so" \
           prove $TESTS 2>&1 | tee -a "$log" | tail -3 | grep -q '^Result: PASS'; then
        result="tests failed ($log)"
    else
        result="built, $(echo $TESTS | wc -w) test files passed"
        rm -f "$log"
    fi
    echo "$tag: $result"
    summary="$summary$tag: $result"$'\n'
    case $result in built,*) ;; *) status=1 ;; esac
    rm -rf "$tmp"
done

printf '\n%s' "$summary"
exit $status
