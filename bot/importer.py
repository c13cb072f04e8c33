"""Importing files and folders into the store: read bytes, parse (pure), upsert in batches.

Each batch is one transaction, so a process killed mid-import leaves the database as it was after
the last whole batch; running the import again stores the rest (the rest is new, the first part
unchanged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.sources.errors import ParseError
from bot.sources.folder import scan_folder
from bot.sources.parse import parse_file
from bot.store import Store, UpsertOutcome

BATCH_SIZE = 500


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

    @property
    def files(self) -> int:
        """How many files were looked at."""
        return self.new + self.updated + self.unchanged + len(self.skipped)

    def add(self, outcome: str) -> None:
        """Count one stored item."""
        if outcome == UpsertOutcome.NEW:
            self.new += 1
        elif outcome == UpsertOutcome.UPDATED:
            self.updated += 1
        else:
            self.unchanged += 1


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """The files to import: each file given, and below each folder every supported file
    (recursively, in name order, hidden files and folders left out)."""
    for path in paths:
        if path.is_dir():
            yield from (Path(p) for p in sorted(scan_folder(path)))
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
) -> ImportReport:
    """Parse and store each file. A file that cannot be read or parsed is skipped with its reason.

    The counts are added to ``report`` when one is given (a poll's report), else to a new one.
    """
    report = report if report is not None else ImportReport()
    pending = iter(files)
    while True:
        batch = [p for _, p in zip(range(batch_size), pending, strict=False)]
        if not batch:
            return report
        with store.transaction():
            for path in batch:
                _import_one(store, path, via, report)
        if progress is not None:
            progress(len(batch))


def _import_one(store: Store, path: Path, via: str, report: ImportReport) -> None:
    try:
        data = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as error:
        report.skipped.append(SkippedFile(str(path), f"无法读取 (cannot read): {error.strerror}"))
        return
    try:
        item = parse_file(data, path=str(path), mtime=mtime)
    except ParseError as error:
        report.skipped.append(SkippedFile(str(path), error.reason))
        return
    report.add(store.upsert(item, via=via))
