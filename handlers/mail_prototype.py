"""A mail composed once as a prototype; each copy is its bytes with the copy's own pieces filled in.

Composing a mail with the `email` package costs 1–4 ms: every header is parsed into an object when
it is set and folded again when the mail is serialised. Intake acknowledges every new request and a
campaign mails thousands, so both compose a prototype (placeholders where the copies differ),
serialise it once and cut it at those placeholders (`Prototype`). A copy's pieces are made by the
code the `email` package runs itself: `header_bytes` folds a header with the policy's own header
class, `qp_body` encodes a body with `quoprimime.body_encode` as `set_content(cte="quoted-printable")`
does, so a copy is byte for byte the composed mail (tests/test_mail_prototype.py and
tests/test_lists_copies.py compare them).
"""

from __future__ import annotations

import random
import re
import sys
from email import quoprimime

from handlers.outgoing import COMPOSE_POLICY, SMTP_POLICY

_HEADER_CLASSES: dict[str, type] = {}
_PLAIN = re.compile(r"[A-Za-z0-9._%+<>@-]+")  # values the policy writes unchanged when the line is short
_LINE_END = re.compile(r"\r\n|\r|\n")  # as the generator splits a payload into lines


def header_bytes(name: str, value: str) -> bytes:
    """The header as the SMTP serialisation writes it (folded by the policy).

    A short plain value (an ASCII address, a Message-ID) is written as it is, which is what the
    policy does with it (each prototype checks that, `plain_as_policy`); anything else goes through
    the policy's header class (looked up once: the registry makes a new class at every call).
    """
    if len(name) + len(value) + 2 <= SMTP_POLICY.max_line_length and _PLAIN.fullmatch(value):
        return f"{name}: {value}\r\n".encode("ascii")
    cls = _HEADER_CLASSES.get(name) or _HEADER_CLASSES.setdefault(name, COMPOSE_POLICY.header_factory[name])
    return cls(name, value).fold(policy=SMTP_POLICY).encode("ascii")


def header_by_policy(name: str, value: str) -> bytes:
    """The header folded by the policy alone: what `header_bytes` must give."""
    return COMPOSE_POLICY.header_factory(name, value).fold(policy=SMTP_POLICY).encode("ascii")


def plain_as_policy(*headers: tuple[str, str]) -> bool:
    return all(header_bytes(name, value) == header_by_policy(name, value) for name, value in headers)


def qp_body(text: str) -> bytes:
    """A text part's body as `set_content(text, cte="quoted-printable")` and the SMTP serialisation
    write it: lines as `splitlines` cuts them, encoded at the compose policy's line length, CRLF."""
    data = quoprimime.body_encode(b"\n".join(text.encode("utf-8").splitlines()).decode("latin-1") + "\n",
                                  COMPOSE_POLICY.max_line_length)
    lines = _LINE_END.split(data)
    return ("".join(line + "\r\n" for line in lines[:-1]) + lines[-1]).encode("ascii")


def new_boundary() -> bytes:
    """A MIME boundary as the `email` generator makes one. It cannot occur in a quoted-printable body,
    which writes every `=` as `=3D` or at a line's end, so it needs no search of the parts."""
    return b"=" * 15 + b"%019d" % random.randrange(sys.maxsize) + b"=="


class Prototype:
    """Serialised mail `raw` cut at `pieces` (byte strings found in it); `fill` puts a copy's in."""

    def __init__(self, raw: bytes, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self._parts = re.compile(b"(" + b"|".join(map(re.escape, pieces)) + b")").split(raw)

    @classmethod
    def cut(cls, raw: bytes, once: list[bytes], anywhere: list[bytes] = ()) -> Prototype | None:
        """The prototype, or None when a piece of `once` does not occur exactly once in `raw`, or one of
        `anywhere` not at all: then it cannot be cut and copies are composed the slow way."""
        if all(raw.count(piece) == 1 for piece in once) and all(piece in raw for piece in anywhere):
            return cls(raw, [*once, *anywhere])
        return None

    def fill(self, own: dict[bytes, bytes]) -> bytes:
        """The copy: each piece of the prototype replaced by `own[piece]`."""
        return b"".join(own[part] if i % 2 else part for i, part in enumerate(self._parts))
