"""What Slack should show after a ticket event, written as `SlackNotice` rows in the event's transaction.

`install(deps)` adds `on_ticket_event` to the ticket hooks when Slack is configured, so that
intake ("opened", "message"), staff actions ("action") and other features' events refresh the
ticket's card and tell the card's thread what happened. Rows carry plain data; Block Kit is
rendered at delivery (bot/slack/blocks.py). Keys make every notice idempotent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Callable

from sqlalchemy import event
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import ticket_queries
from handlers.context import Deps
from models.base import insert_all
from models.slack import NoticeKind, SlackNotice

log = logging.getLogger(__name__)

EXCERPT_CHARS = 1200

# Wake-up calls of the delivery workers in this process, run after a commit that queued notices.
wakeups: set[Callable[[], None]] = set()


@dataclass(frozen=True)
class StaffAction:
    """What a person did to a ticket; given to ticket hooks in place of a mail message."""

    actor: str  # slack:U123, cli, desk
    verb: str  # assigned, replied, noted, recategorised, closed, reopened
    detail: dict = field(default_factory=dict)
    key: str = field(default_factory=lambda: uuid.uuid4().hex)  # from the Slack interaction when there is one


async def add_notice(
    session: AsyncSession, *, key: str, kind: NoticeKind, channel: str, ticket_id: int | None = None,
    payload: dict | None = None,
) -> SlackNotice | None:
    """Queue a notice unless one with the same key exists."""
    added = await add_notices(session, [dict(key=key, kind=kind, channel=channel, ticket_id=ticket_id, payload=payload)])
    return added[0] if added else None


async def add_notices(session: AsyncSession, notices: list[dict]) -> list[SlackNotice]:
    """Queue notices (the fields of `add_notice` each), leaving out those whose key exists or came earlier
    in the list: one query for all the keys. Returns the rows added."""
    # keys as stored (the column's length), so that the check finds them
    notices = [{**notice, "key": notice["key"][:300], "payload": notice.get("payload") or {}} for notice in notices]
    keys = {notice["key"] for notice in notices}
    taken = set((await session.exec(select(SlackNotice.key).where(SlackNotice.key.in_(keys)))).all()) if keys else set()
    new = []
    for notice in notices:
        if notice["key"] not in taken:
            taken.add(notice["key"])
            new.append(notice)
    rows = await insert_all(session, SlackNotice, new)
    if rows:
        sync = session.sync_session
        if not sync.info.get("slack_wakeup"):
            sync.info["slack_wakeup"] = True
            event.listen(sync, "after_commit", _wake, once=True)
    return rows


def _wake(sync_session) -> None:
    sync_session.info.pop("slack_wakeup", None)
    for wakeup in list(wakeups):
        wakeup()


def make_hook(channel: str):
    """The ticket hook that writes card and thread notices for the triage channel `channel`."""

    async def on_ticket_events(session: AsyncSession, event: str, pairs: list) -> None:
        await add_notices(session, [notice for ticket, message in pairs for notice in _notices(channel, event, ticket, message)])

    return on_ticket_events


def _notices(channel: str, event: str, ticket, message) -> list[dict]:
    """The notices (fields of `add_notice`) that one ticket event makes."""
    card = dict(kind=NoticeKind.card, channel=channel, ticket_id=ticket.id)
    if event == "opened":
        return [dict(key=f"card:opened:{ticket.id}", **card)]
    if event == "message" and message is not None:
        payload = {
            "type": "mail", "from": message.from_addr, "name": message.from_name, "subject": message.subject,
            "excerpt": (message.text or "")[:EXCERPT_CHARS],
        }
        return [dict(key=f"card:mail:{message.id}", **card),
                dict(key=f"thread:mail:{message.id}", kind=NoticeKind.thread, channel=channel, ticket_id=ticket.id, payload=payload)]
    if isinstance(message, StaffAction):
        return [dict(key=f"card:{message.key}", **card),
                dict(key=f"thread:{message.key}", kind=NoticeKind.thread, channel=channel, ticket_id=ticket.id,
                     payload={"type": "action", **asdict(message)})]
    # Any other feature's event: keep the card current.
    return [dict(key=f"card:{event}:{ticket.id}:{uuid.uuid4().hex}", **card)]


def install(deps: Deps) -> None:
    """Make ticket events write Slack notices, when Slack and a triage channel are configured."""
    settings = deps.settings
    if not settings.slack_configured:
        return
    if not settings.slack_triage_channel:
        log.warning("EOCIC_SLACK_TRIAGE_CHANNEL is not set: no ticket cards will be posted")
        return
    deps.ticket_hooks.append(make_hook(settings.slack_triage_channel))


async def queue_digest(deps: Deps, today: date) -> SlackNotice | None:
    """The morning digest of overdue tickets (once per day), and a refresh of their cards so they show the flag."""
    settings = deps.settings
    if not (settings.slack_configured and settings.slack_triage_channel):
        return None
    channel = settings.slack_triage_channel
    async with deps.db.transaction() as session:
        data = await ticket_queries.queue(session, settings, "overdue", limit=20)
        row = await add_notice(session, key=f"digest:{today.isoformat()}", kind=NoticeKind.digest, channel=channel,
                               payload={"days": settings.first_response_days, **data})
        for ticket_id in await ticket_queries.overdue_with_cards(session, settings):
            await add_notice(session, key=f"card:overdue:{ticket_id}", kind=NoticeKind.card, channel=channel,
                             ticket_id=ticket_id)
    return row


async def post_text(session: AsyncSession, settings, key: str, text: str, report: dict | None = None) -> None:
    """A line of another feature (survey status, webinar, newsletter progress) in the triage channel.

    `text` is our own mrkdwn; whatever in it came from people must already be escaped. `report`
    (`{"progress": campaign_id}`) adds that report as a file after the line (bot/slack_delivery.py).
    """
    if settings.slack_triage_channel and settings.slack_configured:
        await add_notice(session, key=key, kind=NoticeKind.digest, channel=settings.slack_triage_channel,
                         payload={"text": text, **({"report": report} if report else {})})
