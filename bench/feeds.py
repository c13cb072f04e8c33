"""Feed polling benchmark: ``python -m bench.feeds [--feeds 500] [--cycles 1000] [--subset 25] [--json P]``.

The issue's requirement: polling 500 locally served feeds completes well within one 5-minute
interval, and memory stays flat over 1,000 poll cycles. Both are measured against a local HTTP
server (standard library, in a background thread) serving RSS 2.0 feeds of real Chinese sentences
(:mod:`bench.corpus`), with ETags honoured, so that the engine runs its real paths: fetch, parse,
store for a changed feed; a 304 for an unchanged one.

1. Baselines, on the same feeds and in the same run: fetching every feed with the product's HTTP
   client and nothing else (the transport's floor), and parsing every body with the product's
   parser in one thread (the parser's floor).
2. 500 feeds, one poll each, with a fresh database: cold (every entry new), then warm after a
   fifth of the feeds changed (the rest answer 304).
3. Memory: one long-lived :class:`~bot.ingest.poller.Poller`, as the service keeps one, polling a fixed
   subset of the feeds for 1,000 cycles while a fifth of them change each cycle; RSS
   (``/proc/self/status``) after a warm-up, every 100 cycles and at the end.

Progress goes to stderr, figures to stdout. Targets are printed, never asserted. The temporary
folder (database) is removed and the server stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.corpus import CORPUS, load_documents, source_files
from bench.feed_report import (
    FETCH_BOUND,
    FLAT_MIB,
    INTERVAL_S,
    Baselines,
    MemoryRun,
    Outcome,
    Round,
    format_memory,
    format_rounds,
    format_targets,
)
from bench.feed_server import ENTRIES_PER_FEED, EntryMaker, FeedServer, FeedSet
from bench.measure import database_bytes, percentile
from bench.report import MIB
from bench.runtime import log, machine, peak_rss_kib, rss_kib, save_json
from bot.config import Config, SourceConfig, parse_config
from bot.ingest.poller import Poller
from bot.sources.feeds import parse_feed
from bot.sources.http import FetchPolicy, make_client
from bot.store import Store

CHANGE_FRACTION = 0.2  # of the polled feeds that have new entries at each cycle


def open_fds() -> int:
    """Open file descriptors: a leaked connection or database handle shows here before in RSS."""
    return len(os.listdir("/proc/self/fd"))


# --- the measurements -----------------------------------------------------------------------------


async def fetch_baseline(base_url: str, names: Sequence[str], bound: int | None = None) -> tuple[float, int]:
    """Every feed fetched unconditionally with a new client of the product's (as a cold poll has),
    all at once or at most ``bound`` at a time: seconds, bytes."""
    client = make_client(FetchPolicy())
    gate = asyncio.Semaphore(bound or len(names))
    try:

        async def one(name: str) -> int:
            async with gate:
                response = await client.get(f"{base_url}/{name}.xml")
                response.raise_for_status()
                return len(response.content)

        started = time.perf_counter()
        sizes = await asyncio.gather(*(one(n) for n in names))
        return time.perf_counter() - started, sum(sizes)
    finally:
        await client.aclose()


def parse_baseline(feeds: FeedSet) -> tuple[float, int]:
    """Every body parsed in this thread with the product's parser: seconds, items."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    items = 0
    for name in feeds.names:
        body = feeds.served[f"/{name}.xml"].body
        items += len(
            parse_feed(
                body,
                url=f"http://127.0.0.1/{name}.xml",
                content_type="application/rss+xml; charset=utf-8",
                source=name,
                source_name=name,
                now=now,
            ).items
        )
    return time.perf_counter() - started, items


def make_config(base_url: str, names: Sequence[str], database: Path) -> Config:
    """The service's configuration for these feeds, as a user would write it."""
    data = {
        "fetch": {"timeout": 10},
        "sources": [{"name": n, "kind": "feed", "url": f"{base_url}/{n}.xml", "every": "5m"} for n in names],
    }
    return parse_config(data, path=database.parent / "config.toml", environ={"FINEWS_DB": str(database)})


async def timed_round(poller: Poller, label: str, sources: Sequence[SourceConfig]) -> Round:
    """One ``poll_many`` over ``sources``, timed."""
    started = time.perf_counter()
    reports = await poller.poll_many(sources, force=True)
    seconds = time.perf_counter() - started
    outcome = Outcome()
    outcome.add(reports)
    return Round(label, len(sources), seconds, outcome, rss_kib() / 1024)


