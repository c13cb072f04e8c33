"""Tests of the robot fake itself, over real HTTP with httpx.

The signing helpers here are written from the platforms' documented formulas, independently of the
fake's own verification, so that a mistake in one does not hide a mistake in the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest

from tests.fakes.robots import FakeRobot, Limits, RobotFake

# The robot_fake fixture, without an import that every test parameter would shadow.
pytest_plugins = ("tests.fakes.fixtures",)

REPO = Path(__file__).resolve().parents[2]
HOUR = 3600


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as opened:
        yield opened


# --- signing, from the documents -----------------------------------------------------------------


def dingtalk_url(robot: FakeRobot, *, secret: str | None = None, age: float = 0.0) -> str:
    """The robot's URL with ``timestamp`` (ms) and ``sign`` =
    urlEncode(Base64(HmacSHA256(key=secret, msg=timestamp + "\\n" + secret)))."""
    secret = robot.secret if secret is None else secret
    assert secret is not None
    timestamp = str(round((time.time() - age) * 1000))
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), digestmod=hashlib.sha256)
    return f"{robot.url}&timestamp={timestamp}&sign={quote_plus(base64.b64encode(mac.digest()))}"


def feishu_signed(
    body: dict[str, Any], secret: str, *, age: float = 0.0, as_int: bool = False
) -> dict[str, Any]:
    """``body`` plus ``timestamp`` (s) and ``sign`` = Base64(HmacSHA256 of "" keyed by
    timestamp + "\\n" + secret)."""
    timestamp = int(time.time() - age)
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), digestmod=hashlib.sha256)
    signature = base64.b64encode(mac.digest()).decode("utf-8")
    return {"timestamp": timestamp if as_int else str(timestamp), "sign": signature, **body}


def post_bytes(client: httpx.Client, url: str, raw: bytes) -> httpx.Response:
    return client.post(url, content=raw, headers={"Content-Type": "application/json; charset=utf-8"})


def sized(make: Callable[[str], dict[str, Any]], size: int) -> bytes:
    """A JSON body of exactly ``size`` bytes, padded with Chinese text (3 bytes a character)."""

    def encode(filler: str) -> bytes:
        return json.dumps(make(filler), ensure_ascii=False).encode("utf-8")

    missing = size - len(encode(""))
    raw = encode("中" * (missing // 3) + "a" * (missing % 3))
    assert len(raw) == size
    return raw


def errcode(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    payload = response.json()
    return int(payload["errcode"] if "errcode" in payload else payload["code"])


def wecom_text(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


def dingtalk_text(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


def feishu_text(text: str) -> dict[str, Any]:
    return {"msg_type": "text", "content": {"text": text}}


# --- URLs and records ----------------------------------------------------------------------------


def test_webhook_urls_are_shaped_like_the_platforms(robot_fake: RobotFake) -> None:
    wecom = robot_fake.add_robot("wecom")
    dingtalk = robot_fake.add_robot("dingtalk", secret=True)
    feishu = robot_fake.add_robot("feishu")
    assert robot_fake.url.startswith("http://127.0.0.1:")
    assert wecom.url == f"{robot_fake.url}/cgi-bin/webhook/send?key={wecom.token}"
    assert dingtalk.url == f"{robot_fake.url}/robot/send?access_token={dingtalk.token}"
    assert feishu.url == f"{robot_fake.url}/open-apis/bot/v2/hook/{feishu.token}"
    assert len(dingtalk.token) == 64 and dingtalk.secret is not None and dingtalk.secret.startswith("SEC")
    assert wecom.token != robot_fake.add_robot("wecom").token
    with pytest.raises(ValueError, match="no signing secret"):
        robot_fake.add_robot("wecom", secret=True)


def test_accepted_messages_are_recorded_with_raw_bytes_and_time(
    robot_fake: RobotFake, client: httpx.Client
) -> None:
    robot = robot_fake.add_robot("wecom")
    before = time.time()
    raw = json.dumps(wecom_text("沪深300 收涨 1.2%"), ensure_ascii=False).encode("utf-8")
    response = post_bytes(client, robot.url, raw)
    assert response.json() == {"errcode": 0, "errmsg": "ok"}
    (message,) = robot.wait_for(1, timeout=1)
    assert message.raw == raw and message.body == wecom_text("沪深300 收涨 1.2%")
    assert message.msgtype == "text" and before <= message.at <= time.time()
    assert message.headers["Content-Type"] == "application/json; charset=utf-8"
    assert robot.messages == [wecom_text("沪深300 收涨 1.2%")] and robot.rejected == []


def test_feishu_success_has_both_the_new_and_the_legacy_fields(
    robot_fake: RobotFake, client: httpx.Client
) -> None:
    robot = robot_fake.add_robot("feishu")
    assert client.post(robot.url, json=feishu_text("早盘快讯")).json() == {
        "StatusCode": 0,
        "StatusMessage": "success",
        "code": 0,
        "data": {},
        "msg": "success",
    }


def test_wait_for_times_out_with_what_it_saw(robot_fake: RobotFake) -> None:
    robot = robot_fake.add_robot("dingtalk")
    with pytest.raises(TimeoutError, match="accepted 0 of 1"):
        robot.wait_for(1, timeout=0.05)


# --- WeCom ---------------------------------------------------------------------------------------


def test_wecom_text_limit_is_2048_utf8_bytes(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("wecom")
    exact = "中" * 682 + "ab"  # 2046 + 2 bytes
    assert len(exact.encode()) == 2048
    assert errcode(client.post(robot.url, json=wecom_text(exact))) == 0
    assert errcode(client.post(robot.url, json=wecom_text(exact + "c"))) == 40058
    # 700 characters are far below 2048 characters but 2100 bytes.
    assert errcode(client.post(robot.url, json=wecom_text("中" * 700))) == 40058
    assert "text.content exceed max length 2048" in robot.rejected[-1].message


@pytest.mark.parametrize("msgtype", ["markdown", "markdown_v2"])
def test_wecom_markdown_limit_is_4096_utf8_bytes(
    robot_fake: RobotFake, client: httpx.Client, msgtype: str
) -> None:
    robot = robot_fake.add_robot("wecom")
    exact = "## 要闻\n" + "中" * 1362  # 10 + 4086 bytes
    assert len(exact.encode()) == 4096
    assert errcode(client.post(robot.url, json={"msgtype": msgtype, msgtype: {"content": exact}})) == 0
    too_long = {"msgtype": msgtype, msgtype: {"content": exact + "!"}}
    assert errcode(client.post(robot.url, json=too_long)) == 40058


def test_wecom_unknown_missing_and_revoked_keys_answer_93000(
    robot_fake: RobotFake, client: httpx.Client
) -> None:
    robot = robot_fake.add_robot("wecom")
    stranger = f"{robot_fake.url}/cgi-bin/webhook/send?key=00000000-0000-0000-0000-000000000000"
    response = client.post(stranger, json=wecom_text("hi"))
    assert errcode(response) == 93000
    assert response.json()["errmsg"].startswith("invalid webhook url, hint: [")
    assert errcode(client.post(f"{robot_fake.url}/cgi-bin/webhook/send", json=wecom_text("hi"))) == 93000
    assert [rejected.code for _, _, rejected in robot_fake.unknown_requests] == [93000, 93000]
    robot.revoke()
    assert errcode(client.post(robot.url, json=wecom_text("hi"))) == 93000
    assert [r.code for r in robot.rejected] == [93000] and robot.received == []


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"msgtype=text&content=hi", 40008),
        (b'{"msgtype": "text", "text": {"content": "hi"}', 40008),
        (b'["text"]', 40008),
        (b'{"msgtype": "TEXT", "text": {"content": "hi"}}', 40008),
        (b'{"msgtype": "card", "card": {}}', 40008),
        (b'{"msgtype": "text"}', 44004),
        (b'{"msgtype": "text", "text": {"content": ""}}', 44004),
        (b'{"msgtype": "markdown", "markdown": {}}', 44004),
        (b'{"msgtype": "text", "text": {"content": 12}}', 40058),
        (b'{"msgtype": "text", "text": {"content": "hi", "mentioned_list": "@all"}}', 40058),
        (b'{"msgtype": "news", "news": {"articles": []}}', 40058),
        (b'{"msgtype": "news", "news": {"articles": [{"title": "t"}]}}', 40058),
        (b'{"msgtype": "image", "image": {"md5": "x"}}', 40058),
        (b'{"msgtype": "file", "file": {}}', 40058),
    ],
)
def test_wecom_malformed_bodies(robot_fake: RobotFake, client: httpx.Client, raw: bytes, code: int) -> None:
    robot = robot_fake.add_robot("wecom")
    assert errcode(post_bytes(client, robot.url, raw)) == code
    assert robot.received == [] and robot.rejected[0].raw == raw


def test_wecom_news_takes_one_to_eight_articles(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("wecom")
    article = {"title": "央行降准", "url": "https://example.com/a", "description": "释放长期资金"}
    assert errcode(client.post(robot.url, json={"msgtype": "news", "news": {"articles": [article] * 8}})) == 0
    assert (
        errcode(client.post(robot.url, json={"msgtype": "news", "news": {"articles": [article] * 9}}))
        == 40058
    )


# --- DingTalk ------------------------------------------------------------------------------------


def test_dingtalk_good_signature_is_accepted(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("dingtalk", secret=True)
    assert client.post(dingtalk_url(robot), json=dingtalk_text("收盘")).json() == {
        "errcode": 0,
        "errmsg": "ok",
    }
    # 59 minutes old is still inside the documented hour.
    assert errcode(client.post(dingtalk_url(robot, age=HOUR - 60), json=dingtalk_text("收盘"))) == 0
    assert len(robot.received) == 2


def test_dingtalk_bad_signatures_answer_310000(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("dingtalk", secret=True)
    body = dingtalk_text("收盘")
    wrong_secret = client.post(dingtalk_url(robot, secret="SEC" + "0" * 64), json=body)
    assert errcode(wrong_secret) == 310000 and "签名不匹配" in wrong_secret.json()["errmsg"]
    stale = client.post(dingtalk_url(robot, age=HOUR + 60), json=body)
    assert errcode(stale) == 310000 and "签名过期" in stale.json()["errmsg"]
    assert errcode(client.post(dingtalk_url(robot, age=-(HOUR + 60)), json=body)) == 310000
    assert errcode(client.post(robot.url, json=body)) == 310000  # secret set, nothing signed
    no_timestamp = dingtalk_url(robot).replace("&timestamp=", "&ts=")
    assert errcode(client.post(no_timestamp, json=body)) == 310000
    assert robot.received == [] and [r.code for r in robot.rejected] == [310000] * 5


def test_dingtalk_sign_must_be_url_encoded(robot_fake: RobotFake, client: httpx.Client) -> None:
    """The doc's last step (urlEncode) matters: a bare Base64 "+" arrives as a space."""
    robot = robot_fake.add_robot("dingtalk", secret=True)
    assert robot.secret is not None
    now = round(time.time() * 1000)
    for timestamp in range(now, now - 1000, -1):  # about half of all signatures contain a "+"
        mac = hmac.new(robot.secret.encode(), f"{timestamp}\n{robot.secret}".encode(), hashlib.sha256)
        sign = base64.b64encode(mac.digest()).decode()
        if "+" in sign:
            break
    else:
        pytest.fail("no signature with a '+' in 1000 timestamps")
    unencoded = f"{robot.url}&timestamp={timestamp}&sign={sign}"
    assert errcode(client.post(unencoded, json=dingtalk_text("x"))) == 310000
    encoded = f"{robot.url}&timestamp={timestamp}&sign={quote_plus(sign)}"
    assert errcode(client.post(encoded, json=dingtalk_text("x"))) == 0


