"""Real servers on loopback for the tests: Dovecot (IMAP), an aiosmtpd sink (SMTP), PostgreSQL 15.

Fixtures (imported by tests/conftest.py):
  dovecot        session   DovecotServer: .host .port .new_user() .deliver() .status() .imap_pids() ...
  smtp_sink      function  SmtpSink: .host .port .messages .wait_for() .refuse_next() ...
  postgres       session   PostgresCluster: .url .port .new_database()   (skips LOUDLY if unavailable)
  postgres_url   session   URL of a database in that cluster
  postgres_db_url function URL of a fresh, empty database (isolation per test)
  desk_env       function  EOCIC_* variables for a fresh SQLite data dir
Helpers: free_port(), imap_env(), smtp_env().
The Dovecot settings follow the project recipes for running Dovecot without systemd (no external files are read).
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from bot.standins import CatcherHandler, SmtpCatcher

__all__ = [
    "DovecotServer",
    "PostgresCluster",
    "SinkHandler",
    "SmtpSink",
    "desk_env",
    "dovecot",
    "free_port",
    "imap_env",
    "postgres",
    "postgres_db_url",
    "postgres_url",
    "smtp_env",
    "smtp_sink",
]


def serving(server):
    """A fixture's body: start `server`, hand it to the test, stop it however the test ends."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen | None = None,
                   expect: bytes = b"") -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before answering on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=1.0) as s:
                if expect:
                    s.settimeout(2.0)
                    greeting = s.recv(200)
                    if not greeting.startswith(expect):
                        raise RuntimeError(f"unexpected greeting {greeting!r}")
                return
        except OSError as exc:
            last = exc
            time.sleep(0.01)
    raise TimeoutError(f"nothing answered on {host}:{port} within {timeout}s ({last})")


# ======================================================================================
# Dovecot
# ======================================================================================

DOVECOT_BIN = "dovecot"
DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"
DOVEADM_BIN = "doveadm"

_DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
instance_name = eocic-test-dovecot-{tag}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
  default_fields = uid=nobody gid=nogroup home={d}/mail/%u
}}
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 200
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  service_count = 0
}}
"""

# Without the anvil line and auth_failure_delay = 0, one refused token delays every later login
# from 127.0.0.1 by seconds (Dovecot's auth penalty), right passwords included.
_OAUTH2_AUTH = """\
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {d}/oauth2.conf.ext
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
_OAUTH2_EXT = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


