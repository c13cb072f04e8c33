"""Which processes a test's subprocess started, and whether they are gone (read from /proc)."""

from __future__ import annotations

import time
from pathlib import Path

from bench.import_run import process_tree


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead and not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def descendants(root: int) -> list[int]:
    """Every live process descended from ``root`` (not ``root`` itself)."""
    return [pid for pid in process_tree(root)[1:] if alive(pid)]


def still_alive_after(pids: list[int], seconds: float) -> list[int]:
    """Those of ``pids`` still running after waiting up to ``seconds`` for them all to end."""
    deadline = time.monotonic() + seconds
    left = [pid for pid in pids if alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [pid for pid in left if alive(pid)]
    return left
