"""What Slack refuses in `blocks` and `view` payloads, for the Web API stand-in (tests/slack_api.py).

Two layers: slack_sdk's own models (`Block.parse(…).to_dict()` and `View(**…).to_dict()` run the
SDK's validators: text lengths, block_id/action_id ≤255, button value ≤2000, options ≤100, overflow
≤5, modal title/submit/close ≤24, private_metadata ≤3000, callback_id ≤255, ≤100 blocks in a
view), then the limits Slack documents that the SDK does not check: ≤50 blocks in a message,
block_id unique within a message or view, action_id unique within a block, plain_text_input
max_length 1–3000 (min_length 0–3000), no empty text object, section fields ≤2000 each, a property the SDK does not know
(Slack answers "unsupported property"), a view of the wrong type for the method.

Every rule answers Slack's wording: "[ERROR] <what> [json-pointer:<where>]".
"""

from __future__ import annotations

import logging
from collections import Counter

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
ID_CHARS = 255
INPUT_CHARS = 3000
FIELD_CHARS = 2000
MESSAGE_TEXT_CHARS = 40_000

logging.getLogger("slack_sdk.models").setLevel(logging.ERROR)  # "unknown block skipped": we report it ourselves


def _error(what: str, where: str) -> str:
    return f"[ERROR] {what} [json-pointer:{where}]"


def message_errors(blocks, where: str = "/blocks") -> list[str]:
    """Why Slack would refuse these message `blocks` (empty: it accepts them)."""
    if not isinstance(blocks, list):
        return [_error("must be an array of blocks", where)]
    errors = [_error(f"no more than {MESSAGE_BLOCKS} items allowed", where)] if len(blocks) > MESSAGE_BLOCKS else []
    for i, block in enumerate(blocks):
        errors += _sdk_block(block, f"{where}/{i}")
    return errors + _own_rules(blocks, where)


def view_errors(view, method: str, where: str = "/view") -> list[str]:
    """Why Slack would refuse this `view` for views.open/push/update (modal) or views.publish (home)."""
    if not isinstance(view, dict):
        return [_error("must be a view object", where)]
    wanted = "home" if method == "views.publish" else "modal"
    if view.get("type") != wanted:
        return [_error(f"view type must be `{wanted}` for {method}", f"{where}/type")]
    errors: list[str] = []
    try:
        parsed = View(**view)
        produced = parsed.to_dict()
    except (SlackObjectFormationError, TypeError, AttributeError, KeyError, ValueError) as exc:
        errors.append(_error(str(exc), where))
    else:
        errors += _unknown(view, produced, where, skip={"blocks"})
    if wanted == "modal" and not (view.get("title") or {}).get("text"):
        errors.append(_error("missing required field: title", f"{where}/title"))
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return errors + [_error("must provide at least 1 block", f"{where}/blocks")]
    for i, block in enumerate(blocks):
        errors += _sdk_block(block, f"{where}/blocks/{i}")
    return errors + _own_rules(blocks, f"{where}/blocks")


def _sdk_block(block, where: str) -> list[str]:
    if not isinstance(block, dict):
        return [_error("must be a block object", where)]
    try:
        parsed = Block.parse(dict(block))
        if parsed is None:
            return [_error(f"unsupported block type `{block.get('type')}`", f"{where}/type")]
        produced = parsed.to_dict()
    except (SlackObjectFormationError, TypeError, AttributeError, KeyError, ValueError) as exc:
        return [_error(str(exc), where)]
    return _unknown(block, produced, where)


