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

import functools
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


def _tokens(p: str, start: int = 0):
    """(index, token, group depth after it) for each character of regex `p` from `start`; an escape
    (backslash and the character it escapes) is one token."""
    depth, i = 0, start
    while i < len(p):
        token = p[i:i + 2] if p[i] == "\\" else p[i]
        depth += {"(": 1, ")": -1}.get(token, 0)
        yield i, token, depth
        i += len(token)


def _group_end(p: str, start: int) -> int:
    """Index just after the ')' closing the group that opens at p[start] == '('."""
    return next((i + 1 for i, token, depth in _tokens(p, start) if token == ")" and depth == 0), len(p))


def _split_top(body: str) -> list[str]:
    """The alternatives of `body` split at its top-level '|'."""
    parts, cur = [], []
    for _, token, depth in _tokens(body):
        if token == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(token)
    parts.append("".join(cur))
    return parts


_QUANTIFIERS_RE = re.compile(r"(?:[+*?]|\{\d*,?\d*\})*")


def _following(rest: str, depth: int) -> tuple[tuple[str, ...], bool]:
    """The literals required by what follows a group in a pattern (its quantifier and the whitespace
    classes after it skipped); a match does not start with them."""
    rest = rest[_QUANTIFIERS_RE.match(rest).end():].lstrip()
    while rest.startswith("\\s"):
        rest = rest[3:].lstrip("+*?")
    return (required_literals(rest, depth + 1)[0], False) if rest else ((), False)


def required_literals(pattern: str, depth: int = 0) -> tuple[tuple[str, ...], bool]:
    """Substrings of which at least one occurs in every match of `pattern`, and whether every match
    starts with one of them (((), False) = unknown: always run)."""
    p = pattern
    while p.startswith("\\b") or p.startswith("^"):
        p = p[2:] if p.startswith("\\b") else p[1:]
    if depth > 3:
        return (), False
    if p.startswith("(?:"):
        end = _group_end(p, 0)
        if end < len(p) and p[end] in "?*":            # optional
            return _following(p[end:], depth)
        lits: list[str] = []
        starts = end >= len(p) or p[end] != "{"        # (?:…){0,n} may be skipped
        for alt in _split_top(p[3:end - 1]):
            sub, sub_starts = required_literals(alt, depth + 1)
            if not sub:
                # an alternative without a literal ("(?:we|i) need"): every match still holds what follows
                return _following(p[end:], depth)
            lits.extend(sub)
            starts = starts and sub_starts
        return tuple(lits), starts
    lits = _literal_alts(p)
    return lits, bool(lits)


def match_text(text: str) -> str:
    """What the cue tables expect: lower case, whitespace collapsed to single spaces."""
    return " ".join(text.lower().split())


