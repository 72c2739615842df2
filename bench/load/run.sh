#!/usr/bin/env bash
# Tether side by side with HAProxy, nginx and YARP on loopback: one command, run from the repository.
#
#   sudo bench/load/run.sh            # full pinned run: installs what is missing, builds, warms up, 3 rounds x 10 s
#   sudo bench/load/run.sh --quick    # smoke run: 1 round x 3 s, one 5 s warm-up step per target (about 3 minutes)
#
# What it does (docs/benchmarks.md has the method and the latest table):
#  1. as root on Debian, apt-get installs haproxy nginx libnginx-mod-stream wrk curl if any is missing, keeping the
#     packaged daemons from starting (policy-rc.d during the install, then systemctl stop/disable where systemd runs);
#  2. builds the YARP peer (bench/yarp -> bench/yarp/out) and Tether (src/Tether -> bench/load/out/tether), Release;
#  3. starts three nginx backends (127.0.0.1:18081-18083), HAProxy, nginx, YARP and Tether, the proxies pinned to the
#     proxy CPU with taskset; Tether gets a fresh temporary data directory and three load balancers created over its
#     API (ROUND_ROBIN with no persistence, HTTP_COOKIE, SOURCE_IP);
#  4. checks that every target balances and persists as it should (a cookie jar keeps one node, source addresses
#     keep theirs); a target that fails is reported and gets no figure;
#  5. fetches each sticky target's persistence cookie and adds a TARGET+replay row that sends it back on every request;
#  6. warms every target up (5 s wrk steps until two consecutive steps differ by < 5 %; .NET targets at least 8 steps
#     = 40 s, native ones at least 2), then drives each with wrk in turn, interleaved over the rounds;
#  7. prints the tables (report.sh): req/s, p50, p99, proxy CPU us per request, ratios to HAProxy cookie and to
#     direct, medians with min and max over the rounds.
#
# Output: bench/load/results/<date>-<time>/ (raw.tsv, warmup.tsv, sticky.tsv, replay.tsv, excluded.tsv, env.txt,
# summary.md, conf/ = generated configs, logs/ = every wrk output and the daemons' logs).
#
# Every process is started by this script and stopped by the pid it got then (trap on exit); nothing is ever stopped
# by name.  All traffic stays on 127.0.0.1.  Derived from the team's shared loopback harness (HAProxy/nginx/YARP).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# ------------------------------------------------------------------------------------------------
# Defaults (see usage)
# ------------------------------------------------------------------------------------------------
LAYOUTS="pinned"
ROUNDS=3
DURATION=10          # seconds per measured wrk run
CONNS=64
THREADS=1
WARMUP_STEP=5        # seconds per warm-up step
WARMUP_MIN=8         # .NET targets (YARP, Tether, extras): at least this many steps (8 x 5 s = 40 s)
WARMUP_MIN_NATIVE=2  # HAProxy, nginx, direct: at least this many steps
WARMUP_MAX=12        # at most this many steps
WARMUP_TOL=5         # stop when two consecutive steps differ by less than this many percent
L4=0
REPLAY=1
QUICK=0
SETUP=1              # install missing packages (root) and build the .NET peers
WAIT_QUIET=180       # wait up to this many seconds for the machine to be quiet (< QUIET_PCT % busy) before a layout
QUIET_PCT=10
DEFAULT_TARGETS="direct,haproxy-rr-cookie,haproxy-src-hash,nginx-rr,yarp-rr-cookie,yarp-rr,tether-rr,tether-cookie,tether-src"
ONLY=""
OUT=""
CLIENT_CPUS=0        # pinned layout: wrk, backend and curl
PROXY_CPUS=1         # pinned layout: the proxy under test
EXTRAS=()            # name=port[:expect]

usage() {
  cat <<'TXT'
usage: bench/load/run.sh [options]
  --quick                       smoke run: 1 round x 3 s, a single 5 s warm-up step per target
  --layout pinned|shared|both   CPU layout (default pinned = proxy on CPU 1, wrk + backends + curl on CPU 0)
  --rounds N                    interleaved measurement rounds (default 3; use 5 to separate close variants)
  --duration S                  seconds per measured wrk run (default 10)
  --conns N / --threads N       wrk connections / threads (default 64 / 1)
  --warmup-min N                minimum 5 s warm-up steps for .NET targets (default 8 = 40 s)
  --warmup-min-native N         minimum warm-up steps for HAProxy, nginx and direct (default 2)
  --warmup-max N                maximum warm-up steps (default 12)
  --warmup-step S               seconds per warm-up step (default 5)
  --only a,b,c                  run only these targets (default: the pinned comparison set below)
  --all                         run every built-in target
  --extra NAME=PORT[:EXPECT]    an already-listening target on 127.0.0.1:PORT that proxies to 18081-18083
                                (repeatable; EXPECT = none|cookie|source|single makes the stickiness check judge
                                it); its CPU is read from the pid that `ss -ltnp` shows on PORT
  --no-replay-cookie            do not add the TARGET+replay rows (sticky targets with their cookie sent back)
  --l4                          also run the L4 bulk test (HAProxy mode tcp, nginx stream; 64 MiB x 32)
  --skip-setup                  neither install packages nor build (use the existing bench/yarp/out, bench/load/out)
  --wait-quiet S                before starting, wait up to S seconds (default 180; 0 = do not wait) for the machine
                                to be less than 10 % busy; the background load is recorded in env.txt either way
  --client-cpus LIST            pinned layout: CPUs for wrk/backend/curl (default 0)
  --proxy-cpus LIST             pinned layout: CPUs for the proxy (default 1)
  --out DIR                     results folder (default bench/load/results/<date>-<time>)
default targets: direct haproxy-rr-cookie haproxy-src-hash nginx-rr yarp-rr-cookie yarp-rr
                 tether-rr tether-cookie tether-src   (+ each --extra NAME)
other built-ins: nginx-ip-hash nginx-cookie-map kestrel-hello tether-kestrel-rr tether-kestrel-cookie
TXT
}

while [ $# -gt 0 ]; do
  case "$1" in
    --quick)        QUICK=1; shift ;;
    --layout)       LAYOUTS="$2"; shift 2 ;;
    --rounds)       ROUNDS="$2"; shift 2 ;;
    --duration)     DURATION="$2"; shift 2 ;;
    --conns)        CONNS="$2"; shift 2 ;;
    --threads)      THREADS="$2"; shift 2 ;;
    --warmup-min)   WARMUP_MIN="$2"; shift 2 ;;
    --warmup-min-native) WARMUP_MIN_NATIVE="$2"; shift 2 ;;
    --warmup-max)   WARMUP_MAX="$2"; shift 2 ;;
    --warmup-step)  WARMUP_STEP="$2"; shift 2 ;;
    --only)         ONLY="$2"; shift 2 ;;
    --all)          ONLY="ALL"; shift ;;
    --extra)        EXTRAS+=("$2"); shift 2 ;;
    --replay-cookie) REPLAY=1; shift ;;
    --no-replay-cookie) REPLAY=0; shift ;;
    --l4)           L4=1; shift ;;
    --skip-setup)   SETUP=0; shift ;;
    --wait-quiet)   WAIT_QUIET="$2"; shift 2 ;;
    --client-cpus)  CLIENT_CPUS="$2"; shift 2 ;;
    --proxy-cpus)   PROXY_CPUS="$2"; shift 2 ;;
    --out)          OUT="$2"; shift 2 ;;
    -h|--help)      usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$QUICK" = 1 ]; then
  ROUNDS=1; DURATION=3; WARMUP_MIN=1; WARMUP_MIN_NATIVE=1; WARMUP_MAX=1; WAIT_QUIET=0
