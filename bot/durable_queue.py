"""One durable queue for the outbox and the Slack delivery: claim with a lease, back off, mark in batches.

A row is due when its state is one of `due` and its `next_attempt_at` has come. `claim()` takes
due rows in one UPDATE … RETURNING that moves `next_attempt_at` one lease ahead, counts the
attempt and (for the outbox) sets the `claimed` state: two desks on one PostgreSQL never both get
a row (FOR UPDATE SKIP LOCKED, and a row is ours only if our UPDATE took it), and rows claimed by a
process that dies are claimed again when their lease runs out. The work is therefore at least once.

Finished rows are marked by `Marks`, in the background: `mark_batch` rows per commit, and none
waits longer than `mark_interval_seconds`; a row the caller wants marked at once is committed
before its worker goes on. What a crash can repeat is what was finished but not yet marked: at most 2 × `mark_batch` + 3 × the number of workers (a commit under way and the rows
waiting for the next, each at most `mark_batch` - 1 + one per worker, since a worker that finds a
full batch waiting stops until the commit is done; and one row per worker whose server said yes
while we had not read it yet).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from config.settings import Settings
from models.base import utcnow
from models.db import Database

log = logging.getLogger(__name__)


@dataclass
class Limits:
    lease_seconds: float
    backoff_base_seconds: float
    backoff_max_seconds: float
    max_attempts: int
    batch: int  # rows claimed at a time (the outbox: per SMTP connection)
    mark_batch: int
    mark_interval_seconds: float

    @classmethod
    def outbox(cls, settings: Settings, lease_seconds: float | None = None) -> Limits:
        return cls(lease_seconds or settings.outbox_lease_seconds, settings.outbox_retry_base_seconds,
                   settings.outbox_retry_max_seconds, settings.outbox_max_attempts, settings.outbox_claim_per_connection,
                   settings.outbox_mark_batch, settings.outbox_mark_interval_seconds)

    @classmethod
    def slack(cls, settings: Settings) -> Limits:
        return cls(settings.slack_lease_seconds, settings.slack_retry_base_seconds, settings.slack_retry_max_seconds,
                   settings.slack_max_attempts, settings.slack_claim_batch, settings.slack_mark_batch,
                   settings.slack_mark_interval_seconds)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed try: the base, doubling per try, at most the maximum."""
        return timedelta(seconds=min(self.backoff_base_seconds * 2 ** max(attempts - 1, 0), self.backoff_max_seconds))


class DurableQueue:
    """The rows of one table (`model`: id, state, next_attempt_at, attempts, sent_at, last_error)."""

    def __init__(self, db: Database, model, limits: Limits, *, due: tuple, claimed=None, done, columns=()) -> None:
        """`columns`: what `claim()` returns of each row (plain rows, cheaper than ORM objects); all of it if empty."""
        self.db, self.model, self.limits = db, model, limits
        self.due_states, self.claimed_state, self.done_state = due, claimed, done
        self.columns = columns

    def _due(self, now):
        return self.model.state.in_(self.due_states) & (self.model.next_attempt_at <= now)

    async def claim(self, limit: int) -> list:
        """Up to `limit` due rows, oldest first, leased to this process.

        Two statements: the due ids, locked (SKIP LOCKED: rows another desk is claiming are left
        to it), then the UPDATE of those ids that returns the columns the caller reads. Not one
        UPDATE … WHERE id IN (that SELECT): PostgreSQL plans that as a hash join over every due
        row, a cost that grows with the backlog; the list of ids goes by the primary key.
        """
        model, now = self.model, utcnow()
        async with self.db.transaction() as session:
            ids = list(await session.exec(
                select(model.id).where(self._due(now)).order_by(model.id).limit(limit).with_for_update(skip_locked=True)
            ))
            if not ids:
                return []
            values: dict[str, Any] = {"next_attempt_at": now + self.limits.lease, "attempts": model.attempts + 1}
            if self.claimed_state is not None:
                values["state"] = self.claimed_state
            claim = update(model).where(model.id.in_(ids), self._due(now)).values(**values)
            claim = claim.returning(*self.columns) if self.columns else claim.returning(model)
            result = await session.execute(claim.execution_options(synchronize_session=False))
            rows = list(result if self.columns else result.scalars())
        return sorted(rows, key=lambda row: row.id)  # RETURNING keeps no order

    async def set(self, row_id: int, **values) -> None:
        """Change one row at once (a failure, a retry, a hold): rare, and each decided on its own."""
        async with self.db.transaction() as session:
            await session.exec(update(self.model).where(self.model.id == row_id).values(**values))

    async def later(self, row_id: int, delay: timedelta, error: str, **values) -> None:
        """Back to the queue, due after `delay`."""
        await self.set(row_id, next_attempt_at=utcnow() + delay, last_error=error[:2000], **values)

    def marks(self) -> Marks:
        return Marks(self)


class Marks:
    """Rows finished by the workers of one pass, marked done in the background, a batch per commit.

    A commit starts once `mark_batch` rows wait (or `mark_interval_seconds` after the first one);
    while it runs the workers go on, and a worker that finds `mark_batch` rows waiting again waits
    for it, so that what is finished but not marked stays bounded (the module docstring).
    `flush()` writes what is left when the pass ends; rows of a commit that fails stay claimed and
    go again when their lease ends.
    """

    def __init__(self, queue: DurableQueue) -> None:
        self.queue = queue
        self.limits = queue.limits
        self._rows: list[int] = []
        self._writing: asyncio.Task | None = None
        self._timer: asyncio.TimerHandle | None = None

    async def add(self, row_id: int, *, at_once: bool = False) -> None:
        """Mark `row_id` done; `at_once`: return only when that is committed, so that its worker has at
        most this one row in doubt at a crash (the old contract of a mail to one person)."""
        self._rows.append(row_id)
        if at_once:
            await self.flush()
        elif len(self._rows) < self.limits.mark_batch:
            if self._timer is None and self._writing is None:
                self._timer = asyncio.get_running_loop().call_later(self.limits.mark_interval_seconds, self._start)
        elif self._writing is None:
            self._start()
        else:  # back-pressure: wait for the commit under way, which starts the next one
            await asyncio.wait([self._writing])

    def _start(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        if self._rows and self._writing is None:
            rows, self._rows = self._rows, []
            self._writing = asyncio.create_task(self._write(rows))

    async def _write(self, rows: list[int]) -> None:
        model = self.queue.model
        try:
            async with self.queue.db.engine.begin() as conn:  # a Core statement: no ORM session to set up per commit
                await conn.execute(update(model.__table__).where(model.__table__.c.id.in_(rows)).values(
                    state=self.queue.done_state, sent_at=utcnow(), last_error=None))
        except Exception:  # the database failed: these rows go again when their lease ends
            log.exception("marking %s %s rows done failed", len(rows), model.__name__)
        finally:
            self._writing = None
            if len(self._rows) >= self.limits.mark_batch:
                self._start()
            elif self._rows and self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(self.limits.mark_interval_seconds, self._start)

    async def flush(self) -> None:
        """Write every row added so far (the end of a pass)."""
        while self._writing is not None or self._rows:
            if self._writing is None:
                self._start()
            await asyncio.wait([self._writing])
