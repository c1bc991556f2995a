"""Classify an incoming mail: intent, service category, partnership, language, with confidences and reasons.

    from handlers.classify import classify, Classification
    result = classify(parsed_mail, known_partnership="ADPACK²")   # known_partnership is optional

The models load once, on the first `classify` (config/classifier/model.pkl.gz, built by `eocic-desk
classify --train`; without it they are trained from config/classifier/corpus/); importing this package
loads nothing, so a process that only reads verdicts (the desk's own, unpickling the workers' answers)
stays light. `handlers.classify.classifier` has the classifier itself and `reload()`.
"""

from __future__ import annotations

from handlers.parsing import ParsedMail

from .verdict import Classification


def classify(mail: ParsedMail, *, known_partnership: str | None = None) -> Classification:
    """Intent, category (service requests only), partnership, language, confidences and reasons."""
    from .classifier import get_classifier

    return get_classifier().classify(mail, known_partnership=known_partnership)


__all__ = ["classify", "Classification"]
