#!/usr/bin/env bash
# Coverage-guided fuzzing of the HTTP/1.1 fast path's parsers (RequestHead, ResponseHead, ChunkedBodyReader) with
# AFL++ and SharpFuzz, for SECONDS (default 300). See fuzz/README.md.
#
#   fuzz/run.sh [SECONDS]
#
# Installs what is missing (afl++ from Debian, the sharpfuzz tool into fuzz/.tools), builds fuzz/Tether.Fuzz in
# Release, instruments a copy of Tether.Proxy.dll in fuzz/.out/bin, runs afl-fuzz on fuzz/corpus into fuzz/findings,
# prints a summary line, and exits 1 when a crash or a hang was found (2 when it could not run).
set -euo pipefail

seconds="${1:-300}"
case "$seconds" in '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS]" >&2; exit 2 ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/.tools"
out="$here/.out"
findings="${FUZZ_FINDINGS:-$here/findings}"
sharpfuzz_version=2.3.0

if ! command -v afl-fuzz > /dev/null; then
  echo "== installing afl++"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ > /dev/null
fi

if [ ! -x "$tools/sharpfuzz" ]; then
  echo "== installing SharpFuzz.CommandLine $sharpfuzz_version"
  dotnet tool install SharpFuzz.CommandLine --version "$sharpfuzz_version" --tool-path "$tools" > /dev/null
fi

echo "== building fuzz/Tether.Fuzz (Release)"
dotnet build "$here/Tether.Fuzz/Tether.Fuzz.csproj" -c Release -nologo -v quiet

# Instrument a copy, so that the build output stays as the compiler made it (sharpfuzz rewrites a file in place).
rm -rf "$out/bin"
mkdir -p "$out"
cp -r "$here/Tether.Fuzz/bin/Release/net10.0" "$out/bin"
for assembly in Tether.Proxy.dll; do
  echo "== instrumenting $assembly"
  "$tools/sharpfuzz" "$out/bin/$assembly"
done

rm -rf "$findings"
mkdir -p "$findings"
echo "== afl-fuzz for ${seconds}s, corpus fuzz/corpus ($(ls "$here/corpus" | wc -l) seeds), output $findings"
export AFL_SKIP_BIN_CHECK=1                     # dotnet itself carries no AFL instrumentation; SharpFuzz provides it
export AFL_SKIP_CPUFREQ=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1  # core_pattern is the machine's business, not this script's
export AFL_NO_UI=1
export AFL_NO_AFFINITY=1                        # 2 shared cores: do not pin
export DOTNET_TieredPGO=0                       # steadier coverage from one run to the next
set +e
afl-fuzz -i "$here/corpus" -o "$findings" -x "$here/http.dict" -V "$seconds" -t 10000 -m none -- dotnet "$out/bin/Tether.Fuzz.dll"
afl_status=$?
set -e

stats="$findings/default/fuzzer_stats"
if [ ! -f "$stats" ]; then
  echo "fuzz: afl-fuzz did not run (exit $afl_status)" >&2
  exit 2
fi

stat() { awk -F' *: *' -v key="$1" '$1 == key { print $2 }' "$stats"; }
crashes="$(stat saved_crashes)"
hangs="$(stat saved_hangs)"
start="$(stat start_time)"
last="$(stat last_update)"
echo "fuzz: run_time=$((last - start))s execs_done=$(stat execs_done) execs_per_sec=$(stat execs_per_sec)" \
  "corpus_count=$(stat corpus_count) stability=$(stat stability) saved_crashes=$crashes saved_hangs=$hangs" \
  "findings=$findings"
if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then
  echo "fuzz: FOUND crashes or hangs: see $findings/default/crashes and hangs; reproduce with" \
    "dotnet fuzz/Tether.Fuzz/bin/Release/net10.0/Tether.Fuzz.dll FILE" >&2
  exit 1
fi
