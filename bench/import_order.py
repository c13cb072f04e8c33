"""Import rate by arrival order: ``python -m bench.import_order [--posts 20000] [--repeat 1]``.

The same N synthetic posts are written three times (:data:`bench.synth.ORDERS`): named in
publication order; named as a real finews folder is, one post in five a little late (the corpus
sample's inversion rate); and shuffled within each day. Each folder is imported by the real
``finews-bot import`` into a new database (:mod:`bench.import_run`: the whole command timed, every
process' memory watched); with ``--repeat``, the three imports alternate, round after round, and
each order's rate is the median of its rounds. Printed: the rates, each order's ratio to the
publication order, the inversion rate of each folder and the peak memory. Target (issue #15):
out of order ≥ 0.8× in order, ≥ 2,000 posts/s at 100k, ≤ 300 MiB for all processes together.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.corpus import CORPUS, load_documents, source_files
from bench.import_run import run_import
from bench.report import MIB, TARGET_IMPORT_RATE, TARGET_RSS_MIB, size_label, table
from bench.runtime import log, save_json
from bench.synth import ORDERED, ORDERS, RARE_WORD, SynthStats, write_posts

TARGET_ORDER_RATIO = 0.8


@dataclass(slots=True)
class OrderRun:
    """The imports of one folder: its synthesis and each round's figures (bench.import_run's)."""

    order: str
    synth: SynthStats
    rounds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Posts per second of the whole command, median of the rounds."""
        return float(statistics.median(self.synth.posts / float(r["seconds"]) for r in self.rounds))

    @property
    def total_rss_mib(self) -> float:
        """The highest sum of every process' peak over the rounds."""
        return max(float(r["total_peak_kib"]) for r in self.rounds) / 1024

    @property
    def writer_rss_mib(self) -> float:
        """The importing process' highest peak over the rounds."""
        return max(float(r["peak_rss_kib"]) for r in self.rounds) / 1024

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        return {
            "order": self.order,
            "posts": self.synth.posts,
            "inversions": self.synth.inversions,
            "inversion_rate": self.synth.inversion_rate,
            "rate_posts_per_s": self.rate,
            "total_peak_rss_mib": self.total_rss_mib,
            "importer_peak_rss_mib": self.writer_rss_mib,
            "rounds": self.rounds,
        }


@dataclass(slots=True)
class OrderResult:
    """Every order's imports of the same posts."""

    posts: int
    runs: list[OrderRun]

    def run(self, order: str) -> OrderRun:
        """The figures of one order."""
        return next(r for r in self.runs if r.order == order)

    def ratio(self, order: str) -> float:
        """An order's rate over the publication order's."""
        return self.run(order).rate / self.run(ORDERED).rate

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        return {
            "posts": self.posts,
            "orders": [r.to_json() for r in self.runs],
            "ratios": {r.order: self.ratio(r.order) for r in self.runs},
        }


def measure_orders(
    posts: int,
    documents: Sequence[Any],
    *,
    seed: int,
    repeat: int = 1,
    tmp_root: Path | None = None,
    orders: Sequence[str] = ORDERS,
) -> OrderResult:
    """Write the posts in each order, then import them, the orders alternating round after round."""
    tmp = Path(tempfile.mkdtemp(prefix=f"finews-bench-order-{size_label(posts)}-", dir=tmp_root))
    try:
        runs = []
        for order in orders:
            log(f"order {order}: synthesising {posts:,} posts")
            stats = write_posts(tmp / order, posts, documents, seed=seed, order=order)
            log(f"  {stats.inversions:,} posts older than the one before ({stats.inversion_rate:.1%})")
            runs.append(OrderRun(order, stats))
        for round_number in range(repeat):
            for run in runs:
                db = tmp / f"{run.order}.db"
                log(f"round {round_number + 1}/{repeat}: finews-bot import ({run.order})")
                figures = run_import(db, tmp / run.order)
                run.rounds.append(figures)
                log(
                    f"  {posts / figures['seconds']:,.0f} posts/s, "
                    f"all processes {figures['total_peak_kib'] / 1024:,.0f} MiB"
                )
                for leftover in tmp.glob(f"{run.order}.db*"):
                    leftover.unlink()
        return OrderResult(posts, runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def format_orders(result: OrderResult) -> str:
    """The table of rates, ratios and memory, and the targets."""
    rows = []
    for run in result.runs:
        rows.append(
            [
                run.order,
                f"{run.synth.inversion_rate:.1%}",
                f"{run.rate:,.0f}",
                f"{result.ratio(run.order):.2f}×",
                f"{run.total_rss_mib:,.0f} ({run.writer_rss_mib:,.0f})",
            ]
        )
    rounds = len(result.runs[0].rounds)
    worst = min(result.ratio(r.order) for r in result.runs)
    slowest = min(r.rate for r in result.runs)
    memory = max(r.total_rss_mib for r in result.runs)
    at_100k = result.posts >= 100_000
    memory_status = "met" if memory <= TARGET_RSS_MIB else "MISSED"
    lines = [
        f"import by arrival order, N = {result.posts:,} (the same posts; finews-bot import, "
        f"{'median of ' + str(rounds) + ' alternated rounds' if rounds > 1 else 'one round each'}):",
        table(
            [
                "order of the file names",
                "older than previous",
                "posts/s",
                "vs ordered",
                "peak MiB all (importer)",
            ],
            rows,
            left_columns=1,
        ),
        f"  out of order ≥ {TARGET_ORDER_RATIO}× in order: worst {worst:.2f}× "
        f"{'met' if worst >= TARGET_ORDER_RATIO else 'MISSED'}; "
        f"≥ {TARGET_IMPORT_RATE:,.0f} posts/s whatever the order: slowest {slowest:,.0f} "
        + (("met" if slowest >= TARGET_IMPORT_RATE else "MISSED") if at_100k else "(the target is at 100k)")
        + f"; memory ≤ {TARGET_RSS_MIB:.0f} MiB: {memory:,.0f} {memory_status}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; optionally save the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_order", description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=20_000, help="posts per folder (default 20000)")
    parser.add_argument("--repeat", type=int, default=1, help="alternated rounds of the imports (default 1)")
    parser.add_argument("--seed", type=int, default=20211208)
    parser.add_argument(
        "--orders", default=",".join(ORDERS), help=f"comma-separated (default {','.join(ORDERS)})"
    )
    parser.add_argument("--tmpdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, metavar="PATH")
    args = parser.parse_args(argv)
    orders = [o for o in args.orders.split(",") if o]
    if ORDERED not in orders:
        orders.insert(0, ORDERED)
    files = source_files(CORPUS if (CORPUS / "_posts").is_dir() else None)
    documents = load_documents(files, exclude=RARE_WORD)
    result = measure_orders(
        args.posts, documents, seed=args.seed, repeat=args.repeat, tmp_root=args.tmpdir, orders=orders
    )
    print(format_orders(result), flush=True)
    if args.json is not None:
        save_json(args.json, {**result.to_json(), "mib": MIB})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
