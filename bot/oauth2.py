"""OAuth2 access tokens for the mailbox (IMAP and SMTP), from each provider's maintained library.

`tokens_for(settings)` gives the process's one `TokenSource` for those settings, shared by the
mailbox watcher (a thread) and the outbox (the event loop). A token is kept in memory and
fetched again a while before it expires (a quarter of its lifetime, at most five minutes), or
at once when asked for a fresh one because a server refused the cached one.

The token protocols are the libraries': `msal` for Microsoft 365 (client credentials of an app
registration, with a secret or a certificate, or a delegated refresh token), `google-auth` for
Google Workspace (a refresh token, or a service account with domain-wide delegation acting as
the mailbox user), `authlib` for any other token endpoint (client credentials or a refresh
token). A provider's "no" (`invalid_grant`, `invalid_client`, …) raises `CredentialRefused`,
which no retry can mend; a network failure raises what the library raised, which a retry may.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bot.passes import CannotContinue
from config.settings import OAuth2Provider, Settings

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com/"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"


class CredentialRefused(CannotContinue):
    """The provider or the mail server refuses the credential: revoked, expired or misconfigured."""


@dataclass(frozen=True)
class Token:
    value: str
    refresh_at: float  # time.monotonic() after which a new token is fetched


Fetch = Callable[[], tuple[str, float]]  # -> (access token, seconds it stays valid)


class TokenSource:
    def __init__(self, fetch: Fetch, *, describe: str) -> None:
        self._fetch = fetch
        self.describe = describe  # for messages: "microsoft client credentials for 0000-…"
        self._lock = threading.Lock()
        self._token: Token | None = None
        self.fetched = 0

    @property
    def refresh_at(self) -> float:
        """`time.monotonic()` after which the cached token is fetched again (0.0 with none cached)."""
        token = self._token
        return token.refresh_at if token else 0.0

    def get(self, *, fresh: bool = False) -> str:
        """The cached token, or a new one when it is due (or `fresh`): blocking, call it in a thread."""
        with self._lock:
            token = self._token
            if fresh or token is None or time.monotonic() >= token.refresh_at:
                value, lifetime = self._fetch()
                if not value:
                    raise CredentialRefused(f"{self.describe}: the token endpoint answered without an access token")
                margin = min(300.0, max(lifetime, 0.0) / 4)
                token = self._token = Token(value, time.monotonic() + lifetime - margin)
                self.fetched += 1
            return token.value


class RefreshToken:
    """The refresh token to use next: a provider that rotates them (Entra ID, many others) sends a
    new one with each access token and may refuse the old one. Kept in memory only: after a
    restart the configured one is used again, so it must still be valid then."""

    def __init__(self, value: str) -> None:
        self.value = value

    def rotate(self, new: str | None) -> None:
        if new and self.value:
            self.value = new


_sources: dict[tuple, TokenSource] = {}
_sources_lock = threading.Lock()


def tokens_for(settings: Settings) -> TokenSource:
    """The one token source of this process for these OAuth2 settings."""
    key = tuple(str(getattr(settings, name)) for name in sorted(Settings.model_fields) if name.startswith("oauth2_"))
    key += (settings.imap_user,)
    with _sources_lock:
        if key not in _sources:
            _sources[key] = _build(settings)
        return _sources[key]


def _build(settings: Settings) -> TokenSource:
    provider = settings.oauth2_provider
    scopes = settings.oauth2_scope.split()
    if provider is OAuth2Provider.microsoft:
        return _microsoft(settings, scopes)
    if provider is OAuth2Provider.google:
        return _google(settings, scopes)
    return _generic(settings, scopes)


def _secret(value) -> str:
    return value.get_secret_value() if value is not None else ""


# --- Microsoft 365 (msal) -------------------------------------------------------------------


def _microsoft(settings: Settings, scopes: list[str]) -> TokenSource:
    import msal

    host = settings.oauth2_token_url or MICROSOFT_AUTHORITY  # another host: a national cloud
    authority = host.rstrip("/") + "/" + settings.oauth2_tenant
    options = {"authority": authority, "instance_discovery": host == MICROSOFT_AUTHORITY}
    refresh_token = RefreshToken(_secret(settings.oauth2_refresh_token))
    credential = _microsoft_credential(settings)
    if credential is None:
        app = msal.PublicClientApplication(settings.oauth2_client_id, **options)
    else:
        app = msal.ConfidentialClientApplication(settings.oauth2_client_id, client_credential=credential, **options)

    def fetch() -> tuple[str, float]:
        for token in app.token_cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN):
            app.token_cache.remove_at(token)  # we cache; msal's copy would hand back a refused token
        if refresh_token.value:
            result = app.acquire_token_by_refresh_token(refresh_token.value, scopes=scopes)
        else:
            result = app.acquire_token_for_client(scopes=scopes)
        if "access_token" not in result:
            raise CredentialRefused(f"Microsoft Entra ID refused the credential: {_error_line(result)}")
        refresh_token.rotate(result.get("refresh_token"))
        return result["access_token"], float(result.get("expires_in", 3600))

    kind = "delegated refresh token" if refresh_token.value else "client credentials"
    return TokenSource(fetch, describe=f"Microsoft {kind} of app {settings.oauth2_client_id}")


def _microsoft_credential(settings: Settings):
    """A client secret, or the certificate as msal wants it (key, SHA-1 thumbprint); None: public client."""
    if settings.oauth2_certificate_file:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.serialization import Encoding

        pem = Path(settings.oauth2_certificate_file).read_bytes()
        certificate = x509.load_pem_x509_certificate(pem)
        return {
            "private_key": pem.decode(),
            "thumbprint": certificate.fingerprint(hashes.SHA1()).hex(),
            "public_certificate": certificate.public_bytes(Encoding.PEM).decode(),
        }
    return _secret(settings.oauth2_client_secret) or None


def _error_line(result: dict) -> str:
    description = str(result.get("error_description") or "").splitlines()
    return f"{result.get('error', 'error')}: {description[0] if description else 'no description'}"


# --- Google Workspace (google-auth) ---------------------------------------------------------


def _google(settings: Settings, scopes: list[str]) -> TokenSource:
    import google.auth.exceptions
    from google.auth.transport.requests import Request

    if settings.oauth2_certificate_file:  # a service account's JSON key, domain-wide delegation
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(
            settings.oauth2_certificate_file, scopes=scopes, subject=settings.imap_user or settings.smtp_user
        )
        kind = f"service account acting as {settings.imap_user or settings.smtp_user}"
    else:
        from google.oauth2.credentials import Credentials

        credentials = Credentials(
            None, refresh_token=_secret(settings.oauth2_refresh_token), token_uri=settings.oauth2_token_url or GOOGLE_TOKEN_URL,
            client_id=settings.oauth2_client_id, client_secret=_secret(settings.oauth2_client_secret), scopes=scopes,
        )
        kind = "refresh token"

    def fetch() -> tuple[str, float]:
        try:
            credentials.refresh(Request())
        except google.auth.exceptions.RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise
            raise CredentialRefused(f"Google refused the credential: {exc.args[0] if exc.args else exc}") from None
        expiry = credentials.expiry  # naive UTC
        lifetime = expiry.timestamp() - _utc_naive_now().timestamp() if expiry else 3600.0
        return credentials.token, lifetime

    return TokenSource(fetch, describe=f"Google {kind} of client {settings.oauth2_client_id or '(key file)'}")


def _utc_naive_now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)


# --- any other token endpoint (authlib) -------------------------------------------------------


def _generic(settings: Settings, scopes: list[str]) -> TokenSource:
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.requests_client import OAuth2Session

    refresh_token = RefreshToken(_secret(settings.oauth2_refresh_token))
    url = settings.oauth2_token_url

    def fetch() -> tuple[str, float]:
        with OAuth2Session(settings.oauth2_client_id, _secret(settings.oauth2_client_secret) or None,
                           scope=" ".join(scopes) or None) as session:
            try:
                if refresh_token.value:
                    token = session.refresh_token(url, refresh_token=refresh_token.value)
                else:
                    token = session.fetch_token(url, grant_type="client_credentials")
            except OAuthError as exc:  # the endpoint's error answer (invalid_client, invalid_grant, …)
                raise CredentialRefused(f"the token endpoint {url} refused the credential: {exc.error}: "
                                        f"{exc.description or 'no description'}") from None
        refresh_token.rotate(token.get("refresh_token"))
        lifetime = float(token.get("expires_in") or (token.get("expires_at", 0) - time.time()) or 3600)
        return token.get("access_token", ""), lifetime

    kind = "refresh token" if refresh_token.value else "client credentials"
    return TokenSource(fetch, describe=f"{kind} of client {settings.oauth2_client_id} at {url}")
