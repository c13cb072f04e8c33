"""Source health: backoff after failures, Retry-After, and stale detection (pure functions)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.records import SourceState
from bot.ingest import health
from bot.ingest.health import Health, after_failure, after_success, health_of, poll_backoff

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EVERY = timedelta(minutes=5)


def fresh() -> SourceState:
    return SourceState("feed", "feed")


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    waits = [poll_backoff(EVERY, n, None, rng) for n in range(1, 12)]
    for n, wait in enumerate(waits[:5], start=1):
        assert EVERY * 2**n * 0.9 <= wait <= EVERY * 2**n * 1.1
    assert all(w <= health.BACKOFF_CAP * 1.1 for w in waits)
    assert waits[-1] >= health.BACKOFF_CAP * 0.9


def test_retry_after_is_honoured() -> None:
    wait = poll_backoff(EVERY, 1, 3600, random.Random(1))
    assert wait >= timedelta(hours=1)


def test_failure_then_success() -> None:
    rng = random.Random(2)
    state = after_failure(fresh(), now=T0, every=EVERY, error="HTTP 500", retry_after=None, rng=rng)
    assert state.failures == 1 and state.last_error == "HTTP 500" and state.last_success is None
    assert state.next_attempt is not None and state.next_attempt > T0 + EVERY
    assert health_of(state, now=T0, every=EVERY) is Health.FAILING
    state = after_failure(state, now=T0, every=EVERY, error="HTTP 500", retry_after=None, rng=rng)
    assert state.failures == 2
    later = T0 + timedelta(hours=1)
    state = after_success(state, now=later, every=EVERY, found=True, etag='"v1"')
    assert state.failures == 0 and state.last_error == "" and state.last_success == later
    assert state.next_attempt == later + EVERY and state.etag == '"v1"'
    assert health_of(state, now=later, every=EVERY) is Health.OK


def test_validators_are_kept_when_a_response_has_none() -> None:
    state = after_success(fresh(), now=T0, every=EVERY, found=True, etag='"a"', last_modified="Mon")
    state = after_success(state, now=T0 + EVERY, every=EVERY, found=False)
    assert (state.etag, state.last_modified) == ('"a"', "Mon")


def test_never_polled() -> None:
    assert health_of(None, now=T0, every=EVERY) is Health.NEVER
    assert health_of(fresh(), now=T0, every=EVERY) is Health.NEVER


@pytest.mark.parametrize(
    ("silence", "expected"),
    [(timedelta(hours=23), Health.OK), (timedelta(hours=25), Health.STALE)],
)
def test_stale_after_a_day_without_news_for_a_frequent_source(silence: timedelta, expected: Health) -> None:
    state = after_success(fresh(), now=T0, every=EVERY, found=True)
    state = after_success(state, now=T0 + silence, every=EVERY, found=False)
    assert health_of(state, now=T0 + silence, every=EVERY) is expected


def test_a_slow_sources_rhythm_raises_its_threshold() -> None:
    # A weekly bulletin: new items every 7 days; 8 days of silence is normal, 30 is not.
    week = timedelta(days=7)
    state = fresh()
    for n in range(5):
        state = after_success(state, now=T0 + week * n, every=timedelta(hours=1), found=True)
    assert state.rhythm == pytest.approx(week.total_seconds())
    last = T0 + week * 4
    assert health_of(state, now=last + timedelta(days=8), every=timedelta(hours=1)) is Health.OK
    assert health_of(state, now=last + timedelta(days=30), every=timedelta(hours=1)) is Health.STALE


def test_configured_stale_after_wins() -> None:
    state = after_success(fresh(), now=T0, every=EVERY, found=True)
    now = T0 + timedelta(hours=3)
    assert health_of(state, now=now, every=EVERY, stale_after=timedelta(hours=2)) is Health.STALE


def test_stale_is_distinct_from_failing() -> None:
    state = after_success(fresh(), now=T0, every=EVERY, found=True)
    late = T0 + timedelta(days=3)
    state = after_failure(
        state, now=late, every=EVERY, error="timeout", retry_after=None, rng=random.Random(3)
    )
    assert health_of(state, now=late, every=EVERY) is Health.FAILING


def test_a_warning_is_set_kept_on_304_and_cleared_when_the_feed_reads_clean() -> None:
    state = after_success(fresh(), now=T0, every=EVERY, found=True, warning="已修复后读取：…")
    assert state.warning == "已修复后读取：…" and health_of(state, now=T0, every=EVERY) is Health.OK
    state = after_success(state, now=T0 + EVERY, every=EVERY, found=False, warning=None)  # a 304
    assert state.warning == "已修复后读取：…"
    failed = after_failure(
        state, now=T0, every=EVERY, error="HTTP 500", retry_after=None, rng=random.Random(1)
    )
    assert failed.warning == "已修复后读取：…"
    assert after_success(failed, now=T0, every=EVERY, found=False, warning="").warning == ""
