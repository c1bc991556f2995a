"""LimeSurvey RemoteControl 2 (JSON-RPC) client: read participants' completion, add participants.

    async with LimeSurvey(url, user, password) as ls:      # get_session_key … release_session_key
        rows = await ls.list_participants(123456, attributes=["completed"])
        await ls.add_participants(123456, [{"email": …, "firstname": …, "lastname": …}])
        text = await ls.export_responses(123456, "csv")     # the answers, headed by question codes

LimeSurvey reports most failures as a *result* `{"status": "…"}` rather than a JSON-RPC error;
they become `LimeSurveyError`, except "No survey participants found." which is an empty list.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from typing import Any

import aiohttp

NO_PARTICIPANTS = "No survey participants found."
NO_RESPONSES = {"No Response found", "No Data"}  # newer and older LimeSurvey: nothing answered yet
EXPORT_TYPES = ("csv", "json")
PAGE = 500


class LimeSurveyError(RuntimeError):
    """LimeSurvey refused a call (bad credentials, invalid session key, unknown survey, …)."""


class LimeSurvey:
    def __init__(self, url: str, username: str, password: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self._username = username
        self._password = password
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ids = itertools.count(1)
        self._http: aiohttp.ClientSession | None = None
        self.session_key: str | None = None

    async def __aenter__(self) -> "LimeSurvey":
        self._http = aiohttp.ClientSession(timeout=self._timeout)
        try:
            key = await self.call("get_session_key", self._username, self._password)
            if not isinstance(key, str):
                raise LimeSurveyError(f"get_session_key refused: {_status(key)}")
            self.session_key = key
        except BaseException:
            await self._http.close()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        try:
            if self.session_key:
                await self.call("release_session_key", self.session_key)
        except (LimeSurveyError, aiohttp.ClientError, TimeoutError):
            pass  # the key expires on its own
        finally:
            self.session_key = None
            if self._http is not None:
                await self._http.close()

    async def call(self, method: str, *params: Any) -> Any:
        """One JSON-RPC 1.0-style call as LimeSurvey expects it; the `result`, or LimeSurveyError."""
        assert self._http is not None, "use `async with LimeSurvey(...)`"
        body = {"method": method, "params": list(params), "id": next(self._ids)}
        async with self._http.post(self.url, json=body, headers={"content-type": "application/json"}) as response:
            if response.status != 200:
                raise LimeSurveyError(f"{method}: HTTP {response.status}")
            data = await response.json(content_type=None)
        if not isinstance(data, dict):
            raise LimeSurveyError(f"{method}: not a JSON-RPC answer")
        if data.get("error"):
            raise LimeSurveyError(f"{method}: {data['error']}")
        return data.get("result")

    async def list_participants(self, survey_id: int, *, attributes: list[str] | None = None,
                                conditions: dict | None = None) -> list[dict]:
        """Every participant row (paged): tid, token, participant_info{email,firstname,lastname}, + attributes."""
        rows: list[dict] = []
        for start in itertools.count(0, PAGE):
            result = await self.call("list_participants", self.session_key, survey_id, start, PAGE, False,
                                     attributes or ["completed"], conditions or {})
            if isinstance(result, dict) and result.get("status") == NO_PARTICIPANTS:
                break
            if not isinstance(result, list):
                raise LimeSurveyError(f"list_participants: {_status(result)}")
            rows += result
            if len(result) < PAGE:
                break
        return rows

    async def add_participants(self, survey_id: int, participants: list[dict], *, create_token: bool = True) -> list[dict]:
        """Add participants; each answer row carries the tid and token LimeSurvey gave (or an error)."""
        result = await self.call("add_participants", self.session_key, survey_id, participants, create_token)
        if not isinstance(result, list):
            raise LimeSurveyError(f"add_participants: {_status(result)}")
        return result


    async def export_responses(self, survey_id: int, document_type: str = "csv", *, completed_only: bool = True) -> str:
        """The survey's responses as CSV or JSON text, columns headed by question code (LimeSurvey answers
        base64); "" when there are none yet."""
        if document_type not in EXPORT_TYPES:
            raise ValueError(f"export as csv or json, not {document_type!r}")
        result = await self.call("export_responses", self.session_key, survey_id, document_type, None,
                                 "complete" if completed_only else "all", "code", "short")
        if isinstance(result, dict) and result.get("status") in NO_RESPONSES:
            return ""
        if not isinstance(result, str):
            raise LimeSurveyError(f"export_responses: {_status(result)}")
        try:
            return base64.b64decode(result, validate=True).decode("utf-8-sig")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise LimeSurveyError(f"export_responses: the answer is not base64 UTF-8 text ({exc})") from None


def _status(result: Any) -> str:
    return str(result.get("status")) if isinstance(result, dict) and "status" in result else repr(result)[:200]
