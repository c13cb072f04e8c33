"""When digests fall due, in the configured time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.when import covered_day, covered_days, day_bounds, last_due, next_due

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_0830_shanghai_fires_at_0030_utc() -> None:
    now = datetime(2026, 11, 21, 0, 31, tzinfo=UTC)
    due = last_due(time(8, 30), "daily", SHANGHAI, now)
    assert due.astimezone(UTC) == datetime(2026, 11, 21, 0, 30, tzinfo=UTC)
    assert covered_day(due, SHANGHAI) == date(2026, 11, 20)
    before = datetime(2026, 11, 21, 0, 29, tzinfo=UTC)
    assert next_due(time(8, 30), "daily", SHANGHAI, before).astimezone(UTC) == datetime(
        2026, 11, 21, 0, 30, tzinfo=UTC
    )
    # One minute before, the last firing was the previous morning.
    assert last_due(time(8, 30), "daily", SHANGHAI, before).date() == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI), date(2026, 11, 23)),  # Monday after
        (datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI), date(2026, 11, 20)),  # Sunday → Friday's
        (datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI), date(2026, 11, 20)),  # Monday before → Friday
    ],
)
def test_weekdays_skip_the_weekend(now: datetime, expected: date) -> None:
    assert last_due(time(8, 30), "weekdays", SHANGHAI, now).date() == expected


def test_next_due_on_weekdays_jumps_to_monday() -> None:
    friday_evening = datetime(2026, 11, 20, 20, 0, tzinfo=SHANGHAI)
    assert next_due(time(8, 30), "weekdays", SHANGHAI, friday_evening).date() == date(2026, 11, 23)


def test_a_firing_at_exactly_now_is_due() -> None:
    now = datetime(2026, 11, 21, 8, 30, tzinfo=SHANGHAI)
    assert last_due(time(8, 30), "daily", SHANGHAI, now) == now


def test_day_bounds_are_local_midnights() -> None:
    start, end = day_bounds(date(2026, 11, 20), SHANGHAI)
    assert start.astimezone(UTC) == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)
    assert (end - start).total_seconds() == 86400


def test_other_time_zones() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 7, 1, 6, 31, tzinfo=UTC)  # 08:31 in Berlin (summer time)
    assert last_due(time(8, 30), "daily", berlin, now).astimezone(UTC).hour == 6


def test_a_digest_covers_everything_since_the_previous_firing() -> None:

    monday = datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)
    assert covered_days(monday, time(8, 30), "weekdays", SHANGHAI) == (date(2026, 11, 20), date(2026, 11, 22))
    tuesday = monday + timedelta(days=1)
    assert covered_days(tuesday, time(8, 30), "weekdays", SHANGHAI) == (
        date(2026, 11, 23),
        date(2026, 11, 23),
    )
    assert covered_days(monday, time(8, 30), "daily", SHANGHAI) == (date(2026, 11, 22), date(2026, 11, 22))
