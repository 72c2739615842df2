#!/usr/bin/env python3
"""Drill: kill -9 during API writes (issue 11, item 8).  Run through drills/kill-restart.sh.

R times: start Tether on the same data directory; W writers make API writes at once (create load balancers, add
nodes, change a node's weight or condition, rename a load balancer, delete nodes and load balancers), each writer
one write at a time on load balancers of its own, recording every write acknowledged (a 2xx answer); at a random
moment Tether is killed with SIGKILL.  Then:
  - a copy of the store as the kill left it (tether.db and its WAL) gets `PRAGMA integrity_check`, which must say ok;
  - Tether is started again and every load balancer is read back (GET): every acknowledged write must be there.
    The one write each writer had in flight when Tether died may or may not be there (it was not acknowledged);
    whichever it is, the drill adopts what the store says and goes on.
A write refused with a 4xx is a failure of the drill's model (reported).  A load balancer the drill did not create
(or that an acknowledged delete removed) appearing after a restart is reported too.
"""
import argparse
import copy
import os
import random
import shutil
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drill_common as dc  # noqa: E402

NAME = "kill-restart"
MAX_LBS_PER_WRITER = 5   # 25 load balancers per account at most (docs/api.md)
MAX_NODES = 10


def norm_lb(lb):
    """A load balancer as compared: name, port and its nodes {id: (port, weight, condition)}."""
    return {"name": lb["name"], "port": lb["port"],
            "nodes": {n["id"]: (n["port"], n["weight"], n["condition"]) for n in lb.get("nodes", [])}}


class Writer(threading.Thread):
    def __init__(self, index, tether, ports, rng):
        super().__init__(daemon=True)
        self.index = index
        self.tether = tether
        self.ports = ports          # this writer's load balancer ports
        self.rng = rng
        self.model = {}             # lb id -> norm_lb form, as acknowledged
        self.pending = None         # (kind, lb id or None, data): the write in flight when Tether died
        self.acked = 0
        self.refused = []
        self.stop = threading.Event()
        self.serial = 0

    def run(self):
        while not self.stop.is_set():
            op = self.next_write()
            self.pending = op[:3]
            kind, lb_id, data, method, path, body = op
            try:
                status, answer = self.tether.api(method, path, body, timeout=15)
            except OSError:
                return  # Tether is gone: the pending write stays uncertain
            if 200 <= status < 300:
                self.apply(kind, lb_id, data, answer)
                self.acked += 1
                self.pending = None
            else:
                self.pending = None
                self.refused.append((kind, method, path, body, status, str(answer)[:300]))
                if len(self.refused) > 20:
                    return

    def next_write(self):
        r = self.rng
        used_ports = {lb["port"] for lb in self.model.values()}
        free_ports = [p for p in self.ports if p not in used_ports]
        self.serial += 1
        if not self.model or (len(self.model) < MAX_LBS_PER_WRITER and free_ports and r.random() < 0.2):
            port = r.choice(free_ports)
            name = f"w{self.index}-{self.serial}-{r.getrandbits(24):06x}"
            nodes = [{"address": "127.0.0.1", "port": p, "condition": "ENABLED", "weight": r.randint(1, 100)}
                     for p in r.sample(range(20000, 20100), r.randint(1, 3))]
            body = {"loadBalancer": {"name": name, "protocol": "HTTP", "port": port, "algorithm": "ROUND_ROBIN",
                                     "virtualIps": [{"type": "SERVICENET"}], "nodes": nodes}}
            return ("create", None, {"name": name, "port": port, "nodes": nodes}, "POST", "/loadbalancers", body)
        lb_id = r.choice(sorted(self.model))
        lb = self.model[lb_id]
        choice = r.random()
        if choice < 0.25 and len(lb["nodes"]) < MAX_NODES:
            taken = {n[0] for n in lb["nodes"].values()}
            port = r.choice([p for p in range(20000, 20100) if p not in taken])
            node = {"address": "127.0.0.1", "port": port, "condition": r.choice(["ENABLED", "DRAINING", "DISABLED"]),
                    "weight": r.randint(1, 100)}
            return ("add-node", lb_id, node, "POST", f"/loadbalancers/{lb_id}/nodes", {"nodes": [node]})
        if choice < 0.55:
            nid = r.choice(sorted(lb["nodes"]))
            change = r.choice([{"weight": r.randint(1, 100)},
                               {"condition": r.choice(["ENABLED", "DRAINING", "DISABLED"])}])
            return ("update-node", lb_id, (nid, change), "PUT", f"/loadbalancers/{lb_id}/nodes/{nid}", {"node": change})
        if choice < 0.75:
            name = f"w{self.index}-{self.serial}-r{r.getrandbits(24):06x}"
            return ("rename", lb_id, name, "PUT", f"/loadbalancers/{lb_id}", {"loadBalancer": {"name": name}})
        if choice < 0.9 and len(lb["nodes"]) > 1:
            nid = r.choice(sorted(lb["nodes"]))
            return ("delete-node", lb_id, nid, "DELETE", f"/loadbalancers/{lb_id}/nodes/{nid}", None)
        if len(self.model) > 1:
            return ("delete-lb", lb_id, None, "DELETE", f"/loadbalancers/{lb_id}", None)
        name = f"w{self.index}-{self.serial}-r{r.getrandbits(24):06x}"
        return ("rename", lb_id, name, "PUT", f"/loadbalancers/{lb_id}", {"loadBalancer": {"name": name}})

    def apply(self, kind, lb_id, data, answer):
        if kind == "create":
            self.model[answer["loadBalancer"]["id"]] = norm_lb(answer["loadBalancer"])
        elif kind == "add-node":
            node = answer["nodes"][0]
            self.model[lb_id]["nodes"][node["id"]] = (data["port"], data["weight"], data["condition"])
        elif kind == "update-node":
            nid, change = data
            port, weight, cond = self.model[lb_id]["nodes"][nid]
            self.model[lb_id]["nodes"][nid] = (port, change.get("weight", weight), change.get("condition", cond))
        elif kind == "rename":
            self.model[lb_id]["name"] = data
        elif kind == "delete-node":
            self.model[lb_id]["nodes"].pop(data)
        elif kind == "delete-lb":
            self.model.pop(lb_id)


