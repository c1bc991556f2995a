"""Slack side effects as rows: the notice queue, and where each ticket's card lives.

A ticket event writes `SlackNotice` rows in its own transaction (handlers/slack_notify.py);
bot/slack_delivery.py delivers them and records the card's channel and timestamp in
`SlackCard`, so that later notices update the card in place and post in its thread.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import update
from sqlmodel import Field, SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import json_dict, long_text, utcnow, when

CHANNEL_ERRORS = ("channel_not_found", "not_in_channel", "is_archived")
CARD_HELD = "card_held"  # a thread notice held because its ticket's card is: a consequence, not a cause


class NoticeKind(str, Enum):
    card = "card"  # post the ticket's card, or update it in place: rendered from the ticket at delivery
    thread = "thread"  # a message in the card's thread (an inbound mail, a staff action)
    digest = "digest"  # the morning list of overdue tickets


class NoticeState(str, Enum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # written by older desks (before holding existed); re-queued like `held`
    held = "held"  # Slack refused it for a reason a person must fix (`error_code`, `last_error`: what to do)


class SlackNotice(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=300, description="idempotency key: one row per logical notice")
    kind: NoticeKind = Field(max_length=16)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    channel: str = Field(max_length=64)
    payload: dict = json_dict()
    state: NoticeState = Field(default=NoticeState.pending, index=True)
    attempts: int = 0
    next_attempt_at: datetime = when(default_now=True, index=True)
    last_error: str | None = long_text()
    error_code: str | None = Field(default=None, max_length=64, description="Slack's error code of the last failure")
    created_at: datetime = when(default_now=True)
    sent_at: datetime | None = when()


class SlackCard(SQLModel, table=True):
    """The triage card of a ticket: `chat.update` target and thread parent."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    channel: str = Field(max_length=64)
    ts: str = Field(max_length=32)
    posted_at: datetime = when(default_now=True)
    updated_at: datetime = when(default_now=True)


async def requeue_held(session: AsyncSession, triage_channel: str | None) -> dict[str, int]:
    """Put held notices back in the queue ({error code: count} of those re-queued).

    Notices held because their channel was wrong go to today's triage channel: after the
    operator fixed EOCIC_SLACK_TRIAGE_CHANNEL, they reach the channel that is set now.
    """
    waiting = SlackNotice.state.in_((NoticeState.held, NoticeState.failed))
    counts = dict((await session.exec(
        select(SlackNotice.error_code, func.count()).where(waiting).group_by(SlackNotice.error_code)
    )).all())
    if triage_channel:
        await session.exec(update(SlackNotice).where(waiting, SlackNotice.error_code.in_(CHANNEL_ERRORS))
                           .values(channel=triage_channel))
    await session.exec(update(SlackNotice).where(waiting)
                       .values(state=NoticeState.pending, attempts=0, next_attempt_at=utcnow()))
    return {code or "unknown": n for code, n in counts.items()}


async def notice_figures(session: AsyncSession) -> dict:
    """Notices by state, and what to do about the newest held one (health, metrics)."""
    states = dict((await session.exec(select(SlackNotice.state, func.count()).group_by(SlackNotice.state))).all())
    problem = (await session.exec(
        select(SlackNotice.last_error).where(SlackNotice.state == NoticeState.held, SlackNotice.error_code != CARD_HELD)
        .order_by(SlackNotice.id.desc())
    )).first()
    return {"notices": {state.value: states.get(state, 0) for state in NoticeState}, "problem": problem}
