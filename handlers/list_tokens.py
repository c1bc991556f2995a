"""Signed tokens for list links: `<base64url payload>.<signature>`, HMAC-SHA256 with settings.secret_key.

A token names its purpose ("u" unsubscribe from a list, "c" confirm subscriptions) and the ids
it acts on, so it cannot be forged, moved to another person or list, or used for another purpose.
Tokens are URL-safe and fit in a mail subject (`unsubscribe-TOKEN`).
"""

from __future__ import annotations

import base64
import binascii
import re

from config.settings import Settings
from handlers.signing import BadToken, b64, mac, mac_matches

_TOKEN = re.compile(r"^([A-Za-z0-9_-]{2,200})\.([A-Za-z0-9_-]{22})$")


def sign(settings: Settings, purpose: str, *parts: int | str) -> str:
    payload = ":".join([purpose, *map(str, parts)])
    return f"{b64(payload.encode())}.{mac(settings, 'lists', payload)}"


def verify(settings: Settings, token: str, purpose: str) -> list[str]:
    """The parts signed with `purpose`; BadToken when the token is not one we made for it."""
    found = _TOKEN.match((token or "").strip())
    if not found:
        raise BadToken("not a list token")
    try:
        padded = found.group(1) + "=" * (-len(found.group(1)) % 4)
        payload = base64.urlsafe_b64decode(padded).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise BadToken("not a list token") from None
    if not mac_matches(settings, "lists", payload, found.group(2)):
        raise BadToken("the token's signature does not match", 403)
    kind, *parts = payload.split(":")
    if kind != purpose:
        raise BadToken(f"a {kind!r} token where a {purpose!r} token was expected", 403)
    return parts


def unsubscribe_token(settings: Settings, contact_id: int, list_id: int) -> str:
    return sign(settings, "u", contact_id, list_id)


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[int, int]:
    """(contact id, list id) of a valid unsubscribe token."""
    parts = verify(settings, token, "u")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise BadToken("malformed unsubscribe token")
    return int(parts[0]), int(parts[1])


def confirm_token(settings: Settings, contact_id: int, list_ids: list[int]) -> str:
    return sign(settings, "c", contact_id, "+".join(map(str, sorted(list_ids))))


def read_confirm_token(settings: Settings, token: str) -> tuple[int, list[int]]:
    parts = verify(settings, token, "c")
    if len(parts) != 2 or not parts[0].isdigit() or not all(p.isdigit() for p in parts[1].split("+")):
        raise BadToken("malformed confirmation token")
    return int(parts[0]), [int(p) for p in parts[1].split("+")]
