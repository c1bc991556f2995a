"""Issue 4: staff work the desk from Slack.

The real desk runs in-process (bot.runtime.run_desk: mailbox watcher on Dovecot, outbox to an
aiosmtpd sink, the aiohttp server with /slack/events); tests send signed (and unsigned, stale,
forged) requests over HTTP, and the Slack Web API is a local stand-in as strict as Slack (tests/slack_api.py):
any call it refuses that a test did not provoke fails the test.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlmodel import select

from bot.runtime import run_desk
from bot.scheduler import current_desk
from config.settings import load_settings
from handlers.intake import Source, ingest
from handlers.mrkdwn import cut, escape, inert
from handlers.service_levels import add_working_days
from handlers.staff_actions import reply_subject
from models.audit import AuditEntry
from models.corrections import Correction
from models.slack import NoticeState, SlackCard, SlackNotice
from models.tickets import Ticket, TicketStatus
from tests.desk import wait_until
from tests.servers import free_port, imap_env, smtp_env
from tests.slack_api import FakeSlackApi
from tests.slack_rules import message_errors, view_errors

DESK = "eocic@eocic-desk.example"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TRIAGE = "C0TRIAGE"
ADA, BEN, EVE = "U0ADA", "U0BEN", "U0EVE"  # two advisers; Eve is not staff
FIRST_TS = "1700000000.000001"  # the fake API's ts of the first message: the first card


def mail(subject="Question on EU funding for our SMEs", body="Dear EOCIC,\n\nwhich EU calls could co-finance our SMEs?\n\nAna\n",
         sender="ana.ribeiro@inovcluster.example") -> bytes:
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["From"] = f"Ana Ribeiro <{sender}>"
    msg["To"] = DESK
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid(domain="inovcluster.example")
    msg.set_content(body)
    return msg.as_bytes()


def signed_headers(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


TEAM = {"id": "T0EOCIC", "domain": "eocic"}


class SlackClient:
    """Sends what Slack would send to /slack/events, signed, with the fields Slack sends.

    Trigger ids and response URLs come from the Web API stand-in, so that it can hold the desk to
    Slack's rules; a button is pressed where the stand-in shows it (a posted message, a published Home).
    """

    def __init__(self, url: str, api: FakeSlackApi) -> None:
        self.url, self.api = url, api
        self.http = aiohttp.ClientSession()
        self.n = 0

    async def post(self, body: str, content_type: str, headers: dict | None = None) -> aiohttp.ClientResponse:
        headers = {"Content-Type": content_type, **signed_headers(body), **(headers or {})}
        async with self.http.post(self.url, data=body.encode(), headers=headers) as resp:
            resp.body_text = (await resp.read()).decode()
            return resp

    @staticmethod
    def _user(user: str) -> dict:
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM["id"]}

    async def command(self, text: str, user: str = ADA):
        self.n += 1
        body = urlencode({
            "token": "x", "team_id": TEAM["id"], "team_domain": TEAM["domain"], "channel_id": TRIAGE,
            "channel_name": "eocic-triage", "user_id": user, "user_name": user.lower(), "command": "/eocic",
            "text": text, "api_app_id": "A0DESK", "is_enterprise_install": "false",
            "response_url": self.api.response_url(f"cmd{self.n}"), "trigger_id": self.api.trigger_id(),
        })
        resp = await self.post(body, "application/x-www-form-urlencoded")
        return resp, f"cmd{self.n}"

    async def interact(self, payload: dict):
        self.n += 1
        payload = {"team": TEAM, "enterprise": None, "is_enterprise_install": False, "api_app_id": "A0DESK",
                   "token": "x", **payload}
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def button(self, action_id: str, ref: str, user: str = ADA, home: bool = False):
        """Press the button `action_id` with value `ref` where Slack shows it (the user's App Home with `home`)."""
        self.n += 1
        place, block, element = self.api.button(action_id, ref, home_of=user if home else None)
        action = {**element, "block_id": block["block_id"], "action_ts": f"{time.time():.6f}"}
        payload = {"type": "block_actions", "user": self._user(user), "trigger_id": self.api.trigger_id(),
                   "state": {"values": {}}, "actions": [action]}
        if home:
            view_id = next(v for v, held in self.api.views.items() if held is place)
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = {"id": view_id, "team_id": TEAM["id"], "state": {"values": {}}, "hash": "h",
                               **{k: v for k, v in place.items() if not k.startswith("_")}}
        else:
            channel = place["channel"]
            payload.update(channel={"id": channel, "name": "eocic-triage"},
                           container={"type": "message", "message_ts": place["ts"], "channel_id": channel,
                                      "is_ephemeral": False},
                           message={k: v for k, v in place.items() if k != "channel" and v is not None},
                           response_url=self.api.response_url(f"btn{self.n}"))
        return await self.interact(payload)

    async def submit(self, view: dict, values: dict, user: str = ADA):
        """Submit a modal the stand-in opened, with `values` keyed by the desk's block and action ids."""
        view_id = next(v for v, held in reversed(self.api.views.items())
                       if held.get("callback_id") == view.get("callback_id")
                       and held.get("private_metadata") == view.get("private_metadata"))
        payload = {"type": "view_submission", "user": self._user(user), "trigger_id": self.api.trigger_id(),
                   "response_urls": [],
                   "view": {**view, "id": view_id, "team_id": TEAM["id"], "app_id": "A0DESK", "bot_id": "B0DESK",
                            "hash": "h", "root_view_id": view_id, "previous_view_id": None,
                            "state": {"values": values}}}
        return await self.interact(payload)

    async def event(self, event: dict, event_id: str, retry: int | None = None):
        body = json.dumps({"token": "x", "type": "event_callback", "team_id": TEAM["id"], "api_app_id": "A0DESK",
                           "event": event, "event_id": event_id, "event_time": int(time.time()),
                           "authorizations": [{"enterprise_id": None, "team_id": TEAM["id"], "user_id": "U0DESKBOT",
                                               "is_bot": True, "is_enterprise_install": False}],
                           "is_ext_shared_channel": False, "event_context": f"4-{event_id}"})
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(body, "application/json", headers)

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture
async def slack_api():
    api = await FakeSlackApi(token="xoxb-test", channels={TRIAGE: "eocic-triage"}).start()
    api.add_user(ADA, "ada", "Ada Lovelace")
    api.add_user(BEN, "ben", "Ben Okafor")
    api.add_user(EVE, "eve", "Eve Moreau")
    yield api
    await api.stop()


@pytest.fixture
async def desk(dovecot, smtp_sink, desk_env, slack_api, monkeypatch):
    """The running desk with Slack on; yields a namespace with desk, slack client, mailbox user."""
    user, password = dovecot.new_user()
    port = free_port()
    env = {
        **desk_env,
        **imap_env(dovecot.host, dovecot.port, user, password, EOCIC_IMAP_POLL_SECONDS="2"),
        **smtp_env(smtp_sink.host, smtp_sink.port, EOCIC_OUTBOX_POLL_SECONDS="0.2"),
        "EOCIC_DESK_ADDRESS": DESK, "EOCIC_HTTP_PORT": str(port),
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "EOCIC_SLACK_API_URL": slack_api.url,
        "EOCIC_SLACK_TRIAGE_CHANNEL": TRIAGE, "EOCIC_STAFF": f"{ADA},{BEN}", "EOCIC_SLACK_MESSAGES_PER_SECOND": "20",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_desk(load_settings(), stop, ready=ready))
    waiter = asyncio.ensure_future(ready.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED, timeout=60)
    if task.done():
        task.result()
    running = current_desk()
    client = SlackClient(f"http://127.0.0.1:{port}/slack/events", slack_api)

    class Handle:
        pass

    handle = Handle()
    handle.desk, handle.db, handle.slack, handle.api, handle.user = running, running.db, client, slack_api, user
    handle.edge = running.slack
    try:
        yield handle
    finally:
        await client.close()
        stop.set()
        await asyncio.wait_for(task, 30)
        refused = [(c.method, c.error, c.args.get("response_metadata")) for c in slack_api.refused()
                   if c.error not in slack_api.expected_errors]
        assert not refused, f"Slack refused calls the test did not provoke: {refused}"


async def ticket(db, ref: str) -> Ticket:
    async with db.session() as session:
        return (await session.exec(select(Ticket).where(Ticket.ref == ref))).one()


# --- the whole path over real HTTP ---------------------------------------------------------------


async def test_requests_without_a_valid_signature_get_401(desk):
    body = urlencode({"command": "/eocic", "text": "queue", "user_id": ADA, "response_url": desk.api.response_url()})
    url = desk.slack.url
    async with aiohttp.ClientSession() as http:
        cases = {
            "unsigned": {},
            "stale": signed_headers(body, timestamp=int(time.time()) - 600),
            "forged": signed_headers(body, secret="not-the-secret"),
            "tampered": signed_headers(body.replace("queue", "help")),
        }
        for name, headers in cases.items():
            async with http.post(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded", **headers}) as r:
                assert r.status == 401, name
        resp, _ = await desk.slack.command("help")
        assert resp.status == 200
    await desk.edge.drain()
    assert [c.args["_name"] for c in desk.api.of("response")] == ["cmd1"]


async def test_mail_in_dovecot_posts_a_card_with_buttons(desk, dovecot):
    await asyncio.to_thread(dovecot.deliver, desk.user, mail())
    post = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0]
    blocks = post.args["blocks"]
    ref = post.args["text"].split(":")[0]
    assert ref.startswith("EOCIC-")
    text = post.dump()
    assert "Question on EU funding for our SMEs" in text and "ana.ribeiro@inovcluster.example" in text
    assert "which EU calls could co-finance" in text  # the excerpt
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["ticket_assign_me", "ticket_reply", "ticket_category", "ticket_close"]
    card = await wait_until(lambda: _card_row(desk))
    assert (card.channel, card.ts) == (TRIAGE, FIRST_TS)


async def _card_row(desk) -> SlackCard | None:
    async with desk.db.session() as session:
        return (await session.exec(select(SlackCard))).first()


async def test_buttons_and_the_reply_modal_drive_the_ticket_and_the_reply_is_threaded(desk, dovecot, smtp_sink):
    original = mail()
    original_id = email.message_from_bytes(original)["Message-ID"]
    await asyncio.to_thread(dovecot.deliver, desk.user, original)
    post = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0]
    ref = post.args["text"].split(":")[0]
    await smtp_sink.wait_for(1)  # the acknowledgement

    # Assign to me: ack at once, then the card is updated and the thread told.
    resp = await desk.slack.button("ticket_assign_me", ref)
    assert resp.status == 200
    await desk.api.wait_for("chat.update", channel=TRIAGE)
    assert await wait_until(lambda: _card_has(desk, f"*Assignee*\\n<@{ADA}>"))  # the card shows who has it
    thread = await desk.api.wait_for("chat.postMessage", thread_ts=FIRST_TS)
    assert f"<@{ADA}> assigned the ticket to <@{ADA}>" in thread[-1].args["text"]
    t = await ticket(desk.db, ref)
    assert (t.assignee, t.status) == (ADA, TicketStatus.open)

    # Reply opens the modal with the quoted request.
    await desk.slack.button("ticket_reply", ref)
    opened = (await desk.api.wait_for("views.open"))[-1]
    view = opened.args["view"]
    assert view["callback_id"] == "reply_modal" and view["private_metadata"] == ref
    assert "which EU calls could co-finance" in json.dumps(view)

    # An empty answer is refused inside the modal; nothing is sent.
    resp = await desk.slack.submit(view, {"reply": {"text": {"value": "  "}}, "note": {"text": {"value": None}}})
    assert resp.status == 200 and json.loads(resp.body_text)["response_action"] == "errors"

    values = {"reply": {"text": {"value": "Dear Ana,\n\nHorizon Europe's cluster calls fit; see the attached list."}},
              "note": {"text": {"value": "Promised a follow-up call."}}}
    resp = await desk.slack.submit(view, values)
    assert resp.status == 200
    await desk.slack.submit(view, values)  # a double submission sends one mail
    await desk.edge.drain()
    mails = await smtp_sink.wait_for(2, timeout=20)
    await asyncio.sleep(1)
    assert len(smtp_sink.messages) == 2
    sent = email.message_from_bytes(mails[1].data, policy=email.policy.default)
    assert sent["In-Reply-To"] == original_id
    assert original_id in sent["References"]
    assert f"[{ref}]" in sent["Subject"] and sent["Subject"].startswith("Re: ")
    assert sent["Auto-Submitted"] is None  # a person's answer
    body = sent.get_body(("plain",)).get_content()
    assert "Horizon Europe's cluster calls fit" in body and "Ada Lovelace" in body
    assert "> which EU calls could co-finance" in body
    assert "Promised a follow-up" not in body  # the internal note stays inside
    t = await ticket(desk.db, ref)
    assert t.status is TicketStatus.waiting and t.first_response_at is not None
    thread_texts = [c.args["text"] for c in await desk.api.wait_for("chat.postMessage", 3, thread_ts=FIRST_TS)]
    assert any("replied" in x for x in thread_texts) and any("Promised a follow-up call." in x for x in thread_texts)

    # Change category: modal, then the correction is kept for the classifier.
    await desk.slack.button("ticket_category", ref)
    cat_view = (await desk.api.wait_for("views.open", 2))[-1].args["view"]
    assert cat_view["callback_id"] == "category_modal"
    await desk.slack.submit(cat_view, {"category": {"category": {"selected_option": {"value": "missions-events"}}}})
    await desk.edge.drain()
    t = await ticket(desk.db, ref)
    assert t.category == "missions-events"
    async with desk.db.session() as session:
        correction = (await session.exec(select(Correction))).one()
    assert (correction.ticket_id, correction.category) == (t.id, "missions-events") and correction.message_id

    # Close: the card then offers Reopen.
    await desk.slack.button("ticket_close", ref)
    await desk.edge.drain()
    assert (await ticket(desk.db, ref)).status is TicketStatus.closed
    await wait_until(lambda: _card_has(desk, "ticket_reopen"))
    assert await _card_has(desk, "ticket_reopen")
    async with desk.db.session() as session:
        actions = [a.action for a in await session.exec(select(AuditEntry).where(AuditEntry.ticket_id == t.id))]
    assert {"ticket.assigned", "ticket.replied", "ticket.note", "ticket.recategorised", "ticket.closed"} <= set(actions)


