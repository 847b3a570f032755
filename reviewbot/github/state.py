"""The review state: a hidden, versioned, signed block in the bot's summary comment (DESIGN.md §5a).

The block is an HTML comment holding base64 of the state's canonical JSON (sorted keys,
no spaces, ASCII) and an HMAC-SHA256 over it::

    <!-- reviewbot:state v1 <base64> <hex signature, or "unsigned"> -->

The key is ``REVIEWBOT_STATE_KEY`` when set, else one derived from the security lane's API
key (an HMAC of a fixed label under the API key: the API key itself is never used or shown).

Trust (:func:`load_state`): a block is read only from the summary comment authored by the
bot's own identity; with a key its signature must verify; with no key at all (offline runs)
its head SHA must equal the ``commit_id`` of the bot's latest review. Blocks in anyone else's
comments are ignored, and ignoring them never discards the bot's own genuine block. The
state names its repository and pull request, so a block copied from another PR does not verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..lanes.client import lane_endpoint
from ..models import Confidence, Lane, Severity
from .summary import SUMMARY_MARKER

STATE_VERSION = 1
ENV_STATE_KEY = "REVIEWBOT_STATE_KEY"
_LABEL = b"reviewbot/state-key/v1"
_BLOCK_RE = re.compile(r"<!-- reviewbot:state v(\d+) ([A-Za-z0-9+/=]*) ([0-9a-f]{64}|unsigned) -->")
_ANY_BLOCK_RE = re.compile(r"<!--\s*reviewbot:state\b")
_SHA_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_FP_RE = re.compile(r"[0-9a-f]{8,64}")
_KEY_RE = re.compile(r"[0-9a-f]{16,64}")
# Size bounds: the block stays under ~40,000 characters, leaving room for the summary (65,536 at most).
MAX_OPEN_FINDINGS = 100  # beyond this the state says so and the next run reviews everything
MAX_LISTED = 100  # fingerprints kept in ``posted`` and in ``resolved`` (open findings' first)
MAX_CARRIED = 300  # content keys kept in ``unreviewed`` and in ``escalate``; beyond, the next run reviews all
# The block's JSON, at most: in base64 (40,000 characters) it leaves the summary comment room for the
# report whatever the PR holds (file names are unbounded). A state that does not fit is cut, says so,
# and the next run reviews everything.
MAX_STATE_BYTES = 30_000


@dataclass(frozen=True)
class StateKey:
    """The signing key and where it came from (never the secret it was made from)."""

    key: bytes
    source: str  # "REVIEWBOT_STATE_KEY" or "derived from OPENAI_API_KEY_CYBER", ...

    def __repr__(self) -> str:  # never print key material
        return f"StateKey(source={self.source!r})"


def state_key(env: Mapping[str, str]) -> StateKey | None:
    """``REVIEWBOT_STATE_KEY`` when set, else a key derived from the security lane's API key, else None."""
    explicit = (env.get(ENV_STATE_KEY) or "").strip()
    if explicit:
        return StateKey(hmac.new(explicit.encode(), _LABEL, hashlib.sha256).digest(), ENV_STATE_KEY)
    endpoint = lane_endpoint(Lane.SECURITY, env)
    if endpoint is None:
        return None
    derived = hmac.new(endpoint.api_key.encode(), _LABEL, hashlib.sha256).digest()
    return StateKey(derived, f"derived from {endpoint.key_source}")


