"""``[fetch]`` and ``[[sources]]``: where news is read from, and the one HTTP client policy."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config.base import REQUIRED, ConfigError, Shape, ShapeError, explain
from bot.domain.when import parse_duration

SOURCE_KINDS = ("folder", "feed")
DEFAULT_MAX_BYTES = 10_000_000


_RAW_SOURCE = Shape(
    "source",
    name=(str, REQUIRED),
    kind=(str, REQUIRED),
    path=(str, ""),
    url=(str, ""),
    every=(str, "10m"),
    enabled=(bool, True),
    timeout=(float | None, None),
    headers=(dict[str, str], {}),
    proxy=(str, ""),
    stale_after=(str, ""),
)
_RAW_FETCH = Shape(
    "fetch",
    timeout=(float, 30.0),
    connect_timeout=(float, 10.0),
    max_bytes=(int, DEFAULT_MAX_BYTES),
    max_redirects=(int, 5),
    user_agent=(str, ""),
    proxy=(str, ""),
)

SOURCE_KEYS = _RAW_SOURCE.keys


FETCH_KEYS = _RAW_FETCH.keys


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One ``[[sources]]`` entry: a ``folder`` (``path``) or a ``feed`` (``url``)."""

    name: str
    kind: str
    path: Path | None
    every: timedelta
    enabled: bool = True
    url: str = ""
    timeout: float | None = None  # seconds; None: the [fetch] default
    headers: Mapping[str, str] = field(default_factory=dict)
    proxy: str = ""  # "": the [fetch] default
    stale_after: timedelta | None = None  # None: derived from the source's rhythm

    @property
    def location(self) -> str:
        """Where the source reads from: its folder or its URL."""
        return str(self.path) if self.path is not None else self.url


@dataclass(frozen=True, slots=True)
class FetchConfig:
    """``[fetch]``: the one HTTP client policy of the process."""

    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5
    user_agent: str = ""  # "": finews-bot's own descriptive User-Agent
    proxy: str = ""


def resolve_path(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def parse_source(raw: Any, index: int, base: Path, file: str) -> SourceConfig:
    where = f"sources[{index}]"
    try:
        source = _RAW_SOURCE.convert(raw)
    except ShapeError as error:
        raise ConfigError(f"{file}: {explain(error, where, SOURCE_KEYS)}") from None
    if not source.name.strip():
        raise ConfigError(f"{file}: {where}.name: expected a non-empty name")
    if source.kind not in SOURCE_KINDS:
        raise ConfigError(
            f"{file}: {where}.kind: expected one of {', '.join(SOURCE_KINDS)}, got {source.kind!r}"
        )
    try:
        every = parse_duration(source.every)
    except ValueError:
        raise ConfigError(
            f'{file}: {where}.every: expected a duration like "30s", "5m", "1h", got {source.every!r}'
        ) from None
    stale_after = None
    if source.stale_after:
        try:
            stale_after = parse_duration(source.stale_after)
        except ValueError:
            raise ConfigError(
                f'{file}: {where}.stale_after: expected a duration like "1d", got {source.stale_after!r}'
            ) from None
    if source.timeout is not None and source.timeout <= 0:
        raise ConfigError(f"{file}: {where}.timeout: expected a positive number of seconds")
    path: Path | None = None
    if source.kind == "folder":
        if not source.path:
            raise ConfigError(f"{file}: {where}: a folder source needs a path")
        if source.url:
            raise ConfigError(f"{file}: {where}.url: a folder source reads its path, not a url")
        path = resolve_path(base, source.path)
    else:
        if not re.match(r"https?://[^/\s]+", source.url):
            raise ConfigError(f"{file}: {where}.url: expected an http:// or https:// URL, got {source.url!r}")
        if source.path:
            raise ConfigError(f"{file}: {where}.path: a feed source reads its url, not a path")
    _check_proxy(source.proxy, f"{file}: {where}.proxy")
    return SourceConfig(
        name=source.name,
        kind=source.kind,
        path=path,
        every=every,
        enabled=source.enabled,
        url=source.url,
        timeout=source.timeout,
        headers=dict(source.headers),
        proxy=source.proxy,
        stale_after=stale_after,
    )


def _check_proxy(proxy: str, where: str) -> None:
    if proxy and not re.match(r"(https?|socks5h?)://\S+", proxy):
        raise ConfigError(f"{where}: expected a proxy URL like http://127.0.0.1:3128, got {proxy!r}")


def parse_fetch(raw: Any, file: str) -> FetchConfig:
    try:
        fetch = _RAW_FETCH.convert(raw)
    except ShapeError as error:
        raise ConfigError(f"{file}: {explain(error, 'fetch', FETCH_KEYS)}") from None
    for key in ("timeout", "connect_timeout", "max_bytes"):
        if getattr(fetch, key) <= 0:
            raise ConfigError(f"{file}: fetch.{key}: expected a positive number")
    if fetch.max_redirects < 0:
        raise ConfigError(f"{file}: fetch.max_redirects: expected 0 or more")
    _check_proxy(fetch.proxy, f"{file}: fetch.proxy")
    return FetchConfig(
        fetch.timeout,
        fetch.connect_timeout,
        fetch.max_bytes,
        fetch.max_redirects,
        fetch.user_agent,
        fetch.proxy,
    )