class DovecotServer:
    """A private Dovecot instance (child process), all state in one temporary folder.

    `new_user()` hands out users from a pool written to the passwd-file before start (Dovecot
    re-reads that file late and unreliably when it changes; a refill waits until it has).
    Folder names use "/" as separator; INBOX is the Maildir root."""

    host = "127.0.0.1"
    POOL_SIZE = 500

    def __init__(self, root: Path | None = None, *, oauth2_introspection_url: str = "") -> None:
        missing = [b for b in (DOVECOT_BIN, DOVEADM_BIN) if shutil.which(b) is None]
        if missing or not os.path.exists(DOVECOT_LDA):
            pytest.fail(
                "Dovecot is not installed (missing: %s). The real-server tests need it; `.ci/run` installs it "
                "with `apt-get install -y dovecot-imapd` (locally: sudo apt-get install dovecot-imapd)."
                % ", ".join(missing or [DOVECOT_LDA]),
                pytrace=False,
            )
        self._own_root = root is None
        self.oauth2_introspection_url = oauth2_introspection_url
        self.root = Path(root or tempfile.mkdtemp(prefix="eocic-dovecot-"))
        self.port = 0
        self.conf = self.root / "dovecot.conf"
        self.users_file = self.root / "users"
        self.log_path = self.root / "dovecot.log"
        self.proc: subprocess.Popen | None = None
        self.startup_seconds: float | None = None
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._passwords: dict[str, str] = {}
        self._users_mtime = 0
        self._pool: list[tuple[str, str]] = []

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> "DovecotServer":
        # Dovecot's unprivileged processes must traverse the folder: a mkdtemp folder is 0700.
        os.chmod(self.root, 0o755)
        mail = self.root / "mail"
        mail.mkdir(exist_ok=True)
        shutil.chown(mail, "nobody", "nogroup")
        self.users_file.touch()
        os.chmod(self.users_file, 0o644)
        if not self._pool:
            self._grow(self.POOL_SIZE, wait=False)
        self.port = free_port()
        conf = _DOVECOT_CONF.format(d=self.root, port=self.port, tag=self.root.name[-8:])
        if self.oauth2_introspection_url:
            conf = self._with_oauth2(conf)
        self.conf.write_text(conf)
        t0 = time.monotonic()
        with open(self.root / "stderr.log", "wb") as errf:
            self.proc = subprocess.Popen(
                [DOVECOT_BIN, "-F", "-c", str(self.conf)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf,
                start_new_session=True,
            )
        try:
            _wait_for_port(self.host, self.port, 15.0, self.proc, expect=b"* OK")
        except Exception as exc:
            err = self._stderr_and_log()
            self.stop()
            raise RuntimeError(f"Dovecot did not start: {exc}\n{err}") from exc
        self.startup_seconds = time.monotonic() - t0
        return self

    def _with_oauth2(self, conf: str) -> str:
        """Tokens checked by an introspection endpoint (Dovecot's oauth2 passdb); passwords still work."""
        (self.root / "oauth2.conf.ext").write_text(_OAUTH2_EXT.format(url=self.oauth2_introspection_url))
        conf = conf.replace("auth_mechanisms = plain login\n", _OAUTH2_AUTH.format(d=self.root))
        return conf.replace("  driver = passwd-file\n  args = scheme=PLAIN", "  driver = passwd-file\n  mechanisms = plain login\n  args = scheme=PLAIN", 1)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:  # a throw-away instance: kill the master's whole process group at once
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass
            proc.wait(10)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def _stderr_and_log(self) -> str:
        out = ""
        if (self.root / "stderr.log").exists():
            out += (self.root / "stderr.log").read_text(errors="replace")[-4000:]
        if self.log_path.exists():
            out += self.log_path.read_text(errors="replace")[-4000:]
        return out

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    # --- users -----------------------------------------------------------------------

    def new_user(self) -> tuple[str, str]:
        """A fresh, empty mailbox: returns (user, password). Users come from a pool written
        before Dovecot starts; when it runs out, another batch is added and waited for."""
        with self._lock:
            if not self._pool:
                self._grow(self.POOL_SIZE, wait=self.proc is not None)
            user, password = self._pool.pop(0)
        return user, password

    def _grow(self, n: int, wait: bool) -> None:
        batch = []
        for _ in range(n):
            user = f"desk{next(self._counter)}-{secrets.token_hex(3)}@example.test"
            batch.append((user, secrets.token_urlsafe(12)))
        with open(self.users_file, "a") as f:
            f.writelines(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in batch)
        # Dovecot re-reads a passwd-file when its mtime changes, but checks at most once a
        # second (and then not reliably): a user added later may stay unknown for seconds.
        self._users_mtime = max(int(time.time()), self._users_mtime + 1)
        os.utime(self.users_file, (self._users_mtime, self._users_mtime))
        self._passwords.update(batch)
        if wait:
            user, password = batch[-1]
            deadline = time.monotonic() + 20
            while self.doveadm("auth", "test", user, password, check=False).returncode != 0:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Dovecot did not pick up new users in {self.users_file}")
                time.sleep(0.3)
        self._pool.extend(batch)

    def password(self, user: str) -> str:
        return self._passwords[user]

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        base = self.root / "mail" / user / "Maildir"
        if folder.upper() == "INBOX":
            return base
        return base / ("." + folder.replace("/", "."))

    # --- mail ------------------------------------------------------------------------

    def deliver(self, user: str, raw: bytes, folder: str | None = None, mail_from: str = "sender@example.test") -> None:
        """Deliver one message the way an MTA would (dovecot-lda); `folder` is created if missing."""
        cmd = [DOVECOT_LDA, "-c", str(self.conf), "-d", user, "-f", mail_from]
        if folder and folder.upper() != "INBOX":
            cmd += ["-m", folder, "-o", "lda_mailbox_autocreate=yes"]
        res = subprocess.run(cmd, input=bytes(raw), capture_output=True, timeout=30)
        if res.returncode != 0:
            raise RuntimeError(
                f"dovecot-lda exited {res.returncode}: {res.stderr.decode(errors='replace')}\n{self.log_tail(2000)}"
            )

    def doveadm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        res = subprocess.run([DOVEADM_BIN, "-c", str(self.conf), *args], capture_output=True, text=True, timeout=30)
        if check and res.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} exited {res.returncode}: {res.stderr.strip()}")
        return res

    def imap_pids(self, user: str) -> list[int]:
        """Process ids of the IMAP sessions `user` holds now (`doveadm who`)."""
        out = self.doveadm("-f", "tab", "who", "-1", user, check=False).stdout
        rows = [line.split("\t") for line in out.splitlines()[1:]]
        return sorted(int(r[2]) for r in rows if len(r) > 2 and r[0] == user and r[1] == "imap")

    def status(self, user: str, folder: str = "INBOX") -> dict[str, int]:
        """{'messages': n, 'uidvalidity': v, 'uidnext': u} read without IMAP."""
        out = self.doveadm("-f", "flow", "mailbox", "status", "-u", user, "messages uidvalidity uidnext", folder).stdout
        got = {k: int(v) for k, v in re.findall(r"(?:^|\s)(messages|uidvalidity|uidnext)=(\d+)(?=\s|$)", out)}
        if len(got) != 3:
            raise RuntimeError(f"unexpected doveadm mailbox status output: {out!r}")
        return got

    def folder_count(self, user: str, folder: str = "INBOX") -> int:
        """Messages in `folder`; 0 if the folder does not exist."""
        if folder.upper() != "INBOX" and folder not in self.folders(user):
            return 0
        return self.status(user, folder)["messages"]

    def folders(self, user: str) -> list[str]:
        return self.doveadm("mailbox", "list", "-u", user).stdout.split()

    def create_folder(self, user: str, folder: str) -> None:
        self.doveadm("mailbox", "create", "-u", user, folder)

    def recreate_folder(self, user: str, folder: str = "INBOX", keep_messages: bool = False) -> dict[str, int]:
        """Delete and re-create `folder` so that it gets a new UIDVALIDITY (as after a server
        migration). The folder is emptied unless `keep_messages`, in which case its messages are
        delivered again (new UIDs, \\Seen and other flags lost). Returns the new status()."""
        old = self.status(user, folder)
        kept: list[bytes] = []
        if keep_messages:
            md = self.maildir(user, folder)
            files = sorted(p for sub in ("cur", "new") if (md / sub).exists() for p in (md / sub).iterdir())
            kept = [p.read_bytes() for p in sorted(files, key=lambda p: p.name)]
        if folder.upper() == "INBOX":  # INBOX cannot be deleted: empty it and give it a new UIDVALIDITY
            self.doveadm("expunge", "-u", user, "mailbox", "INBOX", "all")
            new_validity = max(old["uidvalidity"] + 1, int(time.time()))
            self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(new_validity), "INBOX")
        else:
            self.doveadm("mailbox", "delete", "-u", user, folder)
            self.doveadm("mailbox", "create", "-u", user, folder)
            new = self.status(user, folder)
            if new["uidvalidity"] == old["uidvalidity"]:  # same second: force a different one
                self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(old["uidvalidity"] + 1), folder)
        for raw in kept:
            self.deliver(user, raw, folder)
        new = self.status(user, folder)
        assert new["uidvalidity"] != old["uidvalidity"], (old, new)
        return new

    def connect(self, user: str, password: str | None = None, timeout: float = 10.0):
        """A logged-in imapclient.IMAPClient (plain IMAP, TCP_NODELAY)."""
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        client._imap.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.login(user, password or self._passwords[user])
        return client

    def __repr__(self) -> str:
        return f"<DovecotServer {self.host}:{self.port} root={self.root}>"


