"""Folder sources polled by the service: new and changed files only, half-written files retried."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import Config, SourceConfig, parse_config
from bot.domain.textindex import compile_query
from bot.ingest.poller import Poller, PollReport
from bot.store import Store
from tests.helpers.posts import POST, write_post


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    posts = tmp_path / "posts"
    posts.mkdir()
    return posts


@pytest.fixture
def config(tmp_path: Path, folder: Path) -> Config:
    data = {"sources": [{"name": "posts", "kind": "folder", "path": str(folder), "every": "1m"}]}
    return parse_config(data, path=tmp_path / "config.toml", environ={"FINEWS_DB": str(tmp_path / "f.db")})


@pytest.fixture
def poller(config: Config) -> Iterator[Poller]:
    poller = Poller(config)
    yield poller
    asyncio.run(poller.aclose())


def poll(poller: Poller, source: SourceConfig) -> PollReport:
    report = asyncio.run(poller.poll(source, force=True))
    assert report.error == "", report.error
    return report


def counts(report: PollReport) -> tuple[int, int, int]:
    return report.new, report.updated, report.unchanged


def test_new_and_changed_files_only(poller: Poller, config: Config, folder: Path) -> None:
    source = config.sources[0]
    write_post(folder, "NW1")
    write_post(folder, "NW2")
    assert counts(poll(poller, source)) == (2, 0, 0)
    # Nothing changed: nothing is read again (a re-read file would count as unchanged).
    assert counts(poll(poller, source)) == (0, 0, 0)
    write_post(folder, "NW3")
    changed = write_post(folder, "NW1", body="株洲金融新闻 更正版")
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    assert counts(poll(poller, source)) == (1, 1, 0)


def test_a_file_written_in_two_steps_is_retried_not_lost(
    poller: Poller, config: Config, folder: Path
) -> None:
    source = config.sources[0]
    full = POST.format(title="半截文章", minute=5, body="普惠金融 分两次写入", id="NW9")
    path = folder / "2021-12-08-NW9.md"
    path.write_text(full[:40], encoding="utf-8")  # the front matter is not closed yet
    first = poll(poller, source)
    assert counts(first) == (0, 0, 0) and len(first.skipped) == 1
    assert "前置信息未结束" in first.skipped[0].reason
    path.write_text(full, encoding="utf-8")
    assert counts(poll(poller, source)) == (1, 0, 0)
    with Store(config.database) as store:
        assert store.search([compile_query("分两次写入")]).total == 1


def test_a_deleted_file_is_forgotten_and_its_item_kept(poller: Poller, config: Config, folder: Path) -> None:
    source = config.sources[0]
    path = write_post(folder, "NW1")
    poll(poller, source)
    path.unlink()
    assert counts(poll(poller, source)) == (0, 0, 0)
    with Store(config.database) as store:
        assert store.get("NW1") is not None, "the news happened: deleting its file does not unsay it"
        assert store.seen_files("posts") == {}


def test_a_renamed_file_is_the_same_item(poller: Poller, config: Config, folder: Path) -> None:
    source = config.sources[0]
    path = write_post(folder, "NW1")
    poll(poller, source)
    path.rename(folder / "renamed.md")
    assert counts(poll(poller, source)) == (0, 0, 1)
    with Store(config.database) as store:
        assert store.count() == 1
        assert list(store.seen_files("posts")) == [str(folder / "renamed.md")]


def test_a_missing_folder_is_an_error_for_that_source(poller: Poller, config: Config, folder: Path) -> None:
    folder.rmdir()
    report = asyncio.run(poller.poll(config.sources[0], force=True))
    assert "文件夹不存在" in report.error
    with Store(config.database) as store:
        state = store.source_state("posts")
        assert state is not None and state.failures == 1 and "文件夹不存在" in state.last_error


@pytest.mark.slow
def test_ten_thousand_files_rescanned_without_rereading(poller: Poller, config: Config, folder: Path) -> None:
    source = config.sources[0]
    for n in range(10_000):
        write_post(folder, f"NW{n}", minute=n % 60)
    assert counts(poll(poller, source)) == (10_000, 0, 0)
    write_post(folder, "NW10000")
    assert counts(poll(poller, source)) == (1, 0, 0)  # only the new one was read


def test_backing_off_skips_turns_until_due(tmp_path: Path) -> None:
    data = {"sources": [{"name": "gone", "kind": "folder", "path": str(tmp_path / "nope"), "every": "1m"}]}
    config = parse_config(data, path=tmp_path / "c.toml", environ={"FINEWS_DB": str(tmp_path / "f.db")})
    poller = Poller(config)
    try:
        failed = asyncio.run(poller.poll(config.sources[0]))
        assert failed.error and failed.next_attempt is not None
        again = asyncio.run(poller.poll(config.sources[0]))
        assert again.not_due and again.error == ""
        assert failed.next_attempt - poller.clock() > timedelta(minutes=1)
    finally:
        asyncio.run(poller.aclose())


def test_the_cheap_count_agrees_with_the_walk(tmp_path: Path) -> None:
    from bot.ingest.importer import count_files, discover

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    for name in ("a/x.md", "a/b/y.txt", "a/b/z.jpg", ".git/h.md", "a/.hidden.md", "top.markdown"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    walked = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])]
    assert walked == ["top.markdown", "a/x.md", "a/b/y.txt"]
    assert count_files([tmp_path]) == len(walked) == 3
