#!/usr/bin/env python3
"""Drill: API fuzzing (issue 11, item 8).  Run through drills/api-fuzz.sh.

Sends N fuzzed bodies, spread evenly over every write endpoint of the management API that takes a body (the
POST and PUT routes of src/Tether.Management/Endpoints, docs/api.md), plus a share of fuzzed query strings on the
DELETE routes that take ids.  Each body starts from a valid one and is mutated: a field's value replaced by another
JSON type, a huge or fractional number, a long, empty or odd string (NUL, lone surrogate escapes, emoji); a field
removed, renamed (near-miss) or added (unknown); the root key dropped or doubled; deep nesting; and at the byte level
invalid UTF-8, encoded surrogates, truncation, duplicate keys, comments, NaN/Infinity, trailing garbage, a BOM, a
body over 1 MiB.

Checked for each request: the answer is not 5xx, and a refused request (4xx) changed nothing: the load balancer
list, the target load balancer, its error page, SSL termination and certificate mappings read the same before and
after (node status, which
the health monitor moves by itself, is left out).  An accepted request (2xx) may change state; the drill undoes
creations and starts over from a fresh load balancer from time to time.

Traffic only to loopback: Tether's public addresses are set to 127.0.0.1 and ::1 (IPV6 virtual IPs), load balancer
ports are drawn from ports the drill found free, and node addresses stay on loopback (or are invalid), so health probes
never leave the host.
"""
import argparse
import copy
import http.client
import json
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drill_common as dc  # noqa: E402

NAME = "api-fuzz"

# every route that writes, as in src/Tether.Management/Endpoints (checked against the source when it is there)
BODY_ENDPOINTS = [
    ("POST", "/loadbalancers"),
    ("PUT", "/loadbalancers/{id}"),
    ("POST", "/loadbalancers/{id}/nodes"),
    ("PUT", "/loadbalancers/{id}/nodes/{nodeId}"),
    ("PUT", "/loadbalancers/{id}/sessionpersistence"),
    ("PUT", "/loadbalancers/{id}/healthmonitor"),
    ("POST", "/loadbalancers/{id}/accesslist"),
    ("PUT", "/loadbalancers/{id}/connectionthrottle"),
    ("PUT", "/loadbalancers/{id}/errorpage"),
    ("PUT", "/loadbalancers/{id}/connectionlogging"),
    ("PUT", "/loadbalancers/{id}/ssltermination"),
    ("POST", "/loadbalancers/{id}/ssltermination/certificatemappings"),
    ("PUT", "/loadbalancers/{id}/ssltermination/certificatemappings/{mappingId}"),
    ("POST", "/loadbalancers/{id}/metadata"),
    ("PUT", "/loadbalancers/{id}/metadata/{metaId}"),
    ("POST", "/loadbalancers/{id}/nodes/{nodeId}/metadata"),
    ("PUT", "/loadbalancers/{id}/nodes/{nodeId}/metadata/{metaId}"),
    ("POST", "/loadbalancers/{id}/virtualips"),
    ("PUT", "/loadbalancers/{id}/contentcaching"),
    ("POST", "/loadbalancers/{id}/sessionpersistence/sessions/move"),
]
QUERY_ENDPOINTS = [
    ("DELETE", "/loadbalancers", "id"),
    ("DELETE", "/loadbalancers/{id}/nodes", "id"),
    ("DELETE", "/loadbalancers/{id}/accesslist", "id"),
    ("DELETE", "/loadbalancers/{id}/virtualips", "id"),
    ("DELETE", "/loadbalancers/{id}/sessionpersistence/sessions", "nodeId"),
    ("DELETE", "/loadbalancers/{id}/metadata", "id"),
    ("DELETE", "/loadbalancers/{id}/nodes/{nodeId}/metadata", "id"),
]
# DELETE routes without ids in the query (.../{id}, .../nodes/{nodeId}, sessionpersistence, healthmonitor,
# connectionthrottle, errorpage, ssltermination, accesslist/{itemId}) take no input but the path: not fuzzed here.
NO_INPUT_DELETES = {
    "/loadbalancers/{id}", "/loadbalancers/{id}/nodes/{nodeId}", "/loadbalancers/{id}/sessionpersistence",
    "/loadbalancers/{id}/healthmonitor", "/loadbalancers/{id}/connectionthrottle", "/loadbalancers/{id}/errorpage",
    "/loadbalancers/{id}/ssltermination", "/loadbalancers/{id}/accesslist/{itemId}",
    "/loadbalancers/{id}/ssltermination/certificatemappings/{mappingId}",
    "/loadbalancers/{id}/metadata/{metaId}", "/loadbalancers/{id}/nodes/{nodeId}/metadata/{metaId}",
    "/loadbalancers/{id}/virtualips/{vipId}",
}

