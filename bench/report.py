"""The benchmark's figures: per-size results, the printed tables, and the targets (never asserted)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.measure import QueryResult, ratio

MIB = 1024 * 1024
MILLION = 1_000_000

# The targets on the 2-core machine.
TARGET_IMPORT_RATE = 2000.0  # posts/s, at 100k
TARGET_RSS_MIB = 300.0  # import peak RSS
TARGET_LATEST_P95_MS = 10.0  # at 1M, every query
TARGET_COUNT_P95_MS = 50.0  # at 1M, every query
TARGET_RARE_SPEEDUP = 20.0  # at 1M, index vs scan for the rare word (latest and count)
RARE_LABEL = "rare word"


@dataclass(slots=True)
class SizeResult:
    """Everything measured for one corpus size (or why it was skipped)."""

    posts: int
    skipped: str = ""
    synth_seconds: float = 0.0
    files_bytes: int = 0
    median_body_chars: float = 0.0
    rare_posts: int = 0
    imported: dict[str, Any] = field(default_factory=dict)  # bench.import_run's figures
    db_bytes: int = 0
    profile: dict[str, Any] | None = None
    queries: list[QueryResult] = field(default_factory=list)

    @property
    def import_rate(self) -> float:
        """Posts per second of the whole ``finews-bot import`` command (start-up included)."""
        seconds = float(self.imported.get("seconds", 0.0))
        return self.posts / seconds if seconds else 0.0

    @property
    def peak_rss_mib(self) -> float:
        """The importing (writing) process' peak resident memory."""
        return float(self.imported.get("peak_rss_kib", 0)) / 1024

    @property
    def total_rss_mib(self) -> float:
        """The sum of the peaks of every process of the import (writer, workers, tracker)."""
        return float(self.imported.get("total_peak_kib", 0)) / 1024

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        return {
            "posts": self.posts,
            "skipped": self.skipped,
            "synth_seconds": self.synth_seconds,
            "files_bytes": self.files_bytes,
            "median_body_chars": self.median_body_chars,
            "rare_posts": self.rare_posts,
            "import": self.imported,
            "import_rate_posts_per_s": self.import_rate,
            "import_peak_rss_mib": self.peak_rss_mib,
            "import_total_peak_rss_mib": self.total_rss_mib,
            "db_bytes": self.db_bytes,
            "db_mib": self.db_bytes / MIB,
            "profile": self.profile,
            "queries": [q.to_json() for q in self.queries],
        }


@dataclass(frozen=True, slots=True)
class Target:
    """One target of the issue: what was measured, and whether it is met."""

    name: str
    measured: str
    status: str  # "met", "MISSED", or "not measured …"


