"""Every setting Roost reads, in one pydantic-settings class (environment prefix ``ROOST_``).

The class is never instantiated at import time: ``create_app`` and the CLI build it, so tests can
pass their own values without touching the environment.
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret-key"
MIN_SECRET_KEY = 32


def _read_secret(path: Path, variable: str) -> str:
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise ValueError(f"{variable}: cannot read {path}: {exc.strerror}") from None
    if not value:
        raise ValueError(f"{variable}: {path} is empty")
    return value


class SqliteSynchronous(StrEnum):
    """SQLite's ``PRAGMA synchronous`` in WAL mode.

    FULL fsyncs the write-ahead log at every commit, so an acknowledged write survives a power
    cut. NORMAL only survives a crash of the process (the OS may still lose the last commits).
    """

    FULL = "FULL"
    NORMAL = "NORMAL"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROOST_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./roost-data"),
        description="Directory for the SQLite database and other local state.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: SQLite file roost.db in the data directory. "
        "PostgreSQL: postgresql+psycopg://user:password@host:5432/dbname",
    )
    sqlite_synchronous: SqliteSynchronous = Field(
        default=SqliteSynchronous.FULL,
        description="SQLite durability: FULL (fsync per commit, survives power loss) or NORMAL "
        "(survives a process crash only).",
    )
    write_queue_size: int = Field(
        default=10_000,
        ge=1,
        description="Pending write requests before ingest answers 503 with Retry-After.",
    )
    write_batch_max: int = Field(
        default=512,
        ge=1,
        description="Most write requests grouped into one transaction (group commit).",
    )
    ingest_process: bool = Field(
        default=True,
        description="Commit ingest writes in a child process of the server, beside the event "
        "loop instead of sharing its interpreter lock (false: in a thread, as every other "
        "write). An in-memory SQLite database always uses the thread.",
    )
    agent_messages: bool = Field(
        default=True,
        description="Record what each agent emits as ActiveWorkflow messages (false: agents "
        "and workflows are still kept, with no messages; ingest writes less).",
    )
    retention_raw_days: int = Field(
        default=30, ge=0, description="Days raw points are kept (0 = forever)."
    )
    retention_1m_days: int = Field(
        default=90, ge=0, description="Days 1-minute roll-ups are kept (0 = forever)."
    )
    retention_1h_days: int = Field(
        default=730, ge=0, description="Days 1-hour roll-ups are kept (0 = forever)."
    )
    retention_1d_days: int = Field(
        default=0, ge=0, description="Days 1-day roll-ups are kept (0 = forever)."
    )
    retention_interval_seconds: float = Field(
        default=3600.0, gt=0, description="Seconds between two retention passes."
    )
    run_abandon_after_hours: float = Field(
        default=24.0,
        gt=0,
        description="Hours a HawkFlow run may stay open before it is marked abandoned.",
    )
    run_retry_window_seconds: float = Field(
        default=2.0,
        ge=0,
        description=(
            "A start or end identical to one received this many seconds earlier is taken "
            "for a client's timeout retry and recorded once (0 = never)."
        ),
    )
    run_sweep_interval_seconds: float = Field(
        default=60.0, gt=0, description="Seconds between two passes that abandon stale runs."
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    stathat_strict_status: bool = Field(
        default=False,
        description="StatHat ingest (/ez, /c, /v) answers failures with their real HTTP status "
        "instead of StatHat's HTTP 200 with the status in the body.",
    )
    stathat_import_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a StatHat import waits for one answer of the source's export API.",
    )
    stathat_import_attempts: int = Field(
        default=6,
        ge=1,
        le=20,
        description="Tries per request of a StatHat import when the source answers 5xx or "
        "times out, with backoff doubling from half a second.",
    )
    notify_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Seconds between two looks at the notification outbox for due sends.",
    )
    notify_attempts: int = Field(
        default=6,
        ge=1,
        le=20,
        description="Tries to deliver one notification to one channel before giving up.",
    )
    notify_retry_first_seconds: float = Field(
        default=20.0,
        gt=0,
        description="Seconds before the second try of a failed notification, doubling after "
        "each try (20, 40, 80, 160, 320: six tries over about ten minutes).",
    )
    notify_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds one send to one channel may take before it counts as failed.",
    )

    public_url: str | None = Field(
        default=None,
        description="The address people reach this server at (e.g. https://roost.example.com), "
        "used in public share links and in alert notices. Default: the address of the request "
        "that made the link (alert notices then carry a path alone).",
    )

    alert_interval: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds between two evaluations of every enabled alert.",
    )

    secret_key: str | None = Field(
        default=None,
        description="Signs user tokens (HS256); 32 characters or more. Default: a random "
        "key kept in <data dir>/secret-key, made on first use; set it (the same on every "
        "node) when several servers share a database.",
    )
    secret_key_file: Path | None = Field(
        default=None, description="A file holding the secret key (for Docker/Kubernetes secrets)."
    )
    database_url_file: Path | None = Field(
        default=None, description="A file holding the database URL, when it carries a password."
    )

    @model_validator(mode="after")
    def _read_secret_files(self) -> Settings:
        # Secrets may come from files (container secrets) instead of the environment; a value
        # set directly wins.
        if self.secret_key is None and self.secret_key_file is not None:
            self.secret_key = _read_secret(self.secret_key_file, "ROOST_SECRET_KEY_FILE")
        if self.database_url is None and self.database_url_file is not None:
            self.database_url = _read_secret(self.database_url_file, "ROOST_DATABASE_URL_FILE")
        if self.secret_key is not None and len(self.secret_key) < MIN_SECRET_KEY:
            # HS256 wants a key at least as long as its hash (RFC 7518 §3.2).
            raise ValueError(f"the secret key must be at least {MIN_SECRET_KEY} characters")
        return self

    def resolved_secret_key(self) -> bytes:
        """The token-signing key: the setting, or one made once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / SECRET_KEY_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # O_EXCL: two processes starting at once keep the first one's key.
            with suppress(FileExistsError):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(48) + "\n")
        return path.read_text().strip().encode()

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'roost.db').resolve()}"
