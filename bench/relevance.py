"""Topic relevance on the labelled set: precision and recall per topic, before and after.

    python -m bench.relevance [--config PATH] [--show TOPIC [--split dev]] [--json PATH]

The set (``tests/data/relevance/items.jsonl``, described in its README) holds 737 real news
excerpts, each labelled by meaning for the eight default topics and assigned to ``dev`` (for
tuning rules) or ``heldout`` (for reporting). Each excerpt becomes an :class:`~bot.domain.models.Item`
(title and text as published) and goes through the product's own :class:`digests.rules.TopicMatcher`.

"before" is the default topics as they were before sense rules existed
(``bench/relevance_before.toml``, a verbatim copy); "after" is the embedded default
(``config.example.toml``), or the ``[topics]`` of ``--config``. ``--show`` lists one topic's
false positives and false negatives on a split, for tuning on ``dev``: tune there, report on
``heldout``, and never tune a rule to a single item.
"""

from __future__ import annotations

import argparse
import json
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.corpus import REPO
from bench.runtime import save_json
from bot.config.digest import parse_topic
from bot.domain.models import Item, ItemKind, Topic
from digests.rules import TopicMatcher

SET = REPO / "tests" / "data" / "relevance" / "items.jsonl"
BEFORE = REPO / "bench" / "relevance_before.toml"
AFTER = REPO / "config.example.toml"
SPLITS = ("heldout", "dev")
# Items without a date in the set get this one; no rule looks at dates.
_UNDATED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Labelled:
    """One excerpt of the set as an item, with its labels by topic and its split."""

    item: Item
    labels: Mapping[str, bool]
    split: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Score:
    """How a topic's rules did on a split: true positives, false positives, false negatives."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        """Of the items matched, the share labelled relevant (0 when nothing matched)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Of the items labelled relevant, the share matched (0 without any)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def positives(self) -> int:
        """Items labelled relevant."""
        return self.tp + self.fn


def load_set(path: Path = SET) -> list[Labelled]:
    """The labelled set, in file order."""
    labelled = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        published = (
            datetime.fromisoformat(row["published"]).replace(tzinfo=UTC) if row["published"] else _UNDATED
        )
        item = Item(
            id=row["id"],
            kind=ItemKind.FEED,
            source="relevance-set",
            source_name=row["outlet"],
            origin="",
            title=row["title"],
            published=published,
            url="",
            text=row["text"],
        )
        labelled.append(Labelled(item, row["labels"], row["split"], row.get("note", "")))
    return labelled


def topics_of(path: Path) -> list[Topic]:
    """The ``[topics]`` of a TOML file, validated as the product validates them."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [parse_topic(name, raw, str(path)) for name, raw in data.get("topics", {}).items()]


def predictions(topics: Sequence[Topic], labelled: Sequence[Labelled]) -> list[set[str]]:
    """For each labelled item, the names of the topics its rules match."""
    matcher = TopicMatcher(topics)
    return [{m.topic for m in matcher.match(entry.item)} for entry in labelled]


def evaluate(topics: Sequence[Topic], labelled: Sequence[Labelled], split: str) -> dict[str, Score]:
    """Each topic's score on one split (topics the set has no labels for are left out)."""
    chosen = [entry for entry in labelled if entry.split == split]
    found = predictions(topics, chosen)
    scores = {}
    for topic in topics:
        pairs = [
            (topic.name in got, entry.labels[topic.name])
            for entry, got in zip(chosen, found, strict=True)
            if topic.name in entry.labels
        ]
        if not pairs:
            continue
        scores[topic.name] = Score(
            tp=sum(1 for got, wanted in pairs if got and wanted),
            fp=sum(1 for got, wanted in pairs if got and not wanted),
            fn=sum(1 for got, wanted in pairs if wanted and not got),
        )
    return scores


def _columns(text: str) -> int:
    """How many terminal columns ``text`` takes: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _figure(value: float) -> str:
    return f"{value:.2f}"


def report(before: Sequence[Topic], after: Sequence[Topic], labelled: Sequence[Labelled]) -> str:
    """The figures as text: per split, per topic, precision and recall before and after."""
    lines = [
        f"Topic relevance on the labelled set ({len(labelled)} excerpts, {SET.relative_to(REPO)}):"
        " rules tuned on dev, reported on heldout"
    ]
    for split in SPLITS:
        old, new = evaluate(before, labelled, split), evaluate(after, labelled, split)
        size = sum(1 for entry in labelled if entry.split == split)
        lines += [
            "",
            f"{split} ({size} items)              before          after",
            f"{'topic':<10}{'relevant':>9}   {'P':>5} {'R':>5}     {'P':>5} {'R':>5}"
            f"   {'tp':>3} {'fp':>3} {'fn':>3}",
        ]
        for name, score in new.items():
            was = old.get(name)
            was_p = _figure(was.precision) if was else "  -  "
            was_r = _figure(was.recall) if was else "  -  "
            label = name + " " * max(0, 10 - _columns(name))
            lines.append(
                f"{label}{score.positives:>9}   {was_p:>5} {was_r:>5}     {_figure(score.precision):>5}"
                f" {_figure(score.recall):>5}   {score.tp:>3} {score.fp:>3} {score.fn:>3}"
            )
    return "\n".join(lines)


def figures(before: Sequence[Topic], after: Sequence[Topic], labelled: Sequence[Labelled]) -> dict[str, Any]:
    """The figures as JSON-able data."""
    data: dict[str, Any] = {}
    for split in SPLITS:
        data[split] = {
            label: {
                name: {"precision": s.precision, "recall": s.recall, "tp": s.tp, "fp": s.fp, "fn": s.fn}
                for name, s in evaluate(topics, labelled, split).items()
            }
            for label, topics in (("before", before), ("after", after))
        }
    return data


def show_errors(topics: Sequence[Topic], labelled: Sequence[Labelled], topic: str, split: str) -> str:
    """One topic's false positives and false negatives on a split, with why each matched."""
    chosen = [entry for entry in labelled if entry.split == split]
    matcher = TopicMatcher(topics)
    lines = []
    for entry in chosen:
        got = bool([m for m in matcher.match(entry.item) if m.topic == topic])
        wanted = entry.labels.get(topic, False)
        if got == wanted:
            continue
        kind = "FP" if got else "FN"
        lines.append(f"{kind} {entry.item.id} {entry.item.title} || {entry.item.text}")
        if entry.note:
            lines.append(f"   note: {entry.note}")
        if got:
            lines.append("   " + "；".join(matcher.explain(entry.item, topic).lines()[1:]))
    return "\n".join(lines) or "no errors"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures (and, with --show, one topic's errors)."""
    parser = argparse.ArgumentParser(prog="python -m bench.relevance", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--config", type=Path, default=AFTER, help="the topics to measure (default: the embedded default)"
    )
    parser.add_argument("--show", metavar="TOPIC", help="list this topic's errors")
    parser.add_argument(
        "--split", default="dev", choices=SPLITS, help="the split --show looks at (default dev)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also save the figures as JSON")
    args = parser.parse_args(argv)
    labelled = load_set()
    before, after = topics_of(BEFORE), topics_of(args.config)
    if args.show:
        print(show_errors(after, labelled, args.show, args.split))
        return 0
    print(report(before, after, labelled))
    if args.json is not None:
        save_json(args.json, figures(before, after, labelled))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
