"""Importing files and folders into the store: read bytes, parse (pure), upsert in batches.

Each batch is one transaction, so a process killed mid-import leaves the database as it was after
the last whole batch; running the import again stores the rest (the rest is new, the first part
unchanged).

Large imports parse and tokenise in worker processes while this process writes to SQLite: on two
cores the two halves of the work overlap. A bounded number of chunks is in flight, so memory stays
flat however many files there are.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path
from typing import NamedTuple

from bot.models import Item
from bot.sources.errors import ParseError
from bot.sources.folder import count_supported, walk_supported
from bot.sources.parse import parse_file
from bot.store import Store, UpsertOutcome
from bot.textindex import IndexEntry, index_entry

BATCH_SIZE = 2000  # files per transaction
# Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 1000
_CHUNK = 250  # files per task sent to a worker


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file that was not stored, and why."""

    path: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    """What an import did."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)

    def add(self, outcome: str) -> None:
        """Count one stored item."""
        if outcome == UpsertOutcome.NEW:
            self.new += 1
        elif outcome == UpsertOutcome.UPDATED:
            self.updated += 1
        else:
            self.unchanged += 1


def count_files(paths: Iterable[Path]) -> int:
    """How many files :func:`discover` yields for ``paths``, cheaply (for progress bars)."""
    return sum(count_supported(p) if p.is_dir() else 1 for p in paths)


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """The files to import: each file given, and below each folder every supported file
    (recursively, in name order, hidden files and folders left out). Lazy: a folder of a million
    posts is walked as it is imported, not listed first."""
    for path in paths:
        if path.is_dir():
            yield from walk_supported(path)
        else:
            yield path


class ParsedFile(NamedTuple):
    """One file after reading and parsing: an item with its index entry and content hash (all
    computed in the parsing process), or why it was skipped. A named tuple: it pickles cheaply."""

    path: str
    item: Item | None = None
    entry: IndexEntry | None = None
    content_hash: str = ""
    reason: str = ""


def parse_path(path: str) -> ParsedFile:
    """Read and parse one file (runs in a worker process for large imports)."""
    try:
        data = Path(path).read_bytes()
        mtime = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    except OSError as error:
        return ParsedFile(path, reason=f"无法读取 (cannot read): {error.strerror}")
    try:
        item = parse_file(data, path=path, mtime=mtime)
    except ParseError as error:
        return ParsedFile(path, reason=error.reason)
    return ParsedFile(path, item, index_entry(item.title, item.text), item.content_hash)


def _parse_chunk(paths: Sequence[str]) -> list[ParsedFile]:
    return [parse_path(p) for p in paths]


def default_workers() -> int:
    """Worker processes for a large import: one per core. Parsing costs more per post than
    writing, so the writing process shares a core with them rather than leaving one idle
    (measured on 2 cores: 1 worker ~1,600 posts/s, 2 workers more)."""
    return max(1, os.cpu_count() or 1)


def _parsed_in_workers(paths: Iterator[str], workers: int) -> Iterator[ParsedFile]:
    # "spawn": safe in a process that also runs threads (the service), unlike fork.
    context = multiprocessing.get_context("spawn")
    chunks = iter(lambda: list(islice(paths, _CHUNK)), [])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[list[ParsedFile]]] = deque()
        # A few chunks per worker: enough that no worker idles while this process writes (two per
        # worker measured 10 % slower at 1M posts), few enough to keep memory flat.
        for chunk in islice(chunks, 2 * workers + 2):
            pending.append(pool.submit(_parse_chunk, chunk))
        while pending:
            results = pending.popleft().result()
            next_chunk = next(chunks, None)
            if next_chunk is not None:
                pending.append(pool.submit(_parse_chunk, next_chunk))
            yield from results


def import_files(
    store: Store,
    files: Iterable[Path],
    *,
    via: str = "",
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    report: ImportReport | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Parse and store each file. A file that cannot be read or parsed is skipped with its reason.

    The counts are added to ``report`` when one is given (a poll's report), else to a new one.
    ``workers``: parsing processes (default: :func:`default_workers` for imports of at least
    PARALLEL_THRESHOLD files; 0 parses in this process).
    """
    report = report if report is not None else ImportReport()
    paths = map(str, files)
    first = list(islice(paths, PARALLEL_THRESHOLD))  # enough to tell a large import from a small one
    if workers is None:
        workers = default_workers() if len(first) >= PARALLEL_THRESHOLD else 0
    everything = chain(first, paths)
    parsed = _parsed_in_workers(everything, workers) if workers > 0 else map(parse_path, everything)
    while batch := list(islice(parsed, batch_size)):
        with store.transaction():
            for result in batch:
                if result.item is None:
                    report.skipped.append(SkippedFile(result.path, result.reason))
                else:
                    report.add(
                        store.upsert(
                            result.item, via=via, entry=result.entry, content_hash=result.content_hash
                        )
                    )
        if progress is not None:
            progress(len(batch))
    return report
