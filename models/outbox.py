"""Every outgoing mail is a row first, written in the transaction of the decision that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import blob, json_list, long_text, when
from models.states import OutboxState

__all__ = ["OutboxMail", "OutboxState"]


class OutboxMail(SQLModel, table=True):
    # The per-sender acknowledgement cap counts one recipient's recent acks: without this index the
    # count walks every ack ever sent, and intake slows as history grows.
    __table_args__ = (Index("ix_outboxmail_recipient_kind_created", "recipient", "kind", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=300, description="idempotency key: one row per logical send")
    kind: str = Field(max_length=32, index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    message_id: str = Field(max_length=998, description="our Message-ID, the same on every retry")
    mail_from: str = Field(max_length=320)
    recipient: str = Field(max_length=320, index=True)
    rcpt_to: list[str] = json_list()
    raw: bytes | None = blob()
    state: OutboxState = Field(default=OutboxState.pending, index=True)
    attempts: int = 0
    next_attempt_at: datetime = when(default_now=True, index=True)
    last_error: str | None = long_text()
    created_at: datetime = when(default_now=True, index=True)
    sent_at: datetime | None = when()
