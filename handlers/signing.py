"""HMAC signatures for links in mail (survey completion, unsubscribe, confirmation).

One construction for every kind of link: the first 16 bytes of HMAC-SHA256 (EOCIC_SECRET_KEY)
over "<domain>:<message>", base64url without padding. The domain ("survey", "lists") keeps a
signature made for one kind of link from being valid for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from config.settings import Settings


class BadToken(ValueError):
    """A link token that is malformed (HTTP 400), tampered with or for another purpose (403), or
    no longer valid (410): `status` is what a web page answers."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def mac(settings: Settings, domain: str, message: str) -> str:
    settings.require("secret_key")  # links cannot be signed without it
    key = settings.secret_key.get_secret_value().encode()
    return b64(hmac.new(key, f"{domain}:{message}".encode(), hashlib.sha256).digest()[:16])


def mac_matches(settings: Settings, domain: str, message: str, signature: str) -> bool:
    return hmac.compare_digest(mac(settings, domain, message), signature)
