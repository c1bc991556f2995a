"""`POST /slack/events`: Slack's HTTP requests (slash command, interactivity, events) into the Bolt app.

bot/slack/requests.py refuses malformed bodies (400) and replays (401) first; Bolt then verifies
the signature (missing, stale or forged: 401) before any listener runs.
Without Slack configured the route answers 404 with what to set.
"""

from __future__ import annotations

from aiohttp import web

from bot.web_pages import DESK_KEY


def add_routes(app: web.Application) -> None:
    app.router.add_post("/slack/events", slack_events)


async def slack_events(request: web.Request) -> web.Response:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request  # Bolt only when Slack is used

    edge = request.app[DESK_KEY].slack
    if edge is None:
        return web.json_response({"error": "Slack is not configured on this desk: set SLACK_BOT_TOKEN"}, status=404)
    if not edge.http_enabled:
        return web.json_response({"error": "SLACK_SIGNING_SECRET is not set: requests cannot be verified"}, status=401)
    refused = await edge.guard.check(request)
    if refused is not None:
        return refused
    response = await edge.app.async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(response)
