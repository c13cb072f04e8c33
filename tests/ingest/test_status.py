"""source_lines: one wording of a source's health for `finews-bot status` and the chat's /sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import SourceConfig
from bot.domain.records import SourceState
from bot.ingest.health import Health
from bot.ingest.status import CHAT_LAYOUT, CLI_LAYOUT, SourceStatus, source_lines

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SOURCE = SourceConfig("人民银行", "feed", None, timedelta(minutes=30), url="https://rsshub.example/pbc")
WARNING = "已修复后读取：删除 12 个 XML 不允许的控制字符；XML 格式有误，已宽松解析（" + "x" * 200 + "）"


def status(health: Health, **state: object) -> SourceStatus:
    recorded = SourceState("人民银行", "feed", last_attempt=T0, last_success=T0, **state)  # type: ignore[arg-type]
    return SourceStatus(SOURCE, recorded, health, 3, None)


def test_a_repaired_source_is_ok_with_a_warning() -> None:
    lines = source_lines(status(Health.OK, warning=WARNING), ZONE, CLI_LAYOUT)
    assert lines == ["  人民银行（feed，每 30m）：正常，3 条", f"    提示：{WARNING}"]


def test_the_chat_caps_a_long_warning() -> None:
    _, warning = source_lines(status(Health.OK, warning=WARNING), ZONE, CHAT_LAYOUT)
    assert warning.startswith("  提示：已修复后读取：删除 12 个") and len(warning) <= 2 + 3 + 120
    assert warning.endswith("…")


def test_a_failing_source_shows_its_error_not_its_old_warning() -> None:
    failing = status(
        Health.FAILING,
        warning=WARNING,
        last_error="源内容不完整 (truncated XML)",
        failures=2,
        next_attempt=T0,
    )
    lines = source_lines(failing, ZONE, CLI_LAYOUT)
    assert lines[1:] == [
        "    最近错误：源内容不完整 (truncated XML)（连续失败 2 次）",
        "    下次尝试：2026-01-01 08:00",
    ]


def test_a_clean_source_has_one_line() -> None:
    assert len(source_lines(status(Health.OK), ZONE, CLI_LAYOUT)) == 1