@dataclass(frozen=True)
class OpenFinding:
    """A finding an earlier run reported and that was still open when the state was written.

    ``code`` is a hash of the normalised new-side lines it sits on (``lines`` of them), so a
    later run can tell whether that code is still in the pull request's diff.
    """

    fingerprint: str
    rule: str
    severity: Severity
    path: str
    start_line: int
    end_line: int
    code: str
    lines: int
    cwe: str | None = None
    confidence: Confidence = Confidence.MEDIUM
    source: str = "earlier-run"

    def to_json(self) -> dict[str, Any]:
        return {
            "fp": self.fingerprint, "rule": self.rule, "sev": self.severity.label, "path": self.path,
            "start": self.start_line, "end": self.end_line, "code": self.code, "lines": self.lines,
            "cwe": self.cwe, "conf": self.confidence.label, "source": self.source,
        }

    @classmethod
    def from_json(cls, raw: Any) -> OpenFinding:
        obj = _obj(raw, "open finding")
        cwe = obj.get("cwe")
        if cwe is not None and not isinstance(cwe, str):
            raise ValueError("open finding: cwe")
        return cls(
            fingerprint=_match(obj.get("fp"), _FP_RE, "fp"),
            rule=_str(obj.get("rule"), "rule"),
            severity=Severity.parse(_str(obj.get("sev"), "sev")),
            path=_str(obj.get("path"), "path"),
            start_line=_int(obj.get("start"), "start"),
            end_line=_int(obj.get("end"), "end"),
            code=_match(obj.get("code"), _KEY_RE, "code"),
            lines=_int(obj.get("lines"), "lines"),
            cwe=cwe,
            confidence=Confidence.parse(_str(obj.get("conf"), "conf")),
            source=_str(obj.get("source"), "source"),
        )


@dataclass(frozen=True)
class ReviewState:
    """What the bot knows about this pull request after its last run."""

    repository: str
    pull_number: int
    head_sha: str  # the last head reviewed (hunks it left unreviewed are in ``unreviewed``)
    policy_digest: str
    runs: int
    tokens_by_lane: tuple[tuple[str, int], ...]  # cumulative over the PR's runs
    cost_usd: float  # cumulative estimate
    posted: tuple[str, ...]  # fingerprints posted inline, ever
    resolved: tuple[str, ...]  # fingerprints resolved, ever
    open: tuple[OpenFinding, ...]  # findings still open at ``head_sha``
    unreviewed: tuple[str, ...]  # content keys of PR hunks left unreviewed (budget, failures)
    last_state: str = "complete"  # the last run's RunState value
    spend_verified: bool = True  # False: some earlier run's spend could not be verified
    findings_complete: bool = True  # False: ``open`` was cut at MAX_OPEN_FINDINGS
    # Content keys of general-lane hunks the general model escalated whose security review is
    # still owed (it did not fit the budget, or failed): the next run reviews them on the security lane.
    escalate: tuple[str, ...] = ()
    unreviewed_complete: bool = True  # False: ``unreviewed`` / ``escalate`` were cut at MAX_CARRIED

    @property
    def tokens_total(self) -> int:
        return sum(n for _, n in self.tokens_by_lane)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "repo": self.repository,
            "pr": self.pull_number,
            "head": self.head_sha,
            "policy": self.policy_digest,
            "runs": self.runs,
            "tokens": {lane: n for lane, n in self.tokens_by_lane},
            "tokens_total": self.tokens_total,
            "cost_usd": round(self.cost_usd, 6),
            "posted": sorted(set(self.posted)),
            "resolved": sorted(set(self.resolved)),
            "open": [f.to_json() for f in sorted(self.open, key=lambda f: f.fingerprint)],
            "unreviewed": sorted(set(self.unreviewed)),
            "last_state": self.last_state,
            "spend_verified": self.spend_verified,
            "findings_complete": self.findings_complete,
            "escalate": sorted(set(self.escalate)),
            "unreviewed_complete": self.unreviewed_complete,
        }

    @classmethod
    def from_json(cls, raw: Any) -> ReviewState:
        """Strict: every field present with its type, else ValueError.

        ``escalate`` and ``unreviewed_complete`` may be absent (blocks written before they existed).
        """
        obj = _obj(raw, "state")
        if obj.get("v") != STATE_VERSION:
            raise ValueError("state: version")
        tokens = _obj(obj.get("tokens"), "tokens")
        by_lane = tuple(sorted((_str(k, "lane"), _int(v, "tokens")) for k, v in tokens.items()))
        if sum(n for _, n in by_lane) != _int(obj.get("tokens_total"), "tokens_total"):
            raise ValueError("state: tokens_total does not add up")
        cost = obj.get("cost_usd")
        if isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0:
            raise ValueError("state: cost_usd")
        return cls(
            repository=_str(obj.get("repo"), "repo"),
            pull_number=_int(obj.get("pr"), "pr"),
            head_sha=_match(obj.get("head"), _SHA_RE, "head"),
            policy_digest=_str(obj.get("policy"), "policy"),
            runs=_int(obj.get("runs"), "runs"),
            tokens_by_lane=by_lane,
            cost_usd=float(cost),
            posted=tuple(_match(x, _FP_RE, "posted") for x in _list(obj.get("posted"), "posted")),
            resolved=tuple(_match(x, _FP_RE, "resolved") for x in _list(obj.get("resolved"), "resolved")),
            open=tuple(OpenFinding.from_json(x) for x in _list(obj.get("open"), "open")),
            unreviewed=tuple(_match(x, _KEY_RE, "unreviewed") for x in _list(obj.get("unreviewed"), "unreviewed")),
            last_state=_str(obj.get("last_state"), "last_state"),
            spend_verified=_bool(obj.get("spend_verified"), "spend_verified"),
            findings_complete=_bool(obj.get("findings_complete"), "findings_complete"),
            # Absent from blocks written before it existed: nothing owed.
            escalate=tuple(_match(x, _KEY_RE, "escalate") for x in _list(obj.get("escalate", []), "escalate")),
            unreviewed_complete=_bool(obj.get("unreviewed_complete", True), "unreviewed_complete"),
        )


