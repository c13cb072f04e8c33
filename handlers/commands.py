"""THE command table, and :func:`dispatch`, the one entry point of every adapter.

:data:`COMMANDS` drives /help, Telegram's command menu (``setMyCommands``), the console and the
README. :func:`dispatch` takes a :class:`~handlers.request.Request` from any adapter and always
returns a :class:`~handlers.request.Reply`: an unknown command, a bad argument or a bug in a handler
becomes a polite Chinese answer (a bug is logged with its traceback), never an exception.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import replace

from bot.domain.textindex import fold
from bot.texts import chat as T
from handlers import admin, audit, digest, feedback, info, rule_edits, search, subscriptions, why
from handlers.feedback_book import APPLY_PREFIX, MARK_PREFIX
from handlers.markup import prepend, text_line, text_reply
from handlers.pager import PREFIX as PAGE_PREFIX
from handlers.permissions import Access, may_run
from handlers.refusals import refusal_reply
from handlers.request import Command, Context, Handler, Reply, Request

log = logging.getLogger(__name__)

# A longer argument is cut: no keyword or topic name is this long, and echoing one back or
# searching for it only wastes the reply and the database's time.
MAX_ARG_CHARS = 200
MAX_ARGS = 50


def _help(ctx: Context, request: Request) -> Reply:
    """/help: generated from the table below."""
    return info.help_reply(COMMANDS, request)


def _command(
    name: str,
    usage: str,
    example: str,
    handler: Handler,
    access: Access = Access.EVERYONE,
    *,
    menu: bool = True,
    offers_editors_more: bool = False,
) -> Command:
    aliases = T.ALIASES.get(name, ())
    return Command(name, usage, T.SUMMARY[name], example, handler, access, menu, aliases, offers_editors_more)


def _admin(name: str, usage: str, example: str, handler: Handler) -> Command:
    # Kept out of Telegram's command menu, which every member of a group sees. Topics are edited
    # by a group's admins for that group (本群) and by configured admins for every chat (全局).
    return _command(name, usage, example, handler, Access.EDITORS, menu=False)


# CHAT_ADMINS: the command changes the chat's subscription, which in a group only its admins may.
COMMANDS: tuple[Command, ...] = (
    _command("start", "", "/start", info.start_command),
    _command("help", "[命令]", "/help latest", _help),
    _command("latest", "<关键词…> [条数]", "/latest 株洲 金融", search.latest_command),
    _command("topic", "<主题> [条数]", "/topic 上市", search.topic_command),
    _command("topics", "", "/topics", info.topics_command),
    _command("digest", "[日期]", "/digest 2022-04-03", digest.digest_command),
    _command(
        "subscribe",
        "[主题…] [HH:MM]",
        "/subscribe 上市 普惠金融 08:30",
        subscriptions.subscribe_command,
        Access.CHAT_ADMINS,
    ),
    _command("unsubscribe", "", "/unsubscribe", subscriptions.unsubscribe_command, Access.CHAT_ADMINS),
    _command("subscriptions", "", "/subscriptions", subscriptions.subscriptions_command),
    _command(
        "settime",
        "<HH:MM> [每天|工作日]",
        "/settime 07:45 工作日",
        subscriptions.settime_command,
        Access.CHAT_ADMINS,
    ),
    # Paging by text, where a platform does not return button presses to the bot (and in the console).
    _command("next", "", "/next", search.next_page_command, menu=False),
    _command("prev", "", "/prev", search.previous_page_command, menu=False),
    _command("why", "[主题] <编号|条目ID>", "/why 3", why.why_command, offers_editors_more=True),
    _command("sources", "", "/sources", info.sources_command),
    _command("status", "", "/status", info.status_command),
    _admin("addkw", "[全局|本群] <主题> <词…>", "/addkw 上市 科创板", admin.editor("addkw")),
    _admin("delkw", "[全局|本群] <主题> <词…>", "/delkw 上市 挂牌", admin.editor("delkw")),
    _admin("addexclude", "[全局|本群] <主题> <词…>", "/addexclude 上市 招聘", admin.editor("addexclude")),
    _admin("delexclude", "[全局|本群] <主题> <词…>", "/delexclude 上市 招聘", admin.editor("delexclude")),
    _admin("addnotin", "[全局|本群] <主题> <上下文…>", "/addnotin 上市 线上市场", admin.editor("addnotin")),
    _admin("delnotin", "[全局|本群] <主题> <上下文…>", "/delnotin 上市 线上市场", admin.editor("delnotin")),
    _admin("addtitlekw", "[全局|本群] <主题> <词…>", "/addtitlekw 上市 敲钟", admin.editor("addtitlekw")),
    _admin("deltitlekw", "[全局|本群] <主题> <词…>", "/deltitlekw 上市 敲钟", admin.editor("deltitlekw")),
    _admin(
        "addnear",
        "[全局|本群] <主题> <关键词> <邻近词…>",
        "/addnear 上市 上市 企业 IPO",
        rule_edits.addnear_command,
    ),
    _admin(
        "delnear",
        "[全局|本群] <主题> <关键词> [邻近词…]",
        "/delnear 上市 上市 公司",
        rule_edits.delnear_command,
    ),
    _admin(
        "addnotnear",
        "[全局|本群] <主题> <关键词> <排除邻近词…>",
        "/addnotnear 地方金融监管 小额贷款 质押",
        rule_edits.addnotnear_command,
    ),
    _admin(
        "delnotnear",
        "[全局|本群] <主题> <关键词> [排除邻近词…]",
        "/delnotnear 地方金融监管 小额贷款 质押",
        rule_edits.delnotnear_command,
    ),
    _admin("setwindow", "[全局|本群] <主题> <字数>", "/setwindow 上市 8", rule_edits.setwindow_command),
    _admin("setminscore", "[全局|本群] <主题> <分数>", "/setminscore 上市 2", rule_edits.setminscore_command),
    _admin(
        "notrelevant", "[全局|本群] [主题] <编号|条目ID>", "/notrelevant 上市 3", feedback.notrelevant_command
    ),
    _admin("apply", "<方案编号>", "/apply 1", feedback.apply_command),
    _admin("newtopic", "[全局|本群] <名称> <关键词…>", "/newtopic 债券 债券 城投债", admin.newtopic_command),
    _admin("deltopic", "[全局|本群] <名称>", "/deltopic 债券", admin.deltopic_command),
    _admin("audit", "[条数]", "/audit 20", audit.audit_command),
)

_BY_NAME = {command.name: command for command in COMMANDS}
# Every word that calls a command: its name and its Chinese aliases (folded, as typed words are).
_BY_WORD = _BY_NAME | {fold(alias): command for command in COMMANDS for alias in command.aliases}
# A leading @-mention of the bot, as platforms leave it in a group message ("@_user_1 最新 株洲",
# "@finews-bot latest 株洲"): not part of the command.
_MENTIONS = re.compile(r"^(?:\s*@\S+)+\s*")


def command_name(text: str) -> str:
    """A command as typed ("/Latest@finews_bot", "／latest", "最新") → its table name ("latest");
    an unknown word as it was typed (lower case)."""
    name = text.strip().lstrip("/／").split("@", 1)[0]
    command = _BY_WORD.get(fold(name))
    return command.name if command is not None else name.lower()


def find_command(name: str) -> Command | None:
    """The command called ``name`` (with or without the slash and @botname, or a Chinese alias),
    or None."""
    return _BY_NAME.get(command_name(name))


def parse_line(line: str) -> tuple[str, tuple[str, ...]]:
    """A typed line → (command name, arguments).

    ``/latest 株洲``, ``latest 株洲`` and ``最新 株洲`` are one command; a line whose first word is no
    command is a /latest search. A leading @-mention of the bot is dropped. Arguments are split on
    any white space, the ideographic space (U+3000) included.
    """
    text = _MENTIONS.sub("", line.strip())
    if not text:
        return "latest", ()
    word, *args = text.split()
    if word.startswith(("/", "／")) or fold(word) in _BY_WORD:
        return command_name(word), tuple(args)
    return "latest", tuple(text.split())


def _unknown(name: str) -> Reply:
    shown = name[:30] if name else ""
    lines = [T.UNKNOWN_COMMAND.format(name=shown)]
    close = difflib.get_close_matches(name, list(_BY_NAME), n=2, cutoff=0.6)
    if close:
        lines.append(T.DID_YOU_MEAN.format(names="、".join(f"/{c}" for c in close)))
    return text_reply(*lines)


def action_needs_admin(action: str) -> bool:
    """Whether a button's action changes topics (the adapter then asks the platform whether the
    one who pressed it administers the group)."""
    return action.startswith((MARK_PREFIX, APPLY_PREFIX))


def _press(ctx: Context, request: Request) -> Reply:
    action = request.action
    if action.startswith(PAGE_PREFIX):
        return search.turn_page(ctx, request)
    if action.startswith(MARK_PREFIX):
        return feedback.mark_button(ctx, request, action[len(MARK_PREFIX) :])
    if action.startswith(APPLY_PREFIX):
        return feedback.apply_button(ctx, request)
    return text_reply(T.BUTTON_EXPIRED)


def _dispatch(ctx: Context, request: Request) -> Reply:
    if request.action:
        return _press(ctx, request)
    name = command_name(request.command)
    command = _BY_NAME.get(name)
    if command is None:
        return _unknown(name)
    # The adapter has asked the platform who is an admin; handlers check again themselves.
    refusal = may_run(command.access, request.role, request.group)
    if refusal is not None:
        return refusal_reply(refusal, command.access)
    args = [arg for arg in request.args if arg.strip()]
    notes = []
    if len(args) > MAX_ARGS:
        args = args[:MAX_ARGS]
        notes.append(text_line(T.TOO_MANY_ARGS.format(n=MAX_ARGS)))
    if any(len(arg) > MAX_ARG_CHARS for arg in args):
        args = [arg[:MAX_ARG_CHARS] for arg in args]
        notes.append(text_line(T.ARG_TRUNCATED.format(n=MAX_ARG_CHARS)))
    reply = command.handler(ctx, replace(request, command=name, args=tuple(args)))
    return prepend(reply, *notes) if notes else reply


def dispatch(ctx: Context, request: Request) -> Reply:
    """Answer one request (a command or a button press). Never raises."""
    try:
        return _dispatch(ctx, request)
    except Exception:
        # Whatever went wrong, the user gets an answer and the operator a traceback in the log.
        log.exception("/%s failed in chat %s", request.command or request.action, request.chat)
        return text_reply(T.INTERNAL_ERROR)