async def poll_all_feeds(feeds: FeedSet, config: Config, change: float) -> list[Round]:
    """Every feed polled once with an empty database (cold), then again after ``change`` of them
    changed (warm), with one poller as the service would."""
    poller = Poller(config)
    try:
        log(f"cold poll of {len(config.sources)} feeds (empty database)")
        cold = await timed_round(poller, "cold: all new", config.sources)
        log(f"  {cold.seconds:.2f} s, {cold.outcome.new:,} new, {cold.outcome.errors} errors")
        changed = feeds.advance_share(feeds.names, change)
        log(f"warm poll ({len(changed)} feeds changed, the others should answer 304)")
        warm = await timed_round(poller, f"warm: {len(changed)} changed", config.sources)
        log(f"  {warm.seconds:.2f} s, {warm.outcome.not_modified} × 304, {warm.outcome.errors} errors")
        return [cold, warm]
    finally:
        await poller.aclose()


async def memory_run(
    feeds: FeedSet, config: Config, *, subset: int, cycles: int, warmup: int, every: int, change: float
) -> MemoryRun:
    """``cycles`` polls of the first ``subset`` feeds with one long-lived poller, RSS recorded."""
    sources = config.sources[:subset]
    names = [s.name for s in sources]
    run = MemoryRun(cycles, len(sources), round(len(sources) * change), warmup)
    with Store(config.database) as store:
        run.items_before = store.count()
    poller = Poller(config)
    marks = {warmup, cycles} | set(range(every, cycles + 1, every))

    def record(cycle: int) -> None:
        run.rss_by_cycle[cycle] = rss_kib() / 1024
        run.fds_by_cycle[cycle] = open_fds()
        run.threads_by_cycle[cycle] = threading.active_count()

    try:
        record(0)
        started = time.perf_counter()
        for cycle in range(1, cycles + 1):
            feeds.advance_share(names, change)
            tick = time.perf_counter()
            reports = await poller.poll_many(sources, force=True)
            run.cycle_ms.append((time.perf_counter() - tick) * 1000)
            run.outcome.add(reports)
            if cycle in marks:
                record(cycle)
                if cycle >= warmup:
                    log(
                        f"  cycle {cycle:>5,}: RSS {run.rss_by_cycle[cycle]:7.1f} MiB,"
                        f" {run.outcome.errors} errors, {time.perf_counter() - started:6.1f} s"
                    )
        run.seconds = time.perf_counter() - started
    finally:
        await poller.aclose()
    with Store(config.database) as store:
        run.items_after = store.count()
    run.db_bytes_after = database_bytes(config.database)
    return run


# --- the command ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.feeds",
        description="Benchmark polling locally served RSS feeds: time for all feeds, RSS over many cycles.",
    )
    parser.add_argument(
        "--feeds", type=int, default=500, help="feeds served and polled once each (default 500)"
    )
    parser.add_argument(
        "--cycles", type=int, default=1000, help="poll cycles of the memory run; 0 = none (default 1000)"
    )
    parser.add_argument(
        "--subset", type=int, default=25, help="feeds polled per cycle of the memory run (default 25)"
    )
    parser.add_argument("--warmup", type=int, default=10, help="cycles before the start RSS (default 10)")
    parser.add_argument("--every", type=int, default=100, help="report RSS every N cycles (default 100)")
    parser.add_argument(
        "--change", type=float, default=CHANGE_FRACTION, help="share of feeds changed per cycle (default 0.2)"
    )
    parser.add_argument("--seed", type=int, default=20211208, help="content seed (default 20211208)")
    parser.add_argument("--tmpdir", type=Path, default=None, help="where the temporary folder goes")
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="also save the figures as JSON"
    )
    args = parser.parse_args(argv)
    if args.feeds < 1 or args.subset < 1 or args.cycles < 0 or not 0 <= args.change <= 1:
        parser.error("--feeds and --subset must be ≥ 1, --cycles ≥ 0, --change between 0 and 1")
    args.subset = min(args.subset, args.feeds)
    args.warmup = min(args.warmup, args.cycles)
    return args


