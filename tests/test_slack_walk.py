"""Issue 9, "done when": every /eocic subcommand, every button and every form, as Slack sends them.

The desk runs for real (tests/test_slack.py's `desk` fixture: Dovecot, SMTP sink, HTTP server)
against the strict Web API stand-in, which refuses what Slack refuses; the fixture fails the
test on any refusal the test did not provoke. Command text is sent the way Slack escapes it
(`should_escape: true`). The mail on the ticket is hostile: Slack markup in a 300-character
subject and a 20 KB body.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import aiohttp
from sqlmodel import select

from bot.slack.access import OPEN_TO_ALL
from bot.slack.text import unescape
from handlers import announcements
from handlers.intake import Source, ingest
from handlers.service_levels import BRUSSELS
from models.audit import AuditEntry
from models.lists import Announcement, AnnouncementState
from models.surveys import Participant
from models.tickets import Ticket, TicketStatus
from models.webinars import Webinar
from tests.desk import wait_until
from tests.test_slack import ADA, BEN, EVE, SECRET, TEAM, TRIAGE, desk, mail, signed_headers, slack_api, ticket  # noqa: F401

REQUESTER = "rui.valente@inovcluster.example"  # a contact of the registry: `person export` finds him
HOSTILE = ("<!channel>", "<!here>", "<@U0BEN>", "<http://evil.example|your bank>")


def hostile_mail() -> bytes:
    subject = ("<!channel> urgent: " + "S" * 300)[:300]
    line = "Hello <!here> and <@U0BEN>, please log in at <http://evil.example|your bank> & confirm.\n"
    body = "Dear EOCIC,\n\n" + line * (20_000 // len(line) + 1)
    return mail(subject=subject, body=body, sender=REQUESTER)


def mailto(address: str) -> str:
    """An address as Slack sends it in command text."""
    return f"<mailto:{address}|{address}>"


class Walk:
    """Sends commands and presses buttons, and reads what the adviser sees."""

    def __init__(self, desk) -> None:
        self.desk, self.api, self.slack = desk, desk.api, desk.slack

    async def command(self, text: str, user: str = ADA) -> dict:
        """/eocic `text`; the one answer to its response_url (an ephemeral one unless the reply is public)."""
        resp, name = await self.slack.command(text, user)
        assert resp.status == 200 and resp.body_text == "", text
        await self.desk.edge.drain()
        answers = [c.args for c in self.api.of("response") if c.args["_name"] == name]
        assert len(answers) == 1, (text, answers)
        return answers[0]

    async def opens(self, text: str, callback_id: str) -> dict:
        """/eocic `text` opens the form `callback_id` (and answers nothing else)."""
        before = len(self.api.of("views.open"))
        resp, name = await self.slack.command(text)
        assert resp.status == 200
        await self.desk.edge.drain()
        opened = self.api.of("views.open")
        assert len(opened) == before + 1, text
        assert not [c for c in self.api.of("response") if c.args["_name"] == name]
        view = opened[-1].args["view"]
        assert view["callback_id"] == callback_id
        return view

    async def dm(self, user: str = ADA) -> str:
        """The text of the newest direct message the bot sent `user`."""
        posts = await self.api.wait_for("chat.postMessage", channel="D" + user[1:])
        return posts[-1].args["text"]

    async def press_in_answer(self, answer: dict, action_id: str, user: str = ADA):
        """Press a button of an ephemeral answer (Slack sends its response_url, the message is ephemeral)."""
        block, element = next((b, e) for b in answer["blocks"] if b["type"] == "actions"
                              for e in b["elements"] if e["action_id"] == action_id)
        self.slack.n += 1
        name = f"btn{self.slack.n}"
        payload = {"type": "block_actions", "user": self.slack._user(user), "trigger_id": self.api.trigger_id(),
                   "state": {"values": {}}, "channel": {"id": TRIAGE, "name": "eocic-triage"},
                   "container": {"type": "message", "message_ts": "1700000999.000001", "channel_id": TRIAGE,
                                 "is_ephemeral": True},
                   "message": {"type": "message", "text": answer["text"], "blocks": answer["blocks"]},
                   "response_url": self.api.response_url(name),
                   "actions": [{**element, "block_id": block["block_id"], "action_ts": f"{time.time():.6f}"}]}
        resp = await self.slack.interact(payload)
        assert resp.status == 200
        await self.desk.edge.drain()
        return [c.args for c in self.api.of("response") if c.args["_name"] == name]


def values(view: dict, **typed) -> dict:
    """`state.values` for a submitted view: each input of `view` keyed by its block and action id."""
    out = {}
    for block in view["blocks"]:
        if block["type"] == "input":
            element = block["element"]
            out[block["block_id"]] = {element["action_id"]: {"type": element["type"],
                                                             "value": typed.get(block["block_id"])}}
    return out


async def audit_of(desk, action: str) -> list[AuditEntry]:
    async with desk.db.session() as session:
        return list(await session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


async def test_every_command_button_and_form_answers_the_adviser(desk, smtp_sink, caplog):
    walk, api = Walk(desk), desk.api
    await ingest(hostile_mail(), desk.desk.deps, Source("test"))
    card = (await api.wait_for("chat.postMessage", channel=TRIAGE))[0]
    ref = card.args["text"].split(":")[0]
    for bad in HOSTILE:
        assert bad not in card.dump()  # shown as typed, notifying nobody
    assert "&lt;!channel&gt; urgent" in card.dump()
    await smtp_sink.wait_for(1)  # the acknowledgement

    # --- tickets ------------------------------------------------------------------------
    assert "/eocic queue" in (await walk.command("help"))["text"]
    queue = await walk.command("queue")
    assert ref in queue["text"] and any(b["type"] == "actions" for b in queue["blocks"])
    assert ref in (await walk.command(f"show {ref}"))["text"]
    assert "Done" in (await walk.command(f"assign {ref} <@{BEN}|ben>"))["text"]
    assert await wait_until(lambda: _card_shows(api, card, f"<@{BEN}>"))  # the card is updated in place
    assert "Done" in (await walk.command(f'note {ref} "called them: <!channel> &amp; &lt;b&gt;"'))["text"]
    assert await wait_until(lambda: _thread_has(api, card, "called them: @channel &amp; &lt;b&gt;"))
    assert "Done" in (await walk.command(f"category {ref} missions-events"))["text"]
    assert "closed" in (await walk.command(f"close {ref}"))["text"]
    assert "open" in (await walk.command(f"reopen {ref}"))["text"]
    assert "is not a category" in (await walk.command(f"category {ref} gardening"))["text"]
    partner = await walk.command("partner NF4")
    assert "i.verhoeven@nf4-escp.example" in partner["text"]
    assert "Median first response" in (await walk.command("stats month"))["text"]
    assert "is not an /eocic command" in (await walk.command("frobnicate"))["text"]

    # --- the reply form: opened by the command and by the button; a long answer in three boxes
    view = await walk.opens(f"reply {ref}", "reply_modal")
    assert "evil.example" in json.dumps(view) and "<http://evil" not in json.dumps(view)
    await desk.slack.button("ticket_reply", ref)
    await desk.edge.drain()
    view = api.of("views.open")[-1].args["view"]
    assert view["callback_id"] == "reply_modal" and view["private_metadata"] == ref
    parts = ["A" * 2999 + "\n", "B" * 3000, "C" * 1000]
    resp = await desk.slack.submit(view, values(view, reply=parts[0], reply_2=parts[1], reply_3=parts[2],
                                                note="promised a call"))
    assert resp.status == 200 and resp.body_text == ""  # the form closes
    await desk.edge.drain()
    sent = email.message_from_bytes((await smtp_sink.wait_for(2, timeout=20))[1].data, policy=email.policy.default)
    body = sent.get_body(("plain",)).get_content()
    assert "A" * 2999 in body and "B" * 3000 in body and "C" * 1000 in body and "promised a call" not in body
    assert f"[{ref}]" in sent["Subject"]
    assert await wait_until(lambda: _thread_has(api, card, "replied to"))

    # --- the card's buttons ----------------------------------------------------------------
    await desk.slack.button("ticket_assign_me", ref)
    await desk.edge.drain()
    assert await wait_until(lambda: _thread_has(api, card, f"<@{ADA}> assigned the ticket to <@{ADA}>"))
    await desk.slack.button("ticket_category", ref)
    await desk.edge.drain()
    cat_view = api.of("views.open")[-1].args["view"]
    assert cat_view["callback_id"] == "category_modal"
    chosen = {"category": {"category": {"type": "static_select", "selected_option": {
        "text": {"type": "plain_text", "text": "EU funding"}, "value": "eu-funding"}}}}
    assert (await desk.slack.submit(cat_view, chosen)).status == 200
    await desk.edge.drain()
    assert (await ticket(desk.db, ref)).category == "eu-funding"
    await desk.slack.button("ticket_close", ref)
    await desk.edge.drain()
    assert await wait_until(lambda: _card_shows(api, card, "ticket_reopen"))
    await desk.slack.button("ticket_reopen", ref)
    await desk.edge.drain()
    assert await wait_until(lambda: _card_shows(api, card, "ticket_close"))

    # --- App Home: the ticket is mine and overdue (two sections, one view) -------------------
    async with desk.db.transaction() as session:
        t = (await session.exec(select(Ticket).where(Ticket.ref == ref))).one()
        t.received_at, t.first_response_at = datetime(2026, 1, 5, 9, tzinfo=timezone.utc), None
        t.status = TicketStatus.open
        session.add(t)
    assert (await desk.slack.event({"type": "app_home_opened", "user": ADA, "channel": "D0ADA", "tab": "home"},
                                   "EvWalk1")).status == 200
    await desk.edge.drain()
    home = api.of("views.publish", user_id=ADA)[-1].args["view"]
    block_ids = [b["block_id"] for b in home["blocks"] if "block_id" in b]
    assert sum(ref in b for b in block_ids) == 2 and len(block_ids) == len(set(block_ids))
    await desk.slack.button("ticket_close", ref, home=True)
    await desk.edge.drain()
    assert (await ticket(desk.db, ref)).status is TicketStatus.closed
    assert len(api.of("views.publish", user_id=ADA)) == 2  # the Home shows the change

    # --- surveys: the form creates the campaign; every action answers ---------------------
    survey_view = await walk.opens("survey new", "survey_new")
    opens = (datetime.now(BRUSSELS) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    closes = (datetime.now(BRUSSELS) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    typed = {"name": "NF4 progress", "audience": "NOPE", "url": "https://survey.example/?t={token}", "opens": opens,
             "closes": closes, "first_reminder": "7d", "every": "7d", "max_reminders": "3"}
    refused = await desk.slack.submit(survey_view, values(survey_view, **typed))
    assert json.loads(refused.body_text) == {"response_action": "errors",
                                             "errors": {"audience": "unknown partnership(s) in the audience: NOPE"}}
    survey_view = await walk.opens("survey new", "survey_new")
    done = await desk.slack.submit(survey_view, values(survey_view, **{**typed, "audience": "NF4"}))
    assert done.status == 200 and done.body_text == ""
    await desk.edge.drain()
    assert "*NF4 progress* created" in await walk.dm()
    assert "NF4 progress" in (await walk.command("survey list"))["text"]
    status = await walk.command('survey status "NF4 progress"')
    assert status["response_type"] == "in_channel" and "answered" in status["text"]
    assert await wait_until(lambda: any(f.get("channel") == TRIAGE and f["filename"].endswith(".png")
                                        for f in api.files.values()))
    assert "Next reminders" in (await walk.command('survey remind "NF4 progress"'))["text"]
    later = (datetime.now(BRUSSELS) + timedelta(days=25)).strftime("%Y-%m-%dT%H:%M")
    assert "now closes" in (await walk.command(f'survey extend "NF4 progress" {later}'))["text"]
    # a survey mail saying it is done: the card offers the confirmation button
    await ingest(mail(subject="Progress survey", body="Hello, we have submitted the progress survey yesterday.\n",
                      sender="i.verhoeven@nf4-escp.example"), desk.desk.deps, Source("test"))
    confirm = await wait_until(lambda: _message_with(api, "survey_confirm_done"))
    button = next(e for b in confirm["blocks"] if b.get("block_id") == "survey_confirm_done" for e in b["elements"])
    await desk.slack.button(button["action_id"], button["value"])
    await desk.edge.drain()
    assert any("recorded as answered" in c.args["text"] for c in api.of("response"))
    assert "already recorded" in (await walk.command('survey done "NF4 progress" NF4'))["text"]
    assert "is closed" in (await walk.command('survey close "NF4 progress"'))["text"]
    async with desk.db.session() as session:
        assert (await session.exec(select(Participant))).one().completed_at is not None

    # --- lists and persons: Slack-escaped addresses, a bad address answers usage ----------
    assert "member(s)" in (await walk.command("list show webinars"))["text"]
    bad = (await walk.command('list add webinars not-an-address "asked at the webinar"'))["text"]
    assert "is not a mail address" in bad and "Usage: `/eocic list" in bad
    newcomer = "new.person@cluster.example"
    added = await walk.command(f'list add webinars {mailto(newcomer)} "asked at the webinar &amp; agreed"')
    assert added["text"] == f"Added {newcomer} to webinars."
    assert "is off webinars" in (await walk.command(f"list remove webinars {mailto(newcomer)}"))["text"]
    export = await walk.command(f"person export {mailto(REQUESTER)}")
    assert "direct message" in export["text"] and export["response_type"] == "ephemeral"
    shared = await wait_until(lambda: [f for f in api.files.values() if f["filename"] == "person.json"])
    assert [f["channel"] for f in shared] == ["D" + ADA[1:]]  # to the caller alone, never the channel
    assert REQUESTER in shared[0]["content"].decode()
    assert "Erased" in (await walk.command(f"person erase {mailto(newcomer)}"))["text"]

    # --- a newsletter: test send with approve / reject buttons ----------------------------
    async with desk.db.transaction() as session:
        ann = await announcements.create(session, list_name="newsletter", subject="<!channel> News", markdown="# Hi",
                                         actor="cli")
        other = await announcements.create(session, list_name="newsletter", subject="Second", markdown="x", actor="cli")
    assert f"Announcement {ann.id} (draft): 0 sent" in (await walk.command(f"announce status {ann.id}"))["text"]
    test_send = await walk.command(f"announce test {ann.id} {mailto('ada@eocic-desk.example')}")
    assert "on its way to ada@eocic-desk.example" in test_send["text"]
    rejected = await walk.press_in_answer(test_send, "announce_reject")
    assert rejected[-1]["replace_original"] in (True, "true") and "rejected" in rejected[-1]["text"]
    test_send = await walk.command(f"announce test {ann.id} {mailto('ada@eocic-desk.example')}")
    approved = await walk.press_in_answer(test_send, "announce_approve")
    assert f"approved by <@{ADA}>" in approved[-1]["text"]
    [rejection], [approval] = await audit_of(desk, "announcement.rejected"), await audit_of(desk, "announcement.approved")
    assert rejection.actor == approval.actor == f"slack:{ADA}" and rejection.at <= approval.at
    async with desk.db.session() as session:
        assert (await session.get(Announcement, ann.id)).approved_by == f"slack:{ADA}"
    assert "rejected" in (await walk.command(f"announce reject {other.id}"))["text"]
    assert "cancelled" in (await walk.command(f"announce cancel {other.id}"))["text"]
    async with desk.db.session() as session:
        assert (await session.get(Announcement, other.id)).state is AnnouncementState.cancelled

    # --- a webinar from its form ----------------------------------------------------------
    webinar_view = await walk.opens("webinar new", "webinar_new")
    start = (datetime.now(BRUSSELS) + timedelta(days=10)).strftime("%Y-%m-%d 14:00")
    resp = await desk.slack.submit(webinar_view, values(webinar_view, title="Going global <!here>", start=start,
                                                        duration="sixty", audience="webinars"))
    assert json.loads(resp.body_text)["errors"] == {"duration": "write the length in whole minutes, e.g. 60"}
    webinar_view = await walk.opens("webinar new", "webinar_new")
    resp = await desk.slack.submit(webinar_view, values(webinar_view, title="Going global <!here>", start=start,
                                                        duration="60", audience="webinars", speakers="Ana, Ilse"))
    assert resp.body_text == ""
    await desk.edge.drain()
    assert "created; the announcement is queued" in await walk.dm()
    async with desk.db.session() as session:
        assert (await session.exec(select(Webinar))).one().title == "Going global <!here>"
    assert "Going global &lt;!here&gt;" in (await walk.command("webinar list"))["text"]

    # --- someone outside EOCIC_STAFF: refused, nothing done ---------------------------------
    assert "only EOCIC staff" in (await walk.command(f"reopen {ref}", user=EVE))["text"]
    assert "/eocic queue" in (await walk.command("help", user=EVE))["text"]  # OPEN_TO_ALL
    refused = await desk.slack.submit(view, values(view, reply="I am not staff"), user=EVE)
    assert "only EOCIC staff" in json.loads(refused.body_text)["errors"]["reply"]
    await desk.slack.button("ticket_reopen", ref, user=EVE)
    await desk.edge.drain()
    assert "only EOCIC staff" in api.of("response")[-1].args["text"]
    assert ("command", "help") in OPEN_TO_ALL
    await desk.slack.event({"type": "app_home_opened", "user": EVE, "channel": "D0EVE", "tab": "home"}, "EvWalk2")
    await desk.edge.drain()
    assert "only EOCIC staff" in api.of("views.publish", user_id=EVE)[-1].dump()
    assert (await ticket(desk.db, ref)).status is TicketStatus.closed

    # --- a failure is answered with a reference that is in the log -------------------------
    api.fail_next("views.open", "internal_error", status=500)
    caplog.set_level(logging.ERROR)
    resp, name = await desk.slack.command(f"reply {ref}")
    await desk.edge.drain()
    failed = next(c.args["text"] for c in api.of("response") if c.args["_name"] == name)
    assert "that failed; it is logged as ERR-" in failed
    logged_ref = failed.split("logged as ")[1].split(".")[0]
    assert any(logged_ref in r.getMessage() for r in caplog.records)


def _card_shows(api, card, text: str) -> bool:
    """The ticket's card as Slack shows it now (chat.update changes it in place) contains `text`."""
    ref = card.args["text"].split(":")[0]
    return text in json.dumps(_message_with(api, f"ticket:{ref}")["blocks"])


