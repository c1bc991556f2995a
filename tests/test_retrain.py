"""Staff corrections become labelled examples, and `eocic-desk classify --retrain` learns from them."""

from __future__ import annotations

import json
from pathlib import Path

from bot.desk import open_desk
from handlers import staff_actions
from handlers.intake import Source, ingest
from models.corrections import corrected_examples
from tests.desk import run_cli, settings_from_env
from tests.test_intake import mail


async def test_a_category_correction_is_kept_and_used_for_retraining(desk_env, tmp_path):
    env = {**desk_env, "EOCIC_CLASSIFIER_MODEL": str(tmp_path / "model.pkl.gz")}
    desk = await open_desk(settings_from_env(env))
    result = await ingest(mail(subject="Our roadmap", body="Could someone read our 2020 roadmap critically?\n"),
                          desk.deps, Source("test"))
    await staff_actions.change_category(desk.deps, result.ticket_ref, "partnership-building", actor="slack:U0ADA")
    async with desk.db.session() as session:
        [(raw, labels)] = await corrected_examples(session)
    await desk.db.dispose()
    assert b"roadmap critically" in raw
    assert labels["category"] == "partnership-building" and labels["intent"] == "service-request"

    retrained = run_cli(env, "classify", "--retrain", timeout=300)
    assert retrained.returncode == 0, retrained.stderr
    assert "1 staff correction" in retrained.stdout
    assert Path(env["EOCIC_CLASSIFIER_MODEL"]).stat().st_size > 10_000


def test_train_writes_a_model_that_classify_then_uses(desk_env, tmp_path):
    """`classify --train --out FILE` builds from the corpus alone, and `classify` runs on that file."""
    env = {**desk_env, "EOCIC_CLASSIFIER_MODEL": str(tmp_path / "model.pkl.gz")}
    trained = run_cli(env, "classify", "--train", "--train-only", "--out", env["EOCIC_CLASSIFIER_MODEL"], timeout=300)
    assert trained.returncode == 0, trained.stderr
    assert "trained on" in trained.stdout and Path(env["EOCIC_CLASSIFIER_MODEL"]).stat().st_size > 10_000
    sample = tmp_path / "request.eml"
    sample.write_bytes(mail(body="We would like support to prepare our internationalisation strategy.\n"))
    classified = run_cli(env, "classify", "--json", str(sample))
    assert classified.returncode == 0, classified.stderr
    assert '"intent"' in classified.stdout


def test_out_without_train_says_how_to_use_it(desk_env, tmp_path):
    wrong = run_cli(desk_env, "classify", "--out", str(tmp_path / "m.pkl.gz"))
    assert wrong.returncode != 0
    assert "--out and --train-only go with --train" in wrong.stderr
    assert not (tmp_path / "m.pkl.gz").exists()


def test_quality_scores_mail_the_models_never_saw(desk_env, tmp_path):
    """`classify --quality` prints the dev-split and leave-one-writer-out scores as one JSON line."""
    predictions = tmp_path / "predictions.jsonl"
    measured = run_cli(desk_env, "classify", "--quality", "--predictions", str(predictions), timeout=600)
    assert measured.returncode == 0, measured.stderr
    scores = json.loads(measured.stdout.strip().splitlines()[-1])
    dev, pooled = scores["dev"], scores["leave_one_writer_out"]["pooled"]
    assert dev["intent_macro_f1"] >= 0.9 and dev["category_macro_f1"] >= 0.8, dev
    assert pooled["intent_macro_f1"] >= 0.9 and pooled["category_macro_f1"] >= 0.8, pooled
    batches = [k for k in scores["leave_one_writer_out"] if k != "pooled"]
    assert len(batches) >= 2 and sum(scores["leave_one_writer_out"][b]["n"] for b in batches) == pooled["n"]
    rows = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == dev["n"] + pooled["n"]


def test_predictions_without_quality_says_how_to_use_it(desk_env, tmp_path):
    wrong = run_cli(desk_env, "classify", "--predictions", str(tmp_path / "p.jsonl"))
    assert wrong.returncode != 0
    assert "--predictions goes with --quality" in wrong.stderr
    assert not (tmp_path / "p.jsonl").exists()
