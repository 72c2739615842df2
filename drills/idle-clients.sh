#!/usr/bin/env bash
# Drill: many idle HTTP/1.1 keep-alive clients (issue 10, R5).  One command, run from anywhere in the repository:
#
#   drills/idle-clients.sh                     # 10,000 idle clients, then 2,000 more requests
#   drills/idle-clients.sh --quick             # 500 idle clients, 200 more requests (CI; well under a minute after the build)
#   drills/idle-clients.sh --clients 10000 --max-node-connections 300
#
# What it does (drills/README.md has more):
#  1. installs python3, ss (iproute2) and curl with apt-get if one is missing (root, Debian); needs the .NET SDK;
#  2. raises its own `ulimit -n` to the hard limit and says so when that is too low for the run;
#  3. builds Tether (Release), starts it on a fresh temporary data directory and a free management port, starts
#     three asyncio HTTP/1.1 keep-alive backends (python3, one process), creates an HTTP load balancer (ROUND_ROBIN,
#     SERVICENET = 127.0.0.1) over them through the API and waits until it answers;
#  4. opens N idle keep-alive clients: each sends one `GET / HTTP/1.1`, reads the whole answer and stays connected;
#  5. while they idle: counts the established connections to the backend ports (ss, a few samples) and makes M more
#     requests from 50 clients (a fresh connection every 10 requests), counting 200s and failures;
#  6. prints the figures and a last line `idle-clients: N clients, K node connections, M ok, F failed`; exits 1 if a
#     client could not connect or was not answered 200, an extra request failed, or (--max-node-connections K) more
#     than K node connections were seen; 2 for a setup failure (build, start, load balancer).
#
# Everything it starts is stopped by the pid it got (trap on exit, Ctrl-C included); nothing is stopped by name.
# All traffic stays on 127.0.0.1.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

CLIENTS=10000
EXTRA=2000
CONCURRENCY=50
BACKENDS=3
MAX_NODE=""
KEEP=0
BUILD=1
TETHER_DLL=""
SETTINGS=()

usage() {
  cat <<'TXT'
usage: drills/idle-clients.sh [options]
  --clients N                  idle keep-alive clients (default 10000)
  --extra M                    requests made while they idle (default 2000)
  --concurrency C              clients making the extra requests (default 50)
  --quick                      --clients 500 --extra 200 (CI)
  --max-node-connections K     fail if more than K connections from Tether to the backends were seen
  --setting KEY=VALUE          a Tether setting, e.g. Proxy:MaxConnectionsPerNode=64 (passed as TETHER_ variable;
                               repeatable)
  --backends B                 number of backends (default 3)
  --no-build                   use the last Release build (src/Tether/bin/Release)
  --tether-dll PATH            use this tether.dll (an already built Tether, e.g. the test project's output); no build
  --keep                       keep the temporary directory (Tether's log, data) and print its path
TXT
}

while [ $# -gt 0 ]; do
  case "$1" in
    --clients) CLIENTS="$2"; shift 2 ;;
    --extra) EXTRA="$2"; shift 2 ;;
    --concurrency) CONCURRENCY="$2"; shift 2 ;;
    --quick) CLIENTS=500; EXTRA=200; shift ;;
    --max-node-connections) MAX_NODE="$2"; shift 2 ;;
    --setting) SETTINGS+=("$2"); shift 2 ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --tether-dll) TETHER_DLL="$2"; BUILD=0; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "idle-clients: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in CLIENTS EXTRA CONCURRENCY BACKENDS ${MAX_NODE:+MAX_NODE}; do
  case "${!v}" in ''|*[!0-9]*) echo "idle-clients: $v must be a whole number (got '${!v}')" >&2; exit 2 ;; esac
done
[ "$CONCURRENCY" -ge 1 ] && [ "$BACKENDS" -ge 1 ] && [ "$CLIENTS" -ge 1 ] || { echo "idle-clients: counts must be at least 1" >&2; exit 2; }

if [ -n "$TETHER_DLL" ]; then
  [ -f "$TETHER_DLL" ] || { echo "idle-clients: --tether-dll: no file '$TETHER_DLL'" >&2; exit 2; }
  TETHER_DLL="$(cd "$(dirname "$TETHER_DLL")" && pwd)/$(basename "$TETHER_DLL")"
fi

