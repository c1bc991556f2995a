"""Shared set-up for the benchmarks: a private Dovecot with a fresh mailbox, and an in-process desk."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.servers import DovecotServer  # noqa: E402


def dovecot_mailbox() -> tuple[DovecotServer, str, str]:
    server = DovecotServer().start()
    user, password = server.new_user()
    return server, user, password


def append_all(server: DovecotServer, user: str, password: str, mails: list[bytes]) -> None:
    client = server.connect(user, password)
    try:
        for raw in mails:
            client.append("INBOX", raw)
    finally:
        client.logout()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
