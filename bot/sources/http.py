"""Fetching over HTTP: one client policy for the whole process, one function per fetch.

The policy: connect and read timeouts, redirects followed up to a limit, gzip (httpx's default),
a descriptive User-Agent, an optional proxy, and a cap on the bytes read. :func:`fetch` does a
conditional GET (ETag / Last-Modified: a 304 costs no body) and streams the body, giving up as soon
as the cap is passed. Failures are :class:`FetchError` with a ``kind`` the service can act on and a
one-line Chinese-first message; on 429 and 503 ``retry_after`` carries the server's ``Retry-After``
in seconds (the caller schedules, nothing here sleeps).

Messages never contain request headers or URLs (a URL may carry a token); use :func:`safe_url`
to name a URL in logs.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.domain.when import Clock

FetchErrorKind = Literal["timeout", "connect", "http", "too_large", "redirects", "network"]


def _user_agent() -> str:
    try:
        metadata = importlib.metadata.metadata("finews-bot")
    except importlib.metadata.PackageNotFoundError:
        return "finews-bot/dev (news monitoring for finance offices)"
    # A contact URL only when the project declares one (pyproject [project.urls] "Homepage").
    homepage = next(
        (entry.split(",", 1)[1].strip() for entry in metadata.get_all("Project-URL") or () if "," in entry),
        "",
    )
    contact = f"+{homepage}; " if homepage else ""
    return f"finews-bot/{metadata['Version']} ({contact}news monitoring for finance offices)"


DEFAULT_USER_AGENT = _user_agent()


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """How every request of the process is made (the ``[fetch]`` configuration)."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A successful fetch: 200-class with its body, or 304 (``not_modified``, empty body).

    ``etag`` and ``last_modified`` are the validators to send next time: the response's, else (a
    304 need not repeat them) the ones sent.
    """

    status: int
    url: str  # the final URL, after redirects
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    not_modified: bool


class FetchError(Exception):
    """A fetch that failed.

    ``kind`` is one of ``timeout``, ``connect``, ``http`` (status ≥ 400), ``too_large``,
    ``redirects``, ``network``; ``message`` is one line, Chinese first, naming the status or the
    cause (never a URL or a header); ``retry_after`` (seconds) is set on 429/503 when the server
    said when to come back.
    """

    def __init__(
        self, kind: FetchErrorKind, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        """Carry the failure's ``kind``, ``message``, HTTP ``status`` and ``retry_after``."""
        super().__init__(kind, message, status, retry_after)
        self.kind: FetchErrorKind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        """The message."""
        return self.message


def make_client(policy: FetchPolicy, proxy: str | None = None) -> httpx.AsyncClient:
    """The process's HTTP client for ``policy``, through ``proxy`` (``http://…``, ``socks5://…``)
    when given.

    ``trust_env`` is off: the proxy comes from the configuration only, so that an ``HTTP_PROXY``
    left in the service's environment does not silently reroute (or break) every fetch.
    """
    timeout = httpx.Timeout(
        connect=policy.connect_timeout,
        read=policy.read_timeout,
        write=policy.read_timeout,
        # Waiting for a free connection is not the source's fault: with hundreds of feeds polled
        # at once (``finews-bot fetch``) requests queue for the pool. fetch()'s total deadline
        # still bounds the wait.
        pool=None,
    )
    return httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=policy.max_redirects,
        timeout=timeout,
        headers={"User-Agent": policy.user_agent},
        proxy=proxy or None,
        trust_env=False,
    )


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    headers: Mapping[str, str] | None = None,
    max_bytes: int,
    timeout: float | None = None,
    total_timeout: float | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FetchResult:
    """GET ``url`` with ``client``, conditionally when ``etag``/``last_modified`` are given.

    ``headers`` are added to the client's (a source's own headers). ``timeout`` replaces the
    client's read timeout for this request (a source's own timeout). ``total_timeout`` bounds the
    whole fetch — connecting, waiting and reading the body — and defaults to the read timeout in
    force: a read timeout alone applies to each read, so a server dripping a byte every few seconds
    would hold the fetch (and its source) for as long as it likes. The body is streamed and the
    fetch aborted as soon as more than ``max_bytes``
    have been read, counting decompressed bytes: that is what memory holds and what feedparser
    gets (a gzip bomb is stopped by the decompressed size, not its small transfer size).
    ``clock`` gives "now" for an HTTP-date ``Retry-After``. Raises :class:`FetchError`.
    """
    request_headers = dict(headers or {})
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    request_timeout = client.timeout if timeout is None else _with_read(client.timeout, timeout)
    if total_timeout is None:
        total_timeout = request_timeout.read
    progress = _Progress()
    try:
        async with asyncio.timeout(total_timeout):
            return await _get(
                client,
                url,
                request_headers,
                request_timeout,
                max_bytes,
                clock or Clock().now,
                etag,
                last_modified,
                progress,
            )
    except TimeoutError:  # only asyncio.timeout raises it: httpx raises its own TimeoutException
        limit = f"{total_timeout:g} s" if total_timeout is not None else "the limit"
        if not progress.answered:
            raise FetchError("timeout", f"读取超时 (no response within {limit})") from None
        raise FetchError("timeout", f"下载超时 (download took longer than {limit})") from None
    except httpx.TooManyRedirects:
        raise FetchError(
            "redirects", f"重定向次数过多 (more than {client.max_redirects} redirects)"
        ) from None
    except httpx.TimeoutException as error:
        raise FetchError("timeout", _timeout_message(error)) from None
    except (httpx.ConnectError, httpx.ProxyError) as error:
        raise FetchError("connect", f"无法连接 (cannot connect: {_cause(error)})") from None
    except httpx.HTTPError as error:  # protocol errors, a connection dropped, bad content-encoding
        raise FetchError("network", f"网络错误 ({type(error).__name__}: {_cause(error)})") from None
    except httpx.InvalidURL:  # not an HTTPError: raised while building the request
        raise FetchError("network", "网址无效 (invalid URL)") from None


