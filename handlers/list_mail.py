"""Subscribe and unsubscribe mail (called by intake): double opt-in, leaving lists, erasure requests.

- `unsubscribe-TOKEN` in the subject (the List-Unsubscribe mailto link): leave that list.
- intent `subscribe`: double opt-in for the sender, and for other addresses named in the mail
  (they must confirm themselves, so nobody is put on a list by someone else).
- intent `unsubscribe`: leave the lists named (all if none), with a short confirmation; a
  request to be erased also leaves every list, then returns None so that intake opens a ticket
  that staff confirm with `/eocic person erase EMAIL`.
"""

from __future__ import annotations

import hashlib
import re

from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from handlers import lists
from handlers.list_tokens import BadToken, read_unsubscribe_token
from handlers.loops import never_answer
from handlers.outgoing import compose, queue_mail
from handlers.parsing import ParsedMail
from models.lists import MailingList
from models.partnerships import Contact, contact_by_email
from models.tickets import Message
from templates import render_mail

SUBJECT_TOKEN = re.compile(r"\bunsubscribe-([A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22})\b", re.I)
ERASURE = re.compile(
    r"eras(?:e|ure)|right\s+to\s+(?:erasure|be\s+forgotten)|\bgdpr\b|delete\s+(?:all\s+)?(?:my|our)\s+(?:personal\s+)?(?:data|details|information)"
    r"|remove\s+my\s+(?:personal\s+)?(?:data|details)|contact\s+database|effacement|supprimer\s+(?:mes|toutes\s+mes)\s+donn[ée]es|\brgpd\b"
    r"|droit\s+à\s+l'oubli|(?:eliminar|borrar|suprimir)\s+(?:todos\s+)?mis\s+datos|derecho\s+al\s+olvido|daten\s+l[öo]schen|l[öo]schung|\bdsgvo\b"
    r"|cancellazione\s+dei\s+(?:miei\s+)?dati|diritto\s+all'oblio|apagar\s+(?:os\s+)?(?:meus\s+)?dados|usun[ąa][ćc]\s+(?:moje\s+)?dane|\brodo\b",
    re.I,
)
_ADDRESS = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+")  # starts at a token's start: linear
_LIST_WORDS = {"newsletter": ("newsletter", "lettre", "bolet", "notiziario"), "webinars": ("webinar", "webinaire", "seminario")}
MAX_NAMED_ADDRESSES = 5


async def handle(session: AsyncSession, parsed: ParsedMail, message: Message, verdict, settings: Settings) -> str | None:
    """The kind of record the mail became ('unsubscribe', 'subscribe'), or None: intake carries on."""
    found = SUBJECT_TOKEN.search(parsed.subject or "")
    if found and await _token_unsubscribe(session, found.group(1), settings):
        return "unsubscribe"
    if verdict.intent == "subscribe":
        return await _subscribe(session, parsed, settings)
    if verdict.intent == "unsubscribe":
        contact = await contact_by_email(session, parsed.from_addr)
        if ERASURE.search(f"{parsed.subject}\n{parsed.text}"):
            if contact:
                await lists.leave(session, contact, None, how="erasure request by mail")
            verdict.reasons.append(f"erasure requested: confirm with `/eocic person erase {parsed.from_addr}`")
            return None
        return await _unsubscribe(session, parsed, contact, message, settings)
    return None


async def _token_unsubscribe(session: AsyncSession, token: str, settings: Settings) -> bool:
    try:
        contact_id, list_id = read_unsubscribe_token(settings, token)
    except BadToken:
        return False
    contact, mlist = await session.get(Contact, contact_id), await session.get(MailingList, list_id)
    if contact is None or mlist is None:
        return False
    await lists.leave(session, contact, [mlist], how="mailto")
    return True


def _named_lists(text: str, every: list[MailingList]) -> list[MailingList]:
    text = text.lower()
    return [m for m in every if m.name in text or any(w in text for w in _LIST_WORDS.get(m.name, ()))]


async def _subscribe(session: AsyncSession, parsed: ParsedMail, settings: Settings) -> str:
    every = await lists.all_lists(session)
    wanted = _named_lists(f"{parsed.subject}\n{parsed.text}", every) or [m for m in every if m.name == "newsletter"]
    sender = await contact_by_email(session, parsed.from_addr)
    if sender and sender.partnership_id:  # a partnership's people get its service list too
        wanted += [m for m in every if m.registry_type and m not in wanted]
    addresses = [parsed.from_addr] + [a.lower() for a in _ADDRESS.findall(parsed.text or "")]
    for address in list(dict.fromkeys(addresses))[: MAX_NAMED_ADDRESSES + 1]:  # start_subscription skips the desk itself
        name = parsed.from_name if address == parsed.from_addr else ""
        await lists.start_subscription(session, settings, address, wanted, source="mail", name=name)
    return "subscribe"


async def _unsubscribe(
    session: AsyncSession, parsed: ParsedMail, contact: Contact | None, message: Message, settings: Settings
) -> str:
    if contact is None:
        return "unsubscribe"
    every = await lists.all_lists(session)
    named = _named_lists(f"{parsed.subject}\n{parsed.text}", every)
    left = await lists.leave(session, contact, named or None, how="unsubscribe mail")
    if left and not never_answer(parsed.from_addr, settings.desk_address):
        subject, text, html = render_mail("unsubscribed", contact.language, name=contact.name, lists=left)
        msg = compose(settings, to=contact.email, subject=subject, text=text, html=html,
                      in_reply_to=parsed.message_id, references=parsed.references)
        await queue_mail(session, msg, key=f"unsubscribed:{hashlib.sha256(message.dedup_key.encode()).hexdigest()}", kind="unsubscribed")
    return "unsubscribe"
