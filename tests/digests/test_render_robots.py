"""The WeCom, DingTalk and Feishu renderings: within each platform's byte budget, nothing lost,
and no title, outlet or URL from outside able to break the message."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digests.render_robots import (
    BODY_MARGIN,
    DINGTALK_BODY_LIMIT,
    FEISHU_BODY_LIMIT,
    WECOM_CONTENT_LIMIT,
    markdown_text,
    markdown_url,
    render_dingtalk,
    render_feishu,
    render_wecom,
)
from digests.values import Digest, SnippetPart
from tests.helpers.digests import make_digest, make_entry, section

MARKUP = "*_[]#<>&`|~\\"
HOSTILE_TITLES = [
    "[公告] **重要** _通知_ #1 <b>粗体</b> & `代码` | 表格 ~删除~ \\转义",
    "株洲🚀金融👩‍👩‍👧发展",
    "长" * 2500,
    "](javascript:alert(1))",
    "- 1. > # 开头像列表",
]


def body_bytes(message: dict[str, Any]) -> int:
    """The request body's size as the platforms count it: UTF-8 JSON."""
    return len(json.dumps(message, ensure_ascii=False).encode("utf-8"))


def wecom_content(message: dict[str, Any]) -> str:
    assert message["msgtype"] == "markdown"
    content = message["markdown"]["content"]
    assert isinstance(content, str)
    return content


def dingtalk_text(message: dict[str, Any]) -> str:
    assert message["msgtype"] == "markdown" and message["markdown"]["title"]
    text = message["markdown"]["text"]
    assert isinstance(text, str)
    return text


def feishu_text(message: dict[str, Any]) -> str:
    post = message["content"]["post"]["zh_cn"]
    return "\n".join("".join(node["text"] for node in paragraph) for paragraph in post["content"])


# A WeCom/DingTalk entry block: number, a linked (or bold) title, optional meta, optional snippet.
# Outside text may hold anything but markup characters; bold only wraps a keyword.
_PLAIN = r"[^*_\[\]#<>&`|~\\\n]"
_URL = r"https?://[^\s()\[\]<>\"'`*\\]+"
WECOM_ENTRY = re.compile(
    rf"\d+\. (?:\[{_PLAIN}*\]\({_URL}\)|\*\*{_PLAIN}*\*\*)"
    rf'(?:\n<font color="comment">{_PLAIN}*</font>)?'
    rf"(?:\n(?:{_PLAIN}|\*\*{_PLAIN}+\*\*)+)?"
)


def entry_numbers(blocks: list[str]) -> list[int]:
    return [int(b.split(".", 1)[0]) for b in blocks if re.match(r"\d+\. ", b)]


titles = st.one_of(st.sampled_from(HOSTILE_TITLES), st.text(min_size=1, max_size=300))
urls = st.one_of(
    st.just("https://example.com/a(b)c?x=[1]&y=<2>"),
    st.just("javascript:alert(1)"),
    st.builds(lambda path: f"https://example.com/{path}", st.text(alphabet="abc()[]*_~'\"", max_size=30)),
)


