"""Merging reprints: crafted variants of real seed texts, the corpus' own duplicates, and boilerplate."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from bot.domain.models import Item, ItemKind
from bot.sources.parse import parse_file
from digests.cluster import (
    BOILERPLATE_MIN_DF,
    BOILERPLATE_RATIO,
    CONTAINMENT,
    JACCARD,
    PROBE_CAP,
    PROBES,
    _body,
    _Forest,
    _Kept,
    _merges,
    _near_duplicates,
    _rare_df,
    _sentences,
    cluster_items,
    similar,
)
from tests.helpers.paths import CORPUS, REPO, SEEDS, corpus_available

MTIME = datetime(2024, 3, 1, tzinfo=UTC)
T0 = datetime(2021, 12, 29, 8, 0, tzinfo=UTC)


@cache
def seed(name: str) -> Item:
    path = SEEDS / name
    return parse_file(path.read_bytes(), path=name, mtime=MTIME)


ZHUZHOU = seed("2021-12-29-NW202112292229199167.md")  # 株洲: listings, loans, risk (2,008 chars)
GANZHOU = seed("2022-04-03-NW202204032332360450.md")  # 赣州: the same subjects, another story
REPORT = seed("2022年全市金融工作总结和2023年工作打算.txt")


def item(text: str, title: str = "标题", minutes: int = 0, id: str = "", source: str = "s") -> Item:
    return Item(
        id or f"i{minutes}",
        ItemKind.POST,
        source,
        source,
        "",
        title,
        T0 + timedelta(minutes=minutes),
        "",
        text,
    )


def paragraphs(it: Item) -> list[str]:
    return it.text.split("\n")


def without(text: str, index: int) -> str:
    parts = text.split("\n")
    return "\n".join(parts[:index] + parts[index + 1 :])


def report_section(start: str, end: str) -> str:
    return REPORT.text[REPORT.text.index(start) : REPORT.text.index(end)]


LISTING_REPORT = report_section("二是企业上市取得了新进展", "三是")  # another 上市 story
ADDED_PARAGRAPH = paragraphs(GANZHOU)[4]  # 225 characters from another story


def together(a: Item, b: Item) -> bool:
    groups = cluster_items([a, b])
    assert sorted(i for g in groups for i in g) == [0, 1]
    return len(groups) == 1


def scores(a: str, b: str) -> tuple[float, float]:
    return similar(_sentences(_body(a)), _sentences(_body(b)), Counter(), 0)


@pytest.mark.parametrize(
    ("copy", "merged"),
    [
        (item(ZHUZHOU.text, ZHUZHOU.title, 5), True),  # identical, another outlet
        (item(ZHUZHOU.text, "株洲金融助力高质量发展", 5), True),  # retitled
        (item(ZHUZHOU.text + "（新华社）", minutes=5), True),  # an outlet's trailer
        (item(ZHUZHOU.text + "\n（文章来源：株洲日报）\n责任编辑：李明", minutes=5), True),
        (item("新华社长沙12月29日电（记者 王强）" + ZHUZHOU.text, minutes=5), True),  # a dateline
        (item(ZHUZHOU.text.replace("\n", "\n\u3000\u3000"), minutes=5), True),  # indented paragraphs
        (item(ZHUZHOU.text + "\n" + ADDED_PARAGRAPH, minutes=5), True),  # a paragraph added
        (item(without(ZHUZHOU.text, 7), minutes=5), True),  # the longest paragraph (251 chars) cut
        (item(without(without(ZHUZHOU.text, 14), 7), minutes=5), True),  # two long paragraphs cut
        (
            item(ZHUZHOU.text.replace("澎湃", "强劲").replace("同比增长", "比上年增长"), minutes=5),
            True,
        ),  # edits
        (item(GANZHOU.text, ZHUZHOU.title, 5), False),  # same headline formula, another story
        (item(LISTING_REPORT, ZHUZHOU.title, 5), False),  # another 上市 story
        (item("\n".join(paragraphs(ZHUZHOU)[:8]), minutes=5), False),  # only the first third
        (item("", ZHUZHOU.title, 5), False),  # no text: nothing to compare with a long one
    ],
)
def test_variants_of_a_real_story(copy: Item, merged: bool) -> None:
    original = item(ZHUZHOU.text, ZHUZHOU.title, 0)
    assert together(original, copy) == merged


@pytest.mark.parametrize(
    ("a", "b", "merge"),
    [
        (ZHUZHOU.text, ZHUZHOU.text + "\n" + ADDED_PARAGRAPH, True),
        (ZHUZHOU.text, without(without(ZHUZHOU.text, 14), 7), True),
        (ZHUZHOU.text, GANZHOU.text, False),
        (ZHUZHOU.text, LISTING_REPORT, False),
        (GANZHOU.text, REPORT.text, False),
    ],
)
def test_thresholds_separate_reprints_from_other_stories(a: str, b: str, merge: bool) -> None:
    containment, jaccard = scores(a, b)
    if merge:
        assert containment >= CONTAINMENT and jaccard >= JACCARD
        assert containment >= 0.95 and jaccard >= 0.7  # with room to spare
    else:
        assert containment < 0.1 and jaccard < 0.1


def rolling(n: int, share: float) -> list[Item]:
    """``n`` items of a feed's template around a different real sentence each: the template's
    header and footer make up ``share`` of each item."""
    header = (
        "【东财资讯提示】以下内容根据上市公司公开信息整理，仅供参考，不构成任何投资建议。"
        "投资者据此操作，风险自担。本栏目每日滚动更新，欢迎关注东方财富网相关栏目获取更多资讯。\n"
    )
    footer = "\n市场有风险，投资需谨慎。本文由东方财富网数据中心整理发布，未经许可不得转载。"
    template = len(_body(header + footer))
    size = round(template * (1 - share) / share)  # characters of content
    content = list(dict.fromkeys(s[:size] for s in re.split(r"[。\n]", REPORT.text) if len(s) >= size))
    assert len(content) >= n
    return [item(f"{header}{content[i]}。{footer}", f"滚动资讯{i}", i, id=f"r{i}") for i in range(n)]


@pytest.mark.parametrize(("n", "share"), [(2, 0.5), (2, 0.7), (12, 0.7), (12, 0.85), (40, 0.88)])
def test_rolling_news_sharing_boilerplate_does_not_merge(n: int, share: float) -> None:
    items = rolling(n, share)
    containment, _ = scores(items[0].text, items[1].text)
    assert containment == pytest.approx(share, abs=0.03)  # what the text alone would say
    assert len(cluster_items(items)) == n
    # ...while reprints among them still do.
    copies = [item(it.text, "转载", 100 + k, id=f"c{k}") for k, it in enumerate(items[:3])]
    groups = cluster_items(items + copies)
    assert len(groups) == n
    assert [items[i].id if i < n else copies[i - n].id for i in groups[0]] == ["r0", "c0"]


def test_a_widely_reprinted_story_with_edits_in_every_copy_stays_one_story() -> None:
    # Forty distinct texts: each copy adds a sentence of its own, so none is verbatim.
    extra = [s + "。" for s in re.split(r"[。\n]", REPORT.text) if len(s) >= 30]
    copies = [item(ZHUZHOU.text + "\n" + extra[k], f"转载{k}", k, id=f"c{k:02d}") for k in range(40)]
    assert cluster_items(copies) == [list(range(40))]


@pytest.mark.parametrize(
    ("a", "b", "merged"),
    [
        (
            item("北向资金净流入超40亿元。", "北向资金净流入超40亿元"),
            item("北向资金净流入超40亿元", "北向资金净流入超40亿元"),
            True,
        ),
        (
            item("北向资金净流入超40亿元。", "北向资金净流入超40亿"),
            item("北向资金净流入超50亿元。", "北向资金净流入超50亿"),
            False,
        ),
        (item("", "恒大汽车短线下挫"), item("", "恒大汽车短线下挫！"), True),  # the title decides
        (item("", ""), item("", ""), False),  # nothing to go by
        (item("祝贺开站", "开站大吉"), item("祝贺开站", "新年快乐"), False),
    ],
)
def test_very_short_texts_fall_back_to_the_title(a: Item, b: Item, merged: bool) -> None:
    assert together(a, b) == merged


def test_groups_are_earliest_first_and_cover_every_index_once() -> None:
    items = [
        item(GANZHOU.text, minutes=30, id="g-late"),
        item(ZHUZHOU.text, minutes=20, id="z-b"),
        item(ZHUZHOU.text + "（新华社）", minutes=10, id="z-c"),
        item(GANZHOU.text, minutes=5, id="g-early"),
        item(ZHUZHOU.text, minutes=20, id="z-a"),
        item(LISTING_REPORT, minutes=1, id="report"),
    ]
    groups = cluster_items(items)
    assert [[items[i].id for i in g] for g in groups] == [
        ["report"],
        ["g-early", "g-late"],
        ["z-c", "z-a", "z-b"],
    ]
    assert cluster_items([]) == []


def corpus_items() -> list[Item]:
    if not corpus_available():
        pytest.skip("shared finews corpus not found")
    paths = sorted(p for p in CORPUS.rglob("*.md") if p.name != "MANIFEST.md")
    return [parse_file(p.read_bytes(), path=str(p.relative_to(CORPUS)), mtime=MTIME) for p in paths]


def test_the_corpus_reprints_merge_and_nothing_else_does() -> None:
    items = [*corpus_items(), ZHUZHOU]  # the seed post is in the corpus too
    groups = [sorted(f"{items[i].id}@{items[i].path.split('/')[0]}" for i in g) for g in cluster_items(items)]
    merged = sorted(g for g in groups if len(g) > 1)
    assert merged == [
        # Verbatim retitled flashes (30 characters of text each).
        ["202112082206672930@_posts", "202112082206672930@old_post", "202112082206781916@_posts"],
        ["202112082206703990@_posts", "202112082206703990@old_post"],
        ["202112082206735022@_posts", "202112082206735022@old_post"],
        ["202112082206748961@_posts", "202112082206749391@_posts"],
        ["202112082206891339@_posts", "202112082206891339@old_post"],
        # Retitled, （财联社） added, one sentence fewer.
        ["202112082206896571@_posts", "202112082206936037@_posts", "202112082206936037@old_post"],
        ["NW202112292229199167@2021-12-29-NW202112292229199167.md", "NW202112292229199167@_posts"],
    ]
    assert len(groups) == len(items) - 9
    # Different write-ups of one event (FF's results, 工信部's list) are different texts: kept apart.
    apart = {"202112082206703990", "202112082206717618", "202112082206885192", "202112082206891293"}
    assert sum(1 for g in groups if any(m.split("@")[0] in apart for m in g)) == 4


@pytest.mark.slow
def test_results_do_not_depend_on_the_hash_seed() -> None:
    script = (
        "import json; from tests.digests.test_cluster import synthetic; "
        "from digests.cluster import cluster_items; "
        "print(json.dumps(cluster_items(synthetic(300))))"
    )
    runs = set()
    for hash_seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        runs.add(out.stdout)
    assert len(runs) == 1
    assert len(json.loads(runs.pop())) < 300  # the synthetic day has reprints


def synthetic(n: int, dice: int = 7) -> list[Item]:
    """A day of ~1,500-character items made of seed sentences made unique by a number each; one in
    ten is a reprint of an earlier item (some with a trailer), one in ten carries a disclaimer."""
    rng = random.Random(dice)
    names = sorted(p.name for p in SEEDS.iterdir())
    pool = [s for name in names for s in re.split(r"(?<=。)", seed(name).text.replace("\n", "")) if s]
    disclaimer = "【免责声明】本文仅代表作者本人观点，与本网站无关。本网站对文中陈述、观点判断保持中立。\n"
    items: list[Item] = []
    for i in range(n):
        parts: list[str] = []
        while sum(map(len, parts)) < 1500:
            s = rng.choice(pool)
            cut = rng.randrange(len(s))
            parts.append(s[:cut] + str(rng.randrange(10**6)) + s[cut:])
        text = "".join(parts)
        roll = rng.random()
        if roll < 0.1 and items:
            text = rng.choice(items).text + rng.choice(["", "（新华社）", "\n编者按：本文有删节。"])
        elif roll < 0.2:
            text = disclaimer + text[:700]
        items.append(
            item(text, f"新闻{i}", rng.randrange(1440), id=f"{i:05d}", source=f"s{rng.randrange(50)}")
        )
    return items


def test_a_day_of_five_thousand_items_merges_its_one_in_ten_reprints() -> None:
    # How fast is the digest benchmark's to say (bench/digests.py), not a timed assertion's.
    groups = cluster_items(synthetic(5000))
    assert 400 <= 5000 - len(groups) <= 550  # one in ten, give or take the dice


def straightforward_near_duplicates(texts: list[frozenset[str]]) -> list[int]:
    """The candidate pairs compared one by one with similar(), each time it is proposed: what the
    cached, deduplicated comparison of _near_duplicates must agree with. Each text's group root."""
    df: Counter[str] = Counter()
    for sentences in texts:
        df.update(sentences)
    shared = {s for s, count in df.items() if 1 < count <= PROBE_CAP}
    postings: dict[str, list[int]] = {}
    probes = []
    for i, sentences in enumerate(texts):
        common = sentences & shared
        if not common:
            continue
        for sentence in common:
            postings.setdefault(sentence, []).append(i)
        limit = max(BOILERPLATE_MIN_DF, BOILERPLATE_RATIO * _rare_df(sentences, df))
        ranked = sorted((s for s in common if df[s] <= limit), key=lambda s: (df[s], -len(s), s))
        probes.append((i, ranked[:PROBES], limit))
    limits = {i: limit for i, _, limit in probes}
    forest = _Forest(len(texts))
    for i, ranked, limit in probes:
        hits = Counter(j for sentence in ranked for j in postings[sentence])
        need = (len(ranked) + 1) // 2
        for j in sorted(j for j, count in hits.items() if count >= need and j != i):
            if forest.find(i) != forest.find(j):
                containment, jaccard = similar(texts[i], texts[j], df, max(limit, limits[j]))
                if containment >= CONTAINMENT and jaccard >= JACCARD:
                    forest.union(i, j)
    return [forest.find(i) for i in range(len(texts))]


