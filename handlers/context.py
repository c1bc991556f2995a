"""What handlers need from the outside world, passed in explicitly (and replaced in tests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from config.settings import Settings
from models.db import Database

# A hook runs inside the transaction of ticket events, so that what it writes (a Slack
# notification row, say) commits or rolls back together with the events. It is given the events
# of many tickets at once (intake records a batch of new tickets together).
TicketHook = Callable[[Any, str, list], Awaitable[None]]  # (session, event, [(ticket, message), …])


class Isolated(Exception):
    """Work on an untrusted mail overran its time limit or killed its worker; the message says which."""


def classify_mail(mail, **hints):
    """The content classifier, imported on first use so that start-up stays quick."""
    from handlers.classify import classify

    return classify(mail, **hints)


def each(fn: Callable[..., Any], calls: list[tuple[tuple, dict]]) -> list[Any]:
    """`fn(*args, **kwargs)` for every call, in order: its result, or the exception it raised. One worker
    call for a chunk of a batch instead of one per mail (the round trip costs more than parsing a mail)."""
    results: list[Any] = []
    for args, kwargs in calls:
        try:
            results.append(fn(*args, **kwargs))
        except MemoryError:  # the chunk fails and its calls run one by one: the pool reports the limit
            raise
        except Exception as exc:
            results.append(exc)
    return results


@dataclass
class Deps:
    db: Database
    settings: Settings
    classify: Callable[..., Any] = classify_mail
    ticket_hooks: list[TicketHook] = field(default_factory=list)
    outbox_wakeup: asyncio.Event | None = None  # set after a commit that queued mail
    faults: dict[str, str] = field(default_factory=dict)  # part -> why it stopped (handlers/alerts.py)
    subcommands: dict[str, Any] = field(default_factory=dict)  # /eocic: name -> handlers.commands.Subcommand
    pool: Any = None  # bot.mail_pool.MailPool in a running desk; None: untrusted work runs in a thread here
    print_pdf: Callable[[str], Awaitable[bytes]] | None = None  # HTML -> PDF (bot.chromium.print_pdf in a desk)

    async def untrusted(self, fn: Callable[..., Any], *args, timeout: float, **kwargs) -> Any:
        """Run CPU work on untrusted mail off the event loop: in the worker pool, or (no pool: tests that
        call handlers directly) in a thread, which keeps the time limit but cannot be killed."""
        if self.pool is not None:
            return await self.pool.run(fn, *args, timeout=timeout, **kwargs)
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args, **kwargs), timeout)
        except TimeoutError:
            raise Isolated(f"over the time limit of {timeout:g}s") from None

    async def untrusted_each(self, fn: Callable[..., Any], calls: list[tuple[tuple, dict]], timeouts: list[float]) -> list[Any]:
        """`untrusted` for many calls, each given its result or the exception it raised, in order. The calls go
        in one chunk per worker. A chunk that fails as a whole (over its shorter time limit, its worker died,
        its answer could not be sent back) runs again call by call, each with its own limit: only a bad mail
        is affected, and a poison mail costs at most half its limit more than alone."""
        workers = self.pool.workers if self.pool is not None else 1
        size = max(1, -(-len(calls) // workers))

        async def chunk(start: int) -> list[Any]:
            indices = range(start, min(start + size, len(calls)))
            if len(indices) > 1:
                limit = min(min(timeouts[i] for i in indices) / 2, 1.0 + 0.05 * len(indices))
                try:
                    return await self.untrusted(each, fn, [calls[i] for i in indices], timeout=limit)
                except Exception:
                    pass
            return [await self._one(fn, calls[i], timeouts[i]) for i in indices]

        parts = await asyncio.gather(*(chunk(start) for start in range(0, len(calls), size)))
        return [result for part in parts for result in part]

    async def _one(self, fn: Callable[..., Any], call: tuple[tuple, dict], timeout: float) -> Any:
        args, kwargs = call
        try:
            return await self.untrusted(fn, *args, timeout=timeout, **kwargs)
        except Exception as exc:
            return exc

    async def ticket_event(self, session, event: str, ticket, message=None) -> None:
        await self.ticket_events(session, event, [(ticket, message)])

    async def ticket_events(self, session, event: str, pairs: list) -> None:
        """The same `event` of many tickets: `[(ticket, message or None), …]`."""
        for hook in self.ticket_hooks:
            await hook(session, event, pairs)

    def mail_queued(self) -> None:
        if self.outbox_wakeup is not None:
            self.outbox_wakeup.set()
