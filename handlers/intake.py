"""Every mail becomes one tracked record: parse, de-duplicate, thread, classify, act, commit once.

The same `ingest()` serves the mailbox watcher, `eocic-desk ingest` and `replay`. The
watcher's cursor is advanced in the transaction that records the mail, and the mail is
moved in the mailbox only after that commit: a crash anywhere loses nothing, and the
unique (mailbox, dedup_key) constraint makes a second pass over the same mail a no-op.
"""

from __future__ import annotations

import hashlib
import logging
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import acks, bounces, list_mail, replies
from handlers.context import Deps, Isolated
from handlers.loops import automatic_kind
from handlers.parsing import ParsedMail, UnparseableMail, parse_mail, parse_mail_timed
from handlers.tickets import open_ticket, ref_for, reopen_on_reply, ticket_values
from models.audit import AuditEntry, audit, audit_values
from models.base import insert_all, utcnow
from models.mailbox import MailboxCursor, cursor_at
from models.partnerships import (Contact, Partnership, contact_by_email, email_domain, known_partnership_for,
                                 known_partnerships, partnership_by_acronym)
from models.tickets import Attachment, Message, MessageState, Ticket

log = logging.getLogger(__name__)

TICKET_INTENTS = {"service-request", "survey", "subscribe", "unsubscribe", "other"}
ACKNOWLEDGED_INTENTS = {"service-request", "survey", "subscribe", "unsubscribe"}
NEW_REQUEST_INTENTS = TICKET_INTENTS - {"subscribe", "unsubscribe"}  # those go through list_mail


@dataclass(frozen=True)
class CursorPosition:
    mailbox: str
    folder: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class Source:
    """Where a mail came from: `imap:INBOX:42`, a file path, `replay:7`."""

    label: str
    cursor: CursorPosition | None = None


@dataclass
class IntakeResult:
    kind: str
    message_id: int | None = None
    ticket_ref: str | None = None
    duplicate: bool = False

    @property
    def quarantined(self) -> bool:
        return self.kind == "quarantined"


async def ingest(raw: bytes, deps: Deps, source: Source) -> IntakeResult:
    """Record one raw mail (a batch of one). Never raises for bad content: such mail is quarantined."""
    [result] = await ingest_batch([(raw, source)], deps)
    return result


@dataclass
class _Prepared:
    """A mail on its way in: parsed (or why not), and its verdict when it was worked out ahead."""

    raw: bytes
    source: Source
    parsed: ParsedMail | None = None
    error: str | None = None  # why it is quarantined before any recording
    budget: float = 0.0  # seconds of its time limit left after parsing
    verdict: Any = None
    known: str | None = None


async def ingest_batch(mails: Sequence[tuple[bytes, Source]], deps: Deps) -> list[IntakeResult]:
    """Record a batch of raw mails (an IMAP fetch, a slice of an mbox) in one transaction.

    The mails are parsed, then classified, in parallel in `deps.untrusted` (the worker pool), each within
    `mail_time_limit_seconds` of its own work; the reads that classification needs come before the
    transaction, so it holds the write lock only to record. Each mail is recorded in a savepoint of its
    own: one that fails is rolled back alone and quarantined in the same transaction, the others stay.
    The cursors of the batch's sources are advanced in that transaction too. Never raises for bad
    content; a database failure raises and leaves nothing of the batch recorded."""
    return await record_prepared(await prepare_batch(mails, deps), deps)


async def prepare_batch(mails: Sequence[tuple[bytes, Source]], deps: Deps) -> list[_Prepared]:
    """The first half of `ingest_batch`, which writes nothing: the watcher prepares the next batch while
    one records."""
    prepared = await _parse_all(mails, deps)
    await _classify_ahead(prepared, deps)
    return prepared


async def record_prepared(prepared: list[_Prepared], deps: Deps) -> list[IntakeResult]:
    """The second half of `ingest_batch`: record what `prepare_batch` gave, in one commit."""
    try:
        results = await _record_batch(prepared, deps, compose_in_pool=True)
    except _AcksNotComposed:  # a mail whose acknowledgement fails is quarantined: record it as alone
        results = await _record_batch(prepared, deps, compose_in_pool=False)
    for item, result in zip(prepared, results):
        if result.quarantined:
            log.warning("quarantined %s as message %s: %s", item.source.label, result.message_id, item.error.splitlines()[-1:])
    if any(result.kind == "ticket" for result in results):
        deps.mail_queued()
    return results


