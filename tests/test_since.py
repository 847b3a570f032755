"""`reviewbot diff --since REV`: only the branch's hunks touching lines changed since REV are reviewed;
the others are skipped as ``unchanged-since``, never dropped. Real temporary git repositories."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from reviewbot.cli import build_parser, main
from reviewbot.diff import parse_diff
from reviewbot.diff.since import changes_since, select_touched, touches
from reviewbot.errors import GitError
from reviewbot.models import SkipReason
from reviewbot.sources import GitSource

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git configuration leaks in; no API key, so nothing can call a model."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "OPENAI_API_KEY", "OPENAI_API_KEY_CYBER",
                "OPENAI_API_KEY_GENERAL"):
        monkeypatch.delenv(var, raising=False)
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.invalid")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True).stdout.decode().strip()


def lines(n: int, **edits: str) -> str:
    """``n`` numbered lines, with some replaced: ``lines(40, l2="x")`` changes line 2."""
    return "".join(edits.get(f"l{i}", f"line {i}") + "\n" for i in range(1, n + 1))


def write(repo: Path, name: str, text: str) -> None:
    (repo / name).write_text(text)


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: app.py (40 lines). feature, first push: app.py lines 2 and 30 changed, other.py added."""
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "--initial-branch=main")
    write(repo, "app.py", lines(40))
    commit(repo, "base")
    git(repo, "switch", "-q", "-c", "feature")
    write(repo, "app.py", lines(40, l2="top = eval(a)", l30="mid = eval(b)"))
    write(repo, "other.py", "one = 1\ntwo = eval(c)\nthree = 3\n")
    commit(repo, "first push")
    return repo


def by_path(diff_hunks: tuple, path: str) -> list[int]:  # type: ignore[type-arg]
    return [h.new_start for h in diff_hunks if h.path == path]


def test_only_the_hunk_changed_since_rev_is_kept_and_the_others_are_skipped_with_the_reason(repo: Path) -> None:
    rev = git(repo, "rev-parse", "HEAD")
    full = GitSource(repo).read()
    write(repo, "app.py", lines(40, l2="top = eval(a)", l30="mid = eval(b2)"))
    commit(repo, "second push")

    source = GitSource(repo, since=rev)
    diff = source.read()
    assert [(h.path, h.new_start) for h in diff.hunks] == [("app.py", 27)]  # the hunk around line 30
    skipped = [s for s in diff.skipped if s.reason is SkipReason.UNCHANGED_SINCE]
    assert sorted((s.path, s.hunk_id) for s in skipped) == sorted(
        (h.path, h.id) for h in full.hunks if h.new_start != 27
    )
    assert all(f"since {rev} ({rev[:12]}): reviewed before it" in s.detail for s in skipped)
    assert source.describe().endswith(f"; only hunks touching lines changed since {rev} ({rev[:12]})")


def test_uncommitted_changes_count_as_changed_since(repo: Path) -> None:
    rev = git(repo, "rev-parse", "HEAD")
    write(repo, "other.py", "one = 1\ntwo = eval(c)\nthree = 4\n")  # not committed
    assert [h.path for h in GitSource(repo, since=rev).read().hunks] == ["other.py"]
    git(repo, "add", "other.py")
    write(repo, "other.py", "one = 1\ntwo = eval(c)\nthree = 3\n")  # the index differs, the tree does not
    assert [h.path for h in GitSource(repo, since=rev, staged=True, base="main").read().hunks] == ["other.py"]
    assert GitSource(repo, since=rev).read().hunks == ()


def test_a_pure_deletion_since_rev_selects_the_hunk_at_its_position(repo: Path) -> None:
    rev = git(repo, "rev-parse", "HEAD")
    write(repo, "other.py", "one = 1\ntwo = eval(c)\n")  # removes the line the first push added last
    commit(repo, "second push")
    assert [(h.path, h.new_start) for h in GitSource(repo, since=rev).read().hunks] == [("other.py", 1)]


def test_merging_the_base_branch_selects_none_of_its_changes(repo: Path) -> None:
    rev = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "main")
    write(repo, "app.py", lines(40, l15="from_main = 1"))
    write(repo, "main_only.py", "x = 1\n")
    commit(repo, "main moves on")
    git(repo, "switch", "-q", "feature")
    git(repo, "merge", "-q", "--no-edit", "main")
    diff = GitSource(repo, since=rev).read()
    assert diff.hunks == ()  # the merge changed lines since REV, but none of the branch's own hunks
    assert {s.reason for s in diff.skipped} == {SkipReason.UNCHANGED_SINCE}
    assert len(diff.skipped) == len(GitSource(repo).read().hunks) == 3


