"""The mailbox watcher: IMAP (imapclient) in a thread of its own, intake on the event loop.

One pass: read the cursor for (mailbox, folder, UIDVALIDITY), fetch every newer UID with
BODY.PEEK[] in batches, hand each batch to `ingest_batch()` (which records its mails and advances
the cursor in one commit), then move the batch to the processed folder (or flag it). Between
passes the thread waits in IDLE, leaving it for a full pass every `imap_poll_seconds` or as
soon as the server announces mail. A server announces new mail once, in the reply to whatever
command is running (`* n EXISTS` inside a FETCH or MOVE reply too), so an announcement seen during
a pass starts the next pass at once instead of IDLE, which would not repeat it.
A server ending the session (`* BYE`, as `doveadm kick` or a restart does, or a plain close) ends
it here too: the thread reconnects at once, then with back-off while it keeps failing. Any other
error closes the connection and reconnects the same way; a mailbox not read successfully for
`imap_stale_alert_seconds` raises an alert.
"""

from __future__ import annotations

import asyncio
import logging
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from concurrent.futures import Future

from imapclient import IMAPClient

from bot.mail_login import imap_login
from bot.oauth2 import CredentialRefused
from config.settings import Security, Settings
from handlers.alerts import alert
from handlers.context import Deps
from handlers.intake import CursorPosition, Source, prepare_batch, record_prepared
from models.mailbox import cursor_at

log = logging.getLogger(__name__)

PROCESSED_FLAG = b"$EOCICProcessed"
PREPARED_AHEAD = 2  # batches fetched and prepared while an earlier one records (memory: that many batches)


