"""Signed completion tokens: `<participant id>.<nonce>.<signature>`, bound to one participant and campaign.

The signature is an HMAC-SHA256 (settings.secret_key) of the campaign id, participant id and
the participant's random nonce, so a token cannot be forged, moved to another participant or
another campaign, and stays short enough for a URL.
"""

from __future__ import annotations

import re
import secrets

from config.settings import Settings
from handlers.signing import BadToken, mac, mac_matches

_TOKEN = re.compile(r"^(\d{1,12})\.([A-Za-z0-9_-]{8,32})\.([A-Za-z0-9_-]{22})$")


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def make_token(settings: Settings, campaign_id: int, participant_id: int, nonce: str) -> str:
    return f"{participant_id}.{nonce}.{mac(settings, 'survey', f'{campaign_id}:{participant_id}:{nonce}')}"


def split_token(token: str) -> tuple[int, str, str]:
    """(participant id, nonce, signature); BadToken(400) when it is not shaped like a token."""
    match = _TOKEN.match(token or "")
    if not match:
        raise BadToken("this is not a survey token", 400)
    return int(match.group(1)), match.group(2), match.group(3)


def check_signature(settings: Settings, campaign_id: int, participant_id: int, nonce: str, signature: str) -> None:
    if not mac_matches(settings, "survey", f"{campaign_id}:{participant_id}:{nonce}", signature):
        raise BadToken("this survey link is not valid", 403)
