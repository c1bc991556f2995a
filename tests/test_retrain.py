"""Staff corrections become labelled examples, and `eocic-desk classify --retrain` learns from them."""

from __future__ import annotations

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
