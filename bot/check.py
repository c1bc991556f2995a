"""`eocic-desk check`: try each configured part once (database, IMAP with the chosen login, SMTP,
Slack `auth.test`, LimeSurvey) and print one line each; exit status 1 if any failed."""

from __future__ import annotations

import asyncio
import ssl
from typing import Awaitable, Callable

from bot.startup import StartupError, database_where, slack_identity, wait_for_database
from config.settings import MailAuth, Security, Settings
from models.db import Database

Check = Callable[[Settings], Awaitable[str]]  # what works, or raises saying what does not


async def check_database(settings: Settings) -> str:
    db = Database(settings.db_url)
    try:
        await wait_for_database(db, settings.db_url, 0)
    finally:
        await db.dispose()
    return database_where(settings.db_url)


def _login_kind(settings: Settings) -> str:
    if settings.mail_auth is MailAuth.oauth2:
        return f"{settings.oauth2_mechanism.value} ({settings.oauth2_provider.value})"
    return "password"


async def check_imap(settings: Settings) -> str:
    from imapclient import IMAPClient

    from bot.mail_login import imap_login

    def login() -> int:
        context = ssl.create_default_context() if settings.imap_security is not Security.none else None
        client = IMAPClient(settings.imap_host, port=settings.imap_port, ssl=settings.imap_security is Security.ssl,
                            ssl_context=context, timeout=20)
        try:
            if settings.imap_security is Security.starttls:
                client.starttls(context)
            imap_login(client, settings)
            return int(client.select_folder(settings.imap_folder, readonly=True)[b"EXISTS"])
        finally:
            try:
                client.logout()
            except Exception:
                client.shutdown()

    count = await asyncio.to_thread(login)
    return (f"{settings.imap_user} on {settings.imap_host}:{settings.imap_port}, {_login_kind(settings)} login, "
            f"{count} mail(s) in {settings.imap_folder}")


async def check_smtp(settings: Settings) -> str:
    from bot.mail_login import smtp_login
    from bot.smtp_pool import smtp_client

    smtp = smtp_client(settings)
    await smtp.connect()
    try:
        await smtp_login(smtp, settings)
        await smtp.noop()
    finally:
        smtp.close()
    who = f"{settings.smtp_user}, {_login_kind(settings)} login" if settings.smtp_user else "no login"
    return f"{settings.smtp_host}:{settings.smtp_port} ({who})"


async def check_slack(settings: Settings) -> str:
    from bot.slack.app import web_client

    return await slack_identity(web_client(settings))


async def check_limesurvey(settings: Settings) -> str:
    from bot.limesurvey import LimeSurvey

    async with LimeSurvey(settings.limesurvey_url, settings.limesurvey_user,
                          settings.limesurvey_password.get_secret_value(), timeout=20):
        pass
    return f"{settings.limesurvey_url} as {settings.limesurvey_user}"


def parts(settings: Settings) -> list[tuple[str, Check | None, str]]:
    """(name, check or None when not configured, what happens without it)."""
    return [
        ("database", check_database, ""),
        ("IMAP", check_imap if settings.imap_configured else None, "EOCIC_IMAP_HOST is not set: `run` watches a local stand-in"),
        ("SMTP", check_smtp if settings.smtp_configured else None, "EOCIC_SMTP_HOST is not set: `run` catches mail locally"),
        ("Slack", check_slack if settings.slack_configured else None, "SLACK_BOT_TOKEN is not set: no Slack"),
        ("LimeSurvey", check_limesurvey if settings.limesurvey_url else None, "EOCIC_LIMESURVEY_URL is not set"),
    ]


async def run_checks(settings: Settings, out) -> int:
    failed = 0
    for name, check, otherwise in parts(settings):
        if check is None:
            print(f"--    {name:<10} not configured ({otherwise})", file=out)
            continue
        try:
            print(f"ok    {name:<10} {await asyncio.wait_for(check(settings), 60)}", file=out)
        except Exception as exc:  # each part reports for itself; the next is still tried
            failed += 1
            print(f"FAIL  {name:<10} {_reason(exc)}", file=out)
    return 1 if failed else 0


def _reason(exc: BaseException) -> str:
    if isinstance(exc, StartupError):
        return str(exc)
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer within 60 s"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]
