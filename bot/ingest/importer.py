"""Importing files and folders into the store: read bytes, parse (pure), upsert in batches.

Each batch is one transaction, so a process killed mid-import leaves the database as it was after
the last whole batch; running the import again stores the rest (the rest is new, the first part
unchanged).

Large imports parse and tokenise in worker processes while this process writes to SQLite
(:mod:`bot.ingest.parse_worker`). Folders are walked as they are imported (:func:`discover`), so memory
stays flat however many files there are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path

from bot.ingest.parse_worker import ParsedFile, default_workers, parse_path, parsed_in_workers
from bot.sources.folder import count_supported, walk_supported
from bot.store import Store, UpsertOutcome

BATCH_SIZE = 2000  # files per transaction (1,000 held 10 MB less but imported 6 % slower)
# Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 1000


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


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def publication_order(result: ParsedFile) -> datetime:
    """A batch is stored in publication order: an item's index rowid follows its publication
    time, and FTS5 flushes its pending terms at every rowid lower than the one before. Folders and
    feeds deliver posts out of order (one in five in a real finews checkout); sorted, a batch is
    written as one run (a skipped file sorts first; its place does not matter)."""
    return result.item.published if result.item is not None else _EARLIEST


def count_files(paths: Iterable[Path]) -> int:
    """How many files :func:`discover` yields for ``paths``, cheaply (for progress bars)."""
    return sum(count_supported(p) if p.is_dir() else 1 for p in paths)


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """The files to import: each file given, and below each folder every supported file
    (recursively, in name order, hidden files and folders left out). Lazy, and with bounded
    memory: the names of a folder of a million posts are sorted in runs on disk, not held."""
    for path in paths:
        if path.is_dir():
            yield from walk_supported(path)
        else:
            yield path


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
    parsed = parsed_in_workers(everything, workers) if workers > 0 else map(parse_path, everything)
    while batch := list(islice(parsed, batch_size)):
        batch.sort(key=publication_order)
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
