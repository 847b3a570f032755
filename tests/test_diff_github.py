"""parse_github_files: entries of GitHub's pull-request files API (hunks-only patches)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewbot.diff import parse_diff, parse_github_files
from reviewbot.errors import DiffParseError
from reviewbot.models import FileStatus, SkipReason, hunk_id

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
PULL_FILES = SHARED / "fixtures" / "github" / "pull_files.json"


def recorded_files() -> list[dict[str, Any]]:
    if not PULL_FILES.is_file():
        pytest.skip(f"../shared/fixtures not present: {PULL_FILES}")
    body = json.loads(PULL_FILES.read_text(encoding="utf-8"))["response"]["body"]
    assert isinstance(body, list)
    return body


@pytest.mark.shared
def test_recorded_pull_files_every_line_is_accounted_for() -> None:
    entries = recorded_files()
    diff = parse_github_files(entries)
    assert diff.skipped == ()
    assert [f.path for f in diff.files] == [e["filename"] for e in entries]
    for entry, file in zip(entries, diff.files, strict=True):
        # GitHub's own counts agree with the lines we read, file by file.
        assert sum(h.added for h in file.hunks) == entry["additions"], entry["filename"]
        assert sum(h.removed for h in file.hunks) == entry["deletions"], entry["filename"]
        assert len(file.hunks) == sum(1 for ln in entry["patch"].split("\n") if ln.startswith("@@ "))
        for hunk in file.hunks:
            assert hunk.id == hunk_id(hunk.path, hunk.header, hunk.body())
            assert {ln.new_no for ln in hunk.lines if ln.new_no is not None} == set(hunk.commentable)


@pytest.mark.shared
def test_recorded_pull_files_statuses_sections_and_crlf() -> None:
    diff = parse_github_files(recorded_files())
    by_path = {f.path: f for f in diff.files}
    added = by_path["test/ReplayData/Issue.testGetLabels.txt"]
    assert added.status is FileStatus.ADDED
    assert added.hunks[0].commentable == frozenset(range(1, 6))
    label = by_path["src/github/Label.py"]
    assert label.status is FileStatus.MODIFIED and label.language == "python"
    assert [h.section for h in label.hunks][1] == "def edit( self, name, color ):"
    # test/Issue.py has CRLF line endings inside its patch: the CR is gone from the text.
    issue = by_path["test/Issue.py"]
    texts = [ln.text for h in issue.hunks for ln in h.lines]
    assert "class Issue( Framework.TestCase ):" in texts
    assert not any(t.endswith("\r") for t in texts)


@pytest.mark.shared
def test_recorded_pull_files_ids_are_stable_across_runs() -> None:
    entries = recorded_files()
    assert [h.id for h in parse_github_files(entries).hunks] == [
        h.id for h in parse_github_files(entries).hunks
    ]


def test_file_without_patch_is_skipped_so_the_caller_can_try_git() -> None:
    diff = parse_github_files(
        [
            {
                "filename": "assets/big.bin",
                "status": "modified",
                "additions": 0,
                "deletions": 0,
                "changes": 0,
            },
            {"filename": "data/huge.sql", "status": "modified", "additions": 9000, "changes": 9000},
        ]
    )
    assert diff.files == ()
    assert [(s.path, s.reason) for s in diff.skipped] == [
        ("assets/big.bin", SkipReason.NO_PATCH),
        ("data/huge.sql", SkipReason.NO_PATCH),
    ]
    detail = diff.skipped[0].detail
    assert "GitHub omitted the patch" in detail and "large or binary" in detail


def test_removed_renamed_copied_and_mode_changed_entries() -> None:
    diff = parse_github_files(
        [
            {"filename": "auth/old.py", "status": "removed", "patch": "@@ -1 +0,0 @@\n-x = 1", "changes": 1},
            {"filename": "b/new.py", "status": "renamed", "previous_filename": "a/new.py", "changes": 0},
            {"filename": "c/copy.py", "status": "copied", "previous_filename": "c/orig.py", "changes": 0},
            {"filename": "run.sh", "status": "changed", "changes": 0},
            {
                "filename": "web/login.py",
                "status": "renamed",
                "previous_filename": "auth/login.py",
                "changes": 2,
                "patch": "@@ -1,2 +1,2 @@\n def login():\n-    check()\n+    pass",
            },
        ]
    )
    assert [(s.path, s.reason, s.detail) for s in diff.skipped] == [
        ("auth/old.py", SkipReason.DELETED_ONLY, "file deleted"),
        ("b/new.py", SkipReason.RENAME_ONLY, "renamed from a/new.py without changes"),
        ("c/copy.py", SkipReason.COPY_ONLY, "copied from c/orig.py without changes"),
        ("run.sh", SkipReason.MODE_ONLY, "mode or type changed without content changes"),
    ]
    (hunk,) = diff.hunks
    assert (hunk.path, hunk.old_path, hunk.status) == ("web/login.py", "auth/login.py", FileStatus.RENAMED)
    # The patch's last line has no newline: it is still read whole.
    assert [(ln.kind, ln.text) for ln in hunk.lines][-1] == ("+", "    pass")


def test_submodule_patch_is_skipped() -> None:
    patch = "@@ -1 +1 @@\n-Subproject commit " + "a" * 40 + "\n+Subproject commit " + "b" * 40
    diff = parse_github_files([{"filename": "lib/sub", "status": "modified", "patch": patch, "changes": 2}])
    assert [(s.path, s.reason, s.detail) for s in diff.skipped] == [
        ("lib/sub", SkipReason.SUBMODULE, "submodule updated (aaaaaaaaaaaa -> bbbbbbbbbbbb)")
    ]


def test_patch_that_does_not_parse_is_skipped_with_the_reason_not_dropped() -> None:
    diff = parse_github_files(
        [
            {"filename": "x.py", "status": "modified", "patch": "@@ -1,3 +1,3 @@\n a\n-b\n", "changes": 2},
            {"filename": "y.py", "status": "modified", "patch": "not a hunk", "changes": 2},
        ]
    )
    assert diff.files == ()
    assert [(s.path, s.reason) for s in diff.skipped] == [
        ("x.py", SkipReason.NO_PATCH),
        ("y.py", SkipReason.NO_PATCH),
    ]
    # Line numbers count from the patch's first line, as GitHub sent it.
    assert "truncated hunk at line 1: expected 2 more lines" in diff.skipped[0].detail
    assert "holds no hunk" in diff.skipped[1].detail


def test_entry_without_filename_is_an_error() -> None:
    with pytest.raises(DiffParseError) as info:
        parse_github_files([{"filename": "ok.py", "status": "added", "changes": 0}, {"status": "added"}])
    assert info.value.message == "GitHub files API: entry 2 has no filename"


def test_same_hunk_from_git_and_from_github_has_the_same_id() -> None:
    hunks_only = "@@ -3,3 +3,4 @@ def f():\n a\n-b\n+c\n+d\n e\n"
    git = parse_diff(
        "diff --git a/src/f.py b/src/f.py\nindex 1..2 100644\n--- a/src/f.py\n+++ b/src/f.py\n" + hunks_only
    )
    github = parse_github_files(
        [{"filename": "src/f.py", "status": "modified", "patch": hunks_only.rstrip("\n"), "changes": 3}]
    )
    assert [h.id for h in git.hunks] == [h.id for h in github.hunks]
    assert git.hunks == github.hunks
