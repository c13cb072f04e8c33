"""Topic relevance on the labelled set: precision and recall per topic, before and after.

    python -m bench.relevance [--config PATH] [--show TOPIC [--split dev]] [--whole [--archives DIR]]
                              [--json PATH]

The set (``tests/data/relevance/items.jsonl``, described in its README) holds real news excerpts,
each labelled by meaning for the eight default topics and assigned to ``dev`` (for tuning rules),
``heldout`` (for reporting) or ``fresh`` (for reporting: drawn and labelled after the rules were
tuned, by annotators who never saw the rules). Each excerpt becomes an
:class:`~bot.domain.models.Item` (title and text as published) and goes through the product's own
:class:`digests.rules.TopicMatcher`. The held-out figures are also given pooled over ``heldout``
and ``fresh``, with 95 % intervals, since a topic has only 10 to 40 relevant items there.

``second_reading.jsonl`` holds a second annotator's labels for a sample of the set; how often the
two readings agree shows how far any rule can be expected to match the labels.

"before" is the default topics as they were before sense rules existed
(``bench/relevance_before.toml``, a verbatim copy); "after" is the embedded default
(``config.example.toml``), or the ``[topics]`` of ``--config``. ``--show`` lists one topic's
false positives and false negatives on a split, for tuning on ``dev``: tune there, report on
``heldout``, and never tune a rule to a single item.

``--whole`` measures what the bot meets: the whole items the excerpts were cut from (a 新闻联播
segment, a long flash), with their own labels (``whole_items.jsonl``), read from the archives'
snapshots (:mod:`bench.whole_items`). Excerpts that are whole already, seed passages and web pages
stay as they are.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.corpus import REPO
from bench.relevance_set import SET as SET
from bench.relevance_set import Labelled as Labelled
from bench.relevance_set import load_set as load_set
from bench.runtime import save_json
from bot.config.digest import parse_topic
from bot.domain.models import Topic
from digests.rules import TopicMatcher

SECOND = SET.with_name("second_reading.jsonl")
# The held-out splits read again as the bot meets them (whole items where there are): see --whole.
SECOND_WHOLE = SET.with_name("second_reading_whole.jsonl")
BEFORE = REPO / "bench" / "relevance_before.toml"
AFTER = REPO / "config.example.toml"
SPLITS = ("heldout", "fresh", "dev")
# The splits the rules were not tuned on, pooled for the figures with intervals.
REPORTED = ("heldout", "fresh")
_Z = 1.96  # the normal quantile of a two-sided 95 % interval


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


def topics_of(path: Path) -> list[Topic]:
    """The ``[topics]`` of a TOML file, validated as the product validates them."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [parse_topic(name, raw, str(path)) for name, raw in data.get("topics", {}).items()]


def predictions(topics: Sequence[Topic], labelled: Sequence[Labelled]) -> list[set[str]]:
    """For each labelled item, the names of the topics its rules match."""
    matcher = TopicMatcher(topics)
    return [{m.topic for m in matcher.match(entry.item)} for entry in labelled]


def evaluate(
    topics: Sequence[Topic], labelled: Sequence[Labelled], split: str | tuple[str, ...]
) -> dict[str, Score]:
    """Each topic's score on one split, or on several pooled (topics the set has no labels for
    are left out)."""
    splits = (split,) if isinstance(split, str) else split
    chosen = [entry for entry in labelled if entry.split in splits]
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
        scores[topic.name] = _score(pairs)
    return scores


@dataclass(frozen=True, slots=True)
class Strength:
    """A topic's matches split as the digest splits them: named in the headline or more than once,
    against passing mentions (named once, in the body only), each with how many are relevant."""

    strong: int
    strong_relevant: int
    passing: int
    passing_relevant: int


def by_strength(
    topics: Sequence[Topic], labelled: Sequence[Labelled], split: str | tuple[str, ...]
) -> dict[str, Strength]:
    """Per topic, how precise its strong matches and its passing mentions are on a split (or on
    several pooled): what the digest's order and its "正文仅提及一次" mark rest on."""
    splits = (split,) if isinstance(split, str) else split
    chosen = [entry for entry in labelled if entry.split in splits]
    matcher = TopicMatcher(topics)
    counts = {topic.name: [0, 0, 0, 0] for topic in topics}
    for entry in chosen:
        for match in matcher.match(entry.item):
            row = counts.get(match.topic)
            if row is None or match.topic not in entry.labels:
                continue
            column = 2 if match.in_passing else 0
            row[column] += 1
            row[column + 1] += entry.labels[match.topic]
    return {name: Strength(*row) for name, row in counts.items() if row[0] or row[2]}


def _score(pairs: Sequence[tuple[bool, bool]]) -> Score:
    """Counts of (said relevant, labelled relevant) pairs."""
    return Score(
        tp=sum(1 for got, wanted in pairs if got and wanted),
        fp=sum(1 for got, wanted in pairs if got and not wanted),
        fn=sum(1 for got, wanted in pairs if wanted and not got),
    )


