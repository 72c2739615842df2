#!/usr/bin/env bash
# Layer 4 and TLS on loopback, one run: TCP bulk throughput direct / HAProxy `mode tcp` / Tether TCP load balancer,
# and TLS handshakes per second on Tether's SSL termination (and HAProxy `bind ssl` for comparison).
#   bench/l4/run.sh            (as root on Debian: installs haproxy, nginx, openssl if missing)
# Every process it starts is stopped by pid at exit. Ports 18480-18489 on 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"; pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
need=(); for t in haproxy nginx openssl curl; do command -v "$t" >/dev/null || need+=("$t"); done
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy nginx openssl curl >/dev/null; fi
ROUNDS=${ROUNDS:-3}; FILE_MB=64; FETCHES=16

# Backend: nginx serving a 64 MiB file.
mkdir -p "$work/www" "$work/nginx"; chmod 755 "$work" "$work/www"
head -c $((FILE_MB*1024*1024)) /dev/urandom > "$work/www/big.bin"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; server { listen 127.0.0.1:18481; root $work/www; } }
CONF
nginx -c "$work/nginx/nginx.conf" & pids+=($!)

# TLS material.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 -subj /CN=bench.test 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" > "$work/haproxy.pem"

cat > "$work/haproxy.cfg" <<CONF
global
  nbthread 1
defaults
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend l4
  mode tcp
  bind 127.0.0.1:18482
  default_backend b
backend b
  mode tcp
  server s1 127.0.0.1:18481
frontend tls
  mode http
  bind 127.0.0.1:18486 ssl crt $work/haproxy.pem
  default_backend h
backend h
  mode http
  server s1 127.0.0.1:18481
CONF
haproxy -db -f "$work/haproxy.cfg" & pids+=($!)

# Tether: Release build, its own data directory, API on 18480.
dotnet build -c Release "$root/src/Tether" -v q -nologo >/dev/null
dotnet "$root/src/Tether/bin/Release/net10.0/tether.dll" serve --data-dir "$work/data" --listen http://127.0.0.1:18480 > "$work/tether.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -s "$work/data/admin-token" ] && curl -s -o /dev/null http://127.0.0.1:18480/ && break; sleep 0.2; done
token=$(cat "$work/data/admin-token"); api=http://127.0.0.1:18480/v1.0/1
post() { curl -s -X "$1" "$api/$2" -H "X-Auth-Token: $token" -H 'Content-Type: application/json' -d "$3" -o "$work/last.json" -w '%{http_code}'; }
node='"nodes":[{"address":"127.0.0.1","port":18481,"condition":"ENABLED"}]'
[ "$(post POST loadbalancers "{\"loadBalancer\":{\"name\":\"tcp\",\"protocol\":\"TCP\",\"port\":18483,\"virtualIps\":[{\"type\":\"SERVICENET\"}],$node}}")" = 202 ]
[ "$(post POST loadbalancers "{\"loadBalancer\":{\"name\":\"tls\",\"protocol\":\"HTTP\",\"port\":18484,\"virtualIps\":[{\"type\":\"SERVICENET\"}],$node}}")" = 202 ]
tls_id=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["loadBalancer"]["id"])' "$work/last.json")
cert=$(python3 -c 'import json,sys;print(json.dumps(open(sys.argv[1]).read()))' "$work/cert.pem")
key=$(python3 -c 'import json,sys;print(json.dumps(open(sys.argv[1]).read()))' "$work/key.pem")
[ "$(post PUT "loadbalancers/$tls_id/ssltermination" "{\"sslTermination\":{\"certificate\":$cert,\"privateKey\":$key,\"securePort\":18485,\"enabled\":true}}")" = 200 ]
sleep 1

bulk() { # MB/s for FETCHES downloads of the file over one connection
  local url=$1 args=() start end
  for _ in $(seq $FETCHES); do args+=(-o /dev/null "$url"); done
  start=$(date +%s.%N); curl -s --fail "${args[@]}"; end=$(date +%s.%N)
  python3 -c "print(round($FILE_MB*$FETCHES/($end-$start)))"
}
echo "# TCP bulk throughput, ${FILE_MB} MiB x ${FETCHES} over one connection (MB/s), $ROUNDS interleaved rounds"
bulk http://127.0.0.1:18483/big.bin >/dev/null   # warm-up
for r in $(seq "$ROUNDS"); do
  echo "round $r: direct $(bulk http://127.0.0.1:18481/big.bin)  haproxy-tcp $(bulk http://127.0.0.1:18482/big.bin)  tether-tcp $(bulk http://127.0.0.1:18483/big.bin)"
done
echo "# TLS: new handshakes per second (openssl s_time -new, 10 s; RSA 2048, TLS 1.3)"
openssl s_time -connect 127.0.0.1:18485 -new -time 3 >/dev/null 2>&1 || true   # warm-up
for r in $(seq "$ROUNDS"); do
  t=$(openssl s_time -connect 127.0.0.1:18485 -new -time 10 2>/dev/null | awk '/real seconds/ {printf "%.0f handshakes/s", $1/$4}')
  h=$(openssl s_time -connect 127.0.0.1:18486 -new -time 10 2>/dev/null | awk '/real seconds/ {printf "%.0f handshakes/s", $1/$4}')
  echo "round $r: tether: ${t:-n/a} | haproxy: ${h:-n/a}"
done
