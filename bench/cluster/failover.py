#!/usr/bin/env python3
"""The kill -9 failover drill of issue 14 (run it through bench/cluster/failover.sh, which builds Tether first).

What it does, in cluster mode (the default):
  1. starts a redis-server (free port on 127.0.0.1, no persistence) and three real backends
     (`tether demo-backend`, each answering its name in the X-Backend header);
  2. starts instances a, b (and c with --instances 3) of `tether serve --redis R --instance NAME`, each on its own
     loopback address (127.0.0.2, 127.0.0.3, 127.0.0.4: API and SERVICENET virtual IPs);
  3. creates through a two load balancers on the three backends: one with SOURCE_IP persistence, one with
     HTTP_COOKIE (ROUND_ROBIN underneath), and waits until b serves them too;
  4. runs the clients (threads with keep-alive connections, as many requests as they can, like wrk -c): half on
     the SOURCE_IP load balancer, each from its own source address (127.10.x.y) so each is its own pin, half on the
     HTTP_COOKIE one, each keeping the cookie Tether gave it; every answer's node is recorded per client;
  5. at a quarter of the run adds a fourth backend through a (Maglev then maps some source addresses elsewhere: only
     the stick table keeps those clients on their node, so the SOURCE_IP figure tests the shared stick table);
  6. at half of the run kills a with SIGKILL and at once points every client at b (what the virtual IP moving does);
  7. at the end prints: requests and failures (those in flight at a when it died, those after the switch), pins kept
     (clients whose node after the switch is the node they had just before the kill) out of how many, per
     persistence type, and the time from the kill until every client had an answer through b (converged).

Other modes, to test the drill itself where cluster mode cannot run:
  --mode standalone  the same with two independent instances (no Redis, each configured alike through its own API):
                     what a failover loses without shared state (cookie keys and stick tables are per instance);
  --mode single      one instance, no kill, no switch: every pin must be kept (checks the clients and the counting).

Exit code: 0 when every pin was kept and no request failed after the switch, 1 otherwise, 2 on a setup failure,
3 when `tether serve` refuses --redis (cluster mode not in this build).
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PROCESSES = []  # every child process, killed at the end
WORK = tempfile.mkdtemp(prefix="tether-failover-")


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fail(message, code=2):
    print(f"failover: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


HANDED_OUT = set()


def free_port(addresses=("127.0.0.1",)):
    """A TCP port free on every one of addresses and not handed out before (below the ephemeral range, so no client
    connection takes it)."""
    for port in range(20000 + (os.getpid() % 100) * 50, 32000):
        if port in HANDED_OUT:
            continue
        try:
            for address in addresses:
                with socket.socket() as s:
                    s.bind((address, port))
            HANDED_OUT.add(port)
            return port
        except OSError:
            continue
    fail("no free port")


def start(args, name, env=None):
    """Starts a child process with its output in WORK/name.log."""
    out = open(os.path.join(WORK, name + ".log"), "wb")
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    process.log_path = out.name
    PROCESSES.append(process)
    return process


def output_of(process):
    with open(process.log_path, errors="replace") as f:
        return f.read()


def wait_until(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    fail(f"{what} within {seconds} s")


def http_status(host, port, path, headers=None):
    try:
        c = http.client.HTTPConnection(host, port, timeout=2)
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except OSError:
        return None


class Instance:
    """One `tether serve` on its own loopback address."""

    def __init__(self, tether, name, address, redis):
        self.name, self.address = name, address
        self.api_port = free_port((address,))
        self.data = os.path.join(WORK, "data-" + name)
        args = tether + ["serve", "--data-dir", self.data, "--listen", f"http://{address}:{self.api_port}",
                         "--public-address", address, "--private-address", address, "--public-address-v6", "::1"]
        if redis:
            args += ["--redis", redis, "--instance", name]
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TETHER_")}
        env["TETHER_Proxy__ShutdownTimeoutSeconds"] = "5"
        self.process = start(args, "tether-" + name, env)
        self.token = None

    def wait_ready(self, token=None):
        """Waits until the API answers; the token is the given one (in cluster mode tokens are shared, and only the
        instance that created the admin token writes admin-token) or this instance's admin-token file."""
        token_file = os.path.join(self.data, "admin-token")

        def up():
            if self.process.poll() is not None:
                text = output_of(self.process)
                if "--redis" in text and ("Unrecognized" in text or "unknown" in text.lower()):
                    fail(f"tether serve refused --redis (exit {self.process.returncode}): cluster mode (issue 14) is not "
                         f"in this build; merge it, or run --mode standalone / --mode single.\n"
                         + "\n".join(line for line in text.splitlines() if "Unrecognized" in line or "redis" in line.lower()), 3)
                fail(f"tether serve {self.name} exited {self.process.returncode} before it served:\n{text}")
            return (token is not None or os.path.exists(token_file)) and http_status(self.address, self.api_port, "/v1.0/1/loadbalancers") is not None

        wait_until(up, 90, f"tether serve {self.name} did not serve on {self.address}:{self.api_port} (or wrote no admin-token)")
        if token is None:
            with open(token_file) as f:
                token = f.read().strip()
        self.token = token
        # /healthz (ready: listeners bound, configuration in sync) when this build has it
        if http_status(self.address, self.api_port, "/healthz") not in (None, 404):
            wait_until(lambda: http_status(self.address, self.api_port, "/healthz") == 200, 30,
                       f"{self.name} /healthz did not answer 200")

    def api(self, method, path, body=None):
        c = http.client.HTTPConnection(self.address, self.api_port, timeout=30)
        headers = {"X-Auth-Token": self.token, "Content-Type": "application/json"}
        c.request(method, "/v1.0/1/" + path, body=None if body is None else json.dumps(body), headers=headers)
        r = c.getresponse()
        text = r.read().decode()
        c.close()
        return r.status, (json.loads(text) if text.strip().startswith("{") else text)

    def create_load_balancer(self, name, port, nodes, persistence):
        status, body = self.api("POST", "loadbalancers", {"loadBalancer": {
            "name": name, "protocol": "HTTP", "port": port, "algorithm": "ROUND_ROBIN",
            "virtualIps": [{"type": "SERVICENET"}],
            "nodes": [{"address": "127.0.0.1", "port": p, "condition": "ENABLED"} for p in nodes],
            "sessionPersistence": {"persistenceType": persistence}}})
        if status != 202:
            fail(f"create {name} through {self.name}: {status} {body}")
        return body["loadBalancer"]["id"]

    def wait_active(self, lb_id):
        def active():
            status, body = self.api("GET", f"loadbalancers/{lb_id}")
            return status == 200 and body["loadBalancer"]["status"] == "ACTIVE"
        wait_until(active, 30, f"load balancer {lb_id} did not become ACTIVE on {self.name}")

    def add_node(self, lb_id, port):
        # the load balancer may be PENDING_UPDATE a moment after another change: 422, retried
        deadline = time.monotonic() + 30
        while True:
            status, body = self.api("POST", f"loadbalancers/{lb_id}/nodes",
                                    {"nodes": [{"address": "127.0.0.1", "port": port, "condition": "ENABLED"}]})
            if status == 202 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if status != 202:
            fail(f"add node to {lb_id} through {self.name}: {status} {body}")

    def node_count(self, lb_id):
        status, body = self.api("GET", f"loadbalancers/{lb_id}/nodes")
        return len(body["nodes"]) if status == 200 else -1


