"""The service catalogue (config/catalogue.yaml), read once at import: category ids, labels, groups.

    CATEGORIES["peer-review"]     # 'Peer review of strategy or action plan' (ids in catalogue order)
    SERVICE_GROUP["peer-review"]  # 'A'
    GROUPS["A"]                   # 'Direct support in the definition and implementation of joint activities'

A malformed file stops the import with the file and the entry named.
"""
from __future__ import annotations

from pathlib import Path

import yaml

PATH = Path(__file__).with_name("catalogue.yaml")


class BadCatalogue(ValueError):
    """config/catalogue.yaml is malformed."""


def _load(path: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    try:
        groups = {str(g): str(name) for g, name in data["groups"].items()}
        services = list(data["services"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadCatalogue(f"{path}: needs a 'groups' mapping and a 'services' list ({exc!r})") from None
    labels: dict[str, str] = {}
    group_of: dict[str, str] = {}
    for i, entry in enumerate(services):
        try:
            cid, label, group = str(entry["id"]), str(entry["label"]), str(entry["group"])
        except (KeyError, TypeError) as exc:
            raise BadCatalogue(f"{path}: services[{i}] needs id, label and group ({exc!r})") from None
        if cid in labels:
            raise BadCatalogue(f"{path}: services[{i}]: id {cid!r} appears twice")
        if group not in groups:
            raise BadCatalogue(f"{path}: services[{i}] ({cid}): group {group!r} is not one of {sorted(groups)}")
        labels[cid], group_of[cid] = label, group
    return labels, group_of, groups


CATEGORIES, SERVICE_GROUP, GROUPS = _load(PATH)