def read_all(tether):
    """Every load balancer of account 1, read back through the API: {id: norm_lb}."""
    status, listing = tether.api("GET", "/loadbalancers")
    if status != 200:
        raise dc.SetupError(f"GET /loadbalancers after a restart: HTTP {status} {listing}")
    out = {}
    for item in listing.get("loadBalancers", []):
        status, answer = tether.api("GET", f"/loadbalancers/{item['id']}")
        if status == 200:
            out[item["id"]] = norm_lb(answer["loadBalancer"])
    return out


def pending_outcomes(model_lb, pending):
    """The states an LB may be in when PENDING (kind, lb id, data) was in flight: before and after it."""
    kind, _lb_id, data = pending
    after = copy.deepcopy(model_lb)
    if kind == "update-node":
        nid, change = data
        port, weight, cond = after["nodes"][nid]
        after["nodes"][nid] = (port, change.get("weight", weight), change.get("condition", cond))
    elif kind == "rename":
        after["name"] = data
    elif kind == "delete-node":
        after["nodes"].pop(data, None)
    elif kind == "delete-lb":
        after = None
    return [model_lb, after]


def verify(writers, actual):
    """Compares the writers' acknowledged models with ACTUAL; adopts the outcome of in-flight writes.
    Returns (lost: list of descriptions, phantoms: list)."""
    lost = []
    claimed = set()
    for w in writers:
        pend = w.pending
        for lb_id, want in list(w.model.items()):
            got = actual.get(lb_id)
            claimed.add(lb_id)
            if pend and pend[1] == lb_id and pend[0] == "add-node":
                if got is not None:
                    extra = {k: v for k, v in got["nodes"].items() if k not in want["nodes"]}
                    base = dict(got, nodes={k: v for k, v in got["nodes"].items() if k in want["nodes"]})
                    node = pend[2]
                    if base == want and (not extra or (len(extra) == 1 and list(extra.values())[0] ==
                                                       (node["port"], node["weight"], node["condition"]))):
                        w.model[lb_id] = got
                        continue
                lost.append(f"writer {w.index}: load balancer {lb_id}: {got} (acknowledged {want}, add-node in flight)")
                if got is None:
                    w.model.pop(lb_id)
                else:
                    w.model[lb_id] = got
                continue
            allowed = pending_outcomes(want, pend) if pend and pend[1] == lb_id else [want]
            if got in allowed or (got is None and None in allowed):
                if got is None:
                    w.model.pop(lb_id)
                else:
                    w.model[lb_id] = got
                continue
            lost.append(f"writer {w.index}: load balancer {lb_id}: {got} (acknowledged {want}; in flight {pend})")
            if got is None:
                w.model.pop(lb_id)
            else:
                w.model[lb_id] = got
        if pend and pend[0] == "create":
            for lb_id, got in actual.items():
                if lb_id not in claimed and got["name"] == pend[2]["name"]:
                    w.model[lb_id] = got     # the in-flight create made it to the store: adopt it
                    claimed.add(lb_id)
        w.pending = None
    phantoms = [f"load balancer {i} {lb['name']}" for i, lb in actual.items() if i not in claimed]
    return lost, phantoms


