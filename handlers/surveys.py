"""Progress-survey campaigns: who is asked, what the timetable sends when, and who has answered.

`run_round(session, campaign, settings, now)` is THE decision: given the clock, it queues the
invitations, reminders, last calls and thank-yous that are due, each with an idempotency key
(`survey:{campaign}:{participant}:reminder:{n}`, …), in the caller's transaction together with
the participant's counters. Running it twice, or after a crash, queues nothing twice; a round
missed during downtime is made up by the next one (reminder n+1 is due `every` after reminder n
was actually queued, so reminders never bunch up and none is skipped).

Only participants who have not completed, have not opted out and have an address that is not
failing (the respondent, else the fallback contact) get mail; nothing is sent before opening
or after closing; reminders and the last call go only inside the campaign's window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.registry import TYPES, load_registry
from config.settings import Settings
from handlers.outgoing import compose, queue_mail
from handlers.survey_notices import post_closing_summary
from handlers.survey_timetable import ALWAYS, in_window, parse_window
from handlers.timeparse import parse_duration, zone
from handlers.survey_tokens import BadToken, check_signature, make_token, new_nonce, split_token
from models.audit import audit
from models.base import utcnow
from models.partnerships import Contact, Partnership, contact_by_email, current_contacts, partnership_by_acronym
from models.surveys import Campaign, CampaignState, Participant, campaign_by, mail_contact, participants_of
from templates import render_mail

MAIL_KINDS = ("invitation", "reminder", "last_call", "thanks")
COMPLETION_CHANNELS = ("url", "limesurvey", "slack", "cli", "mail")


class CampaignError(ValueError):
    """A campaign cannot be created or changed as asked; the message says why."""


class CampaignNotFound(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"there is no survey campaign {name!r}; `survey list` shows them")


@dataclass
class RoundResult:
    invitations: int = 0
    reminders: int = 0
    last_calls: int = 0
    thanks: int = 0
    closed: bool = False

    @property
    def queued(self) -> int:
        return self.invitations + self.reminders + self.last_calls + self.thanks


# ---------------------------------------------------------------- lookups
async def get_campaign(session: AsyncSession, name_or_id: str | int) -> Campaign:
    campaign = await campaign_by(session, name_or_id)
    if campaign is None:
        raise CampaignNotFound(str(name_or_id))
    return campaign


async def participant_for(session: AsyncSession, campaign: Campaign, acronym: str) -> tuple[Participant, Partnership]:
    wanted = load_registry().normalise(acronym) or acronym
    for participant, partnership in await participants_of(session, campaign):
        if partnership.acronym.casefold() == wanted.casefold():
            return participant, partnership
    raise LookupError(f"{acronym!r} is not a participant of the campaign {campaign.name!r}")


async def resolve_audience(session: AsyncSession, audience: str) -> list[Partnership]:
    """'ESCP-4i', 'ESCP-4i:strand-1', 'ESCP-S3' or a comma list of acronyms (any known spelling)."""
    spec = (audience or "").strip()
    kind, _, strand = spec.partition(":")
    if kind in TYPES:
        query = select(Partnership).where(Partnership.type == kind)
        if strand:
            query = query.where(Partnership.strand == strand.strip())
        found = list(await session.exec(query.order_by(Partnership.acronym)))
        if not found:
            raise CampaignError(f"no partnership matches the audience {spec!r}")
        return found
    registry = load_registry()
    found, unknown = [], []
    for name in (n.strip() for n in spec.split(",")):
        if not name:
            continue
        acronym = registry.normalise(name)
        row = await partnership_by_acronym(session, acronym)
        (found.append(row) if row else unknown.append(name))
    if unknown:
        raise CampaignError(f"unknown partnership(s) in the audience: {', '.join(unknown)}")
    if not found:
        raise CampaignError("the audience is empty; write ESCP-4i, ESCP-4i:strand-1, ESCP-S3 or acronyms separated by commas")
    return list({p.id: p for p in found}.values())


async def _contacts(session: AsyncSession, partnership: Partnership) -> tuple[Contact | None, Contact | None]:
    rows = await current_contacts(session, partnership.id)
    respondent = next((c for c in rows if c.role == "respondent"), None)
    fallback = next((c for c in rows if c.role == "fallback"), None)
    return (respondent, fallback) if respondent else (fallback, None)


# ---------------------------------------------------------------- creating and changing
async def create_campaign(
    session: AsyncSession,
    settings: Settings,
    *,
    name: str,
    audience: str,
    url_template: str,
    opens_at: datetime,
    closes_at: datetime,
    first_reminder: str = "7d",
    every: str = "7d",
    max_reminders: int = 3,
    last_call_before: str | None = None,
    window: str | None = None,
    timezone: str | None = None,
    templates: dict | None = None,
    limesurvey_id: int | None = None,
    actor: str = "desk",
) -> Campaign:
    """A campaign and one participant per partnership of its audience.

    Without `window`, reminders keep to `settings.survey_window` when the timetable counts in
    days, and run around the clock when it counts in hours or less (a fast test or demo run).
    """
    name = " ".join((name or "").split())
    if not name:
        raise CampaignError("a campaign needs a name")
    if len(name) > 120:
        raise CampaignError(f"a campaign name has at most 120 characters (this one has {len(name)})")
    if await campaign_by(session, name) is not None:
        raise CampaignError(f"a campaign named {name!r} exists already")
    if "{token}" not in url_template and "{ls_token}" not in url_template:
        raise CampaignError("the survey URL must contain {token} (or {ls_token} for LimeSurvey's own tokens)")
    tz = timezone or settings.survey_timezone
    zone(tz)
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise CampaignError("opening and closing times need a time zone")
    if closes_at <= opens_at:
        raise CampaignError("the campaign must close after it opens")
    durations = {"first reminder": first_reminder, "every": every}
    if last_call_before:
        durations["last call"] = last_call_before
    try:
        parsed = {k: parse_duration(v) for k, v in durations.items()}
        if window is None:
            fast = min(parsed["first reminder"], parsed["every"]) < timedelta(days=1)
            window = ALWAYS if fast else settings.survey_window
        parse_window(window)
    except ValueError as exc:
        raise CampaignError(str(exc)) from None
    if not 0 <= max_reminders <= 50:
        raise CampaignError(f"--max-reminders must be between 0 and 50 (got {max_reminders})")
    for kind in (templates or {}):
        if kind not in MAIL_KINDS:
            raise CampaignError(f"unknown template kind {kind!r}; kinds are {', '.join(MAIL_KINDS)}")
    partnerships = await resolve_audience(session, audience)
    campaign = Campaign(
        name=name, audience=audience.strip(), url_template=url_template, opens_at=opens_at, closes_at=closes_at,
        timezone=tz, first_reminder=first_reminder, every=every, max_reminders=max_reminders,
        last_call_before=last_call_before or None, send_window=window, templates=dict(templates or {}),
        limesurvey_id=limesurvey_id, created_by=actor,
    )
    session.add(campaign)
    await session.flush()
    for partnership in partnerships:
        contact, fallback = await _contacts(session, partnership)
        session.add(Participant(
            campaign_id=campaign.id, partnership_id=partnership.id, token_nonce=new_nonce(),
            contact_id=contact.id if contact else None, fallback_contact_id=fallback.id if fallback else None,
        ))
    await session.flush()
    await audit(session, actor, "survey.created", campaign=campaign.name, audience=campaign.audience, participants=len(partnerships))
    return campaign


async def extend(session: AsyncSession, campaign: Campaign, closes_at: datetime, actor: str, now: datetime | None = None) -> Campaign:
    now = now or utcnow()
    if closes_at <= max(now, campaign.opens_at):
        raise CampaignError("the new closing time must be in the future and after the opening")
    old = campaign.closes_at
    campaign.closes_at = closes_at
    campaign.state = CampaignState.open
    campaign.closed_at = None
    campaign.revision += 1
    session.add(campaign)
    await audit(session, actor, "survey.extended", campaign=campaign.name, old=old.isoformat(), new=closes_at.isoformat())
    return campaign


async def close(
    session: AsyncSession, campaign: Campaign, actor: str, now: datetime | None = None, settings: Settings | None = None
) -> bool:
    """Close now (or record the scheduled closing); with `settings`, queue the closing summary for
    the triage channel. False if it was closed already."""
    if campaign.state == CampaignState.closed:
        return False
    now = now or utcnow()
    campaign.state = CampaignState.closed
    campaign.closed_at = now
    if now < campaign.closes_at:
        campaign.closes_at = now
    campaign.revision += 1
    session.add(campaign)
    await audit(session, actor, "survey.closed", campaign=campaign.name)
    if settings is not None:
        await post_closing_summary(session, campaign, settings)
    return True


# ---------------------------------------------------------------- the decision
def participant_url(settings: Settings, campaign: Campaign, participant: Participant) -> str:
    token = make_token(settings, campaign.id, participant.id, participant.token_nonce)
    return campaign.url_template.replace("{token}", token).replace("{ls_token}", participant.external_token or token)


def reminder_due_at(campaign: Campaign, participant: Participant) -> datetime | None:
    """When the participant's next regular reminder falls due (None: no more reminders)."""
    if participant.invited_at is None or participant.last_call_sent_at is not None:
        return None
    if participant.reminders_sent >= campaign.max_reminders:
        return None
    if participant.reminders_sent == 0 or participant.last_reminder_at is None:
        return participant.invited_at + parse_duration(campaign.first_reminder)
    return participant.last_reminder_at + parse_duration(campaign.every)