async def _card_has(desk, action_id: str) -> bool:
    updates = desk.api.of("chat.update")
    return bool(updates) and action_id in updates[-1].dump()


async def test_mail_with_slack_markup_shows_as_text(desk):
    raw = mail(subject="<!here> urgent", body="Hello <!channel> and <@U0BEN>, click <http://evil.example|your bank> & go\n")
    await ingest(raw, desk.desk.deps, Source("test"))
    post = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0]
    dumped = post.dump()
    for bad in ("<!here>", "<!channel>", "<@U0BEN>", "<http://evil.example|your bank>"):
        assert bad not in dumped
    assert "&lt;!channel&gt;" in dumped and "&lt;@U0BEN&gt;" in dumped and "&lt;http://evil.example|your bank&gt;" in dumped
    assert "&amp; go" in dumped


async def test_someone_not_in_staff_changes_nothing(desk):
    await ingest(mail(), desk.desk.deps, Source("test"))
    post = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0]
    ref = post.args["text"].split(":")[0]
    await desk.slack.button("ticket_close", ref, user=EVE)
    await desk.slack.button("ticket_assign_me", ref, user=EVE)
    await desk.slack.command(f"close {ref}", user=EVE)
    await desk.edge.drain()
    answers = [c.args["text"] for c in desk.api.of("response")]
    assert len(answers) == 3 and all("only EOCIC staff" in a for a in answers)
    t = await ticket(desk.db, ref)
    assert (t.status, t.assignee) == (TicketStatus.new, None)
    async with desk.db.session() as session:
        actions = [a.action for a in await session.exec(select(AuditEntry).where(AuditEntry.ticket_id == t.id))]
    assert actions == ["ticket.opened"]
    assert not desk.api.of("chat.update")


