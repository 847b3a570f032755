"""The JSON report's writer is exactly ``json.dumps(..., sort_keys=True, indent=2, ensure_ascii=False)``."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from reviewbot.report.jsonout import dumps_indented

_SCALARS: list[Any] = [
    None, True, False, 0, -3, 2**70, 1.5, float("nan"), float("inf"), 1e-9,
    "", 'a\nb"\\', "é\u2028\x00", "xxx", "\ud800", "[REDACTED:github-pat:1]",
]


def _value(rng: random.Random, depth: int) -> Any:
    r = rng.random()
    if depth > 4 or r < 0.4:
        return rng.choice(_SCALARS)
    if r < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if r < 0.75:
        return tuple(_value(rng, depth + 1) for _ in range(rng.randint(0, 3)))
    keys = ["a", "b", "zz", "é", "A", "", "hash"]
    return {rng.choice(keys) + str(rng.randint(0, 3)): _value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


@pytest.mark.parametrize("seed", range(5))
def test_same_bytes_as_json_dumps(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(2000):
        value = _value(rng, 0)
        assert dumps_indented(value) == json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


@pytest.mark.parametrize(
    "value",
    [{1: "a", 2: [1, 2]}, {True: [1], False: {None: [2]}}, {"k": {2.5: [1]}}, [{3: {"a": [1]}}], {"e": [], "d": {}}],
)
def test_keys_json_converts(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


def test_not_serialisable_still_raises() -> None:
    with pytest.raises(TypeError):
        dumps_indented({"a": object()})
    with pytest.raises(TypeError):
        dumps_indented({"a": [1, {"b": object()}]})
