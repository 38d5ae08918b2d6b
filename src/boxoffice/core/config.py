"""Settings, read from the environment (prefix ``BOXOFFICE_``) and an optional ``.env`` file."""

import secrets
from enum import StrEnum
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values that look like a key but are not one: refused in production.
_PLACEHOLDER_KEYS = {"", "changeme", "change-me", "secret", "dev", "development", "insecure"}
MIN_PRODUCTION_KEY_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


class EmailBackend(StrEnum):
    CONSOLE = "console"  # log the message (development)
    SMTP = "smtp"


class LogFormat(StrEnum):
    AUTO = "auto"  # pretty in a terminal, JSON otherwise
    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOXOFFICE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./boxoffice.db"
    secret_key: SecretStr | None = None
    secret_key_file: Path = Path(".boxoffice-secret")

    # Where people reach the service: links in emails are built from it.
    public_url: str = "http://127.0.0.1:8000"

    redis_url: str | None = None
    redis_key_prefix: str = "boxoffice"
    # Each Redis call gives up after this; the first failure skips Redis for REDIS_BREAKER_SECONDS.
    redis_timeout_seconds: float = Field(default=0.25, gt=0, le=30)
    redis_breaker_seconds: float = Field(default=30.0, gt=0)

    access_token_ttl_seconds: int = Field(default=900, ge=30)
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    jwt_algorithm: str = "HS256"

    # Argon2id cost. The defaults are the library's recommendation; tests lower them for speed.
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=65536, ge=8)
    password_hash_parallelism: int = Field(default=4, ge=1)

    rate_limits_enabled: bool = True
    rate_limit_auth: str = "10/minute"
    rate_limit_booking_writes: str = "60/minute"
    rate_limit_default: str = "1200/minute"
    # Requests naming one address as a booking's holder_email, whoever sends them.
    rate_limit_recipient: str = "10/hour"
    # Larger request heads answer 431 headers_too_large.
    max_header_bytes: int = Field(default=8192, ge=1024)
    max_header_count: int = Field(default=64, ge=8)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Booking transactions per event and process let into the database at once (see bookings/writer.py).
    booking_concurrency_per_event: int = Field(default=1, ge=1, le=64)

    email_backend: EmailBackend = EmailBackend.CONSOLE
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    email_from: str = "boxoffice <no-reply@boxoffice.localhost>"

    run_worker: bool = True
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    reminder_lead_seconds: int = Field(default=86400, ge=0)
    # How often a worker returns the tickets of expired holds to sale (see bookings/writer.py for the
    # sales that do not wait for it).
    hold_sweep_seconds: float = Field(default=2.0, gt=0)
    outbox_batch_size: int = Field(default=50, ge=1, le=1000)
    # 30 attempts from a 10 s base, capped at an hour: retried for at least 11 hours (half of ~22).
    outbox_max_attempts: int = Field(default=30, ge=1)
    outbox_retry_base_seconds: float = Field(default=10.0, gt=0)
    outbox_retry_max_seconds: float = Field(default=3600.0, gt=0)
    # How long a claimed message is reserved for its worker; a worker that dies frees it after this.
    outbox_lease_seconds: float = Field(default=300.0, gt=0)

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated); none by default.
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.AUTO

    # PostgreSQL connections per process: a pool for reads and one for writes. Requests beyond a pool
    # wait for a connection.
    db_read_pool_size: int = Field(default=20, ge=1)
    db_write_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    catalogue_read_concurrency: int = Field(default=8, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _split_cors_origins(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("cors_origins"), str):
            raw: str = data["cors_origins"]
            data["cors_origins"] = [o.strip() for o in raw.split(",") if o.strip()]
        return data

    @model_validator(mode="before")
    @classmethod
    def _split_trusted_proxies(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("trusted_proxies"), str):
            raw: str = data["trusted_proxies"]
            data["trusted_proxies"] = [
                ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()
            ]
        return data

    @model_validator(mode="after")
    def _require_real_key_in_production(self) -> Self:
        if self.env is Environment.PRODUCTION:
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if key.lower() in _PLACEHOLDER_KEYS or len(key) < MIN_PRODUCTION_KEY_LENGTH:
                raise ValueError(
                    "BOXOFFICE_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_PRODUCTION_KEY_LENGTH} characters when BOXOFFICE_ENV=production "
                    '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def signing_key(self) -> str:
        """The JWT signing key: the configured one, else one generated once and kept on disk."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        return _load_or_create_key(self.secret_key_file)


def _load_or_create_key(path: Path) -> str:
    """Read the development key; create it exclusively so concurrent processes agree on one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as new_file:
            path.chmod(0o600)
            new_file.write(secrets.token_urlsafe(48) + "\n")
    except FileExistsError:
        pass
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it or set BOXOFFICE_SECRET_KEY")
    return key
