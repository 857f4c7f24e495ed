"""Processes and their runs: the product-neutral side of HawkFlow-style monitoring.

A process is a (name, meta) pair; a run is one start/end pair of it. Metrics and exceptions are
reported against a process too. Everything here is pure: the matching rules that need the
database live in ``services/processes.py``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import orjson

from roost.domain.portable import compact_pickle

MAX_NAME = 250
MAX_META = 500
MAX_UID = 50
MAX_INFO = 15_000
MAX_EXCEPTION = 15_000
MAX_METRIC_NAME = 250
MAX_METRICS = 50


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    # Closed, but an exception was reported for the process while it ran.
    FAILED = "failed"
    # An end that matched no open run: kept, so a lost start is visible.
    ORPHAN_END = "orphan_end"
    # Open for longer than the configured limit; its end was never seen.
    ABANDONED = "abandoned"


CLOSED_STATUSES = (RunStatus.OK, RunStatus.FAILED)


class ExceptionStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # reopens on the next occurrence
    IGNORED = "ignored"  # stays quiet whatever comes


@compact_pickle
@dataclass(frozen=True, slots=True)
class ProcessKey:
    name: str
    meta: str = ""

    @property
    def ident(self) -> str:
        """A fixed-length identity: (name, meta) can be 750 characters, too long to index."""
        return hashlib.sha256(f"{self.name}\x00{self.meta}".encode()).hexdigest()

    def labels(self, derived: str | None = None) -> dict[str, str]:
        """Labels of the process's series. Derived series (run durations, exception counts)
        carry one more label, so no metric a client names can ever land in them."""
        labels = {"process": self.name, "meta": self.meta}
        if derived is not None:
            labels["derived"] = derived
        return labels

    def labels_key(self, derived: str | None = None) -> str:
        return labels_key(self.labels(derived))


def labels_key(labels: dict[str, str]) -> str:
    """Canonical JSON of a label set, the form series are unique by."""
    return orjson.dumps(labels, option=orjson.OPT_SORT_KEYS).decode() if labels else ""


@compact_pickle
@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    value: float


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linear-interpolated percentile of an ascending sequence (None when empty)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
