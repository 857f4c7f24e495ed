"""The throwaway PostgreSQL server really starts, serves SQL over loopback and goes away."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from pgserver import PostgresNotFoundError, PostgresServer, find_pg_bindir


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_find_pg_bindir_has_server_binaries() -> None:
    bindir = find_pg_bindir()
    assert (bindir / "initdb").exists()
    assert (bindir / "pg_ctl").exists()


def test_missing_binaries_error_mentions_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)
    monkeypatch.setattr("glob.glob", lambda _pattern: [])
    with pytest.raises(RuntimeError, match="postgresql` package"):
        find_pg_bindir()
    assert issubclass(PostgresNotFoundError, RuntimeError)


def test_server_roundtrip_and_stop() -> None:
    server = PostgresServer()
    url = server.start()
    try:
        assert url == server.url
        assert url.startswith("postgresql+psycopg://roost@127.0.0.1:")
        assert url.endswith("/roost_test")
        port = server.port
        tmpdir = server.data_dir.parent
        assert _port_open(port)

        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(sa.text("select 1")).scalar_one() == 1
                assert conn.execute(sa.text("select current_database()")).scalar_one() == (
                    "roost_test"
                )
            with engine.begin() as conn:
                conn.execute(sa.text("create table t (id serial primary key, name text not null)"))
                conn.execute(
                    sa.text("insert into t (name) values (:a), (:b)"), {"a": "x", "b": "y"}
                )
            with engine.connect() as conn:
                rows = conn.execute(sa.text("select id, name from t order by id")).all()
            assert [tuple(r) for r in rows] == [(1, "x"), (2, "y")]
        finally:
            engine.dispose()
    finally:
        server.stop()

    assert not _port_open(port)
    assert not tmpdir.exists()
    with pytest.raises(RuntimeError):
        _ = server.url
    server.stop()  # idempotent


def test_context_manager_is_isolated_and_cleans_up() -> None:
    # Two servers side by side: each gets its own port and an empty database.
    with PostgresServer() as a, PostgresServer(dbname="other_db") as b:
        assert a.port != b.port
        assert b.url.endswith("/other_db")
        engine_a = sa.create_engine(a.url)
        engine_b = sa.create_engine(b.url)
        try:
            with engine_a.begin() as conn:
                conn.execute(sa.text("create table only_in_a (x int)"))
            with engine_b.connect() as conn:
                found = conn.execute(sa.text("select to_regclass('only_in_a')")).scalar_one()
            assert found is None
        finally:
            engine_a.dispose()
            engine_b.dispose()
        ports = (a.port, b.port)
    assert not any(_port_open(p) for p in ports)
