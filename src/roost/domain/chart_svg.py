"""A small, self-contained SVG chart: one or more time-series panels stacked in one image.

Pure: it takes bucketed values and returns SVG text, so READMEs, wikis and e-mail can show a
stat without any script, font or stylesheet from elsewhere. Every piece of text is escaped
(stat names are user input) and stripped of characters XML cannot hold at all.

The image paints its own background, so it stays readable on light and dark pages alike;
browsers that honour ``prefers-color-scheme`` inside images get a dark card on dark systems.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

WIDTH = 720
PANEL_HEIGHT = 220
HEADING_HEIGHT = 40
GAP = 12
PAD = 12  # inside the card, around everything
PLOT_LEFT = 64  # room for the value labels
PLOT_RIGHT = 16
PLOT_TOP = 40  # room for the panel title
PLOT_BOTTOM = 28  # room for the time labels
MAX_TITLE_CHARS = 70
MAX_Y_TICKS = 5
MAX_X_TICKS = 6

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
# Time-label steps, finest first: the first that gives at most MAX_X_TICKS labels is used.
X_STEPS: tuple[int, ...] = (
    MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
    30 * DAY,
    91 * DAY,
    365 * DAY,
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Light colours as attributes (honoured everywhere); the dark set overrides them by CSS only
# where the viewer prefers dark.
LIGHT = {
    "card": "#ffffff",
    "border": "#d5dae1",
    "text": "#1b2330",
    "muted": "#566070",
    "grid": "#e3e7ec",
    "line": "#2b6cd4",
}
DARK_CSS = (
    "@media (prefers-color-scheme: dark){"
    ".card{fill:#151a22;stroke:#323a46}"
    ".text{fill:#e6eaf0}"
    ".muted{fill:#a5aebb}"
    ".grid{stroke:#2a313c}"
    ".line{stroke:#6fa8ff}"
    ".area{fill:#6fa8ff}"
    "}"
)

# Characters XML 1.0 forbids even when escaped (controls other than tab/newline, surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class ChartPanel:
    """One chart: ``values`` are (bucket start ms, value or None for no data), in time order."""

    title: str
    start: int
    end: int
    resolution_ms: int
    values: Sequence[tuple[int, float | None]]
    # Shown instead of the plot, e.g. when the stat is gone; no values also shows a note.
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Chart:
    panels: Sequence[ChartPanel]
    heading: str | None = None  # a dashboard's name above its panels
    caption: str = ""  # e.g. "last 24h · UTC", at the right of every panel title


def clean_text(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """Text safe inside an SVG element: XML-legal, escaped, at most ``limit`` characters."""
    text = _NOT_XML.sub("", text).replace("\n", " ").replace("\t", " ").strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return escape(text, {'"': "&quot;"})


def nice_step(span: float, max_ticks: int) -> float:
    """A 1, 2, 2.5 or 5 times 10**n step giving at most ``max_ticks`` intervals over ``span``."""
    raw = span / max(1, max_ticks)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def value_range(values: Sequence[float]) -> tuple[float, float, float]:
    """Low and high ends of the value axis, on whole steps, and the step itself.

    Zero is on the axis whenever all values share a sign and sit near it: a chart of 98..100
    keeps its detail, but 3..12 requests are drawn from 0 so the area does not exaggerate.
    """
    low, high = min(values), max(values)
    if low >= 0 and low <= high / 2:
        low = 0.0
    elif high <= 0 and high >= low / 2:
        high = 0.0
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        low, high = (low - pad, high + pad) if low != 0 else (0.0, 1.0)
    step = nice_step(high - low, MAX_Y_TICKS - 1)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def format_value(value: float, step: float) -> str:
    """A tick label precise enough to tell neighbours ``step`` apart, with k/M/G/T for large."""
    if abs(value) < step * 1e-9:
        return "0"  # not "-0" nor "1e-17" from summing steps
    if step < 1e-4:
        return f"{value:.3g}"
    scale, suffix = 1.0, ""
    for limit, name in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scale, suffix = limit, name
            break
    scaled_step = step / scale
    decimals = next(
        (d for d in range(7) if abs(round(scaled_step, d) - scaled_step) <= scaled_step * 1e-9), 6
    )
    text = f"{value / scale:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + suffix


def time_step(span_ms: int) -> int:
    for step in X_STEPS:
        if span_ms / step <= MAX_X_TICKS:
            return step
    return X_STEPS[-1]


def format_time(ms: int, step: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if step < DAY:
        return f"{moment.hour:02d}:{moment.minute:02d}"
    if step < 365 * DAY:
        return f"{MONTHS[moment.month - 1]} {moment.day}"
    return str(moment.year)


def _n(value: float) -> str:
    """Coordinates with one decimal: enough on screen, and keeps the text short."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive points with a value; a None breaks the line."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for x, y in points:
        if y is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((x, y))
    if current:
        runs.append(current)
    return runs


