# bench/lib.sh — helpers shared by bench/run and bench/cache_resilience.
#
# Sourced (never run) right after `set -uo pipefail`, with BENCH_DIR set to the
# bench/ directory.  Defines the environment-derived settings (NGINX,
# MODULE_SRC, PYTHON, LUA, RESULTS_MD, CLK_TCK, NPROC, CPU placement), the
# process tracking (PID, PORT, LOGOFF, NOTES, stop_instance, cleanup) and the
# measuring helpers (nginx_conf, start_nginx, run_wrk, check_log, ...).
# Nothing is started and no file is written until the script calls
# bench_setup (tool check, temp dir, module copy, EXIT trap).
#
# Hooks: variables a script may set after sourcing (defaults reproduce bench/run);
# BENCH_SELF is set before sourcing.
#   BENCH_SELF       name in messages and generated configs (bench/run)
#   STOP_SIG[name]   signal stop_instance sends first (QUIT; TERM for slow*)
#   SOLO[name]=1     the instance is one process (no nginx master/workers):
#                    its own PID counts for CPU (like the slow* providers)
#   OTHERS_MAX       % of a core used by processes we did not start above
#                    which run_wrk flags a run as skewed (25)
#   WRK_NON2XX_OK=1  non-2xx answers are expected (run_wrk's Lua script checks
#                    the status itself): wrk's "Non-2xx" line is not an error
#   WARM             warm-up seconds before each measured run (1)

BENCH_SELF=${BENCH_SELF:-bench/run}
REPO=$(dirname "$BENCH_DIR")
NGINX=${OSINT_NGINX:-/usr/sbin/nginx}
MODULE_SRC=${OSINT_MODULE:-$REPO/build/ngx_http_osint_module.so}
# the real interpreter, not a pyenv shim: the PID we start must be python's
PYTHON=${OSINT_PYTHON:-$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo /usr/bin/python3)}
LUA=$BENCH_DIR/report.lua
RESULTS_MD=$BENCH_DIR/RESULTS.md

CLK_TCK=$(getconf CLK_TCK)
NPROC=$(nproc)

# CPU placement (BENCH_PIN=0 to disable): the 1-worker nginx under test on
# SERVER_CPU, wrk and the providers on CLIENT_CPU; several workers: unpinned.
PIN=${BENCH_PIN:-1}
[ "$NPROC" -ge 2 ] || PIN=0
SERVER_CPU=0
CLIENT_CPU=$((NPROC - 1))
TASKSET=()
[ "$PIN" = 1 ] && TASKSET=(taskset -c "$CLIENT_CPU")
if [ "$PIN" = 1 ]; then
    PIN_DESC="1-worker nginx under test on CPU $SERVER_CPU; wrk, providers on CPU $CLIENT_CPU; 2-worker module unpinned"
else
    PIN_DESC="none (BENCH_PIN=0 or 1 CPU)"
fi
cpu_mask() { local m=1 i; for ((i = 0; i < $1; i++)); do m+=0; done; echo "$m"; }

die() { echo "$BENCH_SELF: $*" >&2; exit 1; }

# bench_setup TOOL...: check the tools and the module, make the temp dir
# (WORK), copy the module into it (MODULE), install the cleanup traps
bench_setup() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (apt-get install -y wrk?)"
    done
    [ -r "$MODULE_SRC" ] || die "module not found: $MODULE_SRC (build it first)"

    WORK=$(mktemp -d /tmp/osint-bench-XXXXXXXX) || die "mktemp failed"
    chmod 0755 "$WORK"          # nginx workers run as nobody when we are root
    cp "$MODULE_SRC" "$WORK/ngx_http_osint_module.so" || die "cannot copy module"
    MODULE=$WORK/ngx_http_osint_module.so

    trap cleanup EXIT
    trap 'echo "$BENCH_SELF: interrupted" >&2; exit 130' INT TERM
}

###############################################################################
# process tracking and cleanup

declare -A PID=()           # instance name -> PID of the process we started
declare -A PORT=()          # instance name -> its port
declare -A LOGOFF=()        # instance name -> error.log bytes already shown
declare -a NOTES=()         # anomalies, printed at the end and in RESULTS.md
declare -A STOP_SIG=()      # instance name -> first signal of stop_instance
declare -A SOLO=()          # instance name -> 1: a single process, no workers
OTHERS_MAX=25
WRK_NON2XX_OK=0
WARM=1

