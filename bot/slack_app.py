"""The Slack edge: a slack-bolt AsyncApp in the desk's process, over HTTP (/slack/events) or Socket Mode.

Every listener acks first and does its work in a task afterwards (`spawn`), so Slack gets
its answer in milliseconds. The work is done by the same handlers as everywhere else:
`/eocic` goes to `handlers.commands.dispatch`, buttons and modals to `handlers.staff_actions`.
Only staff (EOCIC_STAFF: user ids, or user groups resolved to their members) can act.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from contextlib import AsyncExitStack
from datetime import datetime

import aiohttp
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import slack_blocks
from bot.scheduler import current_desk, schedule
from bot.slack_delivery import SlackDelivery
from bot.startup import slack_identity
from handlers import slack_notify, staff_actions, survey_commands, ticket_queries
from handlers.commands import Caller, dispatch, is_staff
from handlers.service_levels import BRUSSELS
from handlers.staff_actions import ActionRefused
from handlers.tickets import TicketNotFound, get_ticket

log = logging.getLogger(__name__)

REFUSAL = "Sorry, only EOCIC staff can act on tickets. Ask an administrator to add you to EOCIC_STAFF."
SEEN_EVENTS = 10_000
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
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._names: dict[str, str] = {}
        self.configured_staff = list(desk.settings.staff)
        secret = desk.settings.slack_signing_secret.get_secret_value()
        self.http_enabled = bool(secret)  # without a signing secret, only Socket Mode may deliver requests
        self.app = AsyncApp(
            client=client, signing_secret=secret or None, request_verification_enabled=bool(secret),
            process_before_response=True, logger=logging.getLogger("slack_bolt"),
        )
        self.app.middleware(self._once_per_event)
        self.app.command("/eocic")(self.on_command)
        self.app.action(re.compile(r"^ticket_"))(self.on_ticket_button)
        self.app.action(re.compile(f"^{survey_commands.CONFIRM_ACTION}"))(self.on_survey_confirm)
        self.app.view(slack_blocks.REPLY_VIEW)(self.on_reply_submitted)
        self.app.view(slack_blocks.CATEGORY_VIEW)(self.on_category_submitted)
        self.app.event("app_home_opened")(self.on_home_opened)

    @property
    def deps(self):
        return self.desk.deps

    # --- plumbing ---------------------------------------------------------------------

    def spawn(self, coro) -> None:
        """Run the slow part of a request after its ack."""
        task = asyncio.create_task(self._guarded(coro))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _guarded(coro) -> None:
        try:
            await coro
        except Exception:
            log.exception("Slack request handling failed")

    async def drain(self) -> None:
        """Wait for the work of requests already acked (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

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

    async def _tell(self, user_id: str, text: str, respond=None) -> None:
        """An answer only `user_id` sees: ephemeral where the request came from, else a direct message."""
        if respond is not None and respond.response_url:
            await respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            await self.client.chat_postMessage(channel=user_id, text=text)

    # --- /eocic ------------------------------------------------------------------------

    async def on_command(self, ack, command, respond) -> None:
        await ack()
        self.spawn(self._command(command, respond))

    async def _command(self, command: dict, respond) -> None:
        caller = Caller(user_id=command["user_id"], user_name=command.get("user_name", ""),
                        channel_id=command.get("channel_id"), trigger_id=command.get("trigger_id"))
        reply = await dispatch(self.deps, caller, command.get("text", ""))
        if reply.modal and caller.trigger_id:
            await self.client.views_open(trigger_id=caller.trigger_id, view=slack_blocks.modal(reply.modal))
            return
        blocks = reply.blocks or slack_blocks.command_blocks(reply.text, reply.data)
        await respond(text=reply.text[:3000], blocks=blocks, response_type="in_channel" if reply.public else "ephemeral")
        for filename, content in reply.files:
            await self.client.files_upload_v2(channel=caller.channel_id, filename=filename, content=content)

    # --- buttons -----------------------------------------------------------------------

    async def on_ticket_button(self, ack, body, action, respond) -> None:
        await ack()
        self.spawn(self._button(body, action, respond))

    async def _button(self, body: dict, action: dict, respond) -> None:
        user, ref, action_id = body["user"]["id"], action.get("value", ""), action["action_id"]
        if not is_staff(self.deps, user):
            await self._tell(user, REFUSAL, respond)
            return
        actor, key = f"slack:{user}", f"slack:{body.get('trigger_id') or action.get('action_ts')}"
        try:
            if action_id == slack_blocks.ASSIGN_ME:
                await staff_actions.assign(self.deps, ref, user, actor=actor, key=key)
            elif action_id == slack_blocks.CLOSE:
                await staff_actions.close(self.deps, ref, actor=actor, key=key)
            elif action_id == slack_blocks.REOPEN:
                await staff_actions.reopen(self.deps, ref, actor=actor, key=key)
            elif action_id in (slack_blocks.REPLY, slack_blocks.CATEGORY):
                form = "reply" if action_id == slack_blocks.REPLY else "category"
                async with self.deps.db.session() as session:
                    card = await ticket_queries.card(session, self.deps.settings, await get_ticket(session, ref))
                await self.client.views_open(trigger_id=body["trigger_id"], view=slack_blocks.modal({"form": form, "ticket": card}))
            else:
                log.warning("unknown ticket action %s", action_id)
        except (ActionRefused, TicketNotFound) as exc:
            await self._tell(user, str(exc), respond)
        if (body.get("view") or {}).get("type") == "home":
            await self.publish_home(user)

    async def on_survey_confirm(self, ack, body, action, respond) -> None:
        await ack()
        self.spawn(self._survey_confirm(body, action, respond))

    async def _survey_confirm(self, body: dict, action: dict, respond) -> None:
        user = body["user"]["id"]
        if not is_staff(self.deps, user):
            await self._tell(user, REFUSAL, respond)
            return
        reply = await survey_commands.confirm_done(self.deps, Caller(user_id=user), action.get("value", ""))
        await self._tell(user, reply.text, respond)

    # --- modals ------------------------------------------------------------------------

    async def on_reply_submitted(self, ack, body, view) -> None:
        values = view["state"]["values"]
        text = (values.get("reply", {}).get("text", {}).get("value") or "").strip()
        note = (values.get("note", {}).get("text", {}).get("value") or "").strip()
        user = body["user"]["id"]
        if not is_staff(self.deps, user):
            await ack(response_action="errors", errors={"reply": REFUSAL})
            return
        if not text:
            await ack(response_action="errors", errors={"reply": "Write the answer to the requester first."})
            return
        await ack()
        self.spawn(self._reply(user, view, text, note))

    async def _reply(self, user: str, view: dict, text: str, note: str) -> None:
        try:
            result = await staff_actions.reply(
                self.deps, view["private_metadata"], text=text, staff_id=user, staff_name=await self.staff_name(user),
                key=view["id"], internal_note=note or None,
            )
        except (ActionRefused, TicketNotFound) as exc:
            await self._tell(user, f"Your reply was not sent: {exc}")
            return
        log.info("staff reply on %s queued as outbox %s", result.ref, result.outbox_id)

    async def on_category_submitted(self, ack, body, view) -> None:
        user = body["user"]["id"]
        if not is_staff(self.deps, user):
            await ack(response_action="errors", errors={"category": REFUSAL})
            return
        await ack()
        chosen = view["state"]["values"]["category"]["category"]["selected_option"]["value"]
        self.spawn(self._recategorise(user, view, chosen))

    async def _recategorise(self, user: str, view: dict, category: str) -> None:
        try:
            await staff_actions.change_category(self.deps, view["private_metadata"], category, actor=f"slack:{user}",
                                                key=f"slack:{view['id']}")
        except (ActionRefused, TicketNotFound) as exc:
            await self._tell(user, str(exc))

    # --- App Home ----------------------------------------------------------------------

    async def on_home_opened(self, event) -> None:
        if event.get("tab", "home") == "home":
            self.spawn(self.publish_home(event["user"]))

    async def publish_home(self, user: str) -> None:
        if not is_staff(self.deps, user):
            view = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": REFUSAL}}]}
        else:
            async with self.deps.db.session() as session:
                view = slack_blocks.home_view(await ticket_queries.home(session, self.deps.settings, user))
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
    desk.components.update(slack=edge, slack_delivery=delivery)
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
    scheduler = desk.components.get("scheduler")
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