def test_dingtalk_unsigned_robot_needs_no_signature(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("dingtalk")
    assert errcode(client.post(robot.url, json=dingtalk_text("hi"))) == 0


def test_dingtalk_body_limit_is_20000_bytes(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("dingtalk", secret=True)
    assert errcode(post_bytes(client, dingtalk_url(robot), sized(dingtalk_text, 20_000))) == 0
    response = post_bytes(client, dingtalk_url(robot), sized(dingtalk_text, 20_001))
    assert errcode(response) == 460101 and "20000bytes" in response.json()["errmsg"]


def test_dingtalk_unknown_and_revoked_tokens_answer_300001(
    robot_fake: RobotFake, client: httpx.Client
) -> None:
    robot = robot_fake.add_robot("dingtalk")
    stranger = client.post(f"{robot_fake.url}/robot/send?access_token={'0' * 64}", json=dingtalk_text("hi"))
    assert stranger.json() == {"errcode": 300001, "errmsg": "token is not exist"}
    robot.revoke()
    assert errcode(client.post(robot.url, json=dingtalk_text("hi"))) == 300001
    robot.restore()
    assert errcode(client.post(robot.url, json=dingtalk_text("hi"))) == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", 40035),
        (b'{"msgtype": "html", "html": {"content": "x"}}', 40035),
        (b'{"text": {"content": "x"}}', 40035),
        (b'{"msgtype": "text", "text": {}}', 400402),
        (b'{"msgtype": "markdown", "markdown": {"text": "## x"}}', 400402),
        (b'{"msgtype": "link", "link": {"title": "t", "text": "x"}}', 400402),
        (b'{"msgtype": "actionCard", "actionCard": {"title": "t", "text": "x"}}', 400402),
        (b'{"msgtype": "feedCard", "feedCard": {"links": [{"title": "t"}]}}', 400402),
        (b'{"msgtype": "text", "text": {"content": "x"}, "at": {"atMobiles": "138"}}', 400402),
    ],
)
def test_dingtalk_malformed_bodies(
    robot_fake: RobotFake, client: httpx.Client, body: bytes, code: int
) -> None:
    robot = robot_fake.add_robot("dingtalk")
    assert errcode(post_bytes(client, robot.url, body)) == code


