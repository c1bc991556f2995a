"""Every Block Kit shape the desk sends to Slack, built from plain data in this one place.

Text that came from mail goes through `handlers.mrkdwn.inert` (escaped, cut to Slack's
limits); messages keep under 50 blocks, views under 100.
"""

from __future__ import annotations

from datetime import datetime

from handlers.mrkdwn import cut, escape, inert, mention, quote
from handlers.staff_actions import CATEGORIES
from models.base import utcnow

SECTION_CHARS = 3000
FIELD_CHARS = 2000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100

ASSIGN_ME, REPLY, CATEGORY, CLOSE, REOPEN = "ticket_assign_me", "ticket_reply", "ticket_category", "ticket_close", "ticket_reopen"
REPLY_VIEW, CATEGORY_VIEW = "reply_modal", "category_modal"


def _text(text: str, kind: str = "mrkdwn") -> dict:
    return {"type": kind, "text": text, **({"emoji": True} if kind == "plain_text" else {})}


def _section(text: str) -> dict:
    return {"type": "section", "text": _text(cut(text, SECTION_CHARS))}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [_text(cut(text, SECTION_CHARS))]}


def _plain(text: str, limit: int) -> dict:
    return _text(cut(text, limit), "plain_text")


def _button(label: str, action_id: str, ref: str, style: str | None = None) -> dict:
    button = {"type": "button", "text": _plain(label, 75), "action_id": action_id, "value": ref}
    if style:
        button["style"] = style
    return button


def age(iso: str, now: datetime | None = None) -> str:
    seconds = max(0, int(((now or utcnow()) - datetime.fromisoformat(iso)).total_seconds()))
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    return f"{days} d {hours} h" if days else f"{hours} h {minutes} min" if hours else f"{minutes} min"


def ticket_buttons(t: dict, place: str = "") -> dict:
    """The ticket's buttons; `place` keeps block ids unique where a ticket is listed twice (App Home sections)."""
    closed = t["status"] == "closed"
    buttons = [] if closed else [_button("Assign to me", ASSIGN_ME, t["ref"])]
    buttons += [_button("Reply", REPLY, t["ref"], "primary"), _button("Change category", CATEGORY, t["ref"])]
    buttons.append(_button("Reopen", REOPEN, t["ref"]) if closed else _button("Close", CLOSE, t["ref"], "danger"))
    return {"type": "actions", "block_id": f"{place}ticket:{t['ref']}", "elements": buttons}


def _headline(t: dict) -> str:
    flag = "  :warning: *overdue*" if t.get("overdue") else ""
    return (f"*{t['ref']}* · {inert(t.get('partnership') or 'partnership unknown', 64)} · "
            f"{inert(t.get('category') or 'uncategorised', 64)} · _{t['status']}_{flag}")


def ticket_card(t: dict) -> tuple[str, list[dict]]:
    """The triage card: (fallback text, blocks)."""
    requester = t.get("sender") or "?"
    if t.get("requester_name"):
        requester = f"{t['requester_name']} <{requester}>"
    fields = [
        f"*Requester*\n{inert(requester, 300)}",
        f"*Subject*\n{inert(t.get('subject'), 300)}",
        f"*Assignee*\n{mention(t['assignee']) if t.get('assignee') else 'nobody yet'}",
        f"*Age*\n{age(t['created_at'])}",
    ]
    blocks = [
        _section(_headline(t)),
        {"type": "section", "fields": [_text(cut(f, FIELD_CHARS)) for f in fields]},
    ]
    if t.get("excerpt"):
        blocks.append(_section(quote(t["excerpt"], 700, lines=8)))
    notes = []
    if t.get("overdue"):
        notes.append(f":warning: no first response within {t.get('first_response_days', '?')} working days")
    if t.get("needs_review"):
        notes.append(":mag: the classifier was unsure: check the category")
    if t.get("first_response_at"):
        notes.append(f"first response {t['first_response_at'][:16].replace('T', ' ')} UTC")
    if notes:
        blocks.append(_context(" · ".join(notes)))
    blocks.append(ticket_buttons(t))
    text = f"{t['ref']}: {inert(t.get('subject'), 200)} ({t['status']})"
    return text, blocks


def plain_card(t: dict) -> str:
    """The card as text only: what Slack shows when it refused the card's blocks."""
    requester = f"{t['requester_name']} <{t.get('sender')}>" if t.get("requester_name") else t.get("sender") or "?"
    return cut(f"{_headline(t)}\nRequester: {inert(requester, 300)}\nSubject: {inert(t.get('subject'), 300)}\n"
               f"Assignee: {mention(t['assignee']) if t.get('assignee') else 'nobody yet'}\n"
               f"_(Slack refused this card's layout; act with `/eocic show {t['ref']}`)_", SECTION_CHARS)


def thread_message(payload: dict) -> str:
    """A message in a card's thread: an inbound mail or a staff action."""
    if payload.get("type") == "mail":
        who = inert(payload.get("name") or payload.get("from"), 200)
        return cut(f":incoming_envelope: Mail from {who}: *{inert(payload.get('subject'), 300)}*\n"
                   + quote(payload.get("excerpt", ""), 2400, lines=20), SECTION_CHARS)
    actor, verb, detail = mention(payload.get("actor")), payload.get("verb"), payload.get("detail") or {}
    if verb == "assigned":
        return f":bust_in_silhouette: {actor} assigned the ticket to {mention(detail.get('assignee'))}"
    if verb == "replied":
        return cut(f":outbox_tray: {actor} replied to {inert(detail.get('to'), 200)}:\n"
                   + quote(detail.get("text", ""), 2400, lines=20), SECTION_CHARS)
    if verb == "noted":
        return cut(f":memo: Internal note by {actor}:\n" + quote(detail.get("text", ""), 2600, lines=30), SECTION_CHARS)
    if verb == "recategorised":
        return (f":label: {actor} changed the category from {inert(detail.get('previous') or 'none', 64)} "
                f"to {inert(detail.get('category'), 64)}")
    return f":white_check_mark: {actor} {escape(verb or 'changed')} the ticket"


