"""Logging in to the mailbox's IMAP and SMTP servers: with the password, or with an OAuth2 token.

With `EOCIC_MAIL_AUTH=oauth2` the SASL mechanism is `EOCIC_OAUTH2_MECHANISM` (XOAUTH2, or
OAUTHBEARER of RFC 7628). A refused login is tried once more with a freshly fetched token (the
provider may have ended the cached one early); refused again, it raises `CredentialRefused`:
the credential is wrong or revoked, and reconnecting would only be refused again.
"""

from __future__ import annotations

import asyncio
import base64

import aiosmtplib
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from bot.oauth2 import CredentialRefused, tokens_for
from config.settings import MailAuth, SaslMechanism, Settings


def imap_login(client: IMAPClient, settings: Settings) -> None:
    """Blocking (the watcher's thread)."""
    if settings.mail_auth is MailAuth.password:
        try:
            client.login(settings.imap_user, settings.imap_password.get_secret_value())
        except LoginError as exc:
            if "[UNAVAILABLE]" in str(exc):  # RFC 5530: temporary, try again later
                raise
            raise CredentialRefused(f"EOCIC_IMAP_USER / EOCIC_IMAP_PASSWORD: IMAP server {settings.imap_host} "
                                    f"refused the login of {settings.imap_user}: {_text(exc)}") from None
        return
    tokens = tokens_for(settings)
    refusal = None
    for fresh in (False, True):
        token = tokens.get(fresh=fresh)
        try:
            if settings.oauth2_mechanism is SaslMechanism.OAUTHBEARER:
                client.oauthbearer_login(settings.imap_user, token)
            else:
                client.oauth2_login(settings.imap_user, token)
            return
        except LoginError as exc:
            refusal = exc
    raise CredentialRefused(
        f"IMAP server {settings.imap_host} refused {settings.oauth2_mechanism.value} login of {settings.imap_user} "
        f"with a fresh token of {tokens.describe}: {_text(refusal)}"
    )


async def smtp_login(smtp: aiosmtplib.SMTP, settings: Settings) -> None:
    """After `connect()` (and its STARTTLS): log in with the password or a token, if a user is set."""
    if not settings.smtp_user:
        return
    if settings.mail_auth is MailAuth.password:
        try:
            await smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        except aiosmtplib.SMTPAuthenticationError as exc:
            if exc.code != 535:
                raise
            raise CredentialRefused(f"EOCIC_SMTP_USER / EOCIC_SMTP_PASSWORD: SMTP server {settings.smtp_host} "
                                    f"refused the login of {settings.smtp_user}: {exc.code} {exc.message}") from None
        return
    tokens = tokens_for(settings)
    refusal = None
    for fresh in (False, True):
        token = await asyncio.to_thread(tokens.get, fresh=fresh)
        try:
            if settings.oauth2_mechanism is SaslMechanism.OAUTHBEARER:
                await _smtp_oauthbearer(smtp, settings.smtp_user, token)
            else:
                await smtp.auth_xoauth2(settings.smtp_user, token)
            return
        except aiosmtplib.SMTPAuthenticationError as exc:
            if exc.code != 535:  # 454 and the like: a temporary failure, the outbox retries the mail
                raise
            refusal = exc
    raise CredentialRefused(
        f"SMTP server {settings.smtp_host} refused {settings.oauth2_mechanism.value} login of {settings.smtp_user} "
        f"with a fresh token of {tokens.describe}: {refusal.code} {refusal.message}"
    )


async def _smtp_oauthbearer(smtp: aiosmtplib.SMTP, user: str, token: str) -> None:
    """RFC 7628 over SMTP (aiosmtplib has XOAUTH2 only); an error challenge is answered with ^A."""
    authzid = user.replace("=", "=3D").replace(",", "=2C")
    initial = base64.b64encode(f"n,a={authzid},\x01auth=Bearer {token}\x01\x01".encode()).decode()
    if smtp.last_ehlo_response is None:  # connect() says EHLO only when it needs to (STARTTLS, password)
        await smtp.ehlo()
    response = await smtp.execute_command(b"AUTH", b"OAUTHBEARER", initial.encode())
    if response.code == 334:
        response = await smtp.execute_command(b"AQ==")
    if response.code != 235:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)


def _text(exc: BaseException | None) -> str:
    text = str(exc.args[0] if exc and exc.args else exc)
    return text.removeprefix("b'").removesuffix("'")
