"""The loop of a background worker (outbox sender, Slack delivery): work while there is work, then wait."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

log = logging.getLogger(__name__)


class CannotContinue(Exception):
    """An error that no retry can mend (a refused credential): the worker's loop ends with it."""


async def run_passes(
    name: str, one_pass: Callable[[], Awaitable[int]], stop: asyncio.Event, wakeup: asyncio.Event, poll_seconds: float
) -> None:
    """Call `one_pass()` until `stop` is set. When a pass did nothing, wait until `wakeup` is set (a
    commit queued work), `stop` is set, or `poll_seconds` have passed. A failing pass is logged and retried,
    unless it raised `CannotContinue`."""
    while not stop.is_set():
        wakeup.clear()  # before the pass: a commit made while it runs leaves the wakeup set for the wait below
        try:
            done = await one_pass()
        except CannotContinue:
            raise
        except Exception:
            log.exception("%s pass failed; retrying", name)
            done = 0
        if done:
            continue
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wakeup.wait())]
        await asyncio.wait(waiters, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
