"""The default topics (config.example.toml) keep what they were tuned to do.

Measured on the labelled relevance set (tests/data/relevance) by the same code as
``python -m bench.relevance``: the held-out split, which tuning never looked at, must stay at or
above the floors below (a little under what the defaults reached when they were tuned, so that a
rule change that loses ground fails here), and the dev split must too. Counts, not timings.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.relevance import AFTER, BEFORE, evaluate, load_set, topics_of
from bot.sources.parse import parse_file
from digests.rules import TopicMatcher
from tests.helpers.paths import CORPUS, corpus_available

# topic → (precision, recall) floors; reached when tuned: see the README's "Relevance" section.
HELDOUT_FLOORS = {
    "上市": (0.60, 0.75),
    "普惠金融": (0.95, 0.60),
    "绿色金融": (0.95, 0.90),
    "非法集资": (0.95, 0.95),
    "融资担保": (0.75, 0.90),
    "金融风险": (0.80, 0.80),
    "地方金融监管": (0.65, 0.95),
    "科技金融": (0.70, 0.70),
}
DEV_FLOORS = {
    "上市": (0.80, 0.95),
    "普惠金融": (0.95, 0.85),
    "绿色金融": (0.95, 0.90),
    "非法集资": (0.95, 0.85),
    "融资担保": (0.90, 0.90),
    "金融风险": (0.80, 0.70),
    "地方金融监管": (0.70, 0.90),
    "科技金融": (0.90, 0.80),
}


@pytest.mark.parametrize(("split", "floors"), [("heldout", HELDOUT_FLOORS), ("dev", DEV_FLOORS)])
def test_the_default_topics_keep_their_precision_and_recall(
    split: str, floors: dict[str, tuple[float, float]]
) -> None:
    scores = evaluate(topics_of(AFTER), load_set(), split)
    assert set(scores) == set(floors)
    below = {
        name: (round(s.precision, 2), round(s.recall, 2))
        for name, s in scores.items()
        if s.precision < floors[name][0] or s.recall < floors[name][1]
    }
    assert not below, f"{split}: below the floors {floors}: {below}"


def test_the_old_defaults_are_kept_as_the_baseline() -> None:
    # The README of the relevance set measured these figures for the rules before sense rules.
    scores = evaluate(topics_of(BEFORE), load_set(), "heldout")
    assert (round(scores["上市"].precision, 2), round(scores["上市"].recall, 2)) == (0.32, 0.86)
    assert round(scores["普惠金融"].recall, 2) == 0.35


MTIME = datetime(2024, 3, 1, tzinfo=UTC)


def test_the_corpus_listing_story_is_found_and_passing_mentions_are_not() -> None:
    if not corpus_available():
        pytest.skip("shared finews corpus not found")
    posts = {p.stem.split("-")[-1]: p for p in CORPUS.glob("*/*.md")}
    matcher = TopicMatcher([t for t in topics_of(AFTER) if t.name == "上市"])

    def listing(key: str) -> bool:
        item = parse_file(posts[key].read_bytes(), path=posts[key].name, mtime=MTIME)
        return bool(matcher.match(item))

    assert listing("NW202112292229199167")  # 株洲: 时代电气 lists on the STAR market
    assert not listing("202112082207162298")  # US buybacks by 上市公司
    assert not listing("202112082206965422")  # a fraud verdict naming an A股上市公司
    assert not listing("202112082206924746")  # a strategist's fund-flow forecast: "2022年IPO、净减持"
    assert not listing("202112082206717618")  # FF's finances "IPO后"
