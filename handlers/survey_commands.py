"""`/eocic survey …`: list, new (modal), status (with a bar chart), remind, extend, close, done.

`survey new` asks the edge for the form made of `FIELDS`; its submission comes back to
`create_from_form` as {field id: text}, which answers {field id: what is wrong}, or a `Reply`
once the campaign is created.
"""

from __future__ import annotations

from config.forms import fields
from handlers import charts
from handlers.commands import Caller, CommandSet, Reply, UsageError
from handlers.context import Deps
from handlers.mrkdwn import escape
from handlers.survey_notices import post_closing_summary
from handlers.survey_report import campaign_status
from handlers.timeparse import parse_datetime, zone
from handlers.surveys import (
    CampaignError, close, create_campaign, extend, get_campaign, mark_done, pending_for_sender,
    reminder_due_at, remind_now,
)
from models.surveys import all_campaigns, participants_of

COMMANDS = CommandSet()

USAGE = ("survey list | new | status NAME | remind NAME [now] | extend NAME DATE | close NAME | "
         "done NAME ACRONYM")
FORM = "survey_new"
FIELDS = fields(FORM)  # config/forms.yaml


@COMMANDS.subcommand("survey", USAGE, "progress-survey campaigns: invitations, reminders, who answered")
async def survey(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    if not args:
        raise UsageError("Which survey action?")
    action, rest = args[0].lower(), args[1:]
    if action == "list":
        return await _list(deps)
    if action == "new":
        return Reply("Opening the new-campaign form…", modal={"form": FORM})
    if action in _ACTIONS:
        if not rest:
            raise UsageError(f"`survey {action}` needs the campaign name (quote it if it has spaces).")
        return await _ACTIONS[action](deps, caller, rest[0], rest[1:])
    raise UsageError(f"`{escape(action)}` is not a survey action.")


async def _list(deps: Deps) -> Reply:
    async with deps.db.session() as session:
        campaigns = await all_campaigns(session)
        items = [await campaign_status(session, c) for c in campaigns]
    if not items:
        return Reply("No survey campaigns yet. Start one with `/eocic survey new`.", data={"view": "surveys", "campaigns": []})
    lines = [f"• *{escape(s['name'])}* ({s['state']}, closes {s['closes_at'][:16].replace('T', ' ')}): "
             f"{s['answered']}/{s['total']} answered ({s['response_rate']}%)" for s in items]
    return Reply("\n".join(lines), data={"view": "surveys", "campaigns": items})


async def _status(deps: Deps, caller: Caller, name: str, rest: list[str]) -> Reply:
    async with deps.db.session() as session:
        status = await campaign_status(session, await get_campaign(session, name))
    pending = ", ".join(escape(p) for p in status["pending"]) or "nobody"
    groups = "\n".join(f"• {escape(label)}: {g['answered']}/{g['total']} ({g['rate']}%)" for label, g in status["by_strand"].items())
    text = (f"*{escape(status['name'])}*: {status['answered']}/{status['total']} answered ({status['response_rate']}%), "
            f"{status['reminders_sent']} reminders sent\n{groups}\nPending: {pending}")
    chart = await charts.render(charts.stacked_bars, f"{status['name']}: {status['answered']}/{status['total']} ({status['response_rate']}%)",
                                 [(label, g["answered"], g["pending"]) for label, g in status["by_strand"].items()])
    return Reply(text, public=True, data=status, files=[(f"survey-{status['name']}.png".replace(" ", "_"), chart)])


async def _remind(deps: Deps, caller: Caller, name: str, rest: list[str]) -> Reply:
    if rest and rest[0].lower() == "now":
        async with deps.db.transaction() as session:
            campaign = await get_campaign(session, name)
            sent = await _checked(remind_now(session, campaign, deps.settings, caller.actor))
        deps.mail_queued()
        return Reply(f"Reminder queued for {sent} pending partnership(s) of *{escape(name)}*.", data={"reminders": sent})
    async with deps.db.session() as session:
        campaign = await get_campaign(session, name)
        tz = zone(campaign.timezone)
        lines = []
        for participant, partnership in await participants_of(session, campaign):
            if participant.completed_at or participant.opted_out:
                continue
            due = reminder_due_at(campaign, participant)
            when = (due.astimezone(tz).strftime("%Y-%m-%d %H:%M") if due else
                    "not invited yet" if participant.invited_at is None else "no more reminders")
            lines.append(f"• {escape(partnership.acronym)}: {participant.reminders_sent} sent, next {when}")
    text = "\n".join(lines) or "Everyone has answered."
    return Reply(f"Next reminders of *{escape(name)}* (`/eocic survey remind \"{escape(name)}\" now` sends one now):\n{text}")


async def _extend(deps: Deps, caller: Caller, name: str, rest: list[str]) -> Reply:
    if not rest:
        raise UsageError("`survey extend` needs the new closing date, e.g. 2019-06-12T18:00.")
    async with deps.db.transaction() as session:
        campaign = await get_campaign(session, name)
        try:
            closes = parse_datetime(rest[0], campaign.timezone)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        await _checked(extend(session, campaign, closes, caller.actor))
    return Reply(f"*{escape(name)}* now closes {closes.isoformat()}.", public=True)


async def _close(deps: Deps, caller: Caller, name: str, rest: list[str]) -> Reply:
    async with deps.db.transaction() as session:
        campaign = await get_campaign(session, name)
        closed = await close(session, campaign, caller.actor)
        # what close(settings=…) would queue for the triage channel, with its text for the reply too
        summary = await post_closing_summary(session, campaign, deps.settings) if closed else ""
    return Reply(escape(summary) or f"*{escape(name)}* was closed already.", public=closed)


async def _done(deps: Deps, caller: Caller, name: str, rest: list[str]) -> Reply:
    if not rest:
        raise UsageError("`survey done` needs the partnership's acronym.")
    async with deps.db.transaction() as session:
        campaign = await get_campaign(session, name)
        first = await mark_done(session, campaign, rest[0], "slack", caller.actor, settings=deps.settings)
    if first:
        deps.mail_queued()
    what = "recorded as answered; no more reminders" if first else "was already recorded as answered"
    return Reply(f"{escape(rest[0])} {what} for *{escape(name)}*.", data={"first": first})


_ACTIONS = {"status": _status, "remind": _remind, "extend": _extend, "close": _close, "done": _done}


async def _checked(decision):
    """Await a decision; a CampaignError becomes a UsageError so that staff see why and the usage."""
    try:
        return await decision
    except CampaignError as exc:
        raise UsageError(str(exc)) from None


async def create_from_form(deps: Deps, caller: Caller, values: dict[str, str]) -> dict[str, str] | Reply:
    """The new-campaign form submitted: {field id: what is wrong}, or the answer once the campaign is created."""
    tz = deps.settings.survey_timezone
    try:
        opens = parse_datetime(values["opens"], tz)
    except ValueError as exc:
        return {"opens": str(exc)}
    try:
        closes = parse_datetime(values["closes"], tz)
    except ValueError as exc:
        return {"closes": str(exc)}
    if not values["max_reminders"].strip().isdigit():
        return {"max_reminders": "write a whole number, e.g. 3"}
    try:
        async with deps.db.transaction() as session:
            campaign = await create_campaign(
                session, deps.settings, name=values["name"], audience=values["audience"], url_template=values["url"],
                opens_at=opens, closes_at=closes, first_reminder=values["first_reminder"], every=values["every"],
                max_reminders=int(values["max_reminders"]), last_call_before=values["last_call"] or None,
                actor=caller.actor,
            )
    except CampaignError as exc:
        return {_field_of(str(exc)): str(exc)}
    return Reply(f"Survey campaign *{escape(campaign.name)}* created: it opens {campaign.opens_at.isoformat()} and "
                 f"closes {campaign.closes_at.isoformat()}. `/eocic survey status \"{escape(campaign.name)}\"` follows it.",
                 data={"view": "survey", "id": campaign.id, "name": campaign.name})


def _field_of(message: str) -> str:
    lowered = message.lower()
    for field_id, hint in (("audience", "audience"), ("audience", "partnership"), ("url", "url"),
                           ("name", "named"), ("closes", "close"), ("last_call", "last call"), ("every", "duration")):
        if hint in lowered:
            return field_id
    return "name"


# ---- a `survey` mail saying "we have submitted it": staff confirm with a button ----


async def pending_confirmations(session, sender: str) -> list[dict]:
    """For a survey-intent ticket: each open campaign its sender's partnership has not answered.
    The Slack card shows a button for each; the button's value comes back to `confirm_done`."""
    return [{"campaign_id": campaign.id, "campaign": campaign.name, "acronym": partnership.acronym}
            for campaign, partnership in await pending_for_sender(session, sender)]


async def confirm_done(deps: Deps, caller: Caller, value: str) -> Reply:
    campaign_id, _, acronym = value.partition(":")
    if not campaign_id.isdigit() or not acronym:
        return Reply("That button is out of date.")
    async with deps.db.transaction() as session:
        campaign = await get_campaign(session, int(campaign_id))
        first = await mark_done(session, campaign, acronym, "mail", caller.actor, settings=deps.settings)
    if first:
        deps.mail_queued()
    return Reply(f"{escape(acronym)} {'recorded as answered' if first else 'was already recorded'} for *{escape(campaign.name)}*.",
                 data={"first": first})
