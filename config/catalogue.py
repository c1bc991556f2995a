"""The service catalogue (config/catalogue.yaml), read once: the category ids, their labels and groups."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

PATH = Path(__file__).with_name("catalogue.yaml")


@lru_cache(maxsize=1)
def _entries() -> tuple[tuple[str, str, str], ...]:
    with PATH.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    entries = []
    for i, entry in enumerate(data or []):
        try:
            entries.append((str(entry["id"]), str(entry["label"]), str(entry["group"])))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{PATH}: entry {i} needs id, label and group ({exc})") from None
    return tuple(entries)


def labels() -> dict[str, str]:
    """Category id -> label, in catalogue order."""
    return {cid: label for cid, label, _ in _entries()}


def groups() -> dict[str, str]:
    """Category id -> service group (A, B, C)."""
    return {cid: group for cid, _, group in _entries()}


def ids() -> list[str]:
    """The category ids, in catalogue order."""
    return [cid for cid, _, _ in _entries()]
