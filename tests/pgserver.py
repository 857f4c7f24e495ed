"""Throwaway PostgreSQL server for the test suite.

The storage tests must run against a real PostgreSQL, not SQLite or a mock, and without Docker.
``PostgresServer`` builds a fresh cluster with Debian's ``postgresql`` binaries in a temporary
directory, serves it on a free loopback port, and deletes everything again on ``stop()``.

Usage::

    with PostgresServer() as pg:
        engine = sqlalchemy.create_engine(pg.url)
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import sql

__all__ = ["PostgresNotFoundError", "PostgresServer", "find_pg_bindir"]

DEFAULT_USER = "roost"
DEFAULT_DBNAME = "roost_test"
HOST = "127.0.0.1"

# Every external step is bounded so a wedged server fails the run instead of hanging CI.
PG_CTL_TIMEOUT_S = 30
SUBPROCESS_TIMEOUT_S = 60
CONNECT_TIMEOUT_S = 10

# The port is picked by binding port 0 and releasing it, so another process can grab it before
# the postmaster binds. Retrying with a new port makes that race harmless.
START_ATTEMPTS = 3

# PostgreSQL refuses to run as root; under root the server runs as this OS user, which Debian's
# postgresql-common package creates.
PG_OS_USER = "postgres"

_REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")


class PostgresNotFoundError(RuntimeError):
    """No PostgreSQL server binaries (initdb, pg_ctl, postgres) could be found."""


def _has_server_binaries(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in _REQUIRED_BINARIES)


def _version_key(path: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin: compare versions numerically so 15 beats 9.6.
    version = Path(path).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version))


def find_pg_bindir() -> Path:
    """Return the directory holding initdb/pg_ctl/postgres.

    Order: ``pg_config --bindir``, then the highest ``/usr/lib/postgresql/*/bin``, then PATH.
    Each candidate is checked for the server binaries, because on Debian ``pg_config`` may come
    from libpq-dev alone and point at /usr/bin, which holds only client wrappers.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"],
                capture_output=True,
                text=True,
                check=True,
                timeout=SUBPROCESS_TIMEOUT_S,
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        candidates.append(Path(found))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)

    for bindir in candidates:
        if _has_server_binaries(bindir):
            return bindir
    raise PostgresNotFoundError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found via pg_config, "
        "/usr/lib/postgresql/*/bin or PATH. Install Debian's `postgresql` package "
        "(`apt-get install postgresql`; `make test` installs it for you)."
    )


def _free_port() -> int:
    # Binding to port 0 lets the kernel choose an unused loopback port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _clean_env() -> dict[str, str]:
    # PG* variables from the developer's shell (PGPORT, PGDATA, PGHOST...) would silently
    # redirect pg_ctl/initdb; the cluster must depend only on the arguments given here.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


