"""Command-line latency: ``python -m bench.cli_latency [--runs 7] [--before REV] [--json PATH]``.

What a user waits for when they type ``finews-bot latest 株洲 --json``: the whole process, from
exec to exit, on a database of the bundled seeds, beside the bare interpreter of the same virtual
environment (``python -c "import sqlite3, json"``), which is the floor no Python command can go
under. Bytecode is compiled first and the processes run with ``PYTHONDONTWRITEBYTECODE`` removed
from their environment, as on a user's machine; the commands are run in turn (one run of each,
then the next round), so that a neighbour's load falls on all of them alike, and each one's time is
the median of its runs. Target (issue #15): ≤ 4× the bare interpreter for each command.

``--before REV`` also times the code of a git revision (extracted with ``git archive``, run with
the same interpreter and packages, on a database it imported itself) in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.corpus import REPO, SEEDS
from bench.runtime import log, save_json

TARGET_RATIO = 4.0
BARE = "python -c 'import sqlite3, json'"
# label → the command's arguments (after ``finews-bot``).
COMMANDS: dict[str, list[str]] = {
    "latest 株洲 --json": ["latest", "株洲", "--json"],
    "topic 上市 --json": ["topic", "上市", "--json"],
    "status": ["status"],
    "--help": ["--help"],
}
# What "before the speed work" is: the last commit before issue #15's changes.
BEFORE_REV = "93280ea"
# The issue's own figures for `latest`, measured the same way before the work.
ISSUE_BEFORE = {"latest 株洲 --json": (484.0, 26.0)}
PACKAGES = ("bot", "handlers", "digests")


@dataclass(slots=True)
class Code:
    """One version of the code: where it is imported from and the database it imported."""

    name: str
    root: Path
    env: dict[str, str]
    samples: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CliResult:
    """Median wall times in ms per command and version, and the bare interpreter's."""

    bare_ms: float
    runs: int
    medians: dict[str, dict[str, float]]  # version → command label → ms

    def ratio(self, version: str, label: str) -> float:
        """The command's median over the bare interpreter's."""
        return self.medians[version][label] / self.bare_ms

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        return {
            "bare_ms": self.bare_ms,
            "runs": self.runs,
            "medians_ms": self.medians,
            "ratios": {
                version: {label: self.ratio(version, label) for label in commands}
                for version, commands in self.medians.items()
            },
            "target_ratio": TARGET_RATIO,
            "issue_before": {k: {"ms": v[0], "bare_ms": v[1]} for k, v in ISSUE_BEFORE.items()},
        }


def _environment(root: Path, db: Path, cwd: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the bytecode cache is used, as a user's would be
    env["PYTHONPATH"] = str(root)
    env["FINEWS_DB"] = str(db)
    env["FINEWS_DIGEST_DIR"] = str(cwd / "digests")
    return env


def _run(argv: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    """One run's wall time in ms (output discarded); an error if it fails."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def _entry(root: Path) -> list[str]:
    """``finews-bot`` as its installed script runs it (``from bot.entry import main``), from ``root``."""
    script = "import sys\nfrom bot.entry import main\nsys.argv[0] = 'finews-bot'\nsys.exit(main())"
    if root == REPO:
        installed = Path(sys.executable).with_name("finews-bot")
        if installed.exists():
            return [str(installed)]
    return [sys.executable, "-c", script]


def _prepare(code: Code, cwd: Path) -> None:
    """Compile the version's bytecode and import the seeds into its database."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=code.root, env=code.env, check=True
    )
    done = subprocess.run(
        [*_entry(code.root), "import", str(SEEDS)], cwd=cwd, env=code.env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"import of the seeds failed ({code.name}): {done.stderr[-500:]}")


def extract(rev: str, into: Path) -> Path:
    """The code of ``rev`` (its packages and bundled files) in ``into``, by ``git archive``."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", rev, *PACKAGES, "config.example.toml", "seeds"],
        cwd=REPO,
        check=True,
        stdout=subprocess.PIPE,
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def measure_cli(runs: int = 7, before: str | None = None) -> CliResult:
    """Time each command (and the bare interpreter) in ``runs`` interleaved rounds."""
    tmp = Path(tempfile.mkdtemp(prefix="finews-bench-cli-"))
    try:
        cwd = tmp / "work"  # an empty folder: no ./config.toml, the embedded default
        cwd.mkdir()
        versions = [Code("after", REPO, _environment(REPO, tmp / "after.db", cwd))]
        if before:
            root = extract(before, tmp / "before")
            versions.append(Code(f"before ({before})", root, _environment(root, tmp / "before.db", cwd)))
        for code in versions:
            log(f"CLI: compiling and importing the seeds ({code.name})")
            _prepare(code, cwd)
        bare_env = _environment(REPO, tmp / "after.db", cwd)
        bare = [sys.executable, "-c", "import sqlite3, json"]
        # One untimed round warms the page cache and any lazily written bytecode.
        rounds = [("warm-up", False)] + [(f"round {n + 1}", True) for n in range(runs)]
        bare_samples: list[float] = []
        for _name, timed in rounds:
            for code in versions:
                for label, argv in COMMANDS.items():
                    bare_ms = _run(bare, bare_env, cwd)
                    ms = _run([*_entry(code.root), *argv], code.env, cwd)
                    if timed:
                        bare_samples.append(bare_ms)
                        code.samples.setdefault(label, []).append(ms)
        medians = {
            code.name: {label: statistics.median(s) for label, s in code.samples.items()} for code in versions
        }
        return CliResult(statistics.median(bare_samples), runs, medians)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def format_cli(result: CliResult) -> str:
    """The CLI latency table: per command, each version's median and ratio to the bare interpreter."""
    versions = list(result.medians)
    lines = [
        f"command-line latency (median of {result.runs} interleaved runs, bytecode cached, seeds database);"
        f" bare interpreter {BARE}: {result.bare_ms:.0f} ms",
    ]
    for label in COMMANDS:
        cells = []
        for version in versions:
            cells.append(
                f"{version} {result.medians[version][label]:.0f} ms = {result.ratio(version, label):.1f}×"
            )
        ok = result.ratio(versions[0], label) <= TARGET_RATIO
        issue = ISSUE_BEFORE.get(label)
        note = f" (issue: {issue[0]:.0f} ms = {issue[0] / issue[1]:.1f}×)" if issue else ""
        lines.append(
            f"  finews-bot {label:<20} " + " · ".join(cells) + f"{note}  target ≤ {TARGET_RATIO:.0f}×: "
            f"{'met' if ok else 'MISSED'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; optionally save the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.cli_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument(
        "--before", default=None, metavar="REV", help=f"also time this revision (e.g. {BEFORE_REV})"
    )
    parser.add_argument("--json", type=Path, default=None, metavar="PATH")
    args = parser.parse_args(argv)
    result = measure_cli(args.runs, args.before)
    print(format_cli(result), flush=True)
    if args.json is not None:
        save_json(args.json, result.to_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