@dataclass(slots=True)
class _Progress:
    """How far a fetch got, to say which wait the total deadline cut short."""

    answered: bool = False  # the response's status and headers arrived


async def _get(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    timeout: httpx.Timeout,
    max_bytes: int,
    clock: Callable[[], datetime],
    etag: str | None,
    last_modified: str | None,
    progress: _Progress,
) -> FetchResult:
    async with client.stream("GET", url, headers=headers, timeout=timeout) as response:
        progress.answered = True
        status = response.status_code
        if status >= 400:
            raise _http_error(response, clock)
        not_modified = status == 304
        body = b"" if not_modified else await _read_capped(response, max_bytes)
        return FetchResult(
            status=status,
            url=str(response.url),
            body=body,
            etag=response.headers.get("ETag") or etag,
            last_modified=response.headers.get("Last-Modified") or last_modified,
            content_type=response.headers.get("Content-Type"),
            not_modified=not_modified,
        )


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    too_large = FetchError("too_large", f"内容过大 (body larger than {max_bytes:,} bytes)")
    length = response.headers.get("Content-Length", "")
    if "Content-Encoding" not in response.headers and length.isdigit() and int(length) > max_bytes:
        raise too_large  # announced, uncompressed: no need to read any of it
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_large  # leaving the stream closes the connection: nothing more is read
        chunks.append(chunk)
    return b"".join(chunks)


def _http_error(response: httpx.Response, clock: Callable[[], datetime]) -> FetchError:
    status = response.status_code
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("Retry-After", ""), now=clock())
    reason = response.reason_phrase or "error"
    later = f", retry after {retry_after:g} s" if retry_after is not None else ""
    return FetchError("http", f"HTTP 错误 {status} (HTTP {status} {reason}{later})", status, retry_after)


def parse_retry_after(value: str, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds (``120``) or an HTTP-date,
    counted from ``now`` (aware). A date in the past gives 0; an unreadable value None."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" or no zone: HTTP-dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def safe_url(url: str) -> str:
    """``url`` fit for a log line: no user name or password, no query string, no fragment
    (tokens travel in them)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    return urlunsplit((parts.scheme, f"{host}{port}", parts.path, "", ""))


def _with_read(base: httpx.Timeout, read: float) -> httpx.Timeout:
    return httpx.Timeout(connect=base.connect, read=read, write=read, pool=base.pool)


def _timeout_message(error: httpx.TimeoutException) -> str:
    if isinstance(error, httpx.ConnectTimeout):
        return "连接超时 (connect timeout)"
    if isinstance(error, httpx.PoolTimeout):
        return "连接池超时 (pool timeout)"
    return "读取超时 (read timeout)" if isinstance(error, httpx.ReadTimeout) else "发送超时 (write timeout)"


def _cause(error: Exception) -> str:
    # httpx's messages name the OS error or the protocol problem, not the URL or headers;
    # kept to one line and a bounded length all the same.
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]
