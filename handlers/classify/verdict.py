"""What the classifier says of a mail: a plain record, importable without loading the models.

The worker processes send it back pickled; the desk's own process unpickles it (importing this module)
and so never loads the classifier, its regular expressions or its language model.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Classification:
    intent: str
    category: str | None
    partnership: str | None
    language: str
    confidence: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    needs_review: bool = False

    def to_dict(self) -> dict:
        return {"intent": self.intent, "category": self.category, "partnership": self.partnership,
                "language": self.language, "confidence": dict(self.confidence), "reasons": list(self.reasons),
                "needs_review": self.needs_review}
