#!/usr/bin/env bash
# Publishes Tether as one self-contained executable for linux-x64 (no .NET needed on the target) and checks it:
# `tether serve --check` on a new data directory, then a short real `tether serve` and a curl of /healthz.
#
#   packaging/publish.sh [OUTPUT_DIR]      # default: artifacts/linux-x64 (not committed)
#
# Needs the .NET 10 SDK and curl; the runtime packs (Microsoft.NETCore.App.Runtime.linux-x64,
# Microsoft.AspNetCore.App.Runtime.linux-x64) come from the NuGet feed on the first run.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/artifacts/linux-x64}"
port="${TETHER_CHECK_PORT:-18089}"

dotnet publish "$root/src/Tether" -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -o "$out"

exe="$out/tether"
test -x "$exe"
echo "published $exe ($(du -h "$exe" | cut -f1))"

check="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$check"
}
trap cleanup EXIT

# 1. The settings and a new data directory, without binding anything.
"$exe" serve --check --data-dir "$check/data" --listen "http://127.0.0.1:$port"

# 2. A real start: the API answers /healthz (no token needed), then SIGTERM stops it gracefully (exit 0).
"$exe" serve --data-dir "$check/data" --listen "http://127.0.0.1:$port" > "$check/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  if curl -sf "http://127.0.0.1:$port/healthz" > "$check/healthz"; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$check/serve.log"; echo "tether serve exited before it served" >&2; exit 1; fi
  sleep 0.2
done
curl -sf "http://127.0.0.1:$port/healthz" > "$check/healthz" || { cat "$check/serve.log"; echo "/healthz did not answer 200" >&2; exit 1; }
echo "healthz: $(cat "$check/healthz")"
TETHER_API="http://127.0.0.1:$port" TETHER_DATADIRECTORY="$check/data" "$exe" lb list
kill -TERM "$server"
code=0; wait "$server" || code=$?
server=""
if [ "$code" -ne 0 ]; then cat "$check/serve.log"; echo "tether serve exited $code on SIGTERM" >&2; exit 1; fi
echo "ok: $exe serves and stops on SIGTERM (exit 0)"
