"""Labels corrected by staff: each is a labelled example for retraining the classifier."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import when


class Correction(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True, description="the request mail")
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    intent: str = Field(max_length=32)
    category: str | None = Field(default=None, max_length=64, description="the corrected category")
    previous_category: str | None = Field(default=None, max_length=64, description="what the classifier said")
    actor: str = Field(max_length=120)
    at: datetime = when(default_now=True, index=True)
