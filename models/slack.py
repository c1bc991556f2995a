"""Slack side effects as rows: the notice queue, and where each ticket's card lives.

A ticket event writes `SlackNotice` rows in its own transaction (handlers/slack_notify.py);
bot/slack_delivery.py delivers them and records the card's channel and timestamp in
`SlackCard`, so that later notices update the card in place and post in its thread.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlmodel import Field, SQLModel

from models.base import json_dict, long_text, when


class NoticeKind(str, Enum):
    card = "card"  # post the ticket's card, or update it in place: rendered from the ticket at delivery
    thread = "thread"  # a message in the card's thread (an inbound mail, a staff action)
    digest = "digest"  # the morning list of overdue tickets


class NoticeState(str, Enum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # out of attempts; `last_error` says why


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
