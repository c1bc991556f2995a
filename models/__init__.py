"""The data: SQLModel tables and their queries. Importing this package registers every table."""

from models.audit import AuditEntry
from models.mailbox import MailboxCursor
from models.outbox import OutboxMail, OutboxState
from models.partnerships import Contact, Member, Partnership
from models.tickets import Attachment, Message, MessageState, Ticket, TicketStatus

__all__ = [
    "AuditEntry", "Attachment", "Contact", "MailboxCursor", "Member", "Message", "MessageState",
    "OutboxMail", "OutboxState", "Partnership", "Ticket", "TicketStatus",
]
