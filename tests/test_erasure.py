"""Erasure erases, export exports (issue 10): one person planted everywhere, in every spelling.

The person is in plain text, a base64 body, a quoted-printable body split by a soft line break,
RFC 2047 headers, a UTF-16 attachment, a quarantined mail, a mail by someone else, a ticket
subject, a pending acknowledgement, a Slack notice and a second contact row. Export must list
each place; after erasure neither the decoded database nor the bytes of the data folder hold them.
"""

from __future__ import annotations

import base64
import email
import email.policy
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlmodel import select

from bot.desk import open_desk
from config.settings import load_settings
from handlers import persons
from handlers.intake import Source, ingest
from models.outbox import OutboxMail, OutboxState
from models.partnerships import Contact
from models.slack import NoticeKind, SlackNotice
from models.db import sync_url
from models.tickets import Attachment, Message, MessageState
from tests.test_lists import Verdict, deliver, desk  # noqa: F401  (desk is a fixture)

ADDRESS, NAME = "gina.rossi@six.example", "Gina Rossi"
BODY = f"Dear desk, this is {NAME} writing from {ADDRESS}; please call me back about the funding call.\n"


def _b64_lines(data: bytes) -> list[str]:
    return base64.encodebytes(data).decode().split()


SPELLINGS = {  # what a byte search of the files must not find (every one is planted below)
    "plain address": ADDRESS.encode(),
    "plain name": NAME.encode(),
    "base64 body": _b64_lines(BODY.encode())[0].encode(),
    "utf-16 address": ADDRESS.encode("utf-16-le"),
    "utf-16 attachment base64": _b64_lines(f"Contact: {NAME} <{ADDRESS}>".encode("utf-16"))[0][:40].encode(),
    "quoted-printable body": b"gina.ro=\r\nssi@six.example",
    "rfc 2047 subject": base64.b64encode(f"Question about {NAME}".encode()),
}


def _mails(desk_address: str) -> list[bytes]:
    head = f"To: {desk_address}\r\nMIME-Version: 1.0\r\n"
    return [
        # 1. her own mail, plain, RFC 2047 display name: a ticket and a pending acknowledgement
        (f"From: =?utf-8?q?Gina_Rossi?= <{ADDRESS}>\r\n{head}Subject: Funding\r\nMessage-ID: <g1@six.example>\r\n\r\n"
         f"{BODY}").encode(),
        # 2. her mail with a base64 body and a UTF-16 attachment
        (f"From: {ADDRESS}\r\n{head}Subject: Our partner list\r\nMessage-ID: <g2@six.example>\r\n"
         "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(BODY.encode()).decode()
         + "--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=contacts.txt\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n"
         + base64.encodebytes(f"Contact: {NAME} <{ADDRESS}>".encode("utf-16")).decode() + "--b1--\r\n").encode(),
        # 3. someone else's mail that names her: RFC 2047 subject (so the ticket subject holds her), QP body
        ("From: Bob <bob@other.example>\r\n" + head
         + f"Subject: =?utf-8?b?{base64.b64encode(f'Question about {NAME}'.encode()).decode()}?=\r\n"
         "Message-ID: <b1@other.example>\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n\r\nMy colleague at six is reachable at gina.ro=\r\n"
         "ssi@six.example, ask for Gin=\r\na Rossi.\r\n").encode(),
        # 4. a mail that cannot be parsed (no headers): quarantined with her address in it
        f"\r\n\r\nforwarded: {NAME} <{ADDRESS}>\r\n".encode(),
    ]


async def _plant(desk) -> None:
    desk.deps.classify = lambda mail, **hints: Verdict("service-request", category="eu-funding")
    kinds = [(await ingest(raw, desk.deps, Source("test"))).kind for raw in _mails(desk.settings.desk_address)]
    assert kinds == ["ticket", "ticket", "ticket", "quarantined"]
    async with desk.db.transaction() as session:
        session.add(SlackNotice(key="test:notice", kind=NoticeKind.thread, channel="C1",
                                payload={"text": f"New mail from {NAME} <{ADDRESS}>"}))
        session.add(Contact(email="Gina.Rossi@Six.example", name="G. Rossi"))  # a second row, other case


