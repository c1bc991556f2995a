"""The acknowledgement a new ticket gets: in the requester's language, rate-limited, never into a loop."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from handlers.loops import never_answer
from handlers.mail_prototype import Prototype, header_bytes, new_boundary, plain_as_policy, qp_body
from handlers.addresses import BadAddress, envelope_address
from handlers.outgoing import SMTP_POLICY, compose, new_message_id, outbox_fields, queue_mail
from handlers.parsing import ParsedMail
from models.audit import audit
from models.base import insert_all, utcnow
from models.outbox import OutboxMail
from models.tickets import Ticket
from templates import render_mail


@dataclass(frozen=True)
class Ack:
    """An acknowledgement decided but not composed yet: intake composes a batch's in the worker pool."""

    ticket_id: int
    ref: str
    language: str | None
    recipient: str
    name: str
    subject: str
    in_reply_to: str | None
    references: list[str]


async def acknowledge(
    session: AsyncSession, ticket: Ticket, mail: ParsedMail, settings: Settings, later: list[Ack] | None = None
) -> OutboxMail | None:
    """Queue the acknowledgement of a new ticket, unless it must not be sent (said in the audit). With
    `later`, it is only decided here and appended there, for `queue_composed()` in the same transaction."""
    decided = [] if later is None else later
    before = len(decided)
    await acknowledge_many(session, [(ticket, mail)], settings, decided)
    if later is not None or len(decided) == before:
        return None
    return await queue_mail(session, compose_ack(settings, decided[-1]), key=f"ack:{ticket.id}", kind="ack",
                            ticket_id=ticket.id)


async def acknowledge_many(session: AsyncSession, opened: list[tuple[Ticket, ParsedMail]], settings: Settings,
                           later: list[Ack]) -> None:
    """Decide the acknowledgements of new tickets, in order, into `later` (one query for the rate limit,
    counting the ones `later` already holds: they are not in the outbox yet)."""
    wanted = [(ticket, mail, recipient) for ticket, mail in opened
              if (recipient := await _answerable(session, ticket, mail, settings)) is not None]
    if not wanted:
        return
    since = utcnow() - timedelta(hours=1)
    query = (select(OutboxMail.recipient, func.count(OutboxMail.id))
             .where(OutboxMail.kind == "ack", OutboxMail.recipient.in_({r.lower() for *_, r in wanted}), OutboxMail.created_at >= since)
             .group_by(OutboxMail.recipient))
    counts = dict((await session.exec(query)).all())
    for ack in later:
        counts[ack.recipient.lower()] = counts.get(ack.recipient.lower(), 0) + 1
    for ticket, mail, recipient in wanted:
        if counts.get(recipient.lower(), 0) >= settings.acks_per_sender_per_hour:
            await audit(session, "desk", "ack.skipped", ticket, why="rate limit", to=recipient)
            continue
        counts[recipient.lower()] = counts.get(recipient.lower(), 0) + 1
        later.append(_ack(ticket, mail, recipient))


async def _answerable(session: AsyncSession, ticket: Ticket, mail: ParsedMail, settings: Settings) -> str | None:
    """The address an acknowledgement may go to, or None with why in the audit."""
    recipient = _reply_address(mail)
    if recipient is None:
        await audit(session, "desk", "ack.skipped", ticket, why="no valid address",
                    to=(mail.reply_to or mail.from_addr)[:320])
        return None
    if never_answer(recipient, settings.desk_address):
        await audit(session, "desk", "ack.skipped", ticket, why="machine or own address", to=recipient)
        return None
    return recipient


def _ack(ticket: Ticket, mail: ParsedMail, recipient: str) -> Ack:
    return Ack(ticket.id, ticket.ref, ticket.language, recipient, mail.from_name, mail.subject or "(no subject)",
               mail.message_id, mail.references)


def compose_ack(settings: Settings, ack: Ack) -> EmailMessage:
    """The acknowledgement composed with the `email` package: the reference `ack_fields` is held to."""
    return compose(settings, to=ack.recipient, **_texts(settings, ack), in_reply_to=ack.in_reply_to, references=ack.references)


def _texts(settings: Settings, ack: Ack) -> dict:
    subject, text, html = render_mail(
        "ack", ack.language, ref=ack.ref, name=ack.name, subject=ack.subject, response_days=settings.first_response_days,
    )
    return dict(subject=subject, text=text, html=html)


def ack_fields(settings: Settings, ack: Ack) -> dict:
    """In a worker: the outbox columns of `ack`, composed. Made from the prototype (`_AckPrototype`)
    when its fields allow, else with the `email` package: the same bytes but the Date, Message-ID and
    boundary, in a third of the time (most of intake's CPU went into composing acknowledgements)."""
    texts = _texts(settings, ack)
    prototype = _AckPrototype.of(settings, bool(ack.in_reply_to))
    fields = prototype.fields(settings, ack, **texts) if prototype is not None else None
    return fields or outbox_fields(compose(settings, to=ack.recipient, **texts, in_reply_to=ack.in_reply_to,
                                           references=ack.references))


