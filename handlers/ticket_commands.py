"""`/eocic` subcommands for tickets: queue, show, assign, reply, note, close, reopen, category, partner, stats.

Each answers with a `Reply`: mrkdwn text (mail-derived parts escaped) and, in `data`, plain
data with a "view" name that the Slack edge renders with buttons (bot/slack/blocks.py).
"""

from __future__ import annotations

import re

from config.catalogue import CATEGORIES
from handlers import staff_actions, ticket_queries
from handlers.commands import Caller, CommandSet, Reply, UsageError
from handlers.context import Deps
from handlers.mrkdwn import inert, mention
from handlers.staff_actions import ActionRefused
from handlers.tickets import get_ticket

COMMANDS = CommandSet()

USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]+)$")


def _ref(args: list[str], what: str = "a ticket reference such as EOCIC-00042") -> str:
    if not args:
        raise UsageError(f"Missing {what}.")
    return args[0]


def _user(text: str) -> str:
    match = USER_MENTION.match(text.strip())
    if not match:
        raise UsageError(f"{inert(text, 80)} is not a Slack user: mention them with @ so that Slack links the name.")
    return match.group(1) or match.group(2)


def ticket_line(t: dict) -> str:
    flag = " :warning: overdue" if t.get("overdue") else ""
    who = f" · {mention(t['assignee'])}" if t.get("assignee") else ""
    return (f"*{t['ref']}* · {t['status']} · {inert(t['category'] or 'uncategorised', 64)} · "
            f"{inert(t['partnership'] or '?', 64)}{who}{flag}\n{inert(t['subject'], 150)} — {inert(t['sender'], 100)}")


async def _run(action, *args, **kwargs) -> Reply:
    """A staff action, with ActionRefused as the answer instead of an error."""
    try:
        ticket = await action(*args, **kwargs)
    except ActionRefused as exc:
        return Reply(str(exc))
    return Reply(f"Done: {ticket.ref} is {ticket.status.value}.", data={"view": "done", "ref": ticket.ref})


