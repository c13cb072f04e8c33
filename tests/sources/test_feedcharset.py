"""decode_feed: a feed's encoding from its byte-order mark, its declarations, or detection that
refuses to guess."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sources import errors
from bot.sources.errors import FeedError
from bot.sources.feedcharset import decode_feed

SIMPLIFIED = (
    "<rss><channel><title>株洲市召开普惠金融工作推进会</title>"
    "<item><title>央行开展逆回购操作</title></item></channel></rss>"
)
TRADITIONAL = (
    "<rss><channel><title>金管會發布銀行業資本適足率新規</title>"
    "<item><title>央行理監事會決議維持利率不變</title></item></channel></rss>"
)
LATIN = "<rss><channel><title>Crédit Agricole publie ses résultats</title></channel></rss>"
DECLARED_GBK = '<?xml version="1.0" encoding="gbk"?>'


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        pytest.param(codecs.BOM_UTF8 + SIMPLIFIED.encode(), SIMPLIFIED, "utf-8", id="utf-8"),
        pytest.param(SIMPLIFIED.encode("utf-16"), SIMPLIFIED, "utf-16", id="utf-16"),
        pytest.param(
            codecs.BOM_UTF16_BE + SIMPLIFIED.encode("utf-16-be"), SIMPLIFIED, "utf-16", id="utf-16-be"
        ),
        pytest.param(SIMPLIFIED.encode("utf-32"), SIMPLIFIED, "utf-32", id="utf-32"),
        pytest.param(SIMPLIFIED.encode("utf-16-le"), SIMPLIFIED, "utf-16-le", id="utf-16-le, no mark"),
    ],
)
def test_byte_order_mark_decides(data: bytes, text: str, encoding: str) -> None:
    # A GBK charset header is wrong here, and the mark wins over it.
    decoded = decode_feed(data, "application/rss+xml; charset=gbk")
    assert (decoded.text, decoded.encoding, decoded.origin) == (text, encoding, "bom")


def test_a_byte_order_mark_over_other_bytes() -> None:
    few = decode_feed(codecs.BOM_UTF8 + SIMPLIFIED.encode().replace(b"<item>", b"<item>\xff"), None)
    assert (few.text, few.invalid, few.origin) == (SIMPLIFIED, 1, "bom")
    with pytest.raises(FeedError) as caught:
        decode_feed(codecs.BOM_UTF8 + SIMPLIFIED.encode("gbk"), None)
    assert caught.value.reason == errors.UNDECODABLE_FEED


def test_debris_before_the_document_is_skipped() -> None:
    data = b"\r\n\n  " + codecs.BOM_UTF8 + b"\n" + codecs.BOM_UTF8 + (DECLARED_GBK + SIMPLIFIED).encode("gbk")
    decoded = decode_feed(data, None)
    assert decoded.text == DECLARED_GBK + SIMPLIFIED
    assert (decoded.encoding, decoded.origin, decoded.skipped) == ("gb18030", "declared", 12)


@pytest.mark.parametrize(
    ("declaration", "content_type", "codec", "origin"),
    [
        pytest.param(DECLARED_GBK, None, "gbk", "declared", id="xml declaration"),
        pytest.param("", "text/xml; charset=GB2312", "gbk", "http", id="http charset (GBK characters too)"),
        pytest.param("", 'text/xml; charset="x-gbk"', "gbk", "http", id="a label Python does not know"),
        pytest.param(DECLARED_GBK, "text/html; charset=utf-8", "gbk", "declared", id="a lying header"),
        pytest.param(
            '<?xml version="1.0" encoding="utf-8"?>',
            "text/xml; charset=ISO-8859-1",
            "utf-8",
            "declared",
            id="a server's default latin-1 is weaker than the document's utf-8",
        ),
        pytest.param('<?xml version="1.0" encoding="big5"?>', None, "big5", "declared", id="big5"),
    ],
)
def test_declared_encodings(declaration: str, content_type: str | None, codec: str, origin: str) -> None:
    body = SIMPLIFIED.replace("株洲", "镕喆") if codec == "gbk" else SIMPLIFIED  # not in GB2312
    if codec == "big5":
        body = TRADITIONAL
    decoded = decode_feed((declaration + body).encode(codec), content_type)
    assert decoded.text == declaration + body
    assert decoded.origin == origin
    assert not decoded.invalid and not decoded.overridden


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        pytest.param(SIMPLIFIED, "gbk", "gb18030", id="gbk"),
        pytest.param(TRADITIONAL, "big5", "cp950", id="big5"),
        pytest.param(LATIN, "latin-1", "cp1252", id="latin-1 that also reads as gb18030"),
        pytest.param("<rss><title>“Café” — Zürich</title></rss>", "cp1252", "cp1252", id="windows-1252"),
    ],
)
def test_undeclared_legacy_encodings_are_detected(text: str, codec: str, expected: str) -> None:
    decoded = decode_feed(text.encode(codec), None)
    assert (decoded.text, decoded.encoding, decoded.origin) == (text, expected, "detected")


def test_undeclared_utf8_and_ascii_are_utf8() -> None:
    for text in (SIMPLIFIED, "<rss><channel><title>plain</title></channel></rss>"):
        decoded = decode_feed(text.encode(), None)
        assert (decoded.text, decoded.encoding, decoded.origin) == (text, "utf-8", "utf-8")


def test_a_tie_between_gb18030_and_big5_goes_to_gb18030() -> None:
    # Two characters that both encodings read without a fault: the offices follow mainland sources.
    data = "<rss><title>央行</title></rss>".encode("gbk")
    assert data.decode("cp950")  # a real tie
    assert decode_feed(data, None).encoding == "gb18030"


def test_a_utf16_label_on_bytes_that_are_not_utf16_is_ignored() -> None:
    # Decoded by the label, these bytes would give (valid, wrong) CJK characters.
    text = '<?xml version="1.0" encoding="utf-16"?>' + SIMPLIFIED
    decoded = decode_feed(text.encode(), "text/xml; charset=utf-16")
    assert (decoded.text, decoded.encoding) == (text, "utf-8")


def test_too_little_text_to_tell_is_refused_not_guessed() -> None:
    # Four bytes that read as 制配 (GB18030), as two other characters (Big5) and as ÖÆÅã
    # (windows-1252), all equally clean: which one is news cannot be told.
    data = b"<rss><channel><title>\xd6\xc6\xc5\xe3</title></channel></rss>"
    with pytest.raises(FeedError) as caught:
        decode_feed(data, None)
    assert caught.value.reason == errors.UNCERTAIN_ENCODING
    assert "cp1252" in caught.value.detail and "\n" not in str(caught.value)


def test_a_declaration_the_bytes_prove_wrong_is_overridden() -> None:
    decoded = decode_feed(('<?xml version="1.0" encoding="utf-8"?>' + SIMPLIFIED).encode("gbk"), None)
    assert (decoded.encoding, decoded.origin, decoded.overridden) == ("gb18030", "detected", "utf-8")
    assert SIMPLIFIED in decoded.text


def test_a_few_invalid_bytes_in_utf8_are_dropped_and_counted() -> None:
    title = "株洲市召开普惠金融工作推进会".encode()
    body = SIMPLIFIED.encode().replace(title, title[:6] + b"\xff" + title[6:] + "普".encode()[:2])
    decoded = decode_feed(b'<?xml version="1.0" encoding="utf-8"?>' + body, "application/rss+xml")
    assert (decoded.encoding, decoded.invalid) == ("utf-8", 2)
    assert "株洲市召开普惠金融工作推进会" in decoded.text and "\ufffd" not in decoded.text


def test_a_replacement_character_the_feed_carries_is_not_an_error() -> None:
    body = SIMPLIFIED.replace("央行", "央\ufffd行").encode()
    decoded = decode_feed(body, "application/rss+xml; charset=utf-8")
    assert (decoded.invalid, decoded.origin) == (0, "http")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(
            SIMPLIFIED[:40].encode() + SIMPLIFIED[40:].encode("gbk"),
            errors.UNDECODABLE_FEED,
            id="half utf-8, half gbk",
        ),
        pytest.param(bytes(range(0x80, 0x100)) * 4, errors.UNDECODABLE_FEED, id="binary"),
    ],
)
def test_bytes_no_encoding_reads_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(FeedError) as caught:
        decode_feed(data, None)
    assert caught.value.reason == reason
    assert "\n" not in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([None, "text/xml", "application/xml; charset=gbk"]))
def test_any_bytes_decode_or_fail_in_one_line(data: bytes, content_type: str | None) -> None:
    try:
        decoded = decode_feed(data, content_type)
    except FeedError as error:
        assert error.reason in (errors.UNDECODABLE_FEED, errors.UNCERTAIN_ENCODING)
        assert "\n" not in str(error)
    else:
        assert decoded.encoding and decoded.skipped <= len(data)
