"""Which partnership wrote: registry aliases and member clusters in the signature, the sender's name,
the subject and the text, the sender's domain, and what the database already knows.

Every signal adds weight to a candidate; a mention that reads like ANOTHER partnership ("put us in
touch with SpaceWave", "like the MAGIA partnership did") weighs less than one that reads like the
sender's own ("on behalf of AdPack2", "our ELBE partners", a signature line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from config.registry import Registry

from handlers.parsing import ParsedMail

from .features import Prepared

MIN_SCORE = 1.5

_OWN_RE = re.compile(
    r"(?:\bour|\bwe\b|\bwe're|\bus\b|on\s+behalf\s+of|behalf|member\s+of|partner\s+(?:in|of)|coordinat\w*|i\s+am\s+\w+\s+(?:of|at|in)|"
    r"\bnotre|\bnos\b|\bnous|au\s+nom\s+d|\bnuestr\w*|\bsomos|en\s+nombre\s+d|\bunser\w*|\bwir\b|im\s+namen|\bnostr\w*|\bsiamo|per\s+conto|a\s+nome|"
    r"\bnoss\w*|\bsomos|em\s+nome|\bnasz\w*|\bjeste[śs]my|w\s+imieniu|\bons\b|\bonze|namens)\W*(?:\w+\W+){0,4}$",
    re.IGNORECASE,
)
_OTHER_RE = re.compile(
    r"(?:\bother|another|\bwith\b|\blike\b|\bcontact\b|touch|introduc\w*|\bmeet\b|\bfrom\s+the\b|colleagues?\s+(?:of|from|at)|\bto\b|"
    r"\bautres?|\bavec\b|\bcomme\b|\botr[oa]s?\b|\bcon\b|\bcomo\b|\bander\w*|\bmit\b|\bwie\b|\baltr[oiae]\b|\bcome\b|\boutr[oa]s?\b|\bcom\b|"
    r"\binn\w*|\bz\b|\bjak\b|\bmet\b|\bzoals\b)\W*(?:the\s+|la\s+|le\s+|el\s+|die\s+|der\s+|den\s+|il\s+|a\s+|o\s+)?(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)


@dataclass
class PartnershipResult:
    acronym: str | None
    confidence: float
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


def _add(scores, reasons, acronym, w, why):
    scores[acronym] = scores.get(acronym, 0.0) + w
    reasons.setdefault(acronym, []).append(why)


def resolve(mail: ParsedMail, prep: Prepared, registry: Registry, known: str | None = None,
            intent: str | None = None) -> PartnershipResult:
    scores: dict[str, float] = {}
    why: dict[str, list[str]] = {}

    # signature (and the sender's display name): the strongest text signal
    for m in registry.find_mentions(prep.body.signature):
        w = 3.0 if m.kind == "alias" else 2.5
        _add(scores, why, m.acronym, w, f'signature "{m.surface}"' + (f" (member of {m.acronym})" if m.kind == "member" else ""))
    for m in registry.find_mentions(mail.from_name or ""):
        _add(scores, why, m.acronym, 3.0, f'sender name "{m.surface}"')
    for m in registry.find_mentions(prep.subject):
        _add(scores, why, m.acronym, 1.5, f'subject "{m.surface}"')

    # the text written now
    text = prep.body.new
    seen_first = False
    for m in registry.find_mentions(text):
        before = text[max(0, m.start - 60):m.start]
        w = 2.0 if m.kind == "alias" else 1.8
        label = f'text "{m.surface}"' + (f" (member of {m.acronym})" if m.kind == "member" else "")
        if _OWN_RE.search(before):
            w += 1.5
            label += " (own)"
        elif _OTHER_RE.search(before):
            w -= 1.4
            label += " (other partnership?)"
        if not seen_first:
            w += 0.3
            seen_first = True
        _add(scores, why, m.acronym, w, label)

    # the address
    p = registry.by_contact_email(mail.from_addr) or registry.by_domain(mail.from_addr)
    if p:
        _add(scores, why, p.acronym, 3.0, f"sender domain {mail.from_addr.rsplit('@', 1)[-1]}")
    else:
        p = registry.by_domain_name(mail.from_addr)
        if p:
            _add(scores, why, p.acronym, 2.5, f"sender domain {mail.from_addr.rsplit('@', 1)[-1]} names {p.acronym}")

    # earlier mails of this address / organisation
    if known:
        kp = registry.by_acronym(known)
        if kp:
            _add(scores, why, kp.acronym, 2.5, f"earlier mails from this sender: {kp.acronym}")

    # the quoted part: weak (it may be our own reply naming their partnership)
    if prep.body.quoted and intent not in ("bounce",):
        for m in registry.find_mentions(prep.body.quoted[:4000]):
            _add(scores, why, m.acronym, 0.6, f'quoted text "{m.surface}"')

    if intent in ("bounce", "spam"):
        # a bounce of our mail to an ADPACK² contact is nobody's request
        return PartnershipResult(None, 0.9, ["bounce/spam: no partnership"] if scores else [], scores)

    if not scores:
        return PartnershipResult(None, 0.85, [])
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    if top < MIN_SCORE:
        return PartnershipResult(None, 0.6, [f"weak hint {best} ({'; '.join(why[best])}) not enough"], scores)
    if intent == "auto-reply" and top < 3.0:
        return PartnershipResult(None, 0.6, [f"auto-reply: weak hint {best} ignored"], scores)
    margin = top - second
    conf = min(0.99, 0.5 + 0.1 * top + 0.1 * margin)
    if second and margin < 0.5:
        conf = min(conf, 0.55)
    reasons = [f"partnership {best}: " + "; ".join(why[best][:3])]
    if len(ranked) > 1:
        reasons.append("also names: " + ", ".join(a for a, _ in ranked[1:4]))
    return PartnershipResult(best, round(conf, 3), reasons, scores)
