"""The sense rules of ``[topics."NAME"]``: near, not_near, near_window, title_keywords, min_score; one clear
line for every mistake, and a round trip through the export."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.domain.models import DEFAULT_MIN_SCORE, DEFAULT_NEAR_WINDOW, Topic
from bot.domain.topics import topic_from_dict, topic_to_dict

TOPIC = '[topics."上市"]\nkeywords = ["上市", "IPO"]\n'


def load(tmp_path: Path, text: str) -> Topic:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(str(path), environ={}, cwd=tmp_path).topics["上市"]


def test_every_sense_rule_is_read(tmp_path: Path) -> None:
    topic = load(
        tmp_path,
        TOPIC
        + 'title_keywords = ["挂牌", " 挂牌 "]\nnear = { "上市" = ["企业", " 公司", ""] }\n'
        + 'near_window = 12\nmin_score = 2\nweights = { "挂牌" = 0.5 }\n'
        + 'not_near = { "上市" = ["终止", " 终止"], "挂牌" = ["督办"] }\n',
    )
    assert topic.title_keywords == ("挂牌",)
    assert topic.near == {"上市": ("企业", "公司")}
    assert topic.not_near == {"上市": ("终止",), "挂牌": ("督办",)}
    assert topic.near_window == 12 and topic.min_score == 2.0
    assert topic.all_keywords == ("上市", "IPO", "挂牌") and topic.weight("挂牌") == 0.5


def test_defaults_keep_the_old_meaning(tmp_path: Path) -> None:
    topic = load(tmp_path, TOPIC)
    assert topic.near == {} and topic.not_near == {} and topic.title_keywords == ()
    assert topic.near_window == DEFAULT_NEAR_WINDOW and topic.min_score == DEFAULT_MIN_SCORE == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('near = { "挂牌" = ["企业"] }\n', "topics.上市.near: '挂牌' is not one of the topic's keywords"),
        ('near = { "上市" = [] }\n', "topics.上市.near.上市: expected at least one non-empty word"),
        ('near = { "上市" = "企业" }\n', "topics.上市.near.上市: expected an array of words like"),
        ('near = ["企业"]\n', "topics.上市.near: expected a table, got an array"),
        (
            'not_near = { "挂牌" = ["督办"] }\n',
            "topics.上市.not_near: '挂牌' is not one of the topic's keywords (not_near gives a keyword words"
            " that must not stand close to it)",
        ),
        ('not_near = { "上市" = [] }\n', "topics.上市.not_near.上市: expected at least one non-empty word"),
        ('not_near = { "上市" = "终止" }\n', "topics.上市.not_near.上市: expected an array of words like"),
        ('not_near = "终止"\n', "topics.上市.not_near: expected a table, got a string"),
        ("near_window = 0\n", "topics.上市.near_window: expected 1 to 100 characters, got 0"),
        ("near_window = 500\n", "topics.上市.near_window: expected 1 to 100 characters, got 500"),
        ('near = { "上市" = [1] }\n', "topics.上市.near.上市: expected an array of words like"),
        ('near_window = "10"\n', "topics.上市.near_window: expected an integer, got a string"),
        ("min_score = -1\n", "topics.上市.min_score: expected a number from 0 to 100"),
        ("min_score = 1000\n", "topics.上市.min_score: expected a number from 0 to 100"),
        ('title_keywords = ["IPO"]\n', "topics.上市.title_keywords: 'IPO' is also in keywords"),
        ('title_keywords = "挂牌"\n', "topics.上市.title_keywords: expected an array, got a string"),
        ("nearwindow = 3\n", "topics.上市: unknown key 'nearwindow' (expected one of: keywords,"),
    ],
)
def test_mistakes_in_sense_rules_are_named_by_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, TOPIC + text)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_topic_round_trips_through_plain_data() -> None:
    topic = Topic(
        "上市",
        ("上市", "IPO"),
        not_in=("上市公司",),
        title_keywords=("挂牌",),
        near={"上市": ("企业", "公司")},
        not_near={"挂牌": ("督办",), "上市": ("终止",)},
        near_window=8,
        min_score=2.5,
        weights={"IPO": 2.0},
    )
    assert topic_from_dict(topic_to_dict(topic)) == topic
    sparse = topic_to_dict(topic, sparse=True)
    assert sparse["near"] == {"上市": ["企业", "公司"]} and sparse["min_score"] == 2.5
    assert sparse["not_near"] == {"挂牌": ["督办"], "上市": ["终止"]}
    assert topic_from_dict(sparse, name="上市") == topic
    # Stored JSON sorts its keys: the tables come back in the order of the keywords.
    assert list(topic_from_dict(topic_to_dict(topic)).not_near) == ["上市", "挂牌"]
    # Defaults are left out of a config table, and data stored before these rules existed loads.
    plain = topic_to_dict(Topic("x", ("a",)), sparse=True)
    assert set(plain) == {"keywords"}
    assert topic_from_dict({"name": "x", "keywords": ["a"]}) == Topic("x", ("a",))


def test_an_export_loads_back(tmp_path: Path) -> None:
    import tomli_w

    topic = load(
        tmp_path,
        TOPIC
        + 'near = { "上市" = ["企业"] }\nmin_score = 2\ntitle_keywords = ["挂牌"]\n'
        + 'not_near = { "挂牌" = ["督办"] }\n',
    )
    document = tomli_w.dumps({"topics": {"上市": topic_to_dict(topic, sparse=True)}})
    assert load(tmp_path, document) == topic
    assert tomllib.loads(document)["topics"]["上市"]["near"] == {"上市": ["企业"]}
    assert tomllib.loads(document)["topics"]["上市"]["not_near"] == {"挂牌": ["督办"]}
