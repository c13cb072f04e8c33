"""Topics as data: one conversion each way, and a chat's overlay laid over the global set."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import Topic
from bot.domain.topics import (
    Overlay,
    chat_topics,
    overlay_from_dict,
    overlay_to_dict,
    topic_from_dict,
    topic_to_dict,
)

SHANGSHI = Topic("上市", ("上市", "IPO", "挂牌"), "企业上市", not_in=("线上市场",), weights={"IPO": 2.0})
RISK = Topic("金融风险", ("金融风险",))
GLOBAL = {"上市": SHANGSHI, "金融风险": RISK}

words = st.lists(st.text(min_size=1, max_size=5), max_size=4).map(tuple)


@given(words, words, words, st.text(max_size=10))
def test_a_topic_survives_its_round_trips(
    keywords: tuple[str, ...], exclude: tuple[str, ...], not_in: tuple[str, ...], description: str
) -> None:
    topic = Topic("题", keywords or ("词",), description, exclude=exclude, not_in=not_in)
    assert topic_from_dict(topic_to_dict(topic)) == topic
    assert topic_from_dict(topic_to_dict(topic, sparse=True), name="题") == topic


def test_without_overlays_a_chat_sees_the_global_topics() -> None:
    assert chat_topics(GLOBAL, {}) == GLOBAL


def test_added_and_removed_words_hidden_and_own_topics() -> None:
    overlays = {
        "上市": Overlay(
            added={"keywords": ("敲钟",)}, removed={"keywords": ("IPO",), "not_in": ("线上市场",)}
        ),
        "金融风险": Overlay(hidden=True),
        "债券": Overlay(own=Topic("债券", ("债券",))),
    }
    topics = chat_topics(GLOBAL, overlays)
    assert list(topics) == ["上市", "债券"]
    assert topics["上市"].keywords == ("上市", "挂牌", "敲钟") and topics["上市"].not_in == ()
    assert topics["上市"].weights == {}  # a weight goes with its keyword
    assert topics["上市"].description == "企业上市"  # what a chat cannot change comes from the global topic


def test_a_later_global_change_shows_through_except_for_the_words_the_chat_changed() -> None:
    overlay = {"上市": Overlay(removed={"keywords": ("挂牌",)})}
    changed = {**GLOBAL, "上市": Topic("上市", ("上市", "IPO", "挂牌", "递表"))}
    assert chat_topics(changed, overlay)["上市"].keywords == ("上市", "IPO", "递表")


def test_an_overlay_survives_its_round_trip_and_an_empty_one_says_so() -> None:
    overlay = Overlay(own=RISK, added={"exclude": ("招聘",)})
    assert overlay_from_dict(overlay_to_dict(overlay)) == overlay
    assert Overlay().empty and Overlay(added={"keywords": ()}).empty and not Overlay(hidden=True).empty


def test_a_chat_s_sense_rules_replace_the_global_ones_while_set_and_survive_the_round_trip() -> None:
    overlay = Overlay(
        near={"上市": ("企业",)},
        not_near={"上市": ("终止",)},
        near_window=6,
        min_score=2.0,
        added={"title_keywords": ("路演",)},
    )
    assert overlay_from_dict(overlay_to_dict(overlay)) == overlay and not overlay.empty
    assert not Overlay(not_near={}).empty  # a chat that cleared the global negative near words
    mine = chat_topics(GLOBAL, {"上市": overlay})["上市"]
    assert (mine.near, mine.near_window, mine.min_score) == ({"上市": ("企业",)}, 6, 2.0)
    assert mine.not_near == {"上市": ("终止",)}
    assert mine.title_keywords == ("路演",)
    # Near words name a keyword: those of a keyword the chat removed go with it.
    gone = Overlay(near={"IPO": ("发行",)}, not_near={"IPO": ("后",)}, removed={"keywords": ("IPO",)})
    assert chat_topics(GLOBAL, {"上市": gone})["上市"].near == {}
    assert chat_topics(GLOBAL, {"上市": gone})["上市"].not_near == {}
    # What the chat did not set follows the global topic.
    stricter = {**GLOBAL, "上市": Topic("上市", ("上市",), near_window=4)}
    assert chat_topics(stricter, {"上市": Overlay(min_score=3.0)})["上市"].near_window == 4
