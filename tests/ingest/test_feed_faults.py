"""Real feeds' faults, served by a real local HTTP server and polled by the real poller.

Every fixture of :mod:`tests.helpers.feed_faults` is either read whole — the source ``ok``, with a
warning saying what was repaired, in ``status`` (text and JSON) and in the chat's /sources — or
refused in one line, the source ``failing``; nothing raises, nothing logs a traceback, and no feed
overwrites another's items. A slow drip is cut at the source's own timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.cli import main
from bot.config import Config, load_config
from bot.ingest.poller import Poller, PollReport
from bot.store import Store
from tests.helpers import feed_faults
from tests.helpers.chat import ask, make_context, text
from tests.helpers.feed_faults import NEWS, FaultyFeed

pytestmark = pytest.mark.slow

READ = [
    f
    for f in feed_faults.all_faults()
    if not f.error and not f.name.startswith(("colliding", "deep-nesting-"))
]
REFUSED = [f for f in feed_faults.all_faults() if f.error]
COLLIDING = feed_faults.colliding_guids()


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def serve(server: HTTPServer, feed: FaultyFeed) -> str:
    """Serve ``feed`` exactly: its body, and its Content-Type or none at all."""

    def respond(request: Request) -> Response:
        response = Response(feed.body)
        del response.headers["Content-Type"]
        if feed.content_type:
            response.headers["Content-Type"] = feed.content_type
        return response

    server.expect_request(f"/{feed.name}.xml").respond_with_handler(respond)
    return server.url_for(f"/{feed.name}.xml")


def write_config(tmp_path: Path, sources: list[dict[str, Any]]) -> Path:
    lines = [f'database = "{tmp_path / "finews.db"}"', "[fetch]", "timeout = 10"]
    for source in sources:
        lines.append("[[sources]]")
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in source.items()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def configure(tmp_path: Path, sources: list[dict[str, Any]], environ: dict[str, str] | None = None) -> Config:
    return load_config(str(write_config(tmp_path, sources)), environ=environ or {})


def poll_once(config: Config) -> dict[str, PollReport]:
    async def run() -> list[PollReport]:
        poller = Poller(config)
        try:
            return await poller.poll_many(config.sources)
        finally:
            await poller.aclose()

    return {report.source: report for report in asyncio.run(run())}


class Tracebacks(logging.Handler):
    """Counts log records that carry a traceback."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@pytest.fixture
