"""Our own retry policy (the SDK client is built with ``max_retries=0``).

Bounded in attempts and in total time, with jittered exponential backoff; a
server's ``retry-after-ms`` / ``retry-after`` wins when given. After a 429 the
:class:`BackoffGate` holds back every worker sharing it, not just the one that
was told to slow down.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors import Classified, ErrorKind, LaneCallError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # including the first
    max_total_seconds: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: float = 0.25  # a delay is reduced by up to this share, at random

    def delay(self, attempt: int, classified: Classified, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if classified.retry_after is not None:
            return min(classified.retry_after, self.max_delay)
        base = min(self.base_delay * (2.0 ** (attempt - 1)), self.max_delay)
        return base * (1.0 - self.jitter * rng.random())


class BackoffGate:
    """A not-before time shared by all workers: a 429 anywhere slows everyone."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._lock = threading.Lock()
        self._not_before = 0.0
        self.clock = clock
        self.sleep = sleep

    def push(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, self.clock() + seconds)

    def wait(self) -> float:
        """Sleep until the gate opens; returns the seconds slept."""
        with self._lock:
            delay = self._not_before - self.clock()
        if delay > 0:
            self.sleep(delay)
            return delay
        return 0.0


def call_with_retry(
    fn: Callable[[int], T],
    *,
    policy: RetryPolicy,
    gate: BackoffGate,
    on_retry: Callable[[int, Classified, float], None] | None = None,
    rng: random.Random | None = None,
) -> T:
    """Call ``fn(attempt)`` until it returns, or a non-retryable error, or the bounds are hit.

    ``fn`` raises :class:`LaneCallError`; anything else propagates untouched.
    """
    rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    start = gate.clock()
    attempt = 1
    while True:
        gate.wait()
        try:
            return fn(attempt)
        except LaneCallError as exc:
            classified = exc.classified
            if not classified.kind.retryable or attempt >= policy.max_attempts:
                raise
            delay = policy.delay(attempt, classified, rng)
            if gate.clock() - start + delay > policy.max_total_seconds:
                raise
            if classified.kind is ErrorKind.RATE_LIMIT:
                gate.push(delay)  # every worker waits, not only this one
            if on_retry is not None:
                on_retry(attempt, classified, delay)
            if classified.kind is not ErrorKind.RATE_LIMIT:
                gate.sleep(delay)
            attempt += 1
