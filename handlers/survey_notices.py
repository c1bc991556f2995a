"""The daily status line and the closing summary, as rows of the Slack notice queue.

They go to the triage channel through `handlers.slack_notify.post_text` (a digest notice whose
`payload["text"]` is the escaped line), written in the transaction of the decision and keyed so
that a re-run writes nothing twice. Without Slack configured nothing is queued; the functions
still return the plain text (the job logs it, `survey close` shows it escaped).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from handlers.mrkdwn import escape
from handlers.slack_notify import post_text
from handlers.survey_report import campaign_status, closing_summary, status_line
from handlers.timeparse import zone
from models.surveys import Campaign, SurveyAnswer


async def post_daily_status(session: AsyncSession, campaign: Campaign, settings: Settings, now: datetime) -> str:
    text = status_line(await campaign_status(session, campaign))
    day = now.astimezone(zone(campaign.timezone)).date().isoformat()
    await _notice(session, settings, f"survey:{campaign.id}:daily:{day}", text)
    return text


async def post_closing_summary(session: AsyncSession, campaign: Campaign, settings: Settings) -> str:
    """The closing summary; with the progress report as a file beside it when answers have been imported."""
    text = closing_summary(await campaign_status(session, campaign))
    answered = (await session.exec(select(SurveyAnswer.id).where(SurveyAnswer.campaign_id == campaign.id))).first()
    await _notice(session, settings, f"survey:{campaign.id}:closed:r{campaign.revision}", text,
                  report={"progress": campaign.id} if answered is not None else None)
    return text


async def _notice(session: AsyncSession, settings: Settings, key: str, text: str, report: dict | None = None) -> None:
    await post_text(session, settings, key, escape(text), report)
