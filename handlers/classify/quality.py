"""How good the classifier is on mail it was not trained on: the dev split and leave-one-writer-out.

    eocic-desk classify --quality                             # one JSON line of scores
    eocic-desk classify --quality --predictions out.jsonl     # also every prediction, to compare two versions

* dev split: models trained on the train split only (as `classify --train --train-only`), scored on the
  held-out ~25 % of each batch (never tuned on).
* leave-one-writer-out: each corpus batch was written by someone else; for every batch, models
  trained on the other batches score that batch. The scores are over all batches' predictions
  pooled (each mail predicted once, by models that never saw its writer), and per batch.
"""

from __future__ import annotations

from pathlib import Path

from .classifier import Classifier, train_models
from .commands import evaluate
from .corpus import Example

SCORES = ("intent_macro_f1", "category_macro_f1", "partnership_accuracy", "language_accuracy")


def _summary(gold: list[dict], pred: list[dict]) -> dict:
    scores = evaluate(gold, pred)
    return {"n": scores["n"], **{k: round(scores[k], 4) for k in SCORES}}


def _predict(train: list[Example], test: list[Example]) -> list[dict]:
    clf = Classifier(train_models([(e.mail, e.labels) for e in train]))
    return [clf.classify(e.mail).to_dict() for e in test]


def batch_of(example: Example) -> str:
    return Path(example.path).parent.name


def measure(corpus: list[Example]) -> tuple[dict, list[dict]]:
    """(scores, every prediction with its file and fold)."""
    rows: list[dict] = []
    dev = [e for e in corpus if e.split == "dev"]
    dev_pred = _predict([e for e in corpus if e.split != "dev"], dev)
    rows += [{"fold": "dev", "file": e.path, **p} for e, p in zip(dev, dev_pred)]
    result = {"dev": _summary([e.labels for e in dev], dev_pred), "leave_one_writer_out": {}}

    pooled_gold: list[dict] = []
    pooled_pred: list[dict] = []
    for batch in sorted({batch_of(e) for e in corpus}):
        test = [e for e in corpus if batch_of(e) == batch]
        pred = _predict([e for e in corpus if batch_of(e) != batch], test)
        rows += [{"fold": f"writer-{batch}", "file": e.path, **p} for e, p in zip(test, pred)]
        result["leave_one_writer_out"][batch] = _summary([e.labels for e in test], pred)
        pooled_gold += [e.labels for e in test]
        pooled_pred += pred
    result["leave_one_writer_out"]["pooled"] = _summary(pooled_gold, pooled_pred)
    return result, rows
