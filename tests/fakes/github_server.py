"""A loopback fake of the GitHub REST API, enough for PyGithub's calls in reviewbot.

A real HTTP server on 127.0.0.1 (port 0) in a thread. Responses are built from
the real shapes recorded in ``../shared/fixtures/github/`` (read in place) where
present, else from minimal shapes of its own; URLs in them point back at the fake.
It enforces GitHub's rules for review comments (422 with GitHub's error body when
a line is not on the diff), paginates with ``Link`` headers, records every write,
and can answer 403 (read-only token), secondary rate limits (403/429 with
``retry-after``) and 5xx after applying a write (so a client's retry repeats it).

History (optional): ``commit()`` records commits (parents and file contents); a pull
request whose base and head are known commits gets its files (merge-base...head), its
commits list and the compare endpoint computed from them with ``difflib``, as GitHub
would: ``identical``/``ahead``/``behind``/``diverged``, and 404 for an unknown SHA.
Comments can be edited by any identity (``edit_issue_comment``): GitHub keeps the
author, which is why the author alone proves nothing.

Identity: with an installation token (the Actions ``GITHUB_TOKEN``) ``GET /user``
answers 403 "Resource not accessible by integration" and GraphQL
``{ viewer { login } }`` answers the bot's login; with a user token both answer.
"""

from __future__ import annotations

import base64
import copy
import difflib
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "github"
REAL_API = "https://api.github.com"  # only rewritten to the fake's own URL in recorded fixtures, never contacted
DOCS = "https://docs.github.com/rest"


def load_fixture(name: str) -> dict[str, Any] | None:
    path = FIXTURES / f"{name}.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def require_fixture(name: str) -> dict[str, Any]:
    data = load_fixture(name)
    if data is None:
        pytest.skip(f"../shared/fixtures not present: github/{name}.json")
    return data


@dataclass
class Write:
    method: str
    path: str
    body: Any
    status: int


@dataclass
class Comment:
    id: int
    login: str
    body: str
    created_at: str = "2026-11-01T10:00:00Z"
    updated_at: str = "2026-11-01T10:00:00Z"
    # review comments only
    path: str | None = None
    line: int | None = None
    start_line: int | None = None
    side: str | None = None
    commit_id: str | None = None
    review_id: int | None = None


@dataclass
class Review:
    id: int
    login: str
    body: str
    event: str | None
    commit_id: str
    comment_ids: list[int] = field(default_factory=list)


@dataclass
class FakeCommit:
    sha: str
    parents: list[str]
    files: dict[str, str]  # path -> text
    message: str = "commit"


@dataclass
class PullState:
    number: int
    title: str = "Add login endpoint"
    body: str = "Adds a login endpoint."
    author: str = "contributor"
    head_sha: str = "a" * 40
    base_sha: str = "b" * 40
    head_repo: str | None = None  # None: same as the base repo
    base_ref: str = "main"
    head_ref: str = "feature"
    files: list[dict[str, Any]] = field(default_factory=list)
    issue_comments: list[Comment] = field(default_factory=list)
    review_comments: list[Comment] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)  # without history: the commits list as given


def file_entry(filename: str, patch: str | None, status: str = "modified", **extra: Any) -> dict[str, Any]:
    """A files-API entry in GitHub's shape (``patch`` omitted for large or binary files)."""
    adds = sum(1 for ln in (patch or "").splitlines() if ln.startswith("+"))
    dels = sum(1 for ln in (patch or "").splitlines() if ln.startswith("-"))
    entry: dict[str, Any] = {
        "sha": hashlib.sha1(filename.encode(), usedforsecurity=False).hexdigest(),
        "filename": filename,
        "status": status,
        "additions": adds,
        "deletions": dels,
        "changes": adds + dels,
    }
    if patch is not None:
        entry["patch"] = patch
    entry.update(extra)
    return entry


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def make_patch(old: str | None, new: str | None) -> str | None:
    """The files API's ``patch`` (hunks only, no headers) between two texts; None when they are equal."""
    a = (old or "").splitlines()
    b = (new or "").splitlines()
    lines = list(difflib.unified_diff(a, b, lineterm="", n=3))[2:]
    return "\n".join(lines) if lines else None


