# Sourced by the drills written in python (config-changes, kill-restart, forged-cookies, api-fuzz): the common
# options, the tools, the build; then `drill_exec SCRIPT.py ARGS...` replaces the shell with the python drill, which
# starts everything itself and stops it by pid (on exit, an error, Ctrl-C or SIGTERM).
#
# Common options (the rest go to the python drill, which checks them):
#   --quick             the short version (CI)
#   --no-build          use the last Release build (src/Tether/bin/Release)
#   --tether-dll PATH   use this tether.dll (an already built Tether, e.g. the test project's output); no build
#   --keep              keep the temporary directory (Tether's log, the data directory) and print its path
#   -h, --help          the drill's own help
# Exit: 0 PASS, 1 FAIL, 2 setup failed.
set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in the repository
DRILL_NAME="${DRILL_NAME:?}"
drills_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$drills_dir/.." && pwd)"

drill_log() { printf '[%s %s] %s\n' "$DRILL_NAME" "$(date -u +%H:%M:%S)" "$*" >&2; }
drill_die() { drill_log "ERROR: $*"; exit 2; }

BUILD=1
TETHER_DLL=""
PASS_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    --tether-dll) [ $# -ge 2 ] || drill_die "--tether-dll needs a path"; TETHER_DLL="$2"; BUILD=0; shift 2 ;;
    --tether-dll=*) TETHER_DLL="${1#*=}"; BUILD=0; shift ;;
    *) PASS_ARGS+=("$1"); shift ;;
  esac
done

drill_tools() {
  local missing=()
  command -v python3 >/dev/null || missing+=(python3)
  command -v timeout >/dev/null || missing+=(coreutils)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      drill_log "installing ${missing[*]} (apt-get)"
      timeout 300 apt-get update -qq >&2 || drill_log "apt-get update failed; trying the install anyway"
      DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
        || drill_die "could not install ${missing[*]}"
    else
      drill_die "missing ${missing[*]}; install them (as root on Debian this script does it with apt-get)"
    fi
  fi
  command -v dotnet >/dev/null || drill_die "the .NET SDK (dotnet, >= 10.0.100) is needed; see README.md"
}

drill_find_dll() {
  if [ -n "$TETHER_DLL" ]; then
    [ -f "$TETHER_DLL" ] || drill_die "--tether-dll: no file '$TETHER_DLL'"
    TETHER_DLL="$(cd "$(dirname "$TETHER_DLL")" && pwd)/$(basename "$TETHER_DLL")"
    return
  fi
  cd "$repo" || drill_die "cannot enter $repo"
  if [ "$BUILD" = 1 ]; then
    drill_log "building Tether (Release)"
    local blog; blog="$(mktemp)"
    if ! timeout 900 dotnet build -c Release -nologo -v:q src/Tether/Tether.csproj >"$blog" 2>&1; then
      tail -n 30 "$blog" >&2; rm -f "$blog"
      drill_die "build failed"
    fi
    rm -f "$blog"
  fi
  TETHER_DLL="$(timeout 120 dotnet msbuild src/Tether/Tether.csproj -nologo -getProperty:TargetPath -p:Configuration=Release 2>/dev/null | tail -n 1)"
  [ -f "$TETHER_DLL" ] || drill_die "no Tether build at '$TETHER_DLL' (run without --no-build)"
}

# drill_exec SCRIPT.py: unless --help was asked, checks the tools, builds or finds Tether, then runs the python drill
# (exec: its exit code is the drill's) under a watchdog of WATCHDOG seconds (SIGTERM, then SIGKILL 30 s later;
# --foreground keeps the drill in the terminal's process group, so that Ctrl-C reaches it).
drill_exec() {
  local script="$1" watchdog="${2:-3600}" a
  for a in "${PASS_ARGS[@]+"${PASS_ARGS[@]}"}"; do
    case "$a" in -h|--help) exec python3 "$drills_dir/$script" --help ;; esac
  done
  drill_tools
  drill_find_dll
  exec timeout --foreground -k 30 "$watchdog" python3 "$drills_dir/$script" --tether-dll "$TETHER_DLL" \
    "${PASS_ARGS[@]+"${PASS_ARGS[@]}"}"
}
