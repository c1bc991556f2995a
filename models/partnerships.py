"""Partnerships (ESCPs), their member cluster organisations, and the people we write to."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import event
from sqlmodel import Field, SQLModel, func, select

from config.registry import squash
from models.base import json_list, when


class Partnership(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    acronym: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(default="", max_length=300)
    type: str = Field(max_length=16, description="ESCP-4i or ESCP-S3")
    strand: str | None = Field(default=None, max_length=32)
    sectors: list[str] = json_list()
    target_countries: list[str] = json_list()
    aliases: list[str] = json_list()
    domains: list[str] = json_list()
    created_at: datetime = when(default_now=True)
    updated_at: datetime = when(default_now=True)


class Member(SQLModel, table=True):
    """A cluster organisation taking part in a partnership."""

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    name: str = Field(max_length=300)
    country: str | None = Field(default=None, max_length=8)


class Contact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=320)
    email_domain: str = Field(default="", index=True, max_length=320,
                              description="what follows the last @ of email, kept by _keep_email_domain")
    name: str = Field(default="", max_length=300)
    organisation: str = Field(default="", max_length=300)
    country: str | None = Field(default=None, max_length=8)
    partnership_id: int | None = Field(default=None, foreign_key="partnership.id", index=True)
    role: str | None = Field(default=None, max_length=32, description="respondent, fallback, …")
    language: str | None = Field(default=None, max_length=8)
    consent_source: str | None = Field(default=None, max_length=120)
    consent_at: datetime | None = when()
    failing: bool = Field(default=False, description="mail to this address bounced")
    failing_reason: str | None = Field(default=None, max_length=500)
    soft_bounces: int = 0
    erased_at: datetime | None = when()
    created_at: datetime = when(default_now=True)
    last_contact_at: datetime | None = when()


def email_domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def _keep_email_domain(_mapper, _connection, contact: Contact) -> None:
    """The domain is a column of its own so that an organisation's contacts are found by its index."""
    contact.email_domain = email_domain(contact.email)


PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "yahoo.fr",
    "icloud.com", "me.com", "gmx.de", "gmx.net", "web.de", "orange.fr", "free.fr", "libero.it", "wp.pl",
    "o2.pl", "interia.pl", "sapo.pt", "protonmail.com", "proton.me", "aol.com", "mail.com",
})


async def contact_by_email(session, address: str) -> Contact | None:
    return (await session.exec(select(Contact).where(Contact.email == address.lower()))).first()


async def known_partnership_for(session, address: str) -> str | None:
    """What earlier mail established: the sender's own partnership, else that of their organisation's domain."""
    contact = await contact_by_email(session, address)
    if contact and contact.partnership_id:
        return await partnership_acronym(session, contact.partnership_id)
    return await domain_partnership(session, email_domain(address))


async def domain_partnership(session, domain: str) -> str | None:
    """The partnership most contacts of an organisation's mail domain belong to (none for public mail)."""
    return (await domain_partnerships(session, {domain})).get(domain)


async def domain_partnerships(session, domains: set[str]) -> dict[str, str]:
    """`domain_partnership` of many domains in one query (a domain with no partnership is left out);
    between partnerships with as many contacts of a domain, the first acronym in order wins."""
    wanted = {domain for domain in domains if domain and domain not in PUBLIC_MAIL_DOMAINS}
    if not wanted:
        return {}
    rows = await session.exec(
        select(Contact.email_domain, Partnership.acronym, func.count(Contact.id))
        .join(Partnership, Partnership.id == Contact.partnership_id)
        .where(Contact.email_domain.in_(wanted))
        .group_by(Contact.email_domain, Partnership.acronym)
    )
    best: dict[str, tuple[int, str]] = {}
    for domain, acronym, count in rows.all():
        if domain not in best or (-count, acronym) < (-best[domain][0], best[domain][1]):
            best[domain] = (count, acronym)
    return {domain: acronym for domain, (_, acronym) in best.items()}


async def known_partnerships(session, addresses: list[str]) -> dict[str, str | None]:
    """`known_partnership_for` of many senders (keys in lower case): one query for their contacts, one for
    the organisation domains of those without a partnership of their own."""
    wanted = {address.lower() for address in addresses if address}
    if not wanted:
        return {}
    rows = await session.exec(select(Contact.email, Partnership.acronym).join(Partnership, Partnership.id == Contact.partnership_id)
                              .where(Contact.email.in_(wanted)))
    known: dict[str, str | None] = dict(rows.all())
    domains = {address: email_domain(address) for address in wanted - known.keys()}  # of those without their own
    by_domain = await domain_partnerships(session, set(domains.values()))
    return {**known, **{address: by_domain.get(domain) for address, domain in domains.items()}}


async def partnership_by_acronym(session, acronym: str | None) -> Partnership | None:
    if not acronym:
        return None
    return (await session.exec(select(Partnership).where(Partnership.acronym == acronym))).first()


async def partnership_acronym(session, partnership_id: int | None) -> str | None:
    if partnership_id is None:
        return None
    return (await session.exec(select(Partnership.acronym).where(Partnership.id == partnership_id))).first()


async def all_partnerships(session) -> list[Partnership]:
    return list(await session.exec(select(Partnership)))


async def find_partnership(session, name: str) -> Partnership:
    """A partnership by acronym or alias, spelled as people do ("Adpack 2", "ec2i"); LookupError names the unknown one."""
    wanted = squash(name)
    for partnership in await all_partnerships(session):
        if wanted in {squash(spelling) for spelling in (partnership.acronym, *partnership.aliases)}:
            return partnership
    raise LookupError(f"there is no partnership {name!r}; use its acronym, e.g. `ADPACK²` or `ELBE`")


async def current_contacts(session, partnership_id: int, order_by=Contact.id) -> list[Contact]:
    """The partnership's contacts that have not been erased."""
    query = select(Contact).where(Contact.partnership_id == partnership_id, Contact.erased_at.is_(None)).order_by(order_by)
    return list(await session.exec(query))


async def seed_registry(session, registry) -> int:
    """Add the partnerships, members and contacts of the registry file that the database lacks.

    Rows that exist are left alone: once seeded, the registry is edited by staff in the database.
    Returns how many partnerships were added.
    """
    count = 0
    for entry in registry.partnerships:
        if await partnership_by_acronym(session, entry.acronym) is not None:
            continue
        row = Partnership(
            acronym=entry.acronym, name=entry.name, type=entry.type, strand=entry.strand,
            sectors=list(entry.sectors), target_countries=list(entry.target_countries),
            aliases=list(entry.aliases), domains=list(entry.domains),
        )
        session.add(row)
        await session.flush()
        for member in entry.members:
            session.add(Member(partnership_id=row.id, name=member.name, country=member.country))
        for person in entry.contacts:
            if await contact_by_email(session, person.email) is None:
                session.add(
                    Contact(
                        email=person.email.lower(), name=person.name, organisation=person.organisation,
                        country=person.country, partnership_id=row.id, role=person.role,
                        consent_source=person.consent.source,
                        consent_at=datetime.fromisoformat(person.consent.at).replace(tzinfo=timezone.utc),
                    )
                )
        count += 1
    await session.flush()
    return count
