#!/usr/bin/env python3
"""Moving sessions (POST .../sessionpersistence/sessions/move, issue 13) against a real `tether serve`, three real
backends (`tether demo-backend`, which names itself in every answer) and real HTTP clients, all on 127.0.0.1.

100 SOURCE_IP clients (source addresses 127.0.1.1 to 127.0.1.100) and 120 HTTP_COOKIE clients (100 that came back with
their cookie, 20 that got one and come back only after the move of all) are pinned; then node A's sessions move to
node B, half of them, then all; every client sends a request after each step, and node A is finally DISABLED.
Prints, per step, how many clients stayed on their node, moved from A to B, or landed elsewhere (must be 0), and how
many HTTP_COOKIE clients got a re-issued cookie that alone brings them to B. Exit 1 when a client landed elsewhere.

Usage: dotnet build src/Tether -c Release && python3 drills/session_move.py
"""
import http.client, json, os, socket, subprocess, sys, tempfile, time, collections

DLL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "Tether", "bin", "Release", "net10.0", "tether.dll")
WORK = tempfile.mkdtemp(prefix="tether-session-move.")
failures = []

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

procs = []
def start(args, env=None):
    p = subprocess.Popen(args, stdout=open(f"{WORK}/{len(procs)}.log", "w"), stderr=subprocess.STDOUT, env=env)
    procs.append(p); return p

def wait_port(port):
    for _ in range(300):
        try: socket.create_connection(("127.0.0.1", port), 0.2).close(); return
        except OSError: time.sleep(0.1)
    raise SystemExit(f"port {port} never opened")

class Api:
    def __init__(s, port, token): s.port, s.token = port, token
    def call(s, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        c.request(method, "/v1.0/1" + path, body=None if body is None else json.dumps(body),
                  headers={"X-Auth-Token": s.token, "Content-Type": "application/json"})
        r = c.getresponse(); data = r.read(); c.close()
        return r.status, (json.loads(data) if data else None)

def get(port, source=None, cookie=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0) if source else None)
    c.request("GET", "/", headers={"Cookie": cookie} if cookie else {})
    r = c.getresponse(); body = r.read().decode(); c.close()
    return r.status, body.split()[0] if body else "", r.getheader("Set-Cookie")

