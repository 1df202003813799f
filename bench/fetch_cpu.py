"""CPU per request of the fetch path, against the busy hour's news server (issue 13).

``python -m bench.fetch_cpu [--pages N] [--order A,B,B,A] [--code A=PATH ...] [--profile]``

Starts ``bench.newsserver`` with the busy hour's layout (200 feeds × 20 stories on 50 loopback
hosts, 50 ms a request, 3 slow hosts at 300 ms) and fetches its story pages the way the hourly
flow's ``fetch_pages`` does: every page started at once, one ``Fetcher`` with the busy hour's
politeness (``NEWSFLOW_PER_HOST_DELAY``, default 0.25 s; per-host concurrency 2; global 32),
robots.txt included. Each run is a fresh child process, so the figures are that process's CPU
seconds (user + system) from the first request to the last, divided by the requests the news
server counted. Runs go in the order given (``A,B,B,A`` by default), so two versions of the code
are measured side by side on the same machine state; ``--code NAME=PATH`` runs variant NAME's
``Fetcher`` from the checkout at PATH.

Besides ``fetcher`` (our ``Fetcher``), bare clients make the same GETs with the same politeness
(a per-host semaphore, start gap and global semaphore written inline), to show what is the
library's and what is ours: ``httpx`` (``httpx.AsyncClient.get``) and ``httpcore``
(``httpcore.AsyncConnectionPool.request``), both with the limits the Fetcher's one pool had
until issue 13's fourth round (36 connections, 32 kept alive), and ``origins`` (one
``httpcore`` pool per origin, sized to the per-host concurrency, as the Fetcher has now).

``--profile`` adds a second child per variant under cProfile and splits its self time by
package (ours, httpx, httpcore, h11, anyio, asyncio, the rest).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, base_env, load_average
from bench.newsserver import Layout, running

BUSY_HOUR = Layout(feeds=200, items=20, hosts=50, latency=0.05, slow_hosts=3, slow_latency=0.3)


def page_urls(layout: Layout, port: int, pages: int) -> list[str]:
    """The news server's story URLs in the order the busy hour's candidates come (feed by feed)."""
    urls = []
    for f in range(layout.feeds):
        ip = layout.host_ip(layout.host_of_feed(f))
        for k in range(layout.items):
            urls.append(f"http://{ip}:{port}/news/{f}/story-{layout.first_index + f * layout.items + k}.html")
    return urls[:pages]


# ---------------------------------------------------------------- the child: one measured run


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


async def _run_fetcher(urls: list[str]) -> tuple[int, int]:
    import asyncio

    from extractors.net.fetcher import Fetcher
    from schemas.failures import PipelineError
    from schemas.settings import load_settings

    ok = failed = 0

    async def one(f: Fetcher, url: str) -> None:
        nonlocal ok, failed
        try:
            res = await f.fetch(url, kind="page")
            ok += bool(res.body)
        except PipelineError:
            failed += 1

    async with Fetcher(load_settings()) as f:
        await asyncio.gather(*(asyncio.ensure_future(one(f, u)) for u in urls))
    return ok, failed


class _Polite:
    """The same per-host and global limits as the Fetcher, inline, for the bare clients."""

    def __init__(self, per_host: int, delay: float, global_cap: int) -> None:
        import asyncio

        self.per_host, self.delay = per_host, delay
        self.global_ = asyncio.Semaphore(global_cap)
        self.hosts: dict[str, tuple[Any, Any, list[float]]] = {}

    async def run(self, host: str, call: Any) -> Any:
        import asyncio

        gate = self.hosts.get(host)
        if gate is None:
            gate = self.hosts[host] = (asyncio.Semaphore(self.per_host), asyncio.Lock(), [0.0])
        sem, lock, nxt = gate
        async with sem:
            async with lock:
                wait = nxt[0] - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self.global_.acquire()
                nxt[0] = time.monotonic() + self.delay
            try:
                return await call()
            finally:
                self.global_.release()


async def _run_bare(urls: list[str], lib: str) -> tuple[int, int]:
    import asyncio
    from urllib.parse import urlsplit

    import httpcore
    import httpx

    from schemas.settings import load_settings

    s = load_settings()
    polite = _Polite(s.per_host_concurrency, s.per_host_delay, s.global_concurrency)
    robots = sorted({f"{u.split('/news/')[0]}/robots.txt" for u in urls})
    ok = failed = 0
    headers = {"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate", "Accept": "text/html"}
    keep = int(os.environ.get("BENCH_KEEPALIVE", min(s.global_concurrency, 64)))
    limits = dict(max_connections=max(s.global_concurrency, keep) + 4,
                  max_keepalive_connections=keep, keepalive_expiry=15.0)
    if lib == "httpx":
        client = httpx.AsyncClient(limits=httpx.Limits(**limits), trust_env=False, headers=headers,
                                   timeout=httpx.Timeout(s.page_timeout, connect=s.connect_timeout))

        async def get(url: str) -> bytes:
            return (await client.get(url)).content

        close = client.aclose
    elif lib == "httpcore":
        pool = httpcore.AsyncConnectionPool(http1=True, http2=False, **limits)  # type: ignore[arg-type]
        hdrs = list(headers.items())

        async def get(url: str) -> bytes:
            return (await pool.request("GET", url, headers=hdrs)).content

        close = pool.aclose
    else:  # "origins": one httpcore pool per origin, sized to the per-host concurrency
        pools: dict[str, httpcore.AsyncConnectionPool] = {}
        hdrs = list(headers.items())

        async def get(url: str) -> bytes:
            origin = url.split("/", 3)[2]
            pool = pools.get(origin)
            if pool is None:
                pool = pools[origin] = httpcore.AsyncConnectionPool(
                    http1=True, http2=False, max_connections=s.per_host_concurrency,
                    max_keepalive_connections=s.per_host_concurrency, keepalive_expiry=15.0)
            return (await pool.request("GET", url, headers=hdrs)).content

        async def close() -> None:
            for pool in pools.values():
                await pool.aclose()

    async def one(url: str) -> None:
        nonlocal ok, failed
        try:
            body = await polite.run(urlsplit(url).hostname or "", lambda: get(url))
            ok += bool(body) and "/robots.txt" not in url
        except Exception:
            failed += 1

    # like the Fetcher: a host's robots.txt before its pages
    await asyncio.gather(*(one(u) for u in robots))
    await asyncio.gather(*(asyncio.ensure_future(one(u)) for u in urls))
    await close()
    return ok, failed


def child(variant: str, urls_file: Path, profile: Path | None) -> None:
    import asyncio

    urls = json.loads(urls_file.read_text(encoding="utf-8"))
    run = _run_fetcher(urls) if variant == "fetcher" else _run_bare(urls, variant)
    prof = None
    if profile is not None:
        import cProfile

        prof = cProfile.Profile(time.process_time)  # CPU, not the wall spent waiting in epoll
        prof.enable()
    cpu0, t0 = _cpu(), time.perf_counter()
    ok, failed = asyncio.run(run)
    cpu1, t1 = _cpu(), time.perf_counter()
    if prof is not None:
        prof.disable()
        prof.dump_stats(str(profile))
    print(json.dumps({"cpu_s": round(cpu1 - cpu0, 3), "wall_s": round(t1 - t0, 3), "ok": ok, "failed": failed}))


# ---------------------------------------------------------------- profile split by package

_GROUPS = (
    ("ours", ("/extractors/net/", "/schemas/")),
    ("httpx", ("/httpx/",)),
    ("httpcore", ("/httpcore/",)),
    ("h11", ("/h11/",)),
    ("anyio", ("/anyio/",)),
    ("asyncio", ("/asyncio/", "selectors.py", "_asyncio")),
)


def split_profile(path: Path) -> dict[str, Any]:
    """Self time of a cProfile dump by package, and the top functions by self time."""
    import pstats

    st = pstats.Stats(str(path))
    groups: dict[str, float] = {}
    rows = []
    for (fname, line, func), (_cc, _nc, tt, _ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        group = next((g for g, keys in _GROUPS if any(k in fname for k in keys)), None)
        if group is None:
            group = "builtins" if fname == "~" else "other"
        groups[group] = groups.get(group, 0.0) + tt
        rows.append((tt, _nc, f"{Path(fname).name}:{line}:{func}" if fname != "~" else func))
    total = sum(groups.values())
    rows.sort(reverse=True)
    return {"total_s": round(total, 3), "by_package_s": {k: round(v, 3) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
            "top": [f"{tt:.3f} {nc} {name}" for tt, nc, name in rows[:30]]}


# ---------------------------------------------------------------- the parent


def measure(variant: str, code: Path, urls_file: Path, delay: float, profile: Path | None = None) -> dict[str, Any]:
    env = base_env({"NEWSFLOW_PER_HOST_DELAY": str(delay)})
    env["PYTHONPATH"] = str(code)  # that checkout's fetcher (this file is run by path, -P: not its dir)
    args = [sys.executable, "-P", __file__, "--child", variant, "--urls", str(urls_file)]
    if profile is not None:
        args += ["--profile-out", str(profile)]
    load0 = load_average()
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900, cwd=code)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["load_before"], res["load_after"] = load0, load_average()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--urls", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--pages", type=int, default=4000)
    ap.add_argument("--delay", type=float, default=0.25, help="NEWSFLOW_PER_HOST_DELAY (s)")
    ap.add_argument("--order", default="fetcher,httpx,httpcore,fetcher",
                    help="variants in run order; a variant is fetcher, httpx, httpcore or a --code name")
    ap.add_argument("--code", action="append", default=[], help="NAME=PATH: variant NAME is the fetcher of PATH")
    ap.add_argument("--profile", action="store_true", help="also one cProfile run per distinct variant")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    ap.add_argument("--profile-dir", type=Path, default=None, help="keep the cProfile dumps here")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.urls, args.profile_out)
        return
    codes = {name: Path(path).resolve() for name, path in (c.split("=", 1) for c in args.code)}
    order = [v.strip() for v in args.order.split(",") if v.strip()]
    results: dict[str, Any] = {"pages": args.pages, "delay_s": args.delay, "order": order, "runs": [],
                               "load_average_before": load_average()}
    with tempfile.TemporaryDirectory() as tmp, running(BUSY_HOUR, Path(tmp) / "site") as site:
        urls_file = Path(tmp) / "urls.json"
        urls_file.write_text(json.dumps(page_urls(BUSY_HOUR, site.port, args.pages)), encoding="utf-8")
        for variant in order:
            code = codes.get(variant, ROOT)
            kind = "fetcher" if variant in codes else variant
            site.stats(reset=True)
            res = measure(kind, code, urls_file, args.delay)
            res["requests"] = sum(site.stats().values())
            res["cpu_ms_per_request"] = round(1000 * res["cpu_s"] / max(res["requests"], 1), 3)
            res["variant"] = variant
            results["runs"].append(res)
            print(json.dumps(res), flush=True)
        if args.profile:
            results["profiles"] = {}
            for variant in dict.fromkeys(order):
                code = codes.get(variant, ROOT)
                kind = "fetcher" if variant in codes else variant
                prof = (args.profile_dir or Path(tmp)) / f"{variant}.prof"
                site.stats(reset=True)
                res = measure(kind, code, urls_file, args.delay, profile=prof)
                split = split_profile(prof)
                split["requests"] = sum(site.stats().values())
                split["cpu_s_profiled"] = res["cpu_s"]
                results["profiles"][variant] = split
                print(variant, json.dumps(split, indent=1), flush=True)
    results["load_average_after"] = load_average()
    if args.out:
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
