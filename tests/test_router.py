"""The router: gitignore semantics, excludes first, first match wins, renames, skipped items."""

from __future__ import annotations

import warnings

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.models import (
    Diff,
    FileDiff,
    FileStatus,
    Hunk,
    Lane,
    SkippedItem,
    SkipReason,
    hunk_id,
)
from reviewbot.policy import Policy, RouteRule, apply_env, parse_policy
from reviewbot.policy.globs import compile_spec
from reviewbot.router import PathDecision, Router

POLICY = parse_policy(
    """\
version: 1
exclude: ["vendor/**", "**/*.min.js", "!vendor/ours/**"]
routes:
  - name: auth
    lane: security
    paths: ["src/auth/**", "*.pem"]
  - name: docs
    lane: skip
    paths: ["docs/", "*.md", "!SECURITY.md"]
  - name: top-level-scripts
    lane: security
    paths: ["/*.sh", "src/*.py"]
  - name: markdown-fallthrough
    lane: security
    paths: ["SECURITY.md"]
""",
    source="p.yml",
)


def make_hunk(path: str, old_path: str | None = None, status: FileStatus = FileStatus.MODIFIED) -> Hunk:
    header = "@@ -1,1 +1,1 @@"
    return Hunk(
        id=hunk_id(path, header, f"{old_path}"),
        path=path,
        old_path=old_path,
        status=status,
        old_start=1,
        old_len=1,
        new_start=1,
        new_len=1,
        section="",
        lines=(),
        commentable=frozenset({1}),
        language=None,
    )


def decide(path: str, policy: Policy = POLICY) -> tuple[Lane, str, str | None]:
    d = Router(policy).route_path(path)
    return d.lane, d.rule, d.pattern


def test_excludes_come_before_routes() -> None:
    assert decide("vendor/src/auth/x.py") == (Lane.SKIP, "exclude", "vendor/**")
    assert decide("web/app.min.js") == (Lane.SKIP, "exclude", "**/*.min.js")


def test_negated_exclude_takes_a_path_back() -> None:
    assert decide("vendor/ours/readme.txt") == (Lane.GENERAL, "default", None)


def test_first_matching_route_wins() -> None:
    assert decide("src/auth/README.md") == (Lane.SECURITY, "auth", "src/auth/**")
    assert decide("README.md") == (Lane.SKIP, "docs", "*.md")


def test_negation_inside_a_route_falls_through_to_later_routes() -> None:
    assert decide("SECURITY.md") == (Lane.SECURITY, "markdown-fallthrough", "SECURITY.md")


def test_gitignore_semantics() -> None:
    assert decide("lib/deep/server.pem")[1] == "auth"  # no slash: any depth
    assert decide("docs/api/index.html")[1] == "docs"  # "docs/" matches everything under it
    assert decide("site/docs/x.html")[1] == "docs"  # ... at any depth, like .gitignore
    assert decide("deploy.sh")[1] == "top-level-scripts"  # leading slash: anchored
    assert decide("tools/deploy.sh")[1] == "default"
    assert decide("src/main.py")[1] == "top-level-scripts"  # a slash anchors; '*' stays in one dir
    assert decide("src/pkg/main.py")[1] == "default"


def test_default_lane_and_path_normalisation() -> None:
    router = Router(POLICY)
    default = router.route_path("app/models.py")
    assert default == PathDecision(Lane.GENERAL, "default", None, "default", None)
    assert default.is_default and not default.excluded
    assert router.route_path("./src/auth/x.py").rule == "auth"
    assert router.route_path("/src/auth/x.py").rule == "auth"


def test_decision_carries_rule_line_and_origin() -> None:
    d = Router(POLICY).route_path("src/auth/login.py")
    assert (d.rule, d.origin, d.line) == ("auth", "policy", 6)  # the pattern's own line


def test_decisions_are_cached_per_path() -> None:
    router = Router(POLICY)
    assert router.route_path("src/auth/a.py") is router.route_path("src/auth/a.py")


def test_security_paths_rule_comes_first() -> None:
    policy = apply_env(POLICY, {"SECURITY_PATHS": "docs/threat-model.md,*.sh"})
    d = Router(policy).route_path("docs/threat-model.md")
    assert (d.lane, d.rule, d.pattern, d.origin, d.line) == (
        Lane.SECURITY,
        "SECURITY_PATHS",
        "docs/threat-model.md",
        "SECURITY_PATHS",
        None,
    )
    assert decide("vendor/x.sh", policy)[1] == "exclude"  # excludes still come first


def test_renamed_out_of_a_security_path_stays_security() -> None:
    route = Router(POLICY).route_hunk(
        make_hunk("src/helpers/login.py", "src/auth/login.py", FileStatus.RENAMED)
    )
    assert (route.lane, route.rule, route.pattern) == (Lane.SECURITY, "auth", "src/auth/**")
    assert route.path == "src/helpers/login.py" and route.matched_path == "src/auth/login.py"


def test_moved_from_auth_into_an_excluded_dir_is_still_reviewed() -> None:
    route = Router(POLICY).route_hunk(make_hunk("vendor/login.py", "src/auth/login.py", FileStatus.RENAMED))
    assert (route.lane, route.rule, route.matched_path) == (Lane.SECURITY, "auth", "src/auth/login.py")


