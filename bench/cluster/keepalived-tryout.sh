#!/usr/bin/env bash
# A real keepalived (VRRP) active-standby pair on one machine, as docs/cluster.md "Deployments" describes it:
# two network namespaces (tether-a, tether-b) stand for two hosts, a third (tether-c) for a client; veth pairs join
# them on a bridge in tether-c (10.99.0.0/24). Each host runs keepalived with the configuration of docs/cluster.md
# (written to $WORK/keepalived-*.conf) and a stand-in for `tether serve` on port 8000 that answers its name on / and
# 200 on /healthz while the file $WORK/X/healthz exists (python3 -m http.server). The vrrp_script calls
# `curl -fsS http://127.0.0.1:8000/healthz` each second, as it would call Tether's readiness endpoint.
# Steps: VIP 10.99.0.100 on A (priority 150) -> A's health check fails (file removed) -> VIP on B, time measured
# from the client -> A healthy again -> VIP back on A (preemption).
#
# With TETHER_DLL=path/to/tether.dll each host runs the real thing instead of the stand-in: `tether serve` bound to the
# VIP (net.ipv4.ip_nonlocal_bind=1 in each namespace) with a load balancer on port 8000 (PUBLIC virtual IP) over a
# `tether demo-backend` of its own (node-a, node-b), the check on its management port 8080 (GET /healthz when the
# build has it, else GET /metrics), and A's failure is `kill -9` of its tether serve, its recovery a new start on the
# same data directory.
# Needs root, iproute2, keepalived (Debian: apt-get install keepalived), curl, python3. Leaves nothing behind.
set -euo pipefail
# Tether reads every TETHER_ variable as a setting (and refuses unknown ones): keep ours out of its environment.
DLL=${TETHER_DLL:-}
unset TETHER_DLL

WORK=$(mktemp -d /tmp/tether-keepalived.XXXXXX)
VIP=10.99.0.100
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for ns in tether-a tether-b tether-c; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v keepalived >/dev/null || { echo "keepalived is required: apt-get install keepalived" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "run as root (network namespaces)" >&2; exit 1; }

# The network: tether-c holds a bridge; tether-a and tether-b each have one end of a veth pair, the other end on it.
ip netns add tether-a
ip netns add tether-b
ip netns add tether-c
ip -n tether-c link add br0 type bridge
ip -n tether-c link set br0 up
ip -n tether-c addr add 10.99.0.3/24 dev br0
i=1
for host in a b; do
  ip link add "veth-$host" netns "tether-$host" type veth peer name "port-$host" netns tether-c
  ip -n "tether-$host" addr add "10.99.0.1$i/24" dev "veth-$host"
  ip -n "tether-$host" link set "veth-$host" up
  ip -n "tether-$host" link set lo up
  ip -n tether-c link set "port-$host" master br0
  ip -n tether-c link set "port-$host" up
  i=$((i + 1))
done
ip -n tether-c link set lo up

declare -A TETHER_PID
start_tether() { # start_tether HOST: tether serve in the host's namespace, bound to the VIP; waits for its API
  local host=$1
  ip netns exec "tether-$host" dotnet "$DLL" serve --data-dir "$WORK/$host/data" --listen http://127.0.0.1:8080 \
    --public-address "$VIP" >>"$WORK/$host/tether.log" 2>&1 &
  TETHER_PID[$host]=$!
  PIDS+=($!); disown $!
  for _ in $(seq 600); do
    ip netns exec "tether-$host" curl -s -o /dev/null http://127.0.0.1:8080/metrics && [ -f "$WORK/$host/data/admin-token" ] && return 0
    sleep 0.1
  done
  echo "tether serve on $host did not start:" >&2; cat "$WORK/$host/tether.log" >&2; exit 1
}

# The services and the keepalived configurations (the one in docs/cluster.md, addresses filled in).
CHECK_PORT=8000
for host in a b; do
  mkdir -p "$WORK/$host"
  if [ -n "$DLL" ]; then
    ip netns exec "tether-$host" sysctl -qw net.ipv4.ip_nonlocal_bind=1
    ip netns exec "tether-$host" dotnet "$DLL" demo-backend --listen http://127.0.0.1:9001 --name "node-$host" >"$WORK/$host/backend.log" 2>&1 &
    PIDS+=($!); disown $!
    start_tether "$host"
    token=$(cat "$WORK/$host/data/admin-token")
    ip netns exec "tether-$host" curl -fsS -o /dev/null -X POST http://127.0.0.1:8080/v1.0/1/loadbalancers \
      -H "X-Auth-Token: $token" -H 'Content-Type: application/json' -d '{"loadBalancer":{"name":"web","protocol":"HTTP","port":8000,
      "virtualIps":[{"type":"PUBLIC"}],"nodes":[{"address":"127.0.0.1","port":9001,"condition":"ENABLED"}]}}'
    CHECK_PORT=8080
    if [ "$(ip netns exec "tether-$host" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/healthz)" = 200 ]; then
      CHECK_PATH=/healthz
    else
      CHECK_PATH=/metrics  # a build without GET /healthz: liveness of the management API only
    fi
  else
    echo "node-$host" > "$WORK/$host/index.html"
    echo ok > "$WORK/$host/healthz"
    ip netns exec "tether-$host" python3 -m http.server 8000 --bind 0.0.0.0 --directory "$WORK/$host" >/dev/null 2>&1 &
    PIDS+=($!); disown $!
    CHECK_PATH=/healthz
  fi
  if [ "$host" = a ]; then priority=150; else priority=100; fi
  cat > "$WORK/keepalived-$host.conf" <<CONF
