"""Issue 9: Web API failures by kind. The strict stand-in provokes each one; the tests check what a
person would see: the card in Slack, the desk's log line, /healthz, /metrics, and that a held
notice is delivered by `eocic-desk slack redrive` or by a restart with the cause fixed.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from sqlmodel import select

from bot.scheduler import current_desk
from handlers.intake import Source, ingest
from models.slack import NoticeKind, NoticeState, SlackCard, SlackNotice
from models.tickets import Ticket
from tests.desk import run_cli, running_desk, wait_until
from tests.test_slack import ADA, BEN, DESK, FIRST_TS, SECRET, TRIAGE, desk, mail, slack_api  # noqa: F401

HINTS = {  # the error → what the log line tells the operator to do
    "not_in_channel": f"invite the bot to the channel {TRIAGE}",
    "channel_not_found": "set EOCIC_SLACK_TRIAGE_CHANNEL",
    "token_revoked": "reinstall the app: token revoked",
    "invalid_auth": "SLACK_BOT_TOKEN is not valid",
    "account_inactive": "deactivated (account_inactive): reinstall the app",
    "missing_scope": "lacks the scope chat:write",
}


async def notices(db, kind: NoticeKind = NoticeKind.card) -> list[SlackNotice]:
    async with db.session() as session:
        return list(await session.exec(select(SlackNotice).where(SlackNotice.kind == kind).order_by(SlackNotice.id)))


async def card_row(db) -> SlackCard | None:
    async with db.session() as session:
        return (await session.exec(select(SlackCard))).first()


async def http_get(desk, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{desk.desk.settings.http_port}{path}") as resp:
            return resp.status, await resp.text()


def posts(api) -> list:
    return [c for c in api.calls if c.method == "chat.postMessage"]


@pytest.mark.parametrize("error", sorted(HINTS))
async def test_a_permanent_refusal_holds_the_notice_says_what_to_do_and_redrive_delivers_it(desk, caplog, error):
    caplog.set_level(logging.INFO)
    desk.api.fail_next("chat.postMessage", error, times=2)  # Slack keeps refusing until the cause is fixed
    await ingest(mail(), desk.desk.deps, Source("test"))
    held = await wait_until(lambda: _held(desk.db))
    assert held and held[0].error_code == error and HINTS[error] in held[0].last_error
    await asyncio.sleep(1.5)  # no retry: Slack would only refuse again
    assert [c.error for c in posts(desk.api)] == [error]
    async with desk.db.session() as session:
        ref = (await session.exec(select(Ticket.ref))).one()
    await desk.slack.command(f'note {ref} "called them"')  # the card is tried again; its thread message waits
    assert await wait_until(lambda: _thread_held(desk.db))
    assert [c.error for c in posts(desk.api)] == [error, error]
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name == "bot.slack_delivery"]
    assert len(lines) == 1 and HINTS[error] in lines[0]  # said once, not per notice

    status, body = await http_get(desk, "/healthz")
    assert status == 503 and '"status": "degraded"' in body and HINTS[error] in body
    status, metrics = await http_get(desk, "/metrics")
    assert f'eocic_slack_api_errors_total{{error="{error}"}} 2' in metrics
    assert 'eocic_slack_notices{state="held"} 3' in metrics

    redrive = await asyncio.to_thread(run_cli, {}, "slack", "redrive")
    causes = ", ".join(f"{code} {n}" for code, n in sorted({error: 2, "card_held": 1}.items()))
    assert redrive.returncode == 0 and f"re-queued 3 held Slack notice(s): {causes}" in redrive.stdout
    card = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0]
    assert "ticket_assign_me" in card.dump()
    assert (await wait_until(lambda: card_row(desk.db))).ts == FIRST_TS
    thread = await desk.api.wait_for("chat.postMessage", thread_ts=FIRST_TS)  # then the thread, in order
    assert "called them" in thread[0].args["text"]
    assert await wait_until(lambda: _all_sent(desk.db))
    status, body = await http_get(desk, "/healthz")
    assert status == 200 and '"status": "ok"' in body
    again = await asyncio.to_thread(run_cli, {}, "slack", "redrive")
    assert again.returncode == 0 and "no held Slack notices" in again.stdout


async def _held(db) -> list[SlackNotice]:
    return [n for n in await notices(db) if n.state is NoticeState.held]


async def _thread_held(db) -> bool:
    return [n.error_code for n in await notices(db, NoticeKind.thread) if n.state is NoticeState.held] == ["card_held"]


async def _all_sent(db) -> bool:
    async with db.session() as session:
        return all(n.state is NoticeState.sent for n in await session.exec(select(SlackNotice)))


async def test_ratelimited_waits_for_retry_after(desk):
    desk.api.fail_next("chat.postMessage", "ratelimited", retry_after=1, times=3)  # more than the SDK's own 2 retries
    await ingest(mail(), desk.desk.deps, Source("test"))
    await desk.api.wait_for("chat.postMessage", channel=TRIAGE, timeout=30)
    calls = posts(desk.api)
    assert [c.error for c in calls] == ["ratelimited"] * 3 + [None]
    assert all(later.at - earlier.at >= 0.95 for earlier, later in zip(calls, calls[1:]))  # Retry-After: 1
    assert await wait_until(lambda: _all_sent(desk.db))
    _, metrics = await http_get(desk, "/metrics")
    assert 'eocic_slack_api_errors_total{error="ratelimited"} 1' in metrics


async def test_network_errors_and_5xx_back_off_and_retry(desk):
    desk.desk.slack_delivery.limits.backoff_base_seconds = 0.5
    desk.api.fail_next("chat.postMessage", "fatal_error", status=503)
    desk.api.fail_next("chat.postMessage", "disconnect", times=2)  # the SDK itself retries a dropped connection once
    await ingest(mail(), desk.desk.deps, Source("test"))
    await desk.api.wait_for("chat.postMessage", channel=TRIAGE, timeout=30)
    calls = posts(desk.api)
    assert [c.error for c in calls] == ["fatal_error", "disconnect", "disconnect", None]
    assert calls[1].at - calls[0].at >= 0.45 and calls[3].at - calls[2].at >= 0.95  # back-off doubles
    assert await wait_until(lambda: _all_sent(desk.db))
    status, metrics = await http_get(desk, "/metrics")
    assert 'eocic_slack_api_errors_total{error="fatal_error"} 1' in metrics
    assert 'eocic_slack_api_errors_total{error="ServerDisconnectedError"} 1' in metrics
    assert (await http_get(desk, "/healthz"))[0] == 200


async def test_refused_blocks_give_a_plain_text_card_and_the_payload_in_the_log(desk, caplog):
    desk.api.fail_next("chat.postMessage", "invalid_blocks")
    await ingest(mail(), desk.desk.deps, Source("test"))
    plain = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0]
    ref = plain.args["text"].split("*")[1]
    assert ref.startswith("EOCIC-") and "blocks" not in plain.args
    assert "Question on EU funding for our SMEs" in plain.args["text"] and f"/eocic show {ref}" in plain.args["text"]
    row = await wait_until(lambda: card_row(desk.db))
    assert row.ts == desk.api.messages[(TRIAGE, row.ts)]["ts"]
    refused = [r.getMessage() for r in caplog.records if "refused payload" in r.getMessage()]
    assert len(refused) == 1 and "ticket_assign_me" in refused[0] and "failed to match all allowed schemas" in refused[0]
    _, metrics = await http_get(desk, "/metrics")
    assert 'eocic_slack_api_errors_total{error="invalid_blocks"} 1' in metrics
    # The next change updates the same message, with its buttons back.
    await desk.slack.command(f"assign {ref} <@{BEN}|ben>")
    update = (await desk.api.wait_for("chat.update", channel=TRIAGE, ts=row.ts))[0]
    assert "ticket_close" in update.dump() and f"<@{BEN}>" in update.dump()


async def test_a_card_deleted_in_slack_is_posted_again_and_remembered(desk):
    await ingest(mail(), desk.desk.deps, Source("test"))
    ref = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0].args["text"].split(":")[0]
    assert (await wait_until(lambda: card_row(desk.db))).ts == FIRST_TS
    desk.api.delete_message(TRIAGE, FIRST_TS)
    desk.api.expect("message_not_found")
    await desk.slack.command(f"assign {ref} <@{BEN}|ben>")
    assert await wait_until(lambda: len(desk.api.of("chat.postMessage", channel=TRIAGE)) >= 2)
    assert [c.error for c in desk.api.calls if c.method == "chat.update"] == ["message_not_found"]
    new = next(c for c in desk.api.of("chat.postMessage", channel=TRIAGE) if "ticket_assign_me" in c.dump()
               and c is not desk.api.of("chat.postMessage")[0])
    assert f"*Assignee*\\n<@{BEN}>" in new.dump()
    new_ts = next(ts for (channel, ts), m in desk.api.messages.items() if m["blocks"] == new.args["blocks"])
    assert await wait_until(lambda: _card_ts_is(desk.db, new_ts))
    thread = await desk.api.wait_for("chat.postMessage", thread_ts=new_ts)  # the thread follows the new card
    assert f"assigned the ticket to <@{BEN}>" in thread[0].args["text"]


async def _card_ts_is(db, ts: str) -> bool:
    row = await card_row(db)
    return row is not None and row.ts == ts


async def test_a_restart_with_a_new_token_or_channel_delivers_what_was_held(desk_env, slack_api, smtp_sink):
    """Token revoked: held; a restart with a new token delivers it. A wrong triage channel: held; a
    restart with the right one delivers it there."""
    from tests.servers import smtp_env

    base = {**desk_env, **smtp_env(smtp_sink.host, smtp_sink.port), "EOCIC_DESK_ADDRESS": DESK,
            "SLACK_SIGNING_SECRET": SECRET, "EOCIC_SLACK_API_URL": slack_api.url, "EOCIC_STAFF": ADA,
            "EOCIC_SLACK_MESSAGES_PER_SECOND": "20"}
    slack_api.issue_token("xoxb-new")
    slack_api.expect("token_revoked", "channel_not_found")
    first, second = mail(subject="First: token revoked"), mail(subject="Second: wrong channel")
    async with running_desk({**base, "SLACK_BOT_TOKEN": "xoxb-test", "EOCIC_SLACK_TRIAGE_CHANNEL": TRIAGE}) as (_, db):
        slack_api.revoke("xoxb-test")  # while the desk runs (a revoked token at start-up stops it: test_first_hour.py)
        await ingest(first, current_desk().deps, Source("test"))
        assert await wait_until(lambda: _held_for(db, "token_revoked"))

    async with running_desk({**base, "SLACK_BOT_TOKEN": "xoxb-new", "EOCIC_SLACK_TRIAGE_CHANNEL": "C0WRONG"}) as (_, db):
        card = (await slack_api.wait_for("chat.postMessage", channel=TRIAGE))[0]  # held at the last run: sent now
        assert "First: token revoked" in card.dump()
        await ingest(second, current_desk().deps, Source("test"))
        assert await wait_until(lambda: _held_for(db, "channel_not_found"))

    async with running_desk({**base, "SLACK_BOT_TOKEN": "xoxb-new", "EOCIC_SLACK_TRIAGE_CHANNEL": TRIAGE}) as (_, db):
        card = (await slack_api.wait_for("chat.postMessage", 2, channel=TRIAGE))[1]
        assert "Second: wrong channel" in card.dump()
        assert await wait_until(lambda: _all_sent(db))
    assert [c.error for c in posts(slack_api)] == ["token_revoked", None, "channel_not_found", None]


async def _held_for(db, error: str) -> bool:
    return [n.error_code for n in await _held(db)] == [error]


async def test_once_the_bot_is_invited_the_next_card_brings_its_held_thread_messages(desk):
    desk.api.leave(TRIAGE)  # someone removed the bot from the channel
    desk.api.expect("not_in_channel")
    await ingest(mail(), desk.desk.deps, Source("test"))
    assert await wait_until(lambda: _held(desk.db))
    async with desk.db.session() as session:
        ref = (await session.exec(select(Ticket.ref))).one()
    await desk.slack.command(f'note {ref} "first note"')
    assert await wait_until(lambda: _thread_held(desk.db))
    desk.api.join(TRIAGE)  # /invite @eocic-desk
    await desk.slack.command(f'note {ref} "second note"')
    thread = await desk.api.wait_for("chat.postMessage", 2, thread_ts=FIRST_TS)
    assert ["first note" in thread[0].args["text"], "second note" in thread[1].args["text"]] == [True, True]
    assert await wait_until(lambda: _all_sent(desk.db))
