#!/usr/bin/env python3
"""Control-plane scale of issue 16 item 3: one Release `tether serve` on a fresh data directory, N load balancers
(default 1,000) with 25 nodes each created through the API, then:

  1. create: wall time and creates per second (POST /loadbalancers, C client threads, one keep-alive connection each);
     the account limit of 25 load balancers (docs/api.md "Absolute limits") is met by N/25 accounts, one token each
     (settings Management:Tokens:i, passed as TETHER_Management__Tokens__i__* variables); rate limits are off (default);
  2. restart: SIGTERM, wait for exit (shutdown time), start again on the same data directory, time until a TCP connect
     to every listener port succeeds (polled);
  3. change: for K load balancers (spread over all), PUT the one ENABLED node to DISABLED and time from the PUT's send
     until a request through that load balancer's listener gets 503 (no node to serve) instead of the backend's 200:
     the data plane reflects the change. Those K load balancers are created with node 1 ENABLED and 24 DISABLED;
  4. memory: VmRSS of tether before any load balancer, after creating them, after the restart.

The 25 nodes of a load balancer are 127.0.0.1..127.0.0.25 on one backend port (one python server on 0.0.0.0).
Prints a Markdown table. Usage: scale.py --tether "dotnet path/tether.dll" [--count 1000] [--changes 200]
"""
import argparse, http.client, http.server, json, os, shutil, signal, socket, socketserver, statistics, subprocess
import sys, tempfile, threading, time

API_PORT, BACKEND_PORT, FIRST_PORT = 20999, 20998, 21000


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


