"""StatHat timeframes (``1w3h``, ``1 week @ 3 hours``): examples, then properties by Hypothesis."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from roost.domain.timeframes import (
    MAX_COUNT,
    MAX_DURATION_MS,
    MAX_POINTS,
    UNIT_MS,
    UNIT_WORDS,
    InvalidTimeframe,
    Timeframe,
    of_buckets,
    parse_timeframe,
)
from roost.domain.times import DAY, HOUR, MINUTE, WEEK

UNITS = sorted(UNIT_MS)
NOW = 1_795_438_914_123  # 2026-11-23T10:21:54.123Z


@pytest.mark.parametrize(
    ("text", "spelled", "interval", "buckets"),
    [
        ("1w3h", "1 week @ 3 hours", 3 * HOUR, 56),
        ("1d15m", "1 day @ 15 minutes", 15 * MINUTE, 96),
        ("20m10m", "20 minutes @ 10 minutes", 10 * MINUTE, 2),
        ("30m1m", "30 minutes @ 1 minute", MINUTE, 30),
        ("1h1m", "1 hour @ 1 minute", MINUTE, 60),
        ("1M1d", "1 month @ 1 day", DAY, 30),
        ("1y1w", "1 year @ 1 week", WEEK, 53),  # 365 days: the last week reaches past it
        (" 1 week @ 3 hours ", "1 week @ 3 hours", 3 * HOUR, 56),
        ("2 Weeks @ 1 DAY", "2 weeks @ 1 day", DAY, 14),
        ("10000m1m", "10000 minutes @ 1 minute", MINUTE, 10_000),
    ],
)
def test_known_timeframes_parse_to_their_interval_and_bucket_count(
    text: str, spelled: str, interval: int, buckets: int
) -> None:
    frame = parse_timeframe(text)
    assert frame.spelled() == spelled
    assert frame.interval_ms == interval
    assert frame.buckets == buckets


def test_lower_case_m_is_a_minute_and_upper_case_m_a_month() -> None:
    assert parse_timeframe("1M1h").buckets == 30 * 24
    with pytest.raises(InvalidTimeframe):
        parse_timeframe("1h1M")  # a month is longer than an hour


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1w",
        "w3h",
        "1x3h",
        "0w3h",
        "1w0h",
        "-1w3h",
        "1h2h",  # interval longer than the duration
        "10001m1m",  # one point too many
        "1y1m",
        "101y1y",  # longer than a century
        "1 fortnight @ 1 day",
        "1 week 3 hours",
        "1.5w3h",
        "1w3h1m",
        "\uff11w3h",  # a full-width digit one is not a digit here
    ],
)
def test_malformed_and_oversized_timeframes_are_refused(text: str) -> None:
    with pytest.raises(InvalidTimeframe):
        parse_timeframe(text)


def test_a_window_without_start_ends_with_the_current_minute() -> None:
    first, count = parse_timeframe("1h15m").window(NOW)
    end = NOW - NOW % MINUTE + MINUTE
    assert count == 4
    assert first == end - HOUR
    assert first % MINUTE == 0  # minute-aligned, not interval-aligned


def test_a_window_with_start_runs_forward_from_its_minute() -> None:
    minute = 1_700_000_040_000  # 2023-11-14T22:14:00Z
    first, count = parse_timeframe("1d1h").window(NOW, start_ms=minute + 12_345)
    assert (first, count) == (minute, 24)
    with pytest.raises(InvalidTimeframe):
        parse_timeframe("1d1h").window(NOW, start_ms=-MINUTE)


# -- properties ------------------------------------------------------------------------------

units = st.sampled_from(UNITS)
counts = st.integers(min_value=1, max_value=20_000)


@st.composite
def timeframes(draw: st.DrawFn) -> Timeframe:
    """Any valid timeframe."""
    interval_unit = draw(units)
    interval = draw(st.integers(min_value=1, max_value=500))
    interval_ms = interval * UNIT_MS[interval_unit]
    duration_unit = draw(units)
    unit_ms = UNIT_MS[duration_unit]
    lowest = math.ceil(interval_ms / unit_ms)
    highest = min(min(MAX_POINTS * interval_ms, MAX_DURATION_MS) // unit_ms, MAX_COUNT)
    assume(lowest <= highest)
    duration = draw(st.integers(min_value=lowest, max_value=highest))
    return Timeframe(duration, duration_unit, interval, interval_unit)


@given(timeframes())
def test_the_compact_and_spelled_forms_round_trip(frame: Timeframe) -> None:
    assert parse_timeframe(frame.compact()) == frame
    assert parse_timeframe(frame.spelled()) == frame
    assert parse_timeframe(frame.spelled().upper()) == frame


@given(timeframes())
def test_buckets_cover_the_duration_and_never_exceed_the_limit(frame: Timeframe) -> None:
    assert 1 <= frame.buckets <= MAX_POINTS
    assert frame.buckets * frame.interval_ms >= frame.duration_ms
    assert (frame.buckets - 1) * frame.interval_ms < frame.duration_ms


@given(timeframes(), st.integers(min_value=0, max_value=4_000_000_000_000))
def test_windows_are_minute_aligned_and_as_long_as_their_buckets(
    frame: Timeframe, now: int
) -> None:
    first, count = frame.window(now)
    assert count == frame.buckets
    assert first % MINUTE == 0
    assert first + count * frame.interval_ms == now - now % MINUTE + MINUTE


@given(units, counts, units, counts)
@example("m", 10_001, "m", 1)
@example("m", 1, "h", 1)
def test_any_compact_timeframe_parses_exactly_when_it_obeys_the_limits(
    duration_unit: str, duration: int, interval_unit: str, interval: int
) -> None:
    text = f"{duration}{duration_unit}{interval}{interval_unit}"
    duration_ms = duration * UNIT_MS[duration_unit]
    interval_ms = interval * UNIT_MS[interval_unit]
    valid = (
        interval_ms <= duration_ms <= MAX_DURATION_MS
        and math.ceil(duration_ms / interval_ms) <= MAX_POINTS
    )
    if valid:
        assert parse_timeframe(text).buckets == math.ceil(duration_ms / interval_ms)
    else:
        with pytest.raises(InvalidTimeframe):
            parse_timeframe(text)


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_is_refused_but_never_crashes(text: str) -> None:
    try:
        frame = parse_timeframe(text)
    except InvalidTimeframe:
        return
    assert frame.buckets <= MAX_POINTS
    assert frame.spelled().split(" @ ")[0].split(" ")[1].rstrip("s") in UNIT_WORDS.values()


@given(st.integers(min_value=1, max_value=MAX_POINTS), st.sampled_from(["m", "h", "d"]))
def test_the_importers_frames_ask_for_exactly_their_bucket_count(count: int, unit: str) -> None:
    frame = of_buckets(count, unit)
    assert frame.buckets == count
    assert parse_timeframe(frame.compact()) == frame
