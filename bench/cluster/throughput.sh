#!/usr/bin/env bash
# Requests per second of one Tether instance in cluster mode (--redis) against single mode, HTTP_COOKIE (the cookie sent
# back on every request) and SOURCE_IP, in the same run (issue 14: target >= 0.95x). Run from the repository:
#
#   bench/cluster/throughput.sh                          # 3 rounds x 10 s per target, 64 connections, pinned
#   bench/cluster/throughput.sh --rounds 5 --duration 15 --conns 64
#   TETHER_DLL=path/to/tether.dll bench/cluster/throughput.sh    # skip the Release build
#
# What it does:
#  1. builds Tether (Release) unless TETHER_DLL is given; needs redis-server, nginx, wrk, curl, taskset (Debian:
#     apt-get install redis-server nginx-light wrk curl util-linux; installed when missing and run as root);
#  2. starts, each on ports the kernel hands out (ephemeral, checked free): redis-server (no persistence, loopback
#     only), one nginx with three backends answering "b1" "b2" "b3", and two `tether serve` with their own data
#     directories: "single" (no --redis) and "cluster" (--redis, --instance bench); both Tethers pinned to the proxy
#     CPU (default 1), wrk, nginx and Redis to the client CPU (default 0);
#  3. creates the same two load balancers on each Tether through its API: ROUND_ROBIN over the three backends with
#     HTTP_COOKIE, and with SOURCE_IP; checks that each persists (a cookie keeps one backend; one source keeps one);
#  4. warms every target up (--warmup steps of 5 s each), then runs wrk on each in turn, rounds interleaved
#     (cookie-single, cookie-cluster, src-single, src-cluster, then again), so that the background load of a shared
#     machine falls on both modes alike;
#  5. prints per round and the median over rounds: req/s single, req/s cluster, ratio cluster/single, and the CPU time
#     each Tether process spent per request (utime + stime from /proc over the wrk run; steadier than req/s on a
#     shared machine, since it does not count the time the process waited for a CPU); and the Redis commands received
#     during the measurement (the per-request path must not wait on Redis).
#
# Every process is started here and stopped by the pid it got (trap on exit); nothing is stopped by name.
# Output: bench/cluster/results/throughput-<date>-<time>/ (raw.tsv, summary.txt, logs/).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

ROUNDS=3
DURATION=10
CONNS=64
THREADS=1
WARMUP=6
CLIENT_CPUS=0
PROXY_CPUS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --client-cpus) CLIENT_CPUS="$2"; shift 2 ;;
    --proxy-cpus) PROXY_CPUS="$2"; shift 2 ;;
    -h|--help) sed -n 2,26p "$0"; exit 0 ;;
    *) echo "throughput.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

missing=()
for c in redis-server redis-cli nginx wrk curl taskset python3; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends \
      redis-server nginx-light wrk curl util-linux >/dev/null || { echo "throughput: apt-get install failed" >&2; exit 2; }
  else
    echo "throughput: missing ${missing[*]} (sudo apt-get install redis-server nginx-light wrk curl)" >&2; exit 2
  fi
fi

if [ -z "${TETHER_DLL:-}" ]; then
  dotnet build -c Release "$repo/src/Tether" -v q -nologo >/dev/null || { echo "throughput: build failed" >&2; exit 2; }
  TETHER_DLL="$repo/src/Tether/bin/Release/net10.0/tether.dll"
fi
DLL="$TETHER_DLL"
# tether serve reads every TETHER_ variable as a setting (and refuses unknown ones): none reaches the children.
for v in $(compgen -e | grep '^TETHER_'); do unset "$v"; done

