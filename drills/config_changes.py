#!/usr/bin/env python3
"""Drill: configuration changes under load (issue 11, item 8).  Run through drills/config-changes.sh.

An HTTP load balancer over B backends takes steady keep-alive load from C clients (half of them keep Tether's
persistence cookie and send it back, half never do) while N configuration changes are made through the API, one at a
time, each chosen at random among: add / remove / bulk-remove nodes, node condition, weight and type, algorithm,
timeout, name, halfClosed, session persistence on (HTTP_COOKIE or SOURCE_IP) / off, health monitor set / removed,
access list items added / removed, connection logging on / off, connection throttle set / removed, error page set /
removed.  The changes keep at least two ENABLED PRIMARY nodes, never refuse 127.0.0.1 and never move the port, so
every request should be answered 200 by a node.

A request fails when it gets anything but a 200 from a backend, when the backend that answered was not an ENABLED
node of the load balancer (or a DRAINING one while persistence was on) at any moment while the request was under way,
or on a connection error.  A
request made on a keep-alive connection that the other side had closed, failing before any byte of an answer, is
retried once on a new connection (what HTTP clients do with an idempotent request) and counted as such.
At the end the load balancer's configuration (GET) must equal the drill's model of it.
"""
import argparse
import bisect
import http.client
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drill_common as dc  # noqa: E402

NAME = "config-changes"
ALGORITHMS = ["RANDOM", "ROUND_ROBIN", "LEAST_CONNECTIONS", "WEIGHTED_ROUND_ROBIN", "WEIGHTED_LEAST_CONNECTIONS"]


class History:
    """The allowed node ports over time: entry i holds (time the change was sent, time its answer came, ports)."""

    def __init__(self, ports):
        self.sent = [0.0]
        self.acked = [0.0]
        self.allowed = [frozenset(ports)]
        self.lock = threading.Lock()

    def add(self, sent, acked, ports):
        with self.lock:
            self.sent.append(sent)
            self.acked.append(acked)
            self.allowed.append(frozenset(ports))

    def allowed_between(self, start, end):
        """Union of the configurations that may have been in effect at some moment in [start, end]: configuration i
        may be in effect from when its change was sent until the next change was answered."""
        hi = bisect.bisect_right(self.sent, end) - 1
        lo = max(0, bisect.bisect_left(self.acked, start) - 1)
        ports = set()
        for i in range(lo, hi + 1):
            ports |= self.allowed[i]
        return ports


class Client(threading.Thread):
    def __init__(self, port, lb_id, keeps_cookie, stop):
        super().__init__(daemon=True)
        self.port = port
        self.cookie_name = f"tether-{lb_id}"
        self.keeps_cookie = keeps_cookie
        self.stop = stop
        self.results = []   # (start, end, status, backend port or None, error or None)
        self.retried = 0
        self.jar = {}

    def _connect(self):
        return http.client.HTTPConnection(dc.HOST, self.port, timeout=30)

    def run(self):
        conn = self._connect()
        used = 0
        while not self.stop.is_set():
            headers = {}
            if self.keeps_cookie and self.jar:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
            start = time.monotonic()
            attempt = 0
            while True:
                attempt += 1
                got_answer = False
                try:
                    conn.request("GET", "/", headers=headers)
                    response = conn.getresponse()
                    got_answer = True
                    body = response.read()
                    end = time.monotonic()
                    for name, value in response.getheaders():
                        if name.lower() == "set-cookie":
                            k, _, rest = value.partition("=")
                            if k.strip() == self.cookie_name:
                                self.jar[k.strip()] = rest.split(";")[0]
                    backend = None
                    text = body.decode("latin-1").strip()
                    if text.startswith("b") and text[1:].isdigit():
                        backend = int(text[1:])
                    self.results.append((start, end, response.status, backend, None))
                    used += 1
                    if response.will_close:
                        conn.close()
                        conn = self._connect()
                        used = 0
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                        http.client.BadStatusLine) as e:
                    conn.close()
                    conn = self._connect()
                    if used > 0 and attempt == 1 and not got_answer:
                        self.retried += 1
                        used = 0
                        continue
                    self.results.append((start, time.monotonic(), None, None, f"{type(e).__name__}: {e}"))
                    used = 0
                    break
                except OSError as e:
                    conn.close()
                    conn = self._connect()
                    self.results.append((start, time.monotonic(), None, None, f"{type(e).__name__}: {e}"))
                    used = 0
                    time.sleep(0.05)
                    break
        conn.close()


