"""The outbox sender: delivers outbox rows over SMTP (aiosmtplib) and records the outcome.

Rows go through the durable queue (bot/durable_queue.py): claimed as `sending` with a lease, sent
over connections kept open between passes (bot/smtp_pool.py), then marked `sent`. A crash after
the server's 250 and before the mark leaves the row `sending`; once its lease runs out it is sent
again with the same Message-ID (at least once). How many copies a crash may repeat depends on the mail:
- list mail (`BATCH_MARKED`: announcements, webinar mail to lists) is marked a batch at a time
  (`EOCIC_OUTBOX_MARK_BATCH` rows per commit, none waiting longer than
  `EOCIC_OUTBOX_MARK_INTERVAL_SECONDS`): at most 2 × `EOCIC_OUTBOX_MARK_BATCH` + 3 ×
  `EOCIC_SMTP_CONNECTIONS` copies, 92 with the defaults and 4 connections, 23 a connection, about
  what one connection sends in 100 ms (tests/test_lists_resend.py kills a bulk send and counts);
- every other mail (acknowledgements, replies, survey mail) is marked before its connection sends
  the next: at most one copy a connection (tests/test_intake.py's SIGKILL test counts).

Temporary failures (4xx, disconnects, timeouts) retry with exponential back-off; permanent ones
(5xx) are marked failed with the server's answer.

One row can only fail itself: a row that cannot be sent as it is (no single valid recipient, no
bytes, an internationalised address the server cannot take without SMTPUTF8, or any other error
the same bytes would raise again) is marked failed at once and the connection goes on with the
next row; a row claimed more than `outbox_max_attempts` times is failed without a further try.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time

import aiosmtplib

from bot.durable_queue import DurableQueue, Limits, Marks
from bot.oauth2 import CredentialRefused
from bot.passes import run_passes
from bot.smtp_pool import FAILURES, SmtpPool, close
from config.settings import Settings
from handlers.addresses import BadAddress, envelope_address
from handlers.outgoing import needs_smtputf8
from models.db import Database
from models.outbox import OutboxMail, OutboxState

log = logging.getLogger(__name__)

SENT_COLUMNS = tuple(getattr(OutboxMail, name) for name in ("id", "kind", "mail_from", "recipient", "rcpt_to", "raw", "attempts"))
BATCH_MARKED = frozenset({"announce", "webinar"})  # list mail, sent by the thousand


class PermanentFailure(Exception):
    pass


class OutboxSender:
    def __init__(self, db: Database, settings: Settings, *, lease_seconds: float | None = None, deps=None) -> None:
        self.db = db
        self.deps = deps  # for alerts
        self.settings = settings
        self.limits = Limits.outbox(settings, lease_seconds)
        self.queue = DurableQueue(db, OutboxMail, self.limits, due=(OutboxState.pending, OutboxState.sending),
                                  claimed=OutboxState.sending, done=OutboxState.sent, columns=SENT_COLUMNS)
        self.pool = SmtpPool(settings)
        self._keep_open = False  # connections stay open between passes (run(), send_all())
        self._stop: asyncio.Event | None = None  # run()'s: a pass claims no more once it is set
        self._next_slot = 0.0  # monotonic time of the next send that outbox_rate_per_second allows
        self.wakeup = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        try:
            async with self._connections_kept():
                await run_passes("outbox", self.send_due, stop, self.wakeup, self.settings.outbox_poll_seconds)
        except CredentialRefused as exc:  # claimed rows go out after a restart, once their lease ends
            from handlers.alerts import alert

            text = f"{exc}; no mail is sent until the desk is restarted with a working credential"
            await alert(self.deps, "outbox", text, fault=True) if self.deps else log.error("outbox: %s", text)

    async def send_due(self, batch: int | None = None) -> int:
        """One pass: send due rows over `smtp_connections` connections until none is due (or `stop` is set).

        Rows are claimed `batch` at a time (`outbox_claim_per_connection` per connection), the next
        claim made while the last rows of the one before go out. Rows claimed by a process that
        then crashes wait for their lease to run out (late, never doubled), so a claim is bounded;
        each claim costs a few milliseconds of the event loop, so it is not tiny either.
        """
        try:
            await self.pool.close_idle()
            batch = batch or self.limits.batch * self.settings.smtp_connections
            rate = self.settings.outbox_rate_per_second
            if rate:  # claim no more than can go out well within the lease
                batch = max(1, min(batch, int(rate * self.limits.lease_seconds / 2)))
            claimed = await self.queue.claim(batch)
            if not claimed:
                return 0
            feed = _Feed(self.queue, batch, claimed, lambda: not (self._stop and self._stop.is_set()))
            marks = self.queue.marks()
            try:
                workers = min(self.settings.smtp_connections, len(claimed))
                return sum(await asyncio.gather(*(self._drain(feed, marks) for _ in range(workers))))
            finally:
                feed.close()
                await marks.flush()
        finally:
            if not self._keep_open:
                await self.pool.close()

    async def send_all(self) -> int:
        """Send until nothing is due (commands that send and exit)."""
        total = 0
        async with self._connections_kept():
            while sent := await self.send_due():
                total += sent
        return total

    @contextlib.asynccontextmanager
    async def _connections_kept(self):
        self._keep_open = True
        try:
            yield
        finally:
            self._keep_open = False
            await self.pool.close()

    async def _drain(self, feed: _Feed, marks: Marks) -> int:
        sent = 0
        smtp: aiosmtplib.SMTP | None = None
        try:
            while (row := await feed.get()) is not None:
                try:
                    _check_sendable(row, self.settings.outbox_max_attempts)
                    if smtp is None:
                        smtp = await self.pool.acquire()
                    await self._throttle()
                    await self._send_one(smtp, row)
                    await marks.add(row.id, at_once=row.kind not in BATCH_MARKED)
                    sent += 1
                except PermanentFailure as exc:
                    await self._mark_failed(row, str(exc))
                except CredentialRefused:
                    raise  # the login, not this row: the outbox stops (run()) and the row waits for its lease
                except FAILURES as exc:
                    await self._retry_later(row, exc)
                    await close(smtp)
                    smtp = None
                except Exception as exc:  # the same bytes would fail again: this row only
                    log.exception("outbox %s cannot be sent", row.id)
                    await self._mark_failed(row, f"cannot be sent: {exc!r}")
                    await close(smtp)
                    smtp = None
        finally:
            if smtp is not None:
                self.pool.release(smtp)
        return sent

    async def _throttle(self) -> None:
        """Space sends `1 / outbox_rate_per_second` apart, across all connections."""
        rate = self.settings.outbox_rate_per_second
        if not rate:
            return
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1 / rate
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _send_one(self, smtp: aiosmtplib.SMTP, row: OutboxMail) -> None:
        utf8 = needs_smtputf8(row.mail_from, *row.rcpt_to) or not row.raw.isascii()
        try:
            errors, _ = await smtp.sendmail(row.mail_from, row.rcpt_to, row.raw, mail_options=["SMTPUTF8"] if utf8 else [])
        except aiosmtplib.SMTPNotSupported as exc:
            raise PermanentFailure(
                f"the SMTP server does not offer SMTPUTF8, which the internationalised address "
                f"{row.rcpt_to[0] if row.rcpt_to else row.mail_from} needs ({exc})") from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if all(code >= 500 for code in codes):
                raise PermanentFailure("; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)) from exc
            raise
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise PermanentFailure(f"{exc.code} {exc.message}") from exc
            raise
        if errors:
            log.warning("outbox %s: some recipients refused: %s", row.id, errors)

    async def _mark_failed(self, row: OutboxMail, error: str) -> None:
        log.error("outbox %s to %s failed permanently: %s", row.id, row.recipient, error)
        await self.queue.set(row.id, state=OutboxState.failed, last_error=error[:2000])

    async def _retry_later(self, row: OutboxMail, exc: BaseException) -> None:
        if row.attempts >= self.limits.max_attempts:
            await self._mark_failed(row, f"gave up after {row.attempts} attempts: {exc!r}")
            return
        delay = self.limits.backoff(row.attempts)
        log.warning("outbox %s to %s: temporary failure (%r); retry in %.0fs", row.id, row.recipient, exc, delay.total_seconds())
        await self.queue.later(row.id, delay, repr(exc), state=OutboxState.pending)


class _Feed:
    """The rows of one pass for its workers: the next batch is claimed when half of the last one is left."""

    def __init__(self, queue: DurableQueue, batch: int, first: list[OutboxMail], go_on) -> None:
        self.queue, self.batch, self.go_on = queue, batch, go_on
        self.rows = collections.deque(first)
        self._next: asyncio.Task | None = None
        self._more = True

    async def get(self) -> OutboxMail | None:
        if self._next is not None and self._next.done():
            self._take()
        if self._more and self._next is None and len(self.rows) < self.batch / 2 and self.go_on():
            self._next = asyncio.create_task(self.queue.claim(self.batch))
        while not self.rows:
            task = self._next
            if task is None:
                return None
            await asyncio.wait([task])
            if self._next is task:
                self._take()
        return self.rows.popleft()

    def _take(self) -> None:
        task, self._next = self._next, None
        claimed = task.result()  # a failed claim fails the pass
        self.rows.extend(claimed)
        self._more = bool(claimed)

    def close(self) -> None:
        """The pass ends early (an error): a claim under way is dropped; what it took waits for its lease."""
        if self._next is not None:
            self._next.cancel()


def _check_sendable(row: OutboxMail, max_attempts: int) -> None:
    """Raise PermanentFailure for a row that must not go out (rows queued before the checks, too)."""
    if row.attempts > max_attempts:
        raise PermanentFailure(f"gave up after {row.attempts - 1} attempts that never finished (lease ran out)")
    if not row.raw:
        raise PermanentFailure("nothing to send (the mail has no content)")
    if len(row.rcpt_to) != 1:
        raise PermanentFailure(f"a mail goes to exactly one address, this one has {len(row.rcpt_to)}")
    try:
        envelope_address(row.rcpt_to[0])
    except BadAddress as exc:
        raise PermanentFailure(str(exc)) from None
