"""Run the benchmark: ``python -m bench.run [--sizes 10000,100000] [--million] [--parts …] [--json PATH]``.

One run prints every figure of issue #15 and the standing targets, each part measured in this run:

- ``cli``: command-line latency of ``latest``, ``topic``, ``status`` and ``--help`` beside the bare
  interpreter, and the same for the code before the speed work (:mod:`bench.cli_latency`);
- ``sizes``: for each size N, synthesise N posts into a temporary folder, import them with
  ``finews-bot import`` (import rate, peak RSS of every process), measure the database, profile the
  import's phases on a sample, then time the product's search beside a LIKE scan on the same data;
- ``order``: the same posts named in publication order, as a real folder (1 in 5 late) and shuffled
  within each day, imported in alternation (:mod:`bench.import_order`);
- ``service``: reply times of the running service while it imports and sends a 200-subscription
  digest (:mod:`bench.service_load`);
- ``digests``: a day's digests for 200 subscriptions (:mod:`bench.digests`);
- ``relevance``: the topic rules' precision and recall (:mod:`bench.relevance`).

Progress goes to stderr, figures to stdout. Temporary folders are removed after each part.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import relevance
from bench.cli_latency import BEFORE_REV, TARGET_RATIO, CliResult, format_cli, measure_cli
from bench.corpus import CORPUS, REPO, load_documents, source_files
from bench.digests import TARGET_SERVICE_PATH_S, format_digests, measure_digests
from bench.import_order import TARGET_ORDER_RATIO, OrderResult, format_orders, measure_orders
from bench.import_run import run_import
from bench.measure import QuerySpec, database_bytes, measure_queries, percentile
from bench.report import (
    MIB,
    MILLION,
    RARE_LABEL,
    TARGET_IMPORT_RATE,
    TARGET_RSS_MIB,
    SizeResult,
    Target,
    evaluate_targets,
    format_size,
    format_targets,
    size_label,
)
from bench.runtime import log, machine, save_json
from bench.service_load import TARGET_P95_MS, LoadResult, emulator_available, format_service, measure_service
from bench.synth import RARE_WORD, write_posts

PARTS = ("cli", "sizes", "order", "service", "digests", "relevance")

# What "latest" is timed with: a frequent word, the made-up rare word, one character, a long word,
# and two words (both must appear). Their hit counts are printed so "frequent" and "rare" are concrete.
QUERIES = (
    QuerySpec("frequent word", "金融"),
    QuerySpec(RARE_LABEL, RARE_WORD),
    QuerySpec("1 character", "株"),
    QuerySpec("4+ characters", "高质量发展"),
    QuerySpec("two words", "株洲 上市"),
)

# Disk needed per post before the first size has measured it (files, database), with room to spare.
_DEFAULT_FILE_BYTES = 4 * 1024
_DEFAULT_DB_BYTES = 16 * 1024
_DISK_MARGIN = 1.3


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark import and search on synthetic finews posts, beside a LIKE scan.",
    )
    parser.add_argument(
        "--sizes", default="10000,100000", help="comma-separated post counts (default 10000,100000)"
    )
    parser.add_argument(
        "--million", action="store_true", help="also run N = 1,000,000 (~4 GB of files, ~16 GB of database)"
    )
    parser.add_argument("--seed", type=int, default=20211208, help="synthesis seed (default 20211208)")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per index query (default 50)")
    parser.add_argument(
        "--scan-runs", type=int, default=10, help="max timed runs per scan query (default 10)"
    )
    parser.add_argument(
        "--scan-budget",
        type=float,
        default=5.0,
        help="seconds after which a scan stops at 3 runs (default 5)",
    )
    parser.add_argument(
        "--profile-posts", type=int, default=10_000, help="posts in the per-phase import profile; 0 = none"
    )
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated parts to run (default all: {','.join(PARTS)})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few minutes: --sizes 10000, --order-posts 20000, no import profile, no 'before' CLI code",
    )
    parser.add_argument("--cli-runs", type=int, default=9, help="interleaved CLI rounds (default 9)")
    parser.add_argument(
        "--before",
        default=BEFORE_REV,
        metavar="REV",
        help=f"the code before the speed work, timed beside the CLI's (default {BEFORE_REV}; '' for none)",
    )
    parser.add_argument(
        "--order-posts", type=int, default=100_000, help="posts per order in the order part (default 100000)"
    )
    parser.add_argument("--order-repeat", type=int, default=1, help="alternated rounds of the order imports")
    parser.add_argument(
        "--service-posts",
        type=int,
        default=10_000,
        help="posts the service imports under load (default 10000)",
    )
    parser.add_argument("--tmpdir", type=Path, default=None, help="where the temporary folders go")
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="also save the figures as JSON"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.order_posts, args.profile_posts, args.before = "10000", 20_000, 0, ""
    args.part_set = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = args.part_set - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))} (expected: {', '.join(PARTS)})")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.million and MILLION not in sizes:
        sizes.append(MILLION)
    args.size_list = sizes
    return args


def run_profile(db: Path, folder: Path, posts: int) -> dict[str, Any]:
    """The per-phase import profile of the first ``posts`` files (:mod:`bench.import_profile`),
    in a process of its own."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )
    command = [sys.executable, "-m", "bench.import_profile", str(db), str(folder), str(posts)]
    done = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True, check=True)
    profile: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return profile


