"""Feed sources polled by the service against a real local HTTP server, faults included.

Every fault must leave the other sources working, show its error in the source's state, and store
nothing of the failing feed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.config import Config, parse_config
from bot.domain.textindex import compile_query
from bot.ingest.poller import Poller, PollReport
from bot.store import Store

# Every test here runs real processes or servers: seconds each.
pytestmark = pytest.mark.slow


def rss(items: list[tuple[str, str, str]], encoding: str = "utf-8", title: str = "株洲新闻") -> bytes:
    entries = "".join(
        f"<item><title>{t}</title><link>http://news.example.test/{g}.html</link><guid>{g}</guid>"
        f"<description>{d}</description><pubDate>Wed, 08 Dec 2021 02:46:18 GMT</pubDate></item>"
        for g, t, d in items
    )
    document = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://news.example.test/</link><description>测试</description>{entries}</channel></rss>"
    )
    return document.encode(encoding)


GOOD = rss([("good-1", "株洲市普惠金融", "株洲市推进普惠金融"), ("good-2", "企业上市", "两家企业上市")])


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    # Threaded: a slow response must not hold up the other feeds' requests.
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def make_config(tmp_path: Path, server: HTTPServer, bad_path: str, **fetch: Any) -> Config:
    data: dict[str, Any] = {
        "fetch": {"timeout": 1.0, "connect_timeout": 1.0, **fetch},
        "sources": [
            {"name": "good", "kind": "feed", "url": server.url_for("/good.xml"), "every": "5m"},
            {"name": "bad", "kind": "feed", "url": server.url_for(bad_path), "every": "5m"},
        ],
    }
    return parse_config(data, path=tmp_path / "c.toml", environ={"FINEWS_DB": str(tmp_path / "f.db")})


def poll_all(config: Config) -> dict[str, PollReport]:
    async def run() -> list[PollReport]:
        poller = Poller(config)
        try:
            return await poller.poll_many(config.sources)
        finally:
            await poller.aclose()

    return {r.source: r for r in asyncio.run(run())}


def assert_fault(config: Config, reports: dict[str, PollReport], expected: str) -> None:
    assert reports["good"].error == "" and reports["good"].new == 2
    assert expected in reports["bad"].error, reports["bad"].error
    with Store(config.database) as store:
        assert {c.via: c.items for c in store.counts_by_via()} == {"good": 2}, "nothing of the bad feed"
        state = store.source_state("bad")
        assert state is not None and state.failures == 1 and expected in state.last_error
        assert state.next_attempt is not None and state.next_attempt > datetime.now(UTC)


def test_new_items_are_stored_and_searchable(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    server.expect_request("/more.xml").respond_with_data(
        rss([("more-1", "赣州绿色金融", "绿色金融改革")]), content_type="application/rss+xml"
    )
    config = make_config(tmp_path, server, "/more.xml")
    reports = poll_all(config)
    assert (reports["good"].new, reports["bad"].new) == (2, 1)
    with Store(config.database) as store:
        result = store.search([compile_query("普惠金融")])
        assert result.total == 1 and result.items[0].item.source_name in {"good", "株洲新闻"}
    again = poll_all(config)
    assert (again["good"].new, again["good"].unchanged) == (0, 2)


def test_conditional_get_round_trip(tmp_path: Path, server: HTTPServer) -> None:
    seen: list[dict[str, str | None]] = []

    def handler(request: Request) -> Response:
        seen.append({"etag": request.headers.get("If-None-Match"), "ua": request.headers.get("User-Agent")})
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(GOOD, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    server.expect_request("/good.xml").respond_with_handler(handler)
    other = rss([("other-1", "另一条", "另一条新闻")])
    server.expect_request("/other.xml").respond_with_data(other, content_type="application/rss+xml")
    config = make_config(tmp_path, server, "/other.xml")
    first = poll_all(config)["good"]
    second = poll_all(config)["good"]
    assert first.new == 2 and not first.not_modified
    assert second.not_modified and (second.new, second.unchanged) == (0, 0)
    assert seen[0]["etag"] is None and seen[1]["etag"] == '"v1"'
    assert seen[0]["ua"] and seen[0]["ua"].startswith("finews-bot/")


def test_one_story_in_two_feeds_is_stored_once(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    server.expect_request("/copy.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    config = make_config(tmp_path, server, "/copy.xml")
    first = poll_all(config)
    assert first["good"].new + first["bad"].new == 2
    again = poll_all(config)
    assert again["good"].updated == again["bad"].updated == 0, "two feeds never flip one item"
    with Store(config.database) as store:
        assert store.count() == 2


def test_a_gbk_encoded_feed_succeeds(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    body = rss([("gbk-1", "赣南日报：金融助力乡村振兴", "普惠金融服务乡村振兴")], encoding="gbk")
    server.expect_request("/gbk.xml").respond_with_data(body, content_type="application/rss+xml")
    config = make_config(tmp_path, server, "/gbk.xml")
    reports = poll_all(config)
    assert reports["bad"].error == "" and reports["bad"].new == 1
    with Store(config.database) as store:
        (hit,) = store.search([compile_query("乡村振兴")]).items
        assert hit.item.title == "赣南日报：金融助力乡村振兴"


def test_http_500(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    server.expect_request("/bad.xml").respond_with_data("oops", status=500)
    config = make_config(tmp_path, server, "/bad.xml")
    assert_fault(config, poll_all(config), "500")


def test_http_404(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    server.expect_request("/missing.xml").respond_with_data("not found", status=404)
    config = make_config(tmp_path, server, "/missing.xml")
    assert_fault(config, poll_all(config), "404")


def test_read_timeout_does_not_hold_up_the_others(tmp_path: Path, server: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(3)
        return Response(GOOD, content_type="application/rss+xml")

    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    server.expect_request("/slow.xml").respond_with_handler(slow)
    config = make_config(tmp_path, server, "/slow.xml")
    started = time.monotonic()
    reports = poll_all(config)
    assert time.monotonic() - started < 3, "the poll gave up on the slow feed at its timeout"
    assert_fault(config, reports, "超时")


def test_connection_refused(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    config = make_config(tmp_path, server, "/x.xml")
    dead = HTTPServer(host="127.0.0.1")  # a port with nothing listening
    dead.start()
    dead_url = dead.url_for("/feed.xml")
    dead.stop()
    config = replace(config, sources=(config.sources[0], replace(config.sources[1], url=dead_url)))
    assert_fault(config, poll_all(config), "连接")


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (GOOD[: len(GOOD) // 2], "application/rss+xml", "不完整"),  # truncated mid-document
        (
            b"<!DOCTYPE html><html><head><title>404</title></head><body><p>Page</p></body></html>",
            "text/html",
            "不是 RSS/Atom",
        ),
    ],
    ids=["truncated", "html-page"],
)
def test_bodies_that_are_not_a_whole_feed(
    tmp_path: Path, server: HTTPServer, body: bytes, content_type: str, expected: str
) -> None:
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    server.expect_request("/bad.xml").respond_with_data(body, content_type=content_type)
    config = make_config(tmp_path, server, "/bad.xml")
    assert_fault(config, poll_all(config), expected)


def test_malformed_xml_is_read_leniently(tmp_path: Path, server: HTTPServer) -> None:
    # Refused as "不完整" before the lenient reading (this body was the "malformed" case above): the
    # document is whole, so it is read; its one entry has no guid and no link and is rejected alone.
    body = b"<?xml version='1.0'?><rss><channel><item><title>a</title></itm></channel></rss>"
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    server.expect_request("/bad.xml").respond_with_data(body, content_type="application/rss+xml")
    config = make_config(tmp_path, server, "/bad.xml")
    reports = poll_all(config)
    assert (reports["bad"].error, reports["bad"].new, reports["bad"].rejected) == ("", 0, 1)


def test_a_body_far_over_the_cap(tmp_path: Path, server: HTTPServer) -> None:
    huge = rss([(f"big-{n}", "大文件" * 10, "金融" * 500) for n in range(2000)])
    assert len(huge) > 5_000_000
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    server.expect_request("/bad.xml").respond_with_data(huge, content_type="application/rss+xml")
    config = make_config(tmp_path, server, "/bad.xml", max_bytes=200_000)
    assert_fault(config, poll_all(config), "过大")


def test_a_redirect_loop(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    server.expect_request("/bad.xml").respond_with_data("", status=302, headers={"Location": "/bad.xml"})
    config = make_config(tmp_path, server, "/bad.xml")
    assert_fault(config, poll_all(config), "重定向")


def test_429_with_retry_after_is_honoured(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    server.expect_request("/bad.xml").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7200"}
    )
    config = make_config(tmp_path, server, "/bad.xml")
    assert_fault(config, poll_all(config), "429")
    with Store(config.database) as store:
        state = store.source_state("bad")
        assert state is not None and state.next_attempt is not None
        assert state.next_attempt >= datetime.now(UTC) + timedelta(seconds=7000)


def test_many_slow_feeds_do_not_hold_up_a_good_one(tmp_path: Path, server: HTTPServer) -> None:
    from bot.ingest.poller import MAX_CONCURRENT_FETCHES

    def slow(request: Request) -> Response:
        time.sleep(3)
        return Response(GOOD, content_type="application/rss+xml")

    server.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    slow_count = MAX_CONCURRENT_FETCHES + 4
    for n in range(slow_count):
        server.expect_request(f"/slow{n}.xml").respond_with_handler(slow)
    data = {
        "fetch": {"timeout": 1.0, "connect_timeout": 1.0},
        "sources": [
            *(
                {"name": f"slow{n}", "kind": "feed", "url": server.url_for(f"/slow{n}.xml")}
                for n in range(slow_count)
            ),
            {"name": "good", "kind": "feed", "url": server.url_for("/good.xml")},
        ],
    }
    config = parse_config(data, path=tmp_path / "c.toml", environ={"FINEWS_DB": str(tmp_path / "f.db")})
    started = time.monotonic()
    reports = poll_all(config)
    # The slow ones time out after 1 s each, at most MAX_CONCURRENT_FETCHES at a time: the good feed,
    # last in line, waits for at most one round of them.
    assert time.monotonic() - started < 3
    assert reports["good"].error == "" and reports["good"].new == 2
    assert all("超时" in reports[f"slow{n}"].error for n in range(slow_count))
