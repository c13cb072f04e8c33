"""What every benchmark entry point needs: progress lines, this process' memory, saving figures."""

from __future__ import annotations

import json
import os
import platform
import resource
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any


def log(message: str) -> None:
    """Progress, with a timestamp, on stderr (stdout is kept for the figures)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _status_kib(field: str) -> int | None:
    """A memory field of /proc/self/status in KiB, or None where there is no /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_kib() -> int:
    """This process' peak resident set size in KiB (VmHWM; ru_maxrss where /proc is missing).

    Not ru_maxrss first: on Linux it carries over from the parent across exec, so a child
    started by a large parent would report the parent's peak.
    """
    peak = _status_kib("VmHWM")
    return peak if peak is not None else int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def rss_kib() -> int:
    """This process' current resident set size in KiB (0 where there is no /proc)."""
    return _status_kib("VmRSS") or 0


def machine() -> dict[str, Any]:
    """What the figures were measured with, for the JSON figures."""
    return {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count()}


def save_json(path: Path, data: dict[str, Any]) -> None:
    """Write the figures as readable JSON (creating the folder) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    log(f"figures saved to {path}")
