"""Folders of posts and documents: which files there are, and which changed since the last poll.

A file is re-read only when its size or modification time changed. A file caught half-written (its
front matter not yet closed) is skipped now and read again once the writer has changed it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.models import SeenFile
from bot.sources.parse import is_supported


def walk_supported(root: Path) -> Iterator[Path]:
    """Every supported file below ``root``, lazily, in name order within each folder; hidden ones
    left out. Name order is publication order for finews posts (their names start with the date),
    which keeps the index's inserts in rowid order, its fast path."""
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        subfolders.sort()
        names.sort()  # in place: a folder may hold a million posts
        for name in names:
            if is_supported(name):
                yield Path(folder, name)


def count_supported(root: Path) -> int:
    """How many files :func:`walk_supported` yields, without keeping their names (for a progress
    bar's total: listing a million names only to count them would cost ~100 MB)."""
    count = 0
    pending = [root]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=True):
                    pending.append(Path(entry.path))
                elif is_supported(entry.name):
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
