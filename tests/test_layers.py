"""The floors of the house, kept: each folder imports only from the floors below it.

Floors, lowest first (the README's architecture section draws them):

    bot/domain, bot/texts     pure values and words; import nothing of ours
    bot/processes             worker processes that end with their parent; imports nothing of ours
    digests, bot/sources, bot/config
    bot/store
    bot/ingest, bot/delivery, bot/search
    handlers
    bot/adapters, bot/service
    bot/cli (and the entry points)

:data:`ALLOWED` is the allow-table: for each unit, the units of ours it may import. A chat
platform's library may be imported only by its adapter, the scheduler only by the service, and the
network and feed libraries only where sources are fetched. The check reads every ``import`` in
every module with :mod:`ast`, wherever it stands (a function-level import counts too), so an
upward import fails here however it is written; :func:`test_an_upward_import_is_caught` shows
that it does. Beside the static check, fresh interpreters confirm what importing a module really
loads.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

PACKAGES = ("bot", "handlers", "digests")

# Our units, each a folder or a module; a module belongs to the longest unit naming it.
UNITS = (
    "bot.domain",
    "bot.texts",
    "bot.processes",
    "bot.sources",
    "bot.config",
    "bot.store",
    "bot.ingest",
    "bot.delivery",
    "bot.search",
    "bot.service",
    "bot.adapters",
    "bot.cli",
    "bot.entry",
    "bot.__main__",
    "bot",  # bot/__init__.py
    "handlers",
    "digests",
)

_PURE = {"bot.domain", "bot.texts"}
_CORE = _PURE | {"digests", "bot.sources", "bot.config", "bot.store"}
_ENGINE = _CORE | {"bot.ingest", "bot.delivery", "bot.search"}

ALLOWED: dict[str, set[str]] = {
    "bot.domain": set(),
    "bot.texts": set(),
    "bot.processes": set(),
    "bot": set(),
    # Digests are pure: built from domain values, told in the digest's words (a large day's
    # reprints merged in a worker process of their own).
    "digests": _PURE | {"bot.processes"},
    "bot.sources": {"bot.domain"},
    "bot.config": {"bot.domain"},
    "bot.store": {"bot.domain"},
    "bot.ingest": _PURE | {"bot.processes", "bot.sources", "bot.config", "bot.store"},
    "bot.delivery": _PURE | {"digests", "bot.config", "bot.store"},
    "bot.search": _PURE | {"digests", "bot.store"},
    "handlers": _ENGINE,
    "bot.adapters": _ENGINE | {"handlers"},
    # The service is handed its adapters: it never imports one.
    "bot.service": _ENGINE,
    "bot.cli": _ENGINE | {"handlers", "bot.adapters", "bot.service"},
    "bot.entry": {"bot.cli"},
    "bot.__main__": {"bot.cli"},
}

# Third-party libraries that tie code to a platform, the network or the scheduler, and the only
# units that may import each. Everything else (msgspec, selectolax, ahocorasick_rs…) is free to use.
CHAT_PLATFORMS = ("telegram", "dingtalk_stream", "lark_oapi", "wechatpy", "aibot")
RESTRICTED: dict[str, set[str]] = {
    **{library: {"bot.adapters"} for library in CHAT_PLATFORMS},
    "apscheduler": {"bot.service"},
    "httpx": {"bot.sources", "bot.ingest", "bot.delivery", "bot.adapters"},
    # The WeCom adapter's WebSocket client (its own client of the smart-robot protocol).
    "aiohttp": {"bot.adapters"},
    "feedparser": {"bot.sources"},
}


def unit_of(module: str) -> str | None:
    """The unit a dotted module name of ours belongs to, or None if it is not ours."""
    for unit in UNITS:
        if module == unit or module.startswith(unit + "."):
            return unit
    return None


def module_name(path: Path) -> str:
    """``bot/store/items.py`` → ``bot.store.items``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str) -> Iterator[str]:
    """Every module ``source`` imports, absolute, including ``from X import submodule``."""
    package = module if module.endswith("__init__") else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # `from bot import texts` imports bot.texts: judge the submodule, not the package.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def violations(source: str, module: str) -> list[str]:
    """What ``source`` (the text of ``module``) imports against the allow-table."""
    unit = unit_of(module)
    assert unit is not None, module
    found = []
    for name in dict.fromkeys(imported_names(source, module)):
        target = unit_of(name)
        top = name.split(".")[0]
        if target is not None and name not in PACKAGES:
            if target != unit and target not in ALLOWED[unit]:
                found.append(f"{module} imports {name} ({target} is not below {unit})")
        elif top in RESTRICTED and unit not in RESTRICTED[top]:
            found.append(f"{module} imports {top}, which only {sorted(RESTRICTED[top])} may")
    return found


def our_modules() -> Iterator[tuple[str, Path]]:
    """Every module of ours, with its file."""
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            yield module_name(path), path