def hostile_digest(data: st.DataObject) -> Digest:
    entries = [
        make_entry(
            title=data.draw(titles),
            url=data.draw(urls),
            outlets=(data.draw(st.text(min_size=1, max_size=20)),),
            snippet=(SnippetPart(data.draw(st.text(max_size=200))), SnippetPart("金融*", True)),
        )
        for _ in range(data.draw(st.integers(1, 12)))
    ]
    half = len(entries) // 2
    return make_digest(
        section("上市[1]", *entries[:half], total=half + 3), section("普惠_金融", *entries[half:])
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_wecom_messages_fit_are_well_formed_and_lose_nothing(data: st.DataObject) -> None:
    digest = hostile_digest(data)
    messages = render_wecom(digest)
    numbers: list[int] = []
    for message in messages:
        content = wecom_content(message)
        assert len(content.encode("utf-8")) <= WECOM_CONTENT_LIMIT
        blocks = content.split("\n\n")
        for block in blocks:
            if re.match(r"\d+\. ", block):
                assert WECOM_ENTRY.fullmatch(block), block
        numbers += entry_numbers(blocks)
    expected = [n for s in digest.sections for n in range(1, len(s.entries) + 1)]
    assert numbers == expected  # every entry once, in order


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_dingtalk_and_feishu_bodies_fit_their_byte_budgets(data: st.DataObject) -> None:
    digest = hostile_digest(data)
    dingtalk = render_dingtalk(digest)
    feishu = render_feishu(digest)
    for message in dingtalk:
        assert body_bytes(message) <= DINGTALK_BODY_LIMIT - BODY_MARGIN
        assert not set(message["markdown"]["title"]) & set(MARKUP)
    for message in feishu:
        assert body_bytes(message) <= FEISHU_BODY_LIMIT - BODY_MARGIN
    expected = [n for s in digest.sections for n in range(1, len(s.entries) + 1)]
    texts = "\n\n".join(dingtalk_text(m) for m in dingtalk)
    assert entry_numbers(texts.split("\n\n")) == expected
    firsts = [
        paragraph[0]["text"]
        for m in feishu
        for paragraph in m["content"]["post"]["zh_cn"]["content"]
        if len(paragraph) == 2
        and paragraph[1]["tag"] in ("a", "text")
        and re.fullmatch(r"\d+\. ", paragraph[0]["text"])
    ]
    assert [int(f.split(".")[0]) for f in firsts] == expected


def test_small_limits_split_between_entries_and_repeat_the_heading() -> None:
    entries = [make_entry(title=f"第{n}条新闻标题") for n in range(12)]
    digest = make_digest(section("上市", *entries))
    messages = [wecom_content(m) for m in render_wecom(digest, limit=600)]
    assert len(messages) > 2
    assert messages[0].startswith("**金融要闻 2026-11-20")
    assert all(m.startswith("**【上市】12 条（续）**") for m in messages[1:])
    assert all(len(m.encode()) <= 600 for m in messages)


def test_an_entry_too_large_for_a_message_is_shortened_not_dropped() -> None:
    digest = make_digest(section("上市", make_entry(title="长" * 3000)))
    header, entry = (wecom_content(m) for m in render_wecom(digest))
    assert header.startswith("**金融要闻") and entry.startswith("**【上市】1 条**")
    assert len(entry.encode()) <= WECOM_CONTENT_LIMIT and "长长长…](https://example.com/a)" in entry


def test_markup_characters_become_look_alikes_and_urls_are_quoted() -> None:
    assert markdown_text("[公告]*_#<>&`|~\\") == "［公告］＊＿＃＜＞＆｀｜～＼"
    assert markdown_url("https://example.com/a(b)?q=[1]") == "https://example.com/a%28b%29?q=%5B1%5D"


def test_the_keyword_is_bold_and_the_title_linked_in_every_dialect() -> None:
    digest = make_digest(section("财政", make_entry()))
    wecom = wecom_content(render_wecom(digest)[0])
    assert "1. [株洲市财政局发布预算报告](https://example.com/a)" in wecom
    assert "今年**财政**收入增长。" in wecom and '<font color="comment">株洲日报 · 08:30</font>' in wecom
    dingtalk = dingtalk_text(render_dingtalk(digest)[0])
    assert "1. [株洲市财政局发布预算报告](https://example.com/a)  \n  株洲日报 · 08:30" in dingtalk
    post = render_feishu(digest)[0]["content"]["post"]["zh_cn"]
    assert post["title"] == "金融要闻 2026-11-20 星期五"
    nodes = [node for paragraph in post["content"] for node in paragraph]
    assert {"tag": "a", "text": "株洲市财政局发布预算报告", "href": "https://example.com/a"} in nodes
    assert {"tag": "text", "text": "财政", "style": ["bold"]} in nodes


def test_an_unsafe_url_is_not_linked() -> None:
    digest = make_digest(section("财政", make_entry(url="javascript:alert(1)")))
    assert "1. **株洲市财政局发布预算报告**" in wecom_content(render_wecom(digest)[0])
    nodes = [n for p in render_feishu(digest)[0]["content"]["post"]["zh_cn"]["content"] for n in p]
    assert not any(node["tag"] == "a" for node in nodes)


def test_an_empty_day_says_so() -> None:
    digest = make_digest()
    assert "今日无相关新闻" in wecom_content(render_wecom(digest)[0])
    assert "今日无相关新闻" in feishu_text(render_feishu(digest)[0])
