"""The index answers exactly what a brute-force substring scan answers.

The reference: a query's words (split on white space) must each occur in the NFKC-normalised,
case-folded title or text. Checked on generated texts (property-based) and on the real corpus.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.models import Item, ItemKind
from bot.domain.textindex import compile_query, fold, split_query
from bot.store import Store
from tests.helpers.paths import CORPUS, corpus_available

SHANGHAI = ZoneInfo("Asia/Shanghai")

# A small alphabet so that random substrings hit several documents: CJK (including the pieces of
# 线上市场 and 株洲市), Latin in both cases and widths, digits, punctuation and FTS5 syntax.
CHARACTERS = '株洲市上场线金融股aAbBＡｂ1２.，。“”"*()-+ '
ALPHABET = [*CHARACTERS, "AND", "OR", "NEAR", "上市", "A股", "IPO", "ＩＰＯ"]

texts = st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join)


def oracle(docs: list[tuple[str, str]], query: str) -> set[int]:
    words = split_query(query)
    return {
        i for i, (title, text) in enumerate(docs) if all(w in fold(title) + "\n" + fold(text) for w in words)
    }


def build_store(directory: Path, docs: list[tuple[str, str]]) -> Store:
    store = Store(directory / f"{uuid.uuid4().hex}.db")
    start = datetime(2022, 1, 1, tzinfo=SHANGHAI)
    with store.transaction():
        for i, (title, text) in enumerate(docs):
            store.upsert(
                Item(str(i), ItemKind.POST, "s", "源", "", title, start + timedelta(minutes=i), "", text)
            )
    return store


def found(store: Store, query: str) -> set[int]:
    result = store.search([compile_query(query)], limit=1000)
    ids = {int(s.item.id) for s in result.items}
    assert result.total == len(ids)
    return ids


def vary(text: str, data: st.DataObject) -> str:
    """Mixed widths and cases: the same query as a user might type it."""
    out = []
    for ch in text:
        choice = data.draw(st.integers(0, 2))
        if choice == 1:
            ch = ch.swapcase()
        elif choice == 2 and "!" <= ch <= "~":
            ch = chr(ord(ch) + 0xFEE0)  # the full-width form
        out.append(ch)
    return "".join(out)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(st.tuples(texts, texts), min_size=1, max_size=8), data=st.data())
def test_generated_texts_match_the_oracle(
    tmp_path: Path, docs: list[tuple[str, str]], data: st.DataObject
) -> None:
    store = build_store(tmp_path, docs)
    with store:
        source = data.draw(st.sampled_from([t for pair in docs for t in pair]))
        start = data.draw(st.integers(0, len(source)))
        end = data.draw(st.integers(start, min(len(source), start + 8)))
        query = vary(source[start:end], data)
        if not split_query(query):
            return
        assert found(store, query) == oracle(docs, query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("上市", {0, 2}),  # inside 线上市场 too: exact substring; topic rules handle contexts
        ("株洲", {1}),
        ("株洲市", {1}),
        ("株", {1}),
        ("场", {0, 3}),
        ("IPO", {2}),
        ("ipo", {2}),
        ("ＩＰＯ", {2}),
        ("a股", {2}),
        ("A股", {2}),
        ("上市 IPO", {2}),
        ('"', {3}),
        ("*", {3}),
        ("(", {2, 3}),  # NFKC: （ is (
        ("AND", {3}),
        ('" AND (', {3}),
        ("NEAR", set()),
        ("路上市", set()),  # 路上，市场 must not join across punctuation
        ("上，市", {3}),
        ("6.35", {3}),
        ("6", {3}),
    ],
)
def test_chosen_queries(tmp_path: Path, query: str, expected: set[int]) -> None:
    docs = [
        ("线上市场", "走上市场化道路"),
        ("株洲新闻", "株洲市金融办"),
        ("企业上市", "首次公开发行（IPO）并在A股上市"),
        ('引号"与星号*', "括号(和AND，路上，市场。汇率6.35"),
    ]
    with build_store(tmp_path, docs) as store:
        assert found(store, query) == expected == oracle(docs, query)


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from bot.ingest.importer import discover, import_files

    if not corpus_available():
        pytest.skip(f"the finews corpus is not at {CORPUS}: skipping corpus checks")
    store = Store(tmp_path_factory.mktemp("corpus") / "corpus.db")
    repo = Path(__file__).resolve().parents[2]
    import_files(store, discover([CORPUS, repo / "seeds"]))
    return store


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_corpus_substrings_match_the_oracle(corpus_store: Store, data: st.DataObject) -> None:
    items = list(corpus_store.all_items())
    docs = [(s.item.title, s.item.text) for s in items]
    title, text = data.draw(st.sampled_from(docs))
    source = data.draw(st.sampled_from([title, text]))
    length = data.draw(st.integers(1, 6))
    start = data.draw(st.integers(0, max(0, len(source) - length)))
    query = vary(source[start : start + length], data)
    if not split_query(query):
        return
    expected = {items[i].item.id for i in oracle(docs, query)}
    result = corpus_store.search([compile_query(query)], limit=1000)
    assert {s.item.id for s in result.items} == expected
    assert result.total == len(expected)


def test_corpus_common_words_and_paging(corpus_store: Store) -> None:
    items = list(corpus_store.all_items())
    docs = [(s.item.title, s.item.text) for s in items]
    for query in ["株洲", "上市", "金融", "A股", "IPO", "人民币", "亿元", "公司 增长"]:
        expected = [items[i].item.id for i in sorted(oracle(docs, query))]
        pages = [corpus_store.search([compile_query(query)], limit=7, offset=o) for o in range(0, 200, 7)]
        seen = list(itertools.chain.from_iterable([s.item.id for s in p.items] for p in pages))
        assert sorted(seen) == sorted(expected), query
        assert all(p.total == len(expected) for p in pages)
        published = [s.item.published for p in pages for s in p.items]
        assert published == sorted(published, reverse=True), "newest first"
        compiled = [compile_query(query)]
        assert corpus_store.count_matches(compiled) == len(expected)
        assert [s.item.id for s in corpus_store.page(compiled, limit=7, offset=7)] == [
            s.item.id for s in pages[1].items
        ]
