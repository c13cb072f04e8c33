"""The finews-bot command line, as a user runs it: exit codes, messages, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from tests.helpers.paths import CORPUS, REPO, SEEDS, corpus_available


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder with no config: the embedded default applies."""
    monkeypatch.chdir(tmp_path)
    for name in ("FINEWS_CONFIG", "FINEWS_DB", "FINEWS_DIGEST_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def imported(workdir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, out, _ = run(capsys, "import")
    assert code == 0, out
    return workdir


def test_import_without_paths_imports_the_configured_seeds(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "import")
    assert code == 0
    assert "新增 5 条" in out and "跳过 0 个文件" in out
    assert "seeds" in err
    assert (workdir / "data" / "finews.db").is_file()
    code, out, _ = run(capsys, "import")
    assert "新增 0 条" in out and "未变 5 条" in out


def test_latest_zhuzhou_answers_with_the_zhuzhou_daily_story(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "latest", "株洲")
    assert code == 0
    assert "为高质量发展注入澎湃金融动能" in out
    assert "株洲日报新闻" in out
    assert "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202112292229199167" in out


def test_latest_json(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "latest", "株洲", "--json")
    data = json.loads(out)
    assert code == 0 and data["query"] == "株洲" and data["total"] == 1
    (item,) = data["items"]
    assert set(item) == {"id", "title", "published", "source", "source_name", "origin", "url", "snippet"}
    assert item["id"] == "NW202112292229199167"
    assert item["published"] == "2021-12-29T07:52:46+08:00"
    assert item["origin"] == "株洲日报"
    assert "株洲" in item["snippet"]


def test_topic_shangshi(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "topic", "上市", "--json", "-n", "2")
    data = json.loads(out)
    assert code == 0 and data["topic"] == "上市" and "IPO" in data["keywords"]
    assert data["total"] >= 3 and len(data["items"]) == 2
    code, out, _ = run(capsys, "topic", "上市")
    assert code == 0 and "主题“上市”" in out and "为高质量发展注入澎湃金融动能" in out
    assert "正文仅提及一次" not in out and not any(i["in_passing"] for i in data["items"])


def test_topic_marks_a_passing_mention(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The office document names 科技金融 once, in a long body; the others say more of it.
    code, out, _ = run(capsys, "topic", "科技金融", "--json")
    passing = {i["title"][:8]: i["in_passing"] for i in json.loads(out)["items"]}
    assert code == 0 and passing == {
        "金融是现代经济的": True,
        "2022年全市金": False,
        "凝聚金融力量 加": False,
    }
    code, out, _ = run(capsys, "topic", "科技金融")
    assert out.count("正文仅提及一次") == 1
    assert out.index("正文仅提及一次") < out.index("2022年全市金融工作总结")


def test_unknown_topic_suggests_names_and_offers_keyword_results(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "topic", "上市公司")
    assert code == 1
    assert "没有名为“上市公司”的主题" in out and "上市" in out.splitlines()[1]
    assert "以下是关键词“上市公司”的搜索结果" in out
    code, out, _ = run(capsys, "topic", "上市公司", "--json")
    data = json.loads(out)
    assert data["error"] == "unknown topic" and data["suggestions"][0] == "上市"
    assert data["keyword_results"]["total"] >= 1


def test_topics_and_status(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "topics", "--json")
    names = [t["name"] for t in json.loads(out)["topics"]]
    assert code == 0 and "上市" in names and "普惠金融" in names
    code, out, _ = run(capsys, "status", "--json")
    data = json.loads(out)
    assert code == 0 and data["items"] == 5 and data["config_origin"] == "embedded default"
    assert data["config"].endswith("config.example.toml")
    assert data["sources"][0]["name"] == "seeds" and data["sources"][0]["items"] == 5
    code, out, _ = run(capsys, "status")
    assert "内置默认配置" in out and "seeds" in out


def test_no_database_yet(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["latest", "株洲"], ["topic", "上市"]):
        code, out, err = run(capsys, *command)
        assert code == 1 and out == ""
        assert "尚未导入" in err and "finews-bot import" in err
    assert not (workdir / "data").exists(), "a query must not create an empty database"
    code, out, _ = run(capsys, "status", "--json")
    assert code == 0 and json.loads(out)["database_exists"] is False


@pytest.mark.parametrize(
    "query",
    ['" AND (', "*", "NEAR", "OR", "😀", "株洲😀", "x" * 1000, "株" * 1000, "'; DROP TABLE items; --", "\\"],
)
def test_hostile_queries_never_fail(imported: Path, capsys: pytest.CaptureFixture[str], query: str) -> None:
    code, out, err = run(capsys, "latest", query, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["total"] >= 0
    assert run(capsys, "latest", "株洲")[0] == 0  # the database is intact


def test_an_empty_query_is_a_usage_error(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "latest", "  ")
    assert code == 2 and "请输入至少一个关键词" in err


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1"])
def test_bad_limits(imported: Path, capsys: pytest.CaptureFixture[str], limit: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["latest", "株洲", "-n", limit])
    assert caught.value.code == 2
    assert "expected a whole number from 1 to 100" in capsys.readouterr().err


def test_import_reports_skipped_files_and_carries_on(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = workdir / "in"
    folder.mkdir()
    (folder / "empty.md").write_bytes(b"")
    (folder / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (folder / "truncated.md").write_text('---\ntitle: "半截"\ndate: 2021-12-08', encoding="utf-8")
    (folder / "gbk.txt").write_bytes("关于普惠金融的工作报告\n今年普惠金融贷款增长。".encode("gbk"))
    (folder / "good.md").write_bytes((SEEDS / "2021-12-29-NW202112292229199167.md").read_bytes())
    (folder / "ignored.jpg").write_bytes(b"\xff\xd8")
    code, out, _ = run(capsys, "import", str(folder))
    assert code == 0
    assert "新增 2 条" in out and "跳过 3 个文件" in out
    for name in ("empty.md", "binary.md", "truncated.md"):
        assert any(name in line for line in out.splitlines() if line.startswith("  跳过")), name
    assert "ignored.jpg" not in out
    code, out, _ = run(capsys, "latest", "普惠金融", "--json")
    assert json.loads(out)["total"] == 1


def test_import_of_a_missing_path_is_a_usage_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "import", str(workdir / "nope"))
    assert code == 2 and "找不到文件或文件夹" in err


def test_the_same_post_in_two_folders_is_stored_once(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not corpus_available():
        pytest.skip(f"the finews corpus is not at {CORPUS}")
    code, out, _ = run(capsys, "import", str(CORPUS), str(SEEDS))
    assert code == 0
    # 156 corpus files hold 151 posts; one seed is also a corpus post; four seeds are new.
    assert "新增 155 条" in out and "未变 6 条" in out and "跳过 1 个文件" in out
    assert "MANIFEST.md" in out  # Markdown without front matter is not news
    for navigation in ("返回首页", "返回东财滚动新闻", "finews", "withounder", "eastmoney.com"):
        code, out, _ = run(capsys, "latest", navigation, "--json")
        assert json.loads(out)["total"] == 0, f"{navigation} must not be searchable"


def test_a_bad_config_is_one_line_and_exit_2(workdir: Path) -> None:
    (workdir / "config.toml").write_text("[[sources]]\nname = 1\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "status"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "config.toml: sources[0].name: expected a string, got an integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_script_and_python_m_bot_agree(imported: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = Path(sys.executable).parent / "finews-bot"
    commands = [[sys.executable, "-m", "bot", "latest", "株洲", "--json"]]
    if script.exists():
        commands.append([str(script), "latest", "株洲", "--json"])
    outputs = {
        subprocess.run(c, cwd=imported, capture_output=True, text=True, env=env, check=True).stdout
        for c in commands
    }
    assert len(outputs) == 1 and json.loads(outputs.pop())["total"] == 1


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name in subparsers.choices:  # type: ignore[union-attr]
        assert f"finews-bot {name}" in readme, f"README does not document `finews-bot {name}`"


def test_fetch_polls_the_configured_sources_once(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "fetch", "--json")
    assert code == 0
    (seeds,) = json.loads(out)["sources"]
    assert seeds["name"] == "seeds" and seeds["new"] == 5 and seeds["error"] is None
    code, out, _ = run(capsys, "fetch")
    assert code == 0 and "seeds（folder）：新增 0，更新 0，未变 0" in out  # nothing re-read
    code, out, _ = run(capsys, "status", "--json")
    (state,) = json.loads(out)["sources"]
    assert state["state"] == "ok" and state["items"] == 5 and state["last_success"]


def test_fetch_of_an_unknown_source_names_the_configured_ones(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "fetch", "人民银行")
    assert code == 2 and "没有名为 人民银行 的来源" in err and "seeds" in err


def test_a_failing_source_is_reported_and_fetch_still_completes(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "config.toml").write_text(
        '[[sources]]\nname = "gone"\nkind = "folder"\npath = "missing"\n'
        f'[[sources]]\nname = "seeds"\nkind = "folder"\npath = "{SEEDS}"\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "fetch")
    assert code == 0
    assert "gone（folder）：失败：文件夹不存在" in out and "下次尝试" in out
    assert "seeds（folder）：新增 5" in out
    code, out, _ = run(capsys, "status")
    assert "gone（folder，每 10m）：失败" in out and "最近错误：文件夹不存在" in out


def test_help_is_as_wide_as_the_terminal_says(monkeypatch: pytest.MonkeyPatch) -> None:
    # The help formatter sizes itself as shutil.get_terminal_size() would ($COLUMNS first).
    monkeypatch.setenv("COLUMNS", "50")
    narrow = build_parser("").format_help()
    monkeypatch.setenv("COLUMNS", "200")
    wide = build_parser("").format_help()
    assert max(len(line) for line in narrow.splitlines()) <= 50
    assert max(len(line) for line in wide.splitlines()) > 50


def test_topics_show_export_and_apply_negative_near_words(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = f'database = "d.db"\n[[sources]]\nname = "seeds"\nkind = "folder"\npath = "{SEEDS}"\n'
    config += '[topics."租赁"]\nkeywords = ["融资租赁"]\n'
    (workdir / "plain.toml").write_text(config, encoding="utf-8")
    (workdir / "c.toml").write_text(
        config + '[topics."租赁".not_near]\n"融资租赁" = ["典当"]\n', encoding="utf-8"
    )
    assert run(capsys, "--config", "c.toml", "import")[0] == 0
    code, out, _ = run(capsys, "--config", "c.toml", "topics")
    assert code == 0 and "排除邻近词（前后 10 字内有其一则不算）：融资租赁——典当" in out
    code, out, _ = run(capsys, "--config", "c.toml", "topics", "--json")
    assert json.loads(out)["topics"][0]["not_near"] == {"融资租赁": ["典当"]}
    code, out, _ = run(capsys, "--config", "c.toml", "topics", "--export")
    assert '[topics."租赁".not_near]' in out and '"融资租赁" = [' in out
    # The seeds name 融资租赁 once, in the office report, right after 典当行.
    assert json.loads(run(capsys, "--config", "plain.toml", "topic", "租赁", "--json")[1])["total"] == 1
    assert json.loads(run(capsys, "--config", "c.toml", "topic", "租赁", "--json")[1])["total"] == 0
