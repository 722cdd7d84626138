#!/bin/bash
# Line coverage of the module's files reached by the fuzz corpora.
#
#   fuzz/coverage.sh BUILD_DIR TARGET...     (after make fuzz-build)
#
# Rebuilds each target with clang's source-based coverage (no sanitizers),
# replays fuzz/corpus/TARGET and BUILD_DIR/corpus/TARGET once, and prints
# llvm-cov's report for the module's files the target links.

set -eu

dir=$1
shift

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

out=$dir/coverage
mkdir -p "$out"

for t in "$@"; do
    srcs=$(make -s --no-print-directory -f Makefile -f - pure-srcs <<'EOF'
pure-srcs:
	@echo $(PURE_SRCS)
EOF
    )

    objs=(fuzz/ngx_stubs.c)

    incs=$(make -s --no-print-directory -f Makefile -f - fuzz-cflags <<'EOF'
fuzz-cflags:
	@echo $(FUZZ_CFLAGS)
EOF
    )

    # shellcheck disable=SC2086
    clang $incs -fsanitize=fuzzer -fprofile-instr-generate \
        -fcoverage-mapping -o "$out/fuzz_$t" "fuzz/fuzz_$t.c" $srcs \
        "${objs[@]}" -lcjson -lcurl -lm

    mkdir -p "$dir/corpus/$t"
    rm -f "$out/$t.profraw"
    LLVM_PROFILE_FILE="$out/$t.profraw" "$out/fuzz_$t" -runs=0 \
        "fuzz/corpus/$t" "$dir/corpus/$t" > "$out/$t.log" 2>&1
    llvm-profdata merge -sparse "$out/$t.profraw" -o "$out/$t.profdata"

    echo "== fuzz_$t"
    # shellcheck disable=SC2086
    llvm-cov report "$out/fuzz_$t" -instr-profile="$out/$t.profdata" \
        $srcs | sed 's|^'"$top"'/||'
done
