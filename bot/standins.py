"""Local stand-ins for the mail servers, used by `eocic-desk demo` and by `eocic-desk run` when no
mail servers are configured (and by the tests).

* `start_imap_standin()` — a pymap IMAP server with the in-memory ("dict") backend, running on the
  *current* asyncio event loop, with one user. Supports LOGIN, SELECT, SEARCH, (UID) FETCH
  BODY.PEEK[], IDLE, CREATE, COPY/MOVE/UID MOVE, STORE, EXPUNGE, UIDPLUS. Nothing is persisted.
  pymap lacks CONDSTORE, SPECIAL-USE, SORT and persistence: fine for a demo, not instead of Dovecot.
* `start_smtp_catcher()` — an aiosmtpd `Controller` (own thread, own loop) that accepts and records
  every message. `tests/servers.py` builds its refusing `smtp_sink` on `CatcherHandler`.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from argparse import Namespace
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

__all__ = [
    "CaughtMail",
    "CatcherHandler",
    "ImapStandin",
    "SmtpCatcher",
    "start_imap_standin",
    "start_smtp_catcher",
]


# --------------------------------------------------------------------------------------
# IMAP: pymap in-memory server
# --------------------------------------------------------------------------------------


def _pymap_config_class():
    from pymap.backend.dict import Config

    class _StandinConfig(Config):
        # Avoid socket.getfqdn() (a DNS lookup per connection) in the greeting.
        @property
        def greeting(self) -> bytes:
            return b"EOCIC IMAP stand-in (pymap) ready"

    return _StandinConfig


class _CoalescingWriter:
    """Wraps the connection's StreamWriter so that one IMAP response goes out in one write.

    pymap writes a response in pieces (`* 2 FETCH `, then the rest); each piece leaves as its
    own TCP segment, and imapclient's `idle_check()` (non-blocking readline) then fails with
    "unterminated line" (imapclient issue #519). pymap always ends a response with `drain()`,
    so buffering until then is safe."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._buf = bytearray()

    def write(self, data) -> None:
        self._buf += data

    def writelines(self, lines) -> None:
        for line in lines:
            self._buf += line

    async def drain(self) -> None:
        if self._buf:
            data, self._buf = bytes(self._buf), bytearray()
            self._writer.write(data)
        await self._writer.drain()

    def __getattr__(self, name):
        return getattr(self._writer, name)


class ImapStandin:
    """A running pymap IMAP server with one user; see `start_imap_standin()`."""

    def __init__(self, *, host: str, port: int, user: str, password: str, server, login, config) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self._server: asyncio.AbstractServer = server
        self._login = login
        self._config = config
        self._connections: dict[asyncio.Task, asyncio.StreamWriter] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"<ImapStandin {self.user}@{self.host}:{self.port}>"

    # --- mailbox access without IMAP -------------------------------------------------

    def _session(self):
        from pymap.backend.dict import Identity

        return Identity(self.user, self._login, None, frozenset()).new_session()

    async def append(self, raw: bytes, folder: str = "INBOX", *, flags: Iterable[bytes | str] = ()) -> int:
        """Put one message in `folder` (created if missing), as an IMAP APPEND would: selected
        and IDLE-ing clients are told. Returns the new UID."""
        from pymap.parsing.message import AppendMessage
        from pymap.parsing.specials.flag import Flag

        flag_set = frozenset(Flag(f.encode() if isinstance(f, str) else f) for f in flags)
        msg = AppendMessage(bytes(raw), datetime.now(timezone.utc), flag_set)
        async with self._session() as session:
            await self._ensure_folder(session, folder)
            append_uid, _ = await session.append_messages(folder, [msg])
        return list(append_uid.uids)[-1]

    async def create_folder(self, folder: str) -> None:
        async with self._session() as session:
            await self._ensure_folder(session, folder)

    async def folders(self) -> list[str]:
        async with self._session() as session:
            tree = await session.mailbox_set.list_mailboxes()
            return [entry.name for entry in tree.list()]

    async def uids(self, folder: str = "INBOX") -> list[int]:
        """UIDs currently in `folder` (empty if the folder does not exist)."""
        async with self._session() as session:
            try:
                mbx = await session.mailbox_set.get_mailbox(folder)
            except KeyError:
                return []
            return sorted([msg.uid async for msg in mbx.messages()])

    async def folder_count(self, folder: str = "INBOX") -> int:
        return len(await self.uids(folder))

    @staticmethod
    async def _ensure_folder(session, folder: str) -> None:
        if folder.upper() == "INBOX":
            return
        try:
            await session.mailbox_set.get_mailbox(folder)
        except KeyError:
            await session.mailbox_set.add_mailbox(folder)

    # --- lifecycle -------------------------------------------------------------------

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        if self._closed:
            return
        self._closed = True
        self._server.close()
        # pymap answers a cancellation by writing a BYE and draining it, which waits forever on a
        # client that stopped reading: abort the sockets first, so every connection task can end.
        for task, writer in list(self._connections.items()):
            writer.transport.abort()
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=2.0)
        try:
            await asyncio.wait_for(self._server.wait_closed(), 2.0)
        except asyncio.TimeoutError:  # pragma: no cover - a client that never lets go
            pass

    async def __aenter__(self) -> "ImapStandin":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