fi
case "$LAYOUTS" in both) LAYOUTS="pinned shared" ;; pinned|shared|"pinned shared") ;;
  *) echo "run.sh: --layout must be pinned, shared or both" >&2; exit 2 ;; esac
if [ "$WARMUP_MAX" -lt "$WARMUP_MIN" ]; then WARMUP_MAX="$WARMUP_MIN"; fi
if [ "$WARMUP_MAX" -lt "$WARMUP_MIN_NATIVE" ]; then WARMUP_MAX="$WARMUP_MIN_NATIVE"; fi

# ------------------------------------------------------------------------------------------------
# Targets and ports.  Every proxy balances over the three backends 18081-18083.
# KIND = which process's CPU is "proxy CPU"; EXPECT = what the stickiness check should see.
# ------------------------------------------------------------------------------------------------
BACKEND_PORTS=(18081 18082 18083)
declare -A PORT KIND EXPECT HDR
def() { PORT[$1]=$2; KIND[$1]=$3; EXPECT[$1]=$4; }
def direct            18081 none    single   # backend b1 itself, no proxy
def haproxy-rr-cookie 18101 haproxy cookie   # balance roundrobin + cookie SRV insert indirect nocache
def haproxy-src-hash  18102 haproxy source   # balance source + hash-type consistent
def nginx-rr          18111 nginx   none     # upstream round robin, keepalive
def nginx-ip-hash     18112 nginx   source   # hash $remote_addr consistent
def nginx-cookie-map  18113 nginx   cookie   # cookie emulation with map $cookie_SRV (OSS nginx has no sticky)
def yarp-rr-cookie    18121 yarp    cookie   # RoundRobin + SessionAffinity Policy=Cookie
def yarp-rr           18122 yarp    none     # RoundRobin
def kestrel-hello     18123 yarp    single   # Kestrel answers "k0" itself: .NET ceiling, not a peer
def tether-rr         18301 tether  none     # Tether load balancer: ROUND_ROBIN, no session persistence
def tether-cookie     18302 tether  cookie   # Tether: ROUND_ROBIN + HTTP_COOKIE (signed cookie tether-<id>)
def tether-src        18303 tether  source   # Tether: ROUND_ROBIN + SOURCE_IP (Maglev + stick table)
def tether-kestrel-rr    18311 tetherk none   # the same Tether with its HTTP/1.1 fast path off: Kestrel + YARP IHttpForwarder
def tether-kestrel-cookie 18312 tetherk cookie # the same, HTTP_COOKIE (for before/after figures in one run)
TETHER_API_PORT=18390                         # Tether's management API (not measured)
TETHERK_API_PORT=18391                        # the second Tether's (fast path off)
BUILTIN=(direct haproxy-rr-cookie haproxy-src-hash nginx-rr nginx-ip-hash nginx-cookie-map yarp-rr-cookie yarp-rr kestrel-hello
         tether-rr tether-cookie tether-src tether-kestrel-rr tether-kestrel-cookie)
# Tether load balancers: target -> "persistence type" (none = no sessionPersistence object).
declare -A TETHER_PERSISTENCE=([tether-rr]=none [tether-cookie]=HTTP_COOKIE [tether-src]=SOURCE_IP
                               [tether-kestrel-rr]=none [tether-kestrel-cookie]=HTTP_COOKIE)
L4_HAPROXY_PORT=18201
L4_NGINX_PORT=18211
L4_FILE_MIB=64
L4_FETCHES=32

ALL=("${BUILTIN[@]}")
for e in "${EXTRAS[@]}"; do
  name="${e%%=*}"; rest="${e#*=}"; port="${rest%%:*}"; expect=unknown
  [[ "$rest" == *:* ]] && expect="${rest#*:}"
  if [ -z "$name" ] || ! [[ "$port" =~ ^[0-9]+$ ]] || [ -n "${PORT[$name]:-}" ] \
     || ! [[ "$expect" =~ ^(unknown|none|cookie|source|single)$ ]]; then
    echo "run.sh: bad --extra '$e' (want NAME=PORT[:none|cookie|source|single] with a new NAME)" >&2; exit 2
  fi
  PORT[$name]=$port; KIND[$name]=extra; EXPECT[$name]=$expect
  ALL+=("$name")
done

TARGETS=()
if [ "$ONLY" = ALL ]; then
  TARGETS=("${ALL[@]}")
else
  IFS=',' read -r -a wanted <<<"${ONLY:-$DEFAULT_TARGETS}"
  for w in "${wanted[@]}"; do
    if [ -z "${PORT[$w]:-}" ]; then echo "run.sh: unknown target '$w' in --only" >&2; exit 2; fi
    TARGETS+=("$w")
  done
  if [ -z "$ONLY" ]; then   # the default set plus every --extra
    for e in "${EXTRAS[@]}"; do TARGETS+=("${e%%=*}"); done
  fi
fi

# Which daemons this run needs.
need() { local t; for t in "${TARGETS[@]}"; do [ "${KIND[$t]}" = "$1" ] && return 0; done; return 1; }
NEED_HAPROXY=0; NEED_NGINX=0; NEED_YARP=0; NEED_TETHER=0
need haproxy && NEED_HAPROXY=1
need nginx && NEED_NGINX=1
need yarp && NEED_YARP=1
need tether && NEED_TETHER=1
need tetherk && NEED_TETHER=1
if [ "$L4" = 1 ]; then NEED_HAPROXY=1; NEED_NGINX=1; fi

YARP_OUT="$repo/bench/yarp/out"
YARP_DLL="$YARP_OUT/YarpBench.dll"
TETHER_OUT="$here/out/tether"
TETHER_DLL="$TETHER_OUT/tether.dll"
NGINX_STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so   # Debian's libnginx-mod-stream