def _panel(panel: ChartPanel, top: float, caption: str) -> list[str]:
    left, right = PAD, WIDTH - PAD
    plot_left, plot_right = left + PLOT_LEFT, right - PLOT_RIGHT
    plot_top, plot_bottom = top + PLOT_TOP, top + PANEL_HEIGHT - PLOT_BOTTOM
    muted, text = LIGHT["muted"], LIGHT["text"]
    out = [
        f'<text class="text" x="{left + 12}" y="{_n(top + 24)}" fill="{text}" '
        f'font-size="15" font-weight="600">{clean_text(panel.title)}</text>'
    ]
    if caption:
        out.append(
            f'<text class="muted" x="{right - 12}" y="{_n(top + 24)}" fill="{muted}" '
            f'font-size="11" text-anchor="end">{clean_text(caption, 40)}</text>'
        )
    known = [value for _, value in panel.values if value is not None and math.isfinite(value)]
    if panel.note or not known:
        note = panel.note or "No data in this range"
        out.append(
            f'<text class="muted" x="{_n((plot_left + plot_right) / 2)}" '
            f'y="{_n((plot_top + plot_bottom) / 2)}" fill="{muted}" font-size="13" '
            f'text-anchor="middle">{clean_text(note)}</text>'
        )
        return out
    low, high, step = value_range(known)
    span = max(1, panel.end - panel.start)

    def x_of(ms: float) -> float:
        return plot_left + (ms - panel.start) / span * (plot_right - plot_left)

    def y_of(value: float) -> float:
        return plot_bottom - (value - low) / (high - low) * (plot_bottom - plot_top)

    # Value axis: gridlines with their labels.
    ticks = round((high - low) / step)
    for index in range(ticks + 1):
        value = low + index * step
        y = _n(y_of(value))
        out.append(
            f'<line class="grid" x1="{plot_left}" x2="{plot_right}" y1="{y}" y2="{y}" '
            f'stroke="{LIGHT["grid"]}" stroke-width="1"/>'
        )
        out.append(
            f'<text class="muted" x="{plot_left - 8}" y="{y}" dy="4" fill="{muted}" '
            f'font-size="11" text-anchor="end">{format_value(value, step)}</text>'
        )
    # Time axis: labels on whole steps (UTC), so two charts of one range line up.
    tick_step = time_step(span)
    first = panel.start + (-panel.start) % tick_step
    for ms in range(first, panel.end + 1, tick_step):
        out.append(
            f'<text class="muted" x="{_n(x_of(ms))}" y="{_n(plot_bottom + 18)}" fill="{muted}" '
            f'font-size="11" text-anchor="middle">{format_time(ms, tick_step)}</text>'
        )
    # The line through bucket middles, and the area between it and zero (or the axis end).
    half = panel.resolution_ms / 2
    points = [
        (x_of(ms + half), None if v is None or not math.isfinite(v) else y_of(v))
        for ms, v in panel.values
    ]
    base = _n(y_of(min(max(0.0, low), high)))
    colour = LIGHT["line"]
    for run in _segments(points):
        if len(run) == 1:
            cx, cy = run[0]
            out.append(
                f'<circle class="area" cx="{_n(cx)}" cy="{_n(cy)}" r="2.5" fill="{colour}"/>'
            )
            continue
        line = " ".join(f"{_n(px)},{_n(py)}" for px, py in run)
        out.append(
            f'<path class="area" d="M{_n(run[0][0])},{base} L{line} L{_n(run[-1][0])},{base} Z" '
            f'fill="{colour}" fill-opacity="0.16"/>'
        )
        out.append(
            f'<path class="line" d="M{line}" fill="none" stroke="{colour}" stroke-width="2" '
            'stroke-linejoin="round" stroke-linecap="round"/>'
        )
    return out


def render_svg(chart: Chart) -> str:
    """The whole image as SVG text (UTF-8, no external references)."""
    heading = HEADING_HEIGHT if chart.heading else 0
    count = max(1, len(chart.panels))
    height = PAD * 2 + heading + count * PANEL_HEIGHT + (count - 1) * GAP
    label = chart.heading or (chart.panels[0].title if chart.panels else "Chart")
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif">',
        f'<title id="chart-title">{clean_text(label)}</title>',
        f"<style>{DARK_CSS}</style>",
        f'<rect class="card" x="0.5" y="0.5" width="{WIDTH - 1}" height="{height - 1}" rx="8" '
        f'fill="{LIGHT["card"]}" stroke="{LIGHT["border"]}"/>',
    ]
    top: float = PAD
    if chart.heading:
        body.append(
            f'<text class="text" x="{PAD + 12}" y="{PAD + 24}" fill="{LIGHT["text"]}" '
            f'font-size="18" font-weight="700">{clean_text(chart.heading)}</text>'
        )
        top += heading
    if not chart.panels:
        empty = ChartPanel(title="", start=0, end=1, resolution_ms=1, values=(), note="No charts")
        body.extend(_panel(empty, top, ""))
    for panel in chart.panels:
        body.extend(_panel(panel, top, chart.caption))
        top += PANEL_HEIGHT + GAP
    body.append("</svg>")
    return "\n".join(body) + "\n"