note() { NOTES+=("$*"); echo "  NOTE: $*"; }

stop_instance() {           # stop_instance NAME: graceful, then forced, by PID
    local name=$1 pid=${PID[$1]:-} sig=QUIT i
    [ -n "$pid" ] || return 0
    [ "${name#slow}" != "$name" ] && sig=TERM      # the python provider
    [ -n "${STOP_SIG[$name]:-}" ] && sig=${STOP_SIG[$name]}
    kill -"$sig" "$pid" 2>/dev/null
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "  $name (pid $pid) did not exit in 10 s, sending TERM" >&2
        kill -TERM "$pid" 2>/dev/null; sleep 2
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    unset "PID[$name]"
}

cleanup() {
    local name
    trap - EXIT INT TERM
    for name in "${!PID[@]}"; do
        stop_instance "$name"
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "$BENCH_SELF: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}

###############################################################################
# helpers

free_ports() {              # free_ports N: N distinct free ports (20000-31999)
    "$PYTHON" - "$1" <<'EOF'
import random, socket, sys
n, got = int(sys.argv[1]), []
while len(got) < n:
    p = random.randint(20000, 31999)
    if p in got:
        continue
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p)); got.append(p)
    except OSError:
        pass
    finally:
        s.close()
print(" ".join(map(str, got)))
EOF
}

children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' | sort -n | tr '\n' ' '; }

proc_ticks() {              # utime+stime of the given PIDs, in clock ticks
    local p sum=0 stat rest
    for p in "$@"; do
        stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        rest=${stat##*) }   # fields from 3 on (comm may contain spaces)
        set -- $rest
        sum=$((sum + ${12} + ${13}))
    done
    echo "$sum"
}

sys_ticks() {               # "busy total" of /proc/stat's cpu line
    local cpu user nice system idle iowait irq softirq steal rest
    read -r cpu user nice system idle iowait irq softirq steal rest < /proc/stat
    echo "$((user + nice + system + irq + softirq + steal)) $((user + nice + system + idle + iowait + irq + softirq + steal))"
}

wait_http() {               # wait_http NAME PORT: until anything answers HTTP
    local name=$1 port=$2 i code
    for i in $(seq 1 100); do
        if ! kill -0 "${PID[$name]}" 2>/dev/null; then
            return 1
        fi
        code=$(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null)
        [ -n "$code" ] && [ "$code" != 000 ] && return 0
        sleep 0.1
    done
    return 1
}

# nginx_conf NAME WORKERS LOAD_MODULE(0|1) HTTP_BODY CPU(server|client|any)
#   writes WORK/NAME/nginx.conf
nginx_conf() {
    local name=$1 workers=$2 load=$3 body=$4 place=$5 dir=$WORK/$1 aff=""
    if [ "$PIN" = 1 ]; then
        case $place in
            server) aff="worker_cpu_affinity $(cpu_mask "$SERVER_CPU");" ;;
            client) aff="worker_cpu_affinity $(cpu_mask "$CLIENT_CPU");" ;;
        esac
    fi
    mkdir -p "$dir/tmp"
    chmod 0755 "$dir" "$dir/tmp"
    {
        echo "# generated by $BENCH_SELF"
        [ "$load" = 1 ] && echo "load_module $MODULE;"
        cat <<EOF
daemon off;
master_process on;
worker_processes $workers;
$aff
worker_rlimit_nofile 16384;
pid $dir/nginx.pid;
error_log $dir/error.log notice;

events {
    worker_connections 4096;
}

http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path       $dir/tmp/proxy;
    fastcgi_temp_path     $dir/tmp/fastcgi;
    uwsgi_temp_path       $dir/tmp/uwsgi;
    scgi_temp_path        $dir/tmp/scgi;
    keepalive_requests    1000000;
    keepalive_timeout     75s;
    log_not_found         off;      # the readiness probe asks for /

$body
}
EOF
    } > "$dir/nginx.conf"
}

