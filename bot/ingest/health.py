"""How a source's polls change its state: backoff after failures, and when a source is stale.

Pure functions of the previous state, the poll's outcome and ``now`` (no clock, no database).
A source is ``never`` (not polled yet), ``failing`` (its last poll failed), ``stale`` (it answers
fine but has brought nothing new for far longer than its usual rhythm: often a redesign of the site
that silently broke it), or ``ok``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.records import SourceState

if TYPE_CHECKING:  # the caller brings its generator: `finews-bot status` does not load random
    import random

# Failed polls back off exponentially from the source's interval, up to this cap.
BACKOFF_CAP = timedelta(hours=6)
# A source is stale after this long without anything new, unless its interval or its rhythm asks
# for longer: news sources publish daily, so a day of silence is the least worth a look.
STALE_MINIMUM = timedelta(days=1)
STALE_INTERVALS = 10  # × the polling interval
STALE_RHYTHMS = 4  # × the usual gap between polls that found something
_RHYTHM_WEIGHT = 0.3  # of the newest gap in the moving average


class Health(StrEnum):
    """A source's state as ``status`` shows it."""

    NEVER = "never"
    OK = "ok"
    FAILING = "failing"
    STALE = "stale"


def poll_backoff(every: timedelta, failures: int, retry_after: float | None, rng: random.Random) -> timedelta:
    """The wait before the next attempt after ``failures`` consecutive failures (≥ 1).

    Exponential from the interval, capped, with ±10 % jitter so that sources failing together do
    not retry together; never shorter than the server's ``Retry-After``.
    """
    exponent: int = min(failures, 30)
    wait: timedelta = min(every * 2**exponent, BACKOFF_CAP) * rng.uniform(0.9, 1.1)
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=retry_after))
    return wait


def after_success(
    state: SourceState,
    *,
    now: datetime,
    every: timedelta,
    found: bool,
    etag: str | None = None,
    last_modified: str | None = None,
    warning: str | None = None,
) -> SourceState:
    """The state after a poll that completed; ``found``: it stored something new or updated.

    ``warning`` says what had to be repaired to read the source ("" for nothing); None keeps the
    previous one (a 304 answers with the body read last time).
    """
    last_new = state.last_new
    rhythm = state.rhythm
    if found:
        if last_new is not None:
            gap = (now - last_new).total_seconds()
            rhythm = gap if rhythm is None else (1 - _RHYTHM_WEIGHT) * rhythm + _RHYTHM_WEIGHT * gap
        last_new = now
    elif last_new is None:
        # Nothing new at the first poll (e.g. a folder imported before): watching starts now.
        last_new = now
    return replace(
        state,
        last_attempt=now,
        last_success=now,
        last_error="",
        failures=0,
        next_attempt=now + every,
        last_new=last_new,
        rhythm=rhythm,
        etag=etag if etag is not None else state.etag,
        last_modified=last_modified if last_modified is not None else state.last_modified,
        warning=warning if warning is not None else state.warning,
    )


def after_failure(
    state: SourceState,
    *,
    now: datetime,
    every: timedelta,
    error: str,
    retry_after: float | None,
    rng: random.Random,
) -> SourceState:
    """The state after a failed poll: the error kept, the next attempt backed off."""
    failures = state.failures + 1
    return replace(
        state,
        last_attempt=now,
        last_error=error,
        failures=failures,
        next_attempt=now + poll_backoff(every, failures, retry_after, rng),
    )


def stale_threshold(state: SourceState, every: timedelta, stale_after: timedelta | None) -> timedelta:
    """How long without anything new makes this source stale."""
    if stale_after is not None:
        return stale_after
    threshold = max(STALE_MINIMUM, every * STALE_INTERVALS)
    if state.rhythm is not None:
        threshold = max(threshold, timedelta(seconds=state.rhythm * STALE_RHYTHMS))
    return threshold


def health_of(
    state: SourceState | None, *, now: datetime, every: timedelta, stale_after: timedelta | None = None
) -> Health:
    """The source's health for ``status``."""
    if state is None or state.last_attempt is None:
        return Health.NEVER
    if state.failures > 0:
        return Health.FAILING
    if state.last_new is not None and now - state.last_new > stale_threshold(state, every, stale_after):
        return Health.STALE
    return Health.OK


def state_of(kind: str, state: SourceState | None) -> SourceState | None:
    """The recorded state that applies to a source of ``kind``: none when its kind changed since (a
    folder turned into a feed keeps its name, but its old validators and history mean nothing now)."""
    return state if state is not None and state.kind == kind else None
