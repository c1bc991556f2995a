"""What every `eocic-desk` command shares: adding it to the parser, one transaction on an opened desk
(or one read without opening it, `answer_read`), and one way to print results and errors.

This module imports only the standard library at the top: `eocic-desk --help` loads it.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Awaitable, Callable, Iterable

Work = Callable[[Any, Any], Awaitable[Any]]  # (session, desk) -> result
Read = Callable[[Any], Awaitable[Any]]  # (fetch) -> result, reading through `fetch(sql, params)` (models/sqlite_read.py)
JSON_HELP = "print JSON instead of text"


def add_command(sub, name: str, help: str, func, *, json: bool = False):
    """Add the command `name` running `func(settings, args)`; with `json`, its `--json` option. Returns its parser."""
    parser = sub.add_parser(name, help=help)
    if json:
        parser.add_argument("--json", action="store_true", help=JSON_HELP)
    parser.set_defaults(func=func)
    return parser


def add_group(sub, name: str, help: str, metavar: str = "ACTION"):
    """Add the command `name` whose actions are added to the subparsers returned (`eocic-desk NAME ACTION`)."""
    return sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", required=True, metavar=metavar)


def fail(message: str) -> int:
    """Print one clear error line; the command exits with 1."""
    print(f"eocic-desk: {message}", file=sys.stderr)
    return 1


async def _outcome(result: Awaitable) -> tuple[int, Any]:
    """(0, result), or (1, None) after printing why: an unknown ticket, campaign, list or person
    (LookupError) and a wrong value (ValueError) are the user's mistakes, one line on stderr, not a traceback."""
    from config.settings import SettingsError

    try:
        return 0, await result
    except SettingsError:
        raise  # main() reports it as a configuration error
    except (LookupError, ValueError) as exc:
        return fail(str(exc.args[0] if exc.args else exc)), None


async def in_transaction(settings, work: Work) -> tuple[int, Any]:
    """Run `work(session, desk)` in one transaction on the opened desk (migrated, seeded): see `_outcome`."""
    from bot.desk import opened_desk  # every feature and the database: loaded by the commands that open them, not by --help

    async with opened_desk(settings) as desk:
        async with desk.db.transaction() as session:
            return await _outcome(work(session, desk))


async def in_read(settings, work: Read) -> tuple[int, Any]:
    """Run `work(fetch)` in a read-only transaction (`Database.read`, the rows through `driver_rows`): see `_outcome`.

    When the database already has the newest schema (one SELECT), the desk is not opened: no
    migration, no seeding, none of the features loaded. A new or older database is opened as every
    other command opens it (migrated first).
    """
    from models.db import Database, driver_rows
    from models.migrate import at_newest_schema

    db = Database(settings.db_url)
    try:
        async with db.read() as session:
            if await at_newest_schema(session):
                return await _outcome(work(driver_rows(session)))
    finally:
        await db.dispose()
    return await in_transaction(settings, lambda session, desk: work(driver_rows(session)))


def answer_read(settings, work: Read, show: Callable[[Any], None]):
    """Run `work(fetch)` (see `_outcome`), then `show(result)`; the exit code.

    A SQLite file at the newest schema is read through sqlite3 alone (models/sqlite_read.py), with no
    SQLAlchemy, event loop or desk loaded: the command answers in a fraction of the time those take to
    import. Any other database is read by `in_read`: the coroutine returned then is what main() runs.
    """
    from models.sqlite_read import sqlite_read

    with sqlite_read(settings.db_url) as fetch:
        outcome = _until_done(_outcome(work(fetch))) if fetch else None
    return _shown(outcome, show) if outcome is not None else _read_and_show(settings, work, show)


async def _read_and_show(settings, work: Read, show: Callable[[Any], None]) -> int:
    return _shown(await in_read(settings, work), show)


def _shown(outcome: tuple[int, Any], show: Callable[[Any], None]) -> int:
    code, data = outcome
    if not code:
        show(data)
    return code


def _until_done(coroutine):
    """The result of a coroutine that never waits (its reads are sqlite3 calls): it ends at its first step,
    so no event loop is needed."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("a read through sqlite3 waited for something")


async def run_and_print(settings, args, work, text: Callable[[Any], str]) -> int:
    """`in_transaction(work)`, then its result printed: as JSON with `--json`, else `text(result)`."""
    code, data = await in_transaction(settings, work)
    if not code:
        print_result(data, args.json, "" if args.json else text(data))
    return code


def row_id(text: str) -> int:
    """An argparse type for database ids: a positive whole number that fits a 64-bit column."""
    if not text.isdigit() or len(text) > 18 or int(text) == 0:
        raise ValueError(text)  # argparse turns this into "invalid row_id value: …"
    return int(text)


def print_result(data, as_json: bool, text: str) -> None:
    """`text`, or `data` as JSON: a list one item per line (the C encoder: fast for 50,000 tickets, and greppable;
    one encoder for all items, as `json.dumps` with options builds a new one for each)."""
    if not as_json:
        print(text)
    elif isinstance(data, list):
        print_json_list(map(json.JSONEncoder(ensure_ascii=False, default=str).encode, data))
    else:
        print(json.dumps(data, ensure_ascii=False, indent=1, default=str))


def print_json_list(items: Iterable[str]) -> None:
    """A JSON list of the items' JSON texts, one item per line (written in parts: no copy of 50,000 tickets' text)."""
    sys.stdout.write("[")
    sys.stdout.write(",\n ".join(items))
    sys.stdout.write("]\n")
