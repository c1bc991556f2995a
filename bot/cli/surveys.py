"""`eocic-desk survey …`: create, list, inspect and close progress-survey campaigns, and import their answers.

A running bot (`eocic-desk run`) picks up a campaign created here within `EOCIC_SURVEY_SYNC_SECONDS`
and sends its invitations at opening time.
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.cli.common import add_command, add_group, in_transaction, print_result, run_and_print


def register(sub) -> None:
    ssub = add_group(sub, "survey", "progress-survey campaigns: create, list, status, done, extend, close")

    c = add_command(ssub, "create", "create a campaign (one participant per partnership of the audience)", cmd_create, json=True)
    c.add_argument("--name", required=True, help="the campaign's name, e.g. escp-4i-2019 (used by the other actions)")
    c.add_argument("--audience", required=True, help="ESCP-4i, ESCP-4i:strand-1, ESCP-S3 or ACR1,ACR2,…")
    c.add_argument("--url", required=True, help="survey address with {token} (or {ls_token})")
    c.add_argument("--opens", required=True, help="ISO date-time, e.g. 2019-05-13T09:00 (campaign time zone)")
    c.add_argument("--closes", required=True, help="ISO date-time")
    c.add_argument("--first-reminder", default="7d", help="delay after the invitation: 7d, 36h, 90s … (default 7d)")
    c.add_argument("--every", default="7d", help="interval between reminders (default 7d)")
    c.add_argument("--max-reminders", type=int, default=3, help="reminders per participant at most (default 3)")
    c.add_argument("--last-call", default=None, help="send a last call this long before closing, e.g. 2d")
    c.add_argument("--window", default=None,
                   help="when reminders may go, e.g. 'mon-fri 09:00-18:00' or 'always' (default: "
                        "EOCIC_SURVEY_WINDOW for day-long steps, 'always' for faster ones)")
    c.add_argument("--timezone", default=None, help="IANA zone of the dates (default Europe/Brussels)")
    c.add_argument("--limesurvey-id", type=int, default=None, help="read completions from this LimeSurvey survey")
    c.add_argument("--template", action="append", default=[], metavar="KIND=NAME",
                   help="own mail template for invitation, reminder, last_call or thanks")

    s = add_command(ssub, "status", "response rate and participants of a campaign", cmd_status, json=True)
    s.add_argument("name", help="the campaign")

    add_command(ssub, "list", "list campaigns", cmd_list, json=True)

    d = add_command(ssub, "done", "mark a partnership's answer as received", cmd_done)
    d.add_argument("name", help="the campaign")
    d.add_argument("acronym", help="the partnership's acronym, e.g. ADPACK²")

    e = add_command(ssub, "extend", "move the closing date", cmd_extend)
    e.add_argument("name", help="the campaign")
    e.add_argument("closes", help="ISO date-time")

    x = add_command(ssub, "close", "close a campaign now", cmd_close)
    x.add_argument("name", help="the campaign")

    register_import(ssub)


def register_import(ssub) -> None:
    """`eocic-desk survey import NAME (--csv FILE | --limesurvey-json FILE | --limesurvey)`."""
    i = add_command(ssub, "import", "import a campaign's questionnaire answers (once each)", cmd_import, json=True)
    i.add_argument("name", help="the campaign's name (`survey list`)")
    source = i.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", type=Path, metavar="FILE", help="a CSV export headed by question codes")
    source.add_argument("--limesurvey-json", type=Path, metavar="FILE", help="a LimeSurvey JSON export")
    source.add_argument("--limesurvey", action="store_true",
                        help="read them from LimeSurvey (export_responses; EOCIC_LIMESURVEY_* and the campaign's --limesurvey-id)")


async def cmd_import(settings, args) -> int:
    from bot.limesurvey import LimeSurvey, LimeSurveyError
    from handlers.progress_report import read_csv, read_json
    from handlers.survey_answers import import_answers, resolver, survey_of
    from handlers.surveys import get_campaign

    async def work(session, desk):
        campaign = await get_campaign(session, args.name)
        survey, resolve = await survey_of(session, campaign), await resolver(session)
        if args.csv:
            imported, source = read_csv(survey, args.csv.read_text(encoding="utf-8-sig"), resolve), f"csv:{args.csv.name}"
        elif args.limesurvey_json:
            try:
                document = json.loads(args.limesurvey_json.read_text(encoding="utf-8-sig"))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{args.limesurvey_json.name} is not JSON: {exc}") from None
            imported, source = read_json(survey, document, resolve), f"json:{args.limesurvey_json.name}"
        else:
            if not campaign.limesurvey_id:
                raise ValueError(f"campaign {campaign.name!r} has no LimeSurvey survey id (create it with --limesurvey-id)")
            settings.require("limesurvey_url", "limesurvey_user", "limesurvey_password")
            try:
                async with LimeSurvey(settings.limesurvey_url, settings.limesurvey_user,
                                      settings.limesurvey_password.get_secret_value()) as ls:
                    text = await ls.export_responses(campaign.limesurvey_id, "csv")
            except LimeSurveyError as exc:
                raise ValueError(f"LimeSurvey: {exc}") from None
            imported, source = read_csv(survey, text, resolve), f"limesurvey:{campaign.limesurvey_id}"
        return await import_answers(session, campaign, imported, source, "cli")

    code, result = await in_transaction(settings, work)
    if code:
        return code
    text = [f"{result['imported']} answer(s) imported into {result['campaign']}"
            + (f"; {len(result['already_imported'])} already there" if result["already_imported"] else "")]
    text += [f"unmapped column: {c}" for c in result["unmapped_columns"]]
    text += [f"skipped {p}" for p in result["problems"]]
    text += [f"not invited to the campaign: {a}" for a in result["not_invited"]]
    print_result(result, args.json, "\n".join(text))
    return 0


async def cmd_create(settings, args) -> int:
    from handlers.survey_report import campaign_status
    from handlers.timeparse import parse_datetime
    from handlers.surveys import create_campaign

    async def work(session, desk):
        settings.require("secret_key")  # the links carry signed tokens
        tz = args.timezone or settings.survey_timezone
        bad = [t for t in args.template if "=" not in t]
        if bad:
            raise ValueError(f"--template {bad[0]!r}: write KIND=NAME, e.g. reminder=my_reminder")
        templates = dict(t.split("=", 1) for t in args.template)
        campaign = await create_campaign(
            session, settings, name=args.name, audience=args.audience, url_template=args.url,
            opens_at=parse_datetime(args.opens, tz), closes_at=parse_datetime(args.closes, tz),
            first_reminder=args.first_reminder, every=args.every, max_reminders=args.max_reminders,
            last_call_before=args.last_call, window=args.window, timezone=tz, templates=templates,
            limesurvey_id=args.limesurvey_id, actor="cli",
        )
        return await campaign_status(session, campaign)

    code, status = await in_transaction(settings, work)
    if code:
        return code
    summary = {k: v for k, v in status.items() if k != "participants"} | {
        "participants": [{"partnership": p["partnership"], "email": p["email"]} for p in status["participants"]]}
    print_result(summary, args.json, f"campaign {status['name']!r} created: {status['total']} participants, "
                                     f"opens {status['opens_at']}, closes {status['closes_at']}")
    return 0


async def cmd_status(settings, args) -> int:
    from handlers.survey_report import campaign_status, status_line
    from handlers.surveys import get_campaign

    async def work(session, desk):
        return await campaign_status(session, await get_campaign(session, args.name))

    code, status = await in_transaction(settings, work)
    if code:
        return code
    lines = [status_line(status)] + [
        f"  {p['partnership']:<20} {p['strand']:<18} {p['email'] or '-':<40} invited {(p['invited_at'] or '-')[:16]:<16} "
        f"reminders {p['reminders_sent']}  {'answered ' + p['completed_at'][:16] if p['completed_at'] else 'pending'}"
        for p in status["participants"]]
    print_result(status, args.json, "\n".join(lines))
    return 0


async def cmd_list(settings, args) -> int:
    from sqlmodel import select

    from handlers.survey_report import campaign_status
    from models.surveys import Campaign

    async def work(session, desk):
        campaigns = list(await session.exec(select(Campaign).order_by(Campaign.opens_at)))
        return [{k: v for k, v in (await campaign_status(session, c)).items() if k != "participants"} for c in campaigns]

    def text(items: list[dict]) -> str:
        return "\n".join([*(f"{c['name']:<28} {c['state']:<7} {c['opens_at'][:16]} → {c['closes_at'][:16]}  "
                             f"{c['answered']}/{c['total']} answered ({c['response_rate']}%)" for c in items),
                          f"{len(items)} campaign(s)"])

    return await run_and_print(settings, args, work, text)


async def cmd_done(settings, args) -> int:
    from handlers.surveys import get_campaign, mark_done

    async def work(session, desk):
        campaign = await get_campaign(session, args.name)
        return await mark_done(session, campaign, args.acronym, "cli", "cli", settings=settings)

    code, first = await in_transaction(settings, work)
    if code:
        return code
    print(f"{args.acronym}: answer recorded" if first else f"{args.acronym}: already recorded as answered")
    return 0


async def cmd_extend(settings, args) -> int:
    from handlers.timeparse import parse_datetime
    from handlers.surveys import extend, get_campaign

    async def work(session, desk):
        campaign = await get_campaign(session, args.name)
        return await extend(session, campaign, parse_datetime(args.closes, campaign.timezone), "cli")

    code, campaign = await in_transaction(settings, work)
    if code:
        return code
    print(f"{campaign.name}: now closes {campaign.closes_at.isoformat()}")
    return 0


async def cmd_close(settings, args) -> int:
    from handlers.surveys import close, get_campaign

    async def work(session, desk):
        return await close(session, await get_campaign(session, args.name), "cli", settings=settings)

    code, closed = await in_transaction(settings, work)
    if code:
        return code
    print(f"{args.name}: closed" if closed else f"{args.name}: was closed already")
    return 0
