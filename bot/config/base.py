"""What every part of the configuration shares: the error type, the shape of a table, msgspec's
messages made plain.

A table's keys, types and defaults are declared as a :class:`Shape`. A table that fits is
converted here, in plain Python: loading msgspec costs a command-line query a seventh of its
start-up, and every table of a working configuration fits. One that does not is handed to
msgspec, with a Struct made of the same declaration, so that what is accepted and what a mistake
is called are msgspec's (forbidden unknown keys, an integer where a number is expected, never a
boolean for a number).
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any


class ConfigError(Exception):
    """A configuration that cannot be used; the message is one line for the user."""


class ShapeError(Exception):
    """A table that does not fit its shape; the message is msgspec's ("… - at `$.key`")."""


REQUIRED: Any = object()  # the default of a key that must be given
_NO = object()  # what _fit returns for a value that does not fit


def _fit(value: Any, kind: Any) -> Any:
    """``value`` converted to ``kind`` (a type of the TOML shapes), or _NO when it does not fit."""
    if kind is Any:
        return value
    if kind is str:
        return value if isinstance(value, str) else _NO
    if kind is bool:
        return value if isinstance(value, bool) else _NO
    if kind is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _NO
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _NO
    if kind is None:
        return None if value is None else _NO
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is types.UnionType or origin is typing.Union:
        for option in args:
            fitted = _fit(value, option)
            if fitted is not _NO:
                return fitted
        return _NO
    if origin is list and isinstance(value, list):
        items = [_fit(v, args[0]) for v in value]
        return _NO if any(i is _NO for i in items) else items
    if origin is dict and isinstance(value, dict):
        pairs = {k: _fit(v, args[1]) for k, v in value.items()}
        ok = all(isinstance(k, str) for k in pairs) and all(v is not _NO for v in pairs.values())
        return pairs if ok else _NO
    return _NO


class Shape:
    """The keys of a TOML table, each with its type and default (:data:`REQUIRED` if none):
    what a ``msgspec.Struct`` with ``forbid_unknown_fields`` and ``kw_only`` would declare."""

    def __init__(self, name: str, /, **fields: tuple[Any, Any]) -> None:
        self.name = name
        self.fields = fields

    @property
    def keys(self) -> tuple[str, ...]:
        """The table's keys, in declaration order."""
        return tuple(self.fields)

    def convert(self, raw: Any) -> Any:
        """The table as an object with one attribute per key; ShapeError if it does not fit."""
        if isinstance(raw, dict) and raw.keys() <= self.fields.keys():
            values: dict[str, Any] = {}
            for key, (kind, default) in self.fields.items():
                if key in raw:
                    values[key] = _fit(raw[key], kind)
                elif default is REQUIRED:
                    values[key] = _NO
                else:
                    values[key] = default.copy() if isinstance(default, list | dict) else default
            if all(v is not _NO for v in values.values()):
                return types.SimpleNamespace(**values)
        return self._with_msgspec(raw)

    def _with_msgspec(self, raw: Any) -> Any:
        import msgspec

        struct = msgspec.defstruct(
            self.name,
            [(k, kind) if d is REQUIRED else (k, kind, d) for k, (kind, d) in self.fields.items()],
            forbid_unknown_fields=True,
            kw_only=True,
        )
        try:
            converted = msgspec.convert(raw, struct)
        except msgspec.ValidationError as error:
            raise ShapeError(str(error)) from None
        # Only reached if msgspec accepts what _fit does not: its values, then.
        return types.SimpleNamespace(**msgspec.structs.asdict(converted))


_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "bool": "true or false",
    "array": "an array",
    "object": "a table",
    "float": "a number",
}


def explain(error: ShapeError, where: str, known: tuple[str, ...]) -> str:
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