async def test_a_429_is_retried_after_retry_after(desk):
    desk.api.fail_next("chat.postMessage", status=429, retry_after=1)
    await ingest(mail(), desk.desk.deps, Source("test"))
    ok = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE, timeout=15))[0]
    attempts = [c for c in desk.api.calls if c.method == "chat.postMessage"]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 0.95
    assert ok and await wait_until(lambda: _all_sent(desk))
    async with desk.db.session() as session:
        assert len((await session.exec(select(SlackCard))).all()) == 1


async def _all_sent(desk) -> bool:
    async with desk.db.session() as session:
        return all(n.state is NoticeState.sent for n in await session.exec(select(SlackNotice)))


async def test_slash_command_answers_and_usage_errors(desk):
    await ingest(mail(), desk.desk.deps, Source("test"))
    ref = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0].args["text"].split(":")[0]
    cases = {
        "frobnicate": "`frobnicate` is not an /eocic command",
        "show": "Missing a ticket reference",
        "show EOCIC-99999": "there is no ticket 'EOCIC-99999'",
        "assign": "Usage: `/eocic assign REF @user`",
        f"assign {ref} bob": "is not a Slack user",
        f"category {ref} gardening": "is not a category",
        "queue sideways": "is neither a queue",
        "stats forever": "cannot read the period",
        "partner NOPE": "there is no partnership",
        "queue": f"*{ref}*",
        "queue unassigned eu-funding": "Queue `unassigned` in `eu-funding`",
        f"show {ref}": ref,
        "stats month": "Median first response",
        "": "/eocic queue",
    }
    names = {}
    for text, _ in cases.items():
        resp, name = await desk.slack.command(text)
        assert resp.status == 200 and resp.body_text == ""  # the ack is empty and immediate
        names[name] = text
    await desk.edge.drain()
    got = {names[c.args["_name"]]: c.args for c in desk.api.of("response")}
    for text, expected in cases.items():
        assert expected in got[text]["text"], (text, got[text]["text"])
        assert got[text]["response_type"] == "ephemeral"
    assert any(b["type"] == "actions" for b in got["queue"]["blocks"])

    await desk.slack.command(f"assign {ref} <@{BEN}|ben>")
    await desk.slack.command(f'note {ref} "called them <!channel> &amp; &lt;b&gt;"')  # as Slack escapes "@channel & <b>"
    await desk.slack.command(f"reply {ref}")
    await desk.edge.drain()
    t = await ticket(desk.db, ref)
    assert t.assignee == BEN
    assert (await desk.api.wait_for("views.open"))[0].args["view"]["callback_id"] == "reply_modal"
    assert await wait_until(lambda: _thread_has(desk, "called them @channel &amp; &lt;b&gt;"))  # as typed, escaped once