def last_call_at(campaign: Campaign) -> datetime | None:
    return campaign.closes_at - parse_duration(campaign.last_call_before) if campaign.last_call_before else None


async def run_round(session: AsyncSession, campaign: Campaign, settings: Settings, now: datetime) -> RoundResult:
    """Queue every mail of `campaign` that is due at `now` (see the module docstring)."""
    result = RoundResult()
    if campaign.state == CampaignState.closed or now < campaign.opens_at:
        return result
    if now >= campaign.closes_at:
        result.closed = await close(session, campaign, "desk", now=campaign.closes_at, settings=settings)
        return result
    window_open = in_window(campaign.send_window, now, campaign.timezone)
    last_call = last_call_at(campaign)
    for participant, partnership in await participants_of(session, campaign):
        if participant.completed_at is not None:
            if participant.thanked_at is None and await _send(session, settings, campaign, participant, partnership, "thanks", now):
                result.thanks += 1
            continue
        if participant.opted_out:
            continue
        if participant.invited_at is None:
            if await _send(session, settings, campaign, participant, partnership, "invitation", now):
                result.invitations += 1
            continue
        if not window_open:
            continue
        if last_call is not None and now >= last_call:
            if participant.last_call_sent_at is None and await _send(session, settings, campaign, participant, partnership, "last_call", now):
                result.last_calls += 1
            continue
        due = reminder_due_at(campaign, participant)
        if due is not None and now >= due and await _send(session, settings, campaign, participant, partnership, "reminder", now):
            result.reminders += 1
    campaign.last_round_at = now
    session.add(campaign)
    return result


