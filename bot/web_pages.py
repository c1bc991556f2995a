"""What every HTTP route module shares: the desk on the aiohttp app, and the one way a page is rendered.

Route modules (`bot/survey_web.py`, `bot/lists_web.py`, `bot/slack_http.py`) import this module,
and `bot/web.py` imports them: nothing imports back up into the server.
"""

from __future__ import annotations

from aiohttp import web

from bot import csrf
from templates import environment

DESK_KEY = web.AppKey("desk", object)

PAGE_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


def page(template: str, status: int = 200, *, request: web.Request | None = None, form: str = "", **context) -> web.Response:
    """`templates/web/<template>.html.j2`; with `form`, the form carries a CSRF token and the response sets its cookie."""
    cookie = ""
    if form:
        settings = request.app[DESK_KEY].settings
        cookie, context["csrf"] = csrf.form_token(request, settings, form)
    html = environment().get_template(f"web/{template}.html.j2").render(**context)
    response = web.Response(text=html, content_type="text/html", status=status, headers=PAGE_HEADERS)
    if cookie:
        csrf.set_cookie(response, settings, cookie)
    return response


def message(title: str, *lines: str, status: int = 200) -> web.Response:
    """A page of a title and a few paragraphs of plain text (escaped by the template)."""
    return page("page", status=status, title=title, lines=lines)
