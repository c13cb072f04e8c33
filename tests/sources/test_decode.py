"""decode_text: the encodings office files come in, and what is refused."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sources import errors
from bot.sources.decode import decode_text
from bot.sources.errors import ParseError

TEXT = "株洲金融工作\n第二行"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(TEXT.encode(), TEXT, id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + TEXT.encode(), TEXT, id="utf-8 with BOM"),
        pytest.param(TEXT.encode("utf-16"), TEXT, id="utf-16 with BOM (native)"),
        pytest.param(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), TEXT, id="utf-16-le with BOM"),
        pytest.param(codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), TEXT, id="utf-16-be with BOM"),
        pytest.param(TEXT.encode("gbk"), TEXT, id="gbk"),
        pytest.param(TEXT.encode("gb2312"), TEXT, id="gb2312"),
        pytest.param("𠀀 and ㊣ 金融".encode("gb18030"), "𠀀 and ㊣ 金融", id="gb18030 four-byte"),
        pytest.param(b"a\r\nb\rc\n", "a\nb\nc\n", id="CRLF and CR to LF"),
        pytest.param("株\r\n洲".encode("gbk"), "株\n洲", id="gbk with CRLF"),
        pytest.param(b"text\x1a", "text", id="DOS end-of-file mark dropped"),
        pytest.param(b"a\x07" + b"b" * 200, "a" + "b" * 200, id="a stray control character dropped"),
        pytest.param(b"page\x0cbreak\x0bline", "page\x0cbreak\x0bline", id="form feed and vertical tab kept"),
        pytest.param(b"no trailing newline", "no trailing newline", id="no trailing newline"),
        pytest.param("株洲金融".encode()[:-1], "株洲金", id="utf-8 cut inside the last character"),
        pytest.param(b"abc\xe4\xb8", "abc涓", id="ascii then two bytes: gb18030, not a cut"),
    ],
)
def test_decodes(data: bytes, expected: str) -> None:
    assert decode_text(data) == expected


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"", errors.EMPTY, id="empty"),
        pytest.param(b" \n\t\r\n ", errors.EMPTY, id="whitespace only"),
        pytest.param(codecs.BOM_UTF8, errors.EMPTY, id="BOM only"),
        pytest.param(codecs.BOM_UTF8 + b"\n\n", errors.EMPTY, id="BOM and blank lines"),
        pytest.param("\u3000\u3000".encode(), errors.EMPTY, id="ideographic spaces only"),
        pytest.param(b"abc\x00def", errors.BINARY, id="NUL byte"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", errors.BINARY, id="PNG"),
        pytest.param(b"\x89PNG\r\n\x1a\n", errors.BINARY, id="PNG signature alone"),
        pytest.param(b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n", errors.BINARY, id="PDF"),
        pytest.param(b"PK\x03\x04\x14\x00\x06\x00", errors.BINARY, id="docx (zip)"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", errors.BINARY, id="doc (OLE)"),
        pytest.param(b"\x01\x02\x03\x04text", errors.BINARY, id="many control characters"),
        pytest.param(codecs.BOM_UTF16_LE + b"a\x00\x00\x00", errors.BINARY, id="utf-16 holding NUL"),
        pytest.param(b"caf\xe9 au lait", errors.UNDECODABLE, id="latin-1"),
        pytest.param(b"\xff\xfe\x00\xd8", errors.UNDECODABLE, id="utf-16 lone surrogate"),
        pytest.param(b"\xef\xbb\xbf\xff\xfe\xfd", errors.UNDECODABLE, id="BOM then invalid utf-8"),
        pytest.param("株洲".encode("gbk") + b"\x81", errors.UNDECODABLE, id="truncated gbk"),
    ],
)
def test_refuses(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        decode_text(data)
    assert caught.value.reason == reason
    assert str(caught.value) == reason


def test_parse_error_names_the_file() -> None:
    error = ParseError(errors.BINARY, "seeds/a.png")
    assert str(error) == "seeds/a.png: 二进制文件 (binary)"
    assert (error.reason, error.path) == (errors.BINARY, "seeds/a.png")


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_raise_parse_error(data: bytes) -> None:
    try:
        text = decode_text(data)
    except ParseError as error:
        assert error.reason in {errors.EMPTY, errors.BINARY, errors.UNDECODABLE}
    else:
        assert text.strip()
        assert "\r" not in text
        assert "\x00" not in text
