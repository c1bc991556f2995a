"""Issue 14, section 1: OAuth2 login (XOAUTH2, OAUTHBEARER) for the mailbox watcher and the outbox.

Real Dovecot checks every token with its `oauth2` passdb against a strict local provider
(tests/oauth2_provider.py), which also issues the tokens; aiosmtpd takes the same tokens.
The desk's password settings hold a wrong password: only the token can open the mailbox.
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
import pytest
from sqlmodel import select

from bench.mailgen import make_request
from models.outbox import OutboxMail, OutboxState
from models.tickets import Message
from tests.desk import count, running_desk, wait_until
from tests.servers import free_port, imap_env, smtp_env
from tests.slack_api import FakeSlackApi

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def oauth2_env(desk_env, dovecot, smtp, provider, client, user, mechanism="XOAUTH2", **extra) -> dict[str, str]:
    return {
        **desk_env,
        **imap_env(dovecot.host, dovecot.port, user, "not-the-password", EOCIC_IMAP_POLL_SECONDS="300"),
        **smtp_env(smtp.host, smtp.port, EOCIC_SMTP_USER=user, EOCIC_OUTBOX_POLL_SECONDS="0.2",
                   EOCIC_OUTBOX_RETRY_BASE_SECONDS="0.3"),
        "EOCIC_MAIL_AUTH": "oauth2", "EOCIC_OAUTH2_PROVIDER": "generic", "EOCIC_OAUTH2_TOKEN_URL": provider.token_url,
        "EOCIC_OAUTH2_CLIENT_ID": client.client_id, "EOCIC_OAUTH2_CLIENT_SECRET": client.secret,
        "EOCIC_OAUTH2_SCOPE": "IMAP SMTP", "EOCIC_OAUTH2_MECHANISM": mechanism,
        **extra,
    }


async def message_ids(db) -> list[str]:
    async with db.session() as session:
        return list(await session.exec(select(Message.message_id)))


async def sent(db) -> int:
    return await count(db, OutboxMail, OutboxMail.state == OutboxState.sent)


async def at_least(db, n: int) -> bool:
    return await count(db, Message) >= n


async def sent_at_least(db, n: int) -> bool:
    return await sent(db) >= n


async def wait_for_session(dovecot, user: str) -> list[int]:
    assert await wait_until(lambda: dovecot.imap_pids(user), timeout=20), (
        "the watcher never logged in\n" + dovecot.log_tail(1500))
    return dovecot.imap_pids(user)


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
async def test_watcher_and_outbox_log_in_with_a_token(oauth2_dovecot, oauth2_provider, oauth2_smtp, desk_env, mechanism):
    user, _ = oauth2_dovecot.new_user()
    client = oauth2_provider.new_client(user)
    env = oauth2_env(desk_env, oauth2_dovecot, oauth2_smtp, oauth2_provider, client, user, mechanism)
    async with running_desk(env) as (settings, db):
        await wait_for_session(oauth2_dovecot, user)
        oauth2_dovecot.deliver(user, make_request(1))
        assert await wait_until(lambda: count(db, Message)), "no mail read over the OAuth2 login"
        assert await wait_until(lambda: sent(db)), "the acknowledgement did not go out over the OAuth2 login"
    assert [u for _, u, active in oauth2_provider.introspections if active].count(user) >= 1, "Dovecot never checked the token"
    assert oauth2_smtp.handler.logins[-1] == (mechanism, user, True)
    assert len(oauth2_smtp.messages) == 1
    assert len(oauth2_provider.issued_to(client)) == 1, "IMAP and SMTP share one cached token"


@pytest.mark.parametrize("grant", ["client credentials", "rotating refresh token", "google refresh token"])
async def test_token_expiring_mid_run_is_refreshed_without_losing_or_doubling_a_mail(
        oauth2_dovecot, oauth2_provider, oauth2_smtp, desk_env, grant):
    """Tokens live 3 s; the session is ended every 2 s (Dovecot checks a token only at login),
    so the desk logs in again and again with a token it must have refreshed in time. A rotating
    refresh token works once: the desk must use the one that came with the last access token.
    Google's library (google-auth) is pointed at the local token endpoint."""
    user, _ = oauth2_dovecot.new_user()
    client = oauth2_provider.new_client(user, lifetime=3, rotate=grant == "rotating refresh token")
    extra = {}
    if grant != "client credentials":
        extra["EOCIC_OAUTH2_REFRESH_TOKEN"] = oauth2_provider.new_refresh_token(client)
    if grant.startswith("google"):
        extra["EOCIC_OAUTH2_PROVIDER"] = "google"
    env = oauth2_env(desk_env, oauth2_dovecot, oauth2_smtp, oauth2_provider, client, user, **extra)
    mails = [make_request(200 + i) for i in range(12)]
    async with running_desk(env) as (settings, db):
        await wait_for_session(oauth2_dovecot, user)
        for i, raw in enumerate(mails):
            await asyncio.to_thread(oauth2_dovecot.deliver, user, raw)
            if i % 4 == 3:
                oauth2_dovecot.doveadm("kick", user, check=False)  # fails when no session is left
            await asyncio.sleep(0.5)
        assert await wait_until(lambda: at_least(db, len(mails)), timeout=30), f"{await count(db, Message)} mails read"
        assert await wait_until(lambda: sent_at_least(db, len(mails)), timeout=20), f"{await sent(db)} sent"
        await asyncio.sleep(1.0)  # anything read twice would show now
        ids = await message_ids(db)
    assert len(ids) == len(mails) and len(set(ids)) == len(mails), "a mail was lost or recorded twice"
    assert len(oauth2_smtp.messages) == len(mails), "one acknowledgement per mail, none twice"
    issued = oauth2_provider.issued_to(client)
    assert len(issued) >= 3, f"the 3-second token was refreshed only {len(issued) - 1} times in ~8 s"
    assert {t.grant for t in issued} == {"client_credentials" if grant == "client credentials" else "refresh_token"}
    assert not [login for login in oauth2_smtp.handler.logins if not login[2]], "the outbox offered an expired token"
    assert not oauth2_provider.refused_at_login(client), "the watcher offered an expired token"




