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
            raise _password_refused("IMAP", settings.imap_host, settings.imap_user, _text(exc)) from None
        return
    oauthbearer = settings.oauth2_mechanism is SaslMechanism.OAUTHBEARER
    sasl_login = client.oauthbearer_login if oauthbearer else client.oauth2_login
    tokens, refusal = tokens_for(settings), None
    for fresh in (False, True):
        try:
            sasl_login(settings.imap_user, tokens.get(fresh=fresh))
            return
        except LoginError as exc:
            refusal = exc
    raise _token_refused(settings, "IMAP", settings.imap_host, settings.imap_user, tokens.describe, _text(refusal))


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
            raise _password_refused("SMTP", settings.smtp_host, settings.smtp_user, f"{exc.code} {exc.message}") from None
        return
    oauthbearer = settings.oauth2_mechanism is SaslMechanism.OAUTHBEARER
    tokens, refusal = tokens_for(settings), None
    for fresh in (False, True):
        token = await asyncio.to_thread(tokens.get, fresh=fresh)
        try:
            await (_smtp_oauthbearer(smtp, settings.smtp_user, token) if oauthbearer
                   else smtp.auth_xoauth2(settings.smtp_user, token))
            return
        except aiosmtplib.SMTPAuthenticationError as exc:
            if exc.code != 535:  # 454 and the like: a temporary failure, the outbox retries the mail
                raise
            refusal = exc
    raise _token_refused(settings, "SMTP", settings.smtp_host, settings.smtp_user, tokens.describe,
                         f"{refusal.code} {refusal.message}")


def _password_refused(protocol: str, host: str, user: str, answer: str) -> CredentialRefused:
    return CredentialRefused(f"EOCIC_{protocol}_USER / EOCIC_{protocol}_PASSWORD: {protocol} server {host} "
                             f"refused the login of {user}: {answer}")


def _token_refused(settings: Settings, protocol: str, host: str, user: str, token_source: str,
                   answer: str) -> CredentialRefused:
    return CredentialRefused(f"{protocol} server {host} refused {settings.oauth2_mechanism.value} login of {user} "
                             f"with a fresh token of {token_source}: {answer}")


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