# --- formatting -----------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, *, left: bool) -> str:
    gap = " " * max(0, width - _width(text))
    return text + gap if left else gap + text


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left_columns: int = 1) -> str:
    """A plain-text table: the first ``left_columns`` columns left-aligned, the rest right-aligned."""
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [_pad(c, w, left=i < left_columns) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ms(value: float) -> str:
    """Milliseconds, with precision where it matters."""
    if value < 10:
        return f"{value:.2f}"
    if value < 1000:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def times(value: float) -> str:
    """A speed-up factor."""
    return f"{value:,.0f}×" if value >= 100 else f"{value:.1f}×"


def size_label(posts: int) -> str:
    """10000 → 10k, 1000000 → 1M."""
    if posts % MILLION == 0:
        return f"{posts // MILLION}M"
    if posts % 1000 == 0:
        return f"{posts // 1000}k"
    return f"{posts:,}"


def _query_rows(result: SizeResult) -> list[list[str]]:
    rows = []
    for q in result.queries:
        hits = f"{q.hits_index:,} ({q.hits_index / result.posts:.2%})"
        if q.hits_scan != q.hits_index:
            hits += f" ≠ scan {q.hits_scan:,}"
        rows.append(
            [
                q.label,
                q.query,
                hits,
                ms(q.index_latest.p50),
                ms(q.index_latest.p95),
                ms(q.scan_latest.p50),
                ms(q.scan_latest.p95),
                times(ratio(q.scan_latest.p50, q.index_latest.p50)),
                ms(q.index_count.p50),
                ms(q.index_count.p95),
                ms(q.scan_count.p50),
                ms(q.scan_count.p95),
                times(ratio(q.scan_count.p50, q.index_count.p50)),
            ]
        )
    return rows


def format_size(result: SizeResult) -> str:
    """The block of figures for one size."""
    head = f"== N = {result.posts:,} posts =="
    if result.skipped:
        return f"{head}\nskipped: {result.skipped}"
    imp = result.imported
    others = ", ".join(f"{p['peak_kib'] / 1024:,.0f}" for p in imp["other_processes"])
    lines = [
        head,
        f"synthesis   {result.synth_seconds:.1f} s · files {result.files_bytes / MIB:,.1f} MiB · "
        f"body median {result.median_body_chars:,.0f} chars (300–3,000) · "
        f"rare word injected into {result.rare_posts:,} post{'s' if result.rare_posts != 1 else ''}",
        f"import      finews-bot import: {imp['seconds']:.1f} s · {result.import_rate:,.0f} posts/s · "
        f"{imp['new']:,} stored, {result.posts - imp['new']:,} skipped",
        f"memory      peak RSS: importing process {result.peak_rss_mib:,.1f} MiB; with "
        f"{len(imp['other_processes'])} more (parsing workers, resource tracker: "
        f"{others} MiB) "
        f"{result.total_rss_mib:,.1f} MiB in all (sum of each process' peak)",
        f"database    {result.db_bytes / MIB:,.1f} MiB (file + WAL after checkpoint) · "
        f"{result.db_bytes / result.posts / 1024:.1f} KiB per post",
    ]
    if result.profile:
        per = result.profile["per_post_us"]
        total = sum(per.values())
        parts = " · ".join(f"{name} {per[name]:,.0f} ({per[name] / total:.0%})" for name in per)
        lines.append(
            f"profile     first {result.profile['posts']:,} posts, one process, µs per post: {parts}"
            f" = {total:,.0f} µs ≈ {1e6 / total:,.0f} posts/s "
            f"(mean {result.profile['text_chars_mean']:,.0f} chars, "
            f"{result.profile['tokens_mean']:,.0f} tokens)"
        )
    if result.queries:
        header = [
            "query",
            "typed",
            "hits",
            "latest idx p50",
            "p95",
            "scan p50",
            "p95",
            "scan/idx",
            "count idx p50",
            "p95",
            "scan p50",
            "p95",
            "scan/idx",
        ]
        lines += ["", "latency in ms:", table(header, _query_rows(result), left_columns=2)]
        index_runs = {q.index_latest.runs for q in result.queries} | {
            q.index_count.runs for q in result.queries
        }
        scan_runs = {q.scan_latest.runs for q in result.queries} | {q.scan_count.runs for q in result.queries}
        lines.append(
            f"runs per cell: index {_span(index_runs)} (after 3 warm-ups), scan {_span(scan_runs)} (after 1)."
            " idx latest = Store.page(limit=10), the newest ten; idx count = Store.count_matches();"
            " `finews-bot latest` shows both, so its time is their sum."
        )
    return "\n".join(lines)


def _span(values: set[int]) -> str:
    return str(min(values)) if min(values) == max(values) else f"{min(values)}–{max(values)}"


# --- targets --------------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _at_million(results: Sequence[SizeResult]) -> tuple[SizeResult | None, SizeResult | None]:
    """The 1M result if there is one, and the largest measured result (to show where it stands)."""
    done = [r for r in results if not r.skipped and r.queries]
    million = next((r for r in done if r.posts == MILLION), None)
    largest = max(done, key=lambda r: r.posts) if done else None
    return million, largest


def _million_target(
    name: str, results: Sequence[SizeResult], measure: Callable[[SizeResult], tuple[str, bool]]
) -> Target:
    """A target set for 1M: judged at 1M if run, else shown at the largest size run."""
    million, largest = _at_million(results)
    if million is not None:
        text, ok = measure(million)
        return Target(name, f"1M: {text}", _met(ok))
    if largest is None:
        return Target(name, "-", "not measured")
    text, ok = measure(largest)
    return Target(
        name,
        f"{size_label(largest.posts)}: {text}",
        f"not measured at 1M ({_met(ok)} at {size_label(largest.posts)})",
    )


def _worst(result: SizeResult, attr: str) -> tuple[float, str]:
    worst = max(result.queries, key=lambda q: getattr(q, attr).p95)
    return getattr(worst, attr).p95, worst.query


def evaluate_targets(results: Sequence[SizeResult]) -> list[Target]:
    """Each target with the figure it is judged on (printed, never asserted)."""
    targets = []
    at_100k = next((r for r in results if r.posts == 100_000 and not r.skipped), None)
    if at_100k is None:
        targets.append(Target("import ≥ 2,000 posts/s at 100k", "-", "not measured"))
    else:
        rate = at_100k.import_rate
        targets.append(
            Target("import ≥ 2,000 posts/s at 100k", f"{rate:,.0f} posts/s", _met(rate >= TARGET_IMPORT_RATE))
        )

    done = [r for r in results if not r.skipped and r.imported]
    if done:
        rss = ", ".join(
            f"{size_label(r.posts)}: {r.total_rss_mib:,.0f} MiB (importing process {r.peak_rss_mib:,.0f})"
            for r in done
        )
        # Judged on every process of the import together, workers included.
        ok = all(r.total_rss_mib <= TARGET_RSS_MIB for r in done)
        largest = max(r.posts for r in done)
        status = _met(ok) if largest >= MILLION else f"{_met(ok)} up to {size_label(largest)}; 1M not run"
        targets.append(Target("import peak RSS ≤ 300 MiB", rss, status))
    else:
        targets.append(Target("import peak RSS ≤ 300 MiB", "-", "not measured"))

    def latest(r: SizeResult) -> tuple[str, bool]:
        value, query = _worst(r, "index_latest")
        return f"worst p95 {ms(value)} ms ({query})", value <= TARGET_LATEST_P95_MS

    def count(r: SizeResult) -> tuple[str, bool]:
        value, query = _worst(r, "index_count")
        return f"worst p95 {ms(value)} ms ({query})", value <= TARGET_COUNT_P95_MS

    def rare(r: SizeResult) -> tuple[str, bool]:
        q = next((q for q in r.queries if q.label == RARE_LABEL), None)
        if q is None:
            return "no rare-word query", False
        latest_x = ratio(q.scan_latest.p50, q.index_latest.p50)
        count_x = ratio(q.scan_count.p50, q.index_count.p50)
        text = f"latest {times(latest_x)}, count {times(count_x)} (p50 scan/index, {q.hits_index:,} hits)"
        return text, min(latest_x, count_x) >= TARGET_RARE_SPEEDUP

    targets.append(_million_target("latest-10 p95 ≤ 10 ms at 1M (every query)", results, latest))
    targets.append(_million_target("count p95 ≤ 50 ms at 1M (every query)", results, count))
    targets.append(_million_target("rare word ≥ 20× faster than scan at 1M", results, rare))
    return targets


def format_targets(targets: Sequence[Target]) -> str:
    """The targets as a table."""
    rows = [[t.name, t.measured, t.status] for t in targets]
    return "targets (printed, not asserted):\n" + table(
        ["target", "measured", "status"], rows, left_columns=3
    )