def test_dingtalk_every_documented_msgtype_is_accepted(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("dingtalk")
    bodies: list[dict[str, Any]] = [
        {"msgtype": "text", "text": {"content": "x"}, "at": {"atMobiles": ["138"], "isAtAll": False}},
        {"msgtype": "link", "link": {"title": "t", "text": "x", "messageUrl": "https://e.com", "picUrl": ""}},
        {"msgtype": "markdown", "markdown": {"title": "要闻", "text": "## 要闻"}},
        {
            "msgtype": "actionCard",
            "actionCard": {"title": "t", "text": "x", "singleTitle": "看", "singleURL": "u"},
        },
        {
            "msgtype": "actionCard",
            "actionCard": {"title": "t", "text": "x", "btns": [{"title": "a", "actionURL": "u"}]},
        },
        {"msgtype": "feedCard", "feedCard": {"links": [{"title": "t", "messageURL": "u", "picURL": "p"}]}},
    ]
    assert [errcode(client.post(robot.url, json=body)) for body in bodies] == [0] * len(bodies)


# --- Feishu --------------------------------------------------------------------------------------


def test_feishu_good_signature_is_accepted(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("feishu", secret=True)
    assert robot.secret is not None
    assert errcode(client.post(robot.url, json=feishu_signed(feishu_text("早盘"), robot.secret))) == 0
    assert (
        errcode(client.post(robot.url, json=feishu_signed(feishu_text("早盘"), robot.secret, as_int=True)))
        == 0
    )
    assert (
        errcode(client.post(robot.url, json=feishu_signed(feishu_text("早盘"), robot.secret, age=HOUR - 60)))
        == 0
    )
    assert robot.received[0].body["msg_type"] == "text" and "sign" in robot.received[0].body


def test_feishu_bad_signatures_answer_19021(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("feishu", secret=True)
    assert robot.secret is not None
    body = feishu_text("早盘")
    for sent in (
        feishu_signed(body, "not-the-secret"),
        feishu_signed(body, robot.secret, age=HOUR + 60),
        feishu_signed(body, robot.secret, age=-(HOUR + 60)),
        body,
        {**feishu_signed(body, robot.secret), "timestamp": "yesterday"},
    ):
        response = client.post(robot.url, json=sent)
        assert response.json() == {
            "code": 19021,
            "data": {},
            "msg": "sign match fail or timestamp is not within one hour from current time",
        }
    assert robot.received == []


def test_feishu_body_limit_is_20_kib(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("feishu")
    assert errcode(post_bytes(client, robot.url, sized(feishu_text, 20 * 1024))) == 0
    assert errcode(post_bytes(client, robot.url, sized(feishu_text, 20 * 1024 + 1))) == 9499


def test_feishu_unknown_token_answers_19001_whatever_the_body(
    robot_fake: RobotFake, client: httpx.Client
) -> None:
    robot = robot_fake.add_robot("feishu")
    stranger = f"{robot_fake.url}/open-apis/bot/v2/hook/00000000-0000-0000-0000-000000000000"
    for raw in (b"", b"junk", json.dumps(feishu_text("x")).encode()):
        assert post_bytes(client, stranger, raw).json() == {
            "code": 19001,
            "data": {},
            "msg": "param invalid: incoming webhook access token invalid",
        }
    robot.revoke()
    assert errcode(client.post(robot.url, json=feishu_text("x"))) == 19001


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", 9499),
        (b'{"content": {"text": "x"}}', 19002),
        (b'{"msg_type": "markdown", "content": {"text": "x"}}', 19002),
        (b'{"msg_type": "text", "content": {}}', 9499),
        (b'{"msg_type": "text", "content": "x"}', 9499),
        (b'{"msg_type": "image", "content": {}}', 9499),
        (b'{"msg_type": "share_chat", "content": {}}', 9499),
        (b'{"msg_type": "interactive", "content": {"text": "x"}}', 9499),
        (b'{"msg_type": "post", "content": {"post": {"de_de": {"content": []}}}}', 9499),
        (b'{"msg_type":"post","content":{"post":{"zh_cn":{"content":[[{"tag":"a","text":"x"}]]}}}}', 9499),
    ],
)
def test_feishu_malformed_bodies(robot_fake: RobotFake, client: httpx.Client, body: bytes, code: int) -> None:
    robot = robot_fake.add_robot("feishu")
    assert errcode(post_bytes(client, robot.url, body)) == code


def test_feishu_post_and_card_are_accepted(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("feishu")
    post = {
        "msg_type": "post",
        "content": {
            "post": {
                "zh_cn": {
                    "title": "午间要闻",
                    "content": [
                        [
                            {"tag": "text", "text": "A股午盘："},
                            {"tag": "a", "text": "详情", "href": "https://e.com"},
                        ],
                        [{"tag": "at", "user_id": "all"}],
                    ],
                }
            }
        },
    }
    card = {"msg_type": "interactive", "card": {"elements": [{"tag": "markdown", "content": "**要闻**"}]}}
    assert errcode(client.post(robot.url, json=post)) == 0
    assert errcode(client.post(robot.url, json=card)) == 0


# --- rate limits ---------------------------------------------------------------------------------


def send_until_refused(client: httpx.Client, url: str, body: dict[str, Any], count: int) -> list[int]:
    return [errcode(client.post(url, json=body)) for _ in range(count)]


def test_wecom_21st_message_in_a_window_answers_45009(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("wecom", limits=Limits(wecom_window=0.5))
    assert send_until_refused(client, robot.url, wecom_text("x"), 21) == [0] * 20 + [45009]
    assert "api freq out of limit" in robot.rejected[-1].message
    time.sleep(0.55)
    assert errcode(client.post(robot.url, json=wecom_text("x"))) == 0
    assert len(robot.received) == 21


def test_dingtalk_21st_message_throttles_the_robot_beyond_the_window(
    robot_fake: RobotFake, client: httpx.Client
) -> None:
    robot = robot_fake.add_robot("dingtalk", limits=Limits(dingtalk_window=0.5, dingtalk_throttle=1.0))
    assert send_until_refused(client, robot.url, dingtalk_text("x"), 21) == [0] * 20 + [130101]
    refused_at = time.monotonic()
    time.sleep(0.6)  # the minute window has passed, the 10-minute throttle has not
    assert errcode(client.post(robot.url, json=dingtalk_text("x"))) == 130101
    time.sleep(max(0.0, refused_at + 1.05 - time.monotonic()))
    assert errcode(client.post(robot.url, json=dingtalk_text("x"))) == 0
    assert robot.rejected[-1].message == "send too fast, exceed 20 times per minute"


def test_feishu_6th_message_in_a_second_answers_11232(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("feishu")  # the documented 5/s, 1-second window
    assert send_until_refused(client, robot.url, feishu_text("x"), 6) == [0] * 5 + [11232]
    time.sleep(1.05)
    assert errcode(client.post(robot.url, json=feishu_text("x"))) == 0


def test_feishu_101st_message_in_a_minute_answers_11232(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("feishu", limits=Limits(feishu_per_second=1000, feishu_minute_window=3.0))
    assert send_until_refused(client, robot.url, feishu_text("x"), 101) == [0] * 100 + [11232]


def test_refused_and_rejected_messages_do_not_count(robot_fake: RobotFake, client: httpx.Client) -> None:
    robot = robot_fake.add_robot("feishu")
    for _ in range(3):
        assert errcode(client.post(robot.url, json={"msg_type": "text"})) == 9499
    assert send_until_refused(client, robot.url, feishu_text("x"), 5) == [0] * 5


# --- faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502])
def test_fail_next_answers_http_errors_then_recovers(
    robot_fake: RobotFake, client: httpx.Client, status: int
) -> None:
    robot = robot_fake.add_robot("dingtalk")
    robot.fail_next(2, status=status)
    for _ in range(2):
        response = client.post(robot.url, json=dingtalk_text("x"))
        assert response.status_code == status and response.headers["Content-Type"].startswith("text/html")
    assert errcode(client.post(robot.url, json=dingtalk_text("x"))) == 0
    assert [fault.status for fault in robot.faulted] == [status, status] and len(robot.received) == 1


def test_hang_next_outlasts_a_client_timeout_but_still_delivers(
    robot_fake: RobotFake, client: httpx.Client
) -> None:
    robot = robot_fake.add_robot("wecom")
    robot.hang_next(0.3)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post(robot.url, json=wecom_text("慢"), timeout=0.1)
    assert time.monotonic() - started < 0.25
    # The platform got the message even though the client gave up: a retry would duplicate it.
    assert robot.wait_for(1, timeout=2)[0].body == wecom_text("慢")
    assert errcode(client.post(robot.url, json=wecom_text("快"))) == 0


def test_drop_next_closes_the_connection_without_an_answer(
    robot_fake: RobotFake, client: httpx.Client
) -> None:
    robot = robot_fake.add_robot("feishu")
    robot.drop_next()
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(robot.url, json=feishu_text("x"))
    assert robot.received == [] and [fault.kind for fault in robot.faulted] == ["drop"]
    assert errcode(client.post(robot.url, json=feishu_text("x"))) == 0


def test_stop_cuts_open_connections(client: httpx.Client) -> None:
    fake = RobotFake().start()
    robot = fake.add_robot("wecom")
    url = robot.url
    assert errcode(client.post(url, json=wecom_text("x"))) == 0  # leaves a pooled keep-alive connection
    fake.stop()
    with pytest.raises(httpx.TransportError):
        client.post(url, json=wecom_text("x"))
    assert len(robot.received) == 1


# --- control routes and the standalone server ---------------------------------------------------


def test_standalone_server_and_control_routes(client: httpx.Client) -> None:
    command = [sys.executable, "-m", "tests.fakes.robots", "--port", "0", "--robot", "dingtalk:signed"]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            base = process.stdout.readline().strip()
            platform, dingtalk_webhook, secret = process.stdout.readline().split()
            assert base.startswith("http://127.0.0.1:") and platform == "dingtalk"
            assert dingtalk_webhook.startswith(f"{base}/robot/send?access_token=") and secret.startswith(
                "SEC"
            )
            assert client.get(f"{base}/_fake/health").json() == {"ok": True, "url": base}

            created = client.post(f"{base}/_fake/robots", json={"platform": "wecom"})
            assert created.status_code == 201
            robot = created.json()
            assert errcode(client.post(robot["url"], json=wecom_text("跨进程"))) == 0
            control = f"{base}/_fake/robots/{robot['token']}"
            assert client.post(f"{control}/faults", json={"kind": "status", "status": 502}).status_code == 200
            assert client.post(robot["url"], json=wecom_text("x")).status_code == 502
            client.post(f"{control}/revoke")
            assert errcode(client.post(robot["url"], json=wecom_text("x"))) == 93000

            seen = client.get(control).json()
            assert [m["body"] for m in seen["received"]] == [wecom_text("跨进程")]
            assert [r["code"] for r in seen["rejected"]] == [93000]
            assert [f["status"] for f in seen["faulted"]] == [502]
            assert client.get(f"{base}/_fake/robots/nope").status_code == 404
        finally:
            process.terminate()
        assert process.wait(timeout=5) == 0
