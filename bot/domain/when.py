"""Time, as the product speaks of it: one clock, durations, times of day, day words, due times.

Everything here is pure but :class:`Clock`, the one place the process reads the time. Durations
are the config's notation (``"1h30m"``); times of day and day words are what officials type in
chat and on the command line (``08:30``, ``2022年4月3日``, ``昨天``); the due-time arithmetic
says when a subscription's digest fires and which day it covers.

``FINEWS_FAKE_NOW=2026-11-21T08:29:50+08:00`` makes the process believe it started at that
instant; time then runs at its normal pace. End-to-end tests use it to make a digest fall due a
few seconds after start-up without waiting for a real morning. Never set it in production.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.textindex import fold

FAKE_NOW_VARIABLE = "FINEWS_FAKE_NOW"


class Clock:
    """``now()`` in UTC, shifted by a fixed offset (zero but in end-to-end tests)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """The current instant (aware, UTC)."""
        return datetime.now(UTC) + self.offset

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Clock:
        """The real clock, unless ``FINEWS_FAKE_NOW`` names a start instant (an aware ISO 8601 time)."""
        env = os.environ if environ is None else environ
        start = env.get(FAKE_NOW_VARIABLE, "").strip()
        if not start:
            return cls()
        try:
            instant = datetime.fromisoformat(start)
        except ValueError:
            raise ValueError(f"{FAKE_NOW_VARIABLE}: expected an ISO 8601 time, got {start!r}") from None
        if instant.tzinfo is None:
            raise ValueError(f"{FAKE_NOW_VARIABLE}: expected a time with an offset, got {start!r}")
        import logging  # here: a command-line query loads no logging (see bot.cli)

        logging.getLogger(__name__).warning(
            "clock shifted by %s: the process starts at %s", FAKE_NOW_VARIABLE, instant.isoformat()
        )
        return cls(instant - datetime.now(UTC))


# --- durations (the config's notation) ------------------------------------------------------------

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> timedelta:
    """``"5m"``, ``"1h30m"``, ``"2d"``, ``"45s"`` → a positive timedelta; ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(text)
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration <= timedelta(0):
        raise ValueError(text)
    return duration


def format_duration(duration: timedelta) -> str:
    """``timedelta(minutes=90)`` → ``"1h30m"``: the config's own notation."""
    seconds = int(duration.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


# --- times of day and day words (typed by people) --------------------------------------------------

DAILY, WEEKDAYS = "daily", "weekdays"
DAYS = (DAILY, WEEKDAYS)
# How people say which days a digest comes: the config's words and the chat's.
DAYS_WORDS = {"每天": DAILY, "每日": DAILY, "daily": DAILY, "工作日": WEEKDAYS, "weekdays": WEEKDAYS}

_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
# Anything shaped like a time of day is taken as one, so that 25:61 is refused as a time rather
# than looked up as a topic.
_TIME_SHAPE = re.compile(r"\d{1,2}:\d{1,2}")
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_RELATIVE_DAYS = {"今天": 0, "today": 0, "昨天": 1, "yesterday": 1, "前天": 2}


def parse_clock(text: str) -> time:
    """``"08:30"`` → ``time(8, 30)``; ValueError for anything that is not a time of day."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    return time(int(match.group(1)), int(match.group(2)))


def parse_time(text: str) -> time | None:
    """``"08:30"`` as typed (also ``8:30``, ``08：30``) → a time of day; None when it is not one."""
    try:
        return parse_clock(fold(text))
    except ValueError:
        return None


def looks_like_time(text: str) -> bool:
    """Whether ``text`` is shaped like HH:MM, valid or not."""
    return _TIME_SHAPE.fullmatch(fold(text)) is not None


def parse_day(text: str, today: date) -> date | None:
    """``YYYY-MM-DD`` (also 2022/4/3, 2022年4月3日), 今天/昨天/前天, today/yesterday; None if not a day."""
    word = fold(text.strip())
    if word in _RELATIVE_DAYS:
        return today - timedelta(days=_RELATIVE_DAYS[word])
    match = _DATE.fullmatch(word)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


# --- when digests fall due (in the configured time zone; pass ``now``) ------------------------------
# A subscription at 08:30 fires every day (or every weekday) at 08:30 local time, with the digest
# of the previous calendar day. The service asks :func:`last_due` at each check and compares it
# with what was already delivered, so start-up catch-up, a changed time and a missed check are
# all the same question.


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
    """The last calendar day a digest firing at ``due`` covers: the day before, in ``tz``."""
    return due.astimezone(tz).date() - timedelta(days=1)


def covered_days(due: datetime, clock: time, days: str, tz: ZoneInfo) -> tuple[date, date]:
    """The first and last day a digest firing at ``due`` covers: everything since the previous
    firing's — a daily digest the day before, a weekday subscription's Monday digest Friday to
    Sunday (the Friday digest covered Thursday)."""
    previous = last_due(clock, days, tz, due - timedelta(seconds=1))
    return previous.astimezone(tz).date(), covered_day(due, tz)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The start of ``day`` and of the next day in ``tz``: the items of a digest lie in between."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end