async def test_export_lists_every_place_and_erasure_leaves_nothing(desk, smtp_sink):
    await _export_and_erase(desk, smtp_sink)
    leaks = [(path.name, what) for path in desk.settings.data_dir.rglob("*") if path.is_file()
             for what, needle in SPELLINGS.items() if needle.lower() in path.read_bytes().lower()]
    assert leaks == []


@pytest.mark.postgres
async def test_erasure_on_postgresql(postgres_db_url, tmp_path, smtp_sink):
    settings = load_settings(data_dir=tmp_path / "data", database_url=postgres_db_url, secret_key="test-secret",
                             smtp_host=smtp_sink.host, smtp_port=smtp_sink.port, smtp_security="none", http_port=0)
    desk = await open_desk(settings)
    try:
        await _export_and_erase(desk, smtp_sink)
    finally:
        await desk.db.dispose()


async def _export_and_erase(desk, smtp_sink) -> None:
    await _plant(desk)
    async with desk.db.session() as session:
        exported = await persons.export(session, ADDRESS)
        quarantined = (await session.exec(select(Message).where(Message.state == MessageState.quarantined))).one()
        bob = (await session.exec(select(Message).where(Message.from_addr == "bob@other.example"))).one()
        (attachment,) = await session.exec(select(Attachment))
        pending = list(await session.exec(select(OutboxMail).where(OutboxMail.recipient == ADDRESS)))
    held = exported["held_in"]
    assert {quarantined.id, bob.id} <= {r["id"] for r in held["message"]}
    assert {r["id"] for r in held["attachment"]} == {attachment.id} and exported["attachments"][0]["id"] == attachment.id
    assert bob.ticket_id in {r["id"] for r in held["ticket"]}  # the subject holds her name
    assert {r.id for r in pending} <= {r["id"] for r in held["outboxmail"]} and len(pending) == 2
    assert [r["columns"] for r in held["slacknotice"]] == [["payload"]]
    assert len(held["contact"]) == 2 and exported["other_contact_rows"][0]["email"] == "Gina.Rossi@Six.example"
    assert len(exported["messages"]) == 4 and len(exported["mail_sent"]) == 3  # Bob's ack names her too

    done = await persons.erase_and_reclaim(desk.db, ADDRESS, "test")
    assert done["contact_rows"] == 2 and done["vacuumed"]

    await deliver(desk)
    assert smtp_sink.messages == []  # the pending acknowledgements were cancelled, not sent empty
    async with desk.db.session() as session:
        rows = list(await session.exec(select(OutboxMail)))
        assert {r.state for r in rows} == {OutboxState.cancelled}
        raw = (await session.get(Message, quarantined.id)).raw
        assert raw.startswith(b"X-EOCIC-Erased: ") and b"the raw mail" in raw
        content = (await session.get(Attachment, attachment.id)).content
        assert content.startswith(b"X-EOCIC-Erased: ") and b"attachment" in content
        erased = [c.email for c in await session.exec(select(Contact).where(Contact.erased_at.is_not(None)))]
        assert len(erased) == 2 and done["pseudonym"] in erased and all(e.endswith("@erased.invalid") for e in erased)

    assert _decoded_leaks(desk.settings.db_url) == []


def _decoded_leaks(url: str) -> list[tuple[str, str]]:
    """Every cell of every table, bytes decoded as a mail client would (MIME, RFC 2047, UTF-16)."""
    leaks = []
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    for column, value in row._mapping.items():
                        texts = _decodings(bytes(value)) if isinstance(value, (bytes, memoryview)) else [str(value)]
                        if any(n in t.lower() for t in texts for n in (ADDRESS, NAME.lower(), "g. rossi")):
                            leaks.append((table, column))
    finally:
        engine.dispose()
    return leaks


def _decodings(data: bytes) -> list[str]:
    texts = [data.decode("utf-8", "replace")]
    msg = email.message_from_bytes(data, policy=email.policy.default)
    for part in msg.walk():
        texts += [f"{k}: {v}" for k, v in part.items()]
        payload = part.get_payload(decode=True)
        if payload:
            texts += [payload.decode("utf-8", "replace"), payload.decode("utf-16", "replace"), " ".join(payload.decode(
                "utf-8", "replace").split())]
    return texts
