"""`/eocic list …`, `/eocic person …`, `/eocic announce …`: the lists from Slack (staff only, via dispatch)."""

from __future__ import annotations

import json

from handlers import announcements, lists, persons
from handlers.commands import Caller, CommandSet, Reply, UsageError
from handlers.context import Deps
from handlers.mrkdwn import escape, mention
from handlers.webinars import parse_start
from models.lists import members, suppressed
from models.partnerships import contact_by_email

COMMANDS = CommandSet()

LIST_USAGE = "list show NAME | list add NAME EMAIL \"how they consented\" | list remove NAME EMAIL"
PERSON_USAGE = "person export EMAIL | person erase EMAIL"
ANNOUNCE_USAGE = ("announce status ID | announce test ID EMAIL | announce approve ID [YYYY-MM-DDTHH:MM] | announce reject ID | "
                  "announce cancel ID")


def _args(args: list[str], n: int) -> list[str]:
    if len(args) < n:
        raise UsageError("Some arguments are missing.")
    return args


@COMMANDS.subcommand("list", LIST_USAGE, "distribution lists: members, suppressed addresses, add or remove people")
async def list_command(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    action, *rest = _args(args, 2)
    if action == "show":
        async with deps.db.session() as session:
            data = await show(session, rest[0])
        lines = [f"*{escape(data['name'])}* – {escape(data['description'])}: {data['members']} member(s)"]
        if data["suppressed"]:
            lines.append(f"Suppressed (bounced, not sent to): {escape(', '.join(data['suppressed'][:30]))}")
        return Reply("\n".join(lines), data=data)
    if action == "add":
        name, address, source = _args(rest, 3)[:3]
        async with deps.db.transaction() as session:
            await lists.add_member(session, await lists.get_list(session, name), address, consent_source=source, actor=caller.actor)
        return Reply(f"Added {escape(address)} to {escape(name)}.")
    if action == "remove":
        name, address = _args(rest, 2)[:2]
        async with deps.db.transaction() as session:
            left = await remove(session, name, address, caller.actor)
        return Reply(f"{escape(address)} is off {escape(name)}." if left else f"{escape(address)} was not on {escape(name)}.")
    raise UsageError(f"`{escape(action)}` is not a list action.")


async def show(session, name: str) -> dict:
    mlist = await lists.get_list(session, name)
    on = await members(session, mlist)
    return {
        "name": mlist.name, "description": mlist.description, "sender": f"{mlist.sender_name} <{mlist.sender_address}>",
        "registry_type": mlist.registry_type, "members": len(on), "addresses": [c.email for c in on],
        "suppressed": [c.email for c in await suppressed(session, mlist)],
    }


async def remove(session, name: str, address: str, actor: str) -> list[str]:
    mlist = await lists.get_list(session, name)
    contact = await contact_by_email(session, address)
    if contact is None:
        return []
    return await lists.leave(session, contact, [mlist], how=f"removed by {actor}", actor=actor)


@COMMANDS.subcommand("person", PERSON_USAGE, "what we hold on a person (export), or erase them (GDPR)")
async def person_command(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    action, address = _args(args, 2)[:2]
    if action == "export":
        async with deps.db.session() as session:
            data = await persons.export(session, address)
        payload = json.dumps(data, ensure_ascii=False, indent=1).encode()
        return Reply(f"Everything held on {escape(address)} is in person.json, sent to you alone in a direct message "
                     "(personal data never goes to a channel).", data=data, files=[("person.json", payload)])
    if action == "erase":
        done = await persons.erase_and_reclaim(deps.db, address, caller.actor)
        return Reply(f"Erased: {escape(address)} is now {done['pseudonym']} everywhere "
                     f"({done['messages_written']} mail(s) emptied, {done['subscriptions']} subscription(s) deleted).", data=done)
    raise UsageError(f"`{escape(action)}` is not a person action.")


@COMMANDS.subcommand("announce", ANNOUNCE_USAGE, "newsletters and announcements: test, approve, progress")
async def announce_command(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    action, ident, *rest = _args(args, 2)
    if not ident.isdigit():
        raise UsageError(f"{escape(ident)} is not an announcement number.")
    async with deps.db.transaction() as session:
        ann = await announcements.get(session, int(ident))
        if action == "status":
            figures = await announcements.progress(session, ann)
            return Reply(figures.text(), data=figures.as_dict())
        if action == "test":
            await announcements.send_test(session, deps.settings, ann, _args(rest, 1)[0], caller.actor)
            reply = Reply(f"A test of announcement {ann.id} (*{escape(ann.subject)}*) is on its way to {escape(rest[0])}. "
                          "Check it, then approve or reject it here.", data={"view": "announce_test", "id": ann.id})
        elif action == "approve":
            when = parse_start(rest[0], deps.settings.webinar_timezone)[0] if rest else None
            await announcements.approve(session, ann, caller.actor, when)
            reply = _decided(ann, True, rest[0] if rest else None)
        elif action == "reject":
            await announcements.reject(session, ann, caller.actor)
            reply = _decided(ann, False)
        elif action == "cancel":
            n = await announcements.cancel(session, ann, caller.actor)
            reply = Reply(f"Announcement {ann.id} cancelled; {n} unsent mail(s) withdrawn.")
        else:
            raise UsageError(f"`{escape(action)}` is not an announce action.")
    deps.mail_queued()
    return reply


async def decide(deps: Deps, caller: Caller, ident: str, approved: bool) -> Reply:
    """The Approve / Reject button under a test send (same effect as `announce approve|reject ID`)."""
    return await announce_command(deps, caller, ["approve" if approved else "reject", ident])


def _decided(ann, approved: bool, at: str | None = None) -> Reply:
    text = (f"Announcement {ann.id} approved by {mention(ann.approved_by)}; it goes out {'at ' + escape(at) if at else 'now'}."
            if approved else f"Announcement {ann.id} rejected: it stays a draft and is not sent.")
    return Reply(text, data={"view": "announce_decided", "id": ann.id, "approved": approved})
