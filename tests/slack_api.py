"""A local HTTP server standing in for the Slack Web API, as strict as Slack's documentation says Slack is.

Point the desk at it with EOCIC_SLACK_API_URL=`api.url`. It records every call (`calls`, `of`,
`wait_for`; `of` lists the calls Slack accepted) and refuses what Slack refuses:

* `blocks` and `view` payloads are checked by tests/slack_rules.py (slack_sdk's models plus the
  documented limits the SDK does not check): `invalid_blocks` for messages, `invalid_arguments`
  for views, both with `response_metadata.messages`; `chat.postMessage` with blocks needs `text`.
* the token (`Authorization: Bearer`) must be one it issued: `not_authed`, `invalid_auth`,
  `token_revoked` after `revoke()`;
* channels are known with the bot's membership (`add_channel`, `leave`): `channel_not_found`,
  `not_in_channel`; a user id as channel is a DM and needs a known user (`add_user`);
* a `trigger_id` must come from `trigger_id()`, be used once and within 3 s: `invalid_trigger_id`,
  `exchanged_trigger_id`, `expired_trigger_id`;
* messages are known: `chat.update` of an unknown or deleted (`delete_message`) one answers
  `message_not_found`;
* files only through `files.getUploadURLExternal`, an upload of exactly `length` bytes, and
  `files.completeUploadExternal`, once per file (`files.upload` answers `method_deprecated`); an
  unknown method `unknown_method`;
* `response_url`s come from `response_url(name)` and take at most 5 posts.

`fail_next(method, error)` makes the next call of `method` fail with Slack's shape for `error`:
`ratelimited` (HTTP 429 + Retry-After), `invalid_blocks`, `invalid_arguments`, `missing_scope`,
`token_revoked`, `invalid_auth`, `account_inactive`, `channel_not_found`, `not_in_channel`, …
(HTTP 200, ok false), a 5xx with `status=503`, or `"disconnect"` (the connection is dropped).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import web

from tests.http_standin import serve
from tests.slack_rules import MESSAGE_TEXT_CHARS, message_errors, view_errors

TRIGGER_SECONDS = 3.0
RESPONSE_URL_USES = 5
BOT_USER = "U0DESKBOT"
VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")
AUTH_ERRORS = ("not_authed", "invalid_auth", "token_revoked", "account_inactive", "token_expired")


@dataclass
class Call:
    method: str
    args: dict
    at: float = field(default_factory=time.monotonic)
    status: int = 200
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    def dump(self) -> str:
        """Everything sent, as one JSON string (to search for text)."""
        return json.dumps(self.args, ensure_ascii=False)


class SlackError(Exception):
    """An `ok: false` answer: Slack's error code and the extra fields Slack sends with it."""

    def __init__(self, error: str, status: int = 200, headers: dict | None = None, **extra) -> None:
        super().__init__(error)
        self.error, self.status, self.headers, self.extra = error, status, headers or {}, extra

    def response(self) -> web.Response:
        return web.json_response({"ok": False, "error": self.error, **self.extra}, status=self.status, headers=self.headers)


def slack_error(error: str, status: int | None = None, retry_after: float | None = None) -> SlackError:
    """Slack's shape for an error code (what `fail_next` answers)."""
    if error == "ratelimited":
        return SlackError(error, status or 429, {"Retry-After": str(int(retry_after if retry_after is not None else 1))})
    if error == "invalid_blocks":
        message = "[ERROR] failed to match all allowed schemas [json-pointer:/blocks/0]"
        return SlackError(error, status or 200, errors=[message[8:]], response_metadata={"messages": [message]})
    if error == "invalid_arguments":
        return SlackError(error, status or 200, response_metadata={"messages": ["[ERROR] invalid argument [json-pointer:/view]"]})
    if error == "missing_scope":
        return SlackError(error, status or 200, needed="chat:write", provided="commands")
    return SlackError(error, status or 200)


