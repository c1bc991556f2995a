"""Hostile and mistaken command-line input: each gets one line saying what is wrong, never a traceback,
and changes nothing."""

from __future__ import annotations

import pytest

from tests.desk import run_cli

SECRET = {"EOCIC_SECRET_KEY": "k" * 40}
CAMPAIGN = ["survey", "create", "--audience", "ESCP-S3", "--url", "https://s.example/{token}", "--opens", "2030-01-06",
            "--closes", "2030-02-01"]

CASES = {
    "a 100,000-digit ticket number": (["ticket", "9" * 100_000], "there is no ticket"),
    "a ticket number past 64 bits": (["ticket", "EOCIC-" + "9" * 30], "there is no ticket"),
    "a quarantine id past 64 bits": (["replay", "9" * 30], "invalid row_id value"),
    "a negative quarantine id": (["replay", "-1"], "invalid row_id value"),
    "a webinar id that is not a number": (["webinar", "cancel", "x1"], "invalid row_id value"),
    "a reminder delay of 3 million years": ([*CAMPAIGN, "--name", "n1", "--first-reminder", "99999999999d"],
                                             "longer than ten years"),
    "a duration past float range": ([*CAMPAIGN, "--name", "n2", "--every", "9" * 400 + "s"], "longer than ten years"),
    "a million reminders": ([*CAMPAIGN, "--name", "n3", "--max-reminders", "1" + "0" * 30], "between 0 and 50"),
    "a 100,000-character campaign name": ([*CAMPAIGN, "--name", "n" * 100_000], "at most 120 characters"),
    "a date that does not exist": ([*CAMPAIGN[:-4], "--opens", "2026-13-45", "--closes", "2030-02-01", "--name", "n4"],
                                   "is not a date"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_arguments_get_one_line_and_no_traceback(case, tmp_path):
    args, expected = CASES[case]
    env = {"EOCIC_DATA_DIR": str(tmp_path), **SECRET}
    result = run_cli(env, *args)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-500:]
    assert "Traceback" not in output, output[-2000:]
    assert expected in output, output[-500:]
    assert len(output) < 2000  # the message quotes at most a little of the input
    listed = run_cli(env, "survey", "list", "--json")
    assert listed.returncode == 0 and listed.stdout.strip() in ("[]", ""), listed.stdout[-500:]
