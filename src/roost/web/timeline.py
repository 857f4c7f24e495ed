"""Server-drawn SVG pieces of the run and exception pages: a run timeline and a histogram.

Both are plain SVG shapes with attributes (no inline style, no script), so the strict CSP
holds and the picture is there before any JavaScript runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from roost.domain.times import DAY, HOUR
from roost.storage.runs import RunRow

WIDTH = 1000  # the SVG's own units; it scales to the page width
# The narrowest bar drawn, so a one-second run among day-long ones is still visible.
MIN_BAR = 3.0


# Overlapping runs go to separate lanes (a long running run would hide the others), up to
# this many; more overlap shares the last lane.
MAX_LANES = 4
LANE_HEIGHT = 14
LANE_GAP = 4


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: int
    width: float
    status: str
    label: str  # the bar's <title>: what a hover (and a screen reader) gets


@dataclass(frozen=True, slots=True)
class Timeline:
    start: int
    end: int
    bars: list[Bar]
    height: int
    lane_height: int = LANE_HEIGHT


def _lane(ends: list[float], x: float, width: float) -> int:
    """The first lane free at ``x`` (a little gap kept), taking it up to ``x + width``."""
    for index, end in enumerate(ends):
        if x >= end + 1:
            ends[index] = x + width
            return index
    if len(ends) < MAX_LANES:
        ends.append(x + width)
        return len(ends) - 1
    ends[-1] = max(ends[-1], x + width)
    return len(ends) - 1


def _run_span(run: RunRow, now: int) -> tuple[int, int]:
    if run.started_at is None:  # an orphan end: only its end is known
        end = run.ended_at if run.ended_at is not None else run.seen_at
        return end, end
    if run.ended_at is not None:
        return run.started_at, run.ended_at
    if run.status == "running":
        return run.started_at, now
    return run.started_at, run.started_at  # abandoned: its end was never seen


def run_timeline(runs: list[RunRow], now: int) -> Timeline | None:
    """Bars for ``runs`` on one time axis, from the first start to the last end."""
    if not runs:
        return None
    spans = [_run_span(run, now) for run in runs]
    start = min(s for s, _ in spans)
    end = max(e for _, e in spans)
    width = max(1, end - start)
    bars = []
    ends: list[float] = []
    # Oldest first, so lanes fill in time order.
    for run, (s, e) in sorted(zip(runs, spans, strict=True), key=lambda pair: pair[1]):
        x = (s - start) / width * WIDTH
        w = max(MIN_BAR, (e - s) / width * WIDTH)
        x = min(x, WIDTH - w)
        y = _lane(ends, x, w) * (LANE_HEIGHT + LANE_GAP)
        took = f"{run.duration_ms:,} ms" if run.duration_ms is not None else "no duration"
        uid = f" {run.uid}" if run.uid else ""
        label = f"Run{uid}: {run.status}, {took}"
        bars.append(Bar(round(x, 2), y, round(w, 2), run.status, label))
    height = len(ends) * (LANE_HEIGHT + LANE_GAP) - LANE_GAP
    return Timeline(start, end, bars, height)


@dataclass(frozen=True, slots=True)
class Histogram:
    start: int
    end: int
    step: int
    bars: list[tuple[float, float, int]]  # x, height (0..1), count
    most: int


def occurrences_histogram(times: list[int], now: int, span: int = 14 * DAY) -> Histogram:
    """Occurrences per bucket over the last ``span`` (hourly for a day, else daily)."""
    step = HOUR if span <= DAY else DAY
    end = now - now % step + step
    start = end - span
    counts = [0] * (span // step)
    for ts in times:
        if start <= ts < end:
            counts[(ts - start) // step] += 1
    most = max(counts) if counts else 0
    slot = WIDTH / len(counts)
    bars = [
        (round(i * slot, 2), count / most if most else 0.0, count) for i, count in enumerate(counts)
    ]
    return Histogram(start, end, step, bars, most)
