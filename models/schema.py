"""Every table, so that `SQLModel.metadata` is the whole schema (Alembic's environment, the schema tests)."""

from models.audit import AuditEntry
from models.corrections import Correction
from models.lists import Announcement, MailingList, Subscription
from models.mailbox import MailboxCursor
from models.outbox import OutboxMail
from models.partnerships import Contact, Member, Partnership
from models.slack import SlackCard, SlackNotice
from models.surveys import Campaign, Participant, SurveyAnswer
from models.tickets import Attachment, Message, Ticket
from models.webinars import Webinar

__all__ = [
    "AuditEntry", "Attachment", "Contact", "MailboxCursor", "Member", "Message", "OutboxMail", "Partnership", "Ticket",
    "Campaign", "Participant", "SurveyAnswer", "Announcement", "MailingList", "Subscription", "Webinar",
    "Correction", "SlackCard", "SlackNotice",
]
