"""What /slack/events refuses before Bolt sees a request.

- A malformed request (timestamp not a number, body not UTF-8, JSON that is not an object,
  a `payload` field that is not a JSON object) gets 400 with what is wrong, and no traceback;
  the signature is checked before the body is parsed (a body that is not UTF-8 cannot be).
- A bad signature gets 401 (checked again by Bolt; done here first so that nothing unsigned
  is even parsed).
- A replay: Slack signs "v0:timestamp:body", and accepts a timestamp for five minutes; the
  same timestamp and signature seen twice in that window is refused with 401. (A replay that
  claims to be Slack's own retry, X-Slack-Retry-Num, gets 200 and is ignored, so that Slack
  stops retrying what was handled.)
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

WINDOW_SECONDS = 5 * 60  # Slack's: older timestamps are refused anyway


def _refuse(status: int, why: str) -> web.Response:
    log.info("Slack request refused (%s): %s", status, why)
    return web.json_response({"error": why}, status=status)


class RequestGuard:
    def __init__(self, signing_secret: str) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    async def check(self, request: web.Request) -> web.Response | None:
        """None when the request may go on to Bolt, else the answer to give."""
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        if timestamp is None or signature is None:
            return _refuse(401, "the request is not signed (X-Slack-Request-Timestamp, X-Slack-Signature)")
        if not timestamp.isascii() or not timestamp.isdigit():
            return _refuse(400, "X-Slack-Request-Timestamp is not a number of seconds")
        try:
            body = (await request.read()).decode("utf-8")  # Slack sends UTF-8; nothing else can be verified
        except UnicodeDecodeError:
            return _refuse(400, "the body is not UTF-8")
        if not self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
            return _refuse(401, "the signature does not match, or the timestamp is older than five minutes")
        if self._replayed(timestamp, signature):
            if request.headers.get("X-Slack-Retry-Num"):
                return web.Response(status=200)
            return _refuse(401, "this signed request was already received (a replay)")
        return _malformed(body, request.content_type)

    def _replayed(self, timestamp: str, signature: str) -> bool:
        now = time.time()
        while self._seen and next(iter(self._seen.values())) < now:
            self._seen.popitem(last=False)
        key = (timestamp, signature)
        if key in self._seen:
            return True
        self._seen[key] = int(timestamp) + WINDOW_SECONDS + 1
        return False


def _malformed(text: str, content_type: str) -> web.Response | None:
    if content_type == "application/json":
        return _json_object(text, "the JSON body")
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        return _json_object(form["payload"][0], "the payload field")
    return None


def _json_object(text: str, what: str) -> web.Response | None:
    try:
        value = json.loads(text)
    except ValueError:
        return _refuse(400, f"{what} is not JSON")
    return None if isinstance(value, dict) else _refuse(400, f"{what} is not a JSON object")
