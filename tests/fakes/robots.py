"""A local fake of the custom group robots (send-only webhooks) of WeCom, DingTalk and Feishu.

No public emulator of these robots exists, so this one enforces each platform's contract as its
documents state it, answers with the platforms' own error codes and response shapes, and records
what it received. It is a real HTTP/1.1 server on 127.0.0.1 (a thread of the test process, or
standalone: ``python -m tests.fakes.robots --port N`` prints its base URL on the first line), so a
bot running in another process delivers to it exactly as it would to the platforms.

Every platform answers HTTP 200 with a non-zero code for a refused message; apart from 404/405
for a path or method that is no webhook, only the injected faults (``fail_next``: HTTP 5xx,
``hang_next``: a delay before normal handling, ``drop_next``: no answer at all) produce anything
else.

Sources: "doc" is the platform's own page (read through the mirror in the public repository
``wxkingstar/doc-hub-mcp``, which stores each page with its source URL and date, and through the
search tool's docs/pages corpora); "seen" is a real response quoted in a public issue or code file.
Where a document and a seen response disagree, the fake follows the document.

WeCom 企业微信 群机器人 (renamed 消息推送 in 2025)
    ``POST {base}/cgi-bin/webhook/send?key=KEY``; success ``{"errcode":0,"errmsg":"ok"}``.
    Doc "消息推送配置说明", https://developer.work.weixin.qq.com/document/path/99110 (formerly
    path/91770; updated 2025/08/07; mirror path ``wecom/001-企业内部开发/002-服务端API/
    009-消息接收与发送/008-消息推送原群机器人/001-消息推送配置说明.md``) and doc "全局错误码",
    path/90455 (mirror ``wecom/001-企业内部开发/005-附录/003-全局错误码.md``).

    - No signing: the key is the only secret (the doc has no security settings). Unknown, missing
      or revoked key → 93000 (doc: "消息推送webhookurl不合法或者消息推送已经被移除出群"; seen:
      ``invalid webhook url, hint: [...], from ip: ..., more info at
      https://open.work.weixin.qq.com/devtool/query?e=93000`` in wes-lin/Cloud189Checkin#175 and
      qd-today/qd#586). All WeCom errmsgs carry that hint/ip/more-info tail.
    - msgtype must be one of text, markdown, markdown_v2, image, news, file, voice, template_card
      (doc), lower case (seen: apache/hertzbeat#984, upper case → 40008); anything else, or a body
      that is not a JSON object → 40008 (doc: 不合法的msgtype参数; seen ``invalid message type``
      in ttttmr/Wechat2RSS#278, and for a form-encoded body in y1ndan/genshin-impact-helper#123).
    - text.content ≤ 2048 bytes, markdown.content and markdown_v2.content ≤ 4096 bytes, UTF-8
      (doc); one byte more → 40058 (seen: ``markdown.content exceed max length 4096. invalid
      Request Parameter`` in dromara/domain-admin#82 and RayWangQvQ/BiliBiliTool#569). Disagreement:
      zero205/JD_tencent_scf#278 (2021) saw ``text.content exceed max length 5120``; the fake
      keeps the documented 2048.
    - Missing or empty content of text/markdown/markdown_v2 → 44004 (doc: 文本消息content参数为空;
      applying it to markdown too is inferred). Other missing or mistyped fields, news with 0 or
      more than 8 articles (doc: 1 到 8 条, title and url required), image without base64/md5,
      file/voice without media_id, template_card without card_type/card_action → 40058 (doc
      help for 40058: invalid json, length over a limit, array over a limit, empty required field).
    - 20 messages per minute per robot (doc: 每个消息推送发送的消息不能超过20条/分钟) → 45009
      (doc: 接口调用超过限制; seen ``api freq out of limit`` in WecomTeam/wecom-openclaw-plugin#48,
      on another WeCom endpoint). The doc help for 45009 and doc path/90454 say a per-minute block
      lasts one minute from the interception, so a refused robot stays refused for
      ``wecom_block`` (default = the window). Not verified: a public record of the webhook itself
      answering 45009, and whether the window is sliding (the fake's) or aligned to the minute.

DingTalk 钉钉 自定义机器人
    ``POST {base}/robot/send?access_token=TOKEN[&timestamp=MS&sign=SIGN]``; success
    ``{"errcode":0,"errmsg":"ok"}``. Doc "自定义机器人发送群消息" (help.dingtalk.io
    custom-robots-send-group-messages; copies of open.dingtalk.com custom-robot-access at
    juejin.cn/post/7129698690297495583 and gitbook.curiouser.top/origin/dingding-customrobot.html)
    and the SDK zhuifengshen/DingtalkChatbot ``dingtalkchatbot/chatbot.py``.

    - 加签 (optional per robot, secret starts with ``SEC``): query ``timestamp`` (ms) and ``sign`` =
      urlEncode(Base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}"))) (doc and SDK);
      the timestamp may differ from server time by at most 1 hour (doc: 误差不能超过1小时;
      the fake accepts exactly 1 hour, either direction). Wrong or missing sign or timestamp →
      310000 ``description:机器人发送签名不匹配;...`` (seen in qd-today/qd#510 and, for a sign
      without timestamp, sunmh207/AI-Codereview-Gitlab#142; older servers said ``sign not match``,
      x-cold/dingtalk-robot#7); stale timestamp → 310000 ``description:机器人发送签名过期;...``
      (seen in 0wQ/air780e-forwarder#51; older ``invalid timestamp``, jenkinsci/dingtalk-plugin#116).
    - Unknown, missing or revoked token → 300001 ``token is not exist`` (seen in
      timonwong/prometheus-webhook-dingtalk#91 and sdvdxl/falcon-message#7).
    - Body ≤ 20000 bytes → otherwise 460101 ``description: body 大小不合法;solution:请保持大小在
      20000bytes 以内;`` (seen in feiyu563/PrometheusAlert#318; older ``message too long, exceed
      20000 bytes``, Le0nsec/SecCrawler#12).
    - Body that is not a JSON object → 40035 ``缺少参数 json`` (seen in ccfos/nightingale#2704,
      zcong1993/actions-ding#5). msgtype must be text, link, markdown, actionCard or feedCard (doc);
      a missing or other msgtype also answers 40035 — not verified, no public record found.
    - Required fields per msgtype (text.content; link.title/text/messageUrl; markdown.title/text;
      actionCard.title/text plus singleTitle+singleURL or btns[{title, actionURL}]; feedCard.links
      [{title, messageURL, picURL}]; optional ``at`` with atMobiles/atUserIds lists and isAtAll)
      from the doc and the SDK; a missing one → 400402 ``错误描述:参数 markdown --》 title
      缺失，或者参数格式不正确; ...`` (seen in cryozerolabs/n8n-nodes-dingtalk#10).
    - 20 messages per minute per robot; the 21st throttles the robot for 10 minutes (doc:
      每个机器人每分钟最多发送20条消息到群里，如果超过20条，会限流10分钟) → 130101 ``send too fast,
      exceed 20 times per minute`` (seen in ccfos/nightingale#369).

Feishu 飞书 自定义机器人
    ``POST {base}/open-apis/bot/v2/hook/TOKEN``; success ``{"StatusCode":0,"StatusMessage":
    "success","code":0,"data":{},"msg":"success"}`` (doc: the first two are redundant legacy
    fields). Errors are ``{"code":N,"data":{},"msg":"..."}``. Doc "自定义机器人使用指南",
    https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (updated 2025-03-27; mirror
    ``feishu/001-开发指南/开发机器人/自定义机器人使用指南.md``), doc "通用错误码"
    (server-docs/api-call-guide/generic-error-code, updated 2025-08-20) and the platform notice
    "webhook v2 机器人超出限频治理" (2022-03-03).

    - Unknown or revoked token → 19001 ``param invalid: incoming webhook access token invalid``,
      whatever the body (seen in many public code files and sansan0/TrendRadar#278).
    - Body ≤ 20 KB (doc: 请求体的数据大小不能超过 20 KB; taken as 20 × 1024 bytes) and a JSON
      object; otherwise 9499 ``Bad Request`` (doc). Disagreement: XUJiahua/alertmanager-webhook-
      feishu#3 (2021) saw 19036 "exceeds the size limit of 30KB"; the fake keeps the doc.
    - 签名校验 (optional per robot): body fields ``timestamp`` (seconds; a string in the doc's
      example, a number is accepted too) and ``sign`` = Base64(HmacSHA256(key=f"{timestamp}\\n
      {secret}", msg=b"")) (doc: 计算空字符串的签名结果); the timestamp within 1 hour (3600 s) of
      server time (doc). Wrong, missing or stale → 19021 ``sign match fail or timestamp is not
      within one hour from current time`` (doc).
    - msg_type must be text, post, image, share_chat or interactive (doc); missing or other → 19002
      (doc: incorrect input format or can't find msg_type; seen ``params error, msg_type need`` in
      centerzx/UploadApkPlugin#4). Required fields (doc): content.text; content.post with a zh_cn
      or en_us object whose content is a list of paragraphs of tagged nodes (text.text, a.text+href,
      at.user_id, img.image_key; other tags only need a string tag); content.image_key;
      content.share_chat_id; a non-empty ``card`` object for interactive. Missing → 9499.
    - 100 per minute and 5 per second per robot (doc) → 11232 (doc; seen with HTTP 200 and msg
      ``frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]`` in a public code
      comment of 2025-09). Disagreement: ccfos/nightingale#1437 (2023) saw HTTP 400 with
      ``{"code":9499,"msg":"too many request"}``; the fake keeps the doc's 11232.

Order of checks (the platforms do not document it; chosen so that a request is judged on its
credentials first): key/token, then signature (DingTalk: before the body; Feishu: after parsing,
since it is in the body), size, JSON, per-msgtype fields, and last the rate limit, which counts
only messages that would have been delivered. Rate windows are sliding.

Not modelled: keyword and IP-whitelist security settings (DingTalk 310000 keywords, Feishu
19024/19022), WeCom ``upload_media`` and image md5/size checks, content moderation, validity of
@-mentions, card schemas beyond "an object", the 10:00/17:30 peak throttling Feishu warns about,
Content-Type checks (the headers are recorded so tests can assert on them), methods other than
POST (405), TLS.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import secrets
import signal
import socket
import string
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Literal, Self, cast
from urllib.parse import parse_qs, urlsplit

Platform = Literal["wecom", "dingtalk", "feishu"]
PLATFORMS: tuple[Platform, ...] = ("wecom", "dingtalk", "feishu")

WECOM_PATH = "/cgi-bin/webhook/send"
DINGTALK_PATH = "/robot/send"
FEISHU_PATH_PREFIX = "/open-apis/bot/v2/hook/"

WECOM_TEXT_MAX_BYTES = 2048
WECOM_MARKDOWN_MAX_BYTES = 4096
WECOM_NEWS_MAX_ARTICLES = 8
DINGTALK_BODY_MAX_BYTES = 20_000
FEISHU_BODY_MAX_BYTES = 20 * 1024
# DingTalk (milliseconds) and Feishu (seconds) both allow one hour between the signed timestamp
# and server time.
SIGNATURE_TOLERANCE_SECONDS = 3600
# Not a platform limit: it only stops a broken client from filling the test process's memory.
MAX_READ_BYTES = 8 * 1024 * 1024

WECOM_MSGTYPES = frozenset(
    {"text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"}
)
DINGTALK_MSGTYPES = frozenset({"text", "link", "markdown", "actionCard", "feedCard"})
FEISHU_MSGTYPES = frozenset({"text", "post", "image", "share_chat", "interactive"})

Json = dict[str, Any]
FaultKind = Literal["status", "hang", "drop"]


@dataclass(frozen=True)
class Limits:
    """Rate limits. The defaults are the documented values; tests shrink the windows so that a
    limit can be reached and left within a second or two."""

    wecom_per_window: int = 20
    wecom_window: float = 60.0
    # How long a WeCom robot stays refused after it hit the limit; None: as long as the window.
    wecom_block: float | None = None
    dingtalk_per_window: int = 20
    dingtalk_window: float = 60.0
    dingtalk_throttle: float = 600.0
    feishu_per_minute: int = 100
    feishu_minute_window: float = 60.0
    feishu_per_second: int = 5
    feishu_second_window: float = 1.0


@dataclass(frozen=True)
class ReceivedMessage:
    """A message the fake accepted (and a real platform would have posted to the group)."""

    body: Json
    raw: bytes
    at: float  # time.time() on arrival
    path: str  # path and query as requested
    headers: Mapping[str, str]

    @property
    def msgtype(self) -> str:
        """``msgtype`` (WeCom, DingTalk) or ``msg_type`` (Feishu)."""
        value = self.body.get("msgtype", self.body.get("msg_type"))
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class RejectedRequest:
    """A request answered with a platform error code."""

    code: int
    message: str
    raw: bytes
    at: float
    path: str
    http_status: int = 200


@dataclass(frozen=True)
class FaultRecord:
    """A request that met an injected fault instead of (or, for ``hang``, before) the contract."""

    kind: FaultKind
    raw: bytes
    at: float
    path: str
    status: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class _Fault:
    kind: FaultKind
    status: int = 0
    seconds: float = 0.0


class PlatformError(Exception):
    """A refusal in the platform's own terms: its code, its message, the HTTP status it uses."""

    def __init__(self, code: int, message: str, http_status: int = 200) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