class MailboxWatcher:
    def __init__(self, deps: Deps, *, idle_check_seconds: float = 0.5) -> None:
        self.deps = deps
        self.settings: Settings = deps.settings
        self.idle_check_seconds = idle_check_seconds
        self.mailbox = f"{self.settings.imap_user}@{self.settings.imap_host}"
        self.last_success = time.monotonic()
        self.ingested = 0
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        watch = asyncio.ensure_future(asyncio.to_thread(self._thread_main))
        staleness = asyncio.ensure_future(self._watch_staleness(stop))
        await stop.wait()
        self._stop.set()
        staleness.cancel()
        await watch

    # --- the IMAP thread -------------------------------------------------------------

    def _thread_main(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            client = None
            read_before = self.last_success
            try:
                client = self._connect()
                self._session(client)
            except CredentialRefused as exc:  # reconnecting would be refused again: stop, say why
                self._call(alert(self.deps, "mailbox", f"{exc}; not reading {self.mailbox} until the desk is restarted "
                                 "with a working login", fault=True))
                return
            except Exception as exc:  # network errors, server errors, imapclient's IDLE parse errors
                if self._stop.is_set():
                    break
                if self.last_success > read_before:  # the session worked: try again at once
                    backoff = 0.0
                where = (f"cannot reach EOCIC_IMAP_HOST {self.settings.imap_host} port {self.settings.imap_port}"
                         if isinstance(exc, (ConnectionRefusedError, socket.gaierror, TimeoutError)) else "")
                log.warning("mailbox %s: %s%r; reconnecting in %.0fs", self.mailbox, where and where + ": ", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(max(backoff * 2, 1.0), 60.0)
            finally:
                if client is not None:
                    _logout(client)

    def _connect(self) -> IMAPClient:
        s = self.settings
        context = ssl.create_default_context() if s.imap_security is not Security.none else None
        client = IMAPClient(s.imap_host, port=s.imap_port, ssl=s.imap_security is Security.ssl, ssl_context=context, timeout=60)
        if s.imap_security is Security.starttls:
            client.starttls(context)
        sock = getattr(client._imap, "sock", None)  # many small commands: no Nagle stalls
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        imap_login(client, s)
        if s.imap_processed_folder and not client.folder_exists(s.imap_processed_folder):
            client.create_folder(s.imap_processed_folder)
        return client

    def _session(self, client: IMAPClient) -> None:
        folder = self.settings.imap_folder
        while not self._stop.is_set():
            status = client.select_folder(folder)
            uidvalidity = int(status[b"UIDVALIDITY"])
            _mail_announced(client)  # the SELECT reply's own count is not news
            self._pass(client, folder, uidvalidity)
            self.last_success = time.monotonic()
            if not _mail_announced(client):
                self._idle(client)

    def _pass(self, client: IMAPClient, folder: str, uidvalidity: int) -> None:
        last_uid = self._call(self._last_uid(folder, uidvalidity))
        uids = sorted(client.search(["ALL"]) if self.settings.imap_processed_folder else client.search(["UID", f"{last_uid + 1}:*"]))
        leftovers = [u for u in uids if u <= last_uid]  # recorded, but the move did not happen
        self._done(client, leftovers)
        new = [u for u in uids if u > last_uid]
        size = self.settings.imap_batch_size
        # Batches on their way, oldest first (future of the recording, its UIDs): up to PREPARED_AHEAD more
        # are fetched and prepared in the workers while the oldest records, so that neither the workers
        # nor the event loop wait for a fetch or a move. Each records only after the one before committed.
        recording: deque[tuple[Future, list[int]]] = deque()
        try:
            for start in range(0, len(new), size):
                batch = new[start : start + size]
                fetched = client.fetch(batch, ["BODY.PEEK[]"])
                mails = [
                    (data[b"BODY[]"], Source(f"imap:{folder}:{uidvalidity}:{uid}", CursorPosition(self.mailbox, folder, uidvalidity, uid)))
                    for uid in batch
                    if (data := fetched.get(uid)) is not None and b"BODY[]" in data  # else expunged meanwhile
                ]
                before = recording[-1][0] if recording else None
                future = asyncio.run_coroutine_threadsafe(_ingest_after(before, mails, self.deps), self._loop)
                recording.append((future, [source.cursor.uid for _, source in mails]))
                if len(recording) > PREPARED_AHEAD:
                    self._recorded(client, *recording.popleft())
                if self._stop.is_set():
                    break
        finally:
            while recording:  # also when this session fails: each batch is recorded or not, never half
                self._recorded(client, *recording.popleft())

    def _recorded(self, client: IMAPClient, future, uids: list[int]) -> None:
        """Wait for a batch's commit (one for the batch, cursor included), then move it."""
        future.result()
        self.ingested += len(uids)
        self._done(client, uids)
        self.last_success = time.monotonic()

    def _done(self, client: IMAPClient, uids: list[int]) -> None:
        """Tell the mailbox: only after the records are committed."""
        if not uids:
            return
        target = self.settings.imap_processed_folder
        if not target:
            client.add_flags(uids, [PROCESSED_FLAG, b"\\Seen"])
        elif client.has_capability("MOVE"):
            client.move(uids, target)
        else:
            client.copy(uids, target)
            client.delete_messages(uids)
            client.uid_expunge(uids) if client.has_capability("UIDPLUS") else client.expunge()

    def _idle(self, client: IMAPClient) -> None:
        """Wait for new mail: IDLE until the server announces mail, the poll is due, or we stop.

        `idle_check()` returns an empty list both when nothing happened and, at once and for
        ever, when the server has closed the connection; so the socket is polled here first,
        and a readable socket that yields no response is answered by leaving IDLE, which raises
        on a closed connection and costs one pass on a live one."""
        deadline = time.monotonic() + min(self.settings.imap_poll_seconds, self.settings.imap_idle_seconds)
        client.idle()
        with selectors.DefaultSelector() as selector:
            selector.register(client.socket(), selectors.EVENT_READ)
            while not self._stop.is_set() and time.monotonic() < deadline:
                if not selector.select(self.idle_check_seconds):
                    continue
                responses = client.idle_check(timeout=0)
                bye = next((r for r in responses if r and r[0] == b"BYE"), None)
                if bye is not None:
                    raise ConnectionError("server ended the session: " + b" ".join(bye[1:]).decode(errors="replace"))
                if not responses or any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    break
        client.idle_done()

    def _call(self, coro):
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _last_uid(self, folder: str, uidvalidity: int) -> int:
        async with self.deps.db.read() as session:
            cursor = await cursor_at(session, self.mailbox, folder, uidvalidity)
        if cursor is None:
            log.info("mailbox %s/%s: new UIDVALIDITY %s, reading the whole folder", self.mailbox, folder, uidvalidity)
            return 0
        return cursor.last_uid

    # --- alerting, on the event loop ---------------------------------------------------

    async def _watch_staleness(self, stop: asyncio.Event) -> None:
        limit = self.settings.imap_stale_alert_seconds
        alerted = False
        while not stop.is_set():
            await asyncio.sleep(min(30.0, limit / 4))
            stale_for = time.monotonic() - self.last_success
            if stale_for > limit and not alerted:
                await alert(self.deps, "mailbox", f"{self.mailbox} has not been read for {stale_for:.0f}s")
                alerted = True
            elif stale_for <= limit:
                alerted = False


async def _ingest_after(before, mails: list, deps: Deps) -> None:
    """Prepare `mails` now, record them once the batch `before` (a future, or None) has committed."""
    prepared = await prepare_batch(mails, deps) if mails else []
    if before is not None:
        await asyncio.wrap_future(before)
    if prepared:
        await record_prepared(prepared, deps)


def _mail_announced(client: IMAPClient) -> bool:
    """Whether an untagged EXISTS arrived since the last call, in any command's reply.

    imaplib files every untagged response of a command's reply under its name in
    `untagged_responses`; imapclient takes out only the ones it returns (FETCH, SEARCH) and
    has no public view of the rest, hence the private attribute. Dovecot sends EXISTS only
    when mail arrived (not after our own MOVE), so any EXISTS means: read again."""
    return client._imap.untagged_responses.pop("EXISTS", None) is not None


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass

