#!/usr/bin/env bash
# Control-plane scale (issue 16 item 3): builds Tether (Release) and runs bench/scale/scale.py, which starts one
# `tether serve` on a fresh temporary data directory (API on 127.0.0.1:20999, listeners 21000.., a python backend on
# 20998), creates N load balancers x 25 nodes through the API, measures a configuration change applied in the data
# plane, a restart until every listener accepts again, and RSS; prints a Markdown table (docs/benchmarks.md
# "Control-plane scale"). Read scale.py's header for every step.
#
#   bench/scale/run.sh                        # 1,000 load balancers, 200 changes
#   bench/scale/run.sh --count 100 --changes 50
#
# TETHER_DLL=path/to/tether.dll skips the build. Needs ulimit -n above 2 x N + a few hundred (raised here when the
# hard limit allows).
set -euo pipefail
cd "$(dirname "$0")/../.."
DLL=${TETHER_DLL:-}
unset TETHER_DLL
if [ -z "$DLL" ]; then
  dotnet build -c Release src/Tether -v q -nologo >/dev/null
  DLL=src/Tether/bin/Release/net10.0/tether.dll
fi
[ -f "$DLL" ] || { echo "scale: no $DLL" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "date $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ulimit -n $(ulimit -n)"
python3 bench/scale/scale.py --tether "dotnet $DLL" "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