log() { printf '[idle-clients %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

# ------------------------------------------------------------------------------------------------
# cleanup: only what this script started, by pid
# ------------------------------------------------------------------------------------------------
WORK=""
TETHER_PID=""
BACKEND_PID=""
stop_pid() {  # pid name
  local pid="$1" i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then log "$2 (pid $pid) did not stop in 10 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null; fi
  wait "$pid" 2>/dev/null
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$TETHER_PID" tether
  stop_pid "$BACKEND_PID" backends
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "$KEEP" = 1 ]; then log "kept $WORK (tether.log, backends.log, data/)"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

tether_log_tail() {
  [ -n "$WORK" ] && [ -f "$WORK/tether.log" ] || return 0
  log "last lines of Tether's log ($WORK/tether.log):"
  tail -n 30 "$WORK/tether.log" >&2
}

# ------------------------------------------------------------------------------------------------
# 1. what it needs
# ------------------------------------------------------------------------------------------------
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v ss >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
command -v timeout >/dev/null || missing+=(coreutils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]} (apt-get)"
    timeout 300 apt-get update -qq >&2 || log "apt-get update failed; trying the install anyway"
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
      || die "could not install ${missing[*]}"
  else
    die "missing ${missing[*]}; install them (as root on Debian this script does it with apt-get)"
  fi
fi
command -v dotnet >/dev/null || die "the .NET SDK (dotnet, >= 10.0.100) is needed; see README.md"

# ------------------------------------------------------------------------------------------------
# 2. descriptors
# ------------------------------------------------------------------------------------------------
hard="$(ulimit -Hn)"
if [ "$hard" = unlimited ]; then ulimit -n 1048576 2>/dev/null || ulimit -n unlimited 2>/dev/null; else ulimit -n "$hard" 2>/dev/null; fi
soft="$(ulimit -n)"
# today each idle client holds a client connection and a node connection in Tether: about 2 descriptors per client
need_tether=$((2 * CLIENTS + 2 * CONCURRENCY + 500))
need_client=$((CLIENTS + CONCURRENCY + 200))
log "open files: soft limit now $soft (hard $hard); every process started here inherits it"
if [ "$soft" != unlimited ]; then
  if [ "$soft" -lt "$need_client" ]; then
    log "WARNING: $CLIENTS clients need about $need_client descriptors in the client process, more than the limit $soft;"
    log "         raise the hard limit (ulimit -Hn, /etc/security/limits.conf, LimitNOFILE=, docker --ulimit nofile=)"
  fi
  if [ "$soft" -lt "$need_tether" ]; then
    log "WARNING: Tether may need about $need_tether descriptors ($CLIENTS client connections + as many node"
    log "         connections while each client keeps its own) but may open only $soft: expect accept/connect"
    log "         failures (EMFILE) near the end. Raise the hard limit to measure without this ceiling."
  fi
fi

# ------------------------------------------------------------------------------------------------
# 3. build, start, load balancer
# ------------------------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tether-idle-drill.XXXXXX")" || die "mktemp failed"
mkdir -p "$WORK/data"
cd "$repo" || die "cannot enter $repo"
if [ "$BUILD" = 1 ]; then
  log "building Tether (Release)"
  if ! timeout 900 dotnet build -c Release -nologo -v:q src/Tether/Tether.csproj >"$WORK/build.log" 2>&1; then
    tail -n 30 "$WORK/build.log" >&2
    die "build failed"
  fi
fi
if [ -n "$TETHER_DLL" ]; then
  dll="$TETHER_DLL"
else
  dll="$(timeout 120 dotnet msbuild src/Tether/Tether.csproj -nologo -getProperty:TargetPath -p:Configuration=Release 2>/dev/null | tail -n 1)"
  [ -f "$dll" ] || die "no Tether build at '$dll' (run without --no-build)"
fi

read -r -a ports <<<"$(timeout 30 python3 "$here/idle_clients.py" ports $((BACKENDS + 2)))" || die "no free ports"
[ "${#ports[@]}" -eq $((BACKENDS + 2)) ] || die "no free ports"
MGMT_PORT="${ports[0]}"; LB_PORT="${ports[1]}"; BACKEND_PORTS=("${ports[@]:2}")
backend_csv="$(IFS=,; echo "${BACKEND_PORTS[*]}")"

log "starting $BACKENDS backends on 127.0.0.1:${backend_csv//,/,:}"
python3 "$here/idle_clients.py" backend "${BACKEND_PORTS[@]}" >"$WORK/backends.log" 2>&1 &
BACKEND_PID=$!

env_settings=()
for s in "${SETTINGS[@]+"${SETTINGS[@]}"}"; do
  key="${s%%=*}"; value="${s#*=}"
  [ "$key" != "$s" ] && [ -n "$key" ] || die "--setting wants KEY=VALUE (got '$s')"
  key="TETHER_$(echo "$key" | sed 's/:/__/g' | tr '[:lower:]' '[:upper:]')"
  env_settings+=("$key=$value")
  log "setting $key=$value"
done

