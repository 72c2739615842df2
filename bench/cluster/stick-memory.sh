#!/usr/bin/env bash
# Redis memory per shared stick-table entry (issue 14, docs/cluster.md "Shared stick tables"): starts a throw-away
# redis-server on a free loopback port, writes N pins exactly as Tether writes them
# (SET tether:stick:{lb}:{TYPE}:{32 hex digits} {node id} PX {timeout ms} NX) and prints used_memory before and after.
# Usage: bench/cluster/stick-memory.sh [N=100000] [TYPE=SOURCE_IP]
set -euo pipefail
n=${1:-100000}
type=${2:-SOURCE_IP}
command -v redis-server >/dev/null || { echo "redis-server is needed (Debian: apt-get install -y redis-server)" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize yes --pidfile "$dir/pid" >/dev/null
trap 'kill "$(cat "$dir/pid")" 2>/dev/null; rm -rf "$dir"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
used() { redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '$1=="used_memory"{print $2}'; }
before=$(used)
python3 - "$n" "$type" <<'PY' | redis-cli -p "$port" --pipe >/dev/null
import random, sys
n, kind = int(sys.argv[1]), sys.argv[2]
rng = random.Random(14)
out = sys.stdout
for i in range(n):
    key = f"tether:stick:1:{kind}:{rng.getrandbits(128):032x}"
    node = str(1 + i % 5)
    parts = ["SET", key, node, "PX", "300000", "NX"]
    out.write(f"*{len(parts)}\r\n" + "".join(f"${len(p)}\r\n{p}\r\n" for p in parts))
PY
after=$(used)
keys=$(redis-cli -p "$port" dbsize | tr -d '\r')
echo "redis-server $(redis-server --version | awk '{print $3}' | cut -d= -f2): $keys keys, used_memory $before -> $after bytes, $(( (after - before) / keys )) bytes per entry"
