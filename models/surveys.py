"""Progress-survey campaigns and their participants (one per partnership).

Times are stored in UTC (`when()` columns); `Campaign.timezone` is the zone in which staff wrote
them and in which the working-hours window is read. Durations are kept as written ("7d", "36h",
"90s") and parsed by `handlers.timeparse.parse_duration`, so that `survey list` shows them as typed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import json_dict, when
from models.partnerships import Contact, Partnership


class CampaignState:
    open = "open"  # before opening too: the timetable decides by date
    closed = "closed"


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=120)
    audience: str = Field(max_length=2000, description="'ESCP-4i', 'ESCP-4i:strand-1', 'ESCP-S3' or 'A,B,C'")
    url_template: str = Field(max_length=2000, description="survey address with {token}")
    opens_at: datetime = when(nullable=False)
    closes_at: datetime = when(nullable=False)
    timezone: str = Field(default="Europe/Brussels", max_length=64)
    first_reminder: str = Field(default="7d", max_length=16)
    every: str = Field(default="7d", max_length=16)
    max_reminders: int = Field(default=3, ge=0)
    last_call_before: str | None = Field(default=None, max_length=16, description="last call this long before closing")
    send_window: str = Field(default="mon-fri 09:00-18:00", max_length=64, description="when reminders may go, or 'always'")
    templates: dict = json_dict()  # {"invitation": "survey_invitation_s3", …}: per-campaign template names
    limesurvey_id: int | None = Field(default=None, description="LimeSurvey survey id to read completions from")
    state: str = Field(default=CampaignState.open, max_length=16, index=True)
    revision: int = Field(default=1, description="bumped on every change of dates, so the timetable is rebuilt")
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = when(default_now=True)
    closed_at: datetime | None = when()
    last_round_at: datetime | None = when()


class Participant(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "partnership_id", name="uq_participant_partnership"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    fallback_contact_id: int | None = Field(default=None, foreign_key="contact.id")
    token_nonce: str = Field(max_length=32, description="random part of the signed completion token")
    external_id: str | None = Field(default=None, max_length=64, description="LimeSurvey tid")
    external_token: str | None = Field(default=None, max_length=64, description="LimeSurvey token")
    invited_at: datetime | None = when()
    reminders_sent: int = 0
    last_reminder_at: datetime | None = when()
    last_call_sent_at: datetime | None = when()
    completed_at: datetime | None = when()
    completed_via: str | None = Field(default=None, max_length=32, description="url, limesurvey, slack, cli, mail")
    completed_by: str | None = Field(default=None, max_length=120)
    thanked_at: datetime | None = when()
    opted_out: bool = False


class SurveyAnswer(SQLModel, table=True):
    """One partnership's answers to a campaign's questionnaire, as imported (handlers/progress_report.py)."""

    __table_args__ = (UniqueConstraint("campaign_id", "partnership_id", name="uq_answer_partnership"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    response_key: str = Field(max_length=64, description="the export's response id: the same response is never imported twice")
    strand: str | None = Field(default=None, max_length=32, description="as the respondent gave it")
    answers: dict = json_dict()
    source: str = Field(default="", max_length=300, description="csv:FILE or limesurvey:SURVEY_ID")
    imported_at: datetime = when(default_now=True)


# ---------------------------------------------------------------- queries
async def campaign_by(session: AsyncSession, name_or_id: str | int) -> Campaign | None:
    """The campaign with this id (an int) or this name (a str)."""
    query = select(Campaign).where(Campaign.id == name_or_id if isinstance(name_or_id, int) else Campaign.name == name_or_id)
    return (await session.exec(query)).first()


async def all_campaigns(session: AsyncSession) -> list[Campaign]:
    """Every campaign, the earliest opening first."""
    return list(await session.exec(select(Campaign).order_by(Campaign.opens_at)))


async def participants_of(session: AsyncSession, campaign: Campaign) -> list[tuple[Participant, Partnership]]:
    rows = await session.exec(
        select(Participant, Partnership)
        .join(Partnership, Partnership.id == Participant.partnership_id)
        .where(Participant.campaign_id == campaign.id)
        .order_by(Partnership.acronym)
    )
    return list(rows)


async def mail_contact(session: AsyncSession, participant: Participant) -> Contact | None:
    """The address to write to: the respondent, else the fallback; None when both are failing or gone."""
    for contact_id in (participant.contact_id, participant.fallback_contact_id):
        if contact_id is None:
            continue
        contact = await session.get(Contact, contact_id)
        if contact is not None and not contact.failing and contact.erased_at is None:
            return contact
    return None
