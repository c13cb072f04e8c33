"""What a large import's worker processes load: only the parsing code, whichever way it started."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlite_utils", "telegram", "httpx", "apscheduler", "feedparser", "bot.store", "bot.cli")


def modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_a_worker_loads_nothing_of_the_store_or_the_bot() -> None:
    loaded = modules_after("import bot.ingest.parse_worker")
    assert not loaded & set(HEAVY)


def test_the_command_s_entry_point_loads_the_cli_only_when_called() -> None:
    # A worker re-runs the script that started its parent: the finews-bot script imports bot.entry.
    loaded = modules_after("from bot.entry import main")
    assert not loaded & set(HEAVY)
    assert "bot.cli" in modules_after(
        "from bot.entry import main\nimport contextlib\nwith contextlib.suppress(SystemExit): main()"
    )
