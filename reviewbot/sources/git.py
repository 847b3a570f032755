"""The change of a local git checkout, as ``git diff`` shows it.

git runs as a subprocess with a list of arguments (never a shell), in the
checkout, with ``GIT_PAGER=cat`` and ``LC_ALL=C``. The options pin the output
format against the user's configuration: no colour, no external diff driver,
no textconv filters, the standard ``a/`` ``b/`` prefixes, paths relative to
the top of the repository, rename detection on, submodules as
``Subproject commit`` lines.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..diff import parse_diff
from ..diff.since import select_touched
from ..errors import GitError
from ..models import Diff

_DIFF_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "-M",
    "--submodule=short",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--no-relative",
)
_FALLBACK_DEFAULTS = ("main", "master")
_NO_REPO_HINT = "run reviewbot inside a git checkout, or pass a diff with --patch FILE"


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GIT_PAGER": "cat",
            "LC_ALL": "C",
            "GIT_OPTIONAL_LOCKS": "0",  # a read-only tool: never take index.lock
            "GIT_TERMINAL_PROMPT": "0",
        }
    )
    return env


def _plausible_ref(ref: str) -> bool:
    """Not an option (``-x``), no control characters, not blank: safe to put in git's argv."""
    return not ref.startswith("-") and not any(c in ref for c in "\0\n\r") and bool(ref.strip())


def _first_line(stderr: bytes) -> str:
    for line in stderr.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if line:
            for prefix in ("fatal: ", "error: "):
                line = line.removeprefix(prefix)
            return line[:300]
    return "no error message"


