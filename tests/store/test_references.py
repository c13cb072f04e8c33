"""Each chat's last numbered list, kept across restarts and replaced by the next one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.domain.models import Channel
from bot.domain.records import ItemRef, ReferenceList
from bot.store import Store

AT = datetime(2022, 4, 4, 1, 0, tzinfo=UTC)


def test_a_chats_list_is_kept_replaced_and_kept_apart(tmp_path: Path) -> None:
    listed = ReferenceList(
        "digest", "2022-04-03 日报", AT, (ItemRef(1, "上市", "a"), ItemRef(1, "普惠金融", "b"))
    )
    with Store(tmp_path / "db") as store:
        assert store.references(Channel.TELEGRAM, "-100") is None
        store.save_references(Channel.TELEGRAM, "-100", listed)
        store.save_references(Channel.CONSOLE, "-100", ReferenceList("latest", "/latest 株洲", AT, ()))
    with Store(tmp_path / "db") as store:  # a restarted bot still knows what "3" meant
        assert store.references(Channel.TELEGRAM, "-100") == listed
        assert store.references(Channel.CONSOLE, "-100") == ReferenceList("latest", "/latest 株洲", AT, ())
        newer = ReferenceList("topic", "/topic 上市", AT, (ItemRef(3, "上市", "c"),))
        store.save_references(Channel.TELEGRAM, "-100", newer)
        assert store.references(Channel.TELEGRAM, "-100") == newer


def test_a_list_written_late_does_not_replace_a_newer_one(tmp_path: Path) -> None:
    # A reply's list reaches the database behind the reply; a digest queued meanwhile stays.
    older = ReferenceList("latest", "/latest 株洲", AT, (ItemRef(1, "", "a"),))
    digest = ReferenceList("digest", "2022-04-04 日报", AT.replace(minute=1), (ItemRef(1, "上市", "b"),))
    with Store(tmp_path / "db") as store:
        store.save_references(Channel.TELEGRAM, "-100", digest)
        store.save_references(Channel.TELEGRAM, "-100", older)
        assert store.references(Channel.TELEGRAM, "-100") == digest