def imap_env(host: str, port: int, user: str, password: str, **extra: str) -> dict[str, str]:
    """EOCIC_IMAP_* variables for a plain-IMAP server on loopback (Dovecot or the pymap stand-in)."""
    env = {
        "EOCIC_IMAP_HOST": host,
        "EOCIC_IMAP_PORT": str(port),
        "EOCIC_IMAP_USER": user,
        "EOCIC_IMAP_PASSWORD": password,
        "EOCIC_IMAP_SECURITY": "none",
    }
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def dovecot():
    yield from serving(DovecotServer())


# ======================================================================================
# SMTP sink
# ======================================================================================


class SinkHandler(CatcherHandler):
    """CatcherHandler with knobs to refuse. Hooks run under the handler's lock."""

    def __init__(self) -> None:
        super().__init__()
        self._refuse_left = 0
        self._refuse_reply = ""
        self._refuse_at = "DATA"
        self._bad_rcpts: dict[str, str] = {}
        self.refusals: list[tuple[str, str]] = []  # (stage, reply) of every refusal sent

    def refuse_rcpt(self, envelope, address: str) -> str | None:
        reply = self._bad_rcpts.get(address.lower())
        if reply:
            self.refusals.append(("RCPT", reply))
            return reply
        if self._refuse_at == "RCPT":
            if getattr(envelope, "_sink_refused", False):  # later RCPTs of a refused transaction
                self.refusals.append(("RCPT", self._refuse_reply))
                return self._refuse_reply
            if self._refuse_left > 0:
                self._refuse_left -= 1
                envelope._sink_refused = True
                self.refusals.append(("RCPT", self._refuse_reply))
                return self._refuse_reply
        return None

    def refuse_data(self, envelope) -> str | None:
        if self._refuse_at == "DATA" and self._refuse_left > 0:
            self._refuse_left -= 1
            self.refusals.append(("DATA", self._refuse_reply))
            return self._refuse_reply
        return None


