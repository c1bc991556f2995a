"""Outgoing mail is well-formed or not sent (issue 10), end to end to a real aiosmtpd server.

Mail enters through intake, the outbox sends it over SMTP to the sink (with and without
SMTPUTF8), and the tests read what the server received.
"""

from __future__ import annotations

import base64
import email
import email.policy
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.outbox import OutboxSender
from bot.desk import open_desk
from config.settings import load_settings
from handlers.intake import Source, ingest
from models.audit import AuditEntry
from models.base import utcnow
from models.outbox import OutboxMail, OutboxState
from tests.servers import SmtpSink
from tests.test_lists import Verdict

VICTIMS = [f"v{i}@victim.example" for i in range(100)]
ENCODED_LIST = "=?utf-8?b?" + base64.b64encode(", ".join(["a@x", *VICTIMS]).encode()).decode() + "?="
ENCODED_VICTIM = "=?utf-8?b?" + base64.b64encode(VICTIMS[0].encode()).decode() + "?="


@pytest.fixture(params=[True, False], ids=["smtputf8", "no-smtputf8"])
def sink(request):
    server = SmtpSink(smtputf8=request.param).start()
    server.smtputf8 = request.param
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def desk(tmp_path, sink):
    settings = load_settings(
        data_dir=tmp_path / "data", secret_key="test-secret", smtp_host=sink.host, smtp_port=sink.port,
        smtp_security="none", http_port=0, smtp_connections=1,
    )
    desk = await open_desk(settings)
    desk.deps.classify = lambda mail, **hints: Verdict("service-request", category="eu-funding")
    try:
        yield desk
    finally:
        await desk.db.dispose()


_counter = iter(range(10**6))


async def mail_in(desk, from_: str, subject: str = "Funding question", reply_to: str | None = None) -> None:
    n = next(_counter)
    raw = (f"From: {from_}\r\n" + (f"Reply-To: {reply_to}\r\n" if reply_to else "")
           + f"To: {desk.settings.desk_address}\r\nSubject: {subject}\r\nMessage-ID: <m{n}@sender.example>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nWhich calls fit our cluster?\r\n").encode()
    assert (await ingest(raw, desk.deps, Source("test"))).kind == "ticket"


async def outbox(desk) -> list[OutboxMail]:
    async with desk.db.session() as session:
        return list(await session.exec(select(OutboxMail).order_by(OutboxMail.id)))


async def skipped_acks(desk) -> list[dict]:
    async with desk.db.session() as session:
        return [e.detail for e in await session.exec(select(AuditEntry).where(AuditEntry.action == "ack.skipped"))]


def all_recipients(sink) -> list[str]:
    return [r for m in sink.messages for r in m.rcpt_tos]


async def test_an_encoded_word_that_decodes_to_a_list_gets_no_mail_to_anyone(desk, sink):
    await mail_in(desk, ENCODED_LIST, reply_to=ENCODED_LIST)
    await mail_in(desk, f"Eve <{ENCODED_LIST}>")
    await mail_in(desk, ENCODED_VICTIM)  # one encoded-word is a display name, never an address
    await mail_in(desk, "Bob <bob@sender.example>", reply_to=ENCODED_LIST)  # a bad Reply-To: back to From
    await OutboxSender(desk.db, desk.settings).send_due()
    assert all_recipients(sink) == ["bob@sender.example"]
    assert [m.rcpt_to for m in await outbox(desk)] == [["bob@sender.example"]]
    assert [d["why"] for d in await skipped_acks(desk)] == ["no valid address"] * 3


async def test_the_ack_cap_counts_the_address_that_receives_the_mail(desk, sink):
    senders = [("Ana <ANA@Sender.example>", None), ("ana@sender.example", None), ("x@elsewhere.example", None),
               ("ana@SENDER.EXAMPLE", None), ("y@elsewhere.example", "Ana <ana@sender.example>")]
    for from_, reply_to in senders:
        await mail_in(desk, from_, reply_to=reply_to)
    await OutboxSender(desk.db, desk.settings).send_due()
    ana = [r for r in all_recipients(sink) if r.lower() == "ana@sender.example"]
    assert len(ana) == desk.settings.acks_per_sender_per_hour == 3
    assert "x@elsewhere.example" in all_recipients(sink) and "y@elsewhere.example" not in all_recipients(sink)
    assert [d["why"] for d in await skipped_acks(desk)] == ["rate limit"]


@pytest.mark.parametrize("sender", ["!channel", "eve", "eve@", "@victim.example", "eve@localhost", "a@x",
                                    '"a@x, v0@victim.example"@', "eve@[127.0.0.1]"])
async def test_addresses_without_a_domain_get_nothing(desk, sink, sender):
    await mail_in(desk, sender, reply_to=sender)
    await OutboxSender(desk.db, desk.settings).send_due()
    assert sink.messages == [] and await outbox(desk) == []
    assert [d["why"] for d in await skipped_acks(desk)] == ["no valid address"]


