"""Issue 11 §4: complementarities between partnerships (catalogue service B3), from the registry's
sectors and target countries and from the dialogue reported in progress surveys."""

from __future__ import annotations

import asyncio
import email.utils
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.desk import open_desk
from config.settings import load_settings
from handlers.commands import Caller, dispatch
from handlers.complementarities import matches
from handlers.surveys import create_campaign
from tests.test_progress import stored
from tests.test_slack import TRIAGE, desk as slack_desk, slack_api  # noqa: F401

BRU = ZoneInfo("Europe/Brussels")
STAFF = "UADMIN"


@pytest.fixture
async def desk(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", secret_key="test-secret", staff=[STAFF])
    desk = await open_desk(settings)
    async with desk.db.transaction() as session:
        for name, year in (("ESCP-4i 2019", 2019), ("ESCP-4i 2020", 2020)):
            await create_campaign(session, settings, name=name, audience="ESCP-4i", url_template="https://s.example/{token}",
                                  opens_at=datetime(year, 5, 13, 9, tzinfo=BRU), closes_at=datetime(year, 6, 7, 17, tzinfo=BRU))
    yield desk
    await desk.db.dispose()


def by_name(found: dict) -> dict:
    return {s["partnership"]: s for s in found["suggestions"]}


async def test_shared_sectors_countries_and_reported_dialogue(desk):
    async with desk.db.session() as session:
        before = by_name(await matches(session, "ec2i"))  # any spelling the registry knows
    assert before["COSMENERG-4i"]["reasons"] == ["shares the sector(s) energy and environment"]
    assert before["ADPACK²"]["reasons"] == ["also targets China"]
    assert before["ESCT Go Global"]["reasons"] == ["also targets USA"]
    assert "FoodNet" not in before  # food, no target country: nothing in common
    assert not any(s["collaborating"] for s in before.values())

    await stored(desk, "ESCP-4i 2019", [{"id": "1", "name": "AdPack2", "strand": "strand-2", "dialogue-with[EC2i]": "Y"}])
    async with desk.db.session() as session:
        found = await matches(session, "EC2i")
    adpack = by_name(found)["ADPACK²"]
    assert adpack["reasons"] == ["also targets China", "it reported dialogue with EC2i (ESCP-4i 2019)"]
    assert adpack["collaborating"] and adpack["one_sided"]
    assert found["suggestions"][-1]["partnership"] == "ADPACK²"  # new contacts come first

    await stored(desk, "ESCP-4i 2020", [{"id": "2", "name": "EC2i", "strand": "strand-1", "dialogue-with[ADPACK2]": "Y"}])
    async with desk.db.session() as session:
        adpack = by_name(await matches(session, "EC2i"))["ADPACK²"]
    assert adpack["reasons"][1:] == ["EC2i reported dialogue with it (ESCP-4i 2020)", "it reported dialogue with EC2i (ESCP-4i 2019)"]
    assert adpack["collaborating"] and not adpack["one_sided"]


async def test_match_command_answers_and_refuses(desk):
    staff = Caller(user_id=STAFF)
    reply = await dispatch(desk.deps, staff, "match EC2i")
    assert reply.text.startswith("Complementarities of *EC2i*:") and "• *COSMENERG-4i* (ESCP-4i): shares the sector(s)" in reply.text
    unknown = await dispatch(desk.deps, staff, "match <!channel>")
    assert "<!channel>" not in unknown.text and "&lt;!channel&gt;" in unknown.text and "Usage: `/eocic match ACRONYM`" in unknown.text
    assert "Which partnership?" in (await dispatch(desk.deps, staff, "match")).text
    # who may run it is the Slack middleware's decision (bot/slack/access.py), tested in test_slack_walk.py


async def test_a_complementarities_ticket_card_lists_them(slack_desk, dovecot):
    raw = (f"From: Johan Lindqvist <johan.lindqvist@ec2i-escp.example>\r\nTo: eocic@eocic-desk.example\r\n"
           f"Subject: Complementarities with other partnerships\r\nMessage-ID: <m1@ec2i-escp.example>\r\n"
           f"Date: {email.utils.formatdate()}\r\n\r\nDear EOCIC team,\r\n\r\nwithin EC2i we would like to identify "
           "complementarities with other ESCPs: which partnerships work on similar sectors or target the same third "
           "countries, so that we can explore collaboration?\r\n\r\nBest regards,\r\nJohan\r\n").encode()
    await asyncio.to_thread(dovecot.deliver, slack_desk.user, raw)
    (card,) = await slack_desk.api.wait_for("chat.postMessage", channel=TRIAGE)
    (section,) = [b for b in card.args["blocks"] if b.get("block_id") == "complementarities"]
    assert section["text"]["text"].startswith("*Complementarities of EC2i*")
    assert "COSMENERG-4i" in section["text"]["text"] and "`/eocic match EC2i`" in section["text"]["text"]