def integrity(drill, db_path, cycle):
    """PRAGMA integrity_check on a copy of the store as the kill left it (tether.db, -wal, -shm)."""
    target = os.path.join(drill.work, f"check-{cycle}")
    os.makedirs(target, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            shutil.copy2(db_path + suffix, os.path.join(target, "tether.db" + suffix))
    try:
        conn = sqlite3.connect(os.path.join(target, "tether.db"), timeout=30)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            lbs = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.close()
        result = "ok" if rows == [("ok",)] and lbs > 0 else "; ".join(str(r[0]) for r in rows[:5]) or "empty store"
    except sqlite3.Error as e:
        result = f"sqlite error: {e}"
    if not drill.keep:
        shutil.rmtree(target, ignore_errors=True)
    return result


def main():
    p = argparse.ArgumentParser(prog="drills/kill-restart.sh", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tether-dll", required=True, help=argparse.SUPPRESS)
    p.add_argument("--restarts", type=int, default=30, help="kill -9 and restart cycles (default 30)")
    p.add_argument("--writers", type=int, default=4, help="concurrent API writers (default 4, at most 5)")
    p.add_argument("--max-run", type=float, default=3.0, help="longest run before the kill, seconds (default 3)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: from the time; printed)")
    p.add_argument("--quick", action="store_true", help="--restarts 3 (CI)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = p.parse_args()
    if a.quick:
        a.restarts = 3
    if a.restarts < 1 or not 1 <= a.writers <= 5 or a.max_run < 0.2:
        print("kill-restart: --restarts >= 1, --writers 1..5, --max-run >= 0.2", file=sys.stderr)
        return dc.EXIT_SETUP
    return dc.run_drill(NAME, a, run)


def run(drill, a, seed):
    rng = random.Random(seed)
    tether = dc.Tether(drill, a.tether_dll)
    ports = dc.free_ports(a.writers * (MAX_LBS_PER_WRITER + 1))
    writers_state = [Writer(i, tether, ports[i * (MAX_LBS_PER_WRITER + 1):(i + 1) * (MAX_LBS_PER_WRITER + 1)],
                            random.Random(rng.getrandbits(64))) for i in range(a.writers)]
    drill.log(f"data {tether.data_dir}, management 127.0.0.1:{tether.mgmt_port}; {a.restarts} kills; seed {seed}")
    acked = 0
    lost_all = []
    phantoms_all = []
    refused_all = []
    checks = []
    start_times = []
    run_times = []
    began = time.monotonic()
    cycles = 0
    for cycle in range(1, a.restarts + 1):
        t0 = time.monotonic()
        tether.start()
        start_times.append(time.monotonic() - t0)
        if cycle > 1:
            actual = read_all(tether)
            lost, phantoms = verify(writers_state, actual)
            lost_all += [f"restart {cycle - 1}: {x}" for x in lost]
            phantoms_all += [f"restart {cycle - 1}: {x}" for x in phantoms]
        # fresh threads on the same models
        writers = []
        for w in writers_state:
            nw = Writer(w.index, tether, w.ports, w.rng)
            nw.model, nw.serial = w.model, w.serial
            writers.append(nw)
        writers_state = writers
        for w in writers:
            w.start()
        # the random moment is counted from the first acknowledged write (at most 30 s), so that a slow start on a
        # loaded machine still kills during writes
        first = time.monotonic() + 30
        while time.monotonic() < first and not any(w.acked for w in writers) and tether.alive():
            time.sleep(0.02)
        wait = rng.uniform(0.1, a.max_run)
        time.sleep(wait)
        run_times.append(wait)
        tether.kill9()
        for w in writers:
            w.stop.set()
            w.join(30)
        acked += sum(w.acked for w in writers)
        refused_all += [r for w in writers for r in w.refused]
        result = integrity(drill, tether.db_path, cycle)
        checks.append(result)
        cycles = cycle
        drill.log(f"kill {cycle}: {wait:.2f} s after the first acknowledged write, {sum(w.acked for w in writers)} writes acknowledged, "
                  f"{sum(1 for w in writers if w.pending)} in flight; integrity_check: {result}")
    # the last restart: everything acknowledged before the last kill must be there
    tether.start()
    actual = read_all(tether)
    lost, phantoms = verify(writers_state, actual)
    lost_all += [f"restart {cycles}: {x}" for x in lost]
    phantoms_all += [f"restart {cycles}: {x}" for x in phantoms]
    final = sqlite_check_live(tether.db_path)
    tether.stop()
    elapsed = time.monotonic() - began

    bad_checks = [c for c in checks if c != "ok"]
    reasons = []
    if lost_all:
        reasons.append(f"{len(lost_all)} acknowledged writes lost")
    if bad_checks:
        reasons.append(f"{len(bad_checks)} integrity checks failed")
    if final != "ok":
        reasons.append(f"integrity check after the last restart: {final}")
    if phantoms_all:
        reasons.append(f"{len(phantoms_all)} load balancers nobody created")
    if refused_all:
        reasons.append(f"{len(refused_all)} writes refused")
    if acked == 0:
        reasons.append("no write was acknowledged")
    result = "PASS" if not reasons else "FAIL: " + "; ".join(reasons)
    for x in (lost_all + phantoms_all)[:5]:
        drill.log(x)
    for r in refused_all[:3]:
        drill.log(f"refused: {r}")
    start_times.sort()
    rows = [
        ("seed", seed),
        ("restarts", f"{cycles} kill -9 and restart cycles in {elapsed:.0f} s, {a.writers} writers"),
        ("run before each kill", f"{min(run_times):.2f} to {max(run_times):.2f} s after the first acknowledged write (random)"),
        ("start to API ready", f"median {start_times[len(start_times) // 2]:.2f} s, max {start_times[-1]:.2f} s"),
        ("acknowledged writes", acked),
        ("lost", len(lost_all)),
        ("refused writes", len(refused_all)),
        ("unexpected load balancers", len(phantoms_all)),
        ("integrity", f"{checks.count('ok')} of {len(checks)} copies after kill -9 ok; after the last restart {final}"),
        ("load balancers at the end", len(actual)),
        ("result", result),
    ]
    dc.figures("kill-restart drill", rows,
               f"kill-restart: {cycles} restarts, {acked} acknowledged writes, {len(lost_all)} lost, "
               f"integrity {'ok' if not bad_checks and final == 'ok' else 'FAILED'}")
    return dc.EXIT_PASS if not reasons else dc.EXIT_FAIL


def sqlite_check_live(db_path):
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
        return "ok" if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:5])
    except sqlite3.Error as e:
        return f"sqlite error: {e}"


if __name__ == "__main__":
    dc.run_main(NAME, main)
