"""`eocic-desk list|announce|person`: distribution lists, newsletters and announcements, and GDPR from the shell."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.cli.common import add_command, add_group, fail, in_transaction, print_result, row_id


def register(sub) -> None:
    lsub = add_group(sub, "list", "distribution lists: create, show, add, remove")
    c = add_command(lsub, "create", "create a list", cmd_list_create)
    c.add_argument("name", help="the list's name, e.g. escp-4i (used in List-Id)")
    c.add_argument("--description", required=True, help="what the list is for (shown on the subscribe page)")
    c.add_argument("--sender-name", default="", help="the From name of its mail")
    c = add_command(lsub, "show", "a list's members and suppressed addresses (all lists without NAME)", cmd_list_show, json=True)
    c.add_argument("name", nargs="?", help="the list (all lists without it)")
    c = add_command(lsub, "add", "put a person on a list, with how they consented", cmd_list_add)
    c.add_argument("name", help="the list")
    c.add_argument("email", help="the person's address")
    c.add_argument("--source", required=True, help="how they consented, e.g. 'asked at the Bucharest conference'")
    c.add_argument("--person-name", default="", help="the person's name (optional)")
    c = add_command(lsub, "remove", "take a person off a list", cmd_list_remove)
    c.add_argument("name", help="the list")
    c.add_argument("email", help="the person's address")

    p = add_command(sub, "announce", "a newsletter or announcement to a list: create, test, approve, send", cmd_announce, json=True)
    p.add_argument("--list", dest="list_name", help="the list (a new announcement)")
    p.add_argument("--subject", help="the mail's subject (a new announcement)")
    p.add_argument("--markdown", help="file with the text in Markdown ('-' for stdin)")
    p.add_argument("--id", type=row_id, help="work on an existing announcement instead")
    p.add_argument("--test-to", metavar="EMAIL", help="send a test to this address (the preview)")
    p.add_argument("--approve", action="store_true", help="approve it (staff) for now or --at")
    p.add_argument("--reject", action="store_true", help="reject it after its test: it stays a draft and is not sent")
    p.add_argument("--at", metavar="TIME", help="send at this time, e.g. '2026-12-01 09:00 Europe/Brussels'")
    p.add_argument("--send", action="store_true", help="write the mail now and deliver it from this process, with progress")
    p.add_argument("--status", action="store_true", help="print the progress figures")

    psub = add_group(sub, "person", "what we hold on a person (export), or erase them")
    c = add_command(psub, "export", "print everything held on a person as JSON", cmd_person_export)
    c.add_argument("email", help="the person's address")
    c = add_command(psub, "erase", "erase or pseudonymise a person everywhere (asks for --yes)", cmd_person_erase)
    c.add_argument("email", help="the person's address")
    c.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")


async def cmd_list_create(settings, args) -> int:
    from handlers import lists

    code, row = await in_transaction(settings, lambda s, d: lists.create_list(
        s, settings, args.name, args.description, args.sender_name))
    if not code:
        print(f"list {row.name} created")
    return code


async def cmd_list_show(settings, args) -> int:
    from handlers import lists
    from handlers.list_commands import show

    async def work(session, desk):
        names = [args.name] if args.name else [m.name for m in await lists.all_lists(session)]
        return [await show(session, name) for name in names]

    code, data = await in_transaction(settings, work)
    if code:
        return code
    if args.json:
        print_result(data if args.name is None else data[0], True, "")
        return 0
    for item in data:
        print(f"{item['name']:<12} {item['members']:>6} member(s)  {item['description']}  (from {item['sender']})")
        if args.name:
            for address in item["addresses"]:
                print(f"  {address}")
        if item["suppressed"]:
            print(f"  suppressed, not sent to: {', '.join(item['suppressed'])}")
    return 0


async def cmd_list_add(settings, args) -> int:
    from handlers import lists

    async def work(session, desk):
        mlist = await lists.get_list(session, args.name)
        return await lists.add_member(session, mlist, args.email, consent_source=args.source, actor="cli", name=args.person_name)

    code, _ = await in_transaction(settings, work)
    if not code:
        print(f"{args.email.lower()} added to {args.name}")
    return code


async def cmd_list_remove(settings, args) -> int:
    from handlers.list_commands import remove

    code, left = await in_transaction(settings, lambda s, d: remove(s, args.name, args.email, "cli"))
    if not code:
        print(f"{args.email.lower()} removed from {args.name}" if left else f"{args.email.lower()} was not on {args.name}")
    return code


async def cmd_announce(settings, args) -> int:
    from handlers import announcements
    from handlers.webinars import parse_start

    if args.approve and args.reject:
        return fail("give --approve or --reject, not both")
    if args.id is None and not (args.list_name and args.subject and args.markdown):
        return fail("give --list, --subject and --markdown for a new announcement, or --id for an existing one")
    markdown = ""
    if args.id is None:
        source = sys.stdin if args.markdown == "-" else None
        try:
            markdown = source.read() if source else Path(args.markdown).read_text(encoding="utf-8")
        except OSError as exc:
            return fail(f"cannot read {args.markdown}: {exc.strerror}")

    async def work(session, desk):
        if args.id is None:
            ann = await announcements.create(session, list_name=args.list_name, subject=args.subject, markdown=markdown, actor="cli")
        else:
            ann = await announcements.get(session, args.id)
        if args.test_to:
            await announcements.send_test(session, settings, ann, args.test_to, "cli")
        if args.at:
            ann.send_at = parse_start(args.at, settings.webinar_timezone)[0]
            session.add(ann)
        if args.approve:
            await announcements.approve(session, ann, "cli", ann.send_at)
        if args.reject:
            await announcements.reject(session, ann, "cli")
        return ann.id

    code, ident = await in_transaction(settings, work)
    if code:
        return code
    if args.id is None:
        print(f"announcement {ident} created" + ("" if args.approve else f"; approve it with: eocic-desk announce --id {ident} --approve"),
              file=sys.stderr)
    if args.send or args.test_to:
        return await _deliver(settings, ident, args)
    if args.status:
        return await _status(settings, ident, args.json)
    return 0


async def _status(settings, ident: int, as_json: bool) -> int:
    code, data = await in_transaction(settings, lambda s, d: _report(s, ident))
    if not code:
        print_result(data, as_json, _summary(data))
    return code


def _summary(report: dict) -> str:
    """The one-line progress of an announcement report, worded as everywhere else."""
    from dataclasses import fields

    from handlers.announcements import Progress

    return Progress(**{f.name: report[f.name] for f in fields(Progress)}).text()


async def _report(session, ident: int) -> dict:
    from handlers import announcements

    return await announcements.report(session, await announcements.get(session, ident))


async def _deliver(settings, ident: int, args) -> int:
    """Write the due rows (if approved and due) and send them from this process, printing progress."""
    import asyncio

    from bot.lists_jobs import send_due
    from bot.outbox import OutboxSender
    from bot.desk import opened_desk
    from handlers import announcements

    settings.require("smtp_host")
    async with opened_desk(settings) as desk:
        if args.send:
            await send_due(desk.db, settings)
        sender = OutboxSender(desk.db, settings)
        while True:
            sent = await sender.send_due()
            async with desk.db.session() as session:
                figures = await announcements.progress(session, await announcements.get(session, ident))
                soon = await announcements.due_soon(session, ident, sender.limits.lease)
            print(figures.text(), file=sys.stderr, flush=True)
            if not args.send or figures.state not in ("sending", "sent") or figures.remaining == 0:
                break
            if not sent and not soon:
                print("the remaining mail waits for a retry later: the running desk (eocic-desk run) delivers it",
                      file=sys.stderr)
                break
            if not sent:
                await asyncio.sleep(min(1.0, settings.outbox_poll_seconds))
        async with desk.db.session() as session:
            data = await _report(session, ident)
    print_result(data, args.json, _summary(data))
    return 0


async def cmd_person_export(settings, args) -> int:
    from handlers import persons

    code, data = await in_transaction(settings, lambda s, d: persons.export(s, args.email))
    if not code:
        print_result(data, True, "")
    return code


async def cmd_person_erase(settings, args) -> int:
    from bot.desk import opened_desk
    from handlers import persons

    if not args.yes:
        return fail(f"erasing {args.email} cannot be undone; run again with --yes to confirm")
    async with opened_desk(settings) as desk:
        try:
            done = await persons.erase_and_reclaim(desk.db, args.email, "cli")
        except LookupError as exc:
            return fail(str(exc.args[0]))
    print(json.dumps(done))
    return 0
