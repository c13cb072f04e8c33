"""What every part of the configuration shares: the error type, durations, msgspec's messages made plain."""

from __future__ import annotations

import re
from datetime import timedelta

import msgspec

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


class ConfigError(Exception):
    """A configuration that cannot be used; the message is one line for the user."""


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


_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "bool": "true or false",
    "array": "an array",
    "object": "a table",
    "float": "a number",
}


def explain(error: msgspec.ValidationError, where: str, known: tuple[str, ...]) -> str:
    """Turn msgspec's message into 'where.key: expected …', naming the allowed keys when useful."""
    message = str(error)
    path = ""
    if " - at `$" in message:
        message, _, at = message.partition(" - at `$")
        path = at.rstrip("`")
    location = where + path
    unknown = re.fullmatch(r"Object contains unknown field `(.+)`", message)
    if unknown:
        return f"{location}: unknown key {unknown.group(1)!r} (expected one of: {', '.join(known)})"
    missing = re.fullmatch(r"Object missing required field `(.+)`", message)
    if missing:
        return f"{location}: missing required key {missing.group(1)!r}"
    wrong = re.fullmatch(r"Expected `(.+)`, got `(.+)`", message)
    if wrong:
        expected = _TYPE_NAMES.get(wrong.group(1), wrong.group(1))
        got = _TYPE_NAMES.get(wrong.group(2), wrong.group(2))
        return f"{location}: expected {expected}, got {got}"
    return f"{location}: {message}"
