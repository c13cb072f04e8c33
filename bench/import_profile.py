"""Where an import's time goes: ``python -m bench.import_profile DB FOLDER LIMIT``.

Imports the first LIMIT files of FOLDER into DB in one process, with the same steps as the
importer, timing each phase (read, parse, tokenise, hash, SQL, commit) per post; prints one JSON
line. (The measured import itself is the real command: :mod:`bench.import_run`.)
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.domain.textindex import index_entry
from bot.ingest.importer import BATCH_SIZE, discover
from bot.sources.parse import parse_file
from bot.store import Store


def run_profile(db: Path, folder: Path, limit: int) -> dict[str, Any]:
    """Import the first ``limit`` files with each phase timed, as seconds per post.

    The loop repeats :func:`bot.ingest.importer.import_files` step by step (read, parse, upsert, one commit
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
        "tokens_mean": sum(len(index_entry(i.title, i.text).tokens.split()) for i in items) / n,
    }


def main(argv: list[str]) -> int:
    """Entry point: ``DB FOLDER LIMIT``; prints one JSON line."""
    db, folder, limit = argv
    print(json.dumps(run_profile(Path(db), Path(folder), int(limit)), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
