"""Tickets and the mail messages (in and out) that belong to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel, select

from models.base import blob, json_dict, json_list, long_text, when
from models.states import MessageState, TicketStatus

__all__ = ["Attachment", "Message", "MessageState", "Ticket", "TicketStatus", "first_inbound", "ticket_by_ref"]


class Ticket(SQLModel, table=True):
    # the staff queues read the oldest tickets of one status from this index (handlers/ticket_queries.py)
    __table_args__ = (Index("ticket_queue_index", "status", "received_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    ref: str | None = Field(default=None, unique=True, index=True, max_length=32)
    status: TicketStatus = Field(default=TicketStatus.new, index=True)
    intent: str = Field(default="service-request", max_length=32)
    category: str | None = Field(default=None, max_length=64, index=True)
    partnership_id: int | None = Field(default=None, foreign_key="partnership.id", index=True)
    requester_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    requester_email: str = Field(default="", max_length=320, index=True)
    assignee: str | None = Field(default=None, max_length=64, index=True)
    subject: str = Field(default="", max_length=998)
    language: str | None = Field(default=None, max_length=8)
    needs_review: bool = False
    confidence: dict = json_dict()
    reasons: list[str] = json_list()
    received_at: datetime = when(default_now=True, index=True)
    first_response_at: datetime | None = when()
    closed_at: datetime | None = when()
    updated_at: datetime = when(default_now=True)


class Message(SQLModel, table=True):
    """One mail, exactly once per mailbox: (mailbox, dedup_key) is unique."""

    __table_args__ = (UniqueConstraint("mailbox", "dedup_key", name="uq_message_mailbox_dedup"),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=320)
    dedup_key: str = Field(max_length=998, description="Message-ID (+ fingerprint when reused), or the fingerprint")
    content_hash: str | None = Field(default=None, max_length=64, description="parsing.content_fingerprint of raw")
    reused_message_id: bool = Field(default=False, description="another mail came with the same Message-ID")
    direction: str = Field(default="in", max_length=3)
    state: MessageState = Field(default=MessageState.recorded, index=True)
    kind: str = Field(default="", max_length=32, description="what intake made of it: ticket, reply, bounce, …")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    message_id: str | None = Field(default=None, max_length=998, index=True)
    in_reply_to: str | None = Field(default=None, max_length=998)
    references: str = long_text(nullable=False)
    from_addr: str = Field(default="", max_length=320, index=True)
    from_name: str = Field(default="", max_length=300)
    to: list[str] = json_list()
    cc: list[str] = json_list()
    date: datetime | None = when()
    subject: str = Field(default="", max_length=998)
    text: str = long_text(nullable=False)
    html: str | None = long_text()
    raw: bytes | None = blob()
    raw_size: int = 0
    error: str | None = long_text()
    classification: dict = json_dict()
    source: str = Field(default="", max_length=300, description="imap:FOLDER:UID or the ingested file")
    received_at: datetime = when(default_now=True, index=True)


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str = Field(max_length=500)
    content_type: str = Field(max_length=200)
    size: int
    content: bytes | None = blob()
    omitted: bool = Field(default=False, description="larger than the cap: not stored")


async def ticket_by_ref(session, ref: str) -> Ticket | None:
    """The ticket with exactly this reference (`EOCIC-00042`)."""
    return (await session.exec(select(Ticket).where(Ticket.ref == ref))).first()


async def first_inbound(session, ticket: Ticket) -> Message | None:
    """The mail that opened the ticket (the request)."""
    query = select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in").order_by(Message.id)
    return (await session.exec(query.limit(1))).first()
