"""The outbox: exactly once per (subscription, day), in order per chat, faults handled."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.delivery.channels import ConsoleSender, Failure, SendError
from bot.delivery.outbox import Deliverer, retry_delay
from bot.domain.models import Channel
from bot.domain.records import (
    DeliveryStatus,
    ItemRef,
    OutboxStatus,
    OutgoingMessage,
    ReferenceList,
    Subscription,
)
from bot.domain.safetext import html_to_text
from bot.store import Store
from tests.helpers.paths import REPO

DAY = date(2026, 11, 20)
DUE = datetime(2026, 11, 21, 0, 30, tzinfo=UTC)


class ScriptedSender:
    """A platform that answers each send from a script of outcomes (None = accept)."""

    channel = Channel.TELEGRAM

    def __init__(self, script: list[SendError | None] | None = None) -> None:
        self.script = list(script or [])
        self.delivered: list[tuple[str, str, str]] = []

    async def send(self, chat: str, body: str, format: str) -> str:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.delivered.append((chat, body, format))
        return str(len(self.delivered))


class Clock:
    def __init__(self) -> None:
        self.at = DUE

    def __call__(self) -> datetime:
        return self.at


def subscribe(store: Store, chat: str = "-100", channel: Channel = Channel.TELEGRAM) -> Subscription:
    return store.save_subscription(channel, chat, topics=[], clock=time(8, 30), days="daily")


def queue(store: Store, sub: Subscription, parts: int, day: date = DAY) -> int | None:
    messages = [OutgoingMessage(f"<b>part {i}</b>") for i in range(1, parts + 1)]
    with store.transaction():
        return store.queue_delivery(sub, day, DUE, messages, stories=parts)


def flush(store: Store, sender: ScriptedSender, clock: Clock) -> None:
    asyncio.run(Deliverer(store, {Channel.TELEGRAM: sender}, clock).flush())


def test_a_day_is_queued_once(store: Store) -> None:
    sub = subscribe(store)
    assert queue(store, sub, 3) is not None
    assert queue(store, sub, 3) is None  # the same (subscription, day) again: refused
    assert len(store.pending_messages(Channel.TELEGRAM)) == 3
    assert queue(store, sub, 1, day=DAY + timedelta(days=1)) is not None


def test_parts_go_out_in_order_and_finish_the_delivery(store: Store) -> None:
    sub = subscribe(store)
    delivery = queue(store, sub, 3)
    sender = ScriptedSender()
    flush(store, sender, Clock())
    assert [body for _, body, _ in sender.delivered] == [f"<b>part {i}</b>" for i in (1, 2, 3)]
    assert store.delivery(sub.id, DAY).status == DeliveryStatus.SENT  # type: ignore[union-attr]
    assert delivery is not None
    assert [m.message_id for m in store.outbox_messages(delivery)] == ["1", "2", "3"]
    flush(store, sender, Clock())  # nothing left: nothing sent again
    assert len(sender.delivered) == 3


def test_flood_control_waits_retry_after_and_holds_later_parts(store: Store) -> None:
    sub = subscribe(store)
    queue(store, sub, 3)
    clock = Clock()
    sender = ScriptedSender([None, SendError(Failure.RETRY, "Too Many Requests", retry_after=7)])
    flush(store, sender, clock)
    assert len(sender.delivered) == 1
    pending = store.pending_messages(Channel.TELEGRAM)
    assert [m.part for m in pending] == [2, 3]
    assert pending[0].next_attempt == DUE + timedelta(seconds=7) and pending[0].attempts == 1
    flush(store, sender, clock)  # not yet due: part 3 must not overtake part 2
    assert len(sender.delivered) == 1
    clock.at += timedelta(seconds=7)
    flush(store, sender, clock)
    assert [b for _, b, _ in sender.delivered] == [f"<b>part {i}</b>" for i in (1, 2, 3)]


def test_network_errors_back_off_and_give_up_eventually(store: Store) -> None:
    assert retry_delay(1) == timedelta(seconds=30) and retry_delay(2) == timedelta(seconds=60)
    assert retry_delay(30) == timedelta(hours=1)
    sub = subscribe(store)
    queue(store, sub, 1)
    clock = Clock()
    sender = ScriptedSender([SendError(Failure.RETRY, "502 Bad Gateway")] * 20)
    for _ in range(20):
        flush(store, sender, clock)
        clock.at += timedelta(hours=2)
    assert store.pending_messages(Channel.TELEGRAM) == []
    assert store.delivery(sub.id, DAY).status == DeliveryStatus.FAILED  # type: ignore[union-attr]
    assert store.outbox_counts() == {"failed": 1}


def test_a_removed_bot_pauses_the_chat_and_gives_up_its_queue(store: Store) -> None:
    sub = subscribe(store)
    other = subscribe(store, chat="-200")
    queue(store, sub, 3)
    queue(store, other, 1)
    sender = ScriptedSender([SendError(Failure.GONE, "Forbidden: bot was kicked from the group chat")])
    flush(store, sender, Clock())
    assert store.subscription(Channel.TELEGRAM, "-100").paused.startswith("Forbidden")  # type: ignore[union-attr]
    assert store.pending_messages(Channel.TELEGRAM) == []
    assert [chat for chat, _, _ in sender.delivered] == ["-200"]  # the other chat is unaffected
    assert store.delivery(sub.id, DAY).status == DeliveryStatus.FAILED  # type: ignore[union-attr]
    # Subscribing again resumes it.
    assert not subscribe(store).paused


def test_rejected_markup_is_sent_as_plain_text(store: Store) -> None:
    sub = subscribe(store)
    with store.transaction():
        store.queue_delivery(sub, DAY, DUE, [OutgoingMessage('<b>株洲 &amp; <a href="x">上市</a></b>')])
    sender = ScriptedSender([SendError(Failure.BAD_MARKUP, "Bad Request: can't parse entities")])
    flush(store, sender, Clock())
    assert sender.delivered == [("-100", "株洲 & 上市", "text")]
    assert store.delivery(sub.id, DAY).status == DeliveryStatus.SENT  # type: ignore[union-attr]


def test_html_to_text() -> None:
    assert html_to_text("<b>a &lt;b&gt;</b>\n<i>c</i>") == "a <b>\nc"


def test_silent_and_missed_days_are_recorded_without_messages(store: Store) -> None:
    sub = subscribe(store)
    assert store.queue_delivery(sub, DAY, DUE, [], status=DeliveryStatus.MISSED) is not None
    assert store.delivery(sub.id, DAY).status == DeliveryStatus.MISSED  # type: ignore[union-attr]
    assert store.pending_messages(Channel.TELEGRAM) == []


def test_console_sender_prints_text(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    sub = subscribe(store, chat="console", channel=Channel.CONSOLE)
    with store.transaction():
        store.queue_delivery(sub, DAY, DUE, [OutgoingMessage("今日要闻", "text")])
    report = asyncio.run(Deliverer(store, {Channel.CONSOLE: ConsoleSender()}, Clock()).flush())
    assert report.sent == 1 and "今日要闻" in capsys.readouterr().out
    assert [m.status for m in store.outbox_messages(1)] == [OutboxStatus.SENT]


# A real process that sends a five-part digest to a file "platform" and is killed (SIGKILL, by
# itself, at the start of sending part 3): the restart must send parts 3-5 only, once each.
_SENDER_PROCESS = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from datetime import UTC, datetime
    from bot.delivery.outbox import Deliverer
    from bot.domain.models import Channel
    from bot.store import Store

    database, platform, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])

    class FilePlatform:
        channel = Channel.TELEGRAM
        async def send(self, chat, body, format):
            if body == f"part {kill_at}":
                os.kill(os.getpid(), signal.SIGKILL)
            with open(platform, "a", encoding="utf-8") as handle:
                handle.write(body + "\\n")
            return body

    store = Store(database)
    asyncio.run(Deliverer(store, {Channel.TELEGRAM: FilePlatform()}, lambda: datetime.now(UTC)).flush())
    """
)


