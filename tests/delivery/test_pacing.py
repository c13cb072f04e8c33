"""Pacing: whatever the moments messages are asked for, no sliding window ever holds more than its
limit — which a token bucket of the same rate would not guarantee."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.delivery.pacing import SAFETY, Limit, Pacer

WECOM = (Limit(20, 60.0),)
FEISHU = (Limit(5, 1.0), Limit(100, 60.0))


def send_all(pacer: Pacer, asks: list[float]) -> list[float]:
    """When each message goes out if the sender always waits as long as it is told."""
    sent: list[float] = []
    now = 0.0
    for ask in sorted(asks):
        now = max(now, ask)
        now += pacer.delay(now)
        pacer.record(now)
        sent.append(now)
    return sent


def most_in_a_window(sent: list[float], window: float) -> int:
    return max((sum(1 for t in sent if start <= t < start + window) for start in sent), default=0)


@given(st.lists(st.floats(0, 600, allow_nan=False), max_size=120))
def test_no_window_ever_holds_more_than_its_limit(asks: list[float]) -> None:
    for limits in (WECOM, FEISHU):
        sent = send_all(Pacer(limits), asks)
        for limit in limits:
            assert most_in_a_window(sent, limit.window) <= limit.count


def test_twenty_go_at_once_and_the_twenty_first_waits_for_the_first_to_leave_the_window() -> None:
    sent = send_all(Pacer(WECOM), [0.0] * 21)
    assert sent[:20] == [0.0] * 20
    assert sent[20] == 60.0 * (1 + SAFETY)


def test_feishu_paces_five_a_second_and_a_hundred_a_minute() -> None:
    sent = send_all(Pacer(FEISHU), [0.0] * 101)
    assert sent[5] >= 1.0 and most_in_a_window(sent, 1.0) <= 5
    assert sent[100] >= 60.0


def test_sends_remembered_from_before_a_restart_count() -> None:
    pacer = Pacer(WECOM, sent=[-10.0] * 20)  # twenty sent ten seconds before this process started
    assert pacer.delay(0.0) == 60.0 * (1 + SAFETY) - 10.0
    assert Pacer(WECOM, sent=[-100.0] * 20).delay(0.0) == 0.0
