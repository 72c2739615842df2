#!/usr/bin/env python3
"""Shared helpers for the drills (python3 standard library only): free ports, starting and stopping Tether by pid,
the management API, and small HTTP/1.1 backends that name themselves.  Traffic only to 127.0.0.1.

Every process started here is recorded and stopped by its pid when the drill ends (normally, on an exception, on
SIGINT or SIGTERM); nothing is stopped by name.
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
EXIT_PASS, EXIT_FAIL, EXIT_SETUP = 0, 1, 2


class SetupError(Exception):
    """The drill could not set itself up (exit 2)."""


def log(drill, message):
    sys.stderr.write(f"[{drill} {time.strftime('%H:%M:%S', time.gmtime())}] {message}\n")
    sys.stderr.flush()


# ----------------------------------------------------------------------------------------------------------------
# ports
# ----------------------------------------------------------------------------------------------------------------
_taken = set()


def free_ports(count):
    """COUNT free TCP ports on 127.0.0.1 below the kernel's ephemeral range (so no outgoing connection's source port
    can take one), never the same port twice in one drill."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    top = max(low - 1, 12000)
    candidates = list(range(max(10000, top - 12000), top))
    random.shuffle(candidates)
    found = []
    for port in candidates:
        if port in _taken:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, port))
        except OSError:
            continue
        finally:
            s.close()
        _taken.add(port)
        found.append(port)
        if len(found) == count:
            return found
    raise SetupError("no free ports found")


