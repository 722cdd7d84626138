# ngx_http_osint_module: build against Debian's nginx, run, test.
#
#   make run    build and start nginx in the foreground with conf.example
#   make test   build and run the prove suite in t/
#
# The module is built the way nginx builds dynamic modules: nginx's
# configure with Debian's own flags (nginx-dev's conf_flags), then
# "make modules", in build/ (never in /usr/share).

SHELL      := /bin/bash
NGINX_SRC  ?= /usr/share/nginx/src
BUILD      := $(CURDIR)/build
MODULE     := $(BUILD)/ngx_http_osint_module.so
SOURCES    := config ngx_http_osint_module.c $(wildcard src/*.c src/*.h)

# Debian packages: to build, and to run the tests
DEPS       := nginx nginx-dev libcurl4-openssl-dev libhiredis-dev \
              libcjson-dev redis-server pkg-config gcc make \
              libpcre2-dev libssl-dev zlib1g-dev
TEST_DEPS  := perl python3 openssl wrk procps prometheus chromium

.PHONY: all deps test-deps build run test bench clean

all: build

deps:
	@missing=$$(for p in $(DEPS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing: $$missing"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

test-deps: deps
	@missing=$$(for p in $(TEST_DEPS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing: $$missing"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps $(MODULE)

$(BUILD)/nginx/objs/Makefile: config
	rm -rf $(BUILD)/nginx
	mkdir -p $(BUILD)
	cp -a $(NGINX_SRC) $(BUILD)/nginx
	cd $(BUILD)/nginx && source ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --add-dynamic-module=$(CURDIR) > $(BUILD)/configure.log \
	    || { tail -20 $(BUILD)/configure.log; exit 1; }

$(MODULE): $(BUILD)/nginx/objs/Makefile $(SOURCES)
	$(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules
	# a new file, renamed over the old: a running nginx that reloads never
	# maps a half-written module
	cp $(BUILD)/nginx/objs/ngx_http_osint_module.so $(MODULE).tmp
	mv -f $(MODULE).tmp $(MODULE)

run: build
	mkdir -p $(BUILD)/run/modules $(BUILD)/run/logs
	ln -sf $(MODULE) $(BUILD)/run/modules/ngx_http_osint_module.so
	cp conf.example $(BUILD)/run/nginx.conf
	nginx -p $(BUILD)/run/ -c $(BUILD)/run/nginx.conf \
	    -e $(BUILD)/run/logs/error.log -g 'daemon off;'

test: test-deps build
	prove -r t/

bench: test-deps build
	bench/run

clean:
	rm -rf $(BUILD)
