"""Classify an incoming mail: intent, service category, partnership, language, with confidences and reasons.

    from handlers.classify import classify, Classification
    result = classify(parsed_mail, known_partnership="ADPACK²")   # known_partnership is optional

The models load once (config/classifier/model.pkl.gz, built by `eocic-desk classify --train`;
without it they are trained from config/classifier/corpus/ at start-up). `reload()` picks up a
retrained artifact.
"""

from __future__ import annotations

from handlers.parsing import ParsedMail

from .classifier import REVIEW_THRESHOLD, Classification, Classifier, get_classifier, reload


def classify(mail: ParsedMail, *, known_partnership: str | None = None) -> Classification:
    """Intent, category (service requests only), partnership, language, confidences and reasons."""
    return get_classifier().classify(mail, known_partnership=known_partnership)


__all__ = ["classify", "Classification", "Classifier", "REVIEW_THRESHOLD", "reload", "get_classifier"]
