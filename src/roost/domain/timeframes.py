"""StatHat timeframes: a duration and a bucket interval, ``1w3h`` or ``1 week @ 3 hours``.

Each part is a positive count and a unit: ``m`` minute, ``h`` hour, ``d`` day, ``w`` week,
``M`` month (30 days) and ``y`` year (365 days). Case matters in the compact form (``m`` is a
minute, ``M`` a month); the spelled form uses words, singular or plural, in any case.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from roost.domain.times import DAY, HOUR, MAX_MS, MINUTE, MONTH, WEEK, YEAR

UNIT_MS: dict[str, int] = {"m": MINUTE, "h": HOUR, "d": DAY, "w": WEEK, "M": MONTH, "y": YEAR}
UNIT_WORDS: dict[str, str] = {
    "m": "minute",
    "h": "hour",
    "d": "day",
    "w": "week",
    "M": "month",
    "y": "year",
}
_WORD_UNITS = {word: unit for unit, word in UNIT_WORDS.items()}

# StatHat's export answers at most this many points per dataset.
MAX_POINTS = 10_000
# A century at most: every bucket time stays inside the years Roost can store.
MAX_DURATION_MS = 100 * YEAR
MAX_COUNT = 10_000_000
DEFAULT = "1w3h"

# [0-9], not \d: \d also matches other scripts' digits.
_COMPACT = re.compile(r"^([0-9]{1,8})([mhdwMy])([0-9]{1,8})([mhdwMy])$")
_SPELLED = re.compile(r"^([0-9]{1,8}) *([A-Za-z]+) *@ *([0-9]{1,8}) *([A-Za-z]+)$")


class InvalidTimeframe(ValueError):
    """Not a timeframe, an interval longer than the duration, or too many points."""


@dataclass(frozen=True, slots=True)
class Timeframe:
    duration: int
    duration_unit: str
    interval: int
    interval_unit: str

    @property
    def duration_ms(self) -> int:
        return self.duration * UNIT_MS[self.duration_unit]

    @property
    def interval_ms(self) -> int:
        return self.interval * UNIT_MS[self.interval_unit]

    @property
    def buckets(self) -> int:
        """How many intervals cover the duration (the last one may reach past it)."""
        return math.ceil(self.duration_ms / self.interval_ms)

    def compact(self) -> str:
        return f"{self.duration}{self.duration_unit}{self.interval}{self.interval_unit}"

    def spelled(self) -> str:
        """``1 week @ 3 hours``: the ``timeframe`` string of an export dataset."""
        duration = _spell(self.duration, self.duration_unit)
        return f"{duration} @ {_spell(self.interval, self.interval_unit)}"

    def window(self, now_ms: int, start_ms: int | None = None) -> tuple[int, int]:
        """(first bucket start, bucket count), in milliseconds.

        Without ``start`` the last bucket ends with the current minute (StatHat's export is
        minute-aligned, not interval-aligned); with it, buckets run forward from its minute.
        """
        span = self.buckets * self.interval_ms
        if start_ms is None:
            end = now_ms - now_ms % MINUTE + MINUTE
            return end - span, self.buckets
        first = start_ms - start_ms % MINUTE
        if first < 0 or first + span > MAX_MS:
            raise InvalidTimeframe("invalid start")
        return first, self.buckets


def _spell(count: int, unit: str) -> str:
    word = UNIT_WORDS[unit]
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _unit_of_word(word: str) -> str | None:
    lowered = word.lower()
    return _WORD_UNITS.get(lowered.removesuffix("s")) if lowered else None


def parse_timeframe(raw: object) -> Timeframe:
    """``1w3h``, ``1d15m``, ``1 week @ 3 hours`` …; raises InvalidTimeframe."""
    if not isinstance(raw, str) or len(raw) > 64:
        raise InvalidTimeframe("invalid timeframe")
    text = raw.strip()
    match = _COMPACT.match(text)
    if match:
        duration, duration_unit, interval, interval_unit = match.groups()
    else:
        match = _SPELLED.match(text)
        if not match:
            raise InvalidTimeframe("invalid timeframe")
        duration, word, interval, interval_word = match.groups()
        found, found_interval = _unit_of_word(word), _unit_of_word(interval_word)
        if found is None or found_interval is None:
            raise InvalidTimeframe("invalid timeframe")
        duration_unit, interval_unit = found, found_interval
    frame = Timeframe(int(duration), duration_unit, int(interval), interval_unit)
    check(frame)
    return frame


def check(frame: Timeframe) -> None:
    """The limits every timeframe obeys, however it was made."""
    if not (0 < frame.duration <= MAX_COUNT and 0 < frame.interval <= MAX_COUNT):
        raise InvalidTimeframe("invalid timeframe")
    if frame.interval_ms > frame.duration_ms or frame.duration_ms > MAX_DURATION_MS:
        raise InvalidTimeframe("invalid timeframe")
    if frame.buckets > MAX_POINTS:
        raise InvalidTimeframe("invalid timeframe")


def of_buckets(count: int, unit: str) -> Timeframe:
    """``<count><unit>1<unit>``: ``count`` buckets one ``unit`` wide (what the importer asks)."""
    frame = Timeframe(count, unit, 1, unit)
    check(frame)
    return frame
