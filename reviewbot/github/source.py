"""The pull request as a source: metadata and files through the paginated files API, policy from the base SHA.

Never the ``.diff`` media type (406 above 300 files / 20,000 lines). The files API
gives at most 3,000 files; beyond that the source says so. The policy is read at
the PR's **base** SHA through the contents API, so a PR cannot weaken its own
review; whether the PR changes that file is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from github import GithubException, UnknownObjectException
from github.ContentFile import ContentFile
from github.PullRequest import PullRequest
from github.Repository import Repository

from ..errors import GitHubError
from ..models import Diff
from ..report.sanitize import clean_prompt_text
from .context import is_fork

POLICY_PATH = ".github/reviewbot.yml"
MAX_FILES = 3000

ParseFiles = Callable[[Iterable[Mapping[str, Any]]], Diff]


@dataclass(frozen=True)
class PullInfo:
    number: int
    title: str  # hidden carriers and HTML comments stripped: still untrusted data
    body: str
    author: str
    head_sha: str
    base_sha: str
    base_repo: str
    head_repo: str | None
    is_fork: bool
    changed_files: int


@dataclass(frozen=True)
class PolicySource:
    path: str
    base_sha: str
    text: str | None  # None: no policy file on the base branch (use the default policy)
    changed_by_pr: bool


@dataclass(frozen=True)
class PullSource:
    info: PullInfo
    diff: Diff
    files_listed: int
    files_truncated: bool  # the PR has more files than the API lists
    policy: PolicySource


def pull_info(pull: PullRequest) -> PullInfo:
    raw = pull.raw_data
    return PullInfo(
        number=int(pull.number),
        title=clean_prompt_text(pull.title or "", max_chars=500),
        body=clean_prompt_text(pull.body or "", max_chars=20_000),
        author=str(pull.user.login) if pull.user else "",
        head_sha=str(pull.head.sha),
        base_sha=str(pull.base.sha),
        base_repo=str(((raw.get("base") or {}).get("repo") or {}).get("full_name") or ""),
        head_repo=((raw.get("head") or {}).get("repo") or {}).get("full_name"),
        is_fork=is_fork(raw),
        changed_files=int(raw.get("changed_files") or 0),
    )


def list_files(pull: PullRequest, *, max_files: int = MAX_FILES) -> list[dict[str, Any]]:
    """Every file entry (REST shape) over all pages, up to ``max_files``."""
    out: list[dict[str, Any]] = []
    for f in pull.get_files():
        out.append(dict(f.raw_data))
        if len(out) >= max_files:
            break
    return out


def read_policy(
    repo: Repository, base_sha: str, files: Iterable[Mapping[str, Any]], path: str = POLICY_PATH
) -> PolicySource:
    changed = any(f.get("filename") == path or f.get("previous_filename") == path for f in files)
    try:
        content = repo.get_contents(path, ref=base_sha)
    except UnknownObjectException:
        return PolicySource(path, base_sha, None, changed)
    if not isinstance(content, ContentFile):
        raise GitHubError(f"{path} at {base_sha[:12]} is a directory", hint="the policy must be a YAML file")
    try:
        text = content.decoded_content.decode("utf-8")
    except UnicodeDecodeError:
        raise GitHubError(
            f"{path} at {base_sha[:12]} is not UTF-8 text", hint="save the policy as UTF-8"
        ) from None
    return PolicySource(path, base_sha, text, changed)


def _default_parse(files: Iterable[Mapping[str, Any]]) -> Diff:
    from ..diff import parse_github_files

    return parse_github_files(files)


def fetch_pull(
    repo: Repository,
    number: int,
    *,
    parse: ParseFiles | None = None,
    max_files: int = MAX_FILES,
    policy_path: str = POLICY_PATH,
) -> PullSource:
    """Read the PR, all its files and the base-branch policy. GitHub errors become :class:`GitHubError`."""
    try:
        pull = repo.get_pull(number)
        info = pull_info(pull)
        files = list_files(pull, max_files=max_files)
        policy = read_policy(repo, info.base_sha, files, policy_path)
    except GithubException as exc:
        if exc.status == 401:
            from .client import GitHubAuthError

            raise GitHubAuthError(
                f"GitHub refused the token (401) while reading pull request #{number}",
                hint="check GITHUB_TOKEN (the Action's github-token input)",
            ) from None
        raise GitHubError(
            f"GitHub answered {exc.status} while reading pull request #{number}",
            hint="check the token's permissions (contents: read, pull-requests: read)",
        ) from None
    diff = (parse or _default_parse)(files)
    truncated = info.changed_files > len(files)
    return PullSource(info, diff, len(files), truncated, policy)
