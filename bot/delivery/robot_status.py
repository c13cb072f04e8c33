"""Each group robot's state, as ``finews-bot status`` and ``finews-bot robots`` show it.

Nothing here shows a webhook URL, a key or a secret: a robot is named by its name, its platform
and the names of the environment variables that hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config, RobotConfig
from bot.domain.models import Channel
from bot.domain.records import Subscription
from bot.domain.safetext import cap, clean
from bot.store import ChatOutbox, Store
from bot.texts import robots as T


class RobotState(StrEnum):
    """Where a robot stands."""

    OK = "ok"  # its last message went out
    WAITING = "waiting"  # messages wait (a retry, a rate limit)
    PAUSED = "paused"  # its key or signature was refused: messages are held until it is fixed
    NEVER = "never"  # nothing sent yet
    UNSUBSCRIBED = "unsubscribed"  # no [[subscriptions]] entry sends to it


@dataclass(frozen=True, slots=True)
class RobotStatus:
    """One configured robot, its subscription and its part of the outbox."""

    robot: RobotConfig
    subscription: Subscription | None
    outbox: ChatOutbox

    @property
    def state(self) -> RobotState:
        """The robot's state (see :class:`RobotState`)."""
        if self.subscription is not None and self.subscription.paused:
            return RobotState.PAUSED
        if self.outbox.pending:
            return RobotState.WAITING
        if self.outbox.last_sent is not None:
            return RobotState.OK
        return RobotState.NEVER if self.subscription is not None else RobotState.UNSUBSCRIBED


def robots_overview(config: Config, store: Store | None) -> list[RobotStatus]:
    """Every configured robot's status (a missing database: nothing sent yet)."""
    outboxes = store.chat_outboxes(Channel.ROBOT) if store is not None else {}
    subs = {s.chat: s for s in store.subscriptions()} if store is not None else {}
    empty = ChatOutbox(0, None, "")
    return [RobotStatus(r, subs.get(r.chat), outboxes.get(r.chat, empty)) for r in config.robots]


def robot_json(status: RobotStatus) -> dict[str, Any]:
    """One robot for ``--json``."""
    robot, sub = status.robot, status.subscription
    return {
        "name": robot.name,
        "chat": robot.chat,
        "platform": robot.platform.value,
        "webhook_env": robot.webhook_env,
        "secret_env": robot.secret_env or None,
        "signed": robot.signed,
        "state": status.state.value,
        "paused": sub.paused if sub is not None and sub.paused else None,
        "subscribed": sub is not None,
        "pending": status.outbox.pending,
        "last_sent": status.outbox.last_sent.isoformat() if status.outbox.last_sent else None,
        "last_error": status.outbox.last_error or None,
    }


def robot_lines(status: RobotStatus, zone: ZoneInfo, indent: str = "  ") -> list[str]:
    """A robot's state in the terminal's words: its line, then why it is paused or what failed."""
    robot, sub = status.robot, status.subscription
    when = ""
    if status.outbox.last_sent is not None:
        when = T.LAST_SENT.format(when=_minute(status.outbox.last_sent, zone))
    lines = [
        T.LINE.format(
            indent=indent,
            name=robot.name,
            platform=T.PLATFORMS[robot.platform.value],
            signed=T.SIGNED if robot.signed else "",
            env=robot.webhook_env,
            state=T.STATES[status.state.value],
            pending=T.PENDING.format(n=status.outbox.pending) if status.outbox.pending else "",
            when=when,
        )
    ]
    if sub is not None:
        lines.append(T.SUBSCRIPTION.format(indent=indent * 2, line=_subscription(sub)))
    if sub is not None and sub.paused:
        lines.append(T.PAUSED.format(indent=indent * 2, reason=cap(clean(sub.paused), 200)))
    elif status.outbox.last_error and status.state is not RobotState.OK:
        lines.append(T.ERROR.format(indent=indent * 2, error=cap(clean(status.outbox.last_error), 200)))
    return lines


def _subscription(sub: Subscription) -> str:
    topics = "、".join(sub.topics) if sub.topics else T.ALL_TOPICS
    return T.SUBSCRIPTION_LINE.format(
        topics=topics, time=f"{sub.time:%H:%M}", days=T.DAYS.get(sub.days, sub.days)
    )


def _minute(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
