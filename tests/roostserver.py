"""A real ``roost`` for tests: the CLI as a subprocess, and ``roost serve`` on 127.0.0.1.

Every wait is bounded: a CLI call by CLI_TIMEOUT_S, start-up by START_TIMEOUT_S and each step
of a stop by STOP_TIMEOUT_S. A server is stopped through its own process handle (SIGTERM, a
bounded wait, SIGKILL if it hangs), never by name, and only ever listens on 127.0.0.1.

Usage::

    env = roost_env(tmp_path, database_url)
    key = create_key(env, "demo")
    with roost_server(env, tmp_path / "serve.log") as server:
        httpx.get(f"{server.base_url}/healthz")
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

__all__ = [
    "CLI_TIMEOUT_S",
    "HOST",
    "START_TIMEOUT_S",
    "STOP_TIMEOUT_S",
    "RunningRoost",
    "create_key",
    "free_port",
    "roost_command",
    "roost_env",
    "roost_server",
    "run_roost",
    "stop",
    "wait_until_healthy",
]

HOST = "127.0.0.1"
CLI_TIMEOUT_S = 60.0
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


def roost_command() -> list[str]:
    """The ``roost`` script installed next to this Python, or the CLI module if there is none."""
    script = Path(sys.executable).with_name("roost")
    return [str(script)] if script.exists() else [sys.executable, "-m", "roost.cli.main"]


def roost_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """This process's environment with only the given Roost settings.

    No ``ROOST_*`` variable is inherited from the developer's shell. Without a database URL,
    Roost uses the SQLite file in ``data_dir``.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("ROOST_")}
    env["ROOST_DATA_DIR"] = str(data_dir)
    if database_url:
        env["ROOST_DATABASE_URL"] = database_url
    return env


def run_roost(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``roost ARGS…`` to completion (bounded by CLI_TIMEOUT_S), its output captured as text."""
    return subprocess.run(
        [*roost_command(), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )


def create_key(env: dict[str, str], project: str, scopes: str = "read,write") -> str:
    """A new key for ``project`` (created if need be), made by ``roost keys create``."""
    done = run_roost(env, "keys", "create", "--project", project, "--scopes", scopes)
    assert done.returncode == 0, f"roost keys create failed:\n{done.stderr}"
    return done.stdout.strip()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, a bounded wait, SIGKILL if it hangs; returns the exit status.

    The status is negative for a signal: ``-SIGTERM`` for a server that re-raised the SIGTERM
    after stopping cleanly, ``-SIGKILL`` for one that ignored it. A process that has exited
    already is left alone.
    """
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout=STOP_TIMEOUT_S)


@dataclass(frozen=True)
class RunningRoost:
    """A ``roost serve`` process and the URL it answers on."""

    process: subprocess.Popen[bytes]
    base_url: str


def wait_until_healthy(server: RunningRoost, log: Path) -> None:
    """Return once ``/healthz`` answers 200; fail the test, with the log, if it exits or is slow."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"roost serve exited with {server.process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"roost serve did not answer within {START_TIMEOUT_S} s:\n{log.read_text()}")


@contextmanager
def roost_server(env: dict[str, str], log: Path) -> Iterator[RunningRoost]:
    """``roost serve`` on a free 127.0.0.1 port, healthy when yielded, always stopped at exit.

    Its output is appended to ``log``. A test may stop it earlier with ``stop``.
    """
    port = free_port()
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [*roost_command(), "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    try:
        server = RunningRoost(process, f"http://{HOST}:{port}")
        wait_until_healthy(server, log)
        yield server
    finally:
        stop(process)