class _AcksNotComposed(Exception):
    """An acknowledgement of the batch could not be composed in the pool: the batch is recorded again,
    each acknowledgement composed in its mail's savepoint, as `ingest` of that mail alone would."""


async def _record_batch(prepared: list[_Prepared], deps: Deps, *, compose_in_pool: bool) -> list[IntakeResult]:
    """One transaction: each mail in its savepoint, the acknowledgements composed in the pool (both cores,
    while the loop records), the cursors advanced."""
    later: list[acks.Ack] | None = [] if compose_in_pool else None
    async with deps.db.transaction() as session:
        results: list[IntakeResult] = []
        run: list[_Prepared] = []  # consecutive new requests, recorded together
        for item in [*prepared, None]:
            if later is not None and item is not None and _new_request(item):
                run.append(item)
                continue
            if run:
                results += await _record_run(session, run, deps, later)
                run = []
            if item is not None:
                results.append(await _record_isolated(session, item, deps, later))
        for cursor in _furthest([item.source.cursor for item in prepared]):
            await advance_cursor(session, cursor)
        if later:
            limit = deps.settings.mail_time_limit_seconds
            fields = await deps.untrusted_each(acks.ack_fields, [((deps.settings, ack), {}) for ack in later], [limit] * len(later))
            if any(isinstance(result, Exception) for result in fields):
                raise _AcksNotComposed
            await acks.queue_composed(session, list(zip(later, fields)))
    return results


def _new_request(item: _Prepared) -> bool:
    """Classified ahead as a request that opens a ticket (so not recorded before, not ours, not automatic),
    naming no ticket or Message-ID to thread to, no list token: what most mail is, recorded in bulk."""
    verdict, parsed = item.verdict, item.parsed
    return (verdict is not None and not isinstance(verdict, Exception) and verdict.intent in NEW_REQUEST_INTENTS
            and not replies.may_thread(parsed) and not list_mail.SUBJECT_TOKEN.search(parsed.subject or ""))


async def _record_run(session: AsyncSession, run: list[_Prepared], deps: Deps, later: list[acks.Ack]) -> list[IntakeResult]:
    """New requests in bulk, in a savepoint: one statement per table, not a dozen per mail. A mail whose
    key is taken (recorded meanwhile, or twice in the run) is left to `record`, and so is the whole run
    when the bulk savepoint fails: each mail is then recorded in a savepoint of its own."""
    mailbox = deps.settings.desk_address
    taken = await recorded_keys(session, mailbox, [_plain_key(item.parsed) for item in run])
    bulk: dict[int, _Prepared] = {}
    for item in run:
        key = _plain_key(item.parsed)
        if key not in taken:
            taken.add(key)
            bulk[id(item)] = item
    done: dict[int, IntakeResult] = {}
    if bulk:
        decided = list(later)  # the batch's acknowledgements, with those of this run once it is recorded
        try:
            async with session.begin_nested():
                done = await _record_new_tickets(session, list(bulk.values()), deps, decided)
            later[:] = decided
        except Exception:
            log.exception("recording %d mails in bulk failed; recording them one by one", len(bulk))
            done = {}
    return [done[id(item)] if id(item) in done else await _record_isolated(session, item, deps, later) for item in run]


def _plain_key(parsed: ParsedMail) -> str:
    """The dedup key of a mail whose Message-ID (or fingerprint) nothing recorded has: see `identify`."""
    return parsed.message_id or f"sha256:{parsed.fingerprint}"


async def _record_new_tickets(session: AsyncSession, items: list[_Prepared], deps: Deps,
                              later: list[acks.Ack]) -> dict[int, IntakeResult]:
    """What `record` does for each of `items` (new requests under free keys), with one statement per
    table: their contacts, tickets, messages, attachments, acknowledgements (appended to `later`) and
    ticket events."""
    settings = deps.settings
    acronyms = {item.verdict.partnership for item in items if item.verdict.partnership}
    partnerships = ({p.acronym: p for p in (await session.exec(select(Partnership).where(Partnership.acronym.in_(acronyms)))).all()}
                    if acronyms else {})
    requesters = await _requesters(session, items, partnerships)
    tickets = await insert_all(session, Ticket, [
        ticket_values(**_ticket_fields(item.parsed, item.verdict, contact, partnerships.get(item.verdict.partnership)))
        for item, contact in zip(items, requesters)], with_id=lambda id_: {"ref": ref_for(id_)})
    await insert_all(session, AuditEntry, [audit_values("desk", "ticket.opened", ticket, intent=ticket.intent, category=ticket.category)
                                           for ticket in tickets])
    messages = await insert_all(session, Message, [
        {**_message_values(item.parsed, item.raw, settings.desk_address, item.source, _plain_key(item.parsed), False),
         "ticket_id": ticket.id, "classification": item.verdict.to_dict(), "kind": "ticket"}
        for item, ticket in zip(items, tickets)])
    for item, message in zip(items, messages):
        await _store_attachments(session, message, item.parsed, settings.attachment_max_bytes)
    acknowledged = [(ticket, item.parsed) for item, ticket in zip(items, tickets) if item.verdict.intent in ACKNOWLEDGED_INTENTS]
    await acks.acknowledge_many(session, acknowledged, settings, later)
    await deps.ticket_events(session, "opened", list(zip(tickets, messages)))
    await session.flush()
    return {id(item): IntakeResult(kind="ticket", message_id=message.id, ticket_ref=ticket.ref)
            for item, ticket, message in zip(items, tickets, messages)}