class _SlidingWindow:
    """Arrival times of accepted messages within the last ``window`` seconds (monotonic clock)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._stamps: deque[float] = deque()

    def full(self, now: float) -> bool:
        while self._stamps and self._stamps[0] <= now - self.window:
            self._stamps.popleft()
        return len(self._stamps) >= self.limit

    def add(self, now: float) -> None:
        self._stamps.append(now)


# --- error messages in each platform's words ---------------------------------------------------


def _wecom_error(code: int, text: str, ip: str) -> PlatformError:
    # Real hints are a unix time followed by digits; the shape matters only to clients that log it.
    hint = f"{int(time.time())}{secrets.randbelow(10**15):015d}"
    return PlatformError(
        code,
        f"{text}, hint: [{hint}], from ip: {ip}, more info at "
        f"https://open.work.weixin.qq.com/devtool/query?e={code}",
    )


_DINGTALK_SIGN_MISMATCH = (
    "description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中，"
    "请确认机器人的密钥加密和填写正确;link:请参考本接口对应文档获得具体要求，"
    "或者在https://open.dingtalk.com/document/  搜索相关文档;"
)
_DINGTALK_SIGN_EXPIRED = (
    "description:机器人发送签名过期;solution:签名生成时间和发送时间请保持在 timestampms 以内;"
)
_DINGTALK_TOO_LONG = "description: body 大小不合法;solution:请保持大小在 20000bytes 以内;"
_DINGTALK_NO_JSON = "缺少参数 json"


def _dingtalk_missing(where: str) -> PlatformError:
    return PlatformError(
        400402,
        f"错误描述:参数 {where} 缺失，或者参数格式不正确; 解决方案:请填充上对应参数;"
        "参考链接:请参考本接口对应文档查看参数获取方式，"
        "或者在https://open.dingtalk.com/document/  搜索对应文档;",
    )


_FEISHU_SIGN_FAIL = "sign match fail or timestamp is not within one hour from current time"


def _feishu_bad_request() -> PlatformError:
    return PlatformError(9499, "Bad Request")


def _unknown_robot_error(platform: Platform, ip: str) -> PlatformError:
    if platform == "wecom":
        return _wecom_error(93000, "invalid webhook url", ip)
    if platform == "dingtalk":
        return PlatformError(300001, "token is not exist")
    return PlatformError(19001, "param invalid: incoming webhook access token invalid")


def _rate_error(platform: Platform, ip: str) -> PlatformError:
    if platform == "wecom":
        return _wecom_error(45009, "api freq out of limit", ip)
    if platform == "dingtalk":
        return PlatformError(130101, "send too fast, exceed 20 times per minute")
    return PlatformError(11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]")


def _success(platform: Platform) -> Json:
    if platform == "feishu":
        return {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
    return {"errcode": 0, "errmsg": "ok"}


def _error_body(platform: Platform, error: PlatformError) -> Json:
    if platform == "feishu":
        return {"code": error.code, "data": {}, "msg": error.message}
    return {"errcode": error.code, "errmsg": error.message}


# --- body checks --------------------------------------------------------------------------------


def _reject_constant(name: str) -> None:
    # Python's json accepts NaN and Infinity; the platforms' JSON parsers do not.
    raise ValueError(f"not JSON: {name}")


def _parse_object(raw: bytes) -> Json | None:
    """The body as a JSON object, or None when it is not UTF-8 JSON with an object at the top."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        return None
    return cast(Json, value) if isinstance(value, dict) else None