class FakeSlackApi:
    host = "127.0.0.1"

    def __init__(self, token: str = "xoxb-test", channels: dict[str, str] | None = None) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, dict] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.tokens: dict[str, str] = {token: "valid"}
        self.channels: dict[str, dict] = {}
        for channel_id, name in (channels or {}).items():
            self.add_channel(channel_id, name)
        self.messages: dict[tuple[str, str], dict] = {}
        self.views: dict[str, dict] = {}
        self.files: dict[str, dict] = {}
        self.trigger_seconds = TRIGGER_SECONDS
        self._triggers: dict[str, float | None] = {}  # trigger id -> issued at (None once used)
        self._response_urls: dict[str, int] = {}  # name -> posts left
        self._failures: dict[str, list[SlackError | str]] = {}
        self.expected_errors: set[str] = set()  # refusals a test provoked on purpose (`fail_next`, `expect`)
        self.methods: dict = {}  # method -> fn(token) -> (status, body): methods another stand-in answers
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- what the workspace holds ---------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/api/"

    def add_channel(self, channel_id: str, name: str, member: bool = True) -> None:
        self.channels[channel_id] = {"id": channel_id, "name": name, "member": member}

    def leave(self, channel_id: str) -> None:
        """The bot is removed from the channel: posts answer `not_in_channel`."""
        self.channels[channel_id]["member"] = False

    def join(self, channel_id: str) -> None:
        self.channels[channel_id]["member"] = True

    def add_user(self, user_id: str, name: str, real_name: str | None = None) -> None:
        real = real_name or name
        self.users[user_id] = {"id": user_id, "name": name, "real_name": real, "profile": {"real_name": real}}

    def revoke(self, token: str) -> None:
        self.tokens[token] = "token_revoked"

    def issue_token(self, token: str) -> None:
        self.tokens[token] = "valid"

    def delete_message(self, channel: str, ts: str) -> None:
        """Someone deleted the message in Slack."""
        del self.messages[(channel, ts)]

    def trigger_id(self) -> str:
        """A trigger id as Slack puts in an interaction: valid once, for `trigger_seconds`."""
        trigger = f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self._triggers[trigger] = time.monotonic()
        return trigger

    def response_url(self, name: str = "r") -> str:
        self._response_urls.setdefault(name, RESPONSE_URL_USES)
        return f"http://{self.host}:{self.port}/response/{name}"

    def fail_next(self, method: str, error: str = "ratelimited", *, status: int | None = None,
                  retry_after: float | None = 1, times: int = 1) -> None:
        """The next `times` calls of `method` fail with Slack's shape for `error` ("disconnect": the socket is cut)."""
        failure = error if error == "disconnect" else slack_error(error, status, retry_after)
        self.expect(error)
        self._failures.setdefault(method, []).extend([failure] * times)

    def expect(self, *errors: str) -> None:
        """Errors the test provokes on purpose (the `desk` fixture fails on any other refusal)."""
        self.expected_errors.update(errors)

    # --- reading what was called ---------------------------------------------------------

    def of(self, method: str, **match) -> list[Call]:
        """The calls of `method` that Slack accepted, whose arguments match."""
        return [c for c in self.calls if c.method == method and c.ok
                and all(c.args.get(k) == v for k, v in match.items())]

    def refused(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if not c.ok and (method is None or c.method == method)]

    async def wait_for(self, method: str, n: int = 1, timeout: float = 20.0, **match) -> list[Call]:
        deadline = time.monotonic() + timeout
        async with self._changed:
            while len(self.of(method, **match)) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{n} call(s) of {method} {match} expected; got "
                                         f"{[(c.method, c.error) for c in self.calls]}")
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except asyncio.TimeoutError:
                    pass
        return self.of(method, **match)

    def button(self, action_id: str, value: str | None = None, *, home_of: str | None = None):
        """Where a button is shown now: (message or view, block, element); the newest message first.

        With `home_of`, the button is looked for in that user's published App Home.
        """
        if home_of is not None:
            places = [self.views[v] for v in self.views if self.views[v].get("_user") == home_of][-1:]
        else:
            places = list(reversed(self.messages.values()))
        for place in places:
            for block in place.get("blocks") or []:
                for element in block.get("elements") or []:
                    if element.get("action_id") == action_id and (value is None or element.get("value") == value):
                        return place, block, element
        raise AssertionError(f"no button {action_id}={value} is shown in Slack")

    # --- the server --------------------------------------------------------------------

    async def start(self) -> "FakeSlackApi":
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner, self.port = await serve(app, self.host)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

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
                loaded = json.loads(body)
                if not isinstance(loaded, dict):
                    raise SlackError("invalid_json")
                args.update(loaded)
            else:
                args.update(parse_qsl(body.decode()))
        for key in ("blocks", "view", "files"):  # form-encoded calls send these as JSON strings
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    raise SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {key} is not JSON"]})
        return args

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            args = await self._args(request)
        except (SlackError, ValueError, UnicodeDecodeError) as exc:
            refusal = exc if isinstance(exc, SlackError) else SlackError("invalid_form_data")
            await self._record(Call(method, {}, status=refusal.status, error=refusal.error))
            return refusal.response()
        if method in self.methods:  # answered by another stand-in (Socket Mode's apps.connections.open)
            header = request.headers.get("Authorization", "")
            status, body = self.methods[method](header[7:] if header.startswith("Bearer ") else args.get("token", ""))
            await self._record(Call(method, args, status=status, error=None if body.get("ok") else body.get("error")))
            return web.json_response(body, status=status)
        if self._failures.get(method):
            failure = self._failures[method].pop(0)
            if failure == "disconnect":
                await self._record(Call(method, args, status=0, error="disconnect"))
                request.transport.close()
                return web.Response(status=500)
            await self._record(Call(method, args, status=failure.status, error=failure.error))
            return failure.response()
        try:
            self._authorised(request)
            answer = self._answer(method, args)
        except SlackError as refusal:
            await self._record(Call(method, args, status=refusal.status, error=refusal.error))
            return refusal.response()
        await self._record(Call(method, args))
        return web.json_response({"ok": True, **answer})

    def _authorised(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else request.query.get("token")
        if not token:
            raise SlackError("not_authed")
        state = self.tokens.get(token)
        if state is None:
            raise SlackError("invalid_auth")
        if state != "valid":
            raise SlackError(state)

    # --- the methods ---------------------------------------------------------------------

    def _answer(self, method: str, args: dict) -> dict:
        handler = {
            "auth.test": self._auth_test, "chat.postMessage": self._post_message, "chat.update": self._update,
            "chat.postEphemeral": self._ephemeral, "users.info": self._user_info,
            "usergroups.users.list": lambda a: {"users": self.usergroups.get(a.get("usergroup", ""), [])},
            "conversations.open": self._open_dm, "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }.get(method)
        if method in VIEW_METHODS:
            return self._view(method, args)
        if method == "files.upload":
            raise SlackError("method_deprecated")
        if handler is None:
            raise SlackError("unknown_method", status=404)
        return handler(args)

    def _auth_test(self, _args: dict) -> dict:
        return {"url": "https://eocic.slack.example/", "team": "EOCIC", "user": "desk", "team_id": "T0EOCIC",
                "user_id": BOT_USER, "bot_id": "B0DESK"}

    def _channel(self, channel_id) -> str:
        """A channel the bot may post to: a channel it is a member of, a DM it opened, or a user (DM)."""
        if not channel_id:
            raise SlackError("channel_not_found")
        if channel_id in self.users:
            return channel_id
        channel = self.channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        if not channel["member"]:
            raise SlackError("not_in_channel")
        return channel_id

    @staticmethod
    def _message_payload(args: dict) -> None:
        text, blocks = args.get("text"), args.get("blocks")
        if blocks is None and not text and not args.get("attachments"):
            raise SlackError("no_text")
        if isinstance(text, str) and len(text) > MESSAGE_TEXT_CHARS:
            raise SlackError("msg_too_long")
        if blocks is not None:
            errors = message_errors(blocks)
            if errors:
                raise SlackError("invalid_blocks", errors=[e[8:] for e in errors],
                                 response_metadata={"messages": errors})
            if not text:  # Slack's docs: the fallback `text` is required with blocks (for notifications, screen readers)
                raise SlackError("invalid_arguments",
                                 response_metadata={"messages": ["[ERROR] missing required field: text [json-pointer:/text]"]})

    def _post_message(self, args: dict) -> dict:
        channel = self._channel(args.get("channel"))
        self._message_payload(args)
        ts = f"1700000000.{next(self._ts):06d}"
        message = {"type": "message", "user": BOT_USER, "text": args.get("text"), "ts": ts,
                   "blocks": args.get("blocks") or [], "channel": channel, "thread_ts": args.get("thread_ts")}
        self.messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": {k: v for k, v in message.items() if v is not None}}

    def _update(self, args: dict) -> dict:
        channel = self._channel(args.get("channel"))
        message = self.messages.get((channel, str(args.get("ts"))))
        if message is None:
            raise SlackError("message_not_found")
        self._message_payload(args)
        message["text"] = args.get("text")
        if "blocks" in args:  # Slack's docs: without `blocks`, the message keeps the blocks it had
            message["blocks"] = args["blocks"] or []
        return {"channel": channel, "ts": message["ts"], "text": args.get("text"),
                "message": {"text": args.get("text"), "blocks": message["blocks"]}}

    def _ephemeral(self, args: dict) -> dict:
        self._channel(args.get("channel"))
        if args.get("user") not in self.users:
            raise SlackError("user_not_found")
        self._message_payload(args)
        return {"message_ts": f"1700000000.{next(self._ts):06d}"}

    def _user_info(self, args: dict) -> dict:
        user = self.users.get(args.get("user", ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}

    def _open_dm(self, args: dict) -> dict:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if len(users) != 1 or users[0] not in self.users:
            raise SlackError("user_not_found")
        channel_id = "D" + users[0][1:]
        self.channels.setdefault(channel_id, {"id": channel_id, "name": users[0], "member": True, "im": True})
        return {"channel": {"id": channel_id}}

    def _take_trigger(self, trigger) -> None:
        issued = self._triggers.get(trigger)
        if trigger not in self._triggers:
            raise SlackError("invalid_trigger_id")
        if issued is None:
            raise SlackError("exchanged_trigger_id")
        self._triggers[trigger] = None
        if time.monotonic() - issued > self.trigger_seconds:
            raise SlackError("expired_trigger_id")

    def _view(self, method: str, args: dict) -> dict:
        view = args.get("view")
        if method in ("views.open", "views.push"):
            self._take_trigger(args.get("trigger_id"))
        elif method == "views.update" and args.get("view_id") not in self.views:
            raise SlackError("not_found")
        elif method == "views.publish" and args.get("user_id") not in self.users:
            raise SlackError("user_not_found")
        errors = view_errors(view, method)
        if errors:
            raise SlackError("invalid_arguments", response_metadata={"messages": errors})
        view_id = args.get("view_id") if method == "views.update" else f"V{next(self._views):08d}"
        if method == "views.publish":  # one Home per user: publishing again replaces it
            view_id = next((v for v, held in self.views.items() if held.get("_user") == args["user_id"]), view_id)
        self.views[view_id] = {**view, "_user": args.get("user_id")}
        return {"view": {"id": view_id, "team_id": "T0EOCIC", "app_id": "A0DESK", "hash": secrets.token_hex(8),
                         "state": {"values": {}}, **view}}

    def _upload_url(self, args: dict) -> dict:
        try:
            length = int(args.get("length", ""))
        except ValueError:
            length = 0
        if not args.get("filename") or length <= 0:
            raise SlackError("invalid_arguments",
                             response_metadata={"messages": ["[ERROR] filename and a positive length are required"]})
        file_id = f"F{next(self._ts):08d}"
        self.files[file_id] = {"id": file_id, "filename": args["filename"], "length": length, "content": None}
        return {"upload_url": f"http://{self.host}:{self.port}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict) -> dict:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] files must be a JSON array"]})
        channel = args.get("channel_id") or args.get("channels")
        if channel:
            if channel in self.users:  # unlike chat.postMessage, files are shared into a channel: open the DM first
                raise SlackError("channel_not_found")
            self._channel(channel)
        done = []
        for entry in files:
            held = self.files.get(entry.get("id")) if isinstance(entry, dict) else None
            if held is None or held["content"] is None or held.get("completed"):  # unknown, not uploaded, or done already
                raise SlackError("file_not_found")
            held.update(title=entry.get("title") or held["filename"], channel=channel, completed=True,
                        initial_comment=args.get("initial_comment"))
            done.append({"id": held["id"], "title": held["title"], "name": held["filename"]})
        return {"files": done}

    # --- response_url and upload targets --------------------------------------------------

    async def _response(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            args = await self._args(request)
        except (SlackError, ValueError, UnicodeDecodeError):
            await self._record(Call("response", {"_name": name}, status=400, error="invalid_payload"))
            return web.Response(status=400, text="invalid_payload")
        args["_name"] = name
        left = self._response_urls.get(name, 0)
        try:
            if left <= 0:
                raise SlackError("used_url" if name in self._response_urls else "no_active_hooks", status=404)
            self._message_payload(args)
        except SlackError as refusal:
            status = refusal.status if refusal.status != 200 else 400
            await self._record(Call("response", args, status=status, error=refusal.error))
            return web.Response(status=status, text=refusal.error)
        self._response_urls[name] = left - 1
        await self._record(Call("response", args))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        body = await request.read()
        held = self.files.get(file_id)
        if held is None:
            await self._record(Call("upload", {"file_id": file_id}, status=404, error="file_not_found"))
            return web.Response(status=404, text="file_not_found")
        if len(body) != held["length"]:  # Slack keeps only what `length` announced; the file is then broken
            await self._record(Call("upload", {"file_id": file_id, "size": len(body)}, status=400, error="length_mismatch"))
            return web.Response(status=400, text="length_mismatch")
        held["content"] = body
        await self._record(Call("upload", {"file_id": file_id, "size": len(body)}))
        return web.Response(text=f"OK - {len(body)}")
