"""Labels corrected by staff: each is a labelled example for retraining the classifier."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, select

from models.base import when
from models.partnerships import Partnership
from models.tickets import Message, Ticket


class Correction(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True, description="the request mail")
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    intent: str = Field(max_length=32)
    category: str | None = Field(default=None, max_length=64, description="the corrected category")
    previous_category: str | None = Field(default=None, max_length=64, description="what the classifier said")
    actor: str = Field(max_length=120)
    at: datetime = when(default_now=True, index=True)


async def corrected_examples(session) -> list[tuple[bytes, dict]]:
    """(raw mail, labels) for every mail whose classification staff corrected: the newest correction wins."""
    rows = await session.exec(
        select(Correction, Message.raw, Ticket.language, Partnership.acronym)
        .join(Message, Message.id == Correction.message_id)
        .join(Ticket, Ticket.id == Correction.ticket_id)
        .outerjoin(Partnership, Partnership.id == Ticket.partnership_id)
        .order_by(Correction.at)
    )
    latest: dict[int, tuple[bytes, dict]] = {}
    for correction, raw, language, acronym in rows:
        if raw:
            latest[correction.message_id] = (raw, {
                "intent": correction.intent, "category": correction.category,
                "partnership": acronym, "language": language or "en",
            })
    return list(latest.values())
