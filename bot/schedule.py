"""When digests fall due: pure time arithmetic in the configured time zone (no clock: pass ``now``).

A subscription at 08:30 fires every day (or every weekday) at 08:30 local time, with the digest
of the previous calendar day. The service asks :func:`last_due` at each check and compares it
with what was already delivered, so start-up catch-up, a changed time and a missed check are
all the same question.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = "weekdays"


def _fires_on(day: date, days: str) -> bool:
    return days != WEEKDAYS or day.weekday() < 5


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    # A wall time skipped by a daylight-saving change resolves forward (fold=0), which is fine for
    # a morning digest; Asia/Shanghai has none.
    return datetime.combine(day, clock, tzinfo=tz)


def last_due(clock: time, days: str, tz: ZoneInfo, now: datetime) -> datetime:
    """The latest firing time at or before ``now`` (aware, in ``tz``)."""
    local = now.astimezone(tz)
    day = local.date()
    for _ in range(8):
        fire = _at(day, clock, tz)
        if fire <= local and _fires_on(day, days):
            return fire
        day -= timedelta(days=1)
    raise AssertionError("a week always holds a firing day")  # pragma: no cover


def next_due(clock: time, days: str, tz: ZoneInfo, now: datetime) -> datetime:
    """The first firing time strictly after ``now`` (aware, in ``tz``)."""
    local = now.astimezone(tz)
    day = local.date()
    for _ in range(8):
        fire = _at(day, clock, tz)
        if fire > local and _fires_on(day, days):
            return fire
        day += timedelta(days=1)
    raise AssertionError("a week always holds a firing day")  # pragma: no cover


def covered_day(due: datetime, tz: ZoneInfo) -> date:
    """The calendar day a digest firing at ``due`` covers: the day before, in ``tz``."""
    return due.astimezone(tz).date() - timedelta(days=1)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The start of ``day`` and of the next day in ``tz``: the items of a digest lie in between."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end
