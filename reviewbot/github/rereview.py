"""Re-reviews on GitHub (DESIGN.md §5a): read the trusted state, decide the scope, budget the run, write the state.

* :func:`read_state`: the issue comments (authors and bodies) and the bot's latest review's
  ``commit_id``, handed to :func:`reviewbot.github.state.load_state`;
* :func:`decide_scope`: a full review, or the PR hunks a compare of the last reviewed head
  with the new head selects (:mod:`reviewbot.github.incremental`), with the scope sentence;
* :func:`run_budget`: what this run may spend, from the per-run cap and the per-PR remainder;
* :func:`next_state`: the state the summary comment carries after this run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from ..diff import parse_github_files
from ..models import Diff, Finding, Lane, RunResult, SkipReason
from .incremental import Selection, content_key, open_finding, select_hunks, subset
from .state import (
    MAX_LISTED,
    MAX_OPEN_FINDINGS,
    CommentView,
    LoadedState,
    ReviewState,
    StateKey,
    fitted,
    load_state,
)

COMPARE_FILE_LIMIT = 300  # the compare API lists at most 300 files
# Hunks a run left unreviewed for one of these reasons are reviewed by the next run.
CARRY_REASONS = frozenset({
    SkipReason.OVER_BUDGET, SkipReason.FAILED, SkipReason.NO_MODEL, SkipReason.OFFLINE, SkipReason.DRY_RUN,
})

# An escalation not made for one of these reasons is owed: the next run makes it.
OWED_REASONS = frozenset({SkipReason.OVER_BUDGET, SkipReason.FAILED})


def read_state(
    pull: PullRequest, *, bot_login: str, key: StateKey | None, repository: str
) -> LoadedState:
    comments = [
        CommentView(str(c.user.login) if c.user is not None else "", c.body or "") for c in pull.get_issue_comments()
    ]
    me = bot_login.lower()
    latest: str | None = None
    for review in pull.get_reviews():  # chronological: the last one of ours wins
        if review.user is not None and str(review.user.login).lower() == me and review.commit_id:
            latest = str(review.commit_id)
    return load_state(comments, bot_login=bot_login, key=key, latest_review_sha=latest,
                      repository=repository, pull_number=int(pull.number))


def _short(sha: str) -> str:
    return sha[:7]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Scope:
    full: bool
    reason: str  # why a full review, or "incremental"
    diff: Diff  # what this run reviews
    line: str  # the scope sentence for the summary
    since: str | None = None  # the last reviewed head, for an incremental run
    selection: Selection | None = None
    # Hunks whose security review an earlier run owes (its general model escalated them, and the
    # escalation did not fit the budget or failed): this run routes them to the security lane.
    owed_security: frozenset[str] = frozenset()


def full_scope(pr: Diff, reason: str) -> Scope:
    line = f"Full review ({reason}): {_plural(len(pr.hunks), 'hunk')} of the pull request."
    return Scope(True, reason, pr, line)


def _own_commits_since(pull: PullRequest, since: str) -> int | None:
    """The PR's own commits after ``since`` (its commits list, not compare's ahead_by, which counts a merged base)."""
    shas = [str(c.sha) for c in pull.get_commits()]
    if since not in shas:
        return None
    return len(shas) - shas.index(since) - 1


def decide_scope(
    repo: Repository,
    pull: PullRequest,
    pr: Diff,
    *,
    head_sha: str,
    loaded: LoadedState,
    policy_digest: str,
    full_asked: bool,
) -> Scope:
    """Full review, or the PR hunks touched since the last reviewed head plus those left unreviewed.

    Either way, the hunks whose escalation a trusted state says is owed go to the security lane.
    """
    scope = _scope(repo, pull, pr, head_sha=head_sha, loaded=loaded, policy_digest=policy_digest,
                   full_asked=full_asked)
    state = loaded.state
    if state is None or not state.escalate:
        return scope
    owed = _ids_with_keys(scope.diff, state.escalate)
    if not owed:
        return scope
    line = f"{scope.line} {_plural(len(owed), 'hunk')} the general model escalated earlier go to the security lane."
    return replace(scope, line=line, owed_security=owed)


def _scope(
    repo: Repository,
    pull: PullRequest,
    pr: Diff,
    *,
    head_sha: str,
    loaded: LoadedState,
    policy_digest: str,
    full_asked: bool,
) -> Scope:
    if full_asked:
        return full_scope(pr, "a full review was asked for")
    state = loaded.state
    if state is None:
        return full_scope(pr, loaded.reason)
    if not state.findings_complete:
        return full_scope(pr, "the last run had more open findings than the state can carry")
    if not state.unreviewed_complete:
        return full_scope(pr, "the last run left more hunks unreviewed than the state can carry")
    if state.policy_digest != policy_digest:
        return full_scope(pr, "the base branch's policy changed since the last review")
    since = state.head_sha
    if since == head_sha:
        delta = Diff(files=())
    else:
        try:
            comparison = repo.compare(since, head_sha)
            status = str(comparison.status)
            files = [dict(f.raw_data) for f in comparison.files]
        except GithubException as exc:  # UnknownObjectException too: PyGithub uses it only for "Not Found"
            if exc.status == 404:
                return full_scope(pr, f"history was rewritten: GitHub no longer knows the last reviewed commit "
                                      f"{_short(since)} (force-push)")
            if exc.status == 422:
                return full_scope(pr, f"history was rewritten: GitHub cannot compare {_short(since)} with the head")
            raise
        if status in ("diverged", "behind"):
            return full_scope(pr, f"history was rewritten (force-push or rebase): {_short(since)} is not an "
                                  "ancestor of the new head")
        if len(files) >= COMPARE_FILE_LIMIT:
            return full_scope(pr, f"{COMPARE_FILE_LIMIT} or more files changed since {_short(since)}, more than "
                                  "the compare API lists")
        delta = parse_github_files(files)
    selection = select_hunks(pr, delta, (*state.unreviewed, *state.escalate))
    if since == head_sha:
        what = f"No new commits since {_short(since)}"
    else:
        count = _own_commits_since(pull, since)
        what = (f"Reviewed the {_plural(count, 'commit')} since {_short(since)}" if count is not None
                else f"Reviewed the changes since {_short(since)}")
    line = f"{what}: {_plural(len(selection.selected), 'hunk')}"
    if selection.carried:
        line += f" (of which {selection.carried:,} left unreviewed by an earlier run)"
    line += f"; {_plural(selection.earlier, 'hunk')} {'was' if selection.earlier == 1 else 'were'} reviewed in " \
            "earlier runs."
    return Scope(False, "incremental", subset(pr, selection.selected), line, since, selection)


def _ids_with_keys(pr: Diff, keys: Iterable[str]) -> frozenset[str]:
    wanted = set(keys)
    return frozenset(h.id for h in pr.hunks if wanted and content_key(h) in wanted)


# ----------------------------------------------------------------------------- budget


@dataclass(frozen=True)
class RunBudget:
    tokens: int  # what this run may spend
    per_run: int
    per_pr: int
    spent_before: int  # the PR's spend so far, as far as it is known
    verified: bool  # the per-PR total is known (a trusted state, or no earlier run)
    why_unverified: str = ""
    min_call: int = 1  # the least one model call reserves (its max_output_tokens)
    from_state: bool = False  # spent_before comes from a trusted state

    @property
    def pr_remaining(self) -> int:
        return max(0, self.per_pr - self.spent_before)

    @property
    def pr_spent(self) -> bool:
        """What the PR's budget has left cannot pay for one model call."""
        return self.from_state and self.pr_remaining < self.min_call

    def lines(self, spent_now: int) -> list[str]:
        total = self.spent_before + spent_now
        out = [f"Pull request: {total:,} of {self.per_pr:,} tokens spent over all runs (budget-tokens-per-pr); "
               f"this run could spend {self.tokens:,} (budget-tokens caps a run at {self.per_run:,})"]
        if not self.verified:
            out.append(f"The pull request's total could not be verified ({self.why_unverified}): this run was "
                       "capped at the per-run budget, and the total counts only what could be verified")
        return out