async def start_imap_standin(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    user: str = "desk@localhost",
    password: str | None = None,
) -> ImapStandin:
    """Start a pymap in-memory IMAP server on the running event loop (port 0 = a free port;
    the real one is `.port`). Plain-text LOGIN, no TLS. Stop it with `await .close()`."""
    from proxyprotocol.reader import ProxyProtocolReader
    from pymap.backend.dict import Login
    from pymap.concurrent import Subsystem
    from pymap.imap import IMAPServer
    from pymap.user import Passwords, UserMetadata
    from pysasl.hashing import BuiltinHash

    if password is None:
        password = secrets.token_urlsafe(12)
    args = Namespace(passlib_cfg=None, proxy_protocol=None, inherited_sockets=None, debug=False)
    config_cls = _pymap_config_class()
    config = config_cls(
        args, host=host, port=port, demo_data=False, demo_user=user, demo_password=password, tls_enabled=False,
        reject_dnsbl=False, invalid_user_sleep=0.05, bad_command_limit=None,
        # In-memory throw-away server: a cheap hash, checked on the event loop (no thread pool).
        hash_context=BuiltinHash(rounds=1000), cpu_subsystem=Subsystem.for_asyncio(),
    )
    login = Login(config)
    hashed = await Passwords(config).hash_password(password)
    await login.demo_user_identity.set(UserMetadata(config, user, password=hashed))

    imap_server = IMAPServer(login, config)
    standin: ImapStandin | None = None

    async def handle(reader, writer, sock_info) -> None:
        task = asyncio.current_task()
        assert standin is not None and task is not None
        standin._connections[task] = writer
        try:
            await imap_server(reader, _CoalescingWriter(writer), sock_info)
        except asyncio.CancelledError:
            writer.close()
            raise
        finally:
            standin._connections.pop(task, None)

    callback = ProxyProtocolReader(config.proxy_protocol).get_callback(handle)
    server = await asyncio.start_server(callback, host=host, port=port)
    real_port = server.sockets[0].getsockname()[1]
    standin = ImapStandin(host=host, port=real_port, user=user, password=password,
                          server=server, login=login, config=config)
    return standin


# --------------------------------------------------------------------------------------
# SMTP: aiosmtpd catcher
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaughtMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    received_at: float = field(default_factory=time.time, compare=False)
    mail_options: list[str] = field(default_factory=list, compare=False)


class CatcherHandler:
    """aiosmtpd handler that records every accepted message (thread-safe).

    Subclasses refuse by overriding `refuse_rcpt()` / `refuse_data()` to return an SMTP reply
    string (e.g. "451 try later") or None to accept."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._messages: list[CaughtMail] = []

    # --- hooks for subclasses ---
    def refuse_rcpt(self, envelope, address: str) -> str | None:
        return None

    def refuse_data(self, envelope) -> str | None:
        return None

    # --- aiosmtpd hooks ---
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self._cond:
            refusal = self.refuse_rcpt(envelope, address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self._cond:
            refusal = self.refuse_data(envelope)
            if refusal:
                return refusal
            data = envelope.content
            if isinstance(data, str):  # only if someone turns decode_data on
                data = data.encode("utf-8", "surrogateescape")
            self._messages.append(CaughtMail(envelope.mail_from, list(envelope.rcpt_tos), bytes(data),
                                              mail_options=list(envelope.mail_options)))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    # --- reading ---
    @property
    def messages(self) -> list[CaughtMail]:
        with self._cond:
            return list(self._messages)

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()

    def wait_for_sync(self, n: int, timeout: float = 5.0) -> list[CaughtMail]:
        """Block until at least `n` messages were accepted; raise TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= n, timeout):
                raise TimeoutError(f"expected {n} message(s) within {timeout}s, got {len(self._messages)}")
            return list(self._messages)


def _controller_class():
    from aiosmtpd.controller import Controller

    class _FreePortController(Controller):
        """Controller that may bind port 0 and then reports the real port."""

        async def _bind(self):
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context
            )
            self.port = server.sockets[0].getsockname()[1]
            return server

        def _create_server(self):
            return self._bind()

    return _FreePortController


class SmtpCatcher:
    """A running aiosmtpd server in its own thread; see `start_smtp_catcher()`."""

    def __init__(self, handler: CatcherHandler, *, host: str = "127.0.0.1", port: int = 0, smtputf8: bool = True,
                 **smtp_options) -> None:
        self.handler = handler
        self.host = host
        self._controller = _controller_class()(
            handler,
            hostname=host,
            port=port,
            server_hostname="eocic-smtp-catcher.localhost",
            enable_SMTPUTF8=smtputf8,
            ready_timeout=10.0,
            **smtp_options,  # aiosmtpd.smtp.SMTP options (auth_required, …)
        )

    def start(self) -> "SmtpCatcher":
        self._controller.start()
        return self

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def messages(self) -> list[CaughtMail]:
        return self.handler.messages

    def clear(self) -> None:
        self.handler.clear()

    def wait_for_sync(self, n: int, timeout: float = 5.0) -> list[CaughtMail]:
        return self.handler.wait_for_sync(n, timeout)

    async def wait_for(self, n: int, timeout: float = 5.0) -> list[CaughtMail]:
        """Wait (without blocking the event loop) until at least `n` messages were accepted."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.handler.messages
            if len(got) >= n:
                return got
            if time.monotonic() >= deadline:
                raise TimeoutError(f"expected {n} message(s) within {timeout}s, got {len(got)}")
            await asyncio.sleep(0.01)

    def stop(self) -> None:
        if self._controller._thread is not None:
            self._controller.stop()

    def __enter__(self) -> "SmtpCatcher":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host}:{self.port} messages={len(self.messages)}>"


def start_smtp_catcher(*, host: str = "127.0.0.1", port: int = 0) -> SmtpCatcher:
    """Start an SMTP server that accepts and records everything (port 0 = a free port)."""
    return SmtpCatcher(CatcherHandler(), host=host, port=port).start()
