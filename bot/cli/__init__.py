"""`eocic-desk`: the command line. Each command is a thin wrapper around handlers.

The parser is built from `FEATURES`, the feature modules in the order their commands are listed;
each has a `register(subparsers)` that adds its commands (with `add_command` / `add_group` from
common). A feature module imports nothing heavy at the top: a command imports what it needs when it
runs, so that `eocic-desk --help` loads only argparse, and the read-only commands (`tickets`,
`ticket`) only the settings and sqlite3 (`answer_read`). The settings are pydantic-settings' (about
half of those commands' 0.2 s): every setting is checked, and a wrong one named, as for every
command. A command returns its exit code, or a coroutine that main() runs in asyncio.
"""

from __future__ import annotations

import argparse
import logging
import sys
from types import CoroutineType

from bot.cli import classifier, desk, lists, reports, slack, surveys, tickets, webinars

FEATURES = (desk, tickets, surveys, lists, webinars, slack, reports, classifier)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eocic-desk", description="EOCIC Service Desk")
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for feature in FEATURES:
        feature.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from config.settings import SettingsError, load_settings  # after parsing: `--help` and a usage error need none

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"eocic-desk: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else getattr(logging, settings.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "mail.log", "apscheduler"):  # library chatter, not the desk's own log
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        result = args.func(settings, args)
        return _run(result) if isinstance(result, CoroutineType) else result
    except SettingsError as exc:
        print(f"eocic-desk: configuration error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"eocic-desk: {exc}", file=sys.stderr)
        return 1


def _run(command) -> int:
    """A command's coroutine run to its exit code; a start-up error (the desk could not open) is one line."""
    import asyncio

    from bot.startup import StartupError

    try:
        return asyncio.run(command)
    except StartupError as exc:
        print(f"eocic-desk: {exc}", file=sys.stderr)
        return 1
