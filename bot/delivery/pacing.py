"""Pacing under a platform's rate limits: at most N messages in any window of W seconds.

The group robots count sliding windows ("20 messages per minute", Feishu also "5 per second"),
so the pacing keeps a log of its recent sends rather than a token bucket: a bucket refilled at 20
per minute lets 20 go at once and the 21st three seconds later, which a sliding window of a minute
refuses. Pure bookkeeping: the caller says what time it is and sleeps as long as it is told.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# A platform's clock and ours are not the same clock: each window is kept this much longer.
SAFETY = 0.05  # of the window


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` messages in any ``window`` seconds."""

    count: int
    window: float


class Pacer:
    """Tells how long to wait before the next message so that no limit is ever exceeded."""

    def __init__(self, limits: Sequence[Limit], sent: Iterable[float] = ()) -> None:
        """``sent``: when earlier messages went out (seconds on the caller's clock), so that a
        restarted process does not start from an empty window."""
        self.limits = tuple(limits)
        keep = max((limit.count for limit in self.limits), default=0)
        self._sent: deque[float] = deque(sorted(sent)[-keep:] if keep else (), maxlen=keep or None)

    def delay(self, now: float) -> float:
        """Seconds to wait at ``now`` before the next message may go (0 when it may go now)."""
        wait = 0.0
        for limit in self.limits:
            if len(self._sent) >= limit.count:
                # The message count places back is the one that must have left the window.
                oldest = self._sent[-limit.count]
                wait = max(wait, oldest + limit.window * (1 + SAFETY) - now)
        return max(wait, 0.0)

    def record(self, when: float) -> None:
        """A message went out at ``when``."""
        self._sent.append(when)
