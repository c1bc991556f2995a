"""A local WebSocket server that speaks Slack's Socket Mode protocol, for the desk's Socket Mode tests.

What it follows of Slack's documentation (https://api.slack.com/apis/socket-mode):
- `apps.connections.open` (answered by the Web API stand-in through `connections_open`) needs an
  app-level token (`xapp-…`): a bot token gets `not_allowed_token_type`, anything else `invalid_auth`;
  each call gives a new single-use URL, and a URL that was not issued, or is used twice, is refused;
- on connect the server sends `hello`;
- every request is an envelope (`envelope_id`, `type`, `payload`, `accepts_response_payload`) and must be
  acknowledged with `{"envelope_id": …}` within 3 seconds, or Slack counts it as failed;
- the server may send `disconnect` with reason `refresh_requested` (then closes), or drop the socket;
  the client is expected to open a new connection.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid

from aiohttp import WSMsgType, web

from tests.http_standin import serve

ACK_SECONDS = 3.0


class SocketModeServer:
    host = "127.0.0.1"

    def __init__(self, app_token: str) -> None:
        self.app_token = app_token
        self.issued: set[str] = set()
        self.connections = 0  # sockets accepted over the server's life
        self.acks: dict[str, dict] = {}  # envelope_id -> the client's acknowledgement
        self.late: list[str] = []  # envelopes acknowledged after ACK_SECONDS (or never)
        self._sockets: list[web.WebSocketResponse] = []
        self._acked = asyncio.Condition()
        self._sent_at: dict[str, float] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> "SocketModeServer":
        app = web.Application()
        app.router.add_get("/link/{ticket}", self._socket)
        self._runner, self.port = await serve(app, self.host)
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def connections_open(self, token: str) -> tuple[int, dict]:
        """The Web API method `apps.connections.open`: (HTTP status, JSON body) as Slack answers it."""
        if token.startswith(("xoxb-", "xoxp-")):
            return 200, {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return 200, {"ok": False, "error": "invalid_auth"}
        ticket = secrets.token_urlsafe(12)
        self.issued.add(ticket)
        return 200, {"ok": True, "url": f"ws://{self.host}:{self.port}/link/{ticket}"}

    @property
    def open_sockets(self) -> list[web.WebSocketResponse]:
        return [ws for ws in self._sockets if not ws.closed]

    async def wait_connected(self, connections: int = 1, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.connections < connections or not self.open_sockets:
            if time.monotonic() > deadline:
                raise AssertionError(f"{connections} Socket Mode connection(s) expected, got {self.connections}")
            await asyncio.sleep(0.05)

    async def send(self, kind: str, payload: dict) -> str:
        """Send one envelope on the open socket; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        ws = self.open_sockets[-1]
        self._sent_at[envelope_id] = time.monotonic()
        await ws.send_str(json.dumps({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                      "accepts_response_payload": kind != "events_api", "retry_attempt": 0,
                                      "retry_reason": ""}))
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = ACK_SECONDS) -> dict:
        async with self._acked:
            await asyncio.wait_for(self._acked.wait_for(lambda: envelope_id in self.acks), timeout)
        return self.acks[envelope_id]

    async def request_refresh(self) -> None:
        """What Slack does every few hours: `disconnect` / `refresh_requested`, then the socket closes."""
        for ws in self.open_sockets:
            await ws.send_str(json.dumps({"type": "disconnect", "reason": "refresh_requested",
                                          "debug_info": {"host": "applink-standin"}}))
            await asyncio.sleep(0.2)
            await ws.close()

    async def drop(self) -> None:
        """The connection lost without a word (a network fault or a server restart)."""
        for ws in self.open_sockets:
            await ws.close(code=1006)

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.match_info["ticket"]
        if ticket not in self.issued:
            return web.Response(status=401, text="invalid or used connection URL")
        self.issued.discard(ticket)  # single use
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections += 1
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": len(self.open_sockets),
                                      "debug_info": {"host": "applink-standin", "approximate_connection_time": 18060},
                                      "connection_info": {"app_id": "A0DESK"}}))
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                ack = json.loads(message.data)
            except ValueError:
                continue
            envelope_id = ack.get("envelope_id") if isinstance(ack, dict) else None
            if envelope_id in self._sent_at:
                if time.monotonic() - self._sent_at[envelope_id] > ACK_SECONDS:
                    self.late.append(envelope_id)
                async with self._acked:
                    self.acks[envelope_id] = ack
                    self._acked.notify_all()
        return ws
