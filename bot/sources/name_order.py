"""File names in sorted order without holding them all: an external merge sort.

A folder may hold a million posts (a finews checkout kept for years, or the benchmark's), and
importing them in name order is importing them in publication order, the search index's fast path.
A million names as Python strings take about 110 MB, more than half of what the rest of an import
holds. So past :data:`RUN_LENGTH` names, each sorted run of names goes to an anonymous temporary
file, and the runs are merged as they are read back.
"""

from __future__ import annotations

import heapq
import os
import tempfile
from collections.abc import Generator, Iterable, Iterator
from contextlib import ExitStack
from typing import BinaryIO

# Names held as objects at once: ~5 MB. A million names make 20 runs, each read back in blocks.
RUN_LENGTH = 50_000
_BLOCK = 64 * 1024
# Separates names in a run file: the one byte no file name can contain.
_END = b"\0"


def _spill(run: list[str], file: BinaryIO) -> BinaryIO:
    """Write a sorted run to ``file``."""
    file.write(_END.join(map(os.fsencode, run)) + _END)
    return file


def _read_back(file: BinaryIO) -> Iterator[str]:
    """The names of a run file, in order, a block at a time."""
    file.seek(0)
    rest = b""
    while block := file.read(_BLOCK):
        *names, rest = (rest + block).split(_END)
        yield from map(os.fsdecode, names)


def in_name_order(names: Iterable[str], *, run_length: int = RUN_LENGTH) -> Generator[str]:
    """``names`` sorted as strings, holding at most ``run_length`` of them in memory.

    Lazy: the names are all read (a sort needs the last one before it can give the first), then
    given one at a time. The temporary files (anonymous: removed when closed) are closed when the
    iterator is exhausted or closed.
    """
    with ExitStack() as files:
        runs: list[BinaryIO] = []
        run: list[str] = []
        for name in names:
            run.append(name)
            if len(run) >= run_length:
                run.sort()
                runs.append(_spill(run, files.enter_context(tempfile.TemporaryFile())))
                run = []
        run.sort()
        yield from heapq.merge(run, *map(_read_back, runs)) if runs else run
