"""Worker processes for untrusted mail: a bad mail can only hurt the worker that reads it.

Parsing, text extraction and classification of a mail from the internet run here, one call at a
time per worker, each with a time limit. A call over the limit, or one whose worker dies (a
crash, the memory limit), raises `Isolated` with the reason; pebble kills that worker and starts
a fresh one, and the calls behind it go on in the other workers. The event loop only awaits a
future, so it keeps answering (`/healthz`, Slack) whatever a worker is chewing on.

Workers come from a fork server (not from forking this threaded process) that has the classifier
loaded, so a replacement starts at once; each caps its own address space
(`EOCIC_MAIL_MEMORY_LIMIT_MB` above what it starts with). The pool is generic:
`run(fn, *args)` takes any module-level function, so batch intake can feed it too.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
import time
from concurrent.futures import CancelledError, TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

from pebble import ProcessExpired, ProcessPool

from config.settings import Settings
from handlers.context import Isolated

log = logging.getLogger(__name__)


def worker_count(settings: Settings) -> int:
    return settings.mail_workers or len(os.sched_getaffinity(0)) or 1


class MailPool:
    def __init__(self, settings: Settings) -> None:
        self.workers = worker_count(settings)
        self.memory_limit_mb = settings.mail_memory_limit_mb
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPool:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["handlers.parsing", "handlers.classify.preload", "handlers.acks"])
        return ProcessPool(self.workers, initializer=_start_worker, initargs=(self.memory_limit_mb,), context=context)

    async def start(self) -> None:
        """Start every worker (fork server, models) now, so that no mail waits for one.

        A new worker also imports the program's main module (multiprocessing's spawn preparation: the
        console script's is light, a benchmark's may not be); until each has answered a call, "ready"
        would hold half the capacity. Calls that each hold their worker a moment are sent in rounds
        until every worker has answered one.
        """
        answered: set[int] = set()
        while len(answered) < self.workers:
            rounds = [self.run(_worker_id, 0.05, timeout=600) for _ in range(self.workers)]
            answered.update(await asyncio.gather(*rounds))

    async def run(self, fn, *args, timeout: float, **kwargs):
        """`fn(*args, **kwargs)` in a worker; raises `Isolated` when it overran `timeout` or its worker died."""
        try:
            future = self._pool.schedule(fn, args, kwargs, timeout=timeout)
        except (BrokenProcessPool, RuntimeError):  # every worker failed to start, or the pool was stopped
            self._pool = self._new_pool()
            future = self._pool.schedule(fn, args, kwargs, timeout=timeout)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise Isolated(f"over the time limit of {timeout:g}s (worker killed and replaced)") from None
        except ProcessExpired as exc:
            raise Isolated(f"worker died ({exc}; exit code {exc.exitcode})") from None
        except BrokenProcessPool as exc:
            raise Isolated(f"no worker could start: {exc}") from None
        except MemoryError:
            raise Isolated("over the memory limit") from None
        except (asyncio.CancelledError, CancelledError):
            future.cancel()  # pebble stops the worker that runs it
            raise

    def close(self) -> None:
        """Stop the workers (a running call is abandoned: its mail stays in the mailbox for the next start)."""
        self._pool.stop()
        self._pool.join(timeout=10)


def _worker_id(hold_seconds: float) -> int:
    time.sleep(hold_seconds)  # so that the other calls of the round go to other workers
    return os.getpid()


# Workers yield the CPU to the desk's own process when both want it: the event loop records the batches
# (the critical path of intake, which the workers only run ahead of) and answers Slack and HTTP, so a
# flood of mail keeps the workers busy without slowing either. Measured on 2 cores: intake 0.46 -> 0.49
# of the raw fetch + parse baseline.
WORKER_NICENESS = 5


def _start_worker(memory_limit_mb: int) -> None:
    """In each new worker: load the classifier once, cap the address space above what that took, and
    lower the worker's priority below the desk's (WORKER_NICENESS)."""
    from handlers.classify.classifier import get_classifier

    get_classifier()
    with open("/proc/self/statm") as statm:
        current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = current + memory_limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.nice(WORKER_NICENESS)
