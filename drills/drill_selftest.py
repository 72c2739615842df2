#!/usr/bin/env python3
"""Self-test of the drills' own checks (no Tether needed, a few seconds): each check must flag the failure it is
there to find, so that a drill that passes means something.  Run by CI (tests/Tether.FunctionalTests/Drills) and by
hand: `python3 drills/drill_selftest.py`.  Exit 0 when every check holds, 1 otherwise."""
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_fuzz  # noqa: E402
import config_changes  # noqa: E402
import forged_cookies  # noqa: E402
import kill_restart  # noqa: E402

failures = []


def check(name, condition):
    print(f"{'ok  ' if condition else 'FAIL'} {name}")
    if not condition:
        failures.append(name)


# --- config-changes: which node may answer a request
h = config_changes.History({1, 2, 3})
h.add(10.0, 10.5, {1, 2})       # node 3 removed: sent at 10.0, answered at 10.5
h.add(20.0, 20.2, {1, 2, 4})    # node 4 added
check("config-changes: a node removed before the request began is not allowed", 3 not in h.allowed_between(11.0, 12.0))
check("config-changes: a node removed while the request was under way is allowed", 3 in h.allowed_between(9.0, 10.2))
check("config-changes: a node removed is allowed until its removal was answered", 3 in h.allowed_between(10.4, 10.45))
check("config-changes: a node added later is not allowed", 4 not in h.allowed_between(11.0, 19.9))
check("config-changes: a node added while the request was under way is allowed", 4 in h.allowed_between(19.0, 20.1))
check("config-changes: a node never configured is never allowed", 9 not in h.allowed_between(0.0, 100.0))


# --- kill-restart: lost acknowledged writes
class W:
    def __init__(self, model, pending=None):
        self.index, self.model, self.pending = 0, model, pending


def lb(name, nodes):
    return {"name": name, "port": 1000, "nodes": dict(nodes)}


lost, ph = kill_restart.verify([W({1: lb("a", {1: (80, 1, "ENABLED")})})], {1: lb("a", {1: (80, 1, "ENABLED")})})
check("kill-restart: the same state is not a loss", not lost and not ph)
lost, _ = kill_restart.verify([W({1: lb("a", {1: (80, 1, "ENABLED")})})], {1: lb("b", {1: (80, 1, "ENABLED")})})
check("kill-restart: an acknowledged name that is not there is a loss", len(lost) == 1)
lost, _ = kill_restart.verify([W({1: lb("a", {1: (80, 1, "ENABLED")})})], {})
check("kill-restart: an acknowledged load balancer that is gone is a loss", len(lost) == 1)
lost, _ = kill_restart.verify([W({1: lb("a", {1: (80, 5, "ENABLED")})})], {1: lb("a", {1: (80, 1, "ENABLED")})})
check("kill-restart: an acknowledged weight that is not there is a loss", len(lost) == 1)
lost, _ = kill_restart.verify([W({1: lb("a", {1: (80, 1, "ENABLED")})}, ("rename", 1, "b"))], {1: lb("b", {1: (80, 1, "ENABLED")})})
check("kill-restart: an in-flight rename that landed is not a loss", not lost)
lost, _ = kill_restart.verify([W({1: lb("a", {1: (80, 1, "ENABLED")})}, ("delete-lb", 1, None))], {})
check("kill-restart: an in-flight delete that landed is not a loss", not lost)
lost, _ = kill_restart.verify([W({1: lb("a", {1: (80, 1, "ENABLED")})}, ("add-node", 1, {"port": 81, "weight": 2, "condition": "DRAINING"}))],
                              {1: lb("a", {1: (80, 1, "ENABLED"), 7: (81, 2, "DRAINING")})})
check("kill-restart: an in-flight node add that landed is not a loss", not lost)
lost, _ = kill_restart.verify([W({1: lb("a", {1: (80, 1, "ENABLED"), 2: (81, 1, "ENABLED")})}, ("add-node", 1, {"port": 82, "weight": 2, "condition": "DRAINING"}))],
                              {1: lb("a", {1: (80, 1, "ENABLED")})})