def _trie_pattern(literals) -> str:
    """One regular expression matching the longest of `literals` that starts where it is tried."""
    trie: dict = {}
    for lit in literals:
        node = trie
        for ch in lit:
            node = node.setdefault(ch, {})
        node[""] = {}

    def render(node: dict) -> str:
        branches = [re.escape(ch) + render(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # greedy: a longer literal is tried before the one that ends here
        return f"(?:{body})?" if "" in node else body

    return render(trie)


class Found(dict):
    """Literal -> the positions where it starts in one text (every occurrence, overlaps included)."""


class _Scanner:
    """Every occurrence of every literal of the cue tables with one compiled pattern: the pattern
    finds the longest literal starting at the next position where one starts, the literals that are
    its prefixes start there too, and the search goes on one character further (so overlapping
    occurrences are found as well)."""

    def __init__(self, literals):
        literals = sorted(set(literals))
        known = set(literals)
        self.rx = re.compile(_trie_pattern(literals))
        self.prefixes = {lit: tuple(lit[:n] for n in range(1, len(lit) + 1) if lit[:n] in known) for lit in literals}

    def scan(self, text: str) -> Found:
        found = Found()
        prefixes = self.prefixes
        search = self.rx.search
        m = search(text)
        while m:
            at = m.start()
            for lit in prefixes[m.group()]:
                found.setdefault(lit, []).append(at)
            m = search(text, at + 1)
        return found


class _Table:
    """Per label: a pattern is only run when one of its literals occurs in the text (see `scan`);
    when every match starts with one, it is only tried where they start. That keeps ~1,000
    patterns cheap per mail, with the same hits as running each over the whole text."""

    def __init__(self, table: dict[str, list[str]]):
        self.labels = list(table)
        self.entries: list[tuple[str, tuple[str, ...], bool, re.Pattern]] = []
        self.always: list[int] = []                  # entries without a usable literal
        self.by_literal: dict[str, list[int]] = {}
        for label, pats in table.items():
            for pat in pats:
                lits, starts = required_literals(pat)
                lits = tuple(dict.fromkeys(x.lower() for x in lits))
                k = len(self.entries)
                self.entries.append((label, lits, starts, re.compile(pat)))
                if not lits:
                    self.always.append(k)
                for lit in lits:
                    self.by_literal.setdefault(lit, []).append(k)

    def hits(self, text: str, found: Found) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        cand = set(self.always)
        by_literal = self.by_literal
        for lit in found.keys() & by_literal.keys():
            cand.update(by_literal[lit])
        entries = self.entries
        for k in sorted(cand):
            label, lits, starts, rx = entries[k]
            if starts:
                matches = []
                end = 0
                # one literal (most patterns): its positions are already in order, each once
                ats = found.get(lits[0], ()) if len(lits) == 1 else sorted({at for lit in lits for at in found.get(lit, ())})
                for at in ats:
                    if at >= end and (m := rx.match(text, at)):
                        matches.append(m)
                        end = m.end()
            else:
                matches = rx.finditer(text)
            for m in matches:
                s = m.group(0).strip()
                if not s:
                    continue
                hit = out.setdefault(label, [])
                if s not in hit:
                    hit.append(s)
        return out


class Alternation:
    """`"|".join(patterns)` compiled, but tried on a text (lower case, whitespace collapsed: see
    match_text) with only the patterns one of whose literals occurs in it: a pattern with none
    cannot match there, so the match is the same (leftmost, the earlier pattern where two match at
    one place) for a fraction of the work on most texts."""

    def __init__(self, patterns: list[str]):
        self.patterns = patterns
        self.always: set[int] = set()
        self.literals: list[tuple[str, int]] = []
        for k, pat in enumerate(patterns):
            lits = required_literals(pat)[0]
            if not lits:
                self.always.add(k)
            self.literals += [(lit.lower(), k) for lit in lits]
        # one compiled pattern per set of candidates, the sets texts have met most lately: the mail chooses
        # the set, and there are 2 ** len(patterns) of them, so the cache is bounded
        self._compiled = functools.lru_cache(maxsize=256)(self._compile)

    def _compile(self, which: tuple[int, ...]) -> re.Pattern | None:
        return re.compile("|".join(f"(?:{self.patterns[k]})" for k in which)) if which else None

    def search(self, text: str) -> re.Match | None:
        rx = self._compiled(tuple(sorted(self.always.union({k for lit, k in self.literals if lit in text}))))
        return rx.search(text) if rx else None


_INTENT = _Table(INTENT_CUES)
_NEG = _Table(NEGATIVE_CUES)
_CATEGORY = _Table(CATEGORY_CUES)
_SCANNER = _Scanner(lit for table in (_INTENT, _NEG, _CATEGORY) for lit in table.by_literal)


def scan(text: str) -> Found:
    """Where the cue tables' literals occur in lower-cased `text`: computed once, shared by the tables."""
    return _SCANNER.scan(text)


def intent_hits(text: str, found: Found | None = None) -> dict[str, list[str]]:
    """Cue phrases per intent (and pseudo-label) found in lower-cased `text`."""
    return _INTENT.hits(text, scan(text) if found is None else found)


def negative_hits(text: str, found: Found | None = None) -> dict[str, list[str]]:
    return _NEG.hits(text, scan(text) if found is None else found)


def category_hits(text: str, found: Found | None = None) -> dict[str, list[str]]:
    return _CATEGORY.hits(text, scan(text) if found is None else found)


INTENT_CUE_LABELS = _INTENT.labels
NEG_CUE_LABELS = _NEG.labels
CATEGORY_CUE_LABELS = _CATEGORY.labels
SWITCH = Alternation(INTENT_CUES["switch"])   # "Survey is done. Something else: …"
ASIDE_START = Alternation(ASIDE)                # "By the way, …"
