#!/bin/bash
# Runs prove with nginx loading the ASan+UBSan build of the module.
#
#   fuzz/test-asan.sh MODULE PROVE_ARGS...
#
# Debian's nginx is not instrumented; gcc's AddressSanitizer runtime (the
# one the module was built with) is preloaded into nginx only, through the
# harness's OSINT_NGINX_WRAPPER, so prove, the fixtures and redis-server
# run as usual.  Workers are forked from the master and keep the runtime.
#
# Every report goes to a file under a temporary directory (log_path); the
# run fails when prove fails or when any report file appears.
#   ASAN_OPTIONS  halt_on_error=1: the first error ends the process;
#                 detect_leaks=0: nginx frees neither its cycle nor most
#                 pools at exit (the memory goes with the process), so
#                 LeakSanitizer would report nginx's own allocations at
#                 every exit.  Leaks of ours are the fuzzers' (libFuzzer's
#                 leak check) and valgrind's (make test-valgrind) concern.
#   UBSAN_OPTIONS halt_on_error=1, print_stacktrace=1.

set -u

module=$(realpath "$1")
shift

top=$(cd "$(dirname "$0")/.." && pwd)
runtime=$(gcc -print-file-name=libasan.so)

if [ ! -f "$runtime" ]; then
    echo "test-asan: gcc's libasan.so not found (Debian: libasan8)" >&2
    exit 1
fi

# reports come from the workers too, which run as "nobody" when root
logs=$(mktemp -d /tmp/osint-asan.XXXXXX)
chmod 1777 "$logs"

asan="halt_on_error=1:detect_leaks=0:log_path=$logs/asan"
asan="$asan:disable_coredump=1:print_summary=1"
ubsan="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"

export OSINT_MODULE=$module
export OSINT_NGINX_WRAPPER="env LD_PRELOAD=$runtime ASAN_OPTIONS=$asan UBSAN_OPTIONS=$ubsan"

echo "test-asan: module $module, runtime $runtime, reports in $logs"

start=$(date +%s)
prove "$@"
rc=$?
took=$(( $(date +%s) - start ))

reports=$(find "$logs" -type f | sort)

if [ -n "$reports" ]; then
    echo
    echo "test-asan: sanitizer reports:"
    for f in $reports; do
        echo "=== $f"
        cat "$f"
    done
    rc=1
fi

echo "test-asan: prove ${took} s, $(echo -n "$reports" | grep -c .) report(s)"

if [ $rc -eq 0 ]; then
    rm -rf "$logs"
fi

exit $rc