def _unknown(raw, produced, where: str, skip: frozenset | set = frozenset()) -> list[str]:
    """Properties in what was sent that the SDK's model dropped: Slack refuses those too."""
    errors = []
    if isinstance(raw, dict) and isinstance(produced, dict):
        for key, value in raw.items():
            if key in skip:
                continue
            if key not in produced:
                if value not in (None, [], {}, ""):
                    errors.append(_error(f"unsupported property `{key}`", f"{where}/{key}"))
            else:
                errors += _unknown(value, produced[key], f"{where}/{key}")
    elif isinstance(raw, list) and isinstance(produced, list):
        if len(raw) != len(produced):
            errors.append(_error("contains unsupported items", where))
        for i, (r, p) in enumerate(zip(raw, produced)):
            errors += _unknown(r, p, f"{where}/{i}")
    return errors


def _elements(block: dict) -> list[tuple[str, dict]]:
    """The interactive elements of a block, with their pointer suffix."""
    found = []
    if isinstance(block.get("elements"), list) and block.get("type") == "actions":
        found += [(f"/elements/{i}", e) for i, e in enumerate(block["elements"]) if isinstance(e, dict)]
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append((f"/{key}", block[key]))
    return found


def _empty_texts(value, where: str) -> list[str]:
    """Text objects must hold at least one character (the SDK checks only some of them)."""
    if isinstance(value, dict):
        if value.get("type") in ("mrkdwn", "plain_text") and value.get("text") in ("", None):
            return [_error("must be more than 0 characters", f"{where}/text")]
        return [e for key, item in value.items() for e in _empty_texts(item, f"{where}/{key}")]
    if isinstance(value, list):
        return [e for i, item in enumerate(value) for e in _empty_texts(item, f"{where}/{i}")]
    return []


def _own_rules(blocks: list, where: str) -> list[str]:
    errors = _empty_texts(blocks, where)
    ids = Counter(b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id") is not None)
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        here = f"{where}/{i}"
        block_id = block.get("block_id")
        if block_id is not None and ids[block_id] > 1:
            errors.append(_error(f"duplicate block_id `{block_id}`: block ids must be unique", f"{here}/block_id"))
        if block_id is not None and (not isinstance(block_id, str) or not 0 < len(block_id) <= ID_CHARS):
            errors.append(_error(f"block_id must be 1 to {ID_CHARS} characters", f"{here}/block_id"))
        for k, field in enumerate(block.get("fields") or []):
            if isinstance(field, dict) and len(str(field.get("text", ""))) > FIELD_CHARS:
                errors.append(_error(f"must be less than {FIELD_CHARS + 1} characters", f"{here}/fields/{k}/text"))
        elements = _elements(block)
        actions = Counter(e.get("action_id") for _, e in elements if e.get("action_id") is not None)
        for suffix, element in elements:
            action_id = element.get("action_id")
            if action_id is not None and actions[action_id] > 1:
                errors.append(_error(f"duplicate action_id `{action_id}` within the block", f"{here}{suffix}/action_id"))
            if action_id is not None and (not isinstance(action_id, str) or not 0 < len(action_id) <= ID_CHARS):
                errors.append(_error(f"action_id must be 1 to {ID_CHARS} characters", f"{here}{suffix}/action_id"))
            if element.get("type") == "plain_text_input":
                errors += _input_lengths(element, f"{here}{suffix}")
    return errors


def _input_lengths(element: dict, where: str) -> list[str]:
    errors = []
    high, low = element.get("max_length"), element.get("min_length")
    if high is not None and (not isinstance(high, int) or not 1 <= high <= INPUT_CHARS):
        errors.append(_error(f"must be between 1 and {INPUT_CHARS}", f"{where}/max_length"))
    if low is not None and (not isinstance(low, int) or not 0 <= low <= INPUT_CHARS):
        errors.append(_error(f"must be between 0 and {INPUT_CHARS}", f"{where}/min_length"))
    if isinstance(high, int) and isinstance(low, int) and low > high:
        errors.append(_error("min_length must not exceed max_length", f"{where}/min_length"))
    initial = element.get("initial_value")
    if isinstance(initial, str) and isinstance(high, int) and len(initial) > high:
        errors.append(_error("initial_value is longer than max_length", f"{where}/initial_value"))
    return errors
