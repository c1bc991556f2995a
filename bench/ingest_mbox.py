"""`eocic-desk ingest` of a large mbox in bounded memory: the command's peak RSS for mboxes of
different sizes (the figure: the largest over the smallest, which should stay near 1), and its rate.

    python bench/ingest_mbox.py [N ...]   # default 5000 20000; prints one JSON line

Each size is ingested by the real command line (`python -m bot.cli ingest FILE --json`) into a fresh
SQLite data dir; the peak RSS is the command's own process (its parsing workers have a memory limit
of their own), read from wait4(). The mails are the intake bench's realistic 4 KB requests, each
from its own sender.
"""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

from bench.mailgen import make_request


def write_mbox(path: Path, n: int) -> None:
    box = mailbox.mbox(str(path))
    try:
        box.lock()
        for i in range(n):
            box.add(make_request(i))
        box.flush()
    finally:
        box.unlock()
        box.close()


def ingest(path: Path) -> tuple[float, float, dict]:
    """(seconds, peak RSS of the command in MB, the counts it printed)."""
    data = tempfile.mkdtemp(prefix="eocic-bench-mbox-")
    env = {**os.environ, "EOCIC_DATA_DIR": data, "EOCIC_SECRET_KEY": "bench-secret", "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "ingest", "--json", str(path)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingest of {path} failed")
    return elapsed, usage.ru_maxrss / 1024, json.loads(out.decode().strip().splitlines()[-1])


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [5000, 20000]
    runs = {}
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"{n}.mbox"
            write_mbox(path, n)
            seconds, rss, counts = ingest(path)
            runs[n] = {"mbox_mb": round(path.stat().st_size / 1e6, 1), "peak_rss_mb": round(rss, 1),
                       "mails_per_s": round(n / seconds, 1), "counts": counts}
            path.unlink()
    smallest, largest = runs[min(sizes)], runs[max(sizes)]
    print(json.dumps({"bench": "ingest_mbox", "runs": runs, "baseline_peak_rss_mb": smallest["peak_rss_mb"],
                      "peak_rss_mb": largest["peak_rss_mb"], "ratio": round(largest["peak_rss_mb"] / smallest["peak_rss_mb"], 3)}))


if __name__ == "__main__":
    main()
