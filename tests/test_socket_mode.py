"""Slack over Socket Mode: the desk with an app-level token and no signing secret, against a local
WebSocket server speaking Slack's Socket Mode protocol (tests/socket_mode.py).

A slash command and a button arrive as envelopes and are acknowledged by envelope_id within Slack's
3 seconds; the answers reach the Web API stand-in; the desk opens a new connection when Slack asks
it to refresh and when the socket is dropped, and requests on the new socket are answered.
"""

from __future__ import annotations

import time

import pytest

from handlers.intake import Source, ingest
from tests.desk import running_desk, wait_until
from tests.servers import imap_env, smtp_env
from tests.slack_api import FakeSlackApi
from tests.socket_mode import SocketModeServer
from tests.test_slack import ADA, DESK, TRIAGE, mail

APP_TOKEN = "xapp-1-A0DESK-1-standin"


@pytest.fixture
async def socket_desk(dovecot, smtp_sink, desk_env):
    api = await FakeSlackApi(token="xoxb-test", channels={TRIAGE: "eocic-triage"}).start()
    api.add_user(ADA, "ada", "Ada Lovelace")
    sockets = await SocketModeServer(APP_TOKEN).start()
    api.methods["apps.connections.open"] = sockets.connections_open
    user, password = dovecot.new_user()
    env = {
        **desk_env,
        **imap_env(dovecot.host, dovecot.port, user, password, EOCIC_IMAP_POLL_SECONDS="2"),
        **smtp_env(smtp_sink.host, smtp_sink.port, EOCIC_OUTBOX_POLL_SECONDS="0.2"),
        "EOCIC_DESK_ADDRESS": DESK, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": "", "EOCIC_SLACK_API_URL": api.url, "EOCIC_SLACK_TRIAGE_CHANNEL": TRIAGE,
        "EOCIC_STAFF": ADA, "EOCIC_SLACK_MESSAGES_PER_SECOND": "20",
    }
    try:
        async with running_desk(env) as (settings, db):
            await sockets.wait_connected(1)
            yield api, sockets
        refused = [(c.method, c.error) for c in api.refused() if c.error not in api.expected_errors]
        assert not refused, f"the Slack stand-in refused: {refused}"
    finally:
        await sockets.stop()
        await api.stop()


def command(text: str, n: int, api: FakeSlackApi) -> dict:
    return {"token": "x", "team_id": "T0EOCIC", "team_domain": "eocic", "channel_id": TRIAGE, "channel_name": "triage",
            "user_id": ADA, "user_name": "ada", "command": "/eocic", "text": text, "api_app_id": "A0DESK",
            "is_enterprise_install": "false", "response_url": api.response_url(f"sock{n}"), "trigger_id": api.trigger_id()}


def button(action_id: str, ref: str, api: FakeSlackApi) -> dict:
    return {"type": "block_actions", "team": {"id": "T0EOCIC", "domain": "eocic"}, "api_app_id": "A0DESK",
            "user": {"id": ADA, "username": "ada", "team_id": "T0EOCIC"}, "token": "x", "trigger_id": api.trigger_id(),
            "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": TRIAGE},
            "channel": {"id": TRIAGE, "name": "triage"}, "message": {"ts": "1700000000.000001", "text": ref, "blocks": []},
            "response_url": api.response_url("sockbtn"), "state": {"values": {}},
            "actions": [{"type": "button", "action_id": action_id, "block_id": f"ticket:{ref}", "value": ref,
                         "text": {"type": "plain_text", "text": "Assign to me"}, "action_ts": str(time.time())}]}


async def answers(api: FakeSlackApi, name: str) -> list[str]:
    return [c.args.get("text", "") for c in api.of("response") if c.args.get("_name") == name]


def test_the_stand_in_refuses_what_slack_refuses():
    sockets = SocketModeServer(APP_TOKEN)
    assert sockets.connections_open("xoxb-test")[1] == {"ok": False, "error": "not_allowed_token_type"}
    assert sockets.connections_open("xapp-1-other")[1] == {"ok": False, "error": "invalid_auth"}
    assert sockets.connections_open(APP_TOKEN)[1]["ok"] is True


async def test_a_slash_command_and_a_button_arrive_over_socket_mode_and_are_acknowledged(socket_desk):
    api, sockets = socket_desk
    envelope = await sockets.send("slash_commands", command("help", 1, api))
    await sockets.wait_ack(envelope)  # within Slack's 3 s
    assert await wait_until(lambda: answers(api, "sock1"))
    assert "/eocic queue" in (await answers(api, "sock1"))[0]

    from bot.scheduler import current_desk
    await ingest(mail(), current_desk().deps, Source("test"))
    card = (await api.wait_for("chat.postMessage", channel=TRIAGE))[0]
    ref = card.args["text"].split(":")[0]
    envelope = await sockets.send("interactive", button("ticket_assign_me", ref, api))
    await sockets.wait_ack(envelope)
    await api.wait_for("chat.update", channel=TRIAGE)
    assert f"<@{ADA}>" in api.of("chat.update", channel=TRIAGE)[-1].dump()
    assert sockets.late == []


async def test_the_desk_reconnects_after_a_refresh_and_after_a_dropped_socket(socket_desk):
    api, sockets = socket_desk
    await sockets.request_refresh()
    await sockets.wait_connected(2)
    envelope = await sockets.send("slash_commands", command("help", 2, api))
    await sockets.wait_ack(envelope)
    assert await wait_until(lambda: answers(api, "sock2"))

    await sockets.drop()
    await sockets.wait_connected(3, timeout=60)  # the client notices at its next ping (a few seconds)
    envelope = await sockets.send("slash_commands", command("help", 3, api))
    await sockets.wait_ack(envelope)
    assert await wait_until(lambda: answers(api, "sock3"))
    assert len(api.of("apps.connections.open")) >= 3  # one new single-use URL per connection
