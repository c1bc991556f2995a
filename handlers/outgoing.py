"""Compose outgoing mail and put it in the outbox, in the caller's transaction.

`queue_mail` is the only way mail leaves the desk: the row carries an idempotency key, so
deciding the same thing twice (a replay, a restart) never queues a second mail.
"""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from models.outbox import OutboxMail

SMTP_POLICY = email.policy.SMTP.clone(max_line_length=998)


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
    msg = EmailMessage(policy=email.policy.default)
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
    """Add `msg` to the outbox unless a mail with the same idempotency key is already there."""
    existing = (await session.exec(select(OutboxMail.id).where(OutboxMail.key == key))).first()
    if existing is not None:
        return None
    recipients = [addr for _, addr in email.utils.getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))]
    row = OutboxMail(
        key=key,
        kind=kind,
        ticket_id=ticket_id,
        message_id=msg["Message-ID"],
        mail_from=email.utils.parseaddr(msg["From"])[1],
        recipient=recipients[0].lower() if recipients else "",
        rcpt_to=recipients,
        raw=msg.as_bytes(policy=SMTP_POLICY),
    )
    session.add(row)
    await session.flush()
    return row
