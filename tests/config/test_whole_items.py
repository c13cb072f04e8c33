"""The labelled set read whole (bench/whole_items.py): labels that fit the set, and whole items read
from real git snapshots laid out like the archives', at a pinned commit, with changes noticed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench.relevance import AFTER, REPORTED, SECOND_WHOLE, load_second, main, topics_of, whole_set
from bench.relevance_set import Labelled, load_set
from bench.whole_items import Sources, WholeLabel, digest, load_labels, whole_view
from tests.helpers.relevance import labelled

CLS = "echo-stacker/cailianshe-daily-archive"
XWLB = "DuckBurnIncense/xin-wen-lian-bo"
TOPICS = ("上市", "普惠金融")

_FLASH_FILE = "sources/cls/data/2026/2026-05-14.jsonl"
_FLASHES = [
    {"id": "2370637", "title": "别的快讯", "content": "【别的快讯】无关。"},
    {
        "id": "2370735",
        "title": "某公司科创板IPO获受理",
        "content": "【某公司科创板IPO获受理】财联社5月14日电，某公司首发申请获受理。拟募资10亿元。",
    },
]
_PAGE_FILE = "news/20240512.md"
_PAGE = """# 新闻联播 2024-05-12

## 详细新闻

### 第一条
<p>第一段。</p>

### 前四个月金融支持实体经济质效提升
<p>普惠小微贷款余额增长。</p><p>绿色贷款&amp;科技贷款也在增长。</p>
[查看原文](https://tv.cctv.com/2024/05/12/x.shtml)
"""


def _git(git_dir: Path, *args: str, cwd: Path | None = None) -> str:
    run = subprocess.run(
        ["git", "--git-dir", str(git_dir), *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return run.stdout.strip()


def _snapshot(archives: Path, repo: str, files: dict[str, str]) -> str:
    """A bare-bones snapshot as the workplace's fetch leaves it (``owner+name/repo``): its commit."""
    work = archives / "work" / repo.replace("/", "+")
    git_dir = archives / repo.replace("/", "+") / "repo"
    subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=True)
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text, encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "--git-dir", str(git_dir)]
    git += ["--work-tree", str(work)]
    subprocess.run([*git, "add", "-A"], check=True, capture_output=True)
    subprocess.run([*git, "commit", "-qm", "snapshot"], check=True, capture_output=True)
    return _git(git_dir, "rev-parse", "HEAD")


@pytest.fixture
def sources(tmp_path: Path) -> Sources:
    archives = tmp_path / "mirror"
    flashes = "\n".join(json.dumps(row, ensure_ascii=False) for row in _FLASHES) + "\n"
    snapshots = {
        CLS: _snapshot(archives, CLS, {_FLASH_FILE: flashes}),
        XWLB: _snapshot(archives, XWLB, {_PAGE_FILE: _PAGE}),
    }
    return Sources(archives, tmp_path / "no-corpus", snapshots=snapshots)


def _entry(item_id: str, source: str, text: str, labels: dict[str, bool]) -> Labelled:
    return labelled(item_id, labels, text=text, source=source)


def test_a_flash_and_a_news_segment_are_read_whole_at_the_pinned_commit(sources: Sources) -> None:
    flash = sources.whole("cls-2370735", f"github:{CLS} {_FLASH_FILE} (id 2370735); https://x")
    segment = sources.whole("xwlb-20240512-02", f"github:{XWLB} {_PAGE_FILE} § 前四个月…; https://y")

    assert sources.missing() == []
    # The 【headline】 a flash opens with is its title, not body text.
    assert flash == ("某公司科创板IPO获受理", "财联社5月14日电，某公司首发申请获受理。拟募资10亿元。")
    # Markup, entities and the link line are gone; paragraphs are kept apart.
    assert segment == (
        "前四个月金融支持实体经济质效提升",
        "普惠小微贷款余额增长。\n绿色贷款&科技贷款也在增长。",
    )


def test_what_cannot_be_read_is_none(sources: Sources, tmp_path: Path) -> None:
    assert sources.whole("web-abc", "https://www.gov.cn/page.html") is None
    assert sources.whole("cls-1", f"github:{CLS} {_FLASH_FILE} (id 1)") is None  # no such flash
    assert sources.whole("cls-1", f"github:{CLS} sources/cls/none.jsonl (id 1)") is None
    assert sources.whole("xwlb-20240512-09", f"github:{XWLB} {_PAGE_FILE} § x") is None
    assert sources.whole("fn-1", "github:zning1994/finews _posts/2021-12-08-1.md") is None
    elsewhere = Sources(tmp_path / "nothing-here")
    assert elsewhere.missing() == [CLS, XWLB]


def test_the_view_puts_whole_items_and_their_labels_in_and_reports_what_it_could_not(
    sources: Sources,
) -> None:
    whole_text = "财联社5月14日电，某公司首发申请获受理。拟募资10亿元。"
    no, yes = dict.fromkeys(TOPICS, False), {"上市": True, "普惠金融": False}
    entries = [
        _entry("cls-2370735", f"github:{CLS} {_FLASH_FILE} (id 2370735)", "某公司首发申请获受理。", no),
        _entry("cls-2370637", f"github:{CLS} {_FLASH_FILE} (id 2370637)", "无关。", no),
        _entry("cls-9", f"github:{CLS} {_FLASH_FILE} (id 9)", "读不到。", no),
        _entry("web-1", "https://example.invalid/", "网页摘录。", yes),
    ]
    labels = {
        "cls-2370735": WholeLabel("cls-2370735", len(whole_text), digest(whole_text), yes, "listing"),
        # Labelled for another text than the archive now holds: not measured, reported.
        "cls-2370637": WholeLabel("cls-2370637", 9, digest("别的文字"), yes),
        "cls-9": WholeLabel("cls-9", 4, digest("读不到"), yes),
    }

    view = whole_view(entries, labels, sources)

    assert view.read == 1
    assert view.changed == ["cls-2370637"]
    assert view.unreadable == ["cls-9"]
    first = view.labelled[0]
    assert (first.item.title, first.item.text, first.labels, first.note) == (
        "某公司科创板IPO获受理",
        whole_text,
        yes,
        "listing",
    )
    # The rest keep their excerpt and its labels.
    assert [e.item.text for e in view.labelled[1:]] == ["无关。", "读不到。", "网页摘录。"]
    assert view.labelled[3].labels == yes


def test_the_whole_item_labels_fit_the_set() -> None:
    labels = load_labels()
    set_ids = {entry.item.id for entry in load_set()}
    topics = {t.name for t in topics_of(AFTER)}
    assert len(labels) >= 600
    assert set(labels) <= set_ids
    for label in labels.values():
        assert set(label.labels) == topics
        assert label.length > 0
        assert len(label.digest) == 16 and int(label.digest, 16) >= 0


def test_the_second_reading_of_the_held_out_splits_covers_them_all() -> None:
    second = load_second(SECOND_WHOLE)
    held_out = {entry.item.id for entry in load_set() if entry.split in REPORTED}
    topics = {t.name for t in topics_of(AFTER)}
    assert set(second) == held_out
    assert all(set(labels) == topics for labels in second.values())


def test_without_the_archives_the_whole_view_says_what_to_fetch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said = whole_set(load_set(), tmp_path)
    assert isinstance(said, str)
    assert f"not in {tmp_path}" in said
    assert f"fetch github:{CLS} (commit 8fe1fd6)" in said and f"fetch github:{XWLB} (commit ae8d591)" in said
    assert main(["--whole", "--archives", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == said
