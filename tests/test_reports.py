"""Issue 11 §2: the service report from a fixture of tickets with known dates, services and answers.

Every figure below was worked out by hand from the fixture (working days Monday–Friday,
Europe/Brussels; first-response target 2 working days); the HTML is opened in headless Chromium.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.desk import open_desk
from config.settings import load_settings
from handlers.report_files import service_file
from handlers.service_report import parse_report_period, service_report
from models.partnerships import Partnership
from models.tickets import Ticket, TicketStatus
from tests.browser import check_every_chart, page_images

BRU = ZoneInfo("Europe/Brussels")
FROM, TO = date(2026, 1, 1), date(2026, 3, 31)
NOW = datetime(2026, 4, 20, 12, 0, tzinfo=BRU)


def bru(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).replace(tzinfo=BRU) if text else None


# ref, partnership, intent, service, language, received, first response, closed (Brussels time)
TICKETS = [
    ("T00", "ADPACK²", "service-request", "eu-funding", "en", "2025-12-10T10:00", "2025-12-11T10:00", "2025-12-12T10:00"),
    ("T0B", "FoodNet", "service-request", "webinars", "de", "2025-12-15T09:00", None, None),  # backlog from before
    ("T01", "ADPACK²", "service-request", "eu-funding", "en", "2026-01-05T10:00", "2026-01-06T10:00", "2026-01-08T10:00"),
    ("T02", "S3martMed", "service-request", "sme-engagement", "fr", "2026-01-09T16:00", "2026-01-12T10:00", "2026-01-16T16:00"),
    ("T03", "S3martMed", "service-request", "sme-engagement", "fr", "2026-02-04T09:00", "2026-02-09T09:00", "2026-02-10T09:00"),
    ("T04", "EC2i", "service-request", "complementarities", "es", "2026-02-14T11:00", "2026-02-16T12:00", None),  # a Saturday
    ("T05", None, "service-request", None, None, "2026-03-26T10:00", None, None),
    ("T06", "FoodNet", "service-request", "webinars", "de", "2026-03-31T15:00", None, None),  # target still running
    ("T07", "ADPACK²", "service-request", "missions-events", "pt", "2026-03-02T09:00", "2026-03-02T15:00", "2026-03-03T09:00"),
    ("T08", "GIVE", "service-request", "peer-review", "it", "2026-01-01T00:00", "2026-01-02T12:00", "2026-01-05T00:00"),
    ("T09", "ADPACK²", "service-request", "eu-funding", "en", "2026-04-01T00:00", None, None),  # after the period
    ("T10", "EC2i", "survey", None, "en", "2026-02-20T10:00", None, None),  # not a service request
    ("T11", "MAGIA", "service-request", "eu-initiatives", "en", "2026-03-16T10:00", "2026-03-17T10:00", "2026-04-02T10:00"),
]
ACTIVE = {"ADPACK²", "S3martMed", "EC2i", "FoodNet", "GIVE", "MAGIA"}


async def add_tickets(session) -> None:
    ids = {p.acronym: p.id for p in await session.exec(select(Partnership))}
    for ref, acronym, intent, service, language, received, answered, closed in TICKETS:
        session.add(Ticket(
            ref=f"EOCIC-{ref}", intent=intent, category=service, partnership_id=ids.get(acronym), language=language,
            requester_email=f"{ref.lower()}@cluster.example", subject=f"Request {ref} — «{acronym or 'sans partenariat'}»",
            received_at=bru(received), first_response_at=bru(answered), closed_at=bru(closed),
            status=TicketStatus.closed if closed else TicketStatus.open,
        ))


@pytest.fixture
async def desk(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", secret_key="test-secret", first_response_days=2)
    desk = await open_desk(settings)
    async with desk.db.transaction() as session:
        await add_tickets(session)
    yield desk
    await desk.db.dispose()


async def report_of(desk, start=FROM, end=TO) -> dict:
    async with desk.db.session() as session:
        return await service_report(session, desk.settings, start, end, now=NOW)


async def test_every_figure_of_the_service_report(desk):
    r = await report_of(desk)
    assert (r["requests"], r["new"], r["follow_up"]) == (9, 6, 3)  # follow-ups: T01 (after T00), T03 (T02), T06 (T0B)
    assert r["by_service"] == {
        "partnership-building": 0, "sme-engagement": 2, "internationalisation-info": 0, "missions-events": 1,
        "peer-review": 1, "eccp-forum": 0, "webinars": 1, "complementarities": 1, "eu-funding": 1, "eu-initiatives": 1,
        "uncategorised": 1,
    }
    assert r["by_group"] == {"A": 4, "B": 2, "C": 2}
    assert {s["id"]: (s["new"], s["follow_up"]) for s in r["services"] if s["requests"]} == {
        "sme-engagement": (1, 1), "missions-events": (1, 0), "peer-review": (1, 0), "webinars": (0, 1),
        "complementarities": (1, 0), "eu-funding": (0, 1), "eu-initiatives": (1, 0), "uncategorised": (1, 0)}
    assert r["by_month"] == {"2026-01": 3, "2026-02": 2, "2026-03": 4}  # T08 at 00:00 on 1 January counts (Brussels)
    assert r["by_service_month"]["sme-engagement"] == {"2026-01": 1, "2026-02": 1, "2026-03": 0}
    assert r["by_partnership"] == {"ADPACK²": 2, "S3martMed": 2, "(no partnership)": 1, "EC2i": 1, "FoodNet": 1,
                                   "GIVE": 1, "MAGIA": 1}
    assert r["partnerships"]["ADPACK²"]["by_service"] == {"eu-funding": 1, "missions-events": 1}
    # first responses 0.25 0.5 0.75 1 1 1.5 3; within target all but T03 (3 days) and T05 (never, due 30 March)
    assert r["first_response_days"] == {"median": 1.0, "p90": 2.1, "count": 7, "target_days": 2, "within_target": 6,
                                        "missed_target": 2, "share_within_target": 0.75}
    assert r["resolution_days"] == {"median": 3.5, "p90": 9.0, "count": 6}  # 1 2 3 4 5 13
    assert r["open_at_end"] == 5
    assert [t["ref"] for t in r["oldest_open"]] == ["EOCIC-T0B", "EOCIC-T04", "EOCIC-T11", "EOCIC-T05", "EOCIC-T06"]
    ages = {t["ref"]: t["age_days"] for t in r["oldest_open"]}
    assert (ages["EOCIC-T04"], ages["EOCIC-T05"]) == (32.0, 3.58)
    assert r["languages"] == {"en": 2, "fr": 2, "de": 1, "es": 1, "it": 1, "pt": 1, "unknown": 1}
    assert len(r["silent_partnerships"]) == 34 - len(ACTIVE) and not ACTIVE & set(r["silent_partnerships"])
    assert "TRACK" in r["silent_partnerships"]


async def test_a_period_with_nothing_and_a_different_target(desk):
    empty = await report_of(desk, date(2024, 1, 1), date(2024, 1, 31))
    assert empty["requests"] == 0 and empty["by_month"] == {"2024-01": 0} and empty["open_at_end"] == 0
    assert empty["first_response_days"]["median"] is None and empty["first_response_days"]["share_within_target"] is None
    desk.settings.first_response_days = 1
    strict = await report_of(desk)  # now T08 (due 2 January 00:00) misses too; T01 and T11, answered on the dot, do not
    assert (strict["first_response_days"]["within_target"], strict["first_response_days"]["missed_target"]) == (5, 3)
    with pytest.raises(ValueError, match="ends"):
        await report_of(desk, TO, FROM)


def test_report_periods():
    today = date(2026, 4, 1)
    assert parse_report_period(None, today) == (date(2026, 3, 1), date(2026, 3, 31))
    assert parse_report_period("this-month", today) == (date(2026, 4, 1), date(2026, 4, 30))
    assert parse_report_period("2026-02", today) == (date(2026, 2, 1), date(2026, 2, 28))
    assert parse_report_period("2026-Q4", today) == (date(2026, 10, 1), date(2026, 12, 31))
    assert parse_report_period("2025", today) == (date(2025, 1, 1), date(2025, 12, 31))
    assert parse_report_period("2026-01-05..2026-01-09", today) == (date(2026, 1, 5), date(2026, 1, 9))
    for bad in ("2026-13", "yesterday", "2026-02-30..2026-03-01", "2026-03-01..2026-02-01", "<!channel>", "9" * 500):
        with pytest.raises(ValueError, match="cannot read the period"):
            parse_report_period(bad, today)


async def test_json_and_csv_carry_the_same_figures(desk):
    r = await report_of(desk)
    assert json.loads(await service_file(r, "json")) == r
    rows = list(csv.reader(io.StringIO((await service_file(r, "csv")).decode("utf-8-sig"))))
    table = {(s, k, d): v for s, k, d, v in rows[1:]}
    assert table[("by_service", "sme-engagement", "requests")] == "2"
    assert table[("by_partnership", "ADPACK²", "follow_up")] == "1"
    assert table[("by_month", "2026-03", "requests")] == "4"
    assert table[("first_response_days", "p90", "")] == "2.1"
    assert table[("open_at_end", "total", "")] == "5"


async def test_html_report_shows_every_chart_in_chromium(desk, tmp_path):
    page = (await service_file(await report_of(desk), "html")).decode()
    assert "http://" not in page and "https://" not in page and "<script" not in page  # self-contained, inert
    assert "S3martMed" in page and "ADPACK²" in page and "sans partenariat" in page
    path = tmp_path / "services.html"
    path.write_text(page, encoding="utf-8")
    charts = await check_every_chart(path, tmp_path, expected=4)
    assert [c["alt"].split(",")[0] for c in charts][:3] == ["Requests by service", "Requests by month and service group",
                                                             "Requests by partnership"]


async def test_the_browser_check_sees_a_broken_chart(desk, tmp_path):
    page = (await service_file(await report_of(desk), "html")).decode()
    broken = page.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1)
    layout = await page_images(broken, tmp_path)
    assert [i["natural_width"] == 0 for i in layout["imgs"]] == [True, False, False, False]


def test_cli_writes_each_format(desk, tmp_path):
    env = {"EOCIC_DATA_DIR": str(tmp_path / "data"), "EOCIC_FIRST_RESPONSE_DAYS": "2"}
    import os

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "bot.cli", "report", "services", "--from", "2026-01-01",
                               "--to", "2026-03-31", *args], env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=180)

    out = cli("--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["by_month"] == {"2026-01": 3, "2026-02": 2, "2026-03": 4}
    for suffix, magic in ((".html", b"<!DOCTYPE html>"), (".csv", b"\xef\xbb\xbfsection,"), (".pdf", b"%PDF-")):
        target = tmp_path / f"report{suffix}"
        done = cli("--out", str(target))
        assert done.returncode == 0, done.stderr
        assert target.read_bytes().startswith(magic)
    assert (tmp_path / "report.pdf").read_bytes().count(b"/Subtype /Image") >= 4
    wrong = cli("--out", str(tmp_path / "report.docx"))
    assert wrong.returncode == 1 and "end it in .html, .pdf, .csv or .json" in wrong.stderr
    bad_date = subprocess.run([sys.executable, "-m", "bot.cli", "report", "services", "--from", "2026-02-30", "--to", "2026-03-01"],
                              env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert bad_date.returncode == 2 and "is not a date" in bad_date.stderr


# --- Slack: /eocic report, the monthly job, and the stand-in refusing what Slack refuses -------------

from slack_sdk.errors import SlackApiError  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from bot.report_jobs import monthly_service_report  # noqa: E402
from tests.test_slack import ADA, TRIAGE, desk as slack_desk, slack_api  # noqa: E402,F401


async def test_report_command_uploads_privately_or_to_the_triage_channel(slack_desk):
    async with slack_desk.db.transaction() as session:
        await add_tickets(session)
    api = slack_desk.api
    await slack_desk.slack.command("report 2026-q1")
    (done,) = await api.wait_for("files.completeUploadExternal")
    assert api.of("conversations.open")[0].args["users"] == ADA and done.args["channel_id"] == "D0ADA"
    (sent,) = [f for f in api.files.values() if f["channel"] == "D0ADA"]
    assert sent["filename"] == "eocic-service-report-2026-01-01-2026-03-31.html"
    assert sent["content"].startswith(b"<!DOCTYPE html>") and "ADPACK²".encode() in sent["content"]
    (answer,) = await api.wait_for("response")
    assert "9 requests (6 new, 3 follow-up)" in answer.args["text"] and answer.args["response_type"] == "ephemeral"

    await slack_desk.slack.command("report 2026-01-01..2026-03-31 csv channel")
    await api.wait_for("files.completeUploadExternal", n=2)
    (shared,) = [f for f in api.files.values() if f["channel"] == TRIAGE]
    assert shared["content"].decode("utf-8-sig").startswith("section,key,detail,value")

    await slack_desk.slack.command("report 2026-13")
    answers = await api.wait_for("response", n=3)
    assert "cannot read the period" in answers[-1].args["text"] and "Usage: `/eocic report" in answers[-1].args["text"]
    assert len(api.files) == 2


async def test_monthly_report_goes_to_the_triage_channel_once(slack_desk):
    async with slack_desk.db.transaction() as session:
        await add_tickets(session)
    assert await monthly_service_report(date(2026, 4, 4)) is False  # a Saturday: not a working morning
    assert await monthly_service_report(date(2026, 4, 1)) is True
    assert await monthly_service_report(date(2026, 4, 2)) is False  # March is posted already
    (posted,) = slack_desk.api.files.values()
    assert posted["channel"] == TRIAGE and posted["filename"].endswith("2026-03-01-2026-03-31.html")
    assert "4 requests" in posted["initial_comment"]


async def test_the_slack_stand_in_refuses_bad_uploads(slack_api):
    client = AsyncWebClient(token="xoxb-test", base_url=slack_api.url)
    for kwargs, error in (({"length": 10}, "invalid_arguments"), ({"filename": "r.html"}, "invalid_arguments")):
        with pytest.raises(SlackApiError) as refused:
            await client.api_call("files.getUploadURLExternal", params=kwargs)
        assert refused.value.response["error"] == error
    ticket = await client.files_getUploadURLExternal(filename="r.html", length=10)
    with pytest.raises(SlackApiError) as refused:  # announced but never uploaded
        await client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}], channel_id=TRIAGE)
    assert refused.value.response["error"] == "file_not_found"
    with pytest.raises(SlackApiError) as refused:  # a user id is not a channel: open the DM first
        await client.files_upload_v2(channel=ADA, filename="r.html", content=b"0123456789")
    assert refused.value.response["error"] == "channel_not_found"
    import aiohttp

    async with aiohttp.ClientSession() as http:  # fewer bytes than announced
        async with http.post(ticket["upload_url"], data=b"short") as r:
            assert r.status == 400
