"""Demo data for a first look: a project, a key, a few stats and a few monitored processes,
with a week of history."""

from __future__ import annotations

import math
import random
from pathlib import Path

from roost.domain import keys as key_rules
from roost.domain.errors import NotFound
from roost.domain.keys import Scope
from roost.domain.processes import Metric, ProcessKey
from roost.domain.stats import Kind
from roost.domain.times import HOUR, MINUTE
from roost.services import access, exceptions, processes, users
from roost.services.stats import series_for
from roost.storage import annotations as annotation_store
from roost.storage import tenancy
from roost.storage.writer import WriteTx

DEMO_PROJECT = "demo"
# The web app's demo login (`make serve` prints it); only ever made by --demo.
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "roost-demo"
DEMO_KEY_FILE = "demo-key"
HISTORY_MS = 7 * 24 * HOUR
STEP_MS = 5 * MINUTE


def database_is_empty(tx: WriteTx) -> bool:
    return tenancy.count_projects(tx.conn) == 0


def seed(tx: WriteTx, *, now: int) -> str | None:
    """Create the demo project with sample data when the database is empty; returns its key."""
    if not database_is_empty(tx):
        return None
    project = access.ensure_project(tx, name=DEMO_PROJECT, now=now)
    key = access.create_key(
        tx,
        project_id=project.id,
        name="demo",
        scopes=frozenset({Scope.READ, Scope.WRITE, Scope.ADMIN}),
        now=now,
    )
    rng = random.Random(7)  # the same demo every time
    start = now - HISTORY_MS
    for ts in range(start - start % STEP_MS, now, STEP_MS):
        hour = (ts // HOUR) % 24
        daily = 0.5 + 0.5 * math.sin((hour - 6) / 24 * 2 * math.pi)
        samples = (
            ("web.requests", Kind.COUNTER, float(int(40 + 160 * daily + rng.random() * 30))),
            ("signups", Kind.COUNTER, float(rng.random() < 0.15 + 0.3 * daily)),
            ("api.latency_ms", Kind.VALUE, round(80 + 60 * daily + rng.gauss(0, 8), 1)),
            ("queue.depth", Kind.VALUE, float(max(0, int(20 * daily + rng.gauss(0, 3))))),
        )
        for name, kind, value in samples:
            row = series_for(tx, project.id, name, kind, now)
            tx.points.add(project.id, row.id, ts, value)
    _seed_processes(tx, key_hash=key_rules.hash_key(key.secret), now=now, rng=rng)
    annotation_store.insert_annotation(
        tx.conn,
        project_id=project.id,
        ts=now - 2 * 24 * HOUR,
        text="Deployed v1.4 (demo annotation)",
        series_ids=[],
        created_at=now,
    )
    return key.secret


DEMO_TRACEBACK = """Traceback (most recent call last):
  File "/srv/etl/pipeline.py", line {line}, in load
    rows = source.fetch(day)
  File "/srv/etl/source.py", line 88, in fetch
    raise TimeoutError(f"source did not answer within {{limit}} s")
TimeoutError: source did not answer within 30 s
"""


def _seed_processes(tx: WriteTx, *, key_hash: str, now: int, rng: random.Random) -> None:
    """A week of HawkFlow-style runs: an hourly sync, and a nightly ETL that failed once."""
    start = now - HISTORY_MS
    sync = ProcessKey("hourly-sync", "crm")
    for ts in range(start - start % HOUR, now - HOUR, HOUR):
        processes.record_start(
            tx, key_hash=key_hash, process=sync, uid="", now=ts, retry_window_ms=0
        )
        took = int((40 + rng.random() * 50) * 1000)
        processes.record_metrics(
            tx,
            key_hash=key_hash,
            process=sync,
            metrics=[Metric("contacts_synced", float(rng.randint(50, 400)))],
            now=ts + took,
        )
        processes.record_end(
            tx, key_hash=key_hash, process=sync, uid="", info=None, now=ts + took, retry_window_ms=0
        )
    etl = ProcessKey("nightly-etl", "eu-west")
    first_night = start - start % (24 * HOUR) + 24 * HOUR + 2 * HOUR
    for night, ts in enumerate(range(first_night, now, 24 * HOUR)):
        uid = f"night-{night}"
        processes.record_start(
            tx, key_hash=key_hash, process=etl, uid=uid, now=ts, retry_window_ms=0
        )
        took = int((18 + rng.random() * 12) * MINUTE)
        if night == 3:  # one bad night, for a failed run and an exception group to look at
            exceptions.record_exception(
                tx,
                key_hash=key_hash,
                process=etl,
                text=DEMO_TRACEBACK.format(line=40 + night),
                now=ts + took // 2,
            )
        processes.record_metrics(
            tx,
            key_hash=key_hash,
            process=etl,
            metrics=[
                Metric("rows_loaded", float(rng.randint(140_000, 160_000))),
                Metric("model_accuracy", round(0.82 + rng.random() * 0.05, 3)),
            ],
            now=ts + took,
        )
        processes.record_end(
            tx, key_hash=key_hash, process=etl, uid=uid, info="ok", now=ts + took, retry_window_ms=0
        )


def ensure_demo_user(tx: WriteTx, *, now: int) -> bool:
    """The demo login, owner of the demo project, unless that address exists; True if made."""
    project = access.find_project(tx.conn, DEMO_PROJECT)
    if project is None:
        return False
    try:
        users.find_user(tx.conn, DEMO_EMAIL)
        return False
    except NotFound:
        pass
    users.create_user(tx, email=DEMO_EMAIL, password=DEMO_PASSWORD, now=now)
    users.grant(tx, email=DEMO_EMAIL, project_id=project.id, role="owner", now=now)
    return True


def save_demo_key(data_dir: Path, secret: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DEMO_KEY_FILE
    path.write_text(secret + "\n")
    path.chmod(0o600)


def load_demo_key(data_dir: Path) -> str | None:
    path = data_dir / DEMO_KEY_FILE
    return path.read_text().strip() if path.exists() else None