class Backend(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Api:
    def __init__(self, token, account):
        self.token, self.account, self.conn = token, account, None

    def call(self, method, path, body=None):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", API_PORT, timeout=60)
                self.conn.request(method, f"/v1.0/{self.account}/{path}",
                                  body=None if body is None else json.dumps(body),
                                  headers={"X-Auth-Token": self.token, "Content-Type": "application/json"})
                r = self.conn.getresponse()
                text = r.read().decode()
                return r.status, (json.loads(text) if text.strip().startswith("{") else text)
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    raise


def start(args, data, tokens):
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TETHER_")}
    env["TETHER_Proxy__ShutdownTimeoutSeconds"] = "5"
    for i, (token, account) in enumerate(tokens):
        env[f"TETHER_Management__Tokens__{i}__Token"] = token
        env[f"TETHER_Management__Tokens__{i}__AccountId"] = str(account)
    log = open(os.path.join(data, "..", "tether.log"), "ab")
    p = subprocess.Popen(args.tether.split() + ["serve", "--data-dir", data, "--listen", f"http://127.0.0.1:{API_PORT}",
                                                "--public-address", "127.0.0.1", "--private-address", "127.0.0.1"],
                         stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    api = Api(tokens[0][0], tokens[0][1])
    while time.monotonic() < deadline:
        if p.poll() is not None:
            sys.exit(f"tether exited {p.returncode}; see {log.name}")
        try:
            if api.call("GET", "loadbalancers")[0] == 200:
                return p
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit("tether did not answer")


def connectable(port):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tether", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    n, per_account = args.count, 25
    work = tempfile.mkdtemp(prefix="tether-scale.")
    data = os.path.join(work, "data")
    os.makedirs(data)
    tokens = [(f"scale-token-{a:04d}-0123456789abcdef", a) for a in range(1, (n + per_account - 1) // per_account + 1)]
    backend = Server(("0.0.0.0", BACKEND_PORT), Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    stride = max(1, n // args.changes) if args.changes else n + 1
    measured = set(range(0, n, stride)[:args.changes]) if args.changes else set()
    rows = []
    p = start(args, data, tokens)
    rss0 = rss_kib(p.pid)
    ids = [None] * n
    errors = []

    def creator(worker):
        apis = {}
        for i in range(worker, n, args.clients):
            token, account = tokens[i // per_account]
            api = apis.setdefault(account, Api(token, account))
            first = "ENABLED"
            rest = "DISABLED" if i in measured else "ENABLED"
            nodes = [{"address": f"127.0.0.{k}", "port": BACKEND_PORT, "condition": first if k == 1 else rest}
                     for k in range(1, 26)]
            status, body = api.call("POST", "loadbalancers", {"loadBalancer": {
                "name": f"scale-{i}", "protocol": "HTTP", "port": FIRST_PORT + i,
                "virtualIps": [{"type": "PUBLIC"}], "nodes": nodes}})
            if status != 202:
                errors.append(f"create {i}: {status} {body}")
                return
            ids[i] = body["loadBalancer"]["id"]

    t0 = time.monotonic()
    threads = [threading.Thread(target=creator, args=(w,)) for w in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    create_s = time.monotonic() - t0
    if errors:
        sys.exit("\n".join(errors[:5]))
    # all listening
    pending = set(range(n))
    while pending:
        pending = {i for i in pending if not connectable(FIRST_PORT + i)}
        if time.monotonic() - t0 > 600:
            sys.exit(f"{len(pending)} listeners never accepted")
    listening_s = time.monotonic() - t0
    rss1 = rss_kib(p.pid)
    rows.append(("create (POST /loadbalancers with 25 nodes), all", f"{create_s:.1f} s ({n / create_s:.0f} creates/s, {args.clients} clients)"))
    rows.append(("create until every listener accepts", f"{listening_s:.1f} s"))
    rows.append(("RSS before / after create", f"{rss0 / 1024:.0f} MiB / {rss1 / 1024:.0f} MiB ({(rss1 - rss0) / n:.0f} KiB per LB)"))

    # 3. configuration change applied in the data plane
    lat = []
    for i in sorted(measured):
        token, account = tokens[i // per_account]
        api = Api(token, account)
        deadline = time.monotonic() + 30
        while api.call("GET", f"loadbalancers/{ids[i]}")[1]["loadBalancer"]["status"] != "ACTIVE":
            time.sleep(0.02)
            if time.monotonic() > deadline:
                sys.exit(f"lb {ids[i]} not ACTIVE")
        status, nodes = api.call("GET", f"loadbalancers/{ids[i]}/nodes")
        node = next(x for x in nodes["nodes"] if x["address"] == "127.0.0.1")
        probe = http.client.HTTPConnection("127.0.0.1", FIRST_PORT + i, timeout=5)
        probe.request("GET", "/")
        r = probe.getresponse(); r.read()
        if r.status != 200:
            sys.exit(f"lb {i} answered {r.status} before the change")
        probe.close()
        t = time.monotonic()
        status, body = api.call("PUT", f"loadbalancers/{ids[i]}/nodes/{node['id']}", {"node": {"condition": "DISABLED"}})
        if status != 202:
            sys.exit(f"PUT node of {i}: {status} {body}")
        while True:
            c = http.client.HTTPConnection("127.0.0.1", FIRST_PORT + i, timeout=5)
            c.request("GET", "/")
            r = c.getresponse(); r.read(); c.close()
            if r.status == 503:
                break
            if time.monotonic() - t > 30:
                sys.exit(f"lb {i} still {r.status} 30 s after the change")
        lat.append((time.monotonic() - t) * 1000)
    if lat:
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(round(0.99 * len(lat))) - 1)]
        rows.append((f"config change applied (PUT node DISABLED -> 503 through the LB), {len(lat)} LBs",
                     f"p50 {statistics.median(lat):.1f} ms, p99 {p99:.1f} ms, max {lat[-1]:.1f} ms"))

    # 2. restart
    t = time.monotonic()
    p.send_signal(signal.SIGTERM)
    p.wait(120)
    stop_s = time.monotonic() - t
    t = time.monotonic()
    p = start(args, data, tokens)
    api_s = time.monotonic() - t
    pending = set(range(n))
    while pending:
        pending = {i for i in pending if not connectable(FIRST_PORT + i)}
        if time.monotonic() - t > 600:
            sys.exit(f"{len(pending)} listeners never came back")
    back_s = time.monotonic() - t
    rss2 = rss_kib(p.pid)
    rows.append(("restart: SIGTERM to exit", f"{stop_s:.1f} s"))
    rows.append(("restart: start to API answering / to every listener accepting", f"{api_s:.1f} s / {back_s:.1f} s"))
    rows.append(("RSS after restart", f"{rss2 / 1024:.0f} MiB"))
    p.send_signal(signal.SIGTERM)
    p.wait(60)
    backend.shutdown()
    shutil.rmtree(work, ignore_errors=True)
    print(f"| measure ({n} load balancers x 25 nodes) | figure |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
