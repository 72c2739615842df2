#!/usr/bin/env python3
"""Idle keep-alive client connections (issue 16): opens COUNT connections to a load balancer's port, one GET each
(answer read), holds them HOLD seconds, closes them; three rounds. Prints the RSS of the process PID (the proxy under
test: tether serve, haproxy, ...) at the start, with the connections open and after they closed, and the memory per
connection of each round. Needs `ulimit -n` above COUNT + 100 (the hard limit caps it).

    bench/load/idle.py --port 18702 --pid $(pgrep -f 'tether.dll serve') [--count 10000] [--hold 6] [--rounds 3]
"""
import argparse, asyncio, resource, sys, time

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

async def open_one(port, conns, fails):
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET / HTTP/1.1\r\nHost: idle\r\n\r\n")
        await w.drain()
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await r.readexactly(length)
        conns.append(w)
    except Exception as e:  # noqa: BLE001 - a failed connection is counted, not fatal
        fails.append(type(e).__name__)

async def round_(args, n):
    conns, fails = [], []
    gate = asyncio.Semaphore(200)
    async def guarded():
        async with gate:
            await open_one(args.port, conns, fails)
    before = rss_kib(args.pid)
    started = time.monotonic()
    await asyncio.gather(*(guarded() for _ in range(args.count)))
    opened = rss_kib(args.pid)
    print(f"round {n}: {len(conns)} open, {len(fails)} failed ({', '.join(sorted(set(fails))) or 'none'}) in "
          f"{time.monotonic() - started:.1f} s; RSS {before} -> {opened} KiB "
          f"({(opened - before) / max(len(conns), 1):.1f} KiB per connection)", flush=True)
    await asyncio.sleep(args.hold)
    for w in conns:
        w.close()
    await asyncio.sleep(3)
    print(f"round {n}: closed; RSS {rss_kib(args.pid)} KiB", flush=True)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--hold", type=float, default=6)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.count + 100:
        sys.exit(f"ulimit -n is {hard}: too low for {args.count} connections")
    print(f"start: RSS {rss_kib(args.pid)} KiB", flush=True)
    for n in range(1, args.rounds + 1):
        asyncio.run(round_(args, n))

main()
