"""Distribution lists, who is on them and why (consent), and the announcements sent to them.

A list's members are computed, not stored: the consenting contacts of the partnerships of
`registry_type` (escp-4i, escp-s3), plus active subscriptions, minus those who left, minus
failing (bounced or suppressed) and erased contacts (`members` below).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import NamedTuple

from sqlalchemy import UniqueConstraint, and_, false, func, or_
from sqlmodel import Field, SQLModel, select

from models.base import long_text, when
from models.partnerships import Contact, Partnership


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


async def all_lists(session) -> list[MailingList]:
    return list(await session.exec(select(MailingList).order_by(MailingList.id)))


async def list_named(session, name: str) -> MailingList | None:
    return (await session.exec(select(MailingList).where(MailingList.name == name))).first()


async def subscription_of(session, list_id: int, contact_id: int) -> Subscription | None:
    query = select(Subscription).where(Subscription.list_id == list_id, Subscription.contact_id == contact_id)
    return (await session.exec(query)).first()


async def subscriptions_of(session, contact_ids: list[int]) -> list[Subscription]:
    """Every subscription row of these contacts, whatever its state."""
    return list(await session.exec(select(Subscription).where(Subscription.contact_id.in_(contact_ids))))


def _member_condition(mlist: MailingList):
    active = select(Subscription.contact_id).where(
        Subscription.list_id == mlist.id, Subscription.state == SubscriptionState.active
    )
    left = select(Subscription.contact_id).where(Subscription.list_id == mlist.id, Subscription.state == SubscriptionState.left)
    registry = false()
    if mlist.registry_type:
        partnerships = select(Partnership.id).where(Partnership.type == mlist.registry_type)
        registry = and_(Contact.partnership_id.in_(partnerships), Contact.consent_at.is_not(None))
    return and_(or_(Contact.id.in_(active), registry), Contact.id.not_in(left), Contact.erased_at.is_(None))


async def members(session, mlist: MailingList) -> list[Contact]:
    """Who receives this list's mail now (suppressed addresses excluded)."""
    query = select(Contact).where(_member_condition(mlist), Contact.failing == False).order_by(Contact.id)  # noqa: E712
    return list(await session.exec(query))


class Recipient(NamedTuple):
    """A member as a mail to them needs them (what list headers and tokens read of a Contact)."""

    id: int
    email: str


async def recipients(session, mlist: MailingList) -> list[Recipient]:
    """`members()`, only their ids and addresses: a bulk send reads thousands, and a Contact costs more to build."""
    query = select(Contact.id, Contact.email).where(_member_condition(mlist), Contact.failing == False)  # noqa: E712
    return [Recipient(*row) for row in await session.exec(query.order_by(Contact.id))]


async def member_count(session, mlist: MailingList) -> int:
    """len(members(...)), counted by the database."""
    query = select(func.count()).select_from(Contact).where(_member_condition(mlist), Contact.failing == False)  # noqa: E712
    return (await session.exec(query)).one()


async def suppressed(session, mlist: MailingList) -> list[Contact]:
    """Members whose address is suppressed (hard bounce, repeated soft bounces, complaint, manual)."""
    query = select(Contact).where(_member_condition(mlist), Contact.failing == True).order_by(Contact.id)  # noqa: E712
    return list(await session.exec(query))


async def is_member(session, mlist: MailingList, contact: Contact) -> bool:
    query = select(Contact.id).where(Contact.id == contact.id, _member_condition(mlist))
    return (await session.exec(query)).first() is not None