class Model:
    """What the drill believes the load balancer holds."""

    def __init__(self, lb):
        self.name = lb["name"]
        self.algorithm = lb["algorithm"]
        self.timeout = lb["timeout"]
        self.half_closed = lb.get("halfClosed", False)
        self.nodes = {n["id"]: {"port": n["port"], "condition": n["condition"], "weight": n["weight"],
                                "type": n.get("type", "PRIMARY")} for n in lb["nodes"]}
        self.persistence = None
        self.monitor = None
        self.access = set()   # addresses
        self.logging = False
        self.throttle = None
        self.errorpage = None

    def allowed_ports(self):
        """ENABLED nodes; DRAINING ones only while persistence is on (they take only pinned requests)."""
        allowed = ("ENABLED", "DRAINING") if self.persistence else ("ENABLED",)
        return {n["port"] for n in self.nodes.values() if n["condition"] in allowed}

    def enabled_primary(self, without=()):
        return [i for i, n in self.nodes.items()
                if i not in without and n["condition"] == "ENABLED" and n["type"] == "PRIMARY"]


def main():
    p = argparse.ArgumentParser(prog="drills/config-changes.sh", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tether-dll", required=True, help=argparse.SUPPRESS)
    p.add_argument("--changes", type=int, default=1000, help="configuration changes (default 1000)")
    p.add_argument("--clients", type=int, default=8, help="keep-alive clients, half keeping the cookie (default 8)")
    p.add_argument("--backends", type=int, default=10, help="backends the nodes are chosen from (default 10)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: from the time; printed)")
    p.add_argument("--quick", action="store_true", help="--changes 100 --clients 4 --backends 6 (CI)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = p.parse_args()
    if a.quick:
        a.changes, a.clients, a.backends = 100, 4, 6
    if a.changes < 1 or a.clients < 2 or a.backends < 4:
        print("config-changes: --changes >= 1, --clients >= 2, --backends >= 4", file=sys.stderr)
        return dc.EXIT_SETUP
    return dc.run_drill(NAME, a, lambda drill, a, seed: run(drill, a, random.Random(seed), seed))


def run(drill, a, rng, seed):
    ports = dc.free_ports(a.backends + 1)
    lb_port, backend_ports = ports[0], ports[1:]
    dc.start_backends(drill, backend_ports)
    tether = dc.Tether(drill, a.tether_dll)
    drill.log(f"starting Tether (management 127.0.0.1:{tether.mgmt_port}, data {tether.data_dir}); seed {seed}")
    tether.start()
    lb = dc.create_http_lb(tether, "config-drill", lb_port, backend_ports[:3])
    lb_id = lb["id"]
    dc.wait_answers(lb_port)
    model = Model(lb)
    history = History(model.allowed_ports())
    base = f"/loadbalancers/{lb_id}"

    stop = threading.Event()
    clients = [Client(lb_port, lb_id, i % 2 == 0, stop) for i in range(a.clients)]
    for c in clients:
        c.start()
    drill.log(f"load balancer {lb_id} on 127.0.0.1:{lb_port}; {a.clients} clients; making {a.changes} changes")

    counts = {}
    refused = []
    made = 0
    began = time.monotonic()
    for _ in range(a.changes):
        if not tether.alive():
            break
        kind, method, path, body, apply = pick_change(tether, model, rng, base, backend_ports)
        sent = time.monotonic()
        try:
            status, answer = tether.api(method, path, body)
        except OSError as e:
            status, answer = None, f"{type(e).__name__}: {e}"
        acked = time.monotonic()
        if status is not None and 200 <= status < 300:
            apply(answer)
            made += 1
            counts[kind] = counts.get(kind, 0) + 1
            history.add(sent, acked, model.allowed_ports())
        else:
            refused.append((kind, method, path, body, status, answer))
            # a refused change must change nothing; keep the history exact anyway
            history.add(sent, acked, model.allowed_ports())
        time.sleep(rng.uniform(0, 0.01))
    changes_time = time.monotonic() - began
    time.sleep(0.5)  # requests after the last change
    stop.set()
    for c in clients:
        c.join(60)

    # --- verdict on the requests
    total = ok = 0
    failures = []
    retried = sum(c.retried for c in clients)
    cookie_requests = 0
    for c in clients:
        for (start, end, status, backend, error) in c.results:
            total += 1
            if c.keeps_cookie:
                cookie_requests += 1
            if error is not None:
                failures.append(f"connection error: {error}")
            elif status != 200:
                failures.append(f"HTTP {status}")
            elif backend is None:
                failures.append("200 not from a backend")
            elif backend not in history.allowed_between(start, end):
                failures.append(f"answered by 127.0.0.1:{backend}, not an ENABLED node (or DRAINING with persistence) then")
            else:
                ok += 1

    # --- the final configuration
    mismatches = compare_final(tether, base, model)
    alive = tether.alive()
    problems = tether.problems()

    reasons = []
    if failures:
        reasons.append(f"{len(failures)} failed requests")
    if refused:
        reasons.append(f"{len(refused)} changes refused")
    if made < a.changes:
        reasons.append(f"only {made} of {a.changes} changes made")
    if mismatches:
        reasons.append(f"final configuration differs ({len(mismatches)})")
    if not alive:
        reasons.append("Tether exited")
    if total == 0:
        reasons.append("no requests were made")
    result = "PASS" if not reasons else "FAIL: " + "; ".join(reasons)

    by_reason = {}
    for f in failures:
        by_reason[f] = by_reason.get(f, 0) + 1
    rows = [
        ("seed", seed),
        ("changes made", f"{made} of {a.changes} in {changes_time:.1f} s ({made / max(changes_time, 1e-9):.0f}/s)"),
        ("changes by kind", ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))),
        ("changes refused", len(refused)),
        ("requests", f"{total} from {a.clients} keep-alive clients ({cookie_requests} from clients keeping the cookie)"),
        ("ok", ok),
        ("failed", len(failures)),
        ("failures by reason", "; ".join(f"{v} x {k}" for k, v in sorted(by_reason.items(), key=lambda x: -x[1])[:6]) or "-"),
        ("retried (stale keep-alive)", f"{retried} (the connection was closed before the request; retried once on a new one)"),
        ("final configuration", "as expected" if not mismatches else "; ".join(mismatches[:6])),
        ("tether log warnings", len(problems)),
        ("tether process", "running" if alive else f"exited ({tether.process.returncode})"),
        ("result", result),
    ]
    for kind, method, path, body, status, answer in refused[:3]:
        drill.log(f"refused change {kind}: {method} {path} {body} -> {status} {str(answer)[:300]}")
    for line in problems[:5]:
        drill.log(f"tether: {line[:200]}")
    if not alive:
        drill.log(tether.log_tail())
    dc.figures("config-changes drill", rows,
               f"config-changes: {made} changes, {total} requests, {len(failures)} failed")
    return dc.EXIT_PASS if not reasons else dc.EXIT_FAIL


