"""Time in Roost: UTC everywhere, unix milliseconds inside, ISO 8601 or unix seconds outside.

Also resolutions (``1m``, ``5m``, ``1h`` …) and bucket alignment, so every surface rounds the
same way.
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime

MS = 1
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
# StatHat's month and year, used only for bucket arithmetic.
MONTH = 30 * DAY
YEAR = 365 * DAY

# Case matters: StatHat uses ``m`` for minutes and ``M`` for months.
UNITS: dict[str, int] = {
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
    "d": DAY,
    "w": WEEK,
    "M": MONTH,
    "y": YEAR,
}
_DURATION = re.compile(r"^\s*(\d{1,9})\s*([smhdwMy])\s*$")

# Candidate resolutions for automatic choice, finest first.
AUTO_LADDER: tuple[int, ...] = (
    10 * SECOND,
    30 * SECOND,
    MINUTE,
    5 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    WEEK,
    MONTH,
    YEAR,
)

# Years 1970..9999 keep every computation inside datetime's range.
MIN_MS = 0
MAX_MS = 253_402_300_799_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def seconds_to_ms(seconds: float) -> int:
    if not math.isfinite(seconds):
        raise ValueError("must be a finite number")
    ms = round(seconds * 1000)
    if not MIN_MS <= ms <= MAX_MS:
        raise ValueError("is out of range (1970 to 9999)")
    return ms


def parse_time(value: object) -> int:
    """Parse unix seconds (number or numeric string) or ISO 8601 into unix milliseconds.

    A naive ISO time is taken as UTC; a date alone means its midnight UTC.
    """
    if isinstance(value, bool):
        raise ValueError("must be ISO 8601 or unix seconds")
    if isinstance(value, int | float):
        return seconds_to_ms(float(value))
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValueError("must be ISO 8601 or unix seconds")
    text = value.strip()
    try:
        return seconds_to_ms(float(text))
    except ValueError:
        pass
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be ISO 8601 or unix seconds") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return seconds_to_ms(parsed.timestamp())


def format_iso(ms: int) -> str:
    """ISO 8601 in UTC with a ``Z``; milliseconds only when there are some."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if ms % 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_duration(text: str) -> int:
    """``<count><unit>`` (s, m, h, d, w, M, y) into milliseconds; raises ValueError."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError("must look like 10s, 1m, 5m, 1h, 1d or 1w")
    count = int(match.group(1))
    if count == 0:
        raise ValueError("must be greater than zero")
    return count * UNITS[match.group(2)]


def format_duration(ms: int) -> str:
    """The shortest ``<count><unit>`` spelling of a duration (inverse of parse_duration)."""
    for unit, size in sorted(UNITS.items(), key=lambda item: -item[1]):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def auto_resolution(span_ms: int, max_buckets: int = 1000) -> int:
    """The finest resolution from the ladder that covers ``span_ms`` in at most max_buckets."""
    for resolution in AUTO_LADDER:
        if math.ceil(span_ms / resolution) <= max_buckets:
            return resolution
    return AUTO_LADDER[-1]


def align_range(from_ms: int, to_ms: int, resolution_ms: int) -> tuple[int, int]:
    """Round a half-open range [from, to) outward to whole buckets aligned on the epoch.

    Aligning on the epoch (not on ``from``) is what lets a query read the roll-up tables:
    a 1-hour bucket then always starts on the hour, exactly like the 1h roll-up rows.
    """
    start = from_ms - from_ms % resolution_ms
    end = to_ms if to_ms % resolution_ms == 0 else to_ms - to_ms % resolution_ms + resolution_ms
    return start, max(end, start + resolution_ms)
