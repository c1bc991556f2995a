"""`/eocic …`: the text unescaped (bot/slack/text.py), then `handlers.commands.dispatch`."""

from __future__ import annotations

from bot.slack.text import unescape
from handlers.commands import Caller, dispatch


async def eocic(ack, command, respond, context) -> None:
    await ack()
    edge = context["edge"]
    edge.spawn(_run(edge, command, respond), user=command.get("user_id"), respond=respond)


async def _run(edge, command: dict, respond) -> None:
    caller = Caller(user_id=command["user_id"], user_name=command.get("user_name", ""),
                    channel_id=command.get("channel_id"), trigger_id=command.get("trigger_id"))
    reply = await dispatch(edge.deps, caller, unescape(command.get("text", "")))
    await edge.answer(caller, reply, respond)
