"""Delivers `SlackNotice` rows to the Slack Web API, at most about one message per second per channel.

A card notice renders the ticket as it is now: the first one posts the card (its channel and
ts go into `SlackCard`), later ones `chat.update` it; every pending card notice of the ticket
up to that point is then done. Thread notices wait for their card. A row is claimed with a
lease through the durable queue (bot/durable_queue.py) that the outbox uses too, so two desks
on one database do not both send it; its lease, back-off and batch come from the EOCIC_SLACK_*
settings.

Failures by kind (bot/slack_errors.py): `ratelimited` waits Retry-After (the SDK's
AsyncRateLimitErrorRetryHandler first retries twice itself); network errors and 5xx back off
and retry; a permanent refusal (token revoked, bot not in the channel, …) holds the notice at
once, logs one line saying what to do, and shows on /healthz and /metrics; `eocic-desk slack
redrive` or the next start re-queues held notices. A card whose blocks Slack refuses is posted
as plain text instead; a card deleted in Slack is posted anew.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from datetime import timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update
from sqlmodel import select

from bot import slack_errors
from bot.slack import blocks as slack_blocks
from bot.slack import files as slack_files
from bot.durable_queue import DurableQueue, Limits
from bot.passes import run_passes
from config.settings import Settings
from handlers import complementarities, survey_answers, survey_commands, ticket_queries
from models.base import utcnow
from models.db import Database
from models.slack import CARD_HELD, CHANNEL_ERRORS, NoticeKind, NoticeState, SlackCard, SlackNotice
from models.tickets import Ticket

log = logging.getLogger(__name__)

WAIT_FOR_CARD = timedelta(seconds=5)


class CardMissing(Exception):
    """A thread notice whose card is not posted yet (`coming`: a card notice is still pending;
    `held`: the card notice is held, and so is this one until it is re-queued)."""

    def __init__(self, coming: bool, held: bool = False) -> None:
        super().__init__("the ticket's card is not in Slack")
        self.coming, self.held = coming, held


class SlackDelivery:
    def __init__(self, db: Database, settings: Settings, client: AsyncWebClient, *, poll_seconds: float = 2.0) -> None:
        self.db = db
        self.settings = settings
        self.client = client
        self.poll_seconds = poll_seconds
        self.interval = 1.0 / settings.slack_messages_per_second
        self.wakeup = asyncio.Event()
        self.limits = Limits.slack(settings)
        self.queue = DurableQueue(db, SlackNotice, self.limits, due=(NoticeState.pending,), done=NoticeState.sent)
        self.errors: Counter[str] = Counter()  # Slack API failures seen, by error code (/metrics)
        self._last_post: dict[str, float] = {}
        self._told: set[tuple[str, str]] = set()  # (error, channel) already logged with what to do

    async def run(self, stop: asyncio.Event) -> None:
        await run_passes("Slack delivery", self.deliver_due, stop, self.wakeup, self.poll_seconds)

    async def deliver_due(self, batch: int | None = None) -> int:
        """One pass over due notices, oldest first (a card goes before its thread messages).

        Notices are claimed one at a time: delivering one can finish or bring back others.
        """
        done = 0
        marks = self.queue.marks()
        try:
            for _ in range(batch or self.limits.batch):
                claimed = await self.queue.claim(1)
                if not claimed:
                    break
                notice = claimed[0]
                try:
                    requeued = await self._deliver(notice)
                    await marks.add(notice.id)
                    done += 1
                    self._told.clear()  # Slack answers again: a new refusal deserves a new line
                    if requeued:
                        break
                except CardMissing as exc:
                    if exc.held:
                        await self._hold(notice, CARD_HELD, "waiting for the ticket's card, which is held", quiet=True)
                    elif exc.coming:
                        await self._later(notice, WAIT_FOR_CARD, "waiting for the ticket's card", count=False)
                    else:
                        await self._failed_attempt(notice, exc)
                except (SlackApiError, *slack_errors.NETWORK) as exc:
                    await self._failed_attempt(notice, exc)
        finally:
            await marks.flush()
        return done

    async def _deliver(self, notice: SlackNotice) -> bool:
        """Deliver one notice; True when older notices came back to the queue (start a new pass, in order)."""
        if notice.kind is NoticeKind.card:
            return await self._card(notice)
        if notice.kind is NoticeKind.thread:
            await self._thread(notice)
        else:
            text, blocks = slack_blocks.digest(notice.payload)
            await self._post_blocks(notice, notice.channel, text, blocks, text)
            if (notice.payload.get("report") or {}).get("progress"):  # a campaign's progress report beside its summary
                try:
                    async with self.db.session() as session:
                        report = await survey_answers.progress_attachment(session, notice.payload["report"]["progress"])
                except (LookupError, ValueError) as exc:  # the summary is out; a report that cannot be made is only logged
                    log.error("progress report for notice %s not made: %s", notice.key, exc)
                else:
                    await slack_files.upload(self.client, notice.channel, [report])
        return False

    async def _card(self, notice: SlackNotice) -> bool:
        """Post or update the card; True if thread messages that waited for it were re-queued."""
        async with self.db.session() as session:
            ticket = await session.get(Ticket, notice.ticket_id)
            card = (await session.exec(select(SlackCard).where(SlackCard.ticket_id == notice.ticket_id))).first()
            covered = (await session.exec(
                select(SlackNotice.id).where(SlackNotice.ticket_id == notice.ticket_id, SlackNotice.kind == NoticeKind.card,
                                             SlackNotice.state == NoticeState.pending).order_by(SlackNotice.id.desc())
            )).first() or notice.id
            shown = await ticket_queries.card(session, self.settings, ticket)
            text, blocks = slack_blocks.ticket_card(shown)
            if ticket.intent == "survey":  # "we have submitted it": a button per campaign to confirm
                blocks = blocks + slack_blocks.survey_confirm_buttons(
                    await survey_commands.pending_confirmations(session, ticket.requester_email))
            blocks = blocks + slack_blocks.complementarities(await complementarities.card_text(session, ticket))
        plain = slack_blocks.plain_card(shown)
        if card is None:
            answer = await self._post_blocks(notice, notice.channel, text, blocks, plain)
            async with self.db.transaction() as session:
                session.add(SlackCard(ticket_id=notice.ticket_id, channel=answer["channel"], ts=answer["ts"]))
        else:
            await self._update_card(notice, card, text, blocks, plain)
        # The card now shows the ticket as it is: older pending card notices have nothing left to do.
        async with self.db.transaction() as session:
            await session.exec(
                update(SlackNotice)
                .where(SlackNotice.ticket_id == notice.ticket_id, SlackNotice.kind == NoticeKind.card,
                       SlackNotice.id <= max(covered, notice.id),
                       SlackNotice.state.in_((NoticeState.pending, NoticeState.held)))
                .values(state=NoticeState.sent, sent_at=utcnow())
            )
            requeued = await session.exec(  # thread messages held for want of this card can go now
                update(SlackNotice)
                .where(SlackNotice.ticket_id == notice.ticket_id, SlackNotice.state == NoticeState.held,
                       SlackNotice.error_code == CARD_HELD)
                .values(state=NoticeState.pending, next_attempt_at=utcnow())
            )
        return requeued.rowcount > 0

    async def _post_blocks(self, notice: SlackNotice, channel: str, text: str, blocks: list[dict], plain: str):
        """Post blocks; if Slack refuses them, post `plain` text instead so that the notice is still seen."""
        try:
            return await self._post(channel, text=text, blocks=blocks)
        except SlackApiError as exc:
            if slack_errors.kind(exc) != "invalid_blocks":
                raise
            self._refused_blocks(notice, exc, blocks)
            return await self._post(channel, text=plain)

    async def _update_card(self, notice: SlackNotice, card: SlackCard, text: str, blocks: list[dict], plain: str) -> None:
        """chat.update the card; a card deleted in Slack (or in a channel the desk no longer uses) is posted anew."""
        try:
            try:
                await self._call(card.channel, self.client.chat_update, channel=card.channel, ts=card.ts, text=text, blocks=blocks)
            except SlackApiError as exc:
                if slack_errors.kind(exc) != "invalid_blocks":
                    raise
                self._refused_blocks(notice, exc, blocks)
                await self._call(card.channel, self.client.chat_update, channel=card.channel, ts=card.ts, text=plain, blocks=[])
            values = {"updated_at": utcnow()}
        except SlackApiError as exc:
            error = slack_errors.code(exc)
            if error != "message_not_found" and not (error in CHANNEL_ERRORS and card.channel != notice.channel):
                raise
            self.errors[error] += 1
            log.warning("Slack: the card of ticket %s is gone (%s in %s): posting a new one", notice.ticket_id, error, card.channel)
            answer = await self._post_blocks(notice, notice.channel, text, blocks, plain)
            values = {"channel": answer["channel"], "ts": answer["ts"], "posted_at": utcnow(), "updated_at": utcnow()}
        async with self.db.transaction() as session:
            await session.exec(update(SlackCard).where(SlackCard.id == card.id).values(**values))

    def _refused_blocks(self, notice: SlackNotice, exc: SlackApiError, blocks: list[dict]) -> None:
        self.errors["invalid_blocks"] += 1
        messages = (exc.response.get("response_metadata") or {}).get("messages") or exc.response.get("errors")
        log.error("Slack refused the blocks of notice %s (%s): sent as plain text instead; %s; refused payload: %s",
                  notice.id, notice.key, messages, json.dumps(blocks, ensure_ascii=False))

    async def _thread(self, notice: SlackNotice) -> None:
        async with self.db.session() as session:
            card = (await session.exec(select(SlackCard).where(SlackCard.ticket_id == notice.ticket_id))).first()
            card_states = set() if card is not None else set(await session.exec(
                select(SlackNotice.state).where(SlackNotice.ticket_id == notice.ticket_id, SlackNotice.kind == NoticeKind.card)
            ))
        if card is None:
            raise CardMissing(NoticeState.pending in card_states, held=NoticeState.held in card_states)
        text = slack_blocks.thread_message(notice.payload)
        await self._post(card.channel, text=text, thread_ts=card.ts)

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

    async def _later(self, notice: SlackNotice, delay: timedelta, why: str, *, count: bool = True) -> None:
        await self.queue.later(notice.id, delay, why, **({} if count else {"attempts": SlackNotice.attempts - 1}))

    async def _failed_attempt(self, notice: SlackNotice, exc: BaseException) -> None:
        error, kind = slack_errors.code(exc), slack_errors.kind(exc)
        if not isinstance(exc, CardMissing):
            self.errors[error] += 1
        if kind == "ratelimited":
            delay = slack_errors.retry_after(exc)
            log.warning("Slack notice %s: rate limited; retry after %ss", notice.id, delay)
            await self._later(notice, timedelta(seconds=delay), error, count=False)
        elif kind != "transient":
            await self._hold(notice, error, slack_errors.what_to_do(exc, notice.channel))
        elif notice.attempts >= self.limits.max_attempts:
            await self._hold(notice, error, f"Slack: still failing after {notice.attempts} attempts ({error}): "
                                            f"check the network and Slack's status, {slack_errors.REDRIVE}")
        else:
            delay = self.limits.backoff(notice.attempts)
            log.warning("Slack notice %s: %s; retry in %ss", notice.id, error, delay.total_seconds())
            await self._later(notice, delay, error)

    async def _hold(self, notice: SlackNotice, error: str, what_to_do: str, *, quiet: bool = False) -> None:
        """Keep the notice until a person fixed the cause; say once what to do."""
        await self.queue.set(notice.id, state=NoticeState.held, error_code=error[:64], last_error=what_to_do[:2000])
        if quiet or (error, notice.channel) in self._told:
            log.info("Slack notice %s (%s) held: %s", notice.id, notice.key, error)
        else:
            self._told.add((error, notice.channel))
            log.error("%s (notice %s held)", what_to_do, notice.id)
