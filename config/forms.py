"""The Slack forms handlers open (config/forms.yaml): for each form, its fields in order.

    fields("survey_new")  # [FormField(id='name', label='Campaign name', placeholder=…, optional=False), …]

A malformed file stops the import with the file and the entry named.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import yaml

PATH = Path(__file__).with_name("forms.yaml")


class BadForms(ValueError):
    """config/forms.yaml is malformed."""


class FormField(NamedTuple):
    id: str
    label: str
    placeholder: str
    optional: bool


def _load(path: Path) -> dict[str, list[FormField]]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise BadForms(f"{path}: needs a mapping of form name to its list of fields")
    forms: dict[str, list[FormField]] = {}
    for name, entries in data.items():
        try:
            forms[str(name)] = [FormField(str(e["id"]), str(e["label"]), str(e.get("placeholder", "")),
                                          bool(e.get("optional", False))) for e in entries]
        except (KeyError, TypeError, AttributeError) as exc:
            raise BadForms(f"{path}: {name}: every field needs an id and a label ({exc!r})") from None
    return forms


FORMS = _load(PATH)


def fields(form: str) -> list[FormField]:
    return FORMS[form]
