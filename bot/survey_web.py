"""`GET /survey/complete?token=…`: the end URL a survey platform sends respondents to.

A valid token marks its participant done (once; reloading changes nothing and sends no second
thank-you) and shows a short thank-you page. A malformed token is a 400, a forged one a 403, a
token of a closed campaign a 410, and none of them changes anything. A HEAD (link checkers,
previews) only answers 200 and changes nothing.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.web_pages import DESK_KEY, message
from handlers.signing import BadToken
from handlers.surveys import complete_by_token

log = logging.getLogger(__name__)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/survey/complete", survey_complete)


async def survey_complete(request: web.Request) -> web.Response:
    if request.method == "HEAD":
        return message("Survey completion")
    desk = request.app[DESK_KEY]
    token = request.query.get("token", "")
    try:
        async with desk.db.transaction() as session:
            campaign, partnership, first = await complete_by_token(session, desk.settings, token)
    except BadToken as exc:
        log.info("survey completion refused (%s) from %s", exc, request.remote)
        if exc.status == 410:
            return message("This survey is closed", "The survey has closed; answers are no longer recorded. "
                           "Please write to us if you still want to send them.", status=410)
        return message("This link is not valid", "Please use the link from your invitation, or write to us.",
                       status=exc.status)
    if first:
        desk.deps.mail_queued()
    return message("Thank you", f"The answers of {partnership.acronym} to the {campaign.name} survey are recorded"
                   f"{'' if first else ' (we already had them)'}. Thank you for your time.", "The EOCIC team")

