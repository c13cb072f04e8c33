"""The real bot process (``python -m bot run``) against the Telegram emulator, for end-to-end tests.

A test gets a working folder with a ``config.toml``, a database that already holds the bundled
seeds (imported once per session by ``finews-bot fetch`` and copied, so that a start-up does not
wait for the first poll), and a :class:`BotProcess` that starts the service with the emulator's
URL and a token in its environment, waits until it polls for updates, and stops it with SIGTERM.

Every bot process gets its own token (:func:`bot_client`): the emulator keeps calls, messages and
updates per token, so a process never sees another one's updates and a test can read exactly
what its own bot did without resetting the shared emulator under a running bot.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.e2e.emulator import Emulator

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
PYTHON = sys.executable

# A global admin (config [telegram] admins) in every config written here.
GLOBAL_ADMIN = 1001

_token_numbers = itertools.count(1)


def bot_client(server: Emulator) -> Emulator:
    """A client of the running emulator for a new bot token of its own ("<bot id>:<secret>")."""
    number = next(_token_numbers)
    token = f"{7100000000 + number}:AAFinewsE2eBotProcess{number:04d}Secret"
    return Emulator(server.port, token=token, log_path=server.log_path)


def toml_value(value: Any) -> str:
    """A Python value as TOML (strings, numbers, booleans and lists of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


TOPICS = """
[topics."上市"]
description = "企业上市、挂牌与资本市场"
keywords = ["上市", "IPO", "挂牌", "科创板"]

[topics."普惠金融"]
description = "普惠金融与小微企业"
keywords = ["普惠金融", "小微企业"]

[topics."金融风险"]
description = "防范化解金融风险"
keywords = ["金融风险", "防范化解"]
"""


def write_config(
    folder: Path,
    *,
    admins: Sequence[int] = (GLOBAL_ADMIN,),
    allowed_chats: Sequence[int] = (),
    subscriptions: Sequence[Mapping[str, Any]] = (),
    digest: Mapping[str, Any] | None = None,
    telegram: Mapping[str, Any] | None = None,
    robots: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """A config.toml in ``folder``: the seeds as a folder source, a few topics, fast polling."""
    digest_settings = {"check_every": "1s", "grace": "6h", **(digest or {})}
    telegram_settings = {
        "poll_interval": 0.2,
        "poll_timeout": 0,
        "admins": list(admins),
        "allowed_chats": list(allowed_chats),
        **(telegram or {}),
    }
    lines = [
        'timezone = "Asia/Shanghai"',
        "",
        "[[sources]]",
        'name = "seeds"',
        'kind = "folder"',
        f"path = {toml_value(str(SEEDS))}",
        'every = "1h"',
        "",
        "[digest]",
        *(f"{key} = {toml_value(value)}" for key, value in digest_settings.items()),
        "",
        "[telegram]",
        *(f"{key} = {toml_value(value)}" for key, value in telegram_settings.items()),
    ]
    for robot in robots:
        lines += ["", "[[robots]]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in robot.items()]
    for sub in subscriptions:
        lines += ["", "[[subscriptions]]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in sub.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n" + TOPICS, encoding="utf-8")
    return path


def base_env(folder: Path) -> dict[str, str]:
    """The environment of a finews-bot process working in ``folder``, without any token."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FINEWS_")}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "FINEWS_DB": str(folder / "finews.db"),
            "FINEWS_DIGEST_DIR": str(folder / "digests"),
        }
    )
    # The emulator is local: a proxy from the environment must not be used to reach it.
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(key, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def seeded_database(template_dir: Path) -> Path:
    """A database holding the seeds, made once by ``finews-bot fetch`` (the service's own import)."""
    database = template_dir / "finews.db"
    if not database.exists():
        template_dir.mkdir(parents=True, exist_ok=True)
        config = write_config(template_dir)
        done = subprocess.run(
            [PYTHON, "-m", "bot", "--config", str(config), "fetch"],
            env=base_env(template_dir),
            cwd=template_dir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "新增 5" in done.stdout, done.stdout
        # Copies are of the one file: fold a write-ahead log left behind into it.
        if database.with_name("finews.db-wal").exists():
            _checkpoint(database)
    return database


def _checkpoint(database: Path) -> None:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on a bot's database (safe while the bot runs: WAL mode)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as conn:
        return conn.execute(sql, params).fetchall()


def wait_until(condition: Callable[[], bool], timeout: float, what: str = "condition") -> None:
    """Poll ``condition`` every 50 ms until it holds; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class BotProcess:
    """``python -m bot --config <config> run`` in ``folder``, its stdout and stderr in files."""

    def __init__(
        self,
        folder: Path,
        config: Path,
        *,
        telegram: Emulator | None,
        env: Mapping[str, str] | None = None,
        name: str = "bot",
    ) -> None:
        self.folder = folder
        self.config = config
        self.telegram = telegram
        self.env = base_env(folder)
        if telegram is not None:
            self.env["FINEWS_TELEGRAM_TOKEN"] = telegram.token
            self.env["FINEWS_TELEGRAM_API_URL"] = telegram.base_url
        self.env.update(env or {})
        self.stdout_path = folder / f"{name}.stdout"
        self.stderr_path = folder / f"{name}.stderr"
        self.process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    @property
    def database(self) -> Path:
        return Path(self.env["FINEWS_DB"])

    def start(self) -> BotProcess:
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "bot", "--config", str(self.config), "run"],
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        return self

    def wait_polling(self, timeout: float = 20.0) -> None:
        """Wait until the bot has asked the emulator for updates (it is then answering commands)."""
        assert self.telegram is not None
        telegram = self.telegram
        wait_until(
            lambda: bool(telegram.calls("getUpdates")) or not self.running,
            timeout,
            "the bot's first getUpdates",
        )
        assert self.running, f"the bot exited with {self.process and self.process.poll()}:\n{self.output}"

    def wait_for_log(self, text: str, timeout: float = 10.0) -> None:
        wait_until(lambda: text in self.output, timeout, f"{text!r} in the bot's log")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def stdout(self) -> str:
        return (
            self.stdout_path.read_text(encoding="utf-8", errors="replace")
            if self.stdout_path.exists()
            else ""
        )

    @property
    def stderr(self) -> str:
        return (
            self.stderr_path.read_text(encoding="utf-8", errors="replace")
            if self.stderr_path.exists()
            else ""
        )

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then the exit code; killed (and AssertionError) if it outlives ``timeout``."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"the bot did not stop within {timeout} s of SIGTERM:\n{self.output}"
            ) from None
        return self.returncode

    def kill(self) -> None:
        """Teardown after a failed test: stop whatever is left, quietly."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def assert_clean_exit(self, tokens: Iterable[str] = ()) -> None:
        """Stopped with exit code 0, said so, no traceback, and never printed a token."""
        code = self.returncode if self.returncode is not None else self.stop()
        output = self.output
        assert code == 0, output
        assert "finews-bot service stopped" in output, output
        assert "Traceback" not in output, output
        for token in tokens:
            assert token not in output, "the bot token appears in the process's output"
            secret = token.split(":", 1)[-1]
            assert secret not in output, "the bot token's secret appears in the process's output"


def new_bot_folder(parent: Path, template: Path, name: str) -> Path:
    """A fresh working folder with a copy of the seeded database."""
    folder = parent / name
    folder.mkdir(parents=True)
    shutil.copyfile(template, folder / "finews.db")
    return folder
