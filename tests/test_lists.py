"""Distribution lists, one-click unsubscribe, double opt-in, webinars, erasure (issue 6).

Real servers: the aiosmtpd sink receives the mail, the desk's aiohttp app answers real HTTP on
loopback, mail enters through intake (`ingest`).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from icalendar import Calendar
from sqlmodel import select

from bot.outbox import OutboxSender
from bot.desk import open_desk
from bot.web import start_http
from config.settings import load_settings
from handlers import announcements, lists, persons, webinars
from handlers.intake import Source, ingest
from models.lists import Subscription, SubscriptionState, members
from models.outbox import OutboxMail
from models.partnerships import contact_by_email
from models.tickets import Ticket
from tests.desk import browser, run_cli, submit
from tests.servers import free_port, smtp_env


@dataclass
class Verdict:
    """Stands in for the content classifier so that routing is tested, not the model."""

    intent: str
    category: str | None = None
    partnership: str | None = None
    language: str = "en"
    confidence: dict = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    needs_review: bool = False

    def to_dict(self) -> dict:
        return {"intent": self.intent, "reasons": list(self.reasons)}


@pytest.fixture
async def desk(tmp_path, smtp_sink):
    port = free_port()
    settings = load_settings(
        data_dir=tmp_path / "data", secret_key="test-secret", smtp_host=smtp_sink.host, smtp_port=smtp_sink.port,
        smtp_security="none", http_host="127.0.0.1", http_port=port, public_url=f"http://127.0.0.1:{port}",
    )
    desk = await open_desk(settings)
    runner = await start_http(desk)
    try:
        yield desk
    finally:
        await runner.cleanup()
        await desk.db.dispose()


async def deliver(desk) -> int:
    return await OutboxSender(desk.db, desk.settings).send_due()


def parsed(caught) -> email.message.EmailMessage:
    return email.message_from_bytes(caught.data, policy=email.policy.default)


async def subscribe_people(desk, list_name: str, addresses: list[str]) -> None:
    async with desk.db.transaction() as session:
        mlist = await lists.get_list(session, list_name)
        for address in addresses:
            await lists.add_member(session, mlist, address, consent_source="test fixture", actor="test")


async def announce(desk, list_name: str, subject: str = "EOCIC newsletter", markdown: str = "## News\n\nHello *all*.") -> int:
    async with desk.db.transaction() as session:
        ann = await announcements.create(session, list_name=list_name, subject=subject, markdown=markdown, actor="test")
        await announcements.approve(session, ann, "test")
    await announcements.queue(desk.db, desk.settings, ann.id)
    await deliver(desk)
    return ann.id


def unsubscribe_links(msg) -> tuple[str, str]:
    https, mailto = re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])
    return https, mailto


async def test_list_mail_carries_valid_list_headers(desk, smtp_sink):
    await subscribe_people(desk, "newsletter", ["ana@one.example", "ben@two.example"])
    await announce(desk, "newsletter", markdown="## Cluster news\n\nSee [the portal](https://eocic.example).\n\n<script>x()</script>")
    got = {m.rcpt_tos[0]: parsed(m) for m in await smtp_sink.wait_for(2)}
    assert set(got) == {"ana@one.example", "ben@two.example"}
    tokens = set()
    for address, msg in got.items():
        https, mailto = unsubscribe_links(msg)
        assert https.startswith(f"{desk.settings.public_url}/unsubscribe?token=")
        assert mailto == f"mailto:{desk.settings.desk_address}?subject=unsubscribe-{https.split('token=')[1]}"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["List-Id"] == f"newsletter <newsletter.{desk.settings.lists_domain}>"
        assert msg["Precedence"] == "bulk"
        assert msg["Auto-Submitted"] is None
        assert "EOCIC Newsletter" in msg["From"]
        html = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()
        assert "<h2>Cluster news</h2>" in html and "<script>" not in html and https in html
        assert "the portal <https://eocic.example>" in text and https in text
        tokens.add(https)
    assert len(tokens) == 2  # personalised


async def test_one_click_post_unsubscribes_and_tampered_token_does_not(desk, smtp_sink):
    await subscribe_people(desk, "newsletter", ["ana@one.example"])
    await announce(desk, "newsletter")
    https, _ = unsubscribe_links(parsed((await smtp_sink.wait_for(1))[0]))
    token = https.split("token=")[1]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    async with aiohttp.ClientSession() as http:
        async with http.post(https.replace(token, tampered), data="List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}) as resp:
            assert resp.status == 400
        async with desk.db.session() as session:
            assert [c.email for c in await members(session, await lists.get_list(session, "newsletter"))] == ["ana@one.example"]
        # a link scanner's GET shows the preferences page and changes nothing
        async with http.get(https) as resp:
            assert resp.status == 200
            page = await resp.text()
            assert "ana@one.example" in page and "Leave everything" in page
        async with desk.db.session() as session:
            assert len(await members(session, await lists.get_list(session, "newsletter"))) == 1
        async with http.post(https, data="List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}) as resp:
            assert resp.status == 200
    async with desk.db.session() as session:
        assert await members(session, await lists.get_list(session, "newsletter")) == []
    smtp_sink.clear()
    await announce(desk, "newsletter", subject="Second issue")
    assert smtp_sink.messages == []


async def test_preferences_form_leaves_everything_and_rejoins(desk, smtp_sink):
    address = "h.dvorakova@nanoprogress.example"  # an ESCP-4i registry contact: on escp-4i by consent
    await subscribe_people(desk, "newsletter", [address])
    async with desk.db.session() as session:
        contact = await contact_by_email(session, address)
        assert {m.name for m in await lists.lists_of(session, contact)} == {"escp-4i", "newsletter"}
        mlist = await lists.get_list(session, "escp-4i")
    page = lists.unsubscribe_url(desk.settings, mlist, contact)
    url, origin = page.replace("/unsubscribe?", "/preferences?"), desk.settings.public_url
    async with browser() as http:
        assert (await submit(http, page, url, {"action": "leave-all"}, origin))[0] == 200
        async with desk.db.session() as session:
            assert await lists.lists_of(session, contact) == []
        assert (await submit(http, page, url, {"action": "save", "list": ["escp-4i"]}, origin))[0] == 200
    async with desk.db.session() as session:
        assert [m.name for m in await lists.lists_of(session, contact)] == ["escp-4i"]


async def test_suppressed_and_unsubscribed_addresses_receive_nothing(desk, smtp_sink):
    await subscribe_people(desk, "newsletter", ["ok@one.example", "bounced@two.example", "left@three.example"])
    async with desk.db.transaction() as session:
        bounced = await contact_by_email(session, "bounced@two.example")
        bounced.failing, bounced.failing_reason = True, "hard bounce"
        session.add(bounced)
        await lists.leave(session, await contact_by_email(session, "left@three.example"), None, how="test")
    async with desk.db.transaction() as session:  # before any row is written, progress counts the members to come
        draft = await announcements.create(session, list_name="newsletter", subject="Preview", markdown="Hi", actor="test")
        await announcements.approve(session, draft, "test")
        assert (await announcements.progress(session, draft)).remaining == 1
        await announcements.cancel(session, draft, "test")
    ident = await announce(desk, "newsletter")
    await smtp_sink.wait_for(1)
    assert [m.rcpt_tos for m in smtp_sink.messages] == [["ok@one.example"]]
    async with desk.db.session() as session:
        report = await announcements.report(session, await announcements.get(session, ident))
        assert report["sent"] == 1 and report["remaining"] == 0
        assert (await lists_show(session, "newsletter"))["suppressed"] == ["bounced@two.example"]


async def lists_show(session, name):
    from handlers.list_commands import show

    return await show(session, name)


async def test_unsubscribe_mail_to_the_mailto_address_is_honoured(desk, smtp_sink):
    await subscribe_people(desk, "newsletter", ["ana@one.example"])
    await announce(desk, "newsletter")
    _, mailto = unsubscribe_links(parsed((await smtp_sink.wait_for(1))[0]))
    subject = mailto.split("subject=")[1]
    raw = (f"From: Ana <ana@one.example>\r\nTo: {desk.settings.desk_address}\r\nSubject: {subject}\r\n"
           "Message-ID: <u1@one.example>\r\n\r\n\r\n").encode()
    result = await ingest(raw, desk.deps, Source("test"))
    assert result.kind == "unsubscribe"
    async with desk.db.session() as session:
        assert await members(session, await lists.get_list(session, "newsletter")) == []
        assert (await session.exec(select(Ticket))).first() is None


async def test_subscribe_mail_starts_double_opt_in_confirmed_by_post_only(desk, smtp_sink):
    desk.deps.classify = lambda mail, **hints: Verdict("subscribe")
    raw = (f"From: Carla <carla@three.example>\r\nTo: {desk.settings.desk_address}\r\nSubject: newsletter\r\n"
           "Message-ID: <s1@three.example>\r\n\r\nPlease add me to your newsletter.\r\n").encode()
    assert (await ingest(raw, desk.deps, Source("test"))).kind == "subscribe"
    await deliver(desk)
    mail = parsed((await smtp_sink.wait_for(1))[0])
    link = re.search(r"(http://\S+/subscribe/confirm\?token=\S+)", mail.get_body(("plain",)).get_content()).group(1)
    async with desk.db.session() as session:
        newsletter = await lists.get_list(session, "newsletter")
        assert await members(session, newsletter) == []
    async with browser() as http:
        async with http.get(link) as resp:
            assert resp.status == 200 and "Yes, subscribe me" in await resp.text()
        async with desk.db.session() as session:
            assert await members(session, newsletter) == []  # a GET confirms nothing
        origin = desk.settings.public_url
        assert (await submit(http, link, link.replace("token=", "token=x"), {}, origin))[0] == 400
        assert (await submit(http, link, link, {}, origin))[0] == 200
    async with desk.db.session() as session:
        assert [c.email for c in await members(session, newsletter)] == ["carla@three.example"]
        sub = (await session.exec(select(Subscription))).one()
        assert sub.state is SubscriptionState.active and sub.consent_at and sub.consent_source.startswith("mail")


async def test_public_subscription_page(desk, smtp_sink):
    page = f"{desk.settings.public_url}/subscribe"
    async with browser() as http:
        async with http.get(page) as resp:
            assert resp.status == 200 and "webinars" in await resp.text()
        assert (await submit(http, page, page, {"email": "dora@four.example", "list": ["webinars"]},
                             desk.settings.public_url))[0] == 200
    await deliver(desk)
    body = parsed((await smtp_sink.wait_for(1))[0]).get_body(("plain",)).get_content()
    assert "Inter-partnership learning webinars" in body and "/subscribe/confirm?token=" in body


async def test_webinar_announcement_update_and_cancellation_carry_the_calendar(desk, smtp_sink):
    await subscribe_people(desk, "webinars", ["ana@one.example"])
    start = datetime(2031, 3, 12, 15, 0, tzinfo=ZoneInfo("America/New_York"))
    async with desk.db.transaction() as session:
        w = await webinars.create(session, desk.settings, title="Going international: China", abstract="How to…",
                                  speakers=["Dr A. Speaker"], start=start, tzid="America/New_York", duration_minutes=90,
                                  url="https://webinar.example/join/1", audience=["webinars"], actor="test")
        await webinars.send(session, desk.settings, w, "announce")
    await deliver(desk)

    def calendar_of(caught):
        msg = parsed(caught)
        parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
        assert len(parts) == 1 and parts[0].get_param("method") == "PUBLISH"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        cal = Calendar.from_ical(parts[0].get_payload(decode=True))
        assert str(cal["METHOD"]) == "PUBLISH"
        return cal, cal.walk("VEVENT")[0]

    cal, event = calendar_of((await smtp_sink.wait_for(1))[0])
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event.decoded("DTSTART") == start
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
    assert str(event["UID"]) == w.uid and int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"

    async with desk.db.transaction() as session:
        w = await webinars.get(session, w.id)
        assert await webinars.update(session, desk.settings, w, "test", duration_minutes=120) == 1
    await deliver(desk)
    _, event = calendar_of((await smtp_sink.wait_for(2))[1])
    assert str(event["UID"]) == w.uid and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=120)

    async with desk.db.transaction() as session:
        await webinars.cancel(session, desk.settings, await webinars.get(session, w.id), "test")
    await deliver(desk)
    msg = (await smtp_sink.wait_for(3))[2]
    _, event = calendar_of(msg)
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2 and str(event["UID"]) == w.uid
    assert parsed(msg)["Subject"].startswith("Cancelled:")


async def test_webinar_reminders_are_due_once_at_their_offsets(desk, smtp_sink):
    from bot.webinar_jobs import send_due_reminders

    await subscribe_people(desk, "webinars", ["ana@one.example"])
    async with desk.db.transaction() as session:
        w = await webinars.create(session, desk.settings, title="Peer review", abstract="", speakers=[],
                                  start=datetime.now(ZoneInfo("Europe/Brussels")) + timedelta(hours=20), tzid="Europe/Brussels",
                                  duration_minutes=60, url="", audience=["webinars"], actor="test", reminders="7d,1d")
        w.created_at = w.created_at - timedelta(days=10)  # announced long ago
        session.add(w)
    assert await send_due_reminders(desk.db, desk.settings) == 1
    assert await send_due_reminders(desk.db, desk.settings) == 0  # the same run again: nothing twice
    await deliver(desk)
    msg = parsed((await smtp_sink.wait_for(1))[0])
    assert msg["Subject"].startswith("Reminder: Peer review") and "starts tomorrow" in msg.get_body(("plain",)).get_content()


def test_webinar_create_cli_json(desk_env, smtp_sink):
    env = {**desk_env, **smtp_env(smtp_sink.host, smtp_sink.port)}
    assert run_cli(env, "list", "add", "webinars", "ana@one.example", "--source", "form at the Bucharest conference").returncode == 0
    done = run_cli(env, "webinar", "create", "--title", "Skills blueprint", "--start", "2031-05-04 10:00 Europe/Lisbon",
                   "--duration", "45", "--url", "https://w.example/1", "--speaker", "A", "--speaker", "B", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["tzid"] == "Europe/Lisbon" and data["start"] == "2031-05-04T10:00:00+01:00"
    assert data["sequence"] == 0 and data["announced_to"] == 1 and data["speakers"] == ["A", "B"]
    bad = run_cli(env, "webinar", "create", "--title", "X", "--start", "2031-05-04 10:00 Mars/Olympus")
    assert bad.returncode == 1 and "not a time zone" in bad.stderr


def test_list_cli_create_show_add_remove(desk_env):
    assert run_cli(desk_env, "list", "create", "partners-news", "--description", "News for partners").returncode == 0
    assert run_cli(desk_env, "list", "add", "partners-news", "Eva@Five.example", "--source", "asked by mail").returncode == 0
    shown = json.loads(run_cli(desk_env, "list", "show", "partners-news", "--json").stdout)
    assert shown["addresses"] == ["eva@five.example"]
    assert run_cli(desk_env, "list", "remove", "partners-news", "eva@five.example").returncode == 0
    assert json.loads(run_cli(desk_env, "list", "show", "partners-news", "--json").stdout)["members"] == 0
    missing = run_cli(desk_env, "list", "show", "nope")
    assert missing.returncode == 1 and "escp-4i" in missing.stderr
    no_source = run_cli(desk_env, "list", "add", "newsletter", "x@y.example", "--source", " ")
    assert no_source.returncode == 1 and "consented" in no_source.stderr


async def test_erasure_leaves_no_personal_data_in_any_table(desk, smtp_sink):
    address, name = "gina.rossi@six.example", "Gina Rossi"
    desk.deps.classify = lambda mail, **hints: Verdict("service-request", category="eu-funding")
    raw = (f"From: {name} <{address}>\r\nTo: {desk.settings.desk_address}\r\nCc: boss@six.example\r\n"
           "Subject: Funding question from Gina Rossi\r\nMessage-ID: <g1@six.example>\r\n\r\n"
           f"Hello, I am {name} ({address}). Which calls fit us?\r\n").encode()
    assert (await ingest(raw, desk.deps, Source("test"))).kind == "ticket"
    await subscribe_people(desk, "newsletter", [address])
    await announce(desk, "newsletter")
    desk.deps.classify = lambda mail, **hints: Verdict("unsubscribe")
    raw = (f"From: {name} <{address}>\r\nTo: {desk.settings.desk_address}\r\nSubject: GDPR\r\n"
           "Message-ID: <g2@six.example>\r\n\r\nPlease erase my data from your contact database.\r\n").encode()
    assert (await ingest(raw, desk.deps, Source("test"))).kind == "ticket"  # staff confirm the erasure
    async with desk.db.session() as session:
        tickets = list(await session.exec(select(Ticket).order_by(Ticket.id)))
        assert any("erasure requested" in r for r in tickets[-1].reasons)
        contact = await contact_by_email(session, address)
        assert await lists.lists_of(session, contact) == []  # left every list at once
        exported = await persons.export(session, address)
    assert exported["contact"]["email"] == address and len(exported["messages"]) == 2 and exported["mail_sent"]

    async with desk.db.transaction() as session:
        done = await persons.erase(session, address, "slack:U1")
    assert done["pseudonym"] == f"erased-{contact.id}@erased.invalid"

    db_file = desk.settings.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(db_file) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        leaks = []
        for table in tables:
            for column in [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]:
                for needle in (address, name, "gina.rossi"):
                    hit = conn.execute(f'SELECT COUNT(*) FROM "{table}" WHERE lower(CAST("{column}" AS TEXT)) LIKE ?',
                                       (f"%{needle.lower()}%",)).fetchone()[0]
                    if hit:
                        leaks.append((table, column, needle))
    assert leaks == [], done
    async with desk.db.session() as session:
        assert len(list(await session.exec(select(Ticket)))) == 2  # the history stays, without the person
        assert {t.requester_email for t in await session.exec(select(Ticket))} == {done["pseudonym"]}
        assert (await session.exec(select(OutboxMail).where(OutboxMail.recipient == done["pseudonym"]))).first()
        assert await contact_by_email(session, address) is None
    with pytest.raises(persons.PersonNotFound):
        async with desk.db.session() as session:
            await persons.export(session, address)


def test_person_export_and_erase_cli(desk_env):
    address = "rui.valente@inovcluster.example"  # a registry contact
    exported = run_cli(desk_env, "person", "export", address)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["contact"]["email"] == address and data["contact"]["consent_source"] == "registry-seed"
    assert data["lists"] == ["escp-4i"]
    refused = run_cli(desk_env, "person", "erase", address)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert run_cli(desk_env, "person", "erase", address, "--yes").returncode == 0
    gone = run_cli(desk_env, "person", "export", address)
    assert gone.returncode == 1 and "no contact" in gone.stderr


async def test_slack_subcommands_for_lists_and_people(desk):
    from handlers.commands import Caller, dispatch

    desk.settings.__dict__["staff"] = ["U1"]
    caller = Caller("U1")
    reply = await dispatch(desk.deps, caller, 'list add newsletter ana@one.example "met at the Bucharest conference"')
    assert "Added" in reply.text
    reply = await dispatch(desk.deps, caller, "list show newsletter")
    assert reply.data["addresses"] == ["ana@one.example"]
    reply = await dispatch(desk.deps, caller, "person export ana@one.example")
    assert reply.files and json.loads(reply.files[0][1])["contact"]["email"] == "ana@one.example"
    reply = await dispatch(desk.deps, caller, "person erase ana@one.example")
    assert "Erased" in reply.text
    reply = await dispatch(desk.deps, caller, "list show nope")
    assert "there is no list 'nope'" in reply.text


async def test_one_click_from_a_received_header_with_the_desk_running(desk_env, smtp_sink):
    """`eocic-desk run` sends an approved announcement; the List-Unsubscribe URL of the mail works by POST."""
    import asyncio

    from tests.desk import start_desk_process, wait_until

    port = free_port()
    env = {**desk_env, **smtp_env(smtp_sink.host, smtp_sink.port), "EOCIC_HTTP_PORT": str(port),
           "EOCIC_PUBLIC_URL": f"http://127.0.0.1:{port}", "EOCIC_LISTS_DUE_SECONDS": "0.5"}
    assert run_cli(env, "list", "add", "newsletter", "ana@one.example", "--source", "web form 2019").returncode == 0
    proc = start_desk_process(env, "run")
    try:
        text = desk_env["EOCIC_DATA_DIR"] + "/issue.md"
        with open(text, "w") as fh:
            fh.write("Hello **partners**.\n")
        made = await asyncio.to_thread(run_cli, env, "announce", "--list", "newsletter", "--subject", "News", "--markdown", text, "--approve")
        assert made.returncode == 0, made.stderr
        msg = parsed((await smtp_sink.wait_for(1, timeout=60))[0])
        https, _ = unsubscribe_links(msg)
        async with aiohttp.ClientSession() as http:
            async def up():
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        return resp.status in (200, 503)
                except aiohttp.ClientError:
                    return False
            assert await wait_until(up, timeout=30)
            async with http.post(https, data="List-Unsubscribe=One-Click",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}) as resp:
                assert resp.status == 200
        shown = await asyncio.to_thread(run_cli, env, "list", "show", "newsletter", "--json")
        assert json.loads(shown.stdout)["members"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


async def test_webinar_announcement_is_posted_to_the_triage_channel(tmp_path, smtp_sink):
    from bot.slack.blocks import digest
    from models.slack import SlackNotice
    from tests.slack_rules import message_errors

    settings = load_settings(data_dir=tmp_path / "data", secret_key="test-secret", slack_bot_token="xoxb-test",
                             slack_triage_channel="C0TRIAGE")
    desk = await open_desk(settings)
    start = datetime(2031, 3, 12, 15, 0, tzinfo=ZoneInfo("Europe/Brussels"))
    async with desk.db.transaction() as session:
        w = await webinars.create(session, desk.settings, title="Clusters <!channel> & Japan", abstract="About it",
                                  speakers=[], start=start, tzid="Europe/Brussels", duration_minutes=60,
                                  url="https://webinar.example/1", audience=["webinars"], actor="test")
        await webinars.send(session, desk.settings, w, "announce")
        await webinars.send(session, desk.settings, w, "announce")  # the same decision twice: one post
    async with desk.db.session() as session:
        notices = list(await session.exec(select(SlackNotice).where(SlackNotice.key.like("webinar:%"))))
    await desk.db.dispose()
    assert len(notices) == 1 and notices[0].channel == "C0TRIAGE"
    text, blocks = digest(notices[0].payload)
    assert "Announced" in text and "Clusters &lt;!channel&gt; &amp; Japan" in text
    assert "<!channel>" not in json.dumps(blocks)
    assert message_errors(blocks) == []  # Slack accepts the post
