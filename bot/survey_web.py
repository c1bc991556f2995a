"""`GET /survey/complete?token=…`: the end URL a survey platform sends respondents to.

A valid token marks its participant done (once; reloading changes nothing and sends no second
thank-you) and shows a short thank-you page. A malformed token is a 400, a forged one a 403, a
token of a closed campaign a 410, and none of them changes anything. A HEAD (link checkers,
previews) only answers 200 and changes nothing.
"""

from __future__ import annotations

import html
import logging

from aiohttp import web

from bot.web import DESK_KEY
from handlers.survey_tokens import BadToken
from handlers.surveys import complete_by_token

log = logging.getLogger(__name__)

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.5">
<h1 style="font-size: 1.4em">{title}</h1><p>{body}</p><p>The EOCIC team</p></body></html>
"""


def add_routes(app: web.Application) -> None:
    app.router.add_get("/survey/complete", survey_complete)


async def survey_complete(request: web.Request) -> web.Response:
    if request.method == "HEAD":
        return _page("Survey completion", "", 200)
    desk = request.app[DESK_KEY]
    token = request.query.get("token", "")
    try:
        async with desk.db.transaction() as session:
            campaign, partnership, first = await complete_by_token(session, desk.settings, token)
    except BadToken as exc:
        log.info("survey completion refused (%s) from %s", exc, request.remote)
        if exc.status == 410:
            return _page("This survey is closed", "The survey has closed; answers are no longer recorded. "
                         "Please write to us if you still want to send them.", 410)
        return _page("This link is not valid", "Please use the link from your invitation, or write to us.", exc.status)
    if first:
        desk.deps.mail_queued()
    body = (f"The answers of {html.escape(partnership.acronym)} to the {html.escape(campaign.name)} survey "
            f"are recorded{'' if first else ' (we already had them)'}. Thank you for your time.")
    return _page("Thank you", body, 200)


def _page(title: str, body: str, status: int) -> web.Response:
    return web.Response(text=PAGE.format(title=html.escape(title), body=body), status=status,
                        content_type="text/html", headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
