"""The measured import, run in a child process so that its peak memory is its own.

``python -m bench.import_child import DB FOLDER`` imports FOLDER into DB exactly as ``finews-bot
import FOLDER`` does (:func:`bot.importer.discover` streamed into :func:`bot.importer.import_files`),
and prints one JSON line: counts, wall time and peak RSS.

``python -m bench.import_child profile DB FOLDER LIMIT`` imports the first LIMIT files with the same
steps as the importer, timing each phase (read, parse, tokenise, hash, SQL, commit) per post.

Peak RSS is the child's own (see :func:`bench.runtime.peak_rss_kib`).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.runtime import peak_rss_kib, rss_kib
from bot.importer import BATCH_SIZE, count_files, discover, import_files
from bot.sources.parse import parse_file
from bot.store import Store
from bot.textindex import index_entry


def run_import(db: Path, folder: Path) -> dict[str, Any]:
    """Import ``folder`` into ``db`` the way the CLI does; the figures of that import."""
    # The number of files, for progress lines only: counted before the clock starts, in a walk of
    # its own, as the CLI does for its progress bar. The import itself streams the files.
    total = count_files([folder])
    rss_start = rss_kib()
    start = time.perf_counter()
    with Store(db) as store:
        files = discover([folder])
        done = 0
        step = max(BATCH_SIZE, total // 10)

        def progress(n: int) -> None:
            nonlocal done
            before, done = done, done + n
            if done // step != before // step:
                rate = done / (time.perf_counter() - start)
                print(f"  import {done:,}/{total:,} ({rate:,.0f} posts/s)", file=sys.stderr, flush=True)

        report = import_files(store, files, progress=progress)
    seconds = time.perf_counter() - start
    return {
        "files": total,
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "skipped": len(report.skipped),
        "skipped_examples": [f"{s.path}: {s.reason}" for s in report.skipped[:3]],
        "seconds": seconds,
        "peak_rss_kib": peak_rss_kib(),
        "rss_start_kib": rss_start,
    }


def run_profile(db: Path, folder: Path, limit: int) -> dict[str, Any]:
    """Import the first ``limit`` files with each phase timed, as seconds per post.

    The loop repeats :func:`bot.importer.import_files` step by step (read, parse, upsert, one commit
    per batch). Tokenising and hashing happen inside ``Store.upsert``; they are timed again on the
    same items afterwards and subtracted, so "SQL" is what SQLite (and the FTS5 insert) costs.
    """
    files = list(discover([folder]))[:limit]
    phases = dict.fromkeys(("read", "parse", "upsert", "commit", "tokenise", "hash"), 0.0)
    items = []
    clock = time.perf_counter
    start = clock()
    with Store(db) as store:
        for first in range(0, len(files), BATCH_SIZE):
            with store.transaction():
                for path in files[first : first + BATCH_SIZE]:
                    t0 = clock()
                    data = path.read_bytes()
                    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                    t1 = clock()
                    item = parse_file(data, path=str(path), mtime=mtime)
                    t2 = clock()
                    store.upsert(item)
                    t3 = clock()
                    phases["read"] += t1 - t0
                    phases["parse"] += t2 - t1
                    phases["upsert"] += t3 - t2
                    items.append(item)
                batch_done = clock()
            phases["commit"] += clock() - batch_done
    wall = clock() - start
    for item in items:
        t0 = clock()
        index_entry(item.title, item.text)
        t1 = clock()
        _ = item.content_hash
        phases["tokenise"] += t1 - t0
        phases["hash"] += clock() - t1
    phases["sql"] = max(0.0, phases.pop("upsert") - phases["tokenise"] - phases["hash"])
    n = max(1, len(files))
    order = ("read", "parse", "tokenise", "hash", "sql", "commit")  # the order a post goes through
    return {
        "posts": len(files),
        "seconds": wall,
        "per_post_us": {name: phases[name] / n * 1e6 for name in order},
        "text_chars_mean": sum(len(i.title) + len(i.text) for i in items) / n,
        "tokens_mean": sum(index_entry(i.title, i.text).tokens.count(" ") + 1 for i in items) / n,
    }


def main(argv: list[str]) -> int:
    """Entry point: ``import DB FOLDER`` or ``profile DB FOLDER LIMIT``; prints one JSON line."""
    mode, db, folder, *rest = argv
    if mode == "import":
        result = run_import(Path(db), Path(folder))
    elif mode == "profile":
        result = run_profile(Path(db), Path(folder), int(rest[0]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
