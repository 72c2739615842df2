#!/usr/bin/env bash
# Content caching (issue 12): one Tether, two HTTP load balancers over the same nginx node, content caching off (port
# 18602) and on (18603), wrk against a cacheable 4 KiB page (Cache-Control: max-age=60) on each, in one run. Prints
# req/s, the requests that reached the node (nginx's stub_status) and the hit rate (tether_content_cache_requests_total).
# Pinned as bodies.sh: Tether on CPU 1, wrk and nginx on CPU 0.
#
#   bench/load/cache.sh                  # from the repository root; about 1 minute after the build
#   DURATION=20 CONNECTIONS=64 bench/load/cache.sh
#   BENCH_TETHER_DLL=src/Tether/bin/Release/net10.0/tether.dll bench/load/cache.sh   # an existing Release build, no publish
#   KEEP=1 bench/load/cache.sh           # leave the processes and the temporary folder for a look afterwards
#
# Needs nginx, wrk, curl and the .NET SDK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
RT=$(mktemp -d /tmp/tether-cache.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$RT"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

DLL=${BENCH_TETHER_DLL:-}
if [ -z "$DLL" ]; then
  echo "cache.sh: building Tether (Release)"
  dotnet publish "$repo/src/Tether" -c Release -o "$RT/tether" --nologo -v quiet >/dev/null
  DLL="$RT/tether/tether.dll"
fi
DLL=$(cd "$(dirname "$DLL")" && pwd)/$(basename "$DLL")

mkdir -p "$RT/www" "$RT/logs"
chmod 755 "$RT" "$RT/www"   # nginx workers run as an unprivileged user
head -c 4096 /dev/urandom | base64 -w 0 | head -c 4096 > "$RT/www/page.html"
cat > "$RT/nginx.conf" <<EOF
worker_processes 1; daemon off; pid $RT/nginx.pid; error_log $RT/logs/nginx.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:18681; root $RT/www;
    location = /page.html { add_header Cache-Control "max-age=60"; }
    location = /nginx-status { stub_status; } } }
EOF
taskset -c 0 nginx -c "$RT/nginx.conf" -e "$RT/logs/nginx.log" >/dev/null 2>&1 & PIDS+=($!)
(cd "$RT" && exec taskset -c 1 dotnet "$DLL" serve --data-dir "$RT/data" --listen http://127.0.0.1:18690 \
  >"$RT/logs/tether.log" 2>&1) & PIDS+=($!)
for i in $(seq 600); do [ -s "$RT/data/admin-token" ] && break; sleep 0.2; done
for i in $(seq 600); do curl -s -o /dev/null http://127.0.0.1:18690/ && break; sleep 0.2; done
TOKEN=$(cat "$RT/data/admin-token")
create() {   # create PORT CACHING
  curl -sf -o /dev/null -X POST http://127.0.0.1:18690/v1.0/1/loadbalancers -H "X-Auth-Token: $TOKEN" \
    -H 'Content-Type: application/json' -d '{"loadBalancer":{"name":"cache-'"$2"'","port":'"$1"',"protocol":"HTTP",
    "virtualIps":[{"type":"SERVICENET"}],"nodes":[{"address":"127.0.0.1","port":18681,"condition":"ENABLED"}],
    "contentCaching":{"enabled":'"$2"'}}}'
}
create 18602 false
create 18603 true
for port in 18681 18602 18603; do
  for i in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/page.html" && break; sleep 0.1; done
done

node_requests() { curl -s http://127.0.0.1:18681/nginx-status | awk 'NR == 3 {print $3}'; }
cache_count() {   # cache_count RESULT: the load balancer with caching on (id 2)
  curl -s http://127.0.0.1:18690/metrics | awk -v r="$1" '$1 ~ /^tether_content_cache_requests_total/ && $1 ~ "load_balancer=\"2\"" && $1 ~ "result=\"" r "\"" {print $2}'
}
run() {   # run NAME PORT
  local n0 n1 h0 h1 m0 m1 out rps total
  n0=$(node_requests); h0=$(cache_count hit); m0=$(cache_count miss)
  out=$(taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$2/page.html")
  n1=$(node_requests); h1=$(cache_count hit); m1=$(cache_count miss)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  # stub_status counts its own request too: one per reading.
  printf '| %s | %.0f | %s | %s | %s |\n' "$1" "$rps" "$total" "$((n1 - n0 - 1))" \
    "$(awk -v h="$((${h1:-0} - ${h0:-0}))" -v m="$((${m1:-0} - ${m0:-0}))" 'BEGIN { if (h + m > 0) printf "%.2f %%", 100 * h / (h + m); else print "-" }')"
}

echo "cache.sh: warming up (2 x 5 s)"
taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d5s "http://127.0.0.1:18602/page.html" >/dev/null
taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d5s "http://127.0.0.1:18603/page.html" >/dev/null
echo
echo "| load balancer | req/s | requests | reached the node | hit rate |"
echo "|---|---:|---:|---:|---:|"
run "caching off (fast path)" 18602
run "caching on (Kestrel path + cache)" 18603
run "caching off (fast path), again" 18602
run "caching on (Kestrel path + cache), again" 18603
