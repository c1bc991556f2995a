"""A local HTTP server standing in for the Slack Web API: answers the methods the desk uses and records every call.

Point the desk at it with EOCIC_SLACK_API_URL=`api.url`. Message text and blocks are kept
as sent. `fail_next(method, status=429, retry_after=1)` answers the next call of `method`
with an error once. `response_url(name)` gives a URL for slash-command/interactivity
`response_url`s whose posts are recorded as method "response".
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import web


@dataclass
class Call:
    method: str
    args: dict
    at: float = field(default_factory=time.monotonic)
    status: int = 200

    def dump(self) -> str:
        """Everything sent, as one JSON string (to search for text)."""
        return json.dumps(self.args, ensure_ascii=False)


class FakeSlackApi:
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, dict] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.revoked_tokens: set[str] = set()  # answered invalid_auth, as Slack does for a revoked token
        self._failures: dict[str, list[tuple[int, float | None, str]]] = {}
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"http://{self.host}:{self.port}/response/{name}"

    async def start(self) -> "FakeSlackApi":
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, method: str, status: int = 429, retry_after: float | None = 1, error: str = "ratelimited") -> None:
        self._failures.setdefault(method, []).append((status, retry_after, error))

    def of(self, method: str, **match) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.status == 200
                and all(c.args.get(k) == v for k, v in match.items())]

    async def wait_for(self, method: str, n: int = 1, timeout: float = 20.0, **match) -> list[Call]:
        deadline = time.monotonic() + timeout
        async with self._changed:
            while len(self.of(method, **match)) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{n} call(s) of {method} {match} expected; got {[c.method for c in self.calls]}")
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except asyncio.TimeoutError:
                    pass
        return self.of(method, **match)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    @staticmethod
    async def _args(request: web.Request) -> dict:
        args = dict(request.query)
        body = await request.read()
        if body:
            if request.content_type == "application/json":
                args.update(json.loads(body))
            else:
                args.update(parse_qsl(body.decode()))
        for key in ("blocks", "view"):  # form-encoded calls send these as JSON strings
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or args.get("token", "")
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        if not token.startswith(("xoxb-", "xoxp-")) or token in self.revoked_tokens:  # Slack answers 200
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self._failures.get(method):
            status, retry_after, error = self._failures[method].pop(0)
            await self._record(Call(method, args, status=status))
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        await self._record(Call(method, args))
        return web.json_response({"ok": True, **self._answer(method, args)})

    def _answer(self, method: str, args: dict) -> dict:
        if method == "auth.test":
            return {"url": "https://eocic.slack.example/", "team": "EOCIC", "user": "desk", "team_id": "T0EOCIC",
                    "user_id": "U0DESKBOT", "bot_id": "B0DESK"}
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return {"channel": args.get("channel"), "ts": ts, "message": {"text": args.get("text"), "ts": ts}}
        if method == "chat.update":
            return {"channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")}
        if method == "chat.postEphemeral":
            return {"message_ts": f"1700000000.{next(self._ts):06d}"}
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            return {"view": {"id": f"V{next(self._views):08d}", **(args.get("view") or {})}}
        if method == "users.info":
            user = args.get("user", "")
            return {"user": self.users.get(user, {"id": user, "name": user.lower(), "real_name": user,
                                                   "profile": {"real_name": user}})}
        if method == "usergroups.users.list":
            return {"users": self.usergroups.get(args.get("usergroup", ""), [])}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {"upload_url": f"http://{self.host}:{self.port}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            return {"files": [{"id": f["id"], "title": f.get("title", "")} for f in json.loads(args.get("files", "[]"))]}
        return {}

    async def _response(self, request: web.Request) -> web.Response:
        args = await self._args(request)
        args["_name"] = request.match_info["name"]
        await self._record(Call("response", args))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        await self._record(Call("upload", {"file_id": request.match_info["file_id"], "size": len(await request.read())}))
        return web.Response(text="OK - uploaded")
