#!/usr/bin/env python3
"""Helpers for drills/idle-clients.sh (python3 standard library only).

  idle_clients.py ports COUNT          print COUNT free TCP ports on 127.0.0.1 (outside the ephemeral range)
  idle_clients.py backend PORT...      HTTP/1.1 keep-alive backends (asyncio), one process, until SIGTERM
  idle_clients.py drill ...            open the idle clients, measure, print the figures (see --help)

Traffic only to 127.0.0.1.
"""
import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time

import drill_common  # the drills' shared helpers, beside this file (free ports)

HOST = "127.0.0.1"


# ----------------------------------------------------------------------------------------------------------------
# ports
# ----------------------------------------------------------------------------------------------------------------
# ----------------------------------------------------------------------------------------------------------------
# backend
# ----------------------------------------------------------------------------------------------------------------
async def serve_backend(ports):
    open_now = 0
    open_max = 0
    served = 0

    async def handle(reader, writer):
        nonlocal open_now, open_max, served
        open_now += 1
        open_max = max(open_max, open_now)
        port = writer.get_extra_info("sockname")[1]
        body = f"b{port}\n".encode()
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                close = lines[0].endswith("HTTP/1.0")
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    name = name.strip().lower()
                    value = value.strip().lower()
                    if name == "content-length":
                        length = int(value or 0)
                    elif name == "connection":
                        close = "close" in value or (close and "keep-alive" not in value)
                    elif name == "transfer-encoding":
                        # not expected from this drill; answer and close rather than parse chunks
                        close = True
                if length:
                    await reader.readexactly(length)
                served += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                             + str(len(body)).encode() + (b"\r\nConnection: close" if close else b"")
                             + b"\r\n\r\n" + body)
                await writer.drain()
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            open_now -= 1
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - closing a broken socket
                pass

    servers = [await asyncio.start_server(handle, HOST, p, backlog=4096, reuse_address=True) for p in ports]
    print(f"backends listening on {', '.join(str(p) for p in ports)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    last = None
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 5)
        except asyncio.TimeoutError:
            pass
        now = (open_now, open_max, served)
        if now != last:
            print(f"backend: open {open_now}, max open {open_max}, answered {served}", flush=True)
            last = now
    for s in servers:
        s.close()
    print(f"backend: stopping; max open {open_max}, answered {served}", flush=True)


