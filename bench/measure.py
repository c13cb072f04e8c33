"""Timing the product's search beside a LIKE scan of the same database, and the database's size.

The index side goes through the product's public API only (``Store.search``). The scan side is the
**baseline**, and its SQL lives here, not in the product: what one would write without an index.
"""

from __future__ import annotations

import math
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.domain.textindex import compile_query
from bot.store import Store

# The baseline: the same columns as the store returns, found by a substring scan, newest first.
_BASELINE_COLUMNS = (
    "seq, id, kind, source, source_name, origin, via, title, published, url, text, first_seen, path"
)
BASELINE_LATEST_SQL = "SELECT {columns} FROM items WHERE {where} ORDER BY seq DESC LIMIT 10"
BASELINE_COUNT_SQL = "SELECT count(*) FROM items WHERE {where}"
# One word must be in the title or the text (the fields the index covers); words are ANDed.
_BASELINE_WORD = "(title LIKE ? ESCAPE '\\' OR text LIKE ? ESCAPE '\\')"


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """A benchmark query: what kind of query it stands for, and what the user types."""

    label: str
    query: str


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles of one timed operation, in milliseconds, and how many runs they come from."""

    p50: float
    p95: float
    runs: int


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One query's hit counts (index and scan must agree) and its four latencies."""

    label: str
    query: str
    hits_index: int
    hits_scan: int
    index_latest: Latency
    scan_latest: Latency
    index_count: Latency
    scan_count: Latency

    def to_json(self) -> dict[str, Any]:
        """A plain dict, ratios included."""
        data = asdict(self)
        data["ratio_latest_p50"] = ratio(self.scan_latest.p50, self.index_latest.p50)
        data["ratio_count_p50"] = ratio(self.scan_count.p50, self.index_count.p50)
        return data


def ratio(scan_ms: float, index_ms: float) -> float:
    """How many times faster the index is than the scan."""
    return scan_ms / index_ms if index_ms > 0 else math.inf


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least ``fraction`` of them at or below."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class Plan:
    """How often to run a timed operation: untimed warm-up runs, then timed ones.

    Slow operations (the scans at 1M) stop after ``min_runs`` once ``budget_s`` seconds are spent,
    so that a large run stays practical; the number of runs is reported with the percentiles.
    """

    warmup: int
    runs: int
    min_runs: int
    budget_s: float = math.inf


def time_calls(call: Callable[[], object], plan: Plan) -> Latency:
    """Run ``call`` as ``plan`` says; the percentiles of the timed runs."""
    for _ in range(plan.warmup):
        call()
    samples: list[float] = []
    spent = 0.0
    while len(samples) < plan.runs and (len(samples) < plan.min_runs or spent < plan.budget_s):
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        spent += elapsed
        samples.append(elapsed * 1000)
    return Latency(percentile(samples, 0.50), percentile(samples, 0.95), len(samples))


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def baseline_sql(query: str) -> tuple[str, str, list[str]]:
    """The baseline's latest-10 and count statements for ``query`` (words ANDed), and parameters."""
    words = query.split()
    where = " AND ".join(_BASELINE_WORD for _ in words)
    params = [p for w in words for p in (_like_pattern(w), _like_pattern(w))]
    latest = BASELINE_LATEST_SQL.format(columns=_BASELINE_COLUMNS, where=where)
    return latest, BASELINE_COUNT_SQL.format(where=where), params


def measure_queries(
    db: Path,
    specs: Sequence[QuerySpec],
    *,
    runs: int,
    scan_runs: int,
    scan_budget_s: float,
) -> list[QueryResult]:
    """Time each query four ways: index latest-10, index count, scan latest-10, scan count."""
    results = []
    # The scan gets its own read-only connection, so it cannot be helped (or hurt) by the store's.
    scan = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
    with Store(db) as store:
        for spec in specs:
            print(f"  query {spec.label}: {spec.query}", file=sys.stderr, flush=True)
            latest_sql, count_sql, params = baseline_sql(spec.query)

            # The product's latest-10: compile what the user typed, the newest 10 (Store.page).
            def index_latest(q: str = spec.query) -> object:
                return store.page([compile_query(q)], limit=10)

            # The product's count of all matches (Store.count_matches). `finews-bot latest` shows
            # both: its time is the sum of the two columns.
            def index_count(q: str = spec.query) -> object:
                return store.count_matches([compile_query(q)])

            def scan_latest(sql: str = latest_sql, p: list[str] = params) -> object:
                return scan.execute(sql, p).fetchall()

            def scan_count(sql: str = count_sql, p: list[str] = params) -> object:
                return scan.execute(sql, p).fetchone()[0]

            hits_index = store.count_matches([compile_query(spec.query)])
            (hits_scan,) = scan.execute(count_sql, params).fetchone()
            fast = Plan(warmup=3, runs=runs, min_runs=runs)
            slow = Plan(warmup=1, runs=scan_runs, min_runs=min(3, scan_runs), budget_s=scan_budget_s)
            results.append(
                QueryResult(
                    spec.label,
                    spec.query,
                    hits_index,
                    int(hits_scan),
                    index_latest=time_calls(index_latest, fast),
                    scan_latest=time_calls(scan_latest, slow),
                    index_count=time_calls(index_count, fast),
                    scan_count=time_calls(scan_count, slow),
                )
            )
    scan.close()
    return results


def database_bytes(db: Path) -> int:
    """The database's size on disk: the file plus its WAL, after a checkpoint folds the WAL in."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    wal = db.with_name(db.name + "-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