def _obj(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{what}: not an object")
    return raw


def _list(raw: Any, what: str) -> list[Any]:
    if not isinstance(raw, list):
        raise ValueError(f"{what}: not a list")
    return raw


def _str(raw: Any, what: str) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"{what}: not a string")
    return raw


def _int(raw: Any, what: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ValueError(f"{what}: not a whole number")
    return raw


def _bool(raw: Any, what: str) -> bool:
    if not isinstance(raw, bool):
        raise ValueError(f"{what}: not true or false")
    return raw


def _match(raw: Any, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(raw, str) or not pattern.fullmatch(raw):
        raise ValueError(f"{what}: malformed")
    return raw


# ----------------------------------------------------------------------------- encoding


def canonical(state: ReviewState) -> bytes:
    return json.dumps(state.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def fitted(state: ReviewState) -> ReviewState:
    """``state`` cut to :data:`MAX_CARRIED` carried keys and :data:`MAX_STATE_BYTES`, saying what it cut.

    Open findings go first, then carried keys, then the fingerprint lists (each halved until the
    block fits): a cut list marks the state incomplete, so the next run reviews everything, under a
    block that still verifies and still holds the PR's spend.
    """
    if len(state.unreviewed) > MAX_CARRIED or len(state.escalate) > MAX_CARRIED:
        state = replace(
            state,
            unreviewed=tuple(sorted(state.unreviewed)[:MAX_CARRIED]),
            escalate=tuple(sorted(state.escalate)[:MAX_CARRIED]),
            unreviewed_complete=False,
        )
    while len(canonical(state)) > MAX_STATE_BYTES:
        if state.open:
            state = replace(state, open=state.open[: len(state.open) // 2], findings_complete=False)
        elif state.unreviewed or state.escalate:
            state = replace(
                state,
                unreviewed=state.unreviewed[: len(state.unreviewed) // 2],
                escalate=state.escalate[: len(state.escalate) // 2],
                unreviewed_complete=False,
            )
        elif state.posted or state.resolved:
            state = replace(state, posted=state.posted[: len(state.posted) // 2],
                            resolved=state.resolved[: len(state.resolved) // 2])
        else:
            break  # only fixed-size fields are left
    return state


def sign(payload: bytes, key: StateKey) -> str:
    return hmac.new(key.key, b"reviewbot-state-v1\0" + payload, hashlib.sha256).hexdigest()


def render_block(state: ReviewState, key: StateKey | None) -> str:
    """The hidden block for the summary comment (base64 has no ``-`` or ``>``: it cannot end the comment)."""
    payload = canonical(state)
    signature = sign(payload, key) if key is not None else "unsigned"
    return f"<!-- reviewbot:state v{STATE_VERSION} {base64.b64encode(payload).decode('ascii')} {signature} -->"


@dataclass(frozen=True)
class ParsedBlock:
    state: ReviewState
    payload: bytes
    signature: str | None  # None: unsigned


def parse_block(body: str) -> ParsedBlock | str:
    """The one state block in ``body``, or why there is none that can be read."""
    found = _BLOCK_RE.findall(body)
    if not found:
        return "it has no state block" if not _ANY_BLOCK_RE.search(body) else "its state block is unreadable"
    if len(found) > 1:
        return "it holds more than one state block"
    version, b64, signature = found[0]
    if int(version) != STATE_VERSION:
        return f"its state block has version {int(version)}, this reviewbot reads version {STATE_VERSION}"
    try:
        payload = base64.b64decode(b64, validate=True)
        state = ReviewState.from_json(json.loads(payload.decode("ascii")))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError):
        return "its state block is unreadable"
    return ParsedBlock(state, payload, None if signature == "unsigned" else signature)


# ----------------------------------------------------------------------------- trust


@dataclass(frozen=True)
class CommentView:
    """What trust needs to know about an issue comment: who wrote it and what it says."""

    login: str
    body: str


@dataclass(frozen=True)
class LoadedState:
    state: ReviewState | None  # trusted state, or None
    reason: str  # why it is (or is not) trusted, for the summary
    bot_ran_before: bool  # the bot has a summary comment or a review on this PR
    ignored: int = 0  # blocks in comments by other identities (never read)

    @property
    def trusted(self) -> bool:
        return self.state is not None


def load_state(
    comments: Sequence[CommentView],
    *,
    bot_login: str,
    key: StateKey | None,
    latest_review_sha: str | None,
    repository: str,
    pull_number: int,
) -> LoadedState:
    """The trusted state of this pull request, if there is one (see the module's docstring)."""
    me = bot_login.lower()
    ours = [c for c in comments if c.login.lower() == me and c.body.startswith(SUMMARY_MARKER)]
    ignored = sum(1 for c in comments if c.login.lower() != me and _ANY_BLOCK_RE.search(c.body))
    ran_before = bool(ours) or latest_review_sha is not None
    if not ours:
        why = "no earlier review state on this pull request"
        if latest_review_sha is not None:
            why = "the bot has reviewed this pull request before, but its summary comment is gone"
        return LoadedState(None, why, ran_before, ignored)
    parsed = parse_block(ours[0].body)
    if isinstance(parsed, str):
        return LoadedState(None, f"the bot's summary comment cannot be trusted: {parsed}", ran_before, ignored)
    state = parsed.state
    if state.repository.lower() != repository.lower() or state.pull_number != pull_number:
        return LoadedState(None, "the state block names another pull request", ran_before, ignored)
    if key is not None:
        if parsed.signature is None:
            return LoadedState(None, "the state block is unsigned, and this run has a state key", ran_before, ignored)
        if not hmac.compare_digest(parsed.signature, sign(parsed.payload, key)):
            return LoadedState(
                None,
                f"the state block's signature does not verify with the key {key.source} "
                "(the comment was edited, or the key changed)",
                ran_before,
                ignored,
            )
        return LoadedState(state, f"signed state verified ({key.source})", ran_before, ignored)
    if latest_review_sha is None or latest_review_sha != state.head_sha:
        return LoadedState(
            None,
            "with no state key, the state's head SHA must be the commit of the bot's latest review, and it is not",
            ran_before,
            ignored,
        )
    return LoadedState(state, "unsigned state matches the bot's latest review", ran_before, ignored)