def test_renamed_into_a_security_path_is_decided_by_the_new_path() -> None:
    route = Router(POLICY).route_hunk(make_hunk("src/auth/login.py", "src/login.py", FileStatus.RENAMED))
    assert (route.lane, route.matched_path) == (Lane.SECURITY, "src/auth/login.py")


def test_rename_between_ordinary_paths_uses_the_new_path() -> None:
    route = Router(POLICY).route_hunk(make_hunk("docs/a.md", "notes/a.txt", FileStatus.RENAMED))
    assert (route.lane, route.rule, route.matched_path) == (Lane.SKIP, "docs", "docs/a.md")


def test_deleted_file_is_routed_by_its_path() -> None:
    route = Router(POLICY).route_hunk(make_hunk("src/auth/old.py", "src/auth/old.py", FileStatus.DELETED))
    assert (route.lane, route.rule, route.matched_path) == (Lane.SECURITY, "auth", "src/auth/old.py")


def test_route_diff_gives_every_hunk_a_route_and_skips_with_reasons() -> None:
    hunks = {
        "auth": make_hunk("src/auth/a.py"),
        "doc": make_hunk("README.md"),
        "vendored": make_hunk("vendor/lib.c"),
        "plain": make_hunk("app/x.py"),
    }
    diff = Diff(files=tuple(FileDiff(h.path, None, h.status, (h,)) for h in hunks.values()))
    routes, skipped = Router(POLICY).route_diff(diff)
    assert [r.hunk_id for r in routes] == [h.id for h in hunks.values()]
    assert [r.lane for r in routes] == [Lane.SECURITY, Lane.SKIP, Lane.SKIP, Lane.GENERAL]
    assert skipped == (
        SkippedItem("README.md", SkipReason.SKIP_ROUTE, "rule docs (pattern *.md)", hunk_id=hunks["doc"].id),
        SkippedItem(
            "vendor/lib.c", SkipReason.EXCLUDED, "exclude pattern vendor/**", hunk_id=hunks["vendored"].id
        ),
    )


def test_default_lane_skip_is_reported_as_such() -> None:
    policy = parse_policy(
        "version: 1\ndefault_lane: skip\nroutes: [{name: s, lane: security, paths: ['*.py']}]\n", source="p"
    )
    h = make_hunk("notes.txt")
    routes, skipped = Router(policy).route_diff(Diff(files=(FileDiff(h.path, None, h.status, (h,)),)))
    assert routes[0].rule == "default" and routes[0].lane is Lane.SKIP
    assert skipped == (SkippedItem("notes.txt", SkipReason.SKIP_ROUTE, "default lane is skip", hunk_id=h.id),)


def test_building_a_router_uses_no_deprecated_pathspec_api() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Router(POLICY).route_path("src/auth/x.py")


def test_a_policy_built_in_code_routes_too() -> None:
    policy = Policy(routes=(RouteRule("all", Lane.SECURITY, ("**",)),))
    assert Router(policy).route_path("any/where.txt").rule == "all"


# --- the fast path (one pre-check regex) never changes a decision -------------------------------

SEGMENTS = [
    "src",
    "auth",
    "docs",
    "vendor",
    "a.md",
    "b.py",
    "x.min.js",
    "key.pem",
    "ours",
    "SECURITY.md",
    "d",
]
PATTERNS = [
    "src/**", "auth/", "*.md", "!*.md", "docs/", "vendor/**", "!vendor/ours/**", "**/*.min.js", "*.pem",
    "/b.py", "src/*.py", "**/d/**", "a.*", "!src/auth/**", "[ab].py", "key.???", "**",
]  # fmt: skip


def reference(policy: Policy, path: str) -> tuple[Lane, str, str | None]:
    """The decision by pathspec alone, one spec per rule, no caching and no pre-check."""
    if policy.exclude:
        result = compile_spec(policy.exclude).check_file(path)
        if result.include and result.index is not None:
            return Lane.SKIP, "exclude", policy.exclude[result.index]
    for rule in policy.routes:
        result = compile_spec(rule.paths).check_file(path)
        if result.include and result.index is not None:
            return rule.lane, rule.name, rule.paths[result.index]
    return policy.default_lane, "default", None


@settings(max_examples=300, deadline=None)
@given(
    exclude=st.lists(st.sampled_from(PATTERNS), max_size=3),
    rules=st.lists(
        st.tuples(st.sampled_from(list(Lane)), st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=4)),
        max_size=4,
    ),
    paths=st.lists(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4).map("/".join), max_size=8),
)
def test_router_agrees_with_plain_pathspec(
    exclude: list[str], rules: list[tuple[Lane, list[str]]], paths: list[str]
) -> None:
    policy = Policy(
        exclude=tuple(exclude),
        routes=tuple(RouteRule(f"r{i}", lane, tuple(p)) for i, (lane, p) in enumerate(rules)),
    )
    router = Router(policy)
    for path in paths:
        d = router.route_path(path)
        assert (d.lane, d.rule, d.pattern) == reference(policy, path), path
