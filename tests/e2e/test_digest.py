"""Daily digests sent by the real bot process at a test-controlled time, through the emulator.

The process starts with ``FINEWS_FAKE_NOW`` a few seconds before 08:30 (Asia/Shanghai) on
2022-04-04; config subscriptions at 08:30 then get the digest of 2022-04-03 (the 赣南日报 seed
post) a few seconds after start-up. Several chats subscribe at once, each meeting a different
answer from "Telegram" (injected by the emulator for that chat only): normal, flood control
(429), bot kicked (403), server error (500), HTML refused (400), group upgraded to a supergroup.
The module's one process is watched for a few check cycles, stopped, and started again on the
same database later that morning.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Channel
from bot.store import Store
from tests.e2e.bot_process import (
    BotProcess,
    bot_client,
    new_bot_folder,
    seeded_database,
    wait_until,
    write_config,
)
from tests.e2e.emulator import Emulator

# Every test here runs real processes or servers: seconds each.
pytestmark = pytest.mark.slow

Json = dict[str, Any]

GANNAN_TITLE = "凝聚金融力量 加快振兴发展"  # seeds/2022-04-03-NW202204032332360450.md
DAY = "2022-04-03"
SHANGHAI = "+08:00"
# Seconds between the process's start and the digest falling due: room for a slow start-up (the
# config subscriptions must be created before 08:30, or they rightly wait for the next day).
LEAD = 6
START = datetime.fromisoformat(f"2022-04-04T08:30:00{SHANGHAI}") - timedelta(seconds=LEAD)
RESTART = datetime.fromisoformat(f"2022-04-04T08:31:00{SHANGHAI}")  # after the 500's retry time

PRIVATE = 71001  # a user's private chat
GROUP = -71002
FLOOD = -71003  # 429 retry_after=2 on the first send
KICKED = -71004  # 403 bot was kicked
SERVER_ERROR = -71005  # 500 on the first send
BAD_HTML = -71006  # 400 can't parse entities for the HTML send
MIGRATED = -71007  # 400 with migrate_to_chat_id: the group became a supergroup
SUPERGROUP = -1009999971007  # ... this one
MUTED = -71008  # 400 not enough rights: the bot may no longer post in the group
CHATS = (PRIVATE, GROUP, FLOOD, KICKED, SERVER_ERROR, BAD_HTML, MIGRATED, MUTED)
FLOOD_WAIT = 2


def sends(tg: Emulator, chat: int) -> list[Json]:
    """The bot's sendMessage calls to ``chat``, whatever their answer."""
    return [c for c in tg.calls("sendMessage") if c["params"].get("chat_id") == chat]


def delivered(tg: Emulator, chat: int) -> list[Json]:
    return [c for c in sends(tg, chat) if c["status"] == 200]


def outbox_rows(database: Path, chat: int) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT * FROM outbox WHERE chat = ? ORDER BY id", (str(chat),)).fetchall()
        return [dict(row) for row in rows]
    finally:
        conn.close()


def subscriptions(database: Path) -> dict[str, Any]:
    store = Store(database)
    try:
        return {sub.chat: sub for sub in store.subscriptions() if sub.channel is Channel.TELEGRAM}
    finally:
        store.close()


@dataclass
class Run:
    """What one bot process did, captured right after it stopped."""

    bot: BotProcess
    started: float  # epoch seconds, just before the process was started
    calls: dict[int, list[Json]] = field(default_factory=dict)  # chat -> sendMessage calls
    messages: dict[int, list[Json]] = field(default_factory=dict)  # chat -> bot messages
    outbox: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    subscriptions: dict[str, Any] = field(default_factory=dict)


def capture(run: Run) -> Run:
    tg = run.bot.telegram
    assert tg is not None
    run.calls = {chat: sends(tg, chat) for chat in (*CHATS, SUPERGROUP)}
    run.messages = {chat: tg.bot_messages(chat) for chat in (*CHATS, SUPERGROUP)}
    run.outbox = {chat: outbox_rows(run.bot.database, chat) for chat in (*CHATS, SUPERGROUP)}
    run.subscriptions = subscriptions(run.bot.database)
    return run


