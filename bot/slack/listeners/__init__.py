"""Every command, action id, callback id and event the desk answers, registered in one place.

A form (modal) or button without a listener here would make Slack show an error: the walk
test in tests/test_slack_walk.py opens each one.
"""

from __future__ import annotations

import re

from bot.slack import blocks
from bot.slack.listeners import actions, commands, events, views


def register(app) -> None:
    app.command("/eocic")(commands.eocic)

    for action_id in blocks.TICKET_ACTIONS:  # assign to me, reply, change category, close, reopen
        app.action(action_id)(actions.ticket)
    app.action(re.compile(f"^{blocks.SURVEY_CONFIRM}:"))(actions.survey_confirm)
    app.action(blocks.ANNOUNCE_APPROVE)(actions.announce_decision)
    app.action(blocks.ANNOUNCE_REJECT)(actions.announce_decision)

    app.view(blocks.REPLY_VIEW)(views.reply)
    app.view(blocks.CATEGORY_VIEW)(views.category)
    app.view(blocks.SURVEY_VIEW)(views.survey_new)
    app.view(blocks.WEBINAR_VIEW)(views.webinar_new)

    app.event("app_home_opened")(events.app_home_opened)
