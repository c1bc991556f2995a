"""Every Block Kit shape the desk sends to Slack, built from plain data in this one place.

Handlers return data (a ticket card dict, a form name, a list of pending confirmations); this
module turns it into blocks and views, and holds every action id and callback id they carry
(bot/slack/listeners registers a listener for each). Text that came from mail goes through
`handlers.mrkdwn.inert` (escaped, cut to Slack's limits); messages keep under 50 blocks, views
under 100, block ids are unique within a message or view.
"""

from __future__ import annotations

from datetime import datetime

from config.catalogue import CATEGORIES
from handlers import survey_commands, webinar_commands
from handlers.mrkdwn import cut, escape, inert, mention, quote
from models.base import utcnow

SECTION_CHARS = 3000
FIELD_CHARS = 2000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100

INPUT_CHARS = 3000  # Slack's most for one plain_text_input

# Action ids of buttons (the listeners route on them) and callback ids of modals.
ASSIGN_ME, REPLY, CATEGORY, CLOSE, REOPEN = "ticket_assign_me", "ticket_reply", "ticket_category", "ticket_close", "ticket_reopen"
TICKET_ACTIONS = (ASSIGN_ME, REPLY, CATEGORY, CLOSE, REOPEN)
SURVEY_CONFIRM = "survey_confirm_done"  # one button per campaign: action id "survey_confirm_done:ID"
ANNOUNCE_APPROVE, ANNOUNCE_REJECT = "announce_approve", "announce_reject"
REPLY_VIEW, CATEGORY_VIEW, SURVEY_VIEW, WEBINAR_VIEW = "reply_modal", "category_modal", "survey_new", "webinar_new"
# The reply form: an answer longer than one box (3000 characters) continues in the next ones.
REPLY_PARTS = ("reply", "reply_2", "reply_3")


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


def ticket_buttons(t: dict, block_id: str | None = None) -> dict:
    closed = t["status"] == "closed"
    buttons = [] if closed else [_button("Assign to me", ASSIGN_ME, t["ref"])]
    buttons += [_button("Reply", REPLY, t["ref"], "primary"), _button("Change category", CATEGORY, t["ref"])]
    buttons.append(_button("Reopen", REOPEN, t["ref"]) if closed else _button("Close", CLOSE, t["ref"], "danger"))
    return {"type": "actions", "block_id": block_id or f"ticket:{t['ref']}", "elements": buttons}


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


def ticket_rows(tickets: list[dict], section: str = "list") -> list[dict]:
    """A compact list of tickets, each with its buttons (App Home, /eocic queue).

    `section` goes into the block ids: a ticket may be listed in two sections of one view."""
    blocks: list[dict] = []
    for t in tickets:
        who = f" · {mention(t['assignee'])}" if t.get("assignee") else ""
        blocks.append(_section(f"{_headline(t)}{who}\n{inert(t.get('subject'), 200)} — {inert(t.get('sender'), 100)} · "
                               f"{age(t['created_at'])}"))
        blocks.append(ticket_buttons(t, f"{section}:ticket:{t['ref']}"))
    return blocks


def fallback(text: str) -> str:
    """A message's `text`: shown in notifications, and alone where blocks cannot be."""
    return cut(text, SECTION_CHARS)


def refusal_home(text: str) -> dict:
    """The Home tab of someone who may not use the desk: why, and whom to ask."""
    return {"type": "home", "blocks": [_section(text)]}


def home_view(data: dict) -> dict:
    blocks: list[dict] = [{"type": "header", "text": _plain("EOCIC Service Desk", 150)}]
    for key, title in (("mine", "Your open tickets"), ("unassigned", "Unassigned"), ("overdue", "Overdue")):
        part = data[key]
        blocks += [{"type": "divider"}, _section(f"*{title}* ({part['total']})")]
        blocks += ticket_rows(part["tickets"], key) or [_context("Nothing here.")]
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
            *(_text_input(block_id, label, optional=n > 0) for n, (block_id, label) in enumerate(zip(
                REPLY_PARTS, ("Your answer to the requester", "Continued (if longer than 3000 characters)",
                              "Continued (if longer than 6000 characters)"))
            )),
            _text_input("note", "Internal note (not mailed)", optional=True),
            _context("Sent by mail with your name in the signature, threaded to the request; the ticket then waits "
                     "for the requester."),
        ],
    }


