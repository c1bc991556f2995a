"""All configuration in one object, read from `EOCIC_*` environment variables and an optional `.env`.

`load_settings()` turns a validation error into `SettingsError` whose message names the
setting and what it expects, so that start-up stops with one clear line.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Security(str, Enum):
    ssl = "ssl"
    starttls = "starttls"
    none = "none"


class MailAuth(str, Enum):
    password = "password"
    oauth2 = "oauth2"


class OAuth2Provider(str, Enum):
    microsoft = "microsoft"
    google = "google"
    generic = "generic"


DEFAULT_OAUTH2_SCOPES = {  # client credentials / service account; a delegated Microsoft token names the API
    OAuth2Provider.microsoft: "https://outlook.office365.com/.default",
    OAuth2Provider.google: "https://mail.google.com/",
    OAuth2Provider.generic: "",
}
MICROSOFT_DELEGATED_SCOPE = "https://outlook.office365.com/IMAP.AccessAsUser.All https://outlook.office365.com/SMTP.Send"


class SaslMechanism(str, Enum):
    """The SASL mechanism that carries an OAuth2 token: XOAUTH2 (Google, Microsoft) or OAUTHBEARER (RFC 7628)."""
    XOAUTH2 = "XOAUTH2"
    OAUTHBEARER = "OAUTHBEARER"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EOCIC_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path.home() / ".local" / "share" / "eocic-desk")
    database_url: str = ""
    database_wait_seconds: float = Field(default=60.0, ge=0)  # retry an unreachable database this long at start-up
    # several instances on one PostgreSQL: a new leader watches the mailbox within this time (bot/leader.py)
    leader_takeover_seconds: float = Field(default=10.0, gt=0, le=3600)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].split("+", 1)[0].lower() if value else ""
        if value and scheme not in ("sqlite", "postgresql"):
            hint = " (write postgresql://, not postgres://)" if scheme == "postgres" else ""
            raise ValueError(f"unknown database URL scheme {scheme!r}{hint}: use sqlite:///path/desk.sqlite3 "
                             "or postgresql://user:password@host/dbname")
        return value

    imap_host: str = ""
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_user: str = ""
    imap_password: SecretStr = SecretStr("")
    imap_security: Security = Security.ssl
    imap_folder: str = "INBOX"
    imap_processed_folder: str = "Processed"
    imap_poll_seconds: float = Field(default=300.0, gt=0)
    imap_idle_seconds: float = Field(default=600.0, gt=0)
    imap_stale_alert_seconds: float = Field(default=900.0, gt=0)
    imap_batch_size: int = Field(default=100, ge=1, le=5000)

    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_security: Security = Security.starttls
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    smtp_connections: int = Field(default=2, ge=1, le=32)

    # --- OAuth2 login for IMAP and SMTP (bot/oauth2.py). The users stay EOCIC_IMAP_USER
    # and EOCIC_SMTP_USER; the passwords are not used.
    mail_auth: MailAuth = MailAuth.password
    oauth2_provider: OAuth2Provider = OAuth2Provider.microsoft
    oauth2_tenant: str = ""  # Microsoft: directory (tenant) id or domain
    oauth2_client_id: str = ""
    oauth2_client_secret: SecretStr = SecretStr("")
    oauth2_certificate_file: str = ""  # Microsoft: PEM with key and certificate; Google: service account JSON key
    oauth2_refresh_token: SecretStr = SecretStr("")
    oauth2_scope: str = ""  # empty: the provider's default (DEFAULT_OAUTH2_SCOPES)
    oauth2_token_url: str = ""  # generic provider; Google: another token endpoint
    oauth2_mechanism: SaslMechanism = SaslMechanism.XOAUTH2

    @field_validator("oauth2_mechanism", mode="before")
    @classmethod
    def _mechanism(cls, value):
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _oauth2(self):
        if self.mail_auth is not MailAuth.oauth2:
            return self
        provider, secret = self.oauth2_provider, self.oauth2_client_secret.get_secret_value()
        refresh = self.oauth2_refresh_token.get_secret_value()
        need = ["EOCIC_OAUTH2_CLIENT_ID"] if not self.oauth2_client_id and not (
            provider is OAuth2Provider.google and self.oauth2_certificate_file) else []
        if provider is OAuth2Provider.microsoft and not self.oauth2_tenant:
            need.append("EOCIC_OAUTH2_TENANT")
        if provider is OAuth2Provider.generic and not self.oauth2_token_url:
            need.append("EOCIC_OAUTH2_TOKEN_URL")
        if provider is OAuth2Provider.google and not (refresh or self.oauth2_certificate_file):
            need.append("EOCIC_OAUTH2_REFRESH_TOKEN (or EOCIC_OAUTH2_CERTIFICATE_FILE, a service account key)")
        if provider is not OAuth2Provider.google and not (secret or self.oauth2_certificate_file or refresh):
            need.append("EOCIC_OAUTH2_CLIENT_SECRET (or EOCIC_OAUTH2_CERTIFICATE_FILE or EOCIC_OAUTH2_REFRESH_TOKEN)")
        if need:
            raise ValueError(f"EOCIC_MAIL_AUTH=oauth2 with EOCIC_OAUTH2_PROVIDER={provider.value} needs " + ", ".join(need))
        if self.oauth2_certificate_file and not Path(self.oauth2_certificate_file).is_file():
            raise ValueError(f"EOCIC_OAUTH2_CERTIFICATE_FILE: no such file {self.oauth2_certificate_file!r}")
        if self.oauth2_token_url and not self.oauth2_token_url.startswith(("https://", "http://")):
            raise ValueError("EOCIC_OAUTH2_TOKEN_URL: expected a URL like https://login.example.org/oauth2/token")
        if not self.oauth2_scope:
            delegated = provider is OAuth2Provider.microsoft and refresh
            self.oauth2_scope = MICROSOFT_DELEGATED_SCOPE if delegated else DEFAULT_OAUTH2_SCOPES[provider]
        return self

    desk_address: str = "eocic@eocic-desk.example"
    desk_name: str = "EOCIC Service Desk"
    secret_key: SecretStr = SecretStr("")
    public_url: str = "http://localhost:8080"

    acks_per_sender_per_hour: int = Field(default=3, ge=0)
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_retry_base_seconds: float = Field(default=30.0, gt=0)
    outbox_poll_seconds: float = Field(default=1.0, gt=0)

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    log_level: str = "INFO"

    @field_validator("desk_address")
    @classmethod
    def _address(cls, value: str) -> str:
        if "@" not in value or any(c in value for c in "\r\n <>"):
            raise ValueError("expected a plain mail address like eocic@example.org")
        return value.lower()

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR")
        return value.upper()

    @cached_property
    def db_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'desk.sqlite3'}"

    @property
    def imap_configured(self) -> bool:
        return bool(self.imap_host)

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    def require(self, *names: str) -> None:
        """Fail with `SettingsError` when a setting needed by the running command is empty."""
        for name in names:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if not value:
                raise SettingsError(f"EOCIC_{name.upper()} is required for this command but is not set")

    # --- Slack. Slack's own names are unprefixed: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
    # SLACK_APP_TOKEN. Without a bot token the desk runs without Slack.
    slack_bot_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("SLACK_BOT_TOKEN", "EOCIC_SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "EOCIC_SLACK_SIGNING_SECRET", "slack_signing_secret"),
    )
    slack_app_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("SLACK_APP_TOKEN", "EOCIC_SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_triage_channel: str = ""  # channel id (C…) where ticket cards and the morning digest go
    slack_api_url: str = "https://slack.com/api/"  # Web API base URL (tests, proxies)
    staff: Annotated[list[str], NoDecode] = Field(default_factory=list)  # Slack user ids (U…) and/or user groups (S…)
    first_response_days: int = Field(default=2, ge=1, le=30)  # working days, Mon–Fri, Europe/Brussels
    slack_digest_at: str = "08:30"  # Brussels time of the morning digest, Monday to Friday
    slack_messages_per_second: float = Field(default=1.0, gt=0)  # per channel

    @field_validator("staff", mode="before")
    @classmethod
    def _staff(cls, value):
        if isinstance(value, str):
            value = value.replace(";", ",").split(",")
        ids = [str(v).strip().lstrip("@") for v in value or [] if str(v).strip()]
        bad = [v for v in ids if not re.fullmatch(r"[UWS][A-Z0-9]+", v)]
        if bad:
            raise ValueError(f"expected Slack user ids (U…, W…) or user group ids (S…), comma-separated; not {bad}")
        return ids

    @field_validator("slack_digest_at", "survey_daily_status_time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError("expected a time of day like 08:30")
        return value.strip()

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected a URL like https://slack.com/api/")
        return value.rstrip("/") + "/"

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token.get_secret_value())

    # ---- progress surveys (handlers/surveys.py, bot/survey_jobs.py) ----
    survey_timezone: str = "Europe/Brussels"  # default zone of a campaign's dates and window
    survey_window: str = "mon-fri 09:00-18:00"  # when reminders may go, or "always"
    survey_sync_seconds: float = Field(default=5.0, gt=0)  # how soon the bot picks up a new campaign
    survey_daily_status_time: str = "09:00"  # daily status line, campaign time zone
    limesurvey_url: str = ""  # …/index.php/admin/remotecontrol; empty: no LimeSurvey sync
    limesurvey_user: str = ""
    limesurvey_password: SecretStr = SecretStr("")

    # --- Distribution lists, webinars, newsletters --------------------------------
    lists_domain: str = Field(default="lists.eocic.example", description="List-Id domain: <escp-4i.lists.eocic…>")
    outbox_rate_per_second: float = Field(default=0.0, ge=0, description="throttle for all outgoing mail; 0 = unlimited")
    outbox_lease_seconds: float = Field(default=120.0, gt=0, description="how long a claimed outbox row is held before retry")
    webinar_reminders: str = Field(default="7d,1d", description="reminder offsets before a webinar: 7d, 1d, 2h, 30m")
    webinar_timezone: str = Field(default="Europe/Brussels", description="time zone of webinar times given without one")
    lists_due_seconds: float = Field(default=30.0, gt=0, description="how often due announcements and reminders are sent")

    # --- Untrusted mail in worker processes (bot/mail_pool.py) ---------------------
    mail_time_limit_seconds: float = Field(default=10.0, gt=0, description="per mail: parsing and classification")
    mail_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024, description="larger mail is stored raw, quarantined")
    mail_memory_limit_mb: int = Field(default=1024, ge=64, description="address space a worker may grow by")
    mail_workers: int = Field(default=0, ge=0, le=64, description="worker processes; 0 = one per core")


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        if not err.get("loc"):  # a check of several settings: its message names them, the input holds secrets
            raise SettingsError(str(err["msg"]).removeprefix("Value error, ")) from None
        name = "EOCIC_" + str(err["loc"][0]).upper()
        raise SettingsError(f"{name}: {err['msg']} (got {err.get('input')!r})") from None