def disk_shortfall(posts: int, where: Path, per_post: tuple[float, float]) -> str:
    """Why there is not enough disk for ``posts`` posts in ``where``, or "" when there is."""
    need = posts * (per_post[0] + per_post[1]) * _DISK_MARGIN
    free = shutil.disk_usage(where).free
    if free >= need:
        return ""
    return f"needs about {need / 1024**3:.1f} GiB in {where}, only {free / 1024**3:.1f} GiB free"


def run_size(posts: int, args: argparse.Namespace, documents: Sequence[Any], tmp_root: Path) -> SizeResult:
    """Synthesise, import, profile and query one size; the temporary folder is always removed."""
    result = SizeResult(posts)
    tmp = Path(tempfile.mkdtemp(prefix=f"finews-bench-{size_label(posts)}-", dir=tmp_root))
    try:
        folder, db = tmp / "posts", tmp / "finews.db"
        log(f"N={posts:,}: synthesising into {folder}")
        start = time.perf_counter()
        step = max(10_000, posts // 10)

        def progress(n: int) -> None:
            if n % step == 0:
                log(f"  synthesised {n:,}/{posts:,}")

        stats = write_posts(folder, posts, documents, seed=args.seed, progress=progress)
        result.synth_seconds = time.perf_counter() - start
        result.files_bytes, result.median_body_chars, result.rare_posts = (
            stats.bytes,
            stats.median_body_chars,
            stats.rare_posts,
        )

        log(f"N={posts:,}: finews-bot import {folder}")
        result.imported = run_import(db, folder)
        result.db_bytes = database_bytes(db)
        log(
            f"  {result.import_rate:,.0f} posts/s, peak RSS {result.peak_rss_mib:,.0f} MiB "
            f"(all processes {result.total_rss_mib:,.0f} MiB)"
        )

        if args.profile_posts > 0:
            sample = min(posts, args.profile_posts)
            log(f"N={posts:,}: profiling the import of {sample:,} posts")
            profile_db = tmp / "profile.db"
            result.profile = run_profile(profile_db, folder, sample)
            for leftover in tmp.glob("profile.db*"):
                leftover.unlink()

        log(f"N={posts:,}: timing queries")
        result.queries = measure_queries(
            db, QUERIES, runs=args.runs, scan_runs=args.scan_runs, scan_budget_s=args.scan_budget
        )
    finally:
        log(f"N={posts:,}: removing {tmp}")
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def header(documents: Sequence[Any], files: int, corpus_used: bool) -> str:
    """Where and with what the benchmark ran."""
    sentences = sum(len(d.sentences) for d in documents)
    source = f"seeds + {CORPUS}" if corpus_used else "seeds only (../shared/corpus/finews not found)"
    return (
        f"finews-bot benchmark · Python {platform.python_version()} · SQLite {sqlite3.sqlite_version} · "
        f"{os.cpu_count()} CPUs\n"
        f"sentences: {sentences:,} from {len(documents)} distinct documents ({files} files: {source})"
    )


def more_targets(
    cli: CliResult | None,
    order: OrderResult | None,
    service: LoadResult | None,
    digests: dict[str, Any] | None,
) -> list[Target]:
    """The targets of issue #15 beside the standing ones (printed, never asserted)."""
    targets = []
    if cli is not None:
        after = next(iter(cli.medians))
        ratios = {label: cli.ratio(after, label) for label in cli.medians[after]}
        worst = max(ratios, key=lambda label: ratios[label])
        text = ", ".join(f"{label.split()[0]} {ratio:.1f}×" for label, ratio in ratios.items())
        targets.append(
            Target(
                f"CLI ≤ {TARGET_RATIO:.0f}× the bare interpreter",
                f"{text} (bare {cli.bare_ms:.0f} ms)",
                "met" if ratios[worst] <= TARGET_RATIO else f"MISSED ({worst.split()[0]})",
            )
        )
    if order is not None:
        worst_ratio = min(order.ratio(r.order) for r in order.runs)
        slowest = min(r.rate for r in order.runs)
        memory = max(r.total_rss_mib for r in order.runs)
        label = size_label(order.posts)
        text = ", ".join(f"{r.order} {order.ratio(r.order):.2f}×" for r in order.runs[1:])
        targets.append(
            Target(
                f"out of order ≥ {TARGET_ORDER_RATIO}× in order",
                f"{label}: {text}",
                "met" if worst_ratio >= TARGET_ORDER_RATIO else "MISSED",
            )
        )
        rate_status = "met" if slowest >= TARGET_IMPORT_RATE else "MISSED"
        targets.append(
            Target(
                "≥ 2,000 posts/s whatever the order, at 100k",
                f"{label}: slowest {slowest:,.0f} posts/s",
                rate_status if order.posts >= 100_000 else f"not measured at 100k ({rate_status} at {label})",
            )
        )
        targets.append(
            Target(
                "import memory ≤ 300 MiB whatever the order",
                f"{label}: {memory:,.0f} MiB, all processes",
                "met" if memory <= TARGET_RSS_MIB else "MISSED",
            )
        )
    if service is not None:
        loaded = service.latencies(True)
        if loaded:
            p95 = percentile(loaded, 0.95)
            status = "met" if p95 <= TARGET_P95_MS else "MISSED"
            targets.append(Target("service reply p95 ≤ 300 ms under load", f"{p95:.0f} ms", status))
    if digests is not None:
        seconds = float(digests["service_path_s"])
        targets.append(
            Target(
                "digest 5k items × 50 topics × 200 subscriptions ≤ 2 s",
                f"{seconds:.2f} s (building the day's digest {float(digests['build_s']):.2f} s)",
                "met" if seconds <= TARGET_SERVICE_PATH_S else "MISSED",
            )
        )
    return targets


def main(argv: Sequence[str] | None = None) -> int:
    """Run every part, print the figures and the targets, optionally save them as JSON."""
    args = parse_args(argv)
    parts = args.part_set
    corpus_used = (CORPUS / "_posts").is_dir()
    files = source_files(CORPUS if corpus_used else None)
    documents = load_documents(files, exclude=RARE_WORD)
    tmp_root = args.tmpdir or Path(tempfile.gettempdir())
    per_post = (float(_DEFAULT_FILE_BYTES), float(_DEFAULT_DB_BYTES))
    print(header(documents, len(files), corpus_used), flush=True)
    print(f"run on {time.strftime('%Y-%m-%d %H:%M')}; parts: {', '.join(p for p in PARTS if p in parts)}")

    cli = None
    if "cli" in parts:
        cli = measure_cli(args.cli_runs, before=args.before or None)
        print("\n" + format_cli(cli), flush=True)

    results: list[SizeResult] = []
    for posts in args.size_list if "sizes" in parts else []:
        shortfall = disk_shortfall(posts, tmp_root, per_post)
        if shortfall:
            log(f"N={posts:,}: skipped, {shortfall}")
            result = SizeResult(posts, skipped=shortfall)
        else:
            result = run_size(posts, args, documents, tmp_root)
            # Later (larger) sizes are checked against what this one really used.
            per_post = (result.files_bytes / posts, result.db_bytes / posts)
        results.append(result)
        print("\n" + format_size(result), flush=True)

    order = None
    if "order" in parts:
        order = measure_orders(
            args.order_posts, documents, seed=args.seed, repeat=args.order_repeat, tmp_root=tmp_root
        )
        print("\n" + format_orders(order), flush=True)

    service = None
    if "service" in parts:
        why_not = emulator_available()
        if why_not:
            print(f"\nservice reply time: not measured ({why_not})", flush=True)
        else:
            service = measure_service(args.service_posts, documents, seed=7, tmp_root=tmp_root)
            print("\n" + format_service(service), flush=True)

    digests = None
    if "digests" in parts:
        digests = measure_digests()
        print("\n" + format_digests(digests), flush=True)

    targets = (evaluate_targets(results) if "sizes" in parts else []) + more_targets(
        cli, order, service, digests
    )
    print("\n" + format_targets(targets), flush=True)
    relevance_figures = None
    if "relevance" in parts:
        # Speed is half of what a digest promises; the other half is that it holds the right items.
        labelled = relevance.load_set()
        before, after = relevance.topics_of(relevance.BEFORE), relevance.topics_of(relevance.AFTER)
        second = relevance.load_second()
        print("\n" + relevance.report(before, after, labelled, second), flush=True)
        relevance_figures = relevance.figures(before, after, labelled, second)
        # And on what the bot meets, the whole items, where the archives are beside the checkout.
        whole = relevance.whole_set(labelled)
        if isinstance(whole, str):
            print(f"\n{whole} (whole-item figures left out)", flush=True)
        else:
            read_whole, heading, read_again = whole
            print("\n" + relevance.report(before, after, read_whole, read_again, heading=heading), flush=True)
            relevance_figures["whole_items"] = relevance.figures(before, after, read_whole, read_again)
    if args.json is not None:
        data = {
            "seed": args.seed,
            **machine(),
            "date": time.strftime("%Y-%m-%d"),
            "parts": sorted(parts),
            "corpus": str(CORPUS) if corpus_used else None,
            "documents": len(documents),
            "queries": [{"label": q.label, "query": q.query} for q in QUERIES],
            "cli": cli.to_json() if cli is not None else None,
            "sizes": [r.to_json() for r in results],
            "order": order.to_json() if order is not None else None,
            "service": service.to_json() if service is not None else None,
            "digests": digests,
            "targets": [{"name": t.name, "measured": t.measured, "status": t.status} for t in targets],
            "relevance": relevance_figures,
            "db_mib_note": f"1 MiB = {MIB} bytes",
        }
        save_json(args.json, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
