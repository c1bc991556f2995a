"""A newsletter's copies are composed once and filled in per member (handlers/campaign_copies.py):
each copy must be byte for byte the mail that composing it with the `email` package gives, except
its own Date, Message-ID and MIME boundary, and it must reach the SMTP server as it is in the outbox.
"""

from __future__ import annotations

import re

from sqlmodel import select

from bench.bulk_send import add_readers
from bot.desk import open_desk
from bot.outbox import OutboxSender
from config.settings import load_settings
from handlers import announcements
from handlers.campaign_copies import personalise
from handlers.outgoing import outbox_row
from models.lists import MailingList
from models.outbox import OutboxMail, OutboxState
from models.partnerships import Contact

MEMBERS = [f"reader{i}@example.org" for i in range(12)] + [
    "a.very.long.local.part.that.goes.on.and.on.for.quite.a.while@subdomain.of.a.long.domain.example.org",
    "Mixed.Case@Example.ORG",  # the envelope lower-cases the domain: composed the slow way
    "petr@příklad.example",  # IDNA domain
    "žofie@příklad.example",  # SMTPUTF8
]
MARKDOWN = (
    "## Über die Konferenz — 14–16 May\n\n"
    "A line with two trailing spaces  \nand a hard break; tabs\tand = signs = 3D, a dot line:\n\n.\n\n"
    "From the editor: " + "ein sehr langer Absatz mit Umlauten äöü und Zeichen € " * 12 + "\n\n"
    "- [The guide](https://www.clustercollaboration.eu/a/very/long/path/that/goes/on?query=1&x=2)\n"
)


def normalised(raw: bytes) -> bytes:
    """Date, Message-ID and the MIME boundary blanked: the fields every copy has of its own."""
    boundary = re.search(rb'boundary="([^"]+)"', raw).group(1)
    raw = raw.replace(boundary, b"BOUNDARY")
    raw = re.sub(rb"\r\nDate: [^\r]*\r\n", b"\r\nDate: DATE\r\n", raw)
    return re.sub(rb"\r\nMessage-ID: <[^>]+>\r\n", b"\r\nMessage-ID: <ID>\r\n", raw)


async def test_every_copy_is_the_composed_mail_with_its_own_fields(tmp_path, smtp_sink):
    settings = load_settings(
        data_dir=tmp_path / "data", secret_key="test-secret", smtp_host=smtp_sink.host, smtp_port=smtp_sink.port,
        smtp_security="none", public_url="https://desk.a-rather-long-host-name.eocic.example/service/desk",
    )
    desk = await open_desk(settings)
    try:
        async with desk.db.transaction() as session:
            await add_readers(session, len(MEMBERS), source="test", emails=MEMBERS)
            ann = await announcements.create(session, list_name="newsletter", subject="Newsletter № 3 — Über uns",
                                             markdown=MARKDOWN, actor="test")
            await announcements.approve(session, ann, "test")
        await announcements.queue(desk.db, settings, ann.id)
        async with desk.db.session() as session:
            rows = list(await session.exec(select(OutboxMail).where(OutboxMail.kind == "announce").order_by(OutboxMail.id)))
            mlist = await session.get(MailingList, ann.list_id)
            contacts = {c.id: c for c in await session.exec(select(Contact))}
        text, html = announcements.render(ann.subject, ann.markdown, mlist)
        assert len(rows) == len(MEMBERS)
        for row in rows:
            contact = contacts[int(row.key.rsplit(":", 1)[1])]
            reference = outbox_row(personalise(settings, mlist, contact, ann.subject, text, html), key=row.key, kind="announce")
            assert (row.recipient, row.rcpt_to, row.mail_from) == (reference.recipient, reference.rcpt_to, reference.mail_from)
            assert normalised(row.raw) == normalised(reference.raw), contact.email
            assert f"\r\nMessage-ID: {row.message_id}\r\n".encode() in row.raw
        boundaries = {re.search(rb'boundary="([^"]+)"', r.raw).group(1) for r in rows}
        assert len(boundaries) <= 1 + 3  # the plain ASCII members share the one composed message; the 3 odd ones not
        assert len({r.message_id for r in rows}) == len(rows)

        await OutboxSender(desk.db, settings).send_all()
        async with desk.db.session() as session:
            assert {r.state for r in await session.exec(select(OutboxMail).where(OutboxMail.kind == "announce"))} == {OutboxState.sent}
        received = {m.rcpt_tos[0]: m.data for m in smtp_sink.messages}
        for row in rows:
            assert received[row.rcpt_to[0]].replace(b"\r\n", b"\n") == row.raw.replace(b"\r\n", b"\n")
    finally:
        await desk.db.dispose()