PEM_JUNK = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZ3Vlc3M=\n-----END CERTIFICATE-----\n"
KEY_JUNK = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"


def check_routes(repo):
    """The write routes in the source that this drill does not cover (empty when the source is not there)."""
    folder = os.path.join(repo, "src", "Tether.Management", "Endpoints")
    if not os.path.isdir(folder):
        return []
    covered = {(m, p) for m, p in BODY_ENDPOINTS} | {(m, p) for m, p, _ in QUERY_ENDPOINTS} | \
              {("DELETE", p) for p in NO_INPUT_DELETES}
    missing = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".cs"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            text = f.read()
        for verb, route in re.findall(r'Map(Post|Put|Delete|Patch)\("([^"]+)"', text):
            route = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", route)
            if (verb.upper(), route) not in covered:
                missing.append(f"{verb.upper()} {route} ({name})")
    return missing


class Api:
    """A keep-alive connection to the management API (reconnects when needed)."""

    def __init__(self, tether):
        self.tether = tether
        self.conn = None

    def call(self, method, path, raw=None, timeout=30):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(dc.HOST, self.tether.mgmt_port, timeout=timeout)
            try:
                headers = {"X-Auth-Token": self.tether.token}
                if raw is not None:
                    headers["Content-Type"] = "application/json"
                self.conn.request(method, f"/v1.0/1{path}", body=raw, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.conn.close()
                    self.conn = None
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2 or raw is not None and len(raw) > 1_000_000:
                    raise
            except OSError:
                if self.conn:
                    self.conn.close()
                self.conn = None
                raise

    def json(self, method, path, body=None):
        status, data = self.call(method, path, None if body is None else json.dumps(body).encode())
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data.decode("utf-8", "replace")


# ----------------------------------------------------------------------------------------------------------------
# bodies
# ----------------------------------------------------------------------------------------------------------------
def valid_bodies(rng, ports, lb_port_pool):
    """A valid body for each body endpoint, fresh each time (ports drawn from the drill's pool)."""
    port = rng.choice(lb_port_pool)
    return {
        ("POST", "/loadbalancers"): {"loadBalancer": {
            "name": "fuzz", "protocol": "HTTP", "port": port, "algorithm": "ROUND_ROBIN", "timeout": 30,
            "halfClosed": False, "virtualIps": [{"type": "SERVICENET"}],
            "nodes": [{"address": "127.0.0.1", "port": ports[0], "condition": "ENABLED", "weight": 1, "type": "PRIMARY"}],
            "sessionPersistence": {"persistenceType": "HTTP_COOKIE", "persistenceTimeout": 600},
            "healthMonitor": {"type": "CONNECT", "delay": 10, "timeout": 5, "attemptsBeforeDeactivation": 2},
            "metadata": [{"key": "k", "value": "v"}],
            "contentCaching": {"enabled": True}, "slowStartSeconds": 30}},
        ("PUT", "/loadbalancers/{id}"): {"loadBalancer": {
            "name": "fuzz-put", "algorithm": "LEAST_CONNECTIONS", "protocol": "HTTP", "port": port, "timeout": 45,
            "halfClosed": False, "httpsRedirect": False, "slowStartSeconds": 60}},
        ("POST", "/loadbalancers/{id}/nodes"): {"nodes": [
            {"address": "127.0.0.1", "port": rng.randint(20000, 29999), "condition": "DRAINING", "weight": 7,
             "type": "SECONDARY"}]},
        ("PUT", "/loadbalancers/{id}/nodes/{nodeId}"): {"node": {"condition": "DRAINING", "weight": 3, "type": "PRIMARY"}},
        # each persistence family's own fields: the cookie attributes, HEADER's headerName, the hashing types'
        # hashBalanceFactor (issue 13)
        ("PUT", "/loadbalancers/{id}/sessionpersistence"): {"sessionPersistence": rng.choice([
            {"persistenceType": "HTTP_COOKIE", "persistenceTimeout": 900, "cookieName": "sid", "cookiePath": "/",
             "cookieDomain": "example.com", "cookieSecure": True, "cookieHttpOnly": True, "cookieSameSite": "Strict",
             "disableFallback": False},
            {"persistenceType": "HEADER", "headerName": "X-Session-Id", "hashBalanceFactor": 125,
             "persistenceTimeout": 600, "disableFallback": False},
            {"persistenceType": "SOURCE_IP", "hashBalanceFactor": 1000, "persistenceTimeout": 300}])},
        ("PUT", "/loadbalancers/{id}/healthmonitor"): {"healthMonitor": {
            "type": "HTTP", "delay": 10, "timeout": 5, "attemptsBeforeDeactivation": 2, "path": "/health",
            "statusRegex": "^200$", "bodyRegex": "ok", "hostHeader": "example.com"}},
        ("POST", "/loadbalancers/{id}/accesslist"): {"accessList": [
            {"address": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24", "type": "DENY"},
            {"address": f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}", "type": "ALLOW"}]},
        ("PUT", "/loadbalancers/{id}/connectionthrottle"): {"connectionThrottle": {
            "maxConnections": 100, "minConnections": 1, "maxConnectionRate": 50, "rateInterval": 60}},
        ("PUT", "/loadbalancers/{id}/errorpage"): {"errorpage": {"content": "<html><body>sorry</body></html>"}},
        ("PUT", "/loadbalancers/{id}/connectionlogging"): {"connectionLogging": {"enabled": True}},
        ("PUT", "/loadbalancers/{id}/contentcaching"): {"contentCaching": {"enabled": True}},
        ("PUT", "/loadbalancers/{id}/ssltermination"): {"sslTermination": {
            "securePort": rng.choice(lb_port_pool), "enabled": True, "secureTrafficOnly": False,
            "certificate": PEM_JUNK, "privateKey": KEY_JUNK, "intermediateCertificate": PEM_JUNK}},
        ("POST", "/loadbalancers/{id}/ssltermination/certificatemappings"): {"certificateMapping": {
            "hostName": f"m{rng.randint(0, 99999)}.example.test", "certificate": PEM_JUNK, "privateKey": KEY_JUNK,
            "intermediateCertificate": PEM_JUNK}},
        ("PUT", "/loadbalancers/{id}/ssltermination/certificatemappings/{mappingId}"): {"certificateMapping": {
            "hostName": rng.choice(["*.example.test", "www.example.test"]), "certificate": PEM_JUNK,
            "privateKey": KEY_JUNK}},
        ("POST", "/loadbalancers/{id}/metadata"): {"metadata": [
            {"key": f"color{rng.randint(0, 10**9)}", "value": "red"}, {"key": f"label{rng.randint(0, 10**9)}", "value": "web"}]},
        ("PUT", "/loadbalancers/{id}/metadata/{metaId}"): {"meta": {"value": f"blue{rng.randint(0, 999)}"}},
        ("POST", "/loadbalancers/{id}/nodes/{nodeId}/metadata"): {"metadata": [
            {"key": f"rack{rng.randint(0, 10**9)}", "value": "r1"}]},
        ("PUT", "/loadbalancers/{id}/nodes/{nodeId}/metadata/{metaId}"): {"meta": {"value": f"r{rng.randint(0, 999)}"}},
        ("POST", "/loadbalancers/{id}/virtualips"): {"ipVersion": "IPV6", "type": "PUBLIC"},
        # node ids filled in by move_nodes() (the target's first node and another ENABLED one)
        ("POST", "/loadbalancers/{id}/sessionpersistence/sessions/move"): {"sessionMove": {
            "fromNodeId": 0, "toNodeId": 0, "fraction": rng.choice([0.25, 0.5, 1])}},
    }


ODD_STRINGS = ["", " ", "\u0000", "\ud800", "\udfff", "a\ud800b", "\U0001F600", "\u202e", "\ufeff", "x" * 300,
               "x" * 70000, "ENABLED ", "enabled", "null", "true", "1", "-1", "1e3", "<script>", "../../etc",
               "\\", "\"", "%00", "\r\n", "é", "Ä" * 200]
ODD_NUMBERS_RAW = ["0", "-1", "1.5", "-0", "1e3", "1E400", "-1e400", "1e-400", "4294967297", "2147483648",
                   "-2147483649", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
                   "123456789012345678901234567890", "0.0000001", "65536", "70000", "3.0", "1.0e2", "0e0"]
LOOPBACK_OR_INVALID = ["127.0.0.2", "127.1.2.3", "::1", "0.0.0.0", "::", "255.255.255.255", "224.0.0.1", "1.2.3",
                       "127.0.0.256", "127.0.0.1 ", " 127.0.0.1", "127.000.000.001", "0x7f000001", "2130706433",
                       "localhost", "::ffff:999.0.0.1", "1::2::3", "", "127.0.0.1/32", "fe80::1%eth0"]
NEAR_MISS = {"name": ["nmae", "Name", "names"], "port": ["prot", "Port", "ports"], "condition": ["conditon"],
             "weight": ["wieght", "Weight"], "persistenceType": ["persistencetype", "persistanceType"],
             "cookieSecure": ["cookieSecur"], "cookieSameSite": ["sameSite"], "timeout": ["timeOut", "timout"],
             "algorithm": ["algorithim"], "enabled": ["enable"], "content": ["contents"], "address": ["adress"],
             "delay": ["dealy"], "type": ["typ", "Type"], "maxConnections": ["maxConnection"],
             "hostName": ["hostname", "host"], "privateKey": ["privatekey", "privateKy"]}
UNKNOWN = ["foo", "x", "", "__proto__", "constructor", "$type", "a" * 300, "\u0000", "\ud800", "nodes", "id",
           "status", "created", "links", "loadBalancer", "virtualIps"]


def paths(value, prefix=()):
    """Every path to a value in VALUE (dicts and lists)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, prefix + (i,))
    return out


def get_at(value, path):
    for p in path:
        value = value[p]
    return value


def set_at(value, path, new):
    if not path:
        return new
    parent = get_at(value, path[:-1])
    parent[path[-1]] = new
    return value


class Raw:
    """A JSON fragment written as is (numbers JSON allows but Python would round, NaN, ...)."""

    def __init__(self, text):
        self.text = text


def dumps(value, rng):
    """JSON text of VALUE, with Raw fragments in place; ensure_ascii at random (escapes vs raw UTF-8)."""
    fragments = {}

    def sub(v):
        if isinstance(v, Raw):
            key = f"@@RAW{len(fragments)}@@"
            fragments[key] = v.text
            return key
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [sub(x) for x in v]
        return v

    text = json.dumps(sub(value), ensure_ascii=rng.random() < 0.5)
    for key, raw in fragments.items():
        text = text.replace(f'"{key}"', raw)
    return text


def mutate_tree(rng, body, lb_port_pool):
    """One or more structural mutations of BODY (a copy); returns (description, value)."""
    body = copy.deepcopy(body)
    notes = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        all_paths = paths(body)
        path = rng.choice(all_paths)
        key = path[-1] if path else None
        op = rng.randrange(11)
        if op <= 2 and path:   # replace a value
            if key in ("address",):
                new = rng.choice(LOOPBACK_OR_INVALID + [None, 1, [], {}])
            elif key in ("port", "securePort") and rng.random() < 0.3:
                new = rng.choice(lb_port_pool)
            else:
                new = rng.choice([
                    None, True, False, 0, -1, 1, [], {}, [1, 2], {"a": 1}, Raw(rng.choice(ODD_NUMBERS_RAW)),
                    rng.choice(ODD_STRINGS), rng.choice(ODD_STRINGS), str(get_at(body, path)),
                    [get_at(body, path)], {"value": get_at(body, path)}])
            body = set_at(body, path, new)
            notes.append(f"{'/'.join(map(str, path))} = {type(new).__name__}")
        elif op == 3 and path and isinstance(get_at(body, path[:-1]), dict):   # remove a field
            del get_at(body, path[:-1])[key]
            notes.append(f"-{key}")
        elif op == 4 and path and isinstance(key, str) and isinstance(get_at(body, path[:-1]), dict):   # rename
            parent = get_at(body, path[:-1])
            new_key = rng.choice(NEAR_MISS.get(key, [key.upper(), key + "s", key[:-1] or "_"]))
            parent[new_key] = parent.pop(key)
            notes.append(f"{key}->{new_key}")
        elif op == 5:   # add an unknown field
            containers = [p for p in all_paths if isinstance(get_at(body, p), dict)]
            if containers:
                c = get_at(body, rng.choice(containers))
                name = rng.choice(UNKNOWN + [rng.choice(list(NEAR_MISS.values()))[0]])
                c[name] = rng.choice([1, "x", None, True, [], {}])
                notes.append(f"+{name!r}")
        elif op == 6:   # deep nesting
            depth = rng.choice([10, 31, 32, 33, 64, 200, 1000, 5000])
            inner = rng.choice([1, "x", None, {}])
            for _ in range(depth):
                inner = [inner] if rng.random() < 0.5 else {"a": inner}
            body = set_at(body, path, inner) if path else inner
            notes.append(f"nesting {depth}")
        elif op == 7 and isinstance(body, dict) and len(body) == 1:   # drop or double the root key
            root = next(iter(body))
            body = body[root] if rng.random() < 0.5 else {root: body}
            notes.append("root key dropped or doubled")
        elif op == 8 and path and isinstance(get_at(body, path), list):   # grow or empty a list
            lst = get_at(body, path)
            body = set_at(body, path, [] if rng.random() < 0.3 else lst * rng.choice([2, 30, 200]))
            notes.append(f"{'/'.join(map(str, path))} resized")
        elif op == 9:   # the whole body another type
            body = rng.choice([[], [body], "x", 1, None, True, Raw("1e400")])
            notes.append("root replaced")
            break
        else:
            if path:
                body = set_at(body, path, rng.choice(ODD_STRINGS))
                notes.append(f"{'/'.join(map(str, path))} = odd string")
    return ", ".join(notes) or "unchanged", body


BAD_BYTES = [b"\xff", b"\xfe", b"\xc0\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\x80",
             b"\xe2\x82", b"\xf0\x9f\x98", b"\x00", b"\xc3\x28"]


def mutate_bytes(rng, text):
    """Byte-level damage to a JSON text; returns (description, bytes)."""
    data = text.encode("utf-8", "surrogatepass")
    op = rng.randrange(12)
    if op <= 2:   # invalid UTF-8 inside a string (or a field name)
        quotes = [m.start() for m in re.finditer(rb'"', data)]
        i = rng.choice(quotes) + 1 if quotes else 0
        bad = rng.choice(BAD_BYTES)
        return f"invalid UTF-8 {bad!r} at {i}", data[:i] + bad + data[i:]
    if op == 3:
        return "lone surrogate as UTF-8 in a field name", data.replace(b'"', b'"\xed\xa0\x80', 1)
    if op == 4:
        cut = rng.randrange(max(1, len(data)))
        return f"truncated at {cut}", data[:cut]
    if op == 5:
        i = rng.randrange(len(data) + 1)
        return f"random byte at {i}", data[:i] + bytes([rng.randrange(256)]) + data[i:]
    if op == 6:
        m = re.search(rb'"(\w+)":\s*([^,{}\[\]]+)', data)
        if m:
            return "duplicate key", data[:m.end()] + b", " + m.group(0) + data[m.end():]
        return "BOM", b"\xef\xbb\xbf" + data
    if op == 7:
        return "trailing garbage", data + rng.choice([b"}", b",", b" x", b"\x00", b"{}", b"]"])
    if op == 8:
        return "comment / single quotes / NaN", rng.choice([
            b"/* c */" + data, data.replace(b'"', b"'"), data.replace(b"30", b"NaN", 1).replace(b"1", b"Infinity", 1)])
    if op == 9:
        return "BOM", b"\xef\xbb\xbf" + data
    if op == 10:
        return "empty or whitespace", rng.choice([b"", b" ", b"\n\t", b"null", b"{}", b"[]", b'""', b"0"])
    return "escaped lone surrogate in a field name", data.replace(b'{"', b'{"\\udc00', 1)


def huge_body(rng):
    return "over 1 MiB", ('{"loadBalancer": {"name": "' + "x" * (1_048_576 + rng.randint(1, 5000)) + '"}}').encode()


# ----------------------------------------------------------------------------------------------------------------
# the drill
# ----------------------------------------------------------------------------------------------------------------
def main():
    p = argparse.ArgumentParser(prog="drills/api-fuzz.sh", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tether-dll", required=True, help=argparse.SUPPRESS)
    p.add_argument("--bodies", type=int, default=10000, help="fuzzed bodies (default 10000)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: from the time; printed)")
    p.add_argument("--examples", type=int, default=5, help="5xx examples printed with their body (default 5)")
    p.add_argument("--quick", action="store_true", help="--bodies 600 (CI)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = p.parse_args()
    if a.quick:
        a.bodies = 600
    if a.bodies < len(BODY_ENDPOINTS):
        print(f"api-fuzz: --bodies must be at least {len(BODY_ENDPOINTS)}", file=sys.stderr)
        return dc.EXIT_SETUP
    missing = check_routes(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if missing:
        print("api-fuzz: write routes in the source that the drill does not cover (add them to api_fuzz.py): "
              + "; ".join(missing), file=sys.stderr)
        return dc.EXIT_SETUP
    return dc.run_drill(NAME, a, run)


def run(drill, a, seed):
    sys.setrecursionlimit(50000)
    rng = random.Random(seed)
    ports = dc.free_ports(16)
    lb_port, node_ports, lb_port_pool = ports[0], ports[1:4], ports[4:]
    dc.start_backends(drill, node_ports)
    tether = dc.Tether(drill, a.tether_dll, env={"TETHER_PUBLICADDRESS": "127.0.0.1", "TETHER_PUBLICADDRESSV6": "::1"})
    drill.log(f"starting Tether (management 127.0.0.1:{tether.mgmt_port}); seed {seed}")
    tether.start()
    api = Api(tether)

    def fresh_target():
        lb = dc.create_http_lb(tether, "fuzz-target", lb_port, node_ports)
        return lb["id"]

    target = fresh_target()

    def snapshot(endpoint_path):
        parts = []
        for path in ("/loadbalancers", f"/loadbalancers/{target}", f"/loadbalancers/{target}/errorpage",
                     f"/loadbalancers/{target}/ssltermination",
                     f"/loadbalancers/{target}/ssltermination/certificatemappings"):
            status, data = api.call("GET", path)
            text = data.decode("utf-8", "replace")
            try:
                obj = json.loads(text)
                strip_status(obj)
                text = json.dumps(obj, sort_keys=True)
            except ValueError:
                pass
            parts.append(f"{status} {text}")
        return parts

    def node_id():
        status, obj = api.json("GET", f"/loadbalancers/{target}/nodes")
        nodes = obj.get("nodes", []) if status == 200 and isinstance(obj, dict) else []
        return nodes[0]["id"] if nodes else 999999

    def move_nodes(body):
        """The move body with the target's first node as fromNodeId and another ENABLED node as toNodeId."""
        status, obj = api.json("GET", f"/loadbalancers/{target}/nodes")
        nodes = obj.get("nodes", []) if status == 200 and isinstance(obj, dict) else []
        others = [n["id"] for n in nodes[1:] if n.get("condition") == "ENABLED"]
        body["sessionMove"]["fromNodeId"] = nodes[0]["id"] if nodes else 999999
        body["sessionMove"]["toNodeId"] = others[0] if others else 999998
        return body

    def mapping_id():
        status, obj = api.json("GET", f"/loadbalancers/{target}/ssltermination/certificatemappings")
        mappings = obj.get("certificateMappings", []) if status == 200 and isinstance(obj, dict) else []
        return mappings[0]["certificateMapping"]["id"] if mappings else 999999
    def meta_id(owner_path):
        """The id of an item of OWNER_PATH's metadata, adding one when there is none (second value: added)."""
        status, obj = api.json("GET", owner_path)
        items = obj.get("metadata", []) if status == 200 and isinstance(obj, dict) else []
        if items:
            return items[0]["id"], False
        status, obj = api.json("POST", owner_path, {"metadata": [{"key": f"seed{rng.randint(0, 10**9)}", "value": "v"}]})
        if status == 200 and isinstance(obj, dict):
            return obj["metadata"][0]["id"], True
        return 999999, False

    totals = {"bodies": 0, "queries": 0, "2xx": 0, "4xx": 0, "5xx": 0, "other": 0}
    by_status = {}
    five = []             # (endpoint, description, body bytes, status, answer)
    five_by_endpoint = {}
    changed = []          # refused requests that changed state
    changed_5xx = 0
    accepted_since_reset = 0
    resets = 0
    began = time.monotonic()
    per_endpoint = {f"{m} {p}": [0, 0, 0] for m, p in BODY_ENDPOINTS}   # sent, 4xx, 5xx
    for m, p, _ in QUERY_ENDPOINTS:
        per_endpoint[f"{m} {p}?"] = [0, 0, 0]
    query_share = max(1, a.bodies // 20)   # extra: 5% as many query fuzzes
    schedule = [("body", BODY_ENDPOINTS[i % len(BODY_ENDPOINTS)]) for i in range(a.bodies)] + \
               [("query", QUERY_ENDPOINTS[i % len(QUERY_ENDPOINTS)]) for i in range(query_share)]
    rng.shuffle(schedule)
    before = snapshot(None)
    for kind, endpoint in schedule:
        if not tether.alive():
            break
        nid = node_id() if "{nodeId}" in endpoint[1] else None
        cmid = mapping_id() if "{mappingId}" in endpoint[1] else None
        path = endpoint[1].replace("{id}", str(target)).replace("{nodeId}", str(nid)).replace("{mappingId}", str(cmid))
        if "{metaId}" in path:
            mid, added = meta_id(path.split("/metadata/")[0] + "/metadata")
            path = path.replace("{metaId}", str(mid))
            if added:
                before = snapshot(None)
        if kind == "body":
            method = endpoint[0]
            key = f"{method} {endpoint[1]}"
            valid = valid_bodies(rng, node_ports, lb_port_pool)[endpoint]
            if endpoint[1].endswith("/sessions/move"):
                valid = move_nodes(valid)
            r = rng.random()
            if r < 0.003:
                desc, raw = huge_body(rng)
            elif r < 0.35:
                d1, tree = mutate_tree(rng, valid, lb_port_pool) if rng.random() < 0.5 else ("valid", valid)
                d2, raw = mutate_bytes(rng, dumps(tree, rng))
                desc = f"{d1}; {d2}"
            else:
                desc, tree = mutate_tree(rng, valid, lb_port_pool)
                raw = dumps(tree, rng).encode("utf-8", "surrogatepass")
            totals["bodies"] += 1
        else:
            method, _, param = endpoint
            key = f"{method} {endpoint[1]}?"
            value = rng.choice(["abc", "", "-1", "0", "99999999", "99999999999", "1.5", "%FF", "%00", "%C0%80",
                                "1e3", "%201", "0x10", "%ED%A0%80", "1,2", "true", "null"])
            query = "&".join(f"{param}={value if i == 0 else rng.choice(['1', 'x', '999999'])}"
                             for i in range(rng.choice([1, 1, 2, 300])))
            path = f"{path}?{query}"
            desc, raw = f"query {query[:80]}", None
            totals["queries"] += 1
        per_endpoint[key][0] += 1
        try:
            status, answer = api.call(method, path, raw)
        except OSError as e:
            status, answer = None, f"{type(e).__name__}: {e}".encode()
        cls = "other" if status is None else f"{status // 100}xx"
        totals[cls if cls in totals else "other"] += 1
        by_status[status] = by_status.get(status, 0) + 1
        after = snapshot(None)
        if status is not None and 500 <= status:
            per_endpoint[key][2] += 1
            five_by_endpoint[key] = five_by_endpoint.get(key, 0) + 1
            five.append((f"{method} {path}", desc, raw, status, answer))
            if after != before:
                changed_5xx += 1
        elif status is not None and 400 <= status < 500:
            per_endpoint[key][1] += 1
            if after != before:
                changed.append((f"{method} {path}", desc, raw, status, answer, diff(before, after)))
        elif status is not None and 200 <= status < 300:
            accepted_since_reset += 1
            if method == "POST" and endpoint[1] == "/loadbalancers":
                try:
                    new_id = json.loads(answer)["loadBalancer"]["id"]
                    api.call("DELETE", f"/loadbalancers/{new_id}")
                except (ValueError, KeyError, TypeError):
                    pass
            if accepted_since_reset >= 40 or needs_reset(after):
                api.call("DELETE", f"/loadbalancers/{target}")
                for lb in json.loads(after[0].split(" ", 1)[1]).get("loadBalancers", []):
                    api.call("DELETE", f"/loadbalancers/{lb['id']}")   # anything a fuzzed create left
                target = fresh_target()
                accepted_since_reset = 0
                resets += 1
            after = snapshot(None)
        before = after
    elapsed = time.monotonic() - began
    alive = tether.alive()

    def show(raw):
        if raw is None:
            return "(no body)"
        text = repr(raw[:240])
        return text + (f" ... ({len(raw)} bytes)" if len(raw) > 240 else "")

    for endpoint, desc, raw, status, answer in five[:a.examples]:
        drill.log(f"5xx example: {endpoint} -> {status} {answer[:200]!r}\n    mutation: {desc}\n    body: {show(raw)}")
    for endpoint, desc, raw, status, answer, d in changed[:a.examples]:
        drill.log(f"refused but changed state: {endpoint} -> {status}; {d}\n    mutation: {desc}\n    body: {show(raw)}")

    reasons = []
    if totals["5xx"]:
        reasons.append(f"{totals['5xx']} answers 5xx")
    if changed:
        reasons.append(f"{len(changed)} refused requests changed state")
    if totals["other"]:
        reasons.append(f"{totals['other']} requests without an answer")
    if not alive:
        reasons.append("Tether exited")
    result = "PASS" if not reasons else "FAIL: " + "; ".join(reasons)
    rows = [("seed", seed),
            ("bodies", f"{totals['bodies']} over {len(BODY_ENDPOINTS)} endpoints, plus {totals['queries']} fuzzed "
                       f"queries over {len(QUERY_ENDPOINTS)} DELETE endpoints, in {elapsed:.0f} s"),
            ("answers", ", ".join(f"{k} {v}" for k, v in sorted(by_status.items(), key=lambda x: (x[0] is None, x[0] or 0)))),
            ("2xx / 4xx / 5xx", f"{totals['2xx']} / {totals['4xx']} / {totals['5xx']}"),
            ("5xx", totals["5xx"]),
            ("5xx by endpoint", "; ".join(f"{k} {v}" for k, v in sorted(five_by_endpoint.items(), key=lambda x: -x[1])) or "-"),
            ("state changes by refused requests", len(changed)),
            ("state changes by 5xx answers", changed_5xx),
            ("fresh target load balancers", resets),
            ("tether process", "running" if alive else f"exited ({tether.process.returncode})"),
            ("result", result)]
    dc.figures("api-fuzz drill", rows,
               f"api-fuzz: {totals['bodies']} bodies, {totals['5xx']} 5xx, {len(changed)} state changes by refused requests")
    return dc.EXIT_PASS if not reasons else dc.EXIT_FAIL


def strip_status(obj):
    """Node status moves by itself (health monitor): left out of the comparison."""
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            if k == "nodes" and isinstance(v, list):
                for n in v:
                    if isinstance(n, dict):
                        n.pop("status", None)
            strip_status(v)
    elif isinstance(obj, list):
        for v in obj:
            strip_status(v)


def needs_reset(after):
    try:
        lb = json.loads(after[1].split(" ", 1)[1])["loadBalancer"]
        return lb.get("protocol") != "HTTP" or len(lb.get("nodes", [])) >= 20 or len(lb.get("accessList") or []) >= 80 \
            or len(lb.get("metadata") or []) >= 20 or any(len(n.get("metadata") or []) >= 20 for n in lb.get("nodes", []))
    except (ValueError, KeyError, TypeError, IndexError):
        return True


def diff(before, after):
    names = ["list", "load balancer", "error page", "ssl termination"]
    out = []
    for name, b, a in zip(names, before, after):
        if b != a:
            i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
            out.append(f"{name}: ...{b[max(0, i - 60):i + 60]!r} -> ...{a[max(0, i - 60):i + 60]!r}")
    return "; ".join(out)


if __name__ == "__main__":
    dc.run_main(NAME, main)
