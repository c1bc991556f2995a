"""The test servers themselves: Dovecot, SMTP sink, PostgreSQL, and the in-process stand-ins."""

from __future__ import annotations

import asyncio
import threading
import time

import aiosmtplib
import pytest
from imapclient import IMAPClient

from bot.standins import start_imap_standin, start_smtp_catcher


def _raw(subject: str = "Hello", to: str = "desk@example.test") -> bytes:
    return (
        f"From: Alice <alice@example.test>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}.{time.time_ns()}@example.test>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBody of the message.\r\n"
    ).encode()


# --- Dovecot -------------------------------------------------------------------------


def test_dovecot_deliver_then_peek(dovecot):
    user, password = dovecot.new_user()
    dovecot.deliver(user, _raw("peek me"))
    assert dovecot.status(user)["messages"] == 1
    client = dovecot.connect(user, password)
    try:
        client.select_folder("INBOX")
        uids = client.search(["UID", "1:*"])
        assert len(uids) == 1
        fetched = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"])
        assert b"Subject: peek me" in fetched[uids[0]][b"BODY[]"]
        assert b"\\Seen" not in client.get_flags(uids)[uids[0]]
    finally:
        client.logout()


def test_dovecot_users_are_isolated(dovecot):
    a, _ = dovecot.new_user()
    b, _ = dovecot.new_user()
    dovecot.deliver(a, _raw())
    assert dovecot.folder_count(a, "INBOX") == 1
    assert dovecot.folder_count(b, "INBOX") == 0
    assert dovecot.folder_count(b, "Processed") == 0  # missing folder counts as empty


def test_dovecot_idle_wakes_on_delivery(dovecot):
    user, password = dovecot.new_user()
    client = dovecot.connect(user, password)
    try:
        client.select_folder("INBOX")
        client.idle()
        timer = threading.Timer(0.2, dovecot.deliver, (user, _raw("idle")))
        t0 = time.monotonic()
        timer.start()
        responses = []
        while time.monotonic() - t0 < 5 and not any(r[1:2] == (b"EXISTS",) for r in responses):
            responses += client.idle_check(timeout=0.5)
        elapsed = time.monotonic() - t0
        client.idle_done()
        assert any(r[1:2] == (b"EXISTS",) for r in responses), responses
        assert elapsed < 5.0
    finally:
        timer.cancel()
        client.logout()


def test_dovecot_recreate_folder_changes_uidvalidity(dovecot):
    user, _ = dovecot.new_user()
    dovecot.deliver(user, _raw("one"))
    dovecot.deliver(user, _raw("two"), folder="Processed")
    before_inbox = dovecot.status(user, "INBOX")
    before_proc = dovecot.status(user, "Processed")

    after_inbox = dovecot.recreate_folder(user, "INBOX", keep_messages=True)
    assert after_inbox["uidvalidity"] != before_inbox["uidvalidity"]
    assert after_inbox["messages"] == 1

    after_proc = dovecot.recreate_folder(user, "Processed")
    assert after_proc["uidvalidity"] != before_proc["uidvalidity"]
    assert after_proc["messages"] == 0


# --- SMTP sink -----------------------------------------------------------------------


async def test_smtp_sink_refuses_then_accepts(smtp_sink):
    smtp_sink.refuse_next(2, code=451, message="try later")
    for _ in range(2):
        with pytest.raises(aiosmtplib.SMTPResponseException) as err:
            await aiosmtplib.send(_raw(), sender="desk@example.test", recipients=["bob@example.test"],
                                  hostname=smtp_sink.host, port=smtp_sink.port)
        assert err.value.code == 451
    await aiosmtplib.send(_raw("third"), sender="desk@example.test", recipients=["bob@example.test"],
                          hostname=smtp_sink.host, port=smtp_sink.port)
    got = await smtp_sink.wait_for(1, timeout=5)
    assert got[0].rcpt_tos == ["bob@example.test"] and b"Subject: third" in got[0].data
    assert [stage for stage, _ in smtp_sink.refusals] == ["DATA", "DATA"]