# ------------------------------------------------------------------------------------------------
# Setup: packages (root, Debian) and the two .NET builds
# ------------------------------------------------------------------------------------------------
install_packages() {
  local missing=() c policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
  for c in haproxy nginx wrk curl taskset ss; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  [ -f "$NGINX_STREAM_MODULE" ] || missing+=(libnginx-mod-stream)
  [ "${#missing[@]}" = 0 ] && return 0
  echo "run.sh: missing: ${missing[*]}; installing haproxy nginx libnginx-mod-stream wrk curl iproute2 util-linux procps" >&2
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "run.sh: installing needs root on Debian (apt-get); run it as root, or install them yourself" >&2; return 1
  fi
  # policy-rc.d returning 101 tells invoke-rc.d (used by the packages' postinst) not to start the packaged daemons:
  # this script starts private instances with its own configs, and a system haproxy/nginx would take CPU and ports.
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, written by bench/load/run.sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
  [ "$rc" = 0 ] && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      haproxy nginx libnginx-mod-stream wrk curl iproute2 util-linux procps || rc=$?; }
  [ "$made_policy" = 1 ] && rm -f "$policy"
  [ "$rc" = 0 ] || { echo "run.sh: apt-get failed ($rc)" >&2; return 1; }
  # On a systemd machine the units may still be enabled: stop and disable them through the service manager,
  # never by process name.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    for c in haproxy nginx; do systemctl stop "$c" 2>/dev/null; systemctl disable "$c" 2>/dev/null; done
  fi
  return 0
}

build_dotnet() {
  command -v dotnet >/dev/null 2>&1 || { echo "run.sh: dotnet (SDK 10) not found on PATH" >&2; return 1; }
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
  local p=(-c Release --nologo -v quiet -nodeReuse:false -p:UseSharedCompilation=false)
  if [ "$NEED_YARP" = 1 ]; then
    echo "run.sh: building the YARP peer (bench/yarp, Release)" >&2
    dotnet publish "$repo/bench/yarp/YarpBench.csproj" "${p[@]}" -o "$YARP_OUT" >&2 || return 1
  fi
  if [ "$NEED_TETHER" = 1 ]; then
    echo "run.sh: building Tether (src/Tether, Release)" >&2
    dotnet publish "$repo/src/Tether/Tether.csproj" "${p[@]}" -o "$TETHER_OUT" >&2 || return 1
  fi
}

if [ "$SETUP" = 1 ]; then
  install_packages || exit 1
  build_dotnet || { echo "run.sh: build failed" >&2; exit 1; }
fi

# ------------------------------------------------------------------------------------------------
# Pre-flight
# ------------------------------------------------------------------------------------------------
for c in nginx wrk curl taskset ss ps getconf awk; do
  command -v "$c" >/dev/null 2>&1 || { echo "run.sh: '$c' not found (run as root without --skip-setup to install it)" >&2; exit 1; }
done
[ "$NEED_HAPROXY" = 0 ] || command -v haproxy >/dev/null 2>&1 || { echo "run.sh: haproxy not found" >&2; exit 1; }
if [ "$NEED_YARP" = 1 ] && [ ! -f "$YARP_DLL" ]; then
  echo "run.sh: $YARP_DLL missing; run without --skip-setup" >&2; exit 1
fi
if [ "$NEED_TETHER" = 1 ] && [ ! -f "$TETHER_DLL" ]; then
  echo "run.sh: $TETHER_DLL missing; run without --skip-setup" >&2; exit 1
fi
if [ "$L4" = 1 ] && [ ! -f "$NGINX_STREAM_MODULE" ]; then
  echo "run.sh: $NGINX_STREAM_MODULE missing (apt-get install libnginx-mod-stream)" >&2; exit 1
fi


CLK_TCK=$(getconf CLK_TCK)
TIMEFORMAT='%R %U %S'      # bash `time`: wall, user, sys seconds (used for wrk's own CPU)

RUN="${OUT:-$here/results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$RUN/conf" "$RUN/logs"
RUN="$(cd "$RUN" && pwd)"
# Runtime files (pid files, nginx temp dirs, the L4 test file) live in a private temp dir. It must be
# traversable by nginx's unprivileged workers, hence 755.
RT="$(mktemp -d -t lb-bench.XXXXXX)"
chmod 755 "$RT"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$RUN/logs/run.log" >&2; }

# ------------------------------------------------------------------------------------------------
# Process bookkeeping: every daemon we start is remembered by pid and stopped by pid.
# ------------------------------------------------------------------------------------------------
STARTED=()            # pids started by this script (daemons)
BACKEND_PID=""; HAPROXY_PID=""; NGINX_PID=""; YARP_PID=""; TETHER_PID=""; TETHERK_PID=""
declare -A EXTRA_PID

children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }

stop_pid() {          # stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL; also reaps leftover children
  local pid=$1 kids i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kids=$(children_of "$pid")
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
  wait "$pid" 2>/dev/null
  for k in $kids; do           # e.g. nginx workers, if their master had to be killed
    for i in $(seq 50); do kill -0 "$k" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null
  done
  return 0
}

stop_all() {
  local p
  for p in "${STARTED[@]}"; do stop_pid "$p"; done
  STARTED=(); BACKEND_PID=""; HAPROXY_PID=""; NGINX_PID=""; YARP_PID=""; TETHER_PID=""; TETHERK_PID=""
}

cleanup() {
  stop_all
  rm -rf "$RT"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# wait_port PORT PID NAME: until something listens on 127.0.0.1:PORT (the daemon must stay alive)
wait_port() {
  local port=$1 pid=$2 name=$3 i
  for i in $(seq 120); do
    if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      log "ERROR: $name exited during start-up; see $RUN/logs/"; return 1
    fi
    sleep 0.25
  done
  log "ERROR: $name did not listen on $port within 30 s"; return 1
}

port_busy() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
listener_pid() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2; }

# ------------------------------------------------------------------------------------------------
# Config generators. $1 = number of workers/threads for the proxy.
# ------------------------------------------------------------------------------------------------
nginx_temp_paths() {  # nginx compiles in /var/lib/nginx; keep everything in our temp dir instead
  local n=$1
  cat <<EOF
  client_body_temp_path $RT/$n-body;
  proxy_temp_path       $RT/$n-proxy;
  fastcgi_temp_path     $RT/$n-fastcgi;
  uwsgi_temp_path       $RT/$n-uwsgi;
  scgi_temp_path        $RT/$n-scgi;
EOF
}

write_backend_conf() {   # one nginx, one worker, three servers: b1 b2 b3
  local f="$RUN/conf/backend-$LAYOUT.conf" i
  {
    cat <<EOF
# Backends: 127.0.0.1:18081-18083 answer 200 "bN\n" with X-Backend: bN (and serve /big.bin for the L4 test).
worker_processes 1;
daemon off;
pid $RT/backend.pid;
error_log $RUN/logs/backend-$LAYOUT.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
$(nginx_temp_paths backend)
EOF
    for i in 1 2 3; do
      cat <<EOF
  server {
    listen 127.0.0.1:${BACKEND_PORTS[$((i-1))]} backlog=4096;
    location / { add_header X-Backend b$i; return 200 "b$i\n"; }
    location = /big.bin { add_header X-Backend b$i; root $RT; }
  }
EOF
    done
    echo "}"
  } > "$f"
  echo "$f"
}

