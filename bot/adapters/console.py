"""The console adapter: the chat commands in a terminal, through the very same :func:`dispatch`.

Each line is a command (``/latest 株洲``); a line without a slash is a keyword search. Buttons are
shown as numbered choices and chosen with ``:1``, ``:2``. The console's user is a local operator
and counts as an admin unless ``finews-bot chat --role member`` (or ``group-admin``) says otherwise;
``--group`` makes the chat a group: every role can be tried without a chat platform.

On a terminal it prompts (with line editing when ``readline`` is there); otherwise it reads
commands from standard input, one per line, and prints each reply followed by a blank line, which
makes it scriptable: ``printf '/latest 株洲\\n' | finews-bot chat``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TextIO

from bot.domain.models import Channel
from bot.texts import chat as T
from digests.render import render_text
from handlers.commands import dispatch, parse_line
from handlers.markup import to_text
from handlers.permissions import Role
from handlers.request import Button, ChatType, Context, Reply, Request

PROMPT = "finews> "
QUIT = (":q", ":quit")


class ConsoleChat:
    """One console conversation: turns lines into requests and replies into text."""

    def __init__(self, ctx: Context, *, user: str, chat: str, group: bool, role: Role) -> None:
        """Talk as ``user`` in ``chat`` with ``role`` (see :mod:`handlers.permissions`)."""
        self.ctx = ctx
        self.user = user
        self.chat = chat
        self.group = group
        self.role = role
        self._buttons: tuple[Button, ...] = ()  # those of the last reply, for :1, :2

    def _request(self, command: str, args: tuple[str, ...], action: str = "") -> Request:
        return Request(
            command=command,
            args=args,
            chat=self.chat,
            chat_type=ChatType.GROUP if self.group else ChatType.PRIVATE,
            user_id=self.user,
            user_name=self.user,
            chat_title=T.CONSOLE_TITLE,
            channel=Channel.CONSOLE,
            role=self.role,
            action=action,
        )

    def answer(self, line: str) -> str | None:
        """The reply to one line as text; None for a blank line or a comment (# …)."""
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        if text.startswith(":"):
            choice = text[1:].strip()
            if not choice.isdigit() or not 1 <= int(choice) <= len(self._buttons):
                return T.CONSOLE_NO_CHOICE.format(key=text)
            request = self._request("", (), self._buttons[int(choice) - 1].action)
        else:
            command, args = parse_line(text)
            request = self._request(command, args)
        reply = dispatch(self.ctx, request)
        self._buttons = reply.buttons
        return render(reply)


def render(reply: Reply) -> str:
    """A reply as console text: its lines, the digest if any, the buttons as numbered choices."""
    parts = []
    if reply.lines:
        parts.append(to_text(reply))
    if reply.digest is not None:
        parts.append(render_text(reply.digest).rstrip("\n"))
    if reply.buttons:
        choices = "  ".join(
            T.CONSOLE_CHOICE.format(n=n, label=b.label) for n, b in enumerate(reply.buttons, 1)
        )
        keys = T.CONSOLE_KEYS_JOINER.join(f":{n}" for n in range(1, len(reply.buttons) + 1))
        parts.append(T.CONSOLE_CHOICES.format(choices=choices, keys=keys))
    return "\n".join(parts)


def run_script(chat: ConsoleChat, lines: Iterable[str], out: TextIO) -> int:
    """Answer every line; each reply is followed by a blank line."""
    for line in lines:
        answer = chat.answer(line)
        if answer is not None:
            print(answer, end="\n\n", file=out, flush=True)
    return 0


def run_interactive(chat: ConsoleChat, out: TextIO) -> int:
    """Prompt for commands until Ctrl-D, Ctrl-C or :q."""
    with contextlib.suppress(ImportError):  # not on every platform
        import readline  # noqa: F401  (importing it is what gives input() line editing and history)
    print(T.CONSOLE_GREETING, file=out)
    while True:
        try:
            line = input(PROMPT)
            if line.strip() in QUIT:
                return 0
            answer = chat.answer(line)
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            return 0
        if answer is not None:
            print(answer, end="\n\n", file=out)  # a blank line before the next prompt
