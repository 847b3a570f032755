"""The review state block: encoding, signing, and which blocks are trusted (DESIGN.md §5a)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from reviewbot.github.state import (
    ENV_STATE_KEY,
    CommentView,
    LoadedState,
    OpenFinding,
    ReviewState,
    StateKey,
    canonical,
    load_state,
    parse_block,
    render_block,
    state_key,
)
from reviewbot.github.summary import SUMMARY_MARKER
from reviewbot.models import Severity

BOT = "github-actions[bot]"
REPO = "octo/demo"
HEAD = "1" * 40
OTHER = "2" * 40
API_KEY = "sk-proj-state-0123456789abcdef"

STATE = ReviewState(
    repository=REPO, pull_number=7, head_sha=HEAD, policy_digest="d" * 16, runs=2,
    tokens_by_lane=(("general", 300), ("security", 1200)), cost_usd=0.0123, posted=("a" * 32,),
    resolved=("b" * 32,),
    open=(OpenFinding("a" * 32, "SQL Injection", Severity.HIGH, "src/a.py", 3, 3, "c" * 16, 1, "CWE-89"),),
    unreviewed=("e" * 16,),
)
KEY = state_key({ENV_STATE_KEY: "team-secret"})
assert KEY is not None


def summary(state: ReviewState = STATE, key: StateKey | None = KEY, extra: str = "") -> str:
    return f"{SUMMARY_MARKER}\n{render_block(state, key)}\n## reviewbot security review\n{extra}"


def load(comments: list[CommentView], *, key: StateKey | None = KEY, latest: str | None = None) -> LoadedState:
    return load_state(comments, bot_login=BOT, key=key, latest_review_sha=latest,
                      repository=REPO, pull_number=7)


def test_round_trip_is_canonical_and_hidden() -> None:
    block = render_block(STATE, KEY)
    assert block.startswith("<!-- reviewbot:state v1 ") and block.endswith(" -->")
    assert "--" not in block[4:-3]  # nothing inside can end the HTML comment early
    parsed = parse_block(f"text\n{block}\nmore")
    assert not isinstance(parsed, str) and parsed.state == STATE
    assert canonical(STATE) == canonical(ReviewState.from_json(json.loads(canonical(STATE))))
    assert STATE.tokens_total == 1500


def test_key_from_state_key_else_derived_from_the_security_lane_key_never_the_key_itself() -> None:
    explicit = state_key({ENV_STATE_KEY: "team-secret", "OPENAI_API_KEY": API_KEY})
    derived = state_key({"OPENAI_API_KEY": API_KEY})
    cyber = state_key({"OPENAI_API_KEY": API_KEY, "OPENAI_API_KEY_CYBER": API_KEY + "x"})
    assert explicit is not None and explicit.source == ENV_STATE_KEY
    assert derived is not None and derived.source == "derived from OPENAI_API_KEY"
    assert cyber is not None and cyber.source == "derived from OPENAI_API_KEY_CYBER"
    assert API_KEY.encode() not in derived.key and derived.key != explicit.key != cyber.key
    assert API_KEY not in repr(derived) and state_key({ENV_STATE_KEY: "", "OPENAI_API_KEY": ""}) is None
    assert API_KEY not in render_block(STATE, derived)


def _forged_payload(state: ReviewState) -> str:
    return base64.b64encode(canonical(state)).decode()


EDITED = summary().replace(_forged_payload(STATE), _forged_payload(replace(STATE, tokens_by_lane=())))


@pytest.mark.parametrize(
    ("comments", "key", "latest", "trusted", "why"),
    [
        ([CommentView(BOT, summary())], KEY, None, True, "signed state verified"),
        # the bot's genuine block holds even when someone else posts a block too
        ([CommentView("mallory", summary(replace(STATE, runs=0, tokens_by_lane=()))), CommentView(BOT, summary())],
         KEY, None, True, "signed state verified"),
        # a block by another identity, alone: ignored
        ([CommentView("mallory", summary())], KEY, None, False, "no earlier review state"),
        # the bot's comment edited by a collaborator: the signature no longer verifies
        ([CommentView(BOT, EDITED)], KEY, None, False, "does not verify"),
        ([CommentView(BOT, summary(key=None))], KEY, None, False, "unsigned"),
        ([CommentView(BOT, summary(key=state_key({ENV_STATE_KEY: "other"})))], KEY, None, False, "does not verify"),
        ([CommentView(BOT, summary(replace(STATE, pull_number=8)))], KEY, None, False, "another pull request"),
        ([CommentView(BOT, f"{SUMMARY_MARKER}\n<!-- reviewbot:state v1 !!! unsigned -->")], KEY, None, False,
         "unreadable"),
        ([CommentView(BOT, f"{SUMMARY_MARKER}\nno block")], KEY, None, False, "no state block"),
        ([CommentView(BOT, summary() + render_block(STATE, KEY))], KEY, None, False, "more than one"),
        # no key at all: the SHA must be the commit of the bot's latest review
        ([CommentView(BOT, summary(key=None))], None, HEAD, True, "latest review"),
        ([CommentView(BOT, summary(key=None))], None, OTHER, False, "latest review"),
        ([CommentView(BOT, summary(key=None))], None, None, False, "latest review"),
        ([], KEY, HEAD, False, "summary comment is gone"),
    ],
)
def test_which_blocks_are_trusted(
    comments: list[CommentView], key: StateKey | None, latest: str | None, trusted: bool, why: str
) -> None:
    loaded = load(comments, key=key, latest=latest)
    assert loaded.trusted is trusted
    assert why in loaded.reason


def test_bot_ran_before_and_ignored_count() -> None:
    loaded = load([CommentView("mallory", summary()), CommentView("Github-Actions[bot]", summary())])
    assert loaded.bot_ran_before and loaded.ignored == 1 and loaded.trusted
    assert not load([]).bot_ran_before
    assert load([], latest=HEAD).bot_ran_before


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(v=2),
        lambda d: d.update(tokens_total=1),  # does not add up
        lambda d: d.update(head="not-a-sha"),
        lambda d: d.update(runs=-1),
        lambda d: d.update(runs=True),
        lambda d: d.pop("open"),
        lambda d: d["open"][0].update(sev="urgent"),
        lambda d: d.update(posted=["<img src=x>"]),
    ],
)
def test_strict_parsing_rejects_malformed_states(mutate: Callable[[dict[str, Any]], object]) -> None:
    data = STATE.to_json()
    mutate(data)
    b64 = base64.b64encode(json.dumps(data).encode()).decode()
    assert isinstance(parse_block(f"<!-- reviewbot:state v1 {b64} unsigned -->"), str)
