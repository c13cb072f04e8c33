"""The group robots' channel: WeCom, DingTalk and Feishu webhooks, signed, paced, their answers read.

Each robot is a chat ``robot:NAME`` of the outbox's ``robot`` channel. Sending one message:

1. wait as long as the robot's pacing says (:mod:`bot.delivery.pacing`), so that a digest of many
   parts never trips the platform's rate limit;
2. sign it (DingTalk 加签: ``timestamp`` and ``sign`` in the query; Feishu 签名校验: in the body);
3. POST it, and read the answer: HTTP 200 with code 0 is delivered; anything else becomes a
   :class:`~bot.delivery.channels.SendError` saying what the outbox should do — wait as long as
   the platform requires after a rate-limit answer (DingTalk: 10 minutes), retry after a timeout
   or a server error, hold the robot's messages and pause it after a refused key or signature
   (its other messages wait for a fix; other robots and chats carry on).

The webhook URL (with its key) and the secret are never logged and never part of an error: an
answer's text is searched for them and they are blanked out before it goes anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from bot.config.robots import RobotConfig
from bot.delivery.channels import Failure, SendError
from bot.delivery.pacing import Limit, Pacer
from bot.domain.models import Channel, Platform, robot_name
from bot.store import Store

log = logging.getLogger(__name__)

# End-to-end tests run the platforms' minutes and ten-minute throttles faster: every window and
# required wait is multiplied by this (1 in production; never set it there).
TIME_SCALE_VARIABLE = "FINEWS_ROBOT_TIME_SCALE"
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class PlatformRules:
    """What a platform documents about its robots: limits, and what its error codes mean."""

    limits: tuple[Limit, ...]
    rate_limited: frozenset[int]  # too many messages: wait ``rate_wait`` seconds
    rate_wait: float
    refused: frozenset[int]  # the key, token or signature is refused: hold and pause the robot
    rejected: frozenset[int]  # this message is refused (too long, malformed): retrying won't help


RULES = {
    # 20 messages per minute (45009: refused for a minute); 93000: an invalid or removed key;
    # 40058 too long, 40008 bad msgtype, 44004 empty content.
    Platform.WECOM: PlatformRules(
        (Limit(20, 60.0),), frozenset({45009}), 60.0, frozenset({93000}), frozenset({40058, 40008, 44004})
    ),
    # 20 per minute, then throttled for 10 minutes (130101); 310000 signature, keyword or IP;
    # 300001 the token does not exist; 460101 body too long; 40035/400402 malformed.
    Platform.DINGTALK: PlatformRules(
        (Limit(20, 60.0),),
        frozenset({130101}),
        600.0,
        frozenset({310000, 300001}),
        frozenset({460101, 40035, 400402}),
    ),
    # 100 per minute and 5 per second (11232); 19021 signature, 19001 token, 19022 IP, 19024
    # keyword; 9499 bad request (too large, malformed), 19002 bad msg_type.
    Platform.FEISHU: PlatformRules(
        (Limit(5, 1.0), Limit(100, 60.0)),
        frozenset({11232}),
        60.0,
        frozenset({19021, 19001, 19022, 19024}),
        frozenset({9499, 19002}),
    ),
}


class _Redactor(logging.Filter):
    """Blanks the robots' webhook keys and secrets out of the HTTP client's log records.

    httpx logs every request's full URL at INFO, and a webhook URL carries the robot's key. The
    command line keeps httpx's logger at WARNING, but a secret must not depend on a log level
    someone else sets: whatever the level, these records are redacted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in sorted(self.secrets, key=len, reverse=True):
                message = message.replace(secret, "***")
            record.msg, record.args = message, ()
        return True


_REDACTOR = _Redactor()


def time_scale(environ: Mapping[str, str] | None = None) -> float:
    """The test-only time scale (see :data:`TIME_SCALE_VARIABLE`)."""
    value = (os.environ if environ is None else environ).get(TIME_SCALE_VARIABLE, "").strip()
    try:
        scale = float(value) if value else 1.0
    except ValueError:
        return 1.0
    return scale if scale > 0 else 1.0


