"""Sign-in attempts limited per e-mail address and per client address, in memory.

A sliding window of failed attempts: after ``limit`` failures within ``window_s`` seconds the
key is refused until the oldest failure leaves the window. Kept in this process's memory, so
several servers behind one balancer each count on their own (a shared table would fix that).
"""

from __future__ import annotations

import threading
import time
from collections import deque

# Keys remembered at most; the oldest are dropped first so a flood of addresses cannot grow
# memory without bound.
MAX_KEYS = 50_000


class AttemptLimiter:
    def __init__(self, *, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        found = self._failures.get(key)
        if found is None:
            return deque()
        while found and found[0] <= now - self.window_s:
            found.popleft()
        if not found:
            del self._failures[key]
        return found

    def retry_after(self, *keys: str) -> int:
        """Seconds until an attempt is allowed for every key (0: allowed now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                if len(recent) >= self.limit:
                    wait = max(wait, recent[0] + self.window_s - now)
        return int(wait) + 1 if wait > 0 else 0

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now)
                if key not in self._failures and len(self._failures) >= MAX_KEYS:
                    self._failures.pop(next(iter(self._failures)))
                self._failures.setdefault(key, deque()).append(now)

    def succeed(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
