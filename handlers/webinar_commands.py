"""`/eocic webinar new | list`: a webinar created from a Slack form, announced to its audience.

`webinar new` asks the edge for the form made of `FIELDS`; its submission comes back to
`create_from_form` as {field id: text}: it answers {field id: what is wrong}, or a `Reply`
once the webinar is created and its announcement queued.
"""

from __future__ import annotations

from sqlmodel import select

from config.forms import fields
from handlers import webinars
from handlers.commands import Caller, CommandSet, Reply, UsageError
from handlers.context import Deps
from handlers.lists import UnknownList
from handlers.mrkdwn import escape
from models.webinars import Webinar

COMMANDS = CommandSet()

USAGE = "webinar new | webinar list"
FORM = "webinar_new"
FIELDS = fields(FORM)  # config/forms.yaml


@COMMANDS.subcommand("webinar", USAGE, "learning webinars: create one from a form (announced with a calendar entry), list them")
async def webinar_command(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    action = args[0].lower() if args else ""
    if action == "new":
        return Reply("Opening the new-webinar form…", modal={"form": FORM})
    if action == "list":
        async with deps.db.session() as session:
            rows = [webinars.describe(w) for w in await session.exec(select(Webinar).order_by(Webinar.start))]
        lines = [f"• {w['id']}: *{escape(w['title'])}* {w['start'][:16].replace('T', ' ')} ({escape(w['tzid'])}), {w['status']}"
                 for w in rows]
        return Reply("\n".join(lines) or "No webinars yet. Create one with `/eocic webinar new`.",
                     data={"view": "webinars", "webinars": rows})
    raise UsageError(f"`{escape(action)}` is not a webinar action." if action else "Which webinar action?")


async def create_from_form(deps: Deps, caller: Caller, values: dict[str, str]) -> dict[str, str] | Reply:
    """The new-webinar form submitted: {field id: what is wrong}, or the answer once it is created and announced."""
    settings = deps.settings
    try:
        start, tzid = webinars.parse_start(values["start"].strip(), settings.webinar_timezone)
    except ValueError as exc:
        return {"start": str(exc)}
    if not values["duration"].strip().isdigit() or int(values["duration"]) <= 0:
        return {"duration": "write the length in whole minutes, e.g. 60"}
    audience = [a.strip() for a in values["audience"].split(",") if a.strip()]
    try:
        async with deps.db.transaction() as session:
            row = await webinars.create(
                session, settings, title=values["title"], abstract=values["abstract"],
                speakers=values["speakers"].split(","), start=start, tzid=tzid, duration_minutes=int(values["duration"]),
                url=values["url"].strip(), audience=audience, actor=caller.actor,
            )
            queued = await webinars.send(session, settings, row, "announce")
    except UnknownList as exc:
        return {"audience": str(exc.args[0] if exc.args else exc)}
    except ValueError as exc:
        message = str(exc)
        return {"url" if "link" in message else "title" if "title" in message else "start": message}
    deps.mail_queued()
    return Reply(f"Webinar {row.id} *{escape(row.title)}* created; the announcement is queued for {queued} recipient(s).",
                 data={"view": "webinar", **webinars.describe(row), "announced_to": queued})