def main():
    os.makedirs(WORK, exist_ok=True)
    mgmt = free_port(); backends = [free_port() for _ in range(3)]
    env = dict(os.environ, TETHER_PUBLICADDRESS="127.0.0.1")
    start(["dotnet", DLL, "serve", "--data-dir", f"{WORK}/data", "--listen", f"http://127.0.0.1:{mgmt}"], env)
    for p in backends:
        start(["dotnet", DLL, "demo-backend", "--listen", f"http://127.0.0.1:{p}", "--name", f"b{p}"])
    wait_port(mgmt); [wait_port(p) for p in backends]
    token = open(f"{WORK}/data/admin-token").read().strip()
    api = Api(mgmt, token)
    nodes = [{"address": "127.0.0.1", "port": p, "condition": "ENABLED"} for p in backends]
    lbs = {}
    for kind in ("SOURCE_IP", "HTTP_COOKIE"):
        port = free_port()
        st, body = api.call("POST", "/loadbalancers", {"loadBalancer": {"name": kind.lower(), "protocol": "HTTP", "port": port,
            "algorithm": "ROUND_ROBIN", "virtualIps": [{"type": "PUBLIC"}], "nodes": nodes,
            "sessionPersistence": {"persistenceType": kind}}})
        assert st == 202, (st, body)
        lbs[kind] = (body["loadBalancer"]["id"], port)
    for kind, (lb, port) in lbs.items():
        for _ in range(300):
            st, b = api.call("GET", f"/loadbalancers/{lb}")
            if b["loadBalancer"]["status"] == "ACTIVE": break
            time.sleep(0.1)
        wait_port(port)
    print(f"tether mgmt :{mgmt}, backends {backends}, load balancers {lbs}")
    node_ids = {}
    for kind, (lb, _) in lbs.items():
        st, b = api.call("GET", f"/loadbalancers/{lb}/nodes")
        node_ids[kind] = {f"b{n['port']}": n["id"] for n in b["nodes"]}

    # 100 SOURCE_IP clients (source addresses 127.0.1.1..100), each twice
    lb_ip, port_ip = lbs["SOURCE_IP"]
    ip_clients = {f"127.0.1.{i}": None for i in range(1, 101)}
    for src in ip_clients:
        _, n1, _ = get(port_ip, source=src); _, n2, _ = get(port_ip, source=src)
        assert n1 == n2; ip_clients[src] = n1
    # 100 HTTP_COOKIE clients that came back with their cookie, 20 that got one and have not come back yet
    lb_ck, port_ck = lbs["HTTP_COOKIE"]
    ck_clients = []
    for i in range(120):
        _, n1, sc = get(port_ck); cookie = sc.split(";")[0]
        if i < 100:
            _, n2, sc2 = get(port_ck, cookie=cookie); assert n1 == n2 and sc2 is None
        ck_clients.append({"cookie": cookie, "node": n1, "returned": i < 100})
    time.sleep(1.1)  # cookies carry whole seconds: the move concerns cookies last used before it

    def spread(kind):
        if kind == "SOURCE_IP": return collections.Counter(ip_clients.values())
        return collections.Counter(c["node"] for c in ck_clients)
    print("before:", {k: dict(spread(k)) for k in lbs})
    # A: the node with the most clients on both; B: another
    A = "b%d" % backends[0]; B = "b%d" % backends[1]

    def move(kind, fraction=None):
        lb = lbs[kind][0]
        body = {"fromNodeId": node_ids[kind][A], "toNodeId": node_ids[kind][B]}
        if fraction is not None: body["fraction"] = fraction
        st, b = api.call("POST", f"/loadbalancers/{lb}/sessionpersistence/sessions/move", body)
        assert st == 200, (st, b)
        return b

    def visit_all(label, skip_unreturned=False):
        """Every client sends one request; returns figures and updates pins/cookies."""
        out = {}
        # SOURCE_IP
        stay = moved = elsewhere = 0
        for src, was in ip_clients.items():
            st, now, _ = get(port_ip, source=src)
            assert st == 200
            if now == was: stay += 1
            elif was == A and now == B: moved += 1
            else: elsewhere += 1
            ip_clients[src] = now
        out["SOURCE_IP"] = dict(same_node=stay, moved_A_to_B=moved, landed_elsewhere=elsewhere)
        # HTTP_COOKIE
        stay = moved = elsewhere = reissued = reissued_names_b = 0
        late = collections.Counter()
        for c in ck_clients:
            if skip_unreturned and not c["returned"]:
                continue
            st, now, sc = get(port_ck, cookie=c["cookie"])
            if not c["returned"]:
                late[f"{c['node']}->{now}"] += 1
            assert st == 200
            if now == c["node"]: stay += 1
            elif c["node"] == A and now == B: moved += 1
            else: elsewhere += 1
            if sc and now != c["node"]:
                reissued += 1
                newcookie = sc.split(";")[0]
                st2, again, sc3 = get(port_ck, cookie=newcookie)   # the re-issued cookie alone keeps it on B
                if again == B and sc3 is None: reissued_names_b += 1
                c["cookie"] = newcookie
            c["node"] = now
        out["HTTP_COOKIE"] = dict(same_node=stay, moved_A_to_B=moved, landed_elsewhere=elsewhere,
                                  reissued_cookie=reissued, reissued_cookie_alone_reaches_B=reissued_names_b,
                                  first_return_of_20_late_clients=dict(late))
        print(label, json.dumps(out))
        if out["SOURCE_IP"]["landed_elsewhere"] or out["HTTP_COOKIE"]["landed_elsewhere"] \
                or out["HTTP_COOKIE"]["reissued_cookie"] != out["HTTP_COOKIE"]["reissued_cookie_alone_reaches_B"]:
            failures.append(label)
        return out

    on_a = {k: spread(k)[A] for k in lbs}
    known_on_a = sum(1 for c in ck_clients if c["node"] == A and c["returned"])
    print(f"node A={A} (ids {node_ids['SOURCE_IP'][A]}, {node_ids['HTTP_COOKIE'][A]}), B={B}; clients on A: {on_a}, HTTP_COOKIE sessions known on A: {known_on_a}")
    r_half = {k: move(k, 0.5) for k in lbs}
    print("move fraction 0.5:", r_half)
    v1 = visit_all("after fraction 0.5:", skip_unreturned=True)
    time.sleep(1.1)
    r_all = {k: move(k) for k in lbs}
    print("move all:", r_all)
    v2 = visit_all("after all:")
    for c in ck_clients: c["returned"] = True
    # retire A: disable it; every former client of A must stay on B
    for kind, (lb, _) in lbs.items():
        st, _ = api.call("PUT", f"/loadbalancers/{lb}/nodes/{node_ids[kind][A]}", {"node": {"condition": "DISABLED"}})
        assert st == 202
    time.sleep(1)
    v3 = visit_all("after A DISABLED:")
    st, audit = api.call("GET", "/audit?limit=4")
    for e in audit["auditEntries"]:
        if e["resource"].endswith("/move"): print("audit:", e["time"], e["resource"], e["notes"])
    if len(sys.argv) > 1 and sys.argv[1] == "--keep":
        print(json.dumps({"mgmt": mgmt, "token": token, "lbs": lbs, "node_ids": node_ids, "backends": backends}))
        with open(f"{WORK}/state.json", "w") as f: json.dump({"mgmt": mgmt, "lbs": lbs, "node_ids": node_ids, "pids": [p.pid for p in procs]}, f)
        return
    for p in procs: p.terminate()
    print("FAILED: " + ", ".join(failures) if failures else "ok: every client kept its session")
    sys.exit(1 if failures else 0)

try:
    main()
except BaseException:
    for p in procs: p.terminate()
    raise
finally:
    for p in procs: p.wait(10)
    if "--keep" not in sys.argv:
        import shutil
        shutil.rmtree(WORK, ignore_errors=True)
