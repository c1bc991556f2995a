"""What Slack sends as command text, back to what the adviser typed (one place, before any handler).

With `should_escape: true` (slack-manifest.yaml) Slack turns what it recognises into markup:
`a@b.example` → `<mailto:a@b.example|a@b.example>`, `@ben` → `<@U0BEN|ben>`, `#triage` →
`<#C0TRIAGE|triage>`, a URL → `<https://…|…>`, `@here` → `<!here>`, and `&`, `<`, `>` into
entities. Handlers get plain words; a user mention stays `<@U…>`, the form they read as a person.
"""

from __future__ import annotations

import re

_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))  # &amp; last: "&amp;lt;" was typed as "&lt;"


def _plain(match: re.Match) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):
        return f"<{target}>"
    if target.startswith("#"):
        return f"#{label}" if label else target
    if target.startswith("!"):
        special = target[1:].split("^")[0]
        return label or (f"@{special}" if special in {"here", "channel", "everyone"} else target)
    if target.startswith("mailto:"):
        return target.removeprefix("mailto:")
    return target


def unescape(text: str) -> str:
    text = _MARKUP.sub(_plain, text or "")
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text