def test_every_module_imports_only_from_the_floors_below() -> None:
    problems = [
        problem
        for module, path in our_modules()
        for problem in violations(path.read_text(encoding="utf-8"), module)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("digests.rank", "from bot.store import Store"),  # digests are pure
        ("bot.domain.models", "from digests.values import Digest"),  # domain imports nothing of ours
        ("bot.store.items", "from bot.ingest import poller"),  # the store is below the engine
        ("bot.service", "from bot.adapters.telegram import TelegramAdapter"),  # handed, never imported
        ("handlers.search", "import telegram"),  # a platform library only in its adapter
        ("digests.render", "def f():\n    import httpx\n"),  # a function-level import counts too
        ("bot.search", "from bot import cli"),  # `from package import module`
    ],
)
def test_an_upward_import_is_caught(module: str, source: str) -> None:
    assert violations(source, module)


def test_what_a_floor_may_import_passes() -> None:
    assert not violations(
        "from bot.domain.models import Item\nfrom bot.texts import digest", "digests.render"
    )
    assert not violations("import httpx\nfrom bot.store import Store", "bot.ingest.poller")
    assert not violations(
        "from telegram import Update\nfrom handlers import commands", "bot.adapters.telegram"
    )


def test_every_unit_is_in_the_table() -> None:
    assert set(ALLOWED) == set(UNITS)
    assert {unit_of(module) for module, _ in our_modules()} <= set(UNITS)


# --- what importing really loads, in a fresh interpreter ---------------------------------------

HEAVY = ("telegram", "apscheduler", "httpx", "feedparser")


def modules_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``statement``."""
    code = f"{statement}\nimport sys\nprint(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return set(done.stdout.split())


def test_importing_digests_or_handlers_loads_no_platform_network_or_scheduler_library() -> None:
    modules = [m for m, _ in our_modules() if m.split(".")[0] in ("digests", "handlers")]
    loaded = modules_after("\n".join(f"import {m}" for m in modules))
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)


def test_python_telegram_bot_is_imported_by_one_folder_only() -> None:
    importers = {
        module_name(path).rpartition(".")[0]
        for module, path in our_modules()
        if any(name.split(".")[0] == "telegram" for name in imported_names(path.read_text("utf-8"), module))
    }
    assert importers == {"bot.adapters"}


def test_a_worker_loads_nothing_of_the_store_or_the_bot() -> None:
    loaded = modules_after("import bot.ingest.parse_worker")
    assert not loaded & {*HEAVY, "sqlite_utils", "bot.store", "bot.cli"}


def test_the_command_s_entry_point_loads_the_cli_only_when_called() -> None:
    # A worker re-runs the script that started its parent: the finews-bot script imports bot.entry.
    heavy = {*HEAVY, "sqlite_utils", "bot.store", "bot.cli"}
    assert not modules_after("from bot.entry import main") & heavy
    # (Its early exit after a usage error is turned off here, to look at what was loaded.)
    assert "bot.cli" in modules_after(
        "import bot.entry\nbot.entry._leave = lambda code: None\nbot.entry.main()"
    )


# What a command-line query must not load: the service's libraries, and what only its other paths
# need (msgspec names a mistake in the config, logging is for commands that log, sqlite-utils
# migrates a database, the digest builder and renderers make digests, explanations are for /why).
QUERY_HEAVY = (
    *HEAVY,
    "dingtalk_stream",
    "lark_oapi",
    "aibot",
    "tqdm",
    "sqlite_utils",
    "msgspec",
    "logging",
    "digests.render",
    "digests.build",
    "digests.explain",
)


@pytest.fixture(scope="module")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the seeds, so that a query runs all the way (matcher included)."""
    from bot.ingest.importer import discover, import_files
    from bot.store import Store

    database = tmp_path_factory.mktemp("seeded") / "finews.db"
    with Store(database) as store:
        report = import_files(store, discover([REPO / "seeds"]), workers=0)
    assert report.new == 5
    return database


@pytest.mark.parametrize(
    "argv",
    [
        ["latest", "株洲", "--json"],
        ["topic", "上市"],
        ["status"],
        ["topics"],
        ["--help"],
        ["latest", "--help"],
    ],
)
def test_a_command_line_query_loads_only_what_it_runs(
    argv: list[str], seeded_database: Path, tmp_path: Path
) -> None:
    # A query answers in a fraction of a second only if it never loads the service's libraries.
    code = (
        "import contextlib, sys\nfrom bot.cli import main\n"
        f"with contextlib.suppress(SystemExit): main({argv!r})\n"
        "print('MODULES', ' '.join(sys.modules))"
    )
    env = {**os.environ, "FINEWS_DB": str(seeded_database), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    loaded = set(done.stdout.rpartition("MODULES ")[2].split())
    assert loaded, done.stderr
    assert done.returncode == 0, done.stderr
    assert not {m for m in loaded if m.split(".")[0] in QUERY_HEAVY or m in QUERY_HEAVY}
    if argv[0] in {"latest", "topic", "topics"}:
        # A search reads items and topics only: the service's records (subscriptions, the outbox,
        # sources' state…) are dataclasses it would pay for at start-up, a millisecond each.
        assert not loaded & {"bot.domain.records", "bot.store.full", "bot.store.outbox"}