write_haproxy_conf() {
  local f="$RUN/conf/haproxy-$LAYOUT.cfg" threads=$1
  cat > "$f" <<EOF
# HAProxy peers. One process (-db), $threads thread(s).
global
  nbthread $threads
  maxconn 4096          # needs about 2 x maxconn file descriptors

defaults
  mode http
  timeout connect 5s
  timeout client  60s
  timeout server  60s
  option http-keep-alive
  http-reuse safe

# haproxy-rr-cookie: round robin, persistence cookie SRV inserted by HAProxy
frontend fe_rr_cookie
  bind 127.0.0.1:${PORT[haproxy-rr-cookie]}
  default_backend be_rr_cookie
backend be_rr_cookie
  balance roundrobin
  cookie SRV insert indirect nocache
  server b1 127.0.0.1:18081 cookie b1
  server b2 127.0.0.1:18082 cookie b2
  server b3 127.0.0.1:18083 cookie b3

# haproxy-src-hash: source address hashing on a consistent-hash ring
frontend fe_src_hash
  bind 127.0.0.1:${PORT[haproxy-src-hash]}
  default_backend be_src_hash
backend be_src_hash
  balance source
  hash-type consistent
  server b1 127.0.0.1:18081
  server b2 127.0.0.1:18082
  server b3 127.0.0.1:18083
EOF
  if [ "$L4" = 1 ]; then cat >> "$f" <<EOF

# L4: plain TCP round robin (bulk transfer test)
defaults
  mode tcp
  timeout connect 5s
  timeout client  60s
  timeout server  60s

listen l4_tcp
  bind 127.0.0.1:$L4_HAPROXY_PORT
  balance roundrobin
  server b1 127.0.0.1:18081
  server b2 127.0.0.1:18082
  server b3 127.0.0.1:18083
EOF
  fi
  echo "$f"
}