async def test_a_token_refused_before_its_expiry_is_replaced_once(oauth2_dovecot, oauth2_provider, oauth2_smtp, desk_env):
    """The provider ends the cached token early (a password reset, say): the next login is refused,
    the desk fetches a fresh token and logs in with it."""
    user, _ = oauth2_dovecot.new_user()
    client = oauth2_provider.new_client(user, lifetime=3600)
    env = oauth2_env(desk_env, oauth2_dovecot, oauth2_smtp, oauth2_provider, client, user)
    async with running_desk(env) as (settings, db):
        await wait_for_session(oauth2_dovecot, user)
        (first,) = oauth2_provider.issued_to(client)
        oauth2_provider.revoke_access_token(first.token)
        oauth2_dovecot.doveadm("kick", user)
        oauth2_dovecot.deliver(user, make_request(300))
        assert await wait_until(lambda: count(db, Message), timeout=15), "the desk did not log in with a fresh token"
        assert await wait_until(lambda: sent(db), timeout=15)
        issued = oauth2_provider.issued_to(client)
    assert len(issued) == 2 and oauth2_provider.refused_at_login(client) == [first.token]


async def test_revoked_credential_stops_with_one_line_and_an_alert(oauth2_dovecot, oauth2_provider, oauth2_smtp,
                                                                   desk_env, caplog):
    user, _ = oauth2_dovecot.new_user()
    client = oauth2_provider.new_client(user)
    slack = await FakeSlackApi(channels={"C0TRIAGE": "eocic-triage"}).start()
    port = free_port()
    env = oauth2_env(desk_env, oauth2_dovecot, oauth2_smtp, oauth2_provider, client, user,
                     EOCIC_HTTP_PORT=str(port), SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s3cret",
                     EOCIC_SLACK_API_URL=slack.url, EOCIC_SLACK_TRIAGE_CHANNEL="C0TRIAGE")
    try:
        async with running_desk(env) as (settings, db):
            await wait_for_session(oauth2_dovecot, user)
            refusals_before = len(oauth2_provider.refusals)
            oauth2_provider.revoke_client(client)
            caplog.clear()
            oauth2_dovecot.doveadm("kick", user)
            posted = await wait_until(lambda: [c for c in slack.calls if c.method == "chat.postMessage"
                                               and "invalid_client" in c.dump()], timeout=15)
            assert posted, "no Slack alert"
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    status, health = response.status, await response.json()
            await asyncio.sleep(3)  # a reconnect loop would show now
            pids = oauth2_dovecot.imap_pids(user)
    finally:
        await slack.stop()
    assert status == 503 and health["status"] == "degraded"
    assert "invalid_client" in health["faults"]["mailbox"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "\n" not in errors[0].getMessage() and not errors[0].exc_info
    assert "invalid_client" in errors[0].getMessage() and user in errors[0].getMessage()
    assert oauth2_provider.refusals[refusals_before:] == ["invalid_client"], "asked for a token again and again"
    assert pids == [], "the watcher reconnected with a refused credential"


async def test_microsoft_client_credentials_through_msal(oauth2_dovecot, oauth2_provider, oauth2_smtp, desk_env,
                                                         monkeypatch):
    """The Microsoft 365 path: msal reads the tenant's OpenID configuration from the (local, HTTPS)
    authority and asks its token endpoint for a client-credentials token."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", oauth2_provider.ca_file)  # msal's HTTP client is requests
    user, _ = oauth2_dovecot.new_user()
    client = oauth2_provider.new_client(user)
    env = oauth2_env(desk_env, oauth2_dovecot, oauth2_smtp, oauth2_provider, client, user,
                     EOCIC_OAUTH2_PROVIDER="microsoft", EOCIC_OAUTH2_TENANT="eocic-test-tenant",
                     EOCIC_OAUTH2_TOKEN_URL=oauth2_provider.tls_url)
    async with running_desk(env) as (settings, db):
        await wait_for_session(oauth2_dovecot, user)
        oauth2_dovecot.deliver(user, make_request(400))
        assert await wait_until(lambda: count(db, Message), timeout=15)
        assert await wait_until(lambda: sent(db), timeout=15)
    (issued,) = oauth2_provider.issued_to(client)
    assert issued.grant == "client_credentials"


async def test_smtp_refusing_the_token_stops_the_outbox_and_keeps_the_mail(oauth2_dovecot, oauth2_provider,
                                                                            oauth2_smtp, desk_env, caplog):
    """The token opens the mailbox but not the SMTP user named (a misconfiguration): two refused
    logins (the second with a fresh token), then the outbox stops; the acknowledgement stays queued."""
    user, _ = oauth2_dovecot.new_user()
    client = oauth2_provider.new_client(user)
    env = oauth2_env(desk_env, oauth2_dovecot, oauth2_smtp, oauth2_provider, client, user,
                     EOCIC_SMTP_USER="someone-else@example.test")
    async with running_desk(env) as (settings, db):
        await wait_for_session(oauth2_dovecot, user)
        oauth2_dovecot.deliver(user, make_request(500))
        assert await wait_until(lambda: count(db, Message), timeout=15)
        assert await wait_until(lambda: len(oauth2_smtp.handler.logins) >= 2, timeout=15)
        await asyncio.sleep(2)  # a retry loop would show now
        queued = await count(db, OutboxMail, OutboxMail.state != OutboxState.failed)
        logins = list(oauth2_smtp.handler.logins)
    assert logins == [("XOAUTH2", "someone-else@example.test", False)] * 2
    assert queued == 1 and not oauth2_smtp.messages, "the acknowledgement must wait, not fail"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("outbox: SMTP server")
