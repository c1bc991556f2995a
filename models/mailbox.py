"""Where the mailbox watcher stands: the last UID handled per (mailbox, folder, UIDVALIDITY)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel, select

from models.base import when


class MailboxCursor(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("mailbox", "folder", "uidvalidity", name="uq_cursor"),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=320)
    folder: str = Field(max_length=300)
    uidvalidity: int
    last_uid: int = 0
    updated_at: datetime = when(default_now=True)


async def cursor_at(session, mailbox: str, folder: str, uidvalidity: int) -> MailboxCursor | None:
    """The cursor of this folder in this UIDVALIDITY; None when the folder is read for the first time."""
    query = select(MailboxCursor).where(
        MailboxCursor.mailbox == mailbox, MailboxCursor.folder == folder, MailboxCursor.uidvalidity == uidvalidity
    )
    return (await session.exec(query)).first()
