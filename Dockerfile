# ngx_http_osint_module on the official nginx image.
#
# Stage 1 builds the module the standard way, against the exact nginx
# version of the image (the official image exports it as NGINX_VERSION):
#   ./configure --with-compat --add-dynamic-module=... && make modules
# Stage 2 copies the .so into the same image, with conf.example as config.
#
#   docker build -t nginx-osint .
#   docker run --rm -p 8080:8080 -e VT_API_KEY=... nginx-osint

ARG NGINX_IMAGE=nginx:1.27-bookworm

FROM ${NGINX_IMAGE} AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates curl gcc make libc6-dev \
        libpcre2-dev zlib1g-dev libssl-dev \
        libcurl4-openssl-dev libhiredis-dev libcjson-dev \
    && rm -rf /var/lib/apt/lists/*

RUN curl -fsSL "https://nginx.org/download/nginx-${NGINX_VERSION}.tar.gz" \
        | tar -xz -C /usr/src

COPY config ngx_http_osint_module.c /usr/src/ngx_http_osint_module/
COPY src /usr/src/ngx_http_osint_module/src

RUN cd "/usr/src/nginx-${NGINX_VERSION}" \
    && ./configure --with-compat \
        --add-dynamic-module=/usr/src/ngx_http_osint_module \
    && make modules \
    && cp objs/ngx_http_osint_module.so /usr/src/


FROM ${NGINX_IMAGE}

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates libcurl4 libhiredis0.14 libcjson1 \
    && rm -rf /var/lib/apt/lists/*

COPY --from=build /usr/src/ngx_http_osint_module.so /usr/lib/nginx/modules/
COPY conf.example /etc/nginx/nginx.conf

# inside a container the example listens on all addresses, logs to stderr
RUN sed -i -e 's/listen 127.0.0.1:8080;/listen 8080;/' \
           -e 's|^pid logs/nginx.pid;|pid /var/run/nginx.pid;|' \
           /etc/nginx/nginx.conf \
    && nginx -t

EXPOSE 8080

CMD ["nginx", "-g", "daemon off;"]
