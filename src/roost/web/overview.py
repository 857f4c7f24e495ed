"""The project home's short overview: what needs a look now.

Runs failing (a process whose last run failed, was abandoned or ended without a start),
alerts firing, exception groups first seen in the last 24 h, and sessions with errors in
the last 24 h. Each list is short and links to the page that has the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from roost.domain.processes import RunStatus
from roost.domain.times import DAY
from roost.services import alerts as alert_service
from roost.services import exceptions as exception_service
from roost.services import processes as process_service
from roost.services import trace_queries
from roost.services.processes import ProcessSummary
from roost.storage.alerts import AlertRow
from roost.storage.events import SessionQuery, SessionRow
from roost.storage.exceptions import GroupRow

SHOWN = 5
# Processes looked at for failing runs (newest first); the processes page has them all.
PROCESSES_READ = 100
GROUPS_READ = 200
FAILING = {RunStatus.FAILED.value, RunStatus.ABANDONED.value, RunStatus.ORPHAN_END.value}


@dataclass(frozen=True, slots=True)
class Overview:
    failing: list[ProcessSummary]
    firing: list[AlertRow]
    new_groups: list[GroupRow]
    error_sessions: list[SessionRow]

    @property
    def empty(self) -> bool:
        return not (self.failing or self.firing or self.new_groups or self.error_sessions)


def read(conn: Connection, *, project_id: int, now: int) -> Overview:
    summaries = process_service.list_processes(
        conn, project_id=project_id, name=None, before=None, limit=PROCESSES_READ
    )
    failing = [s for s in summaries if s.last_run is not None and s.last_run.status in FAILING]
    firing = alert_service.list_alerts(
        conn, project_id=project_id, before=None, limit=SHOWN, states=["firing"]
    )
    groups = exception_service.list_groups(
        conn,
        project_id=project_id,
        statuses=None,
        process_name=None,
        before=None,
        limit=GROUPS_READ,
    )
    sessions = trace_queries.list_sessions(
        conn,
        project_id=project_id,
        query=SessionQuery(start=float(now - DAY), has_error=True, limit=SHOWN),
    )
    return Overview(
        failing=failing[:SHOWN],
        firing=firing,
        new_groups=[g for g in groups if g.first_seen >= now - DAY][:SHOWN],
        error_sessions=sessions.items,
    )
