"""``finews-bot robots [--json] [--test NAME]``: the group robots' state, or a test message to one.

The test message goes straight to the robot (not through the outbox), so that an admin who has
just set the webhook and secret sees at once whether the platform accepts them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli.base import ExitCode, UsageError, print_json
from bot.config import Config
from bot.delivery.channels import SendError
from bot.delivery.robot_status import robot_json, robot_lines, robots_overview
from bot.delivery.robots import RobotChannel
from bot.store import Store
from bot.texts import robots as T
from digests.render_robots import test_message


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--test", metavar="NAME", help="send a short test message to the robot NAME")


def run(config: Config, args: argparse.Namespace) -> ExitCode:
    """List the robots with their state, or send one of them a test message."""
    if args.test is not None:
        return send_test(config, args.test)
    store = Store.open_existing(config.database)
    try:
        overview = robots_overview(config, store)
    finally:
        if store is not None:
            store.close()
    if args.json:
        print_json({"robots": [robot_json(s) for s in overview]})
        return ExitCode.OK
    if not overview:
        print(T.NONE)
        return ExitCode.OK
    print(T.HEADER)
    for status in overview:
        for line in robot_lines(status, config.timezone):
            print(line)
    return ExitCode.OK


def send_test(config: Config, name: str) -> ExitCode:
    """Send the test message to the robot ``name``; exit 1 with the platform's answer if refused."""
    robot = config.robot(name)
    if robot is None:
        names = "、".join(r.name for r in config.robots) or "（无）"
        raise UsageError(T.UNKNOWN.format(name=name, names=names))

    async def send() -> None:
        channel = RobotChannel([robot])
        try:
            await channel.post(robot, test_message(robot.platform, T.TEST_MESSAGE.format(name=robot.name)))
        finally:
            await channel.aclose()

    try:
        asyncio.run(send())
    except SendError as error:
        print(T.TEST_FAILED.format(name=robot.name, error=error.detail), file=sys.stderr)
        return ExitCode.NOTHING
    print(T.TEST_SENT.format(name=robot.name, platform=T.PLATFORMS[robot.platform.value]))
    return ExitCode.OK
