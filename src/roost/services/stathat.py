"""StatHat compatibility: EZ and classic ingest, and the export API's reads and deletes.

A StatHat stat is an unlabelled series: the export API lists, finds and deletes only those, so
HawkFlow metrics and other labelled series (whose names may repeat) stay out of its view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from roost.domain import keys as key_rules
from roost.domain.errors import InvalidInput, KindConflict, NotFound, RoostError, Unauthorized
from roost.domain.keys import Scope
from roost.domain.stats import Kind, PointGroup
from roost.services import access
from roost.services.stats import IngestResult, record_groups
from roost.storage import import_ledger as ledger
from roost.storage import points as point_store
from roost.storage import series as series_store
from roost.storage.series import SeriesRow
from roost.storage.writer import WriteTx

# StatHat's statlist answers this many stats per call; ?offset= pages on.
STATLIST_PAGE = 10_000
MAX_DATASETS = 100


def kind_field(kind: Kind) -> str:
    """StatHat says a point's kind by its field: ``count`` or ``value``."""
    return "count" if kind is Kind.COUNTER else "value"


# -- ingest ----------------------------------------------------------------------------------


def record_ez(
    tx: WriteTx,
    *,
    ezkey: str,
    groups: Sequence[PointGroup],
    now: int,
    field_prefix: str | None = None,
) -> IngestResult | RoostError:
    """The ``/ez`` job: the ezkey (an API key or an alias of one), then the batch path.

    With ``field_prefix`` (a JSON bulk post) a mismatched item is reported and skipped;
    without it the request succeeds or fails whole, ``~`` expansion included.
    """
    try:
        principal = access.authenticate_ezkey_in(tx, ezkey).require(Scope.WRITE)
    except RoostError as exc:
        return exc
    result = record_groups(
        tx,
        project_id=principal.project_id,
        groups=groups,
        now=now,
        field_prefix=field_prefix,
        kind_field=kind_field,
    )
    if isinstance(result, RoostError) and len(groups) > 1:
        raise result  # an earlier group may have made a stat: the writer rolls the job back
    return result


def record_classic(
    tx: WriteTx,
    *,
    ukey: str,
    classic_key: str,
    kind: Kind,
    value: float,
    ts: int,
    now: int,
) -> RoostError | None:
    """The ``/c`` and ``/v`` job: ``ukey`` names the project, ``key`` the stat.

    An unknown key is first tried as a stat name, then creates a stat of that name (and that
    classic key) with the endpoint's kind.
    """
    if not key_rules.KEY_PATTERN.match(ukey):
        return Unauthorized("invalid ukey")
    try:
        principal = access.authenticate_in(tx, key_rules.hash_key(ukey)).require(Scope.WRITE)
    except Unauthorized:
        return Unauthorized("invalid ukey")
    except RoostError as exc:
        return exc
    row = _classic_series(tx, principal.project_id, classic_key, kind, now)
    if row.kind != kind.value:
        return KindConflict(kind_field(kind), row.name, row.kind)
    tx.points.add(principal.project_id, row.id, ts, value)
    return None


def _classic_series(tx: WriteTx, project_id: int, key: str, kind: Kind, now: int) -> SeriesRow:
    memo_key = ("classic", project_id, key)
    found: SeriesRow | None = tx.memo.get(memo_key)
    if found is None:
        found = series_store.find_series_by_classic_key(
            tx.conn, project_id=project_id, classic_key=key
        ) or series_store.get_or_create_series(
            tx.conn,
            project_id=project_id,
            name=key,
            kind=kind.value,
            created_at=now,
            classic_key=key,
        )
        tx.memo[memo_key] = found
    return found


# -- export ----------------------------------------------------------------------------------


def list_stats(conn: Connection, *, project_id: int, offset: int) -> list[SeriesRow]:
    return series_store.list_series(
        conn, project_id=project_id, offset=offset, limit=STATLIST_PAGE, labels_key=""
    )


def find_stat(conn: Connection, *, project_id: int, name: str) -> SeriesRow:
    row = series_store.find_series(conn, project_id=project_id, name=name)
    if row is None:
        raise NotFound("stat not found")
    return row


def get_stats(conn: Connection, *, project_id: int, stat_ids: Sequence[int]) -> list[SeriesRow]:
    """The stats in the order asked; an unknown id (or another project's) is NotFound."""
    if len(stat_ids) > MAX_DATASETS:
        raise InvalidInput("ids", f"at most {MAX_DATASETS} stats per request")
    found: list[SeriesRow] = []
    for stat_id in stat_ids:
        row = series_store.get_series(conn, project_id=project_id, series_id=stat_id)
        if row is None or row.labels_key != "":
            raise NotFound("stat not found")
        found.append(row)
    return found


def delete_stat(tx: WriteTx, *, project_id: int, stat_id: int) -> RoostError | None:
    """Delete a stat with all its data (and what imports noted about it)."""
    row = series_store.get_series(tx.conn, project_id=project_id, series_id=stat_id)
    if row is None or row.labels_key != "":
        return NotFound("stat not found")
    series_store.delete_series(tx.conn, project_id=project_id, series_id=stat_id)
    ledger.delete_imported_buckets(tx.conn, project_id=project_id, series_id=stat_id)
    return None


@dataclass(frozen=True, slots=True)
class Window:
    """Bucket starts ``first + i * interval`` for ``i < count``, in milliseconds."""

    first: int
    count: int
    interval: int

    @property
    def end(self) -> int:
        return self.first + self.count * self.interval


def read_points(
    conn: Connection, *, project_id: int, stats: Sequence[SeriesRow], window: Window
) -> list[tuple[int, float]]:
    """(bucket start, value) of every bucket, summed over ``stats``; empty buckets are 0.

    Counters add up per bucket; values average over every point of every stat in it. One stat
    is the usual case; several make the ``summary`` dataset.
    """
    if len({row.kind for row in stats}) > 1:
        raise InvalidInput("summary", "needs stats of one kind")
    counts: dict[int, int] = {}
    sums: dict[int, float] = {}
    for row in stats:
        for bucket, count, total, _, _ in point_store.read_buckets_from(
            conn,
            project_id=project_id,
            series_id=row.id,
            start=window.first,
            end=window.end,
            interval=window.interval,
        ):
            counts[bucket] = counts.get(bucket, 0) + count
            sums[bucket] = sums.get(bucket, 0.0) + total
    is_counter = not stats or stats[0].kind == Kind.COUNTER.value
    values: list[tuple[int, float]] = []
    for index in range(window.count):
        time = window.first + index * window.interval
        count = counts.get(time, 0)
        if count <= 0:
            values.append((time, 0.0))
        else:
            values.append((time, sums[time] if is_counter else sums[time] / count))
    return values
