"""The dispatcher: delivers the notification outbox, outside every request.

Each tick claims due rows (a conditional UPDATE, under the leader lease so one node sends),
then sends each claimed row in its own task and records the outcome when that send ends.
Sends run concurrently and each has its own timeout, so a slow or dead channel holds only
its own rows; the next tick claims new rows while it is still waiting.

A claim carries a lease longer than any send. A node that dies mid-send leaves its rows
claimed until the lease runs out, then they are sent again: delivery is at least once, and
the ``X-Roost-Delivery`` header (the outbox id) lets a receiver drop the rare repeat. A node
that stops normally lets its sends finish and records them first, so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx

from roost.alerting import channels
from roost.domain.times import now_ms, seconds_to_ms
from roost.services import notifications
from roost.services.notifications import Claim, RetryPolicy
from roost.settings import Settings
from roost.storage.store import Store

log = logging.getLogger(__name__)

LEADER_LOCK = "roost-notifications"
# Sends in flight at once on one node; a tick claims no more than the free places.
MAX_IN_FLIGHT = 64
# Threads for Apprise's blocking sends (each bounded by the send timeout).
APPRISE_THREADS = 16
# A claim outlives the longest send by this much before another tick may take the row over.
LEASE_MARGIN_MS = 30_000


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        attempts=settings.notify_attempts,
        first_delay_ms=max(1, seconds_to_ms(settings.notify_retry_first_seconds)),
    )


class Dispatcher:
    def __init__(self, store: Store) -> None:
        self.store = store
        settings = store.settings
        self.policy = retry_policy(settings)
        self.timeout = settings.notify_timeout_seconds
        self.poll_seconds = settings.notify_poll_seconds
        self.lease_ms = 2 * seconds_to_ms(self.timeout) + LEASE_MARGIN_MS
        self._in_flight: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._executor: ThreadPoolExecutor | None = None

    async def run_forever(self) -> None:
        """Tick until cancelled; then let the sends in flight finish and record them."""
        self._client = httpx.AsyncClient(follow_redirects=False)
        self._executor = ThreadPoolExecutor(APPRISE_THREADS, thread_name_prefix="roost-notify")
        try:
            while True:
                try:
                    await self.tick()
                except Exception:  # a failed tick is retried at the next one
                    log.exception("notification dispatch failed")
                await asyncio.sleep(self.poll_seconds)
        finally:
            await self.drain()
            await self._client.aclose()
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def drain(self) -> None:
        """Wait for the sends in flight (bounded: each has its timeout), then cancel stragglers."""
        if self._in_flight:
            _, pending = await asyncio.wait(set(self._in_flight), timeout=self.timeout + 5)
            for task in pending:
                task.cancel()

    async def tick(self) -> int:
        """Claim due rows and start sending them; returns how many were claimed."""
        room = MAX_IN_FLIGHT - len(self._in_flight)
        if room <= 0:
            return 0
        now = now_ms()
        with self.store.leader(LEADER_LOCK) as leading:
            if not leading:  # another node sends
                return 0
            claims: list[Claim] = await self.store.write(
                partial(
                    notifications.claim_due, now=now, lease_until=now + self.lease_ms, limit=room
                )
            )
        for claim in claims:
            task = asyncio.create_task(self._deliver(claim), name=f"roost-notify-{claim.row.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(claims)

    async def _deliver(self, claim: Claim) -> None:
        assert self._client is not None
        outcome = await channels.send(
            kind=claim.channel.kind,
            url=claim.channel.url,
            secret=claim.channel.secret,
            payload=claim.payload,
            delivery=str(claim.row.id),
            attempt=claim.row.attempt,
            time_limit=self.timeout,
            client=self._client,
            executor=self._executor,
        )
        try:
            await self.store.write(
                partial(
                    notifications.record_attempt,
                    claim=claim.row,
                    ok=outcome.ok,
                    error=outcome.error,
                    now=now_ms(),
                    policy=self.policy,
                )
            )
        except Exception:  # the claim's lease runs out and the row is sent again
            log.exception("could not record notification %s", claim.row.id)
