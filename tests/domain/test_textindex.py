"""Normalisation and index tokens: the pieces the search's exactness rests on."""

from __future__ import annotations

import re
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.textindex import compile_query, fold, index_entry


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
    assert entry.tokens.split() == ["株洲", "洲市", "市场", "场", "a股", "股", "6", "35", "5"]
    assert set(entry.chars.split()) == set("株洲市场a股635")


def reference_tokens(*fields: str) -> list[str]:
    """The index tokens as the module docstring defines them: for every run of letters and digits
    of each folded field, its overlapping bigrams, then its last character."""
    tokens = []
    for field in fields:
        for run in re.findall(r"[^\W_]+", fold(field)):
            tokens += [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]
    return tokens


FIELD_CHARS = st.sampled_from([*"株洲市场，。 _-.6Ａa\u3000\n", "𠀀", "ß", "①", "é"])


@given(st.lists(st.text(alphabet=FIELD_CHARS, max_size=30), min_size=1, max_size=3))
def test_tokens_equal_the_reference_definition(fields: list[str]) -> None:
    entry = index_entry(*fields)
    assert entry.tokens.split() == reference_tokens(*fields)
    assert sorted(entry.chars.split()) == sorted({c for f in fields for c in fold(f) if c.isalnum()})


def test_one_character_words_use_the_character_index() -> None:
    query = compile_query("株 株洲")
    assert query.chars == '"株"' and query.fts == '"株洲"' and query.exact


def test_typed_syntax_stays_literal() -> None:
    query = compile_query('" AND ( NEAR*')
    # "and" is text; "near*" is the text near followed by an asterisk, so its run ends there.
    assert query.fts == '"an nd" AND "ne ea ar r"' and not query.exact
    assert [w.word for w in query.words] == ['"', "and", "(", "near*"]


@given(st.text(alphabet=st.sampled_from("株洲上市…ß ＩＰＯAé①㎡ﬁabc\u0301"), max_size=40))
def test_fold_with_origin_maps_each_folded_character_to_the_one_it_came_from(text: str) -> None:
    from bot.domain.textindex import fold_with_origin

    folded, origin = fold_with_origin(text)
    if len(fold(text)) == len(text):
        assert folded == fold(text) and list(origin) == list(range(len(text)))
        return
    pieces = [fold(char) for char in text]  # folded character by character when the length changed
    expected = [i for i, piece in enumerate(pieces) for _ in piece]
    assert folded == "".join(pieces)
    assert len(origin) == len(expected) and list(origin) == expected
    assert [origin[-1], *origin[1:3]] == [expected[-1], *expected[1:3]]
