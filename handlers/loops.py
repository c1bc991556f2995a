"""Recognise mail that must never be answered: auto-replies, bounces, list traffic, ourselves.

Decided from headers alone (RFC 3834, RFC 3464, RFC 2369/2919), before any classifier runs.
"""

from __future__ import annotations

import email
import email.policy
import re

from handlers.parsing import ParsedMail

NEVER_ANSWER_LOCALPARTS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|notifications?)([+.-].*)?$", re.I
)
_PRECEDENCE_AUTO = {"bulk", "junk", "list", "auto_reply"}


def automatic_kind(mail: ParsedMail) -> tuple[str, str] | None:
    """('bounce'|'auto-reply'|'list', reason) when headers show the mail is automatic, else None."""
    localpart = mail.from_addr.partition("@")[0]
    if mail.content_type == "multipart/report" and _report_type(mail) == "delivery-status":
        return "bounce", "multipart/report; report-type=delivery-status"
    if localpart.lower() in {"mailer-daemon", "postmaster"}:
        return "bounce", f"sender {mail.from_addr}"
    return_path = mail.header("return-path")
    if return_path is not None and return_path.strip() in {"<>", ""}:
        if any(a.content_type == "message/delivery-status" for a in mail.attachments):
            return "bounce", "empty Return-Path with delivery-status"
        return "auto-reply", "empty Return-Path"
    auto_submitted = (mail.header("auto-submitted") or "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return "auto-reply", f"Auto-Submitted: {auto_submitted}"
    if mail.header("x-autoreply") or mail.header("x-autorespond") or mail.header("x-auto-response-suppress"):
        return "auto-reply", "X-Autoreply/X-Auto-Response-Suppress header"
    precedence = (mail.header("precedence") or "").strip().lower()
    if precedence in _PRECEDENCE_AUTO:
        return ("list" if precedence in {"bulk", "list"} else "auto-reply"), f"Precedence: {precedence}"
    if mail.header("list-id") or mail.header("list-unsubscribe"):
        return "list", "List-Id/List-Unsubscribe header"
    return None


def never_answer(address: str, desk_address: str) -> bool:
    """Addresses that get no automatic mail: ourselves and machine senders."""
    address = address.lower()
    return not address or address == desk_address.lower() or bool(
        NEVER_ANSWER_LOCALPARTS.match(address.partition("@")[0])
    )


def _report_type(mail: ParsedMail) -> str:
    ctype = mail.header("content-type") or ""
    found = re.search(r'report-type\s*=\s*"?([\w-]+)', ctype, re.I)
    return found.group(1).lower() if found else ""


def bounce_details(mail: ParsedMail) -> tuple[list[str], str | None, bool]:
    """(failed recipients, Message-ID of the mail that bounced, permanent?) from a DSN."""
    recipients: list[str] = []
    permanent = True
    original_id: str | None = None
    for att in mail.attachments:
        if att.content_type == "message/delivery-status":
            text = att.payload.decode("utf-8", "replace")
            recipients += [r.strip().lower() for r in re.findall(r"^Final-Recipient:\s*[\w.-]+;\s*(\S+)", text, re.I | re.M)]
            statuses = re.findall(r"^Status:\s*(\d)\.", text, re.M)
            permanent = not statuses or any(s == "5" for s in statuses)
        elif att.content_type in ("message/rfc822", "text/rfc822-headers"):
            original = email.message_from_bytes(att.payload, policy=email.policy.compat32)
            found = re.search(r"<[^<>\s]+>", original.get("Message-ID", "") or "")
            original_id = original_id or (found.group(0) if found else None)
    if not recipients:  # a DSN without the machine-readable part: look in the human text
        recipients = sorted(set(re.findall(r"<([^<>\s@]+@[^<>\s]+)>", mail.text)))[:3]
    if original_id is None:
        found = re.search(r"^Message-ID:\s*(<[^<>\s]+>)", mail.text, re.I | re.M)
        original_id = found.group(1) if found else None
    return recipients, original_id, permanent
