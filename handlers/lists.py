"""Distribution lists: who is on them, subscribing (double opt-in), leaving, and the headers of list mail.

Membership of a list = the consenting registry contacts of its partnership type (escp-4i,
escp-s3) ∪ active subscriptions − those who left it − failing (bounced, suppressed) and erased
contacts. Leaving a registry-derived list is recorded as a `left` subscription row.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from handlers.list_tokens import confirm_token, unsubscribe_token
from handlers.loops import never_answer
from handlers.outgoing import compose, queue_mail
from models.audit import audit
from models.base import utcnow
from models.lists import MailingList, Subscription, SubscriptionState, all_lists, is_member, list_named, subscription_of
from models.outbox import OutboxMail, OutboxState
from models.partnerships import Contact, contact_by_email
from templates import render_mail


@dataclass(frozen=True)
class ListSeed:
    name: str
    description: str
    sender_name: str
    registry_type: str | None = None


DEFAULT_LISTS = (
    ListSeed("escp-4i", "EOCIC advisory services for the ESCP-4i partnerships", "EOCIC – ESCP-4i services", "ESCP-4i"),
    ListSeed("escp-s3", "EOCIC advisory services for the ESCP-S3 partnerships", "EOCIC – ESCP-S3 services", "ESCP-S3"),
    ListSeed("newsletter", "The EOCIC newsletter", "EOCIC Newsletter"),
    ListSeed("webinars", "Inter-partnership learning webinars: invitations and reminders", "EOCIC Webinars"),
)


class UnknownList(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"there is no list {name!r}; lists are: {', '.join(known) or 'none'}")


async def seed_lists(session: AsyncSession, settings: Settings) -> int:
    """Create the standard lists the database lacks (existing ones are left as staff edited them)."""
    existing = set(await session.exec(select(MailingList.name)))
    added = 0
    for seed in DEFAULT_LISTS:
        if seed.name not in existing:
            session.add(MailingList(
                name=seed.name, description=seed.description, sender_name=seed.sender_name,
                sender_address=settings.desk_address, registry_type=seed.registry_type,
            ))
            added += 1
    await session.flush()
    return added


async def get_list(session: AsyncSession, name: str) -> MailingList:
    found = await list_named(session, name.strip().lower())
    if found is None:
        raise UnknownList(name, [m.name for m in await all_lists(session)])
    return found


async def create_list(
    session: AsyncSession, settings: Settings, name: str, description: str, sender_name: str = "", actor: str = "cli"
) -> MailingList:
    name = name.strip().lower()
    if not name.replace("-", "").isalnum() or len(name) > 64:
        raise ValueError("a list name is letters, digits and hyphens, e.g. escp-4i")
    if await list_named(session, name) is not None:
        raise ValueError(f"the list {name!r} exists already")
    row = MailingList(name=name, description=description, sender_name=sender_name or f"EOCIC {name}",
                      sender_address=settings.desk_address)
    session.add(row)
    await session.flush()
    await audit(session, actor, "list.created", None, list=name)
    return row


async def lists_of(session: AsyncSession, contact: Contact) -> list[MailingList]:
    return [mlist for mlist in await all_lists(session) if await is_member(session, mlist, contact)]


async def _contact(session: AsyncSession, address: str, name: str = "") -> Contact:
    address = address.strip().lower()
    if not address or "@" not in address or any(c in address for c in "\r\n <>,;\"'"):
        raise ValueError(f"{address!r} is not a mail address")
    contact = await contact_by_email(session, address)
    if contact is None:
        contact = Contact(email=address, name=" ".join(name.split())[:300])
        session.add(contact)
        await session.flush()
    return contact


async def _subscription(session: AsyncSession, mlist: MailingList, contact: Contact) -> Subscription:
    row = await subscription_of(session, mlist.id, contact.id)
    return row or Subscription(list_id=mlist.id, contact_id=contact.id)


async def add_member(
    session: AsyncSession, mlist: MailingList, address: str, *, consent_source: str, actor: str, name: str = ""
) -> Contact:
    """Staff add a person with the consent they gave (the source says how: "met at the Bucharest conference")."""
    if not consent_source.strip():
        raise ValueError("say how the person consented (--source), e.g. 'asked at the webinar of 12 May'")
    contact = await _contact(session, address, name)
    sub = await _subscription(session, mlist, contact)
    now = utcnow()
    sub.state, sub.consent_source, sub.consent_at, sub.confirmed_at, sub.left_at = (
        SubscriptionState.active, f"{actor}: {consent_source.strip()}"[:120], now, now, None
    )
    session.add(sub)
    await session.flush()
    await audit(session, actor, "list.added", None, list=mlist.name, contact=contact.id, source=consent_source[:200])
    return contact


async def leave(
    session: AsyncSession, contact: Contact, lists: list[MailingList] | None, *, how: str, actor: str = "desk"
) -> list[str]:
    """Take `contact` off `lists` (None: every list). Returns the names of the lists they left."""
    left = []
    for mlist in lists if lists is not None else await all_lists(session):
        sub = await _subscription(session, mlist, contact)
        if sub.state is SubscriptionState.left and sub.id is not None:
            continue
        sub.state, sub.left_at, sub.left_how = SubscriptionState.left, utcnow(), how[:64]
        session.add(sub)
        left.append(mlist.name)
    await session.flush()
    if left:
        await _cancel_unsent(session, contact, left)
        await audit(session, actor, "list.left", None, contact=contact.id, lists=left, how=how)
    return left


LIST_MAIL_KINDS = ("announce", "webinar")


async def _cancel_unsent(session: AsyncSession, contact: Contact, list_names: list[str]) -> None:
    """Mail of the lists just left that is still waiting in the outbox is not sent after all."""
    waiting = await session.exec(select(OutboxMail).where(
        OutboxMail.recipient == contact.email, OutboxMail.state == OutboxState.pending,
        OutboxMail.kind.in_(LIST_MAIL_KINDS)))
    for row in waiting:
        if any(f"List-Id: {name} <{name}.".encode() in (row.raw or b"") for name in list_names):
            row.state, row.last_error = OutboxState.cancelled, "the recipient left the list"
            session.add(row)


async def rejoin(session: AsyncSession, contact: Contact, mlist: MailingList, *, how: str) -> bool:
    """Undo leaving (the preferences page). A list never consented to needs the double opt-in instead."""
    sub = await _subscription(session, mlist, contact)
    if sub.id is None or sub.state is not SubscriptionState.left:
        return False
    if sub.consent_at is not None:
        sub.state, sub.left_at, sub.left_how = SubscriptionState.active, None, None
        session.add(sub)
    elif mlist.registry_type:
        await session.delete(sub)  # membership comes from the registry again
    else:
        return False
    await session.flush()
    await audit(session, "desk", "list.rejoined", None, contact=contact.id, list=mlist.name, how=how)
    return True


async def start_subscription(
    session: AsyncSession, settings: Settings, address: str, lists: list[MailingList], *, source: str, name: str = ""
) -> Contact | None:
    """Double opt-in: mark the subscriptions pending and mail a signed confirmation link.

    At most one confirmation per address, lists and day, so the public form cannot be used to
    flood someone's mailbox. Returns None for addresses we never write to.
    """
    if never_answer(address, settings.desk_address):
        return None
    contact = await _contact(session, address, name)
    if contact.failing or contact.erased_at:
        return None
    pending = []
    for mlist in lists:
        if await is_member(session, mlist, contact):
            continue
        sub = await _subscription(session, mlist, contact)
        sub.state, sub.consent_source = SubscriptionState.pending, source[:120]
        session.add(sub)
        pending.append(mlist)
    await session.flush()
    if not pending:
        return contact
    ids = sorted(m.id for m in pending)
    link = _public_link(settings, "subscribe/confirm", confirm_token(settings, contact.id, ids))
    subject, text, html = render_mail(
        "subscribe_confirm", contact.language, name=contact.name, link=link,
        lists=[m.description or m.name for m in pending],
    )
    msg = compose(settings, to=contact.email, subject=subject, text=text, html=html)
    key = f"optin:{contact.id}:{'+'.join(map(str, ids))}:{utcnow():%Y-%m-%d}"
    await queue_mail(session, msg, key=key, kind="optin")
    await audit(session, "desk", "list.optin-sent", None, contact=contact.id, lists=[m.name for m in pending], source=source)
    return contact


async def confirm_subscription(session: AsyncSession, contact_id: int, list_ids: list[int]) -> list[str]:
    """The signed link was followed: the pending subscriptions become active, consent recorded now."""
    now = utcnow()
    confirmed = []
    for list_id in list_ids:
        sub = await subscription_of(session, list_id, contact_id)
        if sub is None or sub.state is not SubscriptionState.pending:
            continue
        sub.state, sub.consent_at, sub.confirmed_at = SubscriptionState.active, now, now
        sub.consent_source = (sub.consent_source + " + double opt-in")[:120]
        session.add(sub)
        mlist = await session.get(MailingList, list_id)
        confirmed.append(mlist.name if mlist else str(list_id))
    if confirmed:
        await audit(session, "desk", "list.confirmed", None, contact=contact_id, lists=confirmed)
    await session.flush()
    return confirmed


def _public_link(settings: Settings, path: str, token: str) -> str:
    """A link to one of the public pages (bot/lists_web.py) carrying a signed token."""
    return f"{settings.public_url.rstrip('/')}/{path}?token={token}"


def list_headers(settings: Settings, mlist: MailingList, contact: Contact) -> dict[str, str]:
    """RFC 2369/2919/8058 headers of one recipient's copy of a list mail (personal unsubscribe token)."""
    return {
        "List-Id": f"{mlist.name} <{mlist.name}.{settings.lists_domain}>",
        "List-Unsubscribe": unsubscribe_links(settings, mlist, contact)[0],
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "bulk",
    }


