"""The cue lexicons' data files (config/classifier/*.yaml), read and checked once.

Each file maps a key (an intent, a category, a helper cue) to a list of regular expressions; a
file that is not such a mapping, or a pattern that does not compile, stops loading with the file
and the key in the message.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

import config

DIRECTORY = Path(config.__file__).parent / "classifier"


class BadLexicon(ValueError):
    """A cue data file is malformed."""


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, list[str]]:
    """The lexicon in config/classifier/<name>.yaml: key -> patterns, in file order."""
    path = DIRECTORY / f"{name}.yaml"
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise BadLexicon(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise BadLexicon(f"{path}: expected a mapping of key -> list of patterns")
    for key, patterns in data.items():
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise BadLexicon(f"{path}: key {key!r} must be a list of pattern strings")
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise BadLexicon(f"{path}: key {key!r}: pattern {p!r} does not compile ({exc})") from None
    return data