# ----------------------------------------------------------------------------------------------------------------
# the work directory and cleanup
# ----------------------------------------------------------------------------------------------------------------
class Drill:
    """The drill's temporary directory and every process it started; cleanup() stops them by pid."""

    def __init__(self, name, keep):
        self.name = name
        self.keep = keep
        self.work = tempfile.mkdtemp(prefix=f"tether-{name}-drill.", dir=os.environ.get("TMPDIR") or "/tmp")
        self.processes = []
        self.servers = []
        self._cleaned = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum, _frame):
        self.log("interrupted" if signum == signal.SIGINT else "terminated")
        self.cleanup()
        os._exit(130 if signum == signal.SIGINT else 143)

    def log(self, message):
        log(self.name, message)

    def cleanup(self):
        if self._cleaned:
            return
        self._cleaned = True
        for process in reversed(self.processes):
            stop_process(process)
        for server in self.servers:
            try:
                server.shutdown()
                server.server_close()
            except Exception:  # noqa: BLE001 - best effort at exit
                pass
        if self.keep:
            self.log(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def stop_process(process, timeout=10.0):
    """SIGTERM, then SIGKILL after TIMEOUT seconds; by the pid we got."""
    if process.poll() is not None:
        return
    try:
        process.terminate()
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    except OSError:
        pass


# ----------------------------------------------------------------------------------------------------------------
# Tether
# ----------------------------------------------------------------------------------------------------------------
class Tether:
    """One Tether process: `dotnet <dll> serve --data-dir DATA --listen http://127.0.0.1:PORT`, started from the
    work directory (so no ./tether.json of the caller is read); its output is appended to WORK/tether.log."""

    def __init__(self, drill, dll, data_dir=None, mgmt_port=None, env=None):
        self.drill = drill
        self.dll = dll
        self.data_dir = data_dir or os.path.join(drill.work, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.mgmt_port = mgmt_port or free_ports(1)[0]
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.log_path = os.path.join(drill.work, "tether.log")
        self.process = None
        self.token = None
        self.starts = 0

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "tether.db")

    def start(self, ready_timeout=120.0):
        with open(self.log_path, "ab") as out:
            out.write(f"==== start {self.starts + 1} at {time.strftime('%H:%M:%S', time.gmtime())} ====\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                ["dotnet", self.dll, "serve", "--data-dir", self.data_dir, "--listen", f"http://{HOST}:{self.mgmt_port}"],
                cwd=self.drill.work, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env)
        self.drill.processes.append(self.process)
        self.starts += 1
        deadline = time.monotonic() + ready_timeout
        token_path = os.path.join(self.data_dir, "admin-token")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SetupError(f"Tether exited while starting (status {self.process.returncode})\n" + self.log_tail())
            if self.token is None and os.path.exists(token_path):
                with open(token_path) as f:
                    self.token = f.read().strip() or None
            if self.token:
                try:
                    status, _ = self.api("GET", "/loadbalancers", timeout=5)
                    if status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        raise SetupError(f"Tether's API did not answer within {ready_timeout:.0f} s\n" + self.log_tail())

    def kill9(self):
        """SIGKILL, no warning; waits for the process to be gone."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self):
        if self.process:
            stop_process(self.process)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
            return "last lines of Tether's log:\n" + "\n".join(text[-lines:])
        except OSError:
            return ""

    def problems(self):
        """Tether's warning/error/critical log lines, without the expected first-start token notice (event 3000)."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []
        return [l for l in text if any(k in l for k in (" fail:", " crit:", " warn:")) and "[3000]" not in l]

    def api(self, method, path, body=None, timeout=30, raw=None, headers=None):
        """One API call on a fresh connection: (status, parsed JSON or text or None).  RAW (bytes) is sent as the
        body as is; BODY is JSON-encoded."""
        conn = http.client.HTTPConnection(HOST, self.mgmt_port, timeout=timeout)
        try:
            h = {"X-Auth-Token": self.token or "", "Accept": "application/json"}
            data = raw
            if data is None and body is not None:
                data = json.dumps(body).encode()
            if data is not None:
                h["Content-Type"] = "application/json"
            h.update(headers or {})
            conn.request(method, f"/v1.0/1{path}", body=data, headers=h)
            response = conn.getresponse()
            payload = response.read()
            text = payload.decode("utf-8", "replace")
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            return response.status, parsed
        finally:
            conn.close()


def create_http_lb(tether, name, port, node_ports, algorithm="ROUND_ROBIN", persistence=None, extra=None):
    """Creates an HTTP load balancer on 127.0.0.1:PORT (SERVICENET) over 127.0.0.1:NODE_PORTS; returns its object."""
    body = {"name": name, "protocol": "HTTP", "port": port, "algorithm": algorithm,
            "virtualIps": [{"type": "SERVICENET"}],
            "nodes": [{"address": HOST, "port": p, "condition": "ENABLED"} for p in node_ports]}
    if persistence:
        body["sessionPersistence"] = persistence
    body.update(extra or {})
    status, answer = tether.api("POST", "/loadbalancers", {"loadBalancer": body})
    if status not in (200, 202) or not isinstance(answer, dict):
        raise SetupError(f"creating load balancer {name}: HTTP {status} {answer}")
    return answer["loadBalancer"]


def wait_answers(port, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise SetupError(f"the load balancer on {HOST}:{port} did not answer 200 within {timeout:.0f} s")


# ----------------------------------------------------------------------------------------------------------------
# backends
# ----------------------------------------------------------------------------------------------------------------
class _Handler(socketserver.StreamRequestHandler):
    """HTTP/1.1 keep-alive: answers every request 200 with the body `b<port>\\n`.  With APP_COOKIE set on the server,
    a request without a session cookie this backend issued gets `Set-Cookie: <name>=<port>-<random>`."""

    def handle(self):
        server = self.server
        port = server.server_address[1]
        while True:
            try:
                line = self.rfile.readline(65537)
            except OSError:
                return
            if not line:
                return
            headers = {}
            cookies = []
            while True:
                h = self.rfile.readline(65537)
                if not h or h in (b"\r\n", b"\n"):
                    break
                name, _, value = h.decode("latin-1").partition(":")
                name = name.strip().lower()
                headers[name] = value.strip()
                if name == "cookie":
                    cookies.append(value.strip())
            length = int(headers.get("content-length", "0") or 0)
            if length:
                self.rfile.read(length)
            body = f"b{port}\n".encode()
            extra = ""
            if server.app_cookie:
                mine = False
                for c in ";".join(cookies).split(";"):
                    n, _, v = c.strip().partition("=")
                    if n == server.app_cookie and v in server.issued:
                        mine = True
                if not mine:
                    value = f"{port}-{random.getrandbits(64):016x}"
                    with server.lock:
                        server.issued.add(value)
                    extra = f"Set-Cookie: {server.app_cookie}={value}; Path=/\r\n"
            close = line.rstrip().endswith(b"HTTP/1.0") or headers.get("connection", "").lower() == "close"
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n{extra}"
                    + ("Connection: close\r\n" if close else "") + "\r\n").encode()
            try:
                self.wfile.write(head + body)
                self.wfile.flush()
            except OSError:
                return
            with server.lock:
                server.served += 1
            if close:
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def start_backends(drill, ports, app_cookie=None, issued=None):
    """Starts one threaded backend per port in this process; ISSUED (a set, shared if given) collects the session
    cookie values the backends hand out (APP_COOKIE)."""
    servers = []
    shared = issued if issued is not None else set()
    lock = threading.Lock()
    for port in ports:
        server = _Server((HOST, port), _Handler)
        server.app_cookie = app_cookie
        server.issued = shared
        server.lock = lock
        server.served = 0
        threading.Thread(target=server.serve_forever, daemon=True).start()
        drill.servers.append(server)
        servers.append(server)
    return servers


def figures(title, rows, summary):
    """Prints the figures block and the last one-line summary to standard output."""
    out = [f"==== {title} " + "=" * max(4, 60 - len(title))]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        out.append(f"{key.ljust(width)} : {value}")
    out.append(summary)
    print("\n".join(out), flush=True)


def run_drill(drill_name, a, run):
    """Picks the seed (A.seed, else from the time; the drill prints it), then calls RUN(drill, a, seed) with a new
    Drill (temporary directory, processes) that is cleaned up whatever happens; returns RUN's exit code."""
    seed = a.seed if a.seed is not None else int(time.time())
    drill = Drill(drill_name, a.keep)
    try:
        return run(drill, a, seed)
    finally:
        drill.cleanup()


def run_main(drill_name, main):
    """Runs MAIN(), mapping SetupError to exit 2 and any other exception to exit 2 with the traceback."""
    try:
        sys.exit(main())
    except SetupError as e:
        log(drill_name, f"ERROR (setup): {e}")
        sys.exit(EXIT_SETUP)