def _nonblank(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check_wecom_body(raw: bytes, ip: str) -> Json:
    body = _parse_object(raw)
    if body is None:
        raise _wecom_error(40008, "Warning: wrong json format. invalid message type", ip)
    msgtype = body.get("msgtype")
    if not isinstance(msgtype, str) or msgtype not in WECOM_MSGTYPES:
        raise _wecom_error(40008, "invalid message type", ip)

    def invalid(detail: str) -> PlatformError:
        return _wecom_error(40058, f"{detail}. invalid Request Parameter", ip)

    section = body.get(msgtype)
    if msgtype in ("text", "markdown", "markdown_v2"):
        content = section.get("content") if isinstance(section, dict) else None
        if content is None or content == "":
            raise _wecom_error(44004, "empty content", ip)
        if not isinstance(content, str):
            raise invalid(f"Warning: wrong json format. {msgtype}.content")
        limit = WECOM_TEXT_MAX_BYTES if msgtype == "text" else WECOM_MARKDOWN_MAX_BYTES
        if len(content.encode("utf-8")) > limit:
            raise invalid(f"{msgtype}.content exceed max length {limit}")
        assert isinstance(section, dict)
        for key in ("mentioned_list", "mentioned_mobile_list"):
            if msgtype == "text" and key in section and not _str_list(section[key]):
                raise invalid(f"Warning: wrong json format. text.{key}")
        return body
    if not isinstance(section, dict):
        raise invalid(f"missing {msgtype}")
    if msgtype == "image":
        for key in ("base64", "md5"):
            if not _nonblank(section.get(key)):
                raise invalid(f"missing image.{key}")
        try:
            base64.b64decode(section["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise invalid("image.base64 is not base64") from None
    elif msgtype == "news":
        articles = section.get("articles")
        if not isinstance(articles, list) or not 1 <= len(articles) <= WECOM_NEWS_MAX_ARTICLES:
            raise invalid(f"news.articles must hold 1 to {WECOM_NEWS_MAX_ARTICLES} articles")
        for article in articles:
            if not isinstance(article, dict) or not all(_nonblank(article.get(k)) for k in ("title", "url")):
                raise invalid("missing news.articles.title or url")
    elif msgtype in ("file", "voice"):
        if not _nonblank(section.get("media_id")):
            raise invalid(f"missing {msgtype}.media_id")
    else:  # template_card
        if section.get("card_type") not in ("text_notice", "news_notice"):
            raise invalid("template_card.card_type")
        action = section.get("card_action")
        if not isinstance(action, dict) or not isinstance(action.get("type"), int):
            raise invalid("template_card.card_action")
        main_title = section.get("main_title")
        title = main_title.get("title") if isinstance(main_title, dict) else None
        if not _nonblank(title) and (
            section["card_type"] == "news_notice" or not _nonblank(section.get("sub_title_text"))
        ):
            raise invalid("template_card.main_title")
    return body


def _check_dingtalk_body(raw: bytes) -> Json:
    body = _parse_object(raw)
    msgtype = body.get("msgtype") if body is not None else None
    if body is None or not isinstance(msgtype, str) or msgtype not in DINGTALK_MSGTYPES:
        raise PlatformError(40035, _DINGTALK_NO_JSON)
    section = body.get(msgtype)
    if not isinstance(section, dict):
        raise _dingtalk_missing(msgtype)

    def need(obj: Json, where: str, *keys: str) -> None:
        for key in keys:
            if not _nonblank(obj.get(key)):
                raise _dingtalk_missing(f"{where} --》 {key}")

    if msgtype == "text":
        need(section, msgtype, "content")
    elif msgtype == "link":
        need(section, msgtype, "title", "text", "messageUrl")
        if "picUrl" in section and not isinstance(section["picUrl"], str):
            raise _dingtalk_missing("link --》 picUrl")
    elif msgtype == "markdown":
        need(section, msgtype, "title", "text")
    elif msgtype == "actionCard":
        need(section, msgtype, "title", "text")
        btns = section.get("btns")
        if "singleTitle" in section or "singleURL" in section or btns is None:
            need(section, msgtype, "singleTitle", "singleURL")
        elif not isinstance(btns, list) or not btns:
            raise _dingtalk_missing("actionCard --》 btns")
        else:
            for btn in btns:
                if not isinstance(btn, dict):
                    raise _dingtalk_missing("actionCard --》 btns")
                need(btn, "actionCard --》 btns", "title", "actionURL")
    else:  # feedCard
        links = section.get("links")
        if not isinstance(links, list) or not links:
            raise _dingtalk_missing("feedCard --》 links")
        for link in links:
            if not isinstance(link, dict):
                raise _dingtalk_missing("feedCard --》 links")
            need(link, "feedCard --》 links", "title", "messageURL", "picURL")
    at = body.get("at")
    if at is not None:
        if not isinstance(at, dict):
            raise _dingtalk_missing("at")
        for key in ("atMobiles", "atUserIds", "atDingtalkIds"):
            if key in at and not _str_list(at[key]):
                raise _dingtalk_missing(f"at --》 {key}")
        if "isAtAll" in at and not isinstance(at["isAtAll"], bool):
            raise _dingtalk_missing("at --》 isAtAll")
    return body


_FEISHU_POST_TAG_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "a": ("text", "href"),
    "at": ("user_id",),
    "img": ("image_key",),
}


def _check_feishu_post(post: object) -> None:
    if not isinstance(post, dict):
        raise _feishu_bad_request()
    locales = [post[key] for key in ("zh_cn", "en_us") if key in post]
    if not locales:
        raise _feishu_bad_request()
    for locale in locales:
        if not isinstance(locale, dict) or not isinstance(locale.get("content"), list):
            raise _feishu_bad_request()
        if "title" in locale and not isinstance(locale["title"], str):
            raise _feishu_bad_request()
        for paragraph in locale["content"]:
            if not isinstance(paragraph, list):
                raise _feishu_bad_request()
            for node in paragraph:
                tag = node.get("tag") if isinstance(node, dict) else None
                if not isinstance(tag, str):
                    raise _feishu_bad_request()
                assert isinstance(node, dict)
                if not all(isinstance(node.get(k), str) for k in _FEISHU_POST_TAG_FIELDS.get(tag, ())):
                    raise _feishu_bad_request()


def _check_feishu_body(body: Json) -> None:
    msg_type = body.get("msg_type")
    if not isinstance(msg_type, str) or not msg_type:
        raise PlatformError(19002, "params error, msg_type need")
    if msg_type not in FEISHU_MSGTYPES:
        raise PlatformError(19002, "incorrect input format or can't find msg_type")
    if msg_type == "interactive":
        card = body.get("card")
        if not isinstance(card, dict) or not card:
            raise _feishu_bad_request()
        return
    content = body.get("content")
    if not isinstance(content, dict):
        raise _feishu_bad_request()
    if msg_type == "post":
        _check_feishu_post(content.get("post"))
        return
    key = {"text": "text", "image": "image_key", "share_chat": "share_chat_id"}[msg_type]
    if not _nonblank(content.get(key)):
        raise _feishu_bad_request()


# --- signatures ---------------------------------------------------------------------------------


def _within_tolerance(timestamp_seconds: float) -> bool:
    return abs(time.time() - timestamp_seconds) <= SIGNATURE_TOLERANCE_SECONDS


def _check_dingtalk_sign(secret: str, query: Mapping[str, list[str]]) -> None:
    timestamp = query.get("timestamp", [""])[0]
    sign = query.get("sign", [""])[0]
    if not timestamp.isdigit() or not sign:
        raise PlatformError(310000, _DINGTALK_SIGN_MISMATCH)
    if not _within_tolerance(int(timestamp) / 1000):
        raise PlatformError(310000, _DINGTALK_SIGN_EXPIRED)
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    # parse_qs has already undone the URL encoding the doc asks for, as the platform's own query
    # parsing would; a sign sent without it (a bare "+" reads as a space) therefore fails here too.
    if not hmac.compare_digest(base64.b64encode(digest).decode("ascii"), sign):
        raise PlatformError(310000, _DINGTALK_SIGN_MISMATCH)


def _check_feishu_sign(secret: str, body: Json) -> None:
    fail = PlatformError(19021, _FEISHU_SIGN_FAIL)
    timestamp, sign = body.get("timestamp"), body.get("sign")
    if isinstance(timestamp, int) and not isinstance(timestamp, bool):
        timestamp = str(timestamp)
    if not isinstance(timestamp, str) or not timestamp.isdigit() or not isinstance(sign, str):
        raise fail
    if not _within_tolerance(int(timestamp)):
        raise fail
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode("ascii"), sign):
        raise fail


# --- robots -------------------------------------------------------------------------------------

_ALPHANUMERIC = string.ascii_letters + string.digits


def new_token(platform: Platform) -> str:
    """A random key/token in the shape the platform issues (UUID for WeCom and Feishu, 64 hex
    digits for DingTalk)."""
    return secrets.token_hex(32) if platform == "dingtalk" else str(uuid.uuid4())


def new_secret(platform: Platform) -> str:
    """A random signing secret in the platform's shape (DingTalk's start with ``SEC``)."""
    if platform == "dingtalk":
        return "SEC" + secrets.token_hex(32)
    if platform == "feishu":
        return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(22))
    raise ValueError("WeCom robots have no signing secret: the key is the secret")


