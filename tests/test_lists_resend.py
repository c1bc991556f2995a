"""A bulk send killed with SIGKILL while mail flows, then resumed: everyone has the mail, and the
copies sent twice are few (the outbox's stated resend window) and carry their original Message-ID.

Sent rows are marked in batches (bot/durable_queue.py): a crash can repeat what the SMTP server
accepted but the desk had not marked yet, at most 2 × EOCIC_OUTBOX_MARK_BATCH + 3 × EOCIC_SMTP_CONNECTIONS
copies (92 with the defaults and 4 connections). Unlike tests/test_lists_bulk.py nothing holds the
server back: the kill comes in the middle of full-speed sending.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import defaultdict

from bot.standins import CatcherHandler, SmtpCatcher
from config.settings import load_settings
from tests.desk import run_cli, start_desk_process
from tests.servers import smtp_env
from tests.test_lists_bulk import add_subscribers

RECIPIENTS = 3000
CONNECTIONS = 4


async def half_way(proc, sink, limit: float = 180.0) -> None:
    """Wait until half the recipients have their copy, the sending process still running."""
    started = time.monotonic()
    while len(sink.messages) < RECIPIENTS // 2:
        if proc.poll() is not None:
            raise AssertionError(f"the desk ended early: {proc.stdout.read().decode()[-2000:]}")
        if time.monotonic() - started > limit:
            raise AssertionError(f"only {len(sink.messages)} sent in {limit:.0f} s")
        await asyncio.sleep(0.005)


async def test_a_bulk_send_killed_mid_flight_resends_at_most_the_window_with_the_same_message_ids(desk_env, tmp_path):
    sink = SmtpCatcher(CatcherHandler()).start()
    try:
        env = {**desk_env, **smtp_env(sink.host, sink.port), "EOCIC_SMTP_CONNECTIONS": str(CONNECTIONS),
               "EOCIC_OUTBOX_LEASE_SECONDS": "3"}
        settings = load_settings(data_dir=env["EOCIC_DATA_DIR"], secret_key=env["EOCIC_SECRET_KEY"])
        window = 2 * settings.outbox_mark_batch + 3 * CONNECTIONS
        assert window == 92  # the figure the README and bot/outbox.py state
        await add_subscribers(env, RECIPIENTS)
        (tmp_path / "issue.md").write_text("## From the editor\n\nWelcome to the EOCIC newsletter.\n")
        proc = start_desk_process(env, "announce", "--list", "newsletter", "--subject", "EOCIC newsletter No 4",
                                  "--markdown", str(tmp_path / "issue.md"), "--approve", "--send")
        await half_way(proc, sink)
        proc.send_signal(signal.SIGKILL)  # mail is flowing on every connection
        proc.wait(timeout=10)
        proc.stdout.close()
        before = len(sink.messages)
        assert before < RECIPIENTS, "the send was over before the kill"

        done = await asyncio.to_thread(run_cli, env, "announce", "--id", "1", "--send", "--json", timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert '"remaining": 0' in done.stdout and f'"sent": {RECIPIENTS}' in done.stdout
        ids = defaultdict(list)
        for caught in sink.messages:
            ids[caught.rcpt_tos[0]].append(re.search(rb"\r\nMessage-ID: (<[^>]+>)\r\n", caught.data).group(1))
        assert len(ids) == RECIPIENTS  # everyone has it
        resent = len(sink.messages) - RECIPIENTS
        assert 0 <= resent <= window, f"{resent} copies went twice"
        assert all(len(set(got)) == 1 for got in ids.values())  # a resend is the same mail: its Message-ID
        assert max(len(got) for got in ids.values()) <= 2
        print(f"killed after {before} copies; resent {resent} (window {window})")
    finally:
        sink.stop()
