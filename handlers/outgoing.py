"""Compose outgoing mail and put it in the outbox, in the caller's transaction.

`queue_mail` is the only way mail leaves the desk: the row carries an idempotency key, so
deciding the same thing twice (a replay, a restart) never queues a second mail.

Every mail goes to exactly one recipient, a syntactically valid address with a domain
(`email-validator`, no DNS look-up), read from the parsed `To` mailbox, never from a display
string. A mail whose recipient is not such an address is recorded `failed` and never sent.
Internationalised addresses are kept in UTF-8 and sent with SMTPUTF8 (RFC 6531); headers fold
to 76 columns, so every RFC 2047 encoded-word stays within the 75 characters the RFC allows.
"""

from __future__ import annotations

import email.policy
import email.utils
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from handlers.addresses import BadAddress, envelope_address
from models.outbox import OutboxMail, OutboxState


class AngleListHeader:
    """RFC 2369 `List-*` headers: `<URL>, <mailto:…>` folded only after the commas.

    The unstructured default would turn a URL longer than a line into encoded-words, which mail
    clients do not decode in these headers (and RFC 2369 does not allow).
    """

    max_count = 1

    @classmethod
    def parse(cls, value, kwds) -> None:
        kwds["decoded"] = " ".join(value.split())
        kwds["parse_tree"] = None
        kwds["defects"] = []

    def fold(self, *, policy) -> str:
        items = [item.strip() for item in str(self).split(",") if item.strip()]
        return f"{self.name}: " + ("," + policy.linesep + " ").join(items) + policy.linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", AngleListHeader)
COMPOSE_POLICY = email.policy.default.clone(header_factory=_HEADERS)
# 76 columns: a folded line is one space and an encoded-word of at most 75 characters (RFC 2047 §2).
SMTP_POLICY = COMPOSE_POLICY.clone(linesep="\r\n", max_line_length=76)
SMTPUTF8_POLICY = SMTP_POLICY.clone(utf8=True)


def needs_smtputf8(*addresses: str) -> bool:
    return not all(address.isascii() for address in addresses)


def new_message_id(settings: Settings) -> str:
    return email.utils.make_msgid(domain=settings.desk_address.rpartition("@")[2])


def compose(
    settings: Settings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    automatic: bool = True,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[bytes, str, str, dict]] | None = None,
) -> EmailMessage:
    """A complete message. Header values with CR/LF raise ValueError (no header injection)."""
    msg = EmailMessage(policy=COMPOSE_POLICY)
    msg["From"] = email.utils.formataddr((settings.desk_name, settings.desk_address))
    msg["To"] = to
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = new_message_id(settings)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join([*(references or []), in_reply_to][-20:])
    if automatic:
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: never answer this
        msg["X-Auto-Response-Suppress"] = "All"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text, cte="quoted-printable")
    if html:
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
    for payload, maintype, subtype, params in attachments or []:
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, **params)
    return msg


async def queue_mail(
    session: AsyncSession, msg: EmailMessage, *, key: str, kind: str, ticket_id: int | None = None
) -> OutboxMail | None:
    """Add `msg` to the outbox unless a mail with the same idempotency key is already there.

    A mail without exactly one valid recipient is recorded as `failed` with the reason: never sent,
    but visible (and the caller's decision is not undone by one bad address).
    """
    existing = (await session.exec(select(OutboxMail.id).where(OutboxMail.key == key))).first()
    if existing is not None:
        return None
    row = outbox_row(msg, key=key, kind=kind, ticket_id=ticket_id)
    session.add(row)
    await session.flush()
    return row


def outbox_row(msg: EmailMessage, *, key: str, kind: str, ticket_id: int | None = None) -> OutboxMail:
    """The outbox row of `msg`, not added to any session (see `outbox_fields`)."""
    return OutboxMail(key=key, kind=kind, ticket_id=ticket_id, **outbox_fields(msg))


def outbox_fields(msg: EmailMessage) -> dict:
    """The outbox columns that `msg` decides (sender, recipient, bytes; or `failed` with why, see `queue_mail`).
    Pure: intake works them out in the worker pool."""
    mail_from = msg["From"].addresses[0].addr_spec if msg["From"] and msg["From"].addresses else ""
    fields = {"message_id": str(msg["Message-ID"]), "mail_from": mail_from}
    try:
        recipient = _the_recipient(msg)
        utf8 = needs_smtputf8(mail_from, recipient)
        fields.update(recipient=recipient.lower(), rcpt_to=[recipient],
                      raw=msg.as_bytes(policy=SMTPUTF8_POLICY if utf8 else SMTP_POLICY))
    except BadAddress as exc:
        fields.update(recipient=" ".join(str(msg.get("To", "")).split())[:320].lower(), rcpt_to=[],
                      state=OutboxState.failed, last_error=f"not sent: {exc}")
    return fields


def _the_recipient(msg: EmailMessage) -> str:
    """The one envelope recipient, from the parsed `To` header (never its decoded text)."""
    mailboxes = [a for field in ("To", "Cc", "Bcc") for header in msg.get_all(field, []) for a in header.addresses]
    if len(mailboxes) != 1:
        raise BadAddress(f"a mail goes to exactly one address, this one has {len(mailboxes)}")
    address = envelope_address(mailboxes[0].addr_spec)
    if mailboxes[0].username.isascii() and address != mailboxes[0].addr_spec:
        # IDNA domain: write the To header as the server will see the envelope
        msg.replace_header("To", Address(mailboxes[0].display_name, addr_spec=address))
    return address
