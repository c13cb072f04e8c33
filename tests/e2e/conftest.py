"""Fixtures for end-to-end tests against the local Telegram Bot API emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.emulator import Emulator, ensure_installed


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One emulator process for the session: npm packages installed if needed, stopped at the end."""
    ensure_installed()
    log_path = tmp_path_factory.mktemp("telegram-emulator") / "server.log"
    emulator = Emulator.start(log_path)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The session's emulator, reset before the test. On a failure pytest shows the server's
    lines for this test (its bot calls and user actions) in the captured output."""
    emulator_server.reset()
    log_path = emulator_server.log_path
    start = log_path.stat().st_size if log_path else 0
    print(f"telegram emulator: {emulator_server.url}, log {log_path}")
    yield emulator_server
    if log_path:
        with log_path.open("rb") as log:
            log.seek(start)
            print(log.read().decode(errors="replace"))
