"""The README's policy examples and the documented outputs cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from reviewbot.github import outputs as outputs_mod
from reviewbot.policy import parse_policy
from reviewbot.policy.schema import policy_schema

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", README, re.S)
# A workflow snippet (the Action's usage) is YAML too, but not a policy.
WORKFLOW_KEYS = {"on", "jobs", "steps", "permissions", "uses"}
POLICY_BLOCKS = [b for b in YAML_BLOCKS if not WORKFLOW_KEYS & set(yaml.safe_load(b) or {})]


def test_the_readme_has_policy_examples() -> None:
    assert len(POLICY_BLOCKS) >= 2 and len(POLICY_BLOCKS) < len(YAML_BLOCKS)


@pytest.mark.parametrize("block", POLICY_BLOCKS)
def test_every_policy_example_in_the_readme_is_valid(block: str) -> None:
    text = block if block.startswith("version") else "version: 1\n" + block
    parse_policy(text, source="README.md")


def test_the_readme_names_every_budget_key() -> None:
    for key in policy_schema()["properties"]["budget"]["properties"]:
        assert f"{key}" in README, key


def test_every_action_output_is_documented() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    doc = (REPO / "docs" / "action.md").read_text(encoding="utf-8")
    for name in action["outputs"]:
        assert f"| `{name}` |" in doc, name
    for name in ("escalated", "escalated-reviewed", "escalated-over-budget"):
        assert name in outputs_mod.OUTPUT_NAMES and f"`{name}`" in README
