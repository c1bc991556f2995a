"""The outbox sender: delivers outbox rows over SMTP (aiosmtplib) and records the outcome.

A row is claimed by setting it to `sending` with a lease (`next_attempt_at` in the future),
sent, then marked `sent` the moment the server accepts it. A crash in between leaves the row
`sending`; once its lease runs out it is sent again with the same Message-ID (at least once,
and the window is only the time between the server's 250 and our commit). Temporary failures
(4xx, disconnects, timeouts) retry with exponential back-off; permanent ones (5xx) are marked
failed with the server's answer.

One row can only fail itself: a row that cannot be sent as it is (no single valid recipient, no
bytes, an internationalised address the server cannot take without SMTPUTF8, or any other error
the same bytes would raise again) is marked failed at once and the connection goes on with the
next row; a row claimed more than `outbox_max_attempts` times is failed without a further try.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from datetime import timedelta

import aiosmtplib
from sqlalchemy import or_, update
from sqlmodel import select

from bot.mail_login import smtp_login
from bot.oauth2 import CredentialRefused
from bot.passes import run_passes
from config.settings import Security, Settings
from handlers.outgoing import BadAddress, envelope_address, needs_smtputf8
from models.base import utcnow
from models.db import Database
from models.outbox import OutboxMail, OutboxState

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 6 * 3600
ROWS_PER_CONNECTION = 25


class PermanentFailure(Exception):
    pass


def smtp_client(settings: Settings) -> aiosmtplib.SMTP:
    security = settings.smtp_security
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=security is Security.ssl,
        start_tls=True if security is Security.starttls else False,
        tls_context=ssl.create_default_context() if security is not Security.none else None,
        timeout=settings.smtp_timeout_seconds,
    )  # the login is bot.mail_login.smtp_login(), after connect()


class OutboxSender:
    def __init__(self, db: Database, settings: Settings, *, lease_seconds: float | None = None, deps=None) -> None:
        self.db = db
        self.deps = deps  # for alerts
        self.settings = settings
        self.lease = timedelta(seconds=lease_seconds or settings.outbox_lease_seconds)
        self._next_slot = 0.0  # monotonic time of the next send that outbox_rate_per_second allows
        self.wakeup = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await run_passes("outbox", self.send_due, stop, self.wakeup, self.settings.outbox_poll_seconds)
        except CredentialRefused as exc:  # claimed rows go out after a restart, once their lease ends
            from handlers.alerts import alert

            text = f"{exc}; no mail is sent until the desk is restarted with a working credential"
            await alert(self.deps, "outbox", text, fault=True) if self.deps else log.error("outbox: %s", text)

    async def send_due(self, batch: int | None = None) -> int:
        """One pass: claim due rows and send them over `smtp_connections` connections.

        A claim is small (`ROWS_PER_CONNECTION` per connection): rows claimed by a process that
        then crashes wait for their lease to run out, so few should be claimed at a time.
        """
        batch = batch or ROWS_PER_CONNECTION * self.settings.smtp_connections
        rate = self.settings.outbox_rate_per_second
        if rate:  # claim no more than can go out well within the lease
            batch = max(1, min(batch, int(rate * self.lease.total_seconds() / 2)))
        claimed = await self._claim(batch)
        if not claimed:
            return 0
        queue: asyncio.Queue[OutboxMail] = asyncio.Queue()
        for row in claimed:
            queue.put_nowait(row)
        workers = min(self.settings.smtp_connections, len(claimed))
        results = await asyncio.gather(*(self._drain(queue) for _ in range(workers)))
        return sum(results)

    async def send_all(self) -> int:
        """Send until nothing is due (commands that send and exit)."""
        total = 0
        while sent := await self.send_due():
            total += sent
        return total

    async def _claim(self, batch: int) -> list[OutboxMail]:
        now = utcnow()
        due = or_(OutboxMail.state == OutboxState.pending, OutboxMail.state == OutboxState.sending)
        async with self.db.transaction() as session:
            # Several desks may claim at once (PostgreSQL): rows another one holds are skipped, and
            # a row is ours only if our own UPDATE took it (RETURNING), never because it looks claimed.
            ids = list(
                await session.exec(
                    select(OutboxMail.id).where(due, OutboxMail.next_attempt_at <= now).order_by(OutboxMail.id)
                    .limit(batch).with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return []
            taken = list((await session.execute(
                update(OutboxMail)
                .where(OutboxMail.id.in_(ids), due, OutboxMail.next_attempt_at <= now)
                .values(state=OutboxState.sending, next_attempt_at=now + self.lease, attempts=OutboxMail.attempts + 1)
                .returning(OutboxMail.id)
            )).scalars())
            if not taken:
                return []
            return list(await session.exec(select(OutboxMail).where(OutboxMail.id.in_(taken)).order_by(OutboxMail.id)))

    async def _drain(self, queue: asyncio.Queue[OutboxMail]) -> int:
        sent = 0
        smtp: aiosmtplib.SMTP | None = None
        try:
            while not queue.empty():
                row = queue.get_nowait()
                try:
                    _check_sendable(row, self.settings.outbox_max_attempts)
                    if smtp is None or not smtp.is_connected:
                        smtp = smtp_client(self.settings)
                        await smtp.connect()
                        await smtp_login(smtp, self.settings)
                    await self._throttle()
                    await self._send_one(smtp, row)
                    await self._mark_sent(row)
                    sent += 1
                except PermanentFailure as exc:
                    await self._mark_failed(row, str(exc))
                except CredentialRefused:
                    raise  # the login, not this row: the outbox stops (run()) and the row waits for its lease
                except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
                    await self._retry_later(row, exc)
                    await _close(smtp)
                    smtp = None
                except Exception as exc:  # the same bytes would fail again: this row only
                    log.exception("outbox %s cannot be sent", row.id)
                    await self._mark_failed(row, f"cannot be sent: {exc!r}")
                    await _close(smtp)
                    smtp = None
        finally:
            await _close(smtp)
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

    async def _mark_sent(self, row: OutboxMail) -> None:
        async with self.db.transaction() as session:
            await session.exec(
                update(OutboxMail).where(OutboxMail.id == row.id).values(state=OutboxState.sent, sent_at=utcnow(), last_error=None)
            )

    async def _mark_failed(self, row: OutboxMail, error: str) -> None:
        log.error("outbox %s to %s failed permanently: %s", row.id, row.recipient, error)
        async with self.db.transaction() as session:
            await session.exec(
                update(OutboxMail).where(OutboxMail.id == row.id).values(state=OutboxState.failed, last_error=error[:2000])
            )

    async def _retry_later(self, row: OutboxMail, exc: BaseException) -> None:
        if row.attempts >= self.settings.outbox_max_attempts:
            await self._mark_failed(row, f"gave up after {row.attempts} attempts: {exc!r}")
            return
        delay = min(self.settings.outbox_retry_base_seconds * 2 ** (row.attempts - 1), MAX_BACKOFF_SECONDS)
        log.warning("outbox %s to %s: temporary failure (%r); retry in %.0fs", row.id, row.recipient, exc, delay)
        async with self.db.transaction() as session:
            await session.exec(
                update(OutboxMail)
                .where(OutboxMail.id == row.id)
                .values(state=OutboxState.pending, next_attempt_at=utcnow() + timedelta(seconds=delay), last_error=repr(exc)[:2000])
            )


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


async def _close(smtp: aiosmtplib.SMTP | None) -> None:
    if smtp is not None and smtp.is_connected:
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
            smtp.close()