def test_killed_between_parts_sends_only_the_missing_parts_after_restart(tmp_path: Path) -> None:
    database = tmp_path / "finews.db"
    with Store(database) as store:
        sub = subscribe(store)
        with store.transaction():
            store.queue_delivery(sub, DAY, DUE, [OutgoingMessage(f"part {i}") for i in range(1, 6)])
    script = tmp_path / "sender.py"
    script.write_text(_SENDER_PROCESS, encoding="utf-8")
    platform = tmp_path / "platform.txt"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run(
        [sys.executable, str(script), str(database), str(platform), "3"], env=env, timeout=60
    )
    assert killed.returncode == -signal.SIGKILL
    assert platform.read_text(encoding="utf-8").split() == ["part", "1", "part", "2"]
    restarted = subprocess.run(
        [sys.executable, str(script), str(database), str(platform), "0"], env=env, timeout=60
    )
    assert restarted.returncode == 0
    lines = platform.read_text(encoding="utf-8").splitlines()
    assert lines == [f"part {i}" for i in range(1, 6)]  # each part once, in order
    with Store(database) as store:
        assert store.delivery(sub.id, DAY).status == DeliveryStatus.SENT  # type: ignore[union-attr]


def test_a_group_upgraded_to_a_supergroup_takes_its_subscription_and_messages_along(store: Store) -> None:
    sub = subscribe(store, chat="-100")
    queue(store, sub, 2)
    shown = ReferenceList(
        "topic", "/topic 上市", datetime(2022, 4, 3, tzinfo=UTC), (ItemRef(1, "上市", "x"),)
    )
    store.save_references(Channel.TELEGRAM, "-100", shown)
    moved = SendError(Failure.MOVED, "Group migrated to supergroup. New chat id: -1009", moved_to="-1009")
    sender = ScriptedSender([moved])
    flush(store, sender, Clock())
    # The old id was tried once; both parts went to the new one, in order, in the same flush.
    assert [(chat, body) for chat, body, _ in sender.delivered] == [
        ("-1009", "<b>part 1</b>"),
        ("-1009", "<b>part 2</b>"),
    ]
    assert store.subscription(Channel.TELEGRAM, "-100") is None
    moved_sub = store.subscription(Channel.TELEGRAM, "-1009")
    assert moved_sub is not None and moved_sub.id == sub.id and not moved_sub.paused
    assert store.delivery(sub.id, DAY).status == DeliveryStatus.SENT  # type: ignore[union-attr]
    assert store.references(Channel.TELEGRAM, "-1009") == shown  # "/why 1" still means that entry


def test_a_move_onto_a_chat_with_its_own_subscription_pauses_the_old_one(store: Store) -> None:
    subscribe(store, chat="-100")
    subscribe(store, chat="-1009")
    assert not store.move_chat(Channel.TELEGRAM, "-100", "-1009")
    old = store.subscription(Channel.TELEGRAM, "-100")
    assert old is not None and "-1009" in old.paused


def test_only_chats_paused_for_the_reason_given_are_resumed(store: Store) -> None:
    for chat in ("feishu:refused", "feishu:removed", "feishu:fine"):
        subscribe(store, chat=chat, channel=Channel.FEISHU)
    store.pause_subscription(Channel.FEISHU, "feishu:refused", "飞书拒绝了应用凭据 (99991663)")
    store.pause_subscription(Channel.FEISHU, "feishu:removed", "机器人已被移出群 (230002)")
    resumed = store.resume_paused(Channel.FEISHU, datetime.now(UTC), reason="飞书拒绝了应用凭据")
    assert resumed == ["feishu:refused"]
    assert store.paused_chats(Channel.FEISHU) == {"feishu:removed"}  # removed from the chat: stays
    assert store.resume_paused(Channel.FEISHU, datetime.now(UTC)) == ["feishu:removed"]