start_nginx() {             # start_nginx NAME PORT WORKERS
    local name=$1 port=$2 workers=$3 dir=$WORK/$1 i n
    "$NGINX" -t -q -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" \
        > "$dir/test.out" 2>&1 \
        || { cat "$dir/test.out" "$dir/error.log" >&2 2>/dev/null; die "$name: nginx -t failed"; }
    : > "$dir/error.log"
    "$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" \
        < /dev/null > "$dir/stdout" 2>&1 &
    PID[$name]=$!
    PORT[$name]=$port
    LOGOFF[$name]=0
    if ! wait_http "$name" "$port"; then
        cat "$dir/stdout" "$dir/error.log" >&2
        die "$name: nginx did not start (pid ${PID[$name]})"
    fi
    for i in $(seq 1 50); do
        n=$(children "${PID[$name]}" | wc -w)
        [ "$n" -ge "$workers" ] && break
        sleep 0.1
    done
}

workers_of() {              # PIDs whose CPU counts for an instance
    local name=$1
    [ "${SOLO[$name]:-0}" = 1 ] && { echo "${PID[$name]}"; return; }
    case $name in
        slow*) echo "${PID[$name]}" ;;
        *)     children "${PID[$name]}" ;;
    esac
}

# new [alert]/[crit]/[emerg]/[error] lines of an instance's error.log
check_log() {
    local name=$1 f=$WORK/$1/error.log off size bad
    [ -f "$f" ] || return 0
    off=${LOGOFF[$name]:-0}
    size=$(stat -c %s "$f")
    LOGOFF[$name]=$size
    bad=$(tail -c +"$((off + 1))" "$f" | head -c $((size - off)) \
          | grep -E '\[(alert|crit|emerg|error)\]|exited on signal|open socket' || true)
    if [ -n "$bad" ]; then
        note "$name error.log: $(echo "$bad" | wc -l) [error]/[alert]/[crit] line(s), first ones:"
        echo "$bad" | head -5 | sed 's/^/      /'
        NOTES+=("$(echo "$bad" | head -3 | sed 's/^/    /')")
    fi
}

declare -A R=()             # results: "label.key" -> value