async def test_smtp_sink_refuses_at_rcpt_and_permanently(smtp_sink):
    smtp_sink.refuse_next(1, code=450, message="4.2.1 mailbox busy", at="RCPT")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as err:
        await aiosmtplib.send(_raw(), sender="desk@example.test", recipients=["a@example.test", "b@example.test"],
                              hostname=smtp_sink.host, port=smtp_sink.port)
    assert [r.code for r in err.value.recipients] == [450, 450]

    smtp_sink.refuse_recipient("Gone@Example.test")
    errors, _ = await aiosmtplib.send(_raw(), sender="desk@example.test",
                                      recipients=["gone@example.test", "ok@example.test"],
                                      hostname=smtp_sink.host, port=smtp_sink.port)
    assert errors["gone@example.test"].code == 550
    assert smtp_sink.messages[0].rcpt_tos == ["ok@example.test"]


# --- PostgreSQL ----------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_answers(postgres_url, postgres_db_url):
    import psycopg

    for url in (postgres_url, postgres_db_url):
        with psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    assert postgres_url != postgres_db_url


# --- stand-ins -----------------------------------------------------------------------


async def test_imap_standin_with_imapclient():
    standin = await start_imap_standin(user="desk@localhost")
    try:
        assert standin.port > 0
        first = await standin.append(_raw("first"))
        loop = asyncio.get_running_loop()

        def client_side() -> dict:
            c = IMAPClient(standin.host, port=standin.port, ssl=False, timeout=10)
            c.login(standin.user, standin.password)
            c.select_folder("INBOX")
            out = {"uids": c.search(["UID", f"{first}:*"])}
            fetched = c.fetch(out["uids"], ["BODY.PEEK[]"])
            out["body"] = fetched[first][b"BODY[]"]
            out["seen"] = b"\\Seen" in c.get_flags([first])[first]
            c.idle()
            t0 = time.monotonic()
            asyncio.run_coroutine_threadsafe(standin.append(_raw("second")), loop)
            responses = []
            while time.monotonic() - t0 < 5 and not any(r[1:2] == (b"EXISTS",) for r in responses):
                responses += c.idle_check(timeout=0.5)
            out["idle_seconds"] = time.monotonic() - t0
            out["idle"] = responses
            c.idle_done()
            new = c.search(["UID", f"{first + 1}:*"])
            if not c.folder_exists("Processed"):
                c.create_folder("Processed")
            c.add_flags(new, [b"\\Seen"])
            c.move([first, *new], "Processed")
            out["inbox_after"] = c.search(["ALL"])
            c.logout()
            return out

        out = await asyncio.to_thread(client_side)
        assert out["uids"] == [first]
        assert b"Subject: first" in out["body"] and not out["seen"]
        assert any(r[1:2] == (b"EXISTS",) for r in out["idle"]) and out["idle_seconds"] < 2
        assert out["inbox_after"] == []
        assert await standin.folder_count("Processed") == 2
        assert await standin.folder_count("INBOX") == 0
    finally:
        await standin.close()


async def test_imap_standin_rejects_wrong_password():
    standin = await start_imap_standin()
    try:
        def login() -> None:
            c = IMAPClient(standin.host, port=standin.port, ssl=False, timeout=10)
            try:
                c.login(standin.user, "wrong")
            finally:
                c.shutdown()

        with pytest.raises(Exception):
            await asyncio.to_thread(login)
    finally:
        await standin.close()


async def test_smtp_catcher_records():
    catcher = start_smtp_catcher()
    try:
        await aiosmtplib.send(_raw("caught"), sender="desk@example.test", recipients=["x@example.test"],
                              hostname=catcher.host, port=catcher.port)
        (mail,) = await catcher.wait_for(1, timeout=5)
        assert mail.mail_from == "desk@example.test"
        assert mail.rcpt_tos == ["x@example.test"]
        assert b"Subject: caught" in mail.data
    finally:
        catcher.stop()


def test_desk_env(desk_env, tmp_path):
    assert desk_env["EOCIC_DATA_DIR"] == str(tmp_path / "data")
    assert desk_env["EOCIC_SECRET_KEY"] == "test-secret"
