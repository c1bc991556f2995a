"""The `/eocic` command language, independent of Slack: parse a line, run a subcommand.

Each feature's module declares its subcommands in a `CommandSet` (`COMMANDS = CommandSet()`, then
`@COMMANDS.subcommand(...)`, as Bolt's `@app.command`); bot/features.py says which sets make up /eocic and
the desk hands them to `dispatch()` in `deps.subcommands`. `dispatch()` answers every mistake with what was
wrong and the right usage. Slack
(bot/slack/listeners/commands.py) and tests call `dispatch()`; the answer is plain data (`Reply`) that the
edge renders. `dispatch` gets the words as typed: Slack's escaping is undone by the edge before.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from handlers.context import Deps
from handlers.mrkdwn import escape


class UsageError(ValueError):
    """A wrong or missing argument; the message says what and `dispatch` adds the usage line."""


@dataclass
class Caller:
    user_id: str
    user_name: str = ""
    channel_id: str | None = None
    trigger_id: str | None = None  # lets a subcommand open a modal

    @property
    def actor(self) -> str:
        return f"slack:{self.user_id}"


@dataclass
class Reply:
    text: str
    public: bool = False  # False: only the caller sees it
    modal: dict | None = None  # a form to open with the caller's trigger_id: {"form": NAME, …}
    data: Any = None  # structured result, for tests and other edges ({"view": NAME, …} picks a layout)
    # (filename, content) to upload: with the answer where it is public, else to the caller alone (a DM)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    files_to: str | None = None  # or there: a channel id, or a user id (that person alone)


Handler = Callable[[Deps, Caller, list[str]], Awaitable[Reply]]


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    handler: Handler


class CommandSet:
    """The subcommands one feature adds to /eocic."""

    def __init__(self) -> None:
        self.commands: dict[str, Subcommand] = {}

    def subcommand(self, name: str, usage: str, summary: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands[name] = Subcommand(name, usage, summary, handler)
            return handler

        return register


def help_text(subcommands: dict[str, Subcommand]) -> str:
    lines = ["*/eocic* commands:"]
    lines += [f"• `/eocic {c.usage}` — {c.summary}" for c in sorted(subcommands.values(), key=lambda c: c.name)]
    return "\n".join(lines)


async def dispatch(deps: Deps, caller: Caller, text: str) -> Reply:
    try:
        words = shlex.split(text.strip())
    except ValueError as exc:
        return Reply(f"I could not read that command ({exc}). Close your quotes, e.g. `/eocic note EOCIC-00042 \"text\"`.")
    if not words or words[0] in {"help", "-h", "--help"}:
        return Reply(help_text(deps.subcommands))
    name, args = words[0].lower(), words[1:]
    command = deps.subcommands.get(name)
    if command is None:
        return Reply(f"`{name}` is not an /eocic command.\n{help_text(deps.subcommands)}")
    try:
        return await command.handler(deps, caller, args)
    except UsageError as exc:  # its text is ours, with what came from the caller already escaped
        return Reply(f"{exc}\nUsage: `/eocic {command.usage}`")
    except ValueError as exc:  # an address, date or state a lower layer refused
        return Reply(f"{escape(str(exc))}\nUsage: `/eocic {command.usage}`")
    except LookupError as exc:  # unknown ticket, campaign, partnership, …
        return Reply(f"{escape(str(exc.args[0] if exc.args else exc))}\nUsage: `/eocic {command.usage}`")
