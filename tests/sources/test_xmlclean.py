"""clean_xml: what XML forbids is removed from a decoded feed, and counted."""

from __future__ import annotations

import xml.sax

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sources.xmlclean import clean_xml

DOC = '<?xml version="1.0" encoding="gbk"?>\n<rss version="2.0"><channel><title>株洲</title></channel></rss>'
UTF8_DOC = DOC.replace('encoding="gbk"', 'encoding="utf-8"')


def well_formed(data: bytes) -> bool:
    try:
        xml.sax.parseString(data, xml.sax.ContentHandler())
    except xml.sax.SAXParseException:
        return False
    return True


def test_the_declaration_says_utf8() -> None:
    clean = clean_xml(DOC)
    assert clean.data == UTF8_DOC.encode()
    assert (clean.junk, clean.controls) == (0, 0)
    assert well_formed(clean.data)


@pytest.mark.parametrize(
    "before",
    [
        pytest.param("\n\n\r\n  ", id="blank lines"),
        pytest.param("\ufeff\n\ufeff", id="byte-order marks"),
        pytest.param("<br />\n<b>Warning</b>: Undefined variable $x in feed.php on line 3<br />\n", id="php"),
        pytest.param("Deprecated: mysql_connect()\n", id="text"),
    ],
)
def test_debris_before_the_document_is_dropped(before: str) -> None:
    clean = clean_xml(before + DOC)
    assert clean.data == UTF8_DOC.encode()
    assert clean.junk == len(before)
    assert well_formed(clean.data)


def test_junk_before_a_root_without_declaration_is_dropped() -> None:
    clean = clean_xml("Notice: x\n<rss><channel/></rss>")
    assert (clean.text, clean.junk) == ("<rss><channel/></rss>", 10)


def test_an_html_page_is_left_alone() -> None:
    page = "<!DOCTYPE html><html><body>欢迎</body></html>"
    assert clean_xml(page).text == page


def test_control_characters_are_removed_raw_and_referenced() -> None:
    dirty = UTF8_DOC.replace("株洲", "株\x08洲\x1b&#x8;&#31;&#0;&#xFFFE;\x7f\x00")
    clean = clean_xml(dirty)
    assert clean.text == UTF8_DOC
    assert clean.controls == 8
    assert well_formed(clean.data)


def test_allowed_references_are_kept() -> None:
    kept = UTF8_DOC.replace("株洲", "&#x682A;&#27954;&#9;&#10;&#13;&#x1F600;&amp;")
    clean = clean_xml(kept)
    assert (clean.text, clean.controls) == (kept, 0)


def test_huge_references_are_removed_without_error() -> None:
    clean = clean_xml(UTF8_DOC.replace("株洲", "&#99999999999;&#xFFFFFFFF;&#" + "9" * 5000 + ";&#00065;"))
    assert clean.controls == 3 and clean.text == UTF8_DOC.replace("株洲", "&#00065;")
    assert well_formed(clean.data)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x110, categories=["Cc", "Cs", "Lo", "Ll", "Zs"])))
def test_any_text_in_a_title_leaves_a_well_formed_document(title: str) -> None:
    escaped = title.replace("&", "&amp;").replace("<", "&lt;")
    clean = clean_xml(UTF8_DOC.replace("株洲", escaped))
    assert well_formed(clean.data)
