"""Content rules: masking, one combined pattern, scoping, precedence, and the explanation they leave."""

from __future__ import annotations

import json

import pytest

from reviewbot.audit import AuditLog
from reviewbot.content import ContentRules, mask_code
from reviewbot.diff import parse_diff
from reviewbot.models import DiffLine, Lane
from reviewbot.pipeline import prepare
from reviewbot.policy import parse_policy
from reviewbot.redact import Redactor
from reviewbot.router import Router
from reviewbot.tokens import get_estimator
from tests.test_content_families import hunk_of

POLICY = parse_policy(
    """\
version: 1
exclude: ["vendor/**"]
routes:
  - {name: docs, lane: skip, paths: ["docs/**"]}
  - {name: web, lane: general, paths: ["web/**"]}
  - name: py-exec
    lane: security
    paths: ["*.py"]
    content:
      - '\\bsubprocess\\.\\w+\\('
      - '(?i)\\bpickle\\.loads\\('
  - name: anywhere
    lane: security
    content:
      - '(\\w+) = \\1 \\+ 1'
""",
    source="p.yml",
)
ROUTER = Router(POLICY)


@pytest.mark.parametrize(
    ("language", "code", "masked"),
    [
        ("python", "x = run(a)  # subprocess.run(b)", "x = run(a)  "),
        ("python", 'log("call subprocess.run( now")', 'log("")'),
        ("python", 'q = f"SELECT * FROM t WHERE id = {i}"', 'q = f"SQL"'),
        ("python", 'k = d["__proto__"]', 'k = d["__proto__"]'),  # a short token stays
        ("python", 's = """a\nsubprocess.run(x)\n"""\ny()', 's = """\n\n"""\ny()'),  # same number of lines
        ("python", 'R = r"(?P<k>[^"]*)"', 'R = r"(?P<k>[^"]*)"'),  # raw strings are regexes: kept
        ("javascript", "a = b; // eval(x)\n/* exec(\n */ c()", "a = b; \n\n c()"),
        ("javascript", "x = /`+[^`]*`/; y = 'see eval(x) here'", "x = /`+[^`]*`/; y = ''"),
        ("javascript", "el.innerHTML = '<p class=\"x\">' + v", "el.innerHTML = 'HTML' + v"),
        ("c", 'puts("memcpy(a, b, n)"); /* strcpy */', 'puts(""); '),
        ("shell", 'echo "$(rm -rf x)" # eval x', 'echo "$(rm -rf x)" '),  # double quotes hold code
        (None, "anything # goes", "anything # goes"),
    ],
)
def test_masking(language: str | None, code: str, masked: str) -> None:
    assert mask_code(code, language) == masked
    assert mask_code(code, language).count("\n") == code.count("\n")


def test_content_rule_lifts_a_general_path_to_security_with_its_line_and_pattern() -> None:
    hunk = hunk_of("web/app.py", "    subprocess.run(cmd)", context=("def f():",))
    explained = ROUTER.explain_hunk(hunk)
    assert explained.content is not None
    assert (explained.lane, explained.decision.rule, explained.decision.pattern) == (
        Lane.SECURITY,
        "py-exec",
        r"\bsubprocess\.\w+\(",
    )
    assert explained.decision.line == 10  # the regex's own line in p.yml
    assert (explained.content.kind, explained.content.line_no, explained.content.line) == (
        "+",
        2,
        "    subprocess.run(cmd)",
    )
    route = ROUTER.route_hunk(hunk)
    assert route.matched_line == "    subprocess.run(cmd)" and route.pattern == r"\bsubprocess\.\w+\("


def test_removed_lines_are_searched_too() -> None:
    hunk = hunk_of("app.py", "x = 1")
    removed = DiffLine("-", "pickle.loads(blob)", 7, None)
    hunk = type(hunk)(**{**hunk.__dict__, "lines": (removed, *hunk.lines)})
    found = ROUTER.explain_hunk(hunk).content
    assert found is not None and (found.kind, found.line_no) == ("-", 7)


def test_leading_global_flags_still_work_in_the_combined_pattern() -> None:
    assert ROUTER.route_hunk(hunk_of("app.py", "PICKLE.LOADS(blob)")).rule == "py-exec"


def test_a_regex_with_a_backreference_is_kept_apart_and_still_matches() -> None:
    route = ROUTER.route_hunk(hunk_of("main.go", "count = count + 1"))
    assert (route.lane, route.rule) == (Lane.SECURITY, "anywhere")
    assert ROUTER.route_hunk(hunk_of("main.go", "count = total + 1")).lane is Lane.GENERAL


def test_paths_scope_a_content_rule_and_never_match_alone() -> None:
    assert ROUTER.route_hunk(hunk_of("app.go", "subprocess.run(cmd)")).lane is Lane.GENERAL
    assert ROUTER.route_hunk(hunk_of("app.py", "x = 1")).rule == "default"


def test_excludes_and_skip_routes_win_over_content() -> None:
    assert ROUTER.route_hunk(hunk_of("vendor/x.py", "subprocess.run(cmd)")).rule == "exclude"
    assert ROUTER.route_hunk(hunk_of("docs/x.py", "subprocess.run(cmd)")).rule == "docs"


def test_a_default_lane_of_skip_is_lifted_by_content() -> None:
    policy = parse_policy(
        "version: 1\ndefault_lane: skip\nroutes:\n  - {name: c, lane: security, content: ['eval\\(']}\n",
        source="p.yml",
    )
    router = Router(policy)
    assert router.route_hunk(hunk_of("a.py", "eval(x)")).lane is Lane.SECURITY
    assert router.route_hunk(hunk_of("a.py", "print(x)")).lane is Lane.SKIP


def test_a_match_across_two_lines_is_not_a_match() -> None:
    rules = ContentRules(
        parse_policy(
            "version: 1\nroutes:\n  - {name: c, lane: security, content: ['open\\s*\\(']}\n", source="p.yml"
        ).routes
    )
    hunk = hunk_of("a.txt", "(x)", context=())
    two = type(hunk)(**{**hunk.__dict__, "lines": (DiffLine("+", "open", None, 1), DiffLine("+", "(x)", None, 2))})
    assert rules.match(two) is None
    assert rules.match(hunk_of("a.txt", "open (x)")) is not None


def test_combined_patterns_are_compiled_once_per_rule_set() -> None:
    router = Router(POLICY)
    router.route_hunk(hunk_of("a.py", "x = 1"))
    router.route_hunk(hunk_of("b/c.py", "y = 2"))
    assert router.content.for_path("a.py") is router.content.for_path("b/c.py")


def test_audit_route_events_carry_the_matched_line() -> None:
    diff = parse_diff(
        "diff --git a/web/app.py b/web/app.py\n--- a/web/app.py\n+++ b/web/app.py\n"
        "@@ -1 +1 @@\n-x = 1\n+subprocess.run(cmd)\n"
    )
    audit = AuditLog(None)
    prepare(
        diff,
        POLICY,
        redactor=Redactor.from_config(POLICY.redaction),
        estimator=get_estimator(),
        budget_tokens=100_000,
        audit=audit,
    )
    events = [json.loads(line) for line in audit.lines]
    route = next(e for e in events if e.get("event") == "route")
    assert route["rule"] == "py-exec" and route["matched_line"] == "subprocess.run(cmd)"
    assert route["pattern"] == r"\bsubprocess\.\w+\("
