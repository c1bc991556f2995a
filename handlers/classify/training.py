"""Build the classifier artifact from the corpus (+ staff corrections) and save it where classify() loads it.

    eocic-desk classify --train                 # corpus -> config/classifier/model.pkl.gz
    eocic-desk classify --train --out X         # somewhere else
    eocic-desk classify --train --train-only    # leave the dev split out (for measuring)
    eocic-desk classify --retrain               # corpus + the staff corrections in the database

Staff corrections: `retrain(extra_examples)` with (ParsedMail, labels) pairs, labels as in
labels.jsonl ({"intent", "category", "partnership", "language"}); a correction that only
changes the category or the partnership still carries the mail's other labels.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from config.catalogue import CATEGORIES
from handlers.parsing import ParsedMail

from . import cues
from .classifier import artifact_path, reload, train_models
from .corpus import load_corpus
from .model import ModelConfig, save_artifact

_VALID_INTENTS = set(cues.INTENTS)
_VALID_CATEGORIES = set(CATEGORIES)


class BadLabels(ValueError):
    """A staff correction whose labels do not fit the scheme; the message says which and why."""


def check_labels(labels: dict, where: str = "example") -> dict:
    intent = labels.get("intent")
    if intent not in _VALID_INTENTS:
        raise BadLabels(f"{where}: intent must be one of {sorted(_VALID_INTENTS)}, got {intent!r}")
    category = labels.get("category")
    if intent == "service-request":
        if category not in _VALID_CATEGORIES:
            raise BadLabels(f"{where}: a service-request needs a category from {sorted(_VALID_CATEGORIES)}, got {category!r}")
    elif category is not None:
        raise BadLabels(f"{where}: category must be null when intent is {intent!r}")
    return labels


def build(extra_examples: list[tuple[ParsedMail, dict]] | None = None, *, train_only: bool = False,
          config: ModelConfig | None = None):
    corpus = load_corpus()
    examples = [(e.mail, e.labels) for e in corpus if not (train_only and e.split == "dev")]
    for i, (mail, labels) in enumerate(extra_examples or []):
        examples.append((mail, check_labels(labels, f"extra example {i}")))
    if not examples:
        raise RuntimeError("no labelled examples: the corpus directory is empty and no corrections were given")
    return train_models(examples, config)


def save(artifact: dict, path: str | Path | None = None) -> Path:
    path = Path(path) if path else artifact_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # write then rename: a crash never leaves a half-written model where classify() looks
    fd, tmp = tempfile.mkstemp(prefix=".model-", suffix=".pkl.gz", dir=str(path.parent))
    os.close(fd)
    try:
        save_artifact(artifact, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def retrain(extra_examples: list[tuple[ParsedMail, dict]], path: str | Path | None = None) -> Path:
    """Rebuild the models from the corpus plus staff corrections, save them, and make classify() use them."""
    models = build(extra_examples)
    out = save(models, path)
    if path is None or Path(path) == artifact_path():
        reload()
    return out

