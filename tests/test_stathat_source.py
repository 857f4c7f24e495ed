"""The import's client for a StatHat export API: backoff, refusals and odd answers.

httpx's MockTransport answers in process, and the backoff's sleeps are recorded instead of
slept, so the schedule itself is checked. (The same paths run against real servers, a faulty
proxy included, in test_stathat_import.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from roost.domain.timeframes import of_buckets
from roost.services.stathat_source import (
    ImportFailed,
    SourceStat,
    StatFailed,
    StatHatSource,
    parse_stat,
)

Handler = Callable[[httpx.Request], httpx.Response]


def source(handler: Handler, slept: list[float], attempts: int = 4) -> StatHatSource:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return StatHatSource(
        "http://stathat.test",
        "tok/en",
        timeout=1.0,
        attempts=attempts,
        transport=httpx.MockTransport(handler),
        sleep=sleep,
    )


def test_5xx_429_and_timeouts_are_retried_with_doubling_backoff() -> None:
    answers = iter(
        [
            httpx.Response(503),
            httpx.Response(429),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json=[{"id": "a", "name": "x", "counter": True}]),
        ]
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    slept: list[float] = []

    async def work() -> list[object]:
        async with source(handler, slept) as client:
            return await client.statlist(offset=0)

    assert asyncio.run(work()) == [{"id": "a", "name": "x", "counter": True}]
    assert slept == [0.5, 1.0, 2.0]
    assert seen[0] == "http://stathat.test/x/tok%2Fen/statlist?offset=0"


def test_a_source_that_stays_down_fails_the_import_without_quoting_the_token() -> None:
    slept: list[float] = []

    async def work() -> None:
        async with source(lambda request: httpx.Response(502), slept, attempts=3) as client:
            await client.statlist(offset=0)

    with pytest.raises(ImportFailed) as failed:
        asyncio.run(work())
    assert str(failed.value) == (
        "the StatHat source http://stathat.test answered HTTP 502, 3 tries in a row"
    )
    assert slept == [0.5, 1.0]


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_refused_token_fails_at_once(status: int) -> None:
    slept: list[float] = []

    async def work() -> None:
        answer = httpx.Response(status, json={"msg": "invalid access token"})
        async with source(lambda request: answer, slept) as client:
            await client.statlist(offset=0)

    with pytest.raises(ImportFailed, match=rf"refused the access token \(HTTP {status}: invalid"):
        asyncio.run(work())
    assert slept == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"points": [{"time": "soon", "value": 1}]}',
        b'{"points": [{"time": 60, "value": true}]}',
        b'[{"points": []}, {"points": []}]',
        b'{"name": "no points"}',
    ],
)
def test_an_answer_that_makes_no_sense_fails_only_its_stat(body: bytes) -> None:
    async def work() -> None:
        async with source(lambda request: httpx.Response(200, content=body), []) as client:
            await client.dataset("a", of_buckets(2, "m"), 60_000)

    with pytest.raises(StatFailed):
        asyncio.run(work())


def test_a_dataset_is_read_as_bucket_starts_in_milliseconds() -> None:
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        points = [{"time": 60, "value": 2}, {"time": 120, "value": 0.5}]
        return httpx.Response(200, json=[{"name": "x", "timeframe": "…", "points": points}])

    async def work() -> list[tuple[int, float]]:
        async with source(handler, []) as client:
            return await client.dataset("id 7", of_buckets(2, "m"), 60_000)

    assert asyncio.run(work()) == [(60_000, 2.0), (120_000, 0.5)]
    assert asked[0].url.raw_path.startswith(b"/x/tok%2Fen/data/id%207?")
    assert dict(asked[0].url.params) == {"t": "2m1m", "start": "60"}


def test_statlist_entries_are_checked() -> None:
    assert parse_stat(
        {"id": 12, "name": "n", "counter": False, "classic_key": "k", "data_received_at": 60}
    ) == SourceStat("12", "n", False, "k", 60_000)
    for bad in (None, [], {"name": "n", "counter": True}, {"id": "a", "name": 5, "counter": 1}):
        assert parse_stat(bad) is None
