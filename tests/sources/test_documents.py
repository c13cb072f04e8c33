"""Plain-text office documents: the seeds, parse_file's choice of parser, and crafted variants."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.models import Item, ItemKind
from bot.sources import errors
from bot.sources.documents import parse_document
from bot.sources.errors import ParseError
from bot.sources.parse import parse_file

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
MTIME = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
MTIME_SHANGHAI = "2024-03-01T17:30:00+08:00"


def parse_seed(name: str) -> Item:
    return parse_file((SEEDS / name).read_bytes(), path=f"seeds/{name}", mtime=MTIME)


def parse_text(text: str, name: str = "docs/报告.txt") -> Item:
    return parse_file(text.encode(), path=name, mtime=MTIME)


@pytest.mark.parametrize("name", sorted(path.name for path in SEEDS.iterdir() if path.is_file()))
def test_every_seed_parses(name: str) -> None:
    item = parse_seed(name)
    assert item.title and item.text
    assert item.kind is (ItemKind.POST if name.endswith(".md") else ItemKind.DOCUMENT)
    assert item.published.isoformat().endswith("+08:00")


@pytest.mark.parametrize(
    ("name", "title", "first_line", "last_line"),
    [
        (
            "全市金融工作座谈会汇报发言.txt",
            "在全市金融工作座谈会上的汇报发言材料",
            "尊敬的**市长，各位领导，同志们：",
            "汇报完毕，谢谢大家！",
        ),
        (
            "2022年全市金融工作总结和2023年工作打算.txt",
            "2022年全市金融工作总结和2023年工作打算",
            "今年以来，全市金融系统以习近平新时代中国特色社会主义思想为指导，",
            "加大陈案处置力度，今年要重点完成2件以上陈案处置。",
        ),
        (
            "全市金融工作会议讲话.txt",
            "金融是现代经济的核心，是实体经济的血脉",  # the speech opens with 同志们： then a paragraph
            "同志们：",
            "为谱写高质量发展新篇章贡献新的力量。",
        ),
    ],
)
def test_document_seeds(name: str, title: str, first_line: str, last_line: str) -> None:
    item = parse_seed(name)
    stem = name.removesuffix(".txt")
    assert (item.id, item.kind, item.title) == (stem, ItemKind.DOCUMENT, title)
    assert (item.source, item.source_name, item.origin, item.url) == ("documents", "办公文档", "", "")
    assert item.path == f"seeds/{name}"
    assert item.published.isoformat() == MTIME_SHANGHAI  # the seeds carry no date
    lines = item.text.split("\n")
    assert lines[0].startswith(first_line)
    assert lines[-1].endswith(last_line)
    assert all(line and line == line.strip() for line in lines)
    assert title not in lines  # a title line is taken out of the text


def test_paragraph_title_keeps_the_paragraph() -> None:
    item = parse_seed("全市金融工作会议讲话.txt")
    assert item.text.split("\n")[1].startswith("金融是现代经济的核心，是实体经济的血脉。金融活，经济活；")


@pytest.mark.parametrize(
    ("text", "title", "body"),
    [
        pytest.param(
            "关于金融工作的报告\n\n正文一。\n正文二。",
            "关于金融工作的报告",
            "正文一。\n正文二。",
            id="title line",
        ),
        pytest.param(
            "\n\n  关于金融工作的报告  \n正文。", "关于金融工作的报告", "正文。", id="leading blanks"
        ),
        pytest.param(
            "同志们：\n今天开会。会议很重要。",
            "今天开会",
            "同志们：\n今天开会。会议很重要。",
            id="salutation then a paragraph",
        ),
        pytest.param(
            "各位领导:\n工作汇报\n正文。", "工作汇报", "各位领导:\n正文。", id="ascii colon salutation"
        ),
        pytest.param("长" * 70 + "\n正文。", "长" * 60, "长" * 70 + "\n正文。", id="long first line"),
        pytest.param("# 标题\n正文。", "标题", "正文。", id="markdown heading"),
        pytest.param("只有标题", "只有标题", "", id="title only"),
        pytest.param("同志们：", "同志们：", "", id="only a salutation"),
        pytest.param(
            "\u3000\u3000全角  缩进\u3000\n\u3000\u3000正文。", "全角 缩进", "正文。", id="ideographic spaces"
        ),
    ],
)
def test_titles(text: str, title: str, body: str) -> None:
    item = parse_text(text)
    assert (item.title, item.text) == (title, body)
    assert item.id == "报告"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("报告\n正文。\n市金融办\n2023年1月5日\n", "2023-01-05", id="signature date"),
        pytest.param("报告\n正文。\n2023-01-05", "2023-01-05", id="iso signature"),
        pytest.param("报告\n正文。\n2023/1/5", "2023-01-05", id="slashes"),
        pytest.param("报告\n正文。\n 2023 年 1 月 5 日 ", "2023-01-05", id="spaces"),
        pytest.param("报告\n正文。\n二〇二三年一月五日", "2023-01-05", id="chinese numerals"),
        pytest.param("报告\n正文。\n二〇二二年十二月二十五日", "2022-12-25", id="chinese tens"),
        pytest.param("报告\n正文。\n２０２３年１月５日", "2023-01-05", id="full-width digits"),
        pytest.param("报告\n2022年3月1日\n正文。\n2023年1月5日", "2023-01-05", id="the last date line"),
        pytest.param("报告\n正文。\n2023年2月30日\n2023年1月5日", "2023-01-05", id="invalid date skipped"),
        pytest.param("2023年1月5日在市政府的讲话\n正文。", "2023-01-05", id="date in the title"),
        pytest.param(
            "讲话\n同志们：\n2023年1月5日，我们召开会议。", "2023-01-05", id="date in the third line"
        ),
        pytest.param("讲话\n一\n二\n三\n2023年1月5日召开。", MTIME_SHANGHAI, id="date too late in the text"),
        pytest.param("2022年全市金融工作总结和2023年工作打算\n正文。", MTIME_SHANGHAI, id="years only"),
        pytest.param("报告\n余额6091.94亿元。", MTIME_SHANGHAI, id="a number is no date"),
    ],
)
def test_dates(text: str, expected: str) -> None:
    published = parse_text(text).published
    if expected == MTIME_SHANGHAI:
        assert published.isoformat() == MTIME_SHANGHAI
    else:
        assert published.isoformat() == f"{expected}T00:00:00+08:00"


@pytest.mark.parametrize(
    ("data", "title"),
    [
        pytest.param(
            "关于金融工作的报告\r\n正文。\r\n".encode("gbk"), "关于金融工作的报告", id="GBK with CRLF"
        ),
        pytest.param("关于金融工作的报告\n正文。".encode("gb2312"), "关于金融工作的报告", id="GB2312"),
        pytest.param("\ufeff关于金融工作的报告\n正文。".encode(), "关于金融工作的报告", id="UTF-8 BOM"),
        pytest.param("关于金融工作的报告\n正文。".encode("utf-16"), "关于金融工作的报告", id="UTF-16"),
    ],
)
def test_encodings(data: bytes, title: str) -> None:
    item = parse_file(data, path="docs/报告.txt", mtime=MTIME)
    assert (item.kind, item.title, item.text) == (ItemKind.DOCUMENT, title, "正文。")


def test_a_document_starting_with_a_rule_is_not_a_document() -> None:
    # The first non-blank line decides: "---" opens front matter, which must then be closed.
    with pytest.raises(ParseError) as caught:
        parse_text("\n---\n正文")
    assert caught.value.reason == errors.FRONT_MATTER_NOT_CLOSED


def test_source_can_be_chosen() -> None:
    item = parse_document(
        "报告\n正文", filename="/data/政府/报告.v2.txt", mtime=MTIME, source="gov", source_name="政府文件"
    )
    assert (item.id, item.source, item.source_name, item.path) == (
        "报告.v2",
        "gov",
        "政府文件",
        "/data/政府/报告.v2.txt",
    )


@pytest.mark.parametrize("text", ["", "  \n\u3000\n", "\u200b\n\ufeff"])
def test_empty_document_is_refused(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_document(text, filename="a.txt", mtime=MTIME)
    assert caught.value.reason == errors.NO_TITLE_NO_TEXT


def test_markdown_without_front_matter_is_not_news() -> None:
    text = b"# finews corpus sample\n\nReal posts from the public repository.\n"
    with pytest.raises(errors.ParseError) as caught:
        parse_file(text, path="corpus/MANIFEST.md", mtime=MTIME)
    assert caught.value.reason == errors.NO_FRONT_MATTER
    assert parse_file(text, path="notes.txt", mtime=MTIME).kind == "document"