class SmtpSink(SmtpCatcher):
    """The test SMTP server: records accepted mail and refuses on request."""

    handler: SinkHandler

    def __init__(self, host: str = "127.0.0.1", port: int = 0, smtputf8: bool = True) -> None:
        super().__init__(SinkHandler(), host=host, port=port, smtputf8=smtputf8)

    def refuse_next(self, n: int = 1, code: int = 451, message: str = "try later", at: str = "DATA") -> None:
        """Refuse the next `n` transactions with `code message`, at DATA (default) or at RCPT
        (then every RCPT of those transactions is refused)."""
        at = at.upper()
        if at not in ("DATA", "RCPT"):
            raise ValueError("at must be 'DATA' or 'RCPT'")
        with self.handler._cond:
            self.handler._refuse_left = n
            self.handler._refuse_reply = f"{code} {message}"
            self.handler._refuse_at = at

    def refuse_recipient(self, addr: str, code: int = 550, message: str = "5.1.1 no such user") -> None:
        """Refuse `addr` at RCPT, every time, until `accept_all()`."""
        with self.handler._cond:
            self.handler._bad_rcpts[addr.lower()] = f"{code} {message}"

    def accept_all(self) -> None:
        with self.handler._cond:
            self.handler._refuse_left = 0
            self.handler._bad_rcpts.clear()

    @property
    def refusals(self) -> list[tuple[str, str]]:
        with self.handler._cond:
            return list(self.handler.refusals)


