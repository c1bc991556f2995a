"""Multilingual cue lexicons: phrases that point to an intent or a service category.

They are hand-written from the catalogue (seed 000), the label scheme and how cluster managers
write, in en/fr/es/de/it/pt/pl/nl (+ a few others). They are not decisions on their own: each
lexicon becomes a feature of the linear models (so the models learn how far to trust it), and
the phrase that fired is what `reasons` shows a person.

The patterns themselves are data, in config/classifier/{intent_cues,negative_cues,category_cues,aside}.yaml
(read by `lexicon.py`); this module indexes them for fast matching. Patterns are matched on
lower-cased text; keep them short stems so that inflections match.
"""

from __future__ import annotations

import re

from . import lexicon

INTENT_CUES = lexicon.load("intent_cues")
NEGATIVE_CUES = lexicon.load("negative_cues")
CATEGORY_CUES = lexicon.load("category_cues")
ASIDE = lexicon.load("aside")["aside"]

INTENTS = ["service-request", "survey", "subscribe", "unsubscribe", "auto-reply", "bounce", "spam", "other"]


_META = set("\\.^$*+?{}[]|()")


def _literal_alts(pattern: str, limit: int = 8) -> tuple[str, ...]:
    """The literal texts one of which every match of `pattern` starts with (small character
    classes such as [ée] are expanded); () when there is none worth relying on."""
    p = pattern
    while p.startswith("\\b") or p.startswith("^") or p.startswith("(?<"):
        if p.startswith("(?<"):
            p = p[_group_end(p, 0):]
        else:
            p = p[2:] if p.startswith("\\b") else p[1:]
    alts = [""]
    i = 0
    while i < len(p):
        c = p[i]
        nxt_i = i + 1
        if c == "\\":
            if p.startswith("\\s+", i) or (p.startswith("\\s", i) and not p.startswith("\\s?", i) and not p.startswith("\\s*", i)):
                # cue text has its whitespace collapsed to single spaces (see match_text)
                chars = [" "]
                nxt_i = i + (3 if p.startswith("\\s+", i) else 2)
                if len(alts) * len(chars) > limit:
                    break
                alts = [a + " " for a in alts]
                i = nxt_i
                continue
            if i + 1 >= len(p) or p[i + 1] in "sSdDwWbBAZ" or p[i + 1].isdigit():
                break
            chars = [p[i + 1]]
            nxt_i = i + 2
        elif c == "[":
            end = p.find("]", i + 1)
            body = p[i + 1:end] if end > 0 else ""
            if end < 0 or not body or body.startswith("^") or "\\" in body or "-" in body:
                break
            chars = list(body)
            nxt_i = end + 1
        elif c in _META:
            break
        else:
            chars = [c]
        if nxt_i < len(p) and p[nxt_i] in "?*{":
            break                      # optional: stop before it
        if len(alts) * len(chars) > limit:
            break
        alts = [a + ch for a in alts for ch in chars]
        i = nxt_i
    if not alts or min(len(a) for a in alts) < 2:
        return ()
    return tuple(dict.fromkeys(alts))


def _group_end(p: str, start: int) -> int:
    """Index just after the ')' closing the group that opens at p[start] == '('."""
    depth = 0
    i = start
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(p)


def _split_top(body: str) -> list[str]:
    parts, depth, cur, i = [], 0, [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            cur.append(body[i:i + 2])
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def required_literals(pattern: str, depth: int = 0) -> tuple[str, ...]:
    """Substrings of which at least one occurs in every match of `pattern` (() = unknown: always run)."""
    p = pattern
    while p.startswith("\\b") or p.startswith("^"):
        p = p[2:] if p.startswith("\\b") else p[1:]
    if depth > 3:
        return ()
    if p.startswith("(?:"):
        end = _group_end(p, 0)
        optional = end < len(p) and p[end] in "?*"
        if optional:
            rest = p[end + 1:].lstrip()
            while rest.startswith("\\s"):
                rest = rest[3:].lstrip("+*?")
            return required_literals(rest, depth + 1) if rest else ()
        alts = _split_top(p[3:end - 1])
        lits = []
        for alt in alts:
            sub = required_literals(alt, depth + 1)
            if not sub:
                return ()
            lits.extend(sub)
        return tuple(lits)
    return _literal_alts(p)


KEY_LEN = 4


def _key(literal: str) -> str:
    """Index key of a literal: its first 4 (or 3) characters ('' = too short to index)."""
    if len(literal) >= KEY_LEN:
        return literal[:KEY_LEN]
    return literal[:3] if len(literal) >= 3 else ""


def match_text(text: str) -> str:
    """What the cue tables expect: lower case, whitespace collapsed to single spaces."""
    return " ".join(text.lower().split())


def text_grams(text: str) -> frozenset:
    """All 3- and 4-character substrings of `text`: computed once, shared by the cue tables."""
    return frozenset([text[i:i + 3] for i in range(len(text) - 2)] + [text[i:i + KEY_LEN] for i in range(len(text) - KEY_LEN + 1)])


class _Table:
    """Per label: patterns with a literal prefix are only run when that prefix occurs in the text
    (a plain substring test), which keeps ~1,000 patterns cheap per mail."""

    def __init__(self, table: dict[str, list[str]]):
        self.labels = list(table)
        self.entries: list[tuple[str, tuple[str, ...], re.Pattern]] = []
        self.always: list[int] = []                 # entries without a usable literal
        self.by_key: dict[str, list[int]] = {}      # first 1-3 letters of a literal -> entries
        for label, pats in table.items():
            for pat in pats:
                lits = tuple(x.lower() for x in required_literals(pat))
                k = len(self.entries)
                self.entries.append((label, lits, re.compile(pat)))
                keys = {_key(x) for x in lits}
                if not lits or "" in keys:
                    self.always.append(k)
                else:
                    for key in keys:
                        self.by_key.setdefault(key, []).append(k)
        self.keyset = frozenset(self.by_key)

    def hits(self, text: str, grams: frozenset | None = None) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        cand = set(self.always)
        by_key = self.by_key
        if grams is None:
            grams = text_grams(text)
        for key in grams & self.keyset:
            cand.update(by_key[key])
        entries = self.entries
        for k in sorted(cand):
            label, lits, rx = entries[k]
            if lits:
                if len(lits) == 1:
                    if lits[0] not in text:
                        continue
                elif not any(x in text for x in lits):
                    continue
            for m in rx.finditer(text):
                s = m.group(0).strip()
                if not s:
                    continue
                found = out.setdefault(label, [])
                if s not in found:
                    found.append(s)
        return out


_INTENT = _Table(INTENT_CUES)
_NEG = _Table(NEGATIVE_CUES)
_CATEGORY = _Table(CATEGORY_CUES)


def intent_hits(text: str, grams: frozenset | None = None) -> dict[str, list[str]]:
    """Cue phrases per intent (and pseudo-label) found in lower-cased `text`."""
    return _INTENT.hits(text, grams)


def negative_hits(text: str, grams: frozenset | None = None) -> dict[str, list[str]]:
    return _NEG.hits(text, grams)


def category_hits(text: str, grams: frozenset | None = None) -> dict[str, list[str]]:
    return _CATEGORY.hits(text, grams)


INTENT_CUE_LABELS = _INTENT.labels
NEG_CUE_LABELS = _NEG.labels
CATEGORY_CUE_LABELS = _CATEGORY.labels