class GitSource:
    """The diff of the git checkout at ``cwd``.

    * ``staged=True``: the index against ``HEAD`` (``git diff --cached``); with
      ``base``, the index against the merge-base of ``base`` and ``HEAD``.
    * otherwise: the current branch against its merge-base with ``base``, or
      with the default branch when ``base`` is None (the ref
      ``origin/HEAD`` points to, else ``main``, else ``master``). This runs
      ``git diff <merge-base>``, which compares that commit with the
      **working tree**: uncommitted changes to tracked files are included, so
      what you review is what you are about to commit and push. Untracked
      files are not (``git diff`` does not list them; ``git add -N`` does).
    * ``since``: of those hunks, only the ones that touch a line changed since
      that revision (``git diff [--cached] <since>``: the same new side, so the
      same line numbers); the others are skipped as ``unchanged-since``
      (:func:`reviewbot.diff.since.select_touched`, the rule of DESIGN.md §5a,
      the same the Action's re-review applies).
    """

    def __init__(
        self,
        cwd: Path,
        base: str | None = None,
        staged: bool = False,
        *,
        since: str | None = None,
        git: str = "git",
    ) -> None:
        self.cwd = Path(cwd)
        self.base = base
        self.staged = staged
        self.since = since
        self._git = git
        self._description: str | None = None

    # -- running git ------------------------------------------------------------------------------

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        if not self.cwd.is_dir():
            raise GitError(f"not a directory: {self.cwd}", hint=_NO_REPO_HINT)
        try:
            return subprocess.run(
                [self._git, "-c", "core.fsmonitor=false", *args],
                cwd=self.cwd,
                env=_git_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
        except FileNotFoundError:
            raise GitError(
                "git is not installed (or not on PATH)",
                hint="install git, or pass a diff with --patch FILE",
            ) from None
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror or exc}") from None

    def _check_repository(self) -> None:
        proc = self._run("rev-parse", "--show-toplevel")
        if proc.returncode == 0:
            return
        message = _first_line(proc.stderr)
        if "not a git repository" in message:
            raise GitError(f"not a git repository: {self.cwd}", hint=_NO_REPO_HINT)
        hint = None
        if "dubious ownership" in message:
            hint = "mark the checkout as safe: git config --global --add safe.directory <dir>"
        raise GitError(f"git cannot read the repository at {self.cwd}: {message}", hint=hint)

    def _resolve(self, ref: str) -> str | None:
        """The commit ``ref`` names, or None when it names none."""
        proc = self._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if proc.returncode != 0:
            return None
        return proc.stdout.decode("ascii", errors="replace").strip() or None

    def _default_branch(self) -> str:
        proc = self._run("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
        if proc.returncode == 0:
            target = proc.stdout.decode("utf-8", errors="replace").strip()
            name = target.removeprefix("refs/remotes/")
            if name and self._resolve(target) is not None:
                return name
        for name in _FALLBACK_DEFAULTS:
            if self._resolve(f"refs/heads/{name}") is not None:
                return name
        raise GitError(
            "cannot tell the default branch (no origin/HEAD, no main, no master)",
            hint="pass the branch to compare against with --base REF",
        )

    def _since_sha(self, rev: str) -> str:
        if not _plausible_ref(rev):
            raise GitError(f"invalid --since revision {rev!r}", hint="pass a commit, branch or tag with --since")
        sha = self._resolve(rev)
        if sha is None:
            raise GitError(
                f"unknown --since revision {rev!r}",
                hint="pass a commit, branch or tag that exists in this checkout (git log --oneline)",
            )
        return sha

    def _merge_base(self, base: str) -> str:
        if not _plausible_ref(base):
            raise GitError(f"invalid base ref {base!r}", hint="pass a branch, tag or commit with --base")
        base_sha = self._resolve(base)
        if base_sha is None:
            raise GitError(
                f"unknown base ref {base!r}",
                hint="pass an existing branch, tag or commit (in CI, fetch it: git fetch origin <branch>)",
            )
        head = self.head_sha()
        if head is None:
            raise GitError(
                "the repository has no commit yet, so there is no branch to compare",
                hint="review the staged files with --staged",
            )
        proc = self._run("merge-base", base_sha, head)
        if proc.returncode != 0:
            raise GitError(
                f"{base!r} and HEAD have no common ancestor",
                hint="pass a related base with --base, or fetch more history (git fetch --unshallow)",
            )
        return proc.stdout.decode("ascii", errors="replace").strip()

    # -- DiffSource -------------------------------------------------------------------------------

    def read(self) -> Diff:
        """Run ``git diff`` and parse its output.

        Raises:
            GitError: not a git repository, unknown or invalid base ref, no
                default branch, no common ancestor, git missing or failing.
        """
        self._check_repository()
        since = self._since_sha(self.since) if self.since is not None else None
        args = ["diff"]
        if self.staged:
            args.append("--cached")
        args.extend(_DIFF_OPTIONS)
        mode = args[:]
        if self.staged and self.base is None:
            self._description = "staged changes (git diff --cached)"
        else:
            base = self.base if self.base is not None else self._default_branch()
            merge_base = self._merge_base(base)
            args.append(merge_base)
            what = "staged changes" if self.staged else "changes"
            self._description = f"{what} since the merge-base of {base} and HEAD ({merge_base[:12]})"
        args.append("--")
        proc = self._run(*args)
        if proc.returncode != 0:
            raise GitError(f"git diff failed: {_first_line(proc.stderr)}")
        diff = parse_diff(proc.stdout, origin="git diff")
        if since is None:
            return diff
        delta = self._run(*mode, since, "--")
        if delta.returncode != 0:
            raise GitError(f"git diff {self.since} failed: {_first_line(delta.stderr)}")
        self._description += f"; only hunks touching lines changed since {self.since} ({since[:12]})"
        return select_touched(
            diff,
            parse_diff(delta.stdout, origin=f"git diff {since[:12]}"),
            detail=f"no line changed since {self.since} ({since[:12]}): reviewed before it",
        )

    def describe(self) -> str:
        if self._description is not None:
            return self._description
        if self.staged and self.base is None:
            what = "staged changes (git diff --cached)"
        else:
            what = f"changes since the merge-base of {self.base or 'the default branch'} and HEAD"
        return what + (f"; only hunks touching lines changed since {self.since}" if self.since else "")

    def head_sha(self) -> str | None:
        """The commit ``HEAD`` points to; None before the first commit."""
        return self._resolve("HEAD")