async def _send(
    session: AsyncSession, settings: Settings, campaign: Campaign, participant: Participant,
    partnership: Partnership, kind: str, now: datetime,
) -> bool:
    """Queue one mail to the participant and record it on the participant; False if it cannot go."""
    contact = await mail_contact(session, participant)
    if contact is None:
        return False
    number = participant.reminders_sent + 1
    slug = kind.replace("_", "-")
    suffix = f"reminder:{number}" if kind == "reminder" else slug
    template = campaign.templates.get(kind) or f"survey_{kind}"
    subject, text, html = render_mail(
        template, contact.language,
        name=contact.name, partnership=partnership.acronym, campaign=campaign.name,
        url=participant_url(settings, campaign, participant),
        closes=campaign.closes_at.astimezone(zone(campaign.timezone)).strftime("%Y-%m-%d %H:%M %Z"),
        reminder=number, max_reminders=campaign.max_reminders,
    )
    msg = compose(
        settings, to=contact.email, subject=subject, text=text, html=html, automatic=False,
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},  # RFC 3834
    )
    await queue_mail(session, msg, key=f"survey:{campaign.id}:{participant.id}:{suffix}", kind=f"survey-{slug}")
    if kind == "invitation":
        participant.invited_at = now
    elif kind == "reminder":
        participant.reminders_sent = number
        participant.last_reminder_at = now
    elif kind == "last_call":
        participant.last_call_sent_at = now
    else:
        participant.thanked_at = now
    session.add(participant)
    return True