log "starting Tether: management 127.0.0.1:$MGMT_PORT, data $WORK/data"
# from the temporary directory, so that no ./tether.json of the caller is read
(cd "$WORK" && exec env "${env_settings[@]+"${env_settings[@]}"}" dotnet "$dll" serve --data-dir "$WORK/data" \
  --listen "http://127.0.0.1:$MGMT_PORT" >"$WORK/tether.log" 2>&1) &
TETHER_PID=$!

API="http://127.0.0.1:$MGMT_PORT/v1.0/1"
token=""
for i in $(seq 1 120); do
  kill -0 "$TETHER_PID" 2>/dev/null || { tether_log_tail; die "Tether exited while starting"; }
  [ -s "$WORK/data/admin-token" ] && token="$(cat "$WORK/data/admin-token")"
  if [ -n "$token" ] && [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $token" "$API/loadbalancers")" = 200 ]; then
    break
  fi
  sleep 0.5
done
[ -n "$token" ] && [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $token" "$API/loadbalancers")" = 200 ] \
  || { tether_log_tail; die "Tether's API did not answer within 60 s"; }
kill -0 "$BACKEND_PID" 2>/dev/null || { cat "$WORK/backends.log" >&2; die "the backends exited"; }

nodes=""
for p in "${BACKEND_PORTS[@]}"; do nodes+="${nodes:+,}{\"address\": \"127.0.0.1\", \"port\": $p, \"condition\": \"ENABLED\"}"; done
body="{\"loadBalancer\": {\"name\": \"idle-drill\", \"protocol\": \"HTTP\", \"port\": $LB_PORT, \"algorithm\": \"ROUND_ROBIN\",
  \"virtualIps\": [{\"type\": \"SERVICENET\"}], \"nodes\": [$nodes]}}"
code="$(curl -s -m 30 -o "$WORK/create.json" -w '%{http_code}' -X POST "$API/loadbalancers" -H "X-Auth-Token: $token" \
  -H 'Content-Type: application/json' -d "$body")"
case "$code" in 200|201|202) ;; *) cat "$WORK/create.json" >&2; echo >&2; tether_log_tail; die "creating the load balancer: HTTP $code" ;; esac

answered=""
for i in $(seq 1 60); do
  if [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LB_PORT/")" = 200 ]; then answered=1; break; fi
  kill -0 "$TETHER_PID" 2>/dev/null || break
  sleep 0.5
done
[ -n "$answered" ] || { tether_log_tail; die "the load balancer on 127.0.0.1:$LB_PORT did not answer 200 within 30 s"; }
log "load balancer on 127.0.0.1:$LB_PORT answers; tether pid $TETHER_PID"
sleep 1  # let the check's node connection settle; the drill samples the count before the clients too

# ------------------------------------------------------------------------------------------------
# 4-6. the drill
# ------------------------------------------------------------------------------------------------
tether_limit="$(awk '/Max open files/ {print $4}' "/proc/$TETHER_PID/limits" 2>/dev/null)"
python3 "$here/idle_clients.py" drill --lb-port "$LB_PORT" --backend-ports "$backend_csv" --tether-pid "$TETHER_PID" \
  --tether-fd-limit "${tether_limit:-?}" --clients "$CLIENTS" --extra "$EXTRA" --concurrency "$CONCURRENCY" \
  ${MAX_NODE:+--max-node-connections "$MAX_NODE"}
rc=$?
[ "$rc" -ge 128 ] && log "the drill was stopped (exit $rc)"
if ! kill -0 "$TETHER_PID" 2>/dev/null; then
  wait "$TETHER_PID" 2>/dev/null; st=$?
  if [ "$st" -gt 128 ]; then log "Tether died during the drill: exit status $st (signal $((st - 128)), $(kill -l $((st - 128)) 2>/dev/null))"
  else log "Tether exited during the drill: exit status $st"; fi
  TETHER_PID=""
  [ "$rc" -eq 0 ] && rc=1
fi
# the backends' own count (their side of the same connections), printed when they stop
stop_pid "$BACKEND_PID" backends; BACKEND_PID=""
backend_line="$(grep 'backend: stopping' "$WORK/backends.log" | tail -n 1)"
log "backend side: ${backend_line#backend: stopping; }"
# Tether's warnings and errors, without the expected first-start token notice (event 3000)
problems() { grep -E ' (fail|crit|warn):' "$WORK/tether.log" 2>/dev/null | grep -v 'TokenAuthenticator\[3000\]'; }
errors="$(problems | wc -l)"
if [ "$errors" -gt 0 ]; then
  log "Tether's log has $errors warning/error lines; the most frequent:"
  problems | cut -d' ' -f2- | cut -c1-200 | sort | uniq -c | sort -rn | head -n 8 >&2
fi
[ "$rc" -ne 0 ] && tether_log_tail
exit "$rc"
