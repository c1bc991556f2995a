"""What the desk reports about a campaign: response rate overall and by strand, who is pending,
reminders sent; the daily status line and the closing summary; the bar chart's data."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.timeparse import zone
from models.surveys import mail_contact, participants_of
from models.partnerships import Contact
from models.surveys import Campaign


def strand_label(partnership_type: str, strand: str | None) -> str:
    """'ESCP-4i strand-1', 'ESCP-4i strand-2', 'ESCP-4i' (strand not recorded), 'ESCP-S3'."""
    return f"{partnership_type} {strand}" if strand else partnership_type


def rate(answered: int, total: int) -> float:
    return round(100.0 * answered / total, 1) if total else 0.0


async def campaign_status(session: AsyncSession, campaign: Campaign) -> dict:
    """Plain data for the CLI (`survey status --json`), Slack and the chart."""
    participants, groups = [], {}
    for participant, partnership in await participants_of(session, campaign):
        writing_to = await mail_contact(session, participant)
        shown = writing_to or (await session.get(Contact, participant.contact_id) if participant.contact_id else None)
        label = strand_label(partnership.type, partnership.strand)
        group = groups.setdefault(label, {"answered": 0, "total": 0})
        group["total"] += 1
        group["answered"] += participant.completed_at is not None
        participants.append({
            "partnership": partnership.acronym,
            "strand": label,
            "email": shown.email if shown else None,
            "address_failing": writing_to is None,
            "invited_at": _iso(participant.invited_at),
            "reminders_sent": participant.reminders_sent,
            "last_call_sent_at": _iso(participant.last_call_sent_at),
            "completed_at": _iso(participant.completed_at),
            "completed_via": participant.completed_via,
            "opted_out": participant.opted_out,
        })
    answered = sum(1 for p in participants if p["completed_at"])
    for group in groups.values():
        group["pending"] = group["total"] - group["answered"]
        group["rate"] = rate(group["answered"], group["total"])
    tz = zone(campaign.timezone)
    return {
        "name": campaign.name,
        "audience": campaign.audience,
        "state": campaign.state,
        "opens_at": campaign.opens_at.astimezone(tz).isoformat(),
        "closes_at": campaign.closes_at.astimezone(tz).isoformat(),
        "timetable": {"first_reminder": campaign.first_reminder, "every": campaign.every,
                      "max_reminders": campaign.max_reminders, "last_call_before": campaign.last_call_before,
                      "window": campaign.send_window, "timezone": campaign.timezone},
        "total": len(participants),
        "invited": sum(1 for p in participants if p["invited_at"]),
        "answered": answered,
        "pending": [p["partnership"] for p in participants if not p["completed_at"]],
        "response_rate": rate(answered, len(participants)),
        "by_strand": dict(sorted(groups.items())),
        "reminders_sent": sum(p["reminders_sent"] for p in participants),
        "last_calls_sent": sum(1 for p in participants if p["last_call_sent_at"]),
        "participants": participants,
    }


def status_line(status: dict) -> str:
    """One line: 'ESCP-4i 2019: 19/23 answered (82.6%) · ESCP-4i strand-1 12/16 · … · 31 reminders sent'."""
    groups = " · ".join(f"{label} {g['answered']}/{g['total']}" for label, g in status["by_strand"].items())
    pending = ", ".join(status["pending"][:12]) + (" …" if len(status["pending"]) > 12 else "")
    return (f"{status['name']}: {status['answered']}/{status['total']} answered ({status['response_rate']}%)"
            f"{' · ' + groups if len(status['by_strand']) > 1 else ''} · {status['reminders_sent']} reminders sent"
            f"{' · pending: ' + pending if pending else ''} · closes {status['closes_at'][:16].replace('T', ' ')}")


def closing_summary(status: dict) -> str:
    lines = [f"Survey {status['name']} is closed: {status['answered']} of {status['total']} partnerships answered "
             f"({status['response_rate']}%), after {status['reminders_sent']} reminders and {status['last_calls_sent']} last calls."]
    lines += [f"• {label}: {g['answered']} of {g['total']} ({g['rate']}%)" for label, g in status["by_strand"].items()]
    if status["pending"]:
        lines.append("Did not answer: " + ", ".join(status["pending"]))
    return "\n".join(lines)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
