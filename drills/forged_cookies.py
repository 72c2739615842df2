#!/usr/bin/env python3
"""Drill: forged persistence cookies (issue 11, item 8).  Run through drills/forged-cookies.sh.

Two HTTP_COOKIE load balancers (A and B) over the same four backends, and two APP_COOKIE load balancers (C and D,
cookie SID) over four backends that set `SID=<port>-<random>` on any request without a SID they issued.  The drill
reads the cookie key from the store (it owns the data directory) so that it can also make cookies that are correctly
signed but wrong in one field.  It then sends each forged cookie on its own request to A (HTTP_COOKIE forgeries)
or C (APP_COOKIE forgeries) and reads the load balancer's stats after each one.

"Routed by the forged value" means what docs/session-persistence.md says persistence does with a valid pin: the
request is sent to the pinned node, which `GET .../stats` counts as `persistence.hit` (or `repinned` when the pinned
node could not serve).  A forged cookie must be treated as absent: the request is balanced (`miss` + 1, `hit` and
`repinned` unchanged) and, for HTTP_COOKIE, answered with a new Tether cookie whose session id is not the forged
one.  A forged cookie is counted as routed when `hit` or `repinned` moved, or (HTTP_COOKIE) when no new cookie came
back or the new cookie keeps the forged session id.

Controls, before and after the forgeries: cookies Tether issued, and cookies the drill signed correctly with the
real key, must be routed (`hit` + 1 each); APP_COOKIE values a node set must be routed.  If a control is not
routed, the drill cannot see routing and fails.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import os
import random
import sqlite3
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drill_common as dc  # noqa: E402

NAME = "forged-cookies"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
TIMEOUT = 600   # persistenceTimeout of the HTTP_COOKIE load balancers, seconds


def b64e(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def b64d(text):
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None


def sign(secret, version, key_id, lb_id, node_id, session, last_use):
    payload = struct.pack("<BBiiqq", version, key_id, lb_id, node_id, session, last_use)
    return b64e(payload + hmac.new(secret, payload, hashlib.sha256).digest()[:16])


def parse(value):
    raw = b64d(value) if value and len(value) == 56 else None
    if raw is None or len(raw) != 42:
        return None
    version, key_id, lb_id, node_id, session, last_use = struct.unpack("<BBiiqq", raw[:26])
    return {"version": version, "key": key_id, "lb": lb_id, "node": node_id, "session": session, "last": last_use,
            "raw": raw}


class Site:
    """One load balancer as the drill talks to it."""

    def __init__(self, tether, lb, cookie_name):
        self.tether = tether
        self.id = lb["id"]
        self.port = lb["port"]
        self.nodes = [n["id"] for n in lb["nodes"]]
        self.cookie_name = cookie_name

    def request(self, cookie_header=None):
        """(status, {set-cookie name: value}, body)."""
        conn = http.client.HTTPConnection(dc.HOST, self.port, timeout=15)
        try:
            conn.request("GET", "/", headers={"Cookie": cookie_header} if cookie_header is not None else {})
            response = conn.getresponse()
            body = response.read().decode("latin-1")
            cookies = {}
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    k, _, rest = value.partition("=")
                    cookies[k.strip()] = rest.split(";")[0]
            return response.status, cookies, body
        finally:
            conn.close()

    def stats(self):
        status, answer = self.tether.api("GET", f"/loadbalancers/{self.id}/stats")
        if status != 200 or not isinstance(answer, dict):
            raise dc.SetupError(f"stats of load balancer {self.id}: HTTP {status}")
        p = (answer.get("stats", answer)).get("persistence", {})
        return p.get("hit", 0), p.get("repinned", 0), p.get("miss", 0)


def forge_http(rng, real, other_lb_real, secret, key_id, lb_id, other_lb_id, nodes, scale):
    """HTTP_COOKIE forgeries: [(class, value)]."""
    out = []
    now = int(time.time())

    def n(count):
        return max(1, int(round(count * scale)))

    for _ in range(n(100)):
        out.append(("random 56 base64url characters", "".join(rng.choice(B64) for _ in range(56))))
    for _ in range(n(50)):
        length = rng.choice([x for x in range(1, 121) if x != 56])
        out.append(("random, another length", "".join(rng.choice(B64 + "=+/.%~") for _ in range(length))))
    base = real[0]
    raw = bytearray(b64d(base))
    bits = list(range(42 * 8))
    for bit in (bits if scale >= 1 else rng.sample(bits, n(336))):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        out.append(("one bit flipped in a real cookie", b64e(bytes(flipped))))
    for _ in range(n(60)):
        c = rng.choice(real)
        i = rng.randrange(56)
        out.append(("one character changed in a real cookie", c[:i] + rng.choice([x for x in B64 if x != c[i]]) + c[i + 1:]))
    for length in rng.sample(range(1, 56), n(20)):
        out.append(("real cookie truncated", rng.choice(real)[:length]))
    for _ in range(n(10)):
        out.append(("real cookie with characters appended", rng.choice(real) + "".join(rng.choice(B64) for _ in range(rng.randint(1, 8)))))
    for c in (other_lb_real * 3)[:n(20)]:
        out.append(("another load balancer's real cookie", c))
    for _ in range(n(30)):
        out.append(("correctly signed, expired", sign(secret, 2, key_id, lb_id, rng.choice(nodes), rng.getrandbits(63),
                                                      now - TIMEOUT - rng.randint(2, 100000))))
    for _ in range(n(20)):
        out.append(("correctly signed, last use in the future", sign(secret, 2, key_id, lb_id, rng.choice(nodes),
                                                                     rng.getrandbits(63), now + rng.randint(120, 100000))))
    for _ in range(n(30)):
        out.append(("re-signed with a wrong key", sign(os.urandom(32), 2, key_id, lb_id, rng.choice(nodes),
                                                       rng.getrandbits(63), now)))
    for _ in range(n(20)):
        out.append(("signed with the real secret under an unknown key id",
                    sign(secret, 2, rng.choice([k for k in range(256) if k != key_id]), lb_id, rng.choice(nodes),
                         rng.getrandbits(63), now)))
    for _ in range(n(30)):
        c = parse(rng.choice(real))
        other = rng.choice([x for x in nodes if x != c["node"]])
        spliced = bytearray(c["raw"])
        spliced[6:10] = struct.pack("<i", other)
        out.append(("another node id spliced in, MAC kept", b64e(bytes(spliced))))
    for _ in range(n(20)):
        a = parse(rng.choice(real))
        b = parse(rng.choice([c for c in real if parse(c)["node"] != a["node"]]))
        out.append(("payload of one cookie with the MAC of another", b64e(a["raw"][:26] + b["raw"][26:])))
    for _ in range(n(20)):
        c = parse(rng.choice(other_lb_real))
        spliced = bytearray(c["raw"])
        spliced[2:6] = struct.pack("<i", lb_id)
        out.append(("another load balancer's cookie with this id spliced in", b64e(bytes(spliced))))
    for _ in range(n(10)):
        out.append(("correctly signed, another format version",
                    sign(secret, rng.choice([0, 1, 3, 255]), key_id, lb_id, rng.choice(nodes), rng.getrandbits(63), now)))
    for _ in range(n(10)):
        out.append(("correctly signed for another load balancer", sign(secret, 2, key_id, other_lb_id, rng.choice(nodes),
                                                                       rng.getrandbits(63), now)))
    for _ in range(n(10)):
        c = parse(rng.choice(real))
        out.append(("MAC zeroed", b64e(c["raw"][:26] + bytes(16))))
    for _ in range(n(10)):
        c = rng.choice(real)
        out.append(("real cookie in standard base64 (+/) or padded", c.replace("-", "+").replace("_", "/") + "=="))
    for _ in range(n(10)):
        c = rng.choice(real)
        out.append(("real cookie with case swapped", c.swapcase()))
    return out


def forge_app(rng, learned, other_learned, scale):
    """APP_COOKIE forgeries (cookie SID): [(class, Cookie header)]."""
    out = []

    def n(count):
        return max(1, int(round(count * scale)))

    for _ in range(n(100)):
        out.append(("random value", f"SID={rng.getrandbits(64):016x}"))
    for _ in range(n(60)):
        v = rng.choice(learned)
        i = rng.randrange(len(v))
        out.append(("one character changed in a learned value", "SID=" + v[:i] + rng.choice([x for x in "0123456789abcdef-" if x != v[i]]) + v[i + 1:]))
    for _ in range(n(30)):
        v = rng.choice(learned)
        out.append(("learned value truncated", "SID=" + v[:rng.randrange(len(v))]))
    for _ in range(n(20)):
        v = rng.choice(learned)
        out.append(("learned value with characters appended", "SID=" + v + rng.choice(["0", "x", "%00", "==", "-1"])))
    for _ in range(n(30)):
        out.append(("a value learned by another load balancer", "SID=" + rng.choice(other_learned)))
    for _ in range(n(30)):
        v = rng.choice(learned)
        out.append(("a learned value under another cookie name", rng.choice(["sid", "SID2", "XSID", "S ID", "tether-3"]) + "=" + v))
    for v in [x for x in learned if x.upper() != x][:n(20)]:
        out.append(("learned value, case swapped", "SID=" + v.upper()))
    return out


def main():
    p = argparse.ArgumentParser(prog="drills/forged-cookies.sh", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tether-dll", required=True, help=argparse.SUPPRESS)
    p.add_argument("--scale", type=float, default=1.0, help="how many forgeries, as a factor (default 1: ~1,160)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: from the time; printed)")
    p.add_argument("--quick", action="store_true", help="--scale 0.1 (CI)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = p.parse_args()
    if a.quick:
        a.scale = 0.1
    if a.scale <= 0:
        print("forged-cookies: --scale must be positive", file=sys.stderr)
        return dc.EXIT_SETUP
    return dc.run_drill(NAME, a, run)


def run(drill, a, seed):
    rng = random.Random(seed)
    ports = dc.free_ports(12)
    lb_ports, plain, app = ports[:4], ports[4:8], ports[8:12]
    dc.start_backends(drill, plain)
    dc.start_backends(drill, app, app_cookie="SID")
    tether = dc.Tether(drill, a.tether_dll)
    drill.log(f"starting Tether (management 127.0.0.1:{tether.mgmt_port}); seed {seed}")
    tether.start()
    http_p = {"persistenceType": "HTTP_COOKIE", "persistenceTimeout": TIMEOUT}
    app_p = {"persistenceType": "APP_COOKIE", "cookieName": "SID"}
    site_a = Site(tether, dc.create_http_lb(tether, "cookie-a", lb_ports[0], plain, persistence=http_p), None)
    site_b = Site(tether, dc.create_http_lb(tether, "cookie-b", lb_ports[1], plain, persistence=http_p), None)
    site_c = Site(tether, dc.create_http_lb(tether, "app-c", lb_ports[2], app, persistence=app_p), "SID")
    site_d = Site(tether, dc.create_http_lb(tether, "app-d", lb_ports[3], app, persistence=app_p), "SID")
    for s in (site_a, site_b, site_c, site_d):
        s.cookie_name = s.cookie_name or f"tether-{s.id}"
        dc.wait_answers(s.port)

    conn = sqlite3.connect(f"file:{tether.db_path}?mode=ro", uri=True, timeout=30)
    keys = conn.execute("SELECT id, secret FROM cookie_keys ORDER BY id").fetchall()
    conn.close()
    if not keys:
        raise dc.SetupError("no cookie key in the store")
    key_id, secret = keys[-1][0], bytes(keys[-1][1])

    def issue(site, count):
        values = []
        for _ in range(count):
            status, cookies, _ = site.request()
            if status != 200 or site.cookie_name not in cookies:
                raise dc.SetupError(f"load balancer {site.id} did not issue {site.cookie_name}: {status} {cookies}")
            values.append(cookies[site.cookie_name])
        return values

    real_a, real_b = issue(site_a, 24), issue(site_b, 24)
    learned_c, learned_d = issue(site_c, 24), issue(site_d, 24)
    for v in real_a:
        c = parse(v)
        if c is None or sign(secret, c["version"], c["key"], c["lb"], c["node"], c["session"], c["last"]) != v:
            raise dc.SetupError("the drill's reading of Tether's cookie format does not match a real cookie "
                                "(docs/session-persistence.md, The value)")

    # --- controls: what routing looks like
    def control(site, header, http_cookie):
        before = site.stats()
        status, cookies, _ = site.request(header)
        after = site.stats()
        routed = after[0] > before[0] or after[1] > before[1]
        if http_cookie:
            # no new cookie, or the same session re-issued (a cookie a tenth of persistenceTimeout old is refreshed)
            sent = parse(header.split("=", 1)[1])
            new = parse(cookies[site.cookie_name]) if site.cookie_name in cookies else None
            routed = routed and (new is None or (sent is not None and new["session"] == sent["session"]))
        return status == 200 and routed

    def controls():
        now = int(time.time())
        results = []
        for v in real_a[:8]:
            results.append(control(site_a, f"{site_a.cookie_name}={v}", True))
        for _ in range(8):
            v = sign(secret, 2, key_id, site_a.id, rng.choice(site_a.nodes), rng.getrandbits(63), now)
            results.append(control(site_a, f"{site_a.cookie_name}={v}", True))
        for v in learned_c[:8]:
            results.append(control(site_c, f"SID={v}", False))
        return results

    control_before = controls()

    forged_http = forge_http(rng, real_a, real_b, secret, key_id, site_a.id, site_b.id, site_a.nodes, a.scale)
    forged_app = forge_app(rng, learned_c, learned_d, a.scale)
    routed = []
    errors = []
    by_class = {}
    begin = time.monotonic()
    for cls, value in forged_http:
        before = site_a.stats()
        try:
            status, cookies, body = site_a.request(f"{site_a.cookie_name}={value}")
        except OSError as e:
            errors.append(f"{cls}: {type(e).__name__}: {e}")
            continue
        after = site_a.stats()
        why = []
        if after[0] != before[0] or after[1] != before[1]:
            why.append(f"stats hit {before[0]}->{after[0]}, repinned {before[1]}->{after[1]}")
        new = cookies.get(site_a.cookie_name)
        forged = parse(value)
        if new is None:
            why.append("no new cookie")
        elif forged is not None and parse(new) is not None and parse(new)["session"] == forged["session"]:
            why.append("the new cookie keeps the forged session id")
        if status != 200:
            errors.append(f"{cls}: HTTP {status}")
        n = by_class.setdefault(("HTTP_COOKIE", cls), [0, 0])
        n[0] += 1
        if why:
            n[1] += 1
            routed.append(f"HTTP_COOKIE {cls}: {value!r}: {', '.join(why)}")
    for cls, header in forged_app:
        before = site_c.stats()
        try:
            status, cookies, body = site_c.request(header)
        except OSError as e:
            errors.append(f"{cls}: {type(e).__name__}: {e}")
            continue
        after = site_c.stats()
        if status != 200:
            errors.append(f"{cls}: HTTP {status}")
        n = by_class.setdefault(("APP_COOKIE", cls), [0, 0])
        n[0] += 1
        if after[0] != before[0] or after[1] != before[1]:
            n[1] += 1
            routed.append(f"APP_COOKIE {cls}: {header!r}: stats hit {before[0]}->{after[0]}, repinned {before[1]}->{after[1]}")
    elapsed = time.monotonic() - begin
    control_after = controls()
    alive = tether.alive()

    forged_total = sum(v[0] for v in by_class.values())
    controls_ok = sum(control_before) + sum(control_after)
    controls_total = len(control_before) + len(control_after)
    reasons = []
    if routed:
        reasons.append(f"{len(routed)} forged cookies routed")
    if errors:
        reasons.append(f"{len(errors)} requests not answered 200")
    if controls_ok != controls_total:
        reasons.append(f"only {controls_ok} of {controls_total} genuine cookies were routed: the drill cannot see routing")
    if not alive:
        reasons.append("Tether exited")
    result = "PASS" if not reasons else "FAIL: " + "; ".join(reasons)
    for r in routed[:5]:
        drill.log(f"routed: {r}")
    for e in errors[:5]:
        drill.log(f"error: {e}")
    rows = [("seed", seed),
            ("forged", f"{forged_total} ({len(forged_http)} HTTP_COOKIE to load balancer {site_a.id}, "
                       f"{len(forged_app)} APP_COOKIE to load balancer {site_c.id}) in {elapsed:.1f} s"),
            ("routed", len(routed)),
            ("not answered 200", len(errors)),
            ("genuine cookies routed", f"{controls_ok} of {controls_total} (controls, before and after)")]
    for (ptype, cls), (count, bad) in by_class.items():
        rows.append((f"  {ptype}", f"{cls}: {count} forged, {bad} routed"))
    rows.append(("result", result))
    dc.figures("forged-cookies drill", rows, f"forged-cookies: {forged_total} forged, {len(routed)} routed")
    return dc.EXIT_PASS if not reasons else dc.EXIT_FAIL


if __name__ == "__main__":
    dc.run_main(NAME, main)