# run_wrk LABEL URL CONNS DURATION CHECK_OK(''|N) INSTANCES...
#   measured run, preceded by a warm-up; results in R[LABEL.*]
run_wrk() {
    local label=$1 url=$2 conns=$3 dur=$4 check=$5; shift 5
    local insts=("$@") out=$WORK/wrk-$label.txt tfile=$WORK/wrk-$label.time
    local name pids before after s0 s1 kv line cpu="" wu ws

    # warm-up: connections, curl's connection cache, page faults
    BENCH_CHECK_OK=$check timeout $((WARM + 20)) \
        "${TASKSET[@]}" wrk -t1 -c"$conns" -d"${WARM}s" --timeout 2s -s "$LUA" "$url" \
        > "$WORK/wrk-$label.warm.txt" 2>&1

    declare -A t0=() w0=()
    local w ours=0 split
    for name in "${insts[@]}"; do
        t0[$name]=$(proc_ticks $(workers_of "$name"))
        for w in $(workers_of "$name"); do w0[$w]=$(proc_ticks "$w"); done
    done
    s0=$(sys_ticks)

    BENCH_CHECK_OK=$check timeout $((dur + 30)) /usr/bin/time -f '%U %S' -o "$tfile" \
        "${TASKSET[@]}" wrk -t1 -c"$conns" -d"${dur}s" --timeout 2s --latency -s "$LUA" "$url" \
        > "$out" 2>&1
    R[$label.rc]=$?

    s1=$(sys_ticks)
    for name in "${insts[@]}"; do
        after=$(proc_ticks $(workers_of "$name"))
        ours=$((ours + after - t0[$name]))
        # CPU cost per request of the first instance (the server under test)
        [ -z "${R[$label.us_per_req]:-}" ] && R[$label.srv_ticks]=$((after - t0[$name])) \
            && R[$label.us_per_req]=pending
        cpu+="$name $(pct $((after - t0[$name])) "$dur"), "
        # per-worker split when an nginx instance has several workers
        if [ "$(workers_of "$name" | wc -w)" -gt 1 ] && [ "${name#slow}" = "$name" ] \
                && [ "${SOLO[$name]:-0}" != 1 ]; then
            split=""
            for w in $(workers_of "$name"); do
                split+="$(pct $(( $(proc_ticks "$w") - ${w0[$w]:-0} )) "$dur") + "
            done
            R[$label.split]=${split% + }
            cpu="${cpu%, } (${R[$label.split]}), "
        fi
    done
    if read -r wu ws < "$tfile" 2>/dev/null; then
        R[$label.wrkcpu]=$(awk -v u="$wu" -v s="$ws" -v d="$dur" 'BEGIN{printf "%.0f", 100*(u+s)/d}')
        cpu+="wrk ${R[$label.wrkcpu]}%, "
        ours=$((ours + $(awk -v u="$wu" -v s="$ws" -v h="$CLK_TCK" 'BEGIN{printf "%.0f", (u+s)*h}')))
    fi
    read -r b0 a0 <<< "$s0"; read -r b1 a1 <<< "$s1"
    R[$label.busy]=$(awk -v b=$((b1 - b0)) -v t=$((a1 - a0)) 'BEGIN{printf "%.0f", t ? 100*b/t : 0}')
    R[$label.others]=$(awk -v b=$((b1 - b0)) -v o="$ours" -v d="$dur" -v h="$CLK_TCK" \
                         'BEGIN{x = 100*(b-o)/h/d; printf "%.0f", x < 0 ? 0 : x}')
    cpu+="others ${R[$label.others]}%; machine ${R[$label.busy]}% busy"
    R[$label.cpu]=$cpu
    [ "${R[$label.others]}" -gt "$OTHERS_MAX" ] && note "$label: processes not started by $BENCH_SELF used ${R[$label.others]}% of a core during the run (concurrent build/tests?): numbers skewed"
    [ "${R[$label.wrkcpu]:-0}" -ge 95 ] && note "$label: wrk used ${R[$label.wrkcpu]}% of a core: the load generator (wrk -t1) is the bottleneck of this run"

    line=$(grep '^BENCH ' "$out" | tail -1)
    if [ -z "$line" ]; then
        note "$label: wrk produced no result (rc ${R[$label.rc]}):"
        sed 's/^/      /' "$out" | head -20
        R[$label.rps]=0
        return 1
    fi
    for kv in ${line#BENCH }; do
        R[$label.${kv%%=*}]=${kv#*=}
    done
    R[$label.us_per_req]=$(awk -v t="${R[$label.srv_ticks]:-0}" -v n="${R[$label.requests]}" -v h="$CLK_TCK" \
                            'BEGIN{printf "%.1f", n ? t/h*1e6/n : 0}')
    # errors: wrk's own lines + counters + bad bodies
    local errs
    if [ "$WRK_NON2XX_OK" = 1 ]; then
        errs=$(grep -E 'Socket errors' "$out" | sed 's/^ *//' | tr '\n' ';' || true)
    else
        errs=$(grep -E 'Non-2xx|Socket errors' "$out" | sed 's/^ *//' | tr '\n' ';' || true)
    fi
    if [ -n "$errs" ] || [ "${R[$label.bad]}" -gt 0 ] 2>/dev/null; then
        R[$label.errors]="${errs}${R[$label.bad]} bad bodies"
        note "$label: wrk reported errors: ${R[$label.errors]}"
        grep '^BADBODY' "$out" | head -1 | cut -c1-400 | sed 's/^/      /'
        NOTES+=("$(grep '^BADBODY' "$out" | head -1 | cut -c1-300 | sed 's/^/    /')")
    else
        R[$label.errors]=none
    fi
}

pct() { awk -v t="$1" -v d="$2" -v h="$CLK_TCK" 'BEGIN{printf "%.0f%%", 100*t/h/d}'; }  # ticks -> % of a core
ms() { awk -v u="$1" 'BEGIN{printf "%.2f", u/1000}'; }           # µs -> ms
sub_ms() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (a-b)/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b ? a/b : 0}'; }

busy_pct() {                # busy_pct: % of the machine busy over the next second
    local s0 s1 b0 a0 b1 a1
    s0=$(sys_ticks); sleep 1; s1=$(sys_ticks)
    read -r b0 a0 <<< "$s0"; read -r b1 a1 <<< "$s1"
    awk -v b=$((b1 - b0)) -v t=$((a1 - a0)) 'BEGIN{printf "%.0f", t ? 100*b/t : 0}'
}

wait_quiet() {              # wait_quiet MAX_S: until the machine is <= 20% busy
    local i b=100
    for ((i = 0; i < $1; i++)); do
        b=$(busy_pct)
        [ "$b" -le 20 ] && return 0
    done
    echo "  (machine still ${b}% busy after $1 s)"
    return 1
}
