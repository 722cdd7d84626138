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
SOURCES    := config ngx_http_osint_module.c $(wildcard src/*.c src/*.h \
              src/core/*.c src/core/*.h src/formats/*.c src/formats/*.h \
              src/limit/*.c src/limit/*.h)

# Debian packages: to build, and to run the tests
DEPS       := nginx nginx-dev libcurl4-openssl-dev libhiredis-dev \
              libcjson-dev redis-server pkg-config gcc make \
              libpcre2-dev libssl-dev zlib1g-dev
TEST_DEPS  := perl python3 openssl wrk procps prometheus chromium gdb \
              redis-sentinel

.PHONY: all deps test-deps build run test bench bench-summary clean

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

# the summary merge of two 100 000-member answers, timed (bench/summary.c)
bench-summary: $(BUILD)/nginx/objs/Makefile
	cc -O2 -g -Wall -Wno-unused-parameter $(FUZZ_NGX_INCS) -Isrc \
	    -Isrc/core -Isrc/formats -Ifuzz -o $(BUILD)/bench_summary \
	    bench/summary.c \
	    $(PURE_SRCS) fuzz/ngx_stubs.c $(FUZZ_LIBS)
	$(BUILD)/bench_summary

clean:
	rm -rf $(BUILD)


# Hardening: libFuzzer targets over the pure code, the t/ suite against an
# ASan+UBSan build of the module, a subset under valgrind (fuzz/README.md).
#
#   make fuzz            each fuzz target for FUZZ_SECONDS (300) seconds
#   make fuzz-ci         each for FUZZ_CI_SECONDS (30): fails on any crash,
#                        leak, UBSan report, slow or huge unit
#   make test-asan       prove -r t/ with the module built with
#                        -fsanitize=address,undefined (build/asan/)
#   make test-valgrind   a subset of t/ with nginx under valgrind memcheck

HARDEN_DEPS     := clang libclang-rt-14-dev valgrind

FUZZ_SECONDS    ?= 300
FUZZ_CI_SECONDS ?= 30
FUZZ_BUILD      := $(BUILD)/fuzz
FUZZ_TARGETS    := target template field summary cache_decode formats private \
                   resilience batch_body args conf_args answer json
FUZZ_BINS       := $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS))

FUZZ_NGX_INCS   := $(addprefix -I$(BUILD)/nginx/,src/core src/event \
                     src/event/modules src/os/unix objs src/http \
                     src/http/modules src/http/v2)
FUZZ_SAN        := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS     := -g -O1 -fno-omit-frame-pointer -Wall \
                   -Wno-unused-parameter $(FUZZ_NGX_INCS) -Isrc \
                   -Isrc/core -Isrc/formats -Ifuzz
FUZZ_LIBS       := -lcjson -lcurl -lm

FUZZ_HEADERS    := fuzz/fuzz.h $(wildcard src/*.h src/core/*.h \
                   src/formats/*.h)
FORMATS_SRCS    := $(wildcard src/formats/*.c)
# every target links the whole pure code: src/core/ and src/formats/,
# compiled once, with the fuzzer's coverage
PURE_SRCS       := $(wildcard src/core/*.c) $(FORMATS_SRCS)
PURE_OBJS       := $(patsubst src/%.c,$(FUZZ_BUILD)/pure/%.o,$(PURE_SRCS))

.PHONY: harden-deps fuzz-build fuzz fuzz-ci test-asan test-valgrind

harden-deps:
	@missing=$$(for p in $(HARDEN_DEPS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing: $$missing"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# the stand-ins for nginx core are built without coverage: only our code
# and the targets' checks count
$(FUZZ_BUILD)/stubs/%.o: fuzz/%.c $(FUZZ_HEADERS) \
                         $(BUILD)/nginx/objs/Makefile
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(FUZZ_SAN) -c $< -o $@

$(FUZZ_BUILD)/pure/%.o: src/%.c $(FUZZ_HEADERS) $(BUILD)/nginx/objs/Makefile
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

.SECONDARY: $(FUZZ_BUILD)/stubs/ngx_stubs.o $(PURE_OBJS)

define FUZZ_RULE
$(FUZZ_BUILD)/fuzz_$(1): fuzz/fuzz_$(1).c $(PURE_OBJS) \
        $(FUZZ_BUILD)/stubs/ngx_stubs.o $(FUZZ_HEADERS) \
        $(BUILD)/nginx/objs/Makefile
	@mkdir -p $$(dir $$@)
	clang $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ \
	    fuzz/fuzz_$(1).c $(PURE_OBJS) \
	    $(FUZZ_BUILD)/stubs/ngx_stubs.o $(FUZZ_LIBS)
endef

$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULE,$(t))))

# the member names and values the normalisers look for, from their sources
$(FUZZ_BUILD)/dict/formats.dict: $(FORMATS_SRCS)
	@mkdir -p $(dir $@)
	{ echo '# made from the string literals of $(FORMATS_SRCS)'; \
	  echo '"\x1e"'; \
	  grep -ohE '"[A-Za-z0-9_ :./-]{2,40}"' $(FORMATS_SRCS) | sort -u; \
	} > $@

fuzz-build: deps harden-deps $(FUZZ_BINS) $(FUZZ_BUILD)/dict/formats.dict

fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BUILD) $(FUZZ_TARGETS)

fuzz-ci: fuzz-build
	fuzz/run.sh $(FUZZ_CI_SECONDS) $(FUZZ_BUILD) $(FUZZ_TARGETS)

# The module with AddressSanitizer and UBSan, built as nginx builds it (gcc,
# Debian's flags) in a configure tree of its own; Debian's nginx runs it with
# gcc's libasan preloaded (fuzz/test-asan.sh).
ASAN_BUILD      := $(BUILD)/asan
ASAN_MODULE     := $(ASAN_BUILD)/ngx_http_osint_module.so
ASAN_CC_OPT     := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
ASAN_LD_OPT     := -fsanitize=address,undefined
ASAN_SOURCES    := $(SOURCES) $(wildcard src/formats/*.c src/formats/*.h)

$(ASAN_BUILD)/nginx/objs/Makefile: config
	rm -rf $(ASAN_BUILD)/nginx
	mkdir -p $(ASAN_BUILD)
	cp -a $(NGINX_SRC) $(ASAN_BUILD)/nginx
	cd $(ASAN_BUILD)/nginx && source ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt='$(ASAN_CC_OPT)' --with-ld-opt='$(ASAN_LD_OPT)' \
	        --add-dynamic-module=$(CURDIR) > $(ASAN_BUILD)/configure.log \
	    || { tail -20 $(ASAN_BUILD)/configure.log; exit 1; }

$(ASAN_MODULE): $(ASAN_BUILD)/nginx/objs/Makefile $(ASAN_SOURCES)
	$(MAKE) -C $(ASAN_BUILD)/nginx -f objs/Makefile modules
	cp $(ASAN_BUILD)/nginx/objs/ngx_http_osint_module.so $(ASAN_MODULE).tmp
	mv -f $(ASAN_MODULE).tmp $(ASAN_MODULE)

test-asan: test-deps harden-deps build $(ASAN_MODULE)
	fuzz/test-asan.sh $(ASAN_MODULE) -r t/

# A subset of t/ with nginx (master and workers) under valgrind memcheck:
# the files whose assertions hold at valgrind's speed (fuzz/README.md says
# which are left out and why).
VALGRIND_TESTS  ?= t/01-config.t t/02-input.t t/04-lifecycle.t t/05-tls.t \
                   t/06-resilience.t t/08-status.t t/14-formats.t \
                   t/15-providers.t t/20-hostile.t

test-valgrind: test-deps harden-deps build
	fuzz/test-valgrind.sh $(VALGRIND_TESTS)


# Packaging (README "Install").
#
#   make deb        the Debian package libnginx-mod-http-osint from debian/
#                   (dpkg-buildpackage, dh-sequence-nginx), in build/deb/
#   make test-deb   build it, install it into this machine's nginx, run it
#                   with Debian's stock nginx.conf and the drop-ins, purge
#                   it (packaging/test-deb.sh; root, needs nginx not running)
#   make install    the .so into $(DESTDIR)<nginx -V's --modules-path>

PKG_DEPS        := dpkg-dev debhelper fakeroot
DEB_BUILD       := $(BUILD)/deb
DEB_VERSION     := $(shell dpkg-parsechangelog -l debian/changelog \
                     -S Version 2>/dev/null)
DEB_FILE        := $(DEB_BUILD)/libnginx-mod-http-osint_$(DEB_VERSION)_$(shell \
                     dpkg --print-architecture).deb
NGX_MODULES_DIR ?= $(shell nginx -V 2>&1 | tr ' ' '\n' \
                     | sed -n 's/^--modules-path=//p')
INSTALL_DIR     := $(DESTDIR)$(or $(NGX_MODULES_DIR),/usr/lib/nginx/modules)

.PHONY: pkg-deps deb test-deb install

# the packages of $(1) not installed yet, installed with apt-get
define apt_ensure
@missing=$$(for p in $(1); do \
    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
        | grep -q 'ok installed' || echo $$p; done); \
if [ -n "$$missing" ]; then \
    apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
fi
endef

pkg-deps: deps
	$(call apt_ensure,$(PKG_DEPS))

# in a copy of the tree: dpkg-buildpackage writes its results next to the
# source directory, which must be build/deb, not the checkout's parent
deb: pkg-deps
	rm -rf $(DEB_BUILD)
	mkdir -p $(DEB_BUILD)/src
	tar -c --exclude=./build --exclude=./.git --exclude='./obj-*' . \
	    | tar -x -C $(DEB_BUILD)/src
	cd $(DEB_BUILD)/src && dpkg-buildpackage -us -uc -b
	@ls -l $(DEB_FILE)

test-deb: deb test-deps
	packaging/test-deb.sh $(DEB_FILE)

install: build
	install -d $(INSTALL_DIR)
	install -m 0644 $(MODULE) $(INSTALL_DIR)/ngx_http_osint_module.so

# Other nginx releases (README "Install"): NGINX_GIT is a clone of
# github.com/nginx/nginx; each tag of NGINX_TAGS is built with its own nginx
# binary and the NGINX_SMOKE tests are run on it
NGINX_GIT   ?= $(HOME)/src/nginx/.git
NGINX_TAGS  ?= release-1.24.0 release-1.26.3 release-1.30.4
NGINX_SMOKE ?= t/00-harness.t t/03-lookup.t t/08-status.t

.PHONY: test-nginx-versions

test-nginx-versions: deps
	packaging/test-nginx-versions.sh $(NGINX_GIT) "$(NGINX_TAGS)" \
	    "$(NGINX_SMOKE)"
