"""``finews-bot fetch [NAME…] [--json]``: poll the configured sources once, whatever their schedule."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from bot.cli.base import ExitCode, UsageError, local_minute, print_json
from bot.cli.importing import print_skipped
from bot.config import Config, SourceConfig
from bot.ingest.poller import Poller, PollReport, due_sources
from bot.texts import cli as texts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these sources (default: all enabled)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _selected_sources(config: Config, names: Sequence[str]) -> list[SourceConfig]:
    if not names:
        return due_sources(config)
    by_name = {s.name: s for s in config.sources}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UsageError(
            texts.FETCH_UNKNOWN_SOURCE.format(
                names="、".join(unknown), available="、".join(by_name) or texts.NONE_CONFIGURED
            )
        )
    return [by_name[n] for n in names]


def run(config: Config, args: argparse.Namespace) -> ExitCode:
    """Poll sources once, whatever their schedule, and print what each did."""
    sources = _selected_sources(config, args.names)
    if not sources:
        raise UsageError(texts.FETCH_NO_SOURCES)

    async def poll_once() -> list[PollReport]:
        poller = Poller(config)
        try:
            return await poller.poll_many(sources, force=True)
        finally:
            await poller.aclose()

    reports = asyncio.run(poll_once())
    if args.json:
        print_json({"sources": [poll_report_json(r) for r in reports]})
    else:
        print_poll_reports(reports, config.timezone)
    return ExitCode.OK


def poll_report_json(report: PollReport) -> dict[str, Any]:
    """One source's poll as JSON."""
    return {
        "name": report.source,
        "kind": report.kind,
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "not_modified": report.not_modified,
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
        "rejected": report.rejected,
        "error": report.error or None,
        "warning": report.warning or None,
        "next_attempt": report.next_attempt.isoformat() if report.next_attempt else None,
    }


def print_poll_reports(reports: Sequence[PollReport], zone: tzinfo) -> None:
    """One line per source: what it brought, or why it failed; times in the configured zone."""
    for report in reports:
        if report.error:
            print(texts.FETCH_ERROR.format(name=report.source, kind=report.kind, error=report.error))
            if report.next_attempt:
                print(texts.FETCH_NEXT.format(when=local_minute(report.next_attempt.isoformat(), zone)))
            continue
        extra = ""
        if report.not_modified:
            extra += texts.FETCH_NOT_MODIFIED
        if report.skipped:
            extra += texts.FETCH_SKIPPED.format(n=len(report.skipped))
        if report.rejected:
            extra += texts.FETCH_REJECTED.format(n=report.rejected)
        print(
            texts.FETCH_LINE.format(
                name=report.source,
                kind=report.kind,
                new=report.new,
                updated=report.updated,
                unchanged=report.unchanged,
                extra=extra,
            )
        )
        if report.warning:
            print(texts.FETCH_WARNING.format(warning=report.warning))
        print_skipped(report)
