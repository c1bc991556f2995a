"""Several `eocic-desk run` on one PostgreSQL: one leader watches the mailbox, the others take over
when it dies, and no mail is lost or recorded twice. On SQLite, a second desk refuses to start."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from collections import Counter

import psycopg
import pytest

from tests.desk import run_cli, start_desk_process
from tests.servers import free_port, imap_env, smtp_env
from tests.test_intake import DESK, caught, make_request

pytestmark = pytest.mark.slow


def health(port: int) -> dict | None:
    """What /healthz says (also when it answers 503), or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())
    except OSError:
        return None


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def roles(ports: list[int]) -> dict[int, str | None]:
    return {port: (health(port) or {}).get("role") for port in ports}


def test_a_second_desk_on_one_sqlite_file_refuses_to_start(desk_env):
    env = {**desk_env, "EOCIC_HTTP_PORT": str(free_port())}
    first = start_desk_process(env)
    try:
        assert wait_for(lambda: health(int(env["EOCIC_HTTP_PORT"])), 60), "the first desk did not start"
        assert health(int(env["EOCIC_HTTP_PORT"]))["role"] == "single"
        second = run_cli({**env, "EOCIC_HTTP_PORT": str(free_port())}, "run", timeout=60)
        assert second.returncode != 0
        lines = [line for line in (second.stdout + second.stderr).splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("eocic-desk: EOCIC_DATABASE_URL:"), lines
        assert "already uses the SQLite database" in lines[0] and "PostgreSQL" in lines[0]
        assert "Traceback" not in second.stderr
        assert health(int(env["EOCIC_HTTP_PORT"]))["role"] == "single", "the first desk kept running"
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)


def test_three_instances_elect_one_leader_and_a_killed_leader_loses_no_mail(postgres_db_url, dovecot, smtp_sink, tmp_path):
    user, password = dovecot.new_user()
    base = {
        "EOCIC_DATABASE_URL": postgres_db_url,
        "EOCIC_SECRET_KEY": "test-secret",
        **imap_env(dovecot.host, dovecot.port, user, password, EOCIC_IMAP_BATCH_SIZE="10"),
        **smtp_env(smtp_sink.host, smtp_sink.port, EOCIC_OUTBOX_POLL_SECONDS="0.2"),
        "EOCIC_DESK_ADDRESS": DESK,
        "EOCIC_ACKS_PER_SENDER_PER_HOUR": "1000",
        "EOCIC_OUTBOX_LEASE_SECONDS": "5",
        "EOCIC_LEADER_TAKEOVER_SECONDS": "2",
    }
    ports = [free_port() for _ in range(3)]
    procs = {}
    for i, port in enumerate(ports):  # started together, as docker compose does: migrations take turns
        data = tmp_path / f"data{i}"
        data.mkdir()
        procs[port] = start_desk_process({**base, "EOCIC_DATA_DIR": str(data), "EOCIC_HTTP_PORT": str(port)})
    try:
        answered = wait_for(lambda: all(roles(ports).values()) or any(p.poll() is not None for p in procs.values()), 90)
        dead = {port: p.communicate()[0].decode()[-3000:] for port, p in procs.items() if p.poll() is not None}
        assert answered and not dead, f"not every instance answered: {roles(ports)} {dead}"
        assert wait_for(lambda: list(roles(ports).values()).count("leader") == 1, 10), roles(ports)
        assert sorted(roles(ports).values()) == ["follower", "follower", "leader"]

        total = 120
        for i in range(total // 2):
            dovecot.deliver(user, make_request(i))
        assert wait_for(lambda: _recorded(postgres_db_url)[0] >= 10, 60), "the leader did not start reading"
        leader = next(port for port, role in roles(ports).items() if role == "leader")
        procs[leader].send_signal(signal.SIGKILL)
        killed_at = time.time()
        procs.pop(leader).wait()
        for i in range(total // 2, total):
            dovecot.deliver(user, make_request(i))
        survivors = [port for port in ports if port != leader]
        assert wait_for(lambda: "leader" in roles(survivors).values(), 30, 0.05), roles(survivors)
        new_leader = next(health(port) for port in survivors if health(port)["role"] == "leader")
        failover = new_leader["role_since"] - killed_at
        assert list(roles(survivors).values()).count("leader") == 1
        assert 0 < failover <= 2 + 1, f"takeover took {failover:.1f}s with EOCIC_LEADER_TAKEOVER_SECONDS=2"
        print(f"failover: a follower led {failover:.2f}s after the leader was killed (EOCIC_LEADER_TAKEOVER_SECONDS=2)")

        assert wait_for(lambda: _settled(postgres_db_url, total, smtp_sink), 180), _recorded(postgres_db_url)
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            proc.communicate(timeout=60)
    messages, distinct, tickets, acks = _recorded(postgres_db_url)
    assert (messages, distinct, tickets) == (total, total, total), "every mail became exactly one record and ticket"
    assert len(acks) == total and {state for state, _ in acks.values()} == {"sent"}
    delivered = Counter(m["Message-ID"] for m in caught(smtp_sink))
    assert set(delivered) == set(acks), "every acknowledgement was delivered, and nothing else"
    # At least once across a SIGKILL: a row the killed instance had sent but not yet marked goes again,
    # with its Message-ID, once its lease ends; never a third time, never a copy from two live instances.
    doubled = {mid: n for mid, n in delivered.items() if n > 1}
    assert all(n == 2 and acks[mid][1] >= 2 for mid, n in doubled.items()), doubled


def _recorded(url: str):
    with psycopg.connect(url) as conn:
        messages, distinct = conn.execute("select count(*), count(distinct dedup_key) from message").fetchone()
        tickets = conn.execute("select count(*) from ticket").fetchone()[0]
        acks = {mid: (state, attempts) for mid, state, attempts in
                conn.execute("select message_id, state, attempts from outboxmail where kind = 'ack'").fetchall()}
    return messages, distinct, tickets, acks


def _settled(url: str, total: int, sink) -> bool:
    messages, _, _, acks = _recorded(url)
    return messages >= total and len(acks) >= total and all(state == "sent" for state, _ in acks.values()) \
        and len(sink.messages) >= total
