"""Configuration: where it is found, how paths resolve, and one clear line for every mistake."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.domain.when import parse_duration
from tests.helpers.paths import REPO


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_embedded_default_when_nothing_is_given(tmp_path: Path) -> None:
    config = load_config(environ={}, cwd=tmp_path)
    assert config.embedded and config.origin == "embedded default"
    assert config.path == (REPO / "config.example.toml").resolve()
    # Data goes below the current folder; the folder source is the bundled seeds.
    assert config.database == tmp_path / "data" / "finews.db"
    assert config.digest_dir == tmp_path / "data" / "digests"
    assert [s.path for s in config.sources] == [(REPO / "seeds").resolve()]
    assert "上市" in config.topics and "IPO" in config.topics["上市"].keywords
    assert str(config.timezone) == "Asia/Shanghai"


def test_search_order_explicit_then_env_then_local(tmp_path: Path) -> None:
    local = write(tmp_path / "config.toml", '[topics."本地"]\nkeywords = ["a"]\n')
    env_file = write(tmp_path / "env.toml", '[topics."环境"]\nkeywords = ["a"]\n')
    explicit = write(tmp_path / "explicit.toml", '[topics."指定"]\nkeywords = ["a"]\n')
    env = {"FINEWS_CONFIG": str(env_file)}
    assert list(load_config(str(explicit), environ=env, cwd=tmp_path).topics) == ["指定"]
    assert list(load_config(None, environ=env, cwd=tmp_path).topics) == ["环境"]
    assert list(load_config(None, environ={}, cwd=tmp_path).topics) == ["本地"]
    assert load_config(None, environ={}, cwd=tmp_path).path == local.resolve()


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = write(
        folder / "c.toml",
        'database = "db/x.db"\ndigest_dir = "out"\n'
        '[[sources]]\nname = "posts"\nkind = "folder"\npath = "../posts"\nevery = "1h30m"\n',
    )
    config = load_config(str(path), environ={}, cwd=tmp_path / "elsewhere")
    assert config.database == folder / "db" / "x.db"
    assert config.digest_dir == folder / "out"
    assert config.sources[0].path == tmp_path / "posts"
    assert config.sources[0].every == timedelta(hours=1, minutes=30)


def test_environment_overrides_database_and_digest_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'database = "a.db"\n')
    env = {"FINEWS_DB": str(tmp_path / "other.db"), "FINEWS_DIGEST_DIR": str(tmp_path / "d")}
    config = load_config(str(path), environ=env, cwd=tmp_path)
    assert config.database == tmp_path / "other.db"
    assert config.digest_dir == tmp_path / "d"


def test_a_feed_source(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[fetch]\nmax_bytes = 1000\nproxy = "http://127.0.0.1:3128"\n'
        '[[sources]]\nname = "人民银行"\nkind = "feed"\nurl = "https://example.test/rss"\ntimeout = 5\n'
        'headers = { Cookie = "a=b" }\nstale_after = "3d"\n',
    )
    config = load_config(str(path), environ={}, cwd=tmp_path)
    (source,) = config.sources
    assert source.kind == "feed" and source.path is None and source.location == "https://example.test/rss"
    assert (
        source.timeout == 5
        and source.headers == {"Cookie": "a=b"}
        and source.stale_after == timedelta(days=3)
    )
    assert config.fetch.max_bytes == 1000 and config.fetch.proxy == "http://127.0.0.1:3128"


def test_only_a_topic_is_a_valid_config(tmp_path: Path) -> None:
    config = load_config(str(write(tmp_path / "c.toml", '[topics."上市"]\nkeywords = ["上市", " IPO "]\n')))
    assert config.sources == ()
    assert config.topics["上市"].keywords == ("上市", "IPO")


def test_an_empty_file_is_valid(tmp_path: Path) -> None:
    config = load_config(str(write(tmp_path / "c.toml", "")), environ={}, cwd=tmp_path)
    assert config.topics == {} and config.sources == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("databse = 'x'\n", "c.toml: unknown key 'databse' (expected one of: database, digest_dir,"),
        ("database = 3\n", "c.toml: database: expected a non-empty string, got 3"),
        ("timezone = 'Mars/Base'\n", "c.toml: timezone: expected an IANA time zone"),
        (
            '[[sources]]\nname = "a"\nkind = "folder"\npath = "p"\nevry = "5m"\n',
            "c.toml: sources[0]: unknown key 'evry' (expected one of: name, kind, path, url, every, enabled,",
        ),
        ('[[sources]]\nname = "a"\nkind = "folder"\n', "c.toml: sources[0]: a folder source needs a path"),
        ('[[sources]]\nkind = "folder"\npath = "p"\n', "c.toml: sources[0]: missing required key 'name'"),
        (
            '[[sources]]\nname = "a"\nkind = "feed"\n',
            "c.toml: sources[0].url: expected an http:// or https:// URL",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "feed"\nurl = "ftp://x/feed"\n',
            "c.toml: sources[0].url: expected an http:// or https:// URL, got 'ftp://x/feed'",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://x/f"\npath = "p"\n',
            "c.toml: sources[0].path: a feed source reads its url, not a path",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "folder"\npath = "p"\nurl = "http://x/f"\n',
            "c.toml: sources[0].url: a folder source reads its path, not a url",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://x/f"\ntimeout = -1\n',
            "c.toml: sources[0].timeout: expected a positive number of seconds",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://x/f"\nheaders = { A = 1 }\n',
            "c.toml: sources[0].headers",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://x/f"\nproxy = "nonsense"\n',
            "c.toml: sources[0].proxy: expected a proxy URL",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://x/f"\nstale_after = "often"\n',
            "c.toml: sources[0].stale_after: expected a duration",
        ),
        ("[fetch]\ntimeuot = 3\n", "c.toml: fetch: unknown key 'timeuot' (expected one of: timeout,"),
        ("[fetch]\nmax_bytes = 0\n", "c.toml: fetch.max_bytes: expected a positive number"),
        ("[fetch]\ntimeout = 'slow'\n", "c.toml: fetch.timeout: expected"),
        (
            '[[sources]]\nname = "a"\nkind = "ftp"\npath = "p"\n',
            "c.toml: sources[0].kind: expected one of folder, feed, got 'ftp'",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "folder"\npath = "p"\nevery = "soon"\n',
            "c.toml: sources[0].every: expected a duration like",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "folder"\npath = "p"\nenabled = "yes"\n',
            "c.toml: sources[0].enabled: expected true or false, got a string",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "folder"\npath = "p"\n' * 2,
            "c.toml: sources: the name 'a' is used twice",
        ),
        ('sources = "x"\n', "c.toml: sources: expected an array of tables"),
        (
            '[topics."上市"]\nkeywords = "上市"\n',
            "c.toml: topics.上市.keywords: expected an array, got a string",
        ),
        ('[topics."上市"]\nkeyword = ["上市"]\n', "c.toml: topics.上市: unknown key 'keyword'"),
        ('[topics."上市"]\nkeywords = []\n', "c.toml: topics.上市.keywords: expected at least one"),
        (
            '[topics."上市"]\nkeywords = [1]\n',
            "c.toml: topics.上市.keywords[0]: expected a string, got an integer",
        ),
        ("[topics.上市]\nkeywords = []\n", 'a Chinese name must be quoted in TOML, e.g. [topics."上市"]'),
        ("database = \n", "c.toml: invalid TOML: "),
        (
            '[topics."上市"]\nkeywords = ["上市"]\nnot_in = "线上市场"\n',
            "c.toml: topics.上市.not_in: expected an array",
        ),
        (
            '[topics."上市"]\nkeywords = ["上市"]\nweights = { IPO = 2 }\n',
            "c.toml: topics.上市.weights: 'IPO' is not one of the topic's keywords",
        ),
        ("[digest]\ntop = 0\n", "c.toml: digest.top: expected 1 to 50 entries per topic, got 0"),
        ("[digest]\ngrace = 'later'\n", 'c.toml: digest.grace: expected a duration like "6h"'),
        ("[digest]\nsend_emtpy = true\n", "c.toml: digest: unknown key 'send_emtpy' (expected one of: top,"),
        (
            '[[subscriptions]]\nchat = "-100"\ntime = "25:61"\n',
            'subscriptions[0].time: expected HH:MM like "08:30"',
        ),
        (
            '[[subscriptions]]\nchat = "-100"\ndays = "sundays"\n',
            "subscriptions[0].days: expected one of daily,",
        ),
        (
            '[[subscriptions]]\nchat = "ops"\n',
            "subscriptions[0].chat: expected a Telegram chat id (a number)",
        ),
        ('[[subscriptions]]\ntime = "08:00"\n', "subscriptions[0]: missing required key 'chat'"),
        (
            '[[subscriptions]]\nchat = 5\n[[subscriptions]]\nchat = "5"\n',
            "subscriptions[1].chat: 5 is subscribed",
        ),
        ("[telegram]\nadmins = ['me']\n", "c.toml: telegram.admins[0]: expected an integer, got a string"),
        ("[telegram]\ntoken = 'x'\n", "c.toml: telegram: unknown key 'token' (expected one of: token_env,"),
        ("[telegram]\napi_url = 'localhost'\n", "c.toml: telegram.api_url: expected an http(s) URL"),
        (
            '[[subscriptions]]\nchat = "-1"\ntopics = ["股票"]\n',
            "subscriptions[0].topics: unknown topic '股票' (topics: none configured)",
        ),
    ],
)
def test_mistakes_are_named_by_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), environ={}, cwd=tmp_path)
    assert str(caught.value).startswith(str(path)) or message.startswith("a Chinese")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found \\(given by --config\\)"):
        load_config(str(tmp_path / "nope.toml"), environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="given by \\$FINEWS_CONFIG"):
        load_config(None, environ={"FINEWS_CONFIG": str(tmp_path / "nope.toml")}, cwd=tmp_path)
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(str(binary), environ={}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "0m", "m", "5 minutes", "-5m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_example_config_documents_every_key() -> None:
    from bot.config.apps import DINGTALK_KEYS, FEISHU_KEYS, WECOM_KEYS
    from bot.config.digest import DIGEST_KEYS, SUBSCRIPTION_KEYS, TOPIC_KEYS
    from bot.config.loading import _TOP_LEVEL
    from bot.config.robots import ROBOT_KEYS
    from bot.config.sources import FETCH_KEYS as _FETCH_KEYS
    from bot.config.sources import SOURCE_KEYS as _SOURCE_KEYS
    from bot.config.telegram import TELEGRAM_KEYS

    example = (REPO / "config.example.toml").read_text(encoding="utf-8")
    for key in _TOP_LEVEL:
        forms = (f"{key} = ", f"[[{key}]]", f"# [[{key}]]", f"[{key}.", f"[{key}]")
        assert any(f"\n{form}" in example for form in forms), key
    for key in (*_FETCH_KEYS, *DIGEST_KEYS, *TELEGRAM_KEYS, *DINGTALK_KEYS, *FEISHU_KEYS, *WECOM_KEYS):
        assert f"\n{key} = " in example or f"\n# {key} = " in example, f"{key} is not in config.example.toml"
    for key in (*_SOURCE_KEYS, *TOPIC_KEYS, *SUBSCRIPTION_KEYS, *ROBOT_KEYS):
        assert f"\n#   {key} " in example, f"{key} is not explained in config.example.toml"


def test_digest_settings_and_subscriptions(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[topics."上市"]\nkeywords = ["上市", "IPO"]\nnot_in = ["线上市场"]\nweights = { IPO = 2 }\n'
        '[digest]\ntop = 3\nsend_empty = false\ngrace = "2h"\npriority = { "人民银行" = 3 }\n'
        '[[subscriptions]]\nchat = -1001\ntopics = ["上市"]\ntime = "7:05"\ndays = "weekdays"\n'
        '[[subscriptions]]\nchat = "console"\n',
    )
    config = load_config(str(path), environ={"FINEWS_TELEGRAM_TOKEN": "1:t"}, cwd=tmp_path)
    topic = config.topics["上市"]
    assert topic.not_in == ("线上市场",) and topic.weight("IPO") == 2 and topic.weight("上市") == 1
    assert config.digest.top == 3 and not config.digest.send_empty
    assert config.digest.grace == timedelta(hours=2) and config.digest.priority == {"人民银行": 3}
    group, console = config.subscriptions
    assert group.chat == "-1001" and group.topics == ("上市",) and group.days == "weekdays"
    assert group.time == time(7, 5)
    assert console.chat == "console" and console.topics == () and console.time == time(8, 30)


def test_telegram_token_and_api_url_come_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[telegram]\ntoken_env = "MY_TOKEN"\nadmins = [42]\n')
    env = {"MY_TOKEN": "123:secret", "FINEWS_TELEGRAM_API_URL": "http://127.0.0.1:9/bot"}
    telegram = load_config(str(path), environ=env, cwd=tmp_path).telegram
    assert telegram.token == "123:secret" and telegram.admins == {"42"}
    assert telegram.api_url == "http://127.0.0.1:9/bot"
    assert telegram.file_url == "http://127.0.0.1:9/file/bot"
    assert "secret" not in repr(telegram)
    assert load_config(str(path), environ={}, cwd=tmp_path).telegram.token is None


def test_the_readme_config_example_is_valid(tmp_path: Path) -> None:
    import re
    import tomllib

    from bot.config import parse_config

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    env = {  # the robots' webhooks and secrets the examples name
        "FINEWS_ROBOT_JRB": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        "FINEWS_ROBOT_DING": "https://oapi.dingtalk.com/robot/send?access_token=t",
        "FINEWS_ROBOT_DING_SECRET": "SECs",
        "FINEWS_TELEGRAM_TOKEN": "1:t",  # a Telegram chat is subscribed
    }
    for block in re.findall(r"```toml\n(.*?)```", readme, re.S):
        parse_config(tomllib.loads(block), path=tmp_path / "config.toml", environ=env)


def test_a_telegram_subscription_without_a_token_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml", '[topics."上市"]\nkeywords = ["上市"]\n[[subscriptions]]\nchat = -1001\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), environ={}, cwd=tmp_path)
    assert "subscriptions[0].chat: -1001 is a Telegram chat, but no bot token is set" in str(caught.value)
    assert "$FINEWS_TELEGRAM_TOKEN" in str(caught.value)
    assert load_config(str(path), environ={"FINEWS_TELEGRAM_TOKEN": "1:t"}, cwd=tmp_path).subscriptions
