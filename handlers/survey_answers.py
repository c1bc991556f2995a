"""A campaign's questionnaire answers: importing them once, and the progress report built from them.

Import is idempotent: a response already imported (same response id) or a second response from a
partnership that already has one is left alone and counted as such. The report counts, for every
multiple-answer question with a figure in the 2019 report, the partnerships per answer option and
group (strand for ESCP-4i), with the free-text answers under each option; Table 1 (cooperation
agreements per partnership, with `compare` for the first and second survey side by side) and
Table 2 (dialogue between ESCP-4i partnerships, one-sided reports marked).
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.registry import squash
from handlers.progress_report import Imported, Response, progress_figures
from models.surveys import participants_of
from models.audit import audit
from models.partnerships import Partnership, all_partnerships
from models.surveys import Campaign, SurveyAnswer

SURVEYS = ("ESCP-4i", "ESCP-S3")
NO_STRAND = "strand not given"


async def survey_of(session: AsyncSession, campaign: Campaign) -> str:
    """Which questionnaire a campaign used: from its audience, else from its participants' type."""
    for survey in SURVEYS:
        if campaign.audience.upper().startswith(survey.upper()):
            return survey
    types = {p.type for _, p in await participants_of(session, campaign)}
    if len(types) != 1 or next(iter(types)) not in SURVEYS:
        raise ValueError(f"campaign {campaign.name!r} mixes ESCP-4i and ESCP-S3 partnerships: its questionnaire is unclear")
    return next(iter(types))


async def resolver(session: AsyncSession):
    """name -> canonical acronym (any spelling the registry knows: acronym or alias), else None."""
    keys = {}
    for p in await all_partnerships(session):
        for name in [p.acronym, *p.aliases]:
            keys.setdefault(squash(name), p.acronym)
    return lambda name: keys.get(squash(name or "")) if name else None


async def import_answers(session: AsyncSession, campaign: Campaign, imported: Imported, source: str, actor: str) -> dict:
    ids = {p.acronym: p.id for p in await all_partnerships(session)}
    invited = {p.acronym for _, p in await participants_of(session, campaign)}
    stored = list(await session.exec(select(SurveyAnswer).where(SurveyAnswer.campaign_id == campaign.id)))
    keys, answered = {a.response_key for a in stored}, {a.partnership_id for a in stored}
    added, already = [], []
    for response in imported.responses:
        partnership_id = ids[response.partnership]
        if response.key in keys or partnership_id in answered:
            already.append(response.partnership)
            continue
        session.add(SurveyAnswer(campaign_id=campaign.id, partnership_id=partnership_id, response_key=response.key,
                                 strand=response.strand, answers=response.answers, source=source[:300]))
        keys.add(response.key)
        answered.add(partnership_id)
        added.append(response.partnership)
    if added:
        await audit(session, actor, "survey.answers_imported", campaign=campaign.name, source=source[:300], count=len(added))
    return {"campaign": campaign.name, "imported": len(added), "already_imported": already,
            "not_invited": sorted(set(added) - invited, key=str.casefold),
            "unmapped_columns": imported.unmapped, "problems": imported.problems}


async def answers_of(session: AsyncSession, campaign: Campaign) -> list[Response]:
    rows = await session.exec(select(SurveyAnswer, Partnership).join(Partnership, Partnership.id == SurveyAnswer.partnership_id)
                              .where(SurveyAnswer.campaign_id == campaign.id))
    return [Response(p.acronym, a.strand, a.answers, a.response_key) for a, p in rows]


async def campaign_figures(session: AsyncSession, campaign: Campaign) -> dict:
    survey = await survey_of(session, campaign)
    responses = await answers_of(session, campaign)
    strands = {r.partnership: r.strand for r in responses}
    invited: dict[str, int] = {}
    for _, partnership in await participants_of(session, campaign):
        group = survey if survey == "ESCP-S3" else (strands.get(partnership.acronym) or partnership.strand or NO_STRAND)
        invited[group] = invited.get(group, 0) + 1
    figures = progress_figures(survey, responses, invited)
    return {"campaign": campaign.name, "invited": invited, **figures}


async def progress_report(session: AsyncSession, campaign: Campaign, compare: Campaign | None = None) -> dict:
    """The progress report of `campaign`, with `compare` (the second survey) side by side when given."""
    first = await campaign_figures(session, campaign)
    second = await campaign_figures(session, compare) if compare is not None else None
    if second is not None and second["survey"] != first["survey"]:
        raise ValueError(f"{campaign.name!r} used the {first['survey']} questionnaire and {compare.name!r} the {second['survey']} one")
    names = sorted(set(first["agreements"]) | set(second["agreements"] if second else ()), key=str.casefold)
    report = {
        "survey": first["survey"], "campaigns": [first["campaign"]] + ([second["campaign"]] if second else []),
        "first": first, "second": second,
        "table_1": [{"partnership": n, "first": first["agreements"].get(n),
                     **({"second": second["agreements"].get(n)} if second else {})} for n in names],
        "table_2": dialogue_matrix(first["dialogue"]) if first["survey"] == "ESCP-4i" else None,
    }
    return report


def dialogue_matrix(dialogue: dict[str, list[str]]) -> dict:
    """Who reported dialogue with whom: {"partnerships": [...], "cells": {reporter: {partner: "both"|"one-sided"}}}."""
    names = sorted(set(dialogue) | {p for partners in dialogue.values() for p in partners}, key=str.casefold)
    cells = {reporter: {partner: "both" if reporter in dialogue.get(partner, ()) else "one-sided" for partner in partners}
             for reporter, partners in dialogue.items()}
    return {"partnerships": names, "cells": cells}


async def progress_attachment(session: AsyncSession, campaign_id: int) -> tuple[str, bytes]:
    """(file name, HTML) of a campaign's progress report, for Slack."""
    from handlers.report_files import progress_file  # draws charts: loaded when a report is made

    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(f"no survey campaign {campaign_id}")
    report = await progress_report(session, campaign)
    name = "progress-report-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in campaign.name) + ".html"
    return name, await progress_file(report, "html")
