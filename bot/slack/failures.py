"""A failure the adviser is told about: a reference to quote, and the same reference in the log."""

from __future__ import annotations

import uuid


def failure_ref() -> str:
    return f"ERR-{uuid.uuid4().hex[:8].upper()}"


def failure_text(ref: str) -> str:
    return f"Sorry, that failed; it is logged as {ref}. Try again, or give an administrator that reference."
