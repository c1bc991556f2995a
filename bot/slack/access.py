"""Who may do what: one Bolt middleware in front of every listener.

Staff (EOCIC_STAFF: user ids, and the members of user groups) may do everything. Everyone else
may do only what `OPEN_TO_ALL` lists (errbot's ACL table is the model); anything else gets a
polite refusal that only they see, and no listener runs.
"""

from __future__ import annotations

import logging

from slack_bolt.response import BoltResponse

from bot.slack import blocks

log = logging.getLogger(__name__)

REFUSAL = "Sorry, only EOCIC staff can act on tickets. Ask an administrator to add you to EOCIC_STAFF."

# (kind, name) that people outside EOCIC_STAFF may use; kind is command (the /eocic subcommand),
# action (action id), view (callback id) or event (event type).
OPEN_TO_ALL = {
    ("command", "help"): "read what /eocic can do",
    ("event", "app_home_opened"): "open the Home tab (it tells them how to get access)",
}


def request_kind(body: dict) -> tuple[str, str, str | None]:
    """(kind, name, user id) of a request, as `OPEN_TO_ALL` names it."""
    if "command" in body:
        words = (body.get("text") or "").split()
        return "command", (words[0].lower() if words else "help"), body.get("user_id")
    kind = body.get("type")
    user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else None
    if kind == "block_actions":
        return "action", ((body.get("actions") or [{}])[0]).get("action_id", ""), user
    if kind in ("view_submission", "view_closed"):
        return "view", (body.get("view") or {}).get("callback_id", ""), user
    if kind == "event_callback":
        event = body.get("event") or {}
        return "event", event.get("type", ""), event.get("user")
    return kind or "", "", user


def is_staff(settings, user_id: str | None) -> bool:
    return bool(user_id) and user_id in (settings.staff or [])


async def staff_only(body, context, respond, next_):
    """The Bolt middleware: staff and `OPEN_TO_ALL` pass; anyone else is told why, nothing else runs."""
    edge = context["edge"]
    kind, name, user = request_kind(body)
    if is_staff(edge.desk.settings, user) or (kind, name) in OPEN_TO_ALL or kind == "url_verification":
        return await next_()
    log.info("Slack: %s %s by %s refused (not in EOCIC_STAFF)", kind, name, user)
    if kind == "view":
        inputs = [b["block_id"] for b in (body.get("view") or {}).get("blocks", []) if b.get("type") == "input"]
        if inputs and body.get("type") == "view_submission":
            return BoltResponse(status=200, body=blocks.errors({inputs[0]: REFUSAL}))
    elif user and kind in ("command", "action"):
        edge.spawn(edge.tell(user, REFUSAL, respond))
    return BoltResponse(status=200, body="")
