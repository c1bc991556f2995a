"""The labelled corpus in config/classifier/corpus/<batch>/ (*.eml + labels.jsonl) and its dev split."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from handlers.parsing import ParsedMail, UnparseableMail, parse_mail

log = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).resolve().parents[2] / "config" / "classifier" / "corpus"
DEV_FRACTION = 0.25


@dataclass
class Example:
    path: str
    mail: ParsedMail
    labels: dict
    split: str          # "train" or "dev"


def is_dev(batch: str, name: str) -> bool:
    """Stable ~25% of each batch, chosen by a hash of the file name (never tuned on)."""
    h = int(hashlib.sha1(f"{batch}/{name}".encode()).hexdigest()[:8], 16)
    return (h % 1000) < DEV_FRACTION * 1000


def read_labels(directory: str | Path) -> tuple[dict[str, dict], list[str]]:
    """labels.jsonl of a directory: {file: labels}, and a list of problems found."""
    directory = Path(directory)
    out: dict[str, dict] = {}
    problems: list[str] = []
    path = directory / "labels.jsonl"
    if not path.exists():
        return out, [f"{path}: not found"]
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or not isinstance(obj.get("file"), str) or "intent" not in obj:
                raise ValueError("needs at least 'file' and 'intent'")
            out[obj["file"]] = obj
        except ValueError as exc:
            problems.append(f"{path} line {n}: {exc}")
    return out, problems


def load_dir(directory: str | Path, batch: str | None = None) -> tuple[list[Example], list[str]]:
    directory = Path(directory)
    batch = batch or directory.name
    labels, problems = read_labels(directory)
    examples: list[Example] = []
    for name, lab in sorted(labels.items()):
        p = directory / name
        try:
            mail = parse_mail(p.read_bytes())
        except (OSError, UnparseableMail) as exc:
            problems.append(f"{p}: {exc}")
            continue
        examples.append(Example(str(p), mail, lab, "dev" if is_dev(batch, name) else "train"))
    return examples, problems


def load_corpus(root: str | Path | None = None) -> list[Example]:
    root = Path(root) if root else CORPUS_DIR
    out: list[Example] = []
    if not root.exists():
        return out
    for d in sorted(x for x in root.iterdir() if x.is_dir()):
        if (d / "labels.jsonl").exists():
            ex, problems = load_dir(d)
            for problem in problems:
                log.warning("classifier corpus: %s (left out)", problem)
            out.extend(ex)
    return out
