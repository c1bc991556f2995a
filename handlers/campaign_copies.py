"""A campaign's mail composed once; each member's copy is that message with its own fields filled in.

Composing every copy with the `email` package costs 3–4 ms; a newsletter to thousands would spend
most of its time there. `CampaignCopies` composes one prototype (the unsubscribe link a
placeholder, a placeholder recipient) with `compose_list_mail`, serialises it, and cuts it
(handlers/mail_prototype.py) at
the places that differ per member: the To, Date and Message-ID headers, List-Unsubscribe, and
every quoted-printable body line that holds the unsubscribe link. A copy is the prototype's
bytes with those pieces made for the member by the same code the `email` package runs (header
folding by the policy, `quoprimime.body_encode` per line: quoted-printable encodes each line on
its own), so it is byte for byte what composing it would give, except the per-copy fields and
the MIME boundary, which all copies share (tests/test_lists_copies.py compares them).

A member whose address is not plain ASCII, or not exactly as it goes on the envelope (IDNA,
case), gets a copy composed the slow way, as does every member if the prototype cannot be cut.
"""

from __future__ import annotations

from datetime import datetime
from email import quoprimime

from config.settings import Settings
from handlers.lists import compose_list_mail, list_headers, unsubscribe_links, unsubscribe_url
from handlers.mail_prototype import Prototype, header_bytes, plain_as_policy
from handlers.addresses import BadAddress, envelope_address
from handlers.outgoing import COMPOSE_POLICY, SMTP_POLICY, new_message_id, outbox_row
from models.lists import MailingList, Recipient
from models.outbox import OutboxState
from models.partnerships import Contact

PLACEHOLDER = "@@UNSUBSCRIBE_URL@@"  # handlers/announcements.py renders the link as this
_PROTO = Contact(id=0, email="copy@placeholder.example")


def _qp_line(line: bytes) -> bytes:
    """One body line, quoted-printable encoded as `set_content(cte="quoted-printable")` does it."""
    encoded = quoprimime.body_encode(line.decode("latin-1") + "\n", COMPOSE_POLICY.max_line_length)
    return b"\n" + encoded.removesuffix("\n").replace("\n", "\r\n").encode("ascii") + b"\r\n"


def personalise(settings: Settings, mlist: MailingList, contact: Contact | Recipient, subject: str, text: str, html: str):
    """`contact`'s copy composed with the `email` package (the slow way, and the reference)."""
    url = unsubscribe_url(settings, mlist, contact)
    return compose_list_mail(settings, mlist, contact, subject=subject,
                             text=text.replace(PLACEHOLDER, url), html=html.replace(PLACEHOLDER, url))


class CampaignCopies:
    def __init__(self, settings: Settings, mlist: MailingList, subject: str, text: str, html: str) -> None:
        self.settings, self.mlist, self.subject, self.text, self.html = settings, mlist, subject, text, html
        proto = compose_list_mail(settings, mlist, _PROTO, subject=subject, text=text, html=html)
        self.mail_from = proto["From"].addresses[0].addr_spec
        raw = proto.as_bytes(policy=SMTP_POLICY)
        self._lines = sorted({line for body in (text, html) for line in body.encode("utf-8").splitlines()
                              if PLACEHOLDER.encode() in line})
        self._date: tuple[str, bytes] = ("", b"")  # the last Date header made, with its value
        self._proto = self._pieces(_PROTO.email, str(proto["Date"]), str(proto["Message-ID"]),
                                   list_headers(settings, mlist, _PROTO)["List-Unsubscribe"], PLACEHOLDER)
        self._cut = None
        if plain_as_policy(("To", _PROTO.email), ("Message-ID", str(proto["Message-ID"])), ("To", "reader00001@bench.example")):
            self._cut = Prototype.cut(raw, self._proto[:4], self._proto[4:])

    def _pieces(self, to: str, date: str, message_id: str, list_unsubscribe: str, url: str) -> list[bytes]:
        if self._date[0] != date:
            self._date = (date, header_bytes("Date", date))
        return [header_bytes("To", to), self._date[1], header_bytes("Message-ID", message_id),
                header_bytes("List-Unsubscribe", list_unsubscribe),
                *(_qp_line(line.replace(PLACEHOLDER.encode(), url.encode())) for line in self._lines)]

    def row(self, contact: Contact | Recipient, *, key: str, kind: str, date: str, now: datetime) -> dict:
        """The outbox row of `contact`'s copy, as column values (a batch goes in one INSERT); `date`
        (RFC 5322) and `now` are one clock reading for the whole batch."""
        address = contact.email
        try:
            fast = self._cut is not None and address.isascii() and envelope_address(address) == address
        except BadAddress:
            fast = False
        if not fast:
            msg = personalise(self.settings, self.mlist, contact, self.subject, self.text, self.html)
            return outbox_row(msg, key=key, kind=kind).model_dump(exclude={"id"})
        message_id = new_message_id(self.settings)
        own = dict(zip(self._proto, self._pieces(address, date, message_id, *unsubscribe_links(self.settings, self.mlist, contact))))
        raw = self._cut.fill(own)
        return {"key": key, "kind": kind, "ticket_id": None, "message_id": message_id, "mail_from": self.mail_from,
                "recipient": address.lower(), "rcpt_to": [address], "raw": raw, "state": OutboxState.pending,
                "attempts": 0, "next_attempt_at": now, "last_error": None, "created_at": now, "sent_at": None}