async def remind_now(session: AsyncSession, campaign: Campaign, settings: Settings, actor: str, now: datetime | None = None) -> int:
    """Send the next reminder to everyone pending at once, outside the timetable (still at most max)."""
    now = now or utcnow()
    if campaign.state == CampaignState.closed or not campaign.opens_at <= now < campaign.closes_at:
        raise CampaignError(f"the campaign {campaign.name!r} is not open")
    sent = 0
    for participant, partnership in await participants_of(session, campaign):
        if participant.completed_at or participant.opted_out or reminder_due_at(campaign, participant) is None:
            continue  # answered, opted out, not invited yet, or past the last reminder or the last call
        sent += await _send(session, settings, campaign, participant, partnership, "reminder", now)
    await audit(session, actor, "survey.reminded", campaign=campaign.name, reminders=sent)
    return sent


# ---------------------------------------------------------------- knowing who answered
async def mark_done(
    session: AsyncSession, campaign: Campaign | str, partnership: Partnership | str, via: str, actor: str,
    *, settings: Settings | None = None, now: datetime | None = None,
) -> bool:
    """Record that the partnership answered the campaign. True the first time, False when it was known.

    With `settings`, the thank-you is queued at once (if the campaign is still open); without,
    the next round of the timetable queues it — the same idempotency key either way.
    """
    if via not in COMPLETION_CHANNELS:
        raise ValueError(f"via must be one of {COMPLETION_CHANNELS}")
    if isinstance(campaign, str):
        campaign = await get_campaign(session, campaign)
    acronym = partnership if isinstance(partnership, str) else partnership.acronym
    participant, row = await participant_for(session, campaign, acronym)
    return await _complete(session, campaign, participant, row, via, actor, settings, now or utcnow())


async def _complete(
    session: AsyncSession, campaign: Campaign, participant: Participant, partnership: Partnership,
    via: str, actor: str, settings: Settings | None, now: datetime,
) -> bool:
    if participant.completed_at is not None:
        return False
    participant.completed_at = now
    participant.completed_via = via
    participant.completed_by = actor
    session.add(participant)
    await audit(session, actor, "survey.completed", campaign=campaign.name, partnership=partnership.acronym, via=via)
    if settings is not None and campaign.state != CampaignState.closed and campaign.opens_at <= now < campaign.closes_at:
        await _send(session, settings, campaign, participant, partnership, "thanks", now)
    return True


async def complete_by_token(
    session: AsyncSession, settings: Settings, token: str, now: datetime | None = None
) -> tuple[Campaign, Partnership, bool]:
    """The completion URL: (campaign, partnership, first time?). BadToken for a forged or malformed token."""
    participant_id, nonce, signature = split_token(token)
    participant = await session.get(Participant, participant_id)
    if participant is None or participant.token_nonce != nonce:
        raise BadToken("this survey link is not valid", 403)
    check_signature(settings, participant.campaign_id, participant.id, nonce, signature)
    campaign = await session.get(Campaign, participant.campaign_id)
    now = now or utcnow()
    if campaign.state == CampaignState.closed or now >= campaign.closes_at:
        raise BadToken("this survey is closed", 410)
    partnership = await session.get(Partnership, participant.partnership_id)
    first = await _complete(session, campaign, participant, partnership, "url", "survey-link", settings, now)
    return campaign, partnership, first


