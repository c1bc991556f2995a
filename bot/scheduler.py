"""The timetable: APScheduler 3.x with its job store in our own database.

The scheduler only decides *when*. Jobs are module-level functions that take ids only; they
fetch the running desk with `current_desk()` and call handlers, which write outbox rows with
idempotency keys — so a job that runs twice (a restart, a misfire catch-up) sends nothing twice.
Job ids are stable and added with `replace_existing`, so restarts never add copies.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url

from bot.leader import wait_for_start_up_turn
from models.base import utcnow
from models.db import sync_url

log = logging.getLogger(__name__)

JOB_DEFAULTS = {
    "coalesce": True,  # several missed runs of a job run once
    "misfire_grace_time": 7 * 24 * 3600,  # a run missed during downtime still runs when we are back
    "max_instances": 1,
}
_desk: Any = None


def current_desk() -> Any:
    """The running desk, for job functions (they receive only ids)."""
    if _desk is None:
        raise RuntimeError("no desk is running")
    return _desk


class DeskScheduler(AsyncIOScheduler):
    """AsyncIOScheduler that can stop without cutting a running job off its database connection."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.running_jobs = 0
        self.add_listener(self._started, EVENT_JOB_SUBMITTED)
        self.add_listener(self._ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _started(self, event) -> None:
        self.running_jobs += 1

    def _ended(self, event) -> None:
        self.running_jobs -= 1

    def lead(self) -> None:
        """Run the timetable on this instance, starting with every round (interval job) that has begun.

        A leader killed in the middle of a round has already moved that job's next run on by one
        interval (up to 15 minutes for a survey): the new leader runs each round at once instead, so
        what the cut-short round would have queued goes within the takeover time. Rounds queue only
        what is due and not yet queued, so running one early sends nothing twice.
        """
        self.resume()
        now = utcnow()
        for job in self.get_jobs():
            if isinstance(job.trigger, IntervalTrigger) and job.next_run_time is not None \
                    and job.trigger.start_date <= now < job.next_run_time:
                job.modify(next_run_time=now)

    async def stop(self, timeout: float = 10.0) -> None:
        """Take no new runs, let the running ones finish (a job cancelled in the middle of a
        transaction leaves connections that the closing database can never release), then shut down."""
        self.pause()
        deadline = time.monotonic() + timeout
        while self.running_jobs > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.running_jobs > 0:
            log.warning("%d scheduled job(s) still running after %.0fs: cancelling them", self.running_jobs, timeout)
        self.shutdown(wait=False)


class DeskJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store, whose table desks starting together create in turn.

    The stock store creates its table with a check first, but on PostgreSQL two desks can both find
    it missing and both create it: the second fails on the catalogue's unique index
    (`pg_type_typname_nsp_index`) and that desk dies at start-up. Here the check and the creation
    run in one transaction, in the desks' turn (`wait_for_start_up_turn`).
    """

    def start(self, scheduler, alias) -> None:
        BaseJobStore.start(self, scheduler, alias)  # not SQLAlchemyJobStore.start: it creates out of turn
        with self.engine.begin() as conn:
            wait_for_start_up_turn(conn)
            self.jobs_t.create(conn, checkfirst=True)


def create_scheduler(desk, *, timezone: str = "Europe/Brussels") -> DeskScheduler:
    global _desk
    _desk = desk
    store = DeskJobStore(url=jobstore_url(desk.settings.db_url), tablename="apscheduler_jobs")
    return DeskScheduler(jobstores={"default": store}, job_defaults=JOB_DEFAULTS, timezone=timezone)


def jobstore_url(db_url: str) -> str:
    """The job store's database: the desk's own, except on SQLite.

    APScheduler 3 writes its store synchronously on the event loop. On SQLite (one lock per file)
    that write could wait for an open async transaction, which itself waits for the blocked loop:
    a deadlock until "database is locked". So on SQLite the store gets its own file beside the
    database; PostgreSQL keeps it in the same database.
    """
    url = make_url(sync_url(db_url))
    if url.get_backend_name() == "sqlite" and url.database:
        return str(url.set(database=str(url.database).removesuffix(".sqlite3") + "-scheduler.sqlite3"))
    return sync_url(db_url)


def schedule(scheduler: AsyncIOScheduler, job_id: str, func: Callable, trigger: str, **kwargs) -> None:
    """Add or replace the job `job_id` (stable ids: restarts never add copies)."""
    scheduler.add_job(func, trigger, id=job_id, replace_existing=True, **kwargs)