@pytest.fixture(scope="module")
def tg(emulator_server: Emulator) -> Iterator[Emulator]:
    """The emulator through this module's bot token, with the faults for its chats."""
    client = bot_client(emulator_server)
    client.inject_fault("sendMessage", 429, retry_after=FLOOD_WAIT, chat_id=FLOOD)
    client.inject_fault(
        "sendMessage", 403, description="Forbidden: bot was kicked from the group chat", chat_id=KICKED
    )
    client.inject_fault("sendMessage", 500, chat_id=SERVER_ERROR)
    client.inject_fault(
        "sendMessage",
        400,
        description="Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        chat_id=BAD_HTML,
        parse_mode="HTML",
    )
    client.inject_fault(
        "sendMessage",
        400,
        description="Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=SUPERGROUP,
        chat_id=MIGRATED,
    )
    client.inject_fault(
        "sendMessage",
        400,
        description="Bad Request: not enough rights to send text messages to the chat",
        chat_id=MUTED,
    )
    try:
        yield client
    finally:
        client.clear_faults()
        client.stop()  # its HTTP client; the server is the session's


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = seeded_database(tmp_path_factory.getbasetemp() / "seeded")
    folder = new_bot_folder(tmp_path_factory.mktemp("digest"), template, "digest-bot")
    subs = [{"chat": chat, "time": "08:30", "title": f"chat{chat}"} for chat in CHATS]
    write_config(folder, subscriptions=subs)
    return folder


def start(folder: Path, tg: Emulator, fake_now: datetime, name: str) -> BotProcess:
    bot = BotProcess(
        folder, folder / "config.toml", telegram=tg, env={"FINEWS_FAKE_NOW": fake_now.isoformat()}, name=name
    )
    return bot.start()


@pytest.fixture(scope="module")
def first(folder: Path, tg: Emulator) -> Iterator[Run]:
    """The first process: from 08:29:54 until every chat's digest was tried and settled."""
    started = time.time()
    bot = start(folder, tg, START, "first")
    try:
        bot.wait_polling()
        due = datetime.fromisoformat(f"2022-04-04T08:30:00{SHANGHAI}")
        late = [chat for chat, sub in subscriptions(bot.database).items() if sub.created >= due]
        assert not late, f"start-up took over {LEAD} s: the subscriptions rightly wait for tomorrow"
        tried = (KICKED, SERVER_ERROR, MIGRATED, MUTED)  # answered with an error, nothing delivered

        def settled(chat: int) -> Callable[[], bool]:
            return lambda: bool(sends(tg, chat) if chat in tried else delivered(tg, chat))

        for chat in CHATS:
            wait_until(settled(chat), LEAD + 15, f"the digest's send to chat {chat}")
        wait_until(lambda: bool(delivered(tg, SUPERGROUP)), 10, "the migrated group's digest")
        time.sleep(3.5)  # a few more check cycles (check_every = 1s): nothing more may go out
        stop_started = time.monotonic()
        assert bot.stop() == 0, bot.output
        assert time.monotonic() - stop_started < 10
        yield capture(Run(bot, started))
    finally:
        bot.kill()


def test_the_digest_arrives_once_at_its_time_in_a_private_chat_and_a_group(first: Run) -> None:
    for chat in (PRIVATE, GROUP):
        calls = first.calls[chat]
        assert [c["status"] for c in calls] == [200], calls
        # Not before 08:30 of the process's clock, which started LEAD seconds before it.
        assert calls[0]["time"] >= first.started + LEAD
        [message] = first.messages[chat]
        assert message["text"].startswith("金融要闻 2022-04-03"), message["text"]
        assert GANNAN_TITLE in message["text"]
        assert message["parse_mode"] == "HTML"
        [row] = first.outbox[chat]
        assert row["status"] == "sent" and row["attempts"] == 1
        assert row["message_id"] == str(message["message_id"])
    assert f"digest queued: chat{GROUP} {DAY}" in first.bot.output
    digests = {p.name for p in (first.bot.folder / "digests").iterdir()}
    assert {f"{DAY}-{GROUP}.md", f"{DAY}-{GROUP}.html"} <= digests, digests


def test_flood_control_delays_the_digest_which_still_arrives_once(first: Run) -> None:
    calls = first.calls[FLOOD]
    assert [c["status"] for c in calls] == [429, 200], calls
    assert calls[1]["time"] - calls[0]["time"] >= FLOOD_WAIT
    assert calls[1]["params"]["text"] == calls[0]["params"]["text"]
    assert len(first.messages[FLOOD]) == 1
    [row] = first.outbox[FLOOD]
    assert row["status"] == "sent" and row["attempts"] == 2  # the 429, then the send


