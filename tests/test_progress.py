"""Issue 11 §3 (first part): the questionnaires of Annexes A and B as data, answers read from a CSV
export, and the progress report's figures.

The fixture is built to agree with what the EOCIC progress report on the ESCPs (2019) states; the
numbers vendored from it (EUPL-1.2 project, figures quoted from the public report):
19 ESCP-4i answered, 12 strand-1 and 7 strand-2; 8 ESCP-S3 answered; engagement of SMEs as a
barrier for 10 of 12 strand-1 and 6 of 7 strand-2 (Figure 6) and for 7 of 8 ESCP-S3 (Figure 21);
establishment of business contacts among SME members for 75 % of strand-1 and over 70 % of
strand-2, knowledge sharing for 10 of 12 strand-1 and about 4 of 7 strand-2 (Figure 12).
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from config.registry import load_registry
from handlers.progress_report import progress_figures, questionnaire, read_csv, read_json

REGISTRY = load_registry()
ESCP_4I = [p.acronym for p in REGISTRY.partnerships if p.type == "ESCP-4i"][:19]
ESCP_S3 = [p.acronym for p in REGISTRY.partnerships if p.type == "ESCP-S3"][:8]


def resolve(name: str) -> str | None:
    found = REGISTRY.by_acronym(name)
    return found.acronym if found else None


def export(rows: list[dict], extra_columns: tuple[str, ...] = ()) -> str:
    present = {k for r in rows for k in r}
    columns = [c for c in ("id", "submitdate", "name", "strand") if c in present] + sorted(present - {"id", "submitdate", "name", "strand"})
    out = io.StringIO()
    writer = csv.DictWriter(out, columns + list(extra_columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def ticks(n: int, of: int) -> list[str]:
    return ["Y"] * n + [""] * (of - n)


def escp4i_rows() -> list[dict]:
    strands = ["strand-1"] * 12 + ["strand-2"] * 7
    smes = ticks(10, 12) + ticks(6, 7)
    contacts = ticks(9, 12) + ticks(5, 7)
    knowledge = ticks(10, 12) + ticks(4, 7)
    rows = []
    for i, acronym in enumerate(ESCP_4I):
        rows.append({"id": str(100 + i), "submitdate": "2019-06-01 10:00:00", "name": acronym.lower() if i == 0 else acronym,
                     "strand": strands[i], "barriers[smes]": smes[i],
                     "barriers[smescomment]": "SMEs see no quick return" if i == 1 else "",
                     "sme-results[business-contacts]": contacts[i], "sme-results[knowledge-sharing]": knowledge[i],
                     "agreements-signed": "Y" if i < 3 else "N", "agreements-count": str(i) if i < 3 else ""})
    return rows


def figure(report: dict, number: int) -> dict:
    return {o["code"]: o for o in next(f for f in report["figures"] if f["figure"] == number)["options"]}


def test_questionnaires_are_complete_data():
    a, b = questionnaire("ESCP-4i"), questionnaire("ESCP-S3")
    assert [q["figure"] for q in a["questions"] if "figure" in q] == [4, 6, 10, 12]
    assert [q["figure"] for q in b["questions"] if "figure" in q] == [14, 16, 18, 21, 23]
    barriers = next(q for q in a["questions"] if q["code"] == "barriers")
    assert barriers["type"] == "multiple" and barriers["other"] and len(barriers["options"]) == 7
    assert {q["type"] for q in b["questions"]} == {"single", "multiple", "yesno", "number", "text"}
    with pytest.raises(LookupError, match="ESCP-4i or ESCP-S3"):
        questionnaire("ESCP-X")


def test_escp4i_figures_agree_with_the_report():
    imported = read_csv("ESCP-4i", export(escp4i_rows()), resolve)
    assert not imported.problems and not imported.unmapped and len(imported.responses) == 19
    r = progress_figures("ESCP-4i", imported.responses, invited={"strand-1": 15, "strand-2": 8})
    assert r["answered"] == {"strand-1": 12, "strand-2": 7}
    assert r["response_rate"] == {"strand-1": 80.0, "strand-2": 87.5}
    assert figure(r, 6)["smes"]["partnerships"] == {"strand-1": 10, "strand-2": 6}
    sme = figure(r, 12)
    assert sme["business-contacts"]["partnerships"] == {"strand-1": 9, "strand-2": 5}  # 75 % and 71 %
    assert sme["knowledge-sharing"]["partnerships"] == {"strand-1": 10, "strand-2": 4}
    assert figure(r, 6)["smes"]["comments"] == [{"partnership": ESCP_4I[1], "text": "SMEs see no quick return"}]
    assert figure(r, 4)["partners-europe"]["partnerships"] == {"strand-1": 0, "strand-2": 0}
    assert r["agreements"][ESCP_4I[2]] == 2 and r["agreements"][ESCP_4I[5]] is None


def test_limesurvey_codes_without_hyphens_read_the_same():
    """LimeSurvey allows only letters and digits in question, subquestion and answer codes."""
    def limesurvey(column: str) -> str:
        return re.sub(r"[^A-Za-z0-9\[\]]", "", column)

    rows = [{limesurvey(k): (limesurvey(v) if k == "strand" else v) for k, v in row.items()} for row in escp4i_rows()]
    assert "smeresults[businesscontacts]" in rows[0] and rows[0]["strand"] == "strand1"
    ours = read_csv("ESCP-4i", export(escp4i_rows()), resolve)
    theirs = read_csv("ESCP-4i", export(rows), resolve)
    assert not theirs.problems and not theirs.unmapped
    invited = {"strand-1": 15, "strand-2": 8}
    assert progress_figures("ESCP-4i", theirs.responses, invited) == progress_figures("ESCP-4i", ours.responses, invited)


def test_escps3_figures_agree_with_the_report():
    rows = [{"id": str(i), "name": a, "barriers[smes]": "Y" if i < 7 else "", "barriers[other]": "" if i else "Lack of time"}
            for i, a in enumerate(ESCP_S3)]
    imported = read_csv("ESCP-S3", export(rows), resolve)
    r = progress_figures("ESCP-S3", imported.responses, invited={"ESCP-S3": 9})
    assert r["answered"] == {"ESCP-S3": 8} and r["response_rate"] == {"ESCP-S3": 88.9}
    assert figure(r, 21)["smes"]["partnerships"] == {"ESCP-S3": 7}
    assert figure(r, 21)["other"]["partnerships"] == {"ESCP-S3": 1}


def test_bad_rows_and_unknown_columns_are_reported_and_the_rest_kept():
    rows = escp4i_rows()
    rows += [{"id": "900", "name": "Not A Partnership", "strand": "strand-1"},
             {"id": "901", "name": ESCP_4I[3], "strand": "strand-1"},  # a second answer
             {"id": "902", "name": "ELBE", "strand": "strand-3"}]
    rows[4]["barriers[smes]"] = "maybe"
    rows[5]["agreements-count"] = "12; DROP TABLE"
    imported = read_csv("ESCP-4i", export(rows, extra_columns=("Q99", "barriers[nonsense]")), resolve)
    assert imported.unmapped == ["Q99", "barriers[nonsense]"]
    assert imported.problems == [
        "line 6: barriers[smes] is 'maybe': write Y or leave it empty",
        "line 7: agreements-count is '12; DROP TABLE': only a whole number is allowed",
        "line 21: the partnership 'Not A Partnership' is not in the registry",
        f"line 22: a second answer for {ESCP_4I[3]} (the first one is kept)",
        "line 23: unknown strand 'strand-3'",
    ]
    assert len(imported.responses) == 17


# --- stored answers, the LimeSurvey export, the CLI and the HTML report ---------------------------

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from datetime import datetime  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402


from bot.cli.surveys import cmd_import  # noqa: E402
from bot.limesurvey import LimeSurvey, LimeSurveyError  # noqa: E402
from bot.desk import open_desk  # noqa: E402
from config.settings import load_settings  # noqa: E402
from handlers.report_files import progress_file  # noqa: E402
from handlers.survey_answers import import_answers, progress_report, resolver  # noqa: E402
from handlers.surveys import create_campaign, get_campaign  # noqa: E402
from tests.browser import check_every_chart  # noqa: E402
from tests.test_surveys import LimeSurveyServer, serve  # noqa: E402

BRU = ZoneInfo("Europe/Brussels")
SURVEY_ID = 515151


class LimeSurveyWithAnswers(LimeSurveyServer):
    """The participants stand-in plus export_responses, refusing what LimeSurvey refuses."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.responses: list[dict] = []

    def export_responses(self, key, survey_id, document_type, language=None, completion="all", heading="code",
                         response_type="short", from_id=None, to_id=None, fields=None):
        if key not in self.keys:
            return {"status": "Invalid session key"}
        if survey_id != self.survey_id:
            return {"status": "Error: Invalid survey ID"}
        if document_type not in ("pdf", "csv", "xls", "doc", "json") or completion not in ("complete", "incomplete", "all") \
                or heading not in ("code", "full", "abbreviated") or response_type not in ("short", "long"):
            return {"status": "Invalid arguments"}
        if not self.responses:
            return {"status": "No Response found"}
        if document_type == "json":  # each response wrapped in its id, as LimeSurvey 3-5 write it
            body = json.dumps({"responses": [{r["id"]: r} for r in self.responses]})
        else:
            body = export(self.responses)
        return base64.b64encode(body.encode()).decode()