write_nginx_proxy_conf() {
  local f="$RUN/conf/nginx-proxy-$LAYOUT.conf" workers=$1
  {
    [ "$L4" = 1 ] && echo "load_module $NGINX_STREAM_MODULE;"
    cat <<EOF
# nginx peers (its own instance, $workers worker(s)). Upstream connections are kept alive.
worker_processes $workers;
daemon off;
pid $RT/nginx-proxy.pid;
error_log $RUN/logs/nginx-proxy-$LAYOUT.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
$(nginx_temp_paths proxy)
  proxy_http_version 1.1;
  proxy_set_header Connection "";

  upstream be_rr {            # nginx-rr
    server 127.0.0.1:18081; server 127.0.0.1:18082; server 127.0.0.1:18083;
    keepalive 128; keepalive_requests 1000000;
  }
  upstream be_hash {          # nginx-ip-hash
    hash \$remote_addr consistent;
    server 127.0.0.1:18081; server 127.0.0.1:18082; server 127.0.0.1:18083;
    keepalive 128; keepalive_requests 1000000;
  }
  # nginx-cookie-map: a valid SRV cookie picks a one-server upstream; otherwise round robin, and the
  # answer's X-Backend becomes the cookie (Set-Cookie only when the request had no valid cookie).
  upstream be_b1 { server 127.0.0.1:18081; keepalive 128; keepalive_requests 1000000; }
  upstream be_b2 { server 127.0.0.1:18082; keepalive 128; keepalive_requests 1000000; }
  upstream be_b3 { server 127.0.0.1:18083; keepalive 128; keepalive_requests 1000000; }
  map \$cookie_SRV \$srv_pool   { b1 be_b1; b2 be_b2; b3 be_b3; default be_rr; }
  map \$cookie_SRV \$srv_cookie { b1 ""; b2 ""; b3 ""; default "SRV=\$upstream_http_x_backend; Path=/"; }

  server { listen 127.0.0.1:${PORT[nginx-rr]} backlog=4096;      location / { proxy_pass http://be_rr; } }
  server { listen 127.0.0.1:${PORT[nginx-ip-hash]} backlog=4096; location / { proxy_pass http://be_hash; } }
  server {
    listen 127.0.0.1:${PORT[nginx-cookie-map]} backlog=4096;
    location / { proxy_pass http://\$srv_pool; add_header Set-Cookie \$srv_cookie; }
  }
}
EOF
    if [ "$L4" = 1 ]; then cat <<EOF
stream {                      # L4: plain TCP round robin (bulk transfer test)
  upstream l4 { server 127.0.0.1:18081; server 127.0.0.1:18082; server 127.0.0.1:18083; }
  server { listen 127.0.0.1:$L4_NGINX_PORT; proxy_pass l4; }
}
EOF
    fi
  } > "$f"
  echo "$f"
}

# ------------------------------------------------------------------------------------------------
# Start / stop one layout
# ------------------------------------------------------------------------------------------------
count_cpus() {        # "0-2,5" -> 4
  local n=0 part a b
  IFS=',' read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ "$part" == *-* ]]; then a=${part%-*}; b=${part#*-}; n=$((n + b - a + 1)); else n=$((n + 1)); fi
  done
  echo "$n"
}

# Tether: its own fresh data directory per layout, the management API on $TETHER_API_PORT, and one load balancer per
# Tether target created over the Rackspace v1.0 API (ROUND_ROBIN over the three backends; SERVICENET virtual IP =
# 127.0.0.1, Tether's default private address).  Started with the proxy pinning, like the other peers.
# start_tether KIND: KIND tether = Tether as shipped; tetherk = a second instance with the HTTP/1.1 fast path and
# inline scheduling off (every request through Kestrel's HTTP stack and YARP's IHttpForwarder, on the thread pool).
start_tether() {
  local kind=$1 apiport=$TETHER_API_PORT pid
  local -a envs=()
  if [ "$kind" = tetherk ]; then
    apiport=$TETHERK_API_PORT
    envs=(TETHER_Proxy__Http1FastPath=false TETHER_Proxy__InlineScheduling=false)
  fi
  local data="$RT/$kind-data-$LAYOUT" api="http://127.0.0.1:$apiport/v1.0/1" t i token code body sp
  mkdir -p "$data"
  env DOTNET_CLI_TELEMETRY_OPTOUT=1 "${envs[@]}" "${PROXY_PIN[@]}" dotnet "$TETHER_DLL" serve --data-dir "$data" \
    --listen "http://127.0.0.1:$apiport" >"$RUN/logs/$kind-$LAYOUT.log" 2>&1 &
  pid=$!; STARTED+=("$pid")
  if [ "$kind" = tetherk ]; then TETHERK_PID=$pid; else TETHER_PID=$pid; fi
  wait_port "$apiport" "$pid" "$kind" || return 1
  for i in $(seq 40); do [ -s "$data/admin-token" ] && break; sleep 0.25; done
  token=$(cat "$data/admin-token" 2>/dev/null)
  [ -n "$token" ] || { log "ERROR: tether wrote no admin token in $data"; return 1; }
  for t in "${TARGETS[@]}"; do
    [ "${KIND[$t]}" = "$kind" ] || continue
    sp=""
    [ "${TETHER_PERSISTENCE[$t]}" = none ] || sp=", \"sessionPersistence\": {\"persistenceType\": \"${TETHER_PERSISTENCE[$t]}\"}"
    body="{\"loadBalancer\": {\"name\": \"bench-$t\", \"protocol\": \"HTTP\", \"port\": ${PORT[$t]}, \"algorithm\": \"ROUND_ROBIN\",
  \"virtualIps\": [{\"type\": \"SERVICENET\"}],
  \"nodes\": [{\"address\": \"127.0.0.1\", \"port\": 18081, \"condition\": \"ENABLED\"},
            {\"address\": \"127.0.0.1\", \"port\": 18082, \"condition\": \"ENABLED\"},
            {\"address\": \"127.0.0.1\", \"port\": 18083, \"condition\": \"ENABLED\"}]$sp}}"
    printf '%s\n' "$body" > "$RUN/conf/tether-$LAYOUT-$t.json"
    code=$(curl -s --max-time 10 -o "$RUN/logs/tether-$LAYOUT-create-$t.json" -w '%{http_code}' -X POST "$api/loadbalancers" \
           -H "X-Auth-Token: $token" -H 'Content-Type: application/json' --data-binary "@$RUN/conf/tether-$LAYOUT-$t.json")
    if [ "$code" != 202 ] && [ "$code" != 200 ]; then
      log "ERROR: tether: creating the load balancer for $t answered HTTP $code: $(head -c 300 "$RUN/logs/tether-$LAYOUT-create-$t.json")"
      return 1
    fi
    wait_port "${PORT[$t]}" "$pid" "$kind $t" || return 1
  done
}

start_layout() {
  local conf workers
  if [ "$LAYOUT" = pinned ]; then
    CLIENT_PIN=(taskset -c "$CLIENT_CPUS"); PROXY_PIN=(taskset -c "$PROXY_CPUS")
    workers=$(count_cpus "$PROXY_CPUS")
  else
    CLIENT_PIN=(); PROXY_PIN=()
    workers=$(nproc)
  fi

  # Refuse to start on top of something already listening on our ports (extras excepted).
  local p busy=0
  for p in 18081 18082 18083 18101 18102 18111 18112 18113 18121 18122 18123 18301 18302 18303 $TETHER_API_PORT \
           $L4_HAPROXY_PORT $L4_NGINX_PORT; do
    if port_busy "$p"; then log "ERROR: port $p is already in use (pid $(listener_pid "$p"))"; busy=1; fi
  done
  [ "$busy" = 0 ] || return 1

  conf=$(write_backend_conf)
  "${CLIENT_PIN[@]}" nginx -c "$conf" -e "$RUN/logs/backend-$LAYOUT.error.log" >"$RUN/logs/backend-$LAYOUT.out" 2>&1 &
  BACKEND_PID=$!; STARTED+=("$BACKEND_PID")
  for p in "${BACKEND_PORTS[@]}"; do wait_port "$p" "$BACKEND_PID" backend || return 1; done

  if [ "$NEED_HAPROXY" = 1 ]; then
    conf=$(write_haproxy_conf "$workers")
    "${PROXY_PIN[@]}" haproxy -db -f "$conf" >"$RUN/logs/haproxy-$LAYOUT.log" 2>&1 &
    HAPROXY_PID=$!; STARTED+=("$HAPROXY_PID")
    wait_port "${PORT[haproxy-rr-cookie]}" "$HAPROXY_PID" haproxy || return 1
  fi
  if [ "$NEED_NGINX" = 1 ]; then
    conf=$(write_nginx_proxy_conf "$workers")
    "${PROXY_PIN[@]}" nginx -c "$conf" -e "$RUN/logs/nginx-proxy-$LAYOUT.error.log" >"$RUN/logs/nginx-proxy-$LAYOUT.out" 2>&1 &
    NGINX_PID=$!; STARTED+=("$NGINX_PID")
    wait_port "${PORT[nginx-rr]}" "$NGINX_PID" nginx-proxy || return 1
  fi
  if [ "$NEED_YARP" = 1 ]; then
    # In the pinned layout taskset makes .NET see one CPU (1 GC heap, 1-thread-sized pool).
    DOTNET_CLI_TELEMETRY_OPTOUT=1 "${PROXY_PIN[@]}" dotnet "$YARP_DLL" \
      --Ports:RrCookie="${PORT[yarp-rr-cookie]}" --Ports:Rr="${PORT[yarp-rr]}" --Ports:Hello="${PORT[kestrel-hello]}" \
      >"$RUN/logs/yarp-$LAYOUT.log" 2>&1 &
    YARP_PID=$!; STARTED+=("$YARP_PID")
    wait_port "${PORT[yarp-rr-cookie]}" "$YARP_PID" yarp || return 1
    wait_port "${PORT[kestrel-hello]}" "$YARP_PID" yarp || return 1
  fi
  if need tether; then
    start_tether tether || return 1
  fi
  if need tetherk; then
    start_tether tetherk || return 1
  fi

  # Extras were started by the user; find their pid (for CPU accounting) from the listening socket.
  local t pid aff
  for t in "${TARGETS[@]}"; do
    [ "${KIND[$t]}" = extra ] || continue
    if ! port_busy "${PORT[$t]}"; then log "ERROR: extra target $t: nothing listens on 127.0.0.1:${PORT[$t]}"; return 1; fi
    pid=$(listener_pid "${PORT[$t]}")
    EXTRA_PID[$t]="$pid"
    if [ -z "$pid" ]; then
      log "WARNING: $t: cannot see the pid listening on ${PORT[$t]} (run as root?); its CPU will show as '-'"
    else
      aff=$(taskset -pc "$pid" 2>/dev/null | sed 's/.*: //')
      echo "extra $t ($LAYOUT): port ${PORT[$t]} pid $pid cmd '$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-200)' cpus $aff" >> "$RUN/env.txt"
      if [ "$LAYOUT" = pinned ] && [ "$aff" != "$PROXY_CPUS" ]; then
        log "WARNING: $t (pid $pid) may run on CPUs '$aff', not '$PROXY_CPUS': start it under 'taskset -c $PROXY_CPUS' for the pinned layout"
      fi
    fi
  done
  log "layout $LAYOUT up: backend=$BACKEND_PID haproxy=${HAPROXY_PID:--} nginx=${NGINX_PID:--} yarp=${YARP_PID:--} tether=${TETHER_PID:--} tether-kestrel=${TETHERK_PID:--}"
}

proxy_pid_of() {       # the process whose CPU counts as "proxy" for a target
  local base=${1%+replay}
  case "${KIND[$base]}" in
    haproxy) echo "$HAPROXY_PID" ;;
    nginx)   echo "$NGINX_PID" ;;
    yarp)    echo "$YARP_PID" ;;
    tether)  echo "$TETHER_PID" ;;
    tetherk) echo "$TETHERK_PID" ;;
    extra)   echo "${EXTRA_PID[$base]:-}" ;;
    *)       echo "" ;;
  esac
}