def unsubscribe_links(settings: Settings, mlist: MailingList, contact: Contact) -> tuple[str, str]:
    """(the List-Unsubscribe value, the unsubscribe page's URL) of one recipient: one token signed for both."""
    token = unsubscribe_token(settings, contact.id, mlist.id)
    url = _public_link(settings, "unsubscribe", token)
    return f"<{url}>, <mailto:{settings.desk_address}?subject=unsubscribe-{token}>", url


def unsubscribe_url(settings: Settings, mlist: MailingList, contact: Contact) -> str:
    return unsubscribe_links(settings, mlist, contact)[1]


def compose_list_mail(
    settings: Settings, mlist: MailingList, contact: Contact, *, subject: str, text: str, html: str | None = None,
    attachments: list | None = None,
):
    """A list mail to one member: the list's sender, list headers, no Auto-Submitted (it is not a reply)."""
    msg = compose(
        settings, to=contact.email, subject=subject, text=text, html=html, automatic=False,
        headers=list_headers(settings, mlist, contact), attachments=attachments,
    )
    msg.replace_header("From", email.utils.formataddr((mlist.sender_name, mlist.sender_address or settings.desk_address)))
    return msg


async def _choices(session: AsyncSession, contact: Contact) -> list[tuple[MailingList, dict]]:
    result = []
    for mlist in await all_lists(session):
        member = await is_member(session, mlist, contact)
        can_join = member
        if not member:
            sub = await _subscription(session, mlist, contact)
            can_join = sub.id is not None and sub.state is SubscriptionState.left and (
                sub.consent_at is not None or bool(mlist.registry_type))
        result.append((mlist, {"name": mlist.name, "description": mlist.description, "member": member, "can_join": can_join}))
    return result


async def preferences(session: AsyncSession, contact: Contact) -> list[dict]:
    """Every list, whether `contact` is on it, and whether the preferences page may put them back on it."""
    return [item for _, item in await _choices(session, contact)]


async def apply_preferences(session: AsyncSession, contact: Contact, wanted: set[str]) -> dict[str, list[str]]:
    """Leave the lists not ticked, rejoin those ticked again. Returns what changed."""
    changes: dict[str, list[str]] = {"left": [], "rejoined": []}
    for mlist, item in await _choices(session, contact):
        if item["member"] and item["name"] not in wanted:
            changes["left"] += await leave(session, contact, [mlist], how="preferences-page")
        elif not item["member"] and item["can_join"] and item["name"] in wanted:
            if await rejoin(session, contact, mlist, how="preferences-page"):
                changes["rejoined"].append(mlist.name)
    return changes
