"""Start-up checks that turn an operator's first mistakes into one line naming the setting.

`StartupError` carries that line; `eocic-desk` prints it instead of a traceback and exits 1.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """A part the desk needs cannot be used as configured; the message says which setting and what to do."""


def database_where(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def wait_for_database(db, url: str, wait_seconds: float) -> None:
    """Connect, retrying with back-off (and saying so) for `wait_seconds`: a database started
    alongside the desk (docker compose) may need a moment."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError, OperationalError

    deadline = time.monotonic() + wait_seconds
    delay = 1.0
    while True:
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return
        except (OperationalError, DBAPIError, OSError) as exc:
            reason = _first_line(exc)
            if time.monotonic() + delay > deadline:
                raise StartupError(
                    f"EOCIC_DATABASE_URL: cannot reach the database {database_where(url)} ({reason}); "
                    "check that it runs and that the URL, user and password are right"
                ) from None
            log.warning("database %s unreachable (%s); retrying in %.0fs (EOCIC_DATABASE_WAIT_SECONDS=%g)",
                        database_where(url), reason, delay, wait_seconds)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)


def port_problem(exc: OSError, host: str, port: int) -> StartupError:
    if exc.errno == errno.EADDRINUSE:
        return StartupError(f"EOCIC_HTTP_PORT: port {port} on {host} is already in use; stop the program using it "
                            "or set EOCIC_HTTP_PORT to a free port")
    return StartupError(f"EOCIC_HTTP_HOST / EOCIC_HTTP_PORT: cannot listen on {host}:{port} ({exc.strerror or exc}); "
                        "use an address of this machine (0.0.0.0 for all) and a free port")


SLACK_REFUSALS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type"}


async def slack_identity(client) -> str:
    """`auth.test`: the bot's name and workspace; a refused token raises StartupError naming SLACK_BOT_TOKEN."""
    from slack_sdk.errors import SlackApiError

    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "error")
        if error in SLACK_REFUSALS:
            raise StartupError(f"SLACK_BOT_TOKEN: Slack refused the token ({error}); copy the Bot User OAuth Token "
                               "(xoxb-…) from the app's OAuth & Permissions page") from None
        raise
    return f"{answer.get('user')} in {answer.get('team')}"


def _first_line(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    return lines[0] if lines else type(inner).__name__
