"""Issue 14, section 3: the operator's first hour. Mistakes end in one line naming the setting."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys

from imapclient import IMAPClient

from tests.desk import run_cli
from tests.servers import free_port, imap_env, smtp_env
from tests.slack_api import FakeSlackApi


def one_line(result) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("eocic-desk:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unknown_database_url_scheme(desk_env):
    result = run_cli({**desk_env, "EOCIC_DATABASE_URL": "mysql://desk@db/desk"}, "tickets")
    assert result.returncode == 2
    line = one_line(result)
    assert "EOCIC_DATABASE_URL" in line and "'mysql'" in line and "postgresql://" in line


def test_unreachable_database_is_retried_then_named(desk_env):
    url = f"postgresql://desk:secret-pw@127.0.0.1:{free_port()}/desk"
    result = run_cli({**desk_env, "EOCIC_DATABASE_URL": url, "EOCIC_DATABASE_WAIT_SECONDS": "2"}, "tickets")
    assert result.returncode == 1
    line = one_line(result)
    assert "EOCIC_DATABASE_URL" in line and "cannot reach" in line
    assert "secret-pw" not in result.stderr, "the password must not be printed"
    assert "retrying in" in result.stderr, "the retries must be said"


def test_http_port_in_use(desk_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli({**desk_env, "EOCIC_HTTP_PORT": str(port)}, "run", timeout=120)
    assert result.returncode == 1
    line = one_line(result)
    assert "EOCIC_HTTP_PORT" in line and str(port) in line and "already in use" in line


async def run_until(env: dict[str, str], marker: str, timeout: float = 90) -> tuple[int | None, str]:
    """`eocic-desk run` until `marker` shows in its output (then SIGTERM) or it exits."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out = b""
    try:
        async with asyncio.timeout(timeout):
            while line := await proc.stdout.readline():
                out += line
                if marker.encode() in line:
                    proc.terminate()
        return await proc.wait(), out.decode(errors="replace")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_refused_slack_token_stops_start_up_naming_it(desk_env):
    api = await FakeSlackApi().start()
    api.revoke("xoxb-revoked")
    try:
        env = {**desk_env, "EOCIC_HTTP_PORT": str(free_port()), "SLACK_BOT_TOKEN": "xoxb-revoked",
               "SLACK_SIGNING_SECRET": "s", "EOCIC_SLACK_API_URL": api.url}
        code, out = await run_until(env, "desk running")
    finally:
        await api.stop()
    assert code == 1 and "Traceback" not in out, out
    assert "eocic-desk: SLACK_BOT_TOKEN: Slack refused the token (token_revoked)" in out


