#!/bin/sh
# The Debian packages that hold the libraries a module links, one a line:
# ldd on the .so, each resolved library to its package by dpkg -S (trying
# the path, its real path and the /usr-merged twin).  Run in the Dockerfile's
# build stage, whose apt-get install in the final stage takes the list; run
# by t/41-docker-conf.t on the module built here.
#
#   docker/runtime-deps.sh objs/ngx_http_osint_module.so

set -eu

so=${1:?usage: $0 module.so}

ldd "$so" > /dev/null

if ldd "$so" | grep -q 'not found'; then
    ldd "$so" | grep 'not found' >&2
    exit 1
fi

libs=$(ldd "$so" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')

for lib in $libs; do
    real=$(readlink -f "$lib")
    pkg=
    for p in "$lib" "$real" "/usr$lib" "${lib#/usr}" "/usr$real" "${real#/usr}"; do
        pkg=$(dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$pkg" ] \
            && break
    done
    [ -n "$pkg" ] || { echo "no package holds $lib" >&2; exit 1; }
    pkgs="${pkgs:-} $pkg"
done

printf '%s\n' ${pkgs:-} | sort -u
