"""Who did what, when: one row per action of a person or of the desk itself."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import json_dict, when


class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = when(default_now=True, index=True)
    actor: str = Field(max_length=120, description="desk, cli, slack:U123, …")
    action: str = Field(max_length=64, index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    detail: dict = json_dict()


async def audit(session: AsyncSession, actor: str, action: str, ticket=None, **detail) -> None:
    """Add the entry to the session's transaction: the action and its record commit together."""
    session.add(AuditEntry(**audit_values(actor, action, ticket, **detail)))


def audit_values(actor: str, action: str, ticket=None, **detail) -> dict:
    """The column values of an `audit` entry (for `models.base.insert_all` of many)."""
    return dict(actor=actor, action=action, ticket_id=ticket.id if ticket else None, detail=detail)


async def add_audited(session: AsyncSession, row, actor: str, action: str, id_as: str, **detail):
    """Add `row` and the entry for its creation (its new id under `id_as`) to the transaction; returns `row`."""
    session.add(row)
    await session.flush()
    await audit(session, actor, action, None, **{id_as: row.id}, **detail)
    return row


async def get_or_raise(session: AsyncSession, model, ident, not_found: type[Exception]):
    """The `model` row with primary key `ident`, or `not_found(ident)` raised."""
    row = await session.get(model, ident)
    if row is None:
        raise not_found(ident)
    return row