async def test_bare_start_logs_working_stand_in_login_and_warns_about_plain_http(desk_env):
    env = {**desk_env, "EOCIC_HTTP_PORT": str(free_port()), "EOCIC_PUBLIC_URL": "http://desk.example.org"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out = b""
        async with asyncio.timeout(90):
            while b"desk running" not in out:
                line = await proc.stdout.readline()
                assert line, out.decode()
                out += line
        host, port, user, password = re.search(
            r"stand-in IMAP server on ([\d.]+):(\d+);.* user (\S+), password (\S+)", out.decode()).groups()

        def login() -> list:
            client = IMAPClient(host, port=int(port), ssl=False, timeout=10)
            client.login(user, password)
            folders = client.list_folders()
            client.logout()
            return folders

        assert await asyncio.to_thread(login)
        assert "EOCIC_PUBLIC_URL is plain http" in out.decode() and "RFC 8058" in out.decode()
    finally:
        proc.terminate()
        await proc.wait()


async def test_check_reports_each_part_and_fails_on_any(dovecot, smtp_sink, desk_env):
    user, password = dovecot.new_user()
    dovecot.deliver(user, b"From: a@example.test\r\nSubject: hi\r\n\r\nhello\r\n")
    api = await FakeSlackApi().start()
    api.revoke("xoxb-revoked")
    good = {**desk_env, **imap_env(dovecot.host, dovecot.port, user, password), **smtp_env(smtp_sink.host, smtp_sink.port),
            "SLACK_BOT_TOKEN": "xoxb-test", "EOCIC_SLACK_API_URL": api.url}
    try:
        ok = await asyncio.to_thread(run_cli, good, "check")
        bad = await asyncio.to_thread(run_cli, {**good, "EOCIC_IMAP_PASSWORD": "wrong", "SLACK_BOT_TOKEN": "xoxb-revoked",
                                                "EOCIC_SMTP_PORT": str(free_port())}, "check")
    finally:
        await api.stop()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    lines = ok.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["ok", "ok", "ok", "ok", "--"], ok.stdout
    assert f"{user} on {dovecot.host}:{dovecot.port}, password login, 1 mail(s) in INBOX" in lines[1]
    assert "desk in EOCIC" in lines[3]
    assert bad.returncode == 1 and "Traceback" not in bad.stdout + bad.stderr
    status = {line.split()[1]: line for line in bad.stdout.splitlines()}
    assert status["database"].startswith("ok")
    assert status["IMAP"].startswith("FAIL") and "AUTHENTICATIONFAILED" in status["IMAP"]
    assert status["SMTP"].startswith("FAIL")
    assert status["Slack"].startswith("FAIL") and "SLACK_BOT_TOKEN" in status["Slack"]


def test_check_logs_in_with_oauth2(oauth2_dovecot, oauth2_provider, desk_env):
    user, _ = oauth2_dovecot.new_user()
    client = oauth2_provider.new_client(user)
    env = {**desk_env, **imap_env(oauth2_dovecot.host, oauth2_dovecot.port, user, "not-the-password"),
           "EOCIC_MAIL_AUTH": "oauth2", "EOCIC_OAUTH2_PROVIDER": "generic", "EOCIC_OAUTH2_TOKEN_URL": oauth2_provider.token_url,
           "EOCIC_OAUTH2_CLIENT_ID": client.client_id, "EOCIC_OAUTH2_CLIENT_SECRET": client.secret,
           "EOCIC_OAUTH2_MECHANISM": "OAUTHBEARER"}
    ok = run_cli(env, "check")
    assert ok.returncode == 0 and "OAUTHBEARER (generic) login" in ok.stdout, ok.stdout + ok.stderr
    oauth2_provider.revoke_client(client)
    bad = run_cli(env, "check")
    assert bad.returncode == 1 and "FAIL  IMAP" in bad.stdout and "invalid_client" in bad.stdout


def test_bad_oauth2_settings_stop_start_up_naming_them(desk_env):
    result = run_cli({**desk_env, "EOCIC_MAIL_AUTH": "oauth2", "EOCIC_OAUTH2_PROVIDER": "generic",
                      "EOCIC_OAUTH2_CLIENT_SECRET": "very-secret"}, "run")
    assert result.returncode == 2
    line = one_line(result)
    assert "EOCIC_OAUTH2_CLIENT_ID" in line and "EOCIC_OAUTH2_TOKEN_URL" in line and "very-secret" not in line


def test_db_backup_copies_the_live_sqlite_database(desk_env, tmp_path):
    mail = tmp_path / "m.eml"
    mail.write_bytes(b"From: Ana <ana@inov.example>\r\nTo: eocic@eocic-desk.example\r\nSubject: funding\r\n"
                     b"Message-ID: <b1@inov.example>\r\n\r\nWhich calls?\r\n")
    assert run_cli(desk_env, "ingest", str(mail)).returncode == 0
    target = tmp_path / "backup.sqlite3"
    result = run_cli(desk_env, "db", "backup", str(target))
    assert result.returncode == 0, result.stderr
    import sqlite3

    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM ticket").fetchone() == (1,)
    again = run_cli(desk_env, "db", "backup", str(target))
    assert again.returncode == 1 and "exists already" in one_line(again)
    pg = run_cli({**desk_env, "EOCIC_DATABASE_URL": "postgresql://desk:pw@db.example/desk"}, "db", "backup", str(target))
    assert pg.returncode == 1 and "pg_dump" in one_line(pg) and ":pw@" not in pg.stderr


def test_ticket_shows_its_outgoing_mail_with_delivery_state(desk_env, smtp_sink, tmp_path):
    from email import message_from_bytes
    from email.utils import parseaddr

    from bench.mailgen import make_request

    env = {**desk_env, **smtp_env(smtp_sink.host, smtp_sink.port)}
    senders = []
    for i in range(2):
        raw = make_request(600 + i)
        senders.append(parseaddr(message_from_bytes(raw)["From"])[1])
        (tmp_path / f"m{i}.eml").write_bytes(raw)
    assert run_cli(env, "ingest", str(tmp_path / "m0.eml"), "--send").returncode == 0
    smtp_sink.refuse_recipient(senders[1])
    assert run_cli(env, "ingest", str(tmp_path / "m1.eml"), "--send").returncode == 0
    sent = run_cli(env, "ticket", "EOCIC-00001")
    refused = run_cli(env, "ticket", "EOCIC-00002")
    outgoing = [line for line in sent.stdout.splitlines() if f" to {senders[0]}" in line]
    assert len(outgoing) == 1 and "ack" in outgoing[0] and " sent " in outgoing[0], sent.stdout
    line = next((line for line in refused.stdout.splitlines() if f" to {senders[1]}" in line), refused.stdout)
    assert "failed" in line and "550" in line, refused.stdout


def test_every_cli_argument_has_help():
    import argparse

    from bot.cli import build_parser

    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "eocic-desk")
    assert not missing, missing


async def test_refused_mailbox_password_is_one_line_and_no_reconnect_loop(dovecot, smtp_sink, desk_env, caplog):
    import logging

    from tests.desk import running_desk

    user, _ = dovecot.new_user()
    env = {**desk_env, **imap_env(dovecot.host, dovecot.port, user, "wrong"), **smtp_env(smtp_sink.host, smtp_sink.port)}
    async with running_desk(env) as (settings, db):
        await asyncio.sleep(4)  # a reconnect loop would log again and again
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert "EOCIC_IMAP_PASSWORD" in errors[0] and user in errors[0] and "wrong" not in errors[0]
    retries = [r for r in caplog.records if "reconnecting" in r.getMessage()]
    assert not retries
