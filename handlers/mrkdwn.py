"""Text for Slack that stays inert: escape what came from outside, cut to Slack's limits.

Slack reads `<!channel>`, `<@U123>` and `<http://x|label>` in message text as commands and
links; escaping `&`, `<` and `>` (Slack's own rule) shows them as typed instead.
"""

from __future__ import annotations

import re

_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")


def escape(text: str | None) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int, marker: str = "…") -> str:
    """`text` within `limit` characters, never splitting an entity made by `escape`."""
    if len(text) <= limit:
        return text
    head = _ENTITY_TAIL.sub("", text[: limit - len(marker)])
    return head + marker


def inert(text: str | None, limit: int) -> str:
    """Escaped and cut: the form for any mail-derived text put into mrkdwn."""
    return cut(escape(text), limit)


def quote(text: str, limit: int, lines: int = 12) -> str:
    """The first `lines` non-empty lines as a mrkdwn block quote, escaped and cut."""
    kept = [line for line in (text or "").splitlines() if line.strip()][:lines]
    return cut("\n".join(">" + escape(line) for line in kept), limit)


def mention(actor: str | None) -> str:
    """`slack:U123`/`U123` as a Slack mention; anything else (cli, desk) escaped."""
    value = (actor or "").removeprefix("slack:")
    return f"<@{value}>" if re.fullmatch(r"[UW][A-Z0-9]+", value) else escape(actor or "someone")