async def _requesters(session: AsyncSession, items: list[_Prepared], partnerships: dict[str, Partnership]) -> list[Contact | None]:
    """Each item's sender as a contact touched now (as `_contact_touched` does one): the known ones
    updated, the new ones inserted in one statement (an address seen twice in the batch is one contact)."""
    addresses = {item.parsed.from_addr.lower() for item in items if item.parsed.from_addr}
    known = ({c.email: c for c in (await session.exec(select(Contact).where(Contact.email.in_(addresses)))).all()}
             if addresses else {})
    now, new = utcnow(), {}
    for item in items:
        address, partnership = item.parsed.from_addr, partnerships.get(item.verdict.partnership)
        if not address:
            continue
        if address.lower() in known:
            _contact_touched(known, session, address, item.parsed.from_name, partnership)
        elif address.lower() not in new:
            new[address.lower()] = dict(email=address, email_domain=email_domain(address), name=item.parsed.from_name[:300],
                                        partnership_id=partnership and partnership.id, last_contact_at=now)
        elif partnership and new[address.lower()]["partnership_id"] is None:
            new[address.lower()]["partnership_id"] = partnership.id
    await session.flush()
    known.update(zip(new, await insert_all(session, Contact, list(new.values()))))
    return [known[item.parsed.from_addr.lower()] if item.parsed.from_addr else None for item in items]


async def _parse_all(mails: Sequence[tuple[bytes, Source]], deps: Deps) -> list[_Prepared]:
    prepared, settings = [_Prepared(raw, source) for raw, source in mails], deps.settings
    for item in prepared:
        if len(item.raw) > settings.mail_max_bytes:
            item.error = f"too large: {len(item.raw)} bytes, over EOCIC_MAIL_MAX_BYTES={settings.mail_max_bytes}"
    todo = [item for item in prepared if item.error is None]
    limit = settings.mail_time_limit_seconds
    results = await deps.untrusted_each(parse_mail_timed, [((item.raw,), {}) for item in todo], [limit] * len(todo))
    for item, result in zip(todo, results):
        if isinstance(result, UnparseableMail):
            item.error = f"unparseable: {result}"
        elif isinstance(result, Isolated):
            item.error = f"parsing stopped: {result}"
        elif isinstance(result, Exception):  # a parser bug on this mail: it alone is affected
            item.error = f"parser failed: {result!r}"
        else:
            item.parsed, took = result
            item.budget = limit - took
    return prepared


async def _classify_ahead(prepared: list[_Prepared], deps: Deps) -> None:
    """Classify, in parallel, the mails that look like new requests: not recorded before, not our own,
    not automatic, not threaded to a ticket. What the database says now is checked again when the
    mail is recorded; a mail whose case changed meanwhile is classified then, if it needs it."""
    candidates = [item for item in prepared if item.parsed is not None and item.parsed.from_addr != deps.settings.desk_address
                  and not automatic_kind(item.parsed)]
    if not candidates:
        return
    async with deps.db.read() as session:
        recorded = await recorded_keys(session, deps.settings.desk_address, [item.parsed.dedup_key for item in candidates])
        candidates = [item for item in candidates if item.parsed.dedup_key not in recorded
                      and not (replies.may_thread(item.parsed) and await replies.find_ticket(session, item.parsed))]
        known = await known_partnerships(session, [item.parsed.from_addr for item in candidates])
    for item in candidates:
        item.known = known.get(item.parsed.from_addr.lower())
    # an exception is kept as the verdict: recording quarantines the mail with it
    verdicts = await deps.untrusted_each(deps.classify, [((item.parsed,), {"known_partnership": item.known}) for item in candidates],
                                         [max(item.budget, 0.1) for item in candidates])
    for item, verdict in zip(candidates, verdicts):
        item.verdict = verdict


