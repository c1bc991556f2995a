"""Every command, action id, callback id and event the desk answers.

`register` wires what every desk has (the `/eocic` command, the App Home); each feature's
`register_…` wires its buttons and forms and is named in bot/features.py. A form (modal) or
button without a listener would make Slack show an error: the walk test in
tests/test_slack_walk.py opens each one.
"""

from __future__ import annotations

import re

from bot.slack import blocks
from bot.slack.listeners import actions, commands, events, views


def register(app) -> None:
    app.command("/eocic")(commands.eocic)
    app.event("app_home_opened")(events.app_home_opened)


def register_tickets(app) -> None:
    for action_id in blocks.TICKET_ACTIONS:  # assign to me, reply, change category, close, reopen
        app.action(action_id)(actions.ticket)
    app.view(blocks.REPLY_VIEW)(views.reply)
    app.view(blocks.CATEGORY_VIEW)(views.category)


def register_surveys(app) -> None:
    app.action(re.compile(f"^{blocks.SURVEY_CONFIRM}:"))(actions.survey_confirm)
    app.view(blocks.SURVEY_VIEW)(views.survey_new)


def register_announcements(app) -> None:
    app.action(blocks.ANNOUNCE_APPROVE)(actions.announce_decision)
    app.action(blocks.ANNOUNCE_REJECT)(actions.announce_decision)


def register_webinars(app) -> None:
    app.view(blocks.WEBINAR_VIEW)(views.webinar_new)
