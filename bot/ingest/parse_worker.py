"""Reading and parsing files for an import: in this process, or in worker processes for large ones.

Parsing and tokenising cost more per post than writing to SQLite, so a large import parses in
worker processes while the importing process writes (:mod:`bot.ingest.importer`); on two cores the two
halves overlap. This module is all a worker loads: it imports nothing of the store, the CLI or the
bot, which keeps each worker at about 40 MiB. A worker ends with the importing process, even one
that was killed (:mod:`bot.processes`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import NamedTuple

from bot.domain.models import Item
from bot.domain.textindex import IndexEntry, index_entry
from bot.processes import end_with_parent
from bot.sources.errors import ParseError
from bot.sources.parse import parse_file

CHUNK = 250  # files per task sent to a worker
# Chunks handed out ahead of the writer. The writer pauses for a second now and then (a commit
# that merges index segments); with fewer chunks ahead the workers ran dry in those pauses (6
# ahead: 1,935 posts/s; 12: 2,100), with more, memory grows (about 10 KB per parsed post held).
CHUNKS_AHEAD = 12
# The writer is the narrowest stage of the pipeline: at a lower priority, the workers take the
# cores it leaves instead of taking turns with it (measured on 2 cores: 2,100 → 2,320 posts/s).
WORKER_NICENESS = 5


class ParsedFile(NamedTuple):
    """One file after reading and parsing: an item with its index entry and content hash (all
    computed in the parsing process), or why it was skipped. A named tuple: it pickles cheaply."""

    path: str
    item: Item | None = None
    entry: IndexEntry | None = None
    content_hash: str = ""
    reason: str = ""


def parse_path(path: str) -> ParsedFile:
    """Read and parse one file."""
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


def _start_worker() -> None:
    if hasattr(os, "nice"):  # not on Windows, where the workers keep the normal priority
        os.nice(WORKER_NICENESS)
    end_with_parent()  # a killed import leaves no worker behind


def default_workers() -> int:
    """Worker processes for a large import: one per core. Parsing costs more per post than
    writing, so the writing process shares a core with them rather than leaving one idle."""
    return max(1, os.cpu_count() or 1)


def parsed_in_workers(paths: Iterator[str], workers: int) -> Iterator[ParsedFile]:
    """Each path parsed, in order, by ``workers`` processes; at most :data:`CHUNKS_AHEAD` chunks
    in flight, so memory stays flat however many files there are."""
    # "spawn": safe in a process that also runs threads (the service), unlike fork.
    context = multiprocessing.get_context("spawn")
    chunks = iter(lambda: list(islice(paths, CHUNK)), [])
    with ProcessPoolExecutor(workers, context, initializer=_start_worker) as pool:
        pending: deque[Future[list[ParsedFile]]] = deque(
            pool.submit(_parse_chunk, chunk) for chunk in islice(chunks, CHUNKS_AHEAD)
        )
        while pending:
            results = pending.popleft().result()
            next_chunk = next(chunks, None)
            if next_chunk is not None:
                pending.append(pool.submit(_parse_chunk, next_chunk))
            yield from results