async def _thread_has(desk, text: str) -> bool:
    return any(text in c.args.get("text", "") for c in desk.api.of("chat.postMessage") if c.args.get("thread_ts"))


async def test_app_home_and_event_retries_are_handled_once(desk):
    await ingest(mail(), desk.desk.deps, Source("test"))
    ref = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0].args["text"].split(":")[0]
    event = {"type": "app_home_opened", "user": ADA, "channel": "D0ADA", "tab": "home"}
    assert (await desk.slack.event(event, "Ev001")).status == 200
    assert (await desk.slack.event(event, "Ev001", retry=1)).status == 200
    await desk.edge.drain()
    published = desk.api.of("views.publish")
    assert len(published) == 1 and published[0].args["user_id"] == ADA
    home = published[0].dump()
    assert "Unassigned" in home and ref in home and "ticket_assign_me" in home
    # A button in the App Home acts and publishes the home again.
    await desk.slack.button("ticket_assign_me", ref, home=True)
    await desk.edge.drain()
    assert (await ticket(desk.db, ref)).assignee == ADA
    assert len(desk.api.of("views.publish")) == 2 and "Your open tickets" in desk.api.of("views.publish")[1].dump()


async def test_morning_digest_lists_overdue_tickets_and_flags_their_cards(desk):
    from bot.slack.app import DIGEST_JOB, morning_digest

    await ingest(mail(), desk.desk.deps, Source("test"))
    ref = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0].args["text"].split(":")[0]
    assert await wait_until(lambda: _card_row(desk))
    async with desk.db.transaction() as session:
        t = (await session.exec(select(Ticket).where(Ticket.ref == ref))).one()
        t.received_at = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
        session.add(t)
    await morning_digest()
    await morning_digest()  # once per day
    digest = await desk.api.wait_for("chat.postMessage", 2, channel=TRIAGE)
    await desk.api.wait_for("chat.update")
    await asyncio.sleep(0.5)
    digests = [c for c in desk.api.of("chat.postMessage", channel=TRIAGE) if "Good morning" in c.args["text"]]
    assert len(digests) == 1 and ref in digests[0].dump() and digest
    assert "overdue" in desk.api.of("chat.update")[-1].dump()
    job = desk.desk.scheduler.get_job(DIGEST_JOB)
    assert job is not None and "mon-fri" in str(job.trigger)