def ticket_rows(tickets: list[dict], place: str = "") -> list[dict]:
    """A compact list of tickets, each with its buttons (App Home, /eocic queue)."""
    blocks: list[dict] = []
    for t in tickets:
        who = f" · {mention(t['assignee'])}" if t.get("assignee") else ""
        blocks.append(_section(f"{_headline(t)}{who}\n{inert(t.get('subject'), 200)} — {inert(t.get('sender'), 100)} · "
                               f"{age(t['created_at'])}"))
        blocks.append(ticket_buttons(t, place))
    return blocks


def home_view(data: dict) -> dict:
    blocks: list[dict] = [{"type": "header", "text": _plain("EOCIC Service Desk", 150)}]
    for key, title in (("mine", "Your open tickets"), ("unassigned", "Unassigned"), ("overdue", "Overdue")):
        part = data[key]
        blocks += [{"type": "divider"}, _section(f"*{title}* ({part['total']})")]
        blocks += ticket_rows(part["tickets"], f"{key}:") or [_context("Nothing here.")]
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS]}


def reply_modal(t: dict) -> dict:
    """The reply form: the quoted request, the answer, an optional internal note."""
    return {
        "type": "modal",
        "callback_id": REPLY_VIEW,
        "private_metadata": t["ref"],
        "title": _plain(f"Reply {t['ref']}", 24),
        "submit": _plain("Send", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            _section(f"*{inert(t.get('subject'), 300)}*\nfrom {inert(t.get('sender'), 200)}"),
            _section(quote(t.get("excerpt", ""), 2500, lines=25) or "_(no text)_"),
            {"type": "input", "block_id": "reply", "label": _plain("Your answer to the requester", 2000),
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 3000}},
            {"type": "input", "block_id": "note", "optional": True, "label": _plain("Internal note (not mailed)", 2000),
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 3000}},
            _context("Sent by mail with your name in the signature, threaded to the request; the ticket then waits "
                     "for the requester."),
        ],
    }


def category_modal(t: dict) -> dict:
    options = [{"text": _plain(f"{label} ({cid})", 75), "value": cid} for cid, label in CATEGORIES.items()]
    select = {"type": "static_select", "action_id": "category", "options": options}
    current = next((o for o in options if o["value"] == t.get("category")), None)
    if current:
        select["initial_option"] = current
    return {
        "type": "modal",
        "callback_id": CATEGORY_VIEW,
        "private_metadata": t["ref"],
        "title": _plain(f"Category {t['ref']}", 24),
        "submit": _plain("Save", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            _section(f"*{inert(t.get('subject'), 300)}*"),
            {"type": "input", "block_id": "category", "label": _plain("Service category", 2000), "element": select},
            _context("The correction is kept as an example for the classifier."),
        ],
    }


MODALS = {"reply": reply_modal, "category": category_modal}


def modal(spec: dict) -> dict:
    """A view from a command's `Reply.modal`: plain data {"form": NAME, "ticket": card}, or a view as is."""
    return MODALS[spec["form"]](spec["ticket"]) if "form" in spec else spec


def command_blocks(text: str, data: dict | None) -> list[dict] | None:
    """Blocks for a command's answer: tickets get their buttons; otherwise plain text is enough."""
    view = (data or {}).get("view")
    if view == "queue":
        return [_section(data["title"]), *ticket_rows(data["tickets"])][:MESSAGE_BLOCKS]
    if view == "ticket":
        t = data["ticket"]
        history = "\n".join(
            f"{m['date'][:16].replace('T', ' ')} {'→' if m['direction'] == 'out' else '←'} {inert(m['from'], 100)}: "
            f"{inert(m['subject'], 150)}" for m in t.get("messages", [])[-15:]
        )
        _, blocks = ticket_card(t)
        return [*blocks[:-1], _context(history or "no messages"), blocks[-1]]
    if len(text) > SECTION_CHARS:
        return [_section(chunk) for chunk in _chunks(text, SECTION_CHARS)][:MESSAGE_BLOCKS]
    return None


def _chunks(text: str, size: int) -> list[str]:
    chunks, current = [], ""
    for line in text.splitlines():
        if current and len(current) + len(line) + 1 > size:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else cut(line, size)
    return [*chunks, current] if current else chunks


def digest(payload: dict) -> tuple[str, list[dict]]:
    if "text" in payload:  # a status line of another feature (handlers.slack_notify.post_text)
        return payload["text"], [_section(payload["text"])]
    tickets = payload.get("tickets", [])
    total = payload.get("total", len(tickets))
    if not total:
        title = ":sunrise: Good morning. No ticket is overdue."
        return title, [_section(title)]
    title = f":sunrise: Good morning. {total} ticket(s) have had no first response within {payload.get('days')} working days."
    more = [_context(f"… and {total - len(tickets)} more: `/eocic queue overdue`")] if total > len(tickets) else []
    return title, [_section(title), *ticket_rows(tickets), *more][:MESSAGE_BLOCKS]
