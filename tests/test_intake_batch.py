"""Issue 13: intake records an IMAP fetch batch in one transaction, each mail in a savepoint of its own.

A mail that cannot be recorded is quarantined in that same transaction without taking the batch's other
mails with it; a mail delivered twice within one batch is recorded once; the cursor ends at the batch's
last UID and every mail leaves the inbox. On real Dovecot, with SQLite and with PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.mailbox import MailboxCursor
from models.partnerships import Partnership
from models.tickets import Message, MessageState, Ticket
from tests.desk import count, running_desk, wait_until
from tests.test_intake import mail

DESK = "eocic@eocic-desk.example"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def batch_env(request, dovecot, smtp_sink, desk_env):
    from tests.servers import imap_env, smtp_env

    user, password = dovecot.new_user()
    env = {
        **desk_env,
        **imap_env(dovecot.host, dovecot.port, user, password, EOCIC_IMAP_POLL_SECONDS="5"),
        **smtp_env(smtp_sink.host, smtp_sink.port, EOCIC_OUTBOX_POLL_SECONDS="0.2"),
        "EOCIC_DESK_ADDRESS": DESK,
    }
    if request.param == "postgresql":
        env["EOCIC_DATABASE_URL"] = request.getfixturevalue("postgres_db_url")
    return env, user


async def test_bad_mail_in_the_middle_of_a_batch_is_quarantined_and_the_rest_recorded(dovecot, batch_env):
    env, user = batch_env
    first = mail(sender="ana@inovcluster.example", message_id="<first@inovcluster.example>")
    batch = [
        first,
        mail(sender="ben@agrocluster.example", subject="Matchmaking in Montreal"),
        b"\x00\x01 not a mail at all \xff\xfe\r\n",
        first,  # delivered twice, in the same batch
        mail(sender="chloe@biocluster.example", subject="Trade fair in Toronto"),
    ]
    for raw in batch:  # all in the inbox before the desk starts: one fetch batch
        dovecot.deliver(user, raw)
    uids = dovecot.status(user)["uidnext"] - 1
    async with running_desk(env) as (settings, db):
        assert await wait_until(lambda: dovecot.folder_count(user) == 0), "every mail leaves the inbox"
        assert await count(db, Ticket) == 3
        assert await count(db, Message) == 4, "one record per distinct mail"
        assert await count(db, Message, Message.state == MessageState.quarantined) == 1
        async with db.session() as session:
            [quarantined] = (await session.exec(select(Message).where(Message.state == MessageState.quarantined))).all()
            cursor = (await session.exec(select(MailboxCursor))).one()
        assert "no headers" in quarantined.error
        assert cursor.last_uid == uids, "the cursor is at the batch's last mail"


async def test_new_senders_of_a_known_organisation_get_its_partnership_and_a_lookalike_domain_does_not(dovecot, batch_env):
    """A partnership named once by a cluster's manager is what a colleague from the same mail domain is
    taken to write for. Only that exact domain: `_` and `%` in a hostile domain match nothing else."""
    env, user = batch_env
    dovecot.deliver(user, mail(sender="ana@baltic-forge.example", body="Dear EOCIC,\n\nMobiGoIn-Action asks which EU calls "
                                                                      "could co-finance travel to Canada.\n\nAna\n"))
    async with running_desk(env) as (settings, db):
        assert await wait_until(lambda: dovecot.folder_count(user) == 0)
        for sender in ("bob@baltic-forge.example", "eve@_altic-forge.example", "mallory@%.example", "zoe@BALTIC-FORGE.example"):
            dovecot.deliver(user, mail(sender=sender))
        assert await wait_until(lambda: dovecot.folder_count(user) == 0)
        assert await wait_until(lambda: _at_least(db, 5))
        async with db.session() as session:
            rows = (await session.exec(select(Ticket.requester_email, Partnership.acronym)
                                       .join(Partnership, Partnership.id == Ticket.partnership_id, isouter=True))).all()
    assert dict(rows) == {"ana@baltic-forge.example": "MobiGoIn-Action", "bob@baltic-forge.example": "MobiGoIn-Action",
                          "eve@_altic-forge.example": None, "mallory@%.example": None,
                          "zoe@baltic-forge.example": "MobiGoIn-Action"}


async def _at_least(db, n: int) -> bool:
    return await count(db, Ticket) >= n