async def run(args: argparse.Namespace, feeds: FeedSet, server: FeedServer, tmp: Path) -> dict[str, Any]:
    """All three parts, in one event loop as the service runs; the figures."""
    baselines = Baselines()
    # Untimed, once: imports, the server's first threads and the page cache of the bodies.
    await fetch_baseline(server.base_url, feeds.names, FETCH_BOUND)
    log(f"baseline: fetching all {len(feeds.names)} feeds at once, then {FETCH_BOUND} at a time")
    baselines.fetch_s, baselines.fetch_bytes = await fetch_baseline(server.base_url, feeds.names)
    baselines.fetch_bounded_s, _ = await fetch_baseline(server.base_url, feeds.names, FETCH_BOUND)
    log("baseline: parsing all bodies in one thread")
    baselines.parse_s, baselines.parse_items = parse_baseline(feeds)

    database = tmp / "finews.db"
    config = make_config(server.base_url, feeds.names, database)
    rounds = await poll_all_feeds(feeds, config, args.change)
    print("\n" + format_rounds(rounds, baselines), flush=True)

    memory: MemoryRun | None = None
    if args.cycles > 0:
        log(f"memory run: {args.cycles:,} cycles of {args.subset} feeds (same database, new poller)")
        memory = await memory_run(
            feeds,
            config,
            subset=args.subset,
            cycles=args.cycles,
            warmup=args.warmup,
            every=args.every,
            change=args.change,
        )
        print("\n" + format_memory(memory), flush=True)

    print(f"\nserver (in this process, sharing the GIL): {_server_line(server)}", flush=True)
    print("\n" + format_targets(rounds, memory), flush=True)
    return {
        "baselines": asdict(baselines),
        "rounds": [
            {**asdict(r), "interval_share": r.interval_share, "interval_s": INTERVAL_S} for r in rounds
        ],
        "memory": None if memory is None else _memory_json(memory),
        "server": server.stats.snapshot(),
        "peak_rss_mib": peak_rss_kib() / 1024,
    }


def _server_line(server: FeedServer) -> str:
    s = server.stats.snapshot()
    return (
        f"{s['ok']:,} × 200 ({s['bytes_sent'] / MIB:.1f} MiB), {s['not_modified']:,} × 304, "
        f"{s['not_found']} × 404; its threads used {s['cpu_s']:.1f} s of CPU."
    )


def _memory_json(run: MemoryRun) -> dict[str, Any]:
    data = asdict(run)
    data["cycle_ms"] = {
        "p50": percentile(run.cycle_ms, 0.5) if run.cycle_ms else math.nan,
        "p95": percentile(run.cycle_ms, 0.95) if run.cycle_ms else math.nan,
        "max": max(run.cycle_ms, default=math.nan),
    }
    data["growth_mib"] = run.growth(run.warmup)
    data["growth_since"] = run.flat_since
    data["growth_since_mib"] = run.growth(run.flat_since)
    data["flat"] = run.growth(run.flat_since) < FLAT_MIB
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Build the feeds, serve them, measure, print; optionally save the figures as JSON."""
    args = parse_args(argv)
    corpus_used = (CORPUS / "_posts").is_dir()
    files = source_files(CORPUS if corpus_used else None)
    documents = load_documents(files)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    feeds = FeedSet(args.feeds, EntryMaker(documents, rng), rng)
    log(f"{args.feeds} feeds × {ENTRIES_PER_FEED} entries built in {time.perf_counter() - started:.1f} s")
    sentences = sum(len(d.sentences) for d in documents)
    print(
        f"finews-bot feed benchmark · Python {platform.python_version()} · SQLite {sqlite3.sqlite_version} · "
        f"{os.cpu_count()} CPUs\n"
        f"{args.feeds} RSS 2.0 feeds × {ENTRIES_PER_FEED} entries ({feeds.body_bytes() / MIB:.1f} MiB), "
        f"from {sentences:,} sentences of {len(documents)} documents "
        f"({'seeds + corpus' if corpus_used else 'seeds only'}); served on 127.0.0.1 by "
        "http.server in a thread of this process (ETag / If-None-Match → 304).",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="finews-bench-feeds-", dir=args.tmpdir))
    server = FeedServer(feeds)
    thread = threading.Thread(target=server.serve_forever, name="feed-server", daemon=True)
    thread.start()
    try:
        figures = asyncio.run(run(args, feeds, server, tmp))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        shutil.rmtree(tmp, ignore_errors=True)
        log(f"server stopped, {tmp} removed")
    if args.json is not None:
        data = {
            "seed": args.seed,
            **machine(),
            "feeds": args.feeds,
            "entries_per_feed": ENTRIES_PER_FEED,
            "cycles": args.cycles,
            "subset": args.subset,
            "change": args.change,
            "interval_s": INTERVAL_S,
            "flat_mib": FLAT_MIB,
            **figures,
        }
        save_json(args.json, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