class FakeRobot:
    """One registered robot: its webhook URL, what it received and refused, and its faults."""

    def __init__(self, fake: RobotFake, platform: Platform, token: str, secret: str | None, limits: Limits):
        self.platform: Platform = platform
        self.token = token
        self.secret = secret
        self.limits = limits
        self._fake = fake
        self._cond = threading.Condition()
        self._received: list[ReceivedMessage] = []
        self._rejected: list[RejectedRequest] = []
        self._faulted: list[FaultRecord] = []
        self._faults: deque[_Fault] = deque()
        self._revoked = False
        self._blocked_until = 0.0
        self._windows: list[_SlidingWindow] = []
        self._reset_windows()

    def __repr__(self) -> str:
        return f"FakeRobot({self.platform}, {self.token[:8]}…, signed={self.secret is not None})"

    @property
    def url(self) -> str:
        """The webhook URL exactly as the platform shows it, on the fake's base URL."""
        base = self._fake.url
        if self.platform == "wecom":
            return f"{base}{WECOM_PATH}?key={self.token}"
        if self.platform == "dingtalk":
            return f"{base}{DINGTALK_PATH}?access_token={self.token}"
        return f"{base}{FEISHU_PATH_PREFIX}{self.token}"

    @property
    def received(self) -> list[ReceivedMessage]:
        with self._cond:
            return list(self._received)

    @property
    def messages(self) -> list[Json]:
        """Bodies of the accepted messages, oldest first."""
        return [message.body for message in self.received]

    @property
    def rejected(self) -> list[RejectedRequest]:
        with self._cond:
            return list(self._rejected)

    @property
    def faulted(self) -> list[FaultRecord]:
        with self._cond:
            return list(self._faulted)

    @property
    def revoked(self) -> bool:
        with self._cond:
            return self._revoked

    def revoke(self) -> None:
        """Answer every later request as the platform answers a deleted robot's key."""
        with self._cond:
            self._revoked = True

    def restore(self) -> None:
        with self._cond:
            self._revoked = False

    def fail_next(self, count: int = 1, *, status: int = 500) -> None:
        """The next ``count`` requests get HTTP ``status`` with an HTML body, and are not delivered."""
        if not 400 <= status <= 599:
            raise ValueError(f"status {status} is not an HTTP error status")
        self._queue(_Fault("status", status=status), count)

    def hang_next(self, seconds: float, *, count: int = 1) -> None:
        """The next ``count`` requests wait ``seconds`` before being handled normally (a client
        that gave up meanwhile has still delivered its message, as with a slow platform)."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        self._queue(_Fault("hang", seconds=seconds), count)

    def drop_next(self, count: int = 1) -> None:
        """The next ``count`` requests are read, then their connection is closed without an answer."""
        self._queue(_Fault("drop"), count)

    def clear_faults(self) -> None:
        """Forget the faults still queued (requests from now on are answered normally)."""
        with self._cond:
            self._faults.clear()

    def clear(self) -> None:
        """Forget records, queued faults and rate-limit state; keep the key, secret and revocation."""
        with self._cond:
            self._received.clear()
            self._rejected.clear()
            self._faulted.clear()
            self._faults.clear()
            self._reset_windows()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least ``count`` messages were accepted; return them all.

        For deliveries made by another process, which a test cannot simply await.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{self!r} accepted {len(self._received)} of {count} messages in {timeout} s "
                        f"(rejected: {[r.code for r in self._rejected]}, faults: {len(self._faulted)})"
                    )
                self._cond.wait(remaining)
            return list(self._received)

    def summary(self) -> Json:
        return {
            "platform": self.platform,
            "token": self.token,
            "secret": self.secret,
            "url": self.url,
            "revoked": self.revoked,
        }

    def _queue(self, fault: _Fault, count: int) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._cond:
            self._faults.extend([fault] * count)

    def _reset_windows(self) -> None:
        limits = self.limits
        self._blocked_until = 0.0
        if self.platform == "wecom":
            self._windows = [_SlidingWindow(limits.wecom_per_window, limits.wecom_window)]
        elif self.platform == "dingtalk":
            self._windows = [_SlidingWindow(limits.dingtalk_per_window, limits.dingtalk_window)]
        else:
            self._windows = [
                _SlidingWindow(limits.feishu_per_second, limits.feishu_second_window),
                _SlidingWindow(limits.feishu_per_minute, limits.feishu_minute_window),
            ]

    def _penalty(self) -> float:
        if self.platform == "wecom":
            block = self.limits.wecom_block
            return self.limits.wecom_window if block is None else block
        if self.platform == "dingtalk":
            return self.limits.dingtalk_throttle
        return 0.0  # Feishu documents no lock-out beyond the windows themselves

    def _take_fault(self, raw: bytes, path: str) -> _Fault | None:
        with self._cond:
            if not self._faults:
                return None
            fault = self._faults.popleft()
            self._faulted.append(
                FaultRecord(
                    fault.kind,
                    raw,
                    time.time(),
                    path,
                    status=fault.status if fault.kind == "status" else None,
                    seconds=fault.seconds if fault.kind == "hang" else None,
                )
            )
            return fault

    def _reject(self, error: PlatformError, raw: bytes, path: str) -> None:
        with self._cond:
            self._rejected.append(
                RejectedRequest(error.code, error.message, raw, time.time(), path, error.http_status)
            )

    def _admit(
        self, body: Json, raw: bytes, path: str, headers: Mapping[str, str], ip: str
    ) -> PlatformError | None:
        """Apply the rate limit and record the outcome atomically; None means delivered."""
        now = time.monotonic()
        with self._cond:
            if now < self._blocked_until or any(window.full(now) for window in self._windows):
                error = _rate_error(self.platform, ip)
                if now >= self._blocked_until:
                    # Only the request that crosses the limit starts the lock-out; refusals during
                    # it do not extend it.
                    self._blocked_until = now + self._penalty()
                self._rejected.append(RejectedRequest(error.code, error.message, raw, time.time(), path))
                return error
            for window in self._windows:
                window.add(now)
            self._received.append(ReceivedMessage(body, raw, time.time(), path, dict(headers)))
            self._cond.notify_all()
            return None


# --- HTTP ---------------------------------------------------------------------------------------


class _BodyError(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, fake: RobotFake) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    # Open keep-alive connections outlive serve_forever(); they are tracked so that stop() can cut
    # them, or a stopped fake would keep answering on connections a client already holds.
    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Keep-alive plus separate writes for head and body would meet Nagle and delayed ACKs: about
    # 40 ms a request, enough to let a burst outlast a short test window. One buffered write per
    # response (flushed by handle_one_request) and TCP_NODELAY avoid that.
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.verbose:
            super().log_message(format, *args)

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise _BodyError("bad chunk size") from None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_READ_BYTES:
                    raise _BodyError("body too large for the fake")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise _BodyError("bad Content-Length") from None
        if not 0 <= size <= MAX_READ_BYTES:
            raise _BodyError("body too large for the fake")
        return self.rfile.read(size)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload: object) -> None:
        self._send(
            status,
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
            "application/json; charset=utf-8",
        )

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        try:
            raw = self._read_body()
        except _BodyError as error:
            self.close_connection = True
            self._send(400, str(error).encode(), "text/plain; charset=utf-8")
            return
        if split.path.startswith("/_fake/"):
            status, payload = fake._control(method, split.path, raw)
            self._send_json(status, payload)
            return
        query = parse_qs(split.query, keep_blank_values=True)
        route = _route(split.path, query)
        if route is None:
            self._send(404, b"404 page not found", "text/plain; charset=utf-8")
            return
        if method != "POST":
            self.send_response(405)
            self.send_header("Allow", "POST")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        platform, token = route
        robot = fake.find(platform, token)
        fault = robot._take_fault(raw, self.path) if robot is not None else None
        if fault is not None:
            if fault.kind == "drop":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.kind == "status":
                page = f"<html><body><h1>{fault.status}</h1>robot fake: injected fault</body></html>"
                self._send(fault.status, page.encode(), "text/html; charset=utf-8")
                return
            if fake._stopping.wait(fault.seconds):
                self.close_connection = True
                return
        headers = dict(self.headers.items())
        ip = str(self.client_address[0])
        status, payload = fake._deliver(platform, token, robot, raw, self.path, query, headers, ip)
        self._send_json(status, payload)


def _route(path: str, query: Mapping[str, list[str]]) -> tuple[Platform, str] | None:
    """The platform a webhook path belongs to and the key/token it carries ("" when absent)."""
    if path == WECOM_PATH:
        return "wecom", query.get("key", [""])[0]
    if path == DINGTALK_PATH:
        return "dingtalk", query.get("access_token", [""])[0]
    if path.startswith(FEISHU_PATH_PREFIX):
        return "feishu", path[len(FEISHU_PATH_PREFIX) :]
    return None


class RobotFake:
    """One local server for the robots of all three platforms.

    >>> with RobotFake() as fake:
    ...     robot = fake.add_robot("dingtalk", secret=True)
    ...     # POST to robot.url (signed with robot.secret), then inspect robot.received
    """

    def __init__(self, *, limits: Limits | None = None, port: int = 0, verbose: bool = False) -> None:
        self.limits = limits or Limits()
        self.verbose = verbose
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._robots: dict[str, FakeRobot] = {}
        self._unknown: list[tuple[Platform, str, RejectedRequest]] = []

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError("RobotFake is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("RobotFake is already started")
        self._stopping.clear()
        self._server = _Server(self._port, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="robot-fake", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes hanging handlers
        server.shutdown()
        server.cut_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def add_robot(
        self, platform: Platform, *, secret: str | bool | None = None, limits: Limits | None = None
    ) -> FakeRobot:
        """Register a robot with a random key/token. ``secret=True`` makes up a signing secret in
        the platform's shape; a string uses that secret; None/False leaves the robot unsigned."""
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; one of {PLATFORMS}")
        if secret is True:
            secret = new_secret(platform)
        elif secret is False:
            secret = None
        if secret is not None and platform == "wecom":
            raise ValueError("WeCom robots have no signing secret: the key is the secret")
        robot = FakeRobot(self, platform, new_token(platform), secret, limits or self.limits)
        with self._lock:
            self._robots[robot.token] = robot
        return robot

    def find(self, platform: Platform, token: str) -> FakeRobot | None:
        with self._lock:
            robot = self._robots.get(token)
        return robot if robot is not None and robot.platform == platform else None

    @property
    def robots(self) -> list[FakeRobot]:
        with self._lock:
            return list(self._robots.values())

    @property
    def unknown_requests(self) -> list[tuple[Platform, str, RejectedRequest]]:
        """Requests to keys/tokens never registered: (platform, key or token, what was answered)."""
        with self._lock:
            return list(self._unknown)

    def _deliver(
        self,
        platform: Platform,
        token: str,
        robot: FakeRobot | None,
        raw: bytes,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        ip: str,
    ) -> tuple[int, Json]:
        if robot is None or robot.revoked:
            error = _unknown_robot_error(platform, ip)
            if robot is None:
                rejected = RejectedRequest(
                    error.code, error.message, raw, time.time(), path, error.http_status
                )
                with self._lock:
                    self._unknown.append((platform, token, rejected))
            else:
                robot._reject(error, raw, path)
            return error.http_status, _error_body(platform, error)
        try:
            body = _check_request(platform, robot.secret, raw, query, ip)
        except PlatformError as error:
            robot._reject(error, raw, path)
            return error.http_status, _error_body(platform, error)
        refused = robot._admit(body, raw, path, headers, ip)
        if refused is not None:
            return refused.http_status, _error_body(platform, refused)
        return 200, _success(platform)

    def _control(self, method: str, path: str, raw: bytes) -> tuple[int, object]:
        """The ``/_fake/...`` routes: the Python API over HTTP, for a fake in another process."""
        parts = path.strip("/").split("/")[1:]
        request = _parse_object(raw) if raw else {}
        if request is None:
            return 400, {"error": "the body must be a JSON object"}
        try:
            if parts == ["health"] and method == "GET":
                return 200, {"ok": True, "url": self.url}
            if parts == ["robots"] and method == "GET":
                return 200, [robot.summary() for robot in self.robots]
            if parts == ["robots"] and method == "POST":
                platform = request.get("platform")
                if platform not in PLATFORMS:
                    return 400, {"error": f"platform must be one of {PLATFORMS}"}
                secret = request.get("secret")
                if not isinstance(secret, str | bool | None):
                    return 400, {"error": "secret must be a string, true or null"}
                return 201, self.add_robot(cast(Platform, platform), secret=secret).summary()
            if len(parts) >= 2 and parts[0] == "robots":
                with self._lock:
                    robot = self._robots.get(parts[1])
                if robot is None:
                    return 404, {"error": "no such robot"}
                return self._control_robot(robot, method, parts[2:], request)
        except ValueError as error:
            return 400, {"error": str(error)}
        return 404, {"error": f"no control route {method} {path}"}

    @staticmethod
    def _control_robot(
        robot: FakeRobot, method: str, rest: Sequence[str], request: Json
    ) -> tuple[int, object]:
        if not rest and method == "GET":
            return 200, {
                **robot.summary(),
                "received": [
                    {"body": m.body, "raw": m.raw.decode("utf-8", "replace"), "at": m.at, "path": m.path}
                    for m in robot.received
                ],
                "rejected": [
                    {
                        "code": r.code,
                        "message": r.message,
                        "raw": r.raw.decode("utf-8", "replace"),
                        "at": r.at,
                    }
                    for r in robot.rejected
                ],
                "faulted": [
                    {"kind": f.kind, "status": f.status, "seconds": f.seconds, "at": f.at}
                    for f in robot.faulted
                ],
            }
        actions: dict[str, Callable[[], None]] = {
            "revoke": robot.revoke,
            "restore": robot.restore,
            "clear": robot.clear,
        }
        if len(rest) == 1 and method == "POST" and rest[0] in actions:
            actions[rest[0]]()
            return 200, robot.summary()
        if rest == ["faults"] and method == "POST":
            kind, count = request.get("kind"), request.get("count", 1)
            if not isinstance(count, int):
                raise ValueError("count must be an integer")
            if kind == "status":
                robot.fail_next(count, status=int(request.get("status", 500)))
            elif kind == "hang":
                robot.hang_next(float(request.get("seconds", 0)), count=count)
            elif kind == "drop":
                robot.drop_next(count)
            else:
                raise ValueError("kind must be status, hang or drop")
            return 200, robot.summary()
        return 404, {"error": f"no control route {method} .../{'/'.join(rest)}"}