async def _record_isolated(session: AsyncSession, item: _Prepared, deps: Deps, later: list[acks.Ack] | None) -> IntakeResult:
    """One mail of a batch in a savepoint of its own: recorded, a duplicate, or quarantined with why."""
    if item.parsed is None:
        return await _quarantine_isolated(session, item, deps)
    try:
        async with session.begin_nested():
            if isinstance(item.verdict, Exception):
                raise item.verdict
            return await record(session, item.parsed, item.raw, deps, item.source, time.monotonic() + item.budget,
                                verdict=item.verdict, acks_later=later)
    except IntegrityError:  # another process recorded the same mail between our check and our insert
        return IntakeResult(kind="duplicate", duplicate=True)
    except Isolated as exc:
        item.error = f"classification stopped: {exc}"
    except Exception:
        log.exception("handling %s failed; quarantining it", item.source.label)
        item.error = traceback.format_exc(limit=8)
    return await _quarantine_isolated(session, item, deps)


def _furthest(cursors: list[CursorPosition | None]) -> list[CursorPosition]:
    """The last position of each (mailbox, folder, UIDVALIDITY) among a batch's sources."""
    furthest: dict[tuple, CursorPosition] = {}
    for cursor in cursors:
        if cursor is None:
            continue
        key = (cursor.mailbox, cursor.folder, cursor.uidvalidity)
        if key not in furthest or cursor.uid > furthest[key].uid:
            furthest[key] = cursor
    return list(furthest.values())


async def record(
    session: AsyncSession, parsed: ParsedMail, raw: bytes, deps: Deps, source: Source, deadline: float | None = None,
    *, verdict=None, acks_later: list[acks.Ack] | None = None,
) -> IntakeResult:
    """All that a mail causes, written in the caller's transaction. `verdict`: its classification, when
    worked out ahead (ingest_batch); used only if the mail still needs one. `acks_later`: see
    `acks.acknowledge`."""
    mailbox = deps.settings.desk_address
    key, reused, existing = await identify(session, mailbox, parsed)
    if existing is not None:
        return IntakeResult(kind="duplicate", message_id=existing, duplicate=True)

    # The message row is inserted once, by _finish(), with everything decided about it.
    message = _message_row(parsed, raw, mailbox, source, key, reused)

    if parsed.from_addr == deps.settings.desk_address:
        return await _finish(session, deps, message, parsed, "own")

    automatic = automatic_kind(parsed)
    ticket = await replies.find_ticket(session, parsed)
    if automatic:
        kind, reason = automatic
        message.classification = {"intent": "bounce" if kind == "bounce" else "auto-reply", "reasons": [reason]}
        if kind == "bounce":
            await bounces.record_bounce(session, parsed, message)
        if ticket:
            message.ticket_id = ticket.id
        return await _finish(session, deps, message, parsed, kind, ticket)

    if ticket:
        message.ticket_id = ticket.id
        message.classification = {"intent": "reply", "reasons": ["threaded to " + ticket.ref]}
        await reopen_on_reply(session, ticket)
        await _touch_contact(session, parsed.from_addr)
        return await _finish(session, deps, message, parsed, "reply", ticket, event="message")

    if verdict is None:
        known = await known_partnership_for(session, parsed.from_addr)
        left = (deadline - time.monotonic()) if deadline else deps.settings.mail_time_limit_seconds
        verdict = await deps.untrusted(deps.classify, parsed, known_partnership=known, timeout=max(left, 0.1))
    message.classification = verdict.to_dict()
    list_kind = await list_mail.handle(session, parsed, message, verdict, deps.settings)  # subscribe and unsubscribe by mail
    if list_kind:
        return await _finish(session, deps, message, parsed, list_kind)
    if verdict.intent == "bounce":
        await bounces.record_bounce(session, parsed, message)
    if verdict.intent not in TICKET_INTENTS:
        return await _finish(session, deps, message, parsed, verdict.intent)

    partnership = await partnership_by_acronym(session, verdict.partnership)
    contact = await _touch_contact(session, parsed.from_addr, parsed.from_name, partnership)
    ticket = await open_ticket(session, **_ticket_fields(parsed, verdict, contact, partnership))
    message.ticket_id = ticket.id
    if verdict.intent in ACKNOWLEDGED_INTENTS:
        await acks.acknowledge(session, ticket, parsed, deps.settings, acks_later)
    return await _finish(session, deps, message, parsed, "ticket", ticket, event="opened")


