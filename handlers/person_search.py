"""Find a person in what the desk stores, decoded: text columns, raw mail and attachment bytes.

A mail names a person in many spellings: plain, base64 or quoted-printable bodies and
attachments, RFC 2047 headers, UTF-16 text. `Needles.in_bytes` looks at the bytes as they are,
then (when they are a mail) at every decoded header and every decoded part, as UTF-8, UTF-16
and in the part's own charset. Bytes that hold the person are replaced by a `tombstone`.
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from email.message import Message

_BYTE_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "cp1252")


class Needles:
    """The address and name of one person, matched without regard to case or spacing."""

    def __init__(self, *needles: str) -> None:
        self.texts = [" ".join(n.split()).lower() for n in needles if n and n.strip()]
        self.blobs = {n.encode(enc, "ignore") for n in self.texts for enc in _BYTE_ENCODINGS} - {b""}

    def in_text(self, value: str) -> bool:
        value = " ".join(value.split()).lower()
        return any(n in value for n in self.texts)

    def in_bytes(self, data: bytes) -> bool:
        lowered = data.lower()
        if any(n in lowered for n in self.blobs):
            return True
        try:
            msg = email.message_from_bytes(data, policy=email.policy.default)
            return any(self._in_part(part) for part in msg.walk())
        except Exception:  # bytes the mail parser cannot walk (nested too deep, …): judged on the bytes alone
            return False

    def _in_part(self, part: Message) -> bool:
        for name, value in part.items():
            try:
                if self.in_text(f"{name}: {value}"):
                    return True
            except Exception:  # a header the modern policy cannot decode: its raw text was searched above
                continue
        if part.is_multipart():
            return False
        payload = part.get_payload(decode=True) or b""
        if any(n in payload.lower() for n in self.blobs):
            return True
        charset = part.get_content_charset() or "utf-8"
        try:
            return self.in_text(payload.decode(charset, "replace"))
        except LookupError:  # an unknown charset
            return False


def tombstone(what: str, size: int, when: datetime) -> bytes:
    """What stands in for erased bytes: a small plain-text mail saying what was removed and when."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f"X-EOCIC-Erased: {stamp}\r\nSubject: [erased on request]\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"Erased on {stamp}: {what} ({size} bytes) held personal data of a person whose data was erased "
            f"on request (GDPR art. 17).\r\n").encode()