global_defs {
    router_id tether-$host
    enable_script_security
    script_user root
}

# Tether's readiness: 200 only when its listeners are bound and (cluster mode) its configuration is in sync.
vrrp_script tether_ready {
    script "/usr/bin/curl -fsS -o /dev/null --max-time 1 http://127.0.0.1:$CHECK_PORT$CHECK_PATH"
    interval 1      # seconds between checks
    timeout 2       # seconds before a check counts as failed
    fall 2          # 2 failures in a row: FAULT, the VIP leaves this host
    rise 2          # 2 successes in a row: ready again
}

vrrp_instance tether_vip {
    state BACKUP            # both start as BACKUP; the higher priority becomes MASTER
    interface veth-$host
    virtual_router_id 51
    priority $priority      # 150 on the preferred host, 100 on the standby
    advert_int 1            # seconds between VRRP adverts; the standby takes over after ~3 missed
    virtual_ipaddress {
        $VIP/24 dev veth-$host
    }
    track_script {
        tether_ready
    }
}
CONF
  ip netns exec "tether-$host" keepalived --config-test -f "$WORK/keepalived-$host.conf"
  ip netns exec "tether-$host" keepalived --dont-fork --log-console --vrrp \
    -f "$WORK/keepalived-$host.conf" -p "$WORK/$host/keepalived.pid" -r "$WORK/$host/vrrp.pid" \
    >"$WORK/$host/keepalived.log" 2>&1 &
  PIDS+=($!); disown $!
done

now() { date +%s.%N; }
# who: which host answers on the VIP from the client namespace ("none" when nobody answers)
who() { ip netns exec tether-c curl -s --max-time 0.5 "http://$VIP:8000/" || echo none; }
wait_for() { # wait_for NAME LIMIT_SECONDS: poll until the VIP answers NAME; prints the seconds it took
  local start; start=$(now)
  while [ "$(who)" != "$1" ]; do
    if awk -v s="$start" -v n="$(now)" -v l="$2" 'BEGIN { exit !(n - s > l) }'; then
      echo "VIP did not move to $1 within $2 s" >&2
      for h in a b; do echo "--- keepalived $h"; tail -20 "$WORK/$h/keepalived.log"; done >&2
      exit 1
    fi
    sleep 0.1
  done
  awk -v s="$start" -v n="$(now)" 'BEGIN { printf "%.1f", n - s }'
}

if [ -n "$DLL" ]; then what="tether serve, $DLL"; else what=stand-in; fi
echo "check: curl -fsS http://127.0.0.1:$CHECK_PORT$CHECK_PATH ($what)"
echo "start: VIP on node-a after $(wait_for node-a 30) s"
ip -n tether-a -br addr show veth-a
if [ -n "$DLL" ]; then
  kill -9 "${TETHER_PID[a]}"
  echo "A's tether serve killed (-9): VIP on node-b after $(wait_for node-b 30) s"
  ip -n tether-b -br addr show veth-b
  start_tether a
  echo "A's tether serve started again: VIP back on node-a after $(wait_for node-a 60) s"
else
  rm "$WORK/a/healthz"
  echo "A's /healthz fails: VIP on node-b after $(wait_for node-b 30) s"
  ip -n tether-b -br addr show veth-b
  echo ok > "$WORK/a/healthz"
  echo "A ready again: VIP back on node-a after $(wait_for node-a 30) s"
fi
# Host A crashes: every keepalived process of A (the parent and its VRRP child) killed with SIGKILL, so no last
# advert with priority 0 goes out; B takes over when the master-down timer runs out (3 adverts + skew, ~3.6 s).
for pid in $(ip netns pids tether-a | sort -rn); do  # the VRRP child first: killed after its parent, it would send a last advert
  if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = keepalived ]; then kill -9 "$pid"; fi
done
echo "A's keepalived processes killed (-9): VIP on node-b after $(wait_for node-b 30) s"
echo "--- keepalived a (log)"; grep -E "Entering|removing|setting" "$WORK/a/keepalived.log" | head -20
echo "--- keepalived b (log)"; grep -E "Entering|removing|setting" "$WORK/b/keepalived.log" | head -20
