"""Open a report page in headless Chromium (Debian's package) and check what a reader would see.

`--dump-dom` after a probe script gives every image's decoded size and place on the page; a
full-page screenshot then shows whether each chart's area actually holds a drawn chart.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from bot.chromium import run
from handlers import charts

PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.images].map(i => { const r = i.getBoundingClientRect();
    return {alt: i.alt, natural_width: i.naturalWidth, natural_height: i.naturalHeight, complete: i.complete,
            x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; });
  const out = document.createElement("pre"); out.id = "probe";
  out.textContent = JSON.stringify({imgs, height: document.documentElement.scrollHeight});
  document.body.appendChild(out);
});
</script>"""
WIDTH = 1280
CHART_COLOURS = [charts.BLUE, charts.YELLOW, charts.GREEN, charts.GREY, *charts.SERIES]


async def page_images(page: str, workdir: Path) -> dict:
    """{"imgs": [{alt, natural_width, …, x, y, width, height}], "height": page height} as Chromium laid them out."""
    probe = workdir / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = (await run(["--dump-dom", "--virtual-time-budget=5000", f"--window-size={WIDTH},1000", probe.as_uri()],
                     workdir)).decode()
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe script did not run: " + dom[-300:]
    return json.loads(html.unescape(found[1]))


async def screenshot(page_file: Path, height: int, workdir: Path) -> Image.Image:
    shot = workdir / "screenshot.png"
    await run(["--force-device-scale-factor=1", f"--window-size={WIDTH},{height}", f"--screenshot={shot}",
               "--virtual-time-budget=5000", page_file.as_uri()], workdir)
    return Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")


def chart_pixels(image: Image.Image, box: dict) -> int:
    """Pixels in `box` that have one of the chart colours (bars, not just axes and text)."""
    area = np.asarray(image.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"]))))
    colours = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in CHART_COLOURS if c != charts.GREY])
    close = (np.abs(area[:, :, None, :].astype(np.int16) - colours[None, None].astype(np.int16)) <= 12).all(axis=-1).any(axis=-1)
    return int(close.sum())


async def check_every_chart(page_file: Path, workdir: Path, expected: int) -> list[dict]:
    """Assert that the page shows `expected` charts, each decoded and with drawn bars on screen; their boxes."""
    layout = await page_images(page_file.read_text(encoding="utf-8"), workdir)
    imgs = layout["imgs"]
    assert len(imgs) == expected, [i["alt"] for i in imgs]
    broken = [i["alt"] for i in imgs if not i["complete"] or i["natural_width"] == 0 or i["width"] < 300]
    assert not broken, f"broken or invisible images: {broken}"
    image = await screenshot(page_file, int(layout["height"]) + 20, workdir)
    empty = [(i["alt"], chart_pixels(image, i)) for i in imgs if chart_pixels(image, i) < 400]
    assert not empty, f"charts with no bars on the screenshot: {empty}"
    return imgs