def _check_request(
    platform: Platform, secret: str | None, raw: bytes, query: Mapping[str, list[str]], ip: str
) -> Json:
    """Everything but the key and the rate limit, in the order described in the module docstring."""
    if platform == "wecom":
        return _check_wecom_body(raw, ip)
    if platform == "dingtalk":
        if secret is not None:
            _check_dingtalk_sign(secret, query)
        if len(raw) > DINGTALK_BODY_MAX_BYTES:
            raise PlatformError(460101, _DINGTALK_TOO_LONG)
        return _check_dingtalk_body(raw)
    if len(raw) > FEISHU_BODY_MAX_BYTES:
        raise _feishu_bad_request()
    body = _parse_object(raw)
    if body is None:
        raise _feishu_bad_request()
    if secret is not None:
        _check_feishu_sign(secret, body)
    _check_feishu_body(body)
    return body


# --- standalone ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.robots",
        description="Serve the robot fake on 127.0.0.1 until interrupted. Prints the base URL on the "
        "first line, then one line per --robot: platform, webhook URL and secret if any. "
        "Control routes: /_fake/health, /_fake/robots, /_fake/robots/TOKEN[/revoke|/restore|/clear|/faults].",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument(
        "--robot",
        action="append",
        default=[],
        metavar="PLATFORM[:signed|:SECRET]",
        help="register a robot at start (wecom, dingtalk or feishu); may repeat",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with RobotFake(port=args.port, verbose=args.verbose) as fake:
        print(fake.url, flush=True)
        for spec in args.robot:
            name, _, secret_spec = spec.partition(":")
            if name not in PLATFORMS:
                parser.error(f"unknown platform in --robot {spec!r}")
            secret: str | bool | None = True if secret_spec == "signed" else (secret_spec or None)
            robot = fake.add_robot(cast(Platform, name), secret=secret)
            print(f"{robot.platform} {robot.url}" + (f" {robot.secret}" if robot.secret else ""), flush=True)
        # Event.wait without a timeout would not let the signal handler run promptly everywhere.
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