@pytest.mark.parametrize("dice", range(6))
def test_near_duplicates_agree_with_comparing_every_proposed_pair(dice: int) -> None:
    # Sentences repeated across many texts (the benchmark's dense case), boilerplate in most of
    # them, and edited copies: pairs on both sides of the thresholds and of the boilerplate limits.
    rng = random.Random(dice)
    pool = [f"句{n}" + "字" * rng.randint(3, 60) for n in range(80)]
    boilerplate = pool[:3]
    texts: list[frozenset[str]] = []
    for _ in range(400):
        if texts and rng.random() < 0.3:
            copy = set(rng.choice(texts))
            for _ in range(rng.randint(0, 3)):
                if copy and rng.random() < 0.5:
                    copy.discard(rng.choice(sorted(copy)))
                else:
                    copy.add(rng.choice(pool))
            texts.append(frozenset(copy))
        else:
            chosen = set(rng.sample(pool, rng.randint(2, 12)))
            texts.append(frozenset(chosen | set(rng.sample(boilerplate, rng.randint(0, 3)))))
    forest = _Forest(len(texts))
    _near_duplicates(texts, forest)
    expected = straightforward_near_duplicates(texts)
    assert [forest.find(i) for i in range(len(texts))] == expected
    assert len(set(expected)) < len(texts)  # some texts did merge


def test_a_pairs_cached_comparison_is_similars() -> None:
    rng = random.Random(1)
    pool = [f"句{n}" + "字" * rng.randint(3, 30) for n in range(40)]
    texts = [frozenset(rng.sample(pool, rng.randint(0, 15))) for _ in range(60)]
    df = Counter({s: rng.randint(1, 20) for s in pool})  # counts on both sides of every limit
    kept = _Kept(texts, df)
    for _ in range(3000):
        i, j, limit = rng.randrange(60), rng.randrange(60), rng.randint(0, 21)
        for k in (i, j):
            chosen = frozenset(s for s in texts[k] if df[s] <= limit)
            assert kept(k, limit) == (chosen, sum(map(len, chosen)))
        containment, jaccard = similar(texts[i], texts[j], df, limit)
        merged = containment >= CONTAINMENT and jaccard >= JACCARD
        assert _merges(kept(i, limit), kept(j, limit)) == merged
