"""The features the desk runs, each declared once with everything it adds to the running desk.

A feature adds `/eocic` subcommands (a `handlers.commands.CommandSet`), Slack listeners (a
`register(app)`), HTTP routes (an `add_routes(app)`), jobs on the timetable (a
`register_jobs(scheduler, desk)`) and the rows it needs in a new database (a `seed(session,
settings)`). The runtime (bot/runtime.py), the HTTP server (bot/web.py) and the Slack app
(bot/slack/app.py) take their parts from `FEATURES` and from nowhere else: to add a feature,
write its modules and add one entry here.

The command line is the one edge that does not read this list, because importing it loads the
whole desk (Bolt, the web server, every handler): `bot/cli/` keeps its own `FEATURES`, one module
per feature with a `register(subparsers)`, and a command imports its code only when it runs, so
that `eocic-desk --help` starts without loading the whole desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bot import lists_jobs, lists_web, report_jobs, survey_jobs, survey_web, webinar_jobs
from bot.slack import listeners
from handlers import (
    complementarities, list_commands, lists, report_commands, survey_commands, ticket_commands, webinar_commands,
)
from handlers.commands import CommandSet, Subcommand


@dataclass(frozen=True)
class Feature:
    name: str
    commands: CommandSet | None = None  # /eocic subcommands
    slack: Callable[[Any], None] | None = None  # register(app): Bolt listeners for its buttons and forms
    routes: Callable[[Any], None] | None = None  # add_routes(app): aiohttp routes
    jobs: Callable[[Any, Any], None] | None = None  # register_jobs(scheduler, desk): the timetable
    seed: Callable[[Any, Any], Awaitable[Any]] | None = None  # seed(session, settings): rows a new database needs


FEATURES: tuple[Feature, ...] = (
    Feature("tickets", commands=ticket_commands.COMMANDS, slack=listeners.register_tickets),
    Feature("surveys", commands=survey_commands.COMMANDS, slack=listeners.register_surveys,
            routes=survey_web.add_routes, jobs=survey_jobs.register_jobs),
    Feature("lists and announcements", commands=list_commands.COMMANDS, slack=listeners.register_announcements,
            routes=lists_web.add_routes, jobs=lists_jobs.register_jobs, seed=lists.seed_lists),
    Feature("webinars", commands=webinar_commands.COMMANDS, slack=listeners.register_webinars,
            jobs=webinar_jobs.register_jobs),
    Feature("reports", commands=report_commands.COMMANDS, jobs=report_jobs.register_jobs),
    Feature("complementarities", commands=complementarities.COMMANDS),
)


def subcommands() -> dict[str, Subcommand]:
    """Every /eocic subcommand of every feature, by name (a name used twice is a programming error)."""
    table: dict[str, Subcommand] = {}
    for feature in FEATURES:
        for name, command in (feature.commands.commands if feature.commands else {}).items():
            if name in table:
                raise RuntimeError(f"/eocic {name} is declared by two features")
            table[name] = command
    return table