def diff_entries(old: dict[str, str], new: dict[str, str]) -> list[dict[str, Any]]:
    """Files-API entries (sorted by path) for the change from ``old`` to ``new``."""
    out: list[dict[str, Any]] = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        status = "added" if before is None else "removed" if after is None else "modified"
        out.append(file_entry(path, make_patch(before, after), status))
    return out


def diff_lines(patch: str) -> list[tuple[set[int], set[int]]]:
    """Per hunk: (commentable RIGHT lines, commentable LEFT lines) — every line in the hunk's ranges."""
    hunks: list[tuple[set[int], set[int]]] = []
    for line in patch.splitlines():
        m = _HUNK.match(line)
        if m:
            old_start, old_len = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
            new_start, new_len = int(m.group(3)), int(m.group(4) if m.group(4) is not None else 1)
            hunks.append(
                (set(range(new_start, new_start + new_len)), set(range(old_start, old_start + old_len)))
            )
    return hunks


class FakeGitHub:
    """State and behaviour of the fake. Tests edit the state directly (under ``lock`` if a server runs)."""

    def __init__(self, owner: str = "octo", repo: str = "demo") -> None:
        self.owner = owner
        self.repo = repo
        self.token = "ghs_faketoken"
        self.bot_login = "github-actions[bot]"
        self.token_kind = "installation"  # or "user"
        self.pulls: dict[int, PullState] = {}
        self.history: dict[str, FakeCommit] = {}
        self.garbage_collected: set[str] = set()  # commits compare no longer finds (after a force-push)
        self.contents: dict[tuple[str, str], bytes] = {}  # (ref, path) -> bytes
        self.writes: list[Write] = []
        self.requests: list[tuple[str, str]] = []
        self.read_only = False
        self.rate_limits: list[tuple[int, int | None, frozenset[str]]] = []  # (status, retry_after, methods)
        self.fail_after_apply: list[int] = []  # statuses to answer after applying the next writes
        self.max_files = 3000
        self.lock = threading.RLock()
        self._next_id = 1000
        self.base_url = ""  # set when served

    # ----- state helpers -----
    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    def add_pull(self, number: int = 7, **kw: Any) -> PullState:
        pr = PullState(number=number, **kw)
        self.pulls[number] = pr
        return pr

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def add_issue_comment(self, number: int, login: str, body: str) -> Comment:
        c = Comment(self.new_id(), login, body)
        self.pulls[number].issue_comments.append(c)
        return c

    def add_review_comment(self, number: int, login: str, body: str, path: str, line: int) -> Comment:
        pr = self.pulls[number]
        c = Comment(self.new_id(), login, body, path=path, line=line, side="RIGHT", commit_id=pr.head_sha)
        pr.review_comments.append(c)
        return c

    def edit_issue_comment(self, comment_id: int, body: str) -> None:
        """An edit by anyone with write access (a collaborator): the author stays the same."""
        for pr in self.pulls.values():
            for c in pr.issue_comments:
                if c.id == comment_id:
                    c.body = body
                    c.updated_at = "2026-11-03T10:00:00Z"
                    return
        raise KeyError(comment_id)

    # ----- history -----
    def commit(self, files: dict[str, str], parents: list[str] | tuple[str, ...] = (), message: str = "commit",
               sha: str | None = None) -> str:
        """Record a commit (its whole tree as ``files``); returns its SHA."""
        if sha is None:
            seed = json.dumps([sorted(files.items()), list(parents), message, len(self.history)])
            sha = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
        self.history[sha] = FakeCommit(sha, list(parents), dict(files), message)
        return sha

    def ancestors(self, sha: str) -> list[str]:
        """``sha`` and every commit reachable from it, nearest first."""
        seen: list[str] = []
        todo = [sha]
        while todo:
            cur = todo.pop(0)
            if cur in seen or cur not in self.history:
                continue
            seen.append(cur)
            todo += self.history[cur].parents
        return seen

    def merge_base(self, a: str, b: str) -> str | None:
        reach_a = set(self.ancestors(a))
        return next((c for c in self.ancestors(b) if c in reach_a), None)

    def has_history(self, pr: PullState) -> bool:
        return pr.head_sha in self.history and pr.base_sha in self.history

    def files_of(self, pr: PullState) -> list[dict[str, Any]]:
        if not self.has_history(pr):
            return pr.files
        base = self.merge_base(pr.base_sha, pr.head_sha)
        old = self.history[base].files if base else {}
        return diff_entries(old, self.history[pr.head_sha].files)

    def commits_between(self, base: str, head: str) -> list[str]:
        """Commits reachable from ``head`` and not from ``base``, oldest first."""
        exclude = set(self.ancestors(base))
        return [c for c in reversed(self.ancestors(head)) if c not in exclude]

    def commits_of(self, pr: PullState) -> list[str]:
        return self.commits_between(pr.base_sha, pr.head_sha) if self.has_history(pr) else pr.commits

    def commit_json(self, sha: str) -> dict[str, Any]:
        known = self.history.get(sha)
        who = {"name": "Alice", "email": "alice@example.com", "date": "2026-11-01T10:00:00Z"}
        return {
            "sha": sha,
            "node_id": f"C_{sha[:12]}",
            "url": self.repo_url() + f"/commits/{sha}",
            "html_url": f"https://github.com/{self.full_name}/commit/{sha}",
            "commit": {"message": known.message if known else "commit", "author": who, "committer": who,
                       "tree": {"sha": hashlib.sha1(sha.encode(), usedforsecurity=False).hexdigest()},
                       "url": self.repo_url() + f"/git/commits/{sha}", "comment_count": 0},
            "author": self.user("alice"),
            "committer": self.user("alice"),
            "parents": [{"sha": p, "url": self.repo_url() + f"/commits/{p}"} for p in (known.parents if known else [])],
        }

    def compare_json(self, base: str, head: str) -> dict[str, Any] | None:
        """GitHub's compare (three-dot: merge-base...head); None for an unknown SHA."""
        if {base, head} & self.garbage_collected or base not in self.history or head not in self.history:
            return None
        anc_head, anc_base = set(self.ancestors(head)), set(self.ancestors(base))
        if base == head:
            status = "identical"
        elif base in anc_head:
            status = "ahead"
        elif head in anc_base:
            status = "behind"
        else:
            status = "diverged"
        mb = self.merge_base(base, head)
        old = self.history[mb].files if mb else {}
        commits = self.commits_between(base, head)
        url = self.repo_url() + f"/compare/{base}...{head}"
        return {
            "url": url,
            "html_url": f"https://github.com/{self.full_name}/compare/{base}...{head}",
            "permalink_url": f"https://github.com/{self.full_name}/compare/{base}...{head}",
            "diff_url": f"https://github.com/{self.full_name}/compare/{base}...{head}.diff",
            "patch_url": f"https://github.com/{self.full_name}/compare/{base}...{head}.patch",
            "base_commit": self.commit_json(base),
            "merge_base_commit": self.commit_json(mb) if mb else None,
            "status": status,
            "ahead_by": len(anc_head - anc_base),
            "behind_by": len(anc_base - anc_head),
            "total_commits": len(commits),
            "commits": [self.commit_json(c) for c in commits],
            "files": diff_entries(old, self.history[head].files),
        }

    def rate_limit_next(
        self,
        times: int = 1,
        *,
        status: int = 403,
        retry_after: int | None = 1,
        methods: tuple[str, ...] = ("POST", "PATCH"),
    ) -> None:
        for _ in range(times):
            self.rate_limits.append((status, retry_after, frozenset(methods)))

    def writes_to(self, suffix: str, method: str = "POST") -> list[Write]:
        return [w for w in self.writes if w.method == method and w.path.endswith(suffix)]

    # ----- shapes -----
    def api(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def repo_url(self) -> str:
        return self.api(f"/repos/{self.full_name}")

    def _rewrite(self, obj: Any) -> Any:
        if isinstance(obj, str):
            s = obj.replace(f"{REAL_API}/repos/PyGithub/PyGithub", self.repo_url())
            s = s.replace(f"{REAL_API}/repos/jacquev6/PyGithub", self.repo_url())
            return s.replace(REAL_API, self.base_url)
        if isinstance(obj, list):
            return [self._rewrite(v) for v in obj]
        if isinstance(obj, dict):
            return {k: self._rewrite(v) for k, v in obj.items()}
        return obj

    def _template(self, name: str, *, index: int | None = None) -> dict[str, Any]:
        data = load_fixture(name)
        if data is None:
            return {}
        body = data["response"]["body"]
        if index is not None:
            body = body[index]
        out: dict[str, Any] = self._rewrite(copy.deepcopy(body))
        return out

    def user(self, login: str) -> dict[str, Any]:
        tpl = self._template("review_create").get("user", {})
        uid = int(hashlib.sha1(login.encode(), usedforsecurity=False).hexdigest()[:7], 16)
        user = {k: v for k, v in tpl.items() if not isinstance(v, str) or not v.startswith(self.base_url)}
        user.update(
            {
                "login": login,
                "id": uid,
                "node_id": f"U_{uid}",
                "type": "Bot" if login.endswith("[bot]") else "User",
                "site_admin": False,
                "url": self.api(f"/users/{login}"),
                "html_url": f"https://github.com/{login}",
            }
        )
        return user

    def repo_json(self) -> dict[str, Any]:
        pull = self._template("pull")
        tpl: dict[str, Any] = pull.get("base", {}).get("repo") or {}
        tpl = {k: v for k, v in tpl.items() if not k.endswith("_url") or k in ("html_url",)}
        tpl.update(
            {
                "id": 4242,
                "node_id": "R_4242",
                "name": self.repo,
                "full_name": self.full_name,
                "owner": self.user(self.owner),
                "private": False,
                "fork": False,
                "url": self.repo_url(),
                "html_url": f"https://github.com/{self.full_name}",
                "default_branch": "main",
                "contents_url": self.repo_url() + "/contents/{+path}",
            }
        )
        return tpl

    def pull_json(self, pr: PullState) -> dict[str, Any]:
        tpl = self._template("pull")
        repo = self.repo_json()
        head_name = pr.head_repo or self.full_name
        head_repo = dict(
            repo,
            full_name=head_name,
            fork=head_name != self.full_name,
            name=head_name.split("/")[1],
            owner=self.user(head_name.split("/")[0]),
        )
        purl = self.repo_url() + f"/pulls/{pr.number}"
        tpl.update(
            {
                "url": purl,
                "id": 90000 + pr.number,
                "number": pr.number,
                "state": "open",
                "title": pr.title,
                "body": pr.body,
                "user": self.user(pr.author),
                "draft": False,
                "merged": False,
                "html_url": f"https://github.com/{self.full_name}/pull/{pr.number}",
                "issue_url": self.repo_url() + f"/issues/{pr.number}",
                "comments_url": self.repo_url() + f"/issues/{pr.number}/comments",
                "review_comments_url": purl + "/comments",
                "commits_url": purl + "/commits",
                "head": {
                    "label": f"{head_name.split('/')[0]}:{pr.head_ref}",
                    "ref": pr.head_ref,
                    "sha": pr.head_sha,
                    "user": self.user(head_name.split("/")[0]),
                    "repo": head_repo,
                },
                "base": {
                    "label": f"{self.owner}:{pr.base_ref}",
                    "ref": pr.base_ref,
                    "sha": pr.base_sha,
                    "user": self.user(self.owner),
                    "repo": repo,
                },
                "changed_files": len(self.files_of(pr)),
                "additions": sum(int(f.get("additions", 0)) for f in self.files_of(pr)),
                "deletions": sum(int(f.get("deletions", 0)) for f in self.files_of(pr)),
            }
        )
        tpl.pop("_links", None)
        return tpl

    def issue_comment_json(self, pr: PullState, c: Comment) -> dict[str, Any]:
        tpl = self._template("issue_comment_create")
        tpl.update(
            {
                "id": c.id,
                "node_id": f"IC_{c.id}",
                "body": c.body,
                "user": self.user(c.login),
                "created_at": c.created_at,
                "updated_at": c.updated_at,
                "url": self.repo_url() + f"/issues/comments/{c.id}",
                "html_url": f"https://github.com/{self.full_name}/pull/{pr.number}#issuecomment-{c.id}",
                "issue_url": self.repo_url() + f"/issues/{pr.number}",
            }
        )
        return tpl

    def review_comment_json(self, pr: PullState, c: Comment) -> dict[str, Any]:
        tpl = self._template("review_comments_list", index=0)
        tpl.update(
            {
                "id": c.id,
                "node_id": f"RC_{c.id}",
                "body": c.body,
                "user": self.user(c.login),
                "path": c.path,
                "line": c.line,
                "original_line": c.line,
                "start_line": c.start_line,
                "side": c.side,
                "commit_id": c.commit_id,
                "original_commit_id": c.commit_id,
                "pull_request_review_id": c.review_id,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
                "url": self.repo_url() + f"/pulls/comments/{c.id}",
                "html_url": f"https://github.com/{self.full_name}/pull/{pr.number}#discussion_r{c.id}",
                "pull_request_url": self.repo_url() + f"/pulls/{pr.number}",
            }
        )
        tpl.pop("_links", None)
        return tpl

    def review_json(self, pr: PullState, r: Review) -> dict[str, Any]:
        tpl = self._template("review_create")
        state = {"COMMENT": "COMMENTED", "APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}
        tpl.update(
            {
                "id": r.id,
                "node_id": f"PRR_{r.id}",
                "user": self.user(r.login),
                "body": r.body,
                "state": state.get(r.event or "", "PENDING"),
                "commit_id": r.commit_id,
                "html_url": f"https://github.com/{self.full_name}/pull/{pr.number}#pullrequestreview-{r.id}",
                "pull_request_url": self.repo_url() + f"/pulls/{pr.number}",
            }
        )
        tpl.pop("_links", None)
        return tpl

    # ----- review validation (GitHub's rules) -----
    def review_errors(self, pr: PullState, comments: list[dict[str, Any]]) -> list[str]:
        files = {f["filename"]: f for f in self.files_of(pr)}
        errors: list[str] = []
        for c in comments:
            path = c.get("path")
            if path not in files or files[path].get("patch") is None:
                errors.append("Pull request review thread path is invalid")
                continue
            hunks = diff_lines(files[path]["patch"])
            side = c.get("side", "RIGHT")
            line = c.get("line")
            if side not in ("RIGHT", "LEFT") or not isinstance(line, int):
                errors.append("Pull request review thread line must be part of the diff")
                continue
            idx = 0 if side == "RIGHT" else 1
            hunk = next((h for h in hunks if line in h[idx]), None)
            if hunk is None:
                errors.append("Pull request review thread line must be part of the diff")
                continue
            start = c.get("start_line")
            if start is not None:
                if not isinstance(start, int) or start >= line:
                    errors.append("Pull request review thread start line must precede the end line")
                elif start not in hunk[idx]:
                    errors.append(
                        "Pull request review thread start line must be part of the same hunk as the line."
                    )
        return errors


def _page(items: list[Any], query: dict[str, list[str]], url: str) -> tuple[list[Any], str | None]:
    per_page = max(1, min(100, int(query.get("per_page", ["30"])[0])))
    page = max(1, int(query.get("page", ["1"])[0]))
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    if last == 1:
        return chunk, None

    def link(p: int) -> str:
        q = {k: v[0] for k, v in query.items()}
        q.update(per_page=str(per_page), page=str(p))
        return f"{url}?{urlencode(q)}"

    rels = []
    if page < last:
        rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
    if page > 1:
        rels += [f'<{link(1)}>; rel="first"', f'<{link(page - 1)}>; rel="prev"']
    return chunk, ", ".join(rels)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("X-RateLimit-Limit", "5000")
        self.send_header("X-RateLimit-Remaining", "4999")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _error(
        self,
        status: int,
        message: str,
        doc: str = "",
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        body: dict[str, Any] = {"message": message}
        if errors is not None:
            body["errors"] = errors
        body["documentation_url"] = f"{DOCS}/{doc}" if doc else DOCS
        body["status"] = str(status)
        self._send(status, body, headers)

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        path = split.path
        if path.startswith("/api/v3"):
            path = path[len("/api/v3") :]
        query = parse_qs(split.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with fake.lock:
            fake.requests.append((method, path))
            auth = self.headers.get("Authorization", "")
            if auth not in (f"token {fake.token}", f"Bearer {fake.token}"):
                self._error(401, "Bad credentials", "overview/authenticating-to-the-rest-api")
                return
            if fake.rate_limits and method in fake.rate_limits[0][2]:
                status, retry_after, _ = fake.rate_limits.pop(0)
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                self._error(
                    status,
                    "You have exceeded a secondary rate limit. Please wait a few minutes before "
                    "you try again.",
                    "overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                    headers=headers,
                )
                return
            is_write = method in ("POST", "PATCH", "DELETE", "PUT") and not path.endswith("/graphql")
            if is_write and fake.read_only:
                fake.writes.append(Write(method, path, body, 403))
                self._error(403, "Resource not accessible by integration", "pulls/reviews")
                return
            try:
                status, out, headers = self._route(method, path, query, body)
            except KeyError:
                status, out, headers = (
                    404,
                    {"message": "Not Found", "documentation_url": DOCS, "status": "404"},
                    {},
                )
            if is_write:
                fake.writes.append(Write(method, path, body, status))
                if fake.fail_after_apply and status < 300:
                    fail = fake.fail_after_apply.pop(0)
                    self._error(fail, "Server Error")
                    return
            self._send(status, out, headers)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        fake = self.server.fake
        url = fake.api(path)
        if path in ("/graphql", "/api/graphql") and method == "POST":
            if "viewer" in str((body or {}).get("query", "")):
                return 200, {"data": {"viewer": {"login": fake.bot_login}}}, {}
            return 200, {"errors": [{"message": "unsupported by the fake"}]}, {}
        if path == "/user" and method == "GET":
            if fake.token_kind == "installation":
                return (
                    403,
                    {
                        "message": "Resource not accessible by integration",
                        "documentation_url": f"{DOCS}/users/users#get-the-authenticated-user",
                        "status": "403",
                    },
                    {},
                )
            return 200, fake.user(fake.bot_login), {}
        prefix = f"/repos/{fake.full_name}"
        if not path.startswith(prefix):
            raise KeyError(path)
        rest = path[len(prefix) :]
        if rest == "" and method == "GET":
            return 200, fake.repo_json(), {}
        m = re.fullmatch(r"/contents/(.+)", rest)
        if m and method == "GET":
            ref = query.get("ref", ["main"])[0]
            fpath = m.group(1)
            data = fake.contents[(ref, fpath)]
            return (
                200,
                {
                    "type": "file",
                    "encoding": "base64",
                    "size": len(data),
                    "name": fpath.rsplit("/", 1)[-1],
                    "path": fpath,
                    "content": base64.b64encode(data).decode(),
                    "sha": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
                    "url": url + f"?ref={ref}",
                    "html_url": f"https://github.com/{fake.full_name}/blob/{ref}/{fpath}",
                    "git_url": None,
                    "download_url": None,
                },
                {},
            )
        m = re.fullmatch(r"/compare/([0-9a-fA-F]+)\.\.\.([0-9a-fA-F]+)", rest)
        if m and method == "GET":
            cmp = fake.compare_json(m.group(1), m.group(2))
            if cmp is None:
                missing = m.group(2) if m.group(1) in fake.history and m.group(1) not in fake.garbage_collected \
                    else m.group(1)
                return 404, {"message": f"No commit found for SHA: {missing}",
                             "documentation_url": f"{DOCS}/commits/commits#compare-two-commits", "status": "404"}, {}
            return 200, cmp, {}
        m = re.fullmatch(r"/commits/([0-9a-fA-F]+)", rest)
        if m and method == "GET":
            return 200, {"sha": m.group(1), "url": url, "commit": {"message": "commit"}}, {}
        m = re.fullmatch(r"/pulls/(\d+)(/.*)?", rest)
        if m:
            return self._pull(method, fake.pulls[int(m.group(1))], m.group(2) or "", query, body, url)
        m = re.fullmatch(r"/issues/(\d+)/comments", rest)
        if m:
            pr = fake.pulls[int(m.group(1))]
            if method == "GET":
                items = [fake.issue_comment_json(pr, c) for c in pr.issue_comments]
                chunk, link = _page(items, query, url)
                return 200, chunk, ({"Link": link} if link else {})
            if method == "POST":
                c = Comment(fake.new_id(), fake.bot_login, str(body["body"]))
                pr.issue_comments.append(c)
                return 201, fake.issue_comment_json(pr, c), {}
        m = re.fullmatch(r"/issues/comments/(\d+)", rest)
        if m and method == "PATCH":
            cid = int(m.group(1))
            for pr in fake.pulls.values():
                for c in pr.issue_comments:
                    if c.id == cid:
                        if c.login != fake.bot_login:
                            return (
                                403,
                                {
                                    "message": "Resource not accessible by integration",
                                    "documentation_url": DOCS,
                                    "status": "403",
                                },
                                {},
                            )
                        c.body = str(body["body"])
                        c.updated_at = "2026-11-02T10:00:00Z"
                        return 200, fake.issue_comment_json(pr, c), {}
        raise KeyError(path)

    def _pull(
        self, method: str, pr: PullState, sub: str, query: dict[str, list[str]], body: Any, url: str
    ) -> tuple[int, Any, dict[str, str]]:
        fake = self.server.fake
        if sub == "" and method == "GET":
            if "diff" in self.headers.get("Accept", "") or "patch" in self.headers.get("Accept", ""):
                return (
                    406,
                    {
                        "message": "Sorry, the diff exceeded the maximum number of files (300).",
                        "documentation_url": DOCS,
                        "status": "406",
                    },
                    {},
                )
            return 200, fake.pull_json(pr), {}
        if sub == "/files" and method == "GET":
            chunk, link = _page(fake.files_of(pr)[: fake.max_files], query, url)
            return 200, chunk, ({"Link": link} if link else {})
        if sub == "/commits" and method == "GET":
            items = [fake.commit_json(c) for c in fake.commits_of(pr)]
            chunk, link = _page(items, query, url)
            return 200, chunk, ({"Link": link} if link else {})
        if sub == "/comments" and method == "GET":
            items = [fake.review_comment_json(pr, c) for c in pr.review_comments]
            chunk, link = _page(items, query, url)
            return 200, chunk, ({"Link": link} if link else {})
        if sub == "/reviews" and method == "GET":
            items = [fake.review_json(pr, r) for r in pr.reviews]
            chunk, link = _page(items, query, url)
            return 200, chunk, ({"Link": link} if link else {})
        if sub == "/reviews" and method == "POST":
            event = body.get("event")
            if event not in (None, "COMMENT", "APPROVE", "REQUEST_CHANGES"):
                return (
                    422,
                    {
                        "message": "Unprocessable Entity",
                        "errors": ["Event is invalid"],
                        "documentation_url": f"{DOCS}/pulls/reviews#create-a-review-for-a-pull-request",
                        "status": "422",
                    },
                    {},
                )
            comments = list(body.get("comments") or [])
            errors = fake.review_errors(pr, comments)
            if errors:
                joined = (
                    " and ".join(sorted(set(errors)))
                    + " and Pull request review thread diff hunk can't be blank"
                )
                return (
                    422,
                    {
                        "message": "Unprocessable Entity",
                        "errors": [joined],
                        "documentation_url": f"{DOCS}/pulls/reviews#create-a-review-for-a-pull-request",
                        "status": "422",
                    },
                    {},
                )
            commit_id = body.get("commit_id") or pr.head_sha
            review = Review(fake.new_id(), fake.bot_login, str(body.get("body") or ""), event, commit_id)
            for c in comments:
                rc = Comment(
                    fake.new_id(),
                    fake.bot_login,
                    str(c["body"]),
                    path=c["path"],
                    line=c["line"],
                    start_line=c.get("start_line"),
                    side=c.get("side", "RIGHT"),
                    commit_id=commit_id,
                    review_id=review.id,
                )
                pr.review_comments.append(rc)
                review.comment_ids.append(rc.id)
            pr.reviews.append(review)
            return 200, fake.review_json(pr, review), {}
        raise KeyError(sub)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeGitHub) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@dataclass
class RunningFake:
    fake: FakeGitHub
    server: _Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.fake.base_url

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(fake: FakeGitHub | None = None, *, prefix: str = "/api/v3") -> RunningFake:
    """Start the fake on 127.0.0.1 (a GHES-style ``/api/v3`` prefix by default, as GITHUB_API_URL gives)."""
    fake = fake or FakeGitHub()
    server = _Server(fake)
    port = server.server_address[1]
    fake.base_url = f"http://127.0.0.1:{port}{prefix}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-github", daemon=True
    )
    thread.start()
    return RunningFake(fake, server, thread)


@pytest.fixture
def fake_github() -> Iterator[RunningFake]:
    running = serve()
    try:
        yield running
    finally:
        running.close()
