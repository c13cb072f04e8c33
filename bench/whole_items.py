"""The labelled set read whole: each excerpt replaced by the whole item it was cut from.

The set keeps short excerpts only (never whole articles), but the bot matches whole items: a
新闻联播 segment of 3,000 characters, a PBoC work-meeting flash, a morning-news wrap. So
``whole_items.jsonl`` labels, by meaning and blind to the rules, the whole item behind every excerpt
that was cut from something longer, and this module puts the two together again: the whole text
is read from the public archives' git snapshots (the ones the set was drawn from, at the commits
it was drawn at) and from the finews corpus beside the checkout, parsed by the product's own
parser. The whole texts stay where they are published; only their labels, lengths and digests are
kept in the repository, so a changed or missing source is reported instead of measured wrongly.

The archives are not beside every checkout: fetch ``github:echo-stacker/cailianshe-daily-archive``
and ``github:DuckBurnIncense/xin-wen-lian-bo`` (the workplace's ``fetch`` puts their git
directories under ``/work/.mirror``), or point ``--archives`` at a directory holding them as
``owner+name/repo``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import CORPUS, REPO
from bench.relevance_set import SET, Labelled
from bot.sources.errors import ParseError
from bot.sources.finews import parse_post

WHOLE = SET.with_name("whole_items.jsonl")
# Where the workplace's fetch keeps repository snapshots (git directories), beside the checkout.
ARCHIVES = REPO.parent / ".mirror"
# The commits the set was drawn at (its README, "Pools"): later commits may rewrite an item.
SNAPSHOTS = {
    "echo-stacker/cailianshe-daily-archive": "8fe1fd6f12a95dee176a0e102487742b4aa360a8",
    "DuckBurnIncense/xin-wen-lian-bo": "ae8d591d33dd3701a34045e0acb24cd5b70b2ede",
}
# A source as the set records it: "github:owner/name path (id 123); url" or "… path § title; url".
_SOURCE = re.compile(r"github:(?P<repo>[\w.-]+/[\w.-]+) (?P<path>\S+)")
_ARCHIVE_ID = re.compile(r"\(id (\w+)\)")
# A flash's text opens with its own headline in 【】; the headline is the item's title already.
_HEADLINE = re.compile(r"^【[^】]*】")
_SEGMENT_NUMBER = re.compile(r"-(\d+)$")
_FINEWS_MTIME = datetime(2022, 1, 1, tzinfo=UTC)  # only for posts without a date: none here


@dataclass(frozen=True, slots=True)
class WholeLabel:
    """A whole item's labels, with the length and digest of the text they were given for."""

    id: str
    length: int
    digest: str
    labels: Mapping[str, bool]
    note: str = ""


def digest(text: str) -> str:
    """A short fingerprint of a whole text, to notice a source that changed since labelling."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_labels(path: Path = WHOLE) -> dict[str, WholeLabel]:
    """The whole-item labels by item id."""
    labels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        labels[row["id"]] = WholeLabel(
            row["id"], row["length"], row["digest"], row["labels"], row.get("note", "")
        )
    return labels


class Sources:
    """Reads whole items from the archives' snapshots and the finews corpus, a file once."""

    def __init__(
        self, archives: Path = ARCHIVES, corpus: Path = CORPUS, *, snapshots: Mapping[str, str] = SNAPSHOTS
    ) -> None:
        self._archives = archives
        self._corpus = corpus
        self._snapshots = snapshots
        self._files: dict[tuple[str, str], str | None] = {}

    def missing(self) -> list[str]:
        """The archive snapshots that cannot be read (none when all are there)."""
        return [repo for repo in self._snapshots if self._file(repo, None) is None]

    def whole(self, item_id: str, source: str) -> tuple[str, str] | None:
        """The title and whole text of a set item, or None when its source is not readable here
        (a web page, a seed passage, a missing archive)."""
        found = _SOURCE.match(source)
        if found is None:
            return None
        repo, path = found["repo"], found["path"]
        if repo == "zning1994/finews":
            return self._post(path)
        text = self._file(repo, path) if repo in self._snapshots else None
        if text is None:
            return None
        if repo == "DuckBurnIncense/xin-wen-lian-bo":
            number = _SEGMENT_NUMBER.search(item_id)
            return _segment(text, int(number[1])) if number else None
        archive_id = _ARCHIVE_ID.search(source)
        return _flash(text, archive_id[1]) if archive_id else None

    def _post(self, path: str) -> tuple[str, str] | None:
        file = self._corpus / path
        try:
            item = parse_post(file.read_text(encoding="utf-8"), filename=file.name, mtime=_FINEWS_MTIME)
        except (OSError, ParseError):
            return None
        return item.title, item.text

    def _file(self, repo: str, path: str | None) -> str | None:
        """A file of a snapshot at its commit (``None`` path: whether the commit is there at all)."""
        key = (repo, path or "")
        if key not in self._files:
            git_dir = self._archives / repo.replace("/", "+") / "repo"
            commit = self._snapshots[repo]
            spec = f"{commit}:{path}" if path else f"{commit}^{{commit}}"
            run = subprocess.run(
                ["git", "--git-dir", str(git_dir), "cat-file", "-p" if path else "-t", spec],
                capture_output=True,
                check=False,
            )
            self._files[key] = run.stdout.decode("utf-8") if run.returncode == 0 else None
        return self._files[key]


def _flash(jsonl: str, archive_id: str) -> tuple[str, str] | None:
    """One flash of a day's file of the 财联社/东方财富/同花顺 archive."""
    for line in jsonl.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if str(row.get("id")) == archive_id:
            text = row.get("content") or row.get("brief") or ""
            return row.get("title") or "", _HEADLINE.sub("", text, count=1)
    return None


def _segment(page: str, number: int) -> tuple[str, str] | None:
    """Segment ``number`` (from 1) of a day's 新闻联播 page: its heading and its paragraphs."""
    _, marker, details = page.partition("## 详细新闻")
    segments = details.split("\n### ")[1:] if marker else []
    if not 0 < number <= len(segments):
        return None
    title, _, body = segments[number - 1].partition("\n")
    body = re.sub(r"\[查看原文\]\([^)]*\)", "", body)
    paragraphs = (html.unescape(re.sub(r"<[^>]+>", "", part)).strip() for part in re.split(r"</?p>", body))
    return title.strip(), "\n".join(part for part in paragraphs if part)


@dataclass(frozen=True, slots=True)
class WholeView:
    """The set with whole items where they were read, and what could not be."""

    labelled: list[Labelled]
    read: int  # excerpts replaced by their whole item
    unreadable: list[str]  # ids whose whole item is labelled but could not be read
    changed: list[str]  # ids whose source text is no longer the one labelled


def whole_view(labelled: Sequence[Labelled], labels: Mapping[str, WholeLabel], sources: Sources) -> WholeView:
    """Each excerpt that has a whole-item label, replaced by its whole item and those labels;
    the others (seed passages, web pages, items that are whole already) as they are."""
    out, unreadable, changed = [], [], []
    read = 0
    for entry in labelled:
        label = labels.get(entry.item.id)
        if label is None:
            out.append(entry)
            continue
        whole = sources.whole(entry.item.id, entry.source)
        if whole is None:
            unreadable.append(entry.item.id)
            out.append(entry)
            continue
        title, text = whole
        if digest(text) != label.digest:
            changed.append(entry.item.id)
            out.append(entry)
            continue
        item = replace(entry.item, title=title or entry.item.title, text=text)
        out.append(replace(entry, item=item, labels=label.labels, note=label.note))
        read += 1
    return WholeView(out, read, unreadable, changed)
