"""StatFlow-style stats: record points, list stats, read bucketed series, export."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from roost.domain.errors import InvalidInput, KindConflict, NotFound, RoostError
from roost.domain.keys import Scope
from roost.domain.stats import Kind, PointGroup
from roost.domain.times import align_range, auto_resolution, parse_duration, parse_time
from roost.services.access import authenticate_in
from roost.services.messages import add_points
from roost.storage import annotations as annotation_store
from roost.storage import points as point_store
from roost.storage import series as series_store
from roost.storage.annotations import AnnotationRow
from roost.storage.series import SeriesRow
from roost.storage.writer import WriteTx

DEFAULT_SPAN_MS = 24 * 3600 * 1000
MAX_BUCKETS = 10_000
AUTO_MAX_BUCKETS = 1000


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: int
    rejected: tuple[tuple[int, str], ...]  # (index, reason) per refused item


def series_for(tx: WriteTx, project_id: int, stat: str, kind: Kind, now: int) -> SeriesRow:
    """The stat's series, created with ``kind`` if new; memoised for the transaction."""
    memo_key = ("series", project_id, stat)
    found: SeriesRow | None = tx.memo.get(memo_key)
    if found is None:
        found = series_store.get_or_create_series(
            tx.conn, project_id=project_id, name=stat, kind=kind.value, created_at=now
        )
        tx.memo[memo_key] = found
    return found


def record_points(
    tx: WriteTx,
    *,
    key_hash: str,
    groups: Sequence[PointGroup],
    now: int,
    field_prefix: str | None = None,
) -> IngestResult | RoostError:
    """The ingest job: authenticate, then buffer every point whose kind matches its stat.

    With ``field_prefix`` (batch ingest) a mismatched item is reported and skipped; without
    it (single ingest) the mismatch is the request's error. Failures found before anything is
    written are returned, not raised, so the writer need not replay the batch.
    """
    try:
        principal = authenticate_in(tx, key_hash).require(Scope.WRITE)
    except RoostError as exc:
        return exc
    return record_groups(
        tx, project_id=principal.project_id, groups=groups, now=now, field_prefix=field_prefix
    )


def record_groups(
    tx: WriteTx,
    *,
    project_id: int,
    groups: Sequence[PointGroup],
    now: int,
    field_prefix: str | None = None,
    kind_field: str | Callable[[Kind], str] = "type",
) -> IngestResult | RoostError:
    """Buffer the points of an authenticated request (``record_points`` after its key check).

    ``kind_field`` names the field a kind mismatch is reported on: StatFlow's ``type``, or a
    function of the point's kind for surfaces that say it another way. Without
    ``field_prefix`` every group is checked before any point is buffered, so a mismatch
    returned here left no point behind (a new stat of an earlier group may have been made: a
    caller with several groups raises the error instead, and the writer rolls its job back).
    """
    rejected: list[tuple[int, str]] = []
    accepted = 0
    rows = [series_for(tx, project_id, group.stat, group.kind, now) for group in groups]
    for group, row in zip(groups, rows, strict=True):
        if row.kind != group.kind.value:
            field = kind_field if isinstance(kind_field, str) else kind_field(group.kind)
            if field_prefix is None:
                return KindConflict(field, group.stat, row.kind)
            rejected.extend(
                (index, str(KindConflict(f"{field_prefix}[{index}].{field}", group.stat, row.kind)))
                for index in group.indices
            )
    for group, row in zip(groups, rows, strict=True):
        if row.kind == group.kind.value:
            tx.points.extend_series(project_id, row.id, group.times, group.values)
            # ActiveWorkflow: one "points" message per stat per transaction.
            add_points(
                tx,
                project_id=project_id,
                series_id=row.id,
                name=row.name,
                times=group.times,
                values=group.values,
                now=now,
            )
            accepted += len(group.indices)
    return IngestResult(accepted, tuple(sorted(rejected)))


def list_stats(conn: Connection, *, project_id: int) -> list[SeriesRow]:
    return series_store.list_series(conn, project_id=project_id)


def get_stat(conn: Connection, *, project_id: int, stat_id: int) -> SeriesRow:
    row = series_store.get_series(conn, project_id=project_id, series_id=stat_id)
    if row is None:
        raise NotFound("stat not found")
    return row


# (bucket start in ms, value, count, min, max): the value is the sum for a counter (0 when
# empty) and the mean for a value stat (None when empty); min and max are None when empty.
BucketValue = tuple[int, float | None, int, float | None, float | None]


@dataclass(frozen=True, slots=True)
class SeriesData:
    stat: SeriesRow
    start: int
    end: int
    resolution_ms: int
    buckets: list[BucketValue]
    annotations: list[AnnotationRow]


@dataclass(frozen=True, slots=True)
class TimeQuery:
    start: int
    end: int
    resolution_ms: int


def parse_range(
    *, from_: str | None, to: str | None, now: int, default_span: int = DEFAULT_SPAN_MS
) -> tuple[int, int]:
    """Validate a half-open [from, to) range; ``to`` defaults to now, ``from`` to a span before."""
    try:
        end = parse_time(to) if to not in (None, "") else now
    except ValueError as exc:
        raise InvalidInput("to", str(exc)) from None
    try:
        start = parse_time(from_) if from_ not in (None, "") else max(0, end - default_span)
    except ValueError as exc:
        raise InvalidInput("from", str(exc)) from None
    if start >= end:
        raise InvalidInput("from", "must be earlier than to")
    return start, end


def parse_time_query(
    *, from_: str | None, to: str | None, resolution: str | None, now: int
) -> TimeQuery:
    """Validate from/to/resolution; round outward to whole epoch-aligned buckets."""
    start, end = parse_range(from_=from_, to=to, now=now)
    if resolution in (None, "", "auto"):
        resolution_ms = auto_resolution(end - start, AUTO_MAX_BUCKETS)
    else:
        try:
            resolution_ms = parse_duration(resolution)
        except ValueError as exc:
            raise InvalidInput("resolution", str(exc)) from None
    start, end = align_range(start, end, resolution_ms)
    if (end - start) // resolution_ms > MAX_BUCKETS:
        raise InvalidInput(
            "resolution", f"gives more than {MAX_BUCKETS} buckets; choose a coarser one"
        )
    return TimeQuery(start, end, resolution_ms)


def read_series(conn: Connection, *, project_id: int, stat_id: int, query: TimeQuery) -> SeriesData:
    stat = get_stat(conn, project_id=project_id, stat_id=stat_id)
    found = {
        bucket[0]: bucket
        for bucket in point_store.read_buckets(
            conn,
            project_id=project_id,
            series_id=stat_id,
            start=query.start,
            end=query.end,
            resolution_ms=query.resolution_ms,
        )
    }
    is_counter = stat.kind == Kind.COUNTER.value
    empty = 0.0 if is_counter else None
    buckets: list[BucketValue] = []
    append = buckets.append
    for time in range(query.start, query.end, query.resolution_ms):
        hit = found.get(time)
        if hit is None:
            append((time, empty, 0, None, None))
        else:
            _, count, total, low, high = hit
            append((time, total if is_counter else total / count, count, low, high))
    notes = annotation_store.list_annotations(
        conn, project_id=project_id, start=query.start, end=query.end, series_id=stat_id
    )
    return SeriesData(stat, query.start, query.end, query.resolution_ms, buckets, notes)