class _AckPrototype:
    """An acknowledgement composed once, with placeholders where acknowledgements differ: the To,
    Subject, Date, Message-ID and threading headers, both bodies and the MIME boundary."""

    TO, SUBJECT, TEXT, HTML, PARENT = "ack@prototype.example", "@@SUBJECT@@", "@@TEXT@@", "@@HTML@@", "<parent@prototype.example>"

    def __init__(self, settings: Settings, threaded: bool) -> None:
        self.threaded = threaded
        msg = compose(settings, to=self.TO, subject=self.SUBJECT, text=self.TEXT, html=self.HTML,
                      in_reply_to=self.PARENT if threaded else None)
        self.mail_from = msg["From"].addresses[0].addr_spec
        self.date = ("", b"")  # the last Date header made, with its value
        self.names = ["To", "Subject", "Date", "Message-ID", *(["In-Reply-To", "References"] if threaded else [])]
        values = [self.TO, self.SUBJECT, str(msg["Date"]), str(msg["Message-ID"]), self.PARENT, self.PARENT]
        self.headers = [header_bytes(name, value) for name, value in zip(self.names, values)]
        self.bodies = [qp_body(self.TEXT), qp_body(self.HTML)]
        raw = msg.as_bytes(policy=SMTP_POLICY)  # which also gives the message its boundary
        self.boundary = msg.get_boundary().encode("ascii")
        self.cut = None
        if plain_as_policy(*zip(self.names, values), ("To", "a.name@partner.example")):
            self.cut = Prototype.cut(raw, [*self.headers, *self.bodies], [self.boundary])

    @staticmethod
    def of(settings: Settings, threaded: bool) -> _AckPrototype | None:
        """The prototype for the desk's name and address (what `compose` reads of the settings), once per
        worker; None when it cannot be cut."""
        key = (settings.desk_name, settings.desk_address, threaded)
        if key not in _PROTOTYPES:
            prototype = _AckPrototype(settings, threaded)
            _PROTOTYPES[key] = prototype if prototype.cut is not None else None
        return _PROTOTYPES[key]

    def fields(self, settings: Settings, ack: Ack, *, subject: str, text: str, html: str) -> dict | None:
        """The outbox columns, or None where the prototype does not serve: a recipient not written as it
        goes on the envelope (IDNA, SMTPUTF8), or a header value `compose` refuses (CR, LF)."""
        recipient = ack.recipient
        values = [recipient, " ".join(subject.split()), email.utils.formatdate(localtime=False, usegmt=True),
                  new_message_id(settings)]
        if self.threaded:
            values += [ack.in_reply_to, " ".join([*(ack.references or []), ack.in_reply_to][-20:])]
        try:
            if not recipient.isascii() or envelope_address(recipient) != recipient:
                return None
        except BadAddress:
            return None
        if any("".join(value.splitlines()) != value for value in values):
            return None
        if self.date[0] != values[2]:
            self.date = (values[2], header_bytes("Date", values[2]))
        own = {piece: self.date[1] if name == "Date" else header_bytes(name, value)
               for piece, name, value in zip(self.headers, self.names, values)}
        own.update(zip(self.bodies, [qp_body(text), qp_body(html)]))
        own[self.boundary] = new_boundary()
        return {"message_id": values[3], "mail_from": self.mail_from, "recipient": recipient.lower(),
                "rcpt_to": [recipient], "raw": self.cut.fill(own)}


async def queue_composed(session: AsyncSession, composed: list[tuple[Ack, dict]]) -> None:
    """The outbox rows of acknowledgements composed by `ack_fields()`; as `queue_mail`, one per ticket."""
    keys = [f"ack:{ack.ticket_id}" for ack, _ in composed]
    taken = set((await session.exec(select(OutboxMail.key).where(OutboxMail.key.in_(keys)))).all())
    await insert_all(session, OutboxMail, [dict(key=f"ack:{ack.ticket_id}", kind="ack", ticket_id=ack.ticket_id, **fields)
                                           for ack, fields in composed if f"ack:{ack.ticket_id}" not in taken])


_PROTOTYPES: dict[tuple[str, str, bool], _AckPrototype | None] = {}


def _reply_address(mail: ParsedMail) -> str | None:
    """Reply-To, else From, when that header holds exactly one mailbox with a valid address
    (`ParsedMail.answer_to`: read from the parsed header, never from its decoded text: an encoded-word
    is a display name or nothing, so `=?utf-8?b?…?=` decoding to `eve@victim.example` (or to a list)
    is no address)."""
    return mail.answer_to[0] if mail.answer_to else None
