"""Ranking a topic's stories: one table per factor, and the ties."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import Item, ItemKind, Topic
from digests.rank import (
    OUTLETS,
    RECENCY,
    TITLE_BONUS,
    RankedStory,
    rank_stories,
    source_priority_of,
)
from digests.rules import TopicMatcher
from digests.values import Field, Hit, Match

T0 = datetime(2022, 4, 3, 8, 0, tzinfo=UTC)


def item(
    id: str, minutes: int = 0, source: str = "emnews", name: str = "东财滚动新闻", origin: str = ""
) -> Item:
    return Item(id, ItemKind.POST, source, name, origin, "标题", T0 + timedelta(minutes=minutes), "", "正文")


def match(id: str, minutes: int = 0, *, title: bool = False, relevance: float = 1.0, **where: str) -> Match:
    hit = Hit("上市", Field.TITLE if title else Field.TEXT, 1, 0)
    return Match("上市", item(id, minutes, **where), (hit,), relevance)


def order(stories: list[list[Match]], priority: dict[str, float] | None = None) -> list[str]:
    return [story.matches[0].item.id for story in rank_stories(stories, priority or {})]


def test_a_title_hit_beats_many_body_hits() -> None:
    # Relevance as the rules compute it: a title hit once against three keywords twenty times each.
    matcher = TopicMatcher([Topic("上市", ("上市", "IPO", "挂牌"))])
    headline = Item("headline", ItemKind.POST, "s", "s", "", "企业上市", T0, "", "正文")
    body = Item("body", ItemKind.POST, "s", "s", "", "标题", T0, "", "企业上市、IPO、挂牌。" * 20)
    stories = [[m] for m in matcher.match(body) + matcher.match(headline)]
    assert stories[0][0].relevance > stories[1][0].relevance  # the body item is "more relevant"...
    assert order(stories) == ["headline", "body"]  # ...but the headline leads


@pytest.mark.parametrize(
    ("better", "worse"),
    [
        # keyword weight (through relevance), all else equal
        ([match("a", relevance=2.0)], [match("b", relevance=1.0)]),
        ([match("a", title=True, relevance=6.0)], [match("b", title=True, relevance=3.0)]),
        # outlets: three distinct outlets beat one; the best copy's relevance counts
        (
            [
                match("a", origin="新华社"),
                match("a2", 1, origin="人民日报"),
                match("a3", 2, origin="株洲日报"),
            ],
            [match("b")],
        ),
        ([match("a"), match("a2", 1, relevance=3.0)], [match("b", relevance=2.0)]),
        # source priority: by slug, source name or origin
        ([match("a", source="pbc")], [match("b")]),
        ([match("a", name="中国人民银行")], [match("b")]),
        ([match("a", origin="金融时报")], [match("b")]),
        ([match("a")], [match("b", source="tabloid")]),  # a negative priority
        # recency: the later story, all else equal
        ([match("a", 60)], [match("b", 0)]),
    ],
)
def test_each_factor_orders_otherwise_equal_stories(better: list[Match], worse: list[Match]) -> None:
    priority = {"pbc": 2.0, "中国人民银行": 2.0, "金融时报": 1.0, "tabloid": -1.0}
    assert order([worse, better], priority) == ["a", "b"]
    assert order([better, worse], priority) == ["a", "b"]


def test_the_score_adds_its_terms() -> None:
    stories = [
        [match("a", 0, title=True, relevance=3.0, origin="新华社"), match("a2", 5, origin="人民日报")],
        [match("b", 120, relevance=1.0, source="pbc")],
    ]
    ranked = rank_stories(stories, {"pbc": 2.0})
    scores = {story.matches[0].item.id: story.score for story in ranked}
    assert scores["a"] == pytest.approx(TITLE_BONUS + math.log1p(3.0) + OUTLETS * math.log(2))
    assert scores["b"] == pytest.approx(math.log1p(1.0) + 2.0 + RECENCY)


def test_copies_are_earliest_first_and_duplicates_count_as_one_outlet() -> None:
    story = [
        match("late", 30, origin="新华社"),
        match("early", 10, origin="新华社"),
        match("mid", 20, origin="新华社"),
    ]
    (ranked,) = rank_stories([story], {})
    assert [m.item.id for m in ranked.matches] == ["early", "mid", "late"]
    assert ranked.score == pytest.approx(math.log1p(1.0))  # one outlet; a lone story has no recency


def test_recency_is_relative_to_the_stories_given() -> None:
    early, late = [match("a", 0)], [match("b", 600)]
    first = rank_stories([early, late], {})
    shifted = rank_stories([[match("a", 1000)], [match("b", 1600)]], {})
    assert [s.score for s in first] == [s.score for s in shifted]
    assert first[0].score - first[1].score == pytest.approx(RECENCY)


@pytest.mark.parametrize(
    ("stories", "expected"),
    [
        # equal scores: the earliest publication first...
        ([[match("b", 0)], [match("a", 0)]], ["a", "b"]),
        # ...and a tie on score and time goes by id
        (
            [[match("z", 5, relevance=2.0)], [match("y", 5, relevance=2.0)], [match("x", 5, relevance=2.0)]],
            ["x", "y", "z"],
        ),
    ],
)
def test_ties_are_broken_by_time_then_id(stories: list[list[Match]], expected: list[str]) -> None:
    assert order(stories) == expected


def test_the_order_does_not_depend_on_the_input_order() -> None:
    rng = random.Random(3)
    stories = [
        [
            match(
                f"s{i}",
                rng.randrange(5) * 60,
                title=rng.random() < 0.3,
                relevance=rng.choice([1.0, 2.0, 3.0]),
            )
        ]
        for i in range(40)
    ]
    expected = rank_stories(stories, {})
    for _ in range(5):
        rng.shuffle(stories)
        assert rank_stories(stories, {}) == expected


def test_empty_input_and_empty_stories() -> None:
    assert rank_stories([], {}) == []
    assert rank_stories([[]], {}) == []
    alone = math.log1p(1.0)  # its relevance, no title hit, one outlet, no priority, no span
    assert rank_stories([[], [match("a")]], {}) == [RankedStory((match("a"),), alone, alone, passing=True)]


@pytest.mark.parametrize(
    ("it", "expected"),
    [
        (item("1"), 0.0),
        (item("1", source="pbc"), 3.0),
        (item("1", name="株洲日报新闻"), 1.0),
        (item("1", origin="新华社"), 2.0),
        (item("1", source="pbc", origin="新华社"), 3.0),  # the highest applies
        (item("1", source="tabloid", origin="新华社"), 2.0),
        (item("1", source="tabloid"), -1.0),  # a configured negative value is kept
    ],
)
def test_source_priority_of(it: Item, expected: float) -> None:
    priority = {"pbc": 3.0, "株洲日报新闻": 1.0, "新华社": 2.0, "tabloid": -1.0, "": 9.0}
    assert source_priority_of(it, priority) == expected
