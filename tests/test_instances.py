"""Several `eocic-desk run` on one PostgreSQL: one leader watches the mailbox and runs the timetable,
the others take over when it dies, and no mail is lost, recorded twice or sent twice (intake and a
survey reminder round). On SQLite, a second desk refuses to start."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import create_engine, inspect as inspect_database

from bot.scheduler import DeskJobStore, DeskScheduler
from models.base import utcnow
from models.db import Database, sync_url
from models.partnerships import Contact, Partnership
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


def start_three_instances(base: dict[str, str], tmp_path) -> tuple[list[int], dict]:
    """Three `eocic-desk run` on `base`'s database, each with its own port and data folder, started
    together as docker compose does (migrations and seeding take turns); returns once one leads."""
    ports = [free_port() for _ in range(3)]
    procs = {}
    for i, port in enumerate(ports):
        data = tmp_path / f"data{i}"
        data.mkdir()
        procs[port] = start_desk_process({**base, "EOCIC_DATA_DIR": str(data), "EOCIC_HTTP_PORT": str(port)})
    try:
        answered = wait_for(lambda: all(roles(ports).values()) or any(p.poll() is not None for p in procs.values()), 90)
        dead = {port: p.communicate()[0].decode()[-3000:] for port, p in procs.items() if p.poll() is not None}
        assert answered and not dead, f"not every instance answered: {roles(ports)} {dead}"
        assert wait_for(lambda: list(roles(ports).values()).count("leader") == 1, 10), roles(ports)
        assert sorted(roles(ports).values()) == ["follower", "follower", "leader"]
    except BaseException:
        stop_instances(procs)
        raise
    return ports, procs


def stop_instances(procs: dict) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        proc.communicate(timeout=60)


def kill_the_leader(ports: list[int], procs: dict) -> tuple[float, list[int]]:
    """SIGKILL the instance that says it leads; (when, the other ports)."""
    leader = next(port for port, role in roles(ports).items() if role == "leader")
    procs[leader].send_signal(signal.SIGKILL)
    killed_at = time.time()
    procs.pop(leader).wait()
    return killed_at, [port for port in ports if port != leader]


def takeover_seconds(survivors: list[int], killed_at: float) -> float:
    """Wait for one survivor to lead; how long after the kill it took the lead."""
    assert wait_for(lambda: "leader" in roles(survivors).values(), 30, 0.05), roles(survivors)
    new_leader = next(health(port) for port in survivors if health(port)["role"] == "leader")
    failover = new_leader["role_since"] - killed_at
    assert list(roles(survivors).values()).count("leader") == 1
    assert 0 < failover <= 2 + 1, f"takeover took {failover:.1f}s with EOCIC_LEADER_TAKEOVER_SECONDS=2"
    return failover


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
    ports, procs = start_three_instances(base, tmp_path)
    try:

        total = 300
        for i in range(total // 2):
            dovecot.deliver(user, make_request(i))
        assert wait_for(lambda: _recorded(postgres_db_url)[0] >= 10, 60), "the leader did not start reading"
        killed_at, survivors = kill_the_leader(ports, procs)
        for i in range(total // 2, total):
            dovecot.deliver(user, make_request(i))
        failover = takeover_seconds(survivors, killed_at)
        print(f"failover: a follower led {failover:.2f}s after the leader was killed (EOCIC_LEADER_TAKEOVER_SECONDS=2)")

        assert wait_for(lambda: _settled(postgres_db_url, total, smtp_sink), 180), _recorded(postgres_db_url)
    finally:
        stop_instances(procs)
    messages, distinct, tickets, acks = _recorded(postgres_db_url)
    assert (messages, distinct, tickets) == (total, total, total), "every mail became exactly one record and ticket"
    assert len(acks) == total and {state for state, _ in acks.values()} == {"sent"}
    delivered = Counter(m["Message-ID"] for m in caught(smtp_sink))
    assert set(delivered) == set(acks), "every acknowledgement was delivered, and nothing else"
    # At least once across a SIGKILL: a row the killed instance had sent but not yet marked goes again,
    # with its Message-ID, once its lease ends; never a third time, never a copy from two live instances.
    doubled = {mid: n for mid, n in delivered.items() if n > 1}
    assert all(n == 2 and acks[mid][1] >= 2 for mid, n in doubled.items()), doubled
    print(f"acknowledgements delivered twice across the kill (in flight, at least once): {len(doubled)} of {total}")


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


async def _round() -> None:
    pass


async def test_a_new_leader_runs_every_begun_round_at_once():
    """The killed leader moved its round's next run on by one interval; the new one does not wait for it."""
    scheduler = DeskScheduler(timezone="Europe/Brussels")
    now = utcnow()
    scheduler.add_job(_round, "interval", id="begun", minutes=15, start_date=now - timedelta(hours=1))
    scheduler.add_job(_round, "interval", id="not yet open", minutes=15, start_date=now + timedelta(hours=1))
    scheduler.add_job(_round, "cron", id="daily", hour=(now.hour + 12) % 24)
    scheduler.start(paused=True)
    try:
        later = {job.id: job.next_run_time for job in scheduler.get_jobs()}
        assert later["begun"] > now
        scheduler.lead()
        assert scheduler.state == STATE_RUNNING
        assert scheduler.get_job("begun").next_run_time <= utcnow()
        assert scheduler.get_job("not yet open").next_run_time == later["not yet open"]
        assert scheduler.get_job("daily").next_run_time == later["daily"]
    finally:
        scheduler.shutdown(wait=False)