def tracebacks() -> Iterator[Tracebacks]:
    handler = Tracebacks()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def test_every_fault_is_read_or_refused_in_one_line(
    tmp_path: Path, server: HTTPServer, capsys: pytest.CaptureFixture[str], tracebacks: Tracebacks
) -> None:
    faults = [*READ, *REFUSED, *COLLIDING]
    sources = [{"name": f.name, "kind": "feed", "url": serve(server, f)} for f in faults]
    config_path = write_config(tmp_path, sources)
    config = load_config(str(config_path), environ={})
    reports = poll_once(config)
    assert tracebacks.records == []

    with Store(config.database) as store:
        stored = list(store.all_items())
        states = store.source_states()
    for feed in [*READ, *COLLIDING]:
        report = reports[feed.name]
        assert report.error == "" and report.new == len(feed.entries), (feed.name, report)
        mine = {s.item.title: s.item for s in stored if s.via == feed.name}
        for want in feed.entries:
            title = next(t for t in mine if t.startswith(want.title))
            assert want.phrase in mine[title].text
    for feed in REFUSED:
        error = reports[feed.name].error
        assert feed.error in error and "\n" not in error
        assert states[feed.name].failures == 1
        assert not [s for s in stored if s.via == feed.name]
    # Both feeds using the guid "article:3" keep their own item.
    first, second = COLLIDING
    kept = {s.via: s.item.title for s in stored if s.item.id.endswith(":article:3")}
    assert kept == {first.name: first.entries[0].title, second.name: second.entries[0].title}
    # A repaired feed is ok with a warning; a clean one has none.
    assert states["control-characters"].warning.startswith("已修复后读取：删除 8 个 XML 不允许的控制字符")
    assert "GB18030" in states["undeclared-gbk"].warning
    assert "Big5" in states["undeclared-big5"].warning
    assert "宽松解析" in states["mismatched-tag"].warning
    assert states[first.name].warning == ""

    assert main(["--config", str(config_path), "status"]) == 0
    out = capsys.readouterr().out
    block = out.split("  control-characters（feed，")[1].split("\n  ")[0]
    assert block.startswith("每 10m）：正常，4 条")
    assert "    提示：已修复后读取：删除 8 个 XML 不允许的控制字符" in out
    assert "  truncated（feed，每 10m）：失败，0 条\n    最近错误：源内容不完整" in out
    assert main(["--config", str(config_path), "status", "--json"]) == 0
    by_name = {s["name"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    assert by_name["bare-ampersand"]["state"] == "ok"
    assert by_name["bare-ampersand"]["warning"].startswith("已修复后读取：XML 格式有误，已宽松解析（line 2")
    assert by_name["truncated"]["state"] == "failing" and by_name["truncated"]["warning"] == ""
    assert main(["--config", str(config_path), "fetch", "control-characters"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "control-characters（feed）：新增 0，更新 0，未变 4",
        "  提示：已修复后读取：删除 8 个 XML 不允许的控制字符",
    ]

    with Store(config.database) as store:
        shown = text(ask(make_context(config, store), "/sources"))
    assert "· leading-blank-lines（订阅源，每 10m）：正常，3 条" in shown
    assert "  提示：已修复后读取：删除文档开头的 9 个多余字符" in shown


def test_a_warning_goes_when_the_feed_is_fixed_and_stays_on_304(tmp_path: Path, server: HTTPServer) -> None:
    broken = feed_faults.bare_ampersand().body

    def respond(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(broken, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    server.expect_request("/feed.xml").respond_with_handler(respond)
    config = configure(tmp_path, [{"name": "f", "kind": "feed", "url": server.url_for("/feed.xml")}])

    def warning() -> str:
        with Store(config.database) as store:
            state = store.source_state("f")
            assert state is not None
            return state.warning

    assert poll_once(config)["f"].warning.startswith("已修复后读取：XML 格式有误")
    assert poll_once(config)["f"].not_modified and warning().startswith("已修复后读取")  # as read last
    server.clear()
    fixed = broken.replace(b"&", b"&amp;")
    server.expect_request("/feed.xml").respond_with_data(fixed, content_type="application/rss+xml")
    assert poll_once(config)["f"].warning == "" and warning() == ""


def test_deep_nesting_is_read_without_a_traceback(
    tmp_path: Path, server: HTTPServer, tracebacks: Tracebacks
) -> None:
    feed = feed_faults.deep_nesting(100_000)
    config = configure(tmp_path, [{"name": feed.name, "kind": "feed", "url": serve(server, feed)}])
    started = time.process_time()
    report = poll_once(config)[feed.name]
    assert time.process_time() - started < 10  # 33–45 s of CPU before a RecursionError, before
    assert (report.error, report.new) == ("", 2)
    assert tracebacks.records == []


def test_a_slow_drip_is_cut_at_the_sources_timeout(tmp_path: Path, server: HTTPServer) -> None:
    body = feed_faults.rss_document(feed_faults.rss_item("n1", *NEWS[0])).encode()

    def drip() -> Iterator[bytes]:
        for start in range(0, len(body), 16):
            time.sleep(0.2)  # each piece well within the timeout; the whole far beyond it
            yield body[start : start + 16]

    server.expect_request("/drip.xml").respond_with_handler(
        lambda request: Response(drip(), content_type="application/rss+xml")
    )
    sources = [{"name": "drip", "kind": "feed", "url": server.url_for("/drip.xml"), "timeout": 1.0}]
    config = configure(tmp_path, sources)
    started = time.monotonic()
    report = poll_once(config)["drip"]
    assert time.monotonic() - started < 2.5
    assert report.error == "下载超时 (download took longer than 1 s)"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(
        st.binary(max_size=2000), st.sampled_from([f.body[:3000] for f in feed_faults.all_faults()])
    )
)
def test_no_body_served_as_a_feed_raises(tmp_path: Path, server: HTTPServer, body: bytes) -> None:
    server.clear()
    server.expect_request("/any.xml").respond_with_data(body, content_type="application/rss+xml")
    database = tmp_path / f"{time.monotonic_ns()}.db"
    config = configure(
        tmp_path,
        [{"name": "any", "kind": "feed", "url": server.url_for("/any.xml")}],
        {"FINEWS_DB": str(database)},
    )
    handler = Tracebacks()
    logging.getLogger().addHandler(handler)
    try:
        report = poll_once(config)["any"]
    finally:
        logging.getLogger().removeHandler(handler)
    assert handler.records == []
    assert "\n" not in report.error and "内部错误" not in report.error