# ------------------------------------------------------------------------------------------------
# Measurement helpers
# ------------------------------------------------------------------------------------------------
ticks_of() {          # utime+stime (clock ticks) of a pid and its children (nginx master + workers)
  local pid=$1 total=0 q v
  [ -n "$pid" ] || { echo 0; return; }
  for q in $pid $(children_of "$pid"); do
    v=$(sed 's/^.*) //' "/proc/$q/stat" 2>/dev/null | awk '{print $12 + $13}')
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
cpu_stat() { awk '/^cpu /{ print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
# background_busy SECONDS: percent of the whole machine busy over SECONDS (nothing of ours under load).
background_busy() {
  local a b
  a=$(cpu_stat); sleep "$1"; b=$(cpu_stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]
    printf "%.0f", (t > 0) ? 100 - 100 * (y[1] - x[1]) / t : 0 }'
}

# wait_quiet: other work on this machine (builds, tests, other benchmarks) takes CPU from the proxy core and from
# the client core and makes every figure lower and noisier.  Wait a while for it to stop; record what it was.
wait_quiet() {
  local waited=0 busy
  busy=$(background_busy 5)
  while [ "$busy" -ge "$QUIET_PCT" ] && [ "$waited" -lt "$WAIT_QUIET" ]; do
    [ "$waited" = 0 ] && log "the machine is $busy % busy before the run (other processes); waiting up to $WAIT_QUIET s for < $QUIET_PCT %"
    sleep 10; waited=$((waited + 15)); busy=$(background_busy 5)
  done
  echo "background load before layout $LAYOUT: $busy % of $(nproc) CPUs busy (5 s sample, after waiting ${waited} s)" >> "$RUN/env.txt"
  if [ "$busy" -ge "$QUIET_PCT" ]; then
    log "WARNING: the machine is still $busy % busy with other work: figures will be low and noisy (see 'other cores')"
  else
    log "machine quiet: $busy % busy"
  fi
}

# proxy_core_stat: "idle total" ticks summed over the proxy CPUs (pinned layout), including time spent in softirq
# (loopback TCP work that /proc/PID/stat does not charge to the proxy process).
proxy_core_stat() {
  awk -v list="$PROXY_CPUS" 'BEGIN { n = split(list, parts, ","); for (i = 1; i <= n; i++) {
        if (split(parts[i], ab, "-") == 2) { for (c = ab[1]; c <= ab[2]; c++) want["cpu" c] = 1 } else want["cpu" parts[i]] = 1 } }
      ($1 in want) { idle += $5 + $6; total += $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }
      END { print idle + 0, total + 0 }' /proc/stat
}

# wrk_once PORT SECONDS OUTFILE [HEADER]: one wrk run (pinned to the client CPU in the pinned layout);
# sets WRK_REAL WRK_USER WRK_SYS from bash `time`.
wrk_once() {
  local port=$1 secs=$2 out=$3 hdr=${4:-}
  local args=(-t"$THREADS" -c"$CONNS" -d"${secs}s" --latency)
  [ -n "$hdr" ] && args+=(-H "$hdr")
  { time "${CLIENT_PIN[@]}" wrk "${args[@]}" "http://127.0.0.1:$port/" >"$out" 2>&1 ; } 2>"$RT/time.txt"
  read -r WRK_REAL WRK_USER WRK_SYS < "$RT/time.txt"
}
wrk_rps() { awk '/^Requests\/sec:/ { printf "%.2f", $2; found=1 } END { if (!found) printf "0" }' "$1"; }
wrk_pct_ms() {        # wrk_pct_ms 99% FILE -> latency in ms
  awk -v q="$1" '$1 == q {
      v = $2
      if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 }
      else if (v ~ /ms$/) { sub(/ms$/, "", v) }
      else if (v ~ /s$/)  { sub(/s$/, "", v); v = v * 1000 }
      printf "%.3f", v; found = 1; exit }
    END { if (!found) printf "-" }' "$2"
}
wrk_errors() {        # "none" or e.g. "read=3,non2xx=12"
  awk '/Socket errors:/ { gsub(",", ""); if ($4) e = e "connect=" $4 ","; if ($6) e = e "read=" $6 ",";
                                           if ($8) e = e "write=" $8 ","; if ($10) e = e "timeout=" $10 "," }
       /Non-2xx or 3xx responses:/ { e = e "non2xx=" $5 "," }
       /^Requests\/sec:/ { ok = 1 }
       END { if (!ok) e = e "wrk-failed,"; sub(/,$/, "", e); print (e == "" ? "none" : e) }' "$1"
}

# proxy_alive TARGET: false (and the target is excluded, once) when the process behind it is gone.  Another
# program on the machine may stop it (a `pkill -f tether` elsewhere did, once); a dead target gets no figure.
declare -A DEAD
proxy_alive() {
  local t=$1 ppid
  [ -z "${DEAD[$t]:-}" ] || return 1
  ppid=$(proxy_pid_of "$t")
  if [ -n "$ppid" ] && ! kill -0 "$ppid" 2>/dev/null; then
    DEAD[$t]=1
    log "ERROR: $t: its process (pid $ppid) has exited; no figure for it (see $RUN/logs/)"
    printf '%s\t%s\t%s\n' "$LAYOUT" "$t" "its process (pid $ppid) exited during the run, at $(date +%H:%M:%S) or before" >> "$RUN/excluded.tsv"
    return 1
  fi
  return 0
}

# measure TARGET ROUND: one measured run -> a raw.tsv row
measure() {
  local t=$1 round=$2 port=${PORT[${1%+replay}]} hdr=${HDR[$1]:-}
  local ppid bpid out p0 p1 b0 b1 s0 s1 c0 c1
  proxy_alive "$t" || return 0
  ppid=$(proxy_pid_of "$t"); bpid=$BACKEND_PID
  out="$RUN/logs/wrk-$LAYOUT-$t-r$round.txt"
  p0=$(ticks_of "$ppid"); b0=$(ticks_of "$bpid"); s0=$(cpu_stat); c0=$(proxy_core_stat)
  wrk_once "$port" "$DURATION" "$out" "$hdr"
  proxy_alive "$t" || return 0
  p1=$(ticks_of "$ppid"); b1=$(ticks_of "$bpid"); s1=$(cpu_stat); c1=$(proxy_core_stat)
  local rps p50 p99 err
  rps=$(wrk_rps "$out"); p50=$(wrk_pct_ms 50% "$out"); p99=$(wrk_pct_ms 99% "$out"); err=$(wrk_errors "$out")
  awk -v L="$LAYOUT" -v T="$t" -v R="$round" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v err="$err" \
      -v real="$WRK_REAL" -v u="$WRK_USER" -v s="$WRK_SYS" -v hz="$CLK_TCK" \
      -v p0="$p0" -v p1="$p1" -v b0="$b0" -v b1="$b1" -v haveproxy="${ppid:+1}" \
      -v s0="$s0" -v s1="$s1" -v c0="$c0" -v c1="$c1" -v pinned="$([ "$LAYOUT" = pinned ] && echo 1)" 'BEGIN {
        split(s0, a, " "); split(s1, b, " ")
        idle = (b[2] > a[2]) ? 100 * (b[1] - a[1]) / (b[2] - a[2]) : 0
        split(c0, x, " "); split(c1, y, " ")
        busy = (pinned && y[2] > x[2]) ? sprintf("%.0f", 100 - 100 * (y[1] - x[1]) / (y[2] - x[2])) : "-"
        pc = haveproxy ? sprintf("%.2f", (p1 - p0) / hz / real) : "-"
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%.2f\t%.0f\t%s\t%s\n", L, T, R, rps, p50, p99,
               (u + s) / real, pc, (b1 - b0) / hz / real, idle, err, busy }' >> "$RUN/raw.tsv"
  tail -n 1 "$RUN/raw.tsv" | awk -F'\t' '{ printf "  %-26s round %s: %10s rps  p50 %s ms  p99 %s ms  proxy %s cores (proxy CPU busy %s%%)  errors %s\n", $2, $3, $4, $5, $6, $8, $12, $11 }' | tee -a "$RUN/logs/run.log" >&2
}

