"""Shared fixtures. Every network-facing test talks to loopback fakes (tests/fakes/)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared_fixtures() -> Path:
    """../shared/fixtures (others' data, read in place); skips where it is absent."""
    path = SHARED / "fixtures"
    if not path.is_dir():
        pytest.skip("../shared/fixtures not present: contract test needs the shared fixtures")
    return path


@pytest.fixture(autouse=True)
def _no_ambient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's real keys or GitHub context."""
    for name in (
        "OPENAI_API_KEY", "OPENAI_API_KEY_CYBER", "OPENAI_API_KEY_GENERAL", "OPENAI_BASE_URL",
        "SECURITY_PATHS", "MODEL_CYBER", "MODEL_GENERAL", "GITHUB_TOKEN", "GITHUB_EVENT_PATH",
        "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "REVIEWBOT_STATE_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