check("kill-restart: an acknowledged node missing while an add was in flight is a loss", len(lost) == 1)
_, ph = kill_restart.verify([W({})], {5: lb("x", {})})
check("kill-restart: a load balancer nobody created is reported", len(ph) == 1)
_, ph = kill_restart.verify([W({}, ("create", None, {"name": "x"}))], {5: lb("x", {})})
check("kill-restart: an in-flight create that landed is adopted", not ph)

# --- forged-cookies: the encoder, and that no forgery is a real cookie
rng = random.Random(1)
secret = bytes(range(32))
real = [forged_cookies.sign(secret, 2, 1, 1, n, rng.getrandbits(63), 1_800_000_000) for n in (1, 2, 3, 4) for _ in range(6)]
other = [forged_cookies.sign(secret, 2, 1, 2, n, rng.getrandbits(63), 1_800_000_000) for n in (1, 2, 3, 4) for _ in range(6)]
c = forged_cookies.parse(real[0])
check("forged-cookies: parse reads back what sign wrote", c is not None and c["lb"] == 1 and c["version"] == 2 and len(real[0]) == 56)
forged = forged_cookies.forge_http(rng, real, other, secret, 1, 1, 2, [1, 2, 3, 4], 1.0)
check("forged-cookies: at least 800 HTTP_COOKIE forgeries at full scale", len(forged) >= 800)
check("forged-cookies: no HTTP_COOKIE forgery is a real cookie", not any(v in real for _, v in forged))
learned = [f"{p}-{rng.getrandbits(64):016x}" for p in (1, 2, 3, 4) for _ in range(6)]
app = forged_cookies.forge_app(rng, learned, [f"9-{rng.getrandbits(64):016x}" for _ in range(6)], 1.0)
check("forged-cookies: no APP_COOKIE forgery carries a learned value under its name",
      not any(h == f"SID={v}" for _, h in app for v in learned))

# --- api-fuzz: routes, the generator, the comparison
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isdir(os.path.join(repo, "src", "Tether.Management", "Endpoints")):
    check("api-fuzz: every write route in the source is covered", api_fuzz.check_routes(repo) == [])
with tempfile.TemporaryDirectory() as t:
    folder = os.path.join(t, "src", "Tether.Management", "Endpoints")
    os.makedirs(folder)
    with open(os.path.join(folder, "X.cs"), "w") as f:
        f.write('group.MapPut("/loadbalancers/{id:int}/newthing", () => 1);')
    check("api-fuzz: a new write route is reported", len(api_fuzz.check_routes(t)) == 1)
sys.setrecursionlimit(50000)
pool = [20001, 20002]
ok = True
for i in range(600):
    try:
        body = api_fuzz.valid_bodies(rng, [9001, 9002, 9003], pool)[api_fuzz.BODY_ENDPOINTS[i % len(api_fuzz.BODY_ENDPOINTS)]]
        _, tree = api_fuzz.mutate_tree(rng, body, pool)
        raw = api_fuzz.dumps(tree, rng).encode("utf-8", "surrogatepass")
        api_fuzz.mutate_bytes(rng, api_fuzz.dumps(tree, rng))
        assert isinstance(raw, bytes)
    except Exception as e:  # noqa: BLE001
        print(f"     generator failed: {type(e).__name__}: {e}")
        ok = False
        break
check("api-fuzz: 600 generated bodies without an error in the generator", ok)
check("api-fuzz: a changed snapshot is described", api_fuzz.diff(["a", "b", "c", "d"], ["a", "x", "c", "d"]) != "")
snap = {"loadBalancer": {"nodes": [{"id": 1, "status": "OFFLINE"}]}}
api_fuzz.strip_status(snap)
check("api-fuzz: node status is left out of the comparison", "status" not in snap["loadBalancer"]["nodes"][0])

print(f"drill self-test: {len(failures)} failed")
sys.exit(1 if failures else 0)
