"""The Slack edge: a slack-bolt AsyncApp in the desk's process, over HTTP (/slack/events) or Socket Mode.

Every listener (bot/slack/listeners) acks first and does its work in a task afterwards
(`spawn`), so Slack gets its answer in milliseconds; a task that fails still answers the
adviser ("that failed; logged as REF"). Handlers return plain data (`Reply`); `answer` turns it
into what Slack shows, with bot/slack/blocks.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from contextlib import AsyncExitStack
from datetime import datetime

import aiohttp
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.scheduler import current_desk, schedule
from bot.features import FEATURES
from bot.slack import blocks, files, listeners
from bot.slack.access import REFUSAL, is_staff, staff_only
from bot.slack.failures import failure_ref, failure_text
from bot.slack.requests import RequestGuard
from bot.slack_delivery import SlackDelivery
from bot.startup import slack_identity
from handlers import slack_notify, ticket_queries
from handlers.commands import Caller, Reply
from handlers.service_levels import BRUSSELS
from models.slack import requeue_held

log = logging.getLogger(__name__)

SEEN_EVENTS = 10_000
# Work after the ack runs at most this many at a time: a burst of clicks then waits in line
# instead of filling the event loop, so the next request's ack is not delayed behind it.
WORK_SLOTS = 4
STAFF_REFRESH_SECONDS = 600
DIGEST_JOB = "slack.morning_digest"


def web_client(settings) -> AsyncWebClient:
    """The Web API client: EOCIC_SLACK_API_URL as base, 429 retried after Retry-After."""
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, timeout=15)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


class SlackEdge:
    def __init__(self, desk, client: AsyncWebClient) -> None:
        self.desk = desk
        self.client = client
        self.tasks: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(WORK_SLOTS)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._names: dict[str, str] = {}
        self.configured_staff = list(desk.settings.staff)
        secret = desk.settings.slack_signing_secret.get_secret_value()
        self.http_enabled = bool(secret)  # without a signing secret, only Socket Mode may deliver requests
        self.guard = RequestGuard(secret) if secret else None
        self.app = AsyncApp(
            client=client, signing_secret=secret or None, request_verification_enabled=bool(secret),
            process_before_response=True, logger=logging.getLogger("slack_bolt"),
        )
        self.app.middleware(self._with_edge)
        self.app.middleware(self._once_per_event)
        self.app.middleware(staff_only)
        listeners.register(self.app)
        for feature in FEATURES:
            if feature.slack is not None:
                feature.slack(self.app)

    @property
    def deps(self):
        return self.desk.deps

    # --- plumbing ---------------------------------------------------------------------

    def spawn(self, coro, *, user: str | None = None, respond=None) -> None:
        """Run the slow part of a request after its ack; if it fails, `user` is told so."""
        task = asyncio.create_task(self._guarded(coro, user, respond))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _guarded(self, coro, user: str | None, respond) -> None:
        try:
            async with self._slots:
                await coro
        except Exception:
            ref = failure_ref()
            log.exception("Slack request handling failed (%s)", ref)
            if user:
                try:
                    await self.tell(user, failure_text(ref), respond)
                except Exception:
                    log.exception("could not tell %s that %s failed", user, ref)

    async def drain(self) -> None:
        """Wait for the work of requests already acked (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def _with_edge(self, context, next_):
        context["edge"] = self
        return await next_()

    async def _once_per_event(self, body, next_):
        """Slack retries an event it thinks we missed (X-Slack-Retry-Num): each event_id is handled once."""
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id:
            if event_id in self._seen:
                log.info("Slack event %s already handled: ignoring the retry", event_id)
                return BoltResponse(status=200, body="")
            self._seen[event_id] = None
            while len(self._seen) > SEEN_EVENTS:
                self._seen.popitem(last=False)
        return await next_()

    async def staff_name(self, user_id: str) -> str:
        if user_id not in self._names:
            try:
                user = (await self.client.users_info(user=user_id))["user"]
                profile = user.get("profile") or {}
                self._names[user_id] = profile.get("real_name") or user.get("real_name") or user.get("name") or user_id
            except SlackApiError as exc:
                log.warning("users.info %s failed: %s", user_id, exc.response.get("error"))
                return user_id
        return self._names[user_id]

    async def refresh_staff(self) -> None:
        """Expand user groups (S…) in EOCIC_STAFF into their members."""
        groups = [g for g in self.configured_staff if g.startswith("S")]
        if not groups:
            return
        members = set()
        for group in groups:
            try:
                members.update((await self.client.usergroups_users_list(usergroup=group))["users"])
            except SlackApiError as exc:
                log.warning("cannot read the members of user group %s: %s", group, exc.response.get("error"))
        self.desk.settings.staff = sorted(set(self.configured_staff) | members)

    # --- answers ----------------------------------------------------------------------

    async def direct_channel(self, user_id: str) -> str:
        """The bot's direct-message channel with `user_id` (im:write)."""
        return (await self.client.conversations_open(users=user_id))["channel"]["id"]

    async def tell(self, user_id: str, text: str, respond=None, **message) -> None:
        """An answer only `user_id` sees: ephemeral where the request came from, else a direct message."""
        if respond is not None and respond.response_url:
            await respond(text=text, response_type="ephemeral", replace_original=False, **message)
        else:
            await self.client.chat_postMessage(channel=await self.direct_channel(user_id), text=text, **message)

    async def answer(self, caller: Caller, reply: Reply, respond=None) -> None:
        """Show a handler's `Reply`: open its form, or post its text (and files: privately unless public)."""
        if reply.modal is not None:
            if not caller.trigger_id:
                raise RuntimeError("a form can only be opened from a Slack interaction (no trigger_id)")
            await self.client.views_open(trigger_id=caller.trigger_id, view=blocks.modal(reply.modal))
            return
        text = blocks.fallback(reply.text)
        shown = blocks.command_blocks(reply.text, reply.data)
        if reply.public and respond is not None and respond.response_url:
            await respond(text=text, blocks=shown, response_type="in_channel", replace_original=False)
        else:
            await self.tell(caller.user_id, text, respond, blocks=shown)
        where = reply.files_to or (caller.channel_id if reply.public and caller.channel_id else caller.user_id)
        await files.upload(self.client, where, reply.files)

    # --- App Home ----------------------------------------------------------------------

    async def publish_home(self, user: str) -> None:
        if not is_staff(self.desk.settings, user):
            view = blocks.refusal_home(REFUSAL)
        else:
            async with self.deps.db.session() as session:
                view = blocks.home_view(await ticket_queries.home(session, self.deps.settings, user))
        await self.client.views_publish(user_id=user, view=view)


async def morning_digest() -> None:
    """Scheduled job (Mon–Fri morning): the overdue tickets, in the triage channel."""
    desk = current_desk()
    await slack_notify.queue_digest(desk.deps, datetime.now(BRUSSELS).date())


async def start_slack(desk, stack: AsyncExitStack, stop: asyncio.Event) -> SlackEdge | None:
    """Start the Slack edge of a running desk: Bolt app, notice delivery, Socket Mode, the digest job."""
    settings = desk.settings
    if not settings.slack_configured:
        log.info("SLACK_BOT_TOKEN is not set: the desk runs without Slack")
        return None
    client = web_client(settings)
    try:
        log.info("Slack: signed in as %s", await slack_identity(client))
    except (SlackApiError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:  # Slack unreachable: the mail desk goes on
        log.warning("Slack auth.test failed (%s); going on, notices wait until Slack answers", exc)
    edge = SlackEdge(desk, client)
    delivery = SlackDelivery(desk.db, settings, client)
    async with desk.db.transaction() as session:  # a restart (new token, channel, scope) delivers what was held
        held = await requeue_held(session, settings.slack_triage_channel)
    if held:
        log.info("Slack: re-queued %s held notice(s) (%s)", sum(held.values()), ", ".join(f"{k} {v}" for k, v in held.items()))
    desk.slack, desk.slack_delivery = edge, delivery
    slack_notify.wakeups.add(delivery.wakeup.set)
    stack.callback(slack_notify.wakeups.discard, delivery.wakeup.set)
    tasks = [asyncio.create_task(delivery.run(stop), name="slack-delivery"),
             asyncio.create_task(_refresh_staff(edge, stop), name="slack-staff")]
    stack.push_async_callback(_stop, edge, tasks)
    if settings.slack_app_token.get_secret_value():
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        socket = AsyncSocketModeHandler(edge.app, settings.slack_app_token.get_secret_value(), web_client=client)
        try:
            await socket.connect_async()
            stack.push_async_callback(socket.close_async)
            log.info("Slack: Socket Mode connected")
        except Exception as exc:  # a bad app token must not stop the mail desk
            log.error("Slack Socket Mode could not connect (%s); HTTP mode only", exc)
    scheduler = desk.scheduler
    if scheduler is not None:
        hour, minute = settings.slack_digest_at.split(":")
        schedule(scheduler, DIGEST_JOB, morning_digest, "cron", day_of_week="mon-fri", hour=int(hour), minute=int(minute),
                 timezone=BRUSSELS)
    if not edge.http_enabled:
        log.warning("SLACK_SIGNING_SECRET is not set: /slack/events refuses every request (Socket Mode only)")
    log.info("Slack: cards to %s, staff %s", settings.slack_triage_channel or "(no triage channel)", ", ".join(settings.staff) or "(nobody)")
    return edge


async def _refresh_staff(edge: SlackEdge, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await edge.refresh_staff()
        except Exception:
            log.exception("refreshing the staff groups failed")
        try:
            await asyncio.wait_for(stop.wait(), STAFF_REFRESH_SECONDS)
        except asyncio.TimeoutError:
            pass


async def _stop(edge: SlackEdge, tasks: list[asyncio.Task]) -> None:
    try:
        await asyncio.wait_for(edge.drain(), 10)
    except asyncio.TimeoutError:
        log.warning("Slack: %d request(s) still running at shutdown", len(edge.tasks))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