# --- without Slack, and the pure parts -----------------------------------------------------------


async def test_desk_runs_without_slack_and_the_route_says_what_to_set(desk_env, monkeypatch):
    port = free_port()
    for key, value in {**desk_env, "EOCIC_HTTP_PORT": str(port)}.items():
        monkeypatch.setenv(key, value)
    for key in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_desk(load_settings(), stop, ready=ready))
    await asyncio.wait_for(ready.wait(), 60)
    try:
        assert current_desk().slack is None and not current_desk().deps.ticket_hooks
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data="x") as r:
                assert r.status == 404 and "SLACK_BOT_TOKEN" in await r.text()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def test_working_days_skip_the_weekend_in_brussels_time():
    friday = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)
    assert add_working_days(friday, 2).isoformat() == "2026-11-24T15:00:00+01:00"
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)
    assert add_working_days(saturday, 1).isoformat() == "2026-11-24T00:00:00+01:00"
    before_dst_end = datetime(2026, 10, 23, 10, 0, tzinfo=timezone.utc)  # 12:00 CEST
    assert add_working_days(before_dst_end, 2).isoformat() == "2026-10-27T12:00:00+01:00"


def test_escaping_and_cutting_keep_text_inert():
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert cut(escape("a" * 10 + "&&&"), 14) == "aaaaaaaaaa…"
    long = inert("<" * 5000, 3000)
    assert len(long) <= 3000 and "<" not in long and long.endswith("…")


