#!/usr/bin/env bash
# The kill -9 failover drill of issue 14: redis-server, two or three `tether serve --redis ... --instance ...` on
# 127.0.0.2/.3/.4, real backends, clients through instance a, kill -9 of a midway, clients switched to b; prints the
# failed requests, the pins kept (out of how many) and the time to converge. The drill itself is failover.py (read
# its header for every step); this wrapper builds Tether (Release) and installs redis-server when missing.
#
#   bench/cluster/failover.sh                       # cluster mode, 2 instances, 60 s, 32 + 32 clients
#   bench/cluster/failover.sh --instances 3 --duration 30 --clients 16
#   bench/cluster/failover.sh --mode standalone     # the same without Redis: what a failover loses without sharing
#   bench/cluster/failover.sh --mode single         # one instance, no kill: checks the drill itself
#
# TETHER_DLL=path/to/tether.dll skips the build. Exit code: 0 every pin kept and no failure after the switch; 1 not;
# 2 setup failure; 3 this build of tether serve refuses --redis (cluster mode not merged yet).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${TETHER_DLL:-}" ]; then
  dotnet build -c Release src/Tether -v q -nologo >/dev/null
  TETHER_DLL=src/Tether/bin/Release/net10.0/tether.dll
fi
[ -f "$TETHER_DLL" ] || { echo "failover: no $TETHER_DLL" >&2; exit 2; }

mode=cluster
for arg in "$@"; do [ "$arg" = standalone ] || [ "$arg" = single ] && mode=$arg; done
if [ "$mode" = cluster ] && ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends redis-server >/dev/null
  else
    echo "failover: redis-server is required (sudo apt-get install redis-server)" >&2
    exit 2
  fi
fi

exec python3 bench/cluster/failover.py --tether "dotnet $TETHER_DLL" "$@"
