#!/bin/bash
# Runs libFuzzer targets for a set time each, one after the other, and
# fails when any of them finds a crash, a leak, an UBSan report, a slow
# unit (> 10 s) or runs out of memory (> 2 GiB).
#
#   fuzz/run.sh SECONDS BUILD_DIR TARGET...
#
# Each target reads its seeds from fuzz/corpus/TARGET (never written) and
# keeps what it finds in BUILD_DIR/corpus/TARGET; a failing input goes to
# BUILD_DIR/artifacts/TARGET/, the output to BUILD_DIR/logs/TARGET.log.
# At the end, a table of executions per second and coverage (libFuzzer's
# final "cov" = edges and "ft" = features) per target.

set -u

secs=$1
dir=$2
shift 2

top=$(cd "$(dirname "$0")/.." && pwd)
failed=()
rows=()

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

mkdir -p "$dir/logs"

for t in "$@"; do
    bin=$dir/fuzz_$t
    log=$dir/logs/$t.log
    mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"

    # libFuzzer takes one dictionary: one made at build time comes first
    dict=()
    if [ -f "$dir/dict/$t.dict" ]; then
        dict=(-dict="$dir/dict/$t.dict")
    elif [ -f "$top/fuzz/dict/$t.dict" ]; then
        dict=(-dict="$top/fuzz/dict/$t.dict")
    fi

    echo "fuzz_$t: ${secs} s, log $log"
    start=$(date +%s)
    touch "$log.start"                  # artifacts newer than this are new

    "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$dir/artifacts/$t/" \
        "${dict[@]}" "$dir/corpus/$t" "$top/fuzz/corpus/$t" > "$log" 2>&1
    rc=$?

    took=$(( $(date +%s) - start ))

    # the last status line: "#N DONE cov: C ft: F corp: ... exec/s: E ..."
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<< "$last")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")

    rows+=("$(printf '%-20s %10s %10s %6s %6s %12s %5ss %s' "fuzz_$t" \
        "${execs:--}" "${eps:--}" "${cov:--}" "${ft:--}" "${corp:--}" \
        "$took" "$([ $rc -eq 0 ] && echo ok || echo FAILED)")")

    if [ $rc -ne 0 ]; then
        failed+=("$t")
        echo "--- fuzz_$t FAILED (exit $rc); the end of $log:"
        tail -60 "$log"
        find "$dir/artifacts/$t" -type f -newer "$log.start" -printf '%p\n' \
            | while read -r a; do echo "reproduce: $bin $a"; done
    fi
done

echo
printf '%-20s %10s %10s %6s %6s %12s %6s %s\n' target execs exec/s cov ft \
    corpus time result
for r in "${rows[@]}"; do
    echo "$r"
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzzing failed: ${failed[*]}"
    exit 1
fi