# ----------------------------------------------------------------------------------------------------------------
# drill
# ----------------------------------------------------------------------------------------------------------------
async def read_response(reader):
    """Reads one HTTP/1.1 answer; returns (status, keep_alive). Content-Length or chunked bodies."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    length = None
    chunked = False
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and "close" in value:
            keep_alive = False
    if 100 <= status < 200:
        return await read_response(reader)
    if chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            await reader.readexactly(size + 2)
    elif length is not None:
        await reader.readexactly(length)
    elif status not in (204, 304):
        await reader.read()  # body until close
        keep_alive = False
    return status, keep_alive


def request_bytes(port):
    return f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: tether-idle-drill\r\n\r\n".encode()


async def count_node_connections(backend_ports):
    """Established TCP connections whose destination is a backend port (Tether's side of its node connections):
    (total, {port: count}), total -1 when ss failed."""
    expr = " or ".join(f"dport = :{p}" for p in backend_ports)
    try:
        proc = await asyncio.create_subprocess_exec("ss", "-Htn", "state", "established", f"( {expr} )",
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.DEVNULL)
    except OSError:
        return -1, {}
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, {}
    if proc.returncode != 0:
        return -1, {}
    per_port = {p: 0 for p in backend_ports}
    total = 0
    for line in out.decode(errors="replace").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        total += 1
        port = fields[3].rsplit(":", 1)[-1]
        if port.isdigit() and int(port) in per_port:
            per_port[int(port)] += 1
    return total, per_port


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def mib(kib):
    return "-" if kib < 0 else f"{kib / 1024:.0f} MiB"


class Idle:
    def __init__(self):
        self.opened = 0
        self.answered = 0
        self.errors = {}
        self.conns = []  # (reader, writer) of answered clients
        self.done = 0

    def fail(self, why):
        self.errors[why] = self.errors.get(why, 0) + 1


async def open_idle_clients(args, idle, deadline):
    sem = asyncio.Semaphore(args.open_concurrency)
    req = request_bytes(args.lb_port)
    progress_every = max(args.clients // 10, 1)

    async def one(i):
        try:
            await one_client()
        finally:
            idle.done += 1
            if idle.done % progress_every == 0:
                print(f"  ... {idle.done} clients done: {idle.opened} connected, {idle.answered} answered",
                      file=sys.stderr, flush=True)

    async def one_client():
        async with sem:
            left = deadline - time.monotonic()
            if left <= 0:
                idle.fail("not started before the open-phase deadline")
                return
            writer = None
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(HOST, args.lb_port, limit=64 * 1024), min(args.timeout, left))
            except asyncio.TimeoutError:
                idle.fail("connect timeout")
                return
            except OSError as e:
                idle.fail(f"connect: {e.strerror or e}")
                return
            idle.opened += 1
            try:
                writer.write(req)
                status, keep_alive = await asyncio.wait_for(read_response(reader), args.timeout)
            except asyncio.TimeoutError:
                idle.fail("no answer in time")
                writer.close()
                return
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as e:
                idle.fail(f"answer: {type(e).__name__}")
                writer.close()
                return
            if status != 200:
                idle.fail(f"status {status}")
            else:
                idle.answered += 1
            if not keep_alive:
                idle.fail("answer closed the connection (Connection: close)")
                writer.close()
                return
            idle.conns.append((reader, writer))

    await asyncio.gather(*(one(i) for i in range(args.clients)))


async def extra_requests(args, deadline):
    ok = 0
    failed = {}
    req = request_bytes(args.lb_port)
    per_worker = [args.extra // args.concurrency + (1 if i < args.extra % args.concurrency else 0)
                  for i in range(args.concurrency)]
    latencies = []

    def fail(why):
        failed[why] = failed.get(why, 0) + 1

    async def worker(n):
        nonlocal ok
        reader = writer = None
        used = 0
        for _ in range(n):
            if time.monotonic() > deadline:
                fail("not sent before the extra-phase deadline")
                continue
            start = time.monotonic()
            try:
                if writer is None or used >= args.per_connection:
                    if writer is not None:
                        writer.close()
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, args.lb_port),
                                                            args.timeout)
                    used = 0
                writer.write(req)
                status, keep_alive = await asyncio.wait_for(read_response(reader), args.timeout)
                used += 1
                if status == 200:
                    ok += 1
                    latencies.append(time.monotonic() - start)
                else:
                    fail(f"status {status}")
                if not keep_alive:
                    writer.close()
                    writer = None
            except asyncio.TimeoutError:
                fail("timeout")
                if writer is not None:
                    writer.close()
                writer = None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as e:
                fail(f"{type(e).__name__}: {getattr(e, 'strerror', None) or e}"[:80])
                if writer is not None:
                    writer.close()
                writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker(n) for n in per_worker if n))
    return ok, failed, latencies


async def drill(args):
    t0 = time.monotonic()
    pid = args.tether_pid
    rss_before = rss_kib(pid)
    fds_before = fd_count(pid)
    nodes_before, _ = await count_node_connections(args.backend_ports)
    print(f"drill: {args.clients} idle clients to 127.0.0.1:{args.lb_port}, then {args.extra} requests from "
          f"{args.concurrency} clients; backends {','.join(map(str, args.backend_ports))}; tether pid {pid}",
          file=sys.stderr, flush=True)

    idle = Idle()
    t_open = time.monotonic()
    try:
        await asyncio.wait_for(open_idle_clients(args, idle, t_open + args.open_timeout), args.open_timeout + 5)
    except asyncio.TimeoutError:
        idle.fail("open phase timed out")
    open_seconds = time.monotonic() - t_open

    # idle: sample the node connections a few times
    samples = []
    busiest = (-1, {})
    gone_at = None

    async def sample(into):
        nonlocal busiest, gone_at
        if gone_at is None and not os.path.exists(f"/proc/{pid}"):
            gone_at = time.monotonic() - t0
        total, per_port = await count_node_connections(args.backend_ports)
        into.append(total)
        if total > busiest[0]:
            busiest = (total, per_port)

    for i in range(args.samples):
        await asyncio.sleep(args.sample_interval)
        await sample(samples)
    rss_idle = rss_kib(pid)
    fds_idle = fd_count(pid)

    # the extra requests, with the node connections sampled beside them
    extra_samples = []
    sampling = asyncio.Event()

    async def sampler():
        while not sampling.is_set():
            await sample(extra_samples)
            try:
                await asyncio.wait_for(sampling.wait(), args.sample_interval / 2)
            except asyncio.TimeoutError:
                pass

    sampler_task = asyncio.create_task(sampler())
    t_extra = time.monotonic()
    try:
        ok, failed, lat = await asyncio.wait_for(extra_requests(args, t_extra + args.extra_timeout),
                                                 args.extra_timeout + 5)
    except asyncio.TimeoutError:
        ok, failed, lat = 0, {"extra phase timed out": args.extra}, []
    extra_seconds = time.monotonic() - t_extra
    sampling.set()
    await sampler_task
    await sample(extra_samples)
    await asyncio.sleep(0.5)
    still = sum(1 for r, w in idle.conns if not r.at_eof() and not w.is_closing())
    dropped = len(idle.conns) - still
    rss_after = rss_kib(pid)
    fds_after = fd_count(pid)
    alive = os.path.exists(f"/proc/{pid}")

    failed_n = sum(failed.values())
    limit = int(args.tether_fd_limit) if str(args.tether_fd_limit).isdigit() else None
    at_limit = limit is not None and max(fds_idle, fds_after) >= limit - 16
    idle_max = max(samples) if samples else -1
    extra_max = max(extra_samples) if extra_samples else -1
    node_max = max(idle_max, extra_max)
    lat.sort()
    p50 = f"{lat[len(lat) // 2] * 1000:.1f} ms" if lat else "-"
    p99 = f"{lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000:.1f} ms" if lat else "-"

    out = [
        "==== idle-clients drill " + "=" * 40,
        f"clients                 : {args.clients} requested, {idle.opened} connected, {idle.answered} answered 200 "
        f"(in {open_seconds:.1f} s)",
        f"client errors           : " + (", ".join(f"{k}: {v}" for k, v in sorted(idle.errors.items())) or "none"),
        f"idle clients at the end : {still} still connected, {dropped} closed by Tether",
        f"node connections        : {nodes_before} before the clients; {idle_max} while they idle (max of "
        f"{', '.join(map(str, samples))}); {extra_max} during the extra requests (max of {len(extra_samples)} samples)",
        f"node connections by node: " + (", ".join(f":{p} {n}" for p, n in busiest[1].items()) or "-")
        + " (at the busiest sample)",
        f"extra requests          : {args.extra} from {args.concurrency} clients ({args.per_connection} per "
        f"connection): {ok} ok, {failed_n} failed, {extra_seconds:.1f} s, p50 {p50}, p99 {p99}",
        f"extra request errors    : " + (", ".join(f"{k}: {v}" for k, v in sorted(failed.items())) or "none"),
        f"tether RSS (VmRSS)      : before {mib(rss_before)}, idle {mib(rss_idle)}, after {mib(rss_after)}",
        f"tether descriptors      : before {fds_before}, idle {fds_idle}, after {fds_after if fds_after >= 0 else '-'} "
        f"(limit {args.tether_fd_limit})" + (" - REACHED THE LIMIT" if at_limit else ""),
        f"tether process          : " + ("running" if alive else "GONE (exited during the drill" + (
            f", first seen gone {gone_at:.1f} s after the drill started; the idle clients were all opened after "
            f"{open_seconds:.1f} s)" if gone_at is not None else ")")),
        f"duration                : {time.monotonic() - t0:.1f} s",
    ]
    verdict = []
    if idle.opened < args.clients:
        verdict.append(f"{args.clients - idle.opened} clients could not connect")
    if idle.answered < args.clients:
        verdict.append(f"{args.clients - idle.answered} clients were not answered 200")
    if failed_n:
        verdict.append(f"{failed_n} extra requests failed")
    if args.max_node_connections is not None and node_max > args.max_node_connections:
        verdict.append(f"{node_max} node connections > --max-node-connections {args.max_node_connections}")
    if min(samples + extra_samples + [nodes_before]) < 0:
        verdict.append("could not count node connections (ss failed)")
    if not alive:
        verdict.append("Tether exited")
    out.append("result                  : " + ("PASS" if not verdict else "FAIL: " + "; ".join(verdict)))
    out.append(f"idle-clients: {args.clients} clients, {node_max} node connections, {ok} ok, {failed_n} failed")
    print("\n".join(out), flush=True)

    for r, w in idle.conns:
        w.close()
    return 1 if verdict else 0


def main():
    p = argparse.ArgumentParser(prog="idle_clients.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("ports")
    pp.add_argument("count", type=int)
    pb = sub.add_parser("backend")
    pb.add_argument("ports", type=int, nargs="+")
    pd = sub.add_parser("drill")
    pd.add_argument("--lb-port", type=int, required=True)
    pd.add_argument("--backend-ports", type=lambda s: [int(x) for x in s.split(",")], required=True)
    pd.add_argument("--tether-pid", type=int, required=True)
    pd.add_argument("--tether-fd-limit", default="?")
    pd.add_argument("--clients", type=int, default=10000)
    pd.add_argument("--extra", type=int, default=2000)
    pd.add_argument("--concurrency", type=int, default=50)
    pd.add_argument("--per-connection", type=int, default=10, help="extra requests per connection before a fresh one")
    pd.add_argument("--open-concurrency", type=int, default=200, help="clients connecting at once")
    pd.add_argument("--timeout", type=float, default=15, help="seconds per connect / per answer")
    pd.add_argument("--open-timeout", type=float, default=240, help="seconds for opening all idle clients")
    pd.add_argument("--extra-timeout", type=float, default=120, help="seconds for all extra requests")
    pd.add_argument("--samples", type=int, default=4)
    pd.add_argument("--sample-interval", type=float, default=1.0)
    pd.add_argument("--max-node-connections", type=int)
    args = p.parse_args()
    if args.cmd == "ports":
        print(" ".join(map(str, drill_common.free_ports(args.count))))
        return 0
    if args.cmd == "backend":
        asyncio.run(serve_backend(args.ports))
        return 0
    # a watchdog beside the per-phase timeouts: never hang
    signal.alarm(int(args.open_timeout + args.extra_timeout + args.samples * args.sample_interval + 120))
    return asyncio.run(drill(args))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