class PostgresServer:
    """A private PostgreSQL cluster on 127.0.0.1, created by ``start()``, deleted by ``stop()``.

    Authentication is ``trust``, which is acceptable only because the server listens on
    loopback alone and its Unix socket lives in a private temporary directory.
    """

    def __init__(self, *, user: str = DEFAULT_USER, dbname: str = DEFAULT_DBNAME) -> None:
        self.user = user
        self.dbname = dbname
        self._bindir: Path | None = None
        self._tmpdir: Path | None = None
        self._port: int | None = None
        self._running = False
        # pid of the process that started the server: a forked child inheriting this object
        # must not tear down its parent's server from its own atexit hooks.
        self._owner_pid: int | None = None

    # -- public API -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None or not self._running:
            raise RuntimeError("PostgresServer is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        """SQLAlchemy URL, e.g. ``postgresql+psycopg://roost@127.0.0.1:54321/roost_test``."""
        return f"postgresql+psycopg://{self.user}@{HOST}:{self.port}/{self.dbname}"

    @property
    def data_dir(self) -> Path:
        if self._tmpdir is None:
            raise RuntimeError("PostgresServer is not running; call start() first")
        return self._tmpdir / "data"

    @property
    def log_file(self) -> Path:
        if self._tmpdir is None:
            raise RuntimeError("PostgresServer is not running; call start() first")
        return self._tmpdir / "postgres.log"

    def start(self) -> str:
        """Create the cluster, start the server and create the database; return ``url``."""
        if self._running:
            return self.url
        self._bindir = find_pg_bindir()
        self._tmpdir = Path(tempfile.mkdtemp(prefix="roost-pg-", dir=self._temp_parent()))
        self._owner_pid = os.getpid()
        # Registered before anything is launched so an aborted run (KeyboardInterrupt, failing
        # session fixture) still stops the postmaster and removes the directory.
        atexit.register(self._atexit_stop)
        try:
            self._chown_for_server(self._tmpdir)
            self._initdb()
            self._start_postmaster()
            self._create_database()
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """Stop our server (only the one in our own data dir) and delete its directory."""
        atexit.unregister(self._atexit_stop)
        tmpdir = self._tmpdir
        if tmpdir is None:
            return
        # postmaster.pid rather than _running: a start that timed out half-way may still have
        # left a postmaster behind in our data dir.
        if self._bindir is not None and (tmpdir / "data" / "postmaster.pid").exists():
            # Immediate mode skips the shutdown checkpoint: the cluster is deleted right after,
            # so there is nothing worth flushing. check=False: if the server already died we
            # still want the directory gone.
            self._run(
                [
                    str(self._bindir / "pg_ctl"),
                    "stop",
                    "-D",
                    str(tmpdir / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "-t",
                    str(PG_CTL_TIMEOUT_S),
                ],
                check=False,
            )
        self._running = False
        self._tmpdir = None
        shutil.rmtree(tmpdir, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self._port}" if self._running else "stopped"
        return f"<PostgresServer {state} tmpdir={self._tmpdir}>"

    # -- internals --------------------------------------------------------------------------

    def _atexit_stop(self) -> None:
        if os.getpid() == self._owner_pid:
            self.stop()

    @staticmethod
    def _as_root() -> bool:
        return os.geteuid() == 0

    def _temp_parent(self) -> str | None:
        # When root hands the directory to the postgres user, that user must be able to reach
        # it; a TMPDIR under /root would not be traversable, so fall back to /tmp.
        if not self._as_root():
            return None
        path = Path(tempfile.gettempdir()).resolve()
        if all(p.stat().st_mode & 0o001 for p in (path, *path.parents)):
            return None
        return "/tmp"

    def _chown_for_server(self, path: Path) -> None:
        if not self._as_root():
            return
        try:
            pw = pwd.getpwnam(PG_OS_USER)
        except KeyError:
            raise PostgresNotFoundError(
                f"Running as root but OS user {PG_OS_USER!r} does not exist; PostgreSQL refuses "
                "to run as root. Install Debian's `postgresql` package, which creates it."
            ) from None
        os.chown(path, pw.pw_uid, pw.pw_gid)

    def _run(self, cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if self._as_root():
            # PostgreSQL refuses to run as root, so drop to the postgres user for every server
            # binary. subprocess does the switch itself (setgroups/setgid/setuid in the child),
            # which avoids runuser's PAM session and works without util-linux.
            pw = pwd.getpwnam(PG_OS_USER)
            kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        assert self._tmpdir is not None
        proc = subprocess.run(
            cmd,
            # Our own directory as cwd: the postgres user may be unable to read the caller's cwd
            # (e.g. under /root), which makes initdb/pg_ctl print warnings or fail.
            cwd=self._tmpdir,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
            check=False,
            **kwargs,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{Path(cmd[0]).name} failed with exit code {proc.returncode}\n"
                f"command: {' '.join(cmd)}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
                f"{self._log_tail()}"
            )
        return proc

    def _log_tail(self, lines: int = 30) -> str:
        if self._tmpdir is None:
            return ""
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\nserver log (tail):\n" + "\n".join(text.splitlines()[-lines:])

    def _initdb(self) -> None:
        assert self._bindir is not None
        self._run(
            [
                str(self._bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-A",
                "trust",
                "-U",
                self.user,
                "-E",
                "UTF8",
                "--no-locale",
                # Skipping the fsync of the fresh cluster saves most of initdb's runtime; the
                # cluster never outlives the test run.
                "--no-sync",
                "--no-instructions",
            ]
        )

    def _start_postmaster(self) -> None:
        assert self._bindir is not None and self._tmpdir is not None
        last_error: RuntimeError | None = None
        for _ in range(START_ATTEMPTS):
            port = _free_port()
            options = " ".join(
                [
                    f"-h {HOST}",
                    f"-p {port}",
                    # Unix socket in our private directory, never the shared /var/run/postgresql.
                    f"-k {self._tmpdir}",
                    # Durability is pointless for a throwaway test cluster and costs seconds per
                    # run; NEVER use these settings for a real database.
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    # Concurrency tests open many connections at once.
                    "-c max_connections=200",
                ]
            )
            proc = self._run(
                [
                    str(self._bindir / "pg_ctl"),
                    "start",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    str(PG_CTL_TIMEOUT_S),
                    "-o",
                    options,
                ],
                check=False,
            )
            if proc.returncode == 0:
                self._port = port
                self._running = True
                return
            last_error = RuntimeError(
                f"pg_ctl start failed (exit {proc.returncode}) on port {port}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}{self._log_tail()}"
            )
            # A failed -w start can leave a half-started postmaster behind (e.g. on timeout);
            # make sure it is gone before retrying on a new port.
            self._run(
                [str(self._bindir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate"],
                check=False,
            )
        assert last_error is not None
        raise last_error

    def _create_database(self) -> None:
        # Connect over TCP to the maintenance database exactly as the tests will, which also
        # proves the loopback listener and trust auth work before any test runs.
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while True:
            try:
                conn = psycopg.connect(
                    host=HOST,
                    port=self.port,
                    user=self.user,
                    dbname="postgres",
                    autocommit=True,  # CREATE DATABASE cannot run inside a transaction
                    connect_timeout=CONNECT_TIMEOUT_S,
                )
                break
            except psycopg.OperationalError:
                # pg_ctl -w already waited for readiness; this only covers a brief race.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.dbname)))
