"""A report's data as files: one self-contained HTML page (charts as PNG data URIs), CSV, JSON, PDF.

The charts are drawn in a worker thread (handlers.charts.render); the PDF is the HTML printed by
headless Chromium, so the PDF and the page are the same document. The printer is passed in
(`bot.chromium.print_pdf` in a running desk, `Deps.print_pdf` in handlers): handlers do not reach up into bot/.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Awaitable, Callable

from config.catalogue import GROUPS
from handlers import charts
from handlers.service_report import UNCATEGORISED, csv_rows
from templates import environment

PdfPrinter = Callable[[str], Awaitable[bytes]]


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def service_charts(report: dict) -> list[tuple[str, bytes]]:
    """(alt text, PNG) of every chart of the service report, in page order."""
    services = report["services"]
    period = f"{report['period']['from']} – {report['period']['to']}"
    out = [(f"Requests by service, {period}", charts.hbars(
        f"Requests by service, {period}", [s["label"] for s in services],
        {"new": [s["new"] for s in services], "follow-up": [s["follow_up"] for s in services]}, stacked=True,
        colours=[charts.BLUE, charts.YELLOW], xlabel="requests"))]
    by_month, month_list = report["by_service_month"], list(report["by_month"])
    groups = {f"{g} · {GROUPS[g]}": _services_of(report, g) for g in GROUPS}
    if UNCATEGORISED in by_month:
        groups["not categorised yet"] = {UNCATEGORISED}
    out.append(("Requests by month and service group", charts.vbars(
        "Requests by month and service group", month_list,
        {name: [sum(by_month[s][m] for s in members) for m in month_list] for name, members in groups.items()},
        ylabel="requests")))
    partnerships = report["partnerships"]
    if partnerships:
        out.append(("Requests by partnership", charts.hbars(
            "Requests by partnership", list(partnerships),
            {"new": [p["new"] for p in partnerships.values()], "follow-up": [p["follow_up"] for p in partnerships.values()]},
            stacked=True, colours=[charts.BLUE, charts.YELLOW], xlabel="requests")))
    first, resolution = report["first_response_days"], report["resolution_days"]
    out.append((f"Working days to first response and to resolution (target {first['target_days']})", charts.hbars(
        f"Working days to first response (target {first['target_days']}) and to resolution",
        ["first response", "resolution"],
        {"median": [first["median"] or 0, resolution["median"] or 0], "90th percentile": [first["p90"] or 0, resolution["p90"] or 0]},
        xlabel="working days (Mon–Fri, Europe/Brussels)")))
    return out


def _services_of(report: dict, group: str) -> set[str]:
    return {s["id"] for s in report["services"] if s["group"] == group}


async def service_html(report: dict) -> str:
    drawn = await charts.render(service_charts, report)
    return environment().get_template("reports/services.html.j2").render(
        report=report, charts=[(alt, data_uri(png)) for alt, png in drawn], groups=GROUPS)


def to_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")  # the BOM makes spreadsheet programs read UTF-8 (ADPACK²)


async def service_file(report: dict, fmt: str, print_pdf: PdfPrinter | None = None) -> bytes:
    """The service report in `fmt` (html, pdf, csv, json)."""
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=1).encode()
    if fmt == "csv":
        return to_csv(csv_rows(report))
    html = await service_html(report)
    if fmt == "html":
        return html.encode()
    if fmt == "pdf":
        return await _printed(html, print_pdf)
    raise ValueError(f"unknown report format {fmt!r}: use html, pdf, csv or json")


def progress_charts(report: dict) -> list[tuple[str, bytes]]:
    """One chart per figure: partnerships per answer option, a bar per group (and per survey with compare)."""
    surveys = [s for s in (report["first"], report["second"]) if s]
    out = []
    for i, fig in enumerate(report["first"]["figures"]):
        series = {}
        for survey in surveys:
            for group in (g for g, n in survey["answered"].items() if n):  # groups nobody answered for: no bars
                name = f"{survey['campaign']}: {group}" if len(surveys) > 1 else group
                series[name] = [o["partnerships"].get(group, 0) for o in survey["figures"][i]["options"]]
        title = f"Figure {fig['figure']}: {fig['section']}"
        out.append((title, charts.hbars(title, [o["label"] for o in fig["options"]], series, xlabel="partnerships")))
    return out


async def progress_html(report: dict) -> str:
    drawn = await charts.render(progress_charts, report)
    return environment().get_template("reports/progress.html.j2").render(
        report=report, charts=[(alt, data_uri(png)) for alt, png in drawn])


async def progress_file(report: dict, fmt: str, print_pdf: PdfPrinter | None = None) -> bytes:
    """The progress report in `fmt` (html, pdf, json)."""
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=1).encode()
    if fmt not in ("html", "pdf"):
        raise ValueError(f"the progress report is written as html, pdf or json, not {fmt}")
    html = await progress_html(report)
    if fmt == "html":
        return html.encode()
    return await _printed(html, print_pdf)


async def _printed(html: str, print_pdf: PdfPrinter | None) -> bytes:
    if print_pdf is None:
        raise RuntimeError("this desk has no PDF printer (headless Chromium): ask for html instead")
    return await print_pdf(html)
