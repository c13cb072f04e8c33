"""The measured import: ``finews-bot import FOLDER`` run as a user runs it, its memory watched.

The command runs in a process of its own, with the embedded default configuration and the
database at ``FINEWS_DB``. Its wall time is the whole command's (start-up, the count for the
progress bar, the import). While it runs, every process of its tree (the writing process, its
parsing workers, multiprocessing's resource tracker) is sampled from ``/proc``; each one's peak
is its own high-water mark (``VmHWM``), and the import's total is the sum of those peaks: an upper
bound, since the peaks need not coincide. Linux only, as is the rest of the benchmark's memory
reporting.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.corpus import REPO

_SAMPLE_SECONDS = 0.2


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # gone between listing and reading
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it (read from /proc), ``root`` first."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            ppid = _status(int(entry)).get("PPid", "").strip()
            if ppid.isdigit():
                parents.setdefault(int(ppid), []).append(int(entry))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending += parents.get(pid, [])
    return found


def _kib(value: str) -> int:
    return int(value.split()[0]) if value else 0


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


@dataclass(slots=True)
class TreeWatch:
    """The peak memory of each process seen in a process tree."""

    root: int
    peaks_kib: dict[int, int] = field(default_factory=dict)
    commands: dict[int, str] = field(default_factory=dict)

    def sample(self) -> None:
        """Record each live process' high-water mark."""
        for pid in process_tree(self.root):
            peak = _kib(_status(pid).get("VmHWM", ""))
            if peak:
                self.peaks_kib[pid] = max(peak, self.peaks_kib.get(pid, 0))
                self.commands.setdefault(pid, _command_line(pid))


def finews_bot_command() -> list[str]:
    """How to run ``finews-bot``: the installed script beside this Python, else ``-m bot``."""
    script = Path(sys.executable).with_name("finews-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def run_import(db: Path, folder: Path) -> dict[str, Any]:
    """Run ``finews-bot import folder`` into ``db``; its figures."""
    env = dict(os.environ, FINEWS_DB=str(db))
    env.pop("FINEWS_CONFIG", None)  # the embedded default, as for a new user
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    # Run from an empty folder, so that no ./config.toml is picked up.
    with tempfile.TemporaryDirectory() as cwd:
        start = time.perf_counter()
        # Its summary and progress go to the benchmark's stderr, with the benchmark's own progress
        # (stdout is kept for the figures).
        command = [*finews_bot_command(), "import", str(folder)]
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sys.stderr)
        watch = TreeWatch(process.pid)
        stop = threading.Event()

        def watch_until_done() -> None:
            while not stop.wait(_SAMPLE_SECONDS):
                watch.sample()

        watcher = threading.Thread(target=watch_until_done, daemon=True)
        watcher.start()
        code = process.wait()
        seconds = time.perf_counter() - start
        stop.set()
        watcher.join()
    if code != 0:
        raise RuntimeError(f"finews-bot import exited with {code}")
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT count(*) FROM items").fetchone()
    writer = watch.peaks_kib.get(process.pid, 0)
    others = {pid: peak for pid, peak in watch.peaks_kib.items() if pid != process.pid}
    return {
        "seconds": seconds,
        "new": stored,
        "peak_rss_kib": writer,
        "total_peak_kib": writer + sum(others.values()),
        "other_processes": [
            {"peak_kib": peak, "command": watch.commands.get(pid, "")} for pid, peak in sorted(others.items())
        ],
    }
