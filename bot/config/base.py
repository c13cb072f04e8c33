"""What every part of the configuration shares: the error type, msgspec's messages made plain."""

from __future__ import annotations

import re

import msgspec


class ConfigError(Exception):
    """A configuration that cannot be used; the message is one line for the user."""


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
