"""How long one evaluation pass over 10,000 alerts takes (SQLite, in-process).

The store is seeded with 200 stats holding a point every 10 s for the last 6 hours, and
10,000 alerts over them: thresholds on 1m … 1d windows, deltas against the day before and
deadmen. The first pass writes every alert's state row; the steady passes after it write only
what changed. The figure to compare is the steady pass against the default
``ROOST_ALERT_INTERVAL`` (30 s), in the same run.

    .venv/bin/python bench/alert_eval.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from roost.alerting.evaluator import Evaluator
from roost.domain.alerts import AlertKind
from roost.domain.stats import Kind, PointInput, group_points
from roost.domain.times import now_ms
from roost.services import access, alerts, stats
from roost.services.alerts import AlertSpec
from roost.settings import Settings
from roost.storage.store import Store
from roost.storage.writer import WriteTx

ALERTS = 10_000
STATS = 200
SPAN_MS = 6 * 3600 * 1000
STEP_MS = 10_000
STEADY_PASSES = 3
DEFAULT_INTERVAL_S = Settings.model_fields["alert_interval"].default
WINDOWS = ("1m", "5m", "15m", "1h", "6h", "1d")


def _seed_points(tx: WriteTx, *, project_id: int, stat: int, now: int) -> None:
    kind = Kind.COUNTER if stat % 2 else Kind.VALUE
    points = [
        PointInput(f"bench.stat.{stat}", kind, float((ts // STEP_MS + stat) % 97), ts)
        for ts in range(now - SPAN_MS, now, STEP_MS)
    ]
    stats.record_groups(
        tx, project_id=project_id, groups=group_points(points, list(range(len(points)))), now=now
    )


def _rule(n: int, stat_ids: list[int]) -> AlertSpec:
    stat_id = stat_ids[n % len(stat_ids)]
    window = WINDOWS[n % len(WINDOWS)]
    if n % 10 < 6:
        kind, rule = AlertKind.THRESHOLD, {"window": window, "operator": ">", "value": n % 90}
    elif n % 10 < 8:
        kind, rule = (
            AlertKind.DELTA,
            {"window": window, "compare_to": "1d", "operator": "!=", "percentage": 50},
        )
    else:
        kind, rule = AlertKind.DEADMAN, {"window": window}
    return AlertSpec(
        name=f"bench alert {n}", kind=kind, definition={"stat_id": stat_id, **rule}, channel_ids=[]
    )


def seed(store: Store, now: int) -> None:
    def project_job(tx: WriteTx) -> int:
        return access.ensure_project(tx, name="bench-alerts", now=now).id

    project_id = store.write_now(project_job)
    for stat in range(STATS):
        store.write_now(partial(_seed_points, project_id=project_id, stat=stat, now=now))
    with store.read() as conn:
        stat_ids = [row.id for row in stats.list_stats(conn, project_id=project_id)]

    def alerts_job(tx: WriteTx) -> None:
        for n in range(ALERTS):
            alerts.create_alert(tx, project_id=project_id, spec=_rule(n, stat_ids), now=now)

    store.write_now(alerts_job)


async def _passes(store: Store, now: int) -> dict[str, Any]:
    evaluator = Evaluator(store)
    started = time.perf_counter()
    first = await evaluator.run_pass(now)
    first_s = time.perf_counter() - started
    steady = []
    for n in range(STEADY_PASSES):
        started = time.perf_counter()
        report = await evaluator.run_pass(now + (n + 1) * 30_000)
        steady.append(time.perf_counter() - started)
        assert report is not None and report.evaluated == ALERTS, report
    assert first is not None and first.evaluated == ALERTS, first
    return {
        "alerts": ALERTS,
        "first_pass_s": round(first_s, 3),
        "steady_pass_s": round(sorted(steady)[len(steady) // 2], 3),
        "changed_in_first_pass": first.changed,
    }


def measure(work_dir: Path) -> dict[str, Any]:
    work_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=work_dir, alert_interval=DEFAULT_INTERVAL_S)
    store = Store(settings)
    now = now_ms()
    try:
        store.upgrade()
        seed(store, now)

        async def run() -> dict[str, Any]:
            store.writer.start()
            return await _passes(store, now)

        found = asyncio.run(run())
    finally:
        store.close()
    found["interval_s"] = DEFAULT_INTERVAL_S
    found["share_of_interval"] = round(found["steady_pass_s"] / DEFAULT_INTERVAL_S, 4)
    return found


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="roost-bench-alerts-") as folder:
        found = measure(Path(folder))
    print(
        f"alert evaluation over {found['alerts']:,} alerts: first pass {found['first_pass_s']} s, "
        f"steady pass {found['steady_pass_s']} s = {found['share_of_interval']:.1%} of the "
        f"{found['interval_s']:g} s interval"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
