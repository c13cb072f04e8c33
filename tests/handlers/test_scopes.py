"""Each group its own topics: overlays laid over the global set, edited from chat, and isolation —
one group's edit never changes another group's /topic, digest or export, nor the global set."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.console import render
from bot.cli.topics import current_topics, topics_toml
from handlers.commands import dispatch
from handlers.permissions import Role
from handlers.request import Context
from tests.helpers.chat import GANNAN_TITLE, ask, request, text

A, B = "-1001", "-1002"
GROUP_ADMIN = Role.GROUP_ADMIN


def keywords(ctx: Context, chat: str | None, topic: str = "上市") -> tuple[str, ...]:
    return ctx.digester.topics(chat)[topic].keywords


def test_a_group_admin_changes_only_their_group_s_topics(ctx: Context) -> None:
    shown = text(ask(ctx, "/addkw 上市 路演", group=True, chat=A, role=GROUP_ADMIN))
    assert shown.startswith("已为主题“上市”添加关键词：路演（本群）")
    assert "路演" in keywords(ctx, A)
    assert "路演" not in keywords(ctx, B) and "路演" not in keywords(ctx, None)
    deleted = text(ask(ctx, "/deltopic 金融风险", group=True, chat=A, role=GROUP_ADMIN))
    assert deleted.startswith("已删除主题“金融风险”（本群）。")
    assert "金融风险" not in ctx.digester.topics(A)
    assert "金融风险" in ctx.digester.topics(B) and "金融风险" in ctx.digester.topics()
    topics_a = text(ask(ctx, "/topics", group=True, chat=A, role=Role.MEMBER))
    assert "【上市】（本群已修改）" in topics_a and "本群已隐藏的主题：金融风险" in topics_a
    assert "（本群已修改）" not in text(ask(ctx, "/topics", group=True, chat=B, role=Role.MEMBER))


def test_a_global_change_shows_through_unless_the_group_changed_that_word(ctx: Context) -> None:
    ask(ctx, "/delkw 上市 挂牌", group=True, chat=A, role=GROUP_ADMIN)  # A no longer wants 挂牌
    ask(ctx, "/addkw 全局 上市 路演 借壳")  # an admin adds two words for everyone
    assert {"路演", "借壳"} <= set(keywords(ctx, A)) and "挂牌" not in keywords(ctx, A)
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
    ask(ctx, "/addkw 上市 路演", group=True, chat=A, role=GROUP_ADMIN)
    ask(ctx, "/addkw 全局 绿色金融 可持续挂钩")
    ask(ctx, "/addkw 上市 借壳", group=True, chat=B, role=GROUP_ADMIN)
    everything = text(ask(ctx, "/audit"))
    assert "主题“绿色金融”（全局）" in everything and everything.count("（本群）") == 2
    mine = text(ask(ctx, "/audit", group=True, chat=A, role=GROUP_ADMIN))
    assert "路演" in mine and "借壳" not in mine and "可持续挂钩" not in mine
    assert text(ask(ctx, "/audit", group=True, chat=A, role=Role.MEMBER)) == "只有管理员可以使用这个命令。"


def test_a_group_admin_tunes_the_sense_of_a_word_for_their_group_only(ctx: Context) -> None:
    said = text(ask(ctx, "/addnear 上市 上市 路演", group=True, chat=A, role=GROUP_ADMIN))
    assert said.startswith("已为主题“上市”的“上市”添加邻近词：路演（本群）")
    ask(ctx, "/setminscore 上市 3", group=True, chat=A, role=GROUP_ADMIN)
    ask(ctx, "/setwindow 上市 5", group=True, chat=A, role=GROUP_ADMIN)
    ask(ctx, "/addtitlekw 上市 路演会", group=True, chat=A, role=GROUP_ADMIN)
    said = text(ask(ctx, "/addnotnear 上市 上市 终止", group=True, chat=A, role=GROUP_ADMIN))
    assert said.startswith("已为主题“上市”的“上市”添加排除邻近词：终止（本群）")
    mine, theirs, everyone = (ctx.digester.topics(c)["上市"] for c in (A, B, None))
    assert "路演" in mine.near["上市"] and "路演" not in everyone.near.get("上市", ())
    assert mine.not_near["上市"][-1] == "终止" and "终止" not in everyone.not_near["上市"]
    assert (mine.min_score, mine.near_window, mine.title_keywords[-1]) == (3.0, 5, "路演会")
    assert theirs == everyone
    # A later global change of what the group did not touch still reaches it.
    ask(ctx, "/addexclude 全局 上市 招聘")
    assert "招聘" in ctx.digester.topics(A)["上市"].exclude
    assert "（本群已修改）" in text(ask(ctx, "/topics", group=True, chat=A))
    refused = text(ask(ctx, "/setminscore 全局 上市 3", group=True, chat=A, role=GROUP_ADMIN))
    assert refused.startswith("只有配置的管理员可以修改全局主题")


def test_not_relevant_in_a_group_changes_the_group_s_topic_and_members_cannot(ctx: Context) -> None:
    ask(ctx, "/newtopic 全局 株洲 株洲")
    ask(ctx, "/topic 株洲", group=True, chat=A)
    member_view = ask(ctx, "/why 1", group=True, chat=A, role=Role.MEMBER)
    assert member_view.buttons == () and "/notrelevant" not in text(member_view)
    (marking,) = ask(ctx, "/why 1", group=True, chat=A, role=GROUP_ADMIN).buttons
    proposals = dispatch(ctx, request("", action=marking.action, group=True, chat=A, role=GROUP_ADMIN))
    assert "不属于“株洲”（本群）。" in text(proposals)
    adopt = proposals.buttons[0].action
    pressed_by_member = dispatch(ctx, request("", action=adopt, group=True, chat=A, role=Role.MEMBER))
    assert text(pressed_by_member) == "只有管理员可以使用这个命令。"
    applied = text(dispatch(ctx, request("", action=adopt, group=True, chat=A, role=GROUP_ADMIN)))
    assert applied.startswith("已采用方案 1") and "（本群）" in applied.splitlines()[0]
    assert ctx.digester.topics(A)["株洲"] != ctx.digester.topics(None)["株洲"]
    assert ctx.digester.topics(B)["株洲"] == ctx.digester.topics(None)["株洲"]
    assert ctx.store.audit_entries()[0].scope == A
    assert text(ask(ctx, "/notrelevant 全局 株洲 1", group=True, chat=A, role=GROUP_ADMIN)).startswith(
        "只有配置的管理员可以修改全局主题"
    )
