"""The Feishu adapter's pieces without the SDK: what users typed, replies as posts and cards within
Feishu's limits, digests for the IM API, Feishu's answers read (tokens refreshed, rate limits
waited, refusals told apart), and secrets kept out of every detail and log line."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import httpx
import pytest

from bot.adapters.feishu import (
    EXCEED_CONN_LIMIT,
    POST_LIMIT,
    REFUSED_MARK,
    FeishuApi,
    FeishuApiError,
    _failure_of,
    _json_bytes,
    _LarkLogFilter,
    app_message,
    message_text,
    reply_card,
    reply_message,
    reply_post,
    send_error_for,
)
from bot.config import AppConfig
from bot.delivery.channels import Failure
from digests.render_robots import render_feishu
from handlers.markup import text_line
from handlers.request import Button, Reply, Span, Style
from tests.helpers.digests import make_digest, make_entry, section

SECRET = "S3cretS3cretS3cretS3cret"
APP = AppConfig(
    "feishu",
    "FINEWS_FEISHU_APP_ID",
    "FINEWS_FEISHU_APP_SECRET",
    "https://feishu.test",
    frozenset(),
    "cli_a1",
    SECRET,
)


# --- what users typed ---------------------------------------------------------------------------


def test_group_text_loses_its_mention_keys() -> None:
    content = json.dumps({"text": "@_user_1 最新 株洲"}, ensure_ascii=False)
    assert message_text("text", content, ["@_user_1"]).split() == ["最新", "株洲"]  # type: ignore[union-attr]
    # "@_user_10" is not cut into "@_user_1" + "0".
    both = json.dumps({"text": "@_user_10 @_user_1 主题 上市"}, ensure_ascii=False)
    assert message_text("text", both, ["@_user_1", "@_user_10"]).split() == ["主题", "上市"]  # type: ignore[union-attr]
    assert message_text("text", json.dumps({"text": "/latest 株洲"}), []) == "/latest 株洲"


def test_rich_text_gives_its_words_and_other_messages_none() -> None:
    post = {
        "title": "",
        "content": [
            [{"tag": "at", "user_id": "@_user_1"}, {"tag": "text", "text": "最新"}],
            [{"tag": "text", "text": "株洲"}],
        ],
    }
    assert message_text("post", json.dumps(post, ensure_ascii=False), []) == "最新 株洲"
    localized = {"zh_cn": post}
    assert message_text("post", json.dumps(localized, ensure_ascii=False), []) == "最新 株洲"
    assert message_text("image", json.dumps({"image_key": "img_1"}), []) is None
    assert message_text("text", "not json", []) is None
    assert message_text("text", json.dumps(["a"]), []) is None
    assert message_text("text", json.dumps({"text": 3}), []) is None


# --- replies ------------------------------------------------------------------------------------


def test_a_reply_becomes_a_post_with_links_and_bold_and_nothing_unsafe() -> None:
    reply = Reply(
        (
            (Span("“株洲”共 1 条", Style.BOLD),),
            (Span("1. "), Span("为高质量发展注入澎湃金融动能", Style.LINK, "https://example.com/a")),
            (Span("坏链接", Style.LINK, "javascript:alert(1)"), Span("\x1b[31m控制\ud800字符")),
            (),
        )
    )
    post = reply_post(reply)
    assert list(post) == ["zh_cn"]
    lines = post["zh_cn"]["content"]
    assert lines[0] == [{"tag": "text", "text": "“株洲”共 1 条", "style": ["bold"]}]
    assert lines[1][1] == {
        "tag": "a",
        "text": "为高质量发展注入澎湃金融动能",
        "href": "https://example.com/a",
    }
    assert lines[2][0] == {"tag": "text", "text": "坏链接"}
    assert lines[2][1]["text"] == " [31m控制\ufffd字符"
    assert lines[3] == [{"tag": "text", "text": ""}]
    msg_type, content = reply_message(reply)
    assert msg_type == "post" and json.loads(content) == post
    content.encode("utf-8")  # no lone surrogate left


def test_a_long_reply_keeps_whole_lines_within_feishus_limit() -> None:
    reply = Reply(tuple(text_line(f"第{n}行：" + "金融" * 400) for n in range(40)))
    post = reply_post(reply)
    lines = post["zh_cn"]["content"]
    assert _json_bytes(post) <= POST_LIMIT
    assert 5 < len(lines) < 40 and lines[-1] == [{"tag": "text", "text": "…"}]
    assert all(line[0]["text"].startswith(f"第{n}行") for n, line in enumerate(lines[:-1]))


def test_a_reply_with_buttons_is_a_card_that_can_be_replaced() -> None:
    reply = Reply(
        (text_line("“金融”共 5 条，第 2/5 页", Style.BOLD), (Span("*粗体* [x](y) <at>", Style.PLAIN),)),
        buttons=(Button("上一页", "pg:tok:1"), Button("下一页", "pg:tok:3")),
    )
    msg_type, content = reply_message(reply)
    card = json.loads(content)
    assert msg_type == "interactive" and card == reply_card(reply)
    assert card["config"]["update_multi"] is True
    markdown, actions = card["elements"]
    assert markdown["tag"] == "markdown"
    assert markdown["content"] == "**“金融”共 5 条，第 2/5 页**\n＊粗体＊ ［x］(y) ＜at＞"
    assert [(b["text"]["content"], b["value"]) for b in actions["actions"]] == [
        ("上一页", {"action": "pg:tok:1"}),
        ("下一页", {"action": "pg:tok:3"}),
    ]
    big = Reply(tuple(text_line("金融" * 500) for _ in range(40)), buttons=(Button("下一页", "pg:t:2"),))
    assert len(reply_message(big)[1].encode("utf-8")) < 30 * 1024


def test_a_digest_part_becomes_the_im_apis_post_and_other_formats_text() -> None:
    [part] = render_feishu(make_digest(section("上市", make_entry())))
    msg_type, content = app_message(json.dumps(part, ensure_ascii=False), "json")
    assert msg_type == "post" and json.loads(content) == part["content"]["post"]
    assert "zh_cn" in json.loads(content)
    text = {"msg_type": "text", "content": {"text": "测试"}}
    assert app_message(json.dumps(text, ensure_ascii=False), "json") == ("text", '{"text":"测试"}')
    assert app_message("<b>日报</b> &amp;", "html") == ("text", '{"text":"日报 &"}')
    with pytest.raises(ValueError):
        app_message(json.dumps({"msg_type": "post", "content": {}}), "json")
    with pytest.raises(ValueError):
        app_message("[]", "json")


# --- Feishu's answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (FeishuApiError(f"{REFUSED_MARK} (code 10014)", code=10014, refused=True), Failure.BLOCKED),
        (FeishuApiError("no bot", code=230006, status=400), Failure.BLOCKED),
        (FeishuApiError("scope", code=99991672, status=400), Failure.BLOCKED),
        (FeishuApiError("too fast", code=230020, status=400, transient=True, retry_after=1.0), Failure.RETRY),
        (FeishuApiError("timeout", transient=True), Failure.RETRY),
        (FeishuApiError("HTTP 502", status=502, transient=True), Failure.RETRY),
        (FeishuApiError("bot removed", code=230002, status=400), Failure.GONE),
        (FeishuApiError("dissolved", code=232009, status=400), Failure.GONE),
        (FeishuApiError("user blocked the bot", code=230053, status=400), Failure.GONE),
        (FeishuApiError("too long", code=230025, status=400), Failure.REJECTED),
        (FeishuApiError("bad param", code=230001, status=400), Failure.REJECTED),
        (FeishuApiError("something new", code=231234, status=400), Failure.RETRY),
    ],
)
def test_what_a_refused_send_means(error: FeishuApiError, failure: Failure) -> None:
    sent = send_error_for(error)
    assert sent.failure is failure
    if failure is Failure.BLOCKED:
        assert sent.detail.startswith(REFUSED_MARK)
    if error.retry_after is not None:
        assert sent.retry_after == error.retry_after


Handler = Callable[[httpx.Request], httpx.Response]


def api_with(handler: Handler) -> tuple[FeishuApi, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(base_url=APP.api_url, transport=httpx.MockTransport(record))
    return FeishuApi(APP, client), seen


def token_answer(token: str = "t-g1044abcdefabcdefabcdefabcdef", expire: int = 7200) -> httpx.Response:
    return httpx.Response(200, json={"code": 0, "msg": "ok", "tenant_access_token": token, "expire": expire})


def test_the_token_is_cached_and_fetched_again_when_feishu_refuses_it() -> None:
    tokens = iter(["t-first000000000000000000", "t-second00000000000000000"])
    refused_once: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("tenant_access_token/internal"):
            body = json.loads(request.content)
            assert body == {"app_id": "cli_a1", "app_secret": SECRET}
            return token_answer(next(tokens))
        auth = request.headers["Authorization"]
        if auth == "Bearer t-first000000000000000000" and len(refused_once) == 1:
            return httpx.Response(400, json={"code": 99991663, "msg": "Invalid access token"})
        refused_once.append(auth)
        assert request.headers["Content-Type"] == "application/json; charset=utf-8"
        return httpx.Response(200, json={"code": 0, "msg": "success", "data": {"message_id": "om_1"}})

    api, seen = api_with(handler)

    async def run() -> None:
        assert (await api.create("oc_1", "text", '{"text":"一"}'))["message_id"] == "om_1"
        assert (await api.create("oc_1", "text", '{"text":"二"}', uuid="u-2"))["message_id"] == "om_1"
        await api.aclose()

    asyncio.run(run())
    paths = [r.url.path.rsplit("/", 1)[-1] for r in seen]
    assert paths == ["internal", "messages", "messages", "internal", "messages"]
    assert json.loads(seen[-1].content) == {
        "receive_id": "oc_1",
        "msg_type": "text",
        "content": '{"text":"二"}',
        "uuid": "u-2",
    }
    assert seen[-1].url.params["receive_id_type"] == "chat_id"


def answer_of(response: httpx.Response) -> FeishuApiError:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("tenant_access_token/internal"):
            return token_answer()
        return response

    api, _ = api_with(handler)
    with pytest.raises(FeishuApiError) as raised:
        asyncio.run(api.reply("om_1", "text", '{"text":"x"}'))
    return raised.value


def test_feishus_error_answers_are_errors_with_what_they_mean() -> None:
    limited = answer_of(
        httpx.Response(429, headers={"x-ogw-ratelimit-reset": "7"}, json={"code": 99991400, "msg": "limit"})
    )
    assert limited.transient and limited.retry_after == 7.0 and limited.code == 99991400
    old_style = answer_of(httpx.Response(400, json={"code": 230020, "msg": "frequency limit"}))
    assert old_style.retry_after == 1.0
    ok_but_not = answer_of(
        httpx.Response(200, json={"code": 230002, "msg": "The bot can not be outside the group"})
    )
    assert ok_but_not.code == 230002 and not ok_but_not.transient and "230002" in ok_but_not.detail
    server = answer_of(httpx.Response(503, text="<html>busy</html>"))
    assert server.transient and server.code is None
    echo = answer_of(httpx.Response(400, json={"code": 1, "msg": f"bad app_secret={SECRET}"}))
    assert SECRET not in echo.detail


def token_error(response: httpx.Response | Exception) -> FeishuApiError:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(response, Exception):
            raise response
        return response

    api, _ = api_with(handler)
    with pytest.raises(FeishuApiError) as raised:
        asyncio.run(api.token())
    return raised.value


def test_a_refused_token_is_permanent_a_failing_platform_is_not() -> None:
    wrong = token_error(httpx.Response(400, json={"code": 10014, "msg": "app secret invalid"}))
    assert wrong.refused and not wrong.transient and wrong.detail.startswith(REFUSED_MARK)
    assert "10014" in wrong.detail
    not_feishu = token_error(httpx.Response(404, text="<html>no such page</html>"))
    assert not_feishu.refused
    busy = token_error(httpx.Response(503, text="busy"))
    assert busy.transient and not busy.refused
    down = token_error(httpx.ConnectError("connection refused"))
    assert down.transient and not down.refused
    slow = token_error(httpx.ReadTimeout("slow"))
    assert slow.transient


# --- the long connection's failures and logs ------------------------------------------------------


class ClientException(Exception):
    """Named as lark-oapi's (ws/exception.py): the adapter reads the SDK's errors by name and code."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code


def test_what_the_sdks_errors_mean() -> None:
    refused = _failure_of(ClientException(10014, "app secret invalid"))
    assert refused.permanent and refused.detail.startswith(REFUSED_MARK)
    crowded = _failure_of(ClientException(EXCEED_CONN_LIMIT, "exceed conn limit"))
    assert not crowded.permanent
    unreachable = _failure_of(ConnectionRefusedError(111, "Connection refused"))
    assert not unreachable.permanent and "ConnectionRefusedError" in unreachable.detail


def test_the_sdks_log_lines_lose_their_secrets() -> None:
    redactor = _LarkLogFilter()
    redactor.secrets.add(SECRET)
    record = logging.LogRecord(
        "Lark",
        logging.ERROR,
        __file__,
        1,
        "connected to %s with %s, token %s",
        ("ws://h/ws/v2?device_id=1&access_key=abc&ticket=9f8e", SECRET, "t-g1044abcdefabcdefabcdef"),
        None,
    )
    assert redactor.filter(record)
    message = record.getMessage()
    assert SECRET not in message and "abc" not in message and "9f8e" not in message
    assert "t-g1044" not in message and "access_key=***&ticket=***" in message
    assert redactor.last_error == message