def dingtalk_signed_url(url: str, secret: str, now: float) -> str:
    """The webhook URL with DingTalk's 加签 query: ``timestamp`` (ms) and ``sign`` =
    Base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")), URL-encoded."""
    timestamp = str(int(now * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    parts = urlsplit(url)
    extra = urlencode({"timestamp": timestamp, "sign": base64.b64encode(digest).decode()})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def feishu_signature(secret: str, now: float) -> dict[str, str]:
    """Feishu's 签名校验 fields: ``timestamp`` (s) and ``sign`` =
    Base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b""))."""
    timestamp = str(int(now))
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return {"timestamp": timestamp, "sign": base64.b64encode(digest).decode()}


def _code(answer: Any) -> tuple[int | None, str]:
    """The platform's result code and message from its JSON answer (None when it has none)."""
    if not isinstance(answer, dict):
        return None, ""
    for code_key, message_key in (("errcode", "errmsg"), ("code", "msg"), ("StatusCode", "StatusMessage")):
        code = answer.get(code_key)
        if isinstance(code, int) and not isinstance(code, bool):
            return code, str(answer.get(message_key, ""))
    return None, ""


class RobotChannel:
    """The outbox's ``robot`` channel: one HTTP client, one pacer per robot."""

    channel = Channel.ROBOT

    def __init__(
        self,
        robots: Sequence[RobotConfig],
        *,
        sent_ago: Mapping[str, Sequence[float]] | None = None,
        scale: float | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """``sent_ago``: per robot name, how many seconds ago its recent messages went out (from the
        outbox), so that pacing holds across a restart."""
        self.robots = {robot.name: robot for robot in robots}
        for robot in robots:
            _REDACTOR.secrets.update(robot.secrets())
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).addFilter(_REDACTOR)  # added once, however many channels
        self.scale = time_scale() if scale is None else scale
        self._client = client
        now = time.monotonic()
        self._pacers = {
            robot.name: Pacer(
                [Limit(limit.count, limit.window * self.scale) for limit in RULES[robot.platform].limits],
                [now - ago for ago in (sent_ago or {}).get(robot.name, ()) if ago >= 0],
            )
            for robot in robots
        }
        self._locks = {name: asyncio.Lock() for name in self.robots}
        self._sent = 0

    @classmethod
    def for_store(cls, robots: Sequence[RobotConfig], store: Store, now: datetime) -> RobotChannel:
        """The channel, its pacing resumed from what the outbox sent in the last hour."""
        recent = store.sent_times(Channel.ROBOT, now - timedelta(hours=1))
        sent_ago = {
            robot.name: [(now - sent).total_seconds() for sent in recent.get(robot.chat, [])]
            for robot in robots
        }
        return cls(robots, sent_ago=sent_ago)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                follow_redirects=False,  # a webhook never redirects; following one could leak the key
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, chat: str, body: str, format: str) -> str:
        """Send one outbox message (``body``: the platform's message as JSON) to ``robot:NAME``."""
        robot = self.robots.get(robot_name(chat))
        if robot is None:
            raise SendError(
                Failure.BLOCKED, f"机器人“{robot_name(chat)}”未在配置中 (not configured in [[robots]])"
            )
        return await self.post(robot, json.loads(body))

    async def post(self, robot: RobotConfig, message: dict[str, Any]) -> str:
        """Pace, sign and POST one message; returns a message id of ours (webhooks give none)."""
        async with self._locks[robot.name]:  # one message of a robot at a time, in order
            pacer = self._pacers[robot.name]
            wait = pacer.delay(time.monotonic())
            if wait > 0:
                log.info("robot %s: pacing, next message in %.1f s", robot.name, wait)
                await asyncio.sleep(wait)
            url, payload = self._signed(robot, message)
            try:
                response = await self._http().post(
                    url, content=json.dumps(payload, ensure_ascii=False).encode()
                )
            except httpx.TimeoutException as error:
                raise SendError(
                    Failure.RETRY, f"{robot.name}: 超时 (timed out: {type(error).__name__})"
                ) from None
            except httpx.HTTPError as error:
                raise SendError(
                    Failure.RETRY, self._redact(robot, f"{robot.name}: 网络错误 ({error})")
                ) from None
            finally:
                # A request that reached the platform counts against its limit, whatever the answer.
                pacer.record(time.monotonic())
            self._check(robot, response)
            self._sent += 1
            return f"{robot.platform}-{int(time.time() * 1000)}-{self._sent}"

    def _signed(self, robot: RobotConfig, message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        now = time.time()  # signatures need the real time, whatever FINEWS_FAKE_NOW says
        if robot.secret and robot.platform is Platform.DINGTALK:
            return dingtalk_signed_url(robot.webhook, robot.secret, now), message
        if robot.secret and robot.platform is Platform.FEISHU:
            return robot.webhook, {**feishu_signature(robot.secret, now), **message}
        return robot.webhook, message

    def _check(self, robot: RobotConfig, response: httpx.Response) -> None:
        """Raise the SendError that the platform's answer means; return when it was delivered."""
        rules = RULES[robot.platform]
        try:
            answer = json.loads(response.content[:MAX_ANSWER_BYTES])
        except ValueError:
            answer = None
        code, text = _code(answer)
        detail = self._redact(robot, f"{robot.name}: HTTP {response.status_code}, code {code}: {text}"[:300])
        if response.status_code >= 500 or response.status_code in (408, 429):
            retry_after = response.headers.get("Retry-After", "")
            wait = float(retry_after) if retry_after.isdigit() else None
            raise SendError(Failure.RETRY, detail, wait)
        if response.status_code != 200 or code is None:
            # Not the platform answering (a wrong path, a proxy's page): the URL is wrong.
            raise SendError(Failure.BLOCKED, detail)
        if code == 0:
            return
        if code in rules.rate_limited:
            raise SendError(Failure.RETRY, f"{detail}（限流 rate limited）", rules.rate_wait * self.scale)
        if code in rules.refused:
            raise SendError(Failure.BLOCKED, detail)
        if code in rules.rejected:
            raise SendError(Failure.REJECTED, detail)
        raise SendError(Failure.RETRY, detail)  # unknown: worth another try later

    @staticmethod
    def _redact(robot: RobotConfig, text: str) -> str:
        for secret in robot.secrets():
            text = text.replace(secret, "***")
        return text
