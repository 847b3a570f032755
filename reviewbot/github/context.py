"""The GitHub Actions run context: environment variables and the event payload, validated.

Events: ``pull_request``, ``pull_request_target`` and ``workflow_dispatch`` with a
PR number input (``pr``, ``pr-number`` or ``pr_number``). An empty variable counts
as unset (GitHub passes empty strings for missing inputs and secrets).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from .client import DEFAULT_API_URL

SUPPORTED_EVENTS = ("pull_request", "pull_request_target", "workflow_dispatch")
_REPO = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")


class ContextError(InputError):
    """The workflow context is missing something or is an event reviewbot does not handle."""


@dataclass(frozen=True)
class ActionContext:
    repository: str
    api_url: str
    token: str | None
    event_name: str
    pr_number: int
    head_sha: str | None  # None for workflow_dispatch until the PR is read
    base_sha: str | None
    head_repo: str | None
    is_fork: bool | None  # None: not known from the event (workflow_dispatch): read the PR
    step_summary: Path | None
    output: Path | None
    runner_temp: Path | None
    server_url: str = "https://github.com"

    @property
    def github_host(self) -> str:
        return re.sub(r"^https?://", "", self.server_url).split("/")[0].lower()


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "")
    return value.strip() or None


def _path(environ: Mapping[str, str], name: str) -> Path | None:
    value = _env(environ, name)
    return Path(value) if value else None


def is_fork(pull: Mapping[str, Any]) -> bool:
    """A PR (event or REST shape) whose head lives in another repository; a deleted head repo counts."""
    head_repo = ((pull.get("head") or {}).get("repo") or {}).get("full_name")
    base_repo = ((pull.get("base") or {}).get("repo") or {}).get("full_name")
    return not head_repo or head_repo != base_repo


def _pr_number(value: Any) -> int:
    text = str(value).strip().lstrip("#")
    if not text.isdigit() or int(text) <= 0:
        raise ContextError(
            f"not a pull request number: {str(value)[:40]!r}", hint="pass the PR number, e.g. 42"
        )
    return int(text)


def load_context(environ: Mapping[str, str], *, pr_number: int | None = None) -> ActionContext:
    """Read the Actions context. ``pr_number`` (from ``--pr``) overrides the event's."""
    repository = _env(environ, "GITHUB_REPOSITORY")
    if not repository or not _REPO.match(repository):
        raise ContextError(
            "GITHUB_REPOSITORY is not set to owner/name", hint="run inside a workflow or pass --repo"
        )
    event_name = _env(environ, "GITHUB_EVENT_NAME") or ("workflow_dispatch" if pr_number else "")
    event: dict[str, Any] = {}
    event_path = _path(environ, "GITHUB_EVENT_PATH")
    if event_path is not None:
        try:
            loaded = json.loads(event_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ContextError(
                f"cannot read GITHUB_EVENT_PATH: {exc}", hint="is this a GitHub Actions run?"
            ) from None
        if isinstance(loaded, dict):
            event = loaded
    if event_name not in SUPPORTED_EVENTS and pr_number is None:
        raise ContextError(
            f"event {event_name or '(none)'!r} is not supported",
            hint="run on pull_request, pull_request_target, or workflow_dispatch with a pr input",
        )
    pull = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
    number: int | None = pr_number
    if number is None and pull is not None:
        number = _pr_number(pull.get("number") or event.get("number"))
    if number is None:
        inputs = event.get("inputs") or {}
        raw = next(
            (inputs[k] for k in ("pr", "pr-number", "pr_number") if str(inputs.get(k, "")).strip()), None
        )
        if raw is None:
            raise ContextError(
                "no pull request number in the event", hint="give workflow_dispatch a `pr` input"
            )
        number = _pr_number(raw)
    head = (pull or {}).get("head") or {}
    base = (pull or {}).get("base") or {}
    return ActionContext(
        repository=repository,
        api_url=(_env(environ, "GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        token=_env(environ, "GITHUB_TOKEN"),
        event_name=event_name,
        pr_number=number,
        head_sha=head.get("sha") if pull and number == pull.get("number") else None,
        base_sha=base.get("sha") if pull and number == pull.get("number") else None,
        head_repo=(head.get("repo") or {}).get("full_name") if pull else None,
        is_fork=is_fork(pull) if pull and number == pull.get("number") else None,
        step_summary=_path(environ, "GITHUB_STEP_SUMMARY"),
        output=_path(environ, "GITHUB_OUTPUT"),
        runner_temp=_path(environ, "RUNNER_TEMP"),
        server_url=(_env(environ, "GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
    )