def pick_change(tether, model, rng, base, backend_ports):
    """A random change that keeps the load balancer serving: (kind, method, path, body, apply(answer))."""
    while True:
        kind = rng.choice(["node-add", "node-add", "node-remove", "node-bulk-remove", "node-condition", "node-condition",
                           "node-weight", "node-type", "algorithm", "timeout", "name", "half-closed",
                           "persistence-on", "persistence-off", "monitor-set", "monitor-remove", "access-add",
                           "access-remove", "logging", "throttle-set", "throttle-remove", "errorpage-set",
                           "errorpage-remove"])
        used = {n["port"] for n in model.nodes.values()}
        free = [p for p in backend_ports if p not in used]
        if kind == "node-add" and free and len(model.nodes) < 20:
            port = rng.choice(free)
            cond = rng.choice(["ENABLED", "ENABLED", "DRAINING", "DISABLED"])
            weight = rng.randint(1, 100)

            def apply(answer, port=port, cond=cond, weight=weight):
                node = answer["nodes"][0]
                model.nodes[node["id"]] = {"port": port, "condition": cond, "weight": weight, "type": "PRIMARY"}
            return kind, "POST", f"{base}/nodes", {"nodes": [{"address": dc.HOST, "port": port, "condition": cond,
                                                              "weight": weight}]}, apply
        if kind == "node-remove":
            candidates = [i for i in model.nodes if len(model.enabled_primary(without=(i,))) >= 2]
            if candidates:
                nid = rng.choice(candidates)
                return kind, "DELETE", f"{base}/nodes/{nid}", None, lambda _a, nid=nid: model.nodes.pop(nid)
        if kind == "node-bulk-remove" and len(model.nodes) >= 4:
            ids = rng.sample(sorted(model.nodes), 2)
            if len(model.enabled_primary(without=ids)) >= 2:
                def apply(_a, ids=ids):
                    for i in ids:
                        model.nodes.pop(i)
                return kind, "DELETE", f"{base}/nodes?" + "&".join(f"id={i}" for i in ids), None, apply
        if kind == "node-condition":
            nid = rng.choice(sorted(model.nodes))
            cond = rng.choice(["ENABLED", "DRAINING", "DISABLED"])
            if cond == "ENABLED" or len(model.enabled_primary(without=(nid,))) >= 2:
                return kind, "PUT", f"{base}/nodes/{nid}", {"node": {"condition": cond}}, \
                    lambda _a, nid=nid, cond=cond: model.nodes[nid].update(condition=cond)
        if kind == "node-weight":
            nid = rng.choice(sorted(model.nodes))
            w = rng.randint(1, 100)
            return kind, "PUT", f"{base}/nodes/{nid}", {"node": {"weight": w}}, \
                lambda _a, nid=nid, w=w: model.nodes[nid].update(weight=w)
        if kind == "node-type":
            nid = rng.choice(sorted(model.nodes))
            t = "SECONDARY" if model.nodes[nid]["type"] == "PRIMARY" else "PRIMARY"
            if t == "PRIMARY" or len(model.enabled_primary(without=(nid,))) >= 2:
                return kind, "PUT", f"{base}/nodes/{nid}", {"node": {"type": t}}, \
                    lambda _a, nid=nid, t=t: model.nodes[nid].update(type=t)
        if kind == "algorithm":
            alg = rng.choice([x for x in ALGORITHMS if x != model.algorithm])
            return kind, "PUT", base, {"loadBalancer": {"algorithm": alg}}, lambda _a, alg=alg: setattr(model, "algorithm", alg)
        if kind == "timeout":
            t = rng.randint(5, 120)
            return kind, "PUT", base, {"loadBalancer": {"timeout": t}}, lambda _a, t=t: setattr(model, "timeout", t)
        if kind == "name":
            n = f"config-drill-{rng.getrandbits(32):08x}"
            return kind, "PUT", base, {"loadBalancer": {"name": n}}, lambda _a, n=n: setattr(model, "name", n)
        if kind == "half-closed":
            h = not model.half_closed
            return kind, "PUT", base, {"loadBalancer": {"halfClosed": h}}, lambda _a, h=h: setattr(model, "half_closed", h)
        if kind == "persistence-on":
            t = rng.choice(["HTTP_COOKIE", "HTTP_COOKIE", "SOURCE_IP"])
            body = {"sessionPersistence": {"persistenceType": t}}
            if t == "HTTP_COOKIE" and rng.random() < 0.5:
                body["sessionPersistence"]["persistenceTimeout"] = rng.randint(60, 3600)
            return kind, "PUT", f"{base}/sessionpersistence", body, lambda _a, t=t: setattr(model, "persistence", t)
        if kind == "persistence-off" and model.persistence:
            return kind, "DELETE", f"{base}/sessionpersistence", None, lambda _a: setattr(model, "persistence", None)
        if kind == "monitor-set":
            if rng.random() < 0.5:
                mon = {"type": "CONNECT", "delay": rng.randint(1, 10), "timeout": rng.randint(3, 5),
                       "attemptsBeforeDeactivation": rng.randint(2, 3)}
            else:
                mon = {"type": "HTTP", "delay": rng.randint(1, 10), "timeout": rng.randint(3, 5),
                       "attemptsBeforeDeactivation": rng.randint(2, 3), "path": "/", "statusRegex": "^200$"}
            return kind, "PUT", f"{base}/healthmonitor", {"healthMonitor": mon}, \
                lambda _a, t=mon["type"]: setattr(model, "monitor", t)
        if kind == "monitor-remove" and model.monitor:
            return kind, "DELETE", f"{base}/healthmonitor", None, lambda _a: setattr(model, "monitor", None)
        if kind == "access-add" and len(model.access) < 60:
            addr = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            if addr in model.access:
                continue
            typ = rng.choice(["DENY", "DENY", "ALLOW"])
            return kind, "POST", f"{base}/accesslist", {"accessList": [{"address": addr, "type": typ}]}, \
                lambda _a, addr=addr: model.access.add(addr)
        if kind == "access-remove" and model.access:
            status, listing = tether.api("GET", f"{base}/accesslist")  # a read, to learn the item ids
            items = listing.get("accessList", []) if status == 200 and isinstance(listing, dict) else []
            if items:
                item = rng.choice(items)
                return kind, "DELETE", f"{base}/accesslist/{item['id']}", None, \
                    lambda _a, addr=item["address"]: model.access.discard(addr)
        if kind == "logging":
            on = not model.logging
            return kind, "PUT", f"{base}/connectionlogging", {"connectionLogging": {"enabled": on}}, \
                lambda _a, on=on: setattr(model, "logging", on)
        if kind == "throttle-set":
            m = rng.choice([0, 1000, 5000, 100000])
            return kind, "PUT", f"{base}/connectionthrottle", {"connectionThrottle": {"maxConnections": m}}, \
                lambda _a, m=m: setattr(model, "throttle", m)
        if kind == "throttle-remove" and model.throttle is not None:
            return kind, "DELETE", f"{base}/connectionthrottle", None, lambda _a: setattr(model, "throttle", None)
        if kind == "errorpage-set":
            c = f"<html><body>drill {rng.getrandbits(32):08x}</body></html>"
            return kind, "PUT", f"{base}/errorpage", {"errorpage": {"content": c}}, lambda _a, c=c: setattr(model, "errorpage", c)
        if kind == "errorpage-remove" and model.errorpage is not None:
            return kind, "DELETE", f"{base}/errorpage", None, lambda _a: setattr(model, "errorpage", None)


