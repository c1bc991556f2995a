"""The data: SQLModel tables and their queries. Importing this package registers every table."""

from models.audit import AuditEntry
from models.corrections import Correction
from models.lists import Announcement, MailingList, Subscription
from models.mailbox import MailboxCursor
from models.outbox import OutboxMail, OutboxState
from models.partnerships import Contact, Member, Partnership
from models.slack import SlackCard, SlackNotice
from models.surveys import Campaign, Participant, SurveyAnswer
from models.tickets import Attachment, Message, MessageState, Ticket, TicketStatus
from models.webinars import Webinar

__all__ = [
    "AuditEntry", "Attachment", "Contact", "MailboxCursor", "Member", "Message", "MessageState",
    "OutboxMail", "OutboxState", "Partnership", "Ticket", "TicketStatus",
    "Campaign", "Participant", "SurveyAnswer",
    "Announcement", "MailingList", "Subscription", "Webinar",
    "Correction", "SlackCard", "SlackNotice",
]