@COMMANDS.subcommand("queue", "queue [mine|unassigned|waiting|overdue|all] [category]", "list tickets, oldest first")
async def queue_cmd(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    which, category = "all", None
    for arg in args:
        if arg.lower() in ticket_queries.QUEUES:
            which = arg.lower()
        elif arg in CATEGORIES:
            category = arg
        else:
            raise UsageError(f"`{inert(arg, 64)}` is neither a queue ({', '.join(ticket_queries.QUEUES)}) nor a category "
                             f"({', '.join(CATEGORIES)}).")
    async with deps.db.read() as session:  # waits for no writer
        data = await ticket_queries.queue(session, deps.settings, which, user_id=caller.user_id, category=category)
    title = f"Queue `{which}`" + (f" in `{category}`" if category else "") + f": {data['total']} ticket(s)"
    shown = "" if data["total"] <= len(data["tickets"]) else f" (the {len(data['tickets'])} oldest shown)"
    lines = [title + shown, *(ticket_line(t) for t in data["tickets"])]
    return Reply("\n".join(lines), data={"view": "queue", "title": title + shown, **data})


@COMMANDS.subcommand("show", "show REF", "a ticket's card and history")
async def show_cmd(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    async with deps.db.session() as session:
        ticket = await get_ticket(session, _ref(args))
        card = await ticket_queries.card(session, deps.settings, ticket, with_messages=True)
    return Reply(ticket_line(card), data={"view": "ticket", "ticket": card})


@COMMANDS.subcommand("assign", "assign REF @user", "give a ticket to an adviser")
async def assign_cmd(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    ref = _ref(args)
    if len(args) < 2:
        raise UsageError("Missing the person to assign: mention them with @.")
    return await _run(staff_actions.assign, deps, ref, _user(args[1]), actor=caller.actor)


@COMMANDS.subcommand("reply", "reply REF", "write to the requester (opens a form)")
async def reply_cmd(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    async with deps.db.session() as session:
        ticket = await get_ticket(session, _ref(args))
        card = await ticket_queries.card(session, deps.settings, ticket)
    return Reply(f"Opening the reply form for {ticket.ref}…", modal={"form": "reply", "ticket": card})


@COMMANDS.subcommand("note", "note REF text", "add an internal note (never mailed)")
async def note_cmd(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    ref = _ref(args)
    if len(args) < 2:
        raise UsageError("Missing the text of the note.")
    return await _run(staff_actions.note, deps, ref, " ".join(args[1:]), actor=caller.actor)


@COMMANDS.subcommand("close", "close REF", "close a ticket")
async def close_cmd(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    return await _run(staff_actions.close, deps, _ref(args), actor=caller.actor)


@COMMANDS.subcommand("reopen", "reopen REF", "reopen a closed ticket")
async def reopen_cmd(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    return await _run(staff_actions.reopen, deps, _ref(args), actor=caller.actor)


@COMMANDS.subcommand("category", "category REF ID", "correct a ticket's category")
async def category_cmd(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    ref = _ref(args)
    if len(args) < 2:
        raise UsageError(f"Missing the category id: one of {', '.join(CATEGORIES)}.")
    if args[1] not in CATEGORIES:
        raise UsageError(f"`{inert(args[1], 64)}` is not a category: use one of {', '.join(CATEGORIES)}.")
    return await _run(staff_actions.change_category, deps, ref, args[1], actor=caller.actor)


@COMMANDS.subcommand("partner", "partner ACRONYM", "a partnership's contacts, open tickets, sectors, last contact")
async def partner_cmd(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    if not args:
        raise UsageError("Missing the partnership's acronym.")
    async with deps.db.session() as session:
        p = await ticket_queries.partner_profile(session, deps.settings, " ".join(args))
    contacts = [f"• {inert(c['name'] or '-', 100)} &lt;{inert(c['email'], 100)}&gt;"
                + (f" ({inert(c['role'], 32)})" if c["role"] else "") + (" :x: bouncing" if c["failing"] else "")
                for c in p["contacts"]]
    lines = [
        f"*{inert(p['acronym'], 64)}* — {inert(p['name'], 300)} ({inert(p['type'], 16)}"
        + (f", {inert(p['strand'], 32)}" if p["strand"] else "") + ")",
        f"Sectors: {inert(', '.join(p['sectors']) or '-', 500)}",
        f"Target countries: {inert(', '.join(p['target_countries']) or '-', 300)}",
        f"Last contact: {p['last_contact_at'][:10] if p['last_contact_at'] else 'never'}",
        f"Contacts ({len(p['contacts'])}):", *contacts[:20],
        f"Open tickets ({len(p['open_tickets'])}):", *(ticket_line(t) for t in p["open_tickets"][:10]),
    ]
    return Reply("\n".join(lines), data={"view": "partner", **p})


@COMMANDS.subcommand("stats", "stats [period]", "tickets by category and partnership, median first response, overdue")
async def stats_cmd(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    try:
        days = ticket_queries.parse_period(args[0] if args else None)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    async with deps.db.session() as session:
        s = await ticket_queries.stats(session, deps.settings, days)
    median = f"{s['median_first_response_hours']} h" if s["median_first_response_hours"] is not None else "no answers yet"
    lines = [
        f"*Tickets {'in the last ' + str(days) + ' days' if days else 'since the start'}: {s['total']}* "
        f"(open now: {s['open']}, overdue now: {s['overdue']})",
        f"Median first response: {median} over {s['answered']} answered ticket(s)",
        "*By category:* " + (", ".join(f"{inert(k, 64)} {v}" for k, v in s["by_category"].items()) or "-"),
        "*By partnership:* " + (", ".join(f"{inert(k, 64)} {v}" for k, v in s["by_partnership"].items()) or "-"),
    ]
    return Reply("\n".join(lines), data={"view": "stats", **s})
