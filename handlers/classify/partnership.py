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
    r"\bnoss\w*|em\s+nome|\bnasz\w*|\bjeste[śs]my|w\s+imieniu|\bons\b|\bonze|namens)\W*(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
# a mention that names ANOTHER partnership: someone the sender wants to meet, be introduced to, …
_OTHER_RE = re.compile(
    r"(?:introduc\w*\s+(?:us|me)\s+to|put\s+(?:us|me)\s+in\s+touch\s+with|in\s+touch\s+with|connect\s+(?:us\s+)?with|"
    r"(?:people|someone|somebody|anyone)\s+(?:from|of|at|in|behind)|other\s+partnerships?\s+(?:such\s+as|like)|such\s+as|"
    r"(?:similar|like)\s+to|collaborat\w+\s+with|cooperat\w+\s+with|"
    r"quelqu'un\s+(?:de|du|chez)|mettre\s+en\s+(?:relation|contact)\s+avec|contacter|rencontrer|coll[èe]gues\s+(?:de|du)|"
    r"alguien\s+(?:de|del)|poner(?:nos|me)?\s+en\s+contacto\s+con|contactar\s+con|conocer\s+a|"
    r"jemand(?:en)?\s+(?:von|aus|bei)|kontakt\s+(?:zu|mit)|kennenlernen|"
    r"qualcuno\s+(?:di|del|della)|mettere\s+in\s+contatto\s+con|contattare|presentate\s+qualcuno|"
    r"algu[ée]m\s+(?:d[aoe]|do|da)|p[ôo]r(?:-nos)?\s+em\s+contacto\s+com|contactar|"
    r"kogo[śs]\s+z|kto[śs]\s+z|skontaktowa[ćc]\s+(?:nas|si[ęe])\s+z|kontakt\s+z)\W+(?:\w+\W+){0,4}$",
    re.IGNORECASE,
)
# "… with X": often another partnership, sometimes the sender's own ("travelling with the X team")
_WITH_RE = re.compile(r"(?:\bwith|\bavec|\bcon|\bmit|\bcom|\bcol|\bz)\s+(?:the\s+|la\s+|le\s+|el\s+|der\s+|die\s+|il\s+|o\s+|a\s+)?$",
                      re.IGNORECASE)


@dataclass
class PartnershipResult:
    acronym: str | None
    confidence: float
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


def _add(scores, reasons, acronym, w, why, named=None):
    scores[acronym] = scores.get(acronym, 0.0) + w
    reasons.setdefault(acronym, []).append(why)
    if named is not None:
        named[acronym] = named.get(acronym, 0.0) + w


def resolve(mail: ParsedMail, prep: Prepared, registry: Registry, known: str | None = None,
            intent: str | None = None) -> PartnershipResult:
    scores: dict[str, float] = {}
    why: dict[str, list[str]] = {}
    named: dict[str, float] = {}      # only the partnership's own name written out (what auto-replies count)

    # signature (and the sender's display name): the strongest text signal
    for m in registry.find_mentions(prep.body.signature):
        w = 3.0 if m.kind == "alias" else 2.5
        _add(scores, why, m.acronym, w, f'signature "{m.surface}"' + (f" (member of {m.acronym})" if m.kind == "member" else ""),
             named if m.kind == "alias" else None)
    for m in registry.find_mentions(mail.from_name or ""):
        _add(scores, why, m.acronym, 3.0, f'sender name "{m.surface}"', named if m.kind == "alias" else None)
    for m in registry.find_mentions(prep.subject):
        _add(scores, why, m.acronym, 1.5, f'subject "{m.surface}"')

    # the text written now
    text = prep.body.new
    seen_first = False
    for m in registry.find_mentions(text):
        before = text[max(0, m.start - 60):m.start]
        w = 2.0 if m.kind == "alias" else 1.8
        label = f'text "{m.surface}"' + (f" (member of {m.acronym})" if m.kind == "member" else "")
        if _OTHER_RE.search(before):
            w -= 1.4
            label += " (other partnership?)"
        elif _WITH_RE.search(before):
            w -= 0.4
            label += " (with)"
        elif _OWN_RE.search(before):
            w += 1.5
            label += " (own)"
        if not seen_first:
            w += 0.3
            seen_first = True
        _add(scores, why, m.acronym, w, label, named if m.kind == "alias" else None)

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
    if prep.body.quoted and intent != "bounce":
        for m in registry.find_mentions(prep.body.quoted[:1500]):
            _add(scores, why, m.acronym, 0.6, f'quoted text "{m.surface}"')

    if intent in ("bounce", "spam"):
        # a bounce of our mail to an ADPACK² contact is nobody's request
        return PartnershipResult(None, 0.9, ["bounce/spam: no partnership"] if scores else [], scores)

    if intent == "auto-reply":
        # an out-of-office names the partnership only when it writes it out ("for FoodNet matters
        # please contact …"); the address or a member cluster's name is not enough
        scores = named
    if not scores:
        return PartnershipResult(None, 0.85, [])
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    if top < MIN_SCORE:
        return PartnershipResult(None, 0.6, [f"weak hint {best} ({'; '.join(why[best])}) not enough"], scores)
    margin = top - second
    conf = min(0.99, 0.5 + 0.1 * top + 0.1 * margin)
    if second and margin < 0.5:
        conf = min(conf, 0.55)
    reasons = [f"partnership {best}: " + "; ".join(why[best][:3])]
    if len(ranked) > 1:
        reasons.append("also names: " + ", ".join(a for a, _ in ranked[1:4]))
    return PartnershipResult(best, round(conf, 3), reasons, scores)
