"""Fetching against a real local HTTP server (pytest-httpserver on 127.0.0.1): conditional GET,
gzip, redirects, errors, timeouts, the byte cap, Retry-After, headers, proxy.

pytest-asyncio is not a dependency: each test runs its coroutine with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.sources.feeds import parse_feed
from bot.sources.http import (
    DEFAULT_USER_AGENT,
    FetchError,
    FetchPolicy,
    FetchResult,
    fetch,
    make_client,
    parse_retry_after,
    safe_url,
)

FAST = FetchPolicy(connect_timeout=2.0, read_timeout=2.0)


@pytest.fixture(scope="module")
def running_server() -> Iterator[HTTPServer]:
    # Threaded, so that a handler still sleeping or streaming after the client gave up does not hold
    # up the next test's requests.
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def server(running_server: HTTPServer) -> Iterator[HTTPServer]:
    running_server.clear()
    yield running_server
    running_server.check_assertions()  # every expected request came, none unexpected


def get(url: str, policy: FetchPolicy = FAST, proxy: str | None = None, **kwargs: Any) -> FetchResult:
    kwargs.setdefault("etag", None)
    kwargs.setdefault("last_modified", None)
    kwargs.setdefault("max_bytes", policy.max_bytes)

    async def run() -> FetchResult:
        async with make_client(policy, proxy) as client:
            return await fetch(client, url, **kwargs)

    return asyncio.run(run())


def get_error(url: str, policy: FetchPolicy = FAST, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        get(url, policy, **kwargs)
    error = caught.value
    assert "\n" not in error.message
    return error


# --- success ---------------------------------------------------------------------------------------


def test_conditional_get(server: HTTPServer) -> None:
    etag, modified = '"v1"', "Wed, 08 Dec 2021 02:46:18 GMT"
    server.expect_ordered_request("/feed").respond_with_data(
        b"<rss/>",
        content_type="application/rss+xml; charset=utf-8",
        headers={"ETag": etag, "Last-Modified": modified},
    )
    server.expect_ordered_request(
        "/feed", headers={"If-None-Match": etag, "If-Modified-Since": modified}
    ).respond_with_data(b"", status=304)

    async def run() -> tuple[FetchResult, FetchResult]:
        async with make_client(FAST) as client:
            first = await fetch(
                client, server.url_for("/feed"), etag=None, last_modified=None, max_bytes=1000
            )
            second = await fetch(
                client,
                server.url_for("/feed"),
                etag=first.etag,
                last_modified=first.last_modified,
                max_bytes=1000,
            )
            return first, second

    first, second = asyncio.run(run())
    assert (first.status, first.body, first.not_modified) == (200, b"<rss/>", False)
    assert (first.etag, first.last_modified) == (etag, modified)
    assert first.content_type == "application/rss+xml; charset=utf-8"
    assert (second.status, second.body, second.not_modified) == (304, b"", True)
    assert (second.etag, second.last_modified) == (etag, modified)  # kept for the next time


def test_gzip_is_decoded(server: HTTPServer) -> None:
    data = "株洲日报".encode() * 1000
    server.expect_request("/gz").respond_with_data(gzip.compress(data), headers={"Content-Encoding": "gzip"})
    assert get(server.url_for("/gz")).body == data


def test_redirect_is_followed(server: HTTPServer) -> None:
    server.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    server.expect_request("/new").respond_with_data(b"moved")
    result = get(server.url_for("/old"))
    assert (result.status, result.body, result.url) == (200, b"moved", server.url_for("/new"))


def test_headers_sent(server: HTTPServer) -> None:
    server.expect_request(
        "/h", headers={"User-Agent": DEFAULT_USER_AGENT, "X-Api-Key": "k1"}
    ).respond_with_data(b"ok")
    assert get(server.url_for("/h"), headers={"X-Api-Key": "k1"}).body == b"ok"
    assert DEFAULT_USER_AGENT.startswith("finews-bot/")


def test_user_agent_from_policy(server: HTTPServer) -> None:
    server.expect_request("/ua", headers={"User-Agent": "office-bot/1"}).respond_with_data(b"ok")
    assert get(server.url_for("/ua"), FetchPolicy(user_agent="office-bot/1")).body == b"ok"


def test_proxy(server: HTTPServer) -> None:
    # The local server stands in for the proxy: the request for a host that does not exist reaches
    # it in absolute form, so it went through the proxy and not to that host.
    server.expect_request("/via-proxy").respond_with_data(b"proxied")
    proxy = server.url_for("/").rstrip("/")
    assert get("http://feeds.example.invalid/via-proxy", proxy=proxy).body == b"proxied"


def test_fetch_and_parse_a_gbk_feed(server: HTTPServer) -> None:
    feed = (
        '<?xml version="1.0" encoding="gbk"?><rss version="2.0"><channel><title>株洲日报</title>'
        "<item><guid>https://x.cn/1</guid><title>株洲金融发展</title></item></channel></rss>"
    )
    server.expect_request("/gbk").respond_with_data(feed.encode("gbk"), content_type="text/xml")
    result = get(server.url_for("/gbk"))
    parsed = parse_feed(
        result.body,
        url=result.url,
        content_type=result.content_type,
        source="zhuzhou",
        source_name="",
        now=datetime(2024, 1, 1, tzinfo=UTC),
    )
    assert (parsed.title, parsed.items[0].title) == ("株洲日报", "株洲金融发展")


# --- errors ----------------------------------------------------------------------------------------


def test_redirect_loop(server: HTTPServer) -> None:
    server.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    server.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    error = get_error(server.url_for("/a"), FetchPolicy(max_redirects=3))
    assert (error.kind, error.status) == ("redirects", None)


@pytest.mark.parametrize("status", [404, 500])
def test_http_status_errors(server: HTTPServer, status: int) -> None:
    server.expect_request("/e").respond_with_data("nope", status=status)
    error = get_error(server.url_for("/e") + "?token=s3cret", headers={"Authorization": "Bearer s3cret"})
    assert (error.kind, error.status, error.retry_after) == ("http", status, None)
    assert str(status) in error.message
    assert "s3cret" not in error.message and "Bearer" not in error.message


def test_429_retry_after_seconds(server: HTTPServer) -> None:
    server.expect_request("/slow").respond_with_data("", status=429, headers={"Retry-After": "120"})
    error = get_error(server.url_for("/slow"))
    assert (error.kind, error.status, error.retry_after) == ("http", 429, 120.0)


def test_503_retry_after_http_date(server: HTTPServer) -> None:
    server.expect_request("/down").respond_with_data(
        "", status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )
    error = get_error(server.url_for("/down"), clock=lambda: datetime(2015, 10, 21, 7, 26, tzinfo=UTC))
    assert (error.kind, error.status, error.retry_after) == ("http", 503, 120.0)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        (" 3600 ", 3600.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 120.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 120.0),  # RFC 850 form, still allowed
        ("", None),
        ("soon", None),
        ("-5", None),
    ],
)
def test_parse_retry_after(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, now=datetime(2015, 10, 21, 7, 26, tzinfo=UTC)) == seconds


def test_read_timeout(server: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return Response(b"late")

    server.expect_request("/sleep").respond_with_handler(slow)
    error = get_error(server.url_for("/sleep"), FetchPolicy(read_timeout=0.1))
    assert (error.kind, error.status) == ("timeout", None)
    assert "读取超时" in error.message


def test_per_request_timeout_replaces_the_read_timeout(server: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return Response(b"late")

    server.expect_request("/sleep2").respond_with_handler(slow)
    assert get_error(server.url_for("/sleep2"), FetchPolicy(read_timeout=30), timeout=0.1).kind == "timeout"


def test_total_timeout_stops_a_dripping_server(server: HTTPServer) -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(50):
            time.sleep(0.05)  # each read comes well within the read timeout
            yield b"x"

    server.expect_request("/drip").respond_with_handler(lambda request: Response(drip()))
    started = time.monotonic()
    error = get_error(server.url_for("/drip"), total_timeout=0.3)
    assert error.kind == "timeout"
    assert time.monotonic() - started < 1.5


def test_the_whole_download_is_bounded_by_the_read_timeout_by_default(server: HTTPServer) -> None:
    # Each byte comes within the read timeout; the download as a whole does not.
    def drip() -> Iterator[bytes]:
        for _ in range(40):
            time.sleep(0.05)
            yield b"x"

    server.expect_request("/drip").respond_with_handler(lambda request: Response(drip()))
    started = time.monotonic()
    error = get_error(server.url_for("/drip"), FetchPolicy(read_timeout=30), timeout=0.5)
    assert (error.kind, error.message) == ("timeout", "下载超时 (download took longer than 0.5 s)")
    assert time.monotonic() - started < 1.5


def test_connection_refused() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = get_error(f"http://127.0.0.1:{port}/feed")
    assert (error.kind, error.status) == ("connect", None)


def test_invalid_url() -> None:
    assert get_error("http://[::1/feed").kind == "network"


def test_body_over_the_cap_stops_early(server: HTTPServer) -> None:
    chunk, count = b"x" * 65536, 80  # 5 MiB, sent over at least 80 × 20 ms = 1.6 s
    sent = []
    done = threading.Event()

    def stream() -> Iterator[bytes]:
        try:
            for _ in range(count):
                time.sleep(0.02)
                sent.append(len(chunk))
                yield chunk
        finally:
            done.set()

    server.expect_request("/big").respond_with_handler(lambda request: Response(stream()))
    started = time.monotonic()
    error = get_error(server.url_for("/big"), max_bytes=1024)
    elapsed = time.monotonic() - started
    assert (error.kind, error.status) == ("too_large", None)
    assert "1,024" in error.message
    assert elapsed < 0.8  # well before the whole body could have been sent
    done.wait(2)  # the server notices the closed connection at its next write
    assert sum(sent) < count * len(chunk) // 2


def test_announced_length_over_the_cap_is_not_read(server: HTTPServer) -> None:
    server.expect_request("/huge").respond_with_data(b"x" * 200_000)
    assert get_error(server.url_for("/huge"), max_bytes=100_000).kind == "too_large"


def test_cap_counts_decompressed_bytes(server: HTTPServer) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)  # about 5 KB on the wire
    assert len(bomb) < 10_000
    server.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    assert get_error(server.url_for("/bomb"), max_bytes=100_000).kind == "too_large"


def test_cap_exactly_reached_is_accepted(server: HTTPServer) -> None:
    server.expect_request("/exact").respond_with_data(b"x" * 1000)
    assert len(get(server.url_for("/exact"), max_bytes=1000).body) == 1000


# --- logging help ------------------------------------------------------------------------------------


def test_safe_url() -> None:
    assert safe_url("https://user:pw@rsshub.example:8443/x/y?key=abc#f") == "https://rsshub.example:8443/x/y"
    assert safe_url("http://[::1") == "<invalid URL>"
