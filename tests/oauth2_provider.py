"""A strict local OAuth2 provider (aiohttp, in a thread of its own) and servers that check its tokens.

`OAuth2Provider` issues short-lived bearer tokens at `POST /token` (RFC 6749: client credentials
and refresh token grants, client authentication by HTTP Basic or form fields, never both) and
answers `POST /introspect` (RFC 7662) for Dovecot's `oauth2` passdb. It refuses what a real
provider refuses: an unknown client or wrong secret (401 invalid_client), a revoked or unknown
refresh token (400 invalid_grant), an unsupported grant, a scope it does not grant, a body that
is not form-encoded. Tests revoke a client, a refresh token or one access token on purpose.

The same endpoints are served over HTTPS too (a self-signed certificate for 127.0.0.1 in
`ca_file`), with the OpenID discovery document that `msal` reads from an Entra ID authority
(`{tls_url}/{tenant}/v2.0/.well-known/openid-configuration`) and the token endpoint it names.

`OAuth2SmtpSink` is the SMTP sink with XOAUTH2 and OAUTHBEARER as its only mechanisms, checking
tokens against the same provider.

Fixtures: oauth2_provider (session), oauth2_dovecot (session), oauth2_smtp (function).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import ipaddress
import json
import secrets
import ssl
import tempfile
import threading
import time
from pathlib import Path
from dataclasses import dataclass, field
from urllib.parse import unquote

import pytest
from aiohttp import web
from aiosmtpd.smtp import AuthResult

from bot.standins import SmtpCatcher
from tests.servers import DovecotServer, SinkHandler, SmtpSink, serving


@dataclass
class Client:
    client_id: str
    secret: str
    user: str  # the mailbox this client's tokens open
    scope: str = "IMAP SMTP"
    lifetime: float | None = None  # seconds a token lives; None: the provider's
    rotate: bool = False  # a refresh token works once: each refresh answers a new one
    revoked: bool = False
    refresh_tokens: set[str] = field(default_factory=set)


@dataclass
class Issued:
    token: str
    client_id: str
    user: str
    expires: float  # time.time()
    grant: str
    revoked: bool = False


class OAuth2Provider:
    def __init__(self, lifetime: float = 60.0) -> None:
        self.lifetime = lifetime
        self.clients: dict[str, Client] = {}
        self.tokens: dict[str, Issued] = {}
        self.refusals: list[str] = []  # error codes the token endpoint answered
        self.introspections: list[tuple[str, str, bool]] = []  # (token, user or "", active)
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="oauth2-provider", daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = self.tls_port = 0
        self.ca_file = ""

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> "OAuth2Provider":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/token", self._token)
        app.router.add_post("/introspect", self._introspect)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        tls = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._tls_context())
        await tls.start()
        self.tls_port = tls._server.sockets[0].getsockname()[1]

    def _tls_context(self) -> ssl.SSLContext:
        """A self-signed certificate for 127.0.0.1, written to `ca_file` for the clients to trust."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        folder = Path(tempfile.mkdtemp(prefix="eocic-oauth2-"))
        self.ca_file = str(folder / "ca.pem")
        Path(self.ca_file).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file = folder / "key.pem"
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca_file, key_file)
        return context

    @property
    def tls_url(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        base = f"{self.tls_url}/{request.match_info['tenant']}"
        return web.json_response({
            "issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        })

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    # --- what tests set up and look at ---------------------------------------------------

    def new_client(self, user: str, lifetime: float | None = None, rotate: bool = False, scope: str = "IMAP SMTP") -> Client:
        client = Client(client_id="app-" + secrets.token_hex(4), secret=secrets.token_urlsafe(16), user=user,
                        lifetime=lifetime, rotate=rotate, scope=scope)
        with self._lock:
            self.clients[client.client_id] = client
        return client

    def new_refresh_token(self, client: Client) -> str:
        token = "rt-" + secrets.token_urlsafe(16)
        with self._lock:
            client.refresh_tokens.add(token)
        return token

    def revoke_client(self, client: Client) -> None:
        """The app registration's secret is withdrawn: no new tokens, issued ones die too."""
        with self._lock:
            client.revoked = True
            for issued in self.tokens.values():
                if issued.client_id == client.client_id:
                    issued.revoked = True

    def revoke_access_token(self, token: str) -> None:
        with self._lock:
            self.tokens[token].revoked = True

    def refused_at_login(self, client: Client) -> list[str]:
        """Tokens of `client` that a server's introspection found dead."""
        with self._lock:
            mine = {t for t, issued in self.tokens.items() if issued.client_id == client.client_id}
        return [token for token, _, active in self.introspections if token in mine and not active]

    def issued_to(self, client: Client) -> list[Issued]:
        with self._lock:
            return [t for t in self.tokens.values() if t.client_id == client.client_id]

    def user_of(self, token: str) -> str | None:
        """The user a live token opens, or None (the check SMTP and introspection share)."""
        with self._lock:
            issued = self.tokens.get(token)
            if issued is None or issued.revoked or issued.expires <= time.time():
                return None
            return issued.user

    # --- the endpoints ---------------------------------------------------------------

    def _error(self, status: int, error: str, description: str) -> web.Response:
        self.refusals.append(error)
        headers = {"WWW-Authenticate": 'Basic realm="token"'} if status == 401 else None
        return web.json_response({"error": error, "error_description": description}, status=status, headers=headers)

    async def _token(self, request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return self._error(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
        form = await request.post()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            if secret is not None:
                return self._error(400, "invalid_request", "more than one client authentication method")
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return self._error(401, "invalid_client", "malformed Basic credentials")
            client_id, secret = unquote(client_id), unquote(secret)
        grant = form.get("grant_type")
        with self._lock:
            client = self.clients.get(str(client_id))
            if client is None or client.revoked or not secrets.compare_digest(str(secret or ""), client.secret):
                return self._error(401, "invalid_client", "client authentication failed")
            if grant == "client_credentials":
                pass
            elif grant == "refresh_token":
                if form.get("refresh_token") not in client.refresh_tokens:
                    return self._error(400, "invalid_grant", "the refresh token is invalid, expired or revoked")
                if client.rotate:
                    client.refresh_tokens.discard(str(form.get("refresh_token")))
            else:
                return self._error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
            asked = set(str(form.get("scope") or "").split())
            if not asked <= set(client.scope.split()):
                return self._error(400, "invalid_scope", f"scope {' '.join(sorted(asked))!r} is not granted")
            token = "at-" + secrets.token_urlsafe(24)
            lifetime = client.lifetime or self.lifetime
            self.tokens[token] = Issued(token, client.client_id, client.user, time.time() + lifetime, grant)
            answer = {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": client.scope}
            if grant == "refresh_token" and client.rotate:
                answer["refresh_token"] = "rt-" + secrets.token_urlsafe(16)
                client.refresh_tokens.add(answer["refresh_token"])
        return web.json_response(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def _introspect(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("token", ""))
        user = self.user_of(token)
        self.introspections.append((token, user or "", user is not None))
        if user is None:
            return web.json_response({"active": False})
        return web.json_response({"active": True, "username": user, "scope": "IMAP SMTP"})


# --- SMTP with OAuth2 -------------------------------------------------------------------------


class OAuth2SinkHandler(SinkHandler):
    """SASL XOAUTH2 and OAUTHBEARER for aiosmtpd (it has neither): the token must be live and
    open the user the client names, else the JSON error challenge and 535, as Gmail and Outlook do."""

    def __init__(self, provider: OAuth2Provider) -> None:
        super().__init__()
        self.provider = provider
        self.logins: list[tuple[str, str, bool]] = []  # (mechanism, user, accepted)

    async def auth_XOAUTH2(self, server, args):
        return await self._oauth(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server, args):
        return await self._oauth(server, args, "OAUTHBEARER")

    async def _oauth(self, server, args, mechanism: str):
        initial = args[1] if len(args) > 1 else await server.challenge_auth("")
        try:
            text = base64.b64decode(initial, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, TypeError):
            return AuthResult(success=False, handled=False)
        if mechanism == "XOAUTH2":
            fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
            user = fields.get("user", "")
        else:
            gs2, _, rest = text.partition("\x01")
            fields = dict(part.split("=", 1) for part in rest.split("\x01") if "=" in part)
            user = next((p[2:] for p in gs2.split(",") if p.startswith("a=")), "").replace("=2C", ",").replace("=3D", "=")
        auth = fields.get("auth", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        accepted = bool(user) and self.provider.user_of(token) == user
        self.logins.append((mechanism, user, accepted))
        if accepted:
            return AuthResult(success=True, auth_data=user)
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer", "scope": "SMTP"}))
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535 5.7.8


class OAuth2SmtpSink(SmtpSink):
    handler: OAuth2SinkHandler

    def __init__(self, provider: OAuth2Provider) -> None:
        SmtpCatcher.__init__(
            self, OAuth2SinkHandler(provider), auth_require_tls=False, auth_required=True,
            auth_exclude_mechanism=["LOGIN", "PLAIN"],
        )


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def oauth2_provider():
    yield from serving(OAuth2Provider())


@pytest.fixture(scope="session")
def oauth2_dovecot(oauth2_provider):
    yield from serving(DovecotServer(oauth2_introspection_url=oauth2_provider.introspection_url))


@pytest.fixture
def oauth2_smtp(oauth2_provider):
    yield from serving(OAuth2SmtpSink(oauth2_provider))
