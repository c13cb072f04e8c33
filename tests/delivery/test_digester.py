"""Digests from a real store: due subscriptions queued once, catch-up within the grace window,
missed days recorded, files written, and the ``digest`` command as a user runs it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.config import Config, parse_config
from bot.delivery.digester import Digester
from bot.domain.models import Channel
from bot.domain.records import DeliveryStatus
from bot.ingest.importer import discover, import_files
from bot.store import Store
from tests.helpers.paths import SEEDS

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The 赣南日报 seed post was published on 2022-04-03 08:15 (+0800).
SEED_DAY = date(2022, 4, 3)
DUE = datetime(2022, 4, 4, 8, 30, tzinfo=SHANGHAI)


def make_config(tmp_path: Path, extra: dict[str, object] | None = None) -> Config:
    data: dict[str, object] = {
        "topics": {
            "上市": {"keywords": ["上市", "IPO"], "not_in": ["线上市场"]},
            "普惠金融": {"keywords": ["普惠金融", "小微企业"]},
        },
        **(extra or {}),
    }
    return parse_config(
        data,
        path=tmp_path / "config.toml",
        environ={"FINEWS_DB": str(tmp_path / "finews.db"), "FINEWS_DIGEST_DIR": str(tmp_path / "digests")},
    )


@pytest.fixture
def seeded(tmp_path: Path) -> Store:
    store = Store(tmp_path / "finews.db")
    import_files(store, discover([SEEDS]), via="seeds")
    return store


# Subscribed the morning before the firing under test, after that day's firing.
SUBSCRIBED = datetime(2022, 4, 3, 9, 0, tzinfo=SHANGHAI)


def subscribe(store: Store, chat: str = "-100", created: datetime = SUBSCRIBED) -> None:
    store.save_subscription(Channel.TELEGRAM, chat, topics=[], clock=time(8, 30), days="daily", now=created)


def test_a_due_subscription_is_queued_once_with_files(tmp_path: Path, seeded: Store) -> None:
    config = make_config(tmp_path)
    subscribe(seeded)
    digester = Digester(config, seeded, lambda: DUE + timedelta(minutes=1))
    report = digester.queue_due()
    assert report.queued == ["-100 2022-04-03 (1)"]
    (message,) = seeded.pending_messages(Channel.TELEGRAM)
    assert "凝聚金融力量" in message.body and message.format == "html"
    assert (tmp_path / "digests" / "2022-04-03--100.md").is_file()
    assert (tmp_path / "digests" / "2022-04-03--100.html").is_file()
    # A second check, or a restart, queues nothing more.
    assert Digester(config, seeded, lambda: DUE + timedelta(minutes=2)).queue_due().queued == []
    assert len(seeded.pending_messages(Channel.TELEGRAM)) == 1


def test_not_before_its_time(tmp_path: Path, seeded: Store) -> None:
    subscribe(seeded)
    report = Digester(make_config(tmp_path), seeded, lambda: DUE - timedelta(minutes=1)).queue_due()
    assert report.queued == [] and report.missed == []
    assert seeded.delivery(1, SEED_DAY) is None


def test_days_missed_while_down_are_recorded_and_the_latest_caught_up(tmp_path: Path, seeded: Store) -> None:
    subscribe(seeded, created=datetime(2022, 3, 31, 12, 0, tzinfo=SHANGHAI))
    report = Digester(make_config(tmp_path), seeded, lambda: DUE + timedelta(hours=1)).queue_due()
    assert report.queued == ["-100 2022-04-03 (1)"]
    # Due on the 3rd, 2nd and 1st, all beyond the grace window.
    assert report.missed == ["-100 2022-04-02", "-100 2022-04-01", "-100 2022-03-31"]


def test_catch_up_within_the_grace_window_and_missed_beyond(tmp_path: Path, seeded: Store) -> None:
    config = make_config(tmp_path)  # grace: 6 h
    subscribe(seeded)
    late = Digester(config, seeded, lambda: DUE + timedelta(hours=5)).queue_due()
    assert late.queued == ["-100 2022-04-03 (1)"] and late.missed == []

    other = tmp_path / "other"
    other.mkdir()
    store = Store(other / "finews.db")
    import_files(store, discover([SEEDS]), via="seeds")
    subscribe(store)
    too_late = Digester(config, store, lambda: DUE + timedelta(hours=7)).queue_due()
    assert too_late.queued == [] and too_late.missed[0] == "-100 2022-04-03"
    delivery = store.delivery(1, SEED_DAY)
    assert delivery is not None and delivery.status == DeliveryStatus.MISSED
    assert store.pending_messages(Channel.TELEGRAM) == []


def test_a_subscription_made_after_the_firing_waits_for_the_next(tmp_path: Path, seeded: Store) -> None:
    seeded.save_subscription(
        Channel.TELEGRAM, "-5", topics=[], clock=time(8, 30), days="daily", now=DUE + timedelta(minutes=10)
    )
    report = Digester(make_config(tmp_path), seeded, lambda: DUE + timedelta(minutes=20)).queue_due()
    assert report.queued == [] and report.missed == []


def test_an_empty_day_is_silent_when_configured(tmp_path: Path, seeded: Store) -> None:
    config = make_config(tmp_path, {"digest": {"send_empty": False}})
    subscribe(seeded)
    quiet_day = DUE + timedelta(days=10)
    report = Digester(config, seeded, lambda: quiet_day).queue_due()
    assert report.silent[0] == "-100 2022-04-13 (0)"
    delivery = seeded.delivery(1, date(2022, 4, 13))
    assert delivery is not None and delivery.status == DeliveryStatus.SILENT


def test_config_subscriptions_are_synced(tmp_path: Path, seeded: Store) -> None:
    config = make_config(
        tmp_path, {"subscriptions": [{"chat": "console", "time": "07:00", "topics": ["上市"]}]}
    )
    now = datetime(2026, 11, 21, tzinfo=UTC)
    Digester(config, seeded, lambda: now).sync_config_subscriptions()
    (sub,) = seeded.subscriptions()
    assert sub.channel is Channel.CONSOLE and sub.topics == ("上市",) and sub.origin == "config"
    seeded.pause_subscription(Channel.CONSOLE, "console", "gone")
    Digester(config, seeded, lambda: now + timedelta(days=1)).sync_config_subscriptions()
    (same,) = seeded.subscriptions()
    assert same.created == now and same.paused == "gone"  # unchanged: not re-created, still paused
    Digester(make_config(tmp_path), seeded, lambda: now).sync_config_subscriptions()
    assert seeded.subscriptions() == []  # removed from the config: removed


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("FINEWS_CONFIG", "FINEWS_DB", "FINEWS_DIGEST_DIR", "FINEWS_FAKE_NOW"):
        monkeypatch.delenv(name, raising=False)
    assert main(["import"]) == 0
    capsys.readouterr()
    return tmp_path


def test_digest_command_prints_writes_and_answers_json(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", "--date", "2022-04-03"]) == 0
    out, err = capsys.readouterr()
    assert "金融要闻 2022-04-03" in out and "凝聚金融力量 加快振兴发展" in out and "【普惠金融】1 条" in out
    # Once, under its strongest topic, the others named (it used to be under each of 8 topics).
    assert out.count("凝聚金融力量 加快振兴发展") == 1 and "也属于：上市、绿色金融" in out
    assert "1 条新闻 · 1 个主题" in out
    assert (workdir / "data" / "digests" / "2022-04-03.md").is_file()
    assert "2022-04-03.html" in err

    assert main(["digest", "--date", "2022-04-03", "--topic", "上市", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["date"] == "2022-04-03" and [t["name"] for t in data["topics"]] == ["上市"]
    (entry,) = data["topics"][0]["entries"]
    assert entry["ids"] == ["NW202204032332360450"] and entry["sources"] == ["赣南日报"]
    assert (
        "上市" in entry["matched"] and entry["snippet"] and entry["published"].startswith("2022-04-03T08:15")
    )
    assert data["topics"][0]["total"] == 1 and "普惠金融" in entry["also"]
    assert data["messages"] and all(len(m) <= 4096 for m in data["messages"])
    assert all(Path(p).is_file() for p in data["files"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["digest", "--date", "2022-13-45"], "日期格式不对"),
        (["digest", "--date", "昨天下午"], "日期格式不对"),
        (["digest", "--topic", "股票"], "没有名为 股票 的主题"),
    ],
)
def test_digest_command_bad_input(
    workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_an_empty_day_says_so(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--date", "2000-01-01"]) == 0
    assert "今日无相关新闻" in capsys.readouterr().out


def test_digest_send_to_the_console_goes_out_once(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "config.toml").write_text(
        (Path(SEEDS).parent / "config.example.toml")
        .read_text(encoding="utf-8")
        .replace('path = "seeds"', f'path = "{SEEDS}"')
        + '\n[[subscriptions]]\nchat = "console"\ntitle = "控制台"\n',
        encoding="utf-8",
    )
    assert main(["digest", "--date", "2022-04-03", "--send"]) == 0
    out, err = capsys.readouterr()
    assert out.count("凝聚金融力量 加快振兴发展") >= 1 and "已发送 1 条" in err
    assert main(["digest", "--date", "2022-04-03", "--send"]) == 0
    out, err = capsys.readouterr()
    assert "不重复发送" in err and "凝聚金融力量" not in out
    assert (workdir / "data" / "digests" / "2022-04-03-console.md").is_file()


def test_a_weekday_subscription_s_monday_digest_covers_friday_to_sunday(tmp_path: Path) -> None:
    from bot.domain.models import Item, ItemKind

    config = make_config(tmp_path)
    store = Store(tmp_path / "finews.db")
    for day, title in ((19, "周四"), (20, "周五"), (21, "周六"), (22, "周日"), (23, "周一")):
        published = datetime(2026, 11, day, 10, 0, tzinfo=SHANGHAI)
        text = f"{title}：本市一家企业完成上市辅导。"
        store.upsert(
            Item(
                f"id-{day}", ItemKind.POST, "s", "源", "", f"{title}上市新闻", published, "https://e/x", text
            )
        )
    friday_morning = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)  # after Friday's firing
    store.save_subscription(
        Channel.CONSOLE, "console", topics=[], clock=time(8, 30), days="weekdays", now=friday_morning
    )
    monday = datetime(2026, 11, 23, 8, 31, tzinfo=SHANGHAI)
    report = Digester(config, store, lambda: monday).queue_due()
    assert report.queued == ["console 2026-11-22 (1)"]  # recorded under Sunday, its last day
    (message,) = store.pending_messages(Channel.CONSOLE)
    assert "2026-11-20 星期五 至 2026-11-22 星期日" in message.body
    assert all(f"{d}上市新闻" in message.body for d in ("周五", "周六", "周日"))
    assert "周四" not in message.body and "周一" not in message.body


@pytest.mark.parametrize(("repeat", "sections"), [(False, ["普惠金融"]), (True, ["上市", "普惠金融"])])
def test_repeat_stories_decides_whether_a_story_is_shown_once(
    tmp_path: Path, seeded: Store, repeat: bool, sections: list[str]
) -> None:
    # The 赣南日报 story matches both topics; by default it is shown once, the other topic named.
    config = make_config(tmp_path, {"digest": {"repeat_stories": repeat}})
    digest = Digester(config, seeded, lambda: DUE).day_digest(SEED_DAY)
    assert [s.name for s in digest.sections] == sections and digest.stories == 1
    assert digest.sections[0].entries[0].also == (() if repeat else ("上市",))
    # A chat following only the other topic gets the story there.
    (mine,) = Digester(config, seeded, lambda: DUE).day_digest(SEED_DAY, ["上市"]).sections
    assert mine.name == "上市" and mine.total == 1


def test_a_queued_digest_becomes_what_the_chats_numbers_refer_to(tmp_path: Path, seeded: Store) -> None:
    config = make_config(tmp_path)
    subscribe(seeded)
    Digester(config, seeded, lambda: DUE + timedelta(minutes=1)).queue_due()
    refs = seeded.references(Channel.TELEGRAM, "-100")
    assert refs is not None and refs.kind == "digest" and refs.label == "2022-04-03 日报"
    assert [(r.number, r.topic, r.item_id) for r in refs.refs] == [(1, "普惠金融", "NW202204032332360450")]


def test_the_cycle_collector_is_paused_while_digests_are_built_and_runs_again_after(
    tmp_path: Path, seeded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from bot.delivery import digester as module
    from digests.build import build_digest, collector_paused

    seen: list[bool] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return build_digest(*args, **kwargs)

    monkeypatch.setattr(module, "build_digest", watched)
    subscribe(seeded)
    assert gc.isenabled()
    report = Digester(make_config(tmp_path), seeded, lambda: DUE + timedelta(minutes=1)).queue_due()
    assert report.queued and seen == [False]
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: the outer one turns it back on
            pass
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
