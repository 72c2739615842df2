#!/usr/bin/env bash
# Large bodies through HAProxy (mode http) and Tether (HTTP/1.1 fast path), side by side: GET of 100 KiB and 1 MiB
# answers and POST of 256 KiB request bodies, one nginx worker behind both. Pinned as bench/load/run.sh: the proxies
# on CPU 1, wrk and nginx on CPU 0. Prints req/s and proxy CPU µs per request per round.
#
#   sudo bench/load/bodies.sh            # from the repository root; about 4 minutes
#   ROUNDS=5 sudo bench/load/bodies.sh
#   KEEP=1 bench/load/bodies.sh          # leave the processes and the temporary folder for a look afterwards
#
# Needs haproxy, nginx, wrk (installed from Debian's packages when missing, as run.sh does) and the .NET SDK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
RT=$(mktemp -d /tmp/tether-bodies.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$RT"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

for c in haproxy nginx wrk curl taskset; do
  command -v "$c" >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy nginx wrk curl >/dev/null; break; }
done

echo "bodies.sh: building Tether (Release)"
dotnet publish "$repo/src/Tether" -c Release -o "$RT/tether" --nologo -v quiet >/dev/null

mkdir -p "$RT/www" "$RT/logs"
chmod 755 "$RT" "$RT/www"   # nginx workers run as an unprivileged user
head -c 102400 /dev/urandom > "$RT/www/100k.bin"
head -c 1048576 /dev/urandom > "$RT/www/1m.bin"
printf 'wrk.method = "POST"\nwrk.body = string.rep("x", 262144)\n' > "$RT/post.lua"

cat > "$RT/nginx.conf" <<EOF
worker_processes 1; daemon off; pid $RT/nginx.pid; error_log $RT/logs/nginx.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000; client_max_body_size 0;
  server { listen 127.0.0.1:18581; root $RT/www; location /upload { return 200 "ok\n"; } } }
EOF
cat > "$RT/haproxy.cfg" <<EOF
global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:18582
  default_backend be
backend be
  http-reuse safe
  server s1 127.0.0.1:18581
EOF

taskset -c 0 nginx -c "$RT/nginx.conf" -e "$RT/logs/nginx.log" >/dev/null 2>&1 & PIDS+=($!)
taskset -c 1 haproxy -f "$RT/haproxy.cfg" >"$RT/logs/haproxy.log" 2>&1 & HAPROXY=$!; PIDS+=($HAPROXY)
(cd "$RT" && exec taskset -c 1 dotnet "$RT/tether/tether.dll" serve --data-dir "$RT/data" --listen http://127.0.0.1:18590 \
  >"$RT/logs/tether.log" 2>&1) & TETHER=$!; PIDS+=($TETHER)
for i in $(seq 100); do [ -s "$RT/data/admin-token" ] && break; sleep 0.2; done
for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18590/ && break; sleep 0.2; done
curl -sf -o /dev/null -X POST http://127.0.0.1:18590/v1.0/1/loadbalancers -H "X-Auth-Token: $(cat "$RT/data/admin-token")" \
  -H 'Content-Type: application/json' -d '{"loadBalancer":{"name":"bodies","port":18583,"protocol":"HTTP",
  "virtualIps":[{"type":"SERVICENET"}],"nodes":[{"address":"127.0.0.1","port":18581,"condition":"ENABLED"}]}}'
for port in 18581 18582 18583; do
  for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/100k.bin" && break; sleep 0.1; done
done
for port in 18582 18583; do
  [ "$(curl -s "http://127.0.0.1:$port/1m.bin" | sha256sum)" = "$(sha256sum < "$RT/www/1m.bin")" ] \
    || { echo "bodies.sh: port $port does not pass the 1 MiB body intact" >&2; exit 1; }
done

TPID=$TETHER   # the subshell exec'd taskset, which exec'd dotnet: the same pid
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick=$(getconf CLK_TCK)
run() {   # run NAME PORT PID PATH [WRK-ARGS...]
  local name=$1 port=$2 pid=$3 path=$4; shift 4
  local c0 c1 out rps
  c0=$(cpu "$pid")
  out=$(taskset -c 0 wrk -t1 -c8 -d"${DURATION}s" "$@" "http://127.0.0.1:$port$path")
  c1=$(cpu "$pid")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  printf '| %s | %s | %.0f | %.1f |\n' "$name" "$([ "$port" = 18582 ] && echo HAProxy || echo Tether)" "$rps" \
    "$(echo "($c1 - $c0) * 1000000 / $tick / ($rps * $DURATION)" | bc -l)"
}

echo "bodies.sh: warming Tether up (40 s)"
taskset -c 0 wrk -t1 -c8 -d20s "http://127.0.0.1:18583/100k.bin" >/dev/null
taskset -c 0 wrk -t1 -c8 -d20s -s "$RT/post.lua" "http://127.0.0.1:18583/upload" >/dev/null
echo
echo "| test | proxy | req/s | proxy µs CPU/req |"
echo "|---|---|---:|---:|"
for r in $(seq "$ROUNDS"); do
  for port in 18582 18583; do
    pid=$HAPROXY; [ "$port" = 18583 ] && pid=$TPID
    run "GET 100 KiB (round $r)" "$port" "$pid" /100k.bin
    run "GET 1 MiB (round $r)" "$port" "$pid" /1m.bin
    run "POST 256 KiB (round $r)" "$port" "$pid" /upload -s "$RT/post.lua"
  done
done
