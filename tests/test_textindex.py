"""Normalisation and index tokens: the pieces the search's exactness rests on."""

from __future__ import annotations

import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.textindex import compile_query, fold, index_entry


def reference_fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def test_fold_equals_nfkc_and_casefold_on_every_code_point() -> None:
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates are not characters
        char = chr(code)
        assert fold(char) == reference_fold(char), hex(code)


@given(
    st.text(
        alphabet=st.sampled_from([*"株洲，（）；ＡａＩＰＯ１２\u3000\u0301éﾊﾞ㈱①ǅß", "A", "e"]), max_size=20
    )
)
def test_fold_equals_nfkc_and_casefold_on_mixtures(text: str) -> None:
    assert fold(text) == reference_fold(text)


def test_tokens_are_bigrams_then_each_runs_last_character() -> None:
    entry = index_entry("株洲市场", "A股，6.35")
    assert entry.tokens == "株洲 洲市 市场 场 a股 股 6 35 5"
    assert set(entry.chars.split()) == set("株洲市场a股635")


def test_one_character_words_use_the_character_index() -> None:
    query = compile_query("株 株洲")
    assert query.chars == '"株"' and query.fts == '"株洲"' and query.exact


def test_typed_syntax_stays_literal() -> None:
    query = compile_query('" AND ( NEAR*')
    # "and" is text; "near*" is the text near followed by an asterisk, so its run ends there.
    assert query.fts == '"an nd" AND "ne ea ar r"' and not query.exact
    assert [w.word for w in query.words] == ['"', "and", "(", "near*"]