def _ticket_fields(parsed: ParsedMail, verdict, contact: Contact | None, partnership) -> dict:
    return dict(
        subject=parsed.subject or "(no subject)",
        requester=contact,
        requester_email=parsed.from_addr,
        intent=verdict.intent,
        category=verdict.category,
        partnership_id=partnership.id if partnership else None,
        language=verdict.language,
        needs_review=verdict.needs_review,
        confidence=verdict.confidence,
        reasons=verdict.reasons,
    )


async def _finish(session: AsyncSession, deps: Deps, message: Message, parsed: ParsedMail, kind: str,
                  ticket: Ticket | None = None, *, event: str | None = None) -> IntakeResult:
    """Insert the message row with what was decided, its attachments, then tell the ticket hooks."""
    message.kind = kind
    if message.reused_message_id:
        note = f"Message-ID {parsed.message_id} was used before by another mail: recorded as its own message"
        message.classification = {**message.classification, "reasons": [*message.classification.get("reasons", []), note]}
    session.add(message)
    await session.flush()
    if message.reused_message_id:
        await audit(session, "desk", "message.reused_message_id", None, message=message.id, message_id=parsed.message_id)
    await _store_attachments(session, message, parsed, deps.settings.attachment_max_bytes)
    if event and ticket:
        await deps.ticket_event(session, event, ticket, message)
    return IntakeResult(kind=kind, message_id=message.id, ticket_ref=ticket.ref if ticket else None)


async def identify(session: AsyncSession, mailbox: str, parsed: ParsedMail) -> tuple[str, bool, int | None]:
    """(dedup key, Message-ID reused by other content?, id of the record this mail repeats, if any).

    A re-delivery (same Message-ID, same fingerprint) repeats the first record. The same Message-ID
    with another fingerprint is another mail: its key adds the fingerprint. Records from before
    fingerprints (content_hash NULL: our own sent mail) count as the same mail."""
    if not parsed.message_id:
        key = f"sha256:{parsed.fingerprint}"
        return key, False, await _record_with_key(session, mailbox, key)
    first = (
        await session.exec(
            select(Message.id, Message.content_hash).where(Message.mailbox == mailbox, Message.dedup_key == parsed.message_id)
        )
    ).first()
    if first is None:
        return parsed.message_id, False, None
    if first.content_hash in (None, parsed.fingerprint):
        return parsed.message_id, False, first.id
    key = f"{parsed.message_id[:900]} sha256:{parsed.fingerprint}"
    return key, True, await _record_with_key(session, mailbox, key)


async def recorded_keys(session: AsyncSession, mailbox: str, keys: list[str]) -> set[str]:
    """Which of `keys` (dedup keys, Message-IDs) have a record in `mailbox`: one query for a batch."""
    if not keys:
        return set()
    query = select(Message.dedup_key).where(Message.mailbox == mailbox, Message.dedup_key.in_(set(keys)))
    return set((await session.exec(query)).all())


async def _record_with_key(session: AsyncSession, mailbox: str, key: str) -> int | None:
    return (await session.exec(select(Message.id).where(Message.mailbox == mailbox, Message.dedup_key == key))).first()


def _message_row(parsed: ParsedMail, raw: bytes, mailbox: str, source: Source, key: str, reused: bool) -> Message:
    return Message(**_message_values(parsed, raw, mailbox, source, key, reused))


def _message_values(parsed: ParsedMail, raw: bytes, mailbox: str, source: Source, key: str, reused: bool) -> dict:
    return dict(
        mailbox=mailbox,
        dedup_key=key,
        content_hash=parsed.fingerprint,
        reused_message_id=reused,
        direction="in",
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references),
        from_addr=parsed.from_addr,
        from_name=parsed.from_name[:300],
        to=parsed.to,
        cc=parsed.cc,
        date=parsed.date,
        subject=parsed.subject[:998],
        text=parsed.text,
        html=parsed.html,
        raw=raw,
        raw_size=len(raw),
        source=source.label[:300],
    )


async def _store_attachments(session: AsyncSession, message: Message, parsed: ParsedMail, cap: int) -> None:
    for att in parsed.attachments:
        omitted = att.size > cap
        session.add(
            Attachment(
                message_id=message.id,
                filename=att.filename[:500],
                content_type=att.content_type[:200],
                size=att.size,
                content=None if omitted else att.payload,
                omitted=omitted,
            )
        )


