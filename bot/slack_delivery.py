"""Delivers `SlackNotice` rows to the Slack Web API, at most about one message per second per channel.

A card notice renders the ticket as it is now: the first one posts the card (its channel and
ts go into `SlackCard`), later ones `chat.update` it; every pending card notice of the ticket
up to that point is then done. Thread notices wait for their card. 429 answers are retried
by the SDK's AsyncRateLimitErrorRetryHandler after Retry-After; other failures retry with
back-off. A row is claimed with a lease, so two desks on one database do not both send it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update
from sqlmodel import select

from bot.slack import blocks as slack_blocks
from bot.passes import run_passes
from config.settings import Settings
from handlers import survey_commands, ticket_queries
from models.base import utcnow
from models.db import Database
from models.slack import NoticeKind, NoticeState, SlackCard, SlackNotice
from models.tickets import Ticket

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=60)
WAIT_FOR_CARD = timedelta(seconds=5)


class CardMissing(Exception):
    """A thread notice whose card is not posted yet (`coming`: a card notice is still pending)."""

    def __init__(self, coming: bool) -> None:
        super().__init__("the ticket's card is not in Slack")
        self.coming = coming


class SlackDelivery:
    def __init__(self, db: Database, settings: Settings, client: AsyncWebClient, *, poll_seconds: float = 2.0) -> None:
        self.db = db
        self.settings = settings
        self.client = client
        self.poll_seconds = poll_seconds
        self.interval = 1.0 / settings.slack_messages_per_second
        self.wakeup = asyncio.Event()
        self._last_post: dict[str, float] = {}

    async def run(self, stop: asyncio.Event) -> None:
        await run_passes("Slack delivery", self.deliver_due, stop, self.wakeup, self.poll_seconds)

    async def deliver_due(self, batch: int = 50) -> int:
        """One pass over due notices, oldest first (a card goes before its thread messages)."""
        async with self.db.session() as session:
            ids = list(await session.exec(
                select(SlackNotice.id)
                .where(SlackNotice.state == NoticeState.pending, SlackNotice.next_attempt_at <= utcnow())
                .order_by(SlackNotice.id).limit(batch)
            ))
        done = 0
        for notice_id in ids:
            notice = await self._claim(notice_id)
            if notice is None:
                continue
            try:
                await self._deliver(notice)
                done += 1
            except CardMissing as exc:
                if exc.coming:
                    await self._later(notice, WAIT_FOR_CARD, "waiting for the ticket's card", count=False)
                else:
                    await self._failed_attempt(notice, exc)
            except (SlackApiError, OSError, asyncio.TimeoutError) as exc:
                await self._failed_attempt(notice, exc)
        return done

    async def _claim(self, notice_id: int) -> SlackNotice | None:
        now = utcnow()
        async with self.db.transaction() as session:
            result = await session.exec(
                update(SlackNotice)
                .where(SlackNotice.id == notice_id, SlackNotice.state == NoticeState.pending, SlackNotice.next_attempt_at <= now)
                .values(next_attempt_at=now + LEASE, attempts=SlackNotice.attempts + 1)
            )
            if result.rowcount != 1:
                return None
            return await session.get(SlackNotice, notice_id)

    async def _deliver(self, notice: SlackNotice) -> None:
        if notice.kind is NoticeKind.card:
            await self._card(notice)
        elif notice.kind is NoticeKind.thread:
            await self._thread(notice)
        else:
            text, blocks = slack_blocks.digest(notice.payload)
            await self._post(notice.channel, text=text, blocks=blocks)
            await self._done(notice)

    async def _card(self, notice: SlackNotice) -> None:
        async with self.db.session() as session:
            ticket = await session.get(Ticket, notice.ticket_id)
            card = (await session.exec(select(SlackCard).where(SlackCard.ticket_id == notice.ticket_id))).first()
            covered = (await session.exec(
                select(SlackNotice.id).where(SlackNotice.ticket_id == notice.ticket_id, SlackNotice.kind == NoticeKind.card,
                                             SlackNotice.state == NoticeState.pending).order_by(SlackNotice.id.desc())
            )).first() or notice.id
            text, blocks = slack_blocks.ticket_card(await ticket_queries.card(session, self.settings, ticket))
            if ticket.intent == "survey":  # "we have submitted it": a button per campaign to confirm
                blocks = blocks + slack_blocks.survey_confirm_buttons(
                    await survey_commands.pending_confirmations(session, ticket.requester_email))
        if card is None:
            answer = await self._post(notice.channel, text=text, blocks=blocks)
            async with self.db.transaction() as session:
                session.add(SlackCard(ticket_id=notice.ticket_id, channel=answer["channel"], ts=answer["ts"]))
        else:
            await self._call(card.channel, self.client.chat_update, channel=card.channel, ts=card.ts, text=text, blocks=blocks)
            async with self.db.transaction() as session:
                await session.exec(update(SlackCard).where(SlackCard.id == card.id).values(updated_at=utcnow()))
        # The card now shows the ticket as it is: older pending card notices have nothing left to do.
        async with self.db.transaction() as session:
            await session.exec(
                update(SlackNotice)
                .where(SlackNotice.ticket_id == notice.ticket_id, SlackNotice.kind == NoticeKind.card,
                       SlackNotice.id <= max(covered, notice.id), SlackNotice.state == NoticeState.pending)
                .values(state=NoticeState.sent, sent_at=utcnow())
            )
        await self._done(notice)

    async def _thread(self, notice: SlackNotice) -> None:
        async with self.db.session() as session:
            card = (await session.exec(select(SlackCard).where(SlackCard.ticket_id == notice.ticket_id))).first()
            coming = card is None and (await session.exec(
                select(SlackNotice.id).where(SlackNotice.ticket_id == notice.ticket_id, SlackNotice.kind == NoticeKind.card,
                                             SlackNotice.state == NoticeState.pending)
            )).first() is not None
        if card is None:
            raise CardMissing(coming)
        text = slack_blocks.thread_message(notice.payload)
        await self._post(card.channel, text=text, thread_ts=card.ts)
        await self._done(notice)

    async def _post(self, channel: str, **kwargs):
        return await self._call(channel, self.client.chat_postMessage, channel=channel, **kwargs)

    async def _call(self, lane: str, method, **kwargs):
        """One Web API call, spaced `interval` seconds from the last one to the same channel (`lane`)."""
        wait = self._last_post.get(lane, float("-inf")) + self.interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            return await method(**kwargs)
        finally:
            self._last_post[lane] = time.monotonic()

    async def _done(self, notice: SlackNotice) -> None:
        async with self.db.transaction() as session:
            await session.exec(
                update(SlackNotice).where(SlackNotice.id == notice.id)
                .values(state=NoticeState.sent, sent_at=utcnow(), last_error=None)
            )

    async def _later(self, notice: SlackNotice, delay: timedelta, why: str, *, count: bool = True) -> None:
        values = {"next_attempt_at": utcnow() + delay, "last_error": why[:2000]}
        if not count:
            values["attempts"] = SlackNotice.attempts - 1
        async with self.db.transaction() as session:
            await session.exec(update(SlackNotice).where(SlackNotice.id == notice.id).values(**values))

    async def _failed_attempt(self, notice: SlackNotice, exc: BaseException) -> None:
        error = str(exc.response.get("error")) if isinstance(exc, SlackApiError) else repr(exc)
        if notice.attempts >= MAX_ATTEMPTS:
            log.error("Slack notice %s (%s) failed for good: %s", notice.id, notice.key, error)
            async with self.db.transaction() as session:
                await session.exec(
                    update(SlackNotice).where(SlackNotice.id == notice.id).values(state=NoticeState.failed, last_error=error[:2000])
                )
            return
        delay = timedelta(seconds=min(5 * 2 ** (notice.attempts - 1), 3600))
        log.warning("Slack notice %s: %s; retry in %ss", notice.id, error, delay.total_seconds())
        await self._later(notice, delay, error)
