"""The links between HawkFlow runs and trace sessions, which no single API shows.

A trace session belongs to a run when its user properties name it: ``run_uid`` (the run's
uid) or ``process`` (the process name) with the session starting while the run was open.
Everything is read within the viewer's project, so a link never leads into another one.
"""

from __future__ import annotations

import orjson
from sqlalchemy import Connection

from roost.services import processes as process_service
from roost.services import trace_queries
from roost.storage.events import SessionQuery, SessionRow, property_text
from roost.storage.runs import ProcessRow, RunRow

RUN_UID = "run_uid"
PROCESS = "process"
MAX_SESSIONS = 50


def _run_window(run: RunRow, now: int) -> tuple[int, int]:
    start = run.started_at if run.started_at is not None else run.seen_at
    end = run.ended_at if run.ended_at is not None else now
    return start, end


def sessions_of_run(
    conn: Connection, *, project_id: int, run: RunRow, process: ProcessRow, now: int
) -> list[SessionRow]:
    """Sessions tagged with the run's uid, then those of its process while it ran."""
    found: dict[str, SessionRow] = {}
    if run.uid:
        tagged = trace_queries.list_sessions(
            conn,
            project_id=project_id,
            query=SessionQuery(
                properties=((RUN_UID, property_text(run.uid) or run.uid),), limit=MAX_SESSIONS
            ),
        )
        found.update((row.session_id, row) for row in tagged.items)
    start, end = _run_window(run, now)
    during = trace_queries.list_sessions(
        conn,
        project_id=project_id,
        query=SessionQuery(
            start=float(start),
            end=float(end + 1),
            properties=((PROCESS, property_text(process.name) or process.name),),
            limit=MAX_SESSIONS,
        ),
    )
    for row in during.items:
        found.setdefault(row.session_id, row)
    return sorted(found.values(), key=lambda row: row.start_time)[:MAX_SESSIONS]


def run_of_session(conn: Connection, *, project_id: int, session: SessionRow) -> RunRow | None:
    """The run a session names through its user properties, if the project has it."""
    if session.event is None:
        return None
    try:
        properties = orjson.loads(session.event.user_properties)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(properties, dict):
        return None
    uid = properties.get(RUN_UID)
    if isinstance(uid, str | int) and str(uid):
        tagged = process_service.runs_with_uid(conn, project_id=project_id, uid=str(uid), limit=1)
        if tagged:
            return tagged[0]
    name = properties.get(PROCESS)
    if not isinstance(name, str) or not name:
        return None
    candidates = process_service.list_processes(
        conn, project_id=project_id, name=name, before=None, limit=50
    )
    started = int(session.start_time)
    for summary in candidates:
        if summary.process.name != name:
            continue
        runs = process_service.list_runs(
            conn,
            project_id=project_id,
            process_id=summary.process.id,
            statuses=None,
            start=None,
            end=started + 1,
            before=None,
            limit=1,
        )
        if runs:
            begin, end = _run_window(runs[0], started)
            if begin <= started <= end:
                return runs[0]
    return None
