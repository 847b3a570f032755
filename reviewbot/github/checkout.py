"""Files GitHub lists without a ``patch`` (large or binary), taken from the workflow's own checkout.

When the workspace is a git checkout that holds both the PR's base and head commits
(``actions/checkout`` with ``fetch-depth: 0`` on a ``pull_request`` run), each such file
is read with ``git diff base...head -- <path>``, the same three-dot comparison the PR
shows. git runs with a list of arguments (never a shell), with external diff drivers
and textconv filters off and pathspec magic off (``--literal-pathspecs``), so a file
name from the PR cannot act as an option or a pattern. Otherwise the file stays
skipped (``no-patch``) with a reason that says how to supply it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..diff import parse_diff
from ..errors import ReviewbotError
from ..models import Diff, FileDiff, SkippedItem, SkipReason

MAX_DIFF_BYTES = 5_000_000
_SHA = re.compile(r"^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$")
_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--no-relative",
)
NO_CHECKOUT = (
    "GitHub omitted the patch (large or binary file) and the workspace has no checkout holding both "
    "the base and head commits (actions/checkout with fetch-depth: 0 supplies it)"
)


@dataclass(frozen=True)
class Filled:
    diff: Diff
    filled: tuple[str, ...]  # paths whose hunks now come from the local checkout
    note: str | None = None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_PAGER="cat", LC_ALL="C", GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0",
               GIT_LITERAL_PATHSPECS="1")
    return env


class _Git:
    def __init__(self, cwd: Path, git: str = "git", timeout: float = 60.0) -> None:
        self.cwd = cwd
        self.git = git
        self.timeout = timeout

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes] | None:
        try:
            return subprocess.run(
                [self.git, "--literal-pathspecs", "-c", "core.fsmonitor=false", *args],
                cwd=self.cwd,
                env=_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
                timeout=self.timeout,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None

    def has_commit(self, sha: str) -> bool:
        proc = self.run("cat-file", "-e", f"{sha}^{{commit}}")
        return proc is not None and proc.returncode == 0


def _reason(items: Sequence[SkippedItem], detail: str, reason: SkipReason = SkipReason.NO_PATCH) -> list[SkippedItem]:
    return [dataclasses.replace(s, reason=reason, detail=detail) for s in items]


def fill_from_checkout(
    diff: Diff,
    workspace: Path | None,
    base_sha: str,
    head_sha: str,
    *,
    git: str = "git",
    max_bytes: int = MAX_DIFF_BYTES,
) -> Filled:
    """``diff`` with its ``no-patch`` files replaced by their local ``git diff``, where the checkout has them."""
    missing = [s for s in diff.skipped if s.reason is SkipReason.NO_PATCH and s.hunk_id is None]
    if not missing:
        return Filled(diff, ())
    kept = [s for s in diff.skipped if s not in missing]
    runner = _Git(workspace, git) if workspace is not None and workspace.is_dir() else None
    usable = (
        runner is not None
        and bool(_SHA.match(base_sha)) and bool(_SHA.match(head_sha))
        and runner.has_commit(base_sha) and runner.has_commit(head_sha)
    )
    if runner is None or not usable:
        out = Diff(diff.files, tuple(sorted([*kept, *_reason(missing, NO_CHECKOUT)], key=SkippedItem.sort_key)))
        return Filled(out, (), f"{len(missing)} file(s) without a patch were not reviewed: {NO_CHECKOUT}")
    files: list[FileDiff] = list(diff.files)
    skipped: list[SkippedItem] = list(kept)
    filled: list[str] = []
    for item in missing:
        proc = runner.run("diff", *_OPTIONS, f"{base_sha}...{head_sha}", "--", item.path)
        if proc is None or proc.returncode != 0:
            skipped += _reason([item], "GitHub omitted the patch and `git diff` failed for this file")
            continue
        if len(proc.stdout) > max_bytes:
            skipped += _reason(
                [item], f"GitHub omitted the patch; the local diff is {len(proc.stdout):,} bytes "
                f"(over {max_bytes:,})", SkipReason.TOO_LARGE,
            )
            continue
        try:
            local = parse_diff(proc.stdout, origin=f"git diff {item.path}")
        except ReviewbotError as exc:
            skipped += _reason([item], f"GitHub omitted the patch and the local diff does not parse: {exc.message}")
            continue
        ours = [f for f in local.files if f.path == item.path]
        theirs = [s for s in local.skipped if s.path == item.path]
        if not ours and not theirs:
            skipped += _reason([item], "GitHub omitted the patch and `git diff` shows no change for this file")
            continue
        files += ours
        skipped += theirs
        if any(f.hunks for f in ours):
            filled.append(item.path)
    out = Diff(tuple(files), tuple(sorted(skipped, key=SkippedItem.sort_key)))
    note = None
    if filled:
        note = f"{len(filled)} file(s) without a patch on GitHub were taken from the checkout's `git diff`"
    return Filled(out, tuple(sorted(filled)), note)