PARTICIPANTS = 300


def test_a_leader_killed_during_a_reminder_round_sends_every_reminder_once(postgres_db_url, smtp_sink, tmp_path):
    base = {
        "EOCIC_DATABASE_URL": postgres_db_url,
        "EOCIC_SECRET_KEY": "test-secret",
        **smtp_env(smtp_sink.host, smtp_sink.port, EOCIC_OUTBOX_POLL_SECONDS="0.2"),
        # nothing is in flight when the leader is killed; a short lease on a loaded machine would
        # hand a slow send to a second instance, which is the outbox's window, not the round's
        "EOCIC_OUTBOX_LEASE_SECONDS": "120",
        "EOCIC_LEADER_TAKEOVER_SECONDS": "2",
        "EOCIC_SURVEY_SYNC_SECONDS": "0.5",
    }  # no IMAP: each instance watches its own stand-in while it leads
    ports, procs = start_three_instances(base, tmp_path)
    try:
        asyncio.run(_add_partnerships(postgres_db_url, PARTICIPANTS))
        opens = datetime.now(timezone.utc).replace(microsecond=0)
        created = run_cli({**base, "EOCIC_DATA_DIR": str(tmp_path / "data0")}, "survey", "create",
                          "--name", "failover", "--audience", "ESCP-4i:load", "--url", "https://survey.example/?t={token}",
                          "--opens", opens.isoformat(), "--closes", (opens + timedelta(hours=1)).isoformat(),
                          "--first-reminder", "20s", "--every", "1h", "--max-reminders", "1", "--json")
        assert created.returncode == 0, created.stderr
        assert json.loads(created.stdout)["total"] == PARTICIPANTS
        assert wait_for(lambda: _survey_mail(postgres_db_url, "survey-invitation") == {"sent": PARTICIPANTS}, 90), \
            _survey_mail(postgres_db_url, "survey-invitation")
        # The reminder round is one transaction: it holds the participants' rows until it commits.
        assert wait_for(lambda: _round_holds_participants(postgres_db_url), 60, 0.005), "no reminder round began"
        killed_at, survivors = kill_the_leader(ports, procs)
        assert _survey_mail(postgres_db_url, "survey-reminder") == {}, "the kill came after the round had committed"
        failover = takeover_seconds(survivors, killed_at)
        assert wait_for(lambda: _survey_mail(postgres_db_url, "survey-reminder"), 60, 0.05)
        queued = time.time() - killed_at
        assert wait_for(lambda: _survey_mail(postgres_db_url, "survey-reminder") == {"sent": PARTICIPANTS}, 60, 0.05), \
            _survey_mail(postgres_db_url, "survey-reminder")
        delivered = time.time() - killed_at
        print(f"failover during a reminder round: a follower led {failover:.2f}s after the kill, queued the "
              f"{PARTICIPANTS} reminders again {queued:.2f}s after it, and all were delivered {delivered:.2f}s after it")
        time.sleep(6)  # a few more rounds: nothing else is due (one reminder at most)
    finally:
        stop_instances(procs)
    rows = _survey_rows(postgres_db_url)
    reminders = {mid: key for mid, (key, _) in rows.items() if ":reminder:" in key}
    assert len(reminders) == len(set(reminders.values())) == PARTICIPANTS
    assert all(attempts == 1 for _, attempts in rows.values()), "no mail was sent twice or retried"
    at_sink = Counter((m["To"].addresses[0].addr_spec, rows[m["Message-ID"]][0]) for m in caught(smtp_sink))
    assert len(at_sink) == 2 * PARTICIPANTS and set(at_sink.values()) == {1}, "each invitation and reminder once"
    campaign, = {key.split(":")[1] for _, key in at_sink}
    assert {key.split(":", 3)[3] for _, key in at_sink} == {"invitation", "reminder:1"}
    with psycopg.connect(postgres_db_url) as conn:
        sent = conn.execute("select reminders_sent, count(*) from participant where campaign_id = %s group by 1",
                            (int(campaign),)).fetchall()
    assert sent == [(1, PARTICIPANTS)]


