"""``finews-bot chat``: the chat commands in this terminal, as a member, a group admin or an admin.

The conversation itself is the console adapter (:mod:`bot.adapters.console`); this command opens
the store and chooses who is talking, where.
"""

from __future__ import annotations

import argparse
import getpass
import io
import sys

from bot.adapters.console import ConsoleChat, run_interactive, run_script
from bot.cli.base import ExitCode, open_store
from bot.config import CONSOLE, Config
from bot.domain.when import Clock
from bot.store import Store
from handlers.permissions import Role
from handlers.request import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("--user", metavar="NAME", help="your name in the audit log (default: the login name)")
    parser.add_argument("--chat", default=CONSOLE, metavar="ID", help=f"the chat id (default: {CONSOLE})")
    parser.add_argument("--group", action="store_true", help="act as a group chat rather than a private one")
    parser.add_argument(
        "--role",
        choices=[r.value for r in Role if r is not Role.UNKNOWN],
        default=Role.ADMIN.value,
        help="who you are: admin (a configured admin, the default), group-admin (an administrator of"
        " this group: edits only its own topics and subscription) or member (queries only)",
    )
    parser.add_argument(
        "--member",
        dest="role",
        action="store_const",
        const=Role.MEMBER.value,
        help="the same as --role member",
    )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "operator"


def run(config: Config, args: argparse.Namespace) -> ExitCode:
    """Needs the database (exit 1 without it); exit 0 at the end of input."""
    store = open_store(config, Store)
    if store is None:
        return ExitCode.NOTHING
    with store:
        ctx = Context(config, store, Clock.from_environment().now)
        chat = ConsoleChat(
            ctx,
            user=args.user or _login_name(),
            chat=args.chat,
            group=args.group,
            role=Role(args.role),
        )
        if sys.stdin.isatty():
            run_interactive(chat, sys.stdout)
            return ExitCode.OK
        if isinstance(sys.stdin, io.TextIOWrapper):
            # A script's stray byte must not end the session with a UnicodeDecodeError.
            sys.stdin.reconfigure(errors="replace")
        run_script(chat, sys.stdin, sys.stdout)
    return ExitCode.OK
