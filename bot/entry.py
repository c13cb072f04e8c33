"""The ``finews-bot`` command's entry point, which loads the CLI only when it is called.

A large import parses in worker processes started with multiprocessing's "spawn", and each worker
begins by re-running the script that started its parent, for whatever that script defines. Were
the script to import :mod:`bot.cli` at the top, every worker would load the whole bot (Telegram,
HTTP, the scheduler: 66 MiB each instead of about 40).
"""

from __future__ import annotations


def main() -> int:
    """Run the CLI (see :func:`bot.cli.main`)."""
    from bot.cli import main as cli_main

    return cli_main()
