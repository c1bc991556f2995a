"""Issue 11 §1: charts drawn by matplotlib in the EOCIC style, with the catalogue's and registry's own names."""

from __future__ import annotations

import asyncio
import io
import threading
import warnings

import numpy as np
import pytest
from PIL import Image

from handlers import charts

NAMES = ["ADPACK²", "S3martMed", "Coopération transfrontalière", "Cosmetics4Wellbeing (C4W)", "Łódź ICT"]


def pixels(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def count_colour(image: Image.Image, colour: str) -> int:
    want = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return int((np.asarray(image) == want).all(axis=-1).sum())


def test_mixed_case_accented_and_superscript_labels_have_every_glyph():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)" for a label it cannot write
        png = charts.hbars("Requêtes par partenariat", NAMES, {"new": [3, 2, 1, 1, 0], "follow-up": [1, 0, 2, 0, 1]})
    assert pixels(png).size[0] > 600


def test_the_glyph_check_can_fail():
    with pytest.warns(UserWarning, match="missing from font"):
        charts.hbars("集群", ["集群伙伴关系"], {"n": [1]})


def test_stacked_bars_are_proportional_to_the_counts():
    image = pixels(charts.stacked_bars("ESCP-4i 2019", [("ESCP-4i strand-1", 12, 4)]))
    answered, pending = count_colour(image, charts.GREEN), count_colour(image, charts.GREY)
    assert answered > 1000 and 2.6 < answered / pending < 3.4  # 12 answered : 4 pending (grey also draws the axis)


def test_grouped_and_monthly_bars_draw_every_series():
    image = pixels(charts.hbars("Q", ["a", "b"], {"strand-1": [9, 10], "strand-2": [3, 5]}))
    assert count_colour(image, charts.SERIES[0]) > 3 * count_colour(image, charts.SERIES[1]) / 2 > 0
    image = pixels(charts.vbars("By month", ["2026-01", "2026-02"], {"A": [1, 2], "B": [0, 1], "C": [2, 0]}))
    assert all(count_colour(image, colour) > 200 for colour in charts.SERIES[:3])


async def test_render_draws_off_the_event_loop():
    loop_thread = threading.get_ident()
    seen = []

    def draw(title):
        seen.append(threading.get_ident())
        return charts.stacked_bars(title, [("ESCP-S3", 1, 8)])

    pngs = await asyncio.gather(*(charts.render(draw, f"S3 {i}") for i in range(3)))
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    assert loop_thread not in seen and len(seen) == 3
