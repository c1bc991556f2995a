"""Distribution lists, who is on them and why (consent), and the announcements sent to them.

A list's members are computed, not stored: the consenting contacts of the partnerships of
`registry_type` (escp-4i, escp-s3), plus active subscriptions, minus those who left, minus
failing (bounced or suppressed) and erased contacts (see handlers/lists.members).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import long_text, when


class MailingList(SQLModel, table=True):
    __tablename__ = "mailing_list"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=64)
    description: str = Field(default="", max_length=500)
    sender_name: str = Field(default="", max_length=200)
    sender_address: str = Field(default="", max_length=320)
    registry_type: str | None = Field(default=None, max_length=16, description="ESCP-4i/ESCP-S3: members from the registry")
    created_at: datetime = when(default_now=True)


class SubscriptionState(str, Enum):
    pending = "pending"  # double opt-in mail sent, not confirmed yet
    active = "active"
    left = "left"


class Subscription(SQLModel, table=True):
    """One person on one list, with the record of their consent (how, when) and of their leaving."""

    __table_args__ = (UniqueConstraint("list_id", "contact_id", name="uq_subscription_list_contact"),)

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="mailing_list.id", index=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    state: SubscriptionState = Field(default=SubscriptionState.pending, index=True)
    consent_source: str = Field(default="", max_length=120, description="web-form, mail, staff:U123 (met at event), …")
    consent_at: datetime | None = when()
    confirmed_at: datetime | None = when()
    left_at: datetime | None = when()
    left_how: str | None = Field(default=None, max_length=64)
    created_at: datetime = when(default_now=True)


class AnnouncementState(str, Enum):
    draft = "draft"  # composed; a test may be sent
    approved = "approved"  # approved by staff; waiting for its time (or sent at once)
    sending = "sending"  # outbox rows are being written / delivered
    sent = "sent"  # every recipient's row is written; delivery is the outbox's job
    cancelled = "cancelled"


class Announcement(SQLModel, table=True):
    """A newsletter or announcement to one list: Markdown in, one outbox row per recipient out."""

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="mailing_list.id", index=True)
    subject: str = Field(max_length=998)
    markdown: str = long_text(nullable=False)
    state: AnnouncementState = Field(default=AnnouncementState.draft, index=True)
    send_at: datetime | None = when(index=True)
    created_by: str = Field(default="", max_length=120)
    approved_by: str | None = Field(default=None, max_length=120)
    approved_at: datetime | None = when()
    queued_at: datetime | None = when()
    recipients: int = 0
    created_at: datetime = when(default_now=True)
