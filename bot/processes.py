"""Worker processes that end with the process that started them.

A pool's worker waits for its next task on a pipe whose writing end it holds itself, so when the
process that started it is killed (SIGKILL, the out-of-memory killer) the worker never sees it go:
it would wait, holding its memory, for ever. Each worker of ours watches its parent's sentinel —
for a forkserver's worker, the sentinel of the process that asked for it — and ends as soon as
that parent is gone. Imports nothing of the project: any floor that starts workers may use it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from multiprocessing.process import BaseProcess


def end_with_parent() -> None:
    """In a worker process (a pool's ``initializer``): end it as soon as its parent is gone."""
    parent = multiprocessing.parent_process()
    if parent is None:  # not started by multiprocessing: nothing to watch
        return
    threading.Thread(target=_exit_after, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_after(parent: BaseProcess) -> None:
    parent.join()  # returns when the parent's end of the sentinel pipe closes, i.e. when it died
    # Whatever the worker was doing was for the parent, which can no longer take it.
    os._exit(1)
