"""From a ParsedMail to what the models see: header verdicts, the text the sender wrote now, cue hits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from handlers.parsing import ParsedMail

from . import cues
from .text import Body, clean_subject, split_body

_BOUNCE_SENDER_RE = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounces?|no-?reply-?dsn)@", re.IGNORECASE)
_BOUNCE_SUBJECT_RE = re.compile(
    r"undeliver|delivery\s+status\s+notification|mail\s+delivery\s+(?:failed|failure|subsystem)|returned\s+mail|"
    r"delivery\s+(?:failure|has\s+failed)|failure\s+notice|non\s+remis|unzustellbar|non\s+recapitat|no\s+se\s+puede\s+entregar|"
    r"n[ãa]o\s+entregue|niedostarcz|onbestelbaar|impossible\s+de\s+remettre|nicht\s+zustellbar|mancato\s+recapito|message\s+not\s+delivered",
    re.IGNORECASE,
)
# Subjects that mail programs put on automatic replies (at the start of the subject)
_AUTO_SUBJECT_RE = re.compile(
    r"^\s*(?:\[?(?:out\s+of\s+(?:the\s+)?office|automatic\s+reply|auto(?:matic)?[\s-]*(?:reply|response)|autoreply|absence|abwesend|abwesenheitsnotiz|"
    r"automatische\s+antwort|r[ée]ponse\s+automatique|absent|respuesta\s+autom[áa]tica|fuera\s+de\s+la\s+oficina|risposta\s+automatica|fuori\s+ufficio|"
    r"resposta\s+autom[áa]tica|aus[êe]ncia|automatyczna\s+odpowied[źz]|poza\s+biurem|automatisch\s+antwoord|afwezig|automatick[áa]\s+odpov[ěe][ďd]|"
    r"automatick[áa]\s+odpove[ďd]|αυτόματη\s+απάντηση|autosvar|automaattinen\s+vastaus|automatikus\s+v[áa]lasz|r[ăa]spuns\s+automat|samodejni\s+odgovor|"
    r"automatski\s+odgovor|автоматичен\s+отговор|automatinis\s+atsakymas|autom[āa]tiska\s+atbilde|automaatne\s+vastus|vacation|on\s+leave)\]?\s*[:\]-])",
    re.IGNORECASE,
)


@dataclass
class Prepared:
    subject: str
    body: Body
    decision_text: str                      # subject + what the sender wrote now
    header_intent: str | None = None        # 'auto-reply' / 'bounce' decided by headers
    header_conf: float = 0.0
    header_reasons: list[str] = field(default_factory=list)
    intent_cues: dict[str, list[str]] = field(default_factory=dict)
    negative_cues: dict[str, list[str]] = field(default_factory=dict)
    category_cues: dict[str, list[str]] = field(default_factory=dict)
    aside_cues: dict[str, list[str]] = field(default_factory=dict)   # categories only mentioned in passing
    whole_text: str = ""                    # unquoted text incl. signature (language fallback)


def _header_verdict(mail: ParsedMail) -> tuple[str | None, float, list[str]]:
    def first(name: str) -> str:
        return (mail.header(name) or "").strip()

    reasons: list[str] = []
    ctype = (mail.content_type or "").lower()
    ctype_header = first("content-type").lower()
    subject = mail.subject or ""
    sender = (mail.from_addr or "").lower()
    return_path = first("return-path")

    if ctype == "multipart/report" and ("delivery-status" in ctype_header or "report-type" not in ctype_header):
        return "bounce", 0.99, ["multipart/report delivery-status"]
    if any(a.content_type == "message/delivery-status" for a in mail.attachments):
        return "bounce", 0.98, ["message/delivery-status part"]
    if _BOUNCE_SENDER_RE.match(sender):
        reasons.append(f"sender {sender.split('@')[0]}")
        return "bounce", 0.97 if _BOUNCE_SUBJECT_RE.search(subject) else 0.93, reasons

    auto = first("auto-submitted").lower()
    if auto and auto != "no":
        if _BOUNCE_SUBJECT_RE.search(subject):
            return "bounce", 0.95, [f"header Auto-Submitted: {auto}", "bounce subject"]
        return "auto-reply", 0.97, [f"header Auto-Submitted: {auto}"]
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-auto-reply"):
        v = first(name)
        if v and v.lower() not in ("no", "false", "0"):
            return "auto-reply", 0.97, [f"header {name.title()}: {v}"]
    prec = first("precedence").lower()
    if prec in ("auto_reply", "auto-reply", "autoreply"):
        return "auto-reply", 0.95, [f"header Precedence: {prec}"]
    if first("x-ms-exchange-inbox-rules-loop") or first("x-ms-exchange-generated-message-source") == "Mailbox Rules Agent":
        return "auto-reply", 0.9, ["header X-MS-Exchange inbox rules"]
    if return_path.replace(" ", "") in ("<>", "") and mail.header("return-path") is not None:
        if _BOUNCE_SUBJECT_RE.search(subject):
            return "bounce", 0.95, ["empty Return-Path", "bounce subject"]
        return "auto-reply", 0.85, ["empty Return-Path"]
    if _BOUNCE_SUBJECT_RE.search(subject) and re.search(r"mailer|daemon|postmaster|mail\s+delivery", f"{mail.from_name} {sender}", re.IGNORECASE):
        return "bounce", 0.95, ["bounce subject from a mail system"]
    m = _AUTO_SUBJECT_RE.match(subject)
    if m:
        return "auto-reply", 0.9, [f'subject "{m.group(0).strip()}"']
    return None, 0.0, []


# A reply of at least this many words is matched against the cue lexicons without its subject: a
# Re:/AW:/Odp: subject names the OLD thread (the models still see it as one more line of text)
SHORT_REPLY_WORDS = 15


def prepare(mail: ParsedMail) -> Prepared:
    subject = clean_subject(mail.subject or "")
    reply = subject != (mail.subject or "").strip()
    body = split_body(mail.text or "")
    new = body.new
    if len(new.split()) < 4:
        # "Thanks!" alone, or everything fell into the signature: decide on the unquoted whole
        new = "\n".join(x for x in (body.new, body.signature) if x).strip()
        if not new and body.quoted:
            # nothing written above the quote (a bare forward): the forwarded text is the matter
            new = body.quoted[:1500].strip()
    decision = f"{subject}\n{new}".strip()
    hv, hc, hr = _header_verdict(mail)
    p = Prepared(subject=subject, body=body, decision_text=decision, header_intent=hv, header_conf=hc, header_reasons=hr,
                 whole_text=f"{body.new}\n{body.signature}".strip())
    # a short reply ("done!", "ya está") leans on its thread's subject; a long one stands on its own
    use_subject = not reply or len(new.split()) < SHORT_REPLY_WORDS
    low = cues.match_text((decision if use_subject else new)[:2500])
    found = cues.scan(low)
    p.intent_cues = cues.intent_hits(low, found)
    if "switch" in p.intent_cues:
        # "Survey is done. Something else: …" - the request is what follows the switch
        m = cues.SWITCH.search(low)
        tail = low[m.end():] if m else ""
        if len(tail.split()) >= 8:
            low = tail
            found = cues.scan(low)
            switched = cues.intent_hits(low, found)
            switched["switch"] = p.intent_cues["switch"]
            p.intent_cues = switched
    p.negative_cues = cues.negative_hits(low, found)
    m = cues.ASIDE_START.search(low)
    if m and len(low[:m.start()].split()) >= 8:
        # "…could you advise on the mission? By the way, thanks for the recording": the main request is before
        head, tail = low[:m.start()], low[m.start():]
        p.category_cues = cues.category_hits(head)
        p.aside_cues = {k: v for k, v in cues.category_hits(tail).items() if k not in p.category_cues}
    else:
        p.category_cues = cues.category_hits(low, found)
    return p


def dense_intent(p: Prepared, mail: ParsedMail) -> np.ndarray:
    v = [min(len(p.intent_cues.get(x, ())), 3) / 3.0 for x in cues.INTENT_CUE_LABELS]
    v += [min(len(p.negative_cues.get(x, ())), 2) / 2.0 for x in cues.NEG_CUE_LABELS]
    v += [1.0 if p.header_intent == "auto-reply" else 0.0, 1.0 if p.header_intent == "bounce" else 0.0,
          1.0 if (mail.subject or "").strip() != p.subject else 0.0,
          1.0 if len(p.body.new.split()) < 25 else 0.0,
          1.0 if p.body.quoted else 0.0,
          1.0 if not p.body.new.strip() else 0.0,
          # how much of the catalogue the mail talks about: service requests talk about services
          min(len(p.category_cues), 3) / 3.0,
          min(sum(len(x) for x in p.category_cues.values()), 6) / 6.0]
    return np.asarray(v, dtype=np.float64)


def dense_category(p: Prepared) -> np.ndarray:
    return np.asarray([min(len(p.category_cues.get(x, ())), 3) / 3.0 for x in cues.CATEGORY_CUE_LABELS], dtype=np.float64)