def test_cli_json_accounts_for_every_hunk(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    rev = git(repo, "rev-parse", "HEAD")
    write(repo, "app.py", lines(40, l2="top = eval(a2)", l30="mid = eval(b)"))
    commit(repo, "second push")
    monkeypatch.chdir(repo)
    code = main(["diff", "main", "--since", rev, "--offline", "--format", "json", "--fail-on", "none"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    cov = report["coverage"]
    assert cov["hunks_total"] == 3 and cov["skipped_by_reason"] == {"offline": 1, "unchanged-since": 2}
    assert [s["reason"] for s in report["skipped"]].count("unchanged-since") == 2
    assert any(n.startswith(f"--since {rev}: 1 hunk(s) touch lines changed since then; 2 hunk(s)")
               for n in report["notes"])


def test_nothing_changed_since_rev_says_nothing_was_reviewed(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(repo)
    code = main(["diff", "--since", "HEAD", "--offline"])
    out = capsys.readouterr().out
    assert code == 0
    assert "3 unchanged-since" in out and "NOTHING WAS REVIEWED BY A MODEL" in out
    assert "No findings" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "no-such-rev"], "error: unknown --since revision 'no-such-rev'"),
        (["--since=--output=/tmp/x"], "error: invalid --since revision '--output=/tmp/x'"),
        (["--since", "HEAD", "--patch", "x.diff"], "error: --patch cannot be combined with BASE, --base, "
                                                  "--staged or --since"),
    ],
)
def test_a_bad_since_is_one_line_and_exit_2(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str], argv: list[str],
                                            message: str) -> None:
    monkeypatch.chdir(repo)
    code = main(["diff", *argv, "--offline"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines()[0] == message and "Traceback" not in err


def test_an_option_shaped_rev_never_reaches_git(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []
    real = GitSource._run

    def spy(self: GitSource, *args: str) -> subprocess.CompletedProcess[bytes]:
        calls.append(args)
        return real(self, *args)

    monkeypatch.setattr(GitSource, "_run", spy)
    with pytest.raises(GitError):
        GitSource(repo, since="--output=/tmp/pwned").read()
    assert not any("--output=/tmp/pwned" in a for call in calls for a in call)


# -- the selection rule on its own ------------------------------------------------------------------

BRANCH = b"""\
diff --git a/f.py b/f.py
--- a/f.py
+++ b/f.py
@@ -1,3 +1,4 @@
 a
+b
 c
 d
@@ -20,3 +21,2 @@
 t
-u
 v
"""


@pytest.mark.parametrize(
    ("delta_hunk", "expected"),
    [
        ("@@ -2,0 +2 @@\n+b\n", [1]),  # the added line itself
        ("@@ -4 +4 @@\n-d0\n+d\n", [1]),  # a line of its context (a revert to the base becomes context)
        ("@@ -5 +4,0 @@\n-gone\n", [1]),  # a pure deletion right after its last line (its edge)
        ("@@ -6 +5,0 @@\n-gone\n", []),  # one line further: not this hunk
        ("@@ -21 +20,0 @@\n-gone\n", [21]),  # a pure deletion right before its first line (its edge)
        ("@@ -21,2 +21 @@\n t\n-u\n", [21]),  # the branch's own deletion, still new since REV
        ("@@ -5 +5 @@\n-e0\n+e\n", []),  # an edit right after it counts by its added line, outside it
        ("@@ -20 +20 @@\n-s0\n+s\n", []),  # the same right before the second hunk
        ("@@ -30 +29 @@\n-y\n+z\n", []),  # outside every hunk
    ],
)
def test_which_branch_hunks_a_delta_touches(delta_hunk: str, expected: list[int]) -> None:
    branch = parse_diff(BRANCH, origin="test")
    delta = parse_diff(f"diff --git a/f.py b/f.py\n--- a/f.py\n+++ b/f.py\n{delta_hunk}".encode(), origin="test")
    kept = select_touched(branch, delta, detail="d")
    assert [h.new_start for h in kept.hunks] == expected
    assert len(kept.hunks) + len(kept.skipped) == len(branch.hunks)
    changes = changes_since(delta)
    assert [h.new_start for h in branch.hunks if touches(h, changes)] == expected


@pytest.mark.parametrize(
    "delta_file",
    [
        "diff --git a/g.py b/f.py\nsimilarity index 100%\nrename from g.py\nrename to f.py\n",
        "diff --git a/g.py b/f.py\nsimilarity index 90%\nrename from g.py\nrename to f.py\n--- a/g.py\n+++ b/f.py\n"
        "@@ -40 +40 @@\n-y\n+z\n",
        "diff --git a/f.py b/f.py\nold mode 100644\nnew mode 100755\n",
    ],
    ids=["renamed", "renamed-and-edited-elsewhere", "mode-only"],
)
def test_a_file_changed_in_a_way_not_visible_per_line_selects_all_its_hunks(delta_file: str) -> None:
    branch = parse_diff(BRANCH, origin="test")
    kept = select_touched(branch, parse_diff(delta_file.encode(), origin="test"), detail="d")
    assert [h.new_start for h in kept.hunks] == [1, 21] and kept.skipped == ()


def test_readme_documents_every_diff_option_of_the_help() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```\n(reviewbot diff .*?)```", text, re.S)
    assert block is not None, "README has no `reviewbot diff` usage block"
    documented = set(re.findall(r"--[a-z][a-z-]*", block.group(1)))
    parser = build_parser()
    sub = next(a for a in parser._subparsers._group_actions if a.dest == "command")  # type: ignore[union-attr]
    helped = {o for a in sub.choices["diff"]._actions for o in a.option_strings if o.startswith("--")}
    assert documented == helped - {"--help", "--verbose"}
    assert "--since REV" in block.group(1) and "--since" in text.split("### `reviewbot diff`")[1].split("###")[0]
