"""Slack Web API failures by kind, and what the operator should do about each one.

`kind(exc)` sorts a failure: `ratelimited` (wait Retry-After), `transient` (network, 5xx,
Slack's own trouble: back off and retry), `invalid_blocks`, `message_not_found`, or `permanent`
(a person must fix something: the notice is held until then). An error Slack documents as
neither is treated as permanent: retrying what Slack refused only repeats the refusal.
"""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError

TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
NETWORK = (aiohttp.ClientError, OSError, asyncio.TimeoutError)
REDRIVE = "then run `eocic-desk slack redrive` (or restart the desk)"


def code(exc: BaseException) -> str:
    """Slack's error code, `http_5xx` for a server error without one, or the network error's class."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        return str(error or f"http_{exc.response.status_code}")
    return type(exc).__name__


def kind(exc: BaseException) -> str:
    if not isinstance(exc, SlackApiError):
        return "transient"
    error = code(exc)
    if error == "ratelimited" or exc.response.status_code == 429:
        return "ratelimited"
    if error in ("invalid_blocks", "message_not_found"):
        return error
    if error in TRANSIENT_ERRORS or exc.response.status_code >= 500:
        return "transient"
    return "permanent"


def retry_after(exc: SlackApiError, default: float = 30.0) -> float:
    try:
        return max(1.0, float(exc.response.headers.get("Retry-After", default)))
    except (TypeError, ValueError):
        return default


def what_to_do(exc: BaseException, channel: str) -> str:
    """One line for the log and /healthz: what went wrong and how to fix it."""
    error = code(exc)
    if error == "not_in_channel":
        return f"Slack: the bot is not a member of channel {channel}: invite the bot to the channel {channel} (in it: /invite @eocic-desk), {REDRIVE}"
    if error in ("channel_not_found", "is_archived"):
        return (f"Slack: channel {channel} {'is archived' if error == 'is_archived' else 'does not exist or the bot cannot see it'}: "
                f"set EOCIC_SLACK_TRIAGE_CHANNEL to the id (C…) of a channel the bot is in and restart the desk")
    if error == "token_revoked":
        return "Slack: reinstall the app: token revoked; set the new SLACK_BOT_TOKEN and restart the desk"
    if error in ("invalid_auth", "not_authed"):
        return "Slack: SLACK_BOT_TOKEN is not valid (invalid_auth): set the app's Bot User OAuth Token (xoxb-…) and restart the desk"
    if error == "account_inactive":
        return "Slack: the app's bot user or workspace is deactivated (account_inactive): reinstall the app, set the new SLACK_BOT_TOKEN and restart the desk"
    if error == "token_expired":
        return "Slack: the bot token expired (token rotation is on): turn token rotation off, reinstall the app, set SLACK_BOT_TOKEN and restart"
    if error == "missing_scope":
        needed = exc.response.get("needed") if isinstance(exc, SlackApiError) else None
        return (f"Slack: the app lacks the scope {needed or '(see slack-manifest.yaml)'}: add it under OAuth & Permissions, "
                f"reinstall the app, {REDRIVE}")
    return f"Slack refused the call ({error}): fix the cause, {REDRIVE}"