def _text_input(block_id: str, label: str, *, optional: bool = False, multiline: bool = True,
                placeholder: str | None = None, action_id: str = "text") -> dict:
    element = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline, "max_length": INPUT_CHARS}
    if placeholder:
        element["placeholder"] = _plain(placeholder, 150)
    return {"type": "input", "block_id": block_id, "optional": optional, "label": _plain(label, 2000), "element": element}


def reply_text(values: dict) -> str:
    """The answer typed in the reply form: its boxes joined (each holds at most 3000 characters)."""
    return "\n".join(v for v in (input_value(values, part) for part in REPLY_PARTS) if v.strip()).strip()


def input_value(values: dict, block_id: str, action_id: str = "text") -> str:
    """A text input's value from a submitted view's `state.values` ('' when empty or absent)."""
    return ((values.get(block_id) or {}).get(action_id) or {}).get("value") or ""


def form_values(values: dict, fields) -> dict[str, str]:
    """A handler's form (`fields`: (id, label, placeholder, optional)) read back from `state.values`."""
    return {field_id: input_value(values, field_id, field_id) for field_id, *_ in fields}


def errors(problems: dict[str, str]) -> dict:
    """Slack's answer to a submission with wrong fields: the modal stays open and shows each message."""
    return {"response_action": "errors", "errors": {k: cut(v, 2000) for k, v in problems.items()}}


def fields_modal(callback_id: str, title: str, submit: str, fields) -> dict:
    """A form of text inputs from a handler's field list; block id and action id are the field's id."""
    blocks = [_text_input(field_id, label, optional=optional, multiline=False, placeholder=placeholder, action_id=field_id)
              for field_id, label, placeholder, optional in fields]
    return {"type": "modal", "callback_id": callback_id, "title": _plain(title, 24), "submit": _plain(submit, 24),
            "close": _plain("Cancel", 24), "blocks": blocks}


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


def modal(spec: dict) -> dict:
    """The view for a handler's `Reply.modal`: plain data {"form": NAME, …}."""
    form = spec["form"]
    if form == "reply":
        return reply_modal(spec["ticket"])
    if form == "category":
        return category_modal(spec["ticket"])
    if form == SURVEY_VIEW:
        return fields_modal(SURVEY_VIEW, "New survey", "Create", survey_commands.FIELDS)
    if form == WEBINAR_VIEW:
        return fields_modal(WEBINAR_VIEW, "New webinar", "Create", webinar_commands.FIELDS)
    raise KeyError(f"no form {form!r}")


def survey_confirm_buttons(pending: list[dict]) -> list[dict]:
    """On a survey-intent ticket's card: a button per open campaign its partnership has not answered."""
    elements = [{"type": "button", "action_id": f"{SURVEY_CONFIRM}:{p['campaign_id']}",
                 "value": f"{p['campaign_id']}:{p['acronym']}"[:2000],
                 "text": _plain(f"Mark {p['acronym']} done in {p['campaign']}", 75)} for p in pending[:5]]
    return [{"type": "actions", "block_id": SURVEY_CONFIRM, "elements": elements}] if elements else []


def complementarities(text: str | None) -> list[dict]:
    """On a `complementarities` ticket's card: the partnerships to bring together (B3), if any."""
    return [{**_section(text), "block_id": "complementarities"}] if text else []


def approval_buttons(announcement_id: int) -> dict:
    """Under a newsletter's test send: approve it for sending, or reject it (it stays a draft)."""
    value = str(announcement_id)
    return {"type": "actions", "block_id": f"announce:{value}", "elements": [
        {"type": "button", "action_id": ANNOUNCE_APPROVE, "value": value, "style": "primary", "text": _plain("Approve and send", 75),
         "confirm": {"title": _plain("Send it?", 100), "text": _text("It goes to every member of the list.", "plain_text"),
                     "confirm": _plain("Send", 30), "deny": _plain("Not yet", 30)}},
        {"type": "button", "action_id": ANNOUNCE_REJECT, "value": value, "style": "danger", "text": _plain("Reject", 75)},
    ]}


def command_blocks(text: str, data) -> list[dict] | None:
    """Blocks for a command's answer: tickets get their buttons, a test send its approval buttons;
    otherwise plain text is enough."""
    view = data.get("view") if isinstance(data, dict) else None
    if view == "announce_test":
        return [*(_section(chunk) for chunk in _chunks(text, SECTION_CHARS)), approval_buttons(data["id"])][:MESSAGE_BLOCKS]
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
    return title, [_section(title), *ticket_rows(tickets, "digest"), *more][:MESSAGE_BLOCKS]