def test_a_ticket_in_several_home_sections_and_the_reply_box_are_what_slack_accepts():
    from bot.slack.blocks import home_view, reply_modal, ticket_card

    t = {"ref": "EOCIC-00042", "status": "open", "subject": "s" * 300, "sender": "ana@inovcluster.example",
         "created_at": "2026-11-20T10:00:00+00:00", "excerpt": "x" * 20_000, "overdue": True, "assignee": ADA}
    listed = {"total": 1, "tickets": [t]}
    assert view_errors(home_view({"mine": listed, "unassigned": listed, "overdue": listed}), "views.publish") == []
    assert view_errors(reply_modal(t), "views.open") == []
    assert message_errors(ticket_card(t)[1]) == []


def test_reply_subject_keeps_one_reference():
    assert reply_subject("Question", "EOCIC-00042") == "Re: Question [EOCIC-00042]"
    assert reply_subject("RE: [EOCIC-00042] Question", "EOCIC-00042") == "RE: [EOCIC-00042] Question"
    assert reply_subject("a\r\nBcc: x@y", "EOCIC-00001") == "Re: a Bcc: x@y [EOCIC-00001]"


def test_staff_setting_reads_ids_and_rejects_names(monkeypatch):
    from config.settings import SettingsError

    monkeypatch.setenv("EOCIC_STAFF", "U0ADA, S0ADVISERS")
    assert load_settings().staff == ["U0ADA", "S0ADVISERS"]
    monkeypatch.setenv("EOCIC_STAFF", "ada@example.org")
    with pytest.raises(SettingsError, match="EOCIC_STAFF"):
        load_settings()


async def test_survey_mail_saying_it_is_done_gets_a_confirm_button_on_its_card(desk, dovecot):
    """A respondent writes "we have submitted it": staff confirm from the card, and the campaign records it."""
    from datetime import datetime, timedelta, timezone

    from handlers.surveys import create_campaign
    from models.surveys import Participant

    now = datetime.now(timezone.utc)
    async with desk.db.transaction() as session:
        campaign = await create_campaign(
            session, desk.desk.settings, name="4i 2026", audience="NF4", url_template="https://survey.example/?t={token}",
            opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=20))
    done_mail = mail(subject="Progress survey", body="Hello, we have submitted the progress survey yesterday.\n\nIlse\n")
    done_mail = done_mail.replace(b"ana.ribeiro@inovcluster.example", b"i.verhoeven@nf4-escp.example")
    await asyncio.to_thread(dovecot.deliver, desk.user, done_mail)
    post = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0]
    button = next(e for b in post.args["blocks"] if b.get("block_id") == "survey_confirm_done" for e in b["elements"])
    assert button["value"] == f"{campaign.id}:NF4"

    resp = await desk.slack.button(button["action_id"], button["value"], user=ADA)
    assert resp.status == 200
    await desk.edge.drain()
    async with desk.db.session() as session:
        participant = (await session.exec(select(Participant).where(Participant.campaign_id == campaign.id))).one()
    assert participant.completed_at is not None
