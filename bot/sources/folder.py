"""Folders of posts and documents: which files there are, and which changed since the last poll.

A file is re-read only when its size or modification time changed. A file caught half-written (its
front matter not yet closed) is skipped now and read again once the writer has changed it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.domain.records import SeenFile
from bot.sources.name_order import in_name_order
from bot.sources.parse import is_supported


def _entries(folder: Path) -> Iterator[tuple[str, bool]]:
    """Each entry of ``folder`` that is not hidden, as (name, whether it is a subfolder), in no
    particular order. As :func:`os.walk`: a folder that cannot be read is left out, and a link to a
    folder is left out too (a link may lead back up the tree)."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if not entry.is_dir():
                    yield entry.name, False
                elif not entry.is_symlink():
                    yield entry.name, True
    except OSError:
        return


def walk_supported(root: Path) -> Iterator[Path]:
    """Every supported file below ``root``, lazily: a folder's files in name order, then its
    subfolders in name order; hidden ones left out. Name order is publication order for finews
    posts (their names start with the date), which keeps the index's inserts in rowid order, its
    fast path. A folder of a million posts is sorted with bounded memory (:mod:`name_order`)."""
    subfolders: list[str] = []

    def supported_files() -> Iterator[str]:
        for name, is_folder in _entries(root):
            if is_folder:
                subfolders.append(name)
            elif is_supported(name):
                yield name

    for name in in_name_order(supported_files()):
        yield root / name
    for name in sorted(subfolders):
        yield from walk_supported(root / name)


def count_supported(root: Path) -> int:
    """How many files :func:`walk_supported` yields, without keeping or sorting their names (for
    a progress bar's total)."""
    count = 0
    for name, is_folder in _entries(root):
        if is_folder:
            count += count_supported(root / name)
        elif is_supported(name):
            count += 1
    return count


def scan_folder(root: Path) -> dict[str, SeenFile]:
    """Every supported file below ``root`` (recursively; hidden files and folders left out), by path."""
    found: dict[str, SeenFile] = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        for name in names:
            if not is_supported(name):
                continue
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:
                continue  # removed between listing and stat: it will not be there next time either
            found[path] = SeenFile(path, stat.st_size, stat.st_mtime_ns)
    return found


@dataclass(frozen=True, slots=True)
class FolderChanges:
    """What a poll must read and forget."""

    changed: list[SeenFile]  # new or modified, in path order
    gone: list[str]


def folder_changes(current: Mapping[str, SeenFile], seen: Mapping[str, SeenFile]) -> FolderChanges:
    """Compare a fresh scan with what was read before."""
    changed = [f for path, f in sorted(current.items()) if seen.get(path) != f]
    gone = sorted(path for path in seen if path not in current)
    return FolderChanges(changed, gone)