class Client(threading.Thread):
    """One client: a keep-alive connection to the current target, as many requests as it can, the node of each answer
    recorded. kind 'source': its own source address (a SOURCE_IP pin of its own); kind 'cookie': keeps the cookie."""

    def __init__(self, drill, kind, index, port):
        super().__init__(daemon=True)
        self.drill, self.kind, self.port = drill, kind, port
        self.source = f"127.10.{index // 250}.{index % 250 + 1}" if kind == "source" else "127.0.0.1"
        self.cookie = None
        self.ok = self.failed = self.failed_in_flight = self.failed_after = 0
        self.node_before_kill = None   # the node of the last answer before the kill
        self.nodes_before = []          # distinct nodes before the kill, in order
        self.nodes_after = []           # distinct nodes after the switch, in order
        self.first_ok_after = None      # monotonic time of the first answer after the switch

    def run(self):
        connection, host = None, None
        while not self.drill.stop.is_set():
            target, generation = self.drill.target, self.drill.generation
            if connection is None or host != target:
                if connection is not None:
                    connection.close()
                connection = http.client.HTTPConnection(target, self.port, timeout=5, source_address=(self.source, 0))
                host = target
            try:
                headers = {"Cookie": self.cookie} if self.cookie else {}
                connection.request("GET", "/", headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise OSError(f"status {response.status}")
                node = response.getheader("X-Backend")
                set_cookie = response.getheader("Set-Cookie")
                if self.kind == "cookie" and set_cookie:
                    self.cookie = set_cookie.split(";", 1)[0]
                self.ok += 1
                if generation == 0 and not self.drill.killed.is_set():
                    self.node_before_kill = node
                    if node not in self.nodes_before:
                        self.nodes_before.append(node)
                elif generation == 1:
                    if self.first_ok_after is None:
                        self.first_ok_after = time.monotonic()
                    if node not in self.nodes_after:
                        self.nodes_after.append(node)
            except (OSError, http.client.HTTPException):
                self.failed += 1
                if generation == 0:
                    self.failed_in_flight += 1  # through a, as it died (or before: counted, reported)
                else:
                    self.failed_after += 1
                    self.drill.last_failure = time.monotonic()
                connection.close()
                connection = None
                time.sleep(0.01)

    def kept(self):
        """True when every answer after the switch came from the node of its last answer before the kill."""
        return self.node_before_kill is not None and self.nodes_after == [self.node_before_kill]


class Drill:
    def __init__(self):
        self.stop, self.killed = threading.Event(), threading.Event()
        self.target, self.generation = None, 0
        self.last_failure = None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tether", required=True, help="how to run tether, e.g. 'dotnet src/Tether/bin/Release/net10.0/tether.dll'")
    parser.add_argument("--mode", choices=["cluster", "standalone", "single"], default="cluster")
    parser.add_argument("--instances", type=int, default=2, choices=[2, 3], help="tether serve processes (cluster mode)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=32, help="clients per load balancer (default 32)")
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "/usr/bin/redis-server")
    args = parser.parse_args()
    tether = args.tether.split()

    for address in ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.10.0.1"):
        try:
            with socket.socket() as s:
                s.bind((address, 0))
        except OSError as e:
            fail(f"cannot bind {address} ({e}): this drill needs the whole 127.0.0.0/8 on the loopback interface (Linux)")

    # 1. Redis and the backends
    redis = None
    if args.mode == "cluster":
        if not os.path.exists(args.redis_server):
            fail("redis-server is required (Debian: apt-get install redis-server)")
        redis_port = free_port()
        redis_process = start([args.redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", WORK, "--daemonize", "no"], "redis")

        def redis_up():
            try:
                with socket.create_connection(("127.0.0.1", redis_port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return redis_process.poll() is None and False
        wait_until(redis_up, 30, "redis-server did not answer PING")
        redis = f"127.0.0.1:{redis_port}"
        log(f"redis-server on {redis}")

    backend_ports = [free_port() for _ in range(4)]
    for i, port in enumerate(backend_ports):
        start(tether + ["demo-backend", "--listen", f"http://127.0.0.1:{port}", "--name", f"node{i + 1}"], f"backend{i + 1}")
    for port in backend_ports:
        wait_until(lambda: http_status("127.0.0.1", port, "/") == 200, 60, f"backend on {port} did not answer")
    log(f"backends node1..node4 on 127.0.0.1:{','.join(map(str, backend_ports))} (node4 added later)")

    # 2. the instances
    count = {"cluster": args.instances, "standalone": 2, "single": 1}[args.mode]
    addresses = ["127.0.0.2", "127.0.0.3", "127.0.0.4"][:count]
    # a first (it creates the admin token; in cluster mode the others share it through Redis), then the others
    instances = [Instance(tether, "a", addresses[0], redis)]
    instances[0].wait_ready()
    for name, address in list(zip("abc", addresses))[1:]:
        instances.append(Instance(tether, name, address, redis))
    for instance in instances[1:]:
        instance.wait_ready(instances[0].token if args.mode == "cluster" else None)
    a, b = instances[0], instances[-1]
    log("instances: " + ", ".join(f"{i.name} on {i.address} (API :{i.api_port}, pid {i.process.pid})" for i in instances))

    # 3. the load balancers, through a (standalone: through each)
    ports = {"SOURCE_IP": free_port(tuple(addresses)), "HTTP_COOKIE": free_port(tuple(addresses))}
    ids = {}
    for persistence, port in ports.items():
        ids[persistence] = a.create_load_balancer(f"drill-{persistence.lower()}", port, backend_ports[:3], persistence)
        a.wait_active(ids[persistence])
        if args.mode == "standalone":
            assert b.create_load_balancer(f"drill-{persistence.lower()}", port, backend_ports[:3], persistence) == ids[persistence]
            b.wait_active(ids[persistence])
    for instance in instances[1:]:
        for persistence, port in ports.items():
            deadline = time.monotonic() + 30
            while http_status(instance.address, port, "/") != 200:
                if time.monotonic() > deadline:
                    status, body = instance.api("GET", f"loadbalancers/{ids[persistence]}")
                    seen = body.get("loadBalancer", {}) if isinstance(body, dict) else {}
                    problems = [line[:300] for line in output_of(instance.process).splitlines() if " fail: " in line or " warn: " in line]
                    fail(f"load balancer {persistence} (id {ids[persistence]}) created through a is not served on "
                         f"{instance.address}:{port} by {instance.name} after 30 s; {instance.name}'s API says {status} "
                         f"status {seen.get('status')} virtual IPs {seen.get('virtualIps')}; its log:\n" + "\n".join(problems[-5:]))
                time.sleep(0.1)
    log(f"load balancers through a: SOURCE_IP id {ids['SOURCE_IP']} port {ports['SOURCE_IP']}, "
        f"HTTP_COOKIE id {ids['HTTP_COOKIE']} port {ports['HTTP_COOKIE']}; served by every instance")

    # 4. the clients, through a
    drill = Drill()
    drill.target = a.address
    clients = [Client(drill, "source", i, ports["SOURCE_IP"]) for i in range(args.clients)]
    clients += [Client(drill, "cookie", i, ports["HTTP_COOKIE"]) for i in range(args.clients)]
    started = time.monotonic()
    for c in clients:
        c.start()
    log(f"{len(clients)} clients through a for {args.duration:.0f} s")

    # 5. a node added through a at a quarter of the run
    time.sleep(args.duration / 4)
    added = time.monotonic()
    for persistence in ports:
        a.add_node(ids[persistence], backend_ports[3])
        if args.mode == "standalone":
            b.add_node(ids[persistence], backend_ports[3])
    propagation = None
    if args.mode == "cluster":
        wait_until(lambda: all(b.node_count(ids[p]) == 4 for p in ports), 30, "the node added through a did not reach b")
        propagation = time.monotonic() - added
        log(f"node4 added through a; b lists it {propagation:.2f} s later")
    else:
        log("node4 added")

    # 6. kill -9 of a at half of the run, the clients switched to b
    time.sleep(max(0.0, started + args.duration / 2 - time.monotonic()))
    kill_time = None
    if args.mode != "single":
        drill.killed.set()
        kill_time = time.monotonic()
        os.kill(a.process.pid, signal.SIGKILL)
        drill.target, drill.generation = b.address, 1
        a.process.wait()
        log(f"kill -9 of a (pid {a.process.pid}); clients switched to b")
    else:
        drill.killed.set()
        drill.generation = 1
        kill_time = time.monotonic()
        log("single mode: no kill; the second half counts as 'after'")

    time.sleep(max(0.0, started + args.duration - time.monotonic()))
    drill.stop.set()
    for c in clients:
        c.join(10)
    elapsed = time.monotonic() - started

    # 7. the figures
    total_ok = sum(c.ok for c in clients)
    in_flight = sum(c.failed_in_flight for c in clients)
    after = sum(c.failed_after for c in clients)
    print()
    print(f"mode {args.mode}: {count} instance(s), {len(clients)} clients, {elapsed:.0f} s, node added at "
          f"{args.duration / 4:.0f} s, " + ("no kill (the second half counts as after the switch)" if args.mode == "single"
                                            else f"kill -9 of a at {args.duration / 2:.0f} s"))
    print(f"requests: {total_ok} answered ({total_ok / elapsed:.0f}/s), {in_flight + after} failed: {in_flight} through a "
          f"(in flight when it died), {after} after the switch to b")
    all_kept = True
    for kind, persistence in (("source", "SOURCE_IP"), ("cookie", "HTTP_COOKIE")):
        group = [c for c in clients if c.kind == kind]
        kept = sum(1 for c in group if c.kept())
        moved_before = sum(1 for c in group if len(c.nodes_before) > 1)
        all_kept &= kept == len(group)
        print(f"{persistence}: pins kept {kept}/{len(group)}"
              f" (clients that changed node before the kill: {moved_before})")
    firsts = [c.first_ok_after for c in clients]
    if all(f is not None for f in firsts):
        converged = max(firsts) - kill_time
        print(f"converged: every client answered through b {converged:.2f} s after the kill"
              + (f"; last failure {drill.last_failure - kill_time:.2f} s after it" if drill.last_failure else "; no failure after the switch"))
    else:
        print(f"converged: no ({sum(1 for f in firsts if f is None)} clients never answered through b)")
    if propagation is not None:
        print(f"node added through a listed by b after {propagation:.2f} s")
    print(f"logs: {WORK}")
    return 0 if all_kept and after == 0 and all(f is not None for f in firsts) else 1


def cleanup():
    for p in PROCESSES:
        if p.poll() is None:
            p.kill()
            p.wait()


if __name__ == "__main__":
    code = 2
    try:
        code = main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 2
    finally:
        cleanup()
        if code == 0:
            shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(code)