def run_budget(per_run: int, per_pr: int, loaded: LoadedState, *, min_call: int = 1) -> RunBudget:
    """A run spends at most the smaller of the per-run cap and what is left of the PR's budget (§5a)."""
    state = loaded.state
    if state is not None:
        spent = state.tokens_total
        verified = state.spend_verified
        why = "" if verified else "an earlier run found a state block it could not trust"
        return RunBudget(max(0, min(per_run, per_pr - spent)), per_run, per_pr, spent, verified, why, min_call, True)
    if loaded.bot_ran_before:
        return RunBudget(min(per_run, per_pr), per_run, per_pr, 0, False, loaded.reason, min_call)
    return RunBudget(min(per_run, per_pr), per_run, per_pr, 0, True, "", min_call)


def spent_message(budget: RunBudget, runs: int) -> str:
    return (
        f"The pull request's token budget is spent ({budget.spent_before:,} of {budget.per_pr:,} tokens over "
        f"{_plural(runs, 'run')}; what is left cannot pay for one more model call): no model was called. "
        "To review the rest, raise the Action's budget-tokens-per-pr input (or budget.tokens_per_pr in the "
        "base branch's policy)."
    )


# ----------------------------------------------------------------------------- the next state


def _lane_sum(before: Iterable[tuple[str, int]], now: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    out: dict[str, int] = {}
    for lane, n in (*before, *now):
        out[lane] = out.get(lane, 0) + n
    return tuple(sorted(out.items()))


def next_state(
    *,
    repository: str,
    pull_number: int,
    head_sha: str,
    policy_digest: str,
    loaded: LoadedState,
    budget: RunBudget,
    result: RunResult,
    pr: Diff,
    scope: Scope,
    posted: Sequence[str],
    resolved: Sequence[str],
    cost_usd: float,
    scrub: Callable[[str], str] = lambda text: text,
) -> ReviewState:
    prev = loaded.state
    findings: Sequence[Finding] = sorted(result.findings, key=Finding.sort_key)
    opened = [
        replace(o, rule=scrub(o.rule)[:200], source=scrub(o.source)[:100], cwe=scrub(o.cwe)[:20] if o.cwe else None)
        for f in findings if (o := open_finding(f, pr)) is not None
    ]
    complete = len(opened) <= MAX_OPEN_FINDINGS
    selected = set(scope.selection.selected if scope.selection is not None else (h.id for h in pr.hunks))
    by_id = {h.id: h for h in pr.hunks}
    unreviewed = sorted({
        content_key(by_id[s.hunk_id]) for s in result.skipped
        if s.hunk_id in by_id and s.hunk_id in selected and s.reason in CARRY_REASONS
    })
    # Security reviews still owed: escalations this run could not afford (or that failed), and
    # those owed before that this run did not make on the security lane.
    lanes = {r.hunk_id: r.lane for r in result.routes}
    not_done = {s.hunk_id for s in result.skipped if s.hunk_id is not None}
    owed_before = set(prev.escalate) if prev is not None else set()
    escalate = sorted({
        content_key(by_id[e.hunk_id]) for e in result.escalations
        if not e.reviewed and e.skipped in OWED_REASONS and e.hunk_id in by_id
    } | {
        key for h in pr.hunks if (key := content_key(h)) in owed_before
        and (h.id not in selected or h.id in not_done or lanes.get(h.id) is not Lane.SECURITY)
    })
    now = tuple((lane, u.total) for lane, u in result.usage_by_lane)
    current = {f.fingerprint for f in findings}

    def bounded(fps: Iterable[str]) -> tuple[str, ...]:
        ordered = sorted(set(fps), key=lambda fp: (fp not in current, fp))
        return tuple(sorted(ordered[:MAX_LISTED]))

    return fitted(ReviewState(
        repository=repository,
        pull_number=pull_number,
        head_sha=head_sha,
        policy_digest=policy_digest,
        runs=(prev.runs if prev is not None else 0) + 1,
        tokens_by_lane=_lane_sum(prev.tokens_by_lane if prev is not None else (), now),
        cost_usd=(prev.cost_usd if prev is not None else 0.0) + cost_usd,
        posted=bounded({*(prev.posted if prev is not None else ()), *posted}),
        resolved=bounded({*(prev.resolved if prev is not None else ()), *resolved} - current),
        open=tuple(opened[:MAX_OPEN_FINDINGS]),
        unreviewed=tuple(unreviewed),
        last_state=result.state.value,
        spend_verified=budget.verified,
        findings_complete=complete,
        escalate=tuple(escalate),
    ))
