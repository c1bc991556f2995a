"""What handlers need from the outside world, passed in explicitly (and replaced in tests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from config.settings import Settings
from models.db import Database

# A hook runs inside the transaction of a ticket event, so that what it writes (a Slack
# notification row, say) commits or rolls back together with the event.
TicketHook = Callable[[Any, str, Any, Any], Awaitable[None]]  # (session, event, ticket, message)


class Isolated(Exception):
    """Work on an untrusted mail overran its time limit or killed its worker; the message says which."""


def classify_mail(mail, **hints):
    """The content classifier, imported on first use so that start-up stays quick."""
    from handlers.classify import classify

    return classify(mail, **hints)


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

    async def ticket_event(self, session, event: str, ticket, message=None) -> None:
        for hook in self.ticket_hooks:
            await hook(session, event, ticket, message)

    def mail_queued(self) -> None:
        if self.outbox_wakeup is not None:
            self.outbox_wakeup.set()
