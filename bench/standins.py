"""The strict Slack Web API stand-in and an aiosmtpd sink in a process of their own, for the benchmarks.

In production Slack and the SMTP server are other machines: here they still share the cores, but not
the desk's event loop or interpreter lock. The parent reads one JSON line with their addresses, and
closes our stdin to stop us; we then print one JSON line with what they received.

    python bench/standins.py
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOKEN = "xoxb-bench"
SIGNING_SECRET = "bench-signing-secret"
CHANNEL = "C0BENCHTRIAGE"


async def _serve() -> None:
    from tests.servers import SmtpSink
    from tests.slack_api import FakeSlackApi

    api = await FakeSlackApi(token=TOKEN, channels={CHANNEL: "eocic-triage"}).start()
    sink = SmtpSink().start()
    print(json.dumps({"slack_api_url": api.url, "smtp_host": sink.host, "smtp_port": sink.port}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes it
    refused = [c.error for c in api.refused()]
    print(json.dumps({"slack_calls": len(api.calls), "slack_refused": len(refused), "refusals": sorted(set(refused)),
                      "smtp_messages": len(sink.messages)}), flush=True)
    sink.stop()
    await api.stop()


class Standins:
    """`with Standins() as s:` the stand-ins' child process; `s.env` points a desk at them, `s.report` after."""

    def __enter__(self) -> "Standins":
        self.proc = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        where = json.loads(self.proc.stdout.readline())
        self.env = {
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "EOCIC_SLACK_API_URL": where["slack_api_url"],
            "EOCIC_SLACK_TRIAGE_CHANNEL": CHANNEL, "EOCIC_SMTP_HOST": where["smtp_host"],
            "EOCIC_SMTP_PORT": str(where["smtp_port"]), "EOCIC_SMTP_SECURITY": "none",
        }
        self.report: dict = {}
        return self

    def __exit__(self, *exc) -> None:
        self.proc.stdin.close()
        line = self.proc.stdout.readline()
        self.report = json.loads(line) if line else {}
        self.proc.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(_serve())
