"""A client for a StatHat-compatible export API (``<base>/x/<token>/…``), used by imports.

Every request is bounded by a timeout; a 5xx, 429, timeout or broken connection is retried with
backoff doubling from half a second, a bounded number of times. The access token is part of
every URL, so no message here ever quotes a URL or an httpx error text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import quote

import httpx
import msgspec

from roost.domain.timeframes import Timeframe

BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 30.0
MAX_STAT_ID = 100


class ImportFailed(Exception):
    """The import cannot go on: the token was refused, or the source stayed unavailable."""


class StatFailed(Exception):
    """One stat cannot be imported (gone at the source, or an answer that makes no sense)."""


@dataclass(frozen=True, slots=True)
class SourceStat:
    id: str
    name: str
    counter: bool
    classic_key: str | None
    received_at: int | None  # data_received_at, in milliseconds


class StatHatSource:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float,
        attempts: int,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url
        self._attempts = attempts
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            base_url=f"{base_url}/x/{quote(token, safe='')}",
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json"},
        )

    async def __aenter__(self) -> StatHatSource:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        delay = BACKOFF_START_S
        for attempt in range(1, self._attempts + 1):
            try:
                response = await self._client.get(path, params=params)
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.TransportError as exc:
                problem = f"could not be reached ({type(exc).__name__})"
            else:
                if response.status_code < 500 and response.status_code != 429:
                    return response
                problem = f"answered HTTP {response.status_code}"
            if attempt == self._attempts:
                raise ImportFailed(
                    f"the StatHat source {self.base_url} {problem}, {attempt} tries in a row"
                )
            await self._sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
        raise AssertionError("unreachable")

    def _refused(self, response: httpx.Response) -> ImportFailed:
        return ImportFailed(
            f"the StatHat source {self.base_url} refused the access token "
            f"(HTTP {response.status_code}{_reason(response)})"
        )

    async def statlist(self, offset: int) -> list[object]:
        """One page of the stat list, as the source sent it (checked by ``parse_stat``)."""
        response = await self._get("/statlist", {"offset": offset})
        if response.status_code in (401, 403, 404):
            raise self._refused(response)
        if response.status_code != 200:
            raise ImportFailed(
                f"the StatHat source {self.base_url} answered the stat list with "
                f"HTTP {response.status_code}{_reason(response)}"
            )
        try:
            found = _json(response)
        except StatFailed:
            found = None
        if not isinstance(found, list):
            raise ImportFailed(
                f"the StatHat source {self.base_url} sent a stat list that is not a list"
            )
        return found

    async def dataset(
        self, stat_id: str, frame: Timeframe, start_ms: int
    ) -> list[tuple[int, float]]:
        """(bucket start in ms, value) of one stat over ``frame`` from ``start_ms``."""
        response = await self._get(
            f"/data/{quote(stat_id, safe='')}", {"t": frame.compact(), "start": start_ms // 1000}
        )
        if response.status_code in (401, 403):
            raise self._refused(response)
        if response.status_code != 200:
            raise StatFailed(f"the source answered HTTP {response.status_code}{_reason(response)}")
        try:
            datasets = _datasets.decode(response.content)
        except msgspec.MsgspecError:
            raise StatFailed("the source sent a dataset without numeric points") from None
        if isinstance(datasets, list):
            if len(datasets) != 1:
                raise StatFailed(f"the source sent {len(datasets)} datasets for one stat")
            datasets = datasets[0]
        return [(round(point.time * 1000), point.value) for point in datasets.points]


# A dataset as the export API sends it, decoded and type-checked in C: the thousands of points
# of one answer would otherwise cost more to check than to store.
class _Point(msgspec.Struct):
    time: float
    value: float


class _Dataset(msgspec.Struct):
    points: list[_Point]


_datasets = msgspec.json.Decoder(list[_Dataset] | _Dataset)


def parse_stat(item: object) -> SourceStat | None:
    """A statlist entry; None when it lacks what an import needs."""
    if not isinstance(item, dict):
        return None
    stat_id, name, counter = item.get("id"), item.get("name"), item.get("counter")
    if isinstance(stat_id, int) and not isinstance(stat_id, bool):
        stat_id = str(stat_id)
    if not isinstance(stat_id, str) or not 0 < len(stat_id) <= MAX_STAT_ID:
        return None
    if not isinstance(name, str) or not isinstance(counter, bool):
        return None
    classic_key = item.get("classic_key")
    received = item.get("data_received_at")
    return SourceStat(
        id=stat_id,
        name=name,
        counter=counter,
        classic_key=classic_key if isinstance(classic_key, str) and classic_key else None,
        received_at=round(float(received) * 1000) if _is_number(received) else None,
    )


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise StatFailed("the source sent a body that is not JSON") from None


def _reason(response: httpx.Response) -> str:
    """``: <msg>`` from a ``{"msg": …}`` error body, kept short; empty otherwise."""
    try:
        message = response.json().get("msg")
    except (ValueError, AttributeError):
        return ""
    return f": {message[:200]}" if isinstance(message, str) and message else ""
