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

import pytest

from config.registry import load_registry
from handlers.progress_report import progress_figures, questionnaire, read_csv

REGISTRY = load_registry()
ESCP_4I = [p.acronym for p in REGISTRY.partnerships if p.type == "ESCP-4i"][:19]
ESCP_S3 = [p.acronym for p in REGISTRY.partnerships if p.type == "ESCP-S3"][:8]


def resolve(name: str) -> str | None:
    found = REGISTRY.by_acronym(name)
    return found.acronym if found else None


def export(rows: list[dict], extra_columns: tuple[str, ...] = ()) -> str:
    columns = ["id", "submitdate", "name", "strand"] + sorted({k for r in rows for k in r} - {"id", "submitdate", "name", "strand"})
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
                     "barriers[smes][comment]": "SMEs see no quick return" if i == 1 else "",
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
