"""The service's clock: real time, or real time shifted to start at a given instant (for tests).

``FINEWS_FAKE_NOW=2026-11-21T08:29:50+08:00`` makes the process believe it started at that
instant; time then runs at its normal pace. End-to-end tests use it to make a digest fall due a
few seconds after start-up without waiting for a real morning. Never set it in production.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

FAKE_NOW_VARIABLE = "FINEWS_FAKE_NOW"


class Clock:
    """``now()`` in UTC, shifted by a fixed offset."""

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
        log.warning("clock shifted by %s: the process starts at %s", FAKE_NOW_VARIABLE, instant.isoformat())
        return cls(instant - datetime.now(UTC))