def test_a_bot_kicked_from_the_group_pauses_the_subscription(first: Run) -> None:
    calls = first.calls[KICKED]
    assert [c["status"] for c in calls] == [403], calls  # tried once, never again
    assert not first.messages[KICKED]
    sub = first.subscriptions[str(KICKED)]
    assert "bot was kicked" in sub.paused
    [row] = first.outbox[KICKED]
    assert row["status"] == "failed"
    assert "pausing the chat's subscription" in first.bot.output


def test_a_group_upgraded_to_a_supergroup_takes_its_subscription_to_the_new_id(first: Run) -> None:
    calls = first.calls[MIGRATED]
    assert [c["status"] for c in calls] == [400], calls  # not retried against the dead id
    assert str(MIGRATED) not in first.subscriptions  # moved, not paused
    moved = first.subscriptions[str(SUPERGROUP)]
    assert not moved.paused
    [message] = first.messages[SUPERGROUP]  # the digest went to the supergroup, once
    assert message["text"].startswith("金融要闻 2022-04-03")
    [row] = first.outbox[SUPERGROUP]
    assert row["status"] == "sent"


def test_a_group_where_the_bot_may_no_longer_post_pauses_the_subscription(first: Run) -> None:
    assert [c["status"] for c in first.calls[MUTED]] == [400]
    assert "not enough rights" in first.subscriptions[str(MUTED)].paused.lower()
    [row] = first.outbox[MUTED]
    assert row["status"] == "failed"


def test_a_server_error_leaves_the_digest_pending_for_a_retry(first: Run) -> None:
    calls = first.calls[SERVER_ERROR]
    assert [c["status"] for c in calls] == [500], calls  # the outbox's backoff starts at 30 s
    [row] = first.outbox[SERVER_ERROR]
    assert row["status"] == "pending"
    assert row["attempts"] == 1
    assert "Internal Server Error" in row["error"]
    retry_at = datetime.fromisoformat(row["next_attempt"])
    due = datetime.fromisoformat(f"2022-04-04T08:30:00{SHANGHAI}")
    assert due + timedelta(seconds=29) <= retry_at.astimezone(UTC) <= due + timedelta(seconds=45)
    assert not first.subscriptions[str(SERVER_ERROR)].paused


def test_a_digest_whose_html_is_refused_is_sent_again_as_plain_text(first: Run) -> None:
    calls = first.calls[BAD_HTML]
    assert [(c["status"], c["params"].get("parse_mode")) for c in calls] == [(400, "HTML"), (200, None)]
    [message] = first.messages[BAD_HTML]
    assert GANNAN_TITLE in message["text"]
    assert "<b>" not in message["text"] and message["raw_text"] == message["text"]
    [row] = first.outbox[BAD_HTML]
    assert row["status"] == "sent"


def test_the_process_logged_no_traceback_and_no_token(first: Run) -> None:
    assert first.bot.telegram is not None
    first.bot.assert_clean_exit(tokens=[first.bot.telegram.token])


def test_a_restart_sends_nothing_again_but_the_pending_retry(first: Run, folder: Path, tg: Emulator) -> None:
    bot = start(folder, tg, RESTART, "second")
    try:
        bot.wait_polling()
        # The 500'd digest was due again at 08:30:30: the restarted process (08:31) sends it.
        wait_until(lambda: bool(delivered(tg, SERVER_ERROR)), 10, "the pending digest")
        time.sleep(3.5)  # a few check cycles
        assert bot.stop() == 0, bot.output
        again = capture(Run(bot, time.time()))
    finally:
        bot.kill()
    for chat in CHATS:
        if chat != SERVER_ERROR:
            assert again.calls[chat] == first.calls[chat], f"chat {chat} got something again"
    calls = again.calls[SERVER_ERROR]
    assert [c["status"] for c in calls] == [500, 200]
    [message] = again.messages[SERVER_ERROR]
    assert GANNAN_TITLE in message["text"]
    [row] = again.outbox[SERVER_ERROR]
    assert row["status"] == "sent"
    assert tg.token not in bot.output
    bot.assert_clean_exit(tokens=[tg.token])
