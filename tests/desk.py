"""Run the desk in-process or as an `eocic-desk` subprocess against the test servers, and read its database."""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import subprocess
import sys
import time
from contextlib import asynccontextmanager

import aiohttp
from sqlmodel import func, select

from bot.runtime import run_desk
from config.settings import load_settings
from models.db import Database


def settings_from_env(env: dict[str, str]):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return load_settings() if "EOCIC_HTTP_PORT" in env else load_settings(http_port=0)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@asynccontextmanager
async def running_desk(env: dict[str, str]):
    """The whole desk (watcher, outbox, scheduler, HTTP) on this event loop; yields (desk settings, db)."""
    settings = settings_from_env(env)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_desk(settings, stop, ready=ready))
    waiter = asyncio.ensure_future(ready.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED, timeout=60)
    if task.done():
        task.result()  # raises what went wrong at start-up
    db = Database(settings.db_url)
    try:
        yield settings, db
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
        await db.dispose()


async def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll a predicate (plain or async) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(interval)


async def count(db: Database, model, *where) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(model).where(*where))).one()


def start_desk_process(env: dict[str, str], *args: str) -> subprocess.Popen:
    """`eocic-desk run` (or another command) as a child process with `env` added."""
    full_env = {**os.environ, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *(args or ("run",))],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def run_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def browser() -> aiohttp.ClientSession:
    """An HTTP client that keeps cookies like a browser (also for 127.0.0.1)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def form_token(http: aiohttp.ClientSession, page_url: str) -> str:
    """Open a form page as a visitor would and return the CSRF token its form carries."""
    async with http.get(page_url) as resp:
        assert resp.status == 200, await resp.text()
        return CSRF_FIELD.search(await resp.text()).group(1)


async def submit(http: aiohttp.ClientSession, page_url: str, post_url: str, data: dict, origin: str) -> tuple[int, str]:
    """GET the form page, then POST the form from `origin` with its token, as a browser does."""
    token = await form_token(http, page_url)
    async with http.post(post_url, data={**data, "csrf": token}, headers={"Origin": origin}) as resp:
        return resp.status, await resp.text()