@pytest.fixture
async def limesurvey():
    server = LimeSurveyWithAnswers(survey_id=SURVEY_ID)
    runner = await serve(server)
    yield server
    await runner.cleanup()


@pytest.fixture
async def desk(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", secret_key="test-secret")
    desk = await open_desk(settings)
    async with desk.db.transaction() as session:
        for name, audience, year in (("ESCP-4i 2019", "ESCP-4i", 2019), ("ESCP-4i 2020", "ESCP-4i", 2020),
                                     ("ESCP-S3 2019", "ESCP-S3", 2019)):
            await create_campaign(session, settings, name=name, audience=audience, url_template="https://s.example/{token}",
                                  opens_at=datetime(year, 5, 13, 9, tzinfo=BRU), closes_at=datetime(year, 6, 7, 17, tzinfo=BRU),
                                  limesurvey_id=SURVEY_ID if audience == "ESCP-S3" else None)
    yield desk
    await desk.db.dispose()


async def stored(desk, campaign: str, rows: list[dict], survey: str = "ESCP-4i") -> dict:
    async with desk.db.transaction() as session:
        imported = read_csv(survey, export(rows), await resolver(session))
        return await import_answers(session, await get_campaign(session, campaign), imported, "csv:test", "test")


async def test_answers_are_imported_once_and_give_the_report(desk):
    first = await stored(desk, "ESCP-4i 2019", escp4i_rows())
    assert first["imported"] == 19 and first["already_imported"] == [] and first["not_invited"] == []
    again = await stored(desk, "ESCP-4i 2019", escp4i_rows())
    assert again["imported"] == 0 and len(again["already_imported"]) == 19
    later = escp4i_rows()
    for row in later:
        row["id"] = "2" + row["id"]
        row["agreements-count"] = "5"
    later[0]["dialogue-with[EC2i]"] = "Y"
    later[0]["dialogue-with[EC2icomment]"] = "joint mission to Japan"
    later[1]["dialogue-with[ADPACK2]"] = "Y"  # any spelling the registry knows
    later[1]["dialogue-with[EC2i]"] = "Y"
    await stored(desk, "ESCP-4i 2020", later)
    await stored(desk, "ESCP-4i 2019", [later[0] | {"id": "999"}])  # a second response from ADPACK²: kept out
    async with desk.db.session() as session:
        report = await progress_report(session, await get_campaign(session, "ESCP-4i 2019"),
                                       await get_campaign(session, "ESCP-4i 2020"))
    first, second = report["first"], report["second"]
    assert first["answered"] == {"strand-1": 12, "strand-2": 7} | ({"strand not given": 0} if "strand not given" in first["answered"] else {})
    assert sum(first["invited"].values()) == 25  # every ESCP-4i of the registry was asked
    assert figure(first, 12)["business-contacts"]["partnerships"] == {**{g: 0 for g in first["answered"]}, "strand-1": 9, "strand-2": 5}
    assert figure(second, 6)["smes"]["partnerships"]["strand-2"] == 6
    row = next(r for r in report["table_1"] if r["partnership"] == ESCP_4I[2])
    assert (row["first"], row["second"]) == (2, 5)
    assert report["table_2"] == {"partnerships": [], "cells": {}}  # nobody reported dialogue in 2019
    async with desk.db.session() as session:
        later_only = await progress_report(session, await get_campaign(session, "ESCP-4i 2020"))
    assert later_only["table_2"]["cells"] == {"ADPACK²": {"EC2i": "one-sided"}, ESCP_4I[1]: {"ADPACK²": "one-sided", "EC2i": "one-sided"}}
    assert figure(later_only["first"], 4)["partners-europe"]["partnerships"]["strand-1"] == 0


async def test_limesurvey_export_is_read_and_its_refusals_reported(desk, limesurvey):
    async with LimeSurvey(limesurvey.url, "desk", "pw") as ls:
        assert await ls.export_responses(SURVEY_ID, "csv") == ""  # "No Response found"
        with pytest.raises(LimeSurveyError, match="Invalid survey ID"):
            await ls.export_responses(1, "csv")
        with pytest.raises(ValueError, match="csv or json"):
            await ls.export_responses(SURVEY_ID, "xls")
        key, ls.session_key = ls.session_key, "stale"
        with pytest.raises(LimeSurveyError, match="Invalid session key"):
            await ls.export_responses(SURVEY_ID, "json")
        ls.session_key = key
    limesurvey.responses = [{"id": str(i), "name": a, "barriers[smes]": "Y" if i < 7 else "",
                             "barriers[smescomment]": "Les PME n'ont pas le temps" if i == 0 else ""}
                            for i, a in enumerate(ESCP_S3)]
    settings = desk.settings.model_copy(update={"limesurvey_url": limesurvey.url, "limesurvey_user": "desk"})
    settings.limesurvey_password = type(settings.limesurvey_password)("pw")
    args = argparse.Namespace(name="ESCP-S3 2019", csv=None, limesurvey_json=None, limesurvey=True, json=True)
    assert await cmd_import(settings, args) == 0
    assert await cmd_import(settings, args) == 0  # nothing twice
    async with desk.db.session() as session:
        report = await progress_report(session, await get_campaign(session, "ESCP-S3 2019"))
    assert report["first"]["answered"] == {"ESCP-S3": 8} and report["first"]["response_rate"] == {"ESCP-S3": 88.9}
    assert figure(report["first"], 21)["smes"]["partnerships"] == {"ESCP-S3": 7}
    assert figure(report["first"], 21)["smes"]["comments"] == [{"partnership": ESCP_S3[0], "text": "Les PME n'ont pas le temps"}]
    assert report["table_2"] is None
    assert limesurvey.keys == set()  # every session key was released
    wrapped = {"responses": [{r["id"]: r} for r in limesurvey.responses]}
    assert len(read_json("ESCP-S3", wrapped, resolve).responses) == 8
    with pytest.raises(ValueError, match="no list of responses"):
        read_json("ESCP-S3", {"status": "No Response found"}, resolve)


def test_cli_imports_and_writes_the_progress_report(desk, tmp_path):
    env = {**os.environ, "EOCIC_DATA_DIR": str(tmp_path / "data")}
    answers = tmp_path / "answers-2019.csv"
    rows = escp4i_rows()
    rows[3]["barriers[smescomment]"] = "<script>alert(1)</script> «PME»"
    answers.write_text(export(rows), encoding="utf-8")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True, timeout=180)

    done = cli("survey", "import", "ESCP-4i 2019", "--csv", str(answers), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["imported"] == 19
    again = cli("survey", "import", "ESCP-4i 2019", "--csv", str(answers))
    assert again.returncode == 0 and "0 answer(s) imported into ESCP-4i 2019; 19 already there" in again.stdout
    missing = cli("survey", "import", "ESCP-4i 2019", "--limesurvey")
    assert missing.returncode == 1 and "no LimeSurvey survey id" in missing.stderr
    out = tmp_path / "progress.html"
    written = cli("report", "progress", "ESCP-4i 2019", "--out", str(out))
    assert written.returncode == 0, written.stderr
    page = out.read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; «PME»" in page
    figures = cli("report", "progress", "ESCP-4i 2019", "--json")
    assert [f["figure"] for f in json.loads(figures.stdout)["first"]["figures"]] == [4, 6, 10, 12]
    assert cli("report", "progress", "nope").returncode == 1


async def test_progress_html_shows_every_figure_in_chromium(desk, tmp_path):
    await stored(desk, "ESCP-4i 2019", escp4i_rows())
    rows = escp4i_rows()
    for row in rows:
        row["id"] = "2" + row["id"]
        row["activities[events]"] = "Y"
    await stored(desk, "ESCP-4i 2020", rows)
    async with desk.db.session() as session:
        report = await progress_report(session, await get_campaign(session, "ESCP-4i 2019"),
                                       await get_campaign(session, "ESCP-4i 2020"))
    path = tmp_path / "progress.html"
    path.write_bytes(await progress_file(report, "html"))
    shown = await check_every_chart(path, tmp_path, expected=4)
    assert [c["alt"].split(":")[0] for c in shown] == ["Figure 4", "Figure 6", "Figure 10", "Figure 12"]


# --- Slack: the report beside the closing summary, and /eocic report progress -----------------------

from tests.test_slack import ADA, TRIAGE, desk as slack_desk, slack_api  # noqa: E402,F401


async def test_closing_summary_comes_with_the_progress_report(slack_desk):
    settings = slack_desk.desk.settings
    async with slack_desk.db.transaction() as session:
        for name, audience in (("ESCP-4i 2019", "ESCP-4i"), ("ESCP-S3 2019", "ESCP-S3")):
            await create_campaign(session, settings, name=name, audience=audience, url_template="https://s.example/{token}",
                                  opens_at=datetime(2019, 5, 13, 9, tzinfo=BRU), closes_at=datetime(2019, 6, 7, 17, tzinfo=BRU))
    await stored(slack_desk, "ESCP-4i 2019", escp4i_rows())
    api = slack_desk.api
    await slack_desk.slack.command('survey close "ESCP-S3 2019"')  # no answers imported: the summary alone
    await api.wait_for("chat.postMessage", channel=TRIAGE)
    await slack_desk.slack.command('survey close "ESCP-4i 2019"')
    (done,) = await api.wait_for("files.completeUploadExternal")
    summaries = [c.args["text"] for c in api.of("chat.postMessage", channel=TRIAGE)]
    assert [t.split(":")[0] for t in summaries] == ["Survey ESCP-S3 2019 is closed", "Survey ESCP-4i 2019 is closed"]
    (report,) = api.files.values()
    assert report["channel"] == TRIAGE and report["filename"] == "progress-report-ESCP-4i_2019.html"
    assert b"Figure 12" in report["content"] and report["content"].count(b"data:image/png;base64,") == 4

    await slack_desk.slack.command('report progress "ESCP-4i 2019"')
    await api.wait_for("files.completeUploadExternal", n=2)
    assert [f["channel"] for f in api.files.values()] == [TRIAGE, "D" + ADA[1:]]
    await slack_desk.slack.command("report progress nope")
    answers = await api.wait_for("response", n=4)
    assert "no survey campaign" in answers[-1].args["text"] and "Usage: `/eocic report" in answers[-1].args["text"]