async def apply_platform_rows(
    session: AsyncSession, campaign: Campaign, rows: list[dict], settings: Settings | None, now: datetime | None = None
) -> int:
    """Mark completions reported by LimeSurvey's list_participants rows; returns how many are new.

    A row matches a participant by LimeSurvey tid, token, or the e-mail of its contacts; its
    'completed' is "N" while pending and the completion date (or "Y") once answered.
    """
    now = now or utcnow()
    newly = 0
    pairs = await participants_of(session, campaign)
    by_email: dict[str, tuple[Participant, Partnership]] = {}
    for participant, partnership in pairs:
        for contact_id in (participant.contact_id, participant.fallback_contact_id):
            contact = await session.get(Contact, contact_id) if contact_id else None
            if contact is not None:
                by_email[contact.email.lower()] = (participant, partnership)
    by_tid = {p.external_id: (p, q) for p, q in pairs if p.external_id}
    by_token = {p.external_token: (p, q) for p, q in pairs if p.external_token}
    for row in rows:
        info = row.get("participant_info") or {}
        match = (by_tid.get(str(row.get("tid"))) or by_token.get(str(row.get("token") or ""))
                 or by_email.get(str(info.get("email") or "").lower()))
        completed = str(row.get("completed") or "N").strip()
        if match is None or completed.upper() in {"N", ""}:
            continue
        participant, partnership = match
        participant.external_id = participant.external_id or str(row.get("tid") or "") or None
        participant.external_token = participant.external_token or row.get("token") or None
        when_done = _platform_date(completed, campaign.timezone) or now
        newly += await _complete(session, campaign, participant, partnership, "limesurvey", "limesurvey", settings, when_done)
    return newly


async def platform_participants_to_add(session: AsyncSession, campaign: Campaign) -> list[dict]:
    """LimeSurvey participant data for those not yet on the platform (only when the survey URL
    uses LimeSurvey's own tokens, `{ls_token}`)."""
    if "{ls_token}" not in campaign.url_template:
        return []
    wanted = []
    for participant, partnership in await participants_of(session, campaign):
        contact = await mail_contact(session, participant)
        if participant.external_id is None and contact is not None:
            first, _, last = contact.name.partition(" ")
            wanted.append({"email": contact.email, "firstname": first, "lastname": last,
                           "attribute_1": partnership.acronym})
    return wanted


async def record_platform_ids(session: AsyncSession, campaign: Campaign, created: list[dict]) -> int:
    """Keep the tid and token LimeSurvey gave to each participant added (rows with an error are skipped)."""
    by_email = {}
    for participant, _ in await participants_of(session, campaign):
        contact = await mail_contact(session, participant)
        if contact is not None:
            by_email[contact.email.lower()] = participant
    count = 0
    for row in created:
        participant = by_email.get(str(row.get("email") or "").lower())
        if participant is None or not row.get("tid") or row.get("errors"):
            continue
        participant.external_id, participant.external_token = str(row["tid"]), row.get("token") or None
        session.add(participant)
        count += 1
    return count


def _platform_date(value: str, tz: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None  # "Y": anonymised surveys do not give the date
    return moment if moment.tzinfo else moment.replace(tzinfo=zone(tz))


async def pending_for_sender(session: AsyncSession, address: str) -> list[tuple[Campaign, Partnership]]:
    """Open campaigns in which the sender's partnership has not answered yet: what a "we have
    submitted it" survey mail can be confirmed for (a Slack button calls `mark_done`)."""
    contact = await contact_by_email(session, address)
    if contact is None or contact.partnership_id is None:
        return []
    rows = await session.exec(
        select(Campaign, Partnership)
        .join(Participant, Participant.campaign_id == Campaign.id)
        .join(Partnership, Partnership.id == Participant.partnership_id)
        .where(Participant.partnership_id == contact.partnership_id, Participant.completed_at.is_(None),
               Campaign.state == CampaignState.open)
    )
    return list(rows)