def compare_final(tether, base, model):
    out = []
    status, answer = tether.api("GET", base)
    if status != 200:
        return [f"GET {base}: HTTP {status}"]
    lb = answer["loadBalancer"]
    for field, want in (("name", model.name), ("algorithm", model.algorithm), ("timeout", model.timeout),
                        ("halfClosed", model.half_closed)):
        if lb.get(field) != want:
            out.append(f"{field} {lb.get(field)!r}, expected {want!r}")
    got = {n["id"]: {"port": n["port"], "condition": n["condition"], "weight": n["weight"], "type": n.get("type")}
           for n in lb.get("nodes", [])}
    if got != model.nodes:
        out.append(f"nodes {got}, expected {model.nodes}")
    sp = (lb.get("sessionPersistence") or {}).get("persistenceType")
    if sp != model.persistence:
        out.append(f"persistence {sp!r}, expected {model.persistence!r}")
    hm = (lb.get("healthMonitor") or {}).get("type")
    if hm != model.monitor:
        out.append(f"health monitor {hm!r}, expected {model.monitor!r}")
    addresses = sorted(i["address"] for i in lb.get("accessList") or [])
    if addresses != sorted(model.access):
        out.append(f"access list {len(addresses)} items, expected {len(model.access)}")
    if (lb.get("connectionLogging") or {}).get("enabled") != model.logging:
        out.append(f"connection logging {lb.get('connectionLogging')}, expected {model.logging}")
    status, ct = tether.api("GET", f"{base}/connectionthrottle")
    got_t = (ct or {}).get("connectionThrottle", {}).get("maxConnections") if isinstance(ct, dict) else None
    if got_t != model.throttle:
        out.append(f"connection throttle maxConnections {got_t!r}, expected {model.throttle!r}")
    status, ep = tether.api("GET", f"{base}/errorpage")
    content = (ep or {}).get("errorpage", {}).get("content") if isinstance(ep, dict) else None
    if model.errorpage is not None and content != model.errorpage:
        out.append("error page is not the last one set")
    if model.errorpage is None and content and "drill " in content:
        out.append("error page still the drill's after it was removed")
    return out


if __name__ == "__main__":
    dc.run_main(NAME, main)
