"""Merging a large day's reprints in a worker process: the same groups as here, and a digest that
never fails for want of a process."""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Sequence

import pytest

import digests.reprints_aside as aside
from bot.domain.models import Item
from digests.build import build_digest
from digests.cluster import cluster_items
from digests.reprints_aside import MIN_ITEMS, reprints_aside
from tests.digests.test_cluster import synthetic
from tests.digests.test_digest_build import DAY, TOPICS, item
from tests.helpers.paths import REPO
from tests.helpers.processes import descendants, still_alive_after

pytestmark = pytest.mark.skipif(aside._cores() < 2, reason="the worker is used on two cores or more")


def _die(documents: Sequence[tuple[str, str]]) -> list[list[int]]:
    """Stands in for the worker's task: the worker process ends at once, as if killed."""
    os._exit(3)


def test_a_large_day_is_merged_in_a_worker_into_the_groups_merged_here() -> None:
    items = synthetic(MIN_ITEMS + 200)
    with reprints_aside(items) as groups:
        workers = multiprocessing.active_children()
        found = groups()
    assert workers, "no worker process was started"
    assert found == cluster_items(items)
    assert len(found) < len(items)  # the day has reprints to merge
    assert not multiprocessing.active_children()  # the worker has ended with the block


def test_a_small_day_is_merged_here() -> None:
    items = synthetic(50)
    with reprints_aside(items) as groups:
        assert not multiprocessing.active_children()
        assert groups() == cluster_items(items)


def test_one_core_merges_here(monkeypatch: pytest.MonkeyPatch) -> None:
    items = synthetic(300)
    monkeypatch.setattr(aside, "_cores", lambda: 1)
    with reprints_aside(items, min_items=0) as groups:
        assert not multiprocessing.active_children()
        assert groups() == cluster_items(items)


def _refused(*args: object, **kwargs: object) -> None:
    """Stands in for the pool: what fork() says when the process table or the memory is full (not
    producible here)."""
    raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))


@pytest.mark.parametrize(
    ("replaced", "by", "warning"),
    [
        ("_merge_in_worker", _die, "合并转载的进程中断"),  # a real worker process that dies
        ("ProcessPoolExecutor", _refused, "无法启动合并转载的进程"),
    ],
    ids=["worker dies", "no process to start"],
)
def test_without_a_worker_the_merging_is_done_here_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, replaced: str, by: object, warning: str
) -> None:
    items = synthetic(300)
    monkeypatch.setattr(aside, replaced, by)
    with caplog.at_level(logging.WARNING), reprints_aside(items, min_items=0) as groups:
        found = groups()
    assert found == cluster_items(items)
    assert warning in caplog.text


def test_an_error_in_the_block_still_ends_the_worker() -> None:
    with pytest.raises(RuntimeError), reprints_aside(synthetic(300), min_items=0):
        assert multiprocessing.active_children()
        raise RuntimeError("matching failed")
    assert not multiprocessing.active_children()


def _day(n: int) -> list[Item]:
    """A day of ``n`` items on the build tests' topics, one in three a reprint of an earlier one."""
    items: list[Item] = []
    for i in range(n):
        if i % 3 == 2:
            earlier = items[i - 2]
            items.append(item(f"r{i}", earlier.title, earlier.text + "（新华社）", hour=9, source="xinhua"))
            continue
        topic = "企业上市" if i % 2 else "小微企业贷款"
        text = f"第{i}号消息：株洲市第{i}家{topic}工作取得进展，共涉及{i * 7}家企业。" * 3
        items.append(item(f"i{i}", f"{topic}进展{i}", text, hour=8))
    return items


def test_the_digest_built_with_the_worker_is_the_digest_built_here(monkeypatch: pytest.MonkeyPatch) -> None:
    items = _day(MIN_ITEMS + 50)
    with_worker = build_digest(items, TOPICS, DAY, "Asia/Shanghai")
    monkeypatch.setattr(aside, "MIN_ITEMS", len(items) + 1)
    here = build_digest(items, TOPICS, DAY, "Asia/Shanghai")
    assert with_worker.sections == here.sections
    assert sum(len(entry.ids) == 2 for section in here.sections for entry in section.entries) > 0


# Starts merging a large day in the worker, says which processes it started, then waits.
_MERGING_AND_WAITING = """
import os, sys, time
from tests.digests.test_cluster import synthetic
from digests.reprints_aside import reprints_aside
items = synthetic(3000)
with reprints_aside(items, min_items=0) as groups:
    print("started", flush=True)
    time.sleep(60)
"""


@pytest.mark.slow
def test_a_killed_process_leaves_no_worker_behind() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _MERGING_AND_WAITING], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "started\n"
        started = descendants(process.pid)  # the forkserver, its worker, the resource tracker
    finally:
        process.kill()
        process.wait()
    assert len(started) >= 2, started
    assert still_alive_after(started, 10) == [], "a killed process leaves no worker behind"