def smtp_env(host: str, port: int, **extra: str) -> dict[str, str]:
    """EOCIC_SMTP_* variables for a plain SMTP server on loopback (sink or catcher)."""
    env = {"EOCIC_SMTP_HOST": host, "EOCIC_SMTP_PORT": str(port), "EOCIC_SMTP_SECURITY": "none"}
    env.update(extra)
    return env


@pytest.fixture
def smtp_sink():
    yield from serving(SmtpSink())


# ======================================================================================
# PostgreSQL
# ======================================================================================

PG_BIN = Path(os.environ.get("EOCIC_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PostgresUnavailable(RuntimeError):
    pass


class PostgresCluster:
    """A throw-away PostgreSQL cluster (trust auth, loopback only, no fsync)."""

    host = "127.0.0.1"
    user = "postgres"

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="eocic-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self.startup_seconds: float | None = None
        self._started = False
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def _run(self, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess:
        full = list(cmd)
        if os.geteuid() == 0:  # initdb/postgres refuse to run as root
            full = ["runuser", "-u", "postgres", "--", *full]
        res = subprocess.run(full, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if res.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(cmd)} exited {res.returncode}: {res.stderr.strip()[-2000:]}")
        return res

    def start(self) -> "PostgresCluster":
        for tool in ("initdb", "pg_ctl"):
            if not (PG_BIN / tool).exists():
                raise PostgresUnavailable(f"{PG_BIN / tool} not found (install postgresql-15)")
        if os.geteuid() == 0:
            try:
                shutil.chown(self.root, "postgres", "postgres")
            except (LookupError, OSError) as exc:
                raise PostgresUnavailable(f"no 'postgres' user to run the server as: {exc}") from exc
        os.chmod(self.root, 0o700)
        t0 = time.monotonic()
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self.port = free_port()
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "postgres.log"),
                  "-o", opts, "-w", "-t", "30", "start")
        self._started = True
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self) -> None:
        if self._started:
            self._started = False
            try:
                self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except Exception as exc:  # pragma: no cover
                print(f"warning: stopping the test PostgreSQL failed: {exc}", file=sys.stderr)
        shutil.rmtree(self.root, ignore_errors=True)

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    @property
    def url(self) -> str:
        """URL of the maintenance database `postgres`."""
        return self.url_for("postgres")

    def new_database(self, prefix: str = "eocic_test") -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with self._lock:
            name = f"{prefix}_{next(self._counter)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def __repr__(self) -> str:
        return f"<PostgresCluster {self.host}:{self.port} root={self.root}>"


def _loud_skip(request, reason: str) -> None:
    msg = f"PostgreSQL tests SKIPPED: {reason}"
    banner = "!" * 78 + f"\n!! {msg}\n" + "!" * 78
    print("\n" + banner, file=sys.stderr)  # captured, so also straight to the terminal:
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capman is not None:
        with capman.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(banner, red=True, bold=True)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def postgres(request):
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        _loud_skip(request, f"psycopg is not importable ({exc})")
    cluster = PostgresCluster()
    try:
        cluster.start()
    except Exception as exc:
        cluster.stop()
        _loud_skip(request, f"could not start a throw-away PostgreSQL 15 cluster: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres) -> str:
    """A database shared by the whole session (use postgres_db_url for isolation)."""
    return postgres.new_database("eocic_session")


@pytest.fixture
def postgres_db_url(postgres) -> str:
    """A fresh, empty database for this test."""
    return postgres.new_database()


# ======================================================================================
# Desk environment
# ======================================================================================


@pytest.fixture
def desk_env(tmp_path) -> dict[str, str]:
    """EOCIC_* variables for a fresh SQLite data dir; tests add IMAP/SMTP ones (imap_env/smtp_env)."""
    data = tmp_path / "data"
    data.mkdir()
    return {"EOCIC_DATA_DIR": str(data), "EOCIC_SECRET_KEY": "test-secret"}
