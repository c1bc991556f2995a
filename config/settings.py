"""All configuration in one object, read from `EOCIC_*` environment variables and an optional `.env`.

`load_settings()` turns a validation error into `SettingsError` whose message names the
setting and what it expects, so that start-up stops with one clear line.
"""

from __future__ import annotations

from enum import Enum
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Security(str, Enum):
    ssl = "ssl"
    starttls = "starttls"
    none = "none"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EOCIC_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path.home() / ".local" / "share" / "eocic-desk")
    database_url: str = ""

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


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "EOCIC_" + str(err["loc"][0]).upper() if err.get("loc") else "settings"
        raise SettingsError(f"{name}: {err['msg']} (got {err.get('input')!r})") from None
