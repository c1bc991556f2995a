"""Complementarities between partnerships (catalogue service B3): whom to bring together, and why.

A partnership is suggested to another when the registry says they share a sector or a target third
country, or when either reported dialogue with the other in a progress survey (Table 2's data, the
`dialogue-with` answers). Those that reported dialogue are marked as already collaborating. Used
by `/eocic match ACRONYM` and on the card of every `complementarities` ticket.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.commands import Caller, CommandSet, Reply, UsageError
from handlers.context import Deps
from handlers.mrkdwn import escape
from models.partnerships import Partnership, find_partnership
from models.surveys import Campaign, SurveyAnswer
from models.tickets import Ticket

COMMANDS = CommandSet()

SHOWN = 8  # suggestions on a ticket card
CATEGORY = "complementarities"


def _shared(mine, theirs) -> list[str]:
    folded = {item.casefold() for item in theirs}
    return [item for item in mine if item.casefold() in folded]


async def dialogue_reports(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(reporter, partner, campaign) for every dialogue reported in an imported survey answer."""
    rows = await session.exec(select(SurveyAnswer, Partnership.acronym, Campaign.name)
                              .join(Partnership, Partnership.id == SurveyAnswer.partnership_id)
                              .join(Campaign, Campaign.id == SurveyAnswer.campaign_id))
    return [(reporter, partner, campaign) for answer, reporter, campaign in rows
            for partner in (answer.answers.get("dialogue-with") or {}) if partner != "other"]


async def matches(session: AsyncSession, name: str) -> dict:
    """The partnerships to suggest to `name`, best first, each with its reasons."""
    me = await find_partnership(session, name)
    reports = await dialogue_reports(session)
    suggestions = []
    for other in await session.exec(select(Partnership).where(Partnership.id != me.id)):
        reasons = []
        if sectors := _shared(me.sectors, other.sectors):
            reasons.append("shares the sector(s) " + ", ".join(sectors))
        if countries := _shared(me.target_countries, other.target_countries):
            reasons.append("also targets " + ", ".join(countries))
        said = sorted({c for r, p, c in reports if (r, p) == (me.acronym, other.acronym)})
        heard = sorted({c for r, p, c in reports if (r, p) == (other.acronym, me.acronym)})
        if said:
            reasons.append(f"{me.acronym} reported dialogue with it ({', '.join(said)})")
        if heard:
            reasons.append(f"it reported dialogue with {me.acronym} ({', '.join(heard)})")
        if reasons:
            suggestions.append({"partnership": other.acronym, "type": other.type, "reasons": reasons,
                                "collaborating": bool(said or heard), "one_sided": bool(said) != bool(heard)})
    # new contacts first (that is the service), the most reasons first, then by name
    suggestions.sort(key=lambda s: (s["collaborating"], -len(s["reasons"]), s["partnership"].casefold()))
    return {"partnership": me.acronym, "type": me.type, "sectors": list(me.sectors),
            "target_countries": list(me.target_countries), "suggestions": suggestions}


def lines(found: dict, limit: int | None = None) -> list[str]:
    shown = found["suggestions"][:limit] if limit else found["suggestions"]
    out = [f"• *{escape(s['partnership'])}* ({s['type']}): {escape('; '.join(s['reasons']))}"
           + (" — _already collaborating_" + (" (one-sided report)" if s["one_sided"] else "") if s["collaborating"] else "")
           for s in shown]
    if limit and len(found["suggestions"]) > limit:
        out.append(f"… and {len(found['suggestions']) - limit} more: `/eocic match {escape(found['partnership'])}`")
    return out


@COMMANDS.subcommand("match", "match ACRONYM", "partnerships to bring together with one (shared sectors, target countries, dialogue)")
async def match(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    if not args:
        raise UsageError("Which partnership? Give its acronym, e.g. `/eocic match EC2i`.")
    async with deps.db.session() as session:
        try:
            found = await matches(session, " ".join(args))
        except LookupError as exc:  # the name as typed goes back into Slack: inert
            raise UsageError(escape(str(exc.args[0]))) from None
    if not found["suggestions"]:
        return Reply(f"No partnership shares a sector or a target country with *{escape(found['partnership'])}*, "
                     "and no dialogue was reported.", data=found)
    return Reply(f"Complementarities of *{escape(found['partnership'])}*:\n" + "\n".join(lines(found)), data=found)


async def card_text(session: AsyncSession, ticket: Ticket) -> str | None:
    """For the card of a `complementarities` ticket from a known partnership: whom to bring together (else None)."""
    if ticket.category != CATEGORY or ticket.partnership_id is None:
        return None
    partnership = await session.get(Partnership, ticket.partnership_id)
    found = await matches(session, partnership.acronym)
    if not found["suggestions"]:
        return None
    return f"*Complementarities of {escape(found['partnership'])}*\n" + "\n".join(lines(found, SHOWN))
