"""bot.entry: a read-only command ends as soon as its output is written, its output whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ingest.importer import discover, import_files
from bot.store import Store
from tests.helpers.paths import REPO, SEEDS

# The finews-bot script, with a handler registered at exit beforehand: it runs only when the
# interpreter tears itself down, which a read-only command skips.
SCRIPT = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('TEARDOWN', file=sys.stderr))\n"
    "from bot.entry import main\n"
    "sys.argv = ['finews-bot', *sys.argv[1:]]\n"
    "sys.exit(main())\n"
)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("entry") / "finews.db"
    with Store(path) as store:
        import_files(store, discover([SEEDS]), workers=0)
    return path


def finews_bot(database: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")}
    env.update({"FINEWS_DB": str(database), "PYTHONPATH": str(REPO)})
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )


def test_a_query_ends_early_with_its_whole_output_and_exit_code(database: Path, tmp_path: Path) -> None:
    done = finews_bot(database, tmp_path, "topic", "上市", "--json")
    assert done.returncode == 0 and "TEARDOWN" not in done.stderr
    assert json.loads(done.stdout)["topic"] == "上市"  # the whole JSON document, flushed
    missing = finews_bot(tmp_path / "none.db", tmp_path, "latest", "株洲")
    assert missing.returncode == 1 and "尚未导入" in missing.stderr and "TEARDOWN" not in missing.stderr


@pytest.mark.parametrize(("args", "code"), [(["--help"], 0), (["latest"], 2)])
def test_help_and_usage_errors_end_early_too(
    database: Path, tmp_path: Path, args: list[str], code: int
) -> None:
    done = finews_bot(database, tmp_path, *args)
    assert done.returncode == code and "usage: finews-bot" in done.stdout + done.stderr
    assert "TEARDOWN" not in done.stderr


def test_other_commands_end_as_usual(database: Path, tmp_path: Path) -> None:
    done = finews_bot(database, tmp_path, "robots")
    assert done.returncode == 0 and "TEARDOWN" in done.stderr
