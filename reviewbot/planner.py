"""Budget planning: which hunks go into which model request, within the token budget.

Pure function of its inputs. Security-lane hunks are planned first, then general ones,
each in a simple risk order. Many hunks are packed into few requests per lane (the
fixed prompt dominates small PRs). A hunk over ``budget.max_hunk_tokens`` is clipped at
a line boundary rather than dropped. Every request reserves its estimated input plus
``max_output_tokens``; whatever does not fit the budget becomes a ``SkippedItem`` with
reason ``over-budget``. The sum of the reservations never exceeds the budget.

Escalation (``budget.reserve_for_escalation``): the general lane is planned within the
budget less the escalation reserve, so that hunks the general model escalates can be
reviewed again by the security lane afterwards. The security lane's own hunks are planned
first against the whole budget: the routing rules are the floor, escalation comes on top.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .models import Hunk, Lane, Plan, PlannedRequest, RedactedText, SkippedItem, SkipReason
from .policy.model import Budget

# Languages whose changes carry the most risk come first within a lane.
_CODE_LANGUAGES = frozenset(
    {"c", "cpp", "go", "java", "javascript", "typescript", "python", "ruby", "php", "rust", "shell", "csharp"}
)
LANE_ORDER = (Lane.SECURITY, Lane.GENERAL)
# Hunks are packed into one request until its input reaches this size.
DEFAULT_MAX_REQUEST_INPUT = 24_000
# Tokens added per hunk by its framing in the prompt (path, lane, JSON quoting).
HUNK_FRAMING_TOKENS = 24


@dataclass(frozen=True)
class PlanItem:
    """A routed hunk with its redacted, rendered prompt text (what the model would see)."""

    hunk: Hunk
    lane: Lane
    text: RedactedText  # rendered hunk text, one element per hunk line, joined by "\n"
    fixed_tokens: int = 0  # the hunk's framing that clipping cannot shrink (its path, ...)
    # What the hunk adds, once, to the fixed part of any request holding it (the instructions'
    # note on condensed dependency hunks): not part of the hunk, never clipped against its limit.
    request_tokens: int = 0


def _with_margin(tokens: int) -> int:
    """The hunk text is sent inside a JSON string: escaped quotes and backslashes cost a little more."""
    return tokens + tokens // 20 + 1


def risk_key(item: PlanItem) -> tuple[int, int, str, int]:
    """Code before config and docs; bigger additions first; then path and position."""
    hunk = item.hunk
    code = 0 if hunk.language in _CODE_LANGUAGES else 1
    return (code, -hunk.added, hunk.path, hunk.new_start)


def escalation_reserve(budget: Budget, budget_tokens: int) -> int:
    """Tokens of ``budget_tokens`` the general lane leaves for escalations (a share, rounded down)."""
    return max(0, min(budget_tokens, int(budget_tokens * budget.reserve_for_escalation)))


def _request_id(lane: Lane, hunk_ids: Sequence[str]) -> str:
    digest = hashlib.sha256(("\0".join((lane.value, *hunk_ids))).encode()).hexdigest()
    return f"r-{lane.value}-{digest[:12]}"


@dataclass
class _OpenRequest:
    lane: Lane
    hunk_ids: list[str]
    input_tokens: int
    clipped: list[str]
    clip_at: list[tuple[str, int]]
    extra: int = 0  # the largest ``request_tokens`` of its items, already counted in input_tokens


def _clip(item: PlanItem, limit: int, count: Callable[[str], int]) -> tuple[int, int]:
    """(tokens, lines kept) for the longest line-prefix of the hunk within ``limit`` tokens."""
    lines = item.text.split("\n")
    low, high = 1, len(lines)
    best = (count(lines[0]), 1)
    while low <= high:  # binary search on the number of lines kept
        mid = (low + high) // 2
        tokens = count("\n".join(lines[:mid]))
        if tokens <= limit:
            best = (tokens, mid)
            low = mid + 1
        else:
            high = mid - 1
    return best


def plan(
    items: Sequence[PlanItem],
    *,
    budget: Budget,
    budget_tokens: int,
    count: Callable[[str], int],
    prompt_overhead: Mapping[Lane, int],
    estimator: str,
    max_request_input: int = DEFAULT_MAX_REQUEST_INPUT,
    reserve_for_escalation: int = 0,
) -> Plan:
    """Pack routed hunks into requests within ``budget_tokens`` (input + reserved output).

    General-lane requests stay within ``budget_tokens - reserve_for_escalation``.
    """
    max_output = budget.max_output_tokens_per_call
    requests: list[PlannedRequest] = []
    skipped: list[SkippedItem] = []
    reserved = 0

    for lane in LANE_ORDER:
        lane_items = sorted((i for i in items if i.lane is lane), key=risk_key)
        overhead = prompt_overhead.get(lane, 0)
        held = reserve_for_escalation if lane is Lane.GENERAL else 0
        cap = max(0, budget_tokens - held)
        current: _OpenRequest | None = None

        def close(req: _OpenRequest | None) -> None:
            if req is None or not req.hunk_ids:
                return
            requests.append(
                PlannedRequest(
                    id=_request_id(req.lane, req.hunk_ids),
                    lane=req.lane,
                    hunk_ids=tuple(req.hunk_ids),
                    estimated_input_tokens=req.input_tokens,
                    max_output_tokens=max_output,
                    clipped=tuple(req.clipped),
                    clip_at=tuple(req.clip_at),
                )
            )

        for item in lane_items:
            hunk = item.hunk
            framing = HUNK_FRAMING_TOKENS + item.fixed_tokens
            tokens = _with_margin(count(item.text)) + framing
            kept: int | None = None
            hunk_limit = min(budget.max_hunk_tokens, max_request_input)
            if tokens > hunk_limit:
                clipped_tokens, kept = _clip(item, hunk_limit - framing, lambda t: _with_margin(count(t)))
                tokens = clipped_tokens + framing
            joined = tokens + (max(0, item.request_tokens - current.extra) if current is not None else 0)
            fits_current = (
                current is not None
                and current.input_tokens + joined <= max_request_input
                and reserved + joined <= cap
            )
            if fits_current:
                assert current is not None
                current.hunk_ids.append(hunk.id)
                current.input_tokens += joined
                current.extra = max(current.extra, item.request_tokens)
                reserved += joined
            elif reserved + overhead + item.request_tokens + tokens + max_output <= cap:
                close(current)
                opened = overhead + item.request_tokens + tokens
                current = _OpenRequest(lane, [hunk.id], opened, [], [], item.request_tokens)
                reserved += opened + max_output
            else:
                skipped.append(
                    SkippedItem(
                        path=hunk.path,
                        reason=SkipReason.OVER_BUDGET,
                        detail=f"needs ~{tokens} tokens; the run budget of {budget_tokens} is spent"
                        + (f" ({held} kept for escalations)" if held else ""),
                        hunk_id=hunk.id,
                        lane=lane,
                    )
                )
                continue
            if kept is not None:
                current.clipped.append(hunk.id)
                current.clip_at.append((hunk.id, kept))
        close(current)

    return Plan(
        requests=tuple(requests),
        skipped=tuple(sorted(skipped, key=SkippedItem.sort_key)),
        budget_tokens=budget_tokens,
        estimator=estimator,
        escalation_reserve=reserve_for_escalation,
    )
