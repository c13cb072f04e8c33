"""Random identifiers in the shapes the platforms issue (only the shape matters to a client)."""

from __future__ import annotations

import base64
import secrets
import string
import time
import uuid

_LOWER_ALNUM = string.ascii_lowercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def b64(size: int) -> str:
    """Standard base64 of ``size`` random bytes (with ``+``, ``/`` and padding, as DingTalk's ids)."""
    return base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def alnum(size: int, *, lower: bool = False) -> str:
    alphabet = _LOWER_ALNUM if lower else _ALNUM
    return "".join(secrets.choice(alphabet) for _ in range(size))


def hexid(size: int) -> str:
    return secrets.token_hex((size + 1) // 2)[:size]


def request_id() -> str:
    """An upper-case UUID, as DingTalk's ``requestid``."""
    return str(uuid.uuid4()).upper()


def now_ms() -> int:
    return int(time.time() * 1000)
