"""Start-up time of `eocic-desk --help` and of the read-only commands (`eocic-desk tickets`, `eocic-desk ticket REF`)
on a prepared SQLite database.

Each figure is the median of RUNS real subprocesses (`python -m bot.cli …`, as the entry point runs
it). The baseline, measured in the same run the same way, is `python -c "import sqlalchemy"`: the
one library every command needs, so the ratio shows what the desk adds on top of it. The
subprocesses may write bytecode (PYTHONDONTWRITEBYTECODE is dropped): an installed desk has it, and
so does a checkout after its first run.

    python bench/cli_start.py [RUNS] [TICKETS]   # one JSON line per command (defaults 5, 100)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median

BASELINE = ["-c", "import sqlalchemy"]
COMMANDS = {"--help": ["-m", "bot.cli", "--help"], "tickets": ["-m", "bot.cli", "tickets"],
            "ticket EOCIC-00001": ["-m", "bot.cli", "ticket", "EOCIC-00001"]}


def seconds(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def prepare(env: dict[str, str], tickets: int) -> None:
    """Migrate a new SQLite database and feed it TICKETS requests through `eocic-desk ingest`."""
    mail_dir = Path(env["EOCIC_DATA_DIR"]) / "mail"
    mail_dir.mkdir()
    for i in range(tickets):
        (mail_dir / f"{i}.eml").write_text(
            f"From: Person {i} <p{i}@org{i % 17}.example>\nTo: desk@eocic.example\nSubject: Request number {i}\n"
            f"Message-ID: <{i}@bench.example>\nDate: Tue, 01 Dec 2026 09:00:00 +0000\n\n"
            "Hello, we would like advice on EU funding for our cluster.\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(mail_dir)], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tickets = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EOCIC_DATA_DIR": tmp, "PYTHONPATH": str(ROOT)}
        env.pop("EOCIC_DATABASE_URL", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        prepare(env, tickets)
        for name, args in COMMANDS.items():
            baseline, command = [], []
            for _ in range(runs):  # interleaved, so that a busy moment slows both alike
                baseline.append(seconds(BASELINE, env))
                command.append(seconds(args, env))
            base_s, cmd_s = median(baseline), median(command)
            print(json.dumps({"bench": "cli_start", "command": f"eocic-desk {name}", "runs": runs, "tickets": tickets,
                              "seconds": round(cmd_s, 3), "baseline": "python -c 'import sqlalchemy'",
                              "baseline_seconds": round(base_s, 3), "ratio": round(cmd_s / base_s, 2),
                              "goal_seconds": 0.4}), flush=True)


if __name__ == "__main__":
    main()
