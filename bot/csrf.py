"""Cross-site request forgery protection for the public forms: an Origin check and a signed token.

A form page sets a random cookie (`eocic_form`: HttpOnly, SameSite=Strict) and puts in the form
a token signed with EOCIC_SECRET_KEY over that cookie, the form's name and the time it was
issued. A POST is accepted only when it comes from our own origin (`Origin`, else `Referer`, is
EOCIC_PUBLIC_URL's), carries the cookie, and carries a token made for that cookie and form less
than FORM_TOKEN_SECONDS ago. A token copied from another visitor, an altered or expired one, or
a POST from another site is refused with 403 and changes nothing.

(The RFC 8058 one-click unsubscribe POST is not a form: mail providers send it from their
servers, and the signed token in its URL is what authorises it.)
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from aiohttp import web

from config.settings import Settings
from handlers.signing import mac, mac_matches

COOKIE = "eocic_form"
FIELD = "csrf"
FORM_TOKEN_SECONDS = 2 * 3600


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def form_token(request: web.Request, settings: Settings, form: str) -> tuple[str, str]:
    """(cookie value, token) for a page that shows `form`; the cookie is reused when the visitor has one."""
    cookie = request.cookies.get(COOKIE, "")
    if not (16 <= len(cookie) <= 64 and cookie.isascii()):
        cookie = secrets.token_urlsafe(24)
    issued = str(int(time.time()))
    return cookie, f"{issued}.{mac(settings, 'csrf', f'{cookie}:{issued}:{form}')}"


def set_cookie(response: web.StreamResponse, settings: Settings, cookie: str) -> None:
    response.set_cookie(COOKIE, cookie, max_age=FORM_TOKEN_SECONDS, path="/", httponly=True, samesite="Strict",
                        secure=settings.public_url.startswith("https://"))


def refusal(request: web.Request, settings: Settings, form: str, token: str) -> str | None:
    """Why this POST of `form` is refused, or None when it is ours."""
    sent_from = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if not sent_from or _origin(sent_from) != _origin(settings.public_url):
        return "the form was not sent from this site"
    cookie = request.cookies.get(COOKIE, "")
    issued, _, signature = token.partition(".")
    if not cookie or not issued.isdigit() or not signature:
        return "the form has no valid security token"
    if not mac_matches(settings, "csrf", f"{cookie}:{issued}:{form}", signature):
        return "the form's security token is not valid"
    if not 0 <= time.time() - int(issued) <= FORM_TOKEN_SECONDS:
        return "the form has expired"
    return None
