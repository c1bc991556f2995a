"""The partnerships' progress report: the questionnaires of Annexes A and B as data, their answers
read from a survey export (CSV, LimeSurvey's column codes), and the report's figures.

Columns are headed as in LimeSurvey's export by question code: `name` (the partnership, any
spelling the registry knows), `strand`, and per question its code: `QUESTION[OPTION]` = `Y` when
ticked, `QUESTION[OPTIONcomment]` the text beside it (options of registry questions are acronyms),
`QUESTION[other]` the "Other:" text; single, yes/no, number and text questions are one column
each. LimeSurvey's own columns (id, submitdate, token, …) are known; any other column is reported
as unmapped. A row that cannot be read is reported with its line and skipped; the others are kept.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

QUESTIONNAIRES = Path(__file__).resolve().parent.parent / "config" / "questionnaires"
TYPES = {"single", "multiple", "yesno", "number", "text"}
META = {"id", "submitdate", "lastpage", "startlanguage", "seed", "token", "startdate", "datestamp", "refurl", "ipaddr"}
_COLUMN = re.compile(r"^(?P<q>[A-Za-z0-9_-]+)(?:\[(?P<o>[^\[\]]+?)(?P<c>comment)?\])?$")
YES, NO = {"y", "yes", "1", "true"}, {"n", "no", "0", "false", ""}


@lru_cache(maxsize=None)
def questionnaire(survey: str) -> dict:
    """The questionnaire `ESCP-4i` or `ESCP-S3`, checked: unique codes, known types, options where needed."""
    path = QUESTIONNAIRES / f"{survey.lower()}.yaml"
    if not path.exists():
        raise LookupError(f"no questionnaire {survey!r}: use ESCP-4i or ESCP-S3")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    codes = [q["code"] for q in data["questions"]]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{path.name}: question codes repeat")
    for q in data["questions"]:
        if q["type"] not in TYPES:
            raise ValueError(f"{path.name}: question {q['code']} has an unknown type {q['type']!r}")
        if q["type"] in ("single", "multiple") and not q.get("options"):
            raise ValueError(f"{path.name}: question {q['code']} needs options")
    return data


@dataclass
class Response:
    partnership: str
    strand: str | None
    answers: dict = field(default_factory=dict)  # code -> value; multiple: {option: comment or ""}, "other": text
    key: str = ""  # the export's response id (or the partnership): what makes an import idempotent


@dataclass
class Imported:
    responses: list[Response]
    unmapped: list[str]
    problems: list[str]  # "line N: why"


def read_csv(survey: str, text: str, resolve) -> Imported:
    """Answers of a CSV export; `resolve(name)` gives the registry's acronym or None."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return read_rows(survey, reader.fieldnames or [], ((f"line {n}", row) for n, row in enumerate(reader, start=2)), resolve)


def read_json(survey: str, document, resolve) -> Imported:
    """Answers of LimeSurvey's JSON export: `{"responses": [{ID: {column: value}} or {column: value}, …]}`."""
    items = document.get("responses") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ValueError("not a LimeSurvey JSON export: no list of responses")
    rows = []
    for item in items:
        if isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item.values())), dict):
            item = next(iter(item.values()))  # LimeSurvey 3 to 5 wrap each response in its id
        rows.append({str(k): "" if v is None else str(v) for k, v in item.items()} if isinstance(item, dict) else {})
    columns = list(dict.fromkeys(c for row in rows for c in row))
    return read_rows(survey, columns, ((f"response {n}", row) for n, row in enumerate(rows, start=1)), resolve)


def read_rows(survey: str, columns: list[str], rows, resolve) -> Imported:
    """`rows`: (where, {column: text}) pairs; `where` names the row in the problems ("line 7")."""
    form = questionnaire(survey)
    questions = {q["code"]: q for q in form["questions"]}
    unmapped = [c for c in columns if c not in META and not _maps(c, questions, resolve)]
    responses, problems, seen = [], [], set()
    for where, row in rows:
        try:
            response = _response(row, form, questions, resolve)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if response.partnership in seen:
            problems.append(f"{where}: a second answer for {response.partnership} (the first one is kept)")
            continue
        seen.add(response.partnership)
        response.key = (row.get("id") or "").strip()[:64] or response.partnership
        responses.append(response)
    return Imported(responses, unmapped, problems)


def _loose(code: str) -> str:
    """LimeSurvey allows only letters and digits in codes: `sme-consultations` is `SMEconsultations` there."""
    return re.sub(r"[^a-z0-9]", "", code.lower())


