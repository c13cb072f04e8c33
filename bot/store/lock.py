"""One service per database: an exclusive lock file beside it, held while the service runs.

``flock`` locks vanish with the process that held them, so a service killed with -9 never leaves
a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class AlreadyRunning(Exception):
    """Another service holds the database; ``pid`` is its process id when known."""

    def __init__(self, lock_path: Path, pid: str) -> None:
        super().__init__(lock_path, pid)
        self.lock_path = lock_path
        self.pid = pid


class ServiceLock:
    """Held from :meth:`acquire` until :meth:`release` (or the end of the process)."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise AlreadyRunning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip()
            handle.close()
            raise AlreadyRunning(self.path, pid) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Give the lock up."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
