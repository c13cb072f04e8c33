"""Shared helpers for the chat tests: a seeded store, a context at a fixed time, requests from lines."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Config, load_config
from bot.ingest.importer import discover, import_files
from bot.store import Store
from handlers.commands import dispatch, parse_line
from handlers.markup import to_html, to_text
from handlers.permissions import Role
from handlers.request import ChatType, Context, Reply, Request
from tests.helpers.paths import SEEDS

# The morning after the 赣南日报 story (2022-04-03 08:15): "yesterday" is its day.
NOW = datetime(2022, 4, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ZHUZHOU_TITLE = "为高质量发展注入澎湃金融动能"
GANNAN_TITLE = "凝聚金融力量 加快振兴发展"
CJK = re.compile(r"[\u4e00-\u9fff]")


def seeded_config(folder: Path) -> Config:
    """The embedded default config with its database in ``folder``, and a Telegram token (the
    requests of these tests come from Telegram chats, as far as the handlers know)."""
    env = {"FINEWS_DB": str(folder / "finews.db"), "FINEWS_TELEGRAM_TOKEN": "123:test"}
    return load_config(environ=env, cwd=folder)


def import_seeds(store: Store) -> None:
    """The bundled seeds, as `finews-bot import` stores them (via the "seeds" source)."""
    report = import_files(store, discover([SEEDS]), via="seeds", workers=0)
    assert report.new == 5, report


def make_context(config: Config, store: Store) -> Context:
    """A context whose clock stands still at :data:`NOW`."""
    return Context(config, store, lambda: NOW)


def request(
    line: str,
    *,
    admin: bool = True,
    role: Role | None = None,
    group: bool = False,
    chat: str = "-100200",
    user: str = "u1",
    action: str = "",
) -> Request:
    """The request an adapter would make of a typed line (or of a button press: ``action``);
    ``admin``: a configured admin (else a member), unless ``role`` says otherwise."""
    command, args = parse_line(line) if line else ("", ())
    return Request(
        command=command,
        args=args,
        chat=chat,
        chat_type=ChatType.GROUP if group else ChatType.PRIVATE,
        user_id=user,
        user_name="张处长" if user == "u1" else user,
        chat_title="金融办工作群" if group else "",
        role=role or (Role.ADMIN if admin else Role.MEMBER),
        action=action,
    )


def ask(
    ctx: Context,
    line: str,
    *,
    admin: bool = True,
    role: Role | None = None,
    group: bool = False,
    chat: str = "-100200",
    user: str = "u1",
) -> Reply:
    """Dispatch one typed line."""
    return dispatch(ctx, request(line, admin=admin, role=role, group=group, chat=chat, user=user))


def press(ctx: Context, reply: Reply, label: str, *, chat: str = "-100200") -> Reply:
    """Press the button labelled ``label`` of ``reply``."""
    (button,) = [b for b in reply.buttons if b.label == label]
    return dispatch(ctx, request("", action=button.action, admin=False, chat=chat))


def text(reply: Reply) -> str:
    """The reply as the console shows it."""
    return to_text(reply)


def html(reply: Reply) -> str:
    """The reply as Telegram gets it."""
    return to_html(reply)