def _column(column: str, questions: dict):
    """(question, option code or None, comment?) for a column headed with our codes or LimeSurvey's; None."""
    m = _COLUMN.match(column or "")
    if not m:
        return None
    q = questions.get(m["q"]) or next((q for code, q in questions.items() if _loose(code) == _loose(m["q"])), None)
    if q is None:
        return None
    option = m["o"]
    if option is not None and option not in _option_codes(q) and option != "other":
        option = next((o for o in _option_codes(q) + ["other"] if _loose(o) == _loose(option)), option)
    return q, option, bool(m["c"])


def _maps(column: str, questions: dict, resolve) -> bool:
    found = _column(column, questions)
    if found is None:
        return False
    q, option, _ = found
    if option is None:
        return q["type"] != "multiple"
    if q["type"] != "multiple":
        return False
    if q["options"] == "registry":
        return resolve(option) is not None
    return bool(option == "other" and q.get("other") or option in _option_codes(q))


def _option_codes(q: dict) -> list[str]:
    return [o["code"] for o in q["options"]] if isinstance(q["options"], list) else []


def _response(row: dict, form: dict, questions: dict, resolve) -> Response:
    name = (row.get(form["partnership_question"]) or "").strip()
    acronym = resolve(name) if name else None
    if acronym is None:
        raise ValueError(f"the partnership {name[:60]!r} is not in the registry" if name else "no partnership named")
    strand = None
    if form.get("strand_question"):
        given = (row.get(form["strand_question"]) or "").strip().lower() or None
        strand = next((o for o in _option_codes(questions[form["strand_question"]]) if given and _loose(o) == _loose(given)), None)
        if given and strand is None:
            raise ValueError(f"unknown strand {given[:20]!r}")
    answers: dict = {}
    for column, value in row.items():
        value = (value or "").strip()
        if column in META or not _maps(column, questions, resolve):
            continue  # unmapped: reported once for the whole file
        q, option, comment = _column(column, questions)
        if q["type"] == "multiple" and option:
            ticked = answers.setdefault(q["code"], {})
            if q["options"] == "registry":
                option = resolve(option)
                if option is None:
                    continue  # reported as an unmapped column
            if option == "other":
                if value:
                    ticked["other"] = value
            elif comment:
                if value:
                    ticked[option] = value
            elif value.lower() in YES:
                ticked.setdefault(option, "")
            elif value.lower() not in NO:
                raise ValueError(f"{column} is {value[:20]!r}: write Y or leave it empty")
        elif q["type"] == "yesno" and value:
            if value.lower() not in YES | NO:
                raise ValueError(f"{column} is {value[:20]!r}: write Y or N")
            answers[q["code"]] = value.lower() in YES
        elif q["type"] == "number" and value:
            if not value.isdigit():
                raise ValueError(f"{column} is {value[:20]!r}: only a whole number is allowed")
            answers[q["code"]] = int(value)
        elif value and q["type"] in ("single", "text"):
            answers[q["code"]] = value
    return Response(acronym, strand, answers)


def progress_figures(survey: str, responses: list[Response], invited: dict[str, int]) -> dict:
    """The report's figures: per multiple-answer question with a figure, partnerships per option and
    group (strand-1 / strand-2 for ESCP-4i, all for ESCP-S3), with the comments grouped under each
    option; answers and response rate per group (`invited`: group -> partnerships asked)."""
    form = questionnaire(survey)
    group_of = (lambda r: r.strand or "strand not given") if form.get("strand_question") else (lambda r: survey)
    groups = sorted({group_of(r) for r in responses} | set(invited))
    answered = {g: sum(1 for r in responses if group_of(r) == g) for g in groups}
    figures = []
    for q in form["questions"]:
        if q["type"] != "multiple" or "figure" not in q:
            continue
        options = []
        for option in q["options"] + ([{"code": "other", "label": "Other"}] if q.get("other") else []):
            ticked = [r for r in responses if option["code"] in r.answers.get(q["code"], {})]
            options.append({
                "code": option["code"], "label": option["label"],
                "partnerships": {g: sum(1 for r in ticked if group_of(r) == g) for g in groups},
                "comments": [{"partnership": r.partnership, "text": r.answers[q["code"]][option["code"]]}
                             for r in ticked if r.answers[q["code"]][option["code"]]],
            })
        figures.append({"figure": q["figure"], "question": q["code"], "section": q["section"], "text": q["text"],
                        "options": options})
    return {
        "survey": survey,
        "answered": answered,
        "response_rate": {g: round(100 * answered[g] / invited[g], 1) if invited.get(g) else None for g in groups},
        "figures": figures,
        "agreements": {r.partnership: r.answers.get("agreements-count") for r in sorted(responses, key=lambda r: r.partnership.casefold())},
        "dialogue": {r.partnership: sorted(o for o in r.answers.get("dialogue-with", {}) if o != "other")
                     for r in responses if r.answers.get("dialogue-with")},
    }
