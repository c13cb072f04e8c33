"""`finews-bot run` as a user starts it: a real process, polling on schedule, stopping cleanly."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.paths import REPO
from tests.helpers.posts import write_post

# Every test here runs real processes or servers: seconds each.
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def stored_ids(database: Path) -> set[str]:
    if not database.exists():
        return set()
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)
        try:
            return {row[0] for row in conn.execute("SELECT id FROM items")}
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return set()  # not created yet, or the schema is being written


class Running:
    """A `finews-bot run` process with its log in a file."""

    def __init__(self, workdir: Path, config: Path) -> None:
        self.log_path = workdir / f"service-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("w", encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.pop("FINEWS_DB", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"],
            cwd=workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=20)
        finally:
            self._log.close()


@pytest.fixture
def service_setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    posts = tmp_path / "posts"
    posts.mkdir()
    write_post(posts, "NW1")
    config = tmp_path / "config.toml"
    config.write_text(
        'database = "finews.db"\n'
        f'[[sources]]\nname = "posts"\nkind = "folder"\npath = "{posts}"\nevery = "1s"\n'
        # A feed nobody answers: its failures must not hold up the folder.
        f'[[sources]]\nname = "dead"\nkind = "feed"\nurl = "http://127.0.0.1:{free_port()}/feed.xml"\n'
        'every = "1s"\ntimeout = 1\n',
        encoding="utf-8",
    )
    return tmp_path, config, posts


@pytest.fixture
def running(service_setup: tuple[Path, Path, Path]) -> Iterator[Running]:
    workdir, config, _ = service_setup
    service = Running(workdir, config)
    yield service
    if service.process.poll() is None:
        service.process.kill()
        service.process.wait()


def test_the_service_polls_on_schedule_and_stops_cleanly(
    running: Running, service_setup: tuple[Path, Path, Path]
) -> None:
    workdir, _, posts = service_setup
    database = workdir / "finews.db"
    assert wait_for(lambda: "NW1" in stored_ids(database)), running.log
    # Written while the service runs: picked up by a later poll, not at start-up.
    write_post(posts, "NW2", minute=7)
    assert wait_for(lambda: "NW2" in stored_ids(database)), running.log
    assert wait_for(lambda: "dead: 失败" in running.log), running.log
    code = running.stop(signal.SIGTERM)
    log = running.log
    assert code == 0, log
    assert "service started" in log and "service stopped" in log
    assert "posts: 新增 1" in log
    assert "Traceback" not in log


def test_a_second_service_on_the_same_database_refuses(
    running: Running, service_setup: tuple[Path, Path, Path]
) -> None:
    workdir, config, _ = service_setup
    assert wait_for(lambda: "service started" in running.log), running.log
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    second = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 1
    assert "另一个 finews-bot run 正在使用数据库" in second.stderr
    assert str(running.process.pid) in second.stderr
    assert running.stop(signal.SIGINT) == 0


def test_status_after_the_service_ran(running: Running, service_setup: tuple[Path, Path, Path]) -> None:
    import json

    workdir, config, _ = service_setup
    assert wait_for(lambda: "dead: 失败" in running.log and "NW1" in stored_ids(workdir / "finews.db"))
    running.stop()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "status", "--json"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    sources = {s["name"]: s for s in json.loads(result.stdout)["sources"]}
    assert sources["posts"]["state"] == "ok" and sources["posts"]["items"] == 1
    assert sources["dead"]["state"] == "failing" and sources["dead"]["last_error"]
    assert sources["dead"]["next_attempt"] is not None