async def _add_partnerships(url: str, n: int) -> None:
    """`n` partnerships of the strand `load`, each with a respondent."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            for i in range(n):
                partnership = Partnership(acronym=f"LOAD{i:03d}", name=f"Load test {i}", type="ESCP-4i", strand="load")
                session.add(partnership)
                await session.flush()
                session.add(Contact(email=f"respondent{i:03d}@load{i:03d}.example", name=f"Respondent {i}",
                                    partnership_id=partnership.id, role="respondent", language="en"))
    finally:
        await db.dispose()


def _survey_mail(url: str, kind: str) -> dict[str, int]:
    """How many outbox rows of this kind are in each state."""
    with psycopg.connect(url) as conn:
        return dict(conn.execute("select state, count(*) from outboxmail where kind = %s group by 1", (kind,)).fetchall())


def _survey_rows(url: str) -> dict[str, tuple[str, int]]:
    """Message-ID -> (idempotency key, attempts) of every survey mail."""
    with psycopg.connect(url) as conn:
        return {mid: (key, attempts) for mid, key, attempts in
                conn.execute("select message_id, key, attempts from outboxmail where kind like 'survey-%'").fetchall()}


def _round_holds_participants(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select count(*) from pg_locks l join pg_class c on c.oid = l.relation "
            "where c.relname = 'participant' and l.mode = 'RowExclusiveLock' and l.pid <> pg_backend_pid()"
        ).fetchone()[0] > 0


def test_desks_starting_together_create_the_job_table_once(postgres_db_url):
    """Six desks open the job store at the same instant, three times over (each round a table of its
    own): every one starts. With APScheduler's stock store most of them die on PostgreSQL's catalogue."""
    failures: list[str] = []
    for round_ in range(3):
        barrier = threading.Barrier(6)

        def open_store(table: str = f"jobs_{round_}") -> None:
            store = DeskJobStore(url=sync_url(postgres_db_url), tablename=table)
            try:
                barrier.wait()
                store.start(DeskScheduler(), "default")
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}"[:300])
            finally:
                store.engine.dispose()

        threads = [threading.Thread(target=open_store) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    engine = create_engine(sync_url(postgres_db_url))
    try:
        assert {"jobs_0", "jobs_1", "jobs_2"} <= set(inspect_database(engine).get_table_names())
    finally:
        engine.dispose()
