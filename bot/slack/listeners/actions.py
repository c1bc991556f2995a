"""Buttons: a ticket's (cards, App Home, /eocic queue), a survey confirmation, a newsletter's approval."""

from __future__ import annotations

from bot.slack import blocks
from handlers import list_commands, staff_actions, survey_commands, ticket_queries
from handlers.commands import Caller
from handlers.staff_actions import ActionRefused
from handlers.tickets import TicketNotFound, get_ticket

FORMS = {blocks.REPLY: "reply", blocks.CATEGORY: "category"}


def _caller(body: dict) -> Caller:
    return Caller(user_id=body["user"]["id"], user_name=body["user"].get("username", ""),
                  channel_id=(body.get("channel") or {}).get("id"), trigger_id=body.get("trigger_id"))


async def ticket(ack, body, action, respond, context) -> None:
    await ack()
    edge = context["edge"]
    edge.spawn(_ticket(edge, body, action, respond), user=body["user"]["id"], respond=respond)


async def _ticket(edge, body: dict, action: dict, respond) -> None:
    user, ref, action_id = body["user"]["id"], action.get("value", ""), action["action_id"]
    actor, key = f"slack:{user}", f"slack:{body.get('trigger_id') or action.get('action_ts')}"
    deps = edge.deps
    try:
        if action_id == blocks.ASSIGN_ME:
            await staff_actions.assign(deps, ref, user, actor=actor, key=key)
        elif action_id == blocks.CLOSE:
            await staff_actions.close(deps, ref, actor=actor, key=key)
        elif action_id == blocks.REOPEN:
            await staff_actions.reopen(deps, ref, actor=actor, key=key)
        else:
            async with deps.db.session() as session:
                card = await ticket_queries.card(session, deps.settings, await get_ticket(session, ref))
            await edge.client.views_open(trigger_id=body["trigger_id"], view=blocks.modal({"form": FORMS[action_id], "ticket": card}))
    except (ActionRefused, TicketNotFound) as exc:
        await edge.tell(user, str(exc), respond)
    if (body.get("view") or {}).get("type") == "home":
        await edge.publish_home(user)


async def survey_confirm(ack, body, action, respond, context) -> None:
    await ack()
    edge = context["edge"]
    edge.spawn(_survey_confirm(edge, body, action, respond), user=body["user"]["id"], respond=respond)


async def _survey_confirm(edge, body: dict, action: dict, respond) -> None:
    reply = await survey_commands.confirm_done(edge.deps, _caller(body), action.get("value", ""))
    await edge.tell(body["user"]["id"], reply.text, respond)


async def announce_decision(ack, body, action, respond, context) -> None:
    await ack()
    edge = context["edge"]
    edge.spawn(_announce_decision(edge, body, action, respond), user=body["user"]["id"], respond=respond)


async def _announce_decision(edge, body: dict, action: dict, respond) -> None:
    """The test send's message is replaced by the decision, so its buttons cannot be pressed twice."""
    approved = action["action_id"] == blocks.ANNOUNCE_APPROVE
    reply = await list_commands.decide(edge.deps, _caller(body), action.get("value", ""), approved)
    if respond is not None and respond.response_url:
        await respond(text=blocks.fallback(reply.text), replace_original=True)
    else:
        await edge.tell(body["user"]["id"], reply.text)
