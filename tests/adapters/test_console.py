"""`finews-bot chat` as a real process, `topics --export` round trips, and the README's command list."""

from __future__ import annotations

import builtins
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleChat, render, run_interactive
from bot.cli import main
from bot.cli.topics import current_topics, topics_toml
from bot.config import load_config
from bot.domain.models import AuditEntry, Topic
from bot.store import Store
from bot.texts import cli as texts
from handlers.commands import COMMANDS
from handlers.permissions import Role
from handlers.request import Reply
from tests.helpers.chat import NOW, ZHUZHOU_TITLE, import_seeds, make_context, seeded_config
from tests.helpers.paths import REPO


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A database of the seeds in a folder of its own."""
    path = tmp_path / "data" / "finews.db"
    with Store(path) as store:
        import_seeds(store)
    return path


def chat(workdir: Path, database: Path | None, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot chat` with commands on its standard input (not a terminal)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")}
    if database is not None:
        env["FINEWS_DB"] = str(database)
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=workdir,
        env=env,
        timeout=120,
    )


def test_chat_reads_commands_from_stdin_and_prints_each_reply(tmp_path: Path, database: Path) -> None:
    script = "\n".join(
        ["/latest 株洲", "# a comment", "", "株洲", "/latest 金融 2", ":1", ":9", "/frobnicate"]
    )
    done = chat(tmp_path, database, script + "\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    zhuzhou = "“株洲”共 1 条，第 1/1 页\n\n1. " + ZHUZHOU_TITLE
    zhuzhou += " <http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202112292229199167>"
    assert out.startswith(zhuzhou)
    assert out.count(zhuzhou) == 2  # a line without a slash is the same search
    expected_in_order = [
        "“金融”共 5 条，第 1/3 页",
        "[1] 下一页 — 输入 :1\n\n",
        "“金融”共 5 条，第 2/3 页",
        "[1] 上一页  [2] 下一页 — 输入 :1 或 :2\n\n",
        "没有这个选项：:9\n\n",
        "未知命令 /frobnicate，发送 /help 查看可用命令。\n\n",
    ]
    position = 0
    for expected in expected_in_order:
        found = out.find(expected, position)
        assert found >= 0, (expected, out[position:])
        position = found + len(expected)
    assert position == len(out)  # nothing after the last reply; comments and blank lines answer nothing


def test_chat_as_admin_edits_topics_and_as_member_is_refused(tmp_path: Path, database: Path) -> None:
    done = chat(tmp_path, database, "/addkw 绿色金融 株洲\n/digest 2021-12-29\n", "--user", "李科长")
    assert done.returncode == 0, done.stderr
    assert "已为主题“绿色金融”添加关键词：株洲" in done.stdout
    # The digest is rendered as console text after its header line.
    assert (
        "2021-12-29 日报（全部主题）：\n金融要闻 2021-12-29" in done.stdout and ZHUZHOU_TITLE in done.stdout
    )
    with Store(database) as store:
        (entry,) = store.audit_entries()
    assert (entry.user_name, entry.chat, entry.action) == ("李科长", "console", "add_keyword")
    done = chat(
        tmp_path, database, "/delkw 绿色金融 株洲\n/subscribe\n", "--member", "--group", "--chat", "g1"
    )
    assert done.returncode == 0
    assert done.stdout == "只有管理员可以使用这个命令。\n\n只有管理员可以更改本群的订阅。\n\n"


def test_chat_without_a_database_says_to_import_first(tmp_path: Path) -> None:
    done = chat(tmp_path, tmp_path / "missing.db", "/latest 株洲\n")
    assert done.returncode == 1 and done.stdout == ""
    assert texts.NOTHING_IMPORTED in done.stderr
    assert not (tmp_path / "missing.db").exists()


def test_the_interactive_console_prompts_and_ends_cleanly(
    tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = seeded_config(database.parent.parent)
    with Store(database) as store:
        console = ConsoleChat(
            make_context(config, store), user="op", chat="console", group=False, role=Role.ADMIN
        )
        for ending in (EOFError, KeyboardInterrupt):
            lines: Iterator[str] = iter(["/latest 株洲", "  "])
            prompts: list[str] = []

            def fake_input(
                prompt: str, lines: Iterator[str] = lines, ending: type = ending, prompts: list[str] = prompts
            ) -> str:
                prompts.append(prompt)
                line = next(lines, None)
                if line is None:
                    raise ending
                return line

            monkeypatch.setattr(builtins, "input", fake_input)
            out = io.StringIO()
            assert run_interactive(console, out) == 0
            assert prompts == ["finews> "] * 3
            shown = out.getvalue()
            assert shown.startswith("finews-bot 控制台") and ZHUZHOU_TITLE in shown and shown.endswith("\n\n")
        monkeypatch.setattr(builtins, "input", lambda prompt: ":q")
        assert run_interactive(console, io.StringIO()) == 0


def test_render_shows_buttons_as_numbered_choices(tmp_path: Path, database: Path) -> None:
    config = seeded_config(database.parent.parent)
    with Store(database) as store:
        console = ConsoleChat(
            make_context(config, store), user="op", chat="console", group=False, role=Role.ADMIN
        )
        first = console.answer("/latest 金融 1")
        second = console.answer(":1")
    assert first is not None and first.endswith("[1] 下一页 — 输入 :1")
    assert second is not None and second.startswith("“金融”共 5 条，第 2/5 页")
    assert render(Reply(())) == ""


def test_feedback_buttons_are_numbered_choices_in_the_console(tmp_path: Path, database: Path) -> None:

    with Store(database) as store:
        config = load_config(environ={"FINEWS_DB": str(database)}, cwd=tmp_path)
        console = ConsoleChat(
            make_context(config, store), user="op", chat="console", group=False, role=Role.ADMIN
        )
        console.answer("/newtopic 株洲 株洲")
        console.answer("/topic 株洲")
        why = console.answer("/why 1") or ""
        assert why.endswith("[1] 不相关：株洲 — 输入 :1")
        proposals = console.answer(":1") or ""
        assert "方案 1：" in proposals and "[1] 采用方案 1" in proposals
        adopted = console.answer(":1") or ""
        assert adopted.startswith("已采用方案 1：") and "如需撤销" in adopted
        assert store.audit_entries(1)[0].action == "feedback"


# --- topics --export -----------------------------------------------------------------------------


def _edit_topics(store: Store) -> None:
    entry = AuditEntry(NOW, "u1", "张处长", "console", "new_topic", "债券", None, None)
    store.save_topic_edit(
        "债券",
        Topic(
            name="债券",
            keywords=("债券", "城投债", "银行 贷款"),
            description='地方债与"城投"债',
            exclude=("招聘",),
            not_in=("国债期货",),
            require=("发行",),
            sources=("zhuzhouribao",),
            exclude_sources=("spam",),
            weights={"城投债": 2.5},
            title_keywords=("专项债",),
            near={"城投债": ("发行", "融资"), "专项债": ("地方",)},
            near_window=6,
            min_score=1.5,
        ),
        entry,
    )
    store.save_topic_edit("科技金融", None, entry)


def test_export_round_trips_through_load_config(
    tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(database) as store:
        _edit_topics(store)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FINEWS_CONFIG", raising=False)
    monkeypatch.setenv("FINEWS_DB", str(database))
    config = load_config()
    expected = current_topics(config)
    assert "债券" in expected and "科技金融" not in expected and "上市" in expected

    target = tmp_path / "topics.toml"
    assert main(["topics", "--export", str(target)]) == 0
    assert f"已导出 {len(expected)} 个主题到 {target}" in capsys.readouterr().err
    exported = target.read_text(encoding="utf-8")
    assert '[topics."债券"]' in exported and '[topics."上市"]' in exported
    assert 'title_keywords = [\n    "专项债",\n]' in exported or 'title_keywords = ["专项债"]' in exported
    assert "min_score = 1.5" in exported and "near_window = 6" in exported
    assert dict(load_config(str(target), environ={}).topics) == expected

    assert main(["topics", "--export"]) == 0
    assert capsys.readouterr().out == exported  # the same document on stdout


def test_export_without_a_database_is_the_config_file_topics(tmp_path: Path) -> None:
    config = load_config(environ={"FINEWS_DB": str(tmp_path / "none.db")}, cwd=tmp_path)
    assert current_topics(config) == dict(config.topics)
    target = tmp_path / "t.toml"
    target.write_text(topics_toml(current_topics(config)), encoding="utf-8")
    assert dict(load_config(str(target), environ={}).topics) == dict(config.topics)
    assert not (tmp_path / "none.db").exists()


def test_export_refuses_to_overwrite_the_config_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text('[topics."上市"]\nkeywords = ["上市"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FINEWS_DB", str(tmp_path / "none.db"))
    before = config_file.read_text(encoding="utf-8")
    assert main(["--config", str(config_file), "topics", "--export", "config.toml"]) == 2
    assert "不能导出到正在使用的配置文件" in capsys.readouterr().err
    assert config_file.read_text(encoding="utf-8") == before


# --- the README ----------------------------------------------------------------------------------


def test_readme_mentions_every_chat_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [c.name for c in COMMANDS if f"/{c.name}" not in readme]
    assert not missing, f"README.md does not mention: {', '.join('/' + m for m in missing)}"


def test_readme_command_table_is_generated_from_the_command_table() -> None:
    from handlers.command_docs import commands_markdown

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert commands_markdown() in readme, "README is stale: run python -m handlers.command_docs"


def test_every_role_can_be_tried_in_the_console_and_groups_keep_their_topics_apart(
    tmp_path: Path, database: Path
) -> None:
    group_admin = ("--chat", "A", "--group", "--role", "group-admin")
    script = "/addkw 上市 敲钟\n/deltopic 金融风险\n/addkw 全局 上市 敲钟\n"
    done = chat(tmp_path, database, script, *group_admin)
    assert done.returncode == 0, done.stderr
    replies = done.stdout.split("\n\n")
    assert replies[0].startswith("已为主题“上市”添加关键词：敲钟（本群）")
    assert replies[1].startswith("已删除主题“金融风险”（本群）。")
    assert "只有配置的管理员可以修改全局主题" in done.stdout
    member = chat(tmp_path, database, "/addkw 上市 敲钟\n", "--chat", "B", "--group", "--role", "member")
    assert member.stdout == "只有管理员可以使用这个命令。\n\n"
    alias = chat(tmp_path, database, "/addkw 上市 敲钟\n", "--chat", "B", "--group", "--member")
    assert alias.stdout == member.stdout
    in_b = chat(tmp_path, database, "/topics\n", "--chat", "B", "--group", "--role", "member").stdout
    assert "敲钟" not in in_b and "【金融风险】" in in_b
    env = {**os.environ, "FINEWS_DB": str(database), "PYTHONPATH": str(REPO)}
    run = [sys.executable, "-m", "bot"]
    global_topic = subprocess.run(
        [*run, "topics", "--json"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert "敲钟" not in global_topic.stdout and '"金融风险"' in global_topic.stdout
    export_a = subprocess.run(
        [*run, "topics", "--export", "--chat", "A"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert "敲钟" in export_a.stdout and '[topics."金融风险"]' not in export_a.stdout
