"""`eocic-desk webinar`: create (and announce), update, cancel and list webinars.

A running desk (`eocic-desk run`) sends the reminders of a webinar created here (bot/webinar_jobs.py).
"""

from __future__ import annotations

from bot.cli.common import add_command, add_group, row_id, run_and_print


def register(sub) -> None:
    wsub = add_group(sub, "webinar", "webinars: create (and announce), update, cancel, list")
    c = add_command(wsub, "create", "create a webinar and mail the announcement to its audience", cmd_webinar_create, json=True)
    c.add_argument("--title", required=True, help="the webinar's title")
    c.add_argument("--abstract", default="", help="a paragraph on what it is about (optional)")
    c.add_argument("--speaker", action="append", default=[], help="repeat for several speakers")
    c.add_argument("--start", required=True, help="'2026-12-03 14:00 Europe/Brussels' (zone optional)")
    c.add_argument("--duration", type=int, default=60, help="minutes (default 60)")
    c.add_argument("--url", default="", help="registration or join link")
    c.add_argument("--audience", default="webinars", help="list names, comma-separated (default webinars)")
    c.add_argument("--reminders", default=None, help="offsets before the start, e.g. 7d,1d,2h (default EOCIC_WEBINAR_REMINDERS)")
    c.add_argument("--no-announce", action="store_true", help="create only; announce later with `webinar update`")
    c = add_command(wsub, "update", "change a webinar and send the update (SEQUENCE+1)", cmd_webinar_update, json=True)
    c.add_argument("id", type=row_id, help="the webinar's id (`webinar list`)")
    c.add_argument("--title", help="new title")
    c.add_argument("--abstract", help="new abstract")
    c.add_argument("--start", help="new start, '2026-12-03 14:00 Europe/Brussels' (zone optional)")
    c.add_argument("--duration", type=int, help="new duration in minutes")
    c.add_argument("--url", help="new registration or join link")
    c = add_command(wsub, "cancel", "cancel a webinar (STATUS:CANCELLED to its audience)", cmd_webinar_cancel, json=True)
    c.add_argument("id", type=row_id, help="the webinar's id (`webinar list`)")
    add_command(wsub, "list", "webinars", cmd_webinar_list, json=True)


async def cmd_webinar_create(settings, args) -> int:
    from handlers import webinars

    async def work(session, desk):
        start, tzid = webinars.parse_start(args.start, settings.webinar_timezone)
        row = await webinars.create(
            session, settings, title=args.title, abstract=args.abstract, speakers=args.speaker, start=start, tzid=tzid,
            duration_minutes=args.duration, url=args.url, audience=[a.strip() for a in args.audience.split(",") if a.strip()],
            actor="cli", reminders=args.reminders,
        )
        queued = 0 if args.no_announce else await webinars.send(session, settings, row, "announce")
        return {**webinars.describe(row), "announced_to": queued, "slack_text": webinars.slack_text(row)}

    return await run_and_print(settings, args, work, lambda data: f"webinar {data['id']} created ({data['start']}); announcement queued for {data['announced_to']} recipient(s)")


async def cmd_webinar_update(settings, args) -> int:
    from handlers import webinars

    async def work(session, desk):
        row = await webinars.get(session, args.id)
        changes = dict(title=args.title, abstract=args.abstract, duration_minutes=args.duration, url=args.url)
        if args.start:
            changes["start"], changes["tzid"] = webinars.parse_start(args.start, row.tzid)
        queued = await webinars.update(session, settings, row, "cli", **changes)
        return {**webinars.describe(row), "update_sent_to": queued}

    return await run_and_print(settings, args, work, lambda data: f"webinar {data['id']} is at sequence {data['sequence']}; update queued for {data['update_sent_to']}")


async def cmd_webinar_cancel(settings, args) -> int:
    from handlers import webinars

    async def work(session, desk):
        row = await webinars.get(session, args.id)
        queued = await webinars.cancel(session, settings, row, "cli")
        return {**webinars.describe(row), "cancellation_sent_to": queued}

    return await run_and_print(settings, args, work, lambda data: f"webinar {data['id']} cancelled; notice queued for {data['cancellation_sent_to']}")


async def cmd_webinar_list(settings, args) -> int:
    from sqlmodel import select

    from handlers import webinars
    from models.webinars import Webinar

    async def work(session, desk):
        return [webinars.describe(w) for w in await session.exec(select(Webinar).order_by(Webinar.start))]

    return await run_and_print(settings, args, work, lambda data: "\n".join(f"{w['id']:>4}  {w['start'][:16]}  {w['status']:<9} {w['title']}" for w in data) or "no webinars")
