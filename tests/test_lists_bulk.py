"""A newsletter to 5,000 people, its sender killed with SIGKILL half way and restarted: everyone gets it once.

The kill happens while mail is in flight: the SMTP sink stops answering DATA (without keeping
those messages) once half the recipients have their copy, and the `eocic-desk` process is killed
in that state. (A crash in the instant between a server's 250 and our commit cannot be told apart
by any SMTP client: that single in-doubt mail would be sent again — the outbox's documented
at-least-once window.)
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections import Counter

from bench.bulk_send import add_readers
from bot.desk import open_desk
from bot.standins import CatcherHandler, SmtpCatcher
from config.settings import load_settings
from tests.desk import run_cli, start_desk_process
from tests.servers import smtp_env

RECIPIENTS = 5000


class GatedHandler(CatcherHandler):
    """Records mail until `gate` is set; then holds every DATA reply, keeps nothing, and finally refuses."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.gate.is_set():
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


async def add_subscribers(env: dict[str, str], n: int) -> None:
    settings = load_settings(data_dir=env["EOCIC_DATA_DIR"], secret_key=env["EOCIC_SECRET_KEY"])
    desk = await open_desk(settings)
    async with desk.db.transaction() as session:
        await add_readers(session, n, source="test")
    await desk.db.dispose()


async def test_bulk_send_killed_half_way_reaches_everyone_exactly_once(desk_env, tmp_path):
    handler = GatedHandler()
    sink = SmtpCatcher(handler).start()
    try:
        env = {**desk_env, **smtp_env(sink.host, sink.port), "EOCIC_SMTP_CONNECTIONS": "4",
               "EOCIC_OUTBOX_LEASE_SECONDS": "3"}
        await add_subscribers(env, RECIPIENTS)
        text = tmp_path / "issue.md"
        text.write_text("## From the editor\n\nWelcome to the EOCIC newsletter.\n\n## Events\n\n- Cluster conference\n")
        proc = start_desk_process(env, "announce", "--list", "newsletter", "--subject", "EOCIC newsletter No 3",
                                  "--markdown", str(text), "--approve", "--send")
        deadline = time.monotonic() + 180
        while len(sink.messages) < RECIPIENTS // 2:
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, f"only {len(sink.messages)} sent"
            await asyncio.sleep(0.01)
        handler.gate.set()
        await asyncio.sleep(1.0)  # the copies already accepted get committed as sent
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        handler.release.set()
        delivered_before = len(sink.messages)
        assert RECIPIENTS // 2 <= delivered_before < RECIPIENTS

        handler.gate.clear()
        done = await asyncio.to_thread(run_cli, env, "announce", "--id", "1", "--send", "--json", timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        per_recipient = Counter(rcpt for m in sink.messages for rcpt in m.rcpt_tos)
        assert len(per_recipient) == RECIPIENTS
        assert set(per_recipient.values()) == {1}, [a for a, n in per_recipient.items() if n > 1][:10]
        assert '"remaining": 0' in done.stdout and f'"sent": {RECIPIENTS}' in done.stdout
    finally:
        sink.stop()
