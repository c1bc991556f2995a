"""`eocic-desk ingest|tickets|ticket|quarantine|replay`: feed mail through intake, look at tickets and quarantined mail."""

from __future__ import annotations

import json

from bot.cli.common import add_command, answer_read, fail, in_transaction, print_json_list, print_result, row_id


def register(sub) -> None:
    p = add_command(sub, "ingest", "feed .eml files, folders of them or mbox files through intake", cmd_ingest)
    p.add_argument("paths", nargs="+", help=".eml files, folders of them (searched recursively) or mbox files")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument("--send", action="store_true", help="also send the acknowledgements now")

    p = add_command(sub, "tickets", "list tickets", cmd_tickets, json=True)
    p.add_argument("--status", choices=["new", "open", "waiting", "closed"], help="only tickets in this state")
    p = add_command(sub, "ticket", "show one ticket", cmd_ticket, json=True)
    p.add_argument("ref", help="a reference such as EOCIC-00042")
    add_command(sub, "quarantine", "list mail that could not be handled", cmd_quarantine, json=True)
    p = add_command(sub, "replay", "retry one quarantined mail", cmd_replay)
    p.add_argument("id", type=row_id, help="the id shown by `eocic-desk quarantine`")


async def cmd_ingest(settings, args) -> int:
    from itertools import islice

    from bot.mail_sources import mail_sources
    from bot.desk import opened_desk
    from handlers.intake import Source, ingest_batch

    counts: dict[str, int] = {}
    sources = mail_sources(args.paths)
    async with opened_desk(settings, mail_pool=True) as desk:
        while batch := list(islice(sources, settings.imap_batch_size)):  # as the watcher: a batch at a time
            results = await ingest_batch([(raw, Source(label)) for label, raw in batch], desk.deps)
            for (label, _), result in zip(batch, results):
                counts[result.kind] = counts.get(result.kind, 0) + 1
                if args.verbose:
                    print(f"{label}\t{result.kind}\t{result.ticket_ref or ''}")
        if args.send:
            from bot.outbox import OutboxSender

            await OutboxSender(desk.db, settings).send_all()
    print(json.dumps(counts, sort_keys=True) if args.json else ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 0


def cmd_tickets(settings, args):
    """Read through `answer_read`: from sqlite3 alone when it can, so `tickets` answers in a fraction of a second."""
    from handlers.ticket_views import listed, listed_json

    if args.json:  # each ticket's JSON written from its row (`listed_json`): the list of 50,000 in well under a second
        return answer_read(settings, lambda fetch: listed_json(fetch, args.status), print_json_list)

    def show(tickets: list[dict]) -> None:
        print("\n".join([*(f"{t['ref']}  {t['status']:<7} {t['intent']:<15} {t['category'] or '-':<26} "
                            f"{t['partnership'] or '-':<16} {t['sender']:<34} {t['subject'][:60]}" for t in tickets),
                          f"{len(tickets)} ticket(s)"]))

    return answer_read(settings, lambda fetch: listed(fetch, args.status), show)


def cmd_ticket(settings, args):
    """Read through `answer_read`, as `tickets`."""
    from handlers.ticket_views import shown

    def show(data: dict) -> None:
        lines = [f"{key:>18}: {value}" for key, value in data.items() if key not in ("messages", "outgoing")]
        lines += ["messages:"] + [f"  {m['date']}  {m['direction']:<3} {m['kind']:<10} {m['from']}  {m['subject'][:60]}"
                                  for m in data["messages"]]
        lines += ["outgoing mail:"] + [
            f"  {o['queued_at'][:19]}  {o['kind']:<14} to {o['to']:<34} {o['state']:<8}"
            + (f" sent {o['sent_at'][:19]}" if o["sent_at"] else f" attempts {o['attempts']}")
            + (f"  ({' '.join(o['last_error'].split())[:80]})" if o["last_error"] and o["state"] != "sent" else "")
            for o in data["outgoing"]] if data["outgoing"] else ["outgoing mail: none"]
        print_result(data, args.json, "\n".join(lines))

    return answer_read(settings, lambda fetch: shown(fetch, args.ref), show)


async def cmd_quarantine(settings, args) -> int:
    from sqlmodel import select

    from models.tickets import Message, MessageState

    async def work(session, desk):
        return list(await session.exec(select(Message).where(Message.state == MessageState.quarantined).order_by(Message.id)))

    code, rows = await in_transaction(settings, work)
    if code:
        return code
    items = [{"id": m.id, "source": m.source, "from": m.from_addr, "subject": m.subject, "size": m.raw_size,
              "received_at": m.received_at.isoformat(), "error": (m.error or "").strip().splitlines()[-1:]} for m in rows]
    lines = [f"{i['id']:>6}  {i['received_at'][:19]}  {i['source'][:40]:<40} {' '.join(i['error'])[:80]}" for i in items]
    print_result(items, args.json, "\n".join([*lines, f"{len(items)} quarantined message(s); retry one with: eocic-desk replay ID"]))
    return 0


async def cmd_replay(settings, args) -> int:
    from handlers.context import Isolated
    from bot.desk import opened_desk
    from handlers.intake import replay

    async with opened_desk(settings, mail_pool=True) as desk:
        try:
            result = await replay(args.id, desk.deps)
        except (LookupError, ValueError, Isolated) as exc:  # not in quarantine; still unparseable or over a limit
            return fail(str(exc))
    print(f"message {args.id}: {result.kind} {result.ticket_ref or ''}".strip())
    return 0
