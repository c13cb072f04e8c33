"""What a channel is: a platform's way of sending one message, and how a send can fail.

A channel (the console, Telegram, and next the chat platforms' robots) knows only how to send one
message and what the platform's answer means; :mod:`bot.delivery.outbox` decides what to do
about a failure. A chat adapter is a channel that must connect first and also answers commands:
the service runs it through :class:`ChatAdapter` without knowing its platform. The console channel
lives here because it needs no platform at all.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Protocol, TextIO

from bot.domain.models import Channel
from bot.domain.safetext import html_to_text


class Failure(StrEnum):
    """How a send failed, as far as the outbox is concerned."""

    RETRY = "retry"  # transient: network, 5xx, flood control (with retry_after)
    BAD_MARKUP = "bad_markup"  # the platform rejected the formatting: send as plain text
    GONE = "gone"  # the chat is unreachable for good (bot removed or blocked)
    MOVED = "moved"  # the chat lives on under another id (a group upgraded to a supergroup)
    BLOCKED = "blocked"  # the chat refuses our credentials (a robot's key or signature): hold its
    # messages and pause it until the configuration is fixed
    REJECTED = "rejected"  # the platform refuses this message for good (e.g. too long)


class SendError(Exception):
    """A channel could not send a message."""

    def __init__(
        self, failure: Failure, detail: str, retry_after: float | None = None, *, moved_to: str | None = None
    ) -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail
        self.retry_after = retry_after
        self.moved_to = moved_to  # Failure.MOVED: the chat's new id


class ChannelSender(Protocol):
    """One platform's way of sending a message; returns the platform's message id."""

    channel: Channel

    async def send(self, chat: str, body: str, format: str) -> str:
        """Send ``body`` (``format`` "html" or "text") to ``chat``; raise SendError on failure."""
        ...


class ConnectError(Exception):
    """A chat adapter could not connect: ``permanent`` when retrying cannot help (refused
    credentials), else worth trying again (the platform is unreachable)."""

    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.permanent = permanent


class ChatAdapter(ChannelSender, Protocol):
    """A chat platform's connection as the service runs it: started, used as a channel, stopped."""

    name: str  # the platform's name in log lines, e.g. "Telegram"
    platform: str  # its key in status and the store: "telegram", "dingtalk", "feishu", "wecom"

    async def start(self) -> None:
        """Connect and begin answering commands; raise :class:`ConnectError` when that fails."""
        ...

    async def stop(self) -> None:
        """Stop answering and disconnect (also after a failed start)."""
        ...


class ConsoleSender:
    """The console channel: messages are printed to standard output (the digest files hold copies)."""

    channel = Channel.CONSOLE

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._sent = 0

    async def send(self, chat: str, body: str, format: str) -> str:
        """Print the message; HTML is shown as text."""
        text = html_to_text(body) if format == "html" else body
        self.stream.write(text.rstrip("\n") + "\n\n")
        self.stream.flush()
        self._sent += 1
        return f"console-{self._sent}"
