"""The per-run token ledger: a call is sent only if its worst case fits what remains.

Before a call, :meth:`Ledger.reserve` takes ``estimated input + max_output_tokens``
from the remainder (atomically: workers run in parallel) or refuses. After it,
:meth:`Ledger.settle` charges the usage the server reported (failed and retried
attempts too; probes too) and returns the rest of the reservation.

Charged tokens are ``input_tokens + output_tokens`` (cached input counts in full:
a budget is never undercounted). If a server reports more than was reserved the
ledger charges the truth, records the overrun, and refuses every further
reservation: a run never knowingly spends past its budget twice.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from ..audit import AuditLog
from ..models import Usage


@dataclass(frozen=True)
class Reservation:
    id: int
    tokens: int
    lane: str
    purpose: str  # "probe", "review", "repair", ...


@dataclass(frozen=True)
class LedgerSnapshot:
    budget: int
    charged: int
    reserved: int  # held by calls in flight
    overrun: int  # tokens charged beyond what their calls had reserved
    stopped: bool
    calls: int
    by_lane: tuple[tuple[str, Usage], ...]

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.charged - self.reserved)


class Ledger:
    def __init__(self, budget_tokens: int, *, audit: AuditLog | None = None) -> None:
        if budget_tokens < 0:
            raise ValueError("budget_tokens must be >= 0")
        self.budget = budget_tokens
        self._audit = audit
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._open: dict[int, Reservation] = {}
        self._charged = 0
        self._overrun = 0
        self._stopped = False
        self._calls = 0
        self._by_lane: dict[str, Usage] = {}

    def reserve(self, tokens: int, *, lane: str, purpose: str) -> Reservation | None:
        """Hold ``tokens`` for one call, or None when they do not fit (the call must not be sent)."""
        if tokens < 0:
            raise ValueError("tokens must be >= 0")
        with self._lock:
            held = sum(r.tokens for r in self._open.values())
            if self._stopped or self._charged + held + tokens > self.budget:
                return None
            reservation = Reservation(next(self._ids), tokens, lane, purpose)
            self._open[reservation.id] = reservation
            return reservation

    def settle(self, reservation: Reservation, usage: Usage | None) -> None:
        """Charge the reported usage (None: the server reported none) and release the reservation."""
        charged = usage.total if usage is not None else 0
        with self._lock:
            if self._open.pop(reservation.id, None) is None:
                raise ValueError(f"reservation {reservation.id} is not open")
            self._charged += charged
            self._calls += 1
            overrun = max(0, charged - reservation.tokens)
            if overrun:
                self._overrun += overrun
                self._stopped = True
            if usage is not None:
                self._by_lane[reservation.lane] = self._by_lane.get(reservation.lane, Usage()) + usage
            remaining = self.budget - self._charged - sum(r.tokens for r in self._open.values())
        if self._audit is not None:
            self._audit.append(
                "budget.charge",
                lane=reservation.lane,
                purpose=reservation.purpose,
                reserved=reservation.tokens,
                charged=charged,
                overrun=overrun,
                remaining=max(0, remaining),
            )

    def snapshot(self) -> LedgerSnapshot:
        with self._lock:
            return LedgerSnapshot(
                budget=self.budget,
                charged=self._charged,
                reserved=sum(r.tokens for r in self._open.values()),
                overrun=self._overrun,
                stopped=self._stopped,
                calls=self._calls,
                by_lane=tuple(sorted(self._by_lane.items())),
            )
