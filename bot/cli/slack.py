"""`eocic-desk slack redrive`: send again the Slack notices held because Slack refused them.

A notice is held when Slack refused it for a reason a person must fix (bot not in the channel,
token revoked, a missing scope…). Fix the cause, then redrive: a running desk delivers the
re-queued notices on its next pass (a refusal that persists holds them again). The desk also
re-queues held notices itself when it starts.
"""

from __future__ import annotations

from bot.cli.common import add_command, add_group, in_transaction, print_result


def register(sub) -> None:
    ssub = add_group(sub, "slack", "Slack delivery: re-queue held notices")
    add_command(ssub, "redrive", "re-queue the Slack notices held after a refusal (fix the cause first)", cmd_redrive, json=True)


async def cmd_redrive(settings, args) -> int:
    from models.slack import requeue_held

    code, counts = await in_transaction(settings, lambda session, desk: requeue_held(session, settings.slack_triage_channel))
    if code:
        return code
    total = sum(counts.values())
    text = (f"re-queued {total} held Slack notice(s): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            + "; a running desk delivers them within seconds (a refusal that persists holds them again)"
            if total else "no held Slack notices")
    print_result({"requeued": total, "by_error": counts}, args.json, text)
    return 0