def interval(hits: int, total: int) -> tuple[float, float]:
    """The 95 % Wilson interval of a proportion ``hits / total``: with 15 relevant items, a recall
    of 0.87 is anything from 0.62 to 0.96, which the table should say."""
    if total == 0:
        return (0.0, 0.0)
    z2 = _Z * _Z
    share = hits / total
    centre = (share + z2 / (2 * total)) / (1 + z2 / total)
    half = _Z * math.sqrt(share * (1 - share) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class Agreement:
    """How a second annotator's reading of some items compares with the set's labels."""

    items: int
    agreed: int
    kappa: float
    # The second reading scored as if it were a rule, against the set's labels.
    score: Score


def load_second(path: Path = SECOND) -> dict[str, Mapping[str, bool]]:
    """The second reading: item id → labels by topic."""
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {row["id"]: row["labels"] for row in rows}


def agreement(labelled: Sequence[Labelled], second: Mapping[str, Mapping[str, bool]]) -> dict[str, Agreement]:
    """Per topic, how the second reading agrees with the set's labels (Cohen's kappa: 1 is full
    agreement, 0 what chance would give)."""
    entries = [entry for entry in labelled if entry.item.id in second]
    result = {}
    # In the order of the set's label objects, as the other tables list them.
    for topic in dict.fromkeys(name for entry in entries for name in entry.labels):
        pairs = [(second[e.item.id][topic], e.labels[topic]) for e in entries if topic in second[e.item.id]]
        agreed = sum(1 for a, b in pairs if a == b)
        n = len(pairs)
        both_yes = (sum(a for a, _ in pairs) / n) * (sum(b for _, b in pairs) / n)
        both_no = (sum(not a for a, _ in pairs) / n) * (sum(not b for _, b in pairs) / n)
        chance = both_yes + both_no
        kappa = (agreed / n - chance) / (1 - chance) if chance < 1 else 1.0
        result[topic] = Agreement(n, agreed, kappa, _score(pairs))
    return result


def _columns(text: str) -> int:
    """How many terminal columns ``text`` takes: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _figure(value: float) -> str:
    return f"{value:.2f}"


def report(
    before: Sequence[Topic],
    after: Sequence[Topic],
    labelled: Sequence[Labelled],
    second: Mapping[str, Mapping[str, bool]] | None = None,
    *,
    heading: str = "",
) -> str:
    """The figures as text: per split, per topic, precision and recall before and after; the
    held-out splits pooled, with intervals; and the second reading's agreement."""
    lines = [
        heading
        or f"Topic relevance on the labelled set ({len(labelled)} excerpts, {SET.relative_to(REPO)}):"
        " rules tuned on dev, reported on heldout and fresh"
    ]
    for split in SPLITS:
        size = sum(1 for entry in labelled if entry.split == split)
        if not size:
            continue
        old, new = evaluate(before, labelled, split), evaluate(after, labelled, split)
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
            now_p, now_r = _figure(score.precision), _figure(score.recall)
            lines.append(
                f"{_label(name)}{score.positives:>9}   {was_p:>5} {was_r:>5}     {now_p:>5} {now_r:>5}"
                f"   {score.tp:>3} {score.fp:>3} {score.fn:>3}"
            )
    pooled = evaluate(after, labelled, REPORTED)
    size = sum(1 for entry in labelled if entry.split in REPORTED)
    lines += [
        "",
        f"{' + '.join(REPORTED)} ({size} items), after, with 95 % intervals",
        f"{'topic':<10}{'relevant':>9}   {'P':>5} {'interval':>11}    {'R':>5} {'interval':>11}",
    ]
    for name, score in pooled.items():
        p_low, p_high = interval(score.tp, score.tp + score.fp)
        r_low, r_high = interval(score.tp, score.positives)
        lines.append(
            f"{_label(name)}{score.positives:>9}   {_figure(score.precision):>5} {_span(p_low, p_high):>11}"
            f"    {_figure(score.recall):>5} {_span(r_low, r_high):>11}"
        )
    lines += [
        "",
        f"{' + '.join(REPORTED)}, after: precision of the matches named in the headline or more than once,"
        " and of passing mentions (once, in the body only; the digest lists them last, marked)",
        f"{'topic':<10}{'strong P':>10} {'n':>4}   {'passing P':>10} {'n':>4}",
    ]
    for name, kinds in by_strength(after, labelled, REPORTED).items():
        strong = _figure(kinds.strong_relevant / kinds.strong) if kinds.strong else "  -  "
        passing = _figure(kinds.passing_relevant / kinds.passing) if kinds.passing else "  -  "
        lines.append(f"{_label(name)}{strong:>10} {kinds.strong:>4}   {passing:>10} {kinds.passing:>4}")
    if second:
        agreed = agreement(labelled, second)
        count = next(iter(agreed.values())).items if agreed else 0
        lines += [
            "",
            f"second reading ({count} items of the set labelled again, blind, by other annotators): how far"
            " a careful human matches the labels",
            f"{'topic':<10}{'relevant':>9}   {'agree':>5} {'kappa':>5}     {'P':>5} {'R':>5}",
        ]
        for name, agree in agreed.items():
            share, kappa = _figure(agree.agreed / agree.items), _figure(agree.kappa)
            their_p, their_r = _figure(agree.score.precision), _figure(agree.score.recall)
            lines.append(
                f"{_label(name)}{agree.score.positives:>9}   {share:>5} {kappa:>5}"
                f"     {their_p:>5} {their_r:>5}"
            )
    return "\n".join(lines)


def _label(name: str) -> str:
    """A topic name padded to ten terminal columns."""
    return name + " " * max(0, 10 - _columns(name))


def _span(low: float, high: float) -> str:
    return f"{_figure(low)}–{_figure(high)}"


def figures(
    before: Sequence[Topic],
    after: Sequence[Topic],
    labelled: Sequence[Labelled],
    second: Mapping[str, Mapping[str, bool]] | None = None,
) -> dict[str, Any]:
    """The figures as JSON-able data."""
    data: dict[str, Any] = {}
    for split in (*SPLITS, REPORTED):
        key = split if isinstance(split, str) else "+".join(split)
        data[key] = {
            label: {name: _score_data(s) for name, s in evaluate(topics, labelled, split).items()}
            for label, topics in (("before", before), ("after", after))
        }
    data["by_strength"] = {name: asdict(v) for name, v in by_strength(after, labelled, REPORTED).items()}
    if second:
        data["second_reading"] = {
            name: {"items": a.items, "agreed": a.agreed, "kappa": a.kappa, **_score_data(a.score)}
            for name, a in agreement(labelled, second).items()
        }
    return data


def _score_data(score: Score) -> dict[str, Any]:
    return {
        "precision": score.precision,
        "recall": score.recall,
        "tp": score.tp,
        "fp": score.fp,
        "fn": score.fn,
        "precision_interval": interval(score.tp, score.tp + score.fp),
        "recall_interval": interval(score.tp, score.positives),
    }


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
    parser.add_argument(
        "--whole",
        action="store_true",
        help="measure the whole items the excerpts were cut from, with their own labels"
        " (needs the archives' snapshots: see bench/whole_items.py)",
    )
    parser.add_argument(
        "--archives", type=Path, default=None, help="where the archives' snapshots are (default ../.mirror)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also save the figures as JSON")
    args = parser.parse_args(argv)
    labelled = load_set()
    before, after = topics_of(BEFORE), topics_of(args.config)
    heading, second = "", None
    if args.whole:
        view = whole_set(labelled, args.archives)
        if isinstance(view, str):
            print(view, file=sys.stderr)
            return 2
        labelled, heading, second = view
    elif SECOND.exists():
        second = load_second()
    if args.show:
        print(show_errors(after, labelled, args.show, args.split))
        return 0
    print(report(before, after, labelled, second, heading=heading))
    if args.json is not None:
        save_json(args.json, figures(before, after, labelled, second))
    return 0


def whole_set(
    labelled: Sequence[Labelled], archives: Path | None = None
) -> tuple[list[Labelled], str, dict[str, Mapping[str, bool]] | None] | str:
    """The set read whole, with a heading that says how much of it and the second reading of it;
    or why it cannot be read."""
    # Imported here: bench.whole_items needs git and the archives, which the excerpt figures do not.
    from bench import whole_items

    sources = whole_items.Sources(archives or whole_items.ARCHIVES)
    missing = sources.missing()
    if missing:
        where = archives or whole_items.ARCHIVES
        return (
            f"whole items: the archives' snapshots are not in {where}: "
            + ", ".join(f"fetch github:{repo} (commit {whole_items.SNAPSHOTS[repo][:7]})" for repo in missing)
            + ", or point --archives at where they are"
        )
    view = whole_items.whole_view(labelled, whole_items.load_labels(), sources)
    problems = "".join(
        f"; {len(ids)} {what}: {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''}"
        for ids, what in ((view.unreadable, "not readable"), (view.changed, "changed since labelled"))
        if ids
    )
    heading = (
        f"Topic relevance on whole items ({len(view.labelled)} items: {view.read} excerpts replaced by the"
        f" whole item they were cut from, labelled whole in {whole_items.WHOLE.relative_to(REPO)}"
        f"{problems}): rules tuned on dev, reported on heldout and fresh"
    )
    second = load_second(SECOND_WHOLE) if SECOND_WHOLE.exists() else None
    return view.labelled, heading, second


if __name__ == "__main__":
    raise SystemExit(main())
