"""Diff sources: a patch file or stdin, and real (temporary) git repositories."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from reviewbot.errors import DiffParseError, GitError, InputError
from reviewbot.models import FileStatus, SkipReason
from reviewbot.sources import DiffSource, GitSource, PatchSource

PATCH = b"--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-x = 1\n+x = eval(input())\n"


# --- PatchSource ---------------------------------------------------------------------------------


def test_patch_file_is_read_and_parsed(tmp_path: Path) -> None:
    path = tmp_path / "change.diff"
    path.write_bytes(PATCH)
    source = PatchSource(str(path))
    assert isinstance(source, DiffSource)
    (hunk,) = source.read().hunks
    assert hunk.path == "app.py" and hunk.lines[1].text == "x = eval(input())"
    assert source.describe() == f"patch {path}"
    assert source.head_sha() is None


def test_dash_reads_standard_input_once() -> None:
    stdin = io.BytesIO(PATCH)
    source = PatchSource("-", stdin=stdin)
    first = source.read()
    assert [h.path for h in first.hunks] == ["app.py"]
    assert source.read() is first  # stdin is not read a second time
    assert source.describe() == "patch from standard input"


def test_dash_reads_sys_stdin_buffer_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeStdin:
        buffer = io.BytesIO(PATCH)

    monkeypatch.setattr("sys.stdin", FakeStdin())
    assert [h.path for h in PatchSource("-").read().hunks] == ["app.py"]


def test_empty_stdin_is_an_empty_diff() -> None:
    assert PatchSource("-", stdin=io.BytesIO(b"")).read().files == ()


@pytest.mark.parametrize("make", ["missing", "directory"])
def test_unreadable_patch_file_is_a_one_line_input_error(tmp_path: Path, make: str) -> None:
    path = tmp_path / "nope.diff"
    if make == "directory":
        path.mkdir()
    with pytest.raises(InputError) as info:
        PatchSource(str(path)).read()
    assert info.value.message.startswith(f"cannot read patch file '{path}': ")
    assert "\n" not in info.value.message and info.value.hint


def test_patch_file_that_is_not_a_diff_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    with pytest.raises(DiffParseError) as info:
        PatchSource(str(path)).read()
    assert info.value.message == f"{path}: not a unified diff (no file header or hunk found)"


# --- GitSource: real repositories made here ------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git configuration leaks into the tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.invalid")


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True)
    return proc.stdout.decode().strip()


def make_repo(path: Path, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", f"--initial-branch={branch}")
    (path / "app.py").write_text("def run():\n    return 1\n")
    (path / "old_name.py").write_text("".join(f"line {i}\n" for i in range(20)))
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    return path


def test_branch_is_diffed_against_its_merge_base_with_uncommitted_changes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "switch", "-q", "-c", "feature")
    (repo / "app.py").write_text("def run():\n    return eval(input())\n")
    git(repo, "commit", "-q", "-am", "feature work")
    # main moves on after the branch point: that change is not part of the branch.
    git(repo, "switch", "-q", "main")
    (repo / "main_only.py").write_text("x = 1\n")
    git(repo, "add", "main_only.py")
    git(repo, "commit", "-q", "-m", "main work")
    git(repo, "switch", "-q", "feature")
    # An uncommitted edit of a tracked file is included.
    (repo / "old_name.py").write_text("".join(f"line {i}\n" for i in range(20)) + "os.system(cmd)\n")

    source = GitSource(repo)
    diff = source.read()
    assert [f.path for f in diff.files] == ["app.py", "old_name.py"]
    assert diff.files[0].hunks[0].lines[-1].text == "    return eval(input())"
    assert diff.files[1].hunks[0].lines[-1].text == "os.system(cmd)"
    base = git(repo, "merge-base", "main", "HEAD")
    assert source.describe() == f"changes since the merge-base of main and HEAD ({base[:12]})"
    assert source.head_sha() == git(repo, "rev-parse", "HEAD")


def test_renames_binary_files_and_quoted_names_through_real_git(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "mv", "old_name.py", "new_name.py")
    (repo / "new_name.py").write_text("".join(f"line {i}\n" for i in range(20)) + "extra\n")
    (repo / "résumé.txt").write_text("bonjour\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\x00\x01\x02")
    git(repo, "add", "-A")
    diff = GitSource(repo, staged=True).read()
    by_path = {f.path: f for f in diff.files}
    assert set(by_path) == {"new_name.py", "résumé.txt"}
    assert (by_path["new_name.py"].status, by_path["new_name.py"].old_path) == (
        FileStatus.RENAMED,
        "old_name.py",
    )
    assert by_path["résumé.txt"].status is FileStatus.ADDED
    assert [(s.path, s.reason) for s in diff.skipped] == [("logo.png", SkipReason.BINARY)]


def test_user_configuration_cannot_change_the_format(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    for key, value in [
        ("diff.noprefix", "true"),
        ("color.ui", "always"),
        ("diff.relative", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("core.quotePath", "true"),
    ]:
        git(repo, "config", key, value)
    (repo / "sub").mkdir()
    (repo / "sub" / "a.py").write_text("k = 1\n")
    git(repo, "add", "-A")
    diff = GitSource(repo / "sub", staged=True).read()
    assert [f.path for f in diff.files] == ["sub/a.py"]


def test_staged_reviews_only_the_index(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    (repo / "app.py").write_text("def run():\n    return 2\n")
    git(repo, "add", "app.py")
    (repo / "old_name.py").write_text("unstaged\n")
    source = GitSource(repo, staged=True)
    assert [f.path for f in source.read().files] == ["app.py"]
    assert source.describe() == "staged changes (git diff --cached)"


def test_staged_works_before_the_first_commit(tmp_path: Path) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.py").write_text("print(1)\n")
    git(repo, "add", "a.py")
    source = GitSource(repo, staged=True)
    assert [(f.path, f.status) for f in source.read().files] == [("a.py", FileStatus.ADDED)]
    assert source.head_sha() is None
    with pytest.raises(GitError) as info:
        GitSource(repo, base="HEAD").read()
    assert info.value.message == "unknown base ref 'HEAD'"


def test_default_branch_follows_origin_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", branch="dev")
    trunk = git(repo, "rev-parse", "HEAD")
    git(repo, "update-ref", "refs/remotes/origin/trunk", trunk)
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    (repo / "app.py").write_text("changed\n")
    git(repo, "commit", "-q", "-am", "on dev")
    source = GitSource(repo)
    assert [f.path for f in source.read().files] == ["app.py"]
    assert source.describe().startswith("changes since the merge-base of origin/trunk and HEAD")


def test_default_branch_falls_back_to_master(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", branch="master")
    git(repo, "switch", "-q", "-c", "topic")
    (repo / "app.py").write_text("changed\n")
    source = GitSource(repo)
    assert [f.path for f in source.read().files] == ["app.py"]
    assert "merge-base of master and HEAD" in source.describe()


def test_no_default_branch_asks_for_base(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", branch="dev")
    with pytest.raises(GitError) as info:
        GitSource(repo).read()
    assert info.value.message == "cannot tell the default branch (no origin/HEAD, no main, no master)"
    assert info.value.hint is not None and "--base" in info.value.hint
    # With --base it works.
    git(repo, "tag", "v1")
    (repo / "app.py").write_text("changed\n")
    assert [f.path for f in GitSource(repo, base="v1").read().files] == ["app.py"]


def test_unknown_base_ref(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    with pytest.raises(GitError) as info:
        GitSource(repo, base="nope").read()
    assert info.value.message == "unknown base ref 'nope'"
    assert isinstance(info.value, InputError) and info.value.hint


@pytest.mark.parametrize("base", ["--output={out}", "-p", "a\nb", ""])
def test_base_that_could_be_an_option_is_refused(tmp_path: Path, base: str) -> None:
    repo = make_repo(tmp_path / "r")
    base = base.format(out=tmp_path / "written")
    with pytest.raises(GitError) as info:
        GitSource(repo, base=base).read()
    assert info.value.message == f"invalid base ref {base!r}"
    assert not (tmp_path / "written").exists()


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError) as info:
        GitSource(plain).read()
    assert info.value.message == f"not a git repository: {plain}"
    assert info.value.hint is not None and "--patch" in info.value.hint


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(GitError) as info:
        GitSource(tmp_path / "gone").read()
    assert info.value.message == f"not a directory: {tmp_path / 'gone'}"


def test_git_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "r")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(GitError) as info:
        GitSource(repo).read()
    assert info.value.message == "git is not installed (or not on PATH)"
    assert info.value.hint is not None and "--patch" in info.value.hint


def test_unrelated_histories_have_no_merge_base(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "switch", "-q", "--orphan", "other")
    (repo / "z.py").write_text("z = 1\n")
    git(repo, "add", "z.py")
    git(repo, "commit", "-q", "-m", "unrelated")
    with pytest.raises(GitError) as info:
        GitSource(repo, base="main").read()
    assert info.value.message == "'main' and HEAD have no common ancestor"


def test_staged_with_base_compares_the_index_with_the_merge_base(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "switch", "-q", "-c", "feature")
    (repo / "app.py").write_text("committed\n")
    git(repo, "commit", "-q", "-am", "on feature")
    (repo / "staged.py").write_text("s = 1\n")
    git(repo, "add", "staged.py")
    (repo / "old_name.py").write_text("not staged\n")
    source = GitSource(repo, base="main", staged=True)
    assert source.describe() == "changes since the merge-base of main and HEAD"  # before read: no I/O
    assert [f.path for f in source.read().files] == ["app.py", "staged.py"]
    assert source.describe().startswith("staged changes since the merge-base of main and HEAD (")


def test_gitlink_change_from_real_git_is_a_submodule_skip(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},lib/sub")
    diff = GitSource(repo, staged=True).read()
    assert diff.files == ()
    assert [(s.path, s.reason, s.detail) for s in diff.skipped] == [
        ("lib/sub", SkipReason.SUBMODULE, f"submodule added (- -> {sha[:12]})")
    ]


def test_head_sha_outside_a_repository_is_none(tmp_path: Path) -> None:
    assert GitSource(tmp_path).head_sha() is None
