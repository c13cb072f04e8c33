"""The ``finews-bot`` command line: one module per command, each loaded only when it runs.

Each command module has ``add_arguments(parser)`` and ``run(config, args) -> ExitCode``; the table
below gives its name, its module and its one-line help. Only the module of the command being run
is imported, so ``finews-bot latest`` never loads the scheduler, the HTTP client or a chat
platform. Exit codes are :class:`bot.cli.base.ExitCode`; errors are one line on stderr, never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from bot.cli.base import ExitCode, UsageError, error_line
from bot.config import ConfigError, load_config

log = logging.getLogger(__name__)

# name → (module in bot.cli, help): the order is the order of `finews-bot --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "import": ("importing", "import finews posts and office documents from files or folders"),
    "latest": ("latest", "newest items containing every keyword"),
    "topic": ("topic", "newest items matching any keyword of a configured topic"),
    "topics": ("topics", "the configured topics and their keywords"),
    "fetch": ("fetch", "poll the configured sources once and report per source"),
    "digest": ("digest", "build a day's digest: write its files, print it, or --send it to subscribers"),
    "chat": ("chat", "use the chat commands (/latest, /topic, /subscribe …) in this terminal"),
    "run": ("run", "the service: poll every source on its schedule until stopped"),
    "status": ("status", "config, database, and each source's health and items"),
    "robots": (
        "robots",
        "the WeCom/DingTalk/Feishu group robots' state, or --test NAME to send a test message",
    ),
}


def command_module(name: str) -> ModuleType:
    """The module that implements the command ``name``."""
    return importlib.import_module(f"bot.cli.{COMMANDS[name][0]}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; its help texts are the CLI reference.

    With ``only``, just that command's arguments are defined (the others are listed by name and
    help), so that only its module is imported; ``only=""`` defines none (``finews-bot --help``).
    """
    parser = argparse.ArgumentParser(
        prog="finews-bot",
        description="finews-bot：为金融办收集、检索财经新闻。Keeps finance offices informed.",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $FINEWS_CONFIG, ./config.toml, else the bundled config.example.toml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        subparser = commands.add_parser(name, help=help_text)
        if only is None or name == only:
            command_module(name).add_arguments(subparser)
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (the first word that is not an option or its value)."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_command_word(arguments) or "").parse_args(arguments)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Request URLs can carry secrets (a bot token, a feed key): httpx logs them at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        config = load_config(args.config)
        log.debug("config: %s (%s)", config.path, config.origin)
        return int(command_module(args.command).run(config, args))
    except (ConfigError, UsageError) as error:
        error_line(str(error))
        return ExitCode.USAGE
    except KeyboardInterrupt:
        error_line("已中断 (interrupted)")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: nothing left to say to it.
        sys.stderr.close()
        return ExitCode.OK
