"""Text cut into words for proposals: whole words with their offsets, Latin words as jieba's
dictionary knows them although folded text is in lower case."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from digests.words import Word, covering, cut

# Scripts and the characters that trip offsets: astral CJK, an emoji, a zero-width space, Latin.
_ALPHABET = "上市公司企业线场中通快递表示，。、 a股IPO2022年\n𠮷😀\u200b"


def test_words_cover_the_text_with_their_offsets() -> None:
    text = "广州市地方金融管理局联合印发新规。"
    words = cut(text)
    assert "".join(w.text for w in words) == text
    assert all(text[w.start : w.end] == w.text for w in words)
    assert Word("广州市", 0, 3) in words  # not 广州 + 市, and never 州市


def test_folded_latin_letters_are_cut_as_the_dictionary_writes_them() -> None:
    assert Word("a股", 2, 4) in cut("登陆a股市场")  # A股 is one word; a + 股 in lower case
    assert [w.text for w in cut("科创板etf上市")] == ["科创板", "etf", "上市"]


def test_covering_widens_a_span_to_the_words_it_touches() -> None:
    words = cut("中通快递表示")  # 中通 快递 表示
    assert covering(words, 3, 5) == (2, 6)  # 递表 straddles 快递 and 表示
    assert covering(words, 2, 4) == (2, 4)  # 快递 is a word of its own


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=60))
def test_any_text_is_covered_whole_with_exact_offsets(text: str) -> None:
    words = cut(text)
    assert "".join(w.text for w in words) == text
    assert all(text[w.start : w.end] == w.text and w.text for w in words)
    assert all(a.end == b.start for a, b in pairwise(words))
