"""Each group its own topics: overlays laid over the global set, edited from chat, and isolation —
one group's edit never changes another group's /topic, digest or export, nor the global set."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.console import render
from bot.cli.topics import current_topics, topics_toml
from handlers.permissions import Role
from handlers.request import Context
from tests.helpers.chat import GANNAN_TITLE, ask, text

A, B = "-1001", "-1002"
GROUP_ADMIN = Role.GROUP_ADMIN


def keywords(ctx: Context, chat: str | None, topic: str = "上市") -> tuple[str, ...]:
    return ctx.digester.topics(chat)[topic].keywords


def test_a_group_admin_changes_only_their_group_s_topics(ctx: Context) -> None:
    shown = text(ask(ctx, "/addkw 上市 敲钟", group=True, chat=A, role=GROUP_ADMIN))
    assert shown.startswith("已为主题“上市”添加关键词：敲钟（本群）")
    assert "敲钟" in keywords(ctx, A)
    assert "敲钟" not in keywords(ctx, B) and "敲钟" not in keywords(ctx, None)
    deleted = text(ask(ctx, "/deltopic 金融风险", group=True, chat=A, role=GROUP_ADMIN))
    assert deleted.startswith("已删除主题“金融风险”。（本群）")
    assert "金融风险" not in ctx.digester.topics(A)
    assert "金融风险" in ctx.digester.topics(B) and "金融风险" in ctx.digester.topics()
    topics_a = text(ask(ctx, "/topics", group=True, chat=A, role=Role.MEMBER))
    assert "【上市】（本群已修改）" in topics_a and "本群已隐藏的主题：金融风险" in topics_a
    assert "（本群已修改）" not in text(ask(ctx, "/topics", group=True, chat=B, role=Role.MEMBER))


def test_a_global_change_shows_through_unless_the_group_changed_that_word(ctx: Context) -> None:
    ask(ctx, "/delkw 上市 挂牌", group=True, chat=A, role=GROUP_ADMIN)  # A no longer wants 挂牌
    ask(ctx, "/addkw 全局 上市 敲钟 递表")  # an admin adds two words for everyone
    assert {"敲钟", "递表"} <= set(keywords(ctx, A)) and "挂牌" not in keywords(ctx, A)
    ask(ctx, "/delkw 全局 上市 挂牌")
    ask(ctx, "/addkw 全局 上市 挂牌")  # removed and added back globally: A still removed it
    assert "挂牌" in keywords(ctx, B) and "挂牌" not in keywords(ctx, A)
    ask(ctx, "/addkw 上市 挂牌", group=True, chat=A, role=GROUP_ADMIN)  # A takes it back
    assert "挂牌" in keywords(ctx, A) and ctx.store.chat_overlays(A) == {}  # nothing of its own left


def test_a_group_s_own_topic_and_hidden_topics(ctx: Context) -> None:
    created = text(ask(ctx, "/newtopic 债券 债券 城投债", group=True, chat=A, role=GROUP_ADMIN))
    assert created.startswith("已新建主题“债券”") and "（本群）" in created
    assert "债券" in ctx.digester.topics(A) and "债券" not in ctx.digester.topics(B)
    ask(ctx, "/addexclude 债券 招聘", group=True, chat=A, role=GROUP_ADMIN)
    assert ctx.digester.topics(A)["债券"].exclude == ("招聘",)
    assert text(ask(ctx, "/topic 债券", group=True, chat=B, role=Role.MEMBER)).startswith(
        "没有名为“债券”的主题"
    )
    # The topic of the group's own can be deleted whole; a global topic only hidden.
    ask(ctx, "/deltopic 债券", group=True, chat=A, role=GROUP_ADMIN)
    assert "债券" not in ctx.digester.topics(A) and ctx.store.chat_overlays(A) == {}


def test_edits_that_would_leave_nothing_are_refused_with_the_reason(ctx: Context) -> None:
    for name in list(ctx.digester.topics(A))[:-1]:
        ask(ctx, f"/deltopic {name}", group=True, chat=A, role=GROUP_ADMIN)
    (last,) = ctx.digester.topics(A)
    refused = text(ask(ctx, f"/deltopic {last}", group=True, chat=A, role=GROUP_ADMIN))
    assert refused.startswith(f"不能删除“{last}”：这是本聊天仅剩的主题")
    ask(ctx, "/newtopic 单词 单词", group=True, chat=B, role=GROUP_ADMIN)
    empty = text(ask(ctx, "/delkw 单词 单词", group=True, chat=B, role=GROUP_ADMIN))
    assert empty.startswith("不能删除主题“单词”的最后一个关键词")


def test_a_group_s_digest_and_export_use_its_own_topics(ctx: Context, tmp_path: Path) -> None:
    ask(ctx, "/subscribe", group=True, chat=A, role=GROUP_ADMIN)
    ask(ctx, "/deltopic 普惠金融", group=True, chat=A, role=GROUP_ADMIN)
    digest_a = render(ask(ctx, "/digest 2022-04-03", group=True, chat=A, role=Role.MEMBER))
    digest_b = render(ask(ctx, "/digest 2022-04-03", group=True, chat=B, role=Role.MEMBER))
    assert GANNAN_TITLE in digest_a and GANNAN_TITLE in digest_b
    assert "【普惠金融】" not in digest_a and "【普惠金融】" in digest_b
    exported_a = topics_toml(current_topics(ctx.config, A))
    assert '[topics."普惠金融"]' not in exported_a
    assert '[topics."普惠金融"]' in topics_toml(current_topics(ctx.config, B))
    assert '[topics."普惠金融"]' in topics_toml(current_topics(ctx.config))


def test_the_audit_says_the_scope_and_a_group_admin_sees_only_their_group(ctx: Context) -> None:
    ask(ctx, "/addkw 上市 敲钟", group=True, chat=A, role=GROUP_ADMIN)
    ask(ctx, "/addkw 全局 绿色金融 碳排放权")
    ask(ctx, "/addkw 上市 递表", group=True, chat=B, role=GROUP_ADMIN)
    everything = text(ask(ctx, "/audit"))
    assert "主题“绿色金融”（全局）" in everything and everything.count("（本群）") == 2
    mine = text(ask(ctx, "/audit", group=True, chat=A, role=GROUP_ADMIN))
    assert "敲钟" in mine and "递表" not in mine and "碳排放权" not in mine
    assert text(ask(ctx, "/audit", group=True, chat=A, role=Role.MEMBER)) == "只有管理员可以使用这个命令。"
