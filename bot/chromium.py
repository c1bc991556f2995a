"""Headless Chromium (Debian's `chromium` package) as a subprocess: HTML → PDF.

Run with a fresh profile each time and with everything that phones home switched off, so it
works on a machine without network access and never leaves a browser behind (a timeout kills it).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]
TIMEOUT = 90.0


class ChromiumError(RuntimeError):
    """Chromium is missing or failed; the message says which and what it printed."""


def binary() -> str:
    found = shutil.which("chromium")
    if not found:
        raise ChromiumError("chromium is not installed: install Debian's `chromium` package")
    return found


async def run(args: list[str], workdir: Path, timeout: float = TIMEOUT) -> bytes:
    """Run Chromium with FLAGS, a fresh --user-data-dir in `workdir`, and `args`; its stdout."""
    profile = workdir / "profile"
    profile.mkdir(exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        binary(), *FLAGS, f"--user-data-dir={profile}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise ChromiumError(f"chromium exited with {process.returncode}: {err.decode(errors='replace')[-500:]}")
    return out


async def print_pdf(html: str) -> bytes:
    """The page as a PDF (A4 from the page's print CSS, no header or footer)."""
    with tempfile.TemporaryDirectory(prefix="eocic-pdf-") as folder:
        workdir = Path(folder)
        page, pdf = workdir / "report.html", workdir / "report.pdf"
        page.write_text(html, encoding="utf-8")
        await run([f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri()], workdir)
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise ChromiumError("chromium wrote no PDF")
        return pdf.read_bytes()
