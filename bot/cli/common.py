"""What every `eocic-desk` command shares: one transaction on an opened desk, and one way to report errors."""

from __future__ import annotations

import json
import sys
from typing import Any, Awaitable, Callable

from config.settings import SettingsError

Work = Callable[[Any, Any], Awaitable[Any]]  # (session, desk) -> result


def fail(message: str) -> int:
    """Print one clear error line; the command exits with 1."""
    print(f"eocic-desk: {message}", file=sys.stderr)
    return 1


async def in_transaction(settings, work: Work) -> tuple[int, Any]:
    """Run `work(session, desk)` in one transaction: (0, result), or (1, None) after printing why.

    An unknown ticket, campaign, list or person (LookupError) and a wrong value (ValueError) are the
    user's mistakes: they become one line on stderr, not a traceback.
    """
    from bot.desk import opened_desk  # every feature and the database: loaded by the commands that open them, not by --help

    async with opened_desk(settings) as desk:
        try:
            async with desk.db.transaction() as session:
                return 0, await work(session, desk)
        except SettingsError:
            raise  # main() reports it as a configuration error
        except (LookupError, ValueError) as exc:
            return fail(str(exc.args[0] if exc.args else exc)), None


def row_id(text: str) -> int:
    """An argparse type for database ids: a positive whole number that fits a 64-bit column."""
    if not text.isdigit() or len(text) > 18 or int(text) == 0:
        raise ValueError(text)  # argparse turns this into "invalid row_id value: …"
    return int(text)


def print_result(data, as_json: bool, text: str) -> None:
    """`text`, or `data` as JSON: a list one item per line (the C encoder: fast for 50,000 tickets, and greppable)."""
    if not as_json:
        print(text)
    elif isinstance(data, list):
        print("[" + ",\n ".join(json.dumps(item, ensure_ascii=False, default=str) for item in data) + "]")
    else:
        print(json.dumps(data, ensure_ascii=False, indent=1, default=str))
