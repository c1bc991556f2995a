"""The public web endpoints under attack (issue 10): real HTTP to the desk's aiohttp server.

One-click unsubscribe needs the RFC 8058 body; every state-changing form needs our Origin and a
CSRF token bound to the visitor's cookie; the mail a form causes echoes nothing typed into it.
"""

from __future__ import annotations

import time

import aiohttp
from sqlmodel import func, select

from bot import csrf
from handlers import lists
from handlers.signing import mac
from models import lists as list_tables
from models.outbox import OutboxMail
from models.partnerships import contact_by_email
from tests.desk import browser, form_token, submit
from tests.test_lists import deliver, desk, parsed, subscribe_people  # noqa: F401  (desk is a fixture)

EVIL = "https://evil.example"
PHISH = "Your mailbox is suspended. Log in at https://evil.example/login"


async def outbox_rows(desk) -> int:
    async with desk.db.session() as session:
        return (await session.exec(select(func.count()).select_from(OutboxMail))).one()


async def members(desk, list_name: str) -> list[str]:
    async with desk.db.session() as session:
        return [c.email for c in await list_tables.members(session, await lists.get_list(session, list_name))]


async def test_one_click_needs_the_rfc8058_body(desk, smtp_sink):
    await subscribe_people(desk, "newsletter", ["ana@one.example"])
    async with desk.db.session() as session:
        mlist, contact = await lists.get_list(session, "newsletter"), await contact_by_email(session, "ana@one.example")
    url = lists.unsubscribe_url(desk.settings, mlist, contact)
    async with aiohttp.ClientSession() as http:
        for body in (None, "", "List-Unsubscribe=Yes", "One-Click", "list-unsubscribe=one-click"):
            async with http.post(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
                assert r.status == 400, body
        assert await members(desk, "newsletter") == ["ana@one.example"]
        async with http.head(url) as r:
            assert r.status == 200
        assert await members(desk, "newsletter") == ["ana@one.example"]
        async with http.post(url, data={"List-Unsubscribe": "One-Click"}) as r:  # multipart/form-data is allowed too
            assert r.status == 200
    assert await members(desk, "newsletter") == []


async def test_subscribe_refuses_cross_site_forged_and_replayed_posts(desk, smtp_sink):
    page = f"{desk.settings.public_url}/subscribe"
    ours = desk.settings.public_url
    data = {"email": "dora@four.example", "list": ["newsletter"]}
    async with browser() as alice, browser() as mallory:
        token = await form_token(alice, page)
        cases = {
            "cross-site": (alice, {**data, "csrf": token}, {"Origin": EVIL}),
            "cross-site referer": (alice, {**data, "csrf": token}, {"Referer": f"{EVIL}/x"}),
            "no origin": (alice, {**data, "csrf": token}, {}),
            "no token": (alice, data, {"Origin": ours}),
            "altered token": (alice, {**data, "csrf": token[:-3] + "AAA"}, {"Origin": ours}),
            "replayed by another visitor": (mallory, {**data, "csrf": token}, {"Origin": ours}),
            "token for another form": (alice, {**data, "csrf": _token(desk, alice, "confirm")}, {"Origin": ours}),
            "expired": (alice, {**data, "csrf": _token(desk, alice, "subscribe", age=csrf.FORM_TOKEN_SECONDS + 5)},
                        {"Origin": ours}),
        }
        for what, (http, form, headers) in cases.items():
            async with http.post(page, data=form, headers=headers) as r:
                assert r.status == 403, what
                assert "Nothing was changed" in await r.text()
        assert await outbox_rows(desk) == 0
        status, _ = await submit(alice, page, page, data, ours)
        assert status == 200
    assert await outbox_rows(desk) == 1


def _token(desk, http: aiohttp.ClientSession, form: str, age: int = 0) -> str:
    cookie = next(c.value for c in http.cookie_jar if c.key == csrf.COOKIE)
    issued = str(int(time.time()) - age)
    return f"{issued}.{mac(desk.settings, 'csrf', f'{cookie}:{issued}:{form}')}"


async def test_the_confirmation_mail_echoes_nothing_from_the_form(desk, smtp_sink):
    page = f"{desk.settings.public_url}/subscribe"
    async with browser() as http:
        status, _ = await submit(http, page, page, {"email": "dora@four.example", "name": PHISH, "list": ["newsletter"]},
                                 desk.settings.public_url)
        assert status == 200
        for address in (f"{PHISH} <dora@four.example>", "dora@four.example, victim@five.example", "dora"):
            status, text = await submit(http, page, page, {"email": address, "list": ["newsletter"]},
                                        desk.settings.public_url)
            assert status == 400 and "<dora@four.example>" not in text  # shown escaped, if at all
    await deliver(desk)
    (caught,) = await smtp_sink.wait_for(1)
    mail = parsed(caught)
    text = mail.get_body(("plain",)).get_content() + mail.get_body(("html",)).get_content() + str(mail["Subject"])
    assert caught.rcpt_tos == ["dora@four.example"]
    assert "evil.example" not in text and "suspended" not in text
    async with desk.db.session() as session:
        assert (await contact_by_email(session, "dora@four.example")).name == ""


async def test_preferences_and_confirm_forms_refuse_other_sites(desk, smtp_sink):
    await subscribe_people(desk, "newsletter", ["ana@one.example"])
    async with desk.db.session() as session:
        mlist, contact = await lists.get_list(session, "newsletter"), await contact_by_email(session, "ana@one.example")
    page = lists.unsubscribe_url(desk.settings, mlist, contact)
    prefs = page.replace("/unsubscribe?", "/preferences?")
    async with browser() as http:
        token = await form_token(http, page)
        async with http.post(prefs, data={"action": "leave-all", "csrf": token}, headers={"Origin": EVIL}) as r:
            assert r.status == 403
        assert await members(desk, "newsletter") == ["ana@one.example"]
        status, _ = await submit(http, page, prefs, {"action": "leave-all"}, EVIL)
        assert status == 403 and await members(desk, "newsletter") == ["ana@one.example"]

    async with browser() as http:
        await submit(http, f"{desk.settings.public_url}/subscribe", f"{desk.settings.public_url}/subscribe",
                     {"email": "dora@four.example", "list": ["webinars"]}, desk.settings.public_url)
    await deliver(desk)
    body = parsed((await smtp_sink.wait_for(1))[-1]).get_body(("plain",)).get_content()
    link = next(w for w in body.split() if "/subscribe/confirm?token=" in w)
    async with browser() as http:
        assert (await submit(http, link, link, {}, EVIL))[0] == 403
        assert await members(desk, "webinars") == []
        assert (await submit(http, link, link, {}, desk.settings.public_url))[0] == 200
    assert await members(desk, "webinars") == ["dora@four.example"]
