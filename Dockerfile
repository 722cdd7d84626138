# ngx_http_osint_module on the official nginx image.
#
# Stage 1 builds the module the standard way, against the exact nginx
# version of the image, with Debian's hardening flags (dpkg-buildflags):
#   ./configure --with-compat --add-dynamic-module=... && make modules
# and lists the Debian packages of the libraries the .so links
# (docker/runtime-deps.sh: ldd, dpkg -S).  Stage 2 is the same image with
# the .so, those packages, and the module's configuration added next to the
# image's own (docker/configure.sh): load_module prepended to nginx.conf,
# conf.d/osint.conf (http level), conf.d/osint-server.conf (port 8080),
# snippets/osint-locations.conf.  Files you mount into /etc/nginx/conf.d/
# are still included.  Logs go to the container's stdout and stderr (the
# image links /var/log/nginx/access.log and error.log to them).
#
#   docker build -t nginx-osint .
#   docker build --build-arg NGINX_VERSION=1.26.3 -t nginx-osint .
#   docker run --rm -p 8080:8080 nginx-osint
#   curl 'http://127.0.0.1:8080/osint/lookup?target=8.8.8.8'
#
# Unprivileged: NGINX_IMAGE=nginxinc/nginx-unprivileged (it runs as uid 101,
# writes its pid to /tmp and cannot bind below 1024; port 8080 is fine).
# The apt-get and configure steps below need root: that image switches back
# with "USER 101" at the end of this file, which then must be added.
#
# Not built here (no Docker engine where it was written):
# t/41-docker-conf.t checks docker/configure.sh on a copy of the image's
# nginx.conf layout with nginx -t and a lookup, and docker/runtime-deps.sh
# on the module built on Debian bookworm.

ARG NGINX_VERSION=1.30.4
ARG NGINX_IMAGE=nginx

FROM ${NGINX_IMAGE}:${NGINX_VERSION} AS build

ARG NGINX_VERSION

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates curl gcc make libc6-dev dpkg-dev \
        libpcre2-dev zlib1g-dev libssl-dev \
        libcurl4-openssl-dev libhiredis-dev libcjson-dev \
    && rm -rf /var/lib/apt/lists/*

RUN curl -fsSL "https://nginx.org/download/nginx-${NGINX_VERSION}.tar.gz" \
        | tar -xz -C /usr/src

COPY config ngx_http_osint_module.c /usr/src/ngx_http_osint_module/
COPY src /usr/src/ngx_http_osint_module/src
COPY docker/runtime-deps.sh /usr/src/

RUN cd "/usr/src/nginx-${NGINX_VERSION}" \
    && export DEB_BUILD_MAINT_OPTIONS=hardening=+all \
    && ./configure --with-compat \
        --with-cc-opt="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS) -fPIC" \
        --with-ld-opt="$(dpkg-buildflags --get LDFLAGS) -fPIC" \
        --add-dynamic-module=/usr/src/ngx_http_osint_module \
    && make modules \
    && cp objs/ngx_http_osint_module.so /usr/src/ \
    && /usr/src/runtime-deps.sh /usr/src/ngx_http_osint_module.so \
        > /usr/src/runtime-packages


FROM ${NGINX_IMAGE}:${NGINX_VERSION}

COPY --from=build /usr/src/runtime-packages /usr/src/ngx_http_osint_module.so \
    /tmp/osint/
COPY packaging/conf /tmp/osint/conf
COPY docker /tmp/osint/docker

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
        $(cat /tmp/osint/runtime-packages) \
    && rm -rf /var/lib/apt/lists/* \
    && install -m 0644 /tmp/osint/ngx_http_osint_module.so \
        /usr/lib/nginx/modules/ngx_http_osint_module.so \
    && /tmp/osint/docker/configure.sh /etc/nginx /tmp/osint/conf \
        /tmp/osint/docker \
    && rm -rf /tmp/osint \
    && nginx -t

EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/osint/healthz || exit 1

CMD ["nginx", "-g", "daemon off;"]