async def test_utf8_sender_goes_out_with_smtputf8_or_fails_alone(desk, sink):
    await mail_in(desk, "Ana <ana@sender.example>")
    await mail_in(desk, "Žofie <žofie@příklad.example>")
    await mail_in(desk, "Bruno <bruno@sender.example>")
    await mail_in(desk, "Petr <petr@příklad.example>")  # only the domain is international: IDNA, no SMTPUTF8
    sender = OutboxSender(desk.db, desk.settings)
    await sender.send_due()  # one pass, one connection, all four rows claimed together
    rows = await outbox(desk)
    assert [r.state for r in rows if r.recipient != "žofie@příklad.example"] == [OutboxState.sent] * 3
    zofie = next(r for r in rows if r.rcpt_to == ["žofie@příklad.example"])
    got = {m.rcpt_tos[0]: m for m in sink.messages}
    assert "SMTPUTF8" not in got["petr@xn--pklad-zsa96e.example"].mail_options
    petr = email.message_from_bytes(got["petr@xn--pklad-zsa96e.example"].data, policy=email.policy.default)
    assert petr["To"].addresses[0].addr_spec == "petr@xn--pklad-zsa96e.example"
    if sink.smtputf8:
        assert zofie.state is OutboxState.sent
        caught = got["žofie@příklad.example"]
        assert "SMTPUTF8" in [o.upper() for o in caught.mail_options]
        msg = email.message_from_string(caught.data.decode("utf-8"), policy=email.policy.default)  # RFC 6532
        assert msg["To"].addresses[0].addr_spec == "žofie@příklad.example" and b"=?" not in caught.data.split(b"\r\nTo:")[1][:40]
        assert "Žofie" in msg.get_body(("plain",)).get_content()
    else:
        assert zofie.state is OutboxState.failed and zofie.attempts == 1
        assert "SMTPUTF8" in zofie.last_error and "žofie@příklad.example" in zofie.last_error
        assert len(sink.messages) == 3
        assert await sender.send_due() == 0  # ended: never claimed again


async def test_long_subjects_fold_into_short_encoded_words(desk, sink):
    subject = "Řešení pro klastr " * 60 + "konec"
    await mail_in(desk, "ana@sender.example", subject="=?utf-8?b?" + base64.b64encode(subject.encode()).decode() + "?=")
    await mail_in(desk, "bob@sender.example", subject="x" * 900)  # one ASCII word longer than a line
    await OutboxSender(desk.db, desk.settings).send_due()
    assert len(sink.messages) == 2
    for caught in sink.messages:
        head = caught.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
        words = re.findall(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=", head)
        assert words and max(len(w) for w in words) <= 75, max(words, key=len)
        assert max(len(line) for line in head.split("\r\n")) <= 78
    subjects = [email.message_from_bytes(m.data, policy=email.policy.default)["Subject"] for m in sink.messages]
    assert subjects[0].endswith(" ".join(subject.split())) and subjects[1].endswith("x" * 900)


async def test_a_row_that_cannot_be_sent_never_holds_back_the_others(desk, sink):
    """Rows from before the checks: an amplified one, an empty one, one claimed past the attempt cap."""
    await mail_in(desk, "ana@sender.example")
    await mail_in(desk, "bob@sender.example")
    late = utcnow() - timedelta(seconds=1)
    async with desk.db.transaction() as session:
        first = (await session.exec(select(OutboxMail).order_by(OutboxMail.id))).first()
        session.add(OutboxMail(key="old:amplified", kind="ack", message_id="<o1@x>", mail_from=first.mail_from,
                               recipient="a@x", rcpt_to=["a@x", *VICTIMS], raw=first.raw))
        session.add(OutboxMail(key="old:blank", kind="ack", message_id="<o2@x>", mail_from=first.mail_from,
                               recipient="c@sender.example", rcpt_to=["c@sender.example"], raw=b""))
        session.add(OutboxMail(key="old:stuck", kind="ack", message_id="<o3@x>", mail_from=first.mail_from,
                               recipient="d@sender.example", rcpt_to=["d@sender.example"], raw=first.raw,
                               state=OutboxState.sending, attempts=desk.settings.outbox_max_attempts,
                               next_attempt_at=late))
    await OutboxSender(desk.db, desk.settings).send_due()
    assert sorted(all_recipients(sink)) == ["ana@sender.example", "bob@sender.example"]
    failed = {r.key: r.last_error for r in await outbox(desk) if r.state is OutboxState.failed}
    assert set(failed) == {"old:amplified", "old:blank", "old:stuck"}
    assert "exactly one address" in failed["old:amplified"] and "nothing to send" in failed["old:blank"]
    assert "gave up" in failed["old:stuck"]
