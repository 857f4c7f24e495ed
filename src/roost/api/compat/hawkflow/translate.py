"""HawkFlow requests → the product-neutral jobs of ``services/processes`` and ``exceptions``."""

from __future__ import annotations

from functools import partial

from roost.api.compat.hawkflow.schemas import ExceptionRequest, MetricsRequest, RunRequest
from roost.domain.processes import ProcessKey
from roost.services import exceptions, processes
from roost.storage.writer import Job


def start_job(request: RunRequest, *, key_hash: str, now: int, retry_window_ms: int) -> Job:
    return partial(
        processes.record_start,
        key_hash=key_hash,
        process=ProcessKey(request.process, request.meta),
        uid=request.uid,
        now=now,
        retry_window_ms=retry_window_ms,
    )


def end_job(request: RunRequest, *, key_hash: str, now: int, retry_window_ms: int) -> Job:
    return partial(
        processes.record_end,
        key_hash=key_hash,
        process=ProcessKey(request.process, request.meta),
        uid=request.uid,
        info=request.info,
        now=now,
        retry_window_ms=retry_window_ms,
    )


def metrics_job(request: MetricsRequest, *, key_hash: str, now: int) -> Job:
    return partial(
        processes.record_metrics,
        key_hash=key_hash,
        process=ProcessKey(request.process, request.meta),
        metrics=request.items,
        now=now,
    )


def exception_job(request: ExceptionRequest, *, key_hash: str, now: int) -> Job:
    return partial(
        exceptions.record_exception,
        key_hash=key_hash,
        process=ProcessKey(request.process, request.meta),
        text=request.exception,
        now=now,
    )
