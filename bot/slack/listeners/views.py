"""Submitted forms: reply, category, new survey campaign, new webinar.

A form whose fields are wrong stays open with Slack's `response_action: errors`; what takes
longer than Slack's 3 s (mail, card updates) runs after the ack.
"""

from __future__ import annotations

import logging

from bot.slack import blocks
from bot.slack.failures import failure_ref, failure_text
from handlers import staff_actions, survey_commands, webinar_commands
from handlers.commands import Caller, Reply
from handlers.staff_actions import ActionRefused
from handlers.tickets import TicketNotFound

log = logging.getLogger(__name__)


async def reply(ack, body, view, context) -> None:
    values = view["state"]["values"]
    text, note = blocks.reply_text(values), blocks.input_value(values, "note").strip()
    if not text:
        await ack(**blocks.errors({"reply": "Write the answer to the requester first."}))
        return
    await ack()
    edge, user = context["edge"], body["user"]["id"]
    edge.spawn(_reply(edge, user, view, text, note), user=user)


async def _reply(edge, user: str, view: dict, text: str, note: str) -> None:
    try:
        result = await staff_actions.reply(
            edge.deps, view["private_metadata"], text=text, staff_id=user, staff_name=await edge.staff_name(user),
            key=view["id"], internal_note=note or None,
        )
    except (ActionRefused, TicketNotFound) as exc:
        await edge.tell(user, f"Your reply was not sent: {exc}")
        return
    log.info("staff reply on %s queued as outbox %s", result.ref, result.outbox_id)


async def category(ack, body, view, context) -> None:
    await ack()
    edge, user = context["edge"], body["user"]["id"]
    chosen = ((view["state"]["values"].get("category") or {}).get("category") or {}).get("selected_option") or {}
    edge.spawn(_recategorise(edge, user, view, chosen.get("value", "")), user=user)


async def _recategorise(edge, user: str, view: dict, category: str) -> None:
    try:
        await staff_actions.change_category(edge.deps, view["private_metadata"], category, actor=f"slack:{user}",
                                            key=f"slack:{view['id']}")
    except (ActionRefused, TicketNotFound) as exc:
        await edge.tell(user, str(exc))


async def survey_new(ack, body, view, context) -> None:
    await _form(ack, body, view, context, survey_commands.FIELDS, survey_commands.create_from_form)


async def webinar_new(ack, body, view, context) -> None:
    await _form(ack, body, view, context, webinar_commands.FIELDS, webinar_commands.create_from_form)


async def _form(ack, body, view, context, fields, create) -> None:
    """A handler's form: its answer is {field: problem} (the form stays open) or a Reply (sent privately)."""
    edge, user = context["edge"], body["user"]["id"]
    try:
        outcome = await create(edge.deps, Caller(user_id=user), blocks.form_values(view["state"]["values"], fields))
    except Exception:
        ref = failure_ref()
        log.exception("form %s failed (%s)", view.get("callback_id"), ref)
        await ack(**blocks.errors({fields[0][0]: failure_text(ref)}))
        return
    if not isinstance(outcome, Reply):
        await ack(**blocks.errors(outcome))
        return
    await ack()
    edge.spawn(edge.tell(user, outcome.text), user=user)
