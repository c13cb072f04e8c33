"""``finews-bot import [PATH…]``: posts and office documents from files or folders into the store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.base import ExitCode, UsageError
from bot.config import Config
from bot.ingest.importer import ImportReport, count_files, discover, import_files
from bot.store import Store
from bot.texts import cli as texts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders (recursive); none: the configured folder sources",
    )


def run(config: Config, args: argparse.Namespace) -> ExitCode:
    """Import the given paths, or every enabled folder source of the config."""
    if args.paths:
        paths = [Path(p) for p in args.paths]
        for path in paths:
            if not path.exists():
                raise UsageError(texts.IMPORT_MISSING_PATH.format(path=path))
        jobs = [("", paths)]
    else:
        folders = [s for s in config.sources if s.kind == "folder" and s.enabled]
        if not folders:
            raise UsageError(texts.IMPORT_NO_SOURCES)
        jobs = [(s.name, [s.path]) for s in folders if s.path is not None]
    from tqdm import tqdm  # only this command draws a progress bar

    with Store(config.database) as store:
        for via, paths in jobs:
            if via:
                print(texts.IMPORT_SOURCE.format(name=via, path=paths[0]), file=sys.stderr)
            on_terminal = sys.stderr.isatty()
            # The bar's total costs one more walk of the folders, only worth it when someone watches;
            # the import itself streams the files, never listing them all at once.
            total = count_files(paths) if on_terminal else None
            with tqdm(total=total, unit="file", disable=not on_terminal, leave=False) as bar:
                report = import_files(store, discover(paths), via=via, progress=bar.update)
            print_import_report(report)
    return ExitCode.OK


def print_import_report(report: ImportReport) -> None:
    """The import summary, each skipped file with its reason."""
    print(
        texts.IMPORT_SUMMARY.format(
            new=report.new, updated=report.updated, unchanged=report.unchanged, skipped=len(report.skipped)
        )
    )
    print_skipped(report)


def print_skipped(report: ImportReport) -> None:
    """Each skipped file with its reason, one line each."""
    for skipped in report.skipped:
        print(texts.IMPORT_SKIPPED.format(path=skipped.path, reason=skipped.reason))