def _thread_has(api, card, text: str) -> bool:
    return any(text in (c.args.get("text") or "") for c in api.of("chat.postMessage") if c.args.get("thread_ts"))


def _message_with(api, block_id: str) -> dict | None:
    return next((m for m in reversed(api.messages.values()) if any(b.get("block_id") == block_id for b in m["blocks"])),
                None)


# --- what /slack/events refuses before any listener ---------------------------------------------------


async def test_replays_and_malformed_bodies_are_refused_without_a_traceback(desk, caplog):
    caplog.set_level(logging.INFO)
    await ingest(mail(), desk.desk.deps, Source("test"))
    ref = (await desk.api.wait_for("chat.postMessage", channel=TRIAGE))[0].args["text"].split(":")[0]
    body = urlencode({"token": "x", "team_id": TEAM["id"], "channel_id": TRIAGE, "user_id": ADA, "command": "/eocic",
                      "text": f'note {ref} "only once"', "api_app_id": "A0DESK",
                      "response_url": desk.api.response_url("replayed"), "trigger_id": desk.api.trigger_id()})
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
    url = desk.slack.url
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(2):
            async with http.post(url, data=body, headers=headers) as r:
                statuses.append(r.status)
        assert statuses == [200, 401]
        form = "application/x-www-form-urlencoded"
        cases = {
            "bad JSON": ("{not json", "application/json"),
            "a JSON array": ('[{"type": "event_callback"}]', "application/json"),
            "payload=%7Bx": ("payload=%7Bx", form),
            "a payload that is a string": ("payload=%22x%22", form),
            "invalid UTF-8": (b"payload=\xff\xfe", form),
        }
        for name, (raw, content_type) in cases.items():
            raw = raw if isinstance(raw, bytes) else raw.encode()
            ts = str(int(time.time()))
            sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
            async with http.post(url, data=raw, headers={"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                                                         "X-Slack-Signature": sig}) as r:
                assert r.status == 400, name
        async with http.post(url, data=body, headers={**headers, "X-Slack-Request-Timestamp": "abc"}) as r:
            assert r.status == 400 and "X-Slack-Request-Timestamp" in (await r.json())["error"]
    await desk.edge.drain()
    assert len(await audit_of(desk, "ticket.note")) == 1  # the replay did nothing
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


def test_slack_escaping_is_undone_once():
    assert unescape("<mailto:a@b.example|a@b.example>") == "a@b.example"
    assert unescape("assign X <@U0BEN|ben>") == "assign X <@U0BEN>"
    assert unescape("<#C0TRIAGE|eocic-triage> <https://x.example/a?b=1&amp;c=2|x.example>") == \
        "#eocic-triage https://x.example/a?b=1&c=2"
    assert unescape("Q&amp;A &lt;b&gt; &amp;lt; <!here> <!subteam^S0ADV|@advisers>") == "Q&A <b> &lt; @here @advisers"