async def _touch_contact(session: AsyncSession, address: str, name: str = "", partnership=None) -> Contact | None:
    if not address:
        return None
    contact = _contact_touched({address.lower(): await contact_by_email(session, address)}, session, address, name, partnership)
    await session.flush()
    return contact


def _contact_touched(known: dict[str, Contact | None], session: AsyncSession, address: str, name: str, partnership) -> Contact | None:
    """The sender's contact, found in `known` (by address in lower case; added there when new), marked as
    in contact now and given the partnership if it had none; added to the session, not flushed."""
    if not address:
        return None
    contact = known.get(address.lower())
    if contact is None:
        contact = Contact(email=address, name=name[:300], partnership_id=partnership.id if partnership else None)
    elif partnership and not contact.partnership_id:
        contact.partnership_id = partnership.id
    contact.last_contact_at = utcnow()
    session.add(contact)
    known[address.lower()] = contact
    return contact


async def advance_cursor(session: AsyncSession, cursor: CursorPosition | None) -> None:
    if cursor is None:
        return
    row = await cursor_at(session, cursor.mailbox, cursor.folder, cursor.uidvalidity)
    if row is None:
        row = MailboxCursor(mailbox=cursor.mailbox, folder=cursor.folder, uidvalidity=cursor.uidvalidity)
    if cursor.uid > row.last_uid:
        row.last_uid = cursor.uid
        row.updated_at = utcnow()
    session.add(row)


async def _quarantine_isolated(session: AsyncSession, item: _Prepared, deps: Deps) -> IntakeResult:
    """Keep the raw mail, with why it failed, so that `replay` can retry it later. What was parsed
    (subject, sender, key) is kept too, unless even that cannot be stored: then the raw bytes alone."""
    if item.parsed is not None:
        try:
            async with session.begin_nested():
                return await _quarantine(session, item.raw, deps, item.source, item.error, item.parsed)
        except Exception as exc:
            item.error = f"{item.error}\nparsed fields not storable either: {exc!r}"
    async with session.begin_nested():
        return await _quarantine(session, item.raw, deps, item.source, item.error, None)


async def _quarantine(
    session: AsyncSession, raw: bytes, deps: Deps, source: Source, error: str, parsed: ParsedMail | None
) -> IntakeResult:
    mailbox = deps.settings.desk_address
    if parsed:
        dedup_key, reused, existing_id = await identify(session, mailbox, parsed)
    else:  # not even parsed: the same bytes are the same mail
        dedup_key, reused = f"sha256:{hashlib.sha256(raw).hexdigest()}", False
        existing_id = await _record_with_key(session, mailbox, dedup_key)
    if existing_id is not None:  # recorded before: a second ingest changes nothing
        return IntakeResult(kind="duplicate", message_id=existing_id, duplicate=True)
    message = Message(
        mailbox=mailbox,
        dedup_key=dedup_key,
        content_hash=parsed.fingerprint if parsed else None,
        reused_message_id=reused,
        state=MessageState.quarantined,
        kind="quarantined",
        subject=(parsed.subject if parsed else "")[:998],
        from_addr=parsed.from_addr if parsed else "",
        raw=raw,
        raw_size=len(raw),
        error=error,
        source=source.label[:300],
    )
    session.add(message)
    await session.flush()
    await audit(session, "desk", "message.quarantined", None, message=message.id, error=error[-500:])
    return IntakeResult(kind="quarantined", message_id=message.id)


async def replay(message_id: int, deps: Deps) -> IntakeResult:
    """Retry a quarantined mail: on success its record replaces the quarantined one."""
    async with deps.db.session() as session:
        message = await session.get(Message, message_id)
    if message is None or message.state is not MessageState.quarantined:
        raise LookupError(f"message {message_id} is not in quarantine (see `eocic-desk quarantine`)")
    raw = message.raw or b""
    limit = deps.settings.mail_time_limit_seconds
    parsed = await deps.untrusted(parse_mail, raw, timeout=limit)  # raises UnparseableMail, Isolated: still broken
    async with deps.db.transaction() as session:
        await session.delete(await session.get(Message, message_id))
        await session.flush()
        result = await record(session, parsed, raw, deps, Source(label=f"replay:{message_id}"), time.monotonic() + limit)
        await audit(session, "cli", "message.replayed", None, quarantined=message_id, now=result.message_id)
    return result
