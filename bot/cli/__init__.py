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
import os
import sys
from collections.abc import Sequence
from types import ModuleType

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


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized without shutil: argparse makes one for every argument defined,
    and shutil (with the compression modules it loads) is a tenth of a query's start-up."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24) -> None:
        super().__init__(prog, indent_increment, max_help_position, width=_columns() - 2)


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() finds it: $COLUMNS, else stdout's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; its help texts are the CLI reference.

    With ``only``, just that command's arguments are defined (the others are listed by name and
    help), so that only its module is imported; ``only=""`` defines none (``finews-bot --help``).
    """
    parser = argparse.ArgumentParser(
        prog="finews-bot",
        formatter_class=_HelpFormatter,
        description="finews-bot：为金融办收集、检索财经新闻。Keeps finance offices informed.",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $FINEWS_CONFIG, ./config.toml, else the bundled config.example.toml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    # prog given: argparse would otherwise build a help formatter (and load shutil) to work it out.
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", prog=parser.prog)
    for name, (_module, help_text) in COMMANDS.items():
        defined = only is None or name == only
        # A command that is not run needs no -h of its own (argparse translates and formats each).
        subparser = commands.add_parser(
            name, help=help_text, formatter_class=_HelpFormatter, add_help=defined
        )
        if defined:
            command_module(name).add_arguments(subparser)
    return parser


# Commands that read and print, nothing else: once their output is written, the process may end.
READ_ONLY = frozenset({"latest", "topic", "topics", "status"})


def read_only(argv: Sequence[str]) -> bool:
    """Whether ``argv`` runs a command that only reads and prints (see :mod:`bot.entry`)."""
    return _command_word(argv) in READ_ONLY


def _command_word(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (the first word that is not an option or its value)."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def _configure_logging(verbose: bool) -> None:
    """Log lines on stderr, once the command's module is loaded.

    A query (``latest``, ``topic``, ``status``) loads no module that logs: it is spared loading
    the logging package (a tenth of its start-up), and anything it would say at WARNING still
    reaches stderr through logging's last-resort handler.
    """
    if not verbose and "logging" not in sys.modules:
        return
    import logging

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Request URLs can carry secrets (a bot token, a feed key): httpx logs them at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _debug(message: str) -> None:
    import logging

    logging.getLogger(__name__).debug("%s", message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_command_word(arguments) or "").parse_args(arguments)
    # Imported once the arguments are understood: `finews-bot --help` (and a usage error) needs
    # neither the configuration nor the store.
    from bot.cli.base import ExitCode, UsageError, error_line
    from bot.config import ConfigError, load_config

    try:
        command = command_module(args.command)
        _configure_logging(args.verbose)
        config = load_config(args.config)
        if args.verbose:
            _debug(f"config: {config.path} ({config.origin})")
        return int(command.run(config, args))
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