RUN="$here/results/throughput-$(date -u +%Y%m%d-%H%M%S)"
RT=$(mktemp -d /tmp/tether-cluster-bench.XXXXXX)
mkdir -p "$RUN/logs"
STARTED=()
cleanup() {
  for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${STARTED[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$RT"
}
trap cleanup EXIT
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$RUN/summary.txt" >&2; }

# Free TCP ports on 127.0.0.1, as many as asked (bound together, so they differ, then released).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
wait_port() {  # port pid name
  for _ in $(seq 240); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { log "ERROR: $3 exited; see $RUN/logs"; return 1; }
    sleep 0.25
  done
  log "ERROR: $3 never listened on $1"; return 1
}

read -r REDIS_PORT B1 B2 B3 API_SINGLE API_CLUSTER COOKIE_SINGLE COOKIE_CLUSTER SRC_SINGLE SRC_CLUSTER <<<"$(free_ports 10)"
CLIENT_PIN=(taskset -c "$CLIENT_CPUS")
PROXY_PIN=(taskset -c "$PROXY_CPUS")

# --- redis-server: loopback, no persistence ---------------------------------------------------------------------
"${CLIENT_PIN[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --dir "$RT" >"$RUN/logs/redis.log" 2>&1 &
REDIS_PID=$!; STARTED+=("$REDIS_PID")
wait_port "$REDIS_PORT" "$REDIS_PID" redis-server || exit 1

# --- backends: one nginx, one worker, three servers ---------------------------------------------------------------
cat >"$RUN/logs/backend.conf" <<EOF
worker_processes 1;
daemon off;
pid $RT/backend.pid;
error_log $RUN/logs/backend.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  client_body_temp_path $RT/body; proxy_temp_path $RT/proxy; fastcgi_temp_path $RT/fastcgi;
  uwsgi_temp_path $RT/uwsgi; scgi_temp_path $RT/scgi;
  server { listen 127.0.0.1:$B1 backlog=4096; location / { return 200 "b1\n"; } }
  server { listen 127.0.0.1:$B2 backlog=4096; location / { return 200 "b2\n"; } }
  server { listen 127.0.0.1:$B3 backlog=4096; location / { return 200 "b3\n"; } }
}
EOF
"${CLIENT_PIN[@]}" nginx -c "$RUN/logs/backend.conf" -e "$RUN/logs/backend.error.log" >"$RUN/logs/backend.out" 2>&1 &
NGINX_PID=$!; STARTED+=("$NGINX_PID")
for p in $B1 $B2 $B3; do wait_port "$p" "$NGINX_PID" nginx || exit 1; done

# --- the two Tethers ----------------------------------------------------------------------------------------------
declare -A API PID PORT
API[single]=$API_SINGLE; API[cluster]=$API_CLUSTER
PORT[cookie-single]=$COOKIE_SINGLE; PORT[cookie-cluster]=$COOKIE_CLUSTER
PORT[src-single]=$SRC_SINGLE; PORT[src-cluster]=$SRC_CLUSTER
start_tether() {  # mode
  local mode=$1 data="$RT/data-$1" token code t type
  local -a extra=()
  [ "$mode" = cluster ] && extra=(--redis "127.0.0.1:$REDIS_PORT" --instance bench)
  mkdir -p "$data"
  env DOTNET_CLI_TELEMETRY_OPTOUT=1 "${PROXY_PIN[@]}" dotnet "$DLL" serve --data-dir "$data" \
    --listen "http://127.0.0.1:${API[$mode]}" --public-address 127.0.0.1 --private-address 127.0.0.1 \
    "${extra[@]}" >"$RUN/logs/tether-$mode.log" 2>&1 &
  PID[$mode]=$!; STARTED+=("${PID[$mode]}")
  wait_port "${API[$mode]}" "${PID[$mode]}" "tether $mode" || return 1
  for _ in $(seq 40); do [ -s "$data/admin-token" ] && break; sleep 0.25; done
  token=$(cat "$data/admin-token" 2>/dev/null)
  [ -n "$token" ] || { log "ERROR: tether $mode wrote no admin token"; return 1; }
  for t in cookie src; do
    type=HTTP_COOKIE; [ "$t" = src ] && type=SOURCE_IP
    code=$(curl -s --max-time 20 -o "$RUN/logs/create-$t-$mode.json" -w '%{http_code}' -X POST \
      "http://127.0.0.1:${API[$mode]}/v1.0/1/loadbalancers" -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
      -d "{\"loadBalancer\": {\"name\": \"bench-$t\", \"protocol\": \"HTTP\", \"port\": ${PORT[$t-$mode]},
           \"algorithm\": \"ROUND_ROBIN\", \"virtualIps\": [{\"type\": \"SERVICENET\"}],
           \"nodes\": [{\"address\": \"127.0.0.1\", \"port\": $B1, \"condition\": \"ENABLED\"},
                       {\"address\": \"127.0.0.1\", \"port\": $B2, \"condition\": \"ENABLED\"},
                       {\"address\": \"127.0.0.1\", \"port\": $B3, \"condition\": \"ENABLED\"}],
           \"sessionPersistence\": {\"persistenceType\": \"$type\"}}}")
    [ "$code" = 202 ] || { log "ERROR: tether $mode: creating $t answered $code: $(head -c 300 "$RUN/logs/create-$t-$mode.json")"; return 1; }
    wait_port "${PORT[$t-$mode]}" "${PID[$mode]}" "tether $mode $t" || return 1
  done
}
start_tether single || exit 1
start_tether cluster || exit 1

# --- persistence checks, and the cookie each cookie target gets sent back -----------------------------------------
declare -A COOKIE
for mode in single cluster; do
  port=${PORT[cookie-$mode]}
  COOKIE[$mode]=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/" | tr -d '\r' | awk -F': ' 'tolower($1)=="set-cookie"{split($2,a,";"); print a[1]; exit}')
  [ -n "${COOKIE[$mode]}" ] || { log "ERROR: cookie-$mode set no cookie"; exit 1; }
  seen=$(for _ in $(seq 12); do curl -s -H "Cookie: ${COOKIE[$mode]}" "http://127.0.0.1:$port/"; done | sort -u | wc -l)
  [ "$seen" = 1 ] || { log "ERROR: cookie-$mode: the cookie reached $seen backends"; exit 1; }
  seen=$(for _ in $(seq 12); do curl -s "http://127.0.0.1:${PORT[src-$mode]}/"; done | sort -u | wc -l)
  [ "$seen" = 1 ] || { log "ERROR: src-$mode: one source reached $seen backends"; exit 1; }
done
log "persistence checked: cookie and source pin on both; single pid ${PID[single]}, cluster pid ${PID[cluster]}, redis :$REDIS_PORT"

TICKS=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime of the process, in clock ticks
run_wrk() {  # target seconds logfile -> prints "req/s cpu-us-per-request" (the Tether process's CPU time)
  local t=$1 mode=${1#*-} header=() before after
  [ "${t%%-*}" = cookie ] && header=(-H "Cookie: ${COOKIE[$mode]}")
  before=$(cpu_ticks "${PID[$mode]}")
  "${CLIENT_PIN[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$2s" --latency "${header[@]}" "http://127.0.0.1:${PORT[$t]}/" >"$3" 2>&1
  after=$(cpu_ticks "${PID[$mode]}")
  if grep -q "Non-2xx\|Socket errors" "$3"; then log "WARNING: $t: $(grep 'Non-2xx\|Socket errors' "$3" | tr '\n' ' ')"; fi
  awk -v cpu=$((after - before)) -v hz="$TICKS" '/^Requests\/sec:/{rps=$2} /requests in/{n=$1} END{printf "%s %.1f\n", rps, (n > 0 ? cpu / hz * 1e6 / n : 0)}' "$3"
}

TARGETS=(cookie-single cookie-cluster src-single src-cluster)
log "warm-up: $WARMUP x 5 s per target"
for i in $(seq "$WARMUP"); do
  for t in "${TARGETS[@]}"; do run_wrk "$t" 5 "$RUN/logs/warmup-$t-$i.txt" >/dev/null; done
done

redis_calls() { redis-cli -p "$REDIS_PORT" info commandstats | awk -F'[:=,]' '/^cmdstat_/{n+=$3} END{print n+0}'; }
calls_before=$(redis_calls)
measure_start=$(date +%s)
printf 'round\ttarget\treq_per_s\tcpu_us_per_req\n' >"$RUN/raw.tsv"
log "measuring: $ROUNDS rounds x ${DURATION} s, wrk -t$THREADS -c$CONNS, proxies on CPU $PROXY_CPUS, clients on CPU $CLIENT_CPUS"
for r in $(seq "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    read -r rps cpu <<<"$(run_wrk "$t" "$DURATION" "$RUN/logs/round$r-$t.txt")"
    printf '%s\t%s\t%s\t%s\n' "$r" "$t" "$rps" "$cpu" >>"$RUN/raw.tsv"
    log "round $r $t: $rps req/s, $cpu us CPU per request"
  done
done
calls_after=$(redis_calls)
measure_seconds=$(( $(date +%s) - measure_start ))

python3 - "$RUN/raw.tsv" "$((calls_after - calls_before))" "$measure_seconds" <<'PY' | tee -a "$RUN/summary.txt"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
rps, cpu = {}, {}
for row in rows:
    rps.setdefault(row["target"], {})[int(row["round"])] = float(row["req_per_s"])
    cpu.setdefault(row["target"], {})[int(row["round"])] = float(row["cpu_us_per_req"])
rounds = sorted(rps["cookie-single"])
print()
print("| persistence | round | single req/s | cluster req/s | cluster / single | single CPU us/req | cluster CPU us/req | single / cluster CPU |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for kind, name in (("cookie", "HTTP_COOKIE (cookie sent back)"), ("src", "SOURCE_IP")):
    single, cluster = rps[kind + "-single"], rps[kind + "-cluster"]
    cs, cc = cpu[kind + "-single"], cpu[kind + "-cluster"]
    for r in rounds:
        print(f"| {name} | {r} | {single[r]:,.0f} | {cluster[r]:,.0f} | {cluster[r] / single[r]:.3f} | {cs[r]:.1f} | {cc[r]:.1f} | {cs[r] / cc[r]:.3f} |")
    ms, mc = statistics.median(single.values()), statistics.median(cluster.values())
    ratios = [cluster[r] / single[r] for r in rounds]
    mcs, mcc = statistics.median(cs.values()), statistics.median(cc.values())
    print(f"| {name} | **median** | **{ms:,.0f}** | **{mc:,.0f}** | **{mc / ms:.3f}** (median of round ratios {statistics.median(ratios):.3f}) | **{mcs:.1f}** | **{mcc:.1f}** | **{mcs / mcc:.3f}** |")
print()
print(f"Redis commands received during the measurement ({sys.argv[3]} s, every client of the cluster instance): {sys.argv[2]}"
      " (the configuration poll alone sends 4 a second)")
PY
log "results in $RUN"
