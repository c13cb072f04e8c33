"""The one permission rule, as a table: role × chat × scope × command, through dispatch()."""

from __future__ import annotations

import pytest

from handlers.commands import COMMANDS, dispatch
from handlers.permissions import Access, Refusal, Role, Scope, default_scope, may_edit, may_run
from handlers.request import Context
from tests.helpers.chat import ask, request, text

ADMIN, GROUP_ADMIN, MEMBER, UNKNOWN = Role.ADMIN, Role.GROUP_ADMIN, Role.MEMBER, Role.UNKNOWN


@pytest.mark.parametrize(
    ("role", "group", "scope", "expected"),
    [
        # The global topics: configured admins only, wherever they are.
        (ADMIN, True, Scope.GLOBAL, None),
        (ADMIN, False, Scope.GLOBAL, None),
        (GROUP_ADMIN, True, Scope.GLOBAL, Refusal.ADMINS_ONLY),
        (MEMBER, True, Scope.GLOBAL, Refusal.ADMINS_ONLY),
        (MEMBER, False, Scope.GLOBAL, Refusal.ADMINS_ONLY),
        (UNKNOWN, True, Scope.GLOBAL, Refusal.ADMINS_ONLY),
        # A group's own topics: its administrators and the configured admins.
        (ADMIN, True, Scope.CHAT, None),
        (GROUP_ADMIN, True, Scope.CHAT, None),
        (MEMBER, True, Scope.CHAT, Refusal.GROUP_ADMINS_ONLY),
        (UNKNOWN, True, Scope.CHAT, Refusal.UNKNOWN),
        # A private chat's own topics: members query only there too.
        (ADMIN, False, Scope.CHAT, None),
        (MEMBER, False, Scope.CHAT, Refusal.ADMINS_ONLY),
    ],
)
def test_who_may_edit_which_topics(role: Role, group: bool, scope: Scope, expected: Refusal | None) -> None:
    assert may_edit(role, group, scope) == expected


@pytest.mark.parametrize(
    ("access", "role", "group", "expected"),
    [
        (Access.EVERYONE, MEMBER, True, None),
        (Access.EVERYONE, UNKNOWN, True, None),
        (Access.CHAT_ADMINS, MEMBER, False, None),  # a private chat's own subscription
        (Access.CHAT_ADMINS, MEMBER, True, Refusal.GROUP_ADMINS_ONLY),
        (Access.CHAT_ADMINS, GROUP_ADMIN, True, None),
        (Access.CHAT_ADMINS, ADMIN, True, None),
        (Access.CHAT_ADMINS, UNKNOWN, True, Refusal.UNKNOWN),
        (Access.EDITORS, GROUP_ADMIN, True, None),
        (Access.EDITORS, MEMBER, True, Refusal.GROUP_ADMINS_ONLY),
        (Access.EDITORS, MEMBER, False, Refusal.ADMINS_ONLY),
        (Access.EDITORS, ADMIN, False, None),
        (Access.ADMINS, GROUP_ADMIN, True, Refusal.ADMINS_ONLY),
    ],
)
def test_who_may_run_a_command(access: Access, role: Role, group: bool, expected: Refusal | None) -> None:
    assert may_run(access, role, group) == expected


def test_an_edit_goes_to_the_group_in_a_group_and_to_the_global_set_from_an_admin_s_private_chat() -> None:
    assert default_scope(ADMIN, group=True) is Scope.CHAT
    assert default_scope(GROUP_ADMIN, group=True) is Scope.CHAT
    assert default_scope(ADMIN, group=False) is Scope.GLOBAL


# Every changing command, with what each role gets in a group (True: accepted).
CHANGES = {
    "/subscribe 上市 07:00": {ADMIN: True, GROUP_ADMIN: True, MEMBER: False, UNKNOWN: False},
    "/settime 06:00": {ADMIN: True, GROUP_ADMIN: True, MEMBER: False, UNKNOWN: False},
    "/addkw 上市 路演": {ADMIN: True, GROUP_ADMIN: True, MEMBER: False, UNKNOWN: False},
    "/addkw 全局 上市 路演": {ADMIN: True, GROUP_ADMIN: False, MEMBER: False, UNKNOWN: False},
    "/delkw 全局 上市 挂牌": {ADMIN: True, GROUP_ADMIN: False, MEMBER: False, UNKNOWN: False},
    "/newtopic 债券 债券": {ADMIN: True, GROUP_ADMIN: True, MEMBER: False, UNKNOWN: False},
    "/deltopic 全局 金融风险": {ADMIN: True, GROUP_ADMIN: False, MEMBER: False, UNKNOWN: False},
    "/unsubscribe": {ADMIN: True, GROUP_ADMIN: True, MEMBER: False, UNKNOWN: False},
}


@pytest.mark.parametrize("line", list(CHANGES))
@pytest.mark.parametrize("role", [ADMIN, GROUP_ADMIN, MEMBER, UNKNOWN])
def test_the_table_through_dispatch_in_a_group(ctx: Context, line: str, role: Role) -> None:
    if line in ("/settime 06:00", "/unsubscribe"):  # these change a subscription that must exist
        ask(ctx, "/subscribe", group=True)
    before = len(ctx.store.audit_entries(100))
    reply = text(ask(ctx, line, group=True, role=role))
    accepted = len(ctx.store.audit_entries(100)) > before
    assert accepted is CHANGES[line][role], reply
    if role is UNKNOWN:
        assert reply == "暂时无法向平台确认您是否为本群管理员，请稍后再试。"
    elif role is GROUP_ADMIN and "全局" in line:
        assert reply.startswith("只有配置的管理员可以修改全局主题")
    elif not accepted:
        assert reply in ("只有管理员可以使用这个命令。", "只有管理员可以更改本群的订阅。")
    elif line.startswith(("/addkw", "/delkw", "/newtopic", "/deltopic")):
        assert ("（全局）" if "全局" in line else "（本群）") in reply.splitlines()[0]


def test_queries_are_everyone_s(ctx: Context) -> None:
    for command in COMMANDS:
        if command.access is Access.EVERYONE:
            reply = dispatch(ctx, request(f"/{command.name}", role=MEMBER, group=True))
            assert "只有" not in text(reply), command.name


def test_with_no_admins_configured_nobody_edits_the_global_topics_from_a_chat(ctx: Context) -> None:
    # Telegram makes a role of ADMIN only from [telegram] admins; a group's owner is GROUP_ADMIN.
    owner = text(ask(ctx, "/deltopic 全局 上市", group=True, role=GROUP_ADMIN))
    assert owner.startswith("只有配置的管理员") and "上市" in ctx.digester.topics()
