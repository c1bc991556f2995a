"""Issue 14, section 4: the mailbox watcher under a real server's behaviour (Dovecot).

The server ending the session during IDLE (`doveadm kick` sends BYE; a killed server process
just closes) must end it for the watcher too: it reconnects at once instead of spinning until
its next poll. Mail announced inside a FETCH or MOVE reply must be read at once, because IDLE
never announces it again. The poll interval is 300 s in these tests, so a mail that waits for
the poll fails the test.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from imapclient import IMAPClient
from sqlmodel import select

from bench.mailgen import make_request
from models.tickets import Message
from tests.desk import count, running_desk, wait_until
from tests.servers import imap_env, smtp_env

PROMPT = 10.0  # seconds: far below the 300 s poll, generous for a loaded machine


@pytest.fixture
def watched(dovecot, smtp_sink, desk_env):
    user, password = dovecot.new_user()
    env = {
        **desk_env,
        **imap_env(dovecot.host, dovecot.port, user, password, EOCIC_IMAP_POLL_SECONDS="300"),
        **smtp_env(smtp_sink.host, smtp_sink.port),
    }
    return env, user


async def committed(db, n: int) -> bool:
    return await count(db, Message) >= n


async def wait_for_session(dovecot, user: str, sessions: int = 1) -> None:
    """Until the desk holds `sessions` IMAP connections (its watcher is logged in)."""
    assert await wait_until(lambda: len(dovecot.imap_pids(user)) >= sessions, timeout=20), "the watcher never logged in"
    await asyncio.sleep(0.5)  # selected and idling


async def message_ids(db) -> list[str]:
    async with db.session() as session:
        return list(await session.exec(select(Message.message_id)))


async def test_kick_during_idle_reconnects_at_once_without_spinning(dovecot, watched):
    env, user = watched
    async with running_desk(env) as (settings, db):
        await wait_for_session(dovecot, user)
        old = dovecot.imap_pids(user)
        dovecot.doveadm("kick", user)
        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.sleep(2.0)
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        assert cpu < 0.2 * wall, f"the desk used {cpu:.2f}s of CPU in {wall:.2f}s after the kick (spinning)"
        new = dovecot.imap_pids(user)
        assert new and not set(new) & set(old), "the watcher did not log in again after BYE"
        dovecot.deliver(user, make_request(1))
        assert await wait_until(lambda: committed(db, 1), timeout=PROMPT), "mail after the kick waited for the poll"


async def test_server_process_dying_during_idle_is_the_end_of_the_session(dovecot, watched):
    env, user = watched
    async with running_desk(env) as (settings, db):
        await wait_for_session(dovecot, user)
        (pid,) = dovecot.imap_pids(user)
        os.kill(pid, signal.SIGKILL)  # no BYE: the connection just closes
        assert await wait_until(lambda: dovecot.imap_pids(user) not in ([], [pid]), timeout=PROMPT)
        dovecot.deliver(user, make_request(2))
        assert await wait_until(lambda: committed(db, 1), timeout=PROMPT)


@pytest.mark.parametrize("command", ["fetch", "move"])
async def test_mail_arriving_during_a_command_is_read_at_once(dovecot, watched, monkeypatch, command):
    """The second mail reaches Dovecot while the watcher's FETCH (or MOVE) of the first is under
    way, so Dovecot announces it in that command's reply, never in IDLE."""
    env, user = watched
    original = getattr(IMAPClient, command)
    delivered = []

    def command_with_a_mail_arriving(client, *args, **kwargs):
        if not delivered:
            delivered.append(make_request(21))
            dovecot.deliver(user, delivered[0])
        return original(client, *args, **kwargs)

    monkeypatch.setattr(IMAPClient, command, command_with_a_mail_arriving)
    async with running_desk(env) as (settings, db):
        await wait_for_session(dovecot, user)
        dovecot.deliver(user, make_request(20))
        assert await wait_until(lambda: committed(db, 2), timeout=PROMPT), (
            f"the mail announced in the {command.upper()} reply waited for the poll"
        )
        assert delivered
        assert await count(db, Message) == 2
        assert await wait_until(lambda: dovecot.folder_count(user, "INBOX") == 0)


async def test_burst_of_100_mails_is_committed_once_each(dovecot, watched):
    env, user = watched
    mails = [make_request(100 + i) for i in range(100)]
    async with running_desk(env) as (settings, db):
        await wait_for_session(dovecot, user)
        with ThreadPoolExecutor(8) as pool:
            await asyncio.get_running_loop().run_in_executor(None, lambda: list(pool.map(lambda m: dovecot.deliver(user, m), mails)))
        assert await wait_until(lambda: committed(db, 100), timeout=60), f"{await count(db, Message)} of 100 mails read"
        await asyncio.sleep(0.5)
        ids = await message_ids(db)
    assert len(ids) == 100 and len(set(ids)) == 100
    assert dovecot.folder_count(user, "INBOX") == 0
    assert dovecot.folder_count(user, "Processed") == 100