# warmup TARGET: 5 s steps until two consecutive steps differ by < WARMUP_TOL %, at least WARMUP_MIN steps for .NET
# targets (tiered JIT + dynamic PGO need 35-50 s of full load on one core) and WARMUP_MIN_NATIVE for the others,
# at most WARMUP_MAX.
# With --warmup-min 1 a single step is enough (smoke tests).
warmup() {
  local t=$1 port=${PORT[${1%+replay}]} hdr=${HDR[$1]:-} i=1 prev="" rps vals="" min=$WARMUP_MIN
  case "${KIND[${1%+replay}]}" in yarp|tether|tetherk|extra) ;; *) min=$WARMUP_MIN_NATIVE ;; esac
  proxy_alive "$t" || return 0
  while :; do
    wrk_once "$port" "$WARMUP_STEP" "$RT/warmup.txt" "$hdr"
    rps=$(wrk_rps "$RT/warmup.txt"); rps=${rps%.*}
    vals="$vals${vals:+ }$rps"
    [ "$i" -ge "$WARMUP_MAX" ] && break
    if [ "$i" -ge "$min" ]; then
      [ "$i" = 1 ] && break
      awk -v a="$prev" -v b="$rps" -v tol="$WARMUP_TOL" 'BEGIN { d = (a > 0) ? (b - a) / a : 1; if (d < 0) d = -d; exit !(d * 100 < tol) }' && break
    fi
    prev=$rps; i=$((i + 1))
  done
  printf '%s\t%s\t%s\t%s\n' "$LAYOUT" "$t" "$WARMUP_STEP" "$vals" >> "$RUN/warmup.tsv"
  log "  warm-up $t: $vals"
}

# ------------------------------------------------------------------------------------------------
# Stickiness checks (curl)
# ------------------------------------------------------------------------------------------------
headers_of() { curl -s --max-time 5 -o /dev/null -D - "$@" | tr -d '\r'; }
backend_in() { awk -F': *' 'tolower($1) == "x-backend" { print $2; f = 1 } END { if (!f) print "none" }'; }
distinct() { sort -u | grep -c .; }

sticky_check() {
  local t=$1 url="http://127.0.0.1:${PORT[$1]}/" jar="$RT/jar" i n d max=0 jar_d nock_d all_d
  : > "$jar"; : > "$RT/heads"
  jar_d=$(for i in $(seq 20); do headers_of -c "$jar" -b "$jar" "$url" | tee -a "$RT/heads" | backend_in; done | distinct)
  nock_d=$(for i in $(seq 20); do headers_of "$url" | tee -a "$RT/heads" | backend_in; done | distinct)
  : > "$RT/srcip-all"
  for n in $(seq 11 22); do       # 12 client addresses on loopback (127/8 is all local on Linux)
    d=$(for i in 1 2 3; do headers_of --interface "127.0.0.$n" "$url" | tee -a "$RT/heads" | backend_in; done | tee -a "$RT/srcip-all" | distinct)
    [ "$d" -gt "$max" ] && max=$d
  done
  all_d=$(distinct < "$RT/srcip-all")
  # Every one of the 76 answers must be a 2xx (a missing answer counts too).
  local answers bad
  answers=$(grep -c '^HTTP/' "$RT/heads"); bad=$(grep '^HTTP/' "$RT/heads" | awk '$2 !~ /^2/' | grep -c .)
  bad=$((bad + 76 - answers))
  local nb=${#BACKEND_PORTS[@]} verdict
  case "${EXPECT[$t]}" in
    cookie) [ "$jar_d" = 1 ] && [ "$nock_d" = "$nb" ] && verdict=ok || verdict=FAIL ;;
    source) [ "$max" = 1 ] && [ "$all_d" -gt 1 ] && verdict=ok || verdict=FAIL ;;
    none)   [ "$jar_d" = "$nb" ] && [ "$nock_d" = "$nb" ] && verdict=ok || verdict=FAIL ;;
    single) [ "$jar_d" = 1 ] && [ "$nock_d" = 1 ] && verdict=ok || verdict=FAIL ;;
    *)      verdict=- ;;
  esac
  if [ "$bad" -gt 0 ]; then verdict=FAIL; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$LAYOUT" "$t" "$jar_d" "$nock_d" "$max" "$all_d" "${EXPECT[$t]}" "$verdict" >> "$RUN/sticky.tsv"
  log "  sticky $t: jar=$jar_d no-cookie=$nock_d per-ip-max=$max across-ips=$all_d non-2xx=$bad/76 (expect ${EXPECT[$t]}: $verdict)"
  if [ "$verdict" = FAIL ]; then
    printf '%s\t%s\t%s\n' "$LAYOUT" "$t" "stickiness check failed: jar=$jar_d no-cookie=$nock_d per-ip-max=$max across-ips=$all_d non-2xx=$bad/76, expected ${EXPECT[$t]}" >> "$RUN/excluded.tsv"
    return 1
  fi
  return 0
}

# replay_prepare TARGET: get the persistence cookie with curl; if the target sets one, add TARGET+replay
# (wrk then sends "Cookie: ..." on every request, so the proxy validates a cookie instead of issuing one).
replay_prepare() {
  local t=$1 url="http://127.0.0.1:${PORT[$1]}/" cookie i h backends setc verdict
  cookie=$(headers_of "$url" | awk 'tolower($1) == "set-cookie:" { sub(/^[^:]*: */, ""); sub(/;.*/, ""); printf "%s%s", (n++ ? "; " : ""), $0 }')
  [ -n "$cookie" ] || return 1
  HDR["$t+replay"]="Cookie: $cookie"
  # Check: 20 requests with that cookie should all reach one backend, and ideally get no new Set-Cookie.
  : > "$RT/replay-b"; setc=0
  for i in $(seq 20); do
    h=$(headers_of -H "Cookie: $cookie" "$url")
    backend_in <<<"$h" >> "$RT/replay-b"
    grep -qi '^set-cookie:' <<<"$h" && setc=$((setc + 1))
  done
  backends=$(distinct < "$RT/replay-b")
  [ "$backends" = 1 ] && verdict=ok || verdict=FAIL
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$LAYOUT" "$t+replay" "$cookie" "$backends" "$setc" "$verdict" >> "$RUN/replay.tsv"
  log "  replay $t: cookie '${cookie:0:60}' -> $backends backend(s), $setc/20 responses re-set a cookie ($verdict)"
  if [ "$verdict" = FAIL ]; then
    printf '%s\t%s\t%s\n' "$LAYOUT" "$t+replay" "cookie replay check failed: 20 requests with the cookie reached $backends backends" >> "$RUN/excluded.tsv"
    return 1
  fi
  return 0
}

