"""The survey timetable on APScheduler: module-level jobs that take only ids.

* `surveys:sync` (every `survey_sync_seconds`) gives every open campaign its jobs, and removes
  those of closed ones; a campaign created by the CLI or Slack is picked up within seconds.
  A job is rewritten only when the campaign's `revision` changed (its name carries it).
* `survey:{id}:round` (interval, from opening to closing) and `survey:{id}:close` (date, at
  closing) call `run_campaign_round(id)`: read LimeSurvey if configured, then decide and queue.
* `survey:{id}:daily` (cron) writes the daily status line.

Jobs use the scheduler's defaults: coalesce, and a misfire grace long enough that a run missed
while the bot was down runs once when it is back. Deciding twice is harmless (idempotency keys).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.limesurvey import LimeSurvey
from bot.scheduler import current_desk, schedule
from handlers import survey_notices
from handlers.timeparse import parse_duration
from handlers.surveys import (
    apply_platform_rows, platform_participants_to_add, record_platform_ids, run_round,
)
from models.base import utcnow
from models.surveys import Campaign, CampaignState, all_campaigns

log = logging.getLogger(__name__)

MIN_TICK = timedelta(seconds=1)
MAX_TICK = timedelta(minutes=15)


def register_jobs(scheduler, desk) -> None:
    """Called once at start-up (bot/runtime.py); the sync job then keeps campaigns' jobs in step."""
    schedule(scheduler, "surveys:sync", sync_campaign_jobs, "interval",
             seconds=desk.settings.survey_sync_seconds, next_run_time=utcnow())


def round_interval(campaign: Campaign) -> timedelta:
    """A quarter of the shortest step of the timetable, between 1 second and 15 minutes."""
    steps = [parse_duration(campaign.first_reminder), parse_duration(campaign.every)]
    if campaign.last_call_before:
        steps.append(parse_duration(campaign.last_call_before))
    return max(MIN_TICK, min(MAX_TICK, min(steps) / 4))


async def sync_campaign_jobs() -> None:
    desk = current_desk()
    scheduler = desk.scheduler
    async with desk.db.session() as session:
        campaigns = await all_campaigns(session)
    for campaign in campaigns:
        ids = [f"survey:{campaign.id}:{job}" for job in ("round", "close", "daily")]
        if campaign.state == CampaignState.closed:
            for job_id in ids:
                if scheduler.get_job(job_id) is not None:
                    scheduler.remove_job(job_id)
            continue
        existing = scheduler.get_job(ids[0])
        label = f"{campaign.name} r{campaign.revision}"
        if existing is not None and existing.name == label:
            continue
        tick = round_interval(campaign)
        schedule(scheduler, ids[0], run_campaign_round, IntervalTrigger(
            seconds=tick.total_seconds(), start_date=campaign.opens_at, end_date=campaign.closes_at + 3 * tick,
            timezone=campaign.timezone), args=[campaign.id], name=label)
        schedule(scheduler, ids[1], run_campaign_round, DateTrigger(campaign.closes_at), args=[campaign.id], name=label)
        hour, _, minute = desk.settings.survey_daily_status_time.partition(":")
        schedule(scheduler, ids[2], run_daily_status, CronTrigger(
            hour=int(hour), minute=int(minute or 0), start_date=campaign.opens_at, end_date=campaign.closes_at,
            timezone=campaign.timezone), args=[campaign.id], name=label)
        log.info("survey %s: timetable set (round every %s, closes %s)", campaign.name, tick, campaign.closes_at)


async def run_campaign_round(campaign_id: int) -> None:
    """Read completions from LimeSurvey (when configured), then queue what is due now."""
    desk = current_desk()
    settings = desk.settings
    async with desk.db.session() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None or campaign.state == CampaignState.closed:
            return
        to_add = await platform_participants_to_add(session, campaign) if campaign.limesurvey_id else []
    rows, created = await _read_limesurvey(settings, campaign, to_add)
    async with desk.db.transaction() as session:
        campaign = await session.get(Campaign, campaign_id)
        if created:
            await record_platform_ids(session, campaign, created)
        if rows:
            await apply_platform_rows(session, campaign, rows, settings)
        result = await run_round(session, campaign, settings, utcnow())
    if result.queued:
        desk.deps.mail_queued()
        log.info("survey %s: queued %s invitation(s), %s reminder(s), %s last call(s), %s thank-you(s)",
                 campaign.name, result.invitations, result.reminders, result.last_calls, result.thanks)


async def run_daily_status(campaign_id: int) -> None:
    desk = current_desk()
    now = utcnow()
    async with desk.db.transaction() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is not None and campaign.state != CampaignState.closed and now < campaign.closes_at:
            line = await survey_notices.post_daily_status(session, campaign, desk.settings, now)
            log.info("survey status: %s", line)


async def _read_limesurvey(settings, campaign: Campaign, to_add: list[dict]) -> tuple[list[dict], list[dict]]:
    """(participant rows, rows of participants just added); nothing when LimeSurvey is not set up
    or does not answer — the round then goes on with what the desk knows."""
    if not (campaign.limesurvey_id and settings.limesurvey_url):
        return [], []
    try:
        async with LimeSurvey(settings.limesurvey_url, settings.limesurvey_user,
                              settings.limesurvey_password.get_secret_value()) as ls:
            created = await ls.add_participants(campaign.limesurvey_id, to_add) if to_add else []
            return await ls.list_participants(campaign.limesurvey_id, attributes=["completed"]), created
    except Exception as exc:  # noqa: BLE001 - LimeSurveyError, network, bad JSON: never stop the round
        log.warning("survey %s: LimeSurvey sync failed (%s); deciding with what we know", campaign.name, exc)
        return [], []

