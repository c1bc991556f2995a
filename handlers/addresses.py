"""The one check of a mail address we send to, light enough for the mail parser's workers to import."""

from __future__ import annotations

import functools

from email_validator import EmailNotValidError, validate_email


class BadAddress(ValueError):
    """Not one syntactically valid address with a domain; no mail is sent to it."""


@functools.lru_cache(maxsize=65536)  # a bulk send checks each address when queued and again when sent
def envelope_address(address: str) -> str:
    """`address` checked and normalised (domain in lower case, IDNA where the local part is ASCII).

    Raises BadAddress for anything but one plain `local@domain.tld`: no display names, lists,
    quoted local parts, IP literals, or reserved domains (`.invalid`, `.test`, `localhost`).
    """
    try:
        valid = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadAddress(f"{address[:200]!r} is not a mail address we send to: {exc}") from None
    return valid.ascii_email or valid.normalized
