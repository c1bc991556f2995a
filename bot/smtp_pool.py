"""SMTP connections kept open between outbox passes, so that a bulk send logs in a few times, not per pass.

A connection is handed back after a pass and reused by the next one; before reuse a NOOP checks
that the server still has it (servers drop idle clients), and one unused for `smtp_idle_seconds`
is closed. A connection logged in with an OAuth2 token is not reused once that token is due for
refresh: a provider may end a session whose token has run out, so the next pass logs in again
with a fresh one. A connection that failed is discarded, and the next `acquire()` opens a new one.
`opened` counts the connections opened (the bulk bench reports it).
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
import weakref

import aiosmtplib

from bot.mail_login import smtp_login
from bot.oauth2 import tokens_for
from config.settings import MailAuth, Security, Settings

FAILURES = (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError)


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


class SmtpPool:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.opened = 0
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # (connection, monotonic time handed back)
        # connection -> when the token it logged in with is due for refresh (forgotten with the connection)
        self._renew_at: weakref.WeakKeyDictionary[aiosmtplib.SMTP, float] = weakref.WeakKeyDictionary()

    async def acquire(self) -> aiosmtplib.SMTP:
        """A logged-in connection: an idle one that still answers, or a new one (raises what connect/login raise)."""
        while self._idle:
            smtp, since = self._idle.pop()
            now = time.monotonic()
            if smtp.is_connected and now - since < self.settings.smtp_idle_seconds and now < self._renew_at[smtp]:
                try:
                    await smtp.noop()
                    return smtp
                except FAILURES:
                    pass
            await close(smtp)
        smtp = smtp_client(self.settings)
        await smtp.connect()
        self.opened += 1
        try:
            await smtp_login(smtp, self.settings)
        except BaseException:
            await close(smtp)
            raise
        self._renew_at[smtp] = self._login_lasts_until()
        return smtp

    def _login_lasts_until(self) -> float:
        """When a login made just now should be made again: never with a password, with a token when it is due."""
        if self.settings.mail_auth is not MailAuth.oauth2 or not self.settings.smtp_user:
            return math.inf
        return tokens_for(self.settings).refresh_at

    def release(self, smtp: aiosmtplib.SMTP) -> None:
        if smtp.is_connected:
            self._idle.append((smtp, time.monotonic()))

    async def close_idle(self) -> None:
        """Close the connections nobody used for `smtp_idle_seconds`."""
        now, keep = time.monotonic(), []
        for smtp, since in self._idle:
            if now - since < self.settings.smtp_idle_seconds:
                keep.append((smtp, since))
            else:
                await close(smtp)
        self._idle = keep

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp, _ in idle:
            await close(smtp)


async def close(smtp: aiosmtplib.SMTP | None) -> None:
    """QUIT if the server still listens, else just drop the socket."""
    if smtp is not None and smtp.is_connected:
        try:
            await smtp.quit()
        except FAILURES:
            smtp.close()
