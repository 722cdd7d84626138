#!/bin/sh
# The module's configuration put into an nginx configuration directory laid
# out as the official image's /etc/nginx: load_module prepended to its
# nginx.conf (which includes conf.d/*.conf inside http {}, so the users'
# own conf.d/ files still count), the http-level part as conf.d/osint.conf,
# a server on 8080 as conf.d/osint-server.conf and its locations as
# snippets/osint-locations.conf.  Run by the Dockerfile on /etc/nginx and
# by t/41-docker-conf.t on a copy.
#
#   docker/configure.sh /etc/nginx packaging/conf docker

set -eu

etc=${1:?usage: $0 etc-dir conf-dir docker-dir}
conf=${2:?}
docker=${3:?}

grep -q '^load_module modules/ngx_http_osint_module.so;' "$etc/nginx.conf" \
    || sed -i '1i load_module modules/ngx_http_osint_module.so;' "$etc/nginx.conf"

mkdir -p "$etc/conf.d" "$etc/snippets"
cp "$conf/osint.conf" "$etc/conf.d/osint.conf"
cp "$conf/osint-locations.conf" "$etc/snippets/osint-locations.conf"
cp "$docker/osint-server.conf" "$etc/conf.d/osint-server.conf"
