"""The states a ticket, a message and an outgoing mail can be in, apart from their tables.

The standard library only: `eocic-desk tickets` and `ticket` read these states from sqlite3 rows
(`models/sqlite_read.py`) without loading SQLModel. A column of one of these Enums stores the
member's name.
"""

from __future__ import annotations

from enum import Enum


class TicketStatus(str, Enum):
    new = "new"
    open = "open"
    waiting = "waiting"
    closed = "closed"


class MessageState(str, Enum):
    recorded = "recorded"  # stored and handled
    quarantined = "quarantined"  # stored raw; parsing or handling failed


class OutboxState(str, Enum):
    pending = "pending"
    sending = "sending"  # handed to SMTP; a crash here leaves it in doubt and it is retried
    sent = "sent"
    failed = "failed"  # permanent refusal, or out of attempts
    cancelled = "cancelled"
