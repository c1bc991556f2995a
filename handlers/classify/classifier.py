"""The classifier object: loads (or trains) the models once and classifies ParsedMails."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from config.registry import Registry, load_registry
from handlers.parsing import ParsedMail

from .features import Prepared, prepare
from .language import detect
from .model import ModelConfig, Scorer, load_artifact, train_artifact
from .partnership import resolve
from .verdict import Classification

log = logging.getLogger(__name__)

REVIEW_THRESHOLD = 0.55          # any confidence below this marks the mail for a person to check
ALSO_MENTIONS_MIN = 0.15         # a second category with this probability (and a cue phrase) is reported
ARTIFACT_PATH = Path(__file__).resolve().parents[2] / "config" / "classifier" / "model.pkl.gz"


def artifact_path() -> Path:
    return Path(os.environ.get("EOCIC_CLASSIFIER_MODEL") or ARTIFACT_PATH)


def _quote(s: str, n: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


class Classifier:
    def __init__(self, artifact: dict, registry: Registry | None = None, threshold: float = REVIEW_THRESHOLD):
        self.artifact = artifact
        self.fast = Scorer(artifact)
        self.registry = registry or load_registry()
        self.threshold = threshold

    # ------------------------------------------------------------------ API
    def classify(self, mail: ParsedMail, *, known_partnership: str | None = None) -> Classification:
        prep = prepare(mail)
        tv = self.fast.text_vector(prep)
        return self._decide(mail, prep, known_partnership, self.fast.intent_proba(tv, prep, mail), tv)

    # ------------------------------------------------------------------ internals
    def _decide(self, mail: ParsedMail, prep: Prepared, known: str | None, iprob: np.ndarray, tv) -> Classification:
        reasons: list[str] = []
        labels = self.fast.intent_labels
        order = np.argsort(-iprob)
        model_intent, model_conf = labels[order[0]], float(iprob[order[0]])
        if prep.header_intent:
            intent, iconf = prep.header_intent, prep.header_conf
            reasons.extend(prep.header_reasons)
        else:
            intent, iconf = model_intent, model_conf
            hits = (prep.intent_cues.get("survey-eocic") if intent == "survey" else None) or prep.intent_cues.get(intent)
            if not hits and intent == "service-request":
                hits = [h for h in prep.intent_cues.get("request", []) if h != "?"]
            if not hits and intent == "other":
                hits = prep.intent_cues.get("chitchat")
            if not hits and intent == "spam":
                hits = prep.intent_cues.get("commercial")
            if hits:
                reasons.append(f'phrase "{_quote(hits[0], 50)}" → {intent}')
            else:
                reasons.append(f"wording → {intent} ({iconf:.2f})")
            if prep.negative_cues.get("unsubscribe") and intent != "unsubscribe" and prep.intent_cues.get("unsubscribe"):
                reasons.append(f'not an unsubscribe: "{_quote(prep.negative_cues["unsubscribe"][0], 40)}"')
            runner = labels[order[1]]
            if iprob[order[1]] > 0.2:
                reasons.append(f"or {runner} ({iprob[order[1]]:.2f})")

        category, cconf = None, 1.0
        if intent == "service-request":
            cprob = self.fast.category_proba(tv, prep)
            clabels = self.fast.category_labels
            corder = np.argsort(-cprob)
            category, cconf = clabels[corder[0]], float(cprob[corder[0]])
            hits = prep.category_cues.get(category)
            if hits:
                reasons.append(f'phrase "{_quote(hits[0], 50)}" → {category}')
            else:
                reasons.append(f"wording → {category} ({cconf:.2f})")
            also = [clabels[i] for i in corder[1:4] if cprob[i] >= ALSO_MENTIONS_MIN and prep.category_cues.get(clabels[i])]
            also += [c for c in prep.aside_cues if c != category and c not in also]
            if also:
                reasons.append("also mentions: " + ", ".join(also))

        # language of what was written now (a bounce: its DSN text)
        if intent == "bounce":
            lang_text = (mail.text or "")[:2000] or prep.subject
        else:
            lang_text = prep.body.new if len(prep.body.new.split()) >= 4 else f"{prep.subject}\n{prep.whole_text or prep.decision_text}"
        language, lconf = detect(lang_text)

        pres = resolve(mail, prep, self.registry, known, intent)
        reasons.extend(pres.reasons)

        confidence = {"intent": round(iconf, 3), "category": round(cconf, 3),
                      "partnership": round(pres.confidence, 3), "language": round(lconf, 3)}
        low = [k for k, v in confidence.items() if v < self.threshold]
        if low:
            reasons.append("low confidence: " + ", ".join(low))
        return Classification(intent, category, pres.acronym, language, confidence, reasons, bool(low))


# ---------------------------------------------------------------------- loading / training
_lock = threading.Lock()
_instance: Classifier | None = None
_loaded_from: str = ""


def train_models(examples, config: ModelConfig | None = None) -> dict:
    """Train on (ParsedMail, labels) pairs; returns the artifact Classifier() takes."""
    mails = [m for m, _ in examples]
    labels = [lab for _, lab in examples]
    preps = [prepare(m) for m in mails]
    return train_artifact(preps, mails, labels, config)


def _load_or_train() -> tuple[dict, str]:
    path = artifact_path()
    if not path.exists() and ARTIFACT_PATH.exists():  # nothing retrained into EOCIC_CLASSIFIER_MODEL yet
        path = ARTIFACT_PATH
    if path.exists():
        try:
            return load_artifact(path), str(path)
        except Exception as exc:  # a corrupt or incompatible artifact must not stop the desk
            log.warning("cannot load classifier artifact %s (%s): training from the corpus instead", path, exc)
    from .corpus import load_corpus
    examples = [(e.mail, e.labels) for e in load_corpus()]
    if not examples:
        raise RuntimeError(f"no classifier artifact at {path} and no labelled corpus to train from")
    return train_models(examples), "corpus (trained at start-up)"


def get_classifier() -> Classifier:
    global _instance, _loaded_from
    if _instance is None:
        with _lock:
            if _instance is None:
                art, src = _load_or_train()
                inst = Classifier(art)
                # warm up the lazy parts (language model) so the first mail is not slow
                detect("warm up the language identifier")
                _instance, _loaded_from = inst, src
    return _instance


def reload() -> Classifier:
    """Drop the loaded models; the next classify() loads the (re)trained artifact."""
    global _instance
    with _lock:
        _instance = None
    return get_classifier()


def loaded_from() -> str:
    return _loaded_from


__all__ = ["Classification", "Classifier", "REVIEW_THRESHOLD", "get_classifier", "reload", "train_models"]