# ------------------------------------------------------------------------------------------------
# L4 bulk test: one curl process fetches /big.bin 32 times over one keep-alive connection.
# ------------------------------------------------------------------------------------------------
l4_sample() {         # l4_sample NAME PORT PROXYPID ROUND -> tcp.tsv row
  local name=$1 port=$2 ppid=$3 round=$4 args=() i t0 t1 bytes p0 p1
  for i in $(seq "$L4_FETCHES"); do args+=(-o /dev/null "http://127.0.0.1:$port/big.bin"); done
  p0=$(ticks_of "$ppid"); t0=$(date +%s%N)
  bytes=$("${CLIENT_PIN[@]}" curl -s -w '%{size_download}\n' "${args[@]}" | awk '{ s += $1 } END { printf "%.0f", s }')
  t1=$(date +%s%N); p1=$(ticks_of "$ppid")
  local want=$((L4_FETCHES * L4_FILE_MIB * 1048576)) ok=ok
  [ "$bytes" = "$want" ] || ok="short:$bytes"
  awk -v L="$LAYOUT" -v T="$name" -v R="$round" -v b="$bytes" -v t0="$t0" -v t1="$t1" -v p0="$p0" -v p1="$p1" \
      -v hz="$CLK_TCK" -v have="${ppid:+1}" -v ok="$ok" 'BEGIN { s = (t1 - t0) / 1e9
        printf "%s\t%s\t%s\t%.0f\t%s\t%s\n", L, T, R, b / s / 1e6, have ? sprintf("%.2f", (p1 - p0) / hz / s) : "-", ok }' >> "$RUN/tcp.tsv"
  tail -n 1 "$RUN/tcp.tsv" | awk -F'\t' '{ printf "  %-18s round %s: %6s MB/s  proxy %s cores  %s\n", $2, $3, $4, $5, $6 }' | tee -a "$RUN/logs/run.log" >&2
}

# ------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------
{
  echo "date: $(date -Iseconds)"
  echo "kernel: $(uname -r)"
  echo "cpu: $(nproc) x $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "os: $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}")"
  echo "tether: $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown) ($(git -C "$repo" log -1 --format=%cs 2>/dev/null))"
  command -v haproxy >/dev/null && echo "haproxy: $(haproxy -v 2>&1 | head -n 1)"
  echo "nginx: $(nginx -v 2>&1)"
  echo "wrk: $(wrk -v 2>&1 | head -n 1)"
  command -v dotnet >/dev/null && echo "dotnet: $(dotnet --version 2>/dev/null)"
  echo "curl: $(curl --version | head -n 1)"
  echo "params: layouts=[$LAYOUTS] rounds=$ROUNDS duration=$DURATION warmup=${WARMUP_STEP}s-steps(min $WARMUP_MIN .NET / $WARMUP_MIN_NATIVE native, max $WARMUP_MAX, tol $WARMUP_TOL%) quick=$QUICK conns=$CONNS threads=$THREADS replay-cookie=$REPLAY l4=$L4 client-cpus=$CLIENT_CPUS proxy-cpus=$PROXY_CPUS"
  echo "targets: ${TARGETS[*]}"
  env | grep -E '^DOTNET_' | sed 's/^/env: /'
} > "$RUN/env.txt"
printf 'layout\ttarget\tround\trps\tp50_ms\tp99_ms\twrk_cpu\tproxy_cpu\tbackend_cpu\tidle_pct\terrors\tproxy_core_busy_pct\n' > "$RUN/raw.tsv"
printf 'layout\ttarget\tstep_s\trps_per_step\n' > "$RUN/warmup.tsv"
printf 'layout\ttarget\treason\n' > "$RUN/excluded.tsv"
printf 'layout\ttarget\tcookie_jar_distinct\tno_cookie_distinct\tsrcip_per_ip_max_distinct\tsrcip_overall_distinct\texpect\tcheck\n' > "$RUN/sticky.tsv"
[ "$REPLAY" = 1 ] && printf 'layout\ttarget\tcookie\tdistinct_backends_20req\tset_cookie_responses_20req\tcheck\n' > "$RUN/replay.tsv"
[ "$L4" = 1 ] && printf 'layout\ttarget\tround\tMBps\tproxy_cpu\tbytes_check\n' > "$RUN/tcp.tsv"

log "results: $RUN"
log "targets: ${TARGETS[*]}"
for LAYOUT in $LAYOUTS; do
  log "=== layout $LAYOUT"
  wait_quiet
  if ! start_layout; then log "ERROR: could not start layout $LAYOUT"; stop_all; exit 1; fi

  # A target that does not balance and persist as it should gets no figure (it is listed in excluded.tsv).
  log "stickiness checks"
  OK_TARGETS=()
  for t in "${TARGETS[@]}"; do
    if sticky_check "$t"; then OK_TARGETS+=("$t"); else log "  $t: FAILED the stickiness check: no figure for it"; fi
  done

  RUN_TARGETS=("${OK_TARGETS[@]}")
  if [ "$REPLAY" = 1 ]; then
    log "cookie replay: fetching persistence cookies"
    for t in "${OK_TARGETS[@]}"; do
      replay_prepare "$t" && RUN_TARGETS+=("$t+replay")
    done
  fi
  if [ "${#RUN_TARGETS[@]}" = 0 ]; then log "ERROR: no target passed the checks"; stop_all; continue; fi

  log "warm-up (${WARMUP_STEP} s steps; at least $WARMUP_MIN for .NET targets, $WARMUP_MIN_NATIVE for the others; at most $WARMUP_MAX)"
  for t in "${RUN_TARGETS[@]}"; do warmup "$t"; done

  for r in $(seq "$ROUNDS"); do
    log "round $r/$ROUNDS"
    for t in "${RUN_TARGETS[@]}"; do measure "$t" "$r"; done
  done

  if [ "$L4" = 1 ]; then
    log "L4 bulk test (${L4_FETCHES} x ${L4_FILE_MIB} MiB per sample)"
    [ -f "$RT/big.bin" ] || head -c $((L4_FILE_MIB * 1048576)) /dev/urandom > "$RT/big.bin"
    chmod 644 "$RT/big.bin"
    for r in $(seq "$ROUNDS"); do
      l4_sample tcp-direct 18081 "" "$r"
      l4_sample tcp-haproxy "$L4_HAPROXY_PORT" "$HAPROXY_PID" "$r"
      l4_sample tcp-nginx-stream "$L4_NGINX_PORT" "$NGINX_PID" "$r"
    done
  fi

  log "stopping layout $LAYOUT"
  stop_all
done

"$here/report.sh" "$RUN" > "$RUN/summary.md"
cat "$RUN/summary.md"
log "done: $RUN/summary.md"
